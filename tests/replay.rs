//! `logtest replay` end to end: the CloudTrail samples laid out as `aws s3 sync` leaves them give
//! the real integration's events and real Wazuh's alerts; the change report; archives.json and
//! plain lines; -j and --partition; failures named by file and line; the HTML report in headless
//! Chromium.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use logtest::json::{self, Json};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_logtest"))
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("logtest-replay-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// `make-s3-layout.py OUT`: (name, path of the laid-out file) for every sample.
fn layout(shared: &Path, out: &Path) -> Vec<(String, PathBuf)> {
    let script = shared.join("cloudtrail/make-s3-layout.py");
    let run = Command::new("python3").arg(&script).arg(out).output().expect("python3 runs make-s3-layout.py");
    assert!(run.status.success(), "make-s3-layout.py: {}", String::from_utf8_lossy(&run.stderr));
    String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[0].to_string(), out.join(f[1]).join(f[2]))
        })
        .collect()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("logtest runs");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "logtest failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// An alert without the keys that come from the clock and the counter.
fn comparable(mut a: Json) -> Vec<u8> {
    if let Json::Object(o) = &mut a {
        o.retain(|(k, _)| k != b"timestamp" && k != b"id");
    }
    a.to_unformatted()
}

fn alerts(stdout: &[u8]) -> Vec<Vec<u8>> {
    stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| comparable(json::parse_complete(l).expect("an alerts.json line")))
        .collect()
}

fn stock_args(shared: &Path, cmd: &mut Command) {
    cmd.arg("--home")
        .arg(shared.join("wazuh-4.14.7"))
        .arg("--manager-name")
        .arg("wazuh-manager")
        .arg("--mitre")
        .arg(shared.join("mitre/enterprise-v13.1-techniques.json"));
}

#[test]
fn every_sample_file_gives_the_integrations_events_and_wazuhs_alerts() {
    let Some(shared) = common::shared() else { return };
    let out = temp_dir("layout");
    let files = layout(&shared, &out);
    assert!(files.len() >= 40, "only {} files laid out", files.len());
    let (mut events_ok, mut alerts_ok, mut alerts_seen) = (0, 0, 0);
    for (name, path) in &files {
        let expected = std::fs::read(shared.join(format!("expected/cloudtrail/{name}.events"))).unwrap();
        let got = run(bin().arg("replay").arg(path).args(["--emit", "events", "-q"]));
        assert!(got.stdout == expected, "{name}: --emit events differs from the integration's events");
        events_ok += 1;

        let want: Vec<Vec<u8>> = common::read_lines(&shared.join(format!("expected/cloudtrail/{name}.expected.jsonl")))
            .iter()
            .map(|l| common::parse_line(l))
            .filter(|r| r.get(b"alert") == Some(&Json::Bool(true)))
            .map(|r| comparable(r.get(b"output").cloned().unwrap()))
            .collect();
        let mut cmd = bin();
        cmd.arg("replay").arg(path).args(["--clock", "arrival", "-q"]);
        stock_args(&shared, &mut cmd);
        let got = alerts(&run(&mut cmd).stdout);
        assert_eq!(got.len(), want.len(), "{name}: number of alerts");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                g == w,
                "{name}: alert {i}\n got {}\nwant {}",
                String::from_utf8_lossy(g),
                String::from_utf8_lossy(w)
            );
        }
        alerts_seen += want.len();
        alerts_ok += 1;
    }
    eprintln!("replay: {events_ok} files' events and {alerts_ok} files' alerts ({alerts_seen} alerts) as Wazuh 4.14.7");
    assert!(alerts_seen > 50, "the samples raise alerts");
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn the_change_report_finds_exactly_the_alerts_a_rule_change_changes() {
    let Some(shared) = common::shared() else { return };
    let dir = temp_dir("baseline");
    let s3 = dir.join("s3");
    layout(&shared, &s3);
    let base = dir.join("base.json");
    let mut cmd = bin();
    cmd.arg("replay").arg(&s3).arg("-q").arg("-o").arg(&base);
    stock_args(&shared, &mut cmd);
    run(&mut cmd);
    let n = std::fs::read_to_string(&base).unwrap().lines().count();
    assert!(n > 50, "{n} alerts");

    // Against its own output: no change, exit 0 even with --fail-on-change.
    let mut cmd = bin();
    cmd.arg("replay").arg(&s3).args(["-q", "-o", "/dev/null", "--fail-on-change", "--baseline"]).arg(&base);
    stock_args(&shared, &mut cmd);
    let same = run(&mut cmd);
    let text = String::from_utf8_lossy(&same.stderr);
    assert_eq!(same.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("{n} identical")) && text.contains("no change"), "{text}");

    // Rule 80254's level changed in a copy of the home: exactly its alerts, key rule.level.
    let home = dir.join("home");
    let stock = shared.join("wazuh-4.14.7");
    std::fs::create_dir_all(&home).unwrap();
    for sub in ["etc", "ruleset"] {
        assert!(Command::new("cp").arg("-r").arg(stock.join(sub)).arg(home.join(sub)).status().unwrap().success());
    }
    let rules = home.join("ruleset/rules/0350-amazon_rules.xml");
    let xml = std::fs::read_to_string(&rules).unwrap();
    assert!(xml.contains(r#"<rule id="80254" level="5">"#));
    std::fs::write(&rules, xml.replace(r#"<rule id="80254" level="5">"#, r#"<rule id="80254" level="9">"#)).unwrap();
    let want = std::fs::read_to_string(&base).unwrap().lines().filter(|l| l.contains(r#""id":"80254""#)).count();
    assert!(want > 0, "the samples have 80254 alerts");
    let report = dir.join("report.json");
    let changed = run(bin()
        .arg("replay")
        .arg(&s3)
        .args(["-q", "-o", "/dev/null", "--fail-on-change", "--manager-name", "wazuh-manager", "--home"])
        .arg(&home)
        .arg("--mitre")
        .arg(shared.join("mitre/enterprise-v13.1-techniques.json"))
        .arg("--baseline")
        .arg(&base)
        .arg("--change-report")
        .arg(&report));
    let text = String::from_utf8_lossy(&changed.stderr);
    assert_eq!(changed.status.code(), Some(1), "{text}");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let by_rule = r["by_rule"].as_object().unwrap();
    assert_eq!(by_rule.keys().collect::<Vec<_>>(), vec!["80254"], "{text}");
    let e = &by_rule["80254"];
    assert_eq!(e["changed"], want as u64, "{text}");
    assert_eq!((e["only_baseline"].as_u64(), e["only_replay"].as_u64()), (Some(0), Some(0)));
    assert_eq!(e["changed_keys"], serde_json::json!({"rule.level": want}));
    assert_eq!(r["same"], (n - want) as u64);
    assert!(text.contains("rule.level: 5 -> 9"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The embedded ruleset's IAM events, as archives.json lines, as integration lines, with an agent.
#[test]
fn archives_integration_lines_and_plain_lines() {
    let dir = temp_dir("kinds");
    let events = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ruleset/tests/iam/brute-force-per-user.events"),
    )
    .unwrap();
    let aws = dir.join("aws.events");
    std::fs::write(&aws, &events).unwrap();
    let archives = dir.join("archives.json");
    let mut a = String::new();
    for (i, e) in events.lines().enumerate() {
        let line = Json::Object(vec![
            (b"timestamp".to_vec(), Json::string(format!("2026-11-27T23:{:02}:00.000+0000", i).as_bytes())),
            (
                b"agent".to_vec(),
                Json::Object(vec![
                    (b"id".to_vec(), Json::string(b"000")),
                    (b"name".to_vec(), Json::string(b"wazuh-manager")),
                ]),
            ),
            (b"full_log".to_vec(), Json::string(e.as_bytes())),
            (b"location".to_vec(), Json::string(b"Wazuh-AWS")),
        ]);
        a.push_str(&String::from_utf8(line.to_unformatted()).unwrap());
        a.push('\n');
    }
    a.push_str("not json\n");
    // An agent's sshd line.
    a.push_str(r#"{"timestamp":"2026-11-27T23:30:00.000+0000","agent":{"id":"007","name":"web","ip":"10.0.0.7"},"full_log":"Nov 27 23:30:00 web sshd[42]: Failed password for invalid user admin from 198.51.100.7 port 4242 ssh2","location":"/var/log/auth.log"}"#);
    a.push('\n');
    std::fs::write(&archives, &a).unwrap();

    let from_aws = run(bin().arg("replay").arg(&aws).args(["--manager-name", "wazuh-manager"]));
    let from_archives = run(bin().arg("replay").arg(&archives).args(["--manager-name", "wazuh-manager"]));
    let (x, y) = (alerts(&from_aws.stdout), alerts(&from_archives.stdout));
    assert!(!x.is_empty());
    assert_eq!(&y[..x.len()], &x[..], "archives.json lines give the integration lines' alerts");
    let stderr = String::from_utf8_lossy(&from_archives.stderr);
    assert!(
        stderr.contains(&format!("{}:{}: not a JSON object", archives.display(), events.lines().count() + 1)),
        "{stderr}"
    );
    assert!(stderr.contains("1 input(s) gave no event"), "{stderr}");
    assert!(stderr.contains("archives"), "{stderr}");

    // Plain lines at -l (sshd's rules are in the stock ruleset).
    let Some(shared) = common::shared() else { return };
    let plain = dir.join("auth.log");
    std::fs::write(
        &plain,
        "Nov 27 23:30:00 web sshd[42]: Failed password for invalid user admin from 198.51.100.7 port 4242 ssh2\n",
    )
    .unwrap();
    let mut cmd = bin();
    cmd.arg("replay").arg(&plain).args(["-l", "/var/log/auth.log", "-q"]);
    stock_args(&shared, &mut cmd);
    let out = run(&mut cmd);
    let a = json::parse_complete(out.stdout.split(|&b| b == b'\n').next().unwrap()).expect("an alert");
    assert_eq!(a.get(b"location").and_then(Json::as_bytes), Some(&b"/var/log/auth.log"[..]));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn parallel_and_partitioned_replays_give_the_same_alerts() {
    let Some(shared) = common::shared() else { return };
    let dir = temp_dir("jobs");
    let s3 = dir.join("s3");
    layout(&shared, &s3);
    // A bigger input: the integration's events of every sample, ten times.
    let mut all = Vec::new();
    for _ in 0..10 {
        for e in glob::glob(shared.join("expected/cloudtrail/*.events").to_str().unwrap()).unwrap() {
            all.extend(std::fs::read(e.unwrap()).unwrap());
        }
    }
    let events = dir.join("all.events");
    std::fs::write(&events, &all).unwrap();
    let one = run(bin().arg("replay").arg(&events).arg(&s3).args(["-q", "-j", "1"]));
    let two = run(bin().arg("replay").arg(&events).arg(&s3).args(["-q", "-j", "3"]));
    let (one, two) = (alerts(&one.stdout), alerts(&two.stdout));
    assert!(one.len() > 500, "{} alerts", one.len());
    assert!(one == two, "-j 3 gives the alerts of -j 1, in the same order");

    // Shards by account: together, the whole; their summaries merge into the whole's.
    let mut shards = Vec::new();
    let mut summaries = Vec::new();
    for k in 1..=3 {
        let sj = dir.join(format!("s{k}.json"));
        let out =
            run(bin().arg("replay").arg(&s3).args(["-q", "--partition", &format!("{k}/3"), "--summary-json"]).arg(&sj));
        shards.extend(alerts(&out.stdout));
        summaries.push(sj);
    }
    let whole_sj = dir.join("whole.json");
    let whole = alerts(&run(bin().arg("replay").arg(&s3).args(["-q", "--summary-json"]).arg(&whole_sj)).stdout);
    // (firedtimes counts per shard: each shard is its own manager.)
    let no_firedtimes = |v: Vec<Vec<u8>>| -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = v
            .iter()
            .map(|a| {
                let mut a = json::parse_complete(a).unwrap();
                if let Some(Json::Object(r)) = a.get_mut(b"rule") {
                    r.retain(|(k, _)| k != b"firedtimes");
                }
                a.to_unformatted()
            })
            .collect();
        v.sort();
        v
    };
    assert!(no_firedtimes(shards) == no_firedtimes(whole), "the shards' alerts are the whole's");
    let merged = dir.join("merged.json");
    run(bin().args(["replay", "--merge-summaries", "-q", "--summary-json"]).arg(&merged).args(&summaries));
    let (m, w): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap(),
        serde_json::from_str(&std::fs::read_to_string(&whole_sj).unwrap()).unwrap(),
    );
    for key in ["events", "alerts", "by_rule", "by_level", "users", "source_ips", "groups_by_hour"] {
        assert_eq!(m[key], w[key], "merged summaries: {key}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_broken_file_is_named_and_the_others_are_replayed() {
    let dir = temp_dir("broken");
    let key = dir.join("b/AWSLogs/111122223333/CloudTrail/us-east-1/2025/01/01");
    std::fs::create_dir_all(&key).unwrap();
    std::fs::write(key.join("a.json.gz"), b"\x1f\x8bnot gzip").unwrap();
    std::fs::write(key.join("b.json"), br#"{"Records": [{"eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "eventTime": "2025-01-01T00:00:00Z", "sourceIPAddress": "192.0.2.1", "userIdentity": {"userName": "x"}}]}"#).unwrap();
    std::fs::write(key.join("c.json"), b"{\"Records\": [").unwrap();
    let out = run(bin().arg("replay").arg(dir.join("b")).args(["--emit", "events"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 1, "{stderr}");
    assert!(stderr.contains("a.json.gz") && stderr.contains("invalid gzip"), "{stderr}");
    assert!(stderr.contains("c.json") && stderr.contains("line 1"), "{stderr}");
    assert!(stderr.contains("2 input(s) gave no event"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The HTML report drawn by headless Chromium: both charts, with the summary's numbers.
#[test]
fn the_html_report_draws_both_dashboards() {
    let Some(shared) = common::shared() else { return };
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed (.ci/run installs Debian's chromium)");
        }
        logtest::testing::loud_skip("chromium not found: the HTML report is not rendered");
        return;
    };
    let dir = temp_dir("html");
    let s3 = dir.join("s3");
    layout(&shared, &s3);
    let page = dir.join("report.html");
    let sj = dir.join("summary.json");
    let mut cmd = bin();
    cmd.arg("replay").arg(&s3).args(["-q", "-o", "/dev/null", "--report"]).arg(&page).arg("--summary-json").arg(&sj);
    stock_args(&shared, &mut cmd);
    run(&mut cmd);
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sj).unwrap()).unwrap();

    let profile = dir.join("profile");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1400",
    ];
    let url = format!("file://{}", page.display());
    let dom = Command::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(dom.contains(r#"data-drawn="yes""#), "the page's script ran: {}", &dom[..dom.len().min(2000)]);

    // Every slice and bar with its numbers, read back from the drawn SVG.
    let attr = |tag: &str, name: &str| -> Vec<String> {
        dom.split(&format!("<{tag} class=")[..])
            .skip(1)
            .filter_map(|t| {
                let t = &t[..t.find('>').unwrap_or(t.len())];
                let k = format!("{name}=\"");
                t.find(&k).map(|i| t[i + k.len()..].split('"').next().unwrap().to_string())
            })
            .collect()
    };
    let slices: Vec<u64> =
        attr("path", "data-count").iter().chain(&attr("circle", "data-count")).map(|c| c.parse().unwrap()).collect();
    let alerts = summary["alerts"].as_u64().unwrap();
    assert!(slices.len() >= 2, "pie slices drawn: {slices:?}");
    assert_eq!(slices.iter().sum::<u64>(), alerts, "the pie adds up to the alerts");
    let mut by_desc: Vec<u64> =
        summary["by_description"].as_object().unwrap().values().map(|v| v["count"].as_u64().unwrap()).collect();
    by_desc.sort_unstable_by(|a, b| b.cmp(a));
    if by_desc.len() > 12 {
        // The eleven largest, then the rest as one slice.
        let rest: u64 = by_desc[11..].iter().sum();
        by_desc.truncate(11);
        by_desc.push(rest);
    }
    let mut drawn = slices.clone();
    drawn.sort_unstable_by(|a, b| b.cmp(a));
    by_desc.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(drawn, by_desc, "one slice per description (the eleven largest and 'other' beyond twelve)");

    let groups = attr("rect", "data-group");
    let counts: Vec<u64> = attr("rect", "data-count").iter().map(|c| c.parse().unwrap()).collect();
    assert!(!counts.is_empty(), "stacked bars drawn");
    let mut per_group = std::collections::BTreeMap::<String, u64>::new();
    for (g, c) in groups.iter().zip(&counts) {
        *per_group.entry(g.replace("&amp;", "&")).or_default() += c;
    }
    let mut want = std::collections::BTreeMap::<String, u64>::new();
    for gs in summary["groups_by_hour"].as_object().unwrap().values() {
        for (g, n) in gs.as_object().unwrap() {
            *want.entry(g.clone()).or_default() += n.as_u64().unwrap();
        }
    }
    for (g, n) in &per_group {
        if !g.ends_with("other groups") {
            assert_eq!(want.get(g), Some(n), "group {g}");
        }
    }
    assert_eq!(per_group.values().sum::<u64>(), want.values().sum::<u64>(), "the bars add up");

    // A screenshot for people (kept under target/ as a test artefact).
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artefacts");
    std::fs::create_dir_all(&shot).unwrap();
    let png = shot.join("replay-report.png");
    let _ = std::fs::remove_file(&png);
    let st = Command::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(png.is_file(), "screenshot: {}", String::from_utf8_lossy(&st.stderr));
    std::fs::copy(&page, shot.join("replay-report.html")).unwrap();
    eprintln!("replay report: {} slices, {} bars; screenshot {}", slices.len(), counts.len(), png.display());
    std::fs::remove_dir_all(&dir).ok();
}
