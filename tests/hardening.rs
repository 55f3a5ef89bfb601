//! Regression tests for the defects a hostile probe found: each input either
//! gets Wazuh's answer or a clear error naming the file and line, without an
//! abort, a hang or an unbounded allocation.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use logtest::diagnostics::Code;
use logtest::load::config::RulesetFiles;
use logtest::load::LoadFailure;
use logtest::mitre::MitreDb;
use logtest::session::{Session, SessionOptions, Timestamp};
use logtest::Ruleset;

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("logtest-hardening-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const DECODERS: &str =
    r#"<decoder name="json"><prematch>^{\s*"</prematch><plugin_decoder>JSON_Decoder</plugin_decoder></decoder>"#;

const ROOT: &str =
    r#"<group name="root,"><rule id="1" level="0" noalert="1"><description>root</description></rule></group>"#;

/// Loads a ruleset of the JSON decoder, a root rule and these rule files.
fn load(tag: &str, rule_files: &[(&str, &[u8])]) -> Result<Ruleset, LoadFailure> {
    let d = dir(tag);
    let dec = d.join("decoders.xml");
    std::fs::write(&dec, DECODERS).unwrap();
    // A category root for the rules without if_sid/if_group.
    let root = d.join("00-root.xml");
    std::fs::write(&root, ROOT).unwrap();
    let mut rules = vec![root];
    for (name, text) in rule_files {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        rules.push(p);
    }
    let mut files = RulesetFiles::default();
    files.add_explicit(&[dec], &rules, &[]);
    Ruleset::load(&files, &MitreDb::embedded())
}

fn first_rule(rs: &Arc<Ruleset>, event: &[u8]) -> Option<u32> {
    let mut s = Session::new(Arc::clone(rs), SessionOptions { manager_name: b"m".to_vec(), ..Default::default() });
    let p = s.process(b"stdin", event, Timestamp { secs: 1_700_000_000, nanos: 0 }, false).unwrap();
    p.rule.map(|r| rs.rules.rules[r].id)
}

#[test]
fn pcre2_answers_on_long_subjects_as_wazuh() {
    let rules = br#"<group name="g,">
  <rule id="100001" level="5">
    <match type="pcre2">^(a|b)*c$</match>
    <description>long alternation</description>
  </rule>
</group>"#;
    let rs = Arc::new(load("pcre2", &[("r.xml", rules)]).unwrap());
    for n in [1_100usize, 16_000, 64_000] {
        let mut ev = b"ab".repeat(n / 2);
        ev.push(b'c');
        assert_eq!(first_rule(&rs, &ev), Some(100001), "{n} bytes");
    }
}

#[test]
fn stock_rule_92041_fires_on_a_long_base64_value() {
    let Some(shared) = common::shared() else { return };
    let mut files = RulesetFiles::from_home(&shared.join("wazuh-4.14.7")).unwrap();
    // runtests.py's adaptation lets a JSON event reach the Windows rules.
    files.adapt_rule_60000 = true;
    let rs = Arc::new(Ruleset::load(&files, &MitreDb::embedded()).unwrap());
    let b64: String = "QUJDRGVmZ2g0NTY3".chars().cycle().take(32_000).collect();
    let event = format!(
        r#"{{"win":{{"system":{{"providerName":"Microsoft-Windows-Sysmon","channel":"Microsoft-Windows-Sysmon/Operational","severityValue":"INFORMATION","eventID":"1"}},"eventdata":{{"originalFileName":"reg.exe","commandLine":"reg add HKCU\\Software\\x /v y /d {b64}"}}}}}}"#
    );
    assert_eq!(first_rule(&rs, event.as_bytes()), Some(92041));
}

#[test]
fn a_group_of_6000_indented_rules_loads() {
    let mut text = String::from("<group name=\"many,\">\n");
    for i in 0..6000 {
        text.push_str(&format!(
            "    <rule id=\"{}\" level=\"3\">\n        <match>needle{i}</match>\n        <description>rule {i}</description>\n    </rule>\n\n",
            100000 + i
        ));
    }
    text.push_str("</group>\n");
    let rs = load("many", &[("r.xml", text.as_bytes())]).unwrap();
    assert_eq!(rs.rules.rules.len(), 6001);
    assert!(rs.diagnostics.is_empty(), "{:?}", rs.diagnostics);
}

fn chain(n: u32) -> String {
    let mut text = String::from("<group name=\"c,\"><rule id=\"100000\" level=\"3\"><match>x</match><description>0</description></rule></group>\n");
    for i in 1..n {
        text.push_str(&format!(
            "<group name=\"c,\"><rule id=\"{}\" level=\"3\"><if_sid>{}</if_sid><match>x</match><description>{i}</description></rule></group>\n",
            100000 + i,
            100000 + i - 1
        ));
    }
    text
}

#[test]
fn a_50000_deep_if_sid_chain_loads_and_runs_in_a_small_thread() {
    let rs = Arc::new(load("chain", &[("r.xml", chain(50_000).as_bytes())]).unwrap());
    assert_eq!(first_rule(&rs, b"x"), Some(149_999));
    // Worker threads have small stacks: the walk does not recurse.
    let rs2 = Arc::clone(&rs);
    let got = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || first_rule(&rs2, b"x"))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(got, Some(149_999));
}

#[test]
fn variables_are_not_expanded_inside_variables() {
    // Each variable is ten of the previous one: Wazuh keeps the text literal.
    let mut text = String::from("<var name=\"v0\">boom</var>\n");
    for i in 1..10 {
        text.push_str(&format!("<var name=\"v{i}\">{}</var>\n", format!("$v{} ", i - 1).repeat(10).trim_end()));
    }
    text.push_str("<group name=\"g,\"><rule id=\"100001\" level=\"3\"><match>$v9</match><description>v9</description></rule></group>\n");
    let rs = Arc::new(load("vars", &[("r.xml", text.as_bytes())]).unwrap());
    let r = rs.rules.rule(100001).unwrap();
    let Some(logtest::matcher::Matcher::OsMatch(m)) = r.match_.as_ref().map(|c| &c.m) else { panic!("match") };
    assert_eq!(m.pattern(), "$v8 ".repeat(10).trim_end().as_bytes());
    assert_eq!(first_rule(&rs, "x $v8 $v8 $v8 $v8 $v8 $v8 $v8 $v8 $v8 $v8".as_bytes()), Some(100001));
    assert_eq!(first_rule(&rs, b"boom"), None);
}

#[test]
fn rules_that_feed_their_own_if_group_stop_with_an_error_at_the_rule() {
    let mut text = String::from("<group name=\"gx,\">\n");
    for i in 0..28 {
        text.push_str(&format!(
            "  <rule id=\"{}\" level=\"3\">\n    <if_group>gx</if_group>\n    <match>x</match>\n    <description>r</description>\n  </rule>\n",
            100001 + i
        ));
    }
    text.push_str("</group>\n");
    // The first rule's if_group has no target: make one.
    let base = b"<group name=\"gx,\"><rule id=\"100000\" level=\"3\"><match>x</match><description>base</description></rule></group>\n";
    let e = load("fanout", &[("a.xml", base), ("b.xml", text.as_bytes())]).unwrap_err();
    let d = e.error.diagnostic();
    assert_eq!(d.code, Code::RuleTreeTooBig);
    let span = d.span.as_ref().unwrap();
    assert!(span.file.ends_with("b.xml"), "{}", span.file);
    assert!(d.message.contains("positions"), "{}", d.message);
    // The rule that crossed the bound, at its own line.
    let id = d.rule.unwrap();
    assert_eq!(span.line, 2 + (id - 100001) * 5, "{}", d.message);
}

#[test]
fn description_expansion_stops_at_its_cap() {
    let rules = br#"<group name="g,">
  <rule id="100001" level="3">
    <match>big</match>
    <description>$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)$(f)</description>
  </rule>
</group>"#;
    let rs = Arc::new(load("desc", &[("r.xml", rules)]).unwrap());
    let mut s = Session::new(Arc::clone(&rs), SessionOptions { manager_name: b"m".to_vec(), ..Default::default() });
    let ev = format!("{{\"f\":\"{}\",\"m\":\"big\"}}", "y".repeat(1 << 20));
    let p = s.process(b"stdin", ev.as_bytes(), Timestamp::now(), false).unwrap();
    assert_eq!(p.description, "$(f)".repeat(20).as_bytes(), "past 1024 bytes: the description as written");
}

#[test]
fn fatal_errors_keep_the_messages_before_them() {
    let long = "A".repeat(3000);
    let rules = format!(
        r#"<group name="g,">
  <rule id="100001" level="3"><match>{long}</match><description>d</description></rule>
  <rule id="100002" level="3"><nosuch>x</nosuch><description>d</description></rule>
</group>"#
    );
    let e = load("fatal", &[("r.xml", rules.as_bytes())]).unwrap_err();
    assert!(e.diagnostics.iter().any(|d| d.message.starts_with("(1104)")), "{:?}", e.diagnostics);
    assert!(e.error.to_string().contains("nosuch"), "{}", e.error);
    // A logtest message is cut at 2047 bytes, as analysisd cuts it.
    let d = e.diagnostics.iter().find(|d| d.message.starts_with("(1104)")).unwrap();
    assert_eq!(logtest::diagnostics::render::wazuh_text(d).unwrap().len(), "ERROR: ".len() + 2047);
}

#[test]
fn a_session_over_a_ruleset_with_load_errors_answers_as_wazuh() {
    // Any ERROR while loading: analysisd answers every request with the
    // session's messages and codemsg -1, without token or output.
    let long = "A".repeat(3000);
    let rules = format!(
        r#"<group name="g,"><rule id="100001" level="3"><match>{long}</match><description>d</description></rule></group>"#
    );
    let rs = Arc::new(load("broken", &[("r.xml", rules.as_bytes())]).unwrap());
    let mut s = logtest::logtest::LogtestSession::new(Arc::clone(&rs), common::opts(), "00000000".into());
    for _ in 0..2 {
        let r = s.process(b"stdin", b"hello", Timestamp::now(), false);
        let text = String::from_utf8(r.data.to_unformatted()).unwrap();
        assert!(text.starts_with("{\"messages\":[\"ERROR: (1104): Maximum string size reached for: AAAA"), "{text}");
        assert!(text.contains("\"INFO: (7202): Session initialized with token '"), "{text}");
        assert!(text.ends_with("'\"],\"codemsg\":-1}"), "{text}");
        assert!(r.processed.is_none());
    }
}

#[test]
fn special_files_are_refused_not_read() {
    let mut files = RulesetFiles::default();
    files.add_explicit(&[], &[PathBuf::from("/dev/zero")], &[]);
    let e = Ruleset::load(&files, &MitreDb::embedded()).unwrap_err();
    assert!(e.to_string().contains("/dev/zero") && e.to_string().contains("not a regular file"), "{e}");
}

#[test]
fn a_list_named_by_another_path_to_the_same_file_is_found() {
    let d = dir("lists");
    std::fs::write(d.join("users"), "alice:\n").unwrap();
    let dec = d.join("decoders.xml");
    std::fs::write(&dec, DECODERS).unwrap();
    let abs = std::fs::canonicalize(d.join("users")).unwrap();
    let rules = format!(
        r#"<group name="g,"><rule id="100001" level="3"><list field="user" lookup="match_key">{}</list><description>d</description></rule></group>"#,
        abs.display()
    );
    let rf = d.join("r.xml");
    std::fs::write(&rf, rules).unwrap();
    // The list is given relative to the working directory, the rule names it absolute.
    let cwd = std::env::current_dir().unwrap();
    let rel: PathBuf = pathdiff(&abs, &cwd);
    let root = d.join("00-root.xml");
    std::fs::write(&root, ROOT).unwrap();
    let mut files = RulesetFiles::default();
    files.add_explicit(&[dec], &[root, rf], &[rel]);
    let rs = Ruleset::load(&files, &MitreDb::embedded()).unwrap();
    assert!(rs.diagnostics.is_empty(), "{:?}", rs.diagnostics);
    assert!(rs.rules.rule(100001).is_some());
}

/// `path` relative to `base` (both absolute).
fn pathdiff(path: &std::path::Path, base: &std::path::Path) -> PathBuf {
    let p: Vec<_> = path.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out
}
