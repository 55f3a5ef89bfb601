//! Upstream's integration tests of broken rules and decoders
//! (`test_logtest/test_invalid_rule_decoders_syntax`), answered by real
//! Wazuh 4.14.7: `tests/data/oracle/broken-ruleset.jsonl` holds, per case,
//! the file dropped into `etc/rules` or `etc/decoders` of a stock home, the
//! request, and the whole reply of the new session (see that folder's
//! README). Our logtest session must give the same reply (tokens,
//! timestamps and ids masked), and `logtest check` must report Wazuh's
//! message at the file, failing when the ruleset does not load. The load
//! suite's rules and decoders (`test_rules_decoders_load`) must load
//! silently and pass `check`.

mod common;

use std::process::Command;

use logtest::json::{self, Json};
use logtest::load::config::RulesetFiles;
use logtest::logtest::LogtestSession;
use logtest::session::Timestamp;
use logtest::Ruleset;

fn string(v: &Json) -> String {
    match v {
        Json::String(s) => String::from_utf8_lossy(s).into_owned(),
        _ => panic!("not a string: {}", String::from_utf8_lossy(&v.to_unformatted())),
    }
}

/// `logtest check --home HOME`.
fn check(home: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args(["check", "--home"])
        .arg(home)
        .env_remove("CI")
        .output()
        .expect("run logtest check")
}

#[test]
fn broken_rules_and_decoders_answer_as_wazuh_logtest() {
    let Some(shared) = common::shared() else { return };
    let mitre = common::mitre_v13(&shared);
    let data = include_str!("data/oracle/broken-ruleset.jsonl");
    let mut failures = Vec::new();
    let mut n = 0;
    for (i, line) in data.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let rec = json::parse_complete(line.as_bytes()).expect("record is JSON");
        let id = string(rec.get(b"id").expect("id"));
        let load_suite = !id.starts_with("cases_invalid_");
        n += 1;
        let Some(Json::Object(files)) = rec.get(b"files") else { panic!("{id}: files") };
        let contents: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(dest, src)| {
                let dest = String::from_utf8_lossy(dest).into_owned();
                (dest, std::fs::read(shared.join(string(src))).expect("upstream file"))
            })
            .collect();
        let written: Vec<(&str, &[u8])> = contents.iter().map(|(d, c)| (d.as_str(), c.as_slice())).collect();
        let home = common::temp_home(&shared, &format!("broken-{i}"), &written);
        let ruleset_files = RulesetFiles::from_home(&home).expect("home");

        if load_suite {
            // test_rules_decoders_load: rules and decoders that load. Their
            // exchanges (sessions, tokens, JSON events) are the protocol
            // tests' business; here the ruleset must load without a word
            // (a new session says only 7202) and `check` must pass.
            let wazuh = rec.get(b"reply").and_then(|r| r.get(b"data")).and_then(|d| d.get(b"messages")).cloned();
            let ours = match Ruleset::load(&ruleset_files, &mitre) {
                Ok(rs) => LogtestSession::new(std::sync::Arc::new(rs), common::opts(), "0badc0de".into())
                    .process(b"stdin", b"dummy", Timestamp::now(), false)
                    .data
                    .get(b"messages")
                    .cloned(),
                Err(f) => Some(Json::String(f.to_string().into_bytes())),
            };
            let wrap = |m: Option<Json>| {
                common::normalise(Json::Object(vec![(b"messages".to_vec(), m.unwrap_or(Json::Null))]))
            };
            if wrap(ours.clone()) != wrap(wazuh.clone()) {
                failures.push(format!("{id}: messages {:?}, Wazuh {:?}", ours, wazuh));
            }
            let out = check(&home);
            if out.status.code() != Some(0) {
                failures.push(format!("{id}: check failed:\n{}", String::from_utf8_lossy(&out.stdout)));
            }
            let _ = std::fs::remove_dir_all(&home);
            continue;
        }
        let request = rec.get(b"request").expect("request");
        let params = request.get(b"parameters").expect("parameters");
        let field = |k: &[u8]| match params.get(k) {
            Some(Json::String(s)) => s.clone(),
            _ => panic!("{id}: no {}", String::from_utf8_lossy(k)),
        };
        let (event, location) = (field(b"event"), field(b"location"));
        let loaded = Ruleset::load(&ruleset_files, &mitre);
        let loads = loaded.is_ok();
        let reply = match loaded {
            Ok(rs) => LogtestSession::new(std::sync::Arc::new(rs), common::opts(), "0badc0de".into()).process(
                &location,
                &event,
                Timestamp::now(),
                false,
            ),
            Err(f) => LogtestSession::unavailable(&f).process(&location, &event, Timestamp::now(), false),
        };
        let wazuh = rec.get(b"reply").and_then(|r| r.get(b"data")).expect("reply data").clone();
        let (ours, theirs) = (common::normalise(reply.data), common::normalise(wazuh.clone()));
        if ours != theirs {
            failures.push(format!(
                "{id}: reply differs\n  Wazuh: {}\n  ours:  {}",
                String::from_utf8_lossy(&theirs),
                String::from_utf8_lossy(&ours)
            ));
        }

        // `logtest check` gives Wazuh's first message at the file.
        let first = match wazuh.get(b"messages") {
            Some(Json::Array(m)) => string(&m[0]),
            _ => panic!("{id}: no messages"),
        };
        let message = first.split_once(": ").map_or(first.as_str(), |(_, m)| m);
        let message = message.split(" (line ").next().unwrap_or(message);
        let out = check(&home);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        let at = format!("{}:", contents[0].0);
        // A ruleset that does not load fails the check; one that loads fails
        // it only when Wazuh drops a rule over the file.
        let exit_ok = if loads { matches!(out.status.code(), Some(0 | 1)) } else { out.status.code() == Some(1) };
        if !exit_ok || !stdout.contains(message) || !stdout.contains(&at) {
            failures.push(format!("{id}: check exit {:?}, wanted {message:?} at {at}:\n{stdout}", out.status.code()));
        }
        let _ = std::fs::remove_dir_all(&home);
    }
    assert_eq!(n, 33, "the recording changed");
    assert!(failures.is_empty(), "{} of {n} cases differ:\n{}", failures.len(), failures.join("\n"));
}
