//! The command line: one file per subcommand, each `run(args) ->
//! Result<ExitCode, CliError>`, and [`common`] for what they share (ruleset
//! flags, session options, diagnostics on stderr).
//!
//! Exit codes, the same in every subcommand (as cargo and nextest use them):
//! - 0: done, nothing failed;
//! - 1: test failures, or `check` findings that make Wazuh drop a rule or
//!   refuse the ruleset (with `--deny warnings`, any finding);
//! - 2: a usage error, a ruleset that does not load, an input or output error.
//!
//! The drop-in keeps `wazuh-logtest`'s own codes (`-U` exits with the number
//! of empty expected fields when the last result matches, 1 otherwise) and,
//! like `wazuh-logtest`, answers events even when the ruleset does not load
//! (each with Wazuh's error messages). A closed standard output (`| head`)
//! ends a run quietly.

mod check;
mod common;
mod explain;
mod logtest;
mod replay;
mod serve;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use ::logtest::load::LoadFailure;

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
    ruleset: common::RulesetArgs,
    #[command(flatten)]
    run: logtest::RunArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run rule tests: upstream `.ini` suites (runtests.py-compatible) and native YAML suites.
    Test(test::TestArgs),
    /// Check a ruleset: Wazuh's load messages and our own analyses (rules that can never fire, …).
    Check(check::CheckArgs),
    /// Explain why a rule did or did not fire for an event (events on stdin; the last is explained).
    Explain(explain::ExplainArgs),
    /// Replay recorded traffic (raw CloudTrail, archives.json, log lines): alerts, a summary,
    /// a change report against a baseline, an HTML report.
    Replay(replay::ReplayArgs),
    /// Serve wazuh-analysisd's logtest socket (for wazuh-logtest, the API's /logtest, …).
    Serve(serve::ServeArgs),
}

/// Why a command could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or settings.
    #[error("{0}")]
    Usage(String),
    /// The ruleset does not load.
    #[error("{0}")]
    Load(Box<LoadFailure>),
    /// Reading input or writing output failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// Standard output was closed: stop quietly.
    #[error("broken pipe")]
    BrokenPipe,
}

impl CliError {
    /// An I/O error while doing `what` (a closed pipe is not an error).
    pub fn io(what: impl Into<String>, e: std::io::Error) -> CliError {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Io { what: what.into(), source: e }
        }
    }
}

/// Parses the command line, runs the command, reports its error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Some(Cmd::Test(t)) => test::run(t),
        Some(Cmd::Check(c)) => check::run(c),
        Some(Cmd::Explain(e)) => explain::run(e),
        Some(Cmd::Replay(r)) => replay::run(r),
        Some(Cmd::Serve(s)) => serve::run(s),
        None => logtest::run(cli.ruleset, cli.run),
    };
    match result {
        Ok(code) => code,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(CliError::Load(f)) => {
            // If stderr itself is gone there is no one left to tell.
            common::print_diagnostics(f.all()).ok();
            ExitCode::from(2)
        }
        Err(e) => {
            use std::io::Write;
            writeln!(std::io::stderr().lock(), "logtest: error: {e}").ok();
            ExitCode::from(2)
        }
    }
}
