//! OS_Match ("sregex"), and OS_WordMatch: Wazuh's two literal-string
//! languages, bit-compatible with 4.14.7.
//!
//! Upstream: `src/os_regex/os_match_compile.c` (`OSMatch_Compile`),
//! `os_match_execute.c` (`OSMatch_Execute`, `_OS_Match`, `_os_strncmp`,
//! `_os_strcmp`, `_os_strcmp_last`, `_os_strmatch`) and `os_regex_match.c`
//! (`OS_WordMatch`, also spelled `OS_Match`).
//!
//! # OS_Match ([`OsMatch`])
//!
//! The default language of decoder `<program_name>`, rule `<match>`, most rule
//! field elements and list `check_value`.
//!
//! * A `!` as the *very first* byte of the pattern is removed and inverts the
//!   final result. Anywhere else `!` is literal.
//! * The pattern is split on **every** `|`. There is no escape, so a literal
//!   `|` can never be matched. The pattern matches when any alternative does.
//! * Matching is ASCII case-insensitive; bytes >= 0x80 compare exactly,
//!   except in the plain substring test (`X` below): there upstream compares
//!   a signed `char` of the pattern with an unsigned subject byte, so an
//!   alternative with a byte >= 0x80 never matches (`é` fails on `é`, while
//!   `^é`, `é$` and `^é$` match it).
//! * Per alternative, `^` is special only as its first byte and `$` only as
//!   its last byte:
//!
//!   | alternative | test |
//!   |---|---|
//!   | `^X$` | the subject equals X (`^$`: the subject is empty) |
//!   | empty | **always true** (`a\|`, `\|b`, an empty pattern) |
//!   | `X$` | the subject ends with X (`$` alone: always true) |
//!   | `^X` | the subject starts with X (`^` alone: always true) |
//!   | `X` | X occurs in the subject |
//!
//! * Nothing else is syntax: `\`, `.`, `*`, `+`, `(`, `[` and a `^`/`$` in the
//!   middle are literal bytes (`a\d` matches the text `a\d`).
//!
//! Traps: an empty alternative matches everything, so `foo|` is always true
//! and `!foo|` never is; the pattern `!` alone never matches (it negates an
//! always-true empty pattern).
//!
//! # OS_WordMatch ([`word_match`])
//!
//! An older, uncompiled cousin used for `if_group`-style tests. It is *not*
//! the same language, and its upstream loop has quirks this port keeps:
//!
//! * an empty pattern is false;
//! * a *trailing* empty alternative (`a|`) is true, but a leading or middle
//!   empty alternative (`|b`, `a||b`) is **not**: upstream then looks for a
//!   literal `|` in the subject followed by the next alternative's text
//!   (`a||b|c` is true on `x|b`);
//! * `^X` is a case-insensitive prefix test (no `$` anchor: `$` is literal);
//! * otherwise a case-insensitive substring test, false on an empty subject.
//!
//! # Bytes and NUL
//!
//! Upstream works on C strings: a pattern or a subject ends at its first NUL
//! byte (log subjects never contain one). Patterns longer than 20480 bytes do
//! not compile.

use std::fmt;

/// Longest accepted pattern, in bytes (upstream `OS_PATTERN_MAXSIZE`).
pub(crate) const MAX_PATTERN_LEN: usize = 20480;

/// Why a pattern did not compile. The number is upstream's `reg->error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OsMatchError {
    /// Code 3, `OS_REGEX_MAXSIZE`: longer than [`MAX_PATTERN_LEN`] bytes.
    TooLong,
}

impl OsMatchError {
    /// Upstream's numeric error code.
    pub(crate) fn code(&self) -> i32 {
        match self {
            OsMatchError::TooLong => 3,
        }
    }
}

impl fmt::Display for OsMatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OsMatchError::TooLong => write!(f, "pattern longer than 20480 bytes (OS_Match error {})", self.code()),
        }
    }
}

impl std::error::Error for OsMatchError {}

/// The test one alternative performs (upstream's `match_fp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Test {
    /// `^X$` (`_os_strcmp`).
    Equals,
    /// Empty alternative (`_os_strmatch`).
    Always,
    /// `X$` (`_os_strcmp_last`).
    EndsWith,
    /// `^X` (`_os_strncmp`).
    StartsWith,
    /// `X` (`_OS_Match`).
    Contains,
    /// `X` with a byte >= 0x80: `_OS_Match` never matches it (see the module documentation).
    Never,
}

#[derive(Debug, Clone)]
struct Alternative {
    test: Test,
    /// The text to look for, lower-cased, anchors removed.
    text: Box<[u8]>,
    /// For [`Test::Contains`]: a substring searcher for `text`, used on lower-cased subjects.
    finder: Option<memchr::memmem::Finder<'static>>,
}

impl Alternative {
    /// Classifies one (already lower-cased) alternative, in upstream's order.
    fn new(alt: &[u8]) -> Alternative {
        let begins = alt.first() == Some(&b'^');
        let ends = alt.len() > 1 && alt.last() == Some(&b'$');
        let (test, text) = if begins && ends {
            (Test::Equals, &alt[1..alt.len() - 1])
        } else if alt.is_empty() {
            (Test::Always, alt)
        } else if alt.last() == Some(&b'$') {
            (Test::EndsWith, &alt[..alt.len() - 1])
        } else if begins {
            (Test::StartsWith, &alt[1..])
        } else {
            (if alt.is_ascii() { Test::Contains } else { Test::Never }, alt)
        };
        let finder = (test == Test::Contains).then(|| memchr::memmem::Finder::new(text).into_owned());
        Alternative { test, text: text.into(), finder }
    }

    /// [`Alternative::matches`] on a subject already lower-cased (ASCII).
    fn matches_lowered(&self, lowered: &[u8]) -> bool {
        let text = &*self.text;
        match self.test {
            Test::Always => true,
            Test::Never => false,
            Test::Equals => lowered == text,
            Test::StartsWith => lowered.starts_with(text),
            Test::EndsWith => lowered.ends_with(text),
            Test::Contains => self.finder.as_ref().is_none_or(|f| f.find(lowered).is_some()),
        }
    }

    fn matches(&self, subject: &[u8]) -> bool {
        let text = &*self.text;
        match self.test {
            Test::Always => true,
            Test::Never => false,
            Test::Equals => subject.eq_ignore_ascii_case(text),
            Test::StartsWith => subject.get(..text.len()).is_some_and(|head| head.eq_ignore_ascii_case(text)),
            Test::EndsWith => {
                subject.len().checked_sub(text.len()).is_some_and(|start| subject[start..].eq_ignore_ascii_case(text))
            }
            Test::Contains => contains_ignore_case(subject, text),
        }
    }
}

/// A compiled OS_Match pattern. Immutable; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct OsMatch {
    raw: Box<[u8]>,
    negate: bool,
    alternatives: Box<[Alternative]>,
}

impl OsMatch {
    /// Compiles `pattern`. The only error is a pattern longer than 20480
    /// bytes (counted before removing a leading `!`).
    pub(crate) fn compile(pattern: &[u8]) -> Result<OsMatch, OsMatchError> {
        let text = until_nul(pattern);
        if text.len() > MAX_PATTERN_LEN {
            return Err(OsMatchError::TooLong);
        }
        let (negate, body) = match text.split_first() {
            Some((b'!', rest)) => (true, rest),
            _ => (false, text),
        };
        let lowered = body.to_ascii_lowercase();
        let alternatives = lowered.split(|&b| b == b'|').map(Alternative::new).collect();
        Ok(OsMatch { raw: pattern.into(), negate, alternatives })
    }

    /// Does the pattern match `subject`? Never allocates.
    pub(crate) fn is_match(&self, subject: &[u8]) -> bool {
        let subject = until_nul(subject);
        let any = self.alternatives.iter().any(|alt| alt.matches(subject));
        any != self.negate
    }

    /// [`OsMatch::is_match`] on `lowered`, the subject cut at its first NUL and lower-cased
    /// (ASCII): the caller lower-cases a subject once for the many patterns it tries (a rule
    /// walk tests dozens of `<match>` patterns against the same log).
    pub(crate) fn is_match_lowered(&self, lowered: &[u8]) -> bool {
        let any = self.alternatives.iter().any(|alt| alt.matches_lowered(lowered));
        any != self.negate
    }

    /// How many alternatives can never match (a substring test with a byte >= 0x80), of how many.
    pub(crate) fn dead_alternatives(&self) -> (usize, usize) {
        let dead = self.alternatives.iter().filter(|a| a.test == Test::Never).count();
        (dead, self.alternatives.len())
    }

    /// The pattern as given to [`OsMatch::compile`].
    pub fn pattern(&self) -> &[u8] {
        &self.raw
    }
}

/// Upstream `OS_WordMatch(pattern, subject)` (see the module documentation),
/// an uncompiled one-shot test. Never allocates.
pub(crate) fn word_match(pattern: &[u8], subject: &[u8]) -> bool {
    let pattern = until_nul(pattern);
    let subject = until_nul(subject);
    if pattern.is_empty() {
        return false;
    }
    // Upstream walks the pattern and, at each `|`, tests the alternative that
    // ends there; the test sees the whole rest of the pattern (which is what
    // makes empty alternatives odd), bounded by the alternative's length.
    let mut rest = pattern;
    loop {
        match rest.iter().position(|&b| b == b'|') {
            Some(len) => {
                if internal_match(rest, subject, len) {
                    return true;
                }
                rest = rest.get(len + 1..).unwrap_or_default();
                if rest.is_empty() {
                    // A trailing empty alternative.
                    return true;
                }
            }
            None => return internal_match(rest, subject, rest.len()),
        }
    }
}

/// Upstream `_InternalMatch`: `pattern` is the rest of the whole pattern and
/// `len` the length of the current alternative in it. The alternative's text
/// is compared until the byte that follows it in the pattern (`|` or the
/// end) is reached, which for an empty alternative means "up to the next
/// `|`", starting with a literal `|`.
fn internal_match(pattern: &[u8], subject: &[u8], len: usize) -> bool {
    let at = |bytes: &[u8], i: usize| bytes.get(i).copied().unwrap_or(0).to_ascii_lowercase();
    let stop = at(pattern, len);

    let Some(&head) = pattern.first() else {
        return true;
    };
    if head == b'^' {
        // strncasecmp(pattern + 1, subject, len - 1): a prefix test.
        let prefix = pattern.get(1..len).unwrap_or_default();
        return subject.get(..prefix.len()).is_some_and(|s| s.eq_ignore_ascii_case(prefix));
    }
    if subject.is_empty() {
        return false;
    }
    let head = head.to_ascii_lowercase();
    for start in 0..subject.len() {
        if at(subject, start) != head {
            continue;
        }
        let mut p = 1;
        let mut s = start + 1;
        loop {
            if at(pattern, p) == stop {
                return true;
            }
            if s >= subject.len() {
                return false;
            }
            if at(pattern, p) != at(subject, s) {
                break;
            }
            p += 1;
            s += 1;
        }
    }
    false
}

/// Is `needle` (lower-case) a substring of `hay`, ASCII case-insensitively?
/// ASCII-case-insensitive substring test; `needle` must be lower-case.
pub(crate) fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    contains_ignore_case_at(hay, needle, anchor(needle))
}

/// [`contains_ignore_case`] with the needle's anchor byte index `k` (from [`anchor`]) worked
/// out beforehand, as compiled patterns do.
pub(crate) fn contains_ignore_case_at(hay: &[u8], needle: &[u8], k: usize) -> bool {
    find_ignore_case_at(hay, needle, k).is_some()
}

/// Where the first occurrence of `needle` (lower-case; `k` its anchor index) starts in `hay`,
/// ASCII case-insensitively.
pub(crate) fn find_ignore_case_at(hay: &[u8], needle: &[u8], k: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    let last_start = hay.len().checked_sub(needle.len())?;
    // Scan (with memchr) for the needle's rarest byte, then verify around it.
    let a = needle[k];
    let verify = |p: usize| {
        p.checked_sub(k)
            .filter(|&start| start <= last_start)
            .filter(|&start| hay[start..start + needle.len()].eq_ignore_ascii_case(needle))
    };
    let region = &hay[k..last_start + k + 1];
    if a.is_ascii_alphabetic() {
        memchr::memchr2_iter(a.to_ascii_lowercase(), a.to_ascii_uppercase(), region).find_map(|i| verify(i + k))
    } else {
        memchr::memchr_iter(a, region).find_map(|i| verify(i + k))
    }
}

/// Index of the byte of `needle` least likely to occur in logs (a rough rank:
/// space, punctuation common in JSON and syslog, vowels and digits are
/// frequent; rarer letters and bytes are better anchors).
pub(crate) fn anchor(needle: &[u8]) -> usize {
    fn rank(b: u8) -> u8 {
        match b.to_ascii_lowercase() {
            b' ' | b'"' | b':' | b',' | b'e' | b'a' | b'o' | b'i' | b't' | b'n' | b's' | b'r' => 0,
            b'.' | b'-' | b'/' | b'_' | b'=' | b'l' | b'c' | b'd' | b'u' | b'h' | b'0'..=b'9' => 1,
            b'm' | b'p' | b'g' | b'f' | b'w' | b'y' | b'b' | b'{' | b'}' | b'[' | b']' => 2,
            _ => 3,
        }
    }
    let mut best = 0;
    for (i, &b) in needle.iter().enumerate() {
        if rank(b) > rank(needle[best]) {
            best = i;
        }
    }
    best
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    match memchr::memchr(0, bytes) {
        Some(n) => &bytes[..n],
        None => bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_agrees_with_naive_search() {
        fn naive(hay: &[u8], needle: &[u8]) -> bool {
            needle.is_empty() || hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
        }
        let alphabet = b"aAbBzZ\":, 0x\xff";
        let mut seed = 0x2545F4914F6CDD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20000 {
            let hl = (next() % 24) as usize;
            let nl = (next() % 5) as usize;
            let hay: Vec<u8> = (0..hl).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let needle: Vec<u8> =
                (0..nl).map(|_| alphabet[(next() % alphabet.len() as u64) as usize].to_ascii_lowercase()).collect();
            assert_eq!(contains_ignore_case(&hay, &needle), naive(&hay, &needle), "{hay:?} {needle:?}");
        }
    }

    #[test]
    fn lowered_subjects_give_the_same_answers() {
        let mut x: u64 = 12345;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"aAbB^$|!\xc3\xa9 \x00";
        for _ in 0..20_000 {
            let pl = (next() % 7) as usize;
            let sl = (next() % 12) as usize;
            let pattern: Vec<u8> = (0..pl).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let subject: Vec<u8> = (0..sl).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let m = OsMatch::compile(&pattern).unwrap();
            let lowered = until_nul(&subject).to_ascii_lowercase();
            assert_eq!(m.is_match_lowered(&lowered), m.is_match(&subject), "{pattern:?} {subject:?}");
        }
    }

    #[test]
    fn compiled_pattern_is_shareable() {
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        shareable::<OsMatch>();
    }

    fn m(pattern: &str, subject: &str) -> bool {
        OsMatch::compile(pattern.as_bytes()).expect("compiles").is_match(subject.as_bytes())
    }

    #[test]
    fn spec_5_2_table() {
        assert!(m("sshd", "xSSHDx"));
        assert!(!m("^sshd$", "sshd2"));
        assert!(m("!sshd", "foo"));
        assert!(m("a|", "zzz"));
        assert!(!m("d$", "sshdx"));
        assert!(m("^$", ""));
        assert!(m("!a|b", "c"));
        assert!(!m("!a|b", "b"));
    }

    #[test]
    fn anchors_and_alternatives() {
        assert!(m("^sshd$", "SSHD"));
        assert!(!m("^$", "x"));
        assert!(m("^", ""));
        assert!(m("$", "anything"));
        assert!(m("", ""));
        assert!(m("", "x"));
        assert!(m("|b", "zzz"));
        assert!(m("a||b", "zzz"));
        assert!(!m("!", "x"));
        assert!(!m("!", ""));
        assert!(!m("!foo|", "foo"));
        assert!(m("^Foo", "foobar"));
        assert!(!m("^foo", "xfoo"));
        assert!(!m("^foo", "fo"));
        assert!(m("bar$", "fooBAR"));
        assert!(!m("bar$", "ar"));
        assert!(m("x|y|z", "..z.."));
        assert!(!m("x|y|z", "abc"));
        // `^` and `$` in the middle, `!` after the start: literal.
        assert!(m("a^b", "xa^by"));
        assert!(m("a$b", "a$b"));
        assert!(!m("a$b", "ab"));
        assert!(m("a!b", "a!b"));
        assert!(m("!!a", "b"));
        assert!(!m("!!a", "!a"));
        // No other syntax.
        assert!(m("a\\d", "xa\\dx"));
        assert!(!m("a\\d", "a1"));
        assert!(!m("a.c", "abc"));
        assert!(m("a.c", "xa.c"));
        assert!(!m("a|b", "|"));
        assert!(!m("ab", "a"));
        assert!(!m("ab", ""));
    }

    #[test]
    fn case_and_bytes() {
        // Only ASCII folds: é (C3 A9) and É (C3 89) differ.
        assert!(m("^ÉTÉ", "ÉTÉx"));
        assert!(m("ÉTÉ$", "xÉTÉ"));
        assert!(m("^ÉTÉ$", "ÉTÉ"));
        assert!(!m("^été$", "ÉTÉ"));
        // The substring test never matches a byte >= 0x80 (signed `char` upstream): these are
        // the answers of upstream's C code (built into the `os_regex_diff` fuzz target).
        assert!(!m("ÉTÉ", "xÉTÉx"));
        assert!(!m("é", "é"));
        assert!(!m("aé|b", "aé"));
        assert!(m("aé|b", "b"));
        assert!(m("!é", "x"));
        let re = OsMatch::compile(b"\xff\xfe").expect("compiles");
        assert!(!re.is_match(b"a\xff\xfe"));
        // NUL ends a pattern or a subject, as in C.
        let re = OsMatch::compile(b"ab\0zz").expect("compiles");
        assert_eq!(re.pattern(), b"ab\0zz");
        assert!(re.is_match(b"xab"));
        assert!(!m("cd$", "ab\0cd"));
    }

    #[test]
    fn too_long() {
        assert_eq!(OsMatch::compile(&vec![b'a'; MAX_PATTERN_LEN + 1]).err(), Some(OsMatchError::TooLong));
        let mut p = vec![b'!'];
        p.extend(vec![b'a'; MAX_PATTERN_LEN]);
        assert_eq!(OsMatch::compile(&p).err(), Some(OsMatchError::TooLong));
        assert!(OsMatch::compile(&vec![b'a'; MAX_PATTERN_LEN]).is_ok());
        assert_eq!(OsMatchError::TooLong.code(), 3);
    }

    #[test]
    fn word_match_semantics() {
        let w = |p: &str, s: &str| word_match(p.as_bytes(), s.as_bytes());
        assert!(!w("", "anything"));
        assert!(!w("", ""));
        assert!(w("a|", "zzz"));
        assert!(w("syslog", "xSYSLOGx"));
        assert!(!w("syslog", ""));
        assert!(w("^sys", "SYSLOG"));
        assert!(!w("^sys", "xsys"));
        assert!(w("^", ""));
        assert!(w("^|x", ""));
        assert!(w("a|b|c", "..C.."));
        assert!(!w("a|b|c", "xyz"));
        // `$` is literal.
        assert!(!w("log$", "syslog"));
        assert!(w("log$", "log$"));
        // Leading and middle empty alternatives are not "always true".
        assert!(!w("|b", "zzz"));
        assert!(w("|b", "b"));
        assert!(!w("a||b", "zzz"));
        assert!(w("a||b|c", "x|b"));
        assert!(w("a||b|c", "c"));
        assert!(!w("a||b|c", "x|d"));
    }

    #[test]
    fn random_patterns_never_panic() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let alphabet: &[u8] = b"aAb|^$!\\.\xff\x00";
        for _ in 0..20_000 {
            let pattern: Vec<u8> = (0..next() % 8).map(|_| alphabet[next() as usize % alphabet.len()]).collect();
            let subject: Vec<u8> = (0..next() % 10).map(|_| alphabet[next() as usize % alphabet.len()]).collect();
            if let Ok(re) = OsMatch::compile(&pattern) {
                let _ = re.is_match(&subject);
            }
            let _ = word_match(&pattern, &subject);
        }
    }
}
