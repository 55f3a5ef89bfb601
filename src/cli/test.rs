//! `logtest test`: runs `.ini` and YAML suites, case by case on `-j`
//! threads, and reports each file as it finishes (in input order), failures
//! with their suite lines, expected and got values and the rule trace; then
//! coverage, report files and the summary line (always the last line).

use std::collections::HashMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, ValueEnum};

use logtest::diagnostics::{render, Code, Diagnostic};
use logtest::json::Json;
use logtest::load::config::RulesetFiles;
use logtest::session::{SessionOptions, Timestamp};
use logtest::testing::case::{self, CaseRun};
use logtest::testing::coverage::Coverage;
use logtest::testing::report::{self, CaseReport, FileReport, ReportSpec, Status, Summary};
use logtest::testing::suite::{self, Suite, SuiteRuleset};
use logtest::testing::{ini, junit, runner, snapshot};
use logtest::Ruleset;

use super::common::{self, RulesetArgs};
use super::CliError;

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Lines for a terminal or a CI log.
    Human,
    /// The same, plus GitHub Actions annotations (`::error file=…,line=…::`) for each failure.
    Github,
}

#[derive(Args, Clone)]
pub struct TestArgs {
    /// Suite files (`.ini`, `.yaml`, `.yml`) or directories of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    ruleset: RulesetArgs,
    /// Do not apply runtests.py's rule-60000 EventChannel adaptation (`.ini` suites).
    #[arg(long = "skip-windows-eventchannel", short = 's')]
    skip_windows_eventchannel: bool,
    /// Also run *geoip.ini files (needs --geoip-db).
    #[arg(long, short = 'g')]
    geoip: bool,
    /// Write a report: `json=FILE` (every case, its events and responses) or `junit=FILE`.
    #[arg(long, value_name = "KIND=FILE")]
    report: Vec<ReportSpec>,
    /// Worker threads (default: number of CPUs).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Report rule and decoder coverage; `--coverage=json=FILE` also writes it as JSON (the
    /// `=` is needed, so `--coverage DIR` reads DIR as a suite).
    #[arg(long, value_name = "json=FILE", num_args = 0..=1, require_equals = true, default_missing_value = "text")]
    coverage: Option<String>,
    /// Fail (exit 1) when fewer than PCT percent of the rules that can fire fired.
    #[arg(long = "coverage-min", value_name = "PCT")]
    coverage_min: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Write missing snapshots and update differing ones (refused when CI is set).
    #[arg(long)]
    accept: bool,
    /// Run only share K of N (a stable split by case): `--partition 2/4`.
    #[arg(long, value_name = "K/N", value_parser = parse_partition)]
    partition: Option<(u64, u64)>,
    /// Run only cases whose name contains TEXT (repeatable: any of them).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
}

fn parse_partition(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("invalid partition '{s}': expected K/N with 1 <= K <= N");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (u64, u64) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// FNV-1a: a hash that is the same on every machine and run.
fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A suite file of the run.
enum SuiteFile {
    Ini(PathBuf),
    Native(PathBuf),
}

/// One unit of work: a case.
enum Job {
    Ini { file: usize, case: ini::Case, rs: Arc<Ruleset> },
    Native { file: usize, case: usize, rs: Arc<Ruleset> },
}

impl Job {
    fn file(&self) -> usize {
        match self {
            Job::Ini { file, .. } | Job::Native { file, .. } => *file,
        }
    }
}

/// What a job gave.
struct Done {
    report: CaseReport,
    coverage: Coverage,
    /// A snapshot that was written (`--accept`).
    wrote: Option<PathBuf>,
}

/// Lists suite files: the files given, and the `.ini`/`.yaml`/`.yml`
/// regular files of the directories given (not their subdirectories).
fn collect(paths: &[PathBuf], geoip: bool) -> Result<(Vec<SuiteFile>, usize), CliError> {
    let kind = |p: &Path| match p.extension().and_then(|e| e.to_str()) {
        Some("ini") => Some(true),
        Some("yaml" | "yml") => Some(false),
        _ => None,
    };
    let mut out = Vec::new();
    let mut geoip_left_out = 0;
    let mut push = |p: PathBuf, out: &mut Vec<SuiteFile>| match kind(&p) {
        Some(true) => {
            if !geoip && p.file_name().is_some_and(|n| n.to_string_lossy().ends_with("geoip.ini")) {
                geoip_left_out += 1;
            } else {
                out.push(SuiteFile::Ini(p));
            }
        }
        Some(false) => out.push(SuiteFile::Native(p)),
        None => out.push(SuiteFile::Native(p)),
    };
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| CliError::io(format!("reading {}", p.display()), e))?;
            let mut v: Vec<PathBuf> =
                rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|x| kind(x).is_some() && x.is_file()).collect();
            v.sort();
            for x in v {
                push(x, &mut out);
            }
        } else if p.exists() {
            push(p.clone(), &mut out);
        } else {
            return Err(CliError::Usage(format!("{}: no such file or directory", p.display())));
        }
    }
    Ok((out, geoip_left_out))
}

/// The ruleset of a suite that names its own.
fn suite_ruleset(r: &SuiteRuleset, cli: &RulesetArgs) -> Result<Ruleset, CliError> {
    let args = RulesetArgs {
        home: r.home.clone(),
        decoders: r.decoders.clone(),
        rules: r.rules.clone(),
        lists: r.lists.clone(),
        mitre: r.mitre.clone().or_else(|| cli.mitre.clone()),
        ..cli.clone()
    };
    let files = if args.home.is_none() && args.decoders.is_empty() && args.rules.is_empty() && args.lists.is_empty() {
        RulesetFiles { origin: "suite".into(), ..Default::default() }
    } else {
        args.files(false)?
    };
    Ruleset::load(&files, &args.mitre()?).map_err(|f| CliError::Load(Box::new(f)))
}

/// Failures of a native case, as the report and the terminal show them.
fn native_failure(path: &Path, case: &suite::Case, run: &CaseRun, debug: &CaseRun) -> Status {
    let name = path.display();
    let mut details = String::new();
    let mut events_to_trace = Vec::new();
    for f in &run.failures {
        details.push_str(&format!(
            "{name}:{}: event {}: {}: expected {}, got {}\n",
            f.line,
            f.event + 1,
            f.key,
            f.expected,
            f.got
        ));
        if !events_to_trace.contains(&f.event) {
            events_to_trace.push(f.event);
        }
    }
    for i in events_to_trace {
        let ev = &case.events[i];
        details.push_str(&format!(
            "event {} ({}:{}): {}\n",
            i + 1,
            ev.file.display(),
            ev.line,
            String::from_utf8_lossy(&ev.text).chars().take(300).collect::<String>()
        ));
        if let Some(lines) = debug.events.get(i).and_then(|e| e.rules_debug.as_ref()) {
            details.push_str(&format!("rule trace of event {}:\n", i + 1));
            for l in lines {
                details.push_str(&format!("  {l}\n"));
            }
        }
    }
    let first = &run.failures[0];
    Status::Failed {
        message: format!(
            "event {}: {}: expected {}, got {}{}",
            first.event + 1,
            first.key,
            first.expected,
            first.got,
            if run.failures.len() > 1 { format!(" (and {} more)", run.failures.len() - 1) } else { String::new() }
        ),
        details,
        line: first.line,
    }
}

fn native_case_json(case: &suite::Case, run: &CaseRun, passed: bool) -> Json {
    let s = |v: &str| Json::String(v.as_bytes().to_vec());
    let k = |n: &str| n.as_bytes().to_vec();
    Json::Object(vec![
        (k("name"), s(&case.name)),
        (k("line"), Json::Number(case.line as f64)),
        (k("events"), Json::Array(case.events.iter().map(|e| Json::String(e.text.clone())).collect())),
        (
            k("responses"),
            Json::Array(
                run.events
                    .iter()
                    .map(|e| match (&e.error, &e.output) {
                        (Some(err), _) => Json::Object(vec![(k("error"), s(err))]),
                        (None, o) => Json::Object(vec![
                            (k("alert"), Json::Bool(e.alert)),
                            (k("output"), o.clone().unwrap_or(Json::Null)),
                        ]),
                    })
                    .collect(),
            ),
        ),
        (
            k("failures"),
            Json::Array(
                run.failures
                    .iter()
                    .map(|f| {
                        Json::Object(vec![
                            (k("line"), Json::Number(f.line as f64)),
                            (k("event"), Json::Number((f.event + 1) as f64)),
                            (k("key"), s(&f.key)),
                            (k("expected"), s(&f.expected)),
                            (k("got"), s(&f.got)),
                        ])
                    })
                    .collect(),
            ),
        ),
        (k("passed"), Json::Bool(passed)),
    ])
}

struct Ctx<'a> {
    suites: &'a [Option<Suite>],
    opts: &'a SessionOptions,
    accept: bool,
    color: bool,
    keep: bool,
    now: Timestamp,
}

fn run_job(ctx: &Ctx<'_>, job: &Job) -> Done {
    let started = Instant::now();
    let mut coverage = Coverage::default();
    let mut wrote = None;
    let report = match job {
        Job::Ini { case, rs, .. } => {
            let name = format!("[{}] {}", case.section, case.key);
            let r = ini::run_case(rs, ctx.opts, case.clone(), ctx.keep, &mut coverage);
            let status = if r.passed {
                Status::Passed
            } else {
                let line = report::ini_failure_line(&r).trim_start().to_string();
                Status::Failed { message: line.clone(), details: line, line: case.line }
            };
            CaseReport {
                name,
                line: case.line,
                status,
                seconds: started.elapsed().as_secs_f64(),
                json: report::ini_case_json(&r),
            }
        }
        Job::Native { file, case, rs } => {
            let suite = ctx.suites[*file].as_ref().expect("a parsed suite");
            let c = &suite.cases[*case];
            if let Some(why) = &c.skip {
                let json = Json::Object(vec![
                    (b"name".to_vec(), Json::String(c.name.as_bytes().to_vec())),
                    (b"skipped".to_vec(), Json::String(why.as_bytes().to_vec())),
                ]);
                let report = CaseReport {
                    name: c.name.clone(),
                    line: c.line,
                    status: Status::Skipped(why.clone()),
                    seconds: 0.0,
                    json,
                };
                return Done { report, coverage, wrote };
            }
            let times = case::arrivals(c, ctx.now);
            let run = case::run(rs, ctx.opts, c, &times, &mut coverage, false);
            let mut status = if run.passed() {
                Status::Passed
            } else {
                // Run it again with the rule trace (same times, same answers).
                let debug = case::run(rs, ctx.opts, c, &times, &mut Coverage::default(), true);
                native_failure(&suite.path, c, &run, &debug)
            };
            if c.snapshot {
                let path = snapshot::path(&suite.path, &c.name);
                let text = snapshot::render(&run.events);
                let result = snapshot::check(&path, &text, ctx.accept, ctx.color);
                let snap_fail = |message: String, details: String| Status::Failed { message, details, line: c.line };
                match result {
                    Ok(snapshot::Check::Matches) => {}
                    Ok(snapshot::Check::Written) => wrote = Some(path),
                    Ok(snapshot::Check::Missing) => {
                        if matches!(status, Status::Passed) {
                            status = snap_fail(
                                format!("no snapshot stored at {}", path.display()),
                                format!(
                                    "{}:{}: no snapshot stored at {}\nhelp: run `logtest test --accept` to write it, then review and commit it\n",
                                    suite.path.display(),
                                    c.line,
                                    path.display()
                                ),
                            );
                        }
                    }
                    Ok(snapshot::Check::Differs(diff)) => {
                        let extra = format!(
                            "{}:{}: the alerts differ from the snapshot {} (- stored, + now):\n{diff}help: if the change is intended, run `logtest test --accept` and commit the snapshot\n",
                            suite.path.display(),
                            c.line,
                            path.display()
                        );
                        status = match status {
                            Status::Failed { message, details, line } => {
                                Status::Failed { message, details: details + &extra, line }
                            }
                            _ => snap_fail(format!("alerts differ from the snapshot {}", path.display()), extra),
                        };
                    }
                    Err(e) => {
                        status = snap_fail(
                            format!("snapshot {}: {e}", path.display()),
                            format!("snapshot {}: {e}\n", path.display()),
                        )
                    }
                }
            }
            let passed = matches!(status, Status::Passed);
            CaseReport {
                name: c.name.clone(),
                line: c.line,
                status,
                seconds: started.elapsed().as_secs_f64(),
                json: native_case_json(c, &run, passed),
            }
        }
    };
    Done { report, coverage, wrote }
}

/// Prints one finished file.
fn print_file(out: &mut impl Write, f: &FileReport, format: Format, color: bool) -> std::io::Result<()> {
    if let Some(e) = &f.error {
        out.write_all(format!("{}: error\n", f.name).as_bytes())?;
        out.write_all(render::human(e, &mut render::Sources::new(), color).as_bytes())?;
        if format == Format::Github {
            writeln!(out, "{}", render::github(e))?;
        }
        return Ok(());
    }
    let passed = f.cases.iter().filter(|c| matches!(c.status, Status::Passed)).count();
    let failed = f.cases.iter().filter(|c| matches!(c.status, Status::Failed { .. })).count();
    let skipped = f.cases.iter().filter(|c| matches!(c.status, Status::Skipped(_))).count();
    let skipped = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
    writeln!(out, "{}: {passed} passed, {failed} failed{skipped}", f.name)?;
    for c in &f.cases {
        if let Status::Failed { message, details, line } = &c.status {
            let is_ini = f.path.extension().is_some_and(|e| e == "ini");
            if is_ini {
                writeln!(out, "  {message}")?;
            } else {
                let fail = if color { "\x1b[1;31mFAIL\x1b[0m" } else { "FAIL" };
                writeln!(out, "  {fail} {}:{} {}", f.path.display(), c.line, c.name)?;
                for l in details.lines() {
                    writeln!(out, "    {l}")?;
                }
            }
            if format == Format::Github {
                let d = report::failure_diagnostic(&f.path, *line, &c.name, message);
                writeln!(out, "{}", render::github(&d))?;
            }
        }
    }
    Ok(())
}

pub fn run(t: TestArgs) -> Result<ExitCode, CliError> {
    let started = Instant::now();
    if t.geoip && t.ruleset.geoip_db.is_none() {
        return Err(CliError::Usage(
            "--geoip runs the *geoip.ini tests, which need a GeoIP database: give it with --geoip-db FILE (.mmdb)"
                .into(),
        ));
    }
    if t.accept && std::env::var_os("CI").is_some() {
        return Err(CliError::Usage(
            "--accept is refused when CI is set: snapshots are reviewed and committed, not written by CI".into(),
        ));
    }
    let coverage_json = match t.coverage.as_deref() {
        None | Some("text") => None,
        Some(spec) => match spec.split_once('=') {
            Some(("json", f)) if !f.is_empty() => Some(PathBuf::from(f)),
            _ => {
                return Err(CliError::Usage(format!(
                    "invalid --coverage '{spec}': expected --coverage or --coverage json=FILE"
                )))
            }
        },
    };
    let want_coverage = t.coverage.is_some() || t.coverage_min.is_some();
    let (files, geoip_left_out) = collect(&t.paths, t.geoip)?;
    let mut err = std::io::stderr().lock();
    let ioerr = |e| CliError::io("writing to stderr", e);
    if geoip_left_out > 0 {
        // As runtests.py, GeoIP suites are left out unless asked for (not counted as skipped).
        writeln!(err, "logtest: {geoip_left_out} *geoip.ini files not run (they need --geoip --geoip-db FILE)")
            .map_err(ioerr)?;
    }
    if files.is_empty() && geoip_left_out == 0 {
        let shown: Vec<String> = t.paths.iter().map(|p| p.display().to_string()).collect();
        return Err(CliError::Usage(format!("no tests found in {}", shown.join(", "))));
    }
    let opts = t.ruleset.session_options()?;
    let color = common::stderr_color() && std::io::IsTerminal::is_terminal(&std::io::stdout());

    // Rulesets: the command line's (for .ini suites with runtests.py's
    // adaptation, and for YAML suites without a ruleset of their own), and
    // each distinct suite ruleset, loaded once.
    let mut default_ini: Option<Arc<Ruleset>> = None;
    let mut default_native: Option<Arc<Ruleset>> = None;
    let mut own: HashMap<SuiteRuleset, Result<Arc<Ruleset>, String>> = HashMap::new();
    let announce = |rs: &Ruleset, err: &mut std::io::StderrLock| -> Result<(), CliError> {
        writeln!(err, "logtest: loaded {}", rs.summary()).map_err(ioerr)?;
        common::print_diagnostics(&rs.diagnostics).map_err(ioerr)
    };
    let mut suites: Vec<Option<Suite>> = Vec::new();
    let mut file_errors: Vec<Option<Diagnostic>> = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    let keep_case = |file: &Path, name: &str| {
        let name_ok = t.filter.is_empty() || t.filter.iter().any(|f| name.contains(f.as_str()));
        let part_ok = match t.partition {
            None => true,
            Some((k, n)) => stable_hash(&[&ini::display_name(file), name]) % n == k - 1,
        };
        name_ok && part_ok
    };
    for (fi, f) in files.iter().enumerate() {
        match f {
            SuiteFile::Ini(path) => {
                suites.push(None);
                let parsed = ini::load_cases(path);
                match parsed {
                    Err(e) => file_errors.push(Some(report::file_error(path, Code::SuiteSyntax, e))),
                    Ok(cases) => {
                        file_errors.push(None);
                        let rs = match &default_ini {
                            Some(rs) => Arc::clone(rs),
                            None => {
                                let rs = Arc::new(t.ruleset.load(!t.skip_windows_eventchannel)?);
                                announce(&rs, &mut err)?;
                                if let Some(g) = &opts.geoip {
                                    writeln!(
                                        err,
                                        "logtest: GeoIP database {} ({})",
                                        g.path().display(),
                                        g.database_type()
                                    )
                                    .map_err(ioerr)?;
                                }
                                default_ini = Some(Arc::clone(&rs));
                                rs
                            }
                        };
                        for case in cases {
                            if keep_case(path, &format!("[{}] {}", case.section, case.key)) {
                                jobs.push(Job::Ini { file: fi, case, rs: Arc::clone(&rs) });
                            }
                        }
                    }
                }
            }
            SuiteFile::Native(path) => match suite::load(path) {
                Err(d) => {
                    suites.push(None);
                    file_errors.push(Some(*d));
                }
                Ok(s) => {
                    let rs = match &s.ruleset {
                        None => match &default_native {
                            Some(rs) => Ok(Arc::clone(rs)),
                            None => {
                                let rs = Arc::new(t.ruleset.load(false)?);
                                announce(&rs, &mut err)?;
                                default_native = Some(Arc::clone(&rs));
                                Ok(rs)
                            }
                        },
                        Some(r) => {
                            if !own.contains_key(r) {
                                let loaded = match suite_ruleset(r, &t.ruleset) {
                                    Ok(rs) => {
                                        announce(&rs, &mut err)?;
                                        Ok(Arc::new(rs))
                                    }
                                    Err(CliError::Load(f)) => {
                                        common::print_diagnostics(f.all()).map_err(ioerr)?;
                                        Err(format!("its ruleset does not load: {}", f.error))
                                    }
                                    Err(e) => Err(format!("its ruleset: {e}")),
                                };
                                own.insert(r.clone(), loaded);
                            }
                            own[r].clone()
                        }
                    };
                    match rs {
                        Ok(rs) => {
                            file_errors.push(None);
                            for (ci, c) in s.cases.iter().enumerate() {
                                if keep_case(path, &c.name) {
                                    jobs.push(Job::Native { file: fi, case: ci, rs: Arc::clone(&rs) });
                                }
                            }
                        }
                        Err(why) => file_errors.push(Some(report::file_error(path, Code::SuiteInvalid, why))),
                    }
                    suites.push(Some(s));
                }
            },
        }
    }
    drop(err);

    // Names: the file name, or the path when two files share one.
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            let p = match f {
                SuiteFile::Ini(p) | SuiteFile::Native(p) => p,
            };
            let n = ini::display_name(p);
            let clash = files.iter().filter(|g| {
                let q = match g {
                    SuiteFile::Ini(q) | SuiteFile::Native(q) => q,
                };
                ini::display_name(q) == n
            });
            if clash.count() > 1 {
                p.display().to_string()
            } else {
                n
            }
        })
        .collect();
    let mut reports: Vec<FileReport> = files
        .iter()
        .zip(&names)
        .zip(file_errors)
        .map(|((f, name), error)| {
            let path = match f {
                SuiteFile::Ini(p) | SuiteFile::Native(p) => p.clone(),
            };
            FileReport { path, name: name.clone(), error, cases: Vec::new() }
        })
        .collect();

    let ctx = Ctx {
        suites: &suites,
        opts: &opts,
        accept: t.accept,
        color,
        keep: t.report.iter().any(|r| matches!(r, ReportSpec::Json(_))),
        now: Timestamp::now(),
    };
    // How many jobs each file has, to print a file once its last case is in.
    let mut left: Vec<usize> = vec![0; files.len()];
    for j in &jobs {
        left[j.file()] += 1;
    }
    let mut out = std::io::stdout().lock();
    let mut next_file = 0usize;
    let mut coverage = Coverage::default();
    let mut written: Vec<PathBuf> = Vec::new();
    let mut write_error: Option<std::io::Error> = None;
    let flush_ready = |reports: &[FileReport], left: &[usize], next_file: &mut usize, out: &mut std::io::StdoutLock| {
        while *next_file < reports.len() && left[*next_file] == 0 {
            print_file(out, &reports[*next_file], t.format, color)?;
            *next_file += 1;
        }
        Ok::<(), std::io::Error>(())
    };
    if let Err(e) = flush_ready(&reports, &left, &mut next_file, &mut out) {
        return Err(CliError::io("writing to stdout", e));
    }
    runner::ordered(
        &jobs,
        t.jobs.unwrap_or_else(runner::default_jobs),
        |_, job| run_job(&ctx, job),
        |i, done| {
            let fi = jobs[i].file();
            coverage.merge(done.coverage);
            written.extend(done.wrote);
            reports[fi].cases.push(done.report);
            left[fi] -= 1;
            match flush_ready(&reports, &left, &mut next_file, &mut out) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    write_error = Some(e);
                    ControlFlow::Break(())
                }
            }
        },
    );
    if let Some(e) = write_error {
        return Err(CliError::io("writing to stdout", e));
    }
    let oerr = |e| CliError::io("writing to stdout", e);
    for p in &written {
        writeln!(out, "snapshot written: {}", p.display()).map_err(oerr)?;
    }

    let mut summary = Summary::default();
    for f in &reports {
        if f.error.is_some() {
            summary.errors += 1;
        }
        for c in &f.cases {
            match c.status {
                Status::Passed => summary.passed += 1,
                Status::Failed { .. } => summary.failed += 1,
                Status::Skipped(_) => summary.skipped += 1,
            }
        }
    }

    // Coverage: of the command line's ruleset (the .ini one if there is one).
    let mut coverage_low = false;
    if want_coverage {
        let rs = default_native
            .as_ref()
            .or(default_ini.as_ref())
            .cloned()
            .or_else(|| own.values().find_map(|r| r.as_ref().ok()).cloned());
        if let Some(rs) = rs {
            let rep = coverage.report(&rs);
            if t.coverage.is_some() {
                out.write_all(rep.text().as_bytes()).map_err(oerr)?;
            }
            if let Some(p) = &coverage_json {
                let mut buf = Vec::new();
                rep.json().write_unformatted(&mut buf);
                buf.push(b'\n');
                std::fs::write(p, buf).map_err(|e| CliError::io(format!("writing {}", p.display()), e))?;
            }
            if let Some(min) = t.coverage_min {
                let pct = rep.rule_percent();
                if pct + 1e-9 < min {
                    coverage_low = true;
                    writeln!(out, "coverage {pct:.1}% is below --coverage-min {min}").map_err(oerr)?;
                }
            }
        }
    }

    for r in &t.report {
        match r {
            ReportSpec::Json(path) => {
                let mut buf = Vec::new();
                Json::Array(reports.iter().map(report::file_json).collect()).write_unformatted(&mut buf);
                buf.push(b'\n');
                std::fs::write(path, buf).map_err(|e| CliError::io(format!("writing {}", path.display()), e))?;
            }
            ReportSpec::Junit(path) => {
                let xml = junit::render(&reports, started.elapsed().as_secs_f64());
                std::fs::write(path, xml).map_err(|e| CliError::io(format!("writing {}", path.display()), e))?;
            }
        }
    }
    if summary.errors > 0 {
        writeln!(out, "{} files could not be run", summary.errors).map_err(oerr)?;
    }
    writeln!(out, "{}", summary.line()).map_err(oerr)?;
    out.flush().map_err(oerr)?;
    Ok(if summary.ok() && !coverage_low { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
