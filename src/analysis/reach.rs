//! Rules that can never fire.
//!
//! A rule fires only if every condition on its way from the root holds for
//! one event. Most conditions can hold for *some* value, but a `<list
//! lookup="match_key">` on a field pins that field to the list's keys: a
//! rule below it (or beside it, on the same path) that tests the same field
//! can only fire if some key of the list passes its test. With a finite list
//! that is decided exactly, by trying every key. Upstream's 80251
//! (`DeleteObjects` below 80202, whose `aws-eventnames` list has no
//! `DeleteObjects`) is the case in point.
//!
//! Besides: a rule with `noalert="1"` is never an event's final rule; a
//! correlation rule whose `if_matched_sid` target can never fire (or was
//! not loaded) never finds its history; a rule none of whose positions is
//! reachable is unreachable.

use std::collections::HashMap;

use crate::event::FieldId;
use crate::index::{ListIdx, NodeIdx, RuleIdx};
use crate::lists::Lookup;
use crate::rules::{Cond, ListField, Search};
use crate::Ruleset;

/// Why a rule can never fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// `noalert="1"`: it only groups its children.
    NoAlert,
    /// On every path to it, a field is pinned to a list's keys and no key
    /// passes the conditions on that field: (the rule whose `<list>` pins
    /// it, the field, the list).
    ListExcludes {
        /// The rule whose `<list>` pins the field.
        pinned_by: RuleIdx,
        /// The field.
        field: FieldId,
        /// The list.
        list: ListIdx,
    },
    /// It sits below a rule that can never match.
    BelowUnreachable(RuleIdx),
    /// Its `if_matched_sid` target was not loaded, can never be an event's
    /// final rule, or has level 0 (such events are not kept for correlation).
    CorrelationTarget(Option<RuleIdx>),
}

/// One rule that can never fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    /// The rule.
    pub rule: RuleIdx,
    /// Why it can never fire.
    pub why: Why,
}

/// The constraints on one field along a path.
#[derive(Clone, Default)]
struct Pins<'a> {
    /// The list the field must be a key of, and the rule that says so.
    list: Option<(ListIdx, RuleIdx)>,
    conds: Vec<&'a Cond>,
}

/// Whether some key of the list passes every condition.
fn satisfiable(rs: &Ruleset, list: ListIdx, conds: &[&Cond]) -> bool {
    let Some(l) = rs.lists.get(list) else { return true };
    l.keys().any(|k| conds.iter().all(|c| c.test(Some(k))))
}

/// Every rule that can never fire, with why.
pub fn unreachable_rules(rs: &Ruleset) -> Vec<Unreachable> {
    let tree = &rs.rules;
    // Per node: None = reachable, Some(why) = not.
    let mut node_why: HashMap<NodeIdx, Why> = HashMap::new();
    // Depth-first over the tree, without recursion, carrying the pins of the path.
    type Frame<'a> = (NodeIdx, HashMap<FieldId, Pins<'a>>, Option<Why>);
    let mut stack: Vec<Frame<'_>> = tree.roots.iter().map(|&n| (n, HashMap::new(), None)).collect();
    while let Some((n, mut pins, inherited)) = stack.pop() {
        let node = &tree.nodes[n];
        let ri = node.rule;
        let r = &tree.rules[ri];
        let mut why = inherited;
        if why.is_none() {
            for (fid, c) in &r.fields {
                pins.entry(*fid).or_default().conds.push(c);
            }
            for l in &r.lists {
                if let (ListField::Dynamic(fid), Lookup::MatchKey, None) = (l.field, l.lookup, &l.check) {
                    pins.entry(fid).or_default().list.get_or_insert((l.list, ri));
                }
            }
            for (fid, p) in &pins {
                if let Some((list, by)) = p.list {
                    if !p.conds.is_empty() && !satisfiable(rs, list, &p.conds) {
                        why = Some(Why::ListExcludes { pinned_by: by, field: *fid, list });
                        break;
                    }
                }
            }
        }
        let below = why.as_ref().map(|_| Why::BelowUnreachable(ri));
        for &c in &node.children {
            stack.push((c, pins.clone(), below.clone()));
        }
        if let Some(w) = why {
            node_why.insert(n, w);
        }
    }
    // A rule is unreachable when all its positions are; correlation targets
    // are resolved after (a target may itself be unreachable).
    let mut out: Vec<Unreachable> = Vec::new();
    let mut dead: HashMap<RuleIdx, Why> = HashMap::new();
    for (ri, r) in tree.rules.iter_enumerated() {
        let nodes = &tree.nodes_of[ri];
        if nodes.is_empty() {
            continue;
        }
        if nodes.iter().all(|n| node_why.contains_key(n)) {
            dead.insert(ri, node_why[&nodes[0]].clone());
        } else if r.noalert {
            dead.insert(ri, Why::NoAlert);
        }
    }
    // Correlation rules over a dead (or missing) target, to a fixed point.
    loop {
        let mut changed = false;
        for (ri, r) in tree.rules.iter_enumerated() {
            if dead.contains_key(&ri) || !r.context {
                continue;
            }
            if let Some(Search::Sid(t)) = r.search {
                // Only events whose final rule has a level above 0 are kept for
                // correlation: a target that is never final, or of level 0, never fills it.
                let target_dead = match t {
                    None => true,
                    Some(t) => dead.contains_key(&t) || tree.rules[t].level == 0,
                };
                if target_dead {
                    dead.insert(ri, Why::CorrelationTarget(t));
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (ri, why) in dead {
        out.push(Unreachable { rule: ri, why });
    }
    out.sort_by_key(|u| u.rule);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_80251_and_80252_can_never_fire() {
        let Ok(rs) = Ruleset::embedded() else { panic!("embedded ruleset") };
        let dead = unreachable_rules(&rs);
        let id = |u: &Unreachable| rs.rules.rules[u.rule].id;
        let d80251 = dead.iter().find(|u| id(u) == 80251).expect("80251 found unreachable");
        assert!(matches!(d80251.why, Why::ListExcludes { pinned_by, .. } if rs.rules.rules[pinned_by].id == 80202));
        // The roots only group their children.
        assert!(dead.iter().any(|u| id(u) == 1 && u.why == Why::NoAlert));
        // Nothing else of ours.
        let others: Vec<u32> = dead.iter().map(id).filter(|&i| !(1..=7).contains(&i) && i != 80251).collect();
        assert!(others.is_empty(), "{others:?}");
    }
}
