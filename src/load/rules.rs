//! Rule files → [`RuleTree`] (upstream: src/analysisd/rules.c `Rules_OP_ReadRules`,
//! rules_list.c `OS_AddChild`, `_AddtoRule`, `OS_MarkID`, `OS_MarkGroup`).
//!
//! The quirks reproduced here: repeated text elements are glued together with
//! no separator (two `<if_sid>` 100 and 200 make `100200`); `negate`/`type`
//! of the last occurrence win; placement only sees rules loaded *earlier*; a
//! duplicate id is ignored with a warning unless `overwrite="yes"`, which
//! replaces conditions but keeps tree position and correlation wiring.

use std::net::IpAddr;

use super::xml::{self, Element};
use super::{Diagnostic, LoadError};
use crate::decode::{DecoderType, Decoders};
use crate::event::{FieldNames, StaticField};
use crate::lists::{CdbList, Lookup};
use crate::matcher::{os_match, Kind, Matcher, OsMatch, OsRegex};
use crate::rules::{
    CompiledRule, Cond, IpList, IpNet, ListCond, ListField, MitreRefs, Node, Rule, RuleTree, SameField, Search, TimeRange,
};

/// Builds the rule tree file by file.
pub struct RuleLoader<'a> {
    pub tree: RuleTree,
    pub diagnostics: Vec<Diagnostic>,
    decoders: &'a Decoders,
    lists: &'a [CdbList],
    pub fields: &'a mut FieldNames,
    email_alert_level: u32,
    default_timeframe: u32,
    /// Apply runtests.py's rewrite of rule 60000.
    pub adapt_rule_60000: bool,
    /// Line of the element being read, for fatal messages.
    err_line: u32,
}

/// Why a single rule is dropped (a warning, not fatal).
struct Skip(String);

enum RuleErr {
    Fatal(String),
    Skip(Skip),
}

impl From<Skip> for RuleErr {
    fn from(s: Skip) -> RuleErr {
        RuleErr::Skip(s)
    }
}

/// Accumulates repeated text elements.
#[derive(Default)]
struct Acc {
    text: Vec<u8>,
    negate: bool,
    kind: Option<Kind>,
    set: bool,
}

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

fn digits_prefix(v: &[u8], n: usize) -> Option<u32> {
    let v = &v[..v.len().min(n)];
    let d: Vec<u8> = v.iter().copied().take_while(|b| b.is_ascii_digit()).collect();
    if d.is_empty() {
        return Some(0);
    }
    std::str::from_utf8(&d).ok()?.parse().ok()
}

impl<'a> RuleLoader<'a> {
    pub fn new(decoders: &'a Decoders, lists: &'a [CdbList], fields: &'a mut FieldNames, email_alert_level: u32) -> Self {
        RuleLoader {
            tree: RuleTree::default(),
            diagnostics: Vec::new(),
            decoders,
            lists,
            fields,
            email_alert_level,
            default_timeframe: 360,
            adapt_rule_60000: false,
            err_line: 0,
        }
    }

    /// Loads one rule file.
    pub fn load_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), LoadError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let els = xml::parse(bytes).and_then(xml::apply_variables).map_err(|e| LoadError::Xml {
            file: name.into(),
            line: e.line,
            msg: e.msg,
        })?;
        for g in &els {
            let fatal = |line: u32, msg: String| LoadError::Rule { file: name.into(), line, msg };
            if !g.name.eq_ignore_ascii_case("group") || g.attrs.len() != 1 || !g.attrs[0].0.eq_ignore_ascii_case("name") {
                return Err(fatal(g.line, format!("rules_op: Invalid root element \"{}\". Only \"group\" is allowed.", g.name)));
            }
            if g.children.is_empty() {
                return Err(fatal(g.line, "rules_op: Group without rules.".into()));
            }
            let gname = g.attrs[0].1.clone();
            for r in &g.children {
                if !r.name.eq_ignore_ascii_case("rule") {
                    return Err(fatal(r.line, format!("rules_op: Invalid configuration. '{}' is not a valid element.", r.name)));
                }
                self.err_line = r.line;
                match self.parse_rule(name, r, &gname) {
                    Ok(rule) => self.add(rule),
                    Err(RuleErr::Fatal(m)) => return Err(fatal(self.err_line, m)),
                    Err(RuleErr::Skip(Skip(m))) => self.diagnostics.push(Diagnostic::warning(m, name, r.line)),
                }
            }
        }
        Ok(())
    }

    fn parse_rule(&mut self, file: &str, el: &Element, group_name: &[u8]) -> Result<Rule, RuleErr> {
        let mut r = Rule { file: file.into(), line: el.line, ..Default::default() };
        let mut id: Option<u32> = None;
        let mut level: Option<u32> = None;
        let mut accuracy = 1u32;
        let mut timeframe: Option<u32> = None;
        for (k, v) in &el.attrs {
            let k = k.to_ascii_lowercase();
            let all_digits = !v.is_empty() && v.iter().all(|b| b.is_ascii_digit());
            match k.as_str() {
                "id" => {
                    if !all_digits || v.len() > 6 {
                        return Err(RuleErr::Fatal(format!(
                            "rules_op: Invalid rule id: {}. Must be integer.",
                            String::from_utf8_lossy(v)
                        )));
                    }
                    id = digits_prefix(v, 6);
                }
                "level" => {
                    if all_digits {
                        let l = digits_prefix(v, 6).unwrap_or(99);
                        if l > 16 {
                            return Err(RuleErr::Fatal(format!("rules_op: Invalid level: {}.", l)));
                        }
                        level = Some(l);
                    }
                }
                "frequency" => {
                    let f = if all_digits { digits_prefix(v, 9).unwrap_or(0) } else { 0 };
                    if !(2..=9999).contains(&f) {
                        return Err(RuleErr::Fatal(format!("rules_op: Invalid frequency: {}.", String::from_utf8_lossy(v))));
                    }
                    r.frequency = f;
                }
                "timeframe" => timeframe = digits_prefix(v, 5),
                "ignore" => r.ignore = digits_prefix(v, 6).unwrap_or(0),
                "maxsize" => r.maxsize = digits_prefix(v, 4).unwrap_or(0),
                "accuracy" => accuracy = digits_prefix(v, 4).unwrap_or(1),
                "noalert" => match v.as_slice() {
                    b"1" => r.noalert = true,
                    b"0" => r.noalert = false,
                    _ => self.diagnostics.push(Diagnostic::warning(
                        format!("rules_op: Invalid value for noalert: '{}'.", String::from_utf8_lossy(v)),
                        file,
                        el.line,
                    )),
                },
                "overwrite" => match v.as_slice() {
                    b"yes" => r.overwrite = true,
                    b"no" => r.overwrite = false,
                    _ => return Err(RuleErr::Fatal("rules_op: Invalid value for overwrite.".into())),
                },
                _ => {
                    return Err(RuleErr::Fatal(format!("rules_op: Invalid attribute \"{}\". Only id, level, maxsize, accuracy, noalert and frequency are allowed.", k)));
                }
            }
        }
        let (Some(id), Some(level)) = (id, level) else {
            return Err(RuleErr::Fatal("rules_op: No rule id or level specified for rule.".into()));
        };
        r.id = id;
        r.level = level;
        let adapt = self.adapt_rule_60000 && id == 60000 && file.ends_with("0575-win-base_rules.xml");
        r.timeframe = timeframe.unwrap_or(self.default_timeframe);
        r.internal_level = {
            let l = if level == 0 { 99 } else { level };
            if accuracy != 0 {
                l * 100
            } else {
                l
            }
        };
        r.options.mail = self.email_alert_level <= level;
        r.options.log = true;
        if el.children.is_empty() {
            return Err(RuleErr::Fatal(format!("rules_op: No option for rule '{}'.", id)));
        }
        let mut groups = group_name.to_vec();
        let mut acc: std::collections::HashMap<&'static str, Acc> = std::collections::HashMap::new();
        let mut description: Option<Vec<u8>> = None;
        let mut skip: Option<Skip> = None;
        let mut mitre = MitreRefs::default();
        let mut new_mitre_used = false;
        let mut srcip = IpList::default();
        let mut dstip = IpList::default();
        let mut has_srcip = false;
        let mut has_dstip = false;
        let mut if_sid: Option<String> = None;
        let mut if_group: Option<Vec<u8>> = None;
        let mut if_level: Option<String> = None;
        let mut imgroup: Option<Vec<u8>> = None;
        let mut imregex: Option<Vec<u8>> = None;
        let mut any_same = false;
        for c in &el.children {
            self.err_line = c.line;
            let lname = c.name.to_ascii_lowercase();
            let name: &str = if CASE_SENSITIVE.contains(&lname.as_str()) {
                if c.name != lname {
                    return Err(RuleErr::Fatal(format!("Invalid option '{}' for rule '{}'.", c.name, id)));
                }
                &lname
            } else {
                &lname
            };
            let content = &c.content;
            let negate = || match c.attr("negate") {
                None => Ok(false),
                Some(v) if v.eq_ignore_ascii_case(b"yes") => Ok(true),
                Some(v) if v.eq_ignore_ascii_case(b"no") => Ok(false),
                Some(_) => Err(()),
            };
            let mut text_cond = |key: &'static str, me: &mut Self| {
                let neg = negate().unwrap_or_else(|_| {
                    me.diagnostics.push(Diagnostic::warning(
                        format!("(7600): Invalid value '{}' for attribute 'negate' in rule {}.", String::from_utf8_lossy(c.attr("negate").unwrap_or_default()), id),
                        file,
                        c.line,
                    ));
                    false
                });
                let kind = c.attr("type").and_then(|t| {
                    let k = Kind::from_attr(t);
                    if k.is_none() {
                        me.diagnostics.push(Diagnostic::warning(
                            format!("(7600): Invalid value '{}' for attribute 'type' in rule {}.", String::from_utf8_lossy(t), id),
                            file,
                            c.line,
                        ));
                    }
                    k
                });
                let a = acc.entry(key).or_default();
                a.text.extend_from_slice(content);
                a.negate = neg;
                a.kind = kind;
                a.set = true;
            };
            match name {
                "match" => text_cond("match", self),
                "regex" => text_cond("regex", self),
                "srcport" => text_cond("srcport", self),
                "dstport" => text_cond("dstport", self),
                "user" => text_cond("user", self),
                "srcgeoip" => text_cond("srcgeoip", self),
                "dstgeoip" => text_cond("dstgeoip", self),
                "id" => text_cond("id", self),
                "url" => text_cond("url", self),
                "status" => text_cond("status", self),
                "protocol" => text_cond("protocol", self),
                "data" => text_cond("data", self),
                "extra_data" => text_cond("extra_data", self),
                "system_name" => text_cond("system_name", self),
                "hostname" => text_cond("hostname", self),
                "program_name" => text_cond("program_name", self),
                "location" => text_cond("location", self),
                "action" => text_cond("action", self),
                "decoded_as" => {
                    if !self.decoders.known_names.contains(content.as_slice()) {
                        return Err(RuleErr::Fatal(format!(
                            "rules_op: Invalid decoder name: '{}'.",
                            String::from_utf8_lossy(content)
                        )));
                    }
                    r.decoded_as = Some(content.as_slice().into());
                }
                "category" => {
                    r.category = DecoderType::from_category(content).ok_or_else(|| {
                        RuleErr::Fatal(format!("rules_op: Invalid category '{}' chosen.", String::from_utf8_lossy(content)))
                    })?;
                }
                "field" => {
                    let Some(fname) = c.attr("name") else {
                        return Err(RuleErr::Fatal(format!("rules_op: Field without name in rule {}.", id)));
                    };
                    const STATIC: &[&str] = &[
                        "srcip", "dstip", "srcgeoip", "dstgeoip", "srcport", "dstport", "user", "srcuser", "dstuser", "url",
                        "id", "data", "extra_data", "status", "protocol", "system_name", "action",
                    ];
                    if STATIC.iter().any(|s| s.as_bytes().eq_ignore_ascii_case(fname)) {
                        return Err(RuleErr::Fatal(format!(
                            "rules_op: Field '{}' is static in rule {}.",
                            String::from_utf8_lossy(fname),
                            id
                        )));
                    }
                    let neg = negate().unwrap_or(false);
                    let kind = c.attr("type").and_then(Kind::from_attr).unwrap_or(Kind::OsRegex);
                    let m = Matcher::compile(kind, content, false).map_err(|e| {
                        RuleErr::Fatal(format!("(1452): Syntax error on regex: '{}': {}.", String::from_utf8_lossy(content), e.msg))
                    })?;
                    let fid = self.fields.intern(fname);
                    r.fields.push((fid, Cond { m, negate: neg }));
                }
                "srcip" | "dstip" => {
                    let list = if name == "srcip" { &mut srcip } else { &mut dstip };
                    if name == "srcip" { has_srcip = true } else { has_dstip = true }
                    list.negate = negate().unwrap_or(false);
                    let net = parse_ip(content).ok_or_else(|| {
                        RuleErr::Fatal(format!("rules_op: Invalid IP address: '{}'.", String::from_utf8_lossy(content)))
                    })?;
                    list.nets.push(net);
                }
                "time" => {
                    r.time = Some(parse_time(content).ok_or_else(|| {
                        RuleErr::Fatal(format!("rules_op: Invalid time: '{}'.", String::from_utf8_lossy(content)))
                    })?)
                }
                "weekday" => {
                    r.weekday = Some(parse_weekday(content).ok_or_else(|| {
                        RuleErr::Fatal(format!("rules_op: Invalid week day: '{}'.", String::from_utf8_lossy(content)))
                    })?)
                }
                "list" => {
                    let Some(field) = c.attr_ci("field") else {
                        return Err(RuleErr::Fatal(format!("rules_op: List without field in rule {}.", id)));
                    };
                    let lookup = match c.attr_ci("lookup") {
                        None => Lookup::MatchKey,
                        Some(l) => Lookup::from_attr(l).ok_or_else(|| {
                            RuleErr::Fatal(format!("rules_op: Invalid lookup '{}'.", String::from_utf8_lossy(l)))
                        })?,
                    };
                    let check = match c.attr_ci("check_value") {
                        None => None,
                        Some(p) => Some(OsMatch::compile(p).map_err(|e| RuleErr::Fatal(format!("rules_op: invalid check_value: {e}")))?),
                    };
                    let lf = list_field(field, self.fields);
                    let path = String::from_utf8_lossy(content).into_owned();
                    match self.lists.iter().position(|l| l.name == path || format!("{}.cdb", l.name) == path) {
                        Some(list) => r.lists.push(ListCond { field: lf, lookup, check, list }),
                        None => {
                            skip.get_or_insert(Skip(format!("(7616): List '{}' could not be loaded. Rule '{}' will be ignored.", path, id)));
                        }
                    }
                }
                "compiled_rule" => {
                    r.compiled = Some(match content.as_slice() {
                        b"comp_srcuser_dstuser" => CompiledRule::SrcuserDstuser,
                        b"check_id_size" => CompiledRule::CheckIdSize,
                        b"comp_mswin_targetuser_calleruser_diff" => CompiledRule::MswinTargetCaller,
                        b"is_simple_http_request" => CompiledRule::SimpleHttpRequest,
                        b"is_valid_crawler" => CompiledRule::ValidCrawler,
                        other => {
                            return Err(RuleErr::Fatal(format!(
                                "rules_op: Invalid compiled rule: {}.",
                                String::from_utf8_lossy(other)
                            )))
                        }
                    })
                }
                "if_fts" => r.if_fts = true,
                "check_diff" => r.check_diff = true,
                "description" => {
                    let d = description.get_or_insert_with(Vec::new);
                    let mut frag = content.clone();
                    if let Some(p) = frag.iter().position(|&b| b == b'\n') {
                        frag[p] = b' ';
                    }
                    d.extend_from_slice(&frag);
                }
                "group" => groups.extend_from_slice(content),
                "info" => {
                    let t = c.attr("type").map(|t| t.to_vec()).unwrap_or_else(|| b"text".to_vec());
                    r.info.push((t, content.clone()));
                }
                "cve" => r.cve.extend_from_slice(content),
                "options" => match content.as_slice() {
                    b"alert_by_email" => r.options.mail = true,
                    b"no_email_alert" => {
                        r.options.mail = false;
                        r.options.no_counter = false;
                    }
                    b"log_alert" => r.options.log = true,
                    b"no_log" => {
                        r.options.log = false;
                        r.options.no_counter = false;
                    }
                    b"no_ar" => r.options.no_ar = true,
                    b"no_full_log" => r.options.no_full_log = true,
                    b"no_counter" => r.options.no_counter = true,
                    other => {
                        return Err(RuleErr::Fatal(format!("rules_op: Invalid option '{}'.", String::from_utf8_lossy(other))))
                    }
                },
                "mitre" => self.parse_mitre(c, id, file, &mut mitre, &mut new_mitre_used),
                "if_sid" => if_sid.get_or_insert_with(String::new).push_str(&String::from_utf8_lossy(content)),
                "if_group" => if_group.get_or_insert_with(Vec::new).extend_from_slice(content),
                "if_level" => if_level.get_or_insert_with(String::new).push_str(&String::from_utf8_lossy(content)),
                "if_matched_sid" => {
                    if content.is_empty() || !content.iter().all(|b| b.is_ascii_digit()) {
                        skip.get_or_insert(Skip(format!("(7615): Invalid 'if_matched_sid' value: '{}'. Rule '{}' will be ignored.", String::from_utf8_lossy(content), id)));
                    } else {
                        r.if_matched_sid = digits_prefix(content, 9);
                    }
                }
                "if_matched_group" => imgroup.get_or_insert_with(Vec::new).extend_from_slice(content),
                "if_matched_regex" => imregex.get_or_insert_with(Vec::new).extend_from_slice(content),
                "same_field" | "different_field" | "not_same_field" => {
                    let fid = self.fields.intern(content.trim_ascii());
                    if name == "same_field" {
                        r.same_fields.push(fid)
                    } else {
                        r.different_fields.push(fid)
                    }
                    any_same = true;
                }
                "global_frequency" => {
                    r.global_frequency = true;
                    any_same = true;
                }
                "same_agent" | "not_same_agent" => {
                    self.diagnostics.push(Diagnostic::warning(
                        format!("Detected a deprecated field option for rule, {} is not longer available.", name),
                        file,
                        c.line,
                    ));
                }
                "ignore" | "check_if_ignored" => {}
                other => {
                    if let Some(sf) = same_field(other) {
                        any_same = true;
                        match sf {
                            SameKind::SameId => r.same_id = true,
                            SameKind::SameSrcip => r.same_srcip = true,
                            SameKind::Same(f) => r.same.push(f),
                            SameKind::Different(f) => r.different.push(f),
                        }
                    } else {
                        return Err(RuleErr::Fatal(format!("Invalid option '{}' for rule '{}'.", c.name, id)));
                    }
                }
            }
        }
        self.err_line = el.line;
        // Compile the accumulated text conditions.
        let mut take = |key: &str, default: Kind| -> Result<Option<Cond>, RuleErr> {
            let Some(a) = acc.remove(key) else { return Ok(None) };
            if !a.set {
                return Ok(None);
            }
            let kind = a.kind.unwrap_or(default);
            let m = Matcher::compile(kind, &a.text, false).map_err(|e| {
                RuleErr::Fatal(format!("(1452): Syntax error on regex: '{}': {}.", String::from_utf8_lossy(&a.text), e.msg))
            })?;
            Ok(Some(Cond { m, negate: a.negate }))
        };
        r.match_ = take("match", Kind::OsMatch)?;
        r.regex = take("regex", Kind::OsRegex)?;
        r.srcport = take("srcport", Kind::OsMatch)?;
        r.dstport = take("dstport", Kind::OsMatch)?;
        r.user = take("user", Kind::OsMatch)?;
        r.srcgeoip = take("srcgeoip", Kind::OsMatch)?;
        r.dstgeoip = take("dstgeoip", Kind::OsMatch)?;
        r.id_cond = take("id", Kind::OsMatch)?;
        r.url = take("url", Kind::OsMatch)?;
        r.status = take("status", Kind::OsMatch)?;
        r.protocol = take("protocol", Kind::OsMatch)?;
        r.data = take("data", Kind::OsMatch)?;
        r.extra_data = take("extra_data", Kind::OsMatch)?;
        r.system_name = take("system_name", Kind::OsMatch)?;
        r.hostname = take("hostname", Kind::OsMatch)?;
        r.program_name = take("program_name", Kind::OsMatch)?;
        r.location = take("location", Kind::OsMatch)?;
        r.action = take("action", Kind::Exact)?;
        if has_srcip {
            r.srcip = Some(srcip);
        }
        if has_dstip {
            r.dstip = Some(dstip);
        }
        if let Some(g) = imgroup {
            r.if_matched_group = Some(OsMatch::compile(&g).map_err(|e| RuleErr::Fatal(format!("(1452): Syntax error on regex: {e}.")))?);
            r.if_matched_group_text = Some(g);
        }
        if let Some(rx) = imregex {
            r.if_matched_regex = Some(OsRegex::compile(&rx, false).map_err(|e| {
                RuleErr::Fatal(format!("(1452): Syntax error on regex: '{}': {e}.", String::from_utf8_lossy(&rx)))
            })?);
        }
        if adapt {
            r.decoded_as = Some((*b"json").into());
            r.category = DecoderType::Syslog;
        }
        groups.retain(|&b| b != b'\n');
        r.groups = groups;
        r.mitre = mitre;

        // Post-parse validation (spec rules.md 1.6), in order.
        if let Some(s) = &if_sid {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b',' || b == b' ') {
                return Err(Skip(format!("(7618): Invalid 'if_sid' value: '{}'. Rule '{}' will be ignored.", s, id)).into());
            }
        }
        if let Some(l) = &if_level {
            if l.trim().parse::<u32>().map(|v| v == 0).unwrap_or(true) {
                skip.get_or_insert(Skip(format!("(7609): Invalid 'if_level' value: '{}'. Rule '{}' will be ignored.", l, id)));
            }
        }
        if let Some(s) = skip {
            return Err(s.into());
        }
        let Some(description) = description else {
            return Err(RuleErr::Fatal(format!("rules_op: No description for rule '{}'.", id)));
        };
        r.description = description;
        let has_if_matched = r.if_matched_sid.is_some() || r.if_matched_group.is_some() || r.if_matched_regex.is_some() || r.check_diff;
        if (r.frequency > 2 || any_same) && !has_if_matched {
            return Err(RuleErr::Fatal(format!(
                "rules_op: Invalid use of frequency/context options. Missing if_matched on rule '{}'.",
                id
            )));
        }
        if r.if_matched_group.is_some() && !r.overwrite && if_sid.is_none() && if_group.is_none() {
            if_group = r.if_matched_group_text.clone();
        }
        if let Some(s) = r.if_matched_sid {
            if !r.overwrite && if_sid.is_none() && if_group.is_none() {
                if_sid = Some(s.to_string());
            }
        }
        r.if_sid = if_sid;
        r.if_group = if_group;
        r.if_level = if_level;
        Ok(r)
    }

    fn parse_mitre(&mut self, c: &Element, id: u32, file: &str, mitre: &mut MitreRefs, new_used: &mut bool) {
        let mut ids = Vec::new();
        let mut tactics = Vec::new();
        let mut techniques = Vec::new();
        for m in &c.children {
            let v = String::from_utf8_lossy(&m.content).into_owned();
            match m.name.to_ascii_lowercase().as_str() {
                "id" => ids.push(v),
                "tacticid" => tactics.push(v),
                "techniqueid" => techniques.push(v),
                _ => {
                    self.diagnostics.push(Diagnostic::error(
                        format!("Invalid option '{}' for rule '{}'", m.name, id),
                        file,
                        m.line,
                    ));
                    return;
                }
            }
        }
        if c.children.is_empty() || ids.iter().chain(&tactics).chain(&techniques).any(|v| v.is_empty()) {
            self.diagnostics.push(Diagnostic::warning(format!("Empty Mitre information for rule '{}'", id), file, c.line));
            return;
        }
        if !ids.is_empty() && (!tactics.is_empty() || !techniques.is_empty()) {
            self.diagnostics.push(Diagnostic::warning(format!("Mixed Mitre formats for rule '{}'", id), file, c.line));
            return;
        }
        if !ids.is_empty() {
            if *new_used {
                return;
            }
            for i in ids {
                if !mitre.ids.contains(&i) {
                    mitre.ids.push(i);
                }
            }
        } else {
            if tactics.len() != 1 || techniques.len() != 1 {
                self.diagnostics.push(Diagnostic::warning(format!("Invalid Mitre information for rule '{}'", id), file, c.line));
                return;
            }
            *new_used = true;
            mitre.ids.clear();
            let pair = (tactics.remove(0), techniques.remove(0));
            if !mitre.pairs.contains(&pair) {
                mitre.pairs.push(pair);
            }
        }
    }

    /// Places a parsed rule (spec rules.md 2.2–2.4).
    fn add(&mut self, rule: Rule) {
        let (file, line, id) = (rule.file.clone(), rule.line, rule.id);
        if let Some(&existing) = self.tree.by_id.get(&id) {
            if rule.overwrite {
                self.overwrite(existing, rule);
            } else {
                self.diagnostics.push(Diagnostic::warning(
                    format!("(7612): Rule ID '{}' is duplicated. Only the first occurrence will be considered.", id),
                    &file,
                    line,
                ));
            }
            return;
        }
        if rule.overwrite {
            self.diagnostics.push(Diagnostic::warning(
                format!("(7613): Rule ID '{}' does not exist but 'overwrite' is set to 'yes'. Still, the rule will be loaded.", id),
                &file,
                line,
            ));
        }
        let ri = self.tree.rules.len();
        self.tree.rules.push(rule);
        self.tree.has_sid_list.push(false);
        self.tree.feeds_groups.push(Vec::new());
        self.tree.nodes_of.push(Vec::new());
        let placed = self.place(ri);
        if !placed {
            // A rule that found no parent never got a node.
            self.tree.rules.pop();
            self.tree.has_sid_list.pop();
            self.tree.feeds_groups.pop();
            self.tree.nodes_of.pop();
            return;
        }
        self.tree.by_id.insert(id, ri);
        self.wire(ri);
    }

    fn new_node(&mut self, ri: usize, parent: Option<usize>) -> usize {
        self.tree.nodes.push(Node { rule: ri, children: Vec::new(), parent });
        let n = self.tree.nodes.len() - 1;
        self.tree.nodes_of[ri].push(n);
        n
    }

    /// Adds rule `ri` as a child of node `parent`.
    fn add_child(&mut self, parent: usize, ri: usize) {
        let n = self.new_node(ri, Some(parent));
        let mut children = std::mem::take(&mut self.tree.nodes[parent].children);
        RuleTree::insert_sorted(&self.tree.rules, &self.tree.nodes, &mut children, n);
        self.tree.nodes[parent].children = children;
    }

    fn place(&mut self, ri: usize) -> bool {
        let (id, file, line) = { let r = &self.tree.rules[ri]; (r.id, r.file.clone(), r.line) };
        if id < 10 {
            let n = self.new_node(ri, None);
            let mut roots = std::mem::take(&mut self.tree.roots);
            RuleTree::insert_sorted(&self.tree.rules, &self.tree.nodes, &mut roots, n);
            self.tree.roots = roots;
            return true;
        }
        if let Some(if_sid) = self.tree.rules[ri].if_sid.clone() {
            let mut found_any = false;
            let mut trailing_empty = false;
            let parts: Vec<&str> = if_sid.split([',', ' ']).collect();
            let mut seen_sep_last = false;
            for (i, p) in parts.iter().enumerate() {
                if p.is_empty() {
                    if i == parts.len() - 1 && i > 0 {
                        seen_sep_last = true;
                    }
                    continue;
                }
                let Ok(sid) = p.parse::<u32>() else { continue };
                let targets = self.find_sid_targets(sid, ri);
                if targets.is_empty() {
                    self.diagnostics.push(Diagnostic::warning(
                        format!("(7617): Signature ID '{}' was not found and will be ignored in the 'if_sid' option of rule '{}'.", sid, id),
                        &file,
                        line,
                    ));
                    continue;
                }
                found_any = true;
                for t in targets {
                    let cat = self.tree.rules[self.tree.nodes[t].rule].category;
                    self.tree.rules[ri].category = cat;
                    self.add_child(t, ri);
                }
            }
            trailing_empty |= seen_sep_last;
            if trailing_empty {
                self.place_by_category(ri);
                found_any = true;
            }
            if !found_any {
                self.diagnostics.push(Diagnostic::warning(
                    format!("(7619): Empty 'if_sid' value. Rule '{}' will be ignored.", id),
                    &file,
                    line,
                ));
                return false;
            }
            if let Some(ms) = self.tree.rules[ri].if_matched_sid {
                if !self.tree.by_id.contains_key(&ms) {
                    self.diagnostics.push(Diagnostic::warning(
                        format!("(7620): Signature ID '{}' was not found. Invalid 'if_matched_sid'.Rule '{}' will be ignored.", ms, id),
                        &file,
                        line,
                    ));
                    return false;
                }
            }
            return true;
        }
        if let Some(l) = self.tree.rules[ri].if_level.clone() {
            let lvl: u32 = l.trim().parse().unwrap_or(0) * 100;
            let targets = self.nodes_where(|r| r.internal_level >= lvl && r.id != id);
            if targets.is_empty() {
                self.diagnostics.push(Diagnostic::warning(format!("(7608): Level ID '{}' was not found. Invalid 'if_level'. Rule '{}' will be ignored.", lvl, id), &file, line));
                return false;
            }
            for t in targets {
                self.add_child(t, ri);
            }
            return true;
        }
        if let Some(g) = self.tree.rules[ri].if_group.clone() {
            let targets = self.nodes_where(|r| r.id != id && os_match::word_match(&g, &r.groups));
            if targets.is_empty() {
                self.diagnostics.push(Diagnostic::warning(
                    format!("(7610): Group '{}' was not found. Invalid 'if_group'. Rule '{}' will be ignored.", String::from_utf8_lossy(&g), id),
                    &file,
                    line,
                ));
                return false;
            }
            for t in targets {
                self.add_child(t, ri);
            }
            return true;
        }
        if !self.place_by_category(ri) {
            self.diagnostics.push(Diagnostic::warning(
                format!("(7611): Category was not found. Invalid 'category'. Rule '{}' will be ignored.", id),
                &file,
                line,
            ));
            return false;
        }
        true
    }

    fn place_by_category(&mut self, ri: usize) -> bool {
        let cat = self.tree.rules[ri].category;
        let root = self.tree.roots.iter().copied().find(|&n| self.tree.rules[self.tree.nodes[n].rule].category == cat);
        match root {
            Some(n) => {
                self.add_child(n, ri);
                true
            }
            None => false,
        }
    }

    /// Every node of every rule that satisfies `pred` (the order of attachment
    /// does not matter: each parent keeps its own sorted child list).
    fn nodes_where(&self, pred: impl Fn(&Rule) -> bool) -> Vec<usize> {
        let mut out = Vec::new();
        for (ri, r) in self.tree.rules.iter().enumerate() {
            if pred(r) {
                out.extend_from_slice(&self.tree.nodes_of[ri]);
            }
        }
        out
    }

    /// The nodes `if_sid` attaches to (upstream `_AddtoRule` with a sid): the
    /// tree is searched depth-first and, in each sibling list, the first node
    /// with that id takes the child and ends the search *of that list* (its
    /// later siblings and their subtrees are not searched). So a node of rule
    /// `sid` is a target unless it, or one of its ancestors, comes after a node
    /// of `sid` in its own sibling list.
    fn find_sid_targets(&self, sid: u32, placing: usize) -> Vec<usize> {
        // The rule being placed is not in `by_id` yet, but its nodes already added
        // (by an earlier id of the same `if_sid`) are in the tree: `<if_sid>91820,
        // 91821</if_sid>` in rule 91821 makes it a child of itself under 91820.
        let ri = if self.tree.rules[placing].id == sid {
            placing
        } else {
            match self.tree.by_id.get(&sid) {
                Some(&ri) => ri,
                None => return Vec::new(),
            }
        };
        let t = &self.tree;
        t.nodes_of[ri]
            .iter()
            .copied()
            .filter(|&n| {
                let mut cur = n;
                loop {
                    let list = match t.nodes[cur].parent {
                        Some(p) => &t.nodes[p].children,
                        None => &t.roots,
                    };
                    let shadowed = list.iter().take_while(|&&x| x != cur).any(|&x| t.rules[t.nodes[x].rule].id == sid);
                    if shadowed {
                        return false;
                    }
                    match t.nodes[cur].parent {
                        Some(p) => cur = p,
                        None => return true,
                    }
                }
            })
            .collect()
    }

    /// Correlation wiring at load time (spec rules.md 2.3).
    fn wire(&mut self, ri: usize) {
        let r = &self.tree.rules[ri];
        if r.check_diff {
            return;
        }
        if let Some(ms) = r.if_matched_sid {
            if let Some(&target) = self.tree.by_id.get(&ms) {
                self.tree.has_sid_list[target] = true;
                self.tree.rules[ri].search = Some(Search::Sid(target));
            }
        } else if let Some(g) = r.if_matched_group.clone() {
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
        } else if r.if_matched_regex.is_some() {
            self.tree.rules[ri].search = Some(Search::Event);
        }
    }

    /// `overwrite="yes"` on an existing rule: replace conditions and metadata,
    /// keep id, tree positions, parents and correlation wiring.
    fn overwrite(&mut self, existing: usize, new: Rule) {
        let old = &mut self.tree.rules[existing];
        for (what, a, b) in [
            ("if_sid", old.if_sid.clone(), new.if_sid.clone()),
            ("if_level", old.if_level.clone(), new.if_level.clone()),
        ] {
            if a != b && b.is_some() {
                self.diagnostics.push(Diagnostic::warning(
                    format!("(7605): It is not possible to overwrite '{}' value in rule '{}'. The original value is retained.", what, old.id),
                    &new.file,
                    new.line,
                ));
            }
        }
        let keep = Rule {
            id: old.id,
            internal_level: old.internal_level,
            if_sid: old.if_sid.take(),
            if_group: old.if_group.take(),
            if_level: old.if_level.take(),
            if_matched_sid: old.if_matched_sid,
            if_matched_group: old.if_matched_group.take(),
            if_matched_group_text: old.if_matched_group_text.take(),
            search: old.search,
            ..Default::default()
        };
        *old = new;
        old.id = keep.id;
        old.internal_level = keep.internal_level;
        old.if_sid = keep.if_sid;
        old.if_group = keep.if_group;
        old.if_level = keep.if_level;
        old.if_matched_sid = keep.if_matched_sid;
        old.if_matched_group = keep.if_matched_group;
        old.if_matched_group_text = keep.if_matched_group_text;
        old.search = keep.search;
        old.overwrite = false;
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
            let name = field.trim_ascii_start();
            let name = name.split(|&b| b == b' ').next().unwrap_or(name);
            ListField::Dynamic(names.intern(name))
        }
    }
}

/// `[!]ADDR[/CIDR|/MASK]` (the `!` is accepted and ignored, as upstream).
fn parse_ip(text: &[u8]) -> Option<IpNet> {
    let s = std::str::from_utf8(text).ok()?.trim();
    let s = s.strip_prefix('!').unwrap_or(s);
    let (a, m) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let addr: IpAddr = a.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match m {
        None => max,
        Some(m) => {
            if let Ok(p) = m.parse::<u8>() {
                if p > max {
                    return None;
                }
                p
            } else {
                let mask: std::net::Ipv4Addr = m.parse().ok()?;
                u32::from(mask).count_ones() as u8
            }
        }
    };
    Some(IpNet { addr, prefix })
}

/// `HH[:MM][ am|pm] - HH[:MM][ am|pm]`, optional leading `!`.
fn parse_time(text: &[u8]) -> Option<TimeRange> {
    let s = std::str::from_utf8(text).ok()?.trim();
    let (neg, s) = match s.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (a, b) = s.split_once('-')?;
    let one = |t: &str| -> Option<[u8; 5]> {
        let t = t.trim().to_ascii_lowercase();
        let (t, pm, am) = if let Some(x) = t.strip_suffix("pm") {
            (x.trim().to_string(), true, false)
        } else if let Some(x) = t.strip_suffix("am") {
            (x.trim().to_string(), false, true)
        } else {
            (t, false, false)
        };
        let (h, m) = match t.split_once(':') {
            Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
            None => (t.parse::<u32>().ok()?, 0),
        };
        let mut h = h;
        if pm && h < 12 {
            h += 12;
        }
        if am && h == 12 {
            h = 0;
        }
        if h > 23 || m > 59 {
            return None;
        }
        let v = format!("{:02}:{:02}", h, m);
        let mut out = [0u8; 5];
        out.copy_from_slice(v.as_bytes());
        Some(out)
    };
    let (start, end) = (one(a)?, one(b)?);
    if start > end {
        Some(TimeRange { start: end, end: start, negate: true })
    } else {
        Some(TimeRange { start, end, negate: neg })
    }
}

fn parse_weekday(text: &[u8]) -> Option<u8> {
    let s = std::str::from_utf8(text).ok()?.to_ascii_lowercase();
    let mut bits = 0u8;
    for w in s.split([',', ' ']).filter(|w| !w.is_empty()) {
        bits |= match w {
            "sunday" | "sun" => 1,
            "monday" | "mon" => 2,
            "tuesday" | "tue" => 4,
            "wednesday" | "wed" => 8,
            "thursday" | "thu" => 16,
            "friday" | "fri" => 32,
            "saturday" | "sat" => 64,
            "weekdays" => 2 | 4 | 8 | 16 | 32,
            "weekends" => 1 | 64,
            _ => return None,
        };
    }
    if bits == 0 {
        None
    } else {
        Some(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_parsing() {
        let n = parse_ip(b"10.0.0.0/8").unwrap();
        assert!(n.contains(&"10.1.2.3".parse().unwrap()));
        assert!(!n.contains(&"11.1.2.3".parse().unwrap()));
        let n = parse_ip(b"!192.168.0.0/255.255.0.0").unwrap();
        assert_eq!(n.prefix, 16);
        assert!(parse_ip(b"nope").is_none());
    }

    #[test]
    fn time_parsing() {
        let t = parse_time(b"9 am - 5:30 pm").unwrap();
        assert_eq!(&t.start, b"09:00");
        assert_eq!(&t.end, b"17:30");
        let t = parse_time(b"18-6").unwrap();
        assert!(t.negate);
        assert_eq!(parse_weekday(b"weekends"), Some(65));
        assert!(parse_weekday(b"!monday").is_none());
    }
}
