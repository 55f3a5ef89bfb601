//! Wazuh's XML reader (os_xml) against ours, on malformed and odd input.
//!
//! Each record of `tests/data/oracle/xml-errors.jsonl` is an
//! `etc/rules/local_rules.xml` put in an otherwise stock Wazuh 4.14.7 home
//! (a copy of `../shared/wazuh-4.14.7`), and what the real
//! `wazuh-analysisd -t` printed for it: the oracle of `../shared/oracle`,
//! `run.sh --test HOME /tmp/oracle-run/xml-…`, recorded on 2026-12-01 (the
//! sandbox clock's date). `wazuh` holds its `ERROR:` and `WARNING:` lines
//! without the timestamp and daemon prefix (the `CRITICAL: (1220)` line that
//! ends a failed `-t` is left out: a logtest session does not say it),
//! `loads` whether `-t` succeeded. The input is `input` (text) or
//! `input_b64` (bytes that are not UTF-8 or hold NUL). A message byte that
//! is not UTF-8 (os_xml cuts messages at 126 bytes, maybe inside a
//! character) is recorded as U+FFFD, as our messages (Rust strings) have it.
//! The cases cover every error path of os_xml.c (`_ReadElem`,
//! `_getattributes`, `_oscomment`) with its line numbers, its limits, the odd
//! forms it accepts, and os_xml_variables.c's and OS_GetElementsbyNode's
//! handling of `var`.
//!
//! A logtest session over the same home must say the same lines, one message
//! each, and load exactly when Wazuh does.

mod common;

use logtest::json::{self, Json};
use logtest::load::config::RulesetFiles;

fn string(v: &Json, key: &[u8]) -> Option<String> {
    match v.get(key) {
        Some(Json::String(s)) => Some(String::from_utf8_lossy(s).into_owned()),
        _ => None,
    }
}

fn base64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, &d) in chunk.iter().enumerate() {
            n |= u32::from(d) << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

struct Record {
    name: String,
    input: Vec<u8>,
    wazuh: Vec<String>,
    loads: bool,
}

fn records() -> Vec<Record> {
    let data = include_str!("data/oracle/xml-errors.jsonl");
    let mut out = Vec::new();
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let rec = json::parse_complete(line.as_bytes()).expect("record is JSON");
        let name = string(&rec, b"name").expect("record without name");
        let input = match (rec.get(b"input"), string(&rec, b"input_b64")) {
            (Some(Json::String(s)), _) => s.clone(),
            (_, Some(b)) => base64(&b),
            _ => panic!("{name}: no input"),
        };
        let wazuh = match rec.get(b"wazuh") {
            Some(Json::Array(a)) => a
                .iter()
                .map(|m| match m {
                    Json::String(s) => String::from_utf8_lossy(s).into_owned(),
                    _ => panic!("{name}: message is not a string"),
                })
                .collect(),
            _ => panic!("{name}: no wazuh"),
        };
        let loads = matches!(rec.get(b"loads"), Some(Json::Bool(true)));
        out.push(Record { name, input, wazuh, loads });
    }
    out
}

#[test]
fn records_are_sound() {
    let all = records();
    assert!(all.len() >= 100, "{} records", all.len());
    let mut names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "duplicate record names");
    assert!(all.iter().any(|r| r.input.contains(&0)), "a record with NUL bytes");
    assert!(all.iter().any(|r| r.input.contains(&0xff)), "a record with 0xFF bytes");
}

#[test]
fn odd_xml_gives_wazuhs_messages() {
    let Some(shared) = common::shared() else { return };
    let mitre = common::mitre_v13(&shared);
    let mut failures = Vec::new();
    let all = records();
    for rec in &all {
        let home = common::temp_home(&shared, "xml-oracle", &[("etc/rules/local_rules.xml", &rec.input)]);
        let files = RulesetFiles::from_home(&home).expect("home");
        let (ok, ours) = common::load_messages(&files, &mitre);
        let _ = std::fs::remove_dir_all(&home);
        if ok != rec.loads || ours != rec.wazuh {
            failures.push(format!(
                "{}: Wazuh (loads {}):\n  {}\nours (loads {ok}):\n  {}",
                rec.name,
                rec.loads,
                rec.wazuh.join("\n  "),
                ours.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} records differ:\n{}", failures.len(), all.len(), failures.join("\n"));
}
