//! The 517 upstream OS_Regex unit vectors (Wazuh v4.14.7
//! `src/unit_tests/os_regex/test_os_regex_execute.json`), checked against what
//! the real upstream code returns (`os_regex_actual.json`, `actual_*` fields),
//! not against the file's expectations: 211 of those are known upstream bugs.
//!
//! Every vector is asserted, `skip_test` and `ignore_result` ones included.
//! Patterns are compiled the way the upstream unit test does it, with
//! `OS_RETURN_SUBSTRING` (captures on).

use logtest::matcher::os_regex::{next_offset, OsRegex};
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/wazuh-4.14.7/vectors/os_regex_actual.json");

fn text<'a>(v: &'a Value, key: &str, ctx: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("{ctx}: missing string field {key:?}"))
}

#[test]
fn upstream_os_regex_vectors() {
    let data = match std::fs::read_to_string(VECTORS) {
        Ok(data) => data,
        Err(e) => {
            logtest::testing::loud_skip(&format!(
                "../shared not found ({VECTORS}: {e}); the OS_Regex vectors were NOT checked"
            ));
            return;
        }
    };
    let vectors: Vec<Value> = serde_json::from_str(&data).expect("os_regex_actual.json is valid JSON");
    assert_eq!(vectors.len(), 517, "expected the 517 upstream vectors");

    let mut caps = Vec::new();
    let (mut matched, mut unmatched, mut flagged, mut skipped, mut minus_one) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();

    for v in &vectors {
        let ctx = format!(
            "suite {} test {}",
            v.get("suite").and_then(Value::as_u64).unwrap_or(u64::MAX),
            v.get("test").and_then(Value::as_u64).unwrap_or(u64::MAX)
        );
        let pattern = text(v, "pattern", &ctx);
        let log = text(v, "log", &ctx);
        let want_match = v.get("actual_matched").and_then(Value::as_bool).expect("actual_matched");
        let want_end = v.get("actual_end_offset").and_then(Value::as_i64);
        let want_groups: Vec<&str> = v
            .get("actual_captured_groups")
            .and_then(Value::as_array)
            .expect("actual_captured_groups")
            .iter()
            .map(|g| g.as_str().expect("group is a string"))
            .collect();
        let flags = v.get("flags");
        let flag = |name: &str| flags.and_then(|f| f.get(name)).and_then(Value::as_bool).unwrap_or(false);
        if flag("ignore_result") {
            flagged += 1;
        }
        if flag("skip_test") {
            skipped += 1;
        }

        let re = match OsRegex::compile(pattern.as_bytes(), true) {
            Ok(re) => re,
            Err(e) => {
                failures.push(format!("{ctx}: {pattern:?} does not compile: {e}"));
                continue;
            }
        };
        let subject = log.as_bytes();
        let got = re.exec(subject, &mut caps);
        let got_groups: Vec<String> =
            caps.iter().map(|&(a, b)| String::from_utf8_lossy(&subject[a..b]).into_owned()).collect();

        let mut problems = Vec::new();
        if got.is_some() != want_match {
            problems.push(format!("matched {} (want {want_match})", got.is_some()));
        }
        if want_match && got.map(|e| e as i64) != want_end {
            problems.push(format!("end {got:?} (want {want_end:?})"));
        }
        if got_groups != want_groups {
            problems.push(format!("groups {got_groups:?} (want {want_groups:?})"));
        }
        if re.is_match(subject) != got.is_some() {
            problems.push("is_match disagrees with exec".to_string());
        }
        if let Some(end) = got {
            // The end-match text the upstream test compares, when representable.
            let want_tail = v.get("actual_end_match").and_then(Value::as_str);
            if end >= 0 {
                let tail = String::from_utf8_lossy(&subject[end as usize..]);
                if want_tail != Some(tail.as_ref()) {
                    problems.push(format!("end text {tail:?} (want {want_tail:?})"));
                }
            } else {
                minus_one += 1;
            }
            assert!(next_offset(subject.len(), end) <= subject.len());
        }
        if problems.is_empty() {
            if want_match {
                matched += 1;
            } else {
                unmatched += 1;
            }
        } else {
            failures.push(format!("{ctx}: {pattern:?} on {log:?}: {}", problems.join("; ")));
        }
    }

    eprintln!(
        "os_regex vectors: {} passed of {} ({matched} matches, {unmatched} non-matches; \
         {flagged} flagged ignore_result, {skipped} skip_test, {minus_one} with end -1), {} failed",
        matched + unmatched,
        vectors.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{} vector(s) failed:\n{}", failures.len(), failures.join("\n"));
}
