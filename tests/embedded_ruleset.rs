//! The embedded default ruleset: the seed IAM scenarios must raise exactly the
//! alerts a Wazuh 4.14.7 manager raises, and our own IAM detections fire on
//! their example events.

mod common;

use std::sync::Arc;

use common::*;
use logtest::json::Json;
use logtest::Ruleset;

fn embedded() -> Arc<Ruleset> {
    let rs = Ruleset::embedded().expect("embedded ruleset loads");
    assert!(rs.diagnostics.is_empty(), "embedded ruleset has load messages: {:?}", rs.diagnostics);
    Arc::new(rs)
}

fn rule_of(resp: &Json) -> (String, i64) {
    let rule = resp.get_ci(b"output").and_then(|o| o.get_ci(b"rule"));
    let id = match rule.and_then(|r| r.get_ci(b"id")) {
        Some(Json::String(s)) => String::from_utf8_lossy(s).into_owned(),
        _ => String::new(),
    };
    let ft = match rule.and_then(|r| r.get_ci(b"firedtimes")) {
        Some(Json::Number(n)) => *n as i64,
        _ => 0,
    };
    (id, ft)
}

/// Outputs (timestamp/id aside) with the embedded ruleset equal Wazuh's for the seed.
#[test]
fn seed_scenarios_identical_with_embedded_ruleset() {
    let Some(shared) = shared() else { return };
    let rs = embedded();
    let base = shared.join("expected/iam-seed");
    for n in ["01-create-user", "02-create-user-denied", "03-login-failed", "04-break-in", "05-login-success"] {
        let events = read_lines(&base.join(format!("{n}.events")));
        let expected = read_lines(&base.join(format!("{n}.expected.jsonl")));
        let got = run_session(&rs, "Wazuh-AWS", &events, false);
        for (i, (g, e)) in got.into_iter().zip(&expected).enumerate() {
            let strip = |v: Json| -> Vec<u8> {
                let mut v = v;
                if let Json::Object(o) = &mut v {
                    o.retain(|(k, _)| k != b"messages");
                }
                normalise(v)
            };
            let (g, e) = (strip(g), strip(parse_line(e)));
            assert_eq!(String::from_utf8_lossy(&g), String::from_utf8_lossy(&e), "{n} event {}", i + 1);
        }
    }
}

/// Seven failed console logins: 80254 five times, 80255, then 80254 (firedtimes as Wazuh).
#[test]
fn break_in_sequence() {
    let Some(shared) = shared() else { return };
    let events = read_lines(&shared.join("expected/iam-seed/04-break-in.events"));
    for rs in [embedded(), stock(&shared)] {
        let got: Vec<(String, i64)> = run_session(&rs, "Wazuh-AWS", &events, false).iter().map(rule_of).collect();
        let want: Vec<(String, i64)> =
            [("80254", 1), ("80254", 2), ("80254", 3), ("80254", 4), ("80254", 5), ("80255", 1), ("80254", 6)]
                .iter()
                .map(|(a, b)| (a.to_string(), *b))
                .collect();
        assert_eq!(got, want);
    }
}
