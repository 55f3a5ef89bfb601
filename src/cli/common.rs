//! What the subcommands share: the ruleset flags (`--home`, `--rules`, …)
//! turned into a [`Ruleset`] and [`SessionOptions`], and diagnostics on
//! stderr in the human form (colours only on a terminal).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use logtest::diagnostics::{render, Diagnostic};
use logtest::geoip::GeoIp;
use logtest::load::config::RulesetFiles;
use logtest::mitre::MitreDb;
use logtest::session::{Clock, SessionOptions};
use logtest::Ruleset;

use super::CliError;

#[derive(Args, Clone, Default)]
pub struct RulesetArgs {
    /// Wazuh home (e.g. /var/ossec): its etc/ossec.conf <ruleset> section is loaded.
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Extra decoder files (glob, repeatable), loaded after the home's.
    #[arg(long = "decoders", value_name = "GLOB")]
    pub decoders: Vec<String>,
    /// Extra rule files (glob, repeatable), loaded after the home's.
    #[arg(long = "rules", value_name = "GLOB")]
    pub rules: Vec<String>,
    /// Extra CDB list text files (glob, repeatable).
    #[arg(long = "lists", value_name = "GLOB")]
    pub lists: Vec<String>,
    /// MITRE ATT&CK technique table (JSON) instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    pub mitre: Option<PathBuf>,
    /// Manager host name (manager.name, agent 000's name); default: this host's name.
    #[arg(long = "manager-name", value_name = "NAME")]
    pub manager_name: Option<String>,
    /// Correlation clock: `arrival` (receive time, as analysisd; the default, except for
    /// `replay`: event:aws.eventTime) or `event:FIELD` (e.g. event:aws.eventTime).
    #[arg(long, value_name = "CLOCK")]
    pub clock: Option<Clock>,
    /// GeoIP database (MaxMind DB, e.g. GeoLite2-City.mmdb): fills srcgeoip/dstgeoip
    /// from srcip/dstip, as a manager built with GeoIP support.
    #[arg(long = "geoip-db", value_name = "FILE")]
    pub geoip_db: Option<PathBuf>,
    /// Alerts carry `srcgeoip`/`dstgeoip` keys (analysisd.geoip_jsonout=1); needs --geoip-db.
    #[arg(long = "geoip-jsonout", requires = "geoip_db")]
    pub geoip_jsonout: bool,
}

/// Expands globs; a path that exists is that file even if it looks like a glob.
fn expand(globs: &[String]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for g in globs {
        if std::path::Path::new(g).exists() {
            out.push(PathBuf::from(g));
            continue;
        }
        let paths = glob::glob(g).map_err(|e| CliError::Usage(format!("invalid glob '{g}': {e}")))?;
        let mut found: Vec<PathBuf> = paths.filter_map(|p| p.ok()).collect();
        if found.is_empty() {
            return Err(CliError::Usage(format!("no file matches '{g}'")));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

impl RulesetArgs {
    /// The files the flags name: the home's (`--home`, else `$WAZUH_HOME`
    /// unless explicit files are given), then the explicit ones; with none at
    /// all, the embedded ruleset.
    pub fn files(&self, adapt_rule_60000: bool) -> Result<RulesetFiles, CliError> {
        let explicit = !self.decoders.is_empty() || !self.rules.is_empty() || !self.lists.is_empty();
        let home =
            self.home
                .clone()
                .or_else(|| if explicit { None } else { std::env::var_os("WAZUH_HOME").map(PathBuf::from) });
        let mut files = match &home {
            Some(h) => RulesetFiles::from_home(h).map_err(|e| CliError::Load(Box::new(e.into())))?,
            None if explicit => RulesetFiles { origin: "explicit files".into(), ..Default::default() },
            None => logtest::embedded::files(),
        };
        files.add_explicit(&expand(&self.decoders)?, &expand(&self.rules)?, &expand(&self.lists)?);
        files.adapt_rule_60000 = adapt_rule_60000;
        Ok(files)
    }

    /// The MITRE table: `--mitre FILE` or the embedded one.
    pub fn mitre(&self) -> Result<MitreDb, CliError> {
        match &self.mitre {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|e| CliError::io(format!("--mitre {}", p.display()), e))?;
                MitreDb::parse(&text).map_err(|e| CliError::Usage(format!("--mitre {}: {e}", p.display())))
            }
            None => Ok(MitreDb::embedded()),
        }
    }

    /// Loads the ruleset the flags name.
    pub fn load(&self, adapt_rule_60000: bool) -> Result<Ruleset, CliError> {
        let files = self.files(adapt_rule_60000)?;
        Ruleset::load(&files, &self.mitre()?).map_err(|f| CliError::Load(Box::new(f)))
    }

    /// The session options the flags give.
    pub fn session_options(&self) -> Result<SessionOptions, CliError> {
        let mut o = SessionOptions::default();
        if let Some(n) = &self.manager_name {
            o.manager_name = n.as_bytes().to_vec();
        }
        o.clock = self.clock.clone().unwrap_or_default();
        if let Some(p) = &self.geoip_db {
            o.geoip = Some(Arc::new(GeoIp::open(p).map_err(|e| CliError::Usage(format!("--geoip-db: {e}")))?));
            o.geoip_jsonout = self.geoip_jsonout;
        }
        Ok(o)
    }
}

/// Whether to colour stderr: a terminal, and `NO_COLOR` not set.
pub fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Prints diagnostics on stderr in the human form.
pub fn print_diagnostics<'a>(diags: impl IntoIterator<Item = &'a Diagnostic>) -> std::io::Result<()> {
    let color = stderr_color();
    let mut sources = render::Sources::new();
    let mut err = std::io::stderr().lock();
    for d in diags {
        err.write_all(render::human(d, &mut sources, color).as_bytes())?;
    }
    Ok(())
}
