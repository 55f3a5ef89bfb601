//! Upstream `.ini` rule tests, run the way `runtests.py` runs them
//! (spec rules.md 9.1).
//!
//! Each option whose name starts with `log ` is one test: all its lines
//! (continuation lines and repeated keys of the same name in the section are
//! joined, as `RawConfigParser` with runtests' `MultiOrderedDict` does) go
//! into one fresh session, in order, and only the **last** event's
//! `[rule id, level, decoder]` is compared with the section's `rule`, `alert`
//! and `decoder`. A name ending in `fail` passes when the comparison fails.
//! The exit-code detail of `wazuh-logtest -U` is reproduced: a correct result
//! "exits" with the number of empty expected fields, which only a `fail` test
//! accepts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One parsed section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The section name (between the brackets).
    pub name: String,
    /// (option name, value lines) in file order; values keep their lines.
    pub options: Vec<(String, Vec<String>)>,
    /// The line of each option's first occurrence (parallel to `options`).
    pub lines: Vec<u32>,
}

impl Section {
    /// An option's value, its lines joined with newlines.
    pub fn get(&self, key: &str) -> Option<String> {
        self.options.iter().find(|(k, _)| k == key).map(|(_, v)| v.join("\n"))
    }
}

/// One test case: a `log …` option of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The section the case is in.
    pub section: String,
    /// The `log N pass|fail` key.
    pub key: String,
    /// The section's expected `rule` id.
    pub rule: String,
    /// The section's expected `alert` (level).
    pub alert: String,
    /// The section's expected `decoder` name.
    pub decoder: String,
    /// The events, one per non-empty line.
    pub events: Vec<String>,
    /// Name ends with `fail`: success when the comparison fails.
    pub negate: bool,
    /// Line of the `log …` key in the file.
    pub line: u32,
}

/// Parses an `.ini` file as Python's `RawConfigParser` (strict=False) would,
/// with repeated options extending the earlier value.
pub fn parse(text: &str) -> Result<Vec<Section>, String> {
    let mut sections: Vec<Section> = Vec::new();
    // Section name → index, and (section, option name) → option index: a
    // section may hold a million `log` keys.
    let mut section_index: HashMap<String, usize> = HashMap::new();
    let mut option_index: HashMap<(usize, String), usize> = HashMap::new();
    // (section index, option index, indent of the option line)
    let mut cur_opt: Option<(usize, usize, usize)> = None;
    let mut cur_sec: Option<usize> = None;
    for (lineno, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let stripped = line.trim();
        let indent = line.len() - line.trim_start().len();
        if stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        if stripped.is_empty() {
            // Empty lines inside values are kept (empty_lines_in_values=True).
            if let Some((s, o, _)) = cur_opt {
                sections[s].options[o].1.push(String::new());
            }
            continue;
        }
        if let Some((s, o, ind)) = cur_opt {
            if indent > ind {
                sections[s].options[o].1.push(stripped.to_string());
                continue;
            }
        }
        if stripped.starts_with('[') && stripped.ends_with(']') && indent == 0 {
            let name = stripped[1..stripped.len() - 1].to_string();
            // strict=False: a repeated section continues the earlier one.
            cur_sec = Some(match section_index.get(&name) {
                Some(&i) => i,
                None => {
                    section_index.insert(name.clone(), sections.len());
                    sections.push(Section { name, options: Vec::new(), lines: Vec::new() });
                    sections.len() - 1
                }
            });
            cur_opt = None;
            continue;
        }
        let Some(si) = cur_sec else {
            return Err(format!("line {}: option outside of any section", lineno + 1));
        };
        let delim = line.find(['=', ':']).ok_or_else(|| format!("line {}: expected 'name = value'", lineno + 1))?;
        let name = line[..delim].trim().to_lowercase();
        let value = line[delim + 1..].trim().to_string();
        let sec = &mut sections[si];
        match option_index.get(&(si, name.clone())) {
            Some(&oi) => {
                sec.options[oi].1.push(value);
                cur_opt = Some((si, oi, indent));
            }
            None => {
                option_index.insert((si, name.clone()), sec.options.len());
                sec.options.push((name, vec![value]));
                sec.lines.push(lineno as u32 + 1);
                cur_opt = Some((si, sec.options.len() - 1, indent));
            }
        }
    }
    // Trailing empty lines of a value are dropped (configparser rstrips joined values).
    for s in &mut sections {
        for (_, v) in &mut s.options {
            while v.len() > 1 && v.last().is_some_and(|l| l.is_empty()) {
                v.pop();
            }
        }
    }
    Ok(sections)
}

/// The cases of a parsed file.
pub fn cases(sections: &[Section]) -> Vec<Case> {
    let mut out = Vec::new();
    for s in sections {
        let rule = s.get("rule").unwrap_or_default();
        let alert = s.get("alert").unwrap_or_default();
        let decoder = s.get("decoder").unwrap_or_default();
        for (oi, (k, v)) in s.options.iter().enumerate() {
            if !k.starts_with("log ") {
                continue;
            }
            let joined = v.join("\n");
            let events = joined.split('\n').filter(|l| !l.is_empty()).map(String::from).collect();
            out.push(Case {
                section: s.name.clone(),
                key: k.clone(),
                rule: rule.clone(),
                alert: alert.clone(),
                decoder: decoder.clone(),
                events,
                negate: k.ends_with("fail"),
                line: s.lines.get(oi).copied().unwrap_or(0),
            });
        }
    }
    out
}

/// The exit code `wazuh-logtest -U rule:alert:decoder` would give for a last result.
pub fn unit_exit_code(expected: &[String; 3], got: &[String; 3]) -> i32 {
    if expected == got {
        expected.iter().filter(|e| e.is_empty()).count() as i32
    } else {
        1
    }
}

/// Whether a case passes given the triple of its last event.
pub fn case_passes(case: &Case, got: &[String; 3]) -> bool {
    let expected = [case.rule.clone(), case.alert.clone(), case.decoder.clone()];
    let code = unit_exit_code(&expected, got);
    if case.negate {
        code != 0
    } else {
        code == 0
    }
}

/// The suite files of a run.
#[derive(Debug, Default)]
pub struct Collected {
    /// To run, in order.
    pub run: Vec<PathBuf>,
    /// Found but skipped: `*geoip.ini` without `--geoip`.
    pub skipped: Vec<PathBuf>,
}

/// Lists the `.ini` files of the given files and directories (sorted),
/// setting `*geoip.ini` apart unless `geoip`. A directory that cannot be read
/// is an error; in a directory only regular files count (a FIFO would block).
pub fn collect_files(paths: &[PathBuf], geoip: bool) -> Result<Collected, String> {
    let mut all = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let mut v: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|x| x.extension().is_some_and(|e| e == "ini") && x.is_file())
                .collect();
            v.sort();
            all.extend(v);
        } else if p.exists() {
            all.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    let (skipped, run) = all
        .into_iter()
        .partition(|p| !geoip && p.file_name().is_some_and(|n| n.to_string_lossy().ends_with("geoip.ini")));
    Ok(Collected { run, skipped })
}

/// Basename of a path for display.
pub fn display_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_repeated_and_continuation() {
        let text = "; c\n[Sec one]\nlog 1 pass = a: b = c\nlog 1 pass = second\nrule = 1\nalert = 3\ndecoder = \n\n[Two]\nlog 2 fail = x\n   continued\nrule=\nalert=\ndecoder=d\n";
        let s = parse(text).unwrap();
        assert_eq!(s.len(), 2);
        let c = cases(&s);
        assert_eq!(c[0].events, vec!["a: b = c".to_string(), "second".to_string()]);
        assert_eq!(c[0].decoder, "");
        assert_eq!(c[1].events, vec!["x".to_string(), "continued".to_string()]);
        assert!(c[1].negate);
    }

    #[test]
    fn exit_codes() {
        let e = |a: &str, b: &str, c: &str| [a.to_string(), b.to_string(), c.to_string()];
        assert_eq!(unit_exit_code(&e("1", "2", "x"), &e("1", "2", "x")), 0);
        assert_eq!(unit_exit_code(&e("", "", "x"), &e("", "", "x")), 2);
        assert_eq!(unit_exit_code(&e("1", "2", "x"), &e("1", "3", "x")), 1);
    }
}

/// The result of one case.
#[derive(Debug)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// Whether it passed (with `fail` keys inverted).
    pub passed: bool,
    /// `[rule id, level, decoder]` of the last event, as `wazuh-logtest -U` sees it.
    pub got: [String; 3],
    /// The reply `data` of every event (when asked for).
    pub responses: Vec<crate::json::Json>,
}

/// Runs one case in a fresh logtest session, as runtests.py runs one `wazuh-logtest -U`.
pub fn run_case(
    rs: &std::sync::Arc<crate::Ruleset>,
    opts: &crate::session::SessionOptions,
    case: Case,
    keep_responses: bool,
    coverage: &mut crate::testing::coverage::Coverage,
) -> CaseResult {
    use crate::output::logtest_text;
    let mut session =
        crate::logtest::LogtestSession::new(std::sync::Arc::clone(rs), opts.clone(), crate::logtest::new_token());
    let mut responses = Vec::new();
    let mut got = [String::new(), String::new(), String::new()];
    for ev in &case.events {
        let reply = session.process_from_client(b"stdin", ev.as_bytes(), crate::session::Timestamp::now(), false);
        if let Some(p) = &reply.processed {
            coverage.event(rs, p);
        }
        // A failed event keeps the previous result, as the CLI does.
        if reply.processed.is_some() {
            got = logtest_text::unit_triple(&reply.data).map(|v| String::from_utf8_lossy(&v).into_owned());
        }
        if keep_responses {
            responses.push(reply.data);
        }
    }
    let passed = case_passes(&case, &got);
    CaseResult { case, passed, got, responses }
}

/// The largest suite file read.
pub const MAX_SUITE_FILE: u64 = 256 << 20;

/// Reads and parses the cases of one `.ini` file.
pub fn load_cases(path: &Path) -> Result<Vec<Case>, String> {
    let bytes =
        crate::load::config::read_regular_file(path, MAX_SUITE_FILE).map_err(|e| format!("{}: {e}", path.display()))?;
    let sections = parse(&String::from_utf8_lossy(&bytes)).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(cases(&sections))
}

/// Parses and runs every case of one `.ini` file.
pub fn run_file(
    rs: &std::sync::Arc<crate::Ruleset>,
    opts: &crate::session::SessionOptions,
    path: &Path,
    keep_responses: bool,
) -> Result<Vec<CaseResult>, String> {
    let mut coverage = crate::testing::coverage::Coverage::default();
    Ok(load_cases(path)?.into_iter().map(|c| run_case(rs, opts, c, keep_responses, &mut coverage)).collect())
}

#[cfg(test)]
mod scale {
    #[test]
    fn many_keys_in_one_section_parse_in_linear_time() {
        let mut text = String::from("[s]\nrule = 1\nalert = 3\ndecoder = d\n");
        for i in 0..200_000 {
            text.push_str(&format!("log {i} pass = event {i}\n"));
        }
        // Quadratic parsing took minutes for this; linear, well under a second.
        let sections = super::parse(&text).unwrap();
        assert_eq!(super::cases(&sections).len(), 200_000);
    }
}
