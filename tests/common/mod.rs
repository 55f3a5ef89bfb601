//! Helpers shared by the conformance tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use logtest::json::{self, Json};
use logtest::load::config::RulesetFiles;
use logtest::logtest::LogtestSession;
use logtest::mitre::MitreDb;
use logtest::session::{SessionOptions, Timestamp};
use logtest::Ruleset;

/// `../shared` beside the checkout, or None (and a loud message) when absent.
pub fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
    if p.is_dir() {
        Some(p)
    } else {
        logtest::testing::loud_skip("../shared not found beside the checkout: conformance test not run");
        None
    }
}

pub fn mitre_v13(shared: &std::path::Path) -> MitreDb {
    let text = std::fs::read_to_string(shared.join("mitre/enterprise-v13.1-techniques.json")).expect("mitre table");
    MitreDb::parse(&text).expect("mitre parse")
}

/// The stock Wazuh 4.14.7 ruleset of ../shared.
pub fn stock(shared: &std::path::Path) -> Arc<Ruleset> {
    let files = RulesetFiles::from_home(&shared.join("wazuh-4.14.7")).expect("home");
    Arc::new(Ruleset::load(&files, &mitre_v13(shared)).expect("stock ruleset loads"))
}

pub fn opts() -> SessionOptions {
    SessionOptions { manager_name: b"wazuh-manager".to_vec(), ..Default::default() }
}

/// Runs `events` in one logtest session and returns one reply `data` per event.
pub fn run_session(rs: &Arc<Ruleset>, location: &str, events: &[Vec<u8>], verbose: bool) -> Vec<Json> {
    let mut s = LogtestSession::new(Arc::clone(rs), opts(), "00000000".to_string());
    events.iter().map(|e| s.process(location.as_bytes(), e, Timestamp::now(), verbose).data).collect()
}

/// Drops `output.timestamp`, `output.id`, the token and the token inside messages.
pub fn normalise(mut v: Json) -> Vec<u8> {
    if let Json::Object(o) = &mut v {
        for (k, val) in o.iter_mut() {
            match k.as_slice() {
                b"token" => *val = Json::String(b"T".to_vec()),
                b"messages" => {
                    if let Json::Array(a) = val {
                        for m in a.iter_mut() {
                            if let Json::String(s) = m {
                                if s.starts_with(b"INFO: (7202)") {
                                    *s = b"INFO: (7202): Session initialized with token 'T'".to_vec();
                                }
                            }
                        }
                    }
                }
                b"output" => {
                    if let Json::Object(out) = val {
                        out.retain(|(k, _)| k != b"timestamp" && k != b"id");
                    }
                }
                _ => {}
            }
        }
    }
    v.to_unformatted()
}

pub fn read_lines(path: &std::path::Path) -> Vec<Vec<u8>> {
    std::fs::read(path).expect("read").split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| l.to_vec()).collect()
}

pub fn parse_line(l: &[u8]) -> Json {
    json::parse_complete(l).expect("expected line is JSON")
}

/// The stock ruleset plus the upstream test rules and decoders, with the rule-60000
/// EventChannel adaptation, as the `.ini` oracle was produced.
pub fn stock_with_tests(shared: &std::path::Path) -> Arc<Ruleset> {
    let home = shared.join("wazuh-4.14.7");
    let mut files = RulesetFiles::from_home(&home).expect("home");
    let pick = |suffix: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(home.join("testing/ruleset"))
            .expect("testing/ruleset")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(suffix)))
            .collect();
        v.sort();
        v
    };
    let decoders = pick("_decoders.xml");
    let rules = pick("_rules.xml");
    files.add_explicit(&decoders, &rules, &[]);
    files.adapt_rule_60000 = true;
    Arc::new(Ruleset::load(&files, &mitre_v13(shared)).expect("ruleset with test files loads"))
}

/// Keeps only the decoding parts of a response's output.
pub fn decoding_part(v: &Json) -> Vec<u8> {
    let mut o = Vec::new();
    if let Json::Object(top) = v {
        if let Some((_, Json::Object(out))) = top.iter().find(|(k, _)| k == b"output") {
            for (k, val) in out {
                if matches!(k.as_slice(), b"decoder" | b"predecoder" | b"data" | b"full_log" | b"location") {
                    o.push((k.clone(), val.clone()));
                }
            }
        }
    }
    Json::Object(o).to_unformatted()
}

/// A Wazuh home in a fresh temporary folder: the stock ruleset and lists of
/// `../shared` linked, the stock `ossec.conf` and local files copied, then
/// `files` (path inside the home, content) written over them.
pub fn temp_home(shared: &std::path::Path, tag: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let stock = shared.join("wazuh-4.14.7");
    let h = std::env::temp_dir().join(format!("logtest-home-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&h);
    for d in ["etc/rules", "etc/decoders"] {
        std::fs::create_dir_all(h.join(d)).expect("temp home");
    }
    std::os::unix::fs::symlink(stock.join("ruleset"), h.join("ruleset")).expect("link ruleset");
    std::os::unix::fs::symlink(stock.join("etc/lists"), h.join("etc/lists")).expect("link lists");
    for f in ["etc/ossec.conf", "etc/rules/local_rules.xml", "etc/decoders/local_decoder.xml"] {
        std::fs::copy(stock.join(f), h.join(f)).expect("copy stock file");
    }
    for (path, content) in files {
        std::fs::write(h.join(path), content).expect("write home file");
    }
    h
}

/// What a logtest session says first about a ruleset: the load messages of
/// its first reply, without the session lines (7202 token, 7311 failure).
pub fn load_messages(files: &RulesetFiles, mitre: &MitreDb) -> (bool, Vec<String>) {
    let loaded = Ruleset::load(files, mitre);
    let ok = loaded.is_ok();
    let mut s = match loaded {
        Ok(rs) => LogtestSession::new(Arc::new(rs), opts(), "0badc0de".into()),
        Err(f) => LogtestSession::unavailable(&f),
    };
    let reply = s.process(b"stdin", b"dummy log", Timestamp::now(), false);
    let mut out = Vec::new();
    if let Some(Json::Array(m)) = reply.data.get(b"messages") {
        for m in m {
            if let Json::String(t) = m {
                let t = String::from_utf8_lossy(t).into_owned();
                if !t.starts_with("INFO: (7202)") && !t.starts_with("ERROR: (7311)") {
                    out.push(t);
                }
            }
        }
    }
    (ok, out)
}
