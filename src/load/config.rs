//! Which files make a ruleset, in which order (upstream: src/config/rules-config.c `Read_Rules`).
//!
//! A ruleset comes from a Wazuh home (its `etc/ossec.conf` `<ruleset>`
//! section), from explicit files given on the command line, or from the
//! ruleset embedded in the binary. Wazuh sorts all decoder files together by
//! **basename** (the directory does not matter), and all rule files likewise;
//! that order is the load order, which decides parents, `if_group` targets and
//! sibling order. Files given explicitly are appended after the home's, in the
//! order given.

use std::path::{Path, PathBuf};

use super::xml;
use super::LoadError;
use crate::diagnostics::{Code, SourceFile};
use crate::matcher::OsRegex;

/// Where a file's bytes come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A file of a Wazuh home.
    Disk(PathBuf),
    /// A file given on the command line (`--rules`, `--decoders`, `--lists`).
    Given(PathBuf),
    /// A file built into the binary ([`crate::embedded`]).
    Embedded(&'static [u8]),
}

/// One decoder, rule or list file.
#[derive(Debug, Clone)]
pub struct FileRef {
    /// The path as Wazuh names it in messages and in rule `<list>` references
    /// (relative to the home, e.g. `ruleset/rules/0350-amazon_rules.xml`).
    pub(crate) name: String,
    /// Where its bytes come from.
    pub(crate) source: Source,
}

impl FileRef {
    /// The part after the last `/`: Wazuh sorts files by it.
    pub(crate) fn basename(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// Reads the file. `Ok(None)` when it does not exist (Wazuh warns and goes
    /// on). Only regular files of at most [`MAX_FILE`] bytes are read: a FIFO
    /// would block and `/dev/zero` never ends.
    pub(crate) fn read(&self) -> Result<Option<std::borrow::Cow<'static, [u8]>>, std::io::Error> {
        match &self.source {
            Source::Embedded(b) => Ok(Some(std::borrow::Cow::Borrowed(b))),
            Source::Disk(p) | Source::Given(p) => match read_regular_file(p, MAX_FILE) {
                Ok(v) => Ok(Some(std::borrow::Cow::Owned(v))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// The file's identity for diagnostics (its name and where to read it).
    pub(crate) fn source_file(&self) -> SourceFile {
        match &self.source {
            Source::Disk(p) | Source::Given(p) => SourceFile::new(&self.name, Some(p)),
            Source::Embedded(_) => SourceFile::new(&self.name, None),
        }
    }

    /// The path of a file given on the command line.
    pub(crate) fn given_path(&self) -> Option<&Path> {
        match &self.source {
            Source::Given(p) => Some(p),
            Source::Disk(_) | Source::Embedded(_) => None,
        }
    }
}

/// The largest ruleset file read (the whole upstream ruleset's largest is
/// under 1 MiB).
pub(crate) const MAX_FILE: u64 = 64 << 20;

/// Reads a regular file of at most `max` bytes; anything else (a directory,
/// FIFO, device, or a bigger file) is an error saying why.
pub(crate) fn read_regular_file(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    if meta.len() > max {
        return Err(Error::new(ErrorKind::InvalidInput, format!("larger than {} MiB", max >> 20)));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(Error::new(ErrorKind::InvalidInput, format!("larger than {} MiB", max >> 20)));
    }
    Ok(buf)
}

/// Settings of `<alerts>` that change alert output.
#[derive(Debug, Clone, Copy)]
pub struct AlertSettings {
    /// `<log_alert_level>`: the lowest level analysisd writes (logtest's `alert` uses it too).
    pub(crate) log_alert_level: u8,
    /// `<email_alert_level>`: the lowest level whose alerts show `mail: true`.
    pub(crate) email_alert_level: u8,
}

impl Default for AlertSettings {
    /// The values of the `ossec.conf` a Wazuh 4.14 manager ships with.
    fn default() -> Self {
        AlertSettings { log_alert_level: 3, email_alert_level: 12 }
    }
}

/// Everything needed to build a ruleset, in load order.
#[derive(Debug, Clone, Default)]
pub struct RulesetFiles {
    /// Decoder files, in load order (sorted by basename).
    pub decoders: Vec<FileRef>,
    /// Rule files, in load order (sorted by basename across directories).
    pub rules: Vec<FileRef>,
    /// CDB lists (`<list>` of `<ruleset>`): only these can be named by rules' `<list>`.
    pub lists: Vec<FileRef>,
    /// The `<alerts>` levels (defaults: those of the shipped `ossec.conf`).
    pub alerts: AlertSettings,
    /// Human description of where this came from ("home /var/ossec", "embedded").
    pub origin: String,
    /// runtests.py's adaptation of rule 60000 (`decoded_as json`, no category)
    /// so Windows EventChannel test logs given as JSON reach the Windows rules.
    pub adapt_rule_60000: bool,
}

impl RulesetFiles {
    /// The files on disk the ruleset is read from (for watching them).
    pub fn paths(&self) -> Vec<PathBuf> {
        self.decoders
            .iter()
            .chain(&self.rules)
            .chain(&self.lists)
            .filter_map(|f| match &f.source {
                Source::Disk(p) | Source::Given(p) => Some(p.clone()),
                Source::Embedded(_) => None,
            })
            .collect()
    }
}

impl RulesetFiles {
    /// Reads `<home>/etc/ossec.conf` and lists the files its `<ruleset>` names.
    pub fn from_home(home: &Path) -> Result<RulesetFiles, LoadError> {
        let conf_path = home.join("etc/ossec.conf");
        let conf = SourceFile::new(&conf_path.display().to_string(), Some(&conf_path));
        let bytes = read_regular_file(&conf_path, MAX_FILE).map_err(|e| LoadError::io(&conf, e))?;
        let els = xml::nodes(xml::parse(&bytes).map_err(|e| LoadError::xml(&conf, e))?);
        let mut decoder_includes = Vec::new();
        let mut decoder_dirs: Vec<(String, Vec<u8>)> = Vec::new();
        let mut decoder_excludes = Vec::new();
        let mut rule_includes = Vec::new();
        let mut rule_dirs: Vec<(String, Vec<u8>)> = Vec::new();
        let mut rule_excludes = Vec::new();
        let mut lists = Vec::new();
        let mut alerts = AlertSettings::default();
        let text = |c: &xml::Element| String::from_utf8_lossy(c.content.trim_ascii()).into_owned();
        for top in &els {
            for section in &top.children {
                if section.name == "ruleset" {
                    for c in &section.children {
                        let pattern = c.attr("pattern").map(|p| p.to_vec()).unwrap_or_else(|| b".xml$".to_vec());
                        match c.name.as_str() {
                            "decoder_include" => decoder_includes.push(text(c)),
                            "decoder_dir" => decoder_dirs.push((text(c), pattern)),
                            "decoder_exclude" => decoder_excludes.push(text(c)),
                            "rule_include" => rule_includes.push(text(c)),
                            "rule_dir" => rule_dirs.push((text(c), pattern)),
                            "rule_exclude" => rule_excludes.push(text(c)),
                            "list" => lists.push(text(c)),
                            _ => {}
                        }
                    }
                } else if section.name == "alerts" {
                    for c in &section.children {
                        let v = std::str::from_utf8(c.content.trim_ascii()).ok().and_then(|s| s.parse::<u8>().ok());
                        match (c.name.as_str(), v) {
                            ("log_alert_level", Some(v)) => alerts.log_alert_level = v,
                            ("email_alert_level", Some(v)) => alerts.email_alert_level = v,
                            _ => {}
                        }
                    }
                }
            }
        }
        if decoder_dirs.is_empty() {
            decoder_dirs.push(("ruleset/decoders".into(), b".xml$".to_vec()));
        }
        if rule_dirs.is_empty() {
            rule_dirs.push(("ruleset/rules".into(), b".xml$".to_vec()));
        }
        let decoders = collect(home, &decoder_includes, "ruleset/decoders", &decoder_dirs, &decoder_excludes)?;
        let rules = collect(home, &rule_includes, "ruleset/rules", &rule_dirs, &rule_excludes)?;
        let lists = lists
            .into_iter()
            .map(|l| {
                let name = if l.contains('/') { l } else { format!("ruleset/rules/{l}") };
                // Everything from the first ".cdb" on is dropped: the text file is the source.
                let name = match name.find(".cdb") {
                    Some(i) => name[..i].to_string(),
                    None => name,
                };
                FileRef { source: Source::Disk(home.join(&name)), name }
            })
            .collect();
        Ok(RulesetFiles {
            decoders,
            rules,
            lists,
            alerts,
            origin: format!("home {}", home.display()),
            adapt_rule_60000: false,
        })
    }

    /// Appends explicit files (already expanded from globs), after the home's.
    pub fn add_explicit(&mut self, decoders: &[PathBuf], rules: &[PathBuf], lists: &[PathBuf]) {
        let mk = |p: &PathBuf| FileRef { name: p.display().to_string(), source: Source::Given(p.clone()) };
        self.decoders.extend(decoders.iter().map(mk));
        self.rules.extend(rules.iter().map(mk));
        self.lists.extend(lists.iter().map(mk));
    }
}

/// Collects the files of includes and directories, drops excludes and duplicates,
/// and sorts by basename (byte-wise), as `Read_Rules` does.
fn collect(
    home: &Path,
    includes: &[String],
    default_dir: &str,
    dirs: &[(String, Vec<u8>)],
    excludes: &[String],
) -> Result<Vec<FileRef>, LoadError> {
    let mut names: Vec<String> = Vec::new();
    for inc in includes {
        let name = if inc.contains('/') { inc.clone() } else { format!("{default_dir}/{inc}") };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    for (dir, pattern) in dirs {
        let re = OsRegex::compile(pattern, false).map_err(|e| {
            let msg = format!("invalid pattern '{}' for '{}': {e}", String::from_utf8_lossy(pattern), dir);
            LoadError::ours(Code::Config, msg).at(SourceFile::new("etc/ossec.conf", None).whole())
        })?;
        let path = home.join(dir);
        let Ok(rd) = std::fs::read_dir(&path) else {
            continue;
        };
        let mut entries: Vec<String> =
            rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        entries.sort();
        for entry in entries {
            let full = format!("{dir}/{entry}");
            if !re.is_match(full.as_bytes()) {
                continue;
            }
            if excludes.iter().any(|x| *x == full || *x == entry) {
                continue;
            }
            if !names.contains(&full) {
                names.push(full);
            }
        }
    }
    let mut files: Vec<FileRef> =
        names.into_iter().map(|n| FileRef { source: Source::Disk(home.join(&n)), name: n }).collect();
    files.sort_by(|a, b| a.basename().as_bytes().cmp(b.basename().as_bytes()));
    Ok(files)
}
