//! Loading: Wazuh home configuration, XML files, decoders, rules and CDB lists
//! into one compiled, immutable [`crate::Ruleset`].
//!
//! Problems are split the way Wazuh splits them: a *fatal* problem stops the
//! load ([`LoadError`], with file and line), anything else becomes a
//! [`Diagnostic`] (warning or error message in Wazuh's words, plus where it
//! comes from) and loading goes on.

pub mod config;
pub mod decoders;
pub mod rules;
pub mod xml;

use std::fmt;

/// How serious a load message is (the prefix logtest puts on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Longest message analysisd keeps for a logtest reply (`OS_BUFFER_SIZE - 1`).
pub const MAX_MESSAGE: usize = 2047;

/// A non-fatal message produced while loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Wazuh's own text, e.g. `(7612): Rule ID '5501' is duplicated. ...`.
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// Our own notice (e.g. an unsupported construct), not something Wazuh
    /// says: shown to humans, never put into Wazuh-compatible `messages`.
    pub own: bool,
}

impl Diagnostic {
    pub fn warning(message: impl Into<String>, file: &str, line: u32) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            message: message.into(),
            file: Some(file.to_string()),
            line: Some(line),
            own: false,
        }
    }

    /// A warning of ours about something we do not support yet.
    pub fn unsupported(message: impl Into<String>, file: &str, line: u32) -> Diagnostic {
        Diagnostic { own: true, ..Diagnostic::warning(message, file, line) }
    }

    pub fn error(message: impl Into<String>, file: &str, line: u32) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            file: Some(file.to_string()),
            line: Some(line),
            own: false,
        }
    }

    /// The logtest form: `WARNING: <message>`, the message cut at 2047 bytes
    /// as analysisd's message list cuts it (`OS_BUFFER_SIZE`).
    pub fn logtest_text(&self) -> String {
        let p = match self.severity {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        };
        let m = &self.message[..self.message.floor_char_boundary(MAX_MESSAGE)];
        format!("{p}: {m}")
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let m = &self.message[..self.message.floor_char_boundary(MAX_MESSAGE)];
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{p}: {file}:{line}: {m}"),
            (Some(file), None) => write!(f, "{p}: {file}: {m}"),
            _ => write!(f, "{p}: {m}"),
        }
    }
}

/// A load that stopped: the fatal problem and every message given before it
/// (a fatal error must not hide the warnings and errors that led to it).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub struct LoadFailure {
    #[source]
    pub error: LoadError,
    /// Messages given before the fatal one, in load order.
    pub diagnostics: Vec<Diagnostic>,
}

impl From<LoadError> for LoadFailure {
    fn from(error: LoadError) -> Self {
        LoadFailure { error, diagnostics: Vec::new() }
    }
}

/// A problem that stops loading (Wazuh: the manager refuses to start, logtest
/// cannot create the session).
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: cannot read: {error}")]
    Io { file: String, error: String },
    #[error("{file}:{line}: (1226): Error reading XML file '{file}': {msg}")]
    Xml { file: String, line: u32, msg: String },
    #[error("{file}:{line}: {msg}")]
    Decoder { file: String, line: u32, msg: String },
    #[error("{file}:{line}: {msg}")]
    Rule { file: String, line: u32, msg: String },
    #[error("{file}: {msg}")]
    Config { file: String, msg: String },
}
