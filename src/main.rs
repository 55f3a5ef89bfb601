//! `logtest`: a drop-in for `wazuh-logtest` and a ruleset test runner.
//! Argument parsing and wiring only; the engine is the `logtest` library.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use logtest::geoip::GeoIp;
use logtest::json::Json;
use logtest::load::config::RulesetFiles;
use logtest::logtest::{new_token, LogtestSession};
use logtest::mitre::MitreDb;
use logtest::output::alert::{self, AlertContext};
use logtest::output::logtest_text;
use logtest::session::{Clock, SessionOptions, Timestamp};
use logtest::testing::ini;
use logtest::Ruleset;

const WAZUH_VERSION: &str = "v4.14.7";

#[derive(Parser)]
#[command(
    name = "logtest",
    about = "Wazuh 4.14 rules and decoders, evaluated exactly as wazuh-analysisd does; a drop-in for wazuh-logtest",
    disable_version_flag = true,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    ruleset: RulesetArgs,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run upstream `.ini` rule tests (runtests.py-compatible).
    Test(TestArgs),
}

#[derive(Args, Clone, Default)]
struct RulesetArgs {
    /// Wazuh home (e.g. /var/ossec): its etc/ossec.conf <ruleset> section is loaded.
    #[arg(long, value_name = "DIR")]
    home: Option<PathBuf>,
    /// Extra decoder files (glob, repeatable), loaded after the home's.
    #[arg(long = "decoders", value_name = "GLOB")]
    decoders: Vec<String>,
    /// Extra rule files (glob, repeatable), loaded after the home's.
    #[arg(long = "rules", value_name = "GLOB")]
    rules: Vec<String>,
    /// Extra CDB list text files (glob, repeatable).
    #[arg(long = "lists", value_name = "GLOB")]
    lists: Vec<String>,
    /// MITRE ATT&CK technique table (JSON) instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    mitre: Option<PathBuf>,
    /// Manager host name (manager.name, agent 000's name); default: this host's name.
    #[arg(long = "manager-name", value_name = "NAME")]
    manager_name: Option<String>,
    /// Correlation clock: `arrival` (receive time, as analysisd) or `event:FIELD` (e.g. event:aws.eventTime).
    #[arg(long, value_name = "CLOCK", default_value = "arrival")]
    clock: String,
    /// GeoIP database (MaxMind DB, e.g. GeoLite2-City.mmdb): fills srcgeoip/dstgeoip
    /// from srcip/dstip, as a manager built with GeoIP support.
    #[arg(long = "geoip-db", value_name = "FILE")]
    geoip_db: Option<PathBuf>,
    /// Alerts carry `srcgeoip`/`dstgeoip` keys (analysisd.geoip_jsonout=1); needs --geoip-db.
    #[arg(long = "geoip-jsonout", requires = "geoip_db")]
    geoip_jsonout: bool,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum Format {
    /// wazuh-logtest's text phases.
    Text,
    /// One alerts.json object per alert.
    Json,
    /// The logtest socket's response (`data`) object per event.
    LogtestJson,
}

#[derive(Args, Clone)]
struct RunArgs {
    /// Location of the events.
    #[arg(short = 'l', value_name = "LOCATION", default_value = "stdin")]
    location: String,
    /// Unit test: expected RULE:LEVEL:DECODER of the last event (exit code as wazuh-logtest).
    #[arg(short = 'U', value_name = "RULE:LEVEL:DECODER")]
    unit: Option<String>,
    /// Show the rule trace (rules_debug).
    #[arg(short = 'v')]
    verbose: bool,
    /// Quiet: only errors.
    #[arg(short = 'q')]
    quiet: bool,
    /// Debug: also print each request and response.
    #[arg(short = 'd')]
    debug: bool,
    /// Print the version and exit.
    #[arg(short = 'V')]
    version: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args, Clone)]
struct TestArgs {
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
    report: Vec<String>,
    /// Worker threads (default: number of CPUs).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
}

fn expand(globs: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for g in globs {
        // A path that exists is that file, even if it looks like a glob (`my[1].xml`).
        if std::path::Path::new(g).exists() {
            out.push(PathBuf::from(g));
            continue;
        }
        let mut found: Vec<PathBuf> =
            glob::glob(g).map_err(|e| format!("invalid glob '{g}': {e}"))?.filter_map(|p| p.ok()).collect();
        if found.is_empty() {
            return Err(format!("no file matches '{g}'"));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

fn load_ruleset(args: &RulesetArgs, adapt_60000: bool) -> Result<Ruleset, String> {
    let explicit = !args.decoders.is_empty() || !args.rules.is_empty() || !args.lists.is_empty();
    let home =
        args.home.clone().or_else(|| if explicit { None } else { std::env::var_os("WAZUH_HOME").map(PathBuf::from) });
    let mut files = match &home {
        Some(h) => RulesetFiles::from_home(h).map_err(|e| e.to_string())?,
        None if explicit => RulesetFiles { origin: "explicit files".into(), ..Default::default() },
        None => logtest::embedded::files(),
    };
    files.add_explicit(&expand(&args.decoders)?, &expand(&args.rules)?, &expand(&args.lists)?);
    files.adapt_rule_60000 = adapt_60000;
    let mitre = match &args.mitre {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            MitreDb::parse(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => MitreDb::embedded(),
    };
    Ruleset::load(&files, &mitre).map_err(|f| {
        // The messages given before the fatal one, then the fatal one.
        let mut text = String::new();
        for d in &f.diagnostics {
            text.push_str(&format!("{d}\nlogtest: "));
        }
        text.push_str(&format!("error: {}", f.error));
        text
    })
}

fn session_options(args: &RulesetArgs) -> Result<SessionOptions, String> {
    let mut o = SessionOptions::default();
    if let Some(n) = &args.manager_name {
        o.manager_name = n.as_bytes().to_vec();
    }
    o.clock = match args.clock.as_str() {
        "arrival" => Clock::Arrival,
        c => match c.strip_prefix("event:") {
            Some(f) if !f.is_empty() => Clock::EventField(f.as_bytes().to_vec()),
            _ => return Err(format!("invalid --clock '{c}': expected 'arrival' or 'event:FIELD'")),
        },
    };
    if let Some(p) = &args.geoip_db {
        o.geoip = Some(Arc::new(GeoIp::open(p).map_err(|e| format!("--geoip-db: {e}"))?));
        o.geoip_jsonout = args.geoip_jsonout;
    }
    Ok(o)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Some(Cmd::Test(t)) => run_tests(t),
        None => run_logtest(cli.ruleset, cli.run),
    }
}

fn run_logtest(rargs: RulesetArgs, args: RunArgs) -> ExitCode {
    let mut err = std::io::stderr().lock();
    if args.version {
        // wazuh-logtest logs these (INFO) to stderr; -q raises the level to errors only.
        if !args.quiet {
            let _ = write!(
                err,
                "Wazuh {WAZUH_VERSION} - Wazuh Inc.\n\nThis program is free software; you can redistribute it and/or modify\nit under the terms of the GNU General Public License (version 2) as\npublished by the Free Software Foundation. For more details, go to\nhttps://www.gnu.org/licenses/gpl.html\n\n"
            );
        }
        return ExitCode::SUCCESS;
    }
    let expected: Option<[Vec<u8>; 3]> = match &args.unit {
        None => None,
        Some(u) => {
            let parts: Vec<&str> = u.split(':').collect();
            if parts.len() != 3 {
                let _ = writeln!(err, "Unit test configuration wrong syntax: {u}");
                return ExitCode::from(1);
            }
            Some([parts[0].as_bytes().to_vec(), parts[1].as_bytes().to_vec(), parts[2].as_bytes().to_vec()])
        }
    };
    let rs = match load_ruleset(&rargs, false) {
        Ok(rs) => Arc::new(rs),
        Err(e) => {
            let _ = writeln!(err, "logtest: {e}");
            return ExitCode::from(1);
        }
    };
    let opts = match session_options(&rargs) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(err, "logtest: error: {e}");
            return ExitCode::from(2);
        }
    };
    let text = args.format == Format::Text;
    if !args.quiet && (!text || std::io::stderr().is_terminal()) {
        let _ = writeln!(err, "logtest: loaded {}", rs.summary());
        if let Some(g) = &opts.geoip {
            let _ = writeln!(err, "logtest: GeoIP database {} ({})", g.path().display(), g.database_type());
        }
    }
    if !text {
        for d in &rs.diagnostics {
            let _ = writeln!(err, "logtest: {d}");
        }
    }
    if let Err(e) = logtest::predecode::check_location(args.location.as_bytes()) {
        // Every event would fail with this error: say once why.
        let _ = writeln!(err, "logtest: warning: -l '{}': {e}: every event will be refused", args.location);
    }
    let manager = opts.manager_name.clone();
    let geoip = opts.geoip.clone();
    let mut session = LogtestSession::new(Arc::clone(&rs), opts, new_token());
    if text && !args.quiet {
        let _ = write!(err, "Starting wazuh-logtest {WAZUH_VERSION}\nType one log per line\n");
    }
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut last: Option<[Vec<u8>; 3]> = None;
    let mut line = Vec::new();
    let mut alert_n = 0u64;
    let mut prev_token: Vec<u8> = Vec::new();
    loop {
        if text {
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        }
        let long = match read_line(&mut input, &mut line) {
            None => break,
            Some(long) => long,
        };
        if line.is_empty() {
            continue;
        }
        if args.format == Format::Json {
            // alerts.json needs no logtest reply: process with the engine session alone,
            // as analysisd takes an event: its queue message is cut at OS_MAXSTR - 1 bytes.
            let room = logtest::predecode::MAX_QUEUE_MESSAGE.saturating_sub(3 + args.location.len());
            line.truncate(room);
            match session.session_mut().process(args.location.as_bytes(), &line, Timestamp::now(), false) {
                Ok(mut processed) if processed.alert => {
                    if let Some(g) = &geoip {
                        // analysisd's alerts.log writer (OS_Log) looks up addresses that have
                        // no geoip yet (e.g. accumulated ones) before alerts.json is written.
                        g.fill(&mut processed.event);
                    }
                    let a = alert::alert_json(
                        &rs,
                        &processed,
                        &AlertContext { manager_name: &manager, logtest: false, id_suffix: alert_n },
                    );
                    alert_n += 1;
                    let _ = out.write_all(&a.to_unformatted());
                    let _ = out.write_all(b"\n");
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = writeln!(err, "logtest: error: {e}");
                }
            }
            continue;
        }
        let reply = if long {
            LogtestSession::refused()
        } else {
            session.process_from_client(args.location.as_bytes(), &line, Timestamp::now(), args.verbose)
        };
        if reply.refused {
            // wazuh-analysisd refuses the request without reading it.
            match args.format {
                Format::LogtestJson => {
                    let _ = out.write_all(&reply.data.to_unformatted());
                    let _ = out.write_all(b"\n");
                }
                _ => {
                    let mut buf = Vec::new();
                    logtest_text::render_reply(&prev_token, &reply.data, &mut buf);
                    let _ = err.write_all(&buf);
                }
            }
            continue;
        }
        match args.format {
            Format::Json => {}
            Format::LogtestJson => {
                let _ = out.write_all(&reply.data.to_unformatted());
                let _ = out.write_all(b"\n");
            }
            Format::Text => {
                if args.debug {
                    let _ = writeln!(err, "{}", String::from_utf8_lossy(&reply.data.to_unformatted()));
                }
                let mut buf = Vec::new();
                let shown = logtest_text::render_event_in_session(&prev_token, &reply.data, &mut buf);
                if let logtest_text::EventOutcome::Shown { token } = shown {
                    prev_token = token;
                    let got = logtest_text::unit_triple(&reply.data);
                    if let Some(exp) = &expected {
                        logtest_text::unit_test_line(exp, &got, &mut buf);
                    }
                    last = Some(got);
                }
                if !args.quiet || buf.starts_with(b"\n** Wazuh-logtest error") {
                    let _ = err.write_all(&buf);
                }
            }
        }
    }
    let _ = out.flush();
    match (&expected, &last) {
        (None, _) => ExitCode::SUCCESS,
        (Some(exp), Some(got)) if exp == got => ExitCode::from(exp.iter().filter(|e| e.is_empty()).count() as u8),
        _ => ExitCode::from(1),
    }
}

/// The longest line kept whole: anything longer is over every event limit
/// (wazuh-analysisd's request and queue-message limits are 64 KiB), so only
/// its start is kept and the rest is skipped, keeping memory flat.
const MAX_LINE: usize = 64 << 10;

/// Reads one line as Python's text-mode `input()` does (universal newlines:
/// `\n`, `\r\n` and a lone `\r` all end a line), without the terminator.
/// Returns `None` at the end of input, else whether the line was longer than
/// [`MAX_LINE`] (and cut).
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> Option<bool> {
    line.clear();
    let mut any = false;
    let mut long = false;
    loop {
        let (used, done) = {
            let buf = match input.fill_buf() {
                Ok(b) => b,
                Err(_) => return any.then_some(long),
            };
            if buf.is_empty() {
                return any.then_some(long);
            }
            any = true;
            let end = buf.iter().position(|&b| b == b'\n' || b == b'\r');
            let piece = &buf[..end.unwrap_or(buf.len())];
            let room = MAX_LINE.saturating_sub(line.len());
            line.extend_from_slice(&piece[..piece.len().min(room)]);
            long |= piece.len() > room;
            match end {
                Some(i) => (i + 1, Some(buf[i])),
                None => (buf.len(), None),
            }
        };
        input.consume(used);
        match done {
            Some(b'\r') => {
                // A `\r\n` pair is one terminator.
                if let Ok(buf) = input.fill_buf() {
                    if buf.first() == Some(&b'\n') {
                        input.consume(1);
                    }
                }
                return Some(long);
            }
            Some(_) => return Some(long),
            None => {}
        }
    }
}

fn run_tests(t: TestArgs) -> ExitCode {
    let mut err = std::io::stderr().lock();
    if t.geoip && t.ruleset.geoip_db.is_none() {
        let _ = writeln!(err, "logtest: error: --geoip runs the *geoip.ini tests, which need a GeoIP database: give it with --geoip-db FILE (.mmdb)");
        return ExitCode::from(2);
    }
    let rs = match load_ruleset(&t.ruleset, !t.skip_windows_eventchannel) {
        Ok(rs) => Arc::new(rs),
        Err(e) => {
            let _ = writeln!(err, "logtest: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = match session_options(&t.ruleset) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(err, "logtest: error: {e}");
            return ExitCode::from(2);
        }
    };
    let _ = writeln!(err, "logtest: loaded {}", rs.summary());
    for d in &rs.diagnostics {
        let _ = writeln!(err, "logtest: {d}");
    }
    if let Some(g) = &opts.geoip {
        let _ = writeln!(err, "logtest: GeoIP database {} ({})", g.path().display(), g.database_type());
    }
    let mut report_json: Option<PathBuf> = None;
    for r in &t.report {
        match r.split_once('=') {
            Some(("json", f)) => report_json = Some(PathBuf::from(f)),
            _ => {
                let _ = writeln!(err, "logtest: error: invalid --report '{r}': expected json=FILE");
                return ExitCode::from(2);
            }
        }
    }
    let files = ini::collect_files(&t.paths, t.geoip);
    let jobs = t.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    type Slot = std::sync::Mutex<Option<Result<Vec<ini::CaseResult>, String>>>;
    let results: Vec<Slot> = files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let keep = report_json.is_some();
    std::thread::scope(|s| {
        for _ in 0..jobs.min(files.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let r = ini::run_file(&rs, &opts, path, keep);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed, mut errors) = (0usize, 0usize, 0usize);
    let mut report: Vec<Json> = Vec::new();
    for (path, slot) in files.iter().zip(results) {
        let name = ini::display_name(path);
        let r = slot.into_inner().ok().flatten().unwrap_or_else(|| Err("not run".into()));
        match r {
            Err(e) => {
                errors += 1;
                let _ = writeln!(out, "{name}: error: {e}");
            }
            Ok(cases) => {
                let p = cases.iter().filter(|c| c.passed).count();
                let f = cases.len() - p;
                passed += p;
                failed += f;
                let _ = writeln!(out, "{name}: {p} passed, {f} failed");
                for c in cases.iter().filter(|c| !c.passed) {
                    let _ = writeln!(
                        out,
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
                    );
                }
                if keep {
                    let s = |v: &str| Json::String(v.as_bytes().to_vec());
                    let cases_json = cases
                        .into_iter()
                        .map(|c| {
                            Json::Object(vec![
                                (b"section".to_vec(), s(&c.case.section)),
                                (b"key".to_vec(), s(&c.case.key)),
                                (
                                    b"expect".to_vec(),
                                    Json::Object(vec![
                                        (b"rule".to_vec(), s(&c.case.rule)),
                                        (b"alert".to_vec(), s(&c.case.alert)),
                                        (b"decoder".to_vec(), s(&c.case.decoder)),
                                    ]),
                                ),
                                (b"events".to_vec(), Json::Array(c.case.events.iter().map(|e| s(e)).collect())),
                                (b"responses".to_vec(), Json::Array(c.responses)),
                                (b"passed".to_vec(), Json::Bool(c.passed)),
                            ])
                        })
                        .collect();
                    report.push(Json::Object(vec![
                        (b"file".to_vec(), s(&name)),
                        (b"cases".to_vec(), Json::Array(cases_json)),
                    ]));
                }
            }
        }
    }
    if let Some(path) = report_json {
        let mut buf = Vec::new();
        Json::Array(report).write_unformatted(&mut buf);
        buf.push(b'\n');
        if let Err(e) = std::fs::write(&path, buf) {
            let _ = writeln!(err, "logtest: error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if errors > 0 {
        let _ = writeln!(out, "{errors} files could not be run");
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    if failed == 0 && errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
