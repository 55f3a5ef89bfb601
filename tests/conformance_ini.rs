//! The whole upstream `.ini` corpus against real Wazuh 4.14.7 responses
//! (../shared/expected/ini): one session per case, as runtests.py does.
//! Prints how many responses are identical and how many decode identically.

mod common;

use common::*;
use logtest::json::Json;

#[test]
fn ini_corpus_against_wazuh() {
    let Some(shared) = shared() else { return };
    let rs = stock_with_tests(&shared);
    let dir = shared.join("expected/ini");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    let (mut same, mut diff, mut dec_same, mut dec_diff) = (0usize, 0usize, 0usize, 0usize);
    let mut examples: Vec<String> = Vec::new();
    let mut dec_examples: Vec<String> = Vec::new();
    for f in files {
        let doc = parse_line(&std::fs::read(&f).unwrap());
        let Some(Json::Array(cases)) = doc.get_ci(b"cases") else { continue };
        for case in cases {
            let Some(Json::Array(events)) = case.get_ci(b"events") else { continue };
            let Some(Json::Array(responses)) = case.get_ci(b"responses") else { continue };
            let events: Vec<Vec<u8>> =
                events.iter().filter_map(|e| if let Json::String(s) = e { Some(s.clone()) } else { None }).collect();
            let got = run_session(&rs, "stdin", &events, false);
            for (g, e) in got.iter().zip(responses) {
                let (gd, ed) = (decoding_part(g), decoding_part(e));
                if gd == ed {
                    dec_same += 1;
                } else {
                    dec_diff += 1;
                    if dec_examples.len() < 10 {
                        dec_examples.push(format!(
                            "{}:\n  expected {}\n  got      {}",
                            f.display(),
                            String::from_utf8_lossy(&ed),
                            String::from_utf8_lossy(&gd)
                        ));
                    }
                }
                let (g, e) = (normalise(g.clone()), normalise(e.clone()));
                if g == e {
                    same += 1;
                } else {
                    diff += 1;
                    if examples.len() < 10 {
                        examples.push(format!(
                            "{}:\n  expected {}\n  got      {}",
                            f.display(),
                            String::from_utf8_lossy(&e),
                            String::from_utf8_lossy(&g)
                        ));
                    }
                }
            }
        }
    }
    eprintln!("ini corpus: {same} identical, {diff} different");
    eprintln!("ini corpus decoding: {dec_same} identical, {dec_diff} different");
    for e in examples.iter().chain(dec_examples.iter()) {
        eprintln!("{e}");
    }
    assert_eq!((diff, dec_diff), (0, 0), "responses that differ from Wazuh 4.14.7");
}
