//! insta snapshots of the alerts (alerts.json objects) our embedded ruleset
//! raises for the seed IAM scenarios and our own IAM examples.
//! `timestamp` and `id` are replaced, everything else is as written.

mod common;

use std::sync::Arc;

use logtest::json::Json;
use logtest::output::alert::{self, AlertContext};
use logtest::session::{Session, Timestamp};
use logtest::Ruleset;

fn alerts(rs: &Arc<Ruleset>, events: &[Vec<u8>]) -> String {
    let mut s = Session::new(Arc::clone(rs), common::opts());
    let mut out = String::new();
    // A fixed clock keeps the snapshots stable: one event per second from 2024-05-01T10:00:00Z.
    for (i, e) in events.iter().enumerate() {
        let t = Timestamp { secs: 1714557600 + i as i64, nanos: 0 };
        let p = s.process(b"Wazuh-AWS", e, t, false).expect("processed");
        if !p.alert {
            out.push_str(&format!("# event {}: no alert\n", i + 1));
            continue;
        }
        let mut a =
            alert::alert_json(rs, &p, &AlertContext { manager_name: b"wazuh-manager", logtest: false, id_suffix: 0 });
        if let Json::Object(o) = &mut a {
            for (k, v) in o.iter_mut() {
                if k == b"id" {
                    *v = Json::String(b"[id]".to_vec());
                }
            }
        }
        out.push_str(&format!("# event {}\n", i + 1));
        out.push_str(&String::from_utf8_lossy(&a.to_formatted()));
        out.push('\n');
    }
    out
}

#[test]
fn seed_scenarios() {
    let Some(shared) = common::shared() else { return };
    let rs = Arc::new(Ruleset::embedded().expect("embedded"));
    for n in ["01-create-user", "02-create-user-denied", "03-login-failed", "04-break-in", "05-login-success"] {
        let events = common::read_lines(&shared.join(format!("expected/iam-seed/{n}.events")));
        insta::assert_snapshot!(format!("seed-{n}"), alerts(&rs, &events));
    }
}

#[test]
fn own_iam_examples() {
    let rs = Arc::new(Ruleset::embedded().expect("embedded"));
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/ruleset/tests/iam"));
    let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for p in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "events")) {
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(format!("iam-{name}"), alerts(&rs, &common::read_lines(p)));
    }
}
