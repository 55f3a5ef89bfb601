//! `logtest serve --socket PATH`: the logtest socket of wazuh-analysisd over our engine (see
//! [`logtest::server`]), for `wazuh-logtest`, the API's `/logtest` and other clients.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use logtest::server::{socket, Config, Logtest, RulesetState};

use super::common::{self, RulesetArgs};
use super::CliError;

#[derive(Args)]
pub struct ServeArgs {
    /// The Unix socket to create (e.g. /var/ossec/queue/sockets/logtest); mode 0660.
    #[arg(long, value_name = "PATH")]
    socket: PathBuf,
    #[command(flatten)]
    ruleset: RulesetArgs,
    /// Worker threads accepting connections (<rule_test><threads>).
    #[arg(long, default_value_t = 1, value_name = "N")]
    threads: usize,
    /// Most sessions kept; the one used longest ago goes first (<rule_test><max_sessions>).
    #[arg(long = "max-sessions", default_value_t = 64, value_name = "N")]
    max_sessions: usize,
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
    let listener = socket::bind(&args.socket).map_err(|e| CliError::Usage(e.to_string()))?;
    let _ = writeln!(std::io::stderr(), "logtest: serving the logtest protocol on {}", args.socket.display());
    let service = Arc::new(Logtest::new(state, opts, config));
    socket::serve(service, listener, args.threads);
    Ok(ExitCode::SUCCESS)
}
