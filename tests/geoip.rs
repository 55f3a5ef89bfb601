//! GeoIP (`--geoip-db`): lookups after decoding, `<srcgeoip>`/`<dstgeoip>`,
//! `same_*geoip`/`different_*geoip`, `$(srcgeoip)`, the `geoip_jsonout` keys,
//! and the upstream `*geoip.ini` suites, against tiny MaxMind databases built
//! here (no real GeoIP data is available: the locations below are made up
//! where upstream's tests do not imply them).

mod common;
#[path = "support/mmdb_writer.rs"]
mod mmdb_writer;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use logtest::geoip::GeoIp;
use logtest::json::Json;
use logtest::load::config::RulesetFiles;
use logtest::mitre::MitreDb;
use logtest::output::alert::{self, AlertContext};
use logtest::session::{Processed, Session, SessionOptions, Timestamp};
use logtest::Ruleset;
use mmdb_writer::{city, MmdbWriter};

/// The addresses of upstream's geoip tests and ours.
fn test_db() -> Vec<u8> {
    let mut w = MmdbWriter::new(6, "GeoLite2-City");
    w.insert_v4([8, 0, 0, 0], 8, city("US", None));
    w.insert_v4([8, 8, 8, 0], 24, city("US", Some("California")));
    w.insert_v4([194, 69, 224, 0], 24, city("NL", Some("Noord-Holland")));
    w.insert_v4([200, 16, 16, 0], 24, city("AR", Some("Buenos Aires")));
    w.insert_v4([41, 78, 120, 0], 24, city("CF", Some("Haut-Mbomou")));
    w.insert_v4([94, 80, 188, 0], 24, city("IT", Some("Lombardy")));
    w.insert_v4([2, 136, 147, 0], 24, city("ES", Some("Madrid")));
    w.insert_v4([2, 136, 14, 0], 24, city("ES", Some("Catalonia")));
    w.insert_v4([1, 1, 1, 0], 24, city("AU", None));
    w.build()
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("logtest-geoip-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn db_file(dir: &Path) -> PathBuf {
    let p = dir.join("test-city.mmdb");
    std::fs::write(&p, test_db()).unwrap();
    p
}

const DECODERS: &str = r#"
<decoder name="geo">
  <program_name>^geo$</program_name>
  <regex>^(\S+) from (\S+) to (\S+)</regex>
  <order>action, srcip, dstip</order>
</decoder>

<decoder name="geoacc">
  <program_name>^geoacc$</program_name>
  <accumulate />
  <regex>^id=(\S+) ip=(\S*)</regex>
  <order>id, srcip</order>
</decoder>

<decoder name="json">
  <prematch>^{\s*"</prematch>
  <plugin_decoder>JSON_Decoder</plugin_decoder>
</decoder>
"#;

const RULES: &str = r#"
<group name="geo,">
  <rule id="1" level="0" noalert="1">
    <category>syslog</category>
    <description>Generic template for all syslog rules.</description>
  </rule>
  <rule id="100100" level="0">
    <category>syslog</category>
    <decoded_as>geo</decoded_as>
    <description>geo events</description>
  </rule>
  <rule id="100101" level="5">
    <if_sid>100100</if_sid>
    <action>probe</action>
    <srcgeoip>US</srcgeoip>
    <description>probe from $(srcgeoip) to $(dstgeoip)</description>
  </rule>
  <rule id="100102" level="4">
    <if_sid>100100</if_sid>
    <action>probe</action>
    <dstgeoip negate="yes">US</dstgeoip>
    <description>probe to $(dstgeoip)</description>
  </rule>
  <rule id="100110" level="3">
    <if_sid>100100</if_sid>
    <action>login</action>
    <description>login</description>
  </rule>
  <rule id="100111" level="8" frequency="3" timeframe="300">
    <if_matched_sid>100110</if_matched_sid>
    <same_srcgeoip />
    <description>logins from one place</description>
  </rule>
  <rule id="100120" level="3">
    <if_sid>100100</if_sid>
    <action>logout</action>
    <description>logout</description>
  </rule>
  <rule id="100121" level="8" frequency="3" timeframe="300">
    <if_matched_sid>100120</if_matched_sid>
    <different_srcgeoip />
    <description>logouts from different places</description>
  </rule>
  <rule id="100130" level="3">
    <category>syslog</category>
    <decoded_as>geoacc</decoded_as>
    <description>accumulated</description>
  </rule>
  <rule id="100131" level="6">
    <if_sid>100130</if_sid>
    <srcgeoip>US</srcgeoip>
    <description>accumulated, from the US</description>
  </rule>
  <rule id="100140" level="3">
    <category>syslog</category>
    <decoded_as>json</decoded_as>
    <description>json</description>
  </rule>
  <rule id="100141" level="7">
    <if_sid>100140</if_sid>
    <dstgeoip type="pcre2">^CF / Haut-Mbomou$</dstgeoip>
    <description>json to $(dstgeoip)</description>
  </rule>
</group>
"#;

fn mini_ruleset(dir: &Path) -> Arc<Ruleset> {
    let d = dir.join("geo_decoders.xml");
    let r = dir.join("geo_rules.xml");
    std::fs::write(&d, DECODERS).unwrap();
    std::fs::write(&r, RULES).unwrap();
    let mut files = RulesetFiles { origin: "explicit files".into(), ..Default::default() };
    files.add_explicit(&[d], &[r], &[]);
    Arc::new(Ruleset::load(&files, &MitreDb::embedded()).expect("test ruleset loads"))
}

fn opts(geoip: Option<&Arc<GeoIp>>, jsonout: bool) -> SessionOptions {
    SessionOptions {
        manager_name: b"wazuh-manager".to_vec(),
        geoip: geoip.cloned(),
        geoip_jsonout: jsonout,
        ..Default::default()
    }
}

/// Runs events in one session: (rule id, description) of each.
fn run(rs: &Arc<Ruleset>, o: SessionOptions, events: &[&str]) -> Vec<(String, String)> {
    let mut s = Session::new(Arc::clone(rs), o);
    events
        .iter()
        .map(|e| {
            let p = s.process(b"stdin", e.as_bytes(), Timestamp::now(), false).unwrap();
            let id = p.rule.map(|ri| rs.rules.rules[ri].id.to_string()).unwrap_or_default();
            (id, String::from_utf8_lossy(&p.description).into_owned())
        })
        .collect()
}

fn last_rule(rs: &Arc<Ruleset>, o: SessionOptions, events: &[&str]) -> String {
    run(rs, o, events).pop().unwrap().0
}

fn syslog(program: &str, msg: &str) -> String {
    format!("Dec 19 17:20:08 host {program}[1]: {msg}")
}

#[test]
fn rule_conditions_and_descriptions() {
    let dir = tempdir("conds");
    let rs = mini_ruleset(&dir);
    let g = Arc::new(GeoIp::open(&db_file(&dir)).unwrap());
    let ev = |m: &str| syslog("geo", m);
    let r = run(&rs, opts(Some(&g), false), &[&ev("probe from 8.8.8.8 to 9.9.9.9")]);
    assert_eq!(r[0], ("100101".into(), "probe from US / California to ".into()));
    // dstgeoip negate="yes" US: matches a non-US destination, never a missing one.
    let r = run(
        &rs,
        opts(Some(&g), false),
        &[
            &ev("probe from 1.1.1.1 to 200.16.16.1"),
            &ev("probe from 1.1.1.1 to 9.9.9.9"),
            &ev("probe from 1.1.1.1 to 8.8.4.4"),
        ],
    );
    assert_eq!(r[0], ("100102".into(), "probe to AR / Buenos Aires".into()));
    assert_eq!(r[1].0, "100100");
    assert_eq!(r[2].0, "100100");
    // Without a database, as the shipped (non-GeoIP) manager: never matches, and
    // $(srcgeoip) is an ordinary (absent) dynamic field.
    assert_eq!(last_rule(&rs, opts(None, false), &[&ev("probe from 8.8.8.8 to 200.16.16.1")]), "100100");
    // JSON-decoded addresses are looked up too.
    let j = r#"{"srcip":"1.1.1.1","dstip":"41.78.120.9"}"#;
    assert_eq!(run(&rs, opts(Some(&g), false), &[j])[0], ("100141".into(), "json to CF / Haut-Mbomou".into()));
    assert_eq!(last_rule(&rs, opts(None, false), &[j]), "100140");
    // Addresses the accumulator copies in get no lookup (upstream looks up in the decoders).
    let a = |m: &str| syslog("geoacc", m);
    let r = run(&rs, opts(Some(&g), false), &[&a("id=7 ip=8.8.8.8"), &a("id=7 ip=")]);
    assert_eq!(r[0].0, "100131");
    assert_eq!(r[1].0, "100130");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn same_and_different_geoip() {
    let dir = tempdir("same");
    let rs = mini_ruleset(&dir);
    let g = Arc::new(GeoIp::open(&db_file(&dir)).unwrap());
    let ev = |a: &str, ip: &str| syslog("geo", &format!("{a} from {ip} to 1.1.1.1"));
    let with = || opts(Some(&g), false);
    // same_srcgeoip: 8.8.4.4 is "US", 8.8.8.x "US / California".
    let logins = [ev("login", "8.8.8.8"), ev("login", "8.8.8.8"), ev("login", "8.8.4.4"), ev("login", "8.8.8.9")];
    let l: Vec<&str> = logins.iter().map(String::as_str).collect();
    let ids: Vec<String> = run(&rs, with(), &l).into_iter().map(|r| r.0).collect();
    assert_eq!(ids, ["100110", "100110", "100110", "100111"]);
    let ids: Vec<String> = run(&rs, opts(None, false), &l).into_iter().map(|r| r.0).collect();
    assert_eq!(ids, ["100110"; 4], "no geoip: same_srcgeoip never holds");
    // different_srcgeoip
    let same_place = [ev("logout", "8.8.8.8"), ev("logout", "8.8.8.9"), ev("logout", "8.8.8.10")];
    let l: Vec<&str> = same_place.iter().map(String::as_str).collect();
    assert_eq!(last_rule(&rs, with(), &l), "100120");
    assert_eq!(last_rule(&rs, opts(None, false), &l), "100121", "no geoip: absent values count as different");
    let moved = [ev("logout", "8.8.8.8"), ev("logout", "8.8.8.8"), ev("logout", "8.8.4.4")];
    let l: Vec<&str> = moved.iter().map(String::as_str).collect();
    assert_eq!(last_rule(&rs, with(), &l), "100121");
    let _ = std::fs::remove_dir_all(dir);
}

fn alert_keys(rs: &Arc<Ruleset>, p: &Processed) -> Json {
    alert::alert_json(rs, p, &AlertContext { manager_name: b"wazuh-manager", logtest: true, id_suffix: 0 })
}

#[test]
fn geoip_jsonout_keys() {
    let dir = tempdir("jsonout");
    let rs = mini_ruleset(&dir);
    let g = Arc::new(GeoIp::open(&db_file(&dir)).unwrap());
    let e = syslog("geo", "probe from 8.8.8.8 to 41.78.120.9");
    let process =
        |o| Session::new(Arc::clone(&rs), o).process(b"stdin", e.as_bytes(), Timestamp::now(), false).unwrap();
    let Json::Object(root) = alert_keys(&rs, &process(opts(Some(&g), true))) else { panic!() };
    let keys: Vec<String> = root.iter().map(|(k, _)| String::from_utf8_lossy(k).into_owned()).collect();
    let at = |k: &str| keys.iter().position(|x| x == k).unwrap_or_else(|| panic!("{k} in {keys:?}"));
    // to_json.c: after previous_output, before full_log; strings at the root, not in data.
    assert_eq!(
        (at("id") + 1, at("id") + 2, at("id") + 3),
        (at("srcgeoip"), at("dstgeoip"), at("full_log")),
        "{keys:?}"
    );
    let val = |k: &str| root.iter().find(|(n, _)| n == k.as_bytes()).map(|(_, v)| v.to_unformatted());
    assert_eq!(val("srcgeoip"), Some(br#""US / California""#.to_vec()));
    assert_eq!(val("dstgeoip"), Some(br#""CF / Haut-Mbomou""#.to_vec()));
    // Default (geoip_jsonout=0) and no database: no keys.
    for o in [opts(Some(&g), false), opts(None, false)] {
        let out = alert_keys(&rs, &process(o)).to_unformatted();
        assert!(!String::from_utf8_lossy(&out).contains("geoip"), "{}", String::from_utf8_lossy(&out));
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn logtest(args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

#[test]
fn cli_geoip_db() {
    let dir = tempdir("cli");
    let db = db_file(&dir);
    let db = db.to_str().unwrap();
    let rs = mini_ruleset(&dir);
    drop(rs);
    let dec = dir.join("geo_decoders.xml");
    let rules = dir.join("geo_rules.xml");
    let base = ["--decoders", dec.to_str().unwrap(), "--rules", rules.to_str().unwrap()];
    let input = format!("{}\n", syslog("geo", "probe from 8.8.8.8 to 41.78.120.9"));
    // alerts.json with geoip_jsonout
    let mut args = base.to_vec();
    args.extend(["--geoip-db", db, "--geoip-jsonout", "--format", "json"]);
    let out = logtest(&args, &input);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(r#""srcgeoip":"US / California","dstgeoip":"CF / Haut-Mbomou","full_log":"#), "{stdout}");
    assert!(stdout.contains(r#""description":"probe from US / California to CF / Haut-Mbomou""#), "{stdout}");
    // The database alone changes matching, not the output keys.
    let mut args = base.to_vec();
    args.extend(["--geoip-db", db, "--format", "logtest-json"]);
    let stdout = String::from_utf8_lossy(&logtest(&args, &input).stdout).into_owned();
    assert!(stdout.contains(r#""id":"100101""#) && !stdout.contains("\"srcgeoip\""), "{stdout}");
    // A bad file is an error naming it.
    let bad = dir.join("bad.mmdb");
    std::fs::write(&bad, "not a database").unwrap();
    let mut args = base.to_vec();
    args.extend(["--geoip-db", bad.to_str().unwrap()]);
    let out = logtest(&args, &input);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.mmdb") && err.contains("--geoip-db"), "{err}");
    // --geoip-jsonout needs --geoip-db.
    let mut args = base.to_vec();
    args.push("--geoip-jsonout");
    assert_ne!(logtest(&args, &input).status.code(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn upstream_geoip_ini_files() {
    let Some(shared) = common::shared() else { return };
    let home = shared.join("wazuh-4.14.7");
    let tests = home.join("testing/tests");
    let dec = format!("{}/testing/ruleset/*_decoders.xml", home.display());
    let rules = format!("{}/testing/ruleset/*_rules.xml", home.display());
    let dir = tempdir("ini");
    let db = db_file(&dir);
    let base = ["test", "--home", home.to_str().unwrap(), "--decoders", &dec, "--rules", &rules];

    // --geoip without a database is an error.
    let out = Command::new(env!("CARGO_BIN_EXE_logtest")).args(base).arg("--geoip").arg(&tests).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--geoip-db"));

    // With one, the four *geoip.ini files run and pass (on this made-up data).
    let mut geoip_files: Vec<PathBuf> = std::fs::read_dir(&tests)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("geoip.ini"))
        .collect();
    geoip_files.sort();
    assert_eq!(geoip_files.len(), 4);
    let out = Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args(base)
        .args(["--geoip", "--geoip-db"])
        .arg(&db)
        .args(&geoip_files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().last(), Some("18 passed, 0 failed"), "{stdout}");
    assert_eq!(out.status.code(), Some(0));

    // The whole directory: every other file still passes with a database loaded.
    let out = Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args(base)
        .args(["--geoip", "--geoip-db"])
        .arg(&db)
        .arg(&tests)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().last(), Some("1446 passed, 0 failed"), "{stdout}");

    // Without --geoip the files are skipped even with a database.
    let out = Command::new(env!("CARGO_BIN_EXE_logtest"))
        .args(base)
        .arg("--geoip-db")
        .arg(&db)
        .args(&geoip_files)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().last(), Some("0 passed, 0 failed"));
    let _ = std::fs::remove_dir_all(dir);
}
