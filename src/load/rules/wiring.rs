//! Correlation wiring once a rule is placed (spec rules.md 2.3; upstream end
//! of `Rules_OP_ReadRules`, `OS_MarkID`, `OS_MarkGroup`).

use super::RuleLoader;
use crate::index::RuleIdx;
use crate::rules::Search;

impl RuleLoader<'_> {
    /// Correlation wiring after placement (spec rules.md 2.3; upstream end of
    /// `Rules_OP_ReadRules`, `OS_MarkID`, `OS_MarkGroup`).
    pub(super) fn wire(&mut self, ri: RuleIdx) {
        let r = &self.tree.rules[ri];
        let overwrite = r.overwrite;
        if let (Some(ms), false) = (r.if_matched_sid, overwrite) {
            // Every rule with that id gets a list; the search reads the last
            // one marked in tree order (they differ only for duplicated roots).
            let mut marked = self.rules_with_id(ms);
            marked.retain(|&t| !self.tree.nodes_of[t].is_empty());
            marked.sort_by_key(|&t| {
                let first = self.tree.nodes_of[t][0];
                self.tree.roots.iter().position(|&n| n == first).unwrap_or(0)
            });
            for &t in &marked {
                self.tree.has_sid_list[t] = true;
            }
            self.tree.rules[ri].search = Some(Search::Sid(marked.last().copied()));
        } else if let (Some(g), false) = (r.if_matched_group.clone(), overwrite) {
            self.tree.rules[ri].search = Some(Search::Group);
            // Upstream registers the list once per matching *node* (a rule under two
            // parents feeds it twice) and includes the correlation rule itself.
            for target in self.tree.rules.indices() {
                if g.is_match(&self.tree.rules[target].groups) {
                    for _ in 0..self.tree.nodes_of[target].len() {
                        self.tree.feeds_groups[target].push(ri);
                    }
                }
            }
        } else if r.context {
            if r.check_diff {
                self.tree.rules[ri].context = false;
            } else {
                self.tree.rules[ri].search = Some(Search::Event);
            }
        }
    }
}
