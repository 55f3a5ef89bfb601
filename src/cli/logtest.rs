//! The drop-in for `wazuh-logtest`: events on stdin, one per line, answered
//! as `wazuh-logtest` answers them (text on stderr, byte for byte), or as the
//! logtest socket's JSON, or as alerts.json lines.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use logtest::diagnostics::Origin;
use logtest::logtest::{new_token, LogtestSession};
use logtest::output::{logtest_text, AlertWriter};
use logtest::predecode;
use logtest::session::Timestamp;

use super::common::{self, RulesetArgs};
use super::CliError;

const WAZUH_VERSION: &str = "v4.14.7";

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// wazuh-logtest's text phases.
    Text,
    /// One alerts.json object per alert.
    Json,
    /// The logtest socket's response (`data`) object per event.
    LogtestJson,
}

#[derive(Args, Clone)]
pub struct RunArgs {
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

/// The longest line kept whole: anything longer is over every event limit
/// (wazuh-analysisd's request and queue-message limits are 64 KiB), so only
/// its start is kept and the rest is skipped, keeping memory flat.
const MAX_LINE: usize = 64 << 10;

/// Reads one line as Python's text-mode `input()` does (universal newlines:
/// `\n`, `\r\n` and a lone `\r` all end a line), without the terminator.
/// Returns `None` at the end of input, else whether the line was longer than
/// [`MAX_LINE`] (and cut).
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    line.clear();
    let mut any = false;
    let mut long = false;
    loop {
        let (used, done) = {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                return Ok(any.then_some(long));
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
                if input.fill_buf()?.first() == Some(&b'\n') {
                    input.consume(1);
                }
                return Ok(Some(long));
            }
            Some(_) => return Ok(Some(long)),
            None => {}
        }
    }
}

pub fn run(rargs: RulesetArgs, args: RunArgs) -> Result<ExitCode, CliError> {
    let mut err = std::io::stderr().lock();
    let ioerr = |e| CliError::io("writing to stderr", e);
    if args.version {
        // wazuh-logtest logs these (INFO) to stderr; -q raises the level to errors only.
        if !args.quiet {
            write!(
                err,
                "Wazuh {WAZUH_VERSION} - Wazuh Inc.\n\nThis program is free software; you can redistribute it and/or modify\nit under the terms of the GNU General Public License (version 2) as\npublished by the Free Software Foundation. For more details, go to\nhttps://www.gnu.org/licenses/gpl.html\n\n"
            )
            .map_err(ioerr)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let expected: Option<[Vec<u8>; 3]> = match &args.unit {
        None => None,
        Some(u) => {
            let parts: Vec<&str> = u.split(':').collect();
            if parts.len() != 3 {
                writeln!(err, "Unit test configuration wrong syntax: {u}").map_err(ioerr)?;
                return Ok(ExitCode::from(1));
            }
            Some([parts[0].as_bytes().to_vec(), parts[1].as_bytes().to_vec(), parts[2].as_bytes().to_vec()])
        }
    };
    let text = args.format == Format::Text;
    let opts = rargs.session_options()?;
    // wazuh-logtest answers every event even when the ruleset does not load;
    // alerts.json has no way to say so: there it is an error.
    let (rs, mut session) = match rargs.load(false) {
        Ok(rs) => {
            let rs = Arc::new(rs);
            (Some(Arc::clone(&rs)), LogtestSession::new(rs, opts.clone(), new_token()))
        }
        // Only for Wazuh's own load errors: ours (an unreadable file, a bound
        // of ours) have no Wazuh answer to imitate.
        Err(CliError::Load(f)) if args.format != Format::Json && f.error.diagnostic().origin == Origin::Wazuh => {
            if err.is_terminal() {
                // (stderr's lock is reentrant)
                common::print_diagnostics(f.all()).map_err(ioerr)?;
            }
            (None, LogtestSession::unavailable(&f))
        }
        Err(e) => return Err(e),
    };
    if let Some(rs) = &rs {
        if !args.quiet && (!text || err.is_terminal()) {
            writeln!(err, "logtest: loaded {}", rs.summary()).map_err(ioerr)?;
            if let Some(g) = &opts.geoip {
                writeln!(err, "logtest: GeoIP database {} ({})", g.path().display(), g.database_type())
                    .map_err(ioerr)?;
            }
        }
        if !text {
            common::print_diagnostics(&rs.diagnostics).map_err(ioerr)?;
        }
    }
    if let Err(e) = predecode::check_location(args.location.as_bytes()) {
        // Every event would fail with this error: say once why.
        writeln!(err, "logtest: warning: -l '{}': {e}: every event will be refused", args.location).map_err(ioerr)?;
    }
    if text && !args.quiet {
        write!(err, "Starting wazuh-logtest {WAZUH_VERSION}\nType one log per line\n").map_err(ioerr)?;
    }
    let mut input = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let oerr = |e| CliError::io("writing to stdout", e);
    let mut writer = AlertWriter::new(&opts.manager_name, opts.geoip.clone());
    let mut last: Option<[Vec<u8>; 3]> = None;
    let mut line = Vec::new();
    let mut prev_token: Vec<u8> = Vec::new();
    loop {
        if text {
            out.write_all(b"\n").map_err(oerr)?;
            out.flush().map_err(oerr)?;
        }
        let long = match read_line(&mut input, &mut line).map_err(|e| CliError::io("reading stdin", e))? {
            None => break,
            Some(long) => long,
        };
        if line.is_empty() {
            continue;
        }
        if let (Format::Json, Some(rs)) = (args.format, &rs) {
            // alerts.json needs no logtest reply: process with the engine session alone,
            // as analysisd takes an event: its queue message is cut at OS_MAXSTR - 1 bytes.
            let room = predecode::MAX_QUEUE_MESSAGE.saturating_sub(3 + args.location.len());
            line.truncate(room);
            let Some(engine) = session.session_mut() else { break };
            match engine.process(args.location.as_bytes(), &line, Timestamp::now(), false) {
                Ok(p) => {
                    writer.write(rs, p, &mut out).map_err(oerr)?;
                }
                Err(e) => writeln!(err, "logtest: error: {e}").map_err(ioerr)?,
            }
            continue;
        }
        let reply = if long {
            LogtestSession::refused()
        } else {
            session.process_from_client(args.location.as_bytes(), &line, Timestamp::now(), args.verbose)
        };
        match args.format {
            Format::Json => {}
            Format::LogtestJson => {
                // A refused request has no `data`: the whole response is printed.
                out.write_all(&reply.data.to_unformatted()).map_err(oerr)?;
                out.write_all(b"\n").map_err(oerr)?;
            }
            Format::Text => {
                let mut buf = Vec::new();
                if reply.refused {
                    // wazuh-analysisd refuses the request without reading it.
                    logtest_text::render_reply(&prev_token, &reply.data, &mut buf);
                    err.write_all(&buf).map_err(ioerr)?;
                    continue;
                }
                if args.debug {
                    writeln!(err, "{}", String::from_utf8_lossy(&reply.data.to_unformatted())).map_err(ioerr)?;
                }
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
                    err.write_all(&buf).map_err(ioerr)?;
                }
            }
        }
    }
    out.flush().map_err(oerr)?;
    Ok(match (&expected, &last) {
        (None, _) => ExitCode::SUCCESS,
        (Some(exp), Some(got)) if exp == got => ExitCode::from(exp.iter().filter(|e| e.is_empty()).count() as u8),
        _ => ExitCode::from(1),
    })
}
