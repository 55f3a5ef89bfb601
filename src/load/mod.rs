//! Loading: Wazuh home configuration, XML files, decoders, rules and CDB lists
//! into one compiled, immutable [`crate::Ruleset`].
//!
//! Problems are split the way Wazuh splits them: a *fatal* problem stops the
//! load ([`LoadError`]), anything else becomes a [`Diagnostic`] (a warning
//! or error message in Wazuh's words) and loading goes on. Both carry the
//! place in the file (see [`crate::diagnostics`]).

pub mod config;
pub mod decoders;
pub mod rules;
pub(crate) mod xml;

use crate::diagnostics::{Code, Diagnostic, Severity, SourceFile};

/// A problem that stops loading (Wazuh: the manager refuses to start, logtest
/// cannot create the session): one fatal [`Diagnostic`].
#[derive(Debug, Clone)]
pub struct LoadError(pub(crate) Box<Diagnostic>);

impl LoadError {
    /// A fatal problem in Wazuh's words.
    pub(crate) fn wazuh(code: Code, message: impl Into<String>) -> LoadError {
        LoadError(Box::new(Diagnostic::wazuh(code, Severity::Fatal, message)))
    }

    /// A fatal problem Wazuh writes to its log only (not into logtest replies).
    pub(crate) fn wazuh_log(code: Code, message: impl Into<String>) -> LoadError {
        LoadError(Box::new(Diagnostic::wazuh_log(code, Severity::Fatal, message)))
    }

    /// A fatal problem of ours (a limit Wazuh does not have).
    pub(crate) fn ours(code: Code, message: impl Into<String>) -> LoadError {
        LoadError(Box::new(Diagnostic::ours(code, Severity::Fatal, message)))
    }

    /// A file that cannot be read.
    pub(crate) fn io(file: &SourceFile, e: std::io::Error) -> LoadError {
        let msg = format!("cannot read '{}': {e}", file.name);
        LoadError(Box::new(Diagnostic::ours(Code::FileUnreadable, Severity::Fatal, msg).at(file.whole()).caused_by(e)))
    }

    /// An XML syntax error in `file`, as Wazuh reports it (1226).
    pub(crate) fn xml(file: &SourceFile, e: xml::XmlError) -> LoadError {
        let msg = format!("(1226): Error reading XML file '{}': {} (line {}).", file.name, e.msg, e.line);
        let span = file.span(e.line, e.column, e.offset, e.offset);
        LoadError(Box::new(Diagnostic::wazuh(Code::XmlSyntax, Severity::Fatal, msg).at(span).caused_by(e)))
    }

    /// A variable of `file` that cannot be applied, as Wazuh reports it (1227):
    /// no line (os_xml does not keep one for variables).
    pub(crate) fn xml_vars(file: &SourceFile, e: xml::XmlError) -> LoadError {
        let msg = format!("(1227): Error applying XML variables '{}': {}.", file.name, e.msg);
        let span = file.span(e.line, e.column, e.offset, e.offset);
        LoadError(Box::new(Diagnostic::wazuh(Code::XmlSyntax, Severity::Fatal, msg).at(span).caused_by(e)))
    }

    /// Places it at `span`.
    pub(crate) fn at(mut self, span: crate::diagnostics::Span) -> LoadError {
        self.0.span = Some(span);
        self
    }

    /// Adds a further message Wazuh gives about the same problem.
    pub(crate) fn then(self, message: impl Into<String>) -> LoadError {
        LoadError(Box::new(self.0.then(message)))
    }

    /// Keeps the lower-level error behind it.
    pub(crate) fn caused_by(self, e: impl std::error::Error + Send + Sync + 'static) -> LoadError {
        LoadError(Box::new(self.0.caused_by(e)))
    }

    /// Names the rule (unless a rule is named already).
    pub(crate) fn rule(mut self, id: u32) -> LoadError {
        self.0.rule.get_or_insert(id);
        self
    }

    /// The fatal diagnostic.
    pub fn diagnostic(&self) -> &Diagnostic {
        &self.0
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A load that stopped: the fatal problem and every message given before it
/// (a fatal error must not hide the warnings and errors that led to it).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub struct LoadFailure {
    /// The problem that stopped the load.
    #[source]
    pub error: LoadError,
    /// Messages given before the fatal one, in load order.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadFailure {
    /// Every message, the fatal one last.
    pub fn all(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().chain(std::iter::once(self.error.diagnostic()))
    }

    /// What a logtest session says about it, in Wazuh's words and order.
    pub(crate) fn wazuh_messages(&self) -> impl Iterator<Item = String> + '_ {
        self.all().flat_map(crate::diagnostics::render::wazuh_texts)
    }
}

impl From<LoadError> for LoadFailure {
    fn from(error: LoadError) -> Self {
        LoadFailure { error, diagnostics: Vec::new() }
    }
}
