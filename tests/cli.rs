//! The `logtest` binary as a drop-in for `wazuh-logtest`: stdout, stderr and
//! exit code equal what the real `wazuh-logtest -l Wazuh-AWS [-v] [-U …]`
//! printed (../shared/expected/cli), and bad input is reported, not fatal.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn logtest");
    // Fed from a thread, so a big input cannot deadlock against a full stdout
    // pipe; the process may exit before reading (e.g. on a load error).
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    let _ = feeder.join();
    out
}

#[test]
fn drop_in_matches_wazuh_logtest() {
    let Some(shared) = common::shared() else { return };
    let home = shared.join("wazuh-4.14.7");
    let mitre = shared.join("mitre/enterprise-v13.1-techniques.json");
    let cli = shared.join("expected/cli");
    let mut checked = 0;
    let mut names: Vec<String> = std::fs::read_dir(&cli)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".rc").map(String::from))
        .collect();
    names.sort();
    for name in names {
        let scenario = name.split('.').next().unwrap();
        let mut args = vec![
            "--home",
            home.to_str().unwrap(),
            "--manager-name",
            "wazuh-manager",
            "--mitre",
            mitre.to_str().unwrap(),
            "-l",
            "Wazuh-AWS",
        ];
        let unit;
        if name.ends_with(".v") {
            args.push("-v");
        } else if let Some(rule) = name.split(".U-").nth(1) {
            let level = if rule == "80255" { "10" } else { "5" };
            unit = format!("{rule}:{level}:json");
            args.extend(["-U", unit.as_str()]);
        }
        let input = std::fs::read(shared.join(format!("expected/iam-seed/{scenario}.events"))).unwrap();
        let out = run(&args, &input);
        let want = |ext: &str| std::fs::read(cli.join(format!("{name}.{ext}"))).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&want("stdout")), "{name}: stdout");
        assert_eq!(String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&want("stderr")), "{name}: stderr");
        let rc: i32 = String::from_utf8(want("rc")).unwrap().trim().parse().unwrap();
        assert_eq!(out.status.code(), Some(rc), "{name}: exit code");
        checked += 1;
    }
    assert_eq!(checked, 12);
}

#[test]
fn unit_test_syntax_error() {
    let out = run(&["-U", "1:2"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Unit test configuration wrong syntax: 1:2\n");
}

#[test]
fn bad_events_do_not_stop_the_run() {
    // Not JSON, empty lines, binary junk, a malformed agent location: every valid event is still processed.
    let input = b"not json at all\n\n{\"integration\": \"aws\", \"aws\": {\"eventName\": \"ConsoleLogin\"\n\xff\xfe\x01garbage\n{\"integration\": \"aws\", \"aws\": {\"source\": \"cloudtrail\", \"eventSource\": \"signin.amazonaws.com\", \"eventName\": \"ConsoleLogin\", \"responseElements\": {\"ConsoleLogin\": \"Failure\"}}}\n";
    let out = run(&["--format", "logtest-json", "-l", "Wazuh-AWS"], input);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<&[u8]> = out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "one response per non-empty line");
    assert!(String::from_utf8_lossy(lines[3]).contains("\"id\":\"80254\""));

    let out = run(&["--format", "logtest-json", "-l", "[001 no close"], b"hello\n");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(1106): String not correctly formatted.") && text.contains("\"codemsg\":-1"), "{text}");
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("logtest-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn load_errors_name_file_and_line() {
    let d = tempdir("errors");
    let dec = write(&d, "d.xml", "<decoder name=\"x\">\n  <prematch>^x</prematch>\n</decoder>\n");
    let cases = [
        ("bad.xml", "<group name=\"g\">\n<rule id=\"100001\" level=\"3\">\n  <match>x</match>\n  <description>d</description>\n</rulez>\n</group>\n", "bad.xml:5"),
        ("regex.xml", "<group name=\"g\">\n<rule id=\"100001\" level=\"3\">\n  <regex>(\\d+</regex>\n  <description>d</description>\n</rule>\n</group>\n", "regex.xml:3:3"),
        ("elem.xml", "<group name=\"g\">\n<rule id=\"100001\" level=\"3\">\n  <bogus>x</bogus>\n  <description>d</description>\n</rule>\n</group>\n", "Invalid option 'bogus'"),
    ];
    for (name, text, want) in cases {
        let rules = write(&d, name, text);
        let out = run(&["--decoders", &dec, "--rules", &rules, "--format", "json"], b"x\n");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{name}");
        assert!(err.contains(want), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    // An unknown if_sid is a warning with file and line; the other rules still work.
    let rules = write(
        &d,
        "sid.xml",
        "<group name=\"g\">\n<rule id=\"1\" level=\"0\" noalert=\"1\"><description>root</description></rule>\n<rule id=\"100001\" level=\"3\">\n  <decoded_as>x</decoded_as>\n  <description>base</description>\n</rule>\n<rule id=\"100002\" level=\"5\">\n  <if_sid>99999</if_sid>\n  <description>orphan</description>\n</rule>\n</group>\n",
    );
    let out = run(&["--decoders", &dec, "--rules", &rules, "--format", "json"], b"x\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("sid.xml:7") && err.contains("99999"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"id\":\"100001\""));
}

#[test]
fn upstream_ini_suite_runs_to_the_end() {
    let Some(shared) = common::shared() else { return };
    let home = shared.join("wazuh-4.14.7");
    let dec = format!("{}/testing/ruleset/*_decoders.xml", home.display());
    let rules = format!("{}/testing/ruleset/*_rules.xml", home.display());
    let report = std::env::temp_dir().join(format!("logtest-ini-report-{}.json", std::process::id()));
    let report_arg = format!("json={}", report.display());
    let out = Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args([
            "test",
            "--home",
            home.to_str().unwrap(),
            "--decoders",
            &dec,
            "--rules",
            &rules,
            "--report",
            &report_arg,
        ])
        .arg(home.join("testing/tests"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().last(), Some("1428 passed, 0 failed"), "{stdout}");
    assert_eq!(out.status.code(), Some(0));
    // The report holds every case with its events and one response per event.
    let doc = logtest::json::parse_complete(&std::fs::read(&report).unwrap()).unwrap();
    let logtest::json::Json::Array(files) = doc else { panic!("report is an array") };
    assert_eq!(files.len(), 84, "every .ini but the geoip ones");
    let _ = std::fs::remove_file(report);
}

#[test]
fn test_command_reports_failures() {
    let d = tempdir("ini");
    let ini = write(&d, "t.ini", "[wrong expectation]\nlog 1 pass = hello\nrule = 1\nalert = 3\ndecoder = none\n\n[negated]\nlog 1 fail = hello\nrule = 1\nalert = 3\ndecoder = none\n");
    let out = Command::new(env!("CARGO_BIN_EXE_logtest")).args(["test", &ini]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("FAIL [wrong expectation] log 1 pass"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn version_as_wazuh_logtest() {
    let out = run(&["-V"], b"");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("Wazuh v4.14.7 - Wazuh Inc.\n\nThis program is free software"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn lines_end_as_in_python_text_mode() {
    // `\n`, `\r\n` and a lone `\r` each end a line; one prompt per line read, plus one at EOF.
    let out = run(&[], b"a\r\nb\rc\n\nd");
    assert_eq!(out.stdout, b"\n\n\n\n\n\n");
    let out = run(&["--format", "logtest-json"], b"a\r\nb\rc\n\nd");
    let logs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split("\"full_log\":\"").nth(1).map(|r| r.split('"').next().unwrap_or("").to_string()))
        .collect();
    assert_eq!(logs, ["a", "b", "c", "d"]);
}

#[test]
fn events_over_the_request_limit_get_wazuh_s_answer() {
    // wazuh-logtest's request over 65,535 bytes: analysisd refuses it (7315);
    // the next event is processed in the same session.
    let big = format!("{}\nsmall\n", "x".repeat(200_000));
    let out = run(&["--format", "logtest-json"], big.as_bytes());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], r#"{"message":"(7315): Failure to receive message: size is bigger than expected","error":5}"#);
    assert!(lines[1].contains("\"full_log\":\"small\""), "{}", lines[1]);
    let out = run(&[], big.as_bytes());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\n** Wazuh-logtest error 5: (7315): Failure to receive message: size is bigger than expected\n"),
        "{err}"
    );
    // alerts.json (analysisd's own intake): the queue message is cut at 65,535 bytes.
    let rules_dir = tempdir("big");
    let dec = write(&rules_dir, "d.xml", "<decoder name=\"x\">\n  <prematch>^x</prematch>\n</decoder>\n");
    let rules = write(&rules_dir, "r.xml", "<group name=\"g\"><rule id=\"1\" level=\"0\" noalert=\"1\"><description>root</description></rule><rule id=\"100001\" level=\"3\"><decoded_as>x</decoded_as><description>d</description></rule></group>\n");
    let out = run(&["--decoders", &dec, "--rules", &rules, "--format", "json", "-l", "stdin"], big.as_bytes());
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap();
    let full_log = first.split("\"full_log\":\"").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(full_log.len(), 65535 - "1:stdin:".len());
}

#[test]
fn special_files_and_odd_paths() {
    let d = tempdir("special");
    // A FIFO among the suites is skipped; the other suite runs.
    let fifo = d.join("x.ini");
    let _ = std::fs::remove_file(&fifo);
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    write(&d, "ok.ini", "[s]\nlog 1 pass = hello\nrule = \nalert = \ndecoder = \n");
    let out = Command::new(env!("CARGO_BIN_EXE_logtest")).arg("test").arg(&d).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ok.ini") && !stdout.contains("x.ini"), "{stdout}");
    // Given by name, it is refused, not read.
    let out = Command::new(env!("CARGO_BIN_EXE_logtest")).arg("test").arg(&fifo).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("not a regular file"), "{:?}", out);
    // --rules /dev/zero: an error, at once.
    let out = run(&["--rules", "/dev/zero"], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/dev/zero") && err.contains("not a regular file"), "{err}");
    assert_ne!(out.status.code(), Some(0));
    // A path that exists is a path even if it looks like a glob.
    let dec = write(&d, "d[1].xml", "<decoder name=\"x\">\n  <prematch>^x</prematch>\n</decoder>\n");
    let out = run(&["--decoders", &dec, "--format", "json"], b"x\n");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn load_messages_reach_the_user_in_every_mode() {
    let d = tempdir("messages");
    let rules = write(
        &d,
        "r.xml",
        "<group name=\"g\">\n<rule id=\"100001\" level=\"3\">\n  <if_sid>99999</if_sid>\n  <match>x</match>\n  <description>orphan</description>\n</rule>\n</group>\n",
    );
    let dec = write(&d, "d.xml", "<decoder name=\"x\">\n  <prematch>^x</prematch>\n</decoder>\n");
    let ini = write(&d, "t.ini", "[s]\nlog 1 pass = x\nrule = \nalert = \ndecoder = x\n");
    let out = Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args(["test", "--decoders", &dec, "--rules", &rules, &ini])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("r.xml:2") && err.contains("(7617)") && err.contains("99999"), "{err}");
    // A location no event can come from is pointed at once.
    let out = run(&["-l", "["], b"hello\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("-l '['") && err.contains("(1106)"), "{err}");
}

#[test]
fn exit_codes_and_closed_pipes() {
    // A closed stdout ends the run at once, quietly.
    let Some(shared) = common::shared() else { return };
    let home = shared.join("wazuh-4.14.7");
    let big = "Dec 19 17:20:08 host sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2\n".repeat(200_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args(["--home", home.to_str().unwrap(), "--format", "logtest-json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(big.as_bytes());
    });
    // Read one line, then close our end of stdout.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let _ = feeder.join();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.iter().all(|&b| b != b'!') && !String::from_utf8_lossy(&out.stderr).contains("error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_tests_and_load_errors_exit_2() {
    let d = tempdir("exit2");
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_logtest")).arg("test").arg(&empty).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tests found"));
    let rules = write(&d, "r.xml", "<group name=\"g\">\n<rule id=\"100001\" level=\"3\">\n  <regex>(\\d+</regex>\n  <description>d</description>\n</rule>\n</group>\n");
    let ini = write(&d, "t.ini", "[s]\nlog 1 pass = x\nrule = \nalert = \ndecoder = \n");
    let out = Command::new(env!("CARGO_BIN_EXE_logtest")).args(["test", "--rules", &rules, &ini]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The human form: file:line:col, severity, our code, Wazuh's numbered message,
    // then the source line and a caret under the element.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("r.xml:3:3: fatal R006 (5107): Syntax error on tag 'regex' in rule 100001\n3 |   <regex>(\\d+</regex>\n  |   ^^^^^^^\n"), "{err}");
    let out = run(&["--rules", &rules, "--format", "json"], b"x\n");
    assert_eq!(out.status.code(), Some(2));
}
