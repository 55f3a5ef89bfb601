//! Event intake and syslog pre-decoding, bit-exact with Wazuh 4.14.7
//! `OS_CleanMSG` (src/analysisd/cleanevent.c) and the string helpers it uses
//! (src/shared/string_op.c `wstr_chr_escape`, `wstr_unescape`, `wstr_escape`).
//!
//! # Intake
//!
//! A queue message is `<Q>:<escaped-location>:<log text>` ([`parse_queue_message`]):
//!
//! * shorter than 4 bytes: `(1222)` ([`IntakeError::TooShort`]);
//! * the first two bytes are skipped **without** checking that they are `<Q>:`;
//! * the location ends at the first `:` that is not escaped; escaping toggles, the byte after
//!   any `|` is skipped; no such `:` gives `(1106)` ([`IntakeError::Malformed`]);
//! * the location is unescaped (`||` → `|`, `|X` → `X`, a trailing lone `|` is kept) and
//!   truncated to 8450 bytes ([`unescape_location`]);
//! * everything after that `:` is the log text (possibly empty).
//!
//! [`parse_location`] then splits agent locations `[id] (name) ip->file`:
//! the agent id is the text up to the first `]` (none: `(1106)`), the new location starts
//! **two** bytes after the `]` (the space is assumed, never checked), the host name is the text
//! between a leading `(` and the first `)` (`""` when there is no `(` or no `)`).
//! Manager-local locations keep agent id `000`.
//!
//! wazuh-logtest builds `1:<escape_location(location)>:<event>` ([`logtest_message`]); the
//! escaped location is cut at 2048 bytes ([`escape_location`]). A location starting with `[`
//! is therefore parsed as an agent location there too.
//!
//! # Pre-decoding ([`predecode`])
//!
//! Upstream copies the log text twice (`full_log`, `log`) and writes NUL bytes into the second
//! copy to terminate `dec_timestamp`, `hostname` and `program_name`. This module does the same
//! on a private work copy, so every result is a byte range of the caller's `full_log` (a NUL
//! written *after* the start of a value ends it, which is what truncates `log` in the AIX
//! `[digit` failure case and in OS X ASL logs without a `[Message ...]` entry).
//!
//! Traps reproduced on purpose:
//!
//! * **Purely positional timestamps** (spec trap 15): only a few byte positions are tested, any
//!   text with spaces/colons/dashes in the right places is a "timestamp"
//!   (`XXX 99 99:99:99 anything goes`). ISO timestamps with a fraction and a zone that is not
//!   `±hh:mm` skip exactly 32 bytes and swallow part of the host (`...123Z myhost`).
//! * **"Mär"**: when bytes 1-2 are `C3 A4`, the layout tests run on a string shifted by one byte
//!   (reading "Mar"), but the skip is applied to the unshifted text, so the last timestamp digit
//!   is lost: `Mär 02 17:30:52 host prog: msg` gives timestamp `Mär 02 17:30:5`. The length
//!   tests keep the unshifted length.
//! * **Hostname/program-name parsing only for the syslog/ISO layouts** (1-5); xferlog, snort,
//!   suricata, apache and squid only cut the timestamp; OS X ASL reads `[Sender]`, `[Message]`
//!   and `[Host]` entries.
//! * **Empty hostname** (three spaces after the timestamp) is present, it does not fall back to
//!   the manager name. **Empty program name** (`host : msg`) is present (trap 16), which matters
//!   for the decoder-list split.
//! * **Solaris** `Dec 29 10:00:01 sshd: msg`: no hostname, program `sshd`.
//! * **AIX** `host |facility:severity prog...`: see [`predecode`]; when the program name is not
//!   followed by `": "` or `[digits`, it is *not terminated* and runs to the end of the text.
//! * **`[ID xxx fac.sev]`** after an accepted program name is skipped by jumping 2 bytes past the
//!   next `]` (the `"] "` is assumed); a `]` as last byte gives an empty `log`.
//! * **Agent events** (trap 14): the event host name is the agent name from the location, even
//!   when the log has a syslog header ([`event_hostname`]); `predecoder.hostname` in the output
//!   is re-extracted from `full_log` by a POSIX regex that only knows BSD timestamps
//!   ([`header_hostname`]), e.g. `Dec 29 10:00:01 sshd: msg` gives `sshd:`.
//!
//! Inputs are bytes (logs may hold any non-UTF-8 byte). Upstream works on C strings, so a NUL
//! byte, which cannot occur upstream, ends the text here as well. Nothing in this module panics.

use std::fmt;
use std::ops::Range;

/// The escape byte of queue locations.
pub(crate) const ESCAPE: u8 = b'|';
/// The longest queue message wazuh-analysisd reads (`OS_RecvUnix(…, OS_MAXSTR)`
/// keeps `OS_MAXSTR - 1` bytes): `<queue>:<location>:<log>` beyond it is cut.
pub const MAX_QUEUE_MESSAGE: usize = 65535;

/// Whether events from `location` can be taken at all, as a logtest session
/// takes them (escaped, unescaped, parsed): `[` without `]` cannot.
pub fn check_location(location: &[u8]) -> Result<(), IntakeError> {
    parse_location(&unescape_location(&escape_location(location))).map(|_| ())
}

/// Maximum length of an unescaped location (`loc_buff[OS_SIZE_8192 + OS_SIZE_256 + 3]` minus NUL).
pub(crate) const MAX_LOCATION: usize = 8192 + 256 + 2;
/// Maximum length of the escaped logtest location (`loc_buff[OS_BUFFER_SIZE + 1]` minus NUL).
pub(crate) const MAX_LOGTEST_ESCAPED_LOCATION: usize = 2048;
/// Agent id of manager-local events.
pub(crate) const MANAGER_AGENT_ID: &[u8] = b"000";
/// `MAX_STRING - 1` of json_extended.c: `W_JSON_ParseLocation` works on a copy this long.
const OUTPUT_LOCATION_MAX: usize = 1023;

/// Result of pre-decoding one log text (the part after `<Q>:<location>:`).
/// All values are byte ranges into the log text (`full_log`), because upstream only ever writes
/// NUL terminators into a copy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Predecoded {
    /// `dec_timestamp`.
    pub(crate) timestamp: Option<Range<usize>>,
    /// Syslog-header (or OS X ASL `[Host]`) hostname; may be an empty range (present but `""`).
    pub(crate) hostname: Option<Range<usize>>,
    /// Program name; may be an empty range (present, `""`).
    pub(crate) program_name: Option<Range<usize>>,
    /// What decoders and rules match against.
    pub(crate) log: Range<usize>,
}

/// The event's origin, from the (unescaped) location (spec 1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The event location (for agent events, the part after `[id] `).
    pub location: Vec<u8>,
    /// `"000"` for manager-local events.
    pub agent_id: Vec<u8>,
    /// `Some(..)` for agent events: the `(name)` part or `""`.
    pub agent_hostname: Option<Vec<u8>>,
}

impl Origin {
    /// True when the event came from an agent (location started with `[`).
    pub fn is_agent(&self) -> bool {
        self.agent_hostname.is_some()
    }
}

/// Why a queue message was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeError {
    /// The message is shorter than 4 bytes: `(1222): Invalid msg: %s` (analysisd.c).
    TooShort,
    /// No unescaped `:` after the queue id, or an agent location without `]`:
    /// `(1106): String not correctly formatted.` (cleanevent.c `FORMAT_ERROR`).
    Malformed,
}

impl IntakeError {
    /// The upstream error code.
    pub fn code(&self) -> u32 {
        match self {
            IntakeError::TooShort => 1222,
            IntakeError::Malformed => 1106,
        }
    }

    /// The exact upstream log line for a rejected message `msg`. `(1222)` embeds the message;
    /// analysisd logs `(1106)` from `OS_CleanMSG` and then `(1222)` for the same message.
    pub fn upstream_message(&self, msg: &[u8]) -> String {
        match self {
            IntakeError::TooShort => {
                format!("(1222): Invalid msg: {}", String::from_utf8_lossy(c_str(msg)))
            }
            IntakeError::Malformed => self.to_string(),
        }
    }
}

impl fmt::Display for IntakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Upstream appends the message itself: see `upstream_message`.
            IntakeError::TooShort => f.write_str("(1222): Invalid msg"),
            IntakeError::Malformed => f.write_str("(1106): String not correctly formatted."),
        }
    }
}

impl std::error::Error for IntakeError {}

// ---------------------------------------------------------------------------------------------
// Small byte helpers
// ---------------------------------------------------------------------------------------------

/// The C string view of `b`: everything before the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// `isValidChar(c) == 1`, i.e. `hostname_map[c] == 1` (src/os_regex/os_regex_maps.c):
/// `( ) - . / 0-9 @ A-Z _ a-z`.
fn is_host_char(c: u8) -> bool {
    matches!(c, b'(' | b')' | b'-' | b'.' | b'/' | b'0'..=b'9' | b'@' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

// ---------------------------------------------------------------------------------------------
// Location escaping (string_op.c)
// ---------------------------------------------------------------------------------------------

/// `wstr_chr_escape(s, ':', '|')`: position of the first `:` that is not escaped.
fn find_unescaped_colon(s: &[u8]) -> Option<usize> {
    let mut escaped = false;
    for (i, &c) in s.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if c == b':' {
            return Some(i);
        } else if c == ESCAPE {
            escaped = true;
        }
    }
    None
}

/// `wstr_unescape(loc_buff, 8451, s, '|')`: `||` → `|`, `|X` → `X`, a trailing lone `|` is
/// kept; the result is cut at [`MAX_LOCATION`] bytes.
pub(crate) fn unescape_location(escaped: &[u8]) -> Vec<u8> {
    let s = c_str(escaped);
    let mut out = Vec::with_capacity(s.len().min(MAX_LOCATION));
    let mut i = 0;
    while out.len() < MAX_LOCATION {
        let Some(&c) = s.get(i) else { break };
        if c == ESCAPE {
            match s.get(i + 1) {
                Some(&ESCAPE) => {
                    out.push(ESCAPE);
                    i += 2;
                }
                None => {
                    out.push(ESCAPE);
                    i += 1;
                }
                // The escaped byte itself is copied on the next turn.
                Some(_) => i += 1,
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `wstr_escape` for logtest (escape `:` and `|` with `|`), into the 2049-byte buffer of
/// `w_logtest_preprocessing_phase`.
///
/// Truncation as upstream: the output never exceeds 2048 bytes; an escape pair is only written
/// while fewer than 2047 bytes (pair included: at most 2048) are used, a reserved byte that
/// does not fit is dropped together with the rest, and plain bytes fill up to 2048.
pub(crate) fn escape_location(location: &[u8]) -> Vec<u8> {
    const DST_SIZE: usize = MAX_LOGTEST_ESCAPED_LOCATION + 1;
    let s = c_str(location);
    let mut out: Vec<u8> = Vec::with_capacity(s.len().min(MAX_LOGTEST_ESCAPED_LOCATION));
    let mut i = 0;
    loop {
        let rest = s.get(i..).unwrap_or_default();
        let z = rest.iter().position(|&c| c == b':' || c == ESCAPE).unwrap_or(rest.len());
        let j = out.len();
        let reserved = rest.get(z).copied();
        match reserved {
            Some(r) if j + z < DST_SIZE - 2 => {
                out.extend_from_slice(rest.get(..z).unwrap_or_default());
                out.push(ESCAPE);
                out.push(r);
                i += z + 1;
            }
            _ => {
                // End of the string, or no room for an escape pair: copy what fits and stop.
                let n = z.min(DST_SIZE - 1 - j);
                out.extend_from_slice(rest.get(..n).unwrap_or_default());
                break;
            }
        }
        if i >= s.len() || out.len() >= DST_SIZE - 2 {
            break;
        }
    }
    out
}

/// The message wazuh-logtest hands to `OS_CleanMSG`: `1:<escaped location>:<event>`.
/// (`event` is the raw string or the compact cJSON serialization of an object.)
pub fn logtest_message(location: &[u8], event: &[u8]) -> Vec<u8> {
    let loc = escape_location(location);
    let event = c_str(event);
    let mut msg = Vec::with_capacity(loc.len() + event.len() + 3);
    msg.extend_from_slice(b"1:");
    msg.extend_from_slice(&loc);
    msg.push(b':');
    msg.extend_from_slice(event);
    msg
}

// ---------------------------------------------------------------------------------------------
// Location parsing (end of OS_CleanMSG)
// ---------------------------------------------------------------------------------------------

/// The event's origin from the unescaped location (spec 1.2).
///
/// * `[id] (name) ip->file` (agent): `agent_id = id`, `location = "(name) ip->file"` (the text
///   2 bytes after the first `]`, `""` if nothing follows it), `agent_hostname = name` (text
///   between the leading `(` and the first `)`, `""` without `(` or `)`).
/// * `[` without `]`: [`IntakeError::Malformed`].
/// * anything else: `agent_id = "000"`, location verbatim, `agent_hostname = None`.
pub(crate) fn parse_location(unescaped: &[u8]) -> Result<Origin, IntakeError> {
    let loc = c_str(unescaped);
    let Some(inner) = loc.strip_prefix(b"[") else {
        return Ok(Origin { location: loc.to_vec(), agent_id: MANAGER_AGENT_ID.to_vec(), agent_hostname: None });
    };
    let close = inner.iter().position(|&c| c == b']').ok_or(IntakeError::Malformed)?;
    let agent_id = inner.get(..close).unwrap_or_default().to_vec();
    // Upstream assumes "] " and skips two bytes without looking at the second one.
    let location = inner.get(close + 2..).unwrap_or_default().to_vec();
    let hostname = match location.strip_prefix(b"(") {
        Some(name) => match name.iter().position(|&c| c == b')') {
            Some(end) => name.get(..end).unwrap_or_default().to_vec(),
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    Ok(Origin { location, agent_id, agent_hostname: Some(hostname) })
}

/// Parse a queue message `<Q>:<escaped-location>:<log>` (spec 1.1): returns the origin and the
/// log text range in `msg`.
pub fn parse_queue_message(msg: &[u8]) -> Result<(Origin, Range<usize>), IntakeError> {
    let msg = c_str(msg);
    if msg.len() < 4 {
        return Err(IntakeError::TooShort);
    }
    // The queue id and its ':' are skipped unchecked.
    let body = msg.get(2..).unwrap_or_default();
    let colon = find_unescaped_colon(body).ok_or(IntakeError::Malformed)?;
    let location = unescape_location(body.get(..colon).unwrap_or_default());
    let origin = parse_location(&location)?;
    Ok((origin, 2 + colon + 1..msg.len()))
}

/// The event's `hostname` (rules `<hostname>`, `$(hostname)`):
/// agent events → the agent name from the location, **even when the log has a syslog header
/// host** (trap 14); otherwise the pre-decoded hostname if present (even `""`), else the
/// manager's short hostname (`gethostname()` up to the first `.`, or `wazuh-server`).
pub(crate) fn event_hostname<'a>(
    origin: &'a Origin,
    pre: &Predecoded,
    full_log: &'a [u8],
    manager_short: &'a [u8],
) -> &'a [u8] {
    if let Some(agent) = &origin.agent_hostname {
        return agent;
    }
    pre.hostname.clone().and_then(|r| full_log.get(r)).unwrap_or(manager_short)
}

/// Output `location` (spec 9 / rules.md 5.5, json_extended.c `W_JSON_ParseLocation`): for
/// locations starting with `(` the part after the first `>` (`None`, i.e. key omitted, if there
/// is none), else verbatim. Upstream works on a 1023-byte copy in the `(` case, so a `>` past
/// byte 1023 is not seen and the result is cut there.
pub(crate) fn output_location(location: &[u8]) -> Option<&[u8]> {
    let loc = c_str(location);
    if loc.first() != Some(&b'(') {
        return Some(loc);
    }
    let head = loc.get(..loc.len().min(OUTPUT_LOCATION_MAX)).unwrap_or_default();
    let gt = head.iter().position(|&c| c == b'>')?;
    head.get(gt + 1..)
}

/// `predecoder.hostname` of the output (json_extended.c `W_JSON_ParseHostname`): group 1 of the
/// POSIX ERE `^[A-Z][a-z][a-z] [ 0123][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] ([^ ]+)` applied
/// to `full_log` (C locale: ASCII classes, `[^ ]` is every byte but the space).
pub(crate) fn header_hostname(full_log: &[u8]) -> Option<Range<usize>> {
    let s = c_str(full_log);
    let digit = |i: usize| s.get(i).is_some_and(|c| c.is_ascii_digit());
    let is = |i: usize, c: u8| s.get(i) == Some(&c);
    let ok = s.first().is_some_and(|c| c.is_ascii_uppercase())
        && s.get(1).is_some_and(|c| c.is_ascii_lowercase())
        && s.get(2).is_some_and(|c| c.is_ascii_lowercase())
        && is(3, b' ')
        && s.get(4).is_some_and(|c| matches!(c, b' ' | b'0'..=b'3'))
        && digit(5)
        && is(6, b' ')
        && digit(7)
        && digit(8)
        && is(9, b':')
        && digit(10)
        && digit(11)
        && is(12, b':')
        && digit(13)
        && digit(14)
        && is(15, b' ');
    if !ok {
        return None;
    }
    let rest = s.get(16..).unwrap_or_default();
    let n = rest.iter().position(|&c| c == b' ').unwrap_or(rest.len());
    (n > 0).then_some(16..16 + n)
}

// ---------------------------------------------------------------------------------------------
// Pre-decoding
// ---------------------------------------------------------------------------------------------

/// Upstream's second copy of the log text (`lf->log`), into which NUL bytes are written.
struct Work {
    /// The text, its NUL terminator, and one more NUL standing for the byte upstream may read
    /// past the terminator (the `[ID ...]` skip when `]` is the last byte).
    buf: Vec<u8>,
    /// Length of the text.
    len: usize,
}

impl Work {
    fn new(text: &[u8]) -> Self {
        let mut buf = Vec::with_capacity(text.len() + 2);
        buf.extend_from_slice(text);
        buf.extend_from_slice(&[0, 0]);
        Work { buf, len: text.len() }
    }

    /// Byte `i` of the copy; NUL past its end.
    fn at(&self, i: usize) -> u8 {
        self.buf.get(i).copied().unwrap_or(0)
    }

    /// Write a NUL terminator at `i`.
    fn terminate(&mut self, i: usize) {
        if let Some(b) = self.buf.get_mut(i) {
            *b = 0;
        }
    }

    /// First position at or after `i` whose byte does not satisfy `pred` (NUL never does).
    fn skip_while(&self, mut i: usize, pred: impl Fn(u8) -> bool) -> usize {
        while self.at(i) != 0 && pred(self.at(i)) {
            i += 1;
        }
        i
    }

    /// `strchr(&buf[i], c)`.
    fn find(&self, i: usize, c: u8) -> Option<usize> {
        let rest = self.buf.get(i..)?;
        rest.iter().take_while(|&&b| b != 0).position(|&b| b == c).map(|n| i + n)
    }

    /// `strncmp(&buf[i], prefix, len) == 0`.
    fn starts_with(&self, i: usize, prefix: &[u8]) -> bool {
        self.buf.get(i..).is_some_and(|rest| rest.starts_with(prefix))
    }

    /// The C string starting at `i`, as a range of the original text.
    fn c_range(&self, i: usize) -> Range<usize> {
        let start = i.min(self.len);
        let n = self.buf.get(start..self.len).map_or(0, |rest| memchr::memchr(0, rest).unwrap_or(rest.len()));
        start..start + n
    }
}

/// The bytes the layout tests look at: the text, or, for the "Mär" quirk, the text shifted by
/// one byte with bytes 0-1 reading "Ma".
struct Header<'a> {
    text: &'a [u8],
    shifted: bool,
}

impl Header<'_> {
    fn new(text: &[u8]) -> Header<'_> {
        let shifted = text.get(1) == Some(&0xC3) && text.get(2) == Some(&0xA4);
        Header { text, shifted }
    }

    fn at(&self, i: usize) -> u8 {
        match (self.shifted, i) {
            (true, 0) => b'M',
            (true, 1) => b'a',
            (true, _) => self.text.get(i + 1).copied().unwrap_or(0),
            (false, _) => self.text.get(i).copied().unwrap_or(0),
        }
    }

    fn digit(&self, i: usize) -> bool {
        self.at(i).is_ascii_digit()
    }

    /// Every `(position, byte)` pair matches.
    fn has(&self, pattern: &[(usize, u8)]) -> bool {
        pattern.iter().all(|&(i, c)| self.at(i) == c)
    }
}

/// The timestamp layouts of `OS_CleanMSG`, in the order they are tried.
enum Layout {
    /// Syslog/ISO layouts 1-5: timestamp cut, then hostname and program-name parsing.
    /// `skip` bytes are skipped; the timestamp is the first `skip - 1`.
    Syslog { skip: usize },
    /// xferlog, snort, suricata, apache, squid: timestamp `ts_start..log - ts_cut`, log at `log`.
    Plain { log: usize, ts_start: usize, ts_cut: usize },
    /// Squid: 14 bytes then every space are skipped; the timestamp ends before the last space.
    Squid,
    /// OS X ASL: 25 bytes skipped, then `[Sender]`, `[Message]`, `[Host]` entries.
    Asl,
}

fn detect_layout(h: &Header, len: usize) -> Option<Layout> {
    // Layout 1: `Dec 29 10:00:01 `.
    if len >= 17 && h.has(&[(3, b' '), (6, b' '), (9, b':'), (12, b':'), (15, b' ')]) {
        return Some(Layout::Syslog { skip: 16 });
    }
    // Layout 2: `2015-04-16 21:51:02,805 ` (proftpd).
    if len >= 24 && h.has(&[(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':'), (19, b',')]) {
        return Some(Layout::Syslog { skip: 24 });
    }
    // Layout 3: ISO 8601 with `T`.
    if len >= 33 && h.has(&[(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')]) {
        if h.has(&[(22, b':'), (25, b' ')]) {
            // `2007-06-14T15:48:55-04:00 `
            return Some(Layout::Syslog { skip: 26 });
        }
        if h.at(19) == b'.' {
            let skip = if h.at(26) == b':' {
                30 // `2022-12-19T15:02:53.288+00:00 `
            } else if h.at(29) == b':' {
                33 // `2009-05-22T09:36:46.214994-07:00 `
            } else {
                32 // anything else: 32 bytes, whatever they are
            };
            return Some(Layout::Syslog { skip });
        }
    }
    // Layout 4: `2015 Dec 29 10:00:01 `.
    if len >= 21 && h.digit(0) && h.has(&[(4, b' '), (8, b' '), (11, b' '), (14, b':'), (17, b':'), (20, b' ')]) {
        return Some(Layout::Syslog { skip: 21 });
    }
    // Layout 5: `2021-04-21 10:16:09.404756-0700 ` (macOS ULS).
    if len >= 33
        && h.digit(0)
        && h.has(&[(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':'), (19, b'.'), (31, b' ')])
        && matches!(h.at(26), b'-' | b'+')
    {
        return Some(Layout::Syslog { skip: 32 });
    }
    // xferlog: `Mon Apr 17 18:27:14 2006 `.
    if len >= 28
        && h.has(&[(3, b' '), (7, b' '), (10, b' '), (13, b':'), (16, b':'), (19, b' '), (24, b' '), (26, b' ')])
    {
        return Some(Layout::Plain { log: 25, ts_start: 0, ts_cut: 1 });
    }
    // snort: `01/28-09:13:16.240702  `.
    if len >= 24 && h.has(&[(2, b'/'), (5, b'-'), (8, b':'), (11, b':'), (14, b'.'), (21, b' ')]) {
        return Some(Layout::Plain { log: 23, ts_start: 0, ts_cut: 2 });
    }
    // suricata: `01/28/1979-09:13:16.240702  `.
    if len >= 28 && h.has(&[(2, b'/'), (5, b'/'), (10, b'-'), (13, b':'), (16, b':'), (19, b'.'), (26, b' ')]) {
        return Some(Layout::Plain { log: 28, ts_start: 0, ts_cut: 2 });
    }
    // apache: `[Fri Feb 11 18:06:35 2004] `.
    if len >= 27
        && h.has(&[(0, b'['), (4, b' '), (8, b' '), (11, b' '), (14, b':'), (17, b':'), (20, b' '), (25, b']')])
    {
        return Some(Layout::Plain { log: 27, ts_start: 1, ts_cut: 2 });
    }
    // OS X ASL: `[Time 2006.12.28 15:53:55 UTC] `.
    if len >= 26 && h.has(&[(0, b'['), (1, b'T'), (5, b' '), (10, b'.'), (13, b'.'), (16, b' '), (19, b':')]) {
        return Some(Layout::Asl);
    }
    // squid: `1140804070.368  `.
    if len >= 32
        && h.at(0) == b'1'
        && h.digit(1)
        && h.digit(2)
        && h.digit(3)
        && h.at(10) == b'.'
        && h.digit(13)
        && h.at(14) == b' '
        && (h.at(21) == b' ' || h.at(22) == b' ')
    {
        return Some(Layout::Squid);
    }
    None
}

/// Positions (into the work copy) of the pre-decoded values; each value is the C string
/// starting there.
#[derive(Default)]
struct Found {
    timestamp: Option<usize>,
    hostname: Option<usize>,
    program_name: Option<usize>,
    log: usize,
}

/// Pre-decode one log text (`OS_CleanMSG`, spec section 2).
///
/// Layouts (first match wins; `bN` is byte N, tested on the "Mär"-shifted view):
///
/// | layout | test | skip | timestamp |
/// |---|---|---|---|
/// | 1 `Dec 29 10:00:01` | L≥17, b3=' ' b6=' ' b9=':' b12=':' b15=' ' | 16 | 15 bytes |
/// | 2 `2015-04-16 21:51:02,805` | L≥24, b4='-' b7='-' b10=' ' b13=':' b16=':' b19=',' | 24 | 23 |
/// | 3 ISO `T` | L≥33, b4='-' b7='-' b10='T' b13=':' b16=':', then b22=':'&b25=' ' → 26; b19='.' & b26=':' → 30; b19='.' & b29=':' → 33; b19='.' → 32 | | skip-1 |
/// | 4 `2015 Dec 29 10:00:01` | L≥21, digit b0, b4=' ' b8=' ' b11=' ' b14=':' b17=':' b20=' ' | 21 | 20 |
/// | 5 `2021-04-21 10:16:09.404756-0700` | L≥33, digit b0, b4='-' b7='-' b10=' ' b13=':' b16=':' b19='.' b26∈{-,+} b31=' ' | 32 | 31 |
/// | xferlog | L≥28, b3 b7 b10 b19 b24 b26 = ' ', b13 b16 = ':' | 25 | 24 |
/// | snort | L≥24, b2='/' b5='-' b8=':' b11=':' b14='.' b21=' ' | 23 | 21 |
/// | suricata | L≥28, b2='/' b5='/' b10='-' b13=':' b16=':' b19='.' b26=' ' | 28 | 26 |
/// | apache | L≥27, b0='[' b4 b8 b11 b20=' ' b14 b17=':' b25=']' | 27 | bytes 1..25 |
/// | OS X ASL | L≥26, b0='[' b1='T' b5=' ' b10='.' b13='.' b16=' ' b19=':' | 25 | none |
/// | squid | L≥32, b0='1', b1-3 digits, b10='.', b13 digit, b14=' ', b21 or b22=' ' | 14 + spaces | up to the last space |
///
/// After layouts 1-5 one extra space is skipped, then:
///
/// * hostname = run of `( ) - . / 0-9 @ A-Z _ a-z`; if it ends in `": "` it is the program name
///   instead (Solaris, no hostname); if it ends in anything but a space, neither hostname nor
///   program name exist and `log` stays at the would-be hostname;
/// * program name = the next run of the same set, accepted when followed by `:` (one optional
///   space skipped), by `[digits]:` (one optional space skipped) or `[digits] `, or AIX style
///   `|facility:severity name` (see the spec 2.3); otherwise absent, `log` at the would-be name;
/// * after an accepted program name (or Solaris), `[ID ...] ` is skipped.
pub(crate) fn predecode(full_log: &[u8]) -> Predecoded {
    let text = c_str(full_log);
    let header = Header::new(text);
    let Some(layout) = detect_layout(&header, text.len()) else {
        // No header (a JSON event, say): the whole text is the log; no copy needed.
        return Predecoded { log: 0..text.len(), ..Predecoded::default() };
    };
    let mut w = Work::new(text);
    let mut found = Found::default();

    match layout {
        Layout::Syslog { skip } => syslog_header(&mut w, skip, &mut found),
        Layout::Plain { log, ts_start, ts_cut } => {
            found.log = log;
            found.timestamp = Some(ts_start);
            w.terminate(log - ts_cut);
        }
        Layout::Squid => {
            let log = w.skip_while(14, |c| c == b' ');
            found.log = log;
            found.timestamp = Some(0);
            w.terminate(log.saturating_sub(1));
        }
        Layout::Asl => asl(&mut w, &mut found),
    }

    Predecoded {
        timestamp: found.timestamp.map(|i| w.c_range(i)),
        hostname: found.hostname.map(|i| w.c_range(i)),
        program_name: found.program_name.map(|i| w.c_range(i)),
        log: w.c_range(found.log),
    }
}

/// Layouts 1-5: cut the timestamp, then parse hostname, program name and `[ID ...]`.
fn syslog_header(w: &mut Work, skip: usize, found: &mut Found) {
    found.timestamp = Some(0);
    w.terminate(skip - 1);
    let mut log = skip;
    if w.at(log) == b' ' {
        log += 1;
    }
    found.log = log;

    let host = log;
    let end = w.skip_while(host, is_host_char);
    // Where the message continues after an accepted program name (upstream's `pieces`).
    let after_program = if w.at(end) == b':' && w.at(end + 1) == b' ' {
        // Solaris: no hostname, the word is the program name.
        found.program_name = Some(host);
        w.terminate(end);
        Some(end + 2)
    } else if w.at(end) != b' ' {
        None // Invalid hostname: no hostname, no program name, log unchanged.
    } else {
        found.hostname = Some(host);
        w.terminate(end);
        found.log = end + 1;
        program_name(w, end + 1, found)
    };

    if let Some(next) = after_program {
        found.log = next;
        // `[ID 800047 auth.info] `: jump 2 bytes past the next ']'.
        if w.starts_with(next, b"[ID ") {
            if let Some(close) = w.find(next + 4, b']') {
                found.log = close + 2;
            }
        }
    }
}

/// Program name starting at `start` (after the hostname). Returns where the message continues
/// if a program name was accepted.
fn program_name(w: &mut Work, start: usize, found: &mut Found) -> Option<usize> {
    let end = w.skip_while(start, is_host_char);
    match w.at(end) {
        b':' => {
            // `name:` (possibly empty name), one optional space.
            found.program_name = Some(start);
            w.terminate(end);
            let next = end + 1;
            Some(if w.at(next) == b' ' { next + 1 } else { next })
        }
        b'[' if w.at(end + 1).is_ascii_digit() => {
            let digits_end = w.skip_while(end + 1, |c| c.is_ascii_digit());
            let next = match (w.at(digits_end), w.at(digits_end + 1)) {
                (b']', b':') => {
                    let n = digits_end + 2;
                    if w.at(n) == b' ' {
                        n + 1
                    } else {
                        n
                    }
                }
                (b']', b' ') => digits_end + 2,
                // Rejected: upstream restores the '[' it had overwritten.
                _ => return None,
            };
            found.program_name = Some(start);
            w.terminate(end);
            Some(next)
        }
        b'|' if w.at(end + 1).is_ascii_lowercase() => aix(w, end + 2, found),
        _ => None,
    }
}

/// AIX `|facility:severity name...` where `pos` is just after `|` and the first facility byte.
fn aix(w: &mut Work, pos: usize, found: &mut Found) -> Option<usize> {
    let colon = w.skip_while(pos, |c| c.is_ascii_alphanumeric());
    if w.at(colon) != b':' {
        return None;
    }
    let space = w.skip_while(colon + 1, |c| c.is_ascii_alphanumeric());
    if w.at(space) != b' ' {
        return None;
    }
    let name = space + 1;
    found.program_name = Some(name);
    let end = w.skip_while(name, is_host_char);
    if w.at(end) == b':' && w.at(end + 1) == b' ' {
        w.terminate(end);
        Some(end + 2)
    } else if w.at(end) == b'[' && w.at(end + 1).is_ascii_digit() {
        // The name is terminated even when the rest is rejected; then `log` stays at the
        // would-be program name and is cut at the '['.
        w.terminate(end);
        let d = w.skip_while(end + 1, |c| c.is_ascii_digit());
        (w.at(d) == b']' && w.at(d + 1) == b':' && w.at(d + 2) == b' ').then_some(d + 3)
    } else {
        // Not terminated: the program name runs to the end of the text.
        Some(end)
    }
}

/// OS X ASL: `[Time ...] [Facility auth] [Sender sshd] [PID 483] [Message ...] ... [Host h]`.
fn asl(w: &mut Work, found: &mut Found) {
    found.log = 25;
    let mut done_message = false;
    let mut next = w.find(found.log, b'[');
    while let Some(open) = next {
        let mut p = open + 1;
        if w.starts_with(p, b"Sender ") && found.program_name.is_none() {
            p += 7;
            match w.find(p, b']') {
                Some(close) => {
                    found.program_name = Some(p);
                    w.terminate(close);
                    p = close + 1;
                }
                None => break,
            }
        } else if w.starts_with(p, b"Message ") && !done_message {
            p += 8;
            done_message = true;
            found.log = p;
            match w.find(p, b']') {
                Some(close) => {
                    w.terminate(close);
                    p = close + 1;
                }
                None => break,
            }
        } else if w.starts_with(p, b"Host ") {
            p += 5;
            if let Some(close) = w.find(p, b']') {
                found.hostname = Some(p);
                w.terminate(close);
            }
            break;
        }
        next = w.find(p, b'[');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (timestamp, hostname, program_name, log) as optional strings.
    type View = (Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>);

    fn view(log: &[u8]) -> View {
        let p = predecode(log);
        let get = |r: Option<Range<usize>>| r.map(|r| log[r].to_vec());
        (get(p.timestamp), get(p.hostname), get(p.program_name), log[p.log].to_vec())
    }

    fn check(log: &str, ts: Option<&str>, host: Option<&str>, prog: Option<&str>, rest: &str) {
        check_bytes(log.as_bytes(), ts, host, prog, rest);
    }

    fn check_bytes(log: &[u8], ts: Option<&str>, host: Option<&str>, prog: Option<&str>, rest: &str) {
        let got = view(log);
        let want: View = (
            ts.map(|s| s.as_bytes().to_vec()),
            host.map(|s| s.as_bytes().to_vec()),
            prog.map(|s| s.as_bytes().to_vec()),
            rest.as_bytes().to_vec(),
        );
        assert_eq!(
            got,
            want,
            "\ninput: {:?}\n got: ts={:?} host={:?} prog={:?} log={:?}",
            String::from_utf8_lossy(log),
            got.0.as_deref().map(String::from_utf8_lossy),
            got.1.as_deref().map(String::from_utf8_lossy),
            got.2.as_deref().map(String::from_utf8_lossy),
            String::from_utf8_lossy(&got.3),
        );
    }

    // ---- spec 2.4 examples table -----------------------------------------------------------

    #[test]
    fn table_2_4() {
        let ts = Some("Dec 29 10:00:01");
        check("Dec 29 10:00:01 myhost sshd[1234]: Accepted x", ts, Some("myhost"), Some("sshd"), "Accepted x");
        check("Dec 29 10:00:01 myhost sshd:hello", ts, Some("myhost"), Some("sshd"), "hello");
        check(
            "Dec  9 10:00:01 myhost kernel: [1.2] usb",
            Some("Dec  9 10:00:01"),
            Some("myhost"),
            Some("kernel"),
            "[1.2] usb",
        );
        check("Dec 29 10:00:01 sshd: msg", ts, None, Some("sshd"), "msg");
        check("Dec 29 10:00:01 my,host sshd: x", ts, None, None, "my,host sshd: x");
        check("Dec 29 10:00:01 myhost  sshd: x", ts, Some("myhost"), None, " sshd: x");
        check("Dec 29 10:00:01   myhost sshd: x", ts, Some(""), None, "myhost sshd: x");
        check("Dec 29 10:00:01 myhost : (root) CMD", ts, Some("myhost"), Some(""), "(root) CMD");
        check("Dec 29 10:00:01 myhost gsad main[8990]: x", ts, Some("myhost"), None, "gsad main[8990]: x");
        check("Dec 29 10:00:01 myhost app[FF]: t", ts, Some("myhost"), None, "app[FF]: t");
        check("Dec 29 10:00:01 myhost app[12] t", ts, Some("myhost"), Some("app"), "t");
        check("Dec 29 10:00:01 myhost sshd[1]: [ID 800047 auth.info] A", ts, Some("myhost"), Some("sshd"), "A");
        check("Dec 29 10:00:01 myhost |auth:info sshd[12]: aix", ts, Some("myhost"), Some("sshd"), "aix");
        check("2015 Dec 29 10:00:01 myhost sshd: y", Some("2015 Dec 29 10:00:01"), Some("myhost"), Some("sshd"), "y");
        check(
            "2007-06-14T15:48:55-04:00 myhost sshd: i",
            Some("2007-06-14T15:48:55-04:00"),
            Some("myhost"),
            Some("sshd"),
            "i",
        );
        check(
            "2023-01-01T00:00:00.123Z myhost sshd: z",
            Some("2023-01-01T00:00:00.123Z myhost"),
            None,
            Some("sshd"),
            "z",
        );
        check("2015-04-16 21:51:02,805 proftpd msg", Some("2015-04-16 21:51:02,805"), Some("proftpd"), None, "msg");
        check("XXX 99 99:99:99 anything goes", Some("XXX 99 99:99:99"), Some("anything"), None, "goes");
        check("Mon Apr 17 18:27:14 2006 1 64.1.2.3 x", Some("Mon Apr 17 18:27:14 2006"), None, None, "1 64.1.2.3 x");
        check("[Fri Feb 11 18:06:35 2004] [warn] a", Some("Fri Feb 11 18:06:35 2004"), None, None, "[warn] a");
        let json = r#"{"integration": "aws", "aws": {"source": "cloudtrail"}}"#;
        check(json, None, None, None, json);
    }

    // ---- remaining ISO layouts ----------------------------------------------------------------

    #[test]
    fn iso_layouts() {
        check(
            "2022-12-19T15:02:53.288+00:00 myhost sshd: b",
            Some("2022-12-19T15:02:53.288+00:00"),
            Some("myhost"),
            Some("sshd"),
            "b",
        );
        check(
            "2009-05-22T09:36:46.214994-07:00 myhost sshd: c",
            Some("2009-05-22T09:36:46.214994-07:00"),
            Some("myhost"),
            Some("sshd"),
            "c",
        );
        check(
            "2021-04-21 10:16:09.404756-0700 myhost sshd[7]: d",
            Some("2021-04-21 10:16:09.404756-0700"),
            Some("myhost"),
            Some("sshd"),
            "d",
        );
        // Layout 2 with nothing after the timestamp: L = 24, log empty, no hostname.
        check("2015-04-16 21:51:02,805 ", Some("2015-04-16 21:51:02,805"), None, None, "");
        // ISO without fraction but too short (L < 33): no timestamp at all.
        let short = "2007-06-14T15:48:55-04:00 h p: x";
        assert_eq!(short.len(), 32);
        check(short, None, None, None, short);
        // Exactly 33 bytes works.
        check("2007-06-14T15:48:55-04:00 h p: xy", Some("2007-06-14T15:48:55-04:00"), Some("h"), Some("p"), "xy");
        // 3a requires b25 = ' ' and falls through to the fraction forms otherwise; without a
        // '.' at 19 layout 3 fails.
        let nofrac = "2007-06-14T15:48:55-04:00Xmyhost sshd: i";
        check(nofrac, None, None, None, nofrac);
    }

    #[test]
    fn length_thresholds() {
        // Layout 1 needs L >= 17.
        check("Dec 29 10:00:01 h", Some("Dec 29 10:00:01"), None, None, "h");
        check("Dec 29 10:00:01 ", None, None, None, "Dec 29 10:00:01 ");
        // Layout 4 needs L >= 21 and can end right after the timestamp.
        check("2015 Dec 29 10:00:01 ", Some("2015 Dec 29 10:00:01"), None, None, "");
    }

    // ---- the "Mär" quirk -----------------------------------------------------------------------

    #[test]
    fn maerz() {
        check("Mär 02 17:30:52 host prog: msg", Some("Mär 02 17:30:5"), Some("host"), Some("prog"), "msg");
        // Any first byte: the shifted view always reads "Ma".
        check("Xär 02 17:30:52 host prog: msg", Some("Xär 02 17:30:5"), Some("host"), Some("prog"), "msg");
        // Only C3 A4 triggers the shift.
        let ue = "Mür 02 17:30:52 host prog: msg";
        check(ue, None, None, None, ue);
        // The shifted length is one less but the tests use the unshifted length (17 here).
        check("Mär 02 17:30:52 ", Some("Mär 02 17:30:5"), None, None, "");
        // header_hostname does not know umlauts.
        assert_eq!(header_hostname("Mär 02 17:30:52 host prog: msg".as_bytes()), None);
    }

    // ---- program names ---------------------------------------------------------------------------

    #[test]
    fn program_name_forms() {
        let ts = Some("Dec 29 10:00:01");
        check("Dec 29 10:00:01 h p[12]:x", ts, Some("h"), Some("p"), "x");
        check("Dec 29 10:00:01 h p[12]:  x", ts, Some("h"), Some("p"), " x");
        check("Dec 29 10:00:01 h p[12]x", ts, Some("h"), None, "p[12]x");
        check("Dec 29 10:00:01 h p[12", ts, Some("h"), None, "p[12");
        check("Dec 29 10:00:01 h p[", ts, Some("h"), None, "p[");
        check("Dec 29 10:00:01 h p", ts, Some("h"), None, "p");
        check("Dec 29 10:00:01 h p:", ts, Some("h"), Some("p"), "");
        check("Dec 29 10:00:01 h :", ts, Some("h"), Some(""), "");
        check("Dec 29 10:00:01 h [1] x", ts, Some("h"), Some(""), "x");
        check("Dec 29 10:00:01 h ", ts, Some("h"), None, "");
        // Solaris with an empty word: ": " right after the timestamp.
        check("Dec 29 10:00:01 : x", ts, None, Some(""), "x");
        // ':' not followed by a space is an invalid hostname.
        check("Dec 29 10:00:01 sshd:x", ts, None, None, "sshd:x");
        // Hostname set includes ( ) - . / @ _.
        check("Dec 29 10:00:01 a(b)-c.d/e@f_G9 p: m", ts, Some("a(b)-c.d/e@f_G9"), Some("p"), "m");
        // Tab ends the hostname: invalid.
        check("Dec 29 10:00:01 h\tp: m", ts, None, None, "h\tp: m");
    }

    // ---- [ID ...] --------------------------------------------------------------------------------

    #[test]
    fn id_removal() {
        let ts = Some("Dec 29 10:00:01");
        check("Dec 29 10:00:01 h sshd[1]: [ID 800047 auth.info] A", ts, Some("h"), Some("sshd"), "A");
        check("Dec 29 10:00:01 h sshd: [ID 1 a.b]A", ts, Some("h"), Some("sshd"), "");
        check("Dec 29 10:00:01 h sshd: [ID 1 a.b]AB", ts, Some("h"), Some("sshd"), "B");
        // ']' as the last byte: upstream reads past the end; treated as "".
        check("Dec 29 10:00:01 h sshd: [ID 1 a.b]", ts, Some("h"), Some("sshd"), "");
        // No ']': log stays at "[ID ...".
        check("Dec 29 10:00:01 h sshd: [ID 1 a.b", ts, Some("h"), Some("sshd"), "[ID 1 a.b");
        // Solaris style also gets [ID removal.
        check("Dec 29 10:00:01 sshd: [ID 5 x] B", ts, None, Some("sshd"), "B");
        // Case sensitive, and needs the space.
        check("Dec 29 10:00:01 h sshd: [id 5 x] B", ts, Some("h"), Some("sshd"), "[id 5 x] B");
        check("Dec 29 10:00:01 h sshd: [ID5] B", ts, Some("h"), Some("sshd"), "[ID5] B");
        // No [ID removal when the program name was rejected.
        check("Dec 29 10:00:01 h a b: [ID 5 x] B", ts, Some("h"), None, "a b: [ID 5 x] B");
    }

    // ---- AIX -----------------------------------------------------------------------------------

    #[test]
    fn aix() {
        let ts = Some("Dec 29 10:00:01");
        check("Dec 29 10:00:01 myhost |auth:info sshd[12]: aix", ts, Some("myhost"), Some("sshd"), "aix");
        check("Dec 29 10:00:01 myhost |auth:info sshd: aix", ts, Some("myhost"), Some("sshd"), "aix");
        check("Dec 29 10:00:01 myhost auth|security:info sshd: m", ts, Some("myhost"), Some("sshd"), "m");
        // `[digit` but not `]: `: name kept, log stays at the would-be name and is cut at '['.
        check("Dec 29 10:00:01 myhost |auth:info sshd[12x]: m", ts, Some("myhost"), Some("sshd"), "|auth:info sshd");
        check("Dec 29 10:00:01 myhost |auth:info sshd[12]:m", ts, Some("myhost"), Some("sshd"), "|auth:info sshd");
        // Anything else: the name is not terminated.
        check("Dec 29 10:00:01 myhost |auth:info sshd foo bar", ts, Some("myhost"), Some("sshd foo bar"), " foo bar");
        check("Dec 29 10:00:01 myhost |auth:info sshd:x", ts, Some("myhost"), Some("sshd:x"), ":x");
        check("Dec 29 10:00:01 myhost |auth:info sshd", ts, Some("myhost"), Some("sshd"), "");
        // ... and an unterminated name followed by [ID gets the [ID removal.
        check(
            "Dec 29 10:00:01 myhost |auth:info sshd[ID 1 x] foo",
            ts,
            Some("myhost"),
            Some("sshd[ID 1 x] foo"),
            "foo",
        );
        // Missing ':' after the facility, missing ' ' after the severity, uppercase after '|'.
        check("Dec 29 10:00:01 myhost |auth sshd: m", ts, Some("myhost"), None, "|auth sshd: m");
        check("Dec 29 10:00:01 myhost |auth:info: m", ts, Some("myhost"), None, "|auth:info: m");
        check("Dec 29 10:00:01 myhost |Auth:info sshd: m", ts, Some("myhost"), None, "|Auth:info sshd: m");
        // Empty facility/severity/name are fine.
        check("Dec 29 10:00:01 myhost |a: : m", ts, Some("myhost"), Some(""), "m");
    }

    // ---- other layouts -------------------------------------------------------------------------

    #[test]
    fn xferlog_snort_suricata_apache() {
        check(
            "Mon Apr 17 18:27:14 2006 1 64.160.42.130 5542 /home/x b _ o r user ftp 0 * c",
            Some("Mon Apr 17 18:27:14 2006"),
            None,
            None,
            "1 64.160.42.130 5542 /home/x b _ o r user ftp 0 * c",
        );
        check("01/28-09:13:16.240702  [**] [1:2:3] x", Some("01/28-09:13:16.240702"), None, None, "[**] [1:2:3] x");
        check(
            "01/28/1979-09:13:16.240702  [**] [1:2:3] x",
            Some("01/28/1979-09:13:16.240702"),
            None,
            None,
            "[**] [1:2:3] x",
        );
        // Suricata needs L >= 28 and may end right there.
        check("01/28/1979-09:13:16.240702 x", Some("01/28/1979-09:13:16.240702"), None, None, "");
        check(
            "[Fri Feb 11 18:06:35 2004] [warn] [client 1.2.3.4] x",
            Some("Fri Feb 11 18:06:35 2004"),
            None,
            None,
            "[warn] [client 1.2.3.4] x",
        );
        // Apache needs L >= 27; with exactly 27 the log is empty.
        check("[Fri Feb 11 18:06:35 2004] ", Some("Fri Feb 11 18:06:35 2004"), None, None, "");
    }

    #[test]
    fn squid() {
        check(
            "1140804070.368  11623 10.0.0.1 TCP_MISS/200 1234 GET http://x/ - DIRECT/1.2.3.4 text/html",
            Some("1140804070.368 "),
            None,
            None,
            "11623 10.0.0.1 TCP_MISS/200 1234 GET http://x/ - DIRECT/1.2.3.4 text/html",
        );
        check(
            "1140804070.368 116230 10.0.0.1 TCP_MISS/200 1234 GET",
            Some("1140804070.368"),
            None,
            None,
            "116230 10.0.0.1 TCP_MISS/200 1234 GET",
        );
        // b21 or b22 must be a space.
        let bad = "1140804070.368 116230000000000000000 x";
        check(bad, None, None, None, bad);
        // Only spaces after the timestamp.
        let all = "1140804070.368                                   ";
        check(all, Some(&all[..all.len() - 1]), None, None, "");
    }

    #[test]
    fn osx_asl() {
        check(
            "[Time 2006.12.28 15:53:55 UTC] [Facility auth] [Sender sshd] [PID 483] [Message error: PAM: Authentication failure for username from 192.168.0.2] [Level 3] [UID -2] [GID -2] [Host Hostname]",
            None,
            Some("Hostname"),
            Some("sshd"),
            "error: PAM: Authentication failure for username from 192.168.0.2",
        );
        // No [Message]: log starts 25 bytes in and is cut by the NUL written at the Sender's ']'.
        check(
            "[Time 2006.11.02 14:02:11 UTC] [Facility auth] [Sender sshd] [PID 856]",
            None,
            None,
            Some("sshd"),
            " UTC] [Facility auth] [Sender sshd",
        );
        // Only the first Sender and the first Message count; Host stops the walk.
        check(
            "[Time 2006.11.02 14:02:11 UTC] [Sender a] [Sender b] [Message m1] [Message m2] [Host h] [Sender c]",
            None,
            Some("h"),
            Some("a"),
            "m1",
        );
        // Unclosed entries.
        check("[Time 2006.11.02 14:02:11 UTC] [Sender abc", None, None, None, " UTC] [Sender abc");
        check("[Time 2006.11.02 14:02:11 UTC] [Message abc", None, None, None, "abc");
        check("[Time 2006.11.02 14:02:11 UTC] [Message m] [Host abc", None, None, None, "m");
        check("[Time 2006.11.02 14:02:11 UTC] [Host ] [Message m]", None, Some(""), None, " UTC] [Host ");
        // Message text can contain '[': it ends at the first ']'.
        check("[Time 2006.11.02 14:02:11 UTC] [Message a [b] c] [Sender s]", None, None, Some("s"), "a [b");
    }

    #[test]
    fn no_header() {
        for s in ["", "x", "plain text", "Dec 29 10:00", "{\"a\":1}", "<13>Dec 29 10:00:01 h p: m"] {
            check(s, None, None, None, s);
        }
    }

    #[test]
    fn nul_ends_the_text() {
        let log = b"Dec 29 10:00:01 h p: m\0ore";
        check_bytes(log, Some("Dec 29 10:00:01"), Some("h"), Some("p"), "m");
    }

    #[test]
    fn non_utf8_bytes() {
        let log = b"Dec 29 10:00:01 h p: \xff\xfe\x80";
        let p = predecode(log);
        assert_eq!(&log[p.log], b"\xff\xfe\x80");
        // A high byte ends the hostname: invalid.
        let log = b"Dec 29 10:00:01 h\xe9 p: m";
        let p = predecode(log);
        assert_eq!(p.hostname, None);
        assert_eq!(p.program_name, None);
        assert_eq!(&log[p.log], b"h\xe9 p: m");
    }

    // ---- intake: spec 1.1 / 1.2 ----------------------------------------------------------------

    fn intake(msg: &str) -> Result<(Origin, String), IntakeError> {
        parse_queue_message(msg.as_bytes()).map(|(o, r)| (o, msg[r].to_string()))
    }

    fn origin(location: &str, agent_id: &str, agent_hostname: Option<&str>) -> Origin {
        Origin {
            location: location.as_bytes().to_vec(),
            agent_id: agent_id.as_bytes().to_vec(),
            agent_hostname: agent_hostname.map(|h| h.as_bytes().to_vec()),
        }
    }

    #[test]
    fn table_1_2() {
        let msg = "1:[001] (agent1) 10.0.0.2->/var/log/auth.log:Dec 29 10:00:01 otherhost sshd[1]: x";
        let (o, log) = intake(msg).unwrap();
        assert_eq!(o, origin("(agent1) 10.0.0.2->/var/log/auth.log", "001", Some("agent1")));
        assert_eq!(log, "Dec 29 10:00:01 otherhost sshd[1]: x");
        let p = predecode(log.as_bytes());
        assert_eq!(&log.as_bytes()[p.log.clone()], b"x");
        // Trap 14: the agent name wins over the syslog header host ...
        assert_eq!(event_hostname(&o, &p, log.as_bytes(), b"mgr"), b"agent1");
        // ... which is still what predecoder.hostname shows.
        assert_eq!(header_hostname(log.as_bytes()).map(|r| &log[r]), Some("otherhost"));

        let (o, log) = intake("1:[001] something:plain").unwrap();
        assert_eq!((o.clone(), log.as_str()), (origin("something", "001", Some("")), "plain"));
        let p = predecode(log.as_bytes());
        assert_eq!(event_hostname(&o, &p, log.as_bytes(), b"mgr"), b"");

        let (o, log) = intake("1:[001]:plain").unwrap();
        assert_eq!((o, log.as_str()), (origin("", "001", Some("")), "plain"));

        assert_eq!(intake("1:[001 no close:plain"), Err(IntakeError::Malformed));

        let (o, log) = intake("1:stdin:plain").unwrap();
        assert_eq!((o.clone(), log.as_str()), (origin("stdin", "000", None), "plain"));
        let p = predecode(log.as_bytes());
        assert_eq!(event_hostname(&o, &p, log.as_bytes(), b"mgr"), b"mgr");
    }

    #[test]
    fn agent_location_details() {
        // One byte after ']' is skipped unchecked: the location is empty.
        assert_eq!(parse_location(b"[001]x"), Ok(origin("", "001", Some(""))));
        // The byte after ']' is not checked to be a space.
        assert_eq!(parse_location(b"[001]X(a) b->c"), Ok(origin("(a) b->c", "001", Some("a"))));
        // '(' without ')': empty name.
        assert_eq!(parse_location(b"[003] (noclose"), Ok(origin("(noclose", "003", Some(""))));
        assert_eq!(parse_location(b"[] (n) ip->f"), Ok(origin("(n) ip->f", "", Some("n"))));
        assert_eq!(parse_location(b"[1"), Err(IntakeError::Malformed));
        assert_eq!(
            parse_location(b"(web1) 10.0.0.5->/var/log/secure"),
            Ok(origin("(web1) 10.0.0.5->/var/log/secure", "000", None))
        );
        // IPv6 agent address escaped by remoted.
        let (o, log) = intake("1:[001] (ag) fe80|:|:1->/var/log/x:m").unwrap();
        assert_eq!((o, log.as_str()), (origin("(ag) fe80::1->/var/log/x", "001", Some("ag")), "m"));
    }

    #[test]
    fn queue_message_format() {
        assert_eq!(intake(""), Err(IntakeError::TooShort));
        assert_eq!(intake("1:a"), Err(IntakeError::TooShort));
        assert_eq!(intake("1:ab"), Err(IntakeError::Malformed));
        assert_eq!(intake("1:a|:b"), Err(IntakeError::Malformed));
        // The queue byte and its ':' are not checked.
        assert_eq!(intake("12:x").unwrap(), (origin("", "000", None), "x".to_string()));
        assert_eq!(intake("1::x").unwrap(), (origin("", "000", None), "x".to_string()));
        // Empty log text.
        assert_eq!(intake("1:stdin:").unwrap(), (origin("stdin", "000", None), String::new()));
        // Only the first unescaped ':' splits; later ones belong to the log.
        assert_eq!(intake("1:a:b:c").unwrap(), (origin("a", "000", None), "b:c".to_string()));
        // Escape examples of spec 1.1.
        assert_eq!(intake("1:a||b:log").unwrap(), (origin("a|b", "000", None), "log".to_string()));
        assert_eq!(intake("1:C|:\\path:msg").unwrap(), (origin("C:\\path", "000", None), "msg".to_string()));
        // A "||" before ':' leaves the ':' unescaped.
        assert_eq!(intake("1:a||:b").unwrap(), (origin("a|", "000", None), "b".to_string()));
        // A NUL ends the message (C string).
        assert_eq!(parse_queue_message(b"1:a\0:b"), Err(IntakeError::TooShort));
        // Messages.
        assert_eq!(IntakeError::Malformed.to_string(), "(1106): String not correctly formatted.");
        assert_eq!(IntakeError::TooShort.upstream_message(b"1:a"), "(1222): Invalid msg: 1:a");
        assert_eq!((IntakeError::TooShort.code(), IntakeError::Malformed.code()), (1222, 1106));
    }

    #[test]
    fn unescape() {
        assert_eq!(unescape_location(b"a||b"), b"a|b");
        assert_eq!(unescape_location(b"C|:\\path"), b"C:\\path");
        assert_eq!(unescape_location(b"|a"), b"a");
        assert_eq!(unescape_location(b"ab|"), b"ab|");
        assert_eq!(unescape_location(b"a|||b"), b"a|b");
        assert_eq!(unescape_location(b"||||"), b"||");
        assert_eq!(unescape_location(b""), b"");
        assert_eq!(unescape_location(&[b'a'; 9000]).len(), MAX_LOCATION);
        // The cut applies to the unescaped output.
        let mut s = Vec::new();
        for _ in 0..5000 {
            s.extend_from_slice(b"||");
        }
        assert_eq!(unescape_location(&s), vec![b'|'; 5000]);
        let mut s = Vec::new();
        for _ in 0..9000 {
            s.extend_from_slice(b"|:");
        }
        assert_eq!(unescape_location(&s), vec![b':'; MAX_LOCATION]);
    }

    #[test]
    fn escape() {
        assert_eq!(escape_location(b"a:b|c"), b"a|:b||c");
        assert_eq!(escape_location(b""), b"");
        assert_eq!(escape_location(b":"), b"|:");
        assert_eq!(escape_location(b"|"), b"||");
        assert_eq!(escape_location(b"stdin"), b"stdin");
        let a = |n: usize| vec![b'a'; n];
        let cat = |x: Vec<u8>, y: &[u8]| [x.as_slice(), y].concat();
        // Plain bytes fill up to 2048.
        assert_eq!(escape_location(&a(3000)), a(2048));
        // A pair still fits when it starts below 2047 ...
        assert_eq!(escape_location(&cat(a(2046), b":")), cat(a(2046), b"|:"));
        assert_eq!(escape_location(&cat(a(2045), b"::")), cat(a(2045), b"|:"));
        assert_eq!(escape_location(&cat(a(2045), b"|x")), cat(a(2045), b"||"));
        // ... otherwise the reserved byte and the rest are dropped.
        assert_eq!(escape_location(&cat(a(2047), b":x")), a(2047));
        // After a pair, plain bytes fill up to 2048 again.
        let mut want = cat(a(2040), b"|:");
        want.extend_from_slice(&[b'b'; 6]);
        assert_eq!(escape_location(&cat(cat(a(2040), b":"), &[b'b'; 10])), want);
    }

    #[test]
    fn logtest_messages() {
        assert_eq!(logtest_message(b"stdin", b"hello"), b"1:stdin:hello");
        assert_eq!(logtest_message(b"C:\\x|y", b"a:b"), b"1:C|:\\x||y:a:b");
        // A logtest location starting with '[' is an agent location.
        let msg = logtest_message(b"[001] (ag) 1.2.3.4->/f", b"m");
        let (o, r) = parse_queue_message(&msg).unwrap();
        assert_eq!(o, origin("(ag) 1.2.3.4->/f", "001", Some("ag")));
        assert_eq!(&msg[r], b"m");
        assert_eq!(parse_queue_message(&logtest_message(b"[001", b"m")), Err(IntakeError::Malformed));
        // Escaping then unescaping gives the location back (when nothing is cut).
        let loc = b"a:|b||c::d|";
        let (o, _) = parse_queue_message(&logtest_message(loc, b"x")).unwrap();
        assert_eq!(o.location, loc);
    }

    // ---- output helpers ------------------------------------------------------------------------

    #[test]
    fn output_locations() {
        assert_eq!(output_location(b"(agent1) 10.0.0.2->/var/log/auth.log"), Some(&b"/var/log/auth.log"[..]));
        assert_eq!(output_location(b"(web1) 10.0.0.5->/var/log/secure"), Some(&b"/var/log/secure"[..]));
        assert_eq!(output_location(b"(x) noarrow"), None);
        assert_eq!(output_location(b"(x) a->b->c"), Some(&b"b->c"[..]));
        assert_eq!(output_location(b"stdin"), Some(&b"stdin"[..]));
        assert_eq!(output_location(b"a->b"), Some(&b"a->b"[..]));
        assert_eq!(output_location(b""), Some(&b""[..]));
        assert_eq!(output_location(b"(>"), Some(&b""[..]));
        // Upstream works on a 1023-byte copy.
        let mut long = b"(".to_vec();
        long.extend_from_slice(&[b'a'; 1000]);
        long.push(b'>');
        long.extend_from_slice(&[b'b'; 100]);
        assert_eq!(output_location(&long), Some(&[b'b'; 1023 - 1002][..]));
        let mut far = b"(".to_vec();
        far.extend_from_slice(&[b'a'; 1100]);
        far.extend_from_slice(b"->x");
        assert_eq!(output_location(&far), None);
        // Verbatim (not cut) otherwise.
        let plain = vec![b'p'; 3000];
        assert_eq!(output_location(&plain), Some(&plain[..]));
    }

    #[test]
    fn header_hostnames() {
        let hh = |s: &str| header_hostname(s.as_bytes()).map(|r| s[r].to_string());
        assert_eq!(hh("Dec 29 10:00:01 myhost sshd[1]: x").as_deref(), Some("myhost"));
        assert_eq!(hh("Dec 29 10:00:01 sshd: msg").as_deref(), Some("sshd:"));
        assert_eq!(hh("Dec  9 10:00:01 h").as_deref(), Some("h"));
        assert_eq!(hh("Dec 09 10:00:01 h\tx y").as_deref(), Some("h\tx"));
        assert_eq!(hh("Dec 29 10:00:01   myhost sshd: x"), None);
        assert_eq!(hh("Dec 29 10:00:01 "), None);
        assert_eq!(hh("Dec 49 10:00:01 h"), None);
        assert_eq!(hh("dec 29 10:00:01 h"), None);
        assert_eq!(hh("DEC 29 10:00:01 h"), None);
        assert_eq!(hh("Dec 29 1a:00:01 h"), None);
        assert_eq!(hh("XXX 99 99:99:99 anything goes"), None);
        assert_eq!(hh("Xyz 39 99:99:99 anything goes").as_deref(), Some("anything"));
        assert_eq!(hh("2015 Dec 29 10:00:01 myhost sshd: y"), None);
        assert_eq!(hh("2007-06-14T15:48:55-04:00 myhost sshd: i"), None);
        assert_eq!(header_hostname(b"Dec 29 10:00:01 h\xff\xfe x"), Some(16..19));
        // Not limited to what predecode accepts as a hostname.
        assert_eq!(hh("Dec 29 10:00:01 my,host sshd: x").as_deref(), Some("my,host"));
    }

    #[test]
    fn event_hostnames() {
        let local = origin("stdin", "000", None);
        let host = |o: &Origin, log: &str| {
            let p = predecode(log.as_bytes());
            String::from_utf8_lossy(event_hostname(o, &p, log.as_bytes(), b"wazuh-server")).into_owned()
        };
        assert_eq!(host(&local, "Dec 29 10:00:01 myhost sshd: x"), "myhost");
        assert_eq!(host(&local, "Dec 29 10:00:01 sshd: msg"), "wazuh-server");
        assert_eq!(host(&local, "Dec 29 10:00:01 my,host sshd: x"), "wazuh-server");
        // Present but empty: no fallback.
        assert_eq!(host(&local, "Dec 29 10:00:01   myhost sshd: x"), "");
        assert_eq!(host(&local, "2023-01-01T00:00:00.123Z myhost sshd: z"), "wazuh-server");
        assert_eq!(host(&local, "[Time 2006.11.02 14:02:11 UTC] [Sender s] [Host mac]"), "mac");
        assert_eq!(host(&local, "plain"), "wazuh-server");
        let agent = origin("(agent1) 10.0.0.2->/var/log/auth.log", "001", Some("agent1"));
        assert_eq!(host(&agent, "Dec 29 10:00:01 otherhost sshd: x"), "agent1");
        assert_eq!(host(&agent, "plain"), "agent1");
        let nameless = origin("something", "001", Some(""));
        assert_eq!(host(&nameless, "Dec 29 10:00:01 otherhost sshd: x"), "");
    }

    // ---- randomized robustness -----------------------------------------------------------------

    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn assert_range(r: &Range<usize>, text: &[u8]) {
        assert!(r.start <= r.end && r.end <= text.len(), "{r:?} in {}", text.len());
        assert!(!text[r.clone()].contains(&0));
    }

    #[test]
    fn random_inputs_do_not_panic() {
        const BYTES: &[u8] = b"    ::||[[]]()0123456789IDTabcdefMSHz.-/,+>_@\t\xc3\xa4\xff\x00";
        const PIECES: &[&[u8]] = &[
            b"Dec 29 10:00:01 ",
            b"M\xc3\xa4r 02 17:30:52 ",
            b"2015-04-16 21:51:02,805 ",
            b"2007-06-14T15:48:55-04:00 ",
            b"2023-01-01T00:00:00.123Z ",
            b"2015 Dec 29 10:00:01 ",
            b"2021-04-21 10:16:09.404756-0700 ",
            b"Mon Apr 17 18:27:14 2006 ",
            b"01/28-09:13:16.240702  ",
            b"01/28/1979-09:13:16.240702  ",
            b"[Fri Feb 11 18:06:35 2004] ",
            b"[Time 2006.12.28 15:53:55 UTC] ",
            b"1140804070.368  ",
            b"[ID ",
            b"|auth:info ",
            b"[12]: ",
            b"[Sender ",
            b"[Message ",
            b"[Host ",
            b"host ",
            b"1:",
            b"[001] (ag) ",
            b"->",
        ];
        let mut rng = Lcg(0x5eed);
        for _ in 0..30_000 {
            let mut s = Vec::new();
            for _ in 0..rng.below(24) {
                if rng.below(3) == 0 {
                    s.extend_from_slice(PIECES[rng.below(PIECES.len())]);
                } else {
                    s.push(BYTES[rng.below(BYTES.len())]);
                }
            }
            let text = c_str(&s);

            let p = predecode(&s);
            for r in [&p.timestamp, &p.hostname, &p.program_name].into_iter().flatten() {
                assert_range(r, text);
            }
            assert_range(&p.log, text);
            if let Some(r) = header_hostname(&s) {
                assert_range(&r, text);
                assert!(r.start == 16 && !r.is_empty());
            }
            if let Some(loc) = output_location(&s) {
                assert!(loc.len() <= text.len());
            }
            let esc = escape_location(&s);
            assert!(esc.len() <= MAX_LOGTEST_ESCAPED_LOCATION);
            assert_eq!(unescape_location(&esc), text, "escape round trip");

            match parse_queue_message(&s) {
                Ok((o, r)) => {
                    assert_range(&r, text);
                    assert!(o.location.len() <= MAX_LOCATION);
                    let log = &text[r];
                    let pre = predecode(log);
                    let h = event_hostname(&o, &pre, log, b"mgr");
                    if let Some(agent) = &o.agent_hostname {
                        assert_eq!(h, agent.as_slice());
                    } else {
                        assert_eq!(o.agent_id, MANAGER_AGENT_ID);
                    }
                }
                Err(IntakeError::TooShort) => assert!(text.len() < 4),
                Err(IntakeError::Malformed) => {}
            }
            let _ = parse_location(&s);
        }
    }

    // ---- differential check against real Wazuh 4.14.7 responses (skipped without ../shared) ----

    /// Decode the flat JSON object of string members that starts at `obj` (after the `{`).
    fn flat_json_object(obj: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        fn string(s: &[u8], mut i: usize) -> (Vec<u8>, usize) {
            let mut out = Vec::new();
            i += 1; // opening quote
            while let Some(&c) = s.get(i) {
                match c {
                    b'"' => return (out, i + 1),
                    b'\\' => {
                        let e = s.get(i + 1).copied().unwrap_or(b'\\');
                        i += 2;
                        match e {
                            b'n' => out.push(b'\n'),
                            b't' => out.push(b'\t'),
                            b'r' => out.push(b'\r'),
                            b'b' => out.push(8),
                            b'f' => out.push(12),
                            b'u' => {
                                let hex = std::str::from_utf8(s.get(i..i + 4).unwrap_or_default()).unwrap_or("0");
                                let cp = u32::from_str_radix(hex, 16).unwrap_or(0);
                                let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                                out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                                i += 4;
                            }
                            other => out.push(other),
                        }
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            (out, i)
        }
        let mut members = Vec::new();
        let mut i = 0;
        while let Some(&c) = obj.get(i) {
            match c {
                b'}' => break,
                b'"' => {
                    let (key, next) = string(obj, i);
                    let colon = next; // compact JSON: `"key":"value"`
                    let (value, after) = string(obj, colon + 1);
                    members.push((key, value));
                    i = after;
                }
                _ => i += 1,
            }
        }
        members
    }

    #[test]
    fn differential_against_wazuh_responses() {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/expected");
        let Ok(dirs) = std::fs::read_dir(&base) else {
            crate::testing::loud_skip("predecode differential: ../shared/expected not found");
            return;
        };
        let mut checked = 0;
        for dir in dirs.flatten() {
            let Ok(files) = std::fs::read_dir(dir.path()) else { continue };
            for file in files.flatten() {
                let path = file.path();
                if path.extension().is_none_or(|e| e != "events") {
                    continue;
                }
                let Ok(events) = std::fs::read(&path) else { continue };
                let Ok(responses) = std::fs::read(path.with_extension("expected.jsonl")) else { continue };
                let mut events: Vec<&[u8]> = events.split(|&c| c == b'\n').collect();
                if events.last() == Some(&&b""[..]) {
                    events.pop();
                }
                let responses: Vec<&[u8]> = responses.split(|&c| c == b'\n').filter(|l| !l.is_empty()).collect();
                assert_eq!(events.len(), responses.len(), "{}", path.display());
                for (event, response) in events.iter().zip(&responses) {
                    const KEY: &[u8] = b"\"predecoder\":{";
                    let members = response
                        .windows(KEY.len())
                        .position(|w| w == KEY)
                        .map(|at| flat_json_object(&response[at + KEY.len()..]))
                        .unwrap_or_default();
                    let field = |name: &[u8]| members.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
                    let p = predecode(event);
                    let get = |r: Option<Range<usize>>| r.map(|r| event[r].to_vec());
                    assert_eq!(get(p.program_name), field(b"program_name"), "{}", String::from_utf8_lossy(event));
                    assert_eq!(get(p.timestamp), field(b"timestamp"), "{}", String::from_utf8_lossy(event));
                    assert_eq!(get(header_hostname(event)), field(b"hostname"), "{}", String::from_utf8_lossy(event));
                    checked += 1;
                }
            }
        }
        assert!(checked > 0, "no events under {}", base.display());
    }
}
