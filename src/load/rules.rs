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

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use super::xml::{self, Element};
use super::LoadError;
use crate::decode::{DecoderType, Decoders};
use crate::diagnostics::{Code, Diagnostic, Severity, SourceFile, Span};
use crate::event::{FieldNames, StaticField};
use crate::lists::{CdbList, Lookup};
use crate::matcher::{os_match, Kind, Matcher, OsMatch, OsRegex, Pcre2};
use crate::rules::{
    CompiledRule, Cond, FtsKeys, IpList, IpNet, ListCond, ListField, MitreRefs, Node, Rule, RuleTree, SameField,
    Search, TimeRange,
};

/// Builds the rule tree file by file.
pub struct RuleLoader<'a> {
    pub tree: RuleTree,
    pub diagnostics: Vec<Diagnostic>,
    decoders: &'a Decoders,
    lists: &'a [CdbList],
    pub fields: &'a mut FieldNames,
    email_alert_level: u32,
    /// analysisd's `log_alert_level` (decides a rule's initial log flag,
    /// which `no_log` only clears — together with `no_counter` — when set).
    pub log_alert_level: u32,
    default_timeframe: u32,
    /// Apply runtests.py's rewrite of rule 60000.
    pub adapt_rule_60000: bool,
    /// Extra root templates with an id already loaded (`overwrite="yes"` on
    /// an id below 10 adds a second root instead of overwriting).
    root_duplicates: Vec<usize>,
    /// Set when placing a rule would exceed [`MAX_NODES`]: the load stops.
    too_big: Option<String>,
    /// Per `if_group`/`if_level` target: the rules known to match it, and
    /// how many rules were checked (see [`Self::nodes_matching`]).
    targets: std::collections::HashMap<Target, (Vec<usize>, usize)>,
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

/// Elements matched with `strcmp` upstream; all others with `strcasecmp`.
const CASE_SENSITIVE: &[&str] = &[
    "same_id",
    "same_url",
    "same_data",
    "same_extra_data",
    "same_status",
    "same_system_name",
    "same_srcgeoip",
    "same_dstgeoip",
    "different_srcip",
    "not_same_source_ip",
    "different_protocol",
    "different_action",
    "different_id",
    "not_same_id",
    "different_url",
    "different_data",
    "different_extra_data",
    "different_status",
    "different_system_name",
    "different_srcgeoip",
    "different_dstgeoip",
];

/// The text elements compiled into a [`Cond`], with their default type.
const TEXT_CONDS: &[(&str, Kind)] = &[
    ("regex", Kind::OsRegex),
    ("match", Kind::OsMatch),
    ("id", Kind::OsMatch),
    ("srcport", Kind::OsMatch),
    ("dstport", Kind::OsMatch),
    ("status", Kind::OsMatch),
    ("hostname", Kind::OsMatch),
    ("data", Kind::OsMatch),
    ("extra_data", Kind::OsMatch),
    ("program_name", Kind::OsMatch),
    ("user", Kind::OsMatch),
    ("srcgeoip", Kind::OsMatch),
    ("dstgeoip", Kind::OsMatch),
    ("url", Kind::OsMatch),
    ("location", Kind::OsMatch),
    ("action", Kind::Exact),
    ("protocol", Kind::OsMatch),
    ("system_name", Kind::OsMatch),
];

/// Upstream's compile order after the element loop (which decides which
/// error a rule with several broken patterns gets).
const COMPILE_ORDER: &[&str] = &[
    "regex",
    "match",
    "id",
    "srcport",
    "dstport",
    "status",
    "hostname",
    "data",
    "extra_data",
    "program_name",
    "user",
    "srcgeoip",
    "dstgeoip",
    "url",
    "location",
    "action",
    "if_matched_group",
    "if_matched_regex",
    "protocol",
    "system_name",
];

/// Where a compiled text condition goes.
fn text_cond_slot<'r>(r: &'r mut Rule, key: &str) -> &'r mut Option<Cond> {
    match key {
        "regex" => &mut r.regex,
        "match" => &mut r.match_,
        "id" => &mut r.id_cond,
        "srcport" => &mut r.srcport,
        "dstport" => &mut r.dstport,
        "status" => &mut r.status,
        "hostname" => &mut r.hostname,
        "data" => &mut r.data,
        "extra_data" => &mut r.extra_data,
        "program_name" => &mut r.program_name,
        "user" => &mut r.user,
        "srcgeoip" => &mut r.srcgeoip,
        "dstgeoip" => &mut r.dstgeoip,
        "url" => &mut r.url,
        "location" => &mut r.location,
        "action" => &mut r.action,
        "protocol" => &mut r.protocol,
        _ => &mut r.system_name,
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// C `atoi` (glibc: `strtol` saturating at the `long` range, then the
/// conversion to `int` keeps the low 32 bits).
fn atoi(s: &[u8]) -> i32 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
        match v.checked_mul(10).and_then(|x| x.checked_add((d - b'0') as i64)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    let v = match (overflow, neg) {
        (true, false) => i64::MAX,
        (true, true) => i64::MIN,
        (false, true) => -v,
        (false, false) => v,
    };
    v as i32
}

/// `OS_StrIsNum`: only ASCII digits (the empty string passes).
fn is_num(s: &[u8]) -> bool {
    s.iter().all(|b| b.is_ascii_digit())
}

/// `sscanf(v, "%Nd")` on a string `is_num` accepted: its first `n` digits;
/// `None` (the target left unchanged) for the empty string.
fn scan_width(v: &[u8], n: usize) -> Option<i32> {
    if v.is_empty() {
        None
    } else {
        Some(atoi(&v[..v.len().min(n)]))
    }
}

/// Upstream's txt/cdb names of a configured list (`Lists_OP_LoadList`): a name
/// without `/` lives in `ruleset/rules/`, anything from the first `.cdb` on is cut.
fn list_names(name: &str) -> (String, String) {
    let mut txt = if name.contains('/') { name.to_string() } else { format!("ruleset/rules/{name}") };
    if let Some(p) = txt.find(".cdb") {
        txt.truncate(p);
    }
    let cdb = format!("{txt}.cdb");
    (txt, cdb)
}

/// Accumulated text of a repeated element, with the attributes of its last occurrence.
#[derive(Default)]
struct Acc {
    text: Option<Vec<u8>>,
    negate: bool,
    kind: Option<Kind>,
    /// The last occurrence, for diagnostics.
    at: Option<Span>,
}

/// MITRE parsing state across the blocks of one rule.
#[derive(Default)]
struct MitreState {
    deprecated: bool,
    new_format: bool,
}

/// What became of one `<rule>` element.
enum Parsed {
    Rule(Box<Rule>),
    /// Dropped with its warnings already given (duplicate id, skip).
    Dropped,
}

impl<'a> RuleLoader<'a> {
    pub fn new(
        decoders: &'a Decoders,
        lists: &'a [CdbList],
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
        let els = xml::parse(bytes).and_then(xml::apply_variables).map_err(|e| LoadError::xml(file, e))?;
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

    /// `w_check_attr_negate`: `negate="yes|no"` (case-insensitive); other → 7600, no.
    fn negate_attr(&mut self, c: &Element, id: u32) -> bool {
        match c.attr("negate") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case(b"yes") => true,
            Some(v) if v.eq_ignore_ascii_case(b"no") => false,
            Some(v) => {
                let m = format!("(7600): Invalid value '{}' for attribute 'negate' in rule {}.", lossy(v), id);
                self.warn(Code::RuleAttributeValue, c, m);
                false
            }
        }
    }

    /// `w_check_attr_type`: `type="osmatch|osregex|pcre2"`; absent or invalid
    /// (7600) → `None`, the element's default.
    fn type_attr(&mut self, c: &Element, id: u32) -> Option<Kind> {
        let t = c.attr("type")?;
        let k = Kind::from_attr(t);
        if k.is_none() {
            let m = format!("(7600): Invalid value '{}' for attribute 'type' in rule {}.", lossy(t), id);
            self.warn(Code::RuleAttributeValue, c, m);
        }
        k
    }

    fn parse_rule(&mut self, el: &Element, index: usize, group_name: &[u8]) -> Result<Parsed, LoadError> {
        // ---- Attributes (`getattributes`); the first bad one is fatal. ----
        if el.attrs.is_empty() {
            return Err(self.fatal(
                Code::RuleAttribute,
                el,
                format!("Invalid rule '{}'. You must specify an ID and a level at least.", index),
            ));
        }
        let mut id: i32 = -1;
        let mut level: i32 = -1;
        let mut maxsize = 0i32;
        let mut timeframe = self.default_timeframe as i32;
        let mut frequency = 0i32;
        let mut accuracy = 1i32;
        let mut noalert = false;
        let mut ignore = 0i32;
        let mut overwrite = false;
        for (k, v) in &el.attrs {
            let num = is_num(v);
            match k.to_ascii_lowercase().as_str() {
                "id" => {
                    if !num || v.len() > 6 {
                        return Err(self.fatal(Code::RuleAttribute, el, format!("rules_op: Invalid rule id: {}. Must be integer (max 6 digits)", lossy(v))));
                    }
                    if let Some(x) = scan_width(v, 6) {
                        id = x;
                    }
                }
                "level" => {
                    // A non-numeric level is silently ignored (and then missing).
                    if num {
                        level = atoi(v);
                        if !(0..=16).contains(&level) {
                            return Err(self.fatal(Code::RuleAttribute, el, format!("rules_op: Invalid level: {}. Must be an integer between 0 and 16.", level)));
                        }
                    }
                }
                "maxsize" => {
                    if !num {
                        return Err(self.fatal(Code::RuleAttribute, el, format!("rules_op: Invalid maxsize: {}. Must be integer", lossy(v))));
                    }
                    maxsize = scan_width(v, 4).unwrap_or(maxsize);
                }
                "timeframe" => {
                    if !num {
                        return Err(self.fatal(Code::RuleAttribute, el, format!("rules_op: Invalid timeframe: {}. Must be integer (max 5 digits)", lossy(v))));
                    }
                    timeframe = scan_width(v, 5).unwrap_or(timeframe);
                }
                "frequency" => {
                    if !num {
                        return Err(self.fatal(Code::RuleAttribute, el, format!("rules_op: Invalid frequency: {}. Must be integer", lossy(v))));
                    }
                    frequency = atoi(v);
                    if !(2..=9999).contains(&frequency) {
                        return Err(self.fatal(Code::RuleAttribute, el, format!(
                            "rules_op: Invalid frequency: {}. Must be higher than 1 and lower than 10000.",
                            frequency
                        )));
                    }
                }
                "accuracy" => {
                    if !num {
                        return Err(self.fatal(Code::RuleAttribute, el, format!("rules_op: Invalid accuracy: {}. Must be integer", lossy(v))));
                    }
                    accuracy = scan_width(v, 4).unwrap_or(accuracy);
                }
                "ignore" => {
                    if !num {
                        return Err(self.fatal(Code::RuleAttribute, el, format!("rules_op: Invalid ignore_time: {}. Must be integer (max 6 digits)", lossy(v))));
                    }
                    ignore = scan_width(v, 6).unwrap_or(ignore);
                }
                "noalert" => match v.as_slice() {
                    b"0" => noalert = false,
                    b"1" => noalert = true,
                    _ => self.warn(Code::RuleNoAlertValue, el, "Invalid value for attribute 'noalert'".into()),
                },
                "overwrite" => match v.as_slice() {
                    b"yes" => overwrite = true,
                    b"no" => overwrite = false,
                    _ => return Err(self.fatal(Code::RuleAttribute, el, format!("rules_op: Invalid overwrite: {}. Can only by 'yes' or 'no'.", lossy(v)))),
                },
                _ => {
                    return Err(self.fatal(Code::RuleAttribute, el, format!(
                        "rules_op: Invalid attribute \"{}\". Only id, level, maxsize, accuracy, noalert, ignore, frequency and timeframe are allowed.",
                        k
                    )))
                }
            }
        }
        if id == -1 || level == -1 {
            return Err(self.fatal(
                Code::RuleAttribute,
                el,
                format!("No rule id or level specified for rule '{}'.", index),
            ));
        }
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
        let mut st = Elements { groups: Some(group_name.to_vec()), ..Default::default() };
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

        // ---- Post-parse validation, in upstream order. ----
        if let Some(s) = &st.if_sid {
            // PCRE2 `^[\d, ]+$`: `$` also matches before a final newline.
            let body = s.strip_suffix(b"\n").unwrap_or(s);
            if body.is_empty() || !body.iter().all(|&b| b.is_ascii_digit() || b == b',' || b == b' ') {
                skip = true;
                self.warn(
                    Code::InvalidIfSid,
                    el,
                    format!("(7618): Invalid 'if_sid' value: '{}'. Rule '{}' will be ignored.", lossy(s), id),
                );
            }
        }
        if skip {
            return Ok(Parsed::Dropped);
        }
        let Some(description) = st.description.take() else {
            return Err(self.fatal(Code::RuleNoDescription, el, format!("No such description at rule '{}'.", id)));
        };
        r.description = description;
        if (r.check_diff || r.global_frequency || st.any_same || r.frequency > 2) && !r.context {
            return Err(self.fatal(
                Code::RuleContext,
                el,
                format!("Invalid use of frequency/context options. Missing if_matched on rule '{}'.", id),
            ));
        }
        if st.if_matched_group.is_some() && !r.overwrite && st.if_sid.is_none() && st.if_group.is_none() {
            st.if_group = st.if_matched_group.clone();
        }
        if let Some(ms) = r.if_matched_sid {
            if st.if_sid.is_none() && st.if_group.is_none() && !r.overwrite {
                st.if_sid = Some(ms.to_string().into_bytes());
            }
        }
        // Patterns are compiled only now, in upstream's order; the first failure is fatal.
        for &key in COMPILE_ORDER {
            match key {
                "if_matched_group" => {
                    if let Some(g) = &st.if_matched_group {
                        let m = OsMatch::compile(g).map_err(|e| {
                            self.fatal(
                                Code::RulePattern,
                                el,
                                format!("(1450): Syntax error on regex: '{}': {}.", lossy(g), e.code()),
                            )
                        })?;
                        r.if_matched_group = Some(m);
                    }
                }
                "if_matched_regex" => {
                    if let Some(rx) = &st.if_matched_regex {
                        let m = OsRegex::compile(rx, false).map_err(|e| {
                            self.fatal(
                                Code::RulePattern,
                                el,
                                format!("(1450): Syntax error on regex: '{}': {}.", lossy(rx), e.code()),
                            )
                        })?;
                        r.if_matched_regex = Some(m);
                    }
                }
                _ => {
                    let Some(a) = st.acc.remove(key) else { continue };
                    let Some(text) = a.text else { continue };
                    let default = TEXT_CONDS.iter().find(|(k, _)| *k == key).map_or(Kind::OsMatch, |&(_, d)| d);
                    let m = Matcher::compile(a.kind.unwrap_or(default), &text, false).map_err(|e| {
                        // Upstream names the tag, except for <protocol> where it passes the pattern.
                        let tag = if key == "protocol" { lossy(&text) } else { key.to_string() };
                        let at = a.at.clone().unwrap_or_else(|| self.at(el));
                        let msg = format!("(5107): Syntax error on tag '{}' in rule {}", tag, id);
                        LoadError::wazuh(Code::RulePattern, msg).at(at).caused_by(e)
                    })?;
                    *text_cond_slot(&mut r, key) = Some(Cond { m, negate: a.negate });
                }
            }
        }
        r.srcip = st.srcip.take();
        r.dstip = st.dstip.take();
        if adapt {
            r.decoded_as = Some((*b"json").into());
            r.category = DecoderType::Syslog;
        }
        r.groups = st.groups.take().unwrap_or_default();
        r.mitre = std::mem::take(&mut st.mitre);
        r.if_sid = st.if_sid.map(|s| lossy(&s));
        r.if_group = st.if_group;
        r.if_level = st.if_level.map(|s| lossy(&s));
        r.if_matched_group_text = st.if_matched_group;
        r.cve = st.cve.unwrap_or_default();
        Ok(Parsed::Rule(Box::new(r)))
    }
}

/// What the element loop gathers besides the [`Rule`] itself.
#[derive(Default)]
struct Elements {
    acc: std::collections::HashMap<&'static str, Acc>,
    description: Option<Vec<u8>>,
    /// `None` only after a `loadmemory` failure (upstream: a NULL group).
    groups: Option<Vec<u8>>,
    srcip: Option<IpList>,
    dstip: Option<IpList>,
    if_sid: Option<Vec<u8>>,
    if_group: Option<Vec<u8>>,
    if_level: Option<Vec<u8>>,
    if_matched_group: Option<Vec<u8>>,
    if_matched_regex: Option<Vec<u8>>,
    /// Any same_*/different_* (incl. same_field/different_field): needs if_matched.
    any_same: bool,
    mitre: MitreRefs,
    mitre_state: MitreState,
    cve: Option<Vec<u8>>,
    info_len: usize,
}

/// Whether the element loop goes on.
enum Flow {
    Next,
    /// The rule is dropped (its warning is given); upstream leaves the loop.
    Skip,
}

impl<'a> RuleLoader<'a> {
    /// One child element of a `<rule>` (the `Rules_OP_ReadRules` element loop).
    fn element(&mut self, c: &Element, id: u32, r: &mut Rule, st: &mut Elements) -> Result<Flow, LoadError> {
        let lname = c.name.to_ascii_lowercase();
        if CASE_SENSITIVE.contains(&lname.as_str()) && c.name != lname {
            return Err(self.fatal(
                Code::RuleUnknownElement,
                c,
                format!("Invalid option '{}' for rule '{}'.", c.name, id),
            ));
        }
        let content = &c.content;
        let text_key: Option<&'static str> = TEXT_CONDS.iter().map(|&(k, _)| k).find(|&k| k == lname);
        if let Some(key) = text_key {
            let prev = st.acc.get_mut(key).and_then(|a| a.text.take());
            let text = self.load_memory(prev, content, c);
            let negate = self.negate_attr(c, id);
            let kind = self.type_attr(c, id);
            let at = self.at(c);
            let a = st.acc.entry(key).or_default();
            a.text = text;
            a.negate = negate;
            a.kind = kind;
            a.at = Some(at);
            return Ok(Flow::Next);
        }
        match lname.as_str() {
            "decoded_as" => {
                if !self.decoders.known_names.contains(content.as_slice()) {
                    return Err(self.fatal(Code::RuleValue, c, format!("Invalid decoder name: '{}'.", lossy(content))));
                }
                r.decoded_as = Some(content.as_slice().into());
            }
            "cve" => {
                let prev = st.cve.take();
                st.cve = self.load_memory(prev, content, c);
            }
            "info" => {
                let t = self.info_type(c);
                let gathered = if r.info.is_empty() { None } else { Some(st.info_len) };
                if self.memory_fits(gathered, content, c) {
                    st.info_len += content.len();
                    r.info.push((t, content.clone()));
                } else {
                    st.info_len = 0;
                    r.info.clear();
                }
            }
            "time" => {
                r.time = Some(parse_time(content).ok_or_else(|| {
                    let msg = format!("(1274): Invalid configuration. Element '{}': {}.", c.name, lossy(content));
                    self.fatal(Code::RuleValue, c, msg)
                })?);
            }
            "weekday" => {
                r.weekday = Some(parse_weekday(content).ok_or_else(|| {
                    self.fatal(Code::RuleValue, c, format!("(1241): Invalid day format: '{}'.", lossy(content)))
                })?);
            }
            "group" => {
                let prev = st.groups.take();
                st.groups = self.load_memory(prev, content, c).map(|mut g| {
                    g.retain(|&b| b != b'\n');
                    g
                });
            }
            "description" => {
                let mut frag = content.clone();
                if let Some(p) = frag.iter().position(|&b| b == b'\n') {
                    frag[p] = b' ';
                }
                let prev = st.description.take();
                st.description = self.load_memory(prev, &frag, c);
            }
            "srcip" | "dstip" => {
                let net = parse_ip(content).ok_or_else(|| {
                    self.fatal(Code::RuleValue, c, format!("(1237): Invalid ip address: '{}'.", lossy(content)))
                })?;
                let negate = self.negate_attr(c, id);
                let list = if lname == "srcip" { &mut st.srcip } else { &mut st.dstip };
                let list = list.get_or_insert_with(IpList::default);
                list.nets.push(net);
                list.negate = negate;
            }
            "field" => {
                if r.fields.len() >= self.order_size() {
                    return Err(self.fatal(
                        Code::RuleValue,
                        c,
                        format!("Rule {} has exceeded the maximum number of allowed fields", id),
                    ));
                }
                if c.attrs.is_empty() {
                    // Upstream fails here without saying why.
                    return Err(self.fatal(
                        Code::RuleValue,
                        c,
                        format!("Failure to read rule {}: <field> without attributes.", id),
                    ));
                }
                let Some(fname) = c.attr("name") else {
                    return Err(self.fatal(
                        Code::RuleValue,
                        c,
                        format!("Failure to read rule {}. No such attribute 'name' for field.", id),
                    ));
                };
                const STATIC: &[&str] = &[
                    "srcip",
                    "dstip",
                    "srcgeoip",
                    "dstgeoip",
                    "srcport",
                    "dstport",
                    "user",
                    "srcuser",
                    "dstuser",
                    "url",
                    "id",
                    "data",
                    "extra_data",
                    "status",
                    "protocol",
                    "system_name",
                    "action",
                ];
                if STATIC.iter().any(|s| s.as_bytes().eq_ignore_ascii_case(fname)) {
                    return Err(self.fatal(
                        Code::RuleValue,
                        c,
                        format!("Failure to read rule {}. Field '{}' is static.", id, lossy(fname)),
                    ));
                }
                let kind = self.type_attr(c, id).unwrap_or(Kind::OsRegex);
                let negate = self.negate_attr(c, id);
                let m = Matcher::compile(kind, content, false).map_err(|e| {
                    self.fatal(
                        Code::RulePattern,
                        c,
                        format!("(5107): Syntax error on tag '{}' in rule {}", lossy(fname), id),
                    )
                    .caused_by(e)
                })?;
                let fid = self.fields.intern(fname);
                r.fields.push((fid, Cond { m, negate }));
            }
            "list" => return self.list_element(c, id, r),
            "compiled_rule" => {
                r.compiled = Some(match content.as_slice() {
                    b"comp_srcuser_dstuser" => CompiledRule::SrcuserDstuser,
                    b"check_id_size" => CompiledRule::CheckIdSize,
                    b"comp_mswin_targetuser_calleruser_diff" => CompiledRule::MswinTargetCaller,
                    b"is_simple_http_request" => CompiledRule::SimpleHttpRequest,
                    b"is_valid_crawler" => CompiledRule::ValidCrawler,
                    other => {
                        return Err(self.fatal(
                            Code::RuleValue,
                            c,
                            format!("Compiled rule not found: '{}'", lossy(other)),
                        ))
                    }
                })
            }
            "category" => {
                r.category = match content.as_slice() {
                    b"firewall" => DecoderType::Firewall,
                    b"ids" => DecoderType::Ids,
                    b"syslog" => DecoderType::Syslog,
                    b"web-log" => DecoderType::WebLog,
                    b"squid" => DecoderType::Squid,
                    b"windows" => DecoderType::Windows,
                    b"ossec" => DecoderType::Ossec,
                    other => {
                        return Err(self.fatal(
                            Code::RuleValue,
                            c,
                            format!("(1273): Invalid category '{}' chosen.", lossy(other)),
                        ))
                    }
                };
            }
            "if_sid" => {
                let prev = st.if_sid.take();
                st.if_sid = self.load_memory(prev, content, c);
            }
            "if_level" => {
                if !is_num(content) {
                    self.warn(
                        Code::InvalidIfLevel,
                        c,
                        format!(
                            "(7609): Invalid 'if_level' value: '{}'. Rule '{}' will be ignored.",
                            lossy(content),
                            id
                        ),
                    );
                    return Ok(Flow::Skip);
                }
                let prev = st.if_level.take();
                st.if_level = self.load_memory(prev, content, c);
            }
            "if_group" => {
                let prev = st.if_group.take();
                st.if_group = self.load_memory(prev, content, c);
            }
            "if_matched_regex" => {
                r.context = true;
                let prev = st.if_matched_regex.take();
                st.if_matched_regex = self.load_memory(prev, content, c);
            }
            "if_matched_group" => {
                r.context = true;
                let prev = st.if_matched_group.take();
                st.if_matched_group = self.load_memory(prev, content, c);
            }
            "if_matched_sid" => {
                r.context = true;
                if !is_num(content) {
                    self.warn(
                        Code::InvalidIfSid,
                        c,
                        format!(
                            "(7615): Invalid 'if_matched_sid' value: '{}'. Rule '{}' will be ignored.",
                            lossy(content),
                            id
                        ),
                    );
                    return Ok(Flow::Skip);
                }
                // `<if_matched_sid></if_matched_sid>` is 0: no sid, but still a context rule.
                r.if_matched_sid = Some(atoi(content)).filter(|&v| v != 0);
            }
            "check_diff" => {
                r.context = true;
                r.check_diff = true;
            }
            "if_fts" => r.if_fts = true,
            "global_frequency" => r.global_frequency = true,
            "same_agent" | "not_same_agent" => {
                self.warn(
                    Code::DeprecatedOption,
                    c,
                    format!("Detected a deprecated field option for rule, {} is not longer available.", lname),
                );
            }
            "same_field" => {
                st.any_same = true;
                let fid = self.fields.intern(content);
                r.same_fields.push(fid);
            }
            "different_field" | "not_same_field" => {
                st.any_same = true;
                let fid = self.fields.intern(content);
                r.different_fields.push(fid);
            }
            "options" => match content.as_slice() {
                b"alert_by_email" => r.options.mail = true,
                // Upstream clears with a 12-bit mask, which also drops
                // `no_counter` — but only when the flag was set.
                b"no_email_alert" => {
                    if r.options.mail {
                        r.options.mail = false;
                        r.options.no_counter = false;
                    }
                }
                b"log_alert" => r.options.log = true,
                b"no_log" => {
                    if r.options.log {
                        r.options.log = false;
                        r.options.no_counter = false;
                    }
                }
                b"no_ar" => r.options.no_ar = true,
                b"no_full_log" => r.options.no_full_log = true,
                b"no_counter" => r.options.no_counter = true,
                other => {
                    return Err(self.fatal(
                        Code::RuleValue,
                        c,
                        format!("(1235): Invalid value for element 'options': {}.", lossy(other)),
                    ))
                }
            },
            "ignore" | "check_if_ignored" => {
                let keys = parse_fts_keys(content, self.order_size()).ok_or_else(|| {
                    self.fatal(Code::RuleValue, c, format!("Wrong {} option: '{}'", lname, lossy(content)))
                })?;
                let target = if lname == "ignore" { &mut r.fts_ignore } else { &mut r.fts_check_ignored };
                target.statics |= keys.statics;
                target.dynamic = keys.dynamic;
            }
            "mitre" => self.mitre_element(c, id, st),
            other => {
                if let Some(sf) = same_field(other) {
                    st.any_same = true;
                    match sf {
                        SameKind::SameId => r.same_id = true,
                        SameKind::SameSrcip => r.same_srcip = true,
                        SameKind::Same(f) => {
                            if !r.same.contains(&f) {
                                r.same.push(f)
                            }
                        }
                        SameKind::Different(f) => {
                            if !r.different.contains(&f) {
                                r.different.push(f)
                            }
                        }
                    }
                } else {
                    return Err(self.fatal(
                        Code::RuleUnknownElement,
                        c,
                        format!("Invalid option '{}' for rule '{}'.", c.name, id),
                    ));
                }
            }
        }
        Ok(Flow::Next)
    }

    /// `analysisd.decoder_order_size`.
    fn order_size(&self) -> usize {
        if self.decoders.order_size == 0 {
            256
        } else {
            self.decoders.order_size
        }
    }

    /// `get_info_attributes`: only the first attribute is looked at; a bad one
    /// is an error message (the entry is kept).
    fn info_type(&mut self, c: &Element) -> Vec<u8> {
        let Some((k, v)) = c.attrs.first() else { return b"text".to_vec() };
        if !k.eq_ignore_ascii_case("type") {
            self.error(Code::RuleInfo, c, format!("rules_op: Element info has invalid attribute \"{}\"", k));
            return b"-1".to_vec();
        }
        match v.as_slice() {
            b"text" | b"link" | b"cve" | b"osvdb" => v.clone(),
            _ => {
                self.error(
                    Code::RuleInfo,
                    c,
                    format!("rules_op: Element info attribute \"{}\" has invalid value \"{}\"", k, lossy(v)),
                );
                b"-1".to_vec()
            }
        }
    }

    /// `<list field lookup check_value>`: a bad attribute is fatal, a list
    /// that is not loaded skips the rule (7616).
    fn list_element(&mut self, c: &Element, id: u32, r: &mut Rule) -> Result<Flow, LoadError> {
        let content = &c.content;
        if c.attrs.is_empty() {
            return Err(self.fatal(Code::RuleValue, c, "List must have a correctly formatted field attribute".into()));
        }
        let mut lookup = Lookup::MatchKey;
        let mut field: Option<ListField> = None;
        let mut check: Option<OsMatch> = None;
        for (k, v) in &c.attrs {
            if k.eq_ignore_ascii_case("lookup") {
                lookup = Lookup::from_attr(v).ok_or_else(|| {
                    let msg = format!("(1274): Invalid configuration. Element '{}': {}.", c.name, lossy(content));
                    self.fatal(Code::RuleValue, c, msg)
                })?;
            } else if k.eq_ignore_ascii_case("field") {
                field = Some(list_field(v, self.fields));
            } else if k.eq_ignore_ascii_case("check_value") {
                check = Some(OsMatch::compile(v).map_err(|_| {
                    let msg = format!("(1274): Invalid configuration. Element '{}': {}.", c.name, lossy(content));
                    self.fatal(Code::RuleValue, c, msg)
                })?);
            } else {
                return Err(self.fatal(Code::RuleValue, c, format!("List field=\"{}\" is not valid", lossy(v))));
            }
        }
        let Some(field) = field else {
            return Err(self.fatal(Code::RuleValue, c, "List requires the field=\"\" attribute".into()));
        };
        let path = lossy(content);
        let found = self.lists.iter().position(|l| {
            let (txt, cdb) = list_names(&l.name);
            txt == path || cdb == path
        });
        // A list given with --lists also answers to any path of the same file.
        let found = found.or_else(|| {
            let (txt, _) = list_names(&path);
            let canonical = std::fs::canonicalize(&txt).ok()?;
            self.lists.iter().position(|l| l.canonical.as_ref() == Some(&canonical))
        });
        let Some(list) = found else {
            self.warn(
                Code::ListNotLoaded,
                c,
                format!("(7616): List '{}' could not be loaded. Rule '{}' will be ignored.", path, id),
            );
            return Ok(Flow::Skip);
        };
        // `OS_AddListRule` returns the node before the one it appended instead
        // of the head: from the third list on, only the last two remain.
        if r.lists.len() >= 2 {
            r.lists.remove(0);
        }
        r.lists.push(ListCond { field, lookup, check, list });
        Ok(Flow::Next)
    }

    /// One `<mitre>` block.
    fn mitre_element(&mut self, c: &Element, id: u32, st: &mut Elements) {
        if c.children.is_empty() {
            self.warn(Code::RuleMitre, c, format!("Empty Mitre information for rule '{}'", id));
            return;
        }
        let (mut has_id, mut tactic_n, mut technique_n) = (false, 0, 0);
        let mut failure = false;
        for m in &c.children {
            match m.name.to_ascii_lowercase().as_str() {
                "id" | "techniqueid" if m.content.is_empty() => {
                    self.warn(Code::RuleMitre, m, format!("No Mitre Technique ID found for rule '{}'", id));
                    failure = true;
                }
                "tacticid" if m.content.is_empty() => {
                    self.warn(Code::RuleMitre, m, format!("No Mitre Tactic ID found for rule '{}'", id));
                    failure = true;
                }
                "id" => has_id = true,
                "tacticid" => tactic_n += 1,
                "techniqueid" => technique_n += 1,
                _ => {
                    self.error(Code::RuleMitre, m, format!("Invalid option '{}' for rule '{}'", m.name, id));
                    failure = true;
                }
            }
        }
        if failure {
            return;
        }
        let ms = &mut st.mitre_state;
        let mut warn = None;
        if has_id {
            if tactic_n > 0 || technique_n > 0 {
                warn = Some(format!(
                    "Rule '{}' combined old and new Mitre formats in the same block. The Mitre block will be discarded.",
                    id
                ));
                failure = true;
            } else if ms.new_format {
                warn = Some(format!(
                    "Rule '{}' combined old and new Mitre formats, the old Mitre Technique format will be discarded.",
                    id
                ));
                st.mitre.ids.clear();
                failure = true;
            } else {
                ms.deprecated = true;
            }
        } else if tactic_n > 0 && technique_n > 0 {
            if tactic_n > 1 || technique_n > 1 {
                warn = Some(format!(
                    "In rule '{}' is not allowed to join more than one Mitre techniqueID or tacticID in the same block. The Mitre block will be discarded.",
                    id
                ));
                failure = true;
            } else {
                ms.new_format = true;
                if ms.deprecated {
                    warn = Some(format!(
                        "Rule '{}' combined old and new Mitre formats, the old Mitre Technique format will be discarded.",
                        id
                    ));
                    st.mitre.ids.clear();
                    ms.deprecated = false;
                }
            }
        } else if technique_n > 0 {
            warn = Some(format!("Mitre tacticID should be defined in rule '{}'", id));
            failure = true;
        } else if tactic_n > 0 {
            warn = Some(format!("Mitre techniqueID should be defined in rule '{}'", id));
            failure = true;
        }
        if let Some(w) = warn {
            self.warn(Code::RuleMitre, c, w);
        }
        if failure {
            return;
        }
        let (mut tactic, mut technique) = (None, None);
        for m in &c.children {
            let v = lossy(&m.content);
            match m.name.to_ascii_lowercase().as_str() {
                "id" => {
                    if !st.mitre.ids.contains(&v) {
                        st.mitre.ids.push(v);
                    }
                }
                "tacticid" => tactic = Some(v),
                _ => technique = Some(v),
            }
        }
        if let (Some(ta), Some(te)) = (tactic, technique) {
            let pair = (ta, te);
            if !st.mitre.pairs.contains(&pair) {
                st.mitre.pairs.push(pair);
            }
        }
    }
}

/// `<ignore>`/`<check_if_ignored>`: `OS_StrBreak(',')` into at most `max`
/// pieces (`\,` keeps a comma), each trimmed of leading spaces and cut at the
/// next space; an empty piece is fatal (`None`).
fn parse_fts_keys(text: &[u8], max: usize) -> Option<FtsKeys> {
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    let mut cur = Vec::new();
    let mut prev: Option<u8> = None;
    for &b in text {
        if b == b',' && pieces.len() + 1 < max {
            if prev == Some(b'\\') {
                cur.pop();
                cur.push(b',');
                prev = Some(b',');
                continue;
            }
            pieces.push(std::mem::take(&mut cur));
            prev = Some(b);
            continue;
        }
        cur.push(b);
        prev = Some(b);
    }
    pieces.push(cur);
    let mut keys = FtsKeys::default();
    for p in pieces {
        let start = p.iter().position(|&b| b != b' ').unwrap_or(p.len());
        let word = &p[start..];
        let word = &word[..word.iter().position(|&b| b == b' ').unwrap_or(word.len())];
        if word.is_empty() {
            return None;
        }
        keys.statics |= match word {
            b"user" => 1,
            b"srcip" => 2,
            b"dstip" => 4,
            b"id" => 8,
            b"location" => 16,
            b"data" => 32,
            b"name" => 64,
            _ => {
                keys.dynamic.push(word.to_vec());
                0
            }
        };
    }
    Some(keys)
}

impl<'a> RuleLoader<'a> {
    /// Places a parsed rule (spec rules.md 2.2–2.4).
    fn add(&mut self, rule: Rule) {
        let id = rule.id;
        if rule.overwrite && id >= 10 {
            // The id exists (checked before the elements were read).
            if let Some(&existing) = self.tree.by_id.get(&id) {
                self.overwrite(existing, rule);
            }
            return;
        }
        let ri = self.tree.rules.len();
        self.tree.rules.push(rule);
        self.tree.has_sid_list.push(false);
        self.tree.feeds_groups.push(Vec::new());
        self.tree.nodes_of.push(Vec::new());
        let nodes_before = self.tree.nodes.len();
        if !self.place(ri) {
            // Undo the nodes a rule got before its placement failed (upstream
            // frees the rule and leaves those nodes dangling).
            for n in (nodes_before..self.tree.nodes.len()).rev() {
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

    fn new_node(&mut self, ri: usize, parent: Option<usize>) -> usize {
        let depth = parent.map_or(0, |p| self.tree.nodes[p].depth + 1);
        self.tree.nodes.push(Node { rule: ri, children: Vec::new(), parent, depth });
        let n = self.tree.nodes.len() - 1;
        self.tree.nodes_of[ri].push(n);
        n
    }

    /// Adds rule `ri` as a child of node `parent` (`_OS_AddRule`).
    fn add_child(&mut self, parent: usize, ri: usize) {
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
    fn place(&mut self, ri: usize) -> bool {
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
    fn place_by_sids(&mut self, ri: usize, if_sid: &[u8]) -> bool {
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
    fn category_root(&self, ri: usize) -> Option<usize> {
        let cat = self.tree.rules[ri].category;
        self.tree.roots.iter().copied().find(|&n| self.tree.rules[self.tree.nodes[n].rule].category == cat)
    }

    /// Every node of every rule (other than those with id `id`) that an
    /// `if_group` or `if_level` names (the order of attachment does not
    /// matter: each parent keeps its own sorted child list). Which rules match
    /// a pattern is kept per pattern and extended as rules are added, so a
    /// file of 100,000 `if_group` rules checks each rule once per distinct
    /// pattern instead of once per rule placed.
    fn nodes_matching(&mut self, target: Target, id: u32) -> Vec<usize> {
        let rules = &self.tree.rules;
        let (matched, checked) = self.targets.entry(target.clone()).or_default();
        for (ri, r) in rules.iter().enumerate().skip(*checked) {
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
    fn forget_targets_from(&mut self, ri: usize) {
        for (matched, checked) in self.targets.values_mut() {
            matched.retain(|&x| x < ri);
            *checked = (*checked).min(ri);
        }
    }

    /// The loaded rules with this id: the first definition, then any extra
    /// root templates added by `overwrite="yes"`.
    fn rules_with_id(&self, id: i32) -> Vec<usize> {
        let Ok(id) = u32::try_from(id) else { return Vec::new() };
        let mut v: Vec<usize> = self.tree.by_id.get(&id).copied().into_iter().collect();
        v.extend(self.root_duplicates.iter().copied().filter(|&r| self.tree.rules[r].id == id));
        v
    }

    /// The nodes `if_sid` attaches to (upstream `_AddtoRule` with a sid): the
    /// tree is searched depth-first and, in each sibling list, the first node
    /// with that id takes the child and ends the search *of that list* (its
    /// later siblings and their subtrees are not searched). So a node of rule
    /// `sid` is a target unless it, or one of its ancestors, comes after a node
    /// of `sid` in its own sibling list.
    fn find_sid_targets(&self, sid: i32, placing: usize) -> Vec<usize> {
        // The rule being placed is not in `by_id` yet, but its nodes already added
        // (by an earlier id of the same `if_sid`) are in the tree: `<if_sid>91820,
        // 91821</if_sid>` in rule 91821 makes it a child of itself under 91820.
        let mut candidates = self.rules_with_id(sid);
        if self.tree.rules[placing].id as i64 == sid as i64 {
            candidates.push(placing);
        }
        let t = &self.tree;
        let nodes: Vec<usize> = candidates.iter().flat_map(|&ri| t.nodes_of[ri].iter().copied()).collect();
        // A node can only be blocked by another node of `sid` that sits in the
        // sibling list of one of its ancestors: a lone node never is, and the
        // walk up need not go above the shallowest candidate.
        if nodes.len() <= 1 {
            return nodes;
        }
        let is_sid = |n: usize| t.rules[t.nodes[n].rule].id as i64 == sid as i64;
        let lists: Vec<Option<usize>> = nodes.iter().map(|&n| t.nodes[n].parent).collect();
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

    /// Correlation wiring after placement (spec rules.md 2.3; upstream end of
    /// `Rules_OP_ReadRules`, `OS_MarkID`, `OS_MarkGroup`).
    fn wire(&mut self, ri: usize) {
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
            for target in 0..self.tree.rules.len() {
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

    /// `overwrite="yes"` on an existing rule (`OS_AddRuleInfo`): everything is
    /// replaced — level (but the nodes are not re-sorted), limits, options,
    /// filters, category, every condition, description, groups, MITRE — except
    /// the id, the placement (`if_sid`, `if_group`, `if_level`), the
    /// correlation targets (`if_matched_sid`, `if_matched_group`) and the
    /// search wiring. A different placement or target is warned about (7605).
    fn overwrite(&mut self, existing: usize, new: Rule) {
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

    /// Finalises and returns the tree.
    pub fn finish(self) -> (RuleTree, Vec<Diagnostic>) {
        (self.tree, self.diagnostics)
    }
}

enum SameKind {
    SameId,
    SameSrcip,
    Same(SameField),
    Different(SameField),
}

/// The same_*/different_* elements (names already lower-cased; the
/// case-sensitive ones were checked by the caller).
fn same_field(name: &str) -> Option<SameKind> {
    use StaticField::*;
    Some(match name {
        "same_id" => SameKind::SameId,
        "same_source_ip" | "same_srcip" => SameKind::SameSrcip,
        "different_srcip" | "not_same_source_ip" => SameKind::Different(SameField::Static(Srcip)),
        "different_id" | "not_same_id" => SameKind::Different(SameField::Static(Id)),
        "same_dstip" => SameKind::Same(SameField::Static(Dstip)),
        "different_dstip" => SameKind::Different(SameField::Static(Dstip)),
        "same_src_port" | "same_srcport" => SameKind::Same(SameField::Static(Srcport)),
        "different_src_port" | "different_srcport" => SameKind::Different(SameField::Static(Srcport)),
        "same_dst_port" | "same_dstport" => SameKind::Same(SameField::Static(Dstport)),
        "different_dst_port" | "different_dstport" => SameKind::Different(SameField::Static(Dstport)),
        "same_srcuser" => SameKind::Same(SameField::Static(Srcuser)),
        "different_srcuser" => SameKind::Different(SameField::Static(Srcuser)),
        "same_user" => SameKind::Same(SameField::Static(Dstuser)),
        "different_user" | "not_same_user" => SameKind::Different(SameField::Static(Dstuser)),
        "same_protocol" => SameKind::Same(SameField::Static(Protocol)),
        "different_protocol" => SameKind::Different(SameField::Static(Protocol)),
        "same_action" => SameKind::Same(SameField::Static(Action)),
        "different_action" => SameKind::Different(SameField::Static(Action)),
        "same_url" => SameKind::Same(SameField::Static(Url)),
        "different_url" => SameKind::Different(SameField::Static(Url)),
        "same_data" => SameKind::Same(SameField::Static(Data)),
        "different_data" => SameKind::Different(SameField::Static(Data)),
        "same_extra_data" => SameKind::Same(SameField::Static(ExtraData)),
        "different_extra_data" => SameKind::Different(SameField::Static(ExtraData)),
        "same_status" => SameKind::Same(SameField::Static(Status)),
        "different_status" => SameKind::Different(SameField::Static(Status)),
        "same_system_name" => SameKind::Same(SameField::Static(SystemName)),
        "different_system_name" => SameKind::Different(SameField::Static(SystemName)),
        "same_srcgeoip" => SameKind::Same(SameField::SrcGeoip),
        "different_srcgeoip" => SameKind::Different(SameField::SrcGeoip),
        "same_dstgeoip" => SameKind::Same(SameField::DstGeoip),
        "different_dstgeoip" => SameKind::Different(SameField::DstGeoip),
        "same_location" => SameKind::Same(SameField::Location),
        "different_location" => SameKind::Different(SameField::Location),
        _ => return None,
    })
}

/// `<list field="…">`: the static names (case-insensitive), else a dynamic
/// field whose name is the value without leading spaces, cut at the next space.
fn list_field(field: &[u8], names: &mut FieldNames) -> ListField {
    use StaticField::*;
    let l = field.to_ascii_lowercase();
    match l.as_slice() {
        b"srcip" => ListField::Static(Srcip),
        b"srcport" => ListField::Static(Srcport),
        b"dstip" => ListField::Static(Dstip),
        b"dstport" => ListField::Static(Dstport),
        b"url" => ListField::Static(Url),
        b"id" => ListField::Static(Id),
        b"status" => ListField::Static(Status),
        b"action" => ListField::Static(Action),
        b"system_name" => ListField::Static(SystemName),
        b"protocol" => ListField::Static(Protocol),
        b"data" => ListField::Static(Data),
        b"extra_data" => ListField::Static(ExtraData),
        b"hostname" => ListField::Hostname,
        b"program_name" => ListField::ProgramName,
        b"user" => ListField::User,
        _ => {
            let start = field.iter().position(|&b| b != b' ').unwrap_or(field.len());
            let name = &field[start..];
            let name = &name[..name.iter().position(|&b| b == b' ').unwrap_or(name.len())];
            ListField::Dynamic(names.intern(name))
        }
    }
}

/// Upstream's address patterns (`ip_address_regex` in validate_op.c): IPv4
/// (optionally `::ffff:`-prefixed) with a CIDR or dotted mask, then the IPv6
/// forms with an optional prefix. PCRE2, so `$` also matches before a final
/// newline.
fn ip_patterns() -> &'static [Pcre2] {
    static P: OnceLock<Vec<Pcre2>> = OnceLock::new();
    P.get_or_init(|| {
        const V4: &str =
            r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
        const P6: &str = r"12[0-8]|1[0-1][0-9]|[0-9]?[0-9]";
        let h = "[0-9a-fA-F]{1,4}";
        let mut v = vec![format!(r"^(?:::[fF]{{4}}:)?({V4})(?:/((?:3[0-2]|[1-2]?[0-9])|{V4}))?$")];
        for body in [
            format!("(?:{h}:){{7}}{h}"),
            format!("(?:{h}:){{1,6}}(?::{h}){{1}}"),
            format!("(?:{h}:){{1,5}}(?::{h}){{1,2}}"),
            format!("(?:{h}:){{1,4}}(?::{h}){{1,3}}"),
            format!("(?:{h}:){{1,3}}(?::{h}){{1,4}}"),
            format!("(?:{h}:){{1,2}}(?::{h}){{1,5}}"),
            format!("(?:{h}:){{1}}(?::{h}){{1,6}}"),
            format!("(?:{h}:){{1,7}}:"),
            format!(":(?::{h}){{1,7}}"),
        ] {
            v.push(format!("^({body})(?:/({P6}))?$"));
        }
        v.push("^(::)$".to_string());
        v.into_iter().map(|p| Pcre2::compile(p.as_bytes()).expect("upstream address pattern")).collect()
    })
}

/// `OS_IsValidIP` for a rule's `<srcip>`/`<dstip>`: one leading `!` is
/// skipped (and forgotten), `any` is accepted, otherwise the text must match
/// upstream's patterns exactly (no surrounding spaces).
fn parse_ip(text: &[u8]) -> Option<IpNet> {
    let s = text.strip_prefix(b"!").unwrap_or(text);
    if s == b"any" {
        return Some(IpNet::Any);
    }
    let pats = ip_patterns();
    for (i, re) in pats.iter().enumerate() {
        let Some(caps) = re.captures(s) else { continue };
        let group = |i: usize| caps.get(i).copied().flatten().map(|(a, b)| &s[a..b]);
        let addr = group(1)?;
        let mask = group(2);
        let addr = std::str::from_utf8(addr).ok()?;
        if i == 0 {
            let a = u32::from(addr.parse::<Ipv4Addr>().ok()?);
            let m = match mask {
                None => u32::MAX,
                Some(m) if m.len() <= 2 => {
                    let cidr = atoi(m) as u32;
                    if cidr == 0 {
                        0
                    } else {
                        u32::MAX << (32 - cidr.min(32))
                    }
                }
                Some(m) => u32::from(std::str::from_utf8(m).ok()?.parse::<Ipv4Addr>().ok()?),
            };
            return Some(IpNet::V4 { addr: a & m, mask: m });
        }
        let a = u128::from(addr.parse::<Ipv6Addr>().ok()?);
        let prefix = mask.map_or(128, |m| atoi(m) as u32);
        if prefix > 128 {
            return None;
        }
        let m = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
        return Some(IpNet::V6 { addr: a & m, mask: m });
    }
    None
}

/// `__gethour`: one time of a `<time>` range, from byte `i`. Returns the
/// normalised `HH:MM` and where parsing stopped. Reading past the text reads NUL.
fn get_hour(s: &[u8], mut i: usize) -> Option<(String, usize)> {
    let at = |k: usize| s.get(k).copied().unwrap_or(0);
    let rest = |k: usize| s.get(k..).unwrap_or_default();
    let mut hour = atoi(rest(i));
    if !(0..24).contains(&hour) {
        return None;
    }
    let mut digits = 0;
    while at(i).is_ascii_digit() {
        digits += 1;
        i += 1;
    }
    if digits > 2 {
        return None;
    }
    let mut min = 0;
    if at(i) == b':' {
        i += 1;
        if (!at(i).is_ascii_digit() || !at(i + 1).is_ascii_digit()) && at(i + 2).is_ascii_digit() {
            return None;
        }
        min = atoi(rest(i));
        i += 2;
    }
    while at(i) == b' ' {
        i += 1;
    }
    let fmt = |h: i32, m: i32| {
        let t = format!("{:02}:{:02}", h, m);
        // snprintf into a 7-byte buffer: a longer result is an error.
        (t.len() < 7).then_some(t)
    };
    match at(i) {
        b'a' | b'A' if matches!(at(i + 1), b'm' | b'M') => {
            if hour == 12 {
                hour = 0;
            }
            Some((fmt(hour, min)?, i + 2))
        }
        b'p' | b'P' if matches!(at(i + 1), b'm' | b'M') => {
            if hour == 12 {
                hour = 0;
            }
            hour += 12;
            if hour >= 24 {
                return None;
            }
            Some((fmt(hour, min)?, i + 2))
        }
        b'a' | b'A' | b'p' | b'P' => None,
        _ => Some((fmt(hour, min)?, i)),
    }
}

/// `OS_IsValidTime`: `[!]T1 - T2` with `T` = `H[H][:MM][ am|pm]`, spaces
/// allowed around. A range whose start sorts after its end is stored as the
/// negation of the swapped range (and a `!` given by the user is then lost).
fn parse_time(text: &[u8]) -> Option<TimeRange> {
    let at = |k: usize| text.get(k).copied().unwrap_or(0);
    let mut i = 0;
    let skip = |mut i: usize| {
        while at(i) == b' ' {
            i += 1;
        }
        i
    };
    i = skip(i);
    let mut negate = false;
    if at(i) == b'!' {
        negate = true;
        i = skip(i + 1);
    }
    let (first, j) = get_hour(text, i)?;
    i = skip(j);
    if at(i) != b'-' {
        return None;
    }
    i = skip(i + 1);
    let (second, j) = get_hour(text, i)?;
    i = skip(j);
    if at(i) != 0 {
        return None;
    }
    let spec = if first > second {
        format!("!{second}{first}")
    } else {
        format!("{}{first}{second}", if negate { '!' } else { '.' })
    };
    Some(TimeRange { spec: spec.into_bytes() })
}

/// `OS_IsValidDay`: day names (full or three-letter, any case), `weekdays`,
/// `weekends`, separated by runs of spaces and commas. Each name is matched as
/// a prefix in upstream's table order and must be followed by a separator or
/// the end. A leading `!` is never accepted. Bit i = weekday i (0 = Sunday).
fn parse_weekday(text: &[u8]) -> Option<u8> {
    const DAYS: &[(&[u8], u8)] = &[
        (b"sunday", 1),
        (b"sun", 1),
        (b"monday", 2),
        (b"mon", 2),
        (b"tuesday", 4),
        (b"tue", 4),
        (b"wednesday", 8),
        (b"wed", 8),
        (b"thursday", 16),
        (b"thu", 16),
        (b"friday", 32),
        (b"fri", 32),
        (b"saturday", 64),
        (b"sat", 64),
        (b"weekdays", 2 | 4 | 8 | 16 | 32),
        (b"weekends", 1 | 64),
    ];
    let mut s = text;
    while let [b' ', rest @ ..] = s {
        s = rest;
    }
    let mut bits = 0u8;
    while !s.is_empty() {
        let (name, b) = DAYS.iter().find(|(d, _)| s.len() >= d.len() && s[..d.len()].eq_ignore_ascii_case(d))?;
        bits |= b;
        s = &s[name.len()..];
        match s.first() {
            None => break,
            Some(b' ' | b',') => {
                while let [b' ' | b',', rest @ ..] = s {
                    s = rest;
                }
            }
            Some(_) => return None,
        }
    }
    (bits != 0).then_some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_atoi() {
        assert_eq!(atoi(b"  12abc"), 12);
        assert_eq!(atoi(b"-5"), -5);
        assert_eq!(atoi(b""), 0);
        // strtol saturates at LONG_MAX, the int conversion keeps the low bits.
        assert_eq!(atoi(b"99999999999999999999"), -1);
        assert_eq!(atoi(b"4294967298"), 2);
        assert_eq!(scan_width(b"1234567", 5), Some(12345));
        assert_eq!(scan_width(b"", 5), None);
        assert!(is_num(b"") && is_num(b"007") && !is_num(b"1a") && !is_num(b" 1"));
    }

    #[test]
    fn ip_parsing() {
        let v4 = |s: &str| parse_ip(s.as_bytes());
        let has = |n: IpNet, ip: &str| n.contains(&ip.parse().unwrap());
        let n = v4("10.0.0.0/8").unwrap();
        assert!(has(n, "10.1.2.3") && !has(n, "11.1.2.3"));
        // `!` is dropped: the entry matches inside the network.
        assert_eq!(v4("!192.168.0.0/255.255.0.0"), v4("192.168.0.0/16"));
        // A dotted mask is used bit for bit, even when not contiguous.
        let n = v4("10.0.5.0/255.0.255.0").unwrap();
        assert!(has(n, "10.9.5.7") && !has(n, "10.9.6.7"));
        assert_eq!(v4("10.1.2.3"), Some(IpNet::V4 { addr: 0x0a010203, mask: u32::MAX }));
        assert_eq!(v4("::ffff:10.1.2.3"), v4("10.1.2.3"));
        // PCRE2's `$` accepts one final newline; spaces are not trimmed.
        assert!(v4("10.1.2.3\n").is_some());
        for bad in [" 10.1.2.3", "10.1.2.3 ", "nope", "10.0.0.0/33", "10.0.0.0/08", "010.0.0.1", "1.2.3", "!!1.2.3.4"] {
            assert!(v4(bad).is_none(), "{bad}");
        }
        let n = v4("fe80::/10").unwrap();
        assert!(has(n, "fe80::1") && !has(n, "fe00::1") && !has(n, "10.0.0.1"));
        assert!(v4("2001:db8::1/129").is_none());
        assert_eq!(v4("any"), Some(IpNet::Any));
        assert!(has(IpNet::Any, "::1") && !has(IpNet::Any, "1.2.3.4"));
        assert!(v4("::").is_some() && v4("::1").is_some() && v4("1::").is_some());
    }

    #[test]
    fn time_parsing() {
        let spec = |s: &str| parse_time(s.as_bytes()).map(|t| String::from_utf8(t.spec).unwrap());
        assert_eq!(spec("9 am - 5:30 pm").as_deref(), Some(".09:0017:30"));
        assert_eq!(spec("9am-5:30pm").as_deref(), Some(".09:0017:30"));
        assert_eq!(spec("12 am - 12 pm").as_deref(), Some(".00:0012:00"));
        assert_eq!(spec("! 8-17").as_deref(), Some("!08:0017:00"));
        // start after end: the swapped range negated; a user `!` is lost.
        assert_eq!(spec("18-6").as_deref(), Some("!06:0018:00"));
        assert_eq!(spec("!18-6").as_deref(), Some("!06:0018:00"));
        // Minutes are not range-checked; a lone letter is not am/pm.
        assert_eq!(spec("10:99 - 11").as_deref(), Some(".10:9911:00"));
        // An empty time reads as hour 0 (atoi of nothing).
        assert_eq!(spec("9 - ").as_deref(), Some("!00:0009:00"));
        for bad in ["24-1", "1-13pm", "9 x - 10", "123-1", "9-10 junk", "10:5-11", "\t9-10", "9a-10"] {
            assert!(spec(bad).is_none(), "{bad}");
        }
        let t = parse_time(b"9-17").unwrap();
        assert!(t.is_on(b"17:00") && t.is_on(b"09:00") && !t.is_on(b"17:01") && !t.is_on(b"08:59"));
        let t = parse_time(b"18-6").unwrap();
        assert!(t.is_on(b"05:59") && !t.is_on(b"06:00") && !t.is_on(b"18:00") && t.is_on(b"18:01"));
    }

    #[test]
    fn weekday_parsing() {
        assert_eq!(parse_weekday(b"weekends"), Some(65));
        assert_eq!(parse_weekday(b"Mon, tue  ,WEDNESDAY"), Some(2 | 4 | 8));
        assert_eq!(parse_weekday(b"  sat,"), Some(64));
        for bad in ["!monday", "", " ", ",mon", "mondays", "mon;tue", "mon\ttue"] {
            assert!(parse_weekday(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn fts_key_lists() {
        let k = parse_fts_keys(b"srcip, user ,name,my.field", 256).unwrap();
        assert_eq!(k.statics, 2 | 1 | 64);
        assert_eq!(k.dynamic, vec![b"my.field".to_vec()]);
        assert!(parse_fts_keys(b"srcip,,user", 256).is_none());
        assert!(parse_fts_keys(b"", 256).is_none());
        assert!(parse_fts_keys(b"srcip,", 256).is_none());
        // `src ip` is cut at the space.
        assert_eq!(parse_fts_keys(b"src ip", 256).unwrap().dynamic, vec![b"src".to_vec()]);
    }

    #[test]
    fn list_paths() {
        assert_eq!(list_names("etc/lists/x"), ("etc/lists/x".into(), "etc/lists/x.cdb".into()));
        assert_eq!(list_names("etc/lists/x.cdb"), ("etc/lists/x".into(), "etc/lists/x.cdb".into()));
        assert_eq!(list_names("x"), ("ruleset/rules/x".into(), "ruleset/rules/x.cdb".into()));
    }
}
