//! What a test run reports: each file's cases with their status, the
//! counts and their summary line (the last line of every run), and the
//! report files (JSON; JUnit in [`crate::testing::junit`]).

use std::path::PathBuf;

use crate::diagnostics::Diagnostic;
use crate::json::Json;
use crate::testing::ini::CaseResult;

/// How a case ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Every expectation held.
    Passed,
    /// An expectation did not hold (or the snapshot differs).
    Failed {
        /// One line: what did not hold.
        message: String,
        /// Everything a person needs: each failed expectation with its line,
        /// expected and got, and the rule trace.
        details: String,
        /// The suite line of the first failed expectation.
        line: u32,
    },
    /// Not run, with the reason.
    Skipped(String),
}

/// One case of a report.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// The case's name (`.ini`: `[section] key`).
    pub name: String,
    /// Line of the case in its file (0: unknown).
    pub line: u32,
    /// How it ended.
    pub status: Status,
    /// How long it took.
    pub seconds: f64,
    /// The case in the JSON report.
    pub json: Json,
}

/// One suite file of a report.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// The file as shown (its name, or path when names repeat).
    pub name: String,
    /// The file could not be run at all.
    pub error: Option<Diagnostic>,
    /// Its cases in file order.
    pub cases: Vec<CaseReport>,
}

/// A suite file that cannot be run, as a diagnostic at the file.
pub fn file_error(path: &std::path::Path, code: crate::diagnostics::Code, message: impl Into<String>) -> Diagnostic {
    let file = crate::diagnostics::SourceFile::new(&path.display().to_string(), Some(path));
    Diagnostic::ours(code, crate::diagnostics::Severity::Fatal, message).at(file.whole())
}

/// A failed case as a diagnostic at its line (for GitHub annotations).
pub fn failure_diagnostic(path: &std::path::Path, line: u32, case: &str, message: &str) -> Diagnostic {
    let file = crate::diagnostics::SourceFile::new(&path.display().to_string(), Some(path));
    Diagnostic::ours(
        crate::diagnostics::Code::TestFailed,
        crate::diagnostics::Severity::Error,
        format!("{case}: {message}"),
    )
    .at(file.span(line, 0, 0, 0))
}

/// A `--report KIND=FILE` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSpec {
    /// Every case, its events and the responses, as JSON.
    Json(std::path::PathBuf),
    /// JUnit XML.
    Junit(std::path::PathBuf),
}

impl std::str::FromStr for ReportSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<ReportSpec, String> {
        match s.split_once('=') {
            Some(("json", f)) if !f.is_empty() => Ok(ReportSpec::Json(f.into())),
            Some(("junit", f)) if !f.is_empty() => Ok(ReportSpec::Junit(f.into())),
            _ => Err(format!("invalid report '{s}': expected json=FILE or junit=FILE")),
        }
    }
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases skipped (`skip:`).
    pub skipped: usize,
    /// Suite files that could not be run at all.
    pub errors: usize,
}

impl Summary {
    /// `N passed, M failed[, K skipped]`.
    pub fn line(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped", self.skipped));
        }
        s
    }

    /// Nothing failed and every file ran.
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.errors == 0
    }
}

/// The failure line of an `.ini` case, as the runner prints it.
pub fn ini_failure_line(c: &CaseResult) -> String {
    format!(
        "  FAIL [{}] {}: expected rule '{}' level '{}' decoder '{}'{}, got rule '{}' level '{}' decoder '{}'",
        c.case.section,
        c.case.key,
        c.case.rule,
        c.case.alert,
        c.case.decoder,
        if c.case.negate { " to differ" } else { "" },
        c.got[0],
        c.got[1],
        c.got[2]
    )
}

/// One file of the JSON report: `{"file", "cases": [...]}`.
pub fn file_json(f: &FileReport) -> Json {
    let s = |v: &str| Json::String(v.as_bytes().to_vec());
    let mut o = vec![(b"file".to_vec(), s(&f.name))];
    if let Some(e) = &f.error {
        o.push((b"error".to_vec(), s(&e.to_string())));
    }
    o.push((b"cases".to_vec(), Json::Array(f.cases.iter().map(|c| c.json.clone()).collect())));
    Json::Object(o)
}

/// One `.ini` case of the JSON report: `{section, key, expect: {rule, alert,
/// decoder}, events, responses, passed}`.
pub fn ini_case_json(c: &CaseResult) -> Json {
    let s = |v: &str| Json::String(v.as_bytes().to_vec());
    let k = |n: &str| n.as_bytes().to_vec();
    Json::Object(vec![
        (k("section"), s(&c.case.section)),
        (k("key"), s(&c.case.key)),
        (
            k("expect"),
            Json::Object(vec![
                (k("rule"), s(&c.case.rule)),
                (k("alert"), s(&c.case.alert)),
                (k("decoder"), s(&c.case.decoder)),
            ]),
        ),
        (k("events"), Json::Array(c.case.events.iter().map(|e| s(e)).collect())),
        (k("responses"), Json::Array(c.responses.clone())),
        (k("passed"), Json::Bool(c.passed)),
    ])
}

/// One `.ini` file of the JSON report (all its cases).
pub fn ini_file_json(name: &str, cases: Vec<CaseResult>) -> Json {
    let s = |v: &str| Json::String(v.as_bytes().to_vec());
    let k = |n: &str| n.as_bytes().to_vec();
    let cases = cases.iter().map(ini_case_json).collect();
    Json::Object(vec![(k("file"), s(name)), (k("cases"), Json::Array(cases))])
}
