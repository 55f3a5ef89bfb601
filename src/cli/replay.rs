//! `logtest replay PATH…`: recorded traffic through a ruleset (see [`logtest::replay`]).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, ValueEnum};

use logtest::replay::{
    self, Baseline, Emit, Failure, InputOptions, Inputs, Observer, Partition, ReplayOptions, Summary,
};
use logtest::session::Clock;

use super::common::{self, RulesetArgs};
use super::CliError;

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum EmitArg {
    /// alerts.json lines.
    Alerts,
    /// The events as the AWS integration (or the input) sent them: checks the transformation,
    /// or feeds a real manager.
    Events,
}

#[derive(Args)]
pub struct ReplayArgs {
    /// Files or folders: raw CloudTrail files (a folder is listed as the AWS integration lists
    /// a synced bucket), archives.json, integration JSON lines, plain log lines; `-` is stdin.
    #[arg(value_name = "PATH", required_unless_present = "merge_summaries")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    ruleset: RulesetArgs,
    /// Location of plain log lines.
    #[arg(short = 'l', value_name = "LOCATION", default_value = "stdin")]
    location: String,
    /// `aws.log_info.s3bucket` of CloudTrail files (default: the folder that holds `AWSLogs/`).
    #[arg(long, value_name = "NAME")]
    bucket: Option<String>,
    /// Write alerts (or events) to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// What to write.
    #[arg(long, value_enum, default_value = "alerts")]
    emit: EmitArg,
    /// Compare the alerts with this alerts.json (a manager's, or an earlier replay's) and report
    /// the changes by rule.
    #[arg(long, value_name = "ALERTS.JSON")]
    baseline: Option<PathBuf>,
    /// Exit 1 when the change report shows any difference.
    #[arg(long = "fail-on-change", requires = "baseline")]
    fail_on_change: bool,
    /// Write the change report as JSON to FILE.
    #[arg(long = "change-report", value_name = "FILE", requires = "baseline")]
    change_report: Option<PathBuf>,
    /// Write the summary as JSON to FILE (shards' summaries merge with --merge-summaries).
    #[arg(long = "summary-json", value_name = "FILE")]
    summary_json: Option<PathBuf>,
    /// Write an HTML report (dashboards and tables, one self-contained file) to FILE.
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
    /// PATHs are --summary-json files of a partitioned replay's shards: merge them, print the
    /// summary (and --report / --summary-json of the whole).
    #[arg(long = "merge-summaries")]
    merge_summaries: bool,
    /// Threads: decoding runs on N-1 workers, matching on one thread, in input order.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 1)]
    jobs: usize,
    /// Replay only shard K of N, split by agent (CloudTrail: by account).
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
    /// No summary and no progress bar on stderr.
    #[arg(short = 'q', long)]
    quiet: bool,
}

/// The progress bar (a terminal only) and failures as they come.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
}

impl Observer for Progress {
    fn progress(&mut self, bytes: u64, events: u64) {
        if let Some(b) = &self.bar {
            b.set_position(bytes);
            b.set_message(format!("{events} events"));
        }
    }

    fn failure(&mut self, f: &Failure) {
        if self.quiet {
            return;
        }
        let line = format!("logtest: warning: {f}");
        match &self.bar {
            Some(b) => b.println(line),
            None => {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        }
    }
}

fn write_json(path: &PathBuf, value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Usage(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|e| CliError::io(format!("writing {}", path.display()), e))
}

fn finish_reports(args: &ReplayArgs, summary: &Summary) -> Result<(), CliError> {
    if let Some(p) = &args.summary_json {
        write_json(p, summary)?;
    }
    if let Some(p) = &args.report {
        let html = logtest::report::html(summary, "logtest replay");
        std::fs::write(p, html).map_err(|e| CliError::io(format!("writing {}", p.display()), e))?;
    }
    if !args.quiet {
        let mut err = std::io::stderr().lock();
        err.write_all(summary.render().as_bytes()).map_err(|e| CliError::io("writing to stderr", e))?;
    }
    Ok(())
}

pub fn run(mut args: ReplayArgs) -> Result<ExitCode, CliError> {
    if args.merge_summaries {
        let mut all = Summary::default();
        for p in &args.paths {
            let text = std::fs::read_to_string(p).map_err(|e| CliError::io(format!("reading {}", p.display()), e))?;
            let s: Summary = serde_json::from_str(&text)
                .map_err(|e| CliError::Usage(format!("{}: not a --summary-json file: {e}", p.display())))?;
            all.merge(s);
        }
        finish_reports(&args, &all)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.jobs == 0 {
        return Err(CliError::Usage("-j 0: give at least one thread".into()));
    }
    // CloudTrail correlates on the event's own time unless told otherwise; events without
    // `aws.eventTime` fall back to their arrival.
    if args.ruleset.clock.is_none() {
        args.ruleset.clock = Some(Clock::EventField(b"aws.eventTime".to_vec()));
    }
    let emit = match args.emit {
        EmitArg::Alerts => Emit::Alerts,
        EmitArg::Events => Emit::Events,
    };
    let session = args.ruleset.session_options()?;
    let rs = match emit {
        Emit::Events => None,
        Emit::Alerts => {
            let rs = args.ruleset.load(false)?;
            common::print_diagnostics(&rs.diagnostics).map_err(|e| CliError::io("writing to stderr", e))?;
            Some(Arc::new(rs))
        }
    };
    let baseline = match &args.baseline {
        Some(p) => Some(Baseline::load(p).map_err(|e| CliError::Usage(format!("--baseline {e}")))?),
        None => None,
    };
    let input_opts = InputOptions {
        bucket: args.bucket.clone(),
        location: args.location.clone(),
        shard_keys: args.partition.is_some(),
    };
    let inputs = Inputs::list(&args.paths, &input_opts);
    let opts = ReplayOptions { session, emit, partition: args.partition, jobs: args.jobs };

    let tty = std::io::stderr().is_terminal() && !args.quiet;
    let bar = tty.then(|| {
        let b = indicatif::ProgressBar::new(inputs.total_bytes());
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut progress = Progress { bar, quiet: args.quiet };
    let started = Instant::now();
    let outcome = {
        let mut out: Box<dyn Write + Send> = match &args.output {
            Some(p) => Box::new(BufWriter::with_capacity(
                1 << 16,
                File::create(p).map_err(|e| CliError::io(format!("creating {}", p.display()), e))?,
            )),
            None => Box::new(BufWriter::with_capacity(1 << 16, std::io::stdout())),
        };
        replay::replay(rs, &inputs, &input_opts, &opts, baseline, &mut *out, &mut progress)
            .map_err(|e| CliError::io("writing the output", e))?
    };
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    finish_reports(&args, &outcome.summary)?;
    if !args.quiet {
        let rate = if secs > 0.0 { outcome.summary.events as f64 / secs } else { 0.0 };
        let _ = writeln!(std::io::stderr(), "replay took {secs:.2} s ({rate:.0} events/s)");
    }
    let mut code = ExitCode::SUCCESS;
    if let Some(report) = &outcome.report {
        if let Some(p) = &args.change_report {
            write_json(p, report)?;
        }
        let mut err = std::io::stderr().lock();
        err.write_all(report.render().as_bytes()).map_err(|e| CliError::io("writing to stderr", e))?;
        if args.fail_on_change && report.differences() > 0 {
            code = ExitCode::from(1);
        }
    }
    Ok(code)
}
