//! The logtest reply's shape: which keys, in which order. Recorded from a real
//! Wazuh 4.14.7 analysisd (a rule naming MITRE technique T1043, which the
//! ATT&CK table lacks, and events from the malformed location `[`).

mod common;

use std::sync::Arc;

use logtest::json::Json;
use logtest::load::config::RulesetFiles;
use logtest::logtest::LogtestSession;
use logtest::mitre::MitreDb;
use logtest::session::Timestamp;
use logtest::Ruleset;

fn keys(v: &Json) -> Vec<String> {
    match v {
        Json::Object(o) => o.iter().map(|(k, _)| String::from_utf8_lossy(k).into_owned()).collect(),
        _ => panic!("not an object"),
    }
}

fn messages(v: &Json) -> Vec<String> {
    let Json::Object(o) = v else { panic!() };
    match o.iter().find(|(k, _)| k == b"messages") {
        Some((_, Json::Array(a))) => a
            .iter()
            .map(|m| match m {
                Json::String(s) => String::from_utf8_lossy(s).into_owned(),
                _ => panic!(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn messages_sit_where_analysisd_flushes_them() {
    let d = std::env::temp_dir().join(format!("logtest-protocol-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let rules = d.join("r.xml");
    std::fs::write(
        &rules,
        r#"<group name="probe,"><rule id="1" level="0" noalert="1"><description>root</description></rule>
<rule id="100001" level="5"><match>mitreprobe</match><description>missing technique</description><mitre><id>T1043</id></mitre></rule></group>"#,
    )
    .unwrap();
    let mut files = RulesetFiles::default();
    files.add_explicit(&[], &[rules], &[]);
    let rs = Arc::new(Ruleset::load(&files, &MitreDb::embedded()).unwrap());
    let mut s = LogtestSession::new(rs, common::opts(), "00000000".into());
    let now = Timestamp::now();
    let warn = "WARNING: Mitre Technique ID 'T1043' not found in database.";

    // First reply: the session's own message opens `messages`, processing appends.
    let r = s.process(b"stdin", b"mitreprobe one", now, false).data;
    assert_eq!(keys(&r), ["messages", "token", "output", "alert", "codemsg"]);
    assert_eq!(messages(&r), ["INFO: (7202): Session initialized with token '00000000'", warn]);
    // Later replies: only processing's messages, flushed after `output` (and `rules_debug`).
    let r = s.process(b"stdin", b"mitreprobe two", now, false).data;
    assert_eq!(keys(&r), ["token", "output", "messages", "alert", "codemsg"]);
    assert_eq!(messages(&r), [warn]);
    let r = s.process(b"stdin", b"mitreprobe two", now, true).data;
    assert_eq!(keys(&r), ["token", "output", "rules_debug", "messages", "alert", "codemsg"]);
    // A refused event in an existing session, and in a new one.
    let r = s.process(b"[", b"hello", now, false).data;
    assert_eq!(keys(&r), ["token", "messages", "codemsg"]);
    assert_eq!(
        messages(&r),
        ["ERROR: (1106): String not correctly formatted.", "ERROR: (7312): Failed to process the event"]
    );
    let mut fresh = LogtestSession::new(Arc::clone(s.session().unwrap().ruleset()), common::opts(), "00000001".into());
    let r = fresh.process(b"[", b"hello", now, false).data;
    assert_eq!(keys(&r), ["messages", "token", "codemsg"]);
}
