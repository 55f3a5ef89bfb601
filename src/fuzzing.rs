//! Entry points of the fuzz targets (`fuzz/`, see its README): each takes arbitrary bytes and
//! must neither panic, nor hang, nor allocate without bound. Not an API: the functions reach
//! crate-private parsers so the targets need no wider public surface.

use std::sync::{Arc, OnceLock};

use crate::event::Fields;
use crate::load::config::RulesetFiles;
use crate::matcher::{Kind, Matcher};
use crate::mitre::MitreDb;
use crate::server::{Config, Logtest, RulesetState};
use crate::session::{SessionOptions, Timestamp};
use crate::{Ruleset, Session};

fn embedded() -> &'static Arc<Ruleset> {
    static RS: OnceLock<Arc<Ruleset>> = OnceLock::new();
    RS.get_or_init(|| Arc::new(Ruleset::embedded().expect("the embedded ruleset loads")))
}

fn opts() -> SessionOptions {
    SessionOptions { manager_name: b"fuzz".to_vec(), ..Default::default() }
}

/// The XML reader.
pub fn xml(data: &[u8]) {
    let _ = crate::load::xml::parse(data);
}

/// Decoder and rule loading: `data` is a decoder file, a 0xFF byte, a rule file, a 0xFF byte
/// and events (one per line) run through the ruleset when it loads.
pub fn ruleset(data: &[u8]) {
    let mut parts = data.splitn(3, |&b| b == 0xFF);
    let (decoders, rules, events) = (parts.next().unwrap_or(b""), parts.next().unwrap_or(b""), parts.next());
    let dir = std::env::temp_dir().join(format!("logtest-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let (d, r) = (dir.join("d.xml"), dir.join("r.xml"));
    if std::fs::write(&d, decoders).is_err() || std::fs::write(&r, rules).is_err() {
        return;
    }
    let mut files = RulesetFiles::default();
    files.add_explicit(&[d], &[r], &[]);
    let Ok(rs) = Ruleset::load(&files, &MitreDb::embedded()) else { return };
    let mut session = Session::new(Arc::new(rs), opts());
    for line in events.unwrap_or(b"").split(|&b| b == b'\n').take(64) {
        let _ = session.process(b"fuzz", line, Timestamp { secs: 1_700_000_000, nanos: 0 }, true);
    }
}

/// Longest OS_Regex subject the `matchers` target tries. OS_Regex's cost grows faster than
/// the subject with nested runs (`^\S+(\S+)(\S+)(\S+)(\S+)…` on 1,919 bytes: 0.75 s per run in
/// upstream's C code, 1.3 s in ours; `tests/fuzz_regressions.rs`): a faithful cost of such a
/// pattern in a ruleset, which the fuzzer would otherwise keep finding instead of exploring.
pub const OS_REGEX_FUZZ_SUBJECT: usize = 1024;

/// OS_Match, OS_Regex and PCRE2: byte 0 picks the language, then a pattern, a NUL, a subject.
pub fn matchers(data: &[u8]) {
    matchers_up_to(data, usize::MAX)
}

/// [`matchers`] with OS_Regex subjects cut at `os_regex_subject` bytes (the fuzz target uses
/// [`OS_REGEX_FUZZ_SUBJECT`]; the regression tests replay whole inputs).
pub fn matchers_up_to(data: &[u8], os_regex_subject: usize) {
    let Some((&which, rest)) = data.split_first() else { return };
    let (pattern, subject) = match memchr::memchr(0, rest) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };
    let kind = match which % 3 {
        0 => Kind::OsMatch,
        1 => Kind::OsRegex,
        _ => Kind::Pcre2,
    };
    let subject = if kind == Kind::OsRegex { &subject[..subject.len().min(os_regex_subject)] } else { subject };
    for captures in [false, true] {
        if let Ok(m) = Matcher::compile(kind, pattern, captures) {
            let _ = m.is_match(subject);
            if kind != Kind::OsMatch {
                let mut caps = Vec::new();
                let _ = m.exec(subject, &mut caps);
            }
        }
    }
}

/// The JSON parser, its printer, the JSON decoder's flattening and cJSON's error position; the
/// one-pass flattening must agree with the parser on validity.
pub fn json(data: &[u8]) {
    let parsed = crate::json::parse_with_end(data);
    if let Some((v, _)) = &parsed {
        let _ = v.to_unformatted();
        let _ = v.to_formatted();
    }
    let _ = crate::json::parse_complete(data);
    let mut f = Fields::default();
    let ok = crate::json::flatten_prefix(data, false, true, &mut f);
    assert_eq!(ok, parsed.is_some(), "flatten_prefix and the parser disagree");
    assert_eq!(crate::server::cjson_error_position(data).is_some(), parsed.is_none(), "cJSON error position");
}

/// Pre-decoding and decoding through the embedded ruleset: a location, a NUL, the log.
pub fn predecode(data: &[u8]) {
    let (location, log) = match memchr::memchr(0, data) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"fuzz"[..], data),
    };
    let _ = crate::predecode::predecode(log);
    let mut s = Session::new(Arc::clone(embedded()), opts());
    let _ = s.process(location, log, Timestamp { secs: 1_700_000_000, nanos: 0 }, false);
}

/// The logtest protocol: one request payload.
pub fn protocol(data: &[u8]) {
    static SERVICE: OnceLock<Logtest> = OnceLock::new();
    let service = SERVICE.get_or_init(|| {
        let config = Config { max_sessions: 8, ..Config::default() };
        Logtest::new(RulesetState::Loaded(Arc::clone(embedded())), opts(), config)
    });
    let _ = service.handle(data);
}

/// OS_Match alone, for the `os_regex_diff` target: `None` when the pattern does not compile,
/// else whether it matches `subject`.
pub fn os_match(pattern: &[u8], subject: &[u8]) -> Option<bool> {
    crate::matcher::OsMatch::compile(pattern).ok().map(|m| m.is_match(subject))
}
