//! The matching languages of Wazuh behind one type.
//!
//! Wazuh has four ways to test a string, and they are *not* interchangeable:
//! OS_Match (substring/anchor alternatives, [`os_match`]), OS_Regex (a lazy,
//! non-backtracking matcher with its own classes, [`os_regex`]), PCRE2 (real
//! regular expressions, compiled with no options: case-sensitive, byte mode,
//! [`pcre2`]) and the exact string comparison that rule `<action>` uses by
//! default. Which one applies depends on the element and its `type` attribute;
//! the loaders decide that, this module only compiles and runs them.
//!
//! Every matcher is compiled once at load and is immutable afterwards, so a
//! compiled ruleset can be shared by many sessions and threads.

pub(crate) mod os_match;
pub mod os_regex;
pub(crate) mod pcre2;

pub use self::pcre2::Pcre2;
pub use os_match::OsMatch;
pub use os_regex::OsRegex;

/// Which language a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// OS_Match ([`os_match`]).
    OsMatch,
    /// OS_Regex ([`os_regex`]).
    OsRegex,
    /// PCRE2 ([`pcre2`]).
    Pcre2,
    /// Byte-for-byte equality (rule `<action>` default).
    Exact,
}

impl Kind {
    /// Parses a `type="..."` attribute value (case-insensitive), `None` when unknown.
    pub(crate) fn from_attr(v: &[u8]) -> Option<Kind> {
        if v.eq_ignore_ascii_case(b"osmatch") {
            Some(Kind::OsMatch)
        } else if v.eq_ignore_ascii_case(b"osregex") {
            Some(Kind::OsRegex)
        } else if v.eq_ignore_ascii_case(b"pcre2") {
            Some(Kind::Pcre2)
        } else {
            None
        }
    }
}

/// A pattern that failed to compile, in Wazuh's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg}")]
pub(crate) struct CompileError {
    /// The message.
    pub(crate) msg: String,
}

/// A compiled pattern of any language.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// An OS_Match pattern.
    OsMatch(OsMatch),
    /// An OS_Regex pattern.
    OsRegex(OsRegex),
    /// A PCRE2 pattern.
    Pcre2(Pcre2),
    /// Exact comparison with these bytes.
    Exact(Box<[u8]>),
}

impl Matcher {
    /// Compiles `pattern` in language `kind`. `captures` asks for capture
    /// groups (decoder `<regex>`).
    pub(crate) fn compile(kind: Kind, pattern: &[u8], captures: bool) -> Result<Matcher, CompileError> {
        let err = |e: &dyn std::fmt::Display| CompileError { msg: e.to_string() };
        Ok(match kind {
            Kind::OsMatch => Matcher::OsMatch(OsMatch::compile(pattern).map_err(|e| err(&e))?),
            Kind::OsRegex => Matcher::OsRegex(OsRegex::compile(pattern, captures).map_err(|e| err(&e))?),
            Kind::Pcre2 => Matcher::Pcre2(Pcre2::compile(pattern).map_err(|e| err(&e))?),
            Kind::Exact => Matcher::Exact(pattern.into()),
        })
    }

    /// The language of this matcher.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Matcher::OsMatch(_) => Kind::OsMatch,
            Matcher::OsRegex(_) => Kind::OsRegex,
            Matcher::Pcre2(_) => Kind::Pcre2,
            Matcher::Exact(_) => Kind::Exact,
        }
    }

    /// The pattern as written.
    pub(crate) fn pattern(&self) -> &[u8] {
        match self {
            Matcher::OsMatch(m) => m.pattern(),
            Matcher::OsRegex(m) => m.pattern(),
            Matcher::Pcre2(m) => m.pattern(),
            Matcher::Exact(p) => p,
        }
    }

    /// How many of the pattern's `|` alternatives can never match anything, of how many: those
    /// with a literal byte >= 0x80 where Wazuh compares it as a signed `char` (an OS_Regex
    /// literal, an OS_Match substring test; see their modules). `(0, _)` for other languages.
    pub(crate) fn dead_alternatives(&self) -> (usize, usize) {
        match self {
            Matcher::OsMatch(m) => m.dead_alternatives(),
            Matcher::OsRegex(m) => m.dead_alternatives(),
            Matcher::Pcre2(_) | Matcher::Exact(_) => (0, 1),
        }
    }

    /// Does the pattern match `subject`? Never allocates.
    pub(crate) fn is_match(&self, subject: &[u8]) -> bool {
        match self {
            Matcher::OsMatch(m) => m.is_match(subject),
            Matcher::OsRegex(m) => m.is_match(subject),
            Matcher::Pcre2(m) => m.is_match(subject),
            Matcher::Exact(p) => **p == *subject,
        }
    }

    /// Runs the pattern and returns the upstream "end pointer" (an index into
    /// `subject` that may be -1), filling `caps` with capture ranges.
    pub(crate) fn exec(&self, subject: &[u8], caps: &mut Vec<(usize, usize)>) -> Option<isize> {
        match self {
            Matcher::OsRegex(m) => m.exec(subject, caps),
            Matcher::Pcre2(m) => m.exec(subject, caps),
            Matcher::OsMatch(_) | Matcher::Exact(_) => {
                caps.clear();
                if self.is_match(subject) {
                    Some(subject.len() as isize - 1)
                } else {
                    None
                }
            }
        }
    }
}

/// The cursor decoders continue from after a match that ended at `end`:
/// the byte after `end`, unless `end` is the last byte (then the end of the
/// subject, upstream's "unless it points at the terminator").
pub(crate) fn next_offset(subject_len: usize, end: isize) -> usize {
    os_regex::next_offset(subject_len, end)
}
