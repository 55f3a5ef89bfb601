//! Placing a rule in the tree (spec rules.md 2.2–2.4; upstream rules_list.c
//! `OS_AddChild`, `_AddtoRule`, `OS_AddRule`, `OS_AddRuleInfo`).

use super::values::{atoi, lossy};
use super::{RuleLoader, Target, MAX_NODES};
use crate::diagnostics::Code;
use crate::index::{Idx, NodeIdx, RuleIdx};
use crate::matcher::os_match;
use crate::rules::{Node, Rule, RuleTree};

impl RuleLoader<'_> {
    /// Places a parsed rule (spec rules.md 2.2–2.4).
    pub(super) fn add(&mut self, rule: Rule) {
        let id = rule.id;
        if rule.overwrite && id >= 10 {
            // The id exists (checked before the elements were read).
            if let Some(&existing) = self.tree.by_id.get(&id) {
                self.overwrite(existing, rule);
            }
            return;
        }
        let ri = self.tree.rules.push(rule);
        self.tree.has_sid_list.push(false);
        self.tree.feeds_groups.push(Vec::new());
        self.tree.nodes_of.push(Vec::new());
        let nodes_before = self.tree.nodes.len();
        if !self.place(ri) {
            // Undo the nodes a rule got before its placement failed (upstream
            // frees the rule and leaves those nodes dangling).
            for n in (nodes_before..self.tree.nodes.len()).rev().map(NodeIdx::new) {
                match self.tree.nodes[n].parent {
                    Some(p) => self.tree.nodes[p].children.retain(|&x| x != n),
                    None => self.tree.roots.retain(|&x| x != n),
                }
            }
            self.tree.nodes.truncate(nodes_before);
            self.forget_targets_from(ri);
            self.tree.rules.pop();
            self.tree.has_sid_list.pop();
            self.tree.feeds_groups.pop();
            self.tree.nodes_of.pop();
            return;
        }
        match self.tree.by_id.entry(id) {
            // `overwrite="yes"` on a root template adds a second root (`OS_AddRule`).
            std::collections::hash_map::Entry::Occupied(_) => self.root_duplicates.push(ri),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(ri);
            }
        }
        self.wire(ri);
    }

    fn new_node(&mut self, ri: RuleIdx, parent: Option<NodeIdx>) -> NodeIdx {
        let depth = parent.map_or(0, |p| self.tree.nodes[p].depth + 1);
        let n = self.tree.nodes.push(Node { rule: ri, children: Vec::new(), parent, depth });
        self.tree.nodes_of[ri].push(n);
        n
    }

    /// Adds rule `ri` as a child of node `parent` (`_OS_AddRule`).
    fn add_child(&mut self, parent: NodeIdx, ri: RuleIdx) {
        if self.tree.nodes.len() >= MAX_NODES {
            if self.too_big.is_none() {
                let id = self.tree.rules[ri].id;
                self.too_big = Some(format!(
                    "Rule '{id}' would take the rule tree past {MAX_NODES} positions. A rule sits once under every position \
                     of every rule its if_sid, if_group or if_level names, and its children under each of those: rules that \
                     match their own if_group (or if_level) double the tree with each one. Wazuh would build this tree; \
                     narrow the if_group/if_level of this rule or of the rules it names."
                ));
            }
            return;
        }
        let n = self.new_node(ri, Some(parent));
        let mut children = std::mem::take(&mut self.tree.nodes[parent].children);
        RuleTree::insert_sorted(&self.tree.rules, &self.tree.nodes, &mut children, n);
        self.tree.nodes[parent].children = children;
    }

    /// `OS_AddRule` for ids below 10, else `OS_AddChild`.
    fn place(&mut self, ri: RuleIdx) -> bool {
        let (id, span) = {
            let r = &self.tree.rules[ri];
            (r.id, r.span.clone())
        };
        if id < 10 {
            let n = self.new_node(ri, None);
            let mut roots = std::mem::take(&mut self.tree.roots);
            RuleTree::insert_sorted(&self.tree.rules, &self.tree.nodes, &mut roots, n);
            self.tree.roots = roots;
            return true;
        }
        if let Some(if_sid) = self.tree.rules[ri].if_sid.clone() {
            return self.place_by_sids(ri, if_sid.as_bytes());
        }
        if let Some(l) = self.tree.rules[ri].if_level.clone() {
            let level = atoi(l.as_bytes());
            if level == 0 {
                self.warn_at(
                    Code::InvalidIfLevel,
                    span.clone(),
                    format!("(7609): Invalid 'if_level' value: '{}'. Rule '{}' will be ignored.", l, id),
                );
                return false;
            }
            let level = level.wrapping_mul(100);
            let targets = self.nodes_matching(Target::Level(level as i64), id);
            if targets.is_empty() {
                self.warn_at(
                    Code::InvalidIfLevel,
                    span.clone(),
                    format!(
                        "(7608): Level ID '{}' was not found. Invalid 'if_level'. Rule '{}' will be ignored.",
                        level, id
                    ),
                );
                return false;
            }
            for t in targets {
                self.add_child(t, ri);
            }
            return true;
        }
        if let Some(g) = self.tree.rules[ri].if_group.clone() {
            let targets = self.nodes_matching(Target::Group(g.clone()), id);
            if targets.is_empty() {
                self.warn_at(
                    Code::UnknownIfGroup,
                    span.clone(),
                    format!(
                        "(7610): Group '{}' was not found. Invalid 'if_group'. Rule '{}' will be ignored.",
                        lossy(&g),
                        id
                    ),
                );
                return false;
            }
            for t in targets {
                self.add_child(t, ri);
            }
            return true;
        }
        match self.category_root(ri) {
            Some(root) => {
                self.add_child(root, ri);
                true
            }
            None => {
                self.warn_at(
                    Code::NoCategoryRoot,
                    span.clone(),
                    format!("(7611): Category was not found. Invalid 'category'. Rule '{}' will be ignored.", id),
                );
                false
            }
        }
    }

    /// The `if_sid` scan of `OS_AddChild`: `,` and space separate ids; each id
    /// (C `atoi` of the text from its first digit) attaches the rule under the
    /// nodes of that rule. The end of the text after a separator reads as id
    /// 0, which `_AddtoRule` takes as "no id": the rule is *also* attached to
    /// the first root of its category. With `if_matched_sid` set, a missing id
    /// drops the rule (7620); any other character ends the scan (7607).
    fn place_by_sids(&mut self, ri: RuleIdx, if_sid: &[u8]) -> bool {
        let (id, span, matched_sid) = {
            let r = &self.tree.rules[ri];
            (r.id, r.span.clone(), r.if_matched_sid)
        };
        let mut id_found = false;
        let mut added = false;
        let mut i = 0;
        loop {
            let ch = if_sid.get(i).copied().unwrap_or(0);
            if ch == b',' || ch == b' ' {
                id_found = false;
            } else if ch.is_ascii_digit() || ch == 0 {
                if !id_found {
                    id_found = true;
                    let sid = atoi(&if_sid[i.min(if_sid.len())..]);
                    let targets = if sid == 0 {
                        self.category_root(ri).into_iter().collect()
                    } else {
                        self.find_sid_targets(sid, ri)
                    };
                    if targets.is_empty() {
                        if matched_sid.is_some() {
                            self.warn_at(Code::UnknownIfMatchedSid, span.clone(), format!(
                                    "(7620): Signature ID '{}' was not found. Invalid 'if_matched_sid'.Rule '{}' will be ignored.",
                                    sid, id
                                ));
                            return false;
                        }
                        self.warn_at(Code::UnknownIfSid, span.clone(), format!(
                                "(7617): Signature ID '{}' was not found and will be ignored in the 'if_sid' option of rule '{}'.",
                                sid, id
                            ));
                    } else {
                        added = true;
                        for t in targets {
                            let cat = self.tree.rules[self.tree.nodes[t].rule].category;
                            self.tree.rules[ri].category = cat;
                            self.add_child(t, ri);
                        }
                    }
                }
            } else {
                let what = if matched_sid.is_some() { "if_matched_sid" } else { "if_sid" };
                self.warn_at(
                    Code::InvalidIfSid,
                    span.clone(),
                    format!(
                        "(7607): Invalid '{}'. Signature ID must be an integer. Rule '{}' will be ignored.",
                        what, id
                    ),
                );
                return added;
            }
            if ch == 0 {
                break;
            }
            i += 1;
        }
        if !added {
            self.warn_at(
                Code::EmptyIfSid,
                span.clone(),
                format!("(7619): Empty 'if_sid' value. Rule '{}' will be ignored.", id),
            );
        }
        added
    }

    /// The first root of the rule's category (`_AddtoRule` with nothing to search).
    fn category_root(&self, ri: RuleIdx) -> Option<NodeIdx> {
        let cat = self.tree.rules[ri].category;
        self.tree.roots.iter().copied().find(|&n| self.tree.rules[self.tree.nodes[n].rule].category == cat)
    }

    /// Every node of every rule (other than those with id `id`) that an
    /// `if_group` or `if_level` names (the order of attachment does not
    /// matter: each parent keeps its own sorted child list). Which rules match
    /// a pattern is kept per pattern and extended as rules are added, so a
    /// file of 100,000 `if_group` rules checks each rule once per distinct
    /// pattern instead of once per rule placed.
    fn nodes_matching(&mut self, target: Target, id: u32) -> Vec<NodeIdx> {
        let rules = &self.tree.rules;
        let (matched, checked) = self.targets.entry(target.clone()).or_default();
        for (ri, r) in rules.iter_enumerated().skip(*checked) {
            let hit = match &target {
                Target::Level(level) => r.internal_level as i64 >= *level,
                Target::Group(g) => os_match::word_match(g, &r.groups),
            };
            if hit {
                matched.push(ri);
            }
        }
        *checked = rules.len();
        let mut out = Vec::new();
        for &ri in matched.iter() {
            if rules[ri].id != id {
                out.extend_from_slice(&self.tree.nodes_of[ri]);
            }
        }
        out
    }

    /// Forgets what [`Self::nodes_matching`] knows about rules from `ri` on
    /// (a rule was dropped, or replaced by an overwrite).
    fn forget_targets_from(&mut self, ri: RuleIdx) {
        for (matched, checked) in self.targets.values_mut() {
            matched.retain(|&x| x < ri);
            *checked = (*checked).min(ri.index());
        }
    }

    /// The loaded rules with this id: the first definition, then any extra
    /// root templates added by `overwrite="yes"`.
    pub(super) fn rules_with_id(&self, id: i32) -> Vec<RuleIdx> {
        let Ok(id) = u32::try_from(id) else { return Vec::new() };
        let mut v: Vec<RuleIdx> = self.tree.by_id.get(&id).copied().into_iter().collect();
        v.extend(self.root_duplicates.iter().copied().filter(|&r| self.tree.rules[r].id == id));
        v
    }

    /// The nodes `if_sid` attaches to (upstream `_AddtoRule` with a sid): the
    /// tree is searched depth-first and, in each sibling list, the first node
    /// with that id takes the child and ends the search *of that list* (its
    /// later siblings and their subtrees are not searched). So a node of rule
    /// `sid` is a target unless it, or one of its ancestors, comes after a node
    /// of `sid` in its own sibling list.
    fn find_sid_targets(&self, sid: i32, placing: RuleIdx) -> Vec<NodeIdx> {
        // The rule being placed is not in `by_id` yet, but its nodes already added
        // (by an earlier id of the same `if_sid`) are in the tree: `<if_sid>91820,
        // 91821</if_sid>` in rule 91821 makes it a child of itself under 91820.
        let mut candidates = self.rules_with_id(sid);
        if self.tree.rules[placing].id as i64 == sid as i64 {
            candidates.push(placing);
        }
        let t = &self.tree;
        let nodes: Vec<NodeIdx> = candidates.iter().flat_map(|&ri| t.nodes_of[ri].iter().copied()).collect();
        // A node can only be blocked by another node of `sid` that sits in the
        // sibling list of one of its ancestors: a lone node never is, and the
        // walk up need not go above the shallowest candidate.
        if nodes.len() <= 1 {
            return nodes;
        }
        let is_sid = |n: NodeIdx| t.rules[t.nodes[n].rule].id as i64 == sid as i64;
        let lists: Vec<Option<NodeIdx>> = nodes.iter().map(|&n| t.nodes[n].parent).collect();
        let shallowest = nodes.iter().map(|&n| t.nodes[n].depth).min().unwrap_or(0);
        nodes
            .iter()
            .copied()
            .filter(|&n| {
                let mut cur = n;
                while t.nodes[cur].depth >= shallowest {
                    let parent = t.nodes[cur].parent;
                    if lists.contains(&parent) {
                        let list = match parent {
                            Some(p) => &t.nodes[p].children,
                            None => &t.roots,
                        };
                        if list.iter().take_while(|&&x| x != cur).any(|&x| is_sid(x)) {
                            return false;
                        }
                    }
                    match parent {
                        Some(p) => cur = p,
                        None => break,
                    }
                }
                true
            })
            .collect()
    }

    /// `overwrite="yes"` on an existing rule (`OS_AddRuleInfo`): everything is
    /// replaced — level (but the nodes are not re-sorted), limits, options,
    /// filters, category, every condition, description, groups, MITRE — except
    /// the id, the placement (`if_sid`, `if_group`, `if_level`), the
    /// correlation targets (`if_matched_sid`, `if_matched_group`) and the
    /// search wiring. A different placement or target is warned about (7605).
    fn overwrite(&mut self, existing: RuleIdx, new: Rule) {
        let id = new.id;
        let span = new.span.clone();
        let old = &self.tree.rules[existing];
        let mut kept: Vec<&str> = Vec::new();
        if new.if_sid.is_some() && new.if_matched_sid.is_none() && old.if_sid != new.if_sid {
            kept.push("if_sid");
        }
        // The original's if_group was freed once it was placed: always "different".
        if new.if_group.is_some() && new.if_matched_group.is_none() {
            kept.push("if_group");
        }
        if new.if_level.is_some() && old.if_level != new.if_level {
            kept.push("if_level");
        }
        if new.if_matched_group_text.is_some() && old.if_matched_group_text != new.if_matched_group_text {
            kept.push("if_matched_group");
        }
        if new.if_matched_sid.is_some() && old.if_matched_sid != new.if_matched_sid {
            kept.push("if_matched_sid");
        }
        for what in kept {
            self.warn_at(
                Code::OverwriteKeeps,
                span.clone(),
                format!(
                    "(7605): It is not possible to overwrite '{}' value in rule '{}'. The original value is retained.",
                    what, id
                ),
            );
        }
        // Its groups and level change: what matched before may not now.
        self.forget_targets_from(existing);
        let old = &mut self.tree.rules[existing];
        let mut new = new;
        new.if_sid = old.if_sid.take();
        new.if_group = old.if_group.take();
        new.if_level = old.if_level.take();
        new.if_matched_sid = old.if_matched_sid;
        new.if_matched_group = old.if_matched_group.take();
        new.if_matched_group_text = old.if_matched_group_text.take();
        new.search = old.search;
        *old = new;
    }
}
