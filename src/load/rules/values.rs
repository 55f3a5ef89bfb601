//! Value parsers of rule elements, each as its upstream counterpart reads
//! (C `atoi`, `OS_IsValidIP`, `OS_IsValidTime`, `OS_IsValidDay`, the FTS and
//! list field names).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use crate::event::{FieldNames, StaticField};
use crate::matcher::Pcre2;
use crate::rules::{FtsKeys, IpNet, ListField, SameField, TimeRange};

pub(super) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// C `atoi` (glibc: `strtol` saturating at the `long` range, then the
/// conversion to `int` keeps the low 32 bits).
pub(super) fn atoi(s: &[u8]) -> i32 {
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
pub(super) fn is_num(s: &[u8]) -> bool {
    s.iter().all(|b| b.is_ascii_digit())
}

/// `sscanf(v, "%Nd")` on a string `is_num` accepted: its first `n` digits;
/// `None` (the target left unchanged) for the empty string.
pub(super) fn scan_width(v: &[u8], n: usize) -> Option<i32> {
    if v.is_empty() {
        None
    } else {
        Some(atoi(&v[..v.len().min(n)]))
    }
}

/// Upstream's txt/cdb names of a configured list (`Lists_OP_LoadList`): a name
/// without `/` lives in `ruleset/rules/`, anything from the first `.cdb` on is cut.
pub(super) fn list_names(name: &str) -> (String, String) {
    let mut txt = if name.contains('/') { name.to_string() } else { format!("ruleset/rules/{name}") };
    if let Some(p) = txt.find(".cdb") {
        txt.truncate(p);
    }
    let cdb = format!("{txt}.cdb");
    (txt, cdb)
}

/// `<ignore>`/`<check_if_ignored>`: `OS_StrBreak(',')` into at most `max`
/// pieces (`\,` keeps a comma), each trimmed of leading spaces and cut at the
/// next space; an empty piece is fatal (`None`).
pub(super) fn parse_fts_keys(text: &[u8], max: usize) -> Option<FtsKeys> {
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

pub(super) enum SameKind {
    SameId,
    SameSrcip,
    Same(SameField),
    Different(SameField),
}

/// The same_*/different_* elements (names already lower-cased; the
/// case-sensitive ones were checked by the caller).
pub(super) fn same_field(name: &str) -> Option<SameKind> {
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
pub(super) fn list_field(field: &[u8], names: &mut FieldNames) -> ListField {
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
pub(super) fn ip_patterns() -> &'static [Pcre2] {
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
pub(super) fn parse_ip(text: &[u8]) -> Option<IpNet> {
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
pub(super) fn get_hour(s: &[u8], mut i: usize) -> Option<(String, usize)> {
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
pub(super) fn parse_time(text: &[u8]) -> Option<TimeRange> {
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
pub(super) fn parse_weekday(text: &[u8]) -> Option<u8> {
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
