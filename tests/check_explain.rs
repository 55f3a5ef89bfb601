//! `logtest check` (lint) and `logtest explain` (why a rule did or did not
//! fire) through the binary: what they report, where, and their exit codes.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn logtest(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args(args)
        .env_remove("CI")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run logtest");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("logtest-check-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn check_of_the_stock_ruleset_finds_the_dead_rules_and_passes() {
    let Some(shared) = common::shared() else { return };
    let home = shared.join("wazuh-4.14.7");
    let out = logtest(&["check", "--home", home.to_str().unwrap()], b"");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    // 80251 sits below 80202, whose list of event names lacks DeleteObjects.
    assert!(
        stdout.contains("ruleset/rules/0350-amazon_rules.xml:53:3: warning K001 rule 80251 can never fire"),
        "{stdout}"
    );
    assert!(stdout.contains("warning K001 rule 80252 can never fire: it only runs below rule 80251"), "{stdout}");
    // Correlation over a level-0 rule's events: they are never kept.
    assert!(
        stdout.contains("warning K006 rule 60013 can never fire: its if_matched_sid 60010 has level 0"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("0 errors, 17 warnings"), "{stdout}");
    // Every finding shows its source line.
    assert!(stdout.contains("53 |   <rule id=\"80251\" level=\"3\">"), "{stdout}");

    // --deny warnings turns them into a failure.
    let out = logtest(&["check", "--home", home.to_str().unwrap(), "--deny", "warnings"], b"");
    assert_eq!(out.status.code(), Some(1));

    // JSON: one finding per line, with its code, place and whether it fails the check.
    let out = logtest(&["check", "--home", home.to_str().unwrap(), "--format", "json"], b"");
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), 17);
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).expect("a JSON finding");
        assert!(v["code"].is_string() && v["file"].is_string() && v["line"].is_u64(), "{l}");
        assert_eq!(v["error"], serde_json::Value::Bool(false), "{l}");
    }
}

#[test]
fn check_reports_a_broken_file_with_its_line_and_fails() {
    let dir = tempdir("broken");
    let rules = dir.join("my_rules.xml");
    std::fs::write(
        &rules,
        "<group name=\"local,\">\n  <rule id=\"100001\" level=\"3\">\n    <if_sid>5716</if_sid>\n    <options>bogus</options>\n    <description>x</description>\n  </rule>\n</group>\n",
    )
    .unwrap();
    let out = logtest(&["check", rules.to_str().unwrap()], b"");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let file = rules.display().to_string();
    assert!(
        stdout.contains(&format!("{file}:4:5: fatal R"))
            && stdout.contains("(1235): Invalid value for element 'options': bogus."),
        "{stdout}"
    );
    assert!(stdout.contains("4 |     <options>bogus</options>"), "{stdout}");
    // Wazuh's second message about it, then what Wazuh does.
    assert!(stdout.contains("= then: Invalid option 'options' for rule '100001'."), "{stdout}");
    assert!(stdout.contains("1 error, 0 warnings"), "{stdout}");

    // The GitHub format gives annotations a CI log turns into inline comments.
    let out = logtest(&["check", rules.to_str().unwrap(), "--format", "github"], b"");
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(&format!("::error file={file},line=4,col=5")), "{stdout}");
}

#[test]
fn check_makes_a_rule_wazuh_drops_an_error() {
    let dir = tempdir("dropped");
    let rules = dir.join("my_rules.xml");
    std::fs::write(
        &rules,
        "<group name=\"local,\">\n  <rule id=\"100001\" level=\"3\">\n    <if_sid>999999</if_sid>\n    <description>x</description>\n  </rule>\n</group>\n",
    )
    .unwrap();
    let out = logtest(&["check", rules.to_str().unwrap()], b"");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error R107 (7619): Empty 'if_sid' value. Rule '100001' will be ignored."), "{stdout}");
    assert!(stdout.contains("Wazuh logs this as a WARNING and loads the rest without the rule"), "{stdout}");
}

#[test]
fn check_warns_of_patterns_a_non_ascii_byte_makes_dead() {
    let Some(shared) = common::shared() else { return };
    let home = shared.join("wazuh-4.14.7");
    let home = home.to_str().unwrap();
    let dir = tempdir("non-ascii");
    let rules = dir.join("my_rules.xml");
    std::fs::write(
        &rules,
        "<group name=\"local,\">\n\
         \x20 <rule id=\"100101\" level=\"3\">\n    <match>contraseña</match>\n    <description>a</description>\n  </rule>\n\
         \x20 <rule id=\"100102\" level=\"3\">\n    <match>^contraseña|contraseña$</match>\n    <description>b</description>\n  </rule>\n\
         \x20 <rule id=\"100103\" level=\"3\">\n    <regex>usuario \\S+ inválido</regex>\n    <description>c</description>\n  </rule>\n\
         \x20 <rule id=\"100104\" level=\"3\">\n    <match>failed|échec</match>\n    <description>d</description>\n  </rule>\n\
         \x20 <rule id=\"100105\" level=\"3\">\n    <match type=\"pcre2\">contraseña</match>\n    <description>e</description>\n  </rule>\n\
         \x20 <rule id=\"100106\" level=\"3\">\n    <field name=\"aws.user\" negate=\"yes\">José</field>\n    <description>f</description>\n  </rule>\n\
         </group>\n",
    )
    .unwrap();
    let out = logtest(&["check", "--home", home, rules.to_str().unwrap()], b"");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "warnings only: {stdout}{}", text(&out.stderr));
    let file = rules.display().to_string();
    assert!(
        stdout.contains(&format!(
            "{file}:2:3: warning K005 rule 100101: <match> 'contraseña' can never match: Wazuh's OS_Match compares 'ñ'"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule 100103: <regex> 'usuario \\S+ inválido' can never match: Wazuh's OS_Regex"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule 100104: 1 of the 2 alternatives of <match> 'failed|échec' can never match"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule 100106: <field name=\"aws.user\"> 'José' (negate=\"yes\") is always true"),
        "{stdout}"
    );
    // Anchored OS_Match tests and PCRE2 compare those bytes as they are.
    assert!(!stdout.contains("rule 100102") && !stdout.contains("rule 100105"), "{stdout}");
    assert!(stdout.contains("= help: an anchored OS_Match alternative"), "{stdout}");
    assert_eq!(stdout.matches("warning K005").count(), 4, "{stdout}");
    assert!(stdout.contains("\n0 errors,"), "{stdout}");

    // And the engine agrees: the event with the word does not reach 100101, only 100102.
    let out = logtest(&["--home", home, "--rules", rules.to_str().unwrap(), "-l", "x"], "contraseña\n".as_bytes());
    // (wazuh-logtest's report goes to stderr, as upstream's does.)
    let report = text(&out.stderr);
    assert!(report.contains("id: '100102'") && !report.contains("id: '100101'"), "{report}");
    // explain says why 100101 failed.
    let args = ["explain", "--home", home, "--rules", rules.to_str().unwrap(), "--rule", "100101", "-l", "x"];
    let out = logtest(&args, "contraseña\n".as_bytes());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("✗ <match>contraseña</match> (can never match: Wazuh compares its byte of 0x80 or above"),
        "{stdout}{}",
        text(&out.stderr)
    );
}

/// A CloudTrail record as the AWS integration sends it.
fn cloudtrail(name: &str, source: &str) -> String {
    format!(
        "{{\"integration\": \"aws\", \"aws\": {{\"eventSource\": \"{source}\", \"eventName\": \"{name}\", \"source\": \"cloudtrail\", \"awsRegion\": \"us-east-1\", \"userIdentity\": {{\"type\": \"IAMUser\", \"userName\": \"bob\"}}}}}}\n"
    )
}

#[test]
fn explain_names_the_condition_that_stopped_a_rule() {
    let Some(shared) = common::shared() else { return };
    let home = shared.join("wazuh-4.14.7");
    let event = cloudtrail("DeleteObjects", "s3.amazonaws.com");
    let out =
        logtest(&["explain", "--home", home.to_str().unwrap(), "-l", "Wazuh-AWS", "--rule", "80251"], event.as_bytes());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("final rule: 80200 (level 0, no alert)"), "{stdout}");
    assert!(stdout.contains("rule 80251 "), "{stdout}");
    assert!(stdout.contains("not reached: stopped at rule 80202"), "{stdout}");
    assert!(stdout.contains("'DeleteObjects' is not a key of the list"), "{stdout}");
}

#[test]
fn explain_counts_a_correlation_short_of_its_frequency() {
    let events = std::fs::read_to_string(format!("{ROOT}/ruleset/tests/iam/brute-force-per-ip.events")).unwrap();
    let two: String = events.lines().take(2).map(|l| format!("{l}\n")).collect();
    let out = logtest(&["explain", "-l", "Wazuh-AWS", "--rule", "80255"], two.as_bytes());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("final rule: 80254"), "{stdout}");
    assert!(stdout.contains("did not fire: one of its own checks failed"), "{stdout}");
    assert!(stdout.contains("✗ correlation: 1 matching earlier event in the window, 5 needed"), "{stdout}");

    // With all six the rule fires, and JSON says so.
    let six: String = events.lines().take(6).map(|l| format!("{l}\n")).collect();
    let out = logtest(&["explain", "-l", "Wazuh-AWS", "--rule", "80255", "--format", "json"], six.as_bytes());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["final_rule"], 80255);
    assert_eq!(v["rule"]["verdict"], "fired");
    assert_eq!(v["path"], serde_json::json!([1, 80200, 80202, 80253, 80254, 80255]));
}

#[test]
fn explain_refuses_what_it_cannot_explain() {
    let out = logtest(&["explain", "--rule", "80255"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no event on stdin"), "{}", text(&out.stderr));
    let out = logtest(&["explain", "--rule", "4242424"], b"hello\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("rule 4242424 is not in the ruleset"), "{}", text(&out.stderr));
}
