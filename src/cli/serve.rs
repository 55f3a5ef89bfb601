//! `logtest serve --socket PATH`: the logtest socket of wazuh-analysisd over our engine (see
//! [`logtest::server`]), for `wazuh-logtest`, the API's `/logtest` and other clients.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use logtest::server::{http, socket, Config, Logtest, RulesetState};

use super::common::{self, RulesetArgs};
use super::CliError;

#[derive(Args)]
pub struct ServeArgs {
    /// The Unix socket to create (e.g. /var/ossec/queue/sockets/logtest); mode 0660.
    #[arg(long, value_name = "PATH", required_unless_present = "http")]
    socket: Option<PathBuf>,
    /// Also serve the API's PUT /logtest and DELETE /logtest/sessions/{token} on ADDR
    /// (`PORT` or `HOST:PORT`; the host defaults to 127.0.0.1).
    #[arg(long, value_name = "ADDR", requires = "http_tokens")]
    http: Option<String>,
    /// Bearer tokens the HTTP endpoints accept, one per line.
    #[arg(long = "http-tokens", value_name = "FILE")]
    http_tokens: Option<PathBuf>,
    #[command(flatten)]
    ruleset: RulesetArgs,
    /// Worker threads processing requests (<rule_test><threads>); connections are read
    /// asynchronously, so a slow client holds none of them.
    #[arg(long, default_value_t = 1, value_name = "N")]
    threads: usize,
    /// Most sessions kept; the one used longest ago goes first (<rule_test><max_sessions>).
    #[arg(long = "max-sessions", default_value_t = 64, value_name = "N")]
    max_sessions: usize,
    /// Reload the ruleset when one of its files changes (SIGHUP always reloads it).
    #[arg(long)]
    watch: bool,
    /// Seconds of inactivity after which a session is removed (<rule_test><session_timeout>).
    #[arg(long = "session-timeout", default_value_t = 900, value_name = "SECONDS")]
    session_timeout: u64,
}

pub fn run(args: ServeArgs) -> Result<ExitCode, CliError> {
    if args.max_sessions == 0 || args.session_timeout == 0 {
        return Err(CliError::Usage("--max-sessions and --session-timeout must be at least 1".into()));
    }
    let opts = args.ruleset.session_options()?;
    // As analysisd: a ruleset that does not load still gets a socket; every session then
    // answers with Wazuh's messages.
    let state = match args.ruleset.load(false) {
        Ok(rs) => {
            common::print_diagnostics(&rs.diagnostics).map_err(|e| CliError::io("writing to stderr", e))?;
            RulesetState::Loaded(Arc::new(rs))
        }
        Err(CliError::Load(f)) => {
            common::print_diagnostics(f.all()).map_err(|e| CliError::io("writing to stderr", e))?;
            RulesetState::Failed(Arc::from(f))
        }
        Err(e) => return Err(e),
    };
    let config = Config { max_sessions: args.max_sessions, session_timeout: Duration::from_secs(args.session_timeout) };
    let service = Arc::new(Logtest::new(state, opts, config));
    let http = match &args.http {
        Some(a) => {
            let addr: std::net::SocketAddr = if a.contains(':') { a.parse() } else { format!("127.0.0.1:{a}").parse() }
                .map_err(|e| CliError::Usage(format!("--http {a}: {e}")))?;
            let Some(path) = args.http_tokens.as_ref() else {
                return Err(CliError::Usage("--http needs --http-tokens FILE".into()));
            };
            let text =
                std::fs::read_to_string(path).map_err(|e| CliError::io(format!("reading {}", path.display()), e))?;
            let tokens = http::read_tokens(&text);
            if tokens.is_empty() {
                return Err(CliError::Usage(format!("--http-tokens {}: no token in the file", path.display())));
            }
            Some((addr, tokens))
        }
        None => None,
    };
    reloader(Arc::clone(&service), args.ruleset.clone(), args.watch)?;
    let mut err = std::io::stderr();
    if let Some(path) = &args.socket {
        let listener = socket::bind(path).map_err(|e| CliError::Usage(e.to_string()))?;
        let _ = writeln!(err, "logtest: serving the logtest protocol on {}", path.display());
        let service = Arc::clone(&service);
        let threads = args.threads;
        let worker = std::thread::spawn(move || socket::serve(service, listener, threads));
        if http.is_none() {
            let _ = worker.join();
            return Ok(ExitCode::SUCCESS);
        }
    }
    if let Some((addr, tokens)) = http {
        let _ = writeln!(err, "logtest: serving PUT /logtest on http://{addr}");
        http::serve(service, addr, tokens).map_err(|e| CliError::io(format!("serving http on {addr}"), e))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The modification times of the ruleset's files (a file that cannot be read counts as changed).
fn stamps(paths: &[PathBuf]) -> Vec<Option<std::time::SystemTime>> {
    paths.iter().map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok()).collect()
}

/// Reloads the ruleset on SIGHUP (and, with `watch`, when a file of it changes): sessions made
/// afterwards get the new ruleset, live ones keep theirs until they end; a reload that fails
/// keeps the old ruleset and says why on stderr.
fn reloader(service: Arc<Logtest>, ruleset: RulesetArgs, watch: bool) -> Result<(), CliError> {
    let hup = Arc::new(std::sync::atomic::AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&hup))
        .map_err(|e| CliError::io("installing the SIGHUP handler", e))?;
    let paths = |r: &RulesetArgs| r.files(false).map(|f| f.paths()).unwrap_or_default();
    std::thread::spawn(move || {
        let mut watched = paths(&ruleset);
        let mut last = stamps(&watched);
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let signalled = hup.swap(false, std::sync::atomic::Ordering::Relaxed);
            let changed = watch && stamps(&watched) != last;
            if !signalled && !changed {
                continue;
            }
            let mut err = std::io::stderr();
            match ruleset.load(false) {
                Ok(rs) => {
                    let _ = common::print_diagnostics(&rs.diagnostics);
                    let _ = writeln!(err, "logtest: ruleset reloaded: {}", rs.summary());
                    service.set_ruleset(RulesetState::Loaded(Arc::new(rs)));
                }
                Err(CliError::Load(f)) => {
                    let _ = common::print_diagnostics(f.all());
                    let _ = writeln!(err, "logtest: the ruleset did not reload; sessions keep the previous one");
                }
                Err(e) => {
                    let _ = writeln!(err, "logtest: the ruleset did not reload ({e}); sessions keep the previous one");
                }
            }
            watched = paths(&ruleset);
            last = stamps(&watched);
        }
    });
    Ok(())
}
