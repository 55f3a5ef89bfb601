//! `logtest test` with native YAML suites: our own ruleset's suite, the
//! suite format's JSON Schema, expectations, snapshots, reports, partitions.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn logtest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logtest")).args(args).env_remove("CI").output().expect("run logtest")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("logtest-suites-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn our_ruleset_suite_passes_with_full_coverage() {
    let out = logtest(&["test", &format!("{ROOT}/ruleset/tests"), "--coverage", "--coverage-min", "100"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("coverage: rules ") && stdout.contains("(100.0%)"), "{stdout}");
    let last = stdout.lines().last().unwrap_or("");
    assert!(last.ends_with("passed, 0 failed"), "{last}");
}

/// YAML → JSON with YAML's own scalar types (booleans, numbers), so the
/// JSON Schema checks what an editor with a YAML language server would.
fn typed(n: &marked_yaml::Node) -> serde_json::Value {
    use marked_yaml::Node;
    match n {
        Node::Scalar(s) => {
            let t = s.as_str();
            match t {
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                "null" | "~" => serde_json::Value::Null,
                _ => match t.parse::<i64>() {
                    Ok(i) if !t.starts_with('+') => serde_json::Value::from(i),
                    _ => serde_json::Value::String(t.to_string()),
                },
            }
        }
        Node::Sequence(q) => serde_json::Value::Array(q.iter().map(typed).collect()),
        Node::Mapping(m) => {
            serde_json::Value::Object(m.iter().map(|(k, v)| (k.as_str().to_string(), typed(v))).collect())
        }
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

#[test]
fn shipped_suites_follow_the_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{ROOT}/docs/suite.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid JSON Schema");
    let mut files = Vec::new();
    yaml_files(&PathBuf::from(format!("{ROOT}/ruleset/tests")), &mut files);
    assert!(!files.is_empty());
    for f in &files {
        let node = marked_yaml::parse_yaml(0, std::fs::read_to_string(f).unwrap()).unwrap();
        let doc = typed(&node);
        let errors: Vec<String> =
            validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", f.display());
    }
    // The schema refuses what the parser refuses.
    let bad = serde_json::json!({"cases": [{"name": "x", "events": ["a"], "expect": [{"rool": 1}]}]});
    assert!(!validator.is_valid(&bad));
}

/// The README's example, with the stock Wazuh home.
fn readme_suite(dir: &Path, level_80255: u32, extra: &str) -> PathBuf {
    let shared = PathBuf::from(format!("{ROOT}/../shared"));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::copy(shared.join("expected/iam-seed/04-break-in.events"), dir.join("data/break-in.events")).unwrap();
    let suite = format!(
        r#"cases:
  - name: six failed console logins raise a break-in alert
    location: Wazuh-AWS
    clock: arrival
    events:
      - file: data/break-in.events
      - '{{"integration": "aws", "aws": {{"source": "cloudtrail", "eventName": "NoSuchCall"}}}}'
    expect:
      - {{rule: 80254, level: 5}}
      - {{rule: 80254}}
      - {{rule: 80254}}
      - {{rule: 80254}}
      - {{rule: 80254}}
      - rule: 80255
        level: {level_80255}
        fields: {{data.aws.userIdentity.userName: anaya, rule.firedtimes: 1}}
      - {{rule: 80254, level: 5}}
      - {{alert: false}}
    snapshot: true
{extra}"#
    );
    let p = dir.join("iam.yaml");
    std::fs::write(&p, suite).unwrap();
    p
}

#[test]
fn the_readme_example_passes_fails_and_snapshots() {
    let Some(shared) = common::shared() else { return };
    let home = shared.join("wazuh-4.14.7");
    let d = tempdir("readme");
    let suite = readme_suite(&d, 10, "");
    let home_s = home.to_str().unwrap();
    let suite_s = suite.to_str().unwrap();
    // First run: the snapshot is missing.
    let out = logtest(&["test", "--home", home_s, suite_s]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("no snapshot stored") && text(&out.stdout).contains("--accept"));
    // --accept writes it (refused under CI), then the suite passes.
    let refused = Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args(["test", "--home", home_s, suite_s, "--accept"])
        .env("CI", "1")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let out = logtest(&["test", "--home", home_s, suite_s, "--accept"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = logtest(&["test", "--home", home_s, suite_s]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout).lines().last(), Some("1 passed, 0 failed"));

    // A wrong expectation names the case, the event and the key.
    let wrong = readme_suite(&tempdir("readme-wrong"), 11, "");
    let out = logtest(&["test", "--home", home_s, wrong.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("six failed console logins raise a break-in alert"), "{stdout}");
    assert!(stdout.contains("iam.yaml:14: event 6: level: expected 11, got 10"), "{stdout}");
    assert!(stdout.contains("rule trace of event 6:") && stdout.contains("Trying rule: 80255"), "{stdout}");

    // Rule 80255's level changed in a copy of the home: the diff shows it.
    let home2 = d.join("home");
    copy_dir(&home, &home2);
    let rules = home2.join("ruleset/rules/0350-amazon_rules.xml");
    let xml = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(&rules, xml.replace(r#"<rule id="80255" level="10""#, r#"<rule id="80255" level="12""#)).unwrap();
    let out = logtest(&["test", "--home", home2.to_str().unwrap(), suite_s]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("-        \"level\": 10,") && stdout.contains("+        \"level\": 12,"), "{stdout}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A suite of the embedded ruleset with a pass, a failure and a skip.
fn mixed_suite(d: &Path) -> PathBuf {
    let login = std::fs::read_to_string(format!("{ROOT}/ruleset/tests/iam/root-console-login.events")).unwrap();
    let first = login.lines().next().unwrap();
    let suite = format!(
        "cases:\n  - name: root login\n    location: Wazuh-AWS\n    events: ['{first}']\n    expect: [{{rule: 100500}}]\n  - name: wrong\n    location: Wazuh-AWS\n    events: ['{first}']\n    expect: [{{rule: 1}}]\n  - name: later\n    skip: not yet\n    events: [x]\n"
    );
    let p = d.join("mixed.yaml");
    std::fs::write(&p, suite).unwrap();
    p
}

#[test]
fn junit_and_github_reports() {
    let d = tempdir("junit");
    let suite = mixed_suite(&d);
    let junit = d.join("junit.xml");
    let out = logtest(&[
        "test",
        suite.to_str().unwrap(),
        "--format",
        "github",
        "--report",
        &format!("junit={}", junit.display()),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 1 failed, 1 skipped"));
    // The annotation points at the failed expectation's line.
    let line = stdout.lines().find(|l| l.starts_with("::error ")).expect("an annotation");
    assert!(line.contains(&format!("file={}", suite.display())) && line.contains(",line=9,"), "{line}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuite name=\"mixed.yaml\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""),
        "{xml}"
    );
    // The JUnit file as CI tools read it (the PyPI package junitparser).
    let check = "import sys, junitparser\nx = junitparser.JUnitXml.fromfile(sys.argv[1])\nsuites = list(x)\nt = sum(s.tests for s in suites); f = sum(s.failures for s in suites); k = sum(s.skipped for s in suites)\ncases = [c for s in suites for c in s]\nassert (t, f, k, len(cases)) == (3, 1, 1, 3), (t, f, k, len(cases))\nprint('ok')\n";
    match Command::new("python3").args(["-c", "import junitparser"]).output() {
        Ok(o) if o.status.success() => {
            let o = Command::new("python3").args(["-c", check, junit.to_str().unwrap()]).output().unwrap();
            assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
        }
        _ => logtest::testing::loud_skip(
            "python3 with junitparser not found (pip install junitparser): JUnit check not run",
        ),
    }
}

#[test]
fn partitions_cover_every_case_once_and_filters_select() {
    let d = tempdir("partition");
    let mut suite = String::from("cases:\n");
    for i in 0..40 {
        suite.push_str(&format!("  - name: case {i}\n    events: [x]\n"));
    }
    let p = d.join("many.yaml");
    std::fs::write(&p, suite).unwrap();
    let mut total = 0;
    for k in 1..=3 {
        let out = logtest(&["test", p.to_str().unwrap(), "--partition", &format!("{k}/3")]);
        let last = text(&out.stdout).lines().last().unwrap().to_string();
        total += last.split(' ').next().unwrap().parse::<usize>().unwrap();
    }
    assert_eq!(total, 40);
    let out = logtest(&["test", p.to_str().unwrap(), "--filter", "case 1"]);
    assert_eq!(text(&out.stdout).lines().last(), Some("11 passed, 0 failed"));
    let out = logtest(&["test", p.to_str().unwrap(), "--partition", "0/3"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn suite_problems_name_file_and_line() {
    let d = tempdir("bad");
    let p = d.join("bad.yaml");
    std::fs::write(&p, "cases:\n  - name: x\n    events: [a]\n    expect:\n      - {rool: 1}\n").unwrap();
    let out = logtest(&["test", p.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("bad.yaml:5:10: fatal S002 expect: unknown key `rool`"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("0 passed, 0 failed"));
}
