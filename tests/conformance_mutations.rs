//! ~5,000 mutated events (../shared/expected/mutations) against real Wazuh
//! 4.14.7: one session per file, location `stdin`, the stock ruleset without
//! the test files.

mod common;

use common::*;

#[test]
fn mutations_against_wazuh() {
    let Some(shared) = shared() else { return };
    let rs = stock(&shared);
    let dir = shared.join("expected/mutations");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    let (mut same, mut diff, mut dec_same, mut dec_diff) = (0usize, 0usize, 0usize, 0usize);
    let mut examples = Vec::new();
    for ev_path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "events")) {
        let stem = ev_path.file_stem().unwrap().to_string_lossy().to_string();
        let events = read_lines(ev_path);
        let expected = read_lines(&dir.join(format!("{stem}.expected.jsonl")));
        assert_eq!(events.len(), expected.len(), "{stem}");
        let got = run_session(&rs, "stdin", &events, false);
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            let e = parse_line(e);
            if decoding_part(g) == decoding_part(&e) {
                dec_same += 1;
            } else {
                dec_diff += 1;
            }
            let (g, e) = (normalise(g.clone()), normalise(e));
            if g == e {
                same += 1;
            } else {
                diff += 1;
                if examples.len() < 10 {
                    examples.push(format!(
                        "{stem} line {}:\n  expected {}\n  got      {}",
                        i + 1,
                        String::from_utf8_lossy(&e),
                        String::from_utf8_lossy(&g)
                    ));
                }
            }
        }
    }
    eprintln!("mutations: {same} identical, {diff} different");
    eprintln!("mutations decoding: {dec_same} identical, {dec_diff} different");
    for e in &examples {
        eprintln!("{e}");
    }
    assert_eq!((diff, dec_diff), (0, 0), "responses that differ from Wazuh 4.14.7");
}
