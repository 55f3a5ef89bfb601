//! `logtest test`: runs rule test suites and reports each file as it
//! finishes (in input order), then the summary line.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use logtest::json::Json;
use logtest::testing::report::{self, ReportSpec, Summary};
use logtest::testing::{ini, runner};

use super::common::{self, RulesetArgs};
use super::CliError;

#[derive(Args, Clone)]
pub struct TestArgs {
    /// `.ini` files or directories of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    ruleset: RulesetArgs,
    /// Do not apply runtests.py's rule-60000 EventChannel adaptation.
    #[arg(long = "skip-windows-eventchannel", short = 's')]
    skip_windows_eventchannel: bool,
    /// Also run *geoip.ini files (needs --geoip-db).
    #[arg(long, short = 'g')]
    geoip: bool,
    /// Write a report: `json=FILE` (every case, its events and our logtest responses).
    #[arg(long, value_name = "KIND=FILE")]
    report: Vec<ReportSpec>,
    /// Worker threads (default: number of CPUs).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
}

pub fn run(t: TestArgs) -> Result<ExitCode, CliError> {
    if t.geoip && t.ruleset.geoip_db.is_none() {
        return Err(CliError::Usage(
            "--geoip runs the *geoip.ini tests, which need a GeoIP database: give it with --geoip-db FILE (.mmdb)"
                .into(),
        ));
    }
    let rs = Arc::new(t.ruleset.load(!t.skip_windows_eventchannel)?);
    let opts = t.ruleset.session_options()?;
    let mut err = std::io::stderr().lock();
    let ioerr = |e| CliError::io("writing to stderr", e);
    writeln!(err, "logtest: loaded {}", rs.summary()).map_err(ioerr)?;
    common::print_diagnostics(&rs.diagnostics).map_err(ioerr)?;
    if let Some(g) = &opts.geoip {
        writeln!(err, "logtest: GeoIP database {} ({})", g.path().display(), g.database_type()).map_err(ioerr)?;
    }
    let mut report_json = None;
    for r in &t.report {
        match r {
            ReportSpec::Json(p) => report_json = Some(p.clone()),
        }
    }
    let collected = ini::collect_files(&t.paths, t.geoip).map_err(CliError::Usage)?;
    let files = collected.run;
    if files.is_empty() && collected.skipped.is_empty() {
        return Err(CliError::Usage(format!(
            "no tests found in {}",
            t.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    let jobs = t.jobs.unwrap_or_else(runner::default_jobs);
    let keep = report_json.is_some();
    let mut out = std::io::stdout().lock();
    let mut summary = Summary::default();
    let oerr = |e| CliError::io("writing to stdout", e);
    if !collected.skipped.is_empty() {
        // As runtests.py, GeoIP suites are left out unless asked for (not counted as skipped).
        let n = collected.skipped.len();
        writeln!(err, "logtest: {n} *geoip.ini files not run (they need --geoip --geoip-db FILE)").map_err(ioerr)?;
    }
    let mut report_files: Vec<Json> = Vec::new();
    let mut write_error: Option<CliError> = None;
    runner::ordered(
        &files,
        jobs,
        |_, path| ini::run_file(&rs, &opts, path, keep),
        |i, result| {
            let name = ini::display_name(&files[i]);
            let mut text = String::new();
            match result {
                Err(e) => {
                    summary.errors += 1;
                    text.push_str(&format!("{name}: error: {e}\n"));
                }
                Ok(cases) => {
                    let p = cases.iter().filter(|c| c.passed).count();
                    let f = cases.len() - p;
                    summary.passed += p;
                    summary.failed += f;
                    text.push_str(&format!("{name}: {p} passed, {f} failed\n"));
                    for c in cases.iter().filter(|c| !c.passed) {
                        text.push_str(&report::ini_failure_line(c));
                        text.push('\n');
                    }
                    if keep {
                        report_files.push(report::ini_file_json(&name, cases));
                    }
                }
            }
            match out.write_all(text.as_bytes()) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    write_error = Some(CliError::io("writing to stdout", e));
                    ControlFlow::Break(())
                }
            }
        },
    );
    if let Some(e) = write_error {
        return Err(e);
    }
    if let Some(path) = report_json {
        let mut buf = Vec::new();
        Json::Array(report_files).write_unformatted(&mut buf);
        buf.push(b'\n');
        std::fs::write(&path, buf).map_err(|e| CliError::io(format!("writing {}", path.display()), e))?;
    }
    if summary.errors > 0 {
        writeln!(out, "{} files could not be run", summary.errors).map_err(oerr)?;
    }
    writeln!(out, "{}", summary.line()).map_err(oerr)?;
    out.flush().map_err(oerr)?;
    Ok(if summary.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
