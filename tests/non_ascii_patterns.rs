//! Patterns with bytes of 0x80 or above, as real Wazuh 4.14.7 answered them
//! (`tests/data/oracle/non-ascii/`: a `local_rules.xml` of ours over the stock
//! ruleset, eight events, and the oracle analysisd's replies). Upstream's
//! OS_Regex literals and OS_Match substring tests compare such a byte as a
//! signed `char`: `<match>contraseña</match>` never matches "contraseña",
//! while anchored OS_Match tests, OS_Regex classes and PCRE2 take those bytes.
//! Found by the `os_regex_diff` fuzz target; the replies must be identical
//! (token, timestamps and ids aside).

mod common;

use std::sync::Arc;

use logtest::load::config::RulesetFiles;
use logtest::Ruleset;

#[test]
fn non_ascii_patterns_answer_as_wazuh() {
    let Some(shared) = common::shared() else { return };
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/oracle/non-ascii");
    let rules = std::fs::read(data.join("local_rules.xml")).unwrap();
    let home = common::temp_home(&shared, "non-ascii", &[("etc/rules/local_rules.xml", &rules)]);
    let rs = Arc::new(Ruleset::load(&RulesetFiles::from_home(&home).unwrap(), &common::mitre_v13(&shared)).unwrap());
    let events = common::read_lines(&data.join("events"));
    let expected = common::read_lines(&data.join("expected.jsonl"));
    assert_eq!(events.len(), 8);
    assert_eq!(events.len(), expected.len());
    let replies = common::run_session(&rs, "x", &events, false);
    let mut differ = Vec::new();
    for ((event, want), got) in events.iter().zip(&expected).zip(replies) {
        let (want, got) = (common::normalise(common::parse_line(want)), common::normalise(got));
        if want != got {
            differ.push(format!(
                "{}\n  Wazuh: {}\n  ours:  {}",
                String::from_utf8_lossy(event),
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&home);
    assert!(differ.is_empty(), "{} of 8 differ:\n{}", differ.len(), differ.join("\n"));
}
