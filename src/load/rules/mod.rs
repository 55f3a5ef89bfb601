//! Rule files → [`RuleTree`] (upstream: src/analysisd/rules.c `Rules_OP_ReadRules`,
//! `getattributes`, `w_check_attr_*`, `loadmemory`; rules_list.c `OS_AddChild`,
//! `_AddtoRule`, `OS_AddRuleInfo`, `OS_MarkID`, `OS_MarkGroup`; lists_list.c
//! `OS_AddListRule`; validate_op.c `OS_IsValidIP`, `OS_IsValidTime`, `OS_IsValidDay`).
//!
//! Problems split as upstream splits them: a *fatal* one stops the load
//! ([`LoadError`], upstream `goto cleanup`), a *skip* drops one rule with a
//! warning, anything else is a message and loading goes on. Messages are
//! upstream's texts.
//!
//! The quirks reproduced here: repeated text elements are glued together with
//! no separator (two `<if_sid>` 100 and 200 make `100200`), each fragment
//! bounded as `loadmemory` bounds it; `negate`/`type` of the last occurrence
//! win; a duplicate id is dropped before its elements are read; placement only
//! sees rules loaded *earlier*; `overwrite="yes"` replaces conditions but keeps
//! tree position, parents and correlation wiring; only the last two `<list>`
//! conditions survive (`OS_AddListRule` returns the wrong list head).

mod attributes;
mod elements;
mod placement;
mod values;
mod wiring;

use attributes::Attributes;
use elements::{Elements, Flow};

use super::xml::{self, Element};
use super::LoadError;
use crate::decode::Decoders;
use crate::diagnostics::{Code, Diagnostic, Severity, SourceFile, Span};
use crate::event::FieldNames;
use crate::lists::CdbList;
use crate::rules::{Rule, RuleTree};
use values::lossy;

/// Builds the rule tree file by file.
pub struct RuleLoader<'a> {
    /// The tree built so far.
    pub(crate) tree: RuleTree,
    /// Non-fatal messages, in load order.
    pub(crate) diagnostics: Vec<Diagnostic>,
    decoders: &'a Decoders,
    lists: &'a crate::index::IdxVec<crate::index::ListIdx, CdbList>,
    /// Where dynamic field names that rules name are interned.
    pub(crate) fields: &'a mut FieldNames,
    email_alert_level: u32,
    /// analysisd's `log_alert_level` (decides a rule's initial log flag,
    /// which `no_log` only clears — together with `no_counter` — when set).
    pub(crate) log_alert_level: u32,
    default_timeframe: u32,
    /// Apply runtests.py's rewrite of rule 60000.
    pub(crate) adapt_rule_60000: bool,
    /// Extra root templates with an id already loaded (`overwrite="yes"` on
    /// an id below 10 adds a second root instead of overwriting).
    root_duplicates: Vec<crate::index::RuleIdx>,
    /// Set when placing a rule would exceed [`MAX_NODES`]: the load stops.
    too_big: Option<String>,
    /// Per `if_group`/`if_level` target: the rules known to match it, and
    /// how many rules were checked (see [`Self::nodes_matching`]).
    targets: std::collections::HashMap<Target, (Vec<crate::index::RuleIdx>, usize)>,
    /// The file being read.
    file: SourceFile,
}

/// What an `if_group` or `if_level` looks for.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Target {
    Group(Vec<u8>),
    /// Internal level at least this.
    Level(i64),
}

/// Most positions (tree nodes) a rule tree may have. The stock ruleset has
/// 8,451; each costs about 150 bytes with its bookkeeping, so this
/// bounds a tree to ~150 MB.
const MAX_NODES: usize = 1_000_000;

/// Upstream's `OS_SIZE_2048`, the `loadmemory` bound.
const LOADMEMORY_MAX: usize = 2048;

/// What became of one `<rule>` element.
enum Parsed {
    Rule(Box<Rule>),
    /// Dropped with its warnings already given (duplicate id, skip).
    Dropped,
}

impl<'a> RuleLoader<'a> {
    /// A loader for rules over these decoders (for `decoded_as`) and lists (for `<list>`),
    /// interning field names into `fields`; `email_alert_level` sets each rule's initial mail flag.
    pub fn new(
        decoders: &'a Decoders,
        lists: &'a crate::index::IdxVec<crate::index::ListIdx, CdbList>,
        fields: &'a mut FieldNames,
        email_alert_level: u32,
    ) -> Self {
        RuleLoader {
            tree: RuleTree::default(),
            diagnostics: Vec::new(),
            decoders,
            lists,
            fields,
            email_alert_level,
            log_alert_level: crate::load::config::AlertSettings::default().log_alert_level as u32,
            default_timeframe: 360,
            adapt_rule_60000: false,
            root_duplicates: Vec::new(),
            too_big: None,
            targets: Default::default(),
            file: SourceFile::new("", None),
        }
    }

    /// Where `el`'s start tag is in the current file.
    fn at(&self, el: &Element) -> Span {
        self.file.span(el.line, el.column, el.start, el.tag_end)
    }

    fn warn(&mut self, code: Code, el: &Element, msg: String) {
        let span = self.at(el);
        self.warn_at(code, span, msg);
    }

    fn warn_at(&mut self, code: Code, span: Span, msg: String) {
        self.diagnostics.push(Diagnostic::wazuh(code, Severity::Warning, msg).at(span));
    }

    fn error(&mut self, code: Code, el: &Element, msg: String) {
        let span = self.at(el);
        self.diagnostics.push(Diagnostic::wazuh(code, Severity::Error, msg).at(span));
    }

    /// A fatal problem at `el`, in Wazuh's words.
    fn fatal(&self, code: Code, el: &Element, msg: String) -> LoadError {
        LoadError::wazuh(code, msg).at(self.at(el))
    }

    /// Loads one rule file.
    pub fn load_file(&mut self, file: &SourceFile, bytes: &[u8]) -> Result<(), LoadError> {
        self.file = file.clone();
        if bytes.is_empty() {
            return Ok(());
        }
        let els = xml::parse(bytes).map_err(|e| LoadError::xml(file, e))?;
        let els = xml::apply_variables(els).map_err(|e| LoadError::xml_vars(file, e))?;
        if els.is_empty() {
            // Only comments, text or variables.
            let msg = format!("(1202): Configuration error at '{}'.", file.name);
            return Err(LoadError::wazuh(Code::RuleFileStructure, msg).at(file.whole()));
        }
        // Every root element is checked before any rule of the file is read.
        for g in &els {
            if !g.name.eq_ignore_ascii_case("group") {
                let msg = format!("rules_op: Invalid root element \"{}\".Only \"group\" is allowed", g.name);
                return Err(self.fatal(Code::RuleFileStructure, g, msg));
            }
            if g.attrs.len() != 1 || !g.attrs[0].0.eq_ignore_ascii_case("name") {
                let msg = format!("rules_op: Invalid root element '{}'.Only the group name is allowed", g.name);
                return Err(self.fatal(Code::RuleFileStructure, g, msg));
            }
        }
        for g in &els {
            if g.children.is_empty() {
                return Err(self.fatal(Code::RuleFileStructure, g, format!("Group '{}' without any rule.", g.name)));
            }
            let gname = g.attrs[0].1.clone();
            for (j, r) in g.children.iter().enumerate() {
                if !r.name.eq_ignore_ascii_case("rule") {
                    let msg = format!("Invalid configuration. '{}' is not a valid element.", r.name);
                    return Err(self.fatal(Code::RuleFileStructure, r, msg));
                }
                if let Parsed::Rule(rule) = self.parse_rule(r, j, &gname)? {
                    let id = rule.id;
                    self.add(*rule);
                    if let Some(m) = self.too_big.take() {
                        return Err(LoadError::ours(Code::RuleTreeTooBig, m).at(self.at(r)).rule(id));
                    }
                }
            }
        }
        Ok(())
    }

    /// `loadmemory`'s bound: the first fragment must be shorter than 2048
    /// bytes, a later one (and what was gathered before it) at most 2048.
    fn memory_fits(&mut self, gathered: Option<usize>, s: &[u8], at: &Element) -> bool {
        let ok = match gathered {
            None => s.len() < LOADMEMORY_MAX,
            Some(n) => n <= LOADMEMORY_MAX && s.len() <= LOADMEMORY_MAX,
        };
        if !ok {
            self.error(Code::ValueTooLong, at, format!("(1104): Maximum string size reached for: {}.", lossy(s)));
        }
        ok
    }

    /// `loadmemory`: appends `s` to `at`; past the bound an error is logged
    /// and *everything gathered is lost* (`at` becomes NULL, a later fragment
    /// starts afresh).
    fn load_memory(&mut self, gathered: Option<Vec<u8>>, s: &[u8], at: &Element) -> Option<Vec<u8>> {
        if !self.memory_fits(gathered.as_ref().map(|a| a.len()), s, at) {
            return None;
        }
        let mut v = gathered.unwrap_or_default();
        v.extend_from_slice(s);
        Some(v)
    }

    fn parse_rule(&mut self, el: &Element, index: usize, group_name: &[u8]) -> Result<Parsed, LoadError> {
        let Attributes { id, level, maxsize, timeframe, frequency, accuracy, noalert, ignore, mut overwrite } =
            self.attributes(el, index)?;
        let id = id as u32;
        let level = level as u32;
        // ---- Existence (`doesRuleExist`), before any element is read. ----
        if self.tree.by_id.contains_key(&id) {
            if !overwrite {
                self.warn(
                    Code::DuplicateRuleId,
                    el,
                    format!("(7612): Rule ID '{}' is duplicated. Only the first occurrence will be considered.", id),
                );
                return Ok(Parsed::Dropped);
            }
        } else if overwrite {
            self.warn(Code::OverwriteUnknown, el, format!("(7613): Rule ID '{}' does not exist but 'overwrite' is set to 'yes'. Still, the rule will be loaded.", id));
            overwrite = false;
        }
        // `zerorulemember`: from here on the rule counts for the event list's
        // eviction age, even if it is skipped later.
        self.tree.max_freq = self.tree.max_freq.max((frequency - 2).max(0) as u32);

        let mut r = Rule { span: self.at(el), id, level, ..Default::default() };
        r.frequency = frequency as u32;
        r.timeframe = timeframe.max(0) as u32;
        r.maxsize = maxsize.max(0) as u32;
        r.ignore = ignore.max(0) as u32;
        r.noalert = noalert;
        r.overwrite = overwrite;
        r.internal_level = {
            let l = if level == 0 { 99 } else { level };
            if accuracy != 0 {
                l * 100
            } else {
                l
            }
        };
        r.options.mail = self.email_alert_level <= level;
        r.options.log = self.log_alert_level <= level;
        let adapt = self.adapt_rule_60000 && id == 60000 && self.file.name.ends_with("0575-win-base_rules.xml");

        if el.children.is_empty() {
            return Err(self.fatal(Code::RuleNoOptions, el, format!(
                "Rule '{}' without any option. It may lead to false positives and some other problems for the system. Exiting.",
                id
            )));
        }

        // ---- Elements. ----
        let mut st = Elements::new(group_name);
        let mut skip = false;
        for c in &el.children {
            match self.element(c, id, &mut r, &mut st).map_err(|e| e.rule(id))? {
                Flow::Next => {}
                Flow::Skip => {
                    skip = true;
                    break;
                }
            }
        }

        self.finish_rule(el, r, st, skip, adapt)
    }

    /// Finalises and returns the tree.
    pub fn finish(self) -> (RuleTree, Vec<Diagnostic>) {
        (self.tree, self.diagnostics)
    }
}
