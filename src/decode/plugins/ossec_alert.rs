//! `OSSECAlert_Decoder`: alerts forwarded by another OSSEC/Wazuh manager
//! (upstream: plugins/ossecalert_decoder.c).
//!
//! Input, as logcollector's `ossecalert` format or csyslogd's default format
//! writes it (the `ossec: ` prefix is either in the log or the program name):
//!
//! ```text
//! ossec: Alert Level: 3; Rule: 5715 - sshd: authentication success.; Location: (web1) 10.0.0.2->/var/log/secure; srcip: 10.0.0.5; user: root;  Dec 29 10:00:01 web1 sshd[1]: Accepted ...
//! ```
//!
//! 1. The decoder type becomes "ossec alert" ([`DecoderType::OssecAlert`]), a
//!    type no rule category has, first thing and whatever follows.
//! 2. The log must start with `Alert Level:` or `ossec: Alert Level` (the
//!    first 12 and 18 bytes of upstream's literals), else stop.
//! 3. The rule id is the text after the first `:` + space that follows the
//!    first `;`, up to the next space (none: stop). It must be a rule id of
//!    the rules hash, written exactly as `%d` (`05715` is not `5715`); else
//!    stop, and upstream logs `Rule id '%s' not found internally` to
//!    ossec.log only.
//! 4. After the next `;` must come ` Location: `; the location is the text up
//!    to the next `;` (none: stop). The event's location **and hostname**
//!    become `<location>|<forwarded location>`, cut at 254 bytes.
//! 5. Then, while the text continues with exactly one space, each `; `-ended
//!    entry is read: `srcip: X` sets `srcip`, `user: X` sets `dstuser` (last
//!    one wins). An entry without a closing `;` stops here: location and
//!    hostname stay rewritten, but nothing below happens.
//! 6. Spaces are skipped; the rest, cut at 4094 bytes, becomes the event's
//!    `full_log` and `log`; and the event carries the forwarded rule
//!    ([`Event::forwarded_rule`]), which rule evaluation then reports without
//!    matching.
//!
//! **The rules hash.** wazuh-analysisd looks the id up in the hash of all
//! loaded rules. wazuh-logtest 4.14.7 passes the session's own hash, which it
//! never fills (its `AddHash_Rule` writes to analysisd's global hash instead),
//! so under logtest every lookup fails at step 3: the event is decoded with no
//! fields, keeps its location, and — its type matching no rule root — gets no
//! rule. [`Decoders::decode`](crate::decode::Decoders::decode) reproduces
//! logtest; `decode_with_rules` takes the hash (analysisd).
//!
//! Upstream frees the original log buffer when it replaces `full_log`; the
//! pre-decoded program name and timestamp still point into it (undefined
//! behaviour). Here they are dropped with the old text.

use std::collections::HashMap;

use super::{expect, find};
use crate::decode::DecoderType;
use crate::event::{Event, StaticField};
use crate::predecode::Predecoded;

/// Longest rewritten location (upstream: `snprintf(buf, 255, ...)`).
const LOCATION_MAX: usize = 254;
/// Longest new log (`strncpy(buf, p, 4094)`; longer text leaves byte 4094 of
/// the buffer uninitialised upstream, we stop at 4094).
const LOG_MAX: usize = 4094;

/// Runs the plugin on `ev`'s log. `rules` is the rule id → rule hash, `None`
/// for wazuh-logtest's empty one.
pub(crate) fn decode(ev: &mut Event, rules: Option<&HashMap<u32, crate::index::RuleIdx>>) {
    ev.decoder_type = DecoderType::OssecAlert;
    let log = ev.log().to_vec();
    let _ = decode_log(ev, &log, rules);
}

fn decode_log(ev: &mut Event, log: &[u8], rules: Option<&HashMap<u32, crate::index::RuleIdx>>) -> Option<()> {
    if !(log.starts_with(b"Alert Level:") || log.starts_with(b"ossec: Alert Level")) {
        return None;
    }
    // "Alert Level: 3; Rule: 5715 - description; Location: ...;"
    let mut i = find(log, 0, b';')? + 1;
    i = find(log, i, b':')? + 1;
    expect(log, i, b' ')?;
    i += 1;
    let id_end = find(log, i, b' ')?;
    let rule_id = hash_key(&log[i..id_end]).filter(|id| rules.is_some_and(|r| r.contains_key(id)))?;

    i = find(log, id_end, b';')? + 1;
    if !log[i..].starts_with(b" Location: ") {
        return None;
    }
    i += b" Location: ".len();
    let location_end = find(log, i, b';')?;
    let mut location = std::mem::take(&mut ev.location);
    location.push(b'|');
    location.extend_from_slice(&log[i..location_end]);
    location.truncate(LOCATION_MAX);
    ev.hostname = location.clone();
    ev.location = location;

    i = location_end + 1;
    while log.get(i) == Some(&b' ') && log.get(i + 1) != Some(&b' ') {
        i += 1;
        let end = find(log, i, b';')?;
        let entry = &log[i..end];
        if let Some(v) = entry.strip_prefix(b"srcip: ") {
            ev.set_static(StaticField::Srcip, v.to_vec());
        }
        if let Some(v) = entry.strip_prefix(b"user: ") {
            ev.set_static(StaticField::Dstuser, v.to_vec());
        }
        i = end + 1;
    }
    while log.get(i) == Some(&b' ') {
        i += 1;
    }
    let rest = &log[i..];
    ev.full_log = rest[..rest.len().min(LOG_MAX)].to_vec();
    ev.pre = Predecoded { log: 0..ev.full_log.len(), ..Predecoded::default() };
    ev.forwarded_rule = Some(rule_id);
    Some(())
}

/// The rule id if `text` is how upstream keys its rules hash (`%d`).
fn hash_key(text: &[u8]) -> Option<u32> {
    let canonical = match text {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{event, pairs, statics};
    use super::*;
    use crate::predecode::Origin;

    const ALERT: &str = "ossec: Alert Level: 3; Rule: 5715 - sshd: authentication success.; Location: (web1) 10.0.0.2->/var/log/secure; srcip: 10.0.0.5; user: root;  Dec 29 10:00:01 web1 sshd[1234]: Accepted password for root from 10.0.0.5 port 22 ssh2";

    fn rules(ids: &[u32]) -> HashMap<u32, crate::index::RuleIdx> {
        ids.iter().enumerate().map(|(i, &id)| (id, crate::index::Idx::new(i))).collect()
    }

    #[test]
    fn forwarded_alert() {
        let mut ev = event(ALERT);
        ev.hostname = b"manager".to_vec();
        decode(&mut ev, Some(&rules(&[1, 5715])));
        assert_eq!(ev.decoder_type, DecoderType::OssecAlert);
        assert_eq!(ev.forwarded_rule, Some(5715));
        assert_eq!(ev.location, b"stdin|(web1) 10.0.0.2->/var/log/secure");
        assert_eq!(ev.hostname, ev.location);
        assert_eq!(statics(&ev), pairs(&[("srcip", "10.0.0.5"), ("dstuser", "root")]));
        let new_log = "Dec 29 10:00:01 web1 sshd[1234]: Accepted password for root from 10.0.0.5 port 22 ssh2";
        assert_eq!(ev.full_log, new_log.as_bytes());
        assert_eq!(ev.log(), new_log.as_bytes());
        assert_eq!(ev.program_name(), None);
        assert_eq!(ev.dec_timestamp(), None);
    }

    #[test]
    fn from_a_syslog_header() {
        // csyslogd's format: "ossec" is the program name, the log starts "Alert Level:".
        let mut ev = event("Dec 29 10:00:05 manager1 ossec: Alert Level: 10; Rule: 40111 - Multiple authentication failures.; Location: (web1) 10.0.0.2->/var/log/secure; classification:  authentication_failures,; srcip: 10.0.0.7;  Dec 29 10:00:04 web1 sshd[9]: Failed password");
        assert_eq!(ev.program_name(), Some(&b"ossec"[..]));
        decode(&mut ev, Some(&rules(&[40111])));
        assert_eq!(ev.forwarded_rule, Some(40111));
        // "classification:  authentication_failures," is an entry like any other.
        assert_eq!(statics(&ev), pairs(&[("srcip", "10.0.0.7")]));
        assert_eq!(ev.full_log, b"Dec 29 10:00:04 web1 sshd[9]: Failed password");
    }

    #[test]
    fn logtest_never_finds_the_rule() {
        let mut ev = event(ALERT);
        let before = ev.clone();
        decode(&mut ev, None);
        assert_eq!(ev.decoder_type, DecoderType::OssecAlert);
        assert_eq!(ev.forwarded_rule, None);
        assert_eq!(ev.location, before.location);
        assert_eq!(ev.full_log, before.full_log);
        assert_eq!(statics(&ev), vec![]);
    }

    #[test]
    fn rule_id_must_be_the_hash_key() {
        for text in ["05715", "+5715", "5715x", "", "99999999999"] {
            let log = ALERT.replace("5715 -", &format!("{text} -"));
            let mut ev = event(&log);
            decode(&mut ev, Some(&rules(&[5715])));
            assert_eq!(ev.forwarded_rule, None, "{text}");
            assert_eq!(ev.location, b"stdin", "{text}");
        }
        // Unknown id.
        let mut ev = event(ALERT);
        decode(&mut ev, Some(&rules(&[5716])));
        assert_eq!(ev.forwarded_rule, None);
        assert_eq!(hash_key(b"0"), Some(0));
        assert_eq!(hash_key(b"00"), None);
    }

    #[test]
    fn prefixes() {
        let rs = rules(&[5715]);
        // Only the first 12 / 18 bytes of upstream's literals are compared.
        for (log, ok) in [
            ("Alert Level:3; Rule: 5715 x; Location: l;  x", true),
            ("ossec: Alert Level 3; Rule: 5715 x; Location: l;  x", true),
            ("alert level: 3; Rule: 5715 x; Location: l;  x", false),
            (" Alert Level: 3; Rule: 5715 x; Location: l;  x", false),
            ("Alert Level", false),
        ] {
            let mut ev = event(log);
            ev.decoder_type = DecoderType::Syslog;
            decode(&mut ev, Some(&rs));
            assert_eq!(ev.decoder_type, DecoderType::OssecAlert);
            assert_eq!(ev.forwarded_rule.is_some(), ok, "{log}");
        }
    }

    #[test]
    fn malformed_alerts_stop_early() {
        let rs = rules(&[5715]);
        let check = |log: &str, location: &str, fields: Vec<(&'static str, String)>| {
            let mut ev = event(log);
            decode(&mut ev, Some(&rs));
            assert_eq!(ev.forwarded_rule, None, "{log}");
            assert_eq!(String::from_utf8_lossy(&ev.location), location, "{log}");
            assert_eq!(ev.full_log, log.as_bytes(), "{log}");
            assert_eq!(statics(&ev), fields, "{log}");
        };
        check("Alert Level: 3", "stdin", vec![]);
        check("Alert Level: 3; Rule 5715", "stdin", vec![]);
        check("Alert Level: 3; Rule:5715 x", "stdin", vec![]);
        check("Alert Level: 3; Rule: 5715", "stdin", vec![]);
        check("Alert Level: 3; Rule: 5715 - d", "stdin", vec![]);
        check("Alert Level: 3; Rule: 5715 - d; Location:x; y", "stdin", vec![]);
        check("Alert Level: 3; Rule: 5715 - d; Location: x", "stdin", vec![]);
        // An entry without its ';': the location is already rewritten.
        check(
            "Alert Level: 3; Rule: 5715 - d; Location: x; srcip: 1.2.3.4; user: bob",
            "stdin|x",
            pairs(&[("srcip", "1.2.3.4")]),
        );
        check("Alert Level: 3; Rule: 5715 - d; Location: x; ", "stdin|x", vec![]);
    }

    #[test]
    fn entries_and_the_rest() {
        let rs = rules(&[5715]);
        let mut ev =
            event("Alert Level: 3; Rule: 5715 - d; Location: x; user: a; srcip: 1.1.1.1; srcip: 2.2.2.2; user:b;");
        decode(&mut ev, Some(&rs));
        assert_eq!(ev.forwarded_rule, Some(5715));
        assert_eq!(statics(&ev), pairs(&[("srcip", "2.2.2.2"), ("dstuser", "a")]));
        assert_eq!(ev.full_log, b"");
        // No entries, one space before the log: it is read as an entry up to the next ';'.
        let mut ev = event("Alert Level: 3; Rule: 5715 - d; Location: x; a;b");
        decode(&mut ev, Some(&rs));
        assert_eq!(ev.full_log, b"b");
        // Nothing after the location.
        let mut ev = event("Alert Level: 3; Rule: 5715 - d; Location: x;");
        decode(&mut ev, Some(&rs));
        assert_eq!(ev.forwarded_rule, Some(5715));
        assert_eq!(ev.full_log, b"");
        assert_eq!(ev.log(), b"");
    }

    #[test]
    fn limits() {
        let rs = rules(&[5715]);
        let long_location = "L".repeat(300);
        let long_log = "x".repeat(5000);
        let origin = Origin {
            location: b"(agent) 10.0.0.1->ossec-alerts".to_vec(),
            agent_id: b"001".to_vec(),
            agent_hostname: Some(b"agent".to_vec()),
        };
        let mut ev = Event::new(
            origin,
            format!("Alert Level: 3; Rule: 5715 - d; Location: {long_location};  {long_log}").into_bytes(),
        );
        decode(&mut ev, Some(&rs));
        assert_eq!(ev.location.len(), 254);
        assert!(ev.location.starts_with(b"(agent) 10.0.0.1->ossec-alerts|LLL"));
        assert_eq!(ev.hostname, ev.location);
        assert_eq!(ev.agent_id, b"001");
        assert_eq!(ev.full_log.len(), 4094);
        assert_eq!(ev.log().len(), 4094);
    }
}
