//! A `<rule>`'s child elements (the element loop of `Rules_OP_ReadRules`),
//! its `<list>` and `<mitre>` elements, and the compilation of its patterns.

use super::values::{
    atoi, is_num, list_field, list_names, lossy, parse_fts_keys, parse_ip, parse_time, parse_weekday, same_field,
    SameKind,
};
use super::{Parsed, RuleLoader};
use crate::decode::DecoderType;
use crate::diagnostics::{Code, Span};
use crate::lists::Lookup;
use crate::load::xml::Element;
use crate::load::LoadError;
use crate::matcher::{Kind, Matcher, OsMatch, OsRegex};
use crate::rules::{CompiledRule, Cond, IpList, ListCond, ListField, MitreRefs, Rule};

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

/// What the element loop gathers besides the [`Rule`] itself.
#[derive(Default)]
pub(super) struct Elements {
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
pub(super) enum Flow {
    Next,
    /// The rule is dropped (its warning is given); upstream leaves the loop.
    Skip,
}

impl Elements {
    /// The state for a rule of the group named `group_name`.
    pub(super) fn new(group_name: &[u8]) -> Elements {
        Elements { groups: Some(group_name.to_vec()), ..Default::default() }
    }
}

impl RuleLoader<'_> {
    /// One child element of a `<rule>` (the `Rules_OP_ReadRules` element loop).
    pub(super) fn element(&mut self, c: &Element, id: u32, r: &mut Rule, st: &mut Elements) -> Result<Flow, LoadError> {
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
                        .then(invalid_config(c))
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
                    // Upstream fails here without saying why: the words are ours.
                    let msg = format!("rule {id}: <field> needs a name attribute (Wazuh refuses the ruleset silently)");
                    return Err(LoadError::ours(Code::RuleValue, msg).at(self.at(c)));
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
                        return Err(self
                            .fatal(Code::RuleValue, c, format!("Compiled rule not found: '{}'", lossy(other)))
                            .then(invalid_config(c)))
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
                    // Upstream logs this with merror: in its log, not in logtest's messages.
                    other => {
                        let msg = format!("(1273): Invalid category '{}' chosen.", lossy(other));
                        return Err(LoadError::wazuh_log(Code::RuleValue, msg).at(self.at(c)));
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
                    return Err(self
                        .fatal(
                            Code::RuleValue,
                            c,
                            format!("(1235): Invalid value for element 'options': {}.", lossy(other)),
                        )
                        .then(format!("Invalid option '{}' for rule '{}'.", c.name, id)))
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
            return Err(self
                .fatal(Code::RuleValue, c, "List must have a correctly formatted field attribute".into())
                .then(invalid_config(c)));
        }
        let mut lookup = Lookup::MatchKey;
        let mut field: Option<ListField> = None;
        let mut check: Option<OsMatch> = None;
        for (k, v) in &c.attrs {
            if k.eq_ignore_ascii_case("lookup") {
                lookup = Lookup::from_attr(v).ok_or_else(|| {
                    self.fatal(Code::RuleValue, c, invalid_config(c))
                        .then(format!("List match lookup=\"{}\" is not valid.", lossy(v)))
                })?;
            } else if k.eq_ignore_ascii_case("field") {
                field = Some(list_field(v, self.fields));
            } else if k.eq_ignore_ascii_case("check_value") {
                check = Some(OsMatch::compile(v).map_err(|e| {
                    self.fatal(Code::RuleValue, c, invalid_config(c)).then(format!(
                        "(1450): Syntax error on regex: '{}': {}.",
                        lossy(v),
                        e.code()
                    ))
                })?);
            } else {
                return Err(self
                    .fatal(Code::RuleValue, c, format!("List field=\"{}\" is not valid", lossy(v)))
                    .then(invalid_config(c)));
            }
        }
        let Some(field) = field else {
            return Err(self
                .fatal(Code::RuleValue, c, "List requires the field=\"\" attribute".into())
                .then(invalid_config(c)));
        };
        let path = lossy(content);
        let found = self.lists.iter_enumerated().find(|(_, l)| {
            let (txt, cdb) = list_names(&l.name);
            txt == path || cdb == path
        });
        // A list given with --lists also answers to any path of the same file.
        let found = found.or_else(|| {
            let (txt, _) = list_names(&path);
            let canonical = std::fs::canonicalize(&txt).ok()?;
            self.lists.iter_enumerated().find(|(_, l)| l.canonical.as_ref() == Some(&canonical))
        });
        let found = found.map(|(i, _)| i);
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

    /// Post-parse validation, in upstream order, then the compilation of
    /// the rule's patterns (in upstream's order: the first failure is fatal).
    pub(super) fn finish_rule(
        &mut self,
        el: &Element,
        mut r: Rule,
        mut st: Elements,
        mut skip: bool,
        adapt: bool,
    ) -> Result<Parsed, LoadError> {
        let id = r.id;
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

/// `INVALID_CONFIG`: `(1274): Invalid configuration. Element '<name>': <content>.`
fn invalid_config(c: &Element) -> String {
    format!("(1274): Invalid configuration. Element '{}': {}.", c.name, lossy(&c.content))
}
