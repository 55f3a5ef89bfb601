//! The AWS scenarios against real Wazuh 4.14.7 answers (../shared/expected):
//! every iam-seed and cloudtrail `.events` file through the stock ruleset in
//! one session per file, compared response by response with `timestamp`,
//! `id` and the session token aside.

mod common;

use common::*;

fn compare_dir(dir: &str, verbose: bool) -> (usize, usize, Vec<String>) {
    let Some(shared) = shared() else { return (0, 0, vec![]) };
    let rs = stock(&shared);
    let base = shared.join("expected").join(dir);
    let mut names: Vec<_> = std::fs::read_dir(&base).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    names.sort();
    let (mut same, mut diff) = (0, 0);
    let mut failures = Vec::new();
    for ev_path in names.iter().filter(|p| p.extension().is_some_and(|e| e == "events")) {
        let stem = ev_path.file_stem().unwrap().to_string_lossy().to_string();
        let exp_path = base.join(format!("{stem}.{}.jsonl", if verbose { "verbose" } else { "expected" }));
        if !exp_path.exists() {
            continue;
        }
        let events = read_lines(ev_path);
        let expected = read_lines(&exp_path);
        let got = run_session(&rs, "Wazuh-AWS", &events, verbose);
        assert_eq!(got.len(), expected.len(), "{stem}: number of responses");
        for (i, (g, e)) in got.into_iter().zip(expected.iter()).enumerate() {
            let g = normalise(g);
            let e = normalise(parse_line(e));
            if g == e {
                same += 1;
            } else {
                diff += 1;
                if failures.len() < 5 {
                    failures.push(format!(
                        "{stem} event {}:\n  expected {}\n  got      {}",
                        i + 1,
                        String::from_utf8_lossy(&e),
                        String::from_utf8_lossy(&g)
                    ));
                }
            }
        }
    }
    (same, diff, failures)
}

#[test]
fn iam_seed_matches_wazuh() {
    let (same, diff, failures) = compare_dir("iam-seed", false);
    eprintln!("iam-seed: {same} identical, {diff} different");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn iam_seed_verbose_matches_wazuh() {
    let (same, diff, failures) = compare_dir("iam-seed", true);
    eprintln!("iam-seed verbose: {same} identical, {diff} different");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cloudtrail_samples_match_wazuh() {
    let (same, diff, failures) = compare_dir("cloudtrail", false);
    eprintln!("cloudtrail: {same} identical, {diff} different");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
