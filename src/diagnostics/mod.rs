//! One model for every problem logtest reports — while loading a ruleset,
//! compiling a pattern, reading lists, configuration or suites, and (later)
//! in `check`, `explain` and test failures — and the ways to show it.
//!
//! A [`Diagnostic`] says *what* (a stable [`Code`] of ours and the message,
//! which for Wazuh's own messages is Wazuh's exact text with its number),
//! *how bad* ([`Severity`], and the [`Effect`] Wazuh gives it: a rule or
//! decoder dropped, the load refused), *where* ([`Span`]: file, line, column,
//! byte range) and *about what* (rule id, decoder name). Renderers are kept
//! apart from the type ([`render`]): Wazuh's `WARNING:`/`ERROR:` text for
//! logtest replies, a human form with the source line and a caret (ruff- and
//! rustc-like), JSON, and GitHub annotations.

pub(crate) mod codes;
pub mod render;

use std::path::Path;
use std::sync::Arc;

pub use codes::Code;

/// How serious a message is. `Info`, `Warning` and `Error` are the levels
/// Wazuh prints (`INFO:`, `WARNING:`, `ERROR:`); `Fatal` is a problem that
/// stops the load (Wazuh refuses the ruleset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A notice (`INFO:`).
    Info,
    /// Something is ignored or dropped, the load goes on (`WARNING:`).
    Warning,
    /// Wazuh's `ERROR:` messages that do not stop the load (logtest then refuses every request; see
    /// [`crate::logtest`]).
    Error,
    /// The load stops ([`crate::load::LoadError`]).
    Fatal,
}

impl Severity {
    /// The lower-case word humans read.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Fatal => "fatal",
        }
    }
}

/// What Wazuh does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Nothing is lost (a notice, or a part of a rule is ignored).
    None,
    /// The rule is not loaded.
    RuleDropped,
    /// The ruleset is refused (the manager does not start; logtest cannot
    /// create a session).
    LoadFails,
}

/// Whose words the message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Wazuh's own message, byte for byte: it goes into logtest replies.
    Wazuh,
    /// Wazuh's own message that it only writes to its log (`merror`, seen in
    /// `wazuh-analysisd -t` and `ossec.log`), not into logtest replies.
    WazuhLog,
    /// Ours (an analysis, or a limit of our own): shown to humans only.
    Ours,
}

/// Where in which file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The file as Wazuh names it (relative to the Wazuh home, or as given).
    pub file: Arc<str>,
    /// Where to read it for a snippet (`None`: an embedded file, found by name).
    pub(crate) path: Option<Arc<Path>>,
    /// 1-based line (0: the file as a whole).
    pub line: u32,
    /// 1-based byte column (0: unknown).
    pub(crate) column: u32,
    /// Byte range in the file (`start == end` when only the point is known).
    pub(crate) start: usize,
    /// End of the byte range.
    pub(crate) end: usize,
}

/// One file's identity, shared by the spans of its elements.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceFile {
    /// The file as Wazuh names it.
    pub(crate) name: Arc<str>,
    /// Where to read it (`None`: an embedded file).
    pub(crate) path: Option<Arc<Path>>,
}

impl SourceFile {
    /// A file named `name` in messages, read from `path` for snippets (`None`: an embedded file,
    /// looked up by name).
    pub fn new(name: &str, path: Option<&Path>) -> SourceFile {
        SourceFile { name: name.into(), path: path.map(Arc::from) }
    }

    /// A span in this file.
    pub(crate) fn span(&self, line: u32, column: u32, start: usize, end: usize) -> Span {
        Span { file: Arc::clone(&self.name), path: self.path.clone(), line, column, start, end }
    }

    /// The file as a whole (no line).
    pub(crate) fn whole(&self) -> Span {
        self.span(0, 0, 0, 0)
    }
}

/// A problem, a notice or a finding.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Our stable code for this kind of problem.
    pub code: Code,
    /// How serious it is.
    pub severity: Severity,
    /// What Wazuh does about it (the code's effect unless the message says more).
    pub(crate) effect: Effect,
    /// Whose words the message is: only [`Origin::Wazuh`] messages go into logtest replies.
    pub origin: Origin,
    /// The message: for [`Origin::Wazuh`] Wazuh's exact text, e.g.
    /// `(7612): Rule ID '5501' is duplicated. Only the first occurrence will be considered.`
    pub message: String,
    /// Where it is (the element's start tag, usually).
    pub span: Option<Span>,
    /// The rule it is about.
    pub rule: Option<u32>,
    /// The decoder it is about.
    pub(crate) decoder: Option<String>,
    /// What to do about it.
    pub(crate) help: Option<String>,
    /// The lower-level error behind it (a pattern's compile error, an I/O error).
    pub(crate) source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    /// Wazuh's further messages about the same problem, each a message of its
    /// own in Wazuh's output (e.g. `(2107): Decoder configuration error: 'x'.`
    /// after `(2108): No 'prematch' found in decoder: 'x'.`).
    pub also: Vec<String>,
}

impl PartialEq for Diagnostic {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
            && self.severity == other.severity
            && self.effect == other.effect
            && self.origin == other.origin
            && self.message == other.message
            && self.span == other.span
            && self.rule == other.rule
            && self.decoder == other.decoder
            && self.help == other.help
            && self.also == other.also
    }
}

impl Diagnostic {
    /// A message in Wazuh's words.
    pub(crate) fn wazuh(code: Code, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity,
            effect: code.effect(),
            origin: Origin::Wazuh,
            message: message.into(),
            span: None,
            rule: None,
            decoder: None,
            help: None,
            source: None,
            also: Vec::new(),
        }
    }

    /// A message of ours (not something Wazuh says).
    pub(crate) fn ours(code: Code, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic { origin: Origin::Ours, ..Diagnostic::wazuh(code, severity, message) }
    }

    /// A message Wazuh writes to its log only (see [`Origin::WazuhLog`]).
    pub(crate) fn wazuh_log(code: Code, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic { origin: Origin::WazuhLog, ..Diagnostic::wazuh(code, severity, message) }
    }

    /// Places it at `span`.
    pub(crate) fn at(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }

    /// Places it at `span`, if known.
    pub fn at_opt(mut self, span: Option<Span>) -> Diagnostic {
        self.span = span;
        self
    }

    /// Names the rule it is about.
    pub fn rule(mut self, id: u32) -> Diagnostic {
        self.rule = Some(id);
        self
    }

    /// Names the decoder it is about.
    pub(crate) fn decoder(mut self, name: &[u8]) -> Diagnostic {
        self.decoder = Some(String::from_utf8_lossy(name).into_owned());
        self
    }

    /// Adds what to do about it (shown as `= help:` by the human renderer).
    pub(crate) fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Overrides the code's effect (e.g. a warning that drops the rule).
    pub fn effect(mut self, effect: Effect) -> Diagnostic {
        self.effect = effect;
        self
    }

    /// Adds a further message Wazuh gives about the same problem.
    pub(crate) fn then(mut self, message: impl Into<String>) -> Diagnostic {
        self.also.push(message.into());
        self
    }

    /// Keeps the lower-level error behind it ([`std::error::Error::source`]).
    pub(crate) fn caused_by(mut self, e: impl std::error::Error + Send + Sync + 'static) -> Diagnostic {
        self.source = Some(Arc::new(e));
        self
    }

    /// Wazuh's message number, the `NNNN` of a leading `(NNNN):`.
    pub(crate) fn wazuh_number(&self) -> Option<u32> {
        if self.origin == Origin::Ours {
            return None;
        }
        let rest = self.message.strip_prefix('(')?;
        let end = rest.find("):")?;
        rest[..end].parse().ok()
    }

    /// File name and line, for one-line mentions.
    pub fn location(&self) -> Option<(&str, u32)> {
        self.span.as_ref().map(|s| (&*s.file, s.line))
    }
}

impl std::fmt::Display for Diagnostic {
    /// The one-line human form without source snippet:
    /// `file:line:col: severity CODE message`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&render::headline(self))
    }
}

impl std::error::Error for Diagnostic {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}
