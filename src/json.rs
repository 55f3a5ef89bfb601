//! A JSON value model that behaves like cJSON 1.7.18, the version Wazuh 4.14.7 vendors
//! (`src/external/cJSON`, DEPS_VERSION ≥ 36), plus the JSON_Decoder flattening of
//! `src/analysisd/decoders/plugins/json_decoder.c` (`readJSON`).
//!
//! serde_json cannot be used for this: Wazuh keeps duplicate keys, keeps key order, carries
//! arbitrary (non-UTF-8) bytes in strings, prints numbers the cJSON way and tolerates trailing
//! garbage. Everything here works on bytes.
//!
//! # Parsing (`cJSON_ParseWithOpts`)
//! * The input is a C string: it ends at the first NUL byte.
//! * A UTF-8 BOM is skipped when the input is at least 4 bytes long.
//! * "Whitespace" is **every byte from 0x01 to 0x20**, not just the four JSON ones.
//! * [`parse_prefix`] ignores whatever follows the first value (`{"a":1} garbage` is fine);
//!   [`parse_complete`] only allows trailing whitespace (in the sense above).
//! * Nesting limit: 1000 arrays/objects (the 1001st level fails the whole parse).
//! * Duplicate keys are kept, in document order.
//! * Numbers: cJSON copies at most 63 bytes out of `[0-9+-eE.]` and hands them to `strtod`, so
//!   `-.5`, `1.`, `01` and `1e999` (→ infinity) are accepted, `1.5e` stops before the `e` and a
//!   64th digit is left in the input (garbage for the enclosing container). A value must start with
//!   `-` or a digit. `valueint` is the value saturated to `[INT_MIN, INT_MAX]` and truncated toward
//!   zero; it is not stored here but recomputed by [`cjson_valueint`].
//! * Strings: raw bytes (control characters and invalid UTF-8 included) are copied as they are.
//!   Escapes are `\b \f \n \r \t \" \\ \/ \uXXXX`; anything else fails. A `\u` whose four
//!   characters are not all hex digits reads as U+0000 (cJSON's `parse_hex4` returns 0) instead of
//!   failing. A lone low surrogate, or a high surrogate not followed by `\u` + low surrogate,
//!   fails. Because cJSON strings are C strings, **a decoded U+0000 truncates the string** (keys
//!   included): `"a\u0000b"` is `a`. Strings in this model therefore never contain NUL.
//!
//! # Printing (`cJSON_PrintUnformatted` / `cJSON_Print`)
//! * Strings: only `"`, `\` and bytes < 0x20 are escaped (`\b \f \n \r \t`, others `\u00xx` in
//!   lower-case hex); `/`, 0x7f and bytes ≥ 0x80 are raw. A NUL inside a programmatically built
//!   string ends it, as in C.
//! * Numbers: NaN/±inf print `null`; a value equal to its saturated `valueint` prints as `%d`
//!   (so `-0.0` prints `0` and `3.0` prints `3`); otherwise `%1.15g`, and if that text does not
//!   read back within `DBL_EPSILON` (relative), `%1.17g`.
//! * Formatted print: arrays are `[a, b]` on one line; objects are `{` newline, one member per
//!   line as depth×TAB `"key":` TAB value, members separated by `,` newline, then depth−1 TABs and
//!   `}`. The depth counts every enclosing array and object, starting at 1 for the outermost one,
//!   so an object inside a top-level array has its members at two tabs. An empty object is `{`
//!   newline (depth−1 tabs) `}`.
//! * The printer is iterative: no recursion on the depth of the value.
//!
//! # JSON_Decoder flattening ([`flatten_prefix`])
//! See the function docs. Traps: numbers use `%i` of the saturated valueint when it equals the
//! value, else `%f` cut to 63 bytes (`3000000000` → `3000000000.000000`), while numbers *inside
//! printed arrays* use cJSON's compact format; arrays default to cJSON's **formatted** print (tabs
//! and newlines); CSV mode skips nested containers and may leave a trailing comma.

use crate::event::Fields;

/// A JSON value. Strings and keys are bytes (never containing NUL when produced by the parser).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as cJSON's `valuedouble` (the printers derive `valueint` from it).
    Number(f64),
    /// A string: raw bytes, not necessarily UTF-8.
    String(Vec<u8>),
    /// An array.
    Array(Vec<Json>),
    /// An object: members in document order, duplicate keys kept.
    Object(Vec<(Vec<u8>, Json)>),
}

/// cJSON's `CJSON_NESTING_LIMIT`.
pub(crate) const NESTING_LIMIT: usize = 1000;

/// Wazuh's `OS_MAXSTR` (the CSV array buffer size in `readJSON`).
const OS_MAXSTR: usize = 65536;

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// `cJSON_Parse`: leading whitespace allowed, trailing garbage ignored, nesting limit 1000,
/// duplicate keys kept in order. `None` if invalid. (The JSON decoder uses the one-pass
/// [`flatten_prefix`]; this and [`flatten`] are its reference in the tests.)
#[cfg(test)]
pub(crate) fn parse_prefix(input: &[u8]) -> Option<Json> {
    parse_with_end(input).map(|(v, _)| v)
}

/// `cJSON_ParseWithOpts(.., require_null_terminated = true)`: only trailing whitespace (bytes
/// 0x01..=0x20) may follow the value.
pub fn parse_complete(input: &[u8]) -> Option<Json> {
    let s = c_str(input);
    let (v, end) = parse_with_end(s)?;
    let end = skip_ws(s, end);
    if end == s.len() {
        Some(v)
    } else {
        None
    }
}

/// Parses like `cJSON_ParseWithOpts(value, &end, 0)` and also returns the offset just after the
/// parsed value (the `return_parse_end` pointer), relative to the start of `input`.
pub(crate) fn parse_with_end(input: &[u8]) -> Option<(Json, usize)> {
    let s = c_str(input);
    let mut p = 0;
    if s.len() >= 4 && s.starts_with(b"\xEF\xBB\xBF") {
        p = 3;
    }
    p = skip_ws(s, p);
    Parser { s }.parse_value_at(p, 0)
}

/// The part of `input` before its first NUL byte (C string semantics).
fn c_str(input: &[u8]) -> &[u8] {
    match memchr::memchr(0, input) {
        Some(n) => &input[..n],
        None => input,
    }
}

/// cJSON's `buffer_skip_whitespace`: every byte 0x01..=0x20 is whitespace.
fn skip_ws(s: &[u8], mut p: usize) -> usize {
    while p < s.len() && s[p] <= 32 {
        p += 1;
    }
    p
}

/// An open container while parsing.
enum Open {
    Array(Vec<Json>),
    /// Members so far, and the key of the member whose value is being parsed.
    Object(Vec<(Vec<u8>, Json)>, Vec<u8>),
}

struct Parser<'a> {
    s: &'a [u8],
}

impl<'a> Parser<'a> {
    fn at(&self, p: usize) -> u8 {
        // The terminating NUL of the C string is readable.
        self.s.get(p).copied().unwrap_or(0)
    }

    /// Parses one value starting at `p` (whitespace already skipped). Iterative: an explicit
    /// stack holds the open containers.
    fn parse_value_at(&self, mut p: usize, depth: usize) -> Option<(Json, usize)> {
        let mut stack: Vec<Open> = Vec::new();
        'value: loop {
            // Parse a value at p, or open a container.
            let mut value = match self.at(p) {
                b'n' if self.s[p..].starts_with(b"null") => {
                    p += 4;
                    Json::Null
                }
                b'f' if self.s[p..].starts_with(b"false") => {
                    p += 5;
                    Json::Bool(false)
                }
                b't' if self.s[p..].starts_with(b"true") => {
                    p += 4;
                    Json::Bool(true)
                }
                b'"' => {
                    let (v, np) = self.parse_string(p)?;
                    p = np;
                    Json::String(v)
                }
                b'-' | b'0'..=b'9' => {
                    let (d, np) = self.parse_number(p)?;
                    p = np;
                    Json::Number(d)
                }
                b'[' => {
                    if depth + stack.len() >= NESTING_LIMIT {
                        return None;
                    }
                    p = skip_ws(self.s, p + 1);
                    if self.at(p) == b']' {
                        p += 1;
                        Json::Array(Vec::new())
                    } else {
                        stack.push(Open::Array(Vec::new()));
                        continue 'value;
                    }
                }
                b'{' => {
                    if depth + stack.len() >= NESTING_LIMIT {
                        return None;
                    }
                    p = skip_ws(self.s, p + 1);
                    if self.at(p) == b'}' {
                        p += 1;
                        Json::Object(Vec::new())
                    } else {
                        let (key, np) = self.parse_member_key(p)?;
                        p = np;
                        stack.push(Open::Object(Vec::new(), key));
                        continue 'value;
                    }
                }
                _ => return None,
            };
            // A complete value: attach it to the innermost open container, closing containers
            // as long as their closing bracket follows.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Some((value, p));
                };
                p = skip_ws(self.s, p);
                match top {
                    Open::Array(items) => {
                        items.push(value);
                        match self.at(p) {
                            b',' => {
                                p = skip_ws(self.s, p + 1);
                                continue 'value;
                            }
                            b']' => {
                                p += 1;
                                let Some(Open::Array(items)) = stack.pop() else {
                                    return None;
                                };
                                value = Json::Array(items);
                            }
                            _ => return None,
                        }
                    }
                    Open::Object(members, key) => {
                        members.push((std::mem::take(key), value));
                        match self.at(p) {
                            b',' => {
                                let (k, np) = self.parse_member_key(skip_ws(self.s, p + 1))?;
                                *key = k;
                                p = np;
                                continue 'value;
                            }
                            b'}' => {
                                p += 1;
                                let Some(Open::Object(members, _)) = stack.pop() else {
                                    return None;
                                };
                                value = Json::Object(members);
                            }
                            _ => return None,
                        }
                    }
                }
            }
        }
    }

    /// `"key"` ws `:` ws; returns the key and the offset of the value.
    fn parse_member_key(&self, p: usize) -> Option<(Vec<u8>, usize)> {
        if self.at(p) != b'"' {
            return None;
        }
        let (key, p) = self.parse_string(p)?;
        let p = skip_ws(self.s, p);
        if self.at(p) != b':' {
            return None;
        }
        Some((key, skip_ws(self.s, p + 1)))
    }

    /// cJSON `parse_number`: at most 63 bytes of `[0-9+-eE.]`, then `strtod` on them.
    fn parse_number(&self, p: usize) -> Option<(f64, usize)> {
        let mut n = 0;
        while n < 63 {
            match self.s.get(p + n) {
                Some(b'0'..=b'9' | b'+' | b'-' | b'e' | b'E' | b'.') => n += 1,
                _ => break,
            }
        }
        let (d, used) = strtod_prefix(&self.s[p..p + n])?;
        Some((d, p + used))
    }

    /// cJSON `parse_string` at the opening quote; returns the decoded bytes (cut at the first
    /// NUL) and the offset after the closing quote.
    fn parse_string(&self, p: usize) -> Option<(Vec<u8>, usize)> {
        let mut out = Vec::new();
        let end = self.parse_string_into(p, &mut out)?;
        Some((out, end))
    }

    /// [`Parser::parse_string`], appending the decoded bytes to `out` (nothing is appended when
    /// it fails).
    fn parse_string_into(&self, p: usize, out: &mut Vec<u8>) -> Option<usize> {
        let s = self.s;
        if s.get(p) != Some(&b'"') {
            return None;
        }
        // Find the closing quote, skipping over escaped bytes.
        let mut end = p + 1;
        let mut escaped = false;
        loop {
            let off = quote_or_backslash(s.get(end..)?)?;
            end += off;
            if s[end] == b'"' {
                break;
            }
            escaped = true;
            end += 2;
        }
        if !escaped {
            // The common case: no escapes, one copy.
            let body = &s[p + 1..end];
            let body = match memchr::memchr(0, body) {
                Some(nul) => &body[..nul],
                None => body,
            };
            out.extend_from_slice(body);
            return Some(end + 1);
        }
        let start = out.len();
        out.reserve(end - p);
        let mut i = p + 1;
        while i < end {
            let c = s[i];
            if c != b'\\' {
                out.push(c);
                i += 1;
                continue;
            }
            let mut seq = 2;
            match s[i + 1] {
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'"' | b'\\' | b'/' => out.push(s[i + 1]),
                b'u' => match utf16_literal(&s[i..end], out) {
                    Some(n) => seq = n,
                    None => {
                        out.truncate(start);
                        return None;
                    }
                },
                _ => {
                    out.truncate(start);
                    return None;
                }
            }
            i += seq;
        }
        if let Some(nul) = memchr::memchr(0, &out[start..]) {
            out.truncate(start + nul);
        }
        Some(end + 1)
    }
}

/// The first `"` or `\\` in `s`. JSON keys and values are mostly short: eight bytes at a time
/// (SWAR) find the end of those sooner than the SIMD search, which takes over past 32 bytes.
#[inline]
fn quote_or_backslash(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i < 32 {
        let Some(w) = s.get(i..i + 8) else { break };
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let x = u64::from_le_bytes(b);
        let q = x ^ (ONES * b'"' as u64);
        let k = x ^ (ONES * b'\\' as u64);
        if (q.wrapping_sub(ONES) & !q | k.wrapping_sub(ONES) & !k) & HIGH != 0 {
            return w.iter().position(|&c| c == b'"' || c == b'\\').map(|j| i + j);
        }
        i += 8;
    }
    memchr::memchr2(b'"', b'\\', &s[i..]).map(|j| i + j)
}

/// cJSON `parse_hex4`: 0 as soon as one character is not a hex digit.
fn parse_hex4(h: &[u8]) -> u32 {
    let mut v = 0u32;
    for &c in &h[..4] {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return 0,
        };
        v = (v << 4) | u32::from(d);
    }
    v
}

/// cJSON `utf16_literal_to_utf8`. `lit` starts at the backslash and ends at the closing quote of
/// the string. Returns the number of input bytes used (6 or 12).
fn utf16_literal(lit: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    if lit.len() < 6 {
        return None;
    }
    let first = parse_hex4(&lit[2..]);
    if (0xDC00..=0xDFFF).contains(&first) {
        return None;
    }
    let (cp, used) = if (0xD800..=0xDBFF).contains(&first) {
        let second = lit.get(6..)?;
        if second.len() < 6 || second[0] != b'\\' || second[1] != b'u' {
            return None;
        }
        let low = parse_hex4(&second[2..]);
        if !(0xDC00..=0xDFFF).contains(&low) {
            return None;
        }
        (0x10000 + (((first & 0x3FF) << 10) | (low & 0x3FF)), 12)
    } else {
        (first, 6)
    };
    push_utf8(cp, out);
    Some(used)
}

/// UTF-8 encoding of any code point up to 0x10FFFF (surrogates are not rejected).
fn push_utf8(cp: u32, out: &mut Vec<u8>) {
    if cp < 0x80 {
        out.push(cp as u8);
    } else if cp < 0x800 {
        out.push(0xC0 | (cp >> 6) as u8);
        out.push(0x80 | (cp & 0x3F) as u8);
    } else if cp < 0x10000 {
        out.push(0xE0 | (cp >> 12) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3F) as u8);
        out.push(0x80 | (cp & 0x3F) as u8);
    } else {
        out.push(0xF0 | (cp >> 18) as u8);
        out.push(0x80 | ((cp >> 12) & 0x3F) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3F) as u8);
        out.push(0x80 | (cp & 0x3F) as u8);
    }
}

/// How many bytes of `b` `strtod` converts (`None`: none), for [`crate::server`].
pub(crate) fn strtod_len(b: &[u8]) -> Option<usize> {
    strtod_prefix(b).map(|(_, n)| n)
}

/// The longest prefix of `b` that C `strtod` converts (decimal forms only; the caller's character
/// set excludes the hex, `inf` and `nan` forms). Returns the value and the bytes used.
fn strtod_prefix(b: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        digits += j - frac_start;
        if digits > 0 {
            i = j;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    // The prefix is ASCII and matches Rust's float grammar, which is correctly rounded like glibc.
    let text = std::str::from_utf8(&b[..i]).ok()?;
    let d = text.parse::<f64>().ok()?;
    Some((d, i))
}

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

/// cJSON's `valueint` for a number: saturated to `[INT_MIN, INT_MAX]`, truncated toward zero.
/// (NaN gives `INT_MIN`, what x86 `cvttsd2si` gives for C's undefined `(int)NaN`.)
pub(crate) fn cjson_valueint(d: f64) -> i32 {
    if d >= i32::MAX as f64 {
        i32::MAX
    } else if d <= i32::MIN as f64 || d.is_nan() {
        i32::MIN
    } else {
        d as i32
    }
}

/// cJSON `print_number` text for `d`.
pub(crate) fn cjson_number(d: f64) -> String {
    if d.is_nan() || d.is_infinite() {
        return "null".to_string();
    }
    let vi = cjson_valueint(d);
    if d == vi as f64 {
        return vi.to_string();
    }
    let s15 = c_format_g(d, 15);
    let back = s15.parse::<f64>().unwrap_or(f64::NAN);
    let max = d.abs().max(back.abs());
    if (back - d).abs() <= max * f64::EPSILON {
        s15
    } else {
        c_format_g(d, 17)
    }
}

/// C `printf("%1.<prec>g", d)` for a finite `d` (glibc rounding: exact value, ties to even).
fn c_format_g(d: f64, prec: usize) -> String {
    let prec = prec.max(1);
    // "%.*e" with prec-1 decimals, in Rust's notation: "d.ddde<exp>".
    let e = format!("{:.*e}", prec - 1, d);
    let (mant, exp) = match e.split_once('e') {
        Some(x) => x,
        None => return e,
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: Vec<u8> = mant.bytes().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp >= -4 && exp < prec as i32 {
        // Fixed notation with prec-1-exp decimals: the same significant digits.
        let (int_part, frac_part): (Vec<u8>, Vec<u8>) = if exp >= 0 {
            let k = exp as usize + 1;
            (digits[..k].to_vec(), digits[k..].to_vec())
        } else {
            let mut f = vec![b'0'; (-exp - 1) as usize];
            f.extend_from_slice(&digits);
            (b"0".to_vec(), f)
        };
        out.push_str(&String::from_utf8_lossy(&int_part));
        let frac = trim_trailing_zeros(&frac_part);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(&String::from_utf8_lossy(frac));
        }
    } else {
        out.push(digits[0] as char);
        let frac = trim_trailing_zeros(&digits[1..]);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(&String::from_utf8_lossy(frac));
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    }
    out
}

fn trim_trailing_zeros(b: &[u8]) -> &[u8] {
    let mut n = b.len();
    while n > 0 && b[n - 1] == b'0' {
        n -= 1;
    }
    &b[..n]
}

/// C `printf("%f", d)` (full length, not truncated).
fn c_format_f(d: f64) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if d.is_infinite() {
        return if d < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    format!("{:.6}", d)
}

/// Wazuh JSON_Decoder scalar number formatting: `%i` of the saturated valueint when
/// `valuedouble == valueint`, else `%f` truncated to 63 bytes (`snprintf(buf, 64, ...)`).
pub(crate) fn wazuh_number(d: f64) -> String {
    let (mut s, _) = wazuh_number_full(d);
    s.truncate(63);
    s
}

/// The untruncated `%i`/`%f` text (its length is what `snprintf` returns).
fn wazuh_number_full(d: f64) -> (String, bool) {
    let vi = cjson_valueint(d);
    if vi as f64 == d {
        (vi.to_string(), true)
    } else {
        (c_format_f(d), false)
    }
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

/// Bytes `print_string_ptr` escapes: `"`, `\\` and the control characters.
static ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 32 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Whether any of the eight bytes of `x` is one [`write_json_string`] must look at: a control
/// byte (NUL included), `"` or `\\` (the classic SWAR byte tests; exact as a yes/no).
#[inline]
fn any_special(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x;
    let q = x ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q;
    let b = x ^ (ONES * b'\\' as u64);
    let backslash = b.wrapping_sub(ONES) & !b;
    (below_space | quote | backslash) & HIGH != 0
}

/// cJSON `print_string_ptr`: the bytes up to the first NUL, quoted and escaped. Runs of bytes
/// that need no escape are found eight at a time and copied whole (most of an alert's text).
pub(crate) fn write_json_string(s: &[u8], out: &mut Vec<u8>) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    let mut end = s.len();
    while i < s.len() {
        if let Some(w) = s.get(i..i + 8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            if !any_special(u64::from_le_bytes(b)) {
                i += 8;
                continue;
            }
        }
        let c = s[i];
        if !ESCAPED[c as usize] {
            i += 1;
            continue;
        }
        if c == 0 {
            // A C string ends at its first NUL.
            end = i;
            break;
        }
        out.extend_from_slice(&s[start..i]);
        i += 1;
        start = i;
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
            }
        }
    }
    out.extend_from_slice(&s[start..end]);
    out.push(b'"');
}

enum Frame<'a> {
    Array(&'a [Json], usize),
    Object(&'a [(Vec<u8>, Json)], usize),
}

fn push_tabs(out: &mut Vec<u8>, n: usize) {
    out.extend(std::iter::repeat_n(b'\t', n));
}

impl Json {
    /// `cJSON_PrintUnformatted`.
    pub fn write_unformatted(&self, out: &mut Vec<u8>) {
        self.write(out, false);
    }

    /// `cJSON_Print` (tabs and newlines): exactly what the JSON decoder stores for arrays.
    pub(crate) fn write_formatted(&self, out: &mut Vec<u8>) {
        self.write(out, true);
    }

    /// `cJSON_PrintUnformatted` into a new buffer.
    pub fn to_unformatted(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_unformatted(&mut v);
        v
    }

    /// `cJSON_Print` into a new buffer.
    pub fn to_formatted(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_formatted(&mut v);
        v
    }

    /// Writes a scalar, or opens a container and pushes its frame.
    fn open<'a>(&'a self, fmt: bool, out: &mut Vec<u8>, stack: &mut Vec<Frame<'a>>) {
        match self {
            Json::Null => out.extend_from_slice(b"null"),
            Json::Bool(true) => out.extend_from_slice(b"true"),
            Json::Bool(false) => out.extend_from_slice(b"false"),
            Json::Number(d) => out.extend_from_slice(cjson_number(*d).as_bytes()),
            Json::String(s) => write_json_string(s, out),
            Json::Array(items) => {
                out.push(b'[');
                stack.push(Frame::Array(items, 0));
            }
            Json::Object(members) => {
                out.push(b'{');
                if fmt {
                    out.push(b'\n');
                }
                stack.push(Frame::Object(members, 0));
            }
        }
    }

    fn write(&self, out: &mut Vec<u8>, fmt: bool) {
        let mut stack: Vec<Frame> = Vec::new();
        self.open(fmt, out, &mut stack);
        // cJSON's print depth = number of open containers.
        loop {
            let depth = stack.len();
            let Some(top) = stack.last_mut() else { return };
            match top {
                Frame::Array(items, i) => {
                    let items = *items;
                    if *i < items.len() {
                        if *i > 0 {
                            out.push(b',');
                            if fmt {
                                out.push(b' ');
                            }
                        }
                        let item = &items[*i];
                        *i += 1;
                        item.open(fmt, out, &mut stack);
                    } else {
                        out.push(b']');
                        stack.pop();
                    }
                }
                Frame::Object(members, i) => {
                    let members = *members;
                    if *i > 0 {
                        // Suffix of the previous member.
                        if *i < members.len() {
                            out.push(b',');
                        }
                        if fmt {
                            out.push(b'\n');
                        }
                    }
                    if *i < members.len() {
                        let (key, value) = &members[*i];
                        *i += 1;
                        if fmt {
                            push_tabs(out, depth);
                        }
                        write_json_string(key, out);
                        out.push(b':');
                        if fmt {
                            out.push(b'\t');
                        }
                        value.open(fmt, out, &mut stack);
                    } else {
                        if fmt {
                            push_tabs(out, depth - 1);
                        }
                        out.push(b'}');
                        stack.pop();
                    }
                }
            }
        }
    }

    /// `cJSON_GetObjectItem`: first member whose key equals `key` ignoring ASCII case.
    pub fn get_ci(&self, key: &[u8]) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// [`Json::get_ci`], mutably.
    pub fn get_ci_mut(&mut self, key: &[u8]) -> Option<&mut Json> {
        match self {
            Json::Object(m) => m.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `cJSON_GetObjectItemCaseSensitive`: first member whose key is exactly `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// [`Json::get`], mutably.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Json> {
        match self {
            Json::Object(m) => m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `cJSON_AddItemToObject`: appends a member (duplicates allowed). Returns false (and does
    /// nothing) if `self` is not an object.
    pub fn push_member(&mut self, key: &[u8], value: Json) -> bool {
        match self {
            Json::Object(m) => {
                m.push((key.to_vec(), value));
                true
            }
            _ => false,
        }
    }

    /// `cJSON_AddItemToArray`. Returns false if `self` is not an array.
    pub fn push_item(&mut self, value: Json) -> bool {
        match self {
            Json::Array(a) => {
                a.push(value);
                true
            }
            _ => false,
        }
    }

    /// The bytes of a string value.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value of a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(d) => Some(*d),
            _ => None,
        }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }

    /// An empty object (`cJSON_CreateObject`).
    pub fn new_object() -> Json {
        Json::Object(Vec::new())
    }

    /// A string value from bytes, cut at the first NUL like `cJSON_CreateString`.
    pub fn string(s: &[u8]) -> Json {
        Json::String(c_str(s).to_vec())
    }
}

// ---------------------------------------------------------------------------------------------
// JSON_Decoder flattening
// ---------------------------------------------------------------------------------------------

/// The JSON_Decoder flattening (`readJSON`): calls `emit(key, value)` for every leaf in document
/// order with Wazuh's exact value strings.
///
/// * A root that is not an object yields nothing (the root has no key).
/// * Keys: `parent.key` for nested members (dots in keys are not escaped).
/// * string → its bytes; `true`/`false`; `null` → `null` unless `null_discard`.
/// * number → [`wazuh_number`].
/// * object → recurse (an empty object yields nothing).
/// * array, default mode → cJSON's formatted print of the array (always emitted, `[]` too).
/// * array, `csv_arrays` → elements joined by `,` (strings raw, numbers as [`wazuh_number`],
///   `null` even when discarding, `true`/`false`; nested arrays/objects skipped without a comma);
///   a comma follows a handled element whenever *any* element follows, so a skipped last element
///   leaves a trailing comma. The 65536-byte `OS_MAXSTR` buffer limit empties the result, and an
///   empty result is not emitted. Quirk kept: a number whose `%f` text exceeds 63 bytes is cut to
///   63 bytes but the buffer offset advances by the full length, so nothing after it is visible.
///
/// Static-field capture (`fillData`) is the caller's job.
#[cfg(test)]
pub(crate) fn flatten(root: Json, null_discard: bool, csv_arrays: bool, emit: &mut dyn FnMut(&[u8], Vec<u8>)) {
    let Json::Object(members) = root else { return };
    // The tree is consumed, so string values move into the fields without a copy, and one
    // key buffer is reused: each level remembers the length of its prefix.
    let mut key: Vec<u8> = Vec::with_capacity(64);
    type Level = (std::vec::IntoIter<(Vec<u8>, Json)>, usize);
    let mut stack: Vec<Level> = vec![(members.into_iter(), 0)];
    while let Some((members, prefix_len)) = stack.last_mut() {
        let prefix_len = *prefix_len;
        let Some((k, v)) = members.next() else {
            stack.pop();
            continue;
        };
        key.truncate(prefix_len);
        if stack.len() > 1 {
            key.push(b'.');
        }
        key.extend_from_slice(c_str(&k));
        match v {
            Json::String(mut s) => {
                if let Some(n) = memchr::memchr(0, &s) {
                    s.truncate(n);
                }
                emit(&key, s)
            }
            Json::Number(d) => emit(&key, wazuh_number(d).into_bytes()),
            Json::Bool(true) => emit(&key, b"true".to_vec()),
            Json::Bool(false) => emit(&key, b"false".to_vec()),
            Json::Null => {
                if !null_discard {
                    emit(&key, b"null".to_vec())
                }
            }
            Json::Array(ref items) => {
                let value = if csv_arrays { csv_array(items) } else { v.to_formatted() };
                if !value.is_empty() {
                    emit(&key, value);
                }
            }
            Json::Object(m) => {
                let len = key.len();
                stack.push((m.into_iter(), len));
            }
        }
    }
}

/// [`parse_prefix`] then [`flatten`] in one pass, without building the tree (only arrays are
/// parsed into values, for their formatting): the leaves go to `out` as (dotted path, value).
/// All or nothing, as the two steps: on invalid JSON `out` is left as it was and `false`
/// returned; a root that is not an object gives no field (and `true`).
pub(crate) fn flatten_prefix(input: &[u8], null_discard: bool, csv_arrays: bool, out: &mut Fields) -> bool {
    let start = out.len();
    let ok = flatten_prefix_inner(input, null_discard, csv_arrays, out);
    if ok.is_none() {
        out.truncate(start);
    }
    ok.is_some()
}

fn flatten_prefix_inner(input: &[u8], null_discard: bool, csv_arrays: bool, out: &mut Fields) -> Option<()> {
    let s = c_str(input);
    let mut p = 0;
    if s.len() >= 4 && s.starts_with(b"\xEF\xBB\xBF") {
        p = 3;
    }
    p = skip_ws(s, p);
    let parser = Parser { s };
    if parser.at(p) != b'{' {
        // Valid JSON that is not an object gives nothing; invalid JSON fails.
        return parser.parse_value_at(p, 0).map(|_| ());
    }
    // The open objects: each the length of its key prefix.
    let mut stack: Vec<usize> = Vec::new();
    let mut key: Vec<u8> = Vec::with_capacity(64);
    p = skip_ws(s, p + 1);
    if parser.at(p) == b'}' {
        return Some(());
    }
    stack.push(0);
    'member: loop {
        // A member: "key" ws : ws value.
        let prefix = *stack.last()?;
        key.truncate(prefix);
        if stack.len() > 1 {
            key.push(b'.');
        }
        p = parser.parse_string_into(p, &mut key)?;
        p = skip_ws(s, p);
        if parser.at(p) != b':' {
            return None;
        }
        p = skip_ws(s, p + 1);
        match parser.at(p) {
            b'{' => {
                if stack.len() >= NESTING_LIMIT {
                    return None;
                }
                p = skip_ws(s, p + 1);
                if parser.at(p) != b'}' {
                    stack.push(key.len());
                    continue 'member;
                }
                p += 1;
            }
            b'"' => {
                let mut end = 0;
                if !out.push_with(&key, |buf| match parser.parse_string_into(p, buf) {
                    Some(e) => {
                        end = e;
                        true
                    }
                    None => false,
                }) {
                    return None;
                }
                p = end;
            }
            b'[' => {
                let (v, np) = parser.parse_value_at(p, stack.len())?;
                p = np;
                let Json::Array(items) = &v else { return None };
                let value = if csv_arrays { csv_array(items) } else { v.to_formatted() };
                if !value.is_empty() {
                    out.push(&key, &value);
                }
            }
            b'-' | b'0'..=b'9' => {
                let (d, np) = parser.parse_number(p)?;
                p = np;
                out.push(&key, wazuh_number(d).as_bytes());
            }
            b'n' if s[p..].starts_with(b"null") => {
                p += 4;
                if !null_discard {
                    out.push(&key, b"null");
                }
            }
            b't' if s[p..].starts_with(b"true") => {
                p += 4;
                out.push(&key, b"true");
            }
            b'f' if s[p..].starts_with(b"false") => {
                p += 5;
                out.push(&key, b"false");
            }
            _ => return None,
        }
        // After a value: more members, or the end of this object (and maybe of its parents).
        loop {
            p = skip_ws(s, p);
            match parser.at(p) {
                b',' => {
                    p = skip_ws(s, p + 1);
                    continue 'member;
                }
                b'}' => {
                    p += 1;
                    stack.pop();
                    if stack.is_empty() {
                        return Some(());
                    }
                }
                _ => return None,
            }
        }
    }
}

/// `readJSON`'s CSV rendering of an array (see [`flatten`]).
fn csv_array(items: &[Json]) -> Vec<u8> {
    let mut visible: Vec<u8> = Vec::new();
    // `n` is readJSON's write offset; once a cut number left a NUL behind, later writes land
    // after it and are invisible.
    let mut n = 0usize;
    let mut frozen = false;
    for (idx, item) in items.iter().enumerate() {
        let piece: Vec<u8>;
        let z: usize;
        match item {
            Json::String(s) => {
                piece = c_str(s).to_vec();
                z = piece.len();
            }
            Json::Number(d) => {
                let (full, _) = wazuh_number_full(*d);
                z = full.len();
                let mut p = full.into_bytes();
                p.truncate(63);
                piece = p;
            }
            Json::Null => {
                piece = b"null".to_vec();
                z = 4;
            }
            Json::Bool(true) => {
                piece = b"true".to_vec();
                z = 4;
            }
            Json::Bool(false) => {
                piece = b"false".to_vec();
                z = 5;
            }
            _ => continue,
        }
        if n + z < OS_MAXSTR {
            if !frozen {
                visible.extend_from_slice(&piece);
                if piece.len() < z {
                    frozen = true;
                }
            }
            n += z;
        } else {
            return Vec::new();
        }
        if n + 1 >= OS_MAXSTR {
            return Vec::new();
        } else if idx + 1 < items.len() {
            if !frozen {
                visible.push(b',');
            }
            n += 1;
        }
    }
    visible
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_output_escapes_as_cjson() {
        fn naive(s: &[u8]) -> Vec<u8> {
            let s = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
            let mut o = vec![b'"'];
            for &c in s {
                match c {
                    b'"' => o.extend_from_slice(b"\\\""),
                    b'\\' => o.extend_from_slice(b"\\\\"),
                    8 => o.extend_from_slice(b"\\b"),
                    12 => o.extend_from_slice(b"\\f"),
                    b'\n' => o.extend_from_slice(b"\\n"),
                    b'\r' => o.extend_from_slice(b"\\r"),
                    b'\t' => o.extend_from_slice(b"\\t"),
                    c if c < 32 => o.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
                    c => o.push(c),
                }
            }
            o.push(b'"');
            o
        }
        let mut x: u64 = 7;
        let alphabet = b"ab\"\\\x00\x01\x1f \x7f\x80\xff\n\t~!#";
        for n in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let s: Vec<u8> =
                (0..len).map(|j| alphabet[((x >> (j % 50)) as usize + j * 7 + n) % alphabet.len()]).collect();
            let mut got = Vec::new();
            write_json_string(&s, &mut got);
            assert_eq!(got, naive(&s), "{s:?}");
        }
        for b in 0..=255u8 {
            let s = [b'x', b'x', b'x', b, b'x', b'x', b'x', b'x', b'x'];
            let mut got = Vec::new();
            write_json_string(&s, &mut got);
            assert_eq!(got, naive(&s), "byte {b:#x}");
        }
    }

    /// The one-pass flattening against parse-then-flatten, on seeds and their byte mutations
    /// (invalid JSON, truncation, escapes, NULs, duplicate keys, deep nesting).
    #[test]
    fn one_pass_flattening_equals_parse_then_flatten() {
        fn reference(input: &[u8], nd: bool, csv: bool) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
            let root = parse_prefix(input)?;
            let mut v = Vec::new();
            flatten(root, nd, csv, &mut |k, val| v.push((k.to_vec(), val)));
            Some(v)
        }
        fn one_pass(input: &[u8], nd: bool, csv: bool) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
            let mut f = Fields::default();
            f.push(b"kept", b"1");
            let ok = flatten_prefix(input, nd, csv, &mut f);
            let v: Vec<_> = f.iter().skip(1).map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            assert_eq!(f.name(0), b"kept");
            if !ok {
                assert!(v.is_empty(), "a failed parse leaves nothing");
            }
            ok.then_some(v)
        }
        let seeds: Vec<Vec<u8>> = vec![
            br#"{"integration": "aws", "aws": {"log_info": {"s3bucket": "b"}, "n": 3000000000, "f": 1.5e3, "neg": -0.0, "arr": [1, "a", null, true, [2], {"x": 1}], "e": {}, "ea": [], "t": true, "nul": null, "s": "a\u0000b", "esc": "\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}, "srcip": "1.2.3.4", "user": "u", "dstuser": "", "aws": {"dup": 1}}"#.to_vec(),
            b"  \xEF\xBB\xBF{\"a\":1} trailing".to_vec(),
            b"[1,2]".to_vec(),
            b"\"str\"".to_vec(),
            b"{\"a\":{\"b\":{\"c\":[{\"d\":[1,2,{\"e\":\"f\"}]}]}}}".to_vec(),
            b"{\"k\\u0000x\":\"v\", \"\":\"empty key\", \"n\": 1e400, \"m\": -12345678901234567890}".to_vec(),
            b"{\"a\":1,}".to_vec(),
            b"{\"a\" : [ 1 , 2 ] , \"b\" :\t{ } }".to_vec(),
        ];
        let mut deep = Vec::new();
        for n in [998usize, 999, 1000, 1001] {
            let mut d = Vec::new();
            for _ in 0..n {
                d.extend_from_slice(b"{\"a\":");
            }
            d.extend_from_slice(b"[1]");
            d.extend(std::iter::repeat_n(b'}', n));
            deep.push(d);
        }
        let mut inputs: Vec<Vec<u8>> = seeds.iter().chain(&deep).cloned().collect();
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let mut m = seeds[(next() % seeds.len() as u64) as usize].clone();
            for _ in 0..1 + next() % 3 {
                let at = (next() % (m.len() as u64 + 1)) as usize;
                match next() % 5 {
                    0 if at < m.len() => {
                        m.remove(at);
                    }
                    1 => m.insert(at, b"{}[],:\"\\ 0-e.ntf\x00"[(next() % 17) as usize]),
                    2 => m.truncate(at),
                    3 if at < m.len() => {
                        let b = m[at];
                        m.insert(at, b);
                    }
                    _ => {
                        if at < m.len() {
                            m[at] = (next() % 256) as u8;
                        }
                    }
                }
            }
            inputs.push(m);
        }
        for input in &inputs {
            for (nd, csv) in [(false, false), (true, false), (false, true)] {
                assert_eq!(
                    one_pass(input, nd, csv),
                    reference(input, nd, csv),
                    "input {:?} null_discard {nd} csv {csv}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    fn p(s: &str) -> Json {
        match parse_prefix(s.as_bytes()) {
            Some(v) => v,
            None => panic!("parse failed: {s}"),
        }
    }

    fn un(s: &str) -> String {
        String::from_utf8_lossy(&p(s).to_unformatted()).into_owned()
    }

    fn fmt(s: &str) -> String {
        String::from_utf8_lossy(&p(s).to_formatted()).into_owned()
    }

    fn flat(s: &str, discard: bool, csv: bool) -> Vec<(String, String)> {
        let mut v = Vec::new();
        flatten(p(s), discard, csv, &mut |k, val| {
            v.push((String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(&val).into_owned()))
        });
        v
    }

    fn one(s: &str) -> String {
        let f = flat(s, false, false);
        assert_eq!(f.len(), 1, "{s}: {f:?}");
        f[0].1.clone()
    }

    fn one_csv(s: &str) -> Option<String> {
        let f = flat(s, false, true);
        f.into_iter().next().map(|x| x.1)
    }

    #[test]
    fn spec_number_table() {
        // decoding.md 6.2 "Number examples".
        for (json, stored) in [
            ("1", "1"),
            ("1.0", "1"),
            ("-0.0", "0"),
            ("1E2", "100"),
            ("1.5", "1.500000"),
            ("0.1", "0.100000"),
            ("1e-7", "0.000000"),
            ("2147483647", "2147483647"),
            ("2147483648", "2147483648.000000"),
            ("3000000000", "3000000000.000000"),
            ("-3000000000", "-3000000000.000000"),
            ("123456789012345678", "123456789012345680.000000"),
            ("-2147483648", "-2147483648"),
            ("-2147483649", "-2147483649.000000"),
            ("0.5", "0.500000"),
        ] {
            assert_eq!(one(&format!("{{\"n\":{json}}}")), stored, "{json}");
        }
        let big = one("{\"n\":1e300}");
        assert_eq!(big.len(), 63);
        assert_eq!(big, "100000000000000005250476025520442024870446858110815915491585411");
        assert_eq!(wazuh_number(1e300), big);
        // traps 17
        assert_eq!(wazuh_number(3e9), "3000000000.000000");
        assert_eq!(wazuh_number(f64::INFINITY), "inf");
        assert_eq!(wazuh_number(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn cjson_number_printing() {
        for (d, s) in [
            (1.0, "1"),
            (-0.0, "0"),
            (1.5, "1.5"),
            (3000000000.0, "3000000000"),
            (1e300, "1e+300"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.3"),
            (1e-7, "1e-07"),
            (0.0001, "0.0001"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1234567890123456.0, "1234567890123456"),
            (1e15, "1e+15"),
            (123456789012345.0, "123456789012345"),
            (2147483648.0, "2147483648"),
            (-2147483649.0, "-2147483649"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
            (f64::NEG_INFINITY, "null"),
            (2.5e-320, "2.49997216795671e-320"),
            (1.0 / 3.0, "0.33333333333333331"),
            (2.0 / 3.0, "0.66666666666666663"),
            (5e-324, "4.94065645841247e-324"),
            (1.7976931348623157e308, "1.79769313486232e+308"),
            (100000000000000000000.0, "1e+20"),
            (0.30000000000000004, "0.3"),
            (1.0000000000000002, "1"), // %1.15g reads back within DBL_EPSILON
            (0.7999999999999999, "0.8"),
            (-1.5, "-1.5"),
            (2147483647.5, "2147483647.5"),
        ] {
            assert_eq!(cjson_number(d), s, "{d:e}");
        }
        assert_eq!(cjson_number(9007199254740993.0), "9.00719925474099e+15");
        assert_eq!(cjson_number(0.1 + 0.7), "0.8");
        assert_eq!(cjson_number(1.2345678901234568e-5), "1.2345678901234568e-05");
    }

    #[test]
    fn spec_array_mode() {
        assert_eq!(
            one(r#"{"r":[{"ARN":"arn:1","accountId":"12"},{"ARN":"arn:2"}]}"#),
            "[{\n\t\t\"ARN\":\t\"arn:1\",\n\t\t\"accountId\":\t\"12\"\n\t}, {\n\t\t\"ARN\":\t\"arn:2\"\n\t}]"
        );
        assert_eq!(one(r#"{"n":[[1,2],["a"]]}"#), r#"[[1, 2], ["a"]]"#);
        assert_eq!(one(r#"{"n":[]}"#), "[]");
        assert_eq!(one(r#"{"n":[{}]}"#), "[{\n\t}]");
        assert_eq!(
            one(r#"{"n":[1.5, 3000000000, 1e300, -0.0, null, true, false]}"#),
            "[1.5, 3000000000, 1e+300, 0, null, true, false]"
        );
        assert_eq!(one(r#"{"n":["a\"b\\c/d\n\u0001\u00e9"]}"#), "[\"a\\\"b\\\\c/d\\n\\u0001\u{e9}\"]");
        assert_eq!(
            one(r#"{"n":[{"a":{"b":[{"c":{}}]},"d":[]}]}"#),
            "[{\n\t\t\"a\":\t{\n\t\t\t\"b\":\t[{\n\t\t\t\t\t\"c\":\t{\n\t\t\t\t\t}\n\t\t\t\t}]\n\t\t},\n\t\t\"d\":\t[]\n\t}]"
        );
    }

    #[test]
    fn aws_resources_and_tags() {
        let ev = r#"{"integration": "aws", "aws": {"requestParameters": {"userName": "bob", "tags": [{"key": "team", "value": "sec"}, {"key": "env", "value": "prod"}]}, "resources": [{"accountId": "123456789012", "type": "AWS::IAM::User", "ARN": "arn:aws:iam::123456789012:user/bob"}, {"accountId": "123456789012", "type": "AWS::IAM::Role", "ARN": "arn:aws:iam::123456789012:role/x"}], "readOnly": false, "webIdFederationData": {}, "mfa": "true", "count": 3, "ratio": 0.5}}"#;
        let f = flat(ev, false, false);
        let got: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("integration", "aws"),
                ("aws.requestParameters.userName", "bob"),
                ("aws.requestParameters.tags", "[{\n\t\t\"key\":\t\"team\",\n\t\t\"value\":\t\"sec\"\n\t}, {\n\t\t\"key\":\t\"env\",\n\t\t\"value\":\t\"prod\"\n\t}]"),
                ("aws.resources", "[{\n\t\t\"accountId\":\t\"123456789012\",\n\t\t\"type\":\t\"AWS::IAM::User\",\n\t\t\"ARN\":\t\"arn:aws:iam::123456789012:user/bob\"\n\t}, {\n\t\t\"accountId\":\t\"123456789012\",\n\t\t\"type\":\t\"AWS::IAM::Role\",\n\t\t\"ARN\":\t\"arn:aws:iam::123456789012:role/x\"\n\t}]"),
                ("aws.readOnly", "false"),
                ("aws.mfa", "true"),
                ("aws.count", "3"),
                ("aws.ratio", "0.500000"),
            ]
        );
        // The stored array text re-parses completely (the output step inserts it as JSON).
        let res = &f[3].1;
        let back = parse_complete(res.as_bytes()).expect("reparse");
        assert_eq!(back.to_unformatted(), br#"[{"accountId":"123456789012","type":"AWS::IAM::User","ARN":"arn:aws:iam::123456789012:user/bob"},{"accountId":"123456789012","type":"AWS::IAM::Role","ARN":"arn:aws:iam::123456789012:role/x"}]"#.to_vec());
    }

    #[test]
    fn spec_csv_mode() {
        assert_eq!(one_csv(r#"{"a":["a",{"x":1}]}"#).as_deref(), Some("a,"));
        assert_eq!(one_csv(r#"{"a":[{"x":1},"a"]}"#).as_deref(), Some("a"));
        assert_eq!(
            one_csv(r#"{"a":["x",1,1.5,null,true,false,[1],"y"]}"#).as_deref(),
            Some("x,1,1.500000,null,true,false,y")
        );
        assert_eq!(one_csv(r#"{"a":[]}"#), None);
        assert_eq!(one_csv(r#"{"a":[[1],{}]}"#), None);
        assert_eq!(one_csv(r#"{"a":[""]}"#), None);
        assert_eq!(one_csv(r#"{"a":["",""]}"#).as_deref(), Some(","));
        // null inside a CSV array is "null" even with json_null_field=discard.
        let f = flat(r#"{"a":[null],"b":null}"#, true, true);
        assert_eq!(f, vec![("a".to_string(), "null".to_string())]);
        // A %f longer than 63 bytes hides everything after it.
        assert_eq!(one_csv(r#"{"a":["x",1e300,"y"]}"#).map(|s| s.len()), Some(2 + 63));
        // Size limit: total must stay below OS_MAXSTR - 1 including the comma check.
        let s65533 = "a".repeat(65533);
        assert_eq!(one_csv(&format!(r#"{{"a":["{s65533}","b"]}}"#)).map(|s| s.len()), None);
        let s65532 = "a".repeat(65532);
        assert_eq!(one_csv(&format!(r#"{{"a":["{s65532}","b"]}}"#)).map(|s| s.len()), Some(65534));
        let s65534 = "a".repeat(65534);
        assert_eq!(one_csv(&format!(r#"{{"a":["{s65534}"]}}"#)).map(|s| s.len()), Some(65534));
        let s65535 = "a".repeat(65535);
        assert_eq!(one_csv(&format!(r#"{{"a":["{s65535}"]}}"#)), None);
    }

    #[test]
    fn spec_fill_data_example_values() {
        // decoding.md 6.2 example: the leaves flatten() reports (static capture is the caller's).
        let f = flat(
            r#"{"srcip":"1.1.1.1","user":"bob","dstuser":"alice","system_name":"s","systemname":"t","data":{"x":1},"a":{"srcip":"2.2.2.2"},"id":5,"status":null,"url":true}"#,
            false,
            false,
        );
        let got: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("srcip", "1.1.1.1"),
                ("user", "bob"),
                ("dstuser", "alice"),
                ("system_name", "s"),
                ("systemname", "t"),
                ("data.x", "1"),
                ("a.srcip", "2.2.2.2"),
                ("id", "5"),
                ("status", "null"),
                ("url", "true"),
            ]
        );
        let d = flat(r#"{"status":null,"x":{"y":null}}"#, true, false);
        assert!(d.is_empty());
    }

    #[test]
    fn flatten_misc() {
        // dots not escaped, duplicates kept, empty object gives nothing, non-object root nothing
        let f = flat(r#"{"a.b":1,"a":{"b":2},"a":{"b":3},"e":{}} trailing garbage"#, false, false);
        let got: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(got, vec![("a.b", "1"), ("a.b", "2"), ("a.b", "3")]);
        assert!(flat("[1,2]", false, false).is_empty());
        assert!(flat("\"x\"", false, false).is_empty());
        // \u0000 truncates values and keys
        let f = flat(r#"{"k\u0000ey":"ab\u0000cd","x":{"\u0000":"v"}}"#, false, false);
        let got: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(got, vec![("k", "ab"), ("x.", "v")]);
        let f = flat(r#"{"":"v"}"#, false, false);
        assert_eq!(f, vec![(String::new(), "v".to_string())]);
    }

    #[test]
    fn parse_tolerance() {
        assert!(parse_prefix(b"").is_none());
        assert!(parse_prefix(b"   ").is_none());
        assert_eq!(
            parse_prefix(b" \x01\t{\"a\":1} garbage"),
            Some(Json::Object(vec![(b"a".to_vec(), Json::Number(1.0))]))
        );
        assert!(parse_complete(b"{\"a\":1} garbage").is_none());
        assert!(parse_complete(b"{\"a\":1} \n\x01\x1f ").is_some());
        assert!(parse_complete(b"[1,2]\0garbage").is_some());
        assert!(parse_prefix(b"\xEF\xBB\xBF[1]").is_some());
        assert!(parse_prefix(b"\xEF\xBB\xBF1").is_some());
        assert!(parse_prefix(b"\xEF\xBB\xBF").is_none());
        assert!(parse_prefix(b"[1,]").is_none());
        assert!(parse_prefix(b"[,1]").is_none());
        assert!(parse_prefix(b"{\"a\":1,}").is_none());
        assert!(parse_prefix(b"{\"a\" 1}").is_none());
        assert!(parse_prefix(b"{a:1}").is_none());
        assert!(parse_prefix(b"[1 2]").is_none());
        assert!(parse_prefix(b"[1").is_none());
        assert!(parse_prefix(b"nul").is_none());
        assert!(parse_prefix(b"True").is_none());
        assert_eq!(parse_prefix(b"nullx"), Some(Json::Null));
        assert_eq!(parse_prefix(b"truefalse"), Some(Json::Bool(true)));
        // Numbers: strtod on the copied characters.
        assert_eq!(parse_prefix(b"-.5"), Some(Json::Number(-0.5)));
        assert_eq!(parse_prefix(b"1."), Some(Json::Number(1.0)));
        assert_eq!(parse_prefix(b"01"), Some(Json::Number(1.0)));
        assert_eq!(parse_prefix(b"1e999"), Some(Json::Number(f64::INFINITY)));
        assert_eq!(parse_prefix(b"1e-999"), Some(Json::Number(0.0)));
        assert_eq!(parse_prefix(b"[1.5e]").map(|_| ()), None);
        assert_eq!(parse_prefix(b"1.5e"), Some(Json::Number(1.5)));
        assert_eq!(parse_prefix(b"1.5e+"), Some(Json::Number(1.5)));
        assert_eq!(parse_prefix(b"[1e+2]"), Some(Json::Array(vec![Json::Number(100.0)])));
        assert!(parse_prefix(b"-").is_none());
        assert!(parse_prefix(b"-+1").is_none());
        assert!(parse_prefix(b"+1").is_none());
        assert!(parse_prefix(b".5").is_none());
        assert!(parse_prefix(b"[1+2]").is_none());
        assert_eq!(parse_prefix(b"1+2"), Some(Json::Number(1.0)));
        assert!(parse_prefix(b"[0x10]").is_none());
        // 63-character limit: the rest is left in the input.
        let long = "1".repeat(70);
        assert_eq!(parse_prefix(long.as_bytes()), Some(Json::Number("1".repeat(63).parse().unwrap_or(0.0))));
        assert!(parse_prefix(format!("[{long}]").as_bytes()).is_none());
        let ok = format!("[{}]", "1".repeat(63));
        assert!(parse_prefix(ok.as_bytes()).is_some());
        // Strings
        assert_eq!(parse_prefix(b"\"a\\u0000b\""), Some(Json::String(b"a".to_vec())));
        assert_eq!(parse_prefix(b"\"ab\\uZZZZcd\""), Some(Json::String(b"ab".to_vec())));
        assert_eq!(parse_prefix(br#""\u00e9\u20ac\ud83d\ude00""#), Some(Json::String("é€😀".as_bytes().to_vec())));
        assert_eq!(parse_prefix(br#""\uD83D\uDE00""#), Some(Json::String("😀".as_bytes().to_vec())));
        assert!(parse_prefix(br#""\ude00""#).is_none());
        assert!(parse_prefix(br#""\ud83d""#).is_none());
        assert!(parse_prefix(br#""\ud83dxx\ude00""#).is_none());
        assert!(parse_prefix(br#""\ud83d\u0041""#).is_none());
        assert!(parse_prefix(br#""\u12""#).is_none());
        assert!(parse_prefix(br#""\x""#).is_none());
        assert!(parse_prefix(b"\"abc").is_none());
        assert!(parse_prefix(b"\"abc\\\"").is_none());
        assert_eq!(
            parse_prefix(b"\"\\/\\b\\f\\n\\r\\t\\\"\\\\\""),
            Some(Json::String(b"/\x08\x0c\n\r\t\"\\".to_vec()))
        );
        assert_eq!(parse_prefix(b"\"\xff\x01\t\""), Some(Json::String(b"\xff\x01\t".to_vec())));
        // "\u1\"a" consumes the escaped quote as hex digits: NUL → truncated.
        assert_eq!(parse_prefix(br#""x\u1\"ab""#), Some(Json::String(b"x".to_vec())));
        // Duplicate keys kept in order.
        assert_eq!(un(r#"{"a":1,"A":2,"a":3}"#), r#"{"a":1,"A":2,"a":3}"#);
        assert_eq!(p(r#"{"a":1,"A":2,"a":3}"#).get_ci(b"A"), Some(&Json::Number(1.0)));
        assert_eq!(p(r#"{"a":1,"A":2,"a":3}"#).get(b"A"), Some(&Json::Number(2.0)));
    }

    #[test]
    fn nesting_limit() {
        let ok = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        assert!(parse_prefix(ok.as_bytes()).is_some());
        let bad = format!("{}{}", "[".repeat(1001), "]".repeat(1001));
        assert!(parse_prefix(bad.as_bytes()).is_none());
        let ok = format!("{}1{}", "{\"a\":[".repeat(500), "]}".repeat(500));
        let v = parse_prefix(ok.as_bytes());
        assert!(v.is_some());
        let v = v.unwrap_or(Json::Null);
        assert_eq!(v.to_unformatted(), ok.as_bytes());
        let f = v.to_formatted();
        assert!(parse_complete(&f) == Some(v));
        let bad = format!("{}1{}", "{\"a\":[".repeat(501), "]}".repeat(501));
        assert!(parse_prefix(bad.as_bytes()).is_none());
        // Far deeper than the limit fails without overflowing the stack.
        let deep = "[".repeat(1_000_000);
        assert!(parse_prefix(deep.as_bytes()).is_none());
        // Printing a very deep programmatic value does not recurse.
        let mut v = Json::Null;
        for _ in 0..100_000 {
            v = Json::Array(vec![v]);
        }
        let s = v.to_unformatted();
        assert_eq!(s.len(), 200_004);
        let s = v.to_formatted();
        assert_eq!(s.len(), 200_004);
        // Dropping it must not overflow either (iteratively).
        let mut cur = v;
        while let Json::Array(mut a) = cur {
            cur = a.pop().unwrap_or(Json::Null);
        }
    }

    #[test]
    fn printing() {
        assert_eq!(
            un(r#" { "a" : [ 1 , 2.5 , "x" ] , "b" : { } , "c" : [ ] , "d" : null } "#),
            r#"{"a":[1,2.5,"x"],"b":{},"c":[],"d":null}"#
        );
        assert_eq!(
            fmt(r#"{"a":[1,2.5,"x"],"b":{},"c":[],"d":{"e":true}}"#),
            "{\n\t\"a\":\t[1, 2.5, \"x\"],\n\t\"b\":\t{\n\t},\n\t\"c\":\t[],\n\t\"d\":\t{\n\t\t\"e\":\ttrue\n\t}\n}"
        );
        assert_eq!(fmt("{}"), "{\n}");
        assert_eq!(fmt("[]"), "[]");
        assert_eq!(fmt("\"x\""), "\"x\"");
        assert_eq!(fmt("[[{}]]"), "[[{\n\t\t}]]");
        // Escaping: only ", \ and < 0x20; '/' and >= 0x7f raw.
        let v = Json::String(b"\"\\/\x08\x0c\n\r\t\x01\x1f\x7f\xc3\xa9\xff".to_vec());
        assert_eq!(v.to_unformatted(), b"\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\xff\"".to_vec());
        // Programmatic NUL ends a string.
        assert_eq!(Json::String(b"ab\0cd".to_vec()).to_unformatted(), b"\"ab\"".to_vec());
        assert_eq!(Json::Object(vec![(b"k\0x".to_vec(), Json::Null)]).to_unformatted(), b"{\"k\":null}".to_vec());
        assert_eq!(Json::Number(f64::NAN).to_unformatted(), b"null".to_vec());
    }

    #[test]
    fn round_trips() {
        for s in [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e\"f\\g\n"},"e":[],"f":{},"g":-1.5e-07}"#,
            r#"[{"ARN":"arn:1","accountId":"12"},{"ARN":"arn:2"}]"#,
            r#"{"x":"\u0001\u001f/é","k":[[[[]]]],"n":[1e+300,3000000000,0.1,-2147483648]}"#,
        ] {
            let v = p(s);
            let u = v.to_unformatted();
            assert_eq!(parse_complete(&u).as_ref(), Some(&v));
            let f = v.to_formatted();
            assert_eq!(parse_complete(&f).as_ref(), Some(&v));
            // Re-printing is stable.
            assert_eq!(p(std::str::from_utf8(&u).unwrap_or("")).to_unformatted(), u);
        }
        assert_eq!(
            un(r#"{"g":-1.5e-07,"h":1E2,"i":123456789012345678}"#),
            r#"{"g":-1.5e-07,"h":100,"i":1.2345678901234568e+17}"#
        );
    }

    /// Tiny LCG; no extra dependencies.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn random_inputs_never_panic() {
        const ALPHABET: &[u8] = b"{}[],:\"\\/ \t\n0123456789+-.eEtruefalsnul\x01\x7f\xc3\xa9\xffu0dD8ab";
        let seeds: Vec<&[u8]> = vec![
            br#"{"a":[1,2,{"b":"c\u00e9"}],"d":-1.5e3,"e":null,"f":true}"#,
            br#"["x\ud83d\ude00",{"k":{}},[],1e400,"\u0000"]"#,
        ];
        let mut rng = Lcg(0x5eed);
        for round in 0..20_000 {
            let mut input: Vec<u8> = if round % 3 == 0 {
                (0..rng.below(60)).map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize]).collect()
            } else {
                let mut s = seeds[rng.below(seeds.len() as u64) as usize].to_vec();
                for _ in 0..1 + rng.below(4) {
                    let pos = rng.below(s.len() as u64 + 1) as usize;
                    match rng.below(3) {
                        0 if pos < s.len() => {
                            s.remove(pos);
                        }
                        1 if pos < s.len() => s[pos] = ALPHABET[rng.below(ALPHABET.len() as u64) as usize],
                        _ => s.insert(pos, ALPHABET[rng.below(ALPHABET.len() as u64) as usize]),
                    }
                }
                s
            };
            if round % 7 == 0 {
                input.push(0);
                input.push(b'x');
            }
            let _ = parse_complete(&input);
            if let Some(v) = parse_prefix(&input) {
                let u = v.to_unformatted();
                let f = v.to_formatted();
                // What we print always parses back to the same value (NaN/inf print as null).
                let back = parse_complete(&u);
                assert!(back.is_some(), "{:?}", String::from_utf8_lossy(&u));
                let back2 = parse_complete(&f);
                assert_eq!(back, back2);
                for csv in [false, true] {
                    for discard in [false, true] {
                        flatten(v.clone(), discard, csv, &mut |_, _| {});
                    }
                }
                let _ = v.get_ci(b"a");
            }
        }
        // Random doubles through every number printer.
        for _ in 0..20_000 {
            let bits = (rng.next() << 32) ^ rng.next() ^ (rng.next() << 50);
            let d = f64::from_bits(bits);
            let s = cjson_number(d);
            if d.is_finite() {
                let back: f64 = s.parse().unwrap_or(f64::NAN);
                assert!((back - d).abs() <= d.abs() * f64::EPSILON, "{d:e} -> {s}");
            }
            let w = wazuh_number(d);
            assert!(w.len() <= 63);
        }
    }
}
