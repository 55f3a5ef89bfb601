//! Python's `json.loads` / `json.dumps` / `repr`, as the AWS integration uses them, over a
//! value tree that borrows the log file's text.
//!
//! Why not [`crate::json`] or `serde_json`: `crate::json` is cJSON (what analysisd does *after*
//! receiving the event), and serde_json is neither; the integration's output is shaped by
//! CPython's `json` module, whose behaviour differs in ways that change bytes:
//!
//! * **Parsing** (`json.load`, C scanner of CPython 3.10): whitespace is ` \t\n\r` only; a UTF-8
//!   BOM is an error; `NaN`, `Infinity` and `-Infinity` are accepted; raw control characters in
//!   strings are errors (`strict=True`); integers keep every digit (arbitrary precision, but at
//!   most 4300 digits: CPython's `int_max_str_digits`); other numbers are IEEE doubles, correctly
//!   rounded; **duplicate keys keep the first key's position and the last value** (dict
//!   semantics); nothing but whitespace may follow the value.
//! * **Printing** (`json.dumps(msg, default=str)`): `", "` and `": "` separators, insertion order,
//!   `ensure_ascii` escaping ([`super::pystr::write_json`]), integers as their digits (`-0` → `0`),
//!   floats as `float.__repr__` (`1e-05`, `100.0`, `1e+16`), `NaN` / `Infinity` / `-Infinity`.
//! * **`str()` of a non-string** (the CloudTrail "dynamic fields"): Python `repr` of lists, dicts,
//!   `True`/`False`/`None`, ints and floats (`inf`, `nan`).
//!
//! Strings stay borrowed ([`PyStr`]); numbers that are integers stay as their source digits. The
//! only allocations are one `Vec` per array or object.

use super::pystr::{self, PyStr};

/// The deepest nesting of arrays and objects accepted (the whole file counts: `{"Records": [{`
/// is already 3). Deeper, CPython's C scanner raises `RecursionError` ("Unknown error
/// reading/parsing file"): its recursion limit of 1000 less the integration's own call frames.
/// 981 is the limit measured with the real integration under CPython 3.11 (a record nesting
/// 978 dicts passes, 979 fails); the Python 3.10 that Wazuh embeds may differ by a few levels.
/// It also bounds our own recursion (parse, reshape, print), about 1 MB of stack at most.
pub(crate) const MAX_DEPTH: usize = 981;

/// CPython's `sys.int_info.default_max_str_digits`: a longer integer literal is a `ValueError`.
const MAX_INT_DIGITS: usize = 4300;

/// A member of an object: key and value.
pub(crate) type Member<'a> = (PyStr<'a>, Value<'a>);

/// A JSON value as Python holds it after `json.load`, plus the strings the integration makes
/// (`Owned`).
///
/// `repr(u8)` keeps the payload 8-aligned after the tag: with Rust's default layout the tag
/// is packed into `PyStr`'s padding and every move of a value becomes overlapping unaligned
/// copies that stall on store forwarding (a third of the parse time).
#[derive(Debug, Clone, PartialEq)]
#[repr(u8)]
pub(crate) enum Value<'a> {
    /// `None`.
    Null,
    /// `True` / `False`.
    Bool(bool),
    /// An `int`: its source digits (`-?(0|[1-9][0-9]*)`).
    Int(&'a str),
    /// A `float`.
    Float(f64),
    /// A `str`, borrowed from the source.
    Str(PyStr<'a>),
    /// A `str` made by us (a `repr`, an account id): plain text, printed with `ensure_ascii`
    /// escaping.
    Owned(Box<str>),
    /// A `list`.
    Array(Vec<Value<'a>>),
    /// A `dict`: keys unique (Python equality), in insertion order.
    Object(Vec<Member<'a>>),
}

impl<'a> Value<'a> {
    /// `isinstance(v, dict)`.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }
}

/// Index of the member whose key equals `key`.
pub(crate) fn find(members: &[Member<'_>], key: &str) -> Option<usize> {
    members.iter().position(|(k, _)| k.is(key))
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Where and why `json.loads` failed (byte offset into the text). The messages are CPython's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// Byte offset of the failure.
    pub offset: usize,
    /// CPython's message, e.g. `Expecting value`.
    pub msg: &'static str,
}

/// `json.loads(text)`.
pub(crate) fn parse(text: &str) -> Result<Value<'_>, ParseError> {
    if text.starts_with('\u{feff}') {
        return Err(ParseError { offset: 0, msg: "Unexpected UTF-8 BOM (decode using utf-8-sig)" });
    }
    let mut p = Parser { s: text.as_bytes(), text, depth: 0, members: Vec::new(), items: Vec::new() };
    let start = p.ws(0);
    let end = p.value(start)?;
    let v = p.items.pop().expect("a parsed value");
    let end = p.ws(end);
    if end != p.s.len() {
        return Err(ParseError { offset: end, msg: "Extra data" });
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    depth: usize,
    /// Stack of the members of the objects being parsed (innermost last).
    members: Vec<Member<'a>>,
    /// Stack of the items of the arrays being parsed (innermost last).
    items: Vec<Value<'a>>,
}

/// SWAR: does any byte of `w` need the slow path of the string scanner (`"`, `\`, < 0x20)?
#[inline]
fn special_in_word(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_20 = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    (has_zero(w ^ (ONES * u64::from(b'"'))) | has_zero(w ^ (ONES * u64::from(b'\\'))) | below_20) != 0
}

impl<'a> Parser<'a> {
    fn err<T>(offset: usize, msg: &'static str) -> Result<T, ParseError> {
        Err(ParseError { offset, msg })
    }

    #[inline]
    fn ws(&self, mut p: usize) -> usize {
        while p < self.s.len() && matches!(self.s[p], b' ' | b'\t' | b'\n' | b'\r') {
            p += 1;
        }
        p
    }

    /// Parses the value at `p` (whitespace skipped) onto the value stack `self.items` and
    /// returns the offset after it. Values are built in place on the stacks rather than
    /// returned: moving a `Result<(Value, usize), _>` out of every call costs more than the
    /// parsing itself (unaligned overlapping copies that stall on store forwarding).
    fn value(&mut self, p: usize) -> Result<usize, ParseError> {
        let s = self.s;
        let (v, e) = match s.get(p) {
            Some(b'"') => {
                let (st, _, e) = self.string(p)?;
                (Value::Str(st), e)
            }
            Some(b'{') => return self.object(p),
            Some(b'[') => return self.array(p),
            Some(b'n') if s[p..].starts_with(b"null") => (Value::Null, p + 4),
            Some(b't') if s[p..].starts_with(b"true") => (Value::Bool(true), p + 4),
            Some(b'f') if s[p..].starts_with(b"false") => (Value::Bool(false), p + 5),
            Some(b'N') if s[p..].starts_with(b"NaN") => (Value::Float(f64::NAN), p + 3),
            Some(b'I') if s[p..].starts_with(b"Infinity") => (Value::Float(f64::INFINITY), p + 8),
            Some(b'-') if s[p..].starts_with(b"-Infinity") => (Value::Float(f64::NEG_INFINITY), p + 9),
            Some(b'-' | b'0'..=b'9') => self.number(p)?,
            _ => return Self::err(p, "Expecting value"),
        };
        self.items.push(v);
        Ok(e)
    }

    /// `_match_number_unicode`: `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, where a `.` or `e`
    /// not followed by what it needs is left for the caller (and fails there).
    fn number(&self, start: usize) -> Result<(Value<'a>, usize), ParseError> {
        let s = self.s;
        let digit = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
        let mut p = start;
        if s[p] == b'-' {
            p += 1;
        }
        if s.get(p) == Some(&b'0') {
            p += 1;
        } else if digit(p) {
            while digit(p) {
                p += 1;
            }
        } else {
            return Self::err(start, "Expecting value");
        }
        let int_end = p;
        let mut is_float = false;
        if s.get(p) == Some(&b'.') && digit(p + 1) {
            p += 2;
            while digit(p) {
                p += 1;
            }
            is_float = true;
        }
        if matches!(s.get(p), Some(b'e' | b'E')) {
            let mut q = p + 1;
            if matches!(s.get(q), Some(b'+' | b'-')) {
                q += 1;
            }
            if digit(q) {
                while digit(q) {
                    q += 1;
                }
                p = q;
                is_float = true;
            }
        }
        let text = &self.text[start..p];
        if is_float {
            // Rust's parser is correctly rounded, as CPython's `float()` is; overflow → inf.
            let f: f64 = text.parse().map_err(|_| ParseError { offset: start, msg: "Expecting value" })?;
            Ok((Value::Float(f), p))
        } else {
            let digits = int_end - start - usize::from(s[start] == b'-');
            if digits > MAX_INT_DIGITS {
                return Self::err(start, "Exceeds the limit (4300 digits) for integer string conversion");
            }
            Ok((Value::Int(text), p))
        }
    }

    /// `scanstring` (strict): the string starting at the quote at `q`, whether it holds an
    /// escape, and the offset after it.
    fn string(&self, q: usize) -> Result<(PyStr<'a>, bool, usize), ParseError> {
        let s = self.s;
        let start = q + 1;
        let mut p = start;
        let mut escaped = false;
        loop {
            // Skip 8 ordinary bytes at a time.
            while p + 8 <= s.len() {
                let w = u64::from_le_bytes(s[p..p + 8].try_into().expect("8 bytes"));
                if special_in_word(w) {
                    break;
                }
                p += 8;
            }
            while p < s.len() && s[p] >= 0x20 && s[p] != b'"' && s[p] != b'\\' {
                p += 1;
            }
            match s.get(p) {
                None => return Self::err(q, "Unterminated string starting at"),
                Some(b'"') => {
                    return Ok((PyStr(&self.text[start..p]), escaped, p + 1));
                }
                Some(b'\\') => {
                    escaped = true;
                    match s.get(p + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => p += 2,
                        Some(b'u') => {
                            let hex = s.get(p + 2..p + 6);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Self::err(p + 1, "Invalid \\uXXXX escape");
                            }
                            p += 6;
                        }
                        None => return Self::err(q, "Unterminated string starting at"),
                        Some(_) => return Self::err(p, "Invalid \\escape"),
                    }
                }
                Some(_) => return Self::err(p, "Invalid control character at"),
            }
        }
    }

    fn enter(&mut self, p: usize, array: bool) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Self::err(
                p,
                if array {
                    "maximum recursion depth exceeded while decoding a JSON array from a unicode string"
                } else {
                    "maximum recursion depth exceeded while decoding a JSON object from a unicode string"
                },
            );
        }
        Ok(())
    }

    fn array(&mut self, open: usize) -> Result<usize, ParseError> {
        self.enter(open, true)?;
        let mut p = self.ws(open + 1);
        if self.s.get(p) == Some(&b']') {
            self.depth -= 1;
            self.items.push(Value::Array(Vec::new()));
            return Ok(p + 1);
        }
        // The items land on the value stack; then they move into an exactly sized Vec.
        let base = self.items.len();
        loop {
            let e = self.value(p)?;
            p = self.ws(e);
            match self.s.get(p) {
                Some(b']') => break,
                Some(b',') => p = self.ws(p + 1),
                _ => return Self::err(p, "Expecting ',' delimiter"),
            }
        }
        self.depth -= 1;
        let items = self.items.split_off(base);
        self.items.push(Value::Array(items));
        Ok(p + 1)
    }

    fn object(&mut self, open: usize) -> Result<usize, ParseError> {
        self.enter(open, false)?;
        let mut p = self.ws(open + 1);
        if self.s.get(p) == Some(&b'}') {
            self.depth -= 1;
            self.items.push(Value::Object(Vec::new()));
            return Ok(p + 1);
        }
        // Members go on the member stack (a nested object is complete before its parent's next
        // member is pushed), then move into an exactly sized Vec.
        let base = self.members.len();
        let mut keys = KeySet::default();
        loop {
            if self.s.get(p) != Some(&b'"') {
                return Self::err(p, "Expecting property name enclosed in double quotes");
            }
            let (key, escaped, e) = self.string(p)?;
            p = self.ws(e);
            if self.s.get(p) != Some(&b':') {
                return Self::err(p, "Expecting ':' delimiter");
            }
            p = self.ws(p + 1);
            let e = self.value(p)?;
            let v = self.items.pop().expect("a parsed value");
            keys.insert(&mut self.members, base, key, escaped, v);
            p = self.ws(e);
            match self.s.get(p) {
                Some(b'}') => break,
                Some(b',') => p = self.ws(p + 1),
                _ => return Self::err(p, "Expecting ',' delimiter"),
            }
        }
        self.depth -= 1;
        let members = self.members.split_off(base);
        self.items.push(Value::Object(members));
        Ok(p + 1)
    }
}

/// Objects up to this size find duplicate keys by a scan (filtered by a Bloom mask); larger
/// ones build a hash index.
const LINEAR_KEYS: usize = 32;

/// The keys of the object being parsed, for Python's duplicate-key rule: a repeated key keeps
/// its first position and takes the new value.
#[derive(Default)]
struct KeySet {
    /// 256-bit Bloom mask of the unescaped keys seen: a key whose bit is clear is new.
    bloom: [u64; 4],
    /// An escaped key was seen: its bit says nothing (equal keys may be spelt differently).
    escaped: bool,
    /// Hash index (normalised key → position) once the object is large.
    index: Option<std::collections::HashMap<Vec<u8>, usize>>,
}

/// A bit (0..256) for the key bytes `b`: length, first and last 8 bytes mixed.
#[inline]
fn key_bit(b: &[u8]) -> usize {
    let n = b.len();
    let word = |s: &[u8]| {
        let mut w = [0u8; 8];
        w[..s.len()].copy_from_slice(s);
        u64::from_le_bytes(w)
    };
    let (head, tail) = if n >= 8 { (word(&b[..8]), word(&b[n - 8..])) } else { (word(b), 0) };
    ((head ^ tail.rotate_left(29) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
}

impl KeySet {
    /// Adds `key: v` to the object whose members are `members[base..]`.
    fn insert<'a>(&mut self, members: &mut Vec<Member<'a>>, base: usize, key: PyStr<'a>, escaped: bool, v: Value<'a>) {
        if let Some(ix) = &mut self.index {
            let len = members.len() - base;
            match ix.entry(key.wtf8()) {
                std::collections::hash_map::Entry::Occupied(e) => members[base + *e.get()].1 = v,
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(len);
                    members.push((key, v));
                }
            }
            return;
        }
        let bit = key_bit(key.0.as_bytes());
        let (word, mask) = (bit >> 6, 1u64 << (bit & 63));
        let maybe_dup = escaped || self.escaped || self.bloom[word] & mask != 0;
        let dup = if maybe_dup { members[base..].iter().position(|(k, _)| k.same(&key)) } else { None };
        match dup {
            Some(i) => members[base + i].1 = v,
            None => {
                self.bloom[word] |= mask;
                self.escaped |= escaped;
                members.push((key, v));
                if members.len() - base > LINEAR_KEYS {
                    self.index = Some(members[base..].iter().enumerate().map(|(i, (k, _))| (k.wtf8(), i)).collect());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// json.dumps
// ---------------------------------------------------------------------------------------------

/// Appends `json.dumps(v)` (default separators, `ensure_ascii`, `allow_nan`).
pub(crate) fn write_value(out: &mut Vec<u8>, v: &Value<'_>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(t) => out.extend_from_slice(int_text(t).as_bytes()),
        Value::Float(f) => write_float(out, *f, true),
        Value::Str(s) => pystr::write_json(out, s.0, true),
        Value::Owned(s) => pystr::write_json(out, s, false),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(members) => write_object(out, members),
    }
}

/// Appends `json.dumps` of a dict.
pub(crate) fn write_object(out: &mut Vec<u8>, members: &[Member<'_>]) {
    out.push(b'{');
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        pystr::write_json(out, k.0, true);
        out.extend_from_slice(b": ");
        write_value(out, v);
    }
    out.push(b'}');
}

/// `str(int(text))`: the digits as written, except that `-0` is `0`.
fn int_text(t: &str) -> &str {
    if t == "-0" {
        "0"
    } else {
        t
    }
}

/// Appends `float.__repr__(f)` (`json` mode: `NaN`, `Infinity`, `-Infinity`; else `nan`,
/// `inf`, `-inf`). `repr` is the shortest round-tripping digits, laid out by CPython's
/// `format_float_short`: exponent form when the decimal exponent is < -4 or ≥ 16 (`1e-05`,
/// `1.5e+16`), else positional with at least one fractional digit (`100.0`, `0.0001`).
fn write_float(out: &mut Vec<u8>, f: f64, json: bool) {
    if f.is_nan() {
        out.extend_from_slice(if json { b"NaN" } else { b"nan" });
        return;
    }
    if f.is_infinite() {
        let t: &[u8] = match (f > 0.0, json) {
            (true, true) => b"Infinity",
            (false, true) => b"-Infinity",
            (true, false) => b"inf",
            (false, false) => b"-inf",
        };
        out.extend_from_slice(t);
        return;
    }
    if f.is_sign_negative() {
        out.push(b'-');
    }
    if f == 0.0 {
        out.extend_from_slice(b"0.0");
        return;
    }
    // Shortest round-trip digits from Rust's formatter: "d.ddde-N" / "de N".
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("exponent");
    let digits: Vec<u8> = mant.bytes().filter(|&b| b != b'.').collect();
    let decpt = exp + 1; // value = 0.DIGITS × 10^decpt
    if !(-4 < decpt && decpt <= 16) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(a.to_string().as_bytes());
    } else if decpt <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', decpt.unsigned_abs() as usize));
        out.extend_from_slice(&digits);
    } else {
        let d = decpt as usize;
        if d >= digits.len() {
            out.extend_from_slice(&digits);
            out.extend(std::iter::repeat_n(b'0', d - digits.len()));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..d]);
            out.push(b'.');
            out.extend_from_slice(&digits[d..]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// str() / repr()
// ---------------------------------------------------------------------------------------------

/// `str(v)`, for a value that is not a `str` (those stay as they are): Python's `repr` of it.
pub(crate) fn py_str(v: &Value<'_>) -> String {
    let mut s = String::new();
    write_repr(&mut s, v);
    s
}

fn write_repr(out: &mut String, v: &Value<'_>) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Int(t) => out.push_str(int_text(t)),
        Value::Float(f) => {
            let mut b = Vec::new();
            write_float(&mut b, *f, false);
            out.push_str(std::str::from_utf8(&b).expect("ASCII"));
        }
        Value::Str(s) => pystr::write_repr(out, s.code_points()),
        Value::Owned(s) => pystr::write_repr(out, s.chars().map(u32::from)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                pystr::write_repr(out, k.code_points());
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) -> String {
        let v = parse(text).expect("parses");
        let mut out = Vec::new();
        write_value(&mut out, &v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dumps_like_python() {
        // json.dumps(json.loads(X)) in CPython.
        assert_eq!(
            roundtrip(r#" {"a" : [1,-0, 2.50,1E400,-1e-7, 1e16,123456789012345678901234567890]} "#),
            r#"{"a": [1, 0, 2.5, Infinity, -1e-07, 1e+16, 123456789012345678901234567890]}"#
        );
        assert_eq!(
            roundtrip(r#"[NaN,-Infinity,0.0,-0.0,100.0,0.0001,1234567890123456.0,5e-324]"#),
            "[NaN, -Infinity, 0.0, -0.0, 100.0, 0.0001, 1234567890123456.0, 5e-324]"
        );
        assert_eq!(roundtrip(r#"{"k":1,"x":2,"k":3}"#), r#"{"k": 3, "x": 2}"#);
        assert_eq!(roundtrip(r#"{"k":1,"\u006b":3}"#), r#"{"k": 3}"#);
        assert_eq!(roundtrip("{}"), "{}");
        assert_eq!(roundtrip("[[],{}]"), "[[], {}]");
    }

    #[test]
    fn many_duplicate_keys_use_the_index() {
        let mut text = String::from("{");
        for i in 0..100 {
            text.push_str(&format!("\"k{}\":{},", i % 40, i));
        }
        text.push_str("\"k0\":\"last\"}");
        let v = parse(&text).unwrap();
        let Value::Object(m) = v else { panic!() };
        assert_eq!(m.len(), 40);
        assert_eq!(m[0].1, Value::Str(PyStr::plain("last")));
        assert_eq!(m[39].1, Value::Int("79"));
    }

    #[test]
    fn errors_like_python() {
        let e = |t: &str| parse(t).unwrap_err();
        assert_eq!(e(""), ParseError { offset: 0, msg: "Expecting value" });
        assert_eq!(e("{\"a\":1,}").msg, "Expecting property name enclosed in double quotes");
        assert_eq!(e("[1,]").msg, "Expecting value");
        assert_eq!(e("{\"a\" 1}").msg, "Expecting ':' delimiter");
        assert_eq!(e("[1 2]"), ParseError { offset: 3, msg: "Expecting ',' delimiter" });
        assert_eq!(e("\"a\tb\"").msg, "Invalid control character at");
        assert_eq!(e(r#""\x""#).msg, "Invalid \\escape");
        assert_eq!(e(r#""\u12""#).msg, "Invalid \\uXXXX escape");
        assert_eq!(e("\"abc").msg, "Unterminated string starting at");
        assert_eq!(e("{} x"), ParseError { offset: 3, msg: "Extra data" });
        assert_eq!(e("01").msg, "Extra data");
        assert_eq!(e("1.").msg, "Extra data");
        assert_eq!(e("\u{feff}{}").offset, 0);
        assert!(parse(&"1".repeat(4300)).is_ok());
        assert!(parse(&"1".repeat(4301)).is_err());
        assert!(parse(&"[".repeat(MAX_DEPTH + 1)).is_err());
    }

    #[test]
    fn repr_like_python() {
        let r = |t: &str| py_str(&parse(t).unwrap());
        // str(json.loads(X)) in CPython.
        assert_eq!(
            r(r#"["a", 1, 2.0, true, null, {"k": "it's", "n": []}, 1e-5]"#),
            r#"['a', 1, 2.0, True, None, {'k': "it's", 'n': []}, 1e-05]"#
        );
        assert_eq!(r("[NaN, Infinity, -Infinity, -0]"), "[nan, inf, -inf, 0]");
        assert_eq!(r("false"), "False");
        assert_eq!(r("12.5"), "12.5");
    }
}
