//! What a test run reports: the counts and their summary line (the last line
//! of every run), and the JSON report of `.ini` suites.

use crate::json::Json;
use crate::testing::ini::CaseResult;

/// A `--report KIND=FILE` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSpec {
    /// Every case, its events and the responses, as JSON.
    Json(std::path::PathBuf),
}

impl std::str::FromStr for ReportSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<ReportSpec, String> {
        match s.split_once('=') {
            Some(("json", f)) if !f.is_empty() => Ok(ReportSpec::Json(f.into())),
            _ => Err(format!("invalid report '{s}': expected json=FILE")),
        }
    }
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
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

/// One `.ini` file of the JSON report: `{"file", "cases": [{section, key,
/// expect: {rule, alert, decoder}, events, responses, passed}]}`.
pub fn ini_file_json(name: &str, cases: Vec<CaseResult>) -> Json {
    let s = |v: &str| Json::String(v.as_bytes().to_vec());
    let k = |n: &str| n.as_bytes().to_vec();
    let cases = cases
        .into_iter()
        .map(|c| {
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
                (k("responses"), Json::Array(c.responses)),
                (k("passed"), Json::Bool(c.passed)),
            ])
        })
        .collect();
    Json::Object(vec![(k("file"), s(name)), (k("cases"), Json::Array(cases))])
}
