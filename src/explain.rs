//! Why a rule did or did not fire for an event: the evaluation's trace
//! (every rule tried, every condition with its result and the value it saw,
//! every correlation search with what the history held), and for one rule
//! the path from the root to it with the first place that stopped it.

use std::collections::HashMap;

use crate::index::{NodeIdx, RuleIdx};
use crate::lists::Lookup;
use crate::rules::trace::{Condition, Trace, Value};
use crate::rules::{ListField, Rule};
use crate::session::{Processed, Session, Timestamp};
use crate::Ruleset;

/// One condition as it was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The condition as written, e.g. `<field name="aws.eventName">ConsoleLogin</field>`.
    pub condition: String,
    /// The value the event had (`None`: the field was absent).
    pub value: Option<String>,
    /// Whether it held.
    pub passed: bool,
    /// Why it did not hold, when more can be said (e.g. "not a key of the list").
    pub note: Option<String>,
}

/// One try of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Try {
    /// The conditions in evaluation order, up to the first that failed.
    pub conditions: Vec<Checked>,
    /// The correlation search: (matching earlier events found in the window, needed, fired).
    pub correlation: Option<(u32, u32, bool)>,
    /// Every check held.
    pub matched: bool,
}

/// The recorder: what the engine reported while evaluating one event.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    /// Per rule id, its tries in order.
    pub tries: HashMap<u32, Vec<Try>>,
    /// Rule ids in the order they were tried.
    pub order: Vec<u32>,
    /// Decoders tried: (name, matched).
    pub decoders: Vec<(String, bool)>,
    lists: Vec<String>,
    fields: Vec<String>,
}

impl Recorder {
    /// A recorder that can name the ruleset's lists and fields.
    pub fn new(rs: &Ruleset) -> Recorder {
        Recorder {
            lists: rs.lists.iter().map(|l| l.name.clone()).collect(),
            fields: (0..rs.fields.len())
                .map(|i| String::from_utf8_lossy(rs.fields.name(crate::event::FieldId(i as u32))).into_owned())
                .collect(),
            ..Default::default()
        }
    }

    fn current(&mut self, rule: &Rule) -> &mut Try {
        let v = self.tries.entry(rule.id).or_default();
        if v.is_empty() {
            v.push(Try::default());
        }
        v.last_mut().expect("a try")
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn pattern_attrs(c: &crate::rules::Cond) -> String {
    use crate::matcher::Matcher;
    let kind = match &c.m {
        Matcher::OsMatch(_) => "",
        Matcher::OsRegex(_) => " type=\"osregex\"",
        Matcher::Pcre2(_) => " type=\"pcre2\"",
        Matcher::Exact(_) => "",
    };
    let neg = if c.negate { " negate=\"yes\"" } else { "" };
    format!("{kind}{neg}")
}

fn pattern(c: &crate::rules::Cond) -> String {
    lossy(c.m.pattern())
}

/// Why a pattern fails whatever the event (see `analysis::patterns`), if it does.
fn dead_note(c: &crate::rules::Cond) -> &'static str {
    match c.m.dead_alternatives() {
        (0, _) => "",
        (d, n) if d < n => " (some alternatives can never match: a byte of 0x80 or above; see logtest check)",
        _ => " (can never match: Wazuh compares its byte of 0x80 or above as a signed char; see logtest check)",
    }
}

impl Recorder {
    fn describe(&self, cond: &Condition<'_>) -> String {
        match cond {
            Condition::DecodedAs(n) => format!("<decoded_as>{}</decoded_as>", lossy(n)),
            Condition::Text { element, cond } => {
                format!("<{element}{}>{}</{element}>{}", pattern_attrs(cond), pattern(cond), dead_note(cond))
            }
            Condition::Field { name, cond } => {
                let (attrs, text) = (pattern_attrs(cond), pattern(cond));
                format!("<field name=\"{}\"{attrs}>{text}</field>{}", lossy(name), dead_note(cond))
            }
            Condition::Address { element, list } => {
                format!(
                    "<{element}{}> ({} address{})",
                    if list.negate { " negate=\"yes\"" } else { "" },
                    list.nets.len(),
                    if list.nets.len() == 1 { "" } else { "es" }
                )
            }
            Condition::Compiled(c) => format!("<compiled_rule>{c:?}</compiled_rule>"),
            Condition::MaxSize(n) => format!("maxsize=\"{n}\""),
            Condition::Time(t) => format!("<time> ({})", lossy(&t.spec)),
            Condition::Weekday(w) => format!("<weekday> (days {w:#09b})"),
            Condition::CheckDiff => "<check_diff/> (the content must differ from the last seen)".into(),
            Condition::IfFts => "<if_fts/> (first time seen)".into(),
            Condition::List { cond, .. } => {
                let field = match cond.field {
                    ListField::Static(f) => f.name().to_string(),
                    ListField::Hostname => "hostname".into(),
                    ListField::ProgramName => "program_name".into(),
                    ListField::User => "user".into(),
                    ListField::Dynamic(fid) => self.fields.get(fid.0 as usize).cloned().unwrap_or_default(),
                };
                let lookup = match cond.lookup {
                    Lookup::MatchKey => "match_key",
                    Lookup::NotMatchKey => "not_match_key",
                    Lookup::MatchKeyValue => "match_key_value",
                    Lookup::AddressMatchKey => "address_match_key",
                    Lookup::NotAddressMatchKey => "not_address_match_key",
                    Lookup::AddressMatchKeyValue => "address_match_key_value",
                };
                let name = self.lists.get(crate::index::Idx::index(cond.list)).cloned().unwrap_or_default();
                format!("<list field=\"{field}\" lookup=\"{lookup}\">{name}</list>")
            }
        }
    }
}

impl Trace for Recorder {
    fn decoder(&mut self, d: &crate::decode::Decoder, matched: bool) {
        self.decoders.push((lossy(&d.original_name), matched));
    }

    fn rule(&mut self, rule: &Rule) {
        self.order.push(rule.id);
        self.tries.entry(rule.id).or_default().push(Try::default());
    }

    fn condition(&mut self, rule: &Rule, cond: Condition<'_>, value: Value<'_>, passed: bool) {
        let condition = self.describe(&cond);
        let value = match value {
            Value::Absent => None,
            Value::Bytes(b) => Some(lossy(&b[..b.len().min(300)])),
            Value::Length(n) => Some(format!("{n} bytes")),
            Value::Clock { hhmm, weekday } => Some(format!("{} (weekday {weekday})", lossy(&hhmm))),
            Value::None => Some(String::new()),
        };
        let note = match (&cond, passed, &value) {
            (_, true, _) => None,
            (_, false, None) => {
                Some("the field is absent: a condition on an absent field fails, negated or not".into())
            }
            (Condition::List { cond, .. }, false, Some(v)) => Some(match cond.lookup {
                Lookup::MatchKey | Lookup::AddressMatchKey => format!("'{v}' is not a key of the list"),
                Lookup::NotMatchKey | Lookup::NotAddressMatchKey => format!("'{v}' is a key of the list"),
                _ => format!("'{v}' has no matching key and value in the list"),
            }),
            _ => None,
        };
        self.current(rule).conditions.push(Checked { condition, value, passed, note });
    }

    fn correlation(&mut self, rule: &Rule, found: u32, needed: u32, passed: bool) {
        self.current(rule).correlation = Some((found, needed, passed));
    }

    fn matched(&mut self, rule: &Rule, _has_children: bool) {
        self.current(rule).matched = true;
    }
}

/// Where a rule stands for the explained event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It is the event's final rule.
    Fired,
    /// It matched, but a child took the event.
    MatchedChildWon(u32),
    /// It matched, but is `noalert`.
    MatchedNoAlert,
    /// It was tried and a check failed.
    Failed,
    /// It was never tried: `blocker` stopped the way (a failed ancestor, or a
    /// sibling that matched first); `None` when its category root never matched.
    NotReached {
        /// The rule that stopped the way.
        blocker: Option<u32>,
    },
}

/// One step of the way from a root to a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The rule's id.
    pub rule: u32,
    /// Its description, as written.
    pub description: String,
    /// Where it is defined (`file:line`).
    pub at: String,
    /// What happened when it was tried (`None`: not tried).
    pub tried: Option<Try>,
}

/// The explanation of one rule for the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReport {
    /// The rule's id.
    pub rule: u32,
    /// Where it stands.
    pub verdict: Verdict,
    /// The way from the root to the rule (its first position in the tree).
    pub path: Vec<Step>,
    /// The step that stopped it (index into `path`), if any.
    pub stopped_at: Option<usize>,
    /// For a correlation rule: `frequency`, `timeframe` and what it counts.
    pub correlation: Option<String>,
    /// Where the rule is defined (`file:line`).
    pub at: String,
}

/// The explanation of an event.
pub struct Explanation {
    /// What the event gave.
    pub processed: Processed,
    /// What the evaluation reported.
    pub recorder: Recorder,
    /// The decoder that named the event (the parent's name, as Wazuh reports it).
    pub decoder: Option<String>,
    /// How many fields decoding gave the event.
    pub fields: usize,
}

/// Processes `history` then `last` in one session and records the
/// evaluation of `last` (the history builds correlation state).
pub fn explain(
    rs: &std::sync::Arc<Ruleset>,
    session: &mut Session,
    location: &[u8],
    history: &[Vec<u8>],
    last: &[u8],
) -> Result<Explanation, crate::session::ProcessError> {
    let now = Timestamp::now();
    for e in history {
        // A history event that cannot be processed still counts as sent.
        let _ignored = session.process(location, e, now, false);
    }
    let mut recorder = Recorder::new(rs);
    let processed = session.process_traced(location, last, now, &mut recorder)?;
    let decoder = rs.decoders.info(&processed.event).map(|d| lossy(&d.name));
    let fields = processed.event.dynamic.len() + processed.event.statics.iter().filter(|s| s.is_some()).count();
    Ok(Explanation { processed, recorder, decoder, fields })
}

fn at(r: &Rule) -> String {
    format!("{}:{}", r.span.file, r.span.line)
}

impl Explanation {
    /// The rules the event went through, root first, to its final rule.
    pub fn fired_path(&self, rs: &Ruleset) -> Vec<u32> {
        let Some(ri) = self.processed.rule else { return Vec::new() };
        // The matched ancestors of the final rule, in the order they were tried.
        let mut path = Vec::new();
        let mut node =
            first_node(rs, ri, |r| self.recorder.tries.get(&r.id).is_some_and(|t| t.iter().any(|t| t.matched)));
        while let Some(n) = node {
            path.push(rs.rules.rules[rs.rules.nodes[n].rule].id);
            node = rs.rules.nodes[n].parent;
        }
        path.reverse();
        path
    }

    /// Why rule `id` did or did not fire.
    pub fn rule(&self, rs: &Ruleset, id: u32) -> Option<RuleReport> {
        let &ri = rs.rules.by_id.get(&id)?;
        let tried = |r: &Rule| self.recorder.tries.get(&r.id).and_then(|t| t.last().cloned());
        // The position whose way got furthest (the first one when none was tried).
        let nodes = &rs.rules.nodes_of[ri];
        let score = |n: NodeIdx| {
            let mut s = 0;
            let mut cur = Some(n);
            while let Some(c) = cur {
                if tried(&rs.rules.rules[rs.rules.nodes[c].rule]).is_some_and(|t| t.matched) {
                    s += 1;
                }
                cur = rs.rules.nodes[c].parent;
            }
            s
        };
        let node = nodes.iter().copied().max_by_key(|&n| (score(n), std::cmp::Reverse(n)))?;
        let mut chain = Vec::new();
        let mut cur = Some(node);
        while let Some(c) = cur {
            chain.push(c);
            cur = rs.rules.nodes[c].parent;
        }
        chain.reverse();
        let mut path = Vec::new();
        let mut stopped_at = None;
        let mut verdict = None;
        for (i, &n) in chain.iter().enumerate() {
            let r = &rs.rules.rules[rs.rules.nodes[n].rule];
            let t = tried(r);
            if stopped_at.is_none() {
                match &t {
                    Some(t) if t.matched => {}
                    Some(_) => {
                        stopped_at = Some(i);
                        if r.id == id {
                            verdict = Some(Verdict::Failed);
                        } else {
                            verdict = Some(Verdict::NotReached { blocker: Some(r.id) });
                        }
                    }
                    None => {
                        stopped_at = Some(i);
                        // Not tried: a sibling before it matched and took the event.
                        let parent_children = match rs.rules.nodes[n].parent {
                            Some(p) => &rs.rules.nodes[p].children,
                            None => &rs.rules.roots,
                        };
                        let winner = parent_children.iter().take_while(|&&x| x != n).find_map(|&x| {
                            let sr = &rs.rules.rules[rs.rules.nodes[x].rule];
                            tried(sr).filter(|t| t.matched).map(|_| sr.id)
                        });
                        verdict = Some(Verdict::NotReached { blocker: winner });
                    }
                }
            }
            path.push(Step { rule: r.id, description: lossy(&r.description), at: at(r), tried: t });
        }
        let verdict = verdict.unwrap_or_else(|| {
            if self.processed.rule == Some(ri) {
                Verdict::Fired
            } else if rs.rules.rules[ri].noalert {
                Verdict::MatchedNoAlert
            } else {
                let won = self.processed.rule.map_or(0, |w| rs.rules.rules[w].id);
                Verdict::MatchedChildWon(won)
            }
        });
        let r = &rs.rules.rules[ri];
        let correlation = r.search.map(|s| {
            let over = match s {
                crate::rules::Search::Sid(Some(t)) => format!("events whose final rule was {}", rs.rules.rules[t].id),
                crate::rules::Search::Sid(None) => "a rule that was not loaded".into(),
                crate::rules::Search::Group => format!(
                    "events of rules in group '{}'",
                    lossy(r.if_matched_group_text.as_deref().unwrap_or_default())
                ),
                crate::rules::Search::Event => "earlier events matching its if_matched_regex".into(),
            };
            format!("frequency {} in {} s over {over}", r.frequency.max(2), r.timeframe)
        });
        Some(RuleReport { rule: id, verdict, path, stopped_at, correlation, at: at(r) })
    }
}

/// The first node of `ri` whose ancestors all satisfy `ok`.
fn first_node(rs: &Ruleset, ri: RuleIdx, ok: impl Fn(&Rule) -> bool) -> Option<NodeIdx> {
    rs.rules.nodes_of[ri]
        .iter()
        .copied()
        .find(|&n| {
            let mut cur = rs.rules.nodes[n].parent;
            while let Some(c) = cur {
                if !ok(&rs.rules.rules[rs.rules.nodes[c].rule]) {
                    return false;
                }
                cur = rs.rules.nodes[c].parent;
            }
            true
        })
        .or_else(|| rs.rules.nodes_of[ri].first().copied())
}
