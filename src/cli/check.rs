//! `logtest check`: loads the ruleset as the engine does and reports every
//! problem once — Wazuh's own load messages (with what Wazuh does about
//! them) and our analyses — with a stable code, the file, line and column,
//! the source line, and what to do.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use logtest::analysis::check;
use logtest::diagnostics::render;
use logtest::json::Json;

use super::common::RulesetArgs;
use super::CliError;

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `file:line:col: severity CODE message`, the source line and a caret.
    Human,
    /// One JSON object per finding, one per line.
    Json,
    /// GitHub Actions annotations (`::error file=…,line=…::…`).
    Github,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    /// Warnings fail the check too (exit 1).
    Warnings,
}

#[derive(Args, Clone)]
pub struct CheckArgs {
    /// Rule or decoder files to check on top of the ruleset (told apart by their content).
    files: Vec<PathBuf>,
    #[command(flatten)]
    ruleset: RulesetArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Also fail on warnings.
    #[arg(long, value_enum)]
    deny: Option<Deny>,
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

pub fn run(a: CheckArgs) -> Result<ExitCode, CliError> {
    let mut args = a.ruleset.clone();
    for f in &a.files {
        let s = f.display().to_string();
        if check::is_decoder_file(f) {
            args.decoders.push(s);
        } else {
            args.rules.push(s);
        }
    }
    let files = args.files(false)?;
    let findings = check::check(&files, &args.mitre()?);
    let errors = findings.iter().filter(|d| check::is_error(d)).count();
    let warnings = findings.len() - errors;
    let mut out = std::io::stdout().lock();
    let oerr = |e| CliError::io("writing to stdout", e);
    let color = super::common::stderr_color() && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut sources = render::Sources::new();
    for d in &findings {
        let text = match a.format {
            Format::Human => render::human(&check::as_shown(d), &mut sources, color),
            Format::Json => {
                let mut j = render::json(d);
                if let Json::Object(o) = &mut j {
                    o.push((b"error".to_vec(), Json::Bool(check::is_error(d))));
                }
                format!("{}\n", String::from_utf8_lossy(&j.to_unformatted()))
            }
            Format::Github => format!("{}\n", render::github(&check::as_shown(d))),
        };
        out.write_all(text.as_bytes()).map_err(oerr)?;
    }
    if a.format != Format::Json {
        writeln!(out, "{}, {}", plural(errors, "error"), plural(warnings, "warning")).map_err(oerr)?;
    }
    out.flush().map_err(oerr)?;
    let fail = errors > 0 || (a.deny == Some(Deny::Warnings) && warnings > 0);
    Ok(if fail { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
