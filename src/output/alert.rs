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
pub(crate) fn format_timestamp(secs: i64, nanos: u32) -> String {
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
    /// `manager.name`, and `agent.name` of manager-local events.
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
    // GeoIP builds with `analysisd.geoip_jsonout=1` only.
    if p.geoip_jsonout {
        if let Some(g) = &ev.srcgeoip {
            root.push((key("srcgeoip"), s(g)));
        }
        if let Some(g) = &ev.dstgeoip {
            root.push((key("dstgeoip"), s(g)));
        }
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
    if let Some(a) = agentless(&ev.location, &ev.agent_id) {
        root.push((key("agentless"), a));
        root.retain(|(k, _)| k != b"agent");
    }
    if rule.is_some_and(|r| r.groups.split(|&b| b == b',').any(|g| g == b"rootcheck")) {
        if let Some((_, Json::Object(r))) = root.iter_mut().find(|(k, _)| k == b"rule") {
            rootcheck_compliance(&ev.full_log, r);
        }
    }
    Json::Object(root)
}

/// `agent.ip` for `(name) ip->location` locations: from two bytes after the first `)`
/// up to the next `-` (upstream `W_JSON_ParseAgentIP`); omitted when `any`.
fn agent_ip(location: &[u8]) -> Option<&[u8]> {
    let i = location.iter().position(|&b| b == b')')? + 2;
    let rest = location.get(i..).unwrap_or_default();
    let end = rest.iter().position(|&b| b == b'-').unwrap_or(rest.len());
    let ip = &rest[..end];
    if ip == b"any" {
        None
    } else {
        Some(ip)
    }
}

/// `(script) user@host->location` from agent 000: the `agentless` object
/// (upstream `W_JSON_ParseAgentless`), which replaces `agent`.
fn agentless(location: &[u8], agent_id: &[u8]) -> Option<Json> {
    if location.first() != Some(&b'(') || agent_id != b"000" {
        return None;
    }
    let script_end = location.windows(2).position(|w| w == b") ")?;
    let script = &location[1..script_end];
    let rest = &location[script_end + 2..];
    let at = rest.iter().position(|&b| b == b'@')?;
    let user = &rest[..at];
    let rest = &rest[at + 1..];
    let host = &rest[..rest.windows(2).position(|w| w == b"->")?];
    Some(Json::Object(vec![(key("script"), s(script)), (key("user"), s(user)), (key("host"), s(host))]))
}

/// Compliance arrays that rootcheck events carry in their text, e.g.
/// `{PCI_DSS: 2.2.4, 2.2.5}` (upstream `W_JSON_ParseRootcheck`, for rules in the
/// `rootcheck` group): appended to `rule` as `"pci_dss":["2.2.4","2.2.5"]`.
fn rootcheck_compliance(full_log: &[u8], rule: &mut Obj) {
    let text = &full_log[..full_log.len().min(1023)];
    let is_key = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let is_val = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b',' | b' ');
    let mut found = 0;
    let mut i = 0;
    // Leftmost matches of `\{([A-Za-z0-9_]*: [A-Za-z0-9_., ]*)\}`, at most 10.
    while i < text.len() && found < 10 {
        if text[i] != b'{' {
            i += 1;
            continue;
        }
        let k_end = i + 1 + text[i + 1..].iter().take_while(|&&b| is_key(b)).count();
        if text.get(k_end..k_end + 2) != Some(b": ") {
            i += 1;
            continue;
        }
        let v_end = k_end + 2 + text[k_end + 2..].iter().take_while(|&&b| is_val(b)).count();
        if text.get(v_end) != Some(&b'}') {
            i += 1;
            continue;
        }
        let name = String::from_utf8_lossy(text[i + 1..k_end].trim_ascii()).to_ascii_lowercase();
        let values = text[k_end + 1..v_end]
            .split(|&b| b == b',')
            .map(|v| v.trim_ascii())
            .filter(|v| !v.is_empty())
            .map(s)
            .collect();
        rule.push((name.into_bytes(), Json::Array(values)));
        found += 1;
        i = v_end + 1;
    }
}

fn rule_json(
    rs: &Ruleset,
    ri: crate::index::RuleIdx,
    r: &crate::rules::Rule,
    p: &Processed,
    ctx: &AlertContext<'_>,
) -> Json {
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
            Json::Object(vec![
                (key("id"), arr(&m.id)),
                (key("tactic"), arr(&m.tactic)),
                (key("technique"), arr(&m.technique)),
            ]),
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
pub(crate) fn data_json(ev: &Event) -> Obj {
    let mut o: Obj = Vec::new();
    for f in StaticField::ALL {
        if let Some(v) = ev.get_static(f) {
            o.push((key(f.name()), s(v)));
        }
    }
    // Fields come in document order, so a path mostly shares its leading segments with the
    // previous one: those are not looked up again (a segment equal byte for byte finds the same
    // member, and members are only ever appended).
    let mut prev: Vec<(&[u8], usize)> = Vec::new();
    for (name, value) in ev.dynamic.iter() {
        if value.is_empty() {
            continue;
        }
        let value = if value.first() == Some(&b'[') {
            json::parse_complete(value).unwrap_or_else(|| s(value))
        } else {
            s(value)
        };
        insert_path(&mut o, name, value, &mut prev);
    }
    o
}

/// Inserts `value` at the dotted `path` (upstream `W_JSON_AddField`): each segment names the
/// first member with that name ignoring ASCII case, created as an object if missing; a
/// segment that names a non-object, or a leaf that exists already, drops the value.
/// `prev` holds the previous path's object segments and their member indices.
fn insert_path<'p>(o: &mut Obj, path: &'p [u8], value: Json, prev: &mut Vec<(&'p [u8], usize)>) {
    let mut cur = o;
    let mut rest = path;
    let mut depth = 0;
    loop {
        let Some(dot) = memchr::memchr(b'.', rest) else {
            // The leaf.
            if !cur.iter().any(|(k, _)| k.eq_ignore_ascii_case(rest)) {
                cur.push((rest.to_vec(), value));
            }
            prev.truncate(depth);
            return;
        };
        let head = &rest[..dot];
        rest = &rest[dot + 1..];
        let index = match prev.get(depth) {
            Some(&(seg, i)) if seg == head => i,
            _ => {
                prev.truncate(depth);
                let i = match cur.iter().position(|(k, _)| k.eq_ignore_ascii_case(head)) {
                    Some(i) => i,
                    None => {
                        cur.push((head.to_vec(), Json::Object(Vec::new())));
                        cur.len() - 1
                    }
                };
                prev.push((head, i));
                i
            }
        };
        match &mut cur[index].1 {
            Json::Object(child) => cur = child,
            _ => {
                prev.truncate(depth);
                return;
            }
        }
        depth += 1;
    }
}

/// The logtest reply's `data` object. analysisd adds `messages` when it
/// first flushes its message list: right after creating (or failing to find)
/// the session, so those messages (`before`) come first; messages that only
/// processing gave (`after`, e.g. a MITRE technique missing from the
/// database) are flushed after `output` and `rules_debug`. Each flush holds at
/// most 50 messages (the caller cuts them).
pub fn logtest_response(
    output: Json,
    token: &str,
    before: &[String],
    after: &[String],
    rules_debug: Option<&[String]>,
    alert: bool,
) -> Json {
    let mut o: Obj = Vec::new();
    let all = || before.iter().chain(after);
    let codemsg = if all().any(|m| m.starts_with("ERROR")) {
        -1.0
    } else if all().any(|m| m.starts_with("WARNING")) {
        1.0
    } else {
        0.0
    };
    let messages = || (key("messages"), Json::Array(all().map(|m| s(m.as_bytes())).collect()));
    if !before.is_empty() {
        o.push(messages());
    }
    o.push((key("token"), s(token.as_bytes())));
    o.push((key("output"), output));
    if let Some(d) = rules_debug {
        o.push((key("rules_debug"), Json::Array(d.iter().map(|m| s(m.as_bytes())).collect())));
    }
    if before.is_empty() && !after.is_empty() {
        o.push(messages());
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
    fn agent_fields_from_locations() {
        assert_eq!(agent_ip(b"(web1) 10.0.0.5->/var/log/secure"), Some(&b"10.0.0.5"[..]));
        assert_eq!(agent_ip(b"(web1) any->/var/log/secure"), None);
        assert_eq!(agent_ip(b"(x)"), Some(&b""[..]));
        let a = agentless(b"(ssh_integrity_check_linux) admin@192.168.1.5->syscheck", b"000").unwrap();
        assert_eq!(
            a.to_unformatted(),
            br#"{"script":"ssh_integrity_check_linux","user":"admin","host":"192.168.1.5"}"#.to_vec()
        );
        assert!(agentless(b"(web1) 10.0.0.5->/var/log/secure", b"000").is_none());
        assert!(agentless(b"(a) u@h->x", b"001").is_none());
    }

    #[test]
    fn rootcheck_compliance_arrays() {
        let mut o = Vec::new();
        rootcheck_compliance(b"System Audit: CIS - Debian Linux - 1.4 - Robust partition scheme - /tmp is not on its own partition {CIS: 1.4 Debian Linux} {PCI_DSS: 2.2.4, 2.2.5}. File: /etc/fstab.", &mut o);
        assert_eq!(
            Json::Object(o).to_unformatted(),
            br#"{"cis":["1.4 Debian Linux"],"pci_dss":["2.2.4","2.2.5"]}"#.to_vec()
        );
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
        for (n, v) in
            [("aws.eventName", "A"), ("AWS.eventname", "B"), ("SrcIP", "x"), ("a", "1"), ("a.b", "2"), ("x", "")]
        {
            ev.dynamic.push(n.as_bytes(), v.as_bytes());
        }
        let d = Json::Object(data_json(&ev));
        assert_eq!(d.to_unformatted(), br#"{"srcip":"1.1.1.1","aws":{"eventName":"A"},"a":"1"}"#.to_vec());
    }
}
