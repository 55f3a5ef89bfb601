//! Python `str` semantics over JSON string literals, without decoding them into new strings.
//!
//! The integration parses each log file with `json.load`, so every string becomes a Python
//! `str` (a sequence of code points); what reaches analysisd is `json.dumps(…)` of it with the
//! default `ensure_ascii=True`. Decoding every string into a Rust `String` and re-encoding it would
//! cost an allocation per field, so a string is kept as its **raw source slice** (the bytes
//! between the quotes, already validated by the parser) plus a flag saying whether it holds
//! backslash escapes, and every operation reads that slice directly:
//!
//! * [`write_json`]: `json.dumps` of the string (escapes `"` `\` `\b \f \n \r \t`, every other
//!   byte outside `0x20..=0x7e` as lower-case `\uxxxx`, characters beyond the BMP as a surrogate
//!   pair). An escape in the source never needs decoding into a character first: `\uXXXX`
//!   re-encodes as itself (lower-cased) unless it names a printable ASCII character, so a
//!   surrogate pair, or a lone surrogate (which Python keeps), comes out exactly as Python
//!   prints it.
//! * [`CodePoints`]: the code points Python's `json` scanner would produce (a `\uD8xx\uDCxx` pair
//!   is joined, a lone surrogate stays a lone surrogate), for comparisons, the
//!   `sourceIPAddress` test and `repr`.
//! * [`write_repr`]: `repr(str)` as `str(list)`/`str(dict)` prints it (quote choice, `\x`/`\u`/`\U`
//!   escapes of non-printable characters, printable non-ASCII kept as is).
//!
//! Unicode properties (`\d` of `re`, `str.isprintable`) come from `unicode_tables.rs`, generated
//! for Unicode 13.0.0, the database of the Python 3.10 that Wazuh 4.14.7 embeds.

use super::unicode_tables::{DECIMAL, PRINTABLE};

/// A JSON string literal as it appears in the source: what lies between the quotes, known to
/// be valid (UTF-8, no raw control characters, only valid escapes). A backslash in it always
/// starts an escape. No "has escapes" flag is stored: it would make every value 8 bytes larger
/// and its moves slower, while the places that need it ([`PyStr::escaped`]) are rare and short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PyStr<'a>(pub &'a str);

impl<'a> PyStr<'a> {
    /// A literal of ours (no backslash in it).
    pub const fn plain(raw: &'a str) -> Self {
        PyStr(raw)
    }

    /// Whether the literal holds an escape (so its text is not its raw bytes).
    #[inline]
    pub fn escaped(&self) -> bool {
        let b = self.0.as_bytes();
        // Keys are short: a plain loop beats memchr's setup.
        if b.len() < 32 {
            b.contains(&b'\\')
        } else {
            memchr::memchr(b'\\', b).is_some()
        }
    }

    /// The code points Python would hold for this string.
    pub fn code_points(&self) -> CodePoints<'a> {
        CodePoints { s: self.0.as_bytes(), i: 0 }
    }

    /// Python `==` with the (escape-free) text `lit`.
    #[inline]
    pub fn is(&self, lit: &str) -> bool {
        self.0 == lit || (self.escaped() && self.code_points().eq(lit.chars().map(u32::from)))
    }

    /// Python `==` between two strings.
    #[inline]
    pub fn same(&self, other: &PyStr<'_>) -> bool {
        self.0 == other.0 || ((self.escaped() || other.escaped()) && self.code_points().eq(other.code_points()))
    }

    /// The string's code points as generalised UTF-8 (lone surrogates encoded like other code
    /// points): equal bytes exactly when the Python strings are equal. Used as a hash key.
    pub fn wtf8(&self) -> Vec<u8> {
        if !self.escaped() {
            return self.0.as_bytes().to_vec();
        }
        let mut out = Vec::with_capacity(self.0.len());
        for cp in self.code_points() {
            push_wtf8(&mut out, cp);
        }
        out
    }
}

/// Appends `cp` UTF-8-encoded, surrogates included (WTF-8).
fn push_wtf8(out: &mut Vec<u8>, cp: u32) {
    match cp {
        0..=0x7f => out.push(cp as u8),
        0x80..=0x7ff => out.extend_from_slice(&[0xc0 | (cp >> 6) as u8, 0x80 | (cp & 0x3f) as u8]),
        0x800..=0xffff => {
            out.extend_from_slice(&[0xe0 | (cp >> 12) as u8, 0x80 | ((cp >> 6) & 0x3f) as u8, 0x80 | (cp & 0x3f) as u8])
        }
        _ => out.extend_from_slice(&[
            0xf0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3f) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]),
    }
}

/// The value of four hex digits (validated by the parser).
#[inline]
pub(crate) fn hex4(h: &[u8]) -> u32 {
    h[..4].iter().fold(0, |v, &c| {
        (v << 4)
            | match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                b'a'..=b'f' => u32::from(c - b'a' + 10),
                _ => u32::from(c - b'A' + 10),
            }
    })
}

/// Decodes the UTF-8 character starting at `s[i]` (valid UTF-8): (code point, length).
#[inline]
fn utf8_at(s: &[u8], i: usize) -> (u32, usize) {
    let b0 = u32::from(s[i]);
    if b0 < 0x80 {
        (b0, 1)
    } else if b0 < 0xe0 {
        (((b0 & 0x1f) << 6) | (u32::from(s[i + 1]) & 0x3f), 2)
    } else if b0 < 0xf0 {
        (((b0 & 0x0f) << 12) | ((u32::from(s[i + 1]) & 0x3f) << 6) | (u32::from(s[i + 2]) & 0x3f), 3)
    } else {
        (
            ((b0 & 0x07) << 18)
                | ((u32::from(s[i + 1]) & 0x3f) << 12)
                | ((u32::from(s[i + 2]) & 0x3f) << 6)
                | (u32::from(s[i + 3]) & 0x3f),
            4,
        )
    }
}

/// Iterator over the code points of a [`PyStr`], as `json`'s `scanstring` builds them.
#[derive(Clone)]
pub(crate) struct CodePoints<'a> {
    s: &'a [u8],
    i: usize,
}

impl Iterator for CodePoints<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        let s = self.s;
        let i = self.i;
        if i >= s.len() {
            return None;
        }
        if s[i] == b'\\' {
            let c = s[i + 1];
            if c != b'u' {
                self.i = i + 2;
                return Some(match c {
                    b'b' => 8,
                    b'f' => 12,
                    b'n' => 10,
                    b'r' => 13,
                    b't' => 9,
                    other => u32::from(other), // `"` `\` `/`
                });
            }
            let v = hex4(&s[i + 2..]);
            self.i = i + 6;
            // scanstring joins a high surrogate with an immediately following `\u` low one.
            if (0xd800..0xdc00).contains(&v) && s[self.i..].starts_with(b"\\u") {
                let v2 = hex4(&s[self.i + 2..]);
                if (0xdc00..0xe000).contains(&v2) {
                    self.i += 6;
                    return Some(0x10000 + ((v - 0xd800) << 10) + (v2 - 0xdc00));
                }
            }
            return Some(v);
        }
        let (cp, n) = utf8_at(s, i);
        self.i = i + n;
        Some(cp)
    }
}

/// Whether a byte is copied as it is by `ensure_ascii` output: printable ASCII but `"` and `\`.
#[inline]
fn json_safe(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'
}

/// SWAR: does any byte of `w` need escaping (< 0x20, ≥ 0x7f, `"` or `\`)?
#[inline]
fn escape_in_word(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_20 = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    (below_20
        | (w & HIGH)
        | has_zero(w ^ (ONES * 0x7f))
        | has_zero(w ^ (ONES * u64::from(b'"')))
        | has_zero(w ^ (ONES * u64::from(b'\\'))))
        != 0
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the `ensure_ascii` form of the code unit or code point `cp` (`py_encode_basestring_ascii`).
#[inline]
fn push_json_cp(out: &mut Vec<u8>, cp: u32) {
    match cp {
        0x22 => out.extend_from_slice(b"\\\""),
        0x5c => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x0d => out.extend_from_slice(b"\\r"),
        0x09 => out.extend_from_slice(b"\\t"),
        0x20..=0x7e => out.push(cp as u8),
        0x10000.. => {
            let v = cp - 0x10000;
            push_u4(out, 0xd800 | (v >> 10));
            push_u4(out, 0xdc00 | (v & 0x3ff));
        }
        _ => push_u4(out, cp),
    }
}

/// Appends `\uxxxx` (lower-case hex).
#[inline]
fn push_u4(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&[
        b'\\',
        b'u',
        HEX[(v >> 12) as usize & 15],
        HEX[(v >> 8) as usize & 15],
        HEX[(v >> 4) as usize & 15],
        HEX[v as usize & 15],
    ]);
}

/// Appends `json.dumps(s)` (with its quotes) for the string whose source text is `raw`.
/// `literal` says whether `raw` is a JSON literal body (a [`PyStr`]) whose backslashes start
/// escapes; without it, `raw` is plain text (a backslash in it is a character).
pub(crate) fn write_json(out: &mut Vec<u8>, raw: &str, literal: bool) {
    let s = raw.as_bytes();
    out.push(b'"');
    let mut i = 0;
    while i < s.len() {
        // Copy the longest run of bytes that need no escaping in one go.
        let start = i;
        while i + 8 <= s.len() && !escape_in_word(u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"))) {
            i += 8;
        }
        while i < s.len() && json_safe(s[i]) {
            i += 1;
        }
        out.extend_from_slice(&s[start..i]);
        if i >= s.len() {
            break;
        }
        let b = s[i];
        if b == b'\\' && literal {
            let c = s[i + 1];
            if c == b'u' {
                // Code units re-encode one by one: a joined pair would split back into the
                // same two units, and a lone surrogate prints as itself.
                push_json_cp(out, hex4(&s[i + 2..]));
                i += 6;
            } else {
                match c {
                    b'/' => out.push(b'/'),
                    _ => out.extend_from_slice(&[b'\\', c]), // \" \\ \b \f \n \r \t
                }
                i += 2;
            }
        } else if b < 0x80 {
            push_json_cp(out, u32::from(b));
            i += 1;
        } else {
            let (cp, n) = utf8_at(s, i);
            push_json_cp(out, cp);
            i += n;
        }
    }
    out.push(b'"');
}

/// Binary search of `cp` in sorted inclusive ranges.
fn in_ranges(table: &[(u32, u32)], cp: u32) -> bool {
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// What `\d` matches in a Python 3 `str` pattern: a Unicode decimal digit (category Nd).
#[inline]
pub(crate) fn is_decimal(cp: u32) -> bool {
    if cp < 0x80 {
        cp.wrapping_sub(u32::from(b'0')) < 10
    } else {
        in_ranges(DECIMAL, cp)
    }
}

/// Python 3.10's `str.isprintable()` for one character.
#[inline]
pub(crate) fn is_printable(cp: u32) -> bool {
    if cp < 0x80 {
        (0x20..0x7f).contains(&cp)
    } else {
        in_ranges(PRINTABLE, cp)
    }
}

/// `re.match(r'\d+\.\d+.\d+.\d+', s) is not None`: the integration's test for "this
/// `sourceIPAddress` is an IP". Anchored at the start only; the 2nd and 3rd dots are unescaped
/// (any character but a newline) and `\d` is any Unicode decimal digit, so `1.2.3.4, 5.6.7.8`,
/// `1.23456` and `075.050.255.67` match. Run as an NFA over the code points: linear time.
pub(crate) fn looks_like_ip(s: &PyStr<'_>) -> bool {
    // States (bits): 0 start, 1 in 1st \d+, 2 after `\.`, 3 in 2nd \d+, 4 after 1st `.`,
    // 5 in 3rd \d+, 6 after 2nd `.`; reaching the 4th \d+ means a match.
    let mut st: u8 = 1;
    for cp in s.code_points() {
        let d = is_decimal(cp);
        let any = cp != u32::from(b'\n');
        let mut nx = 0u8;
        if d {
            if st & (1 << 6) != 0 {
                return true;
            }
            if st & 0b11 != 0 {
                nx |= 1 << 1;
            }
            if st & (1 << 2 | 1 << 3) != 0 {
                nx |= 1 << 3;
            }
            if st & (1 << 4 | 1 << 5) != 0 {
                nx |= 1 << 5;
            }
        }
        if cp == u32::from(b'.') && st & (1 << 1) != 0 {
            nx |= 1 << 2;
        }
        if any {
            if st & (1 << 3) != 0 {
                nx |= 1 << 4;
            }
            if st & (1 << 5) != 0 {
                nx |= 1 << 6;
            }
        }
        st = nx;
        if st == 0 {
            return false;
        }
    }
    false
}

/// Appends `repr(s)` (Python 3 `unicode_repr`) for a sequence of code points: single quotes
/// unless the text holds `'` and no `"`; `\\`, the quote, `\t \n \r` escaped; other control
/// characters and 0x7f as `\xhh`; non-ASCII kept when printable, else `\xhh`, `\uhhhh` or
/// `\Uhhhhhhhh`.
pub(crate) fn write_repr(out: &mut String, cps: impl Iterator<Item = u32> + Clone) {
    let (mut single, mut double) = (false, false);
    for cp in cps.clone() {
        single |= cp == u32::from(b'\'');
        double |= cp == u32::from(b'"');
    }
    let quote = if single && !double { '"' } else { '\'' };
    out.push(quote);
    for cp in cps {
        match cp {
            0x5c => out.push_str("\\\\"),
            0x09 => out.push_str("\\t"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            _ if cp == u32::from(quote) => {
                out.push('\\');
                out.push(quote);
            }
            0..=0x1f | 0x7f => push_hex_escape(out, 'x', cp, 2),
            0x20..=0x7e => out.push(cp as u8 as char),
            _ if is_printable(cp) => out.push(char::from_u32(cp).unwrap_or('\u{fffd}')),
            0x80..=0xff => push_hex_escape(out, 'x', cp, 2),
            0x100..=0xffff => push_hex_escape(out, 'u', cp, 4),
            _ => push_hex_escape(out, 'U', cp, 8),
        }
    }
    out.push(quote);
}

/// Appends `\` `letter` and `digits` lower-case hex digits of `v`.
fn push_hex_escape(out: &mut String, letter: char, v: u32, digits: u32) {
    out.push('\\');
    out.push(letter);
    for k in (0..digits).rev() {
        out.push(HEX[(v >> (4 * k)) as usize & 15] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dumps(raw: &str, escaped: bool) -> String {
        let mut v = Vec::new();
        write_json(&mut v, raw, escaped);
        String::from_utf8(v).unwrap()
    }

    fn repr(raw: &str, literal: bool) -> String {
        let mut s = String::new();
        if literal {
            write_repr(&mut s, PyStr(raw).code_points());
        } else {
            write_repr(&mut s, raw.chars().map(u32::from));
        }
        s
    }

    #[test]
    fn dumps_matches_python_ensure_ascii() {
        // json.dumps("a/\"\\\x7f\x01é😀\u202f") == '"a/\\"\\\\\\u007f\\u0001\\u00e9\\ud83d\\ude00\\u202f"'
        assert_eq!(dumps("a/\"\\\x7f\x01é😀\u{202f}", false), r#""a/\"\\\u007f\u0001\u00e9\ud83d\ude00\u202f""#);
        assert_eq!(dumps(r"\u0041\u00E9\/\n\ud83d\ude00\ud800x", true), r#""A\u00e9/\n\ud83d\ude00\ud800x""#);
        assert_eq!(dumps(r#"\u0022\u005C\u000a\u0008\u007f"#, true), r#""\"\\\n\b\u007f""#);
    }

    #[test]
    fn code_points_join_pairs_only() {
        let cps: Vec<u32> = PyStr(r"\ud83d\ude00\ud800\u0041é").code_points().collect();
        assert_eq!(cps, vec![0x1f600, 0xd800, 0x41, 0xe9]);
        assert!(PyStr(r"sourc\u0065").is("source"));
        assert!(PyStr(r"\ud83d\ude00").same(&PyStr::plain("😀")));
    }

    #[test]
    fn repr_matches_python() {
        assert_eq!(repr("a'b", false), r#""a'b""#);
        assert_eq!(repr("a'b\"", false), r#"'a\'b"'"#);
        assert_eq!(repr("t\tn\nx\x01\x7f\\", false), r"'t\tn\nx\x01\x7f\\'");
        assert_eq!(repr("é\u{202f}\u{a0}\u{ad}😀", false), r"'é\u202f\xa0\xad😀'");
        assert_eq!(repr(r"\ud800\u200b", true), r"'\ud800\u200b'");
        assert_eq!(repr("\u{e0001}", false), r"'\U000e0001'");
    }

    #[test]
    fn ip_test_is_the_loose_python_regex() {
        let t = |s: &str| looks_like_ip(&PyStr::plain(s));
        for yes in ["1.2.3.4", "075.050.255.67", "1.2.3.4, 5.6.7.8", "1.2x3y4", "1.23456", "١.٢.٣.٤"] {
            assert!(t(yes), "{yes}");
        }
        for no in ["", "AWS Internal", "cloudtrail.amazonaws.com", "2001:db8::1", "1.2.3", "1.2\n3.4", ".1.2.3.4"] {
            assert!(!t(no), "{no}");
        }
    }
}
