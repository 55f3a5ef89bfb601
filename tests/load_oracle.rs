//! Broken decoders and rules against real Wazuh 4.14.7. Each record of
//! `tests/data/oracle/decoder-errors.jsonl` (`rule-errors.jsonl`) is a
//! `local_decoder.xml` (`local_rules.xml`) put in a stock home and what the
//! oracle of `../shared/oracle` (recorded 2026-12-01) answered: `reply`, the
//! `data` of a new logtest session's reply to `dummy log` from `stdin`, and
//! `wazuh_t`, the lines `wazuh-analysisd -t` printed. The two differ where
//! Wazuh logs with `merror` rather than into the session's messages (e.g.
//! `(1240): Invalid time format` only in `-t`). Our session must give the
//! same reply (token, timestamp and id masked).

mod common;

use std::sync::Arc;

use logtest::json::{self, Json};
use logtest::load::config::RulesetFiles;
use logtest::logtest::LogtestSession;
use logtest::session::Timestamp;
use logtest::Ruleset;

fn string(v: &Json, key: &[u8]) -> String {
    match v.get(key) {
        Some(Json::String(s)) => String::from_utf8_lossy(s).into_owned(),
        _ => panic!("record without {}", String::from_utf8_lossy(key)),
    }
}

#[test]
fn broken_decoders_answer_as_wazuh() {
    run(include_str!("data/oracle/decoder-errors.jsonl"), "etc/decoders/local_decoder.xml", 42);
}

#[test]
fn broken_rules_answer_as_wazuh() {
    run(include_str!("data/oracle/rule-errors.jsonl"), "etc/rules/local_rules.xml", 54);
}

fn run(data: &str, file: &str, records: usize) {
    let Some(shared) = common::shared() else { return };
    let mitre = common::mitre_v13(&shared);
    let mut failures = Vec::new();
    let mut n = 0;
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let rec = json::parse_complete(line.as_bytes()).expect("record is JSON");
        let name = string(&rec, b"name");
        let input = string(&rec, b"input");
        let wazuh = rec.get(b"reply").expect("reply").clone();
        let tag = format!("oracle-{}", file.replace('/', "-"));
        let home = common::temp_home(&shared, &tag, &[(file, input.as_bytes())]);
        let files = RulesetFiles::from_home(&home).expect("home");
        let mut session = match Ruleset::load(&files, &mitre) {
            Ok(rs) => LogtestSession::new(Arc::new(rs), common::opts(), "0badc0de".into()),
            Err(f) => LogtestSession::unavailable(&f),
        };
        let ours = session.process(b"stdin", b"dummy log", Timestamp::now(), false).data;
        let (ours, theirs) = (common::normalise(ours), common::normalise(wazuh));
        if ours != theirs {
            failures.push(format!(
                "{name}:\n  Wazuh: {}\n  ours:  {}",
                String::from_utf8_lossy(&theirs),
                String::from_utf8_lossy(&ours)
            ));
        }
        let _ = std::fs::remove_dir_all(&home);
        n += 1;
    }
    assert_eq!(n, records, "the recording changed");
    assert!(failures.is_empty(), "{} of {n} records differ:\n{}", failures.len(), failures.join("\n"));
}
