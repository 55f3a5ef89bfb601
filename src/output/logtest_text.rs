//! The `wazuh-logtest` command line tool's text for one event, byte for byte.
//!
//! Upstream: `framework/scripts/wazuh_logtest.py` at v4.14.7 (`main`, `WazuhLogtest.process_log`,
//! `show_ossec_logtest_like`, `show_phase_info`, `show_last_ut_result`). Everything it prints goes
//! through Python `logging` with the format `%(message)s` to **stderr**, one record per line.
//!
//! What the daemon sends is printed by cJSON and read back by Python's `json.loads`, so the values
//! shown are *Python* objects rendered with `str()` / `repr()`:
//! * numbers: cJSON prints an integral int32 value as `%d` (Python `int`) and anything else with
//!   `%1.15g`/`%1.17g`; that text is a Python `int` when it has no `.`/`e` (`3000000000`), else a
//!   `float` shown with Python's shortest repr (`1.5`, `1e+300`, `1000000000000000.0`); NaN and
//!   infinities were printed `null` and show as `None`;
//! * `true`/`false`/`null` → `True`/`False`/`None`;
//! * lists → `['a', 1, True]`, dicts → `{'k': 'v'}` (duplicate keys: Python keeps the first
//!   position and the **last** value); strings inside use `repr()`: `'...'` unless the text has a
//!   `'` and no `"`, escapes `\\`, the quote, `\t \n \r`, `\xNN` for other controls and 0x7f, and
//!   `\xNN`/`\uNNNN`/`\UNNNNNNNN` for code points Python 3.10 (the interpreter Wazuh 4.14.7 ships,
//!   Unicode 13.0) does not consider printable;
//! * a top-level string is shown raw (`str()`), newlines and all.
//!
//! Layout of one event (from the empty line that follows the input; `\t` is a TAB byte):
//! ```text
//! <empty line>
//! [New session was created with token "<t>"]          (token differs from the previous one)
//! [** Wazuh-Logtest: <msg>  for each WARNING* message, then one empty line]
//! **Phase 1: Completed pre-decoding.
//! \tfull event: '<full_log>'                           (only when present: no_full_log drops it)
//! \ttimestamp/hostname/program_name, then the other predecoder keys sorted
//! <empty line>
//! **Phase 2: Completed decoding.
//! \tname, parent, then the other decoder keys sorted; then data flattened a.b.c and sorted
//! \t— or — \tNo decoder matched.                          (decoder is {})
//! [<empty line> **Rule debugging: then each rules_debug line, "\t\t" if it starts with '*' else "\t"]
//! [<empty line> **Phase 3: Completed filtering (rules). id, level, description, groups,
//!  firedtimes, then the other rule keys sorted, nested dicts flattened (mitre.id)]
//! [**Alert to be generated.]                             (alert is true; no empty line before it)
//! ```
//! Sorting is Python's code-point order, i.e. byte order of the UTF-8 keys (`Z` < `_` < `a`).
//! At each level the `show_first` keys are printed first **without** the prefix, and a dict value
//! among them is printed whole (`str(dict)`), not flattened.
//!
//! Failures (the text after the leading empty line; the event is then not shown and neither the
//! session token nor the `-U` triple changes):
//! * `codemsg < 0`: `** Wazuh-logtest error <codemsg>: ` followed by `\n\t<message>` per message;
//! * envelope `error != 0`: `** Wazuh-logtest error <error>: <message>`;
//! * a reply that is not valid UTF-8 (Python decodes it strictly before parsing):
//!   `** Wazuh-logtest error 'utf-8' codec can't decode byte 0xNN in position P: invalid start byte`
//!   with P the byte offset in the unformatted reply `{"error":0,"data":{...}}`.
//!
//! Traps: `full event` comes from `output.full_log` (absent with `no_full_log`), not from the input;
//! `data` is only shown when the decoder is non-empty; `**Alert to be generated.` follows Phase 3
//! directly; the `-U` triple is `[rule.id, str(rule.level), decoder.name]` of the **last successful**
//! event, and the exit code at EOF is the number of empty strings in the expected triple when it
//! matches, else 1.
//!
//! Not reproduced (the Python tool would crash with a traceback): an empty `rules_debug` string,
//! non-string messages, a reply without `output`/`token`, nesting deeper than Python's recursion
//! limit. Invalid UTF-8 inside a string given to [`py_str`] directly is shown as `\xNN` escapes.

use crate::json::{cjson_number, Json};

/// How the CLI dealt with one reply.
#[derive(Debug, Clone, PartialEq)]
pub enum EventOutcome {
    /// The phases were shown; the CLI now uses this session token and updates its `-U` triple.
    Shown {
        /// The reply's session token.
        token: Vec<u8>,
    },
    /// An error line was printed; token and `-U` triple stay as they were.
    Failed,
}

/// Text written to stderr for one processed event (from the leading empty line through
/// `**Alert to be generated.` if any), given the daemon reply's `data` object. Same as
/// [`render_event_in_session`] with no previous token.
pub fn render_event(data: &Json, out: &mut Vec<u8>) {
    let _ = render_event_in_session(b"", data, out);
}

/// [`render_event`] for the n-th event of a run: `prev_token` is the token of the last successful
/// reply (empty for the first event); a different token prints the "New session" warning.
pub fn render_event_in_session(prev_token: &[u8], data: &Json, out: &mut Vec<u8>) -> EventOutcome {
    let envelope = Json::Object(vec![(b"error".to_vec(), Json::Number(0.0)), (b"data".to_vec(), data.clone())]);
    render_reply(prev_token, &envelope, out)
}

/// The whole reply envelope `{"error":..,"message"?:..,"data":{..}}` as the CLI handles it
/// (`WazuhLogtest.process_log` + the body of `main`'s loop), including the leading empty line.
pub fn render_reply(prev_token: &[u8], reply: &Json, out: &mut Vec<u8>) -> EventOutcome {
    // logging.info('') before the request is sent.
    out.push(b'\n');
    // str(recv_packet, 'utf-8') is evaluated (for a debug message) before anything else.
    if let Some(msg) = py_utf8_error(&reply.to_unformatted()) {
        out.extend_from_slice(b"** Wazuh-logtest error ");
        out.extend_from_slice(msg.as_bytes());
        out.push(b'\n');
        return EventOutcome::Failed;
    }
    let dict = PyDict::new(reply);
    if let Some(err) = dict.get(b"error").filter(|e| py_truthy(e)) {
        out.extend_from_slice(b"** Wazuh-logtest error ");
        py_str(err, out);
        out.extend_from_slice(b": ");
        py_str(dict.get(b"message").unwrap_or(&Json::Null), out);
        out.push(b'\n');
        return EventOutcome::Failed;
    }
    let empty = Json::Object(Vec::new());
    let data = dict.get(b"data").unwrap_or(&empty);
    let d = PyDict::new(data);
    let codemsg = d.get(b"codemsg");
    if let Some(Json::Number(c)) = codemsg.filter(|c| matches!(c, Json::Number(x) if *x < 0.0)) {
        out.extend_from_slice(b"** Wazuh-logtest error ");
        py_str(&Json::Number(*c), out);
        out.extend_from_slice(b": ");
        if let Some(Json::Array(msgs)) = d.get(b"messages") {
            for m in msgs {
                out.extend_from_slice(b"\n\t");
                py_str(m, out);
            }
        }
        out.push(b'\n');
        return EventOutcome::Failed;
    }
    let token: Vec<u8> = match d.get(b"token") {
        Some(Json::String(t)) => t.clone(),
        Some(other) => {
            let mut t = Vec::new();
            py_str(other, &mut t);
            t
        }
        None => Vec::new(),
    };
    if !prev_token.is_empty() && prev_token != token.as_slice() {
        out.extend_from_slice(b"New session was created with token \"");
        out.extend_from_slice(&token);
        out.extend_from_slice(b"\"\n");
    }
    if let Some(Json::Array(msgs)) = d.get(b"messages") {
        let mut any = false;
        for m in msgs {
            let Json::String(s) = m else { continue };
            if s.starts_with(b"WARNING") {
                out.extend_from_slice(b"** Wazuh-Logtest: ");
                out.extend_from_slice(s);
                out.push(b'\n');
                any = true;
            }
        }
        if any {
            out.push(b'\n');
        }
    }
    show_ossec_logtest_like(&d, out);
    EventOutcome::Shown { token }
}

/// `show_ossec_logtest_like`.
fn show_ossec_logtest_like(d: &PyDict, out: &mut Vec<u8>) {
    let empty = Json::Object(Vec::new());
    let output = PyDict::new(d.get(b"output").unwrap_or(&empty));
    out.extend_from_slice(b"**Phase 1: Completed pre-decoding.\n");
    if let Some(full) = output.get(b"full_log") {
        out.extend_from_slice(b"\tfull event: '");
        py_str(full, out);
        out.extend_from_slice(b"'\n");
    }
    if let Some(pre) = output.get(b"predecoder") {
        show_phase_info(pre, &[b"timestamp", b"hostname", b"program_name"], out);
    }
    out.extend_from_slice(b"\n**Phase 2: Completed decoding.\n");
    match output.get(b"decoder") {
        Some(dec) if py_truthy(dec) => {
            show_phase_info(dec, &[b"name", b"parent"], out);
            if let Some(data) = output.get(b"data") {
                show_phase_info(data, &[], out);
            }
        }
        _ => out.extend_from_slice(b"\tNo decoder matched.\n"),
    }
    if let Some(dbg) = d.get(b"rules_debug") {
        out.extend_from_slice(b"\n**Rule debugging:\n");
        if let Json::Array(lines) = dbg {
            for line in lines {
                let mut s = Vec::new();
                py_str(line, &mut s);
                out.extend_from_slice(if s.first() == Some(&b'*') { b"\t\t" } else { b"\t" });
                out.extend_from_slice(&s);
                out.push(b'\n');
            }
        }
    }
    if let Some(rule) = output.get(b"rule") {
        out.extend_from_slice(b"\n**Phase 3: Completed filtering (rules).\n");
        show_phase_info(rule, &[b"id", b"level", b"description", b"groups", b"firedtimes"], out);
    }
    if d.get(b"alert").is_some_and(py_truthy) {
        out.extend_from_slice(b"**Alert to be generated.\n");
    }
}

/// `show_phase_info(phase_data, show_first, prefix)`: the `show_first` keys (unprefixed), then
/// every other key in sorted order, dicts flattened with `prefix + key + '.'`. Iterative.
fn show_phase_info(phase: &Json, show_first: &[&[u8]], out: &mut Vec<u8>) {
    let top = PyDict::new(phase);
    for f in show_first {
        if let Some(v) = top.get(f) {
            line(f, v, out);
        }
    }
    // Stack of (sorted remaining entries, next index, prefix).
    let first = top.sorted_except(show_first);
    type Level<'a> = (Vec<(&'a [u8], &'a Json)>, usize, Vec<u8>);
    let mut stack: Vec<Level> = vec![(first, 0, Vec::new())];
    while let Some((entries, i, prefix)) = stack.last_mut() {
        if *i >= entries.len() {
            stack.pop();
            continue;
        }
        let (k, v) = entries[*i];
        *i += 1;
        let mut name = prefix.clone();
        name.extend_from_slice(k);
        if let Json::Object(_) = v {
            name.push(b'.');
            let sub = PyDict::new(v).sorted_except(&[]);
            stack.push((sub, 0, name));
        } else {
            line(&name, v, out);
        }
    }
}

/// `logging.info("\t%s: '%s'", name, value)`.
fn line(name: &[u8], v: &Json, out: &mut Vec<u8>) {
    out.push(b'\t');
    out.extend_from_slice(name);
    out.extend_from_slice(b": '");
    py_str(v, out);
    out.extend_from_slice(b"'\n");
}

/// A JSON object as Python's `json.loads` builds the dict: unique keys in first-occurrence order,
/// each with its last value. Anything that is not an object is an empty dict here.
struct PyDict<'a> {
    entries: Vec<(&'a [u8], &'a Json)>,
}

impl<'a> PyDict<'a> {
    fn new(v: &'a Json) -> PyDict<'a> {
        let mut entries: Vec<(&'a [u8], &'a Json)> = Vec::new();
        if let Json::Object(members) = v {
            let mut index: std::collections::HashMap<&'a [u8], usize> = std::collections::HashMap::new();
            for (k, val) in members {
                match index.get(k.as_slice()) {
                    Some(&i) => entries[i].1 = val,
                    None => {
                        index.insert(k.as_slice(), entries.len());
                        entries.push((k.as_slice(), val));
                    }
                }
            }
        }
        PyDict { entries }
    }

    fn get(&self, key: &[u8]) -> Option<&'a Json> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// The entries whose key is not in `skip`, sorted by key (code-point order = UTF-8 byte order).
    fn sorted_except(&self, skip: &[&[u8]]) -> Vec<(&'a [u8], &'a Json)> {
        let mut v: Vec<(&'a [u8], &'a Json)> =
            self.entries.iter().copied().filter(|(k, _)| !skip.contains(k)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
}

/// Python truthiness of the value `json.loads` gives.
fn py_truthy(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(d) => {
            // What Python reads back from cJSON's text: null (None) is false, 0 / 0.0 false.
            let s = cjson_number(*d);
            s != "null" && s.parse::<f64>().map(|x| x != 0.0).unwrap_or(true)
        }
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(m) => !m.is_empty(),
    }
}

// ---------------------------------------------------------------------------------------------
// -U unit test
// ---------------------------------------------------------------------------------------------

/// The -U triple of one event's output: `[rule.id, str(rule.level), decoder.name]` with `""` for
/// missing parts (`process_log`).
pub fn unit_triple(data: &Json) -> [Vec<u8>; 3] {
    let mut t: [Vec<u8>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let d = PyDict::new(data);
    let Some(output) = d.get(b"output") else { return t };
    let output = PyDict::new(output);
    if let Some(rule) = output.get(b"rule") {
        let rule = PyDict::new(rule);
        if let Some(id) = rule.get(b"id") {
            py_str(id, &mut t[0]);
        }
        if let Some(level) = rule.get(b"level") {
            py_str(level, &mut t[1]);
        }
    }
    if let Some(name) = output.get(b"decoder").filter(|d| py_truthy(d)).and_then(|dec| PyDict::new(dec).get(b"name")) {
        py_str(name, &mut t[2]);
    }
    t
}

/// `show_last_ut_result`: an empty line, then `Unit test OK` or
/// `Unit test FAIL. Expected ['r', 'l', 'd'] , Result ['r', 'l', 'd']`.
pub fn unit_test_line(expected: &[Vec<u8>; 3], got: &[Vec<u8>; 3], out: &mut Vec<u8>) {
    out.push(b'\n');
    if expected == got {
        out.extend_from_slice(b"Unit test OK\n");
    } else {
        out.extend_from_slice(b"Unit test FAIL. Expected ");
        py_str_list(expected, out);
        out.extend_from_slice(b" , Result ");
        py_str_list(got, out);
        out.push(b'\n');
    }
}

/// Exit status at end of input with `-U`: the number of empty strings in the expected triple when
/// the last successful event's triple equals it, else 1.
pub fn unit_test_exit_code(expected: &[Vec<u8>; 3], last: &[Vec<u8>; 3]) -> i32 {
    if expected == last {
        expected.iter().filter(|s| s.is_empty()).count() as i32
    } else {
        1
    }
}

fn py_str_list(items: &[Vec<u8>; 3], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        py_repr_bytes(s, out);
    }
    out.push(b']');
}

// ---------------------------------------------------------------------------------------------
// Python str() / repr()
// ---------------------------------------------------------------------------------------------

/// Python `str()` of the value `json.loads` makes of this JSON (as cJSON prints it): strings raw,
/// everything else as [`py_repr`].
pub(crate) fn py_str(v: &Json, out: &mut Vec<u8>) {
    match v {
        Json::String(s) => out.extend_from_slice(s),
        _ => py_repr(v, out),
    }
}

enum ReprFrame<'a> {
    List(&'a [Json], usize),
    Dict(Vec<(&'a [u8], &'a Json)>, usize),
}

/// Python `repr()` of the value `json.loads` makes of this JSON. Iterative.
pub(crate) fn py_repr(v: &Json, out: &mut Vec<u8>) {
    let mut stack: Vec<ReprFrame> = Vec::new();
    repr_open(v, out, &mut stack);
    while let Some(top) = stack.last_mut() {
        match top {
            ReprFrame::List(items, i) => {
                let items = *items;
                if *i < items.len() {
                    if *i > 0 {
                        out.extend_from_slice(b", ");
                    }
                    let item = &items[*i];
                    *i += 1;
                    repr_open(item, out, &mut stack);
                } else {
                    out.push(b']');
                    stack.pop();
                }
            }
            ReprFrame::Dict(entries, i) => {
                if *i < entries.len() {
                    if *i > 0 {
                        out.extend_from_slice(b", ");
                    }
                    let (k, val) = entries[*i];
                    *i += 1;
                    py_repr_bytes(k, out);
                    out.extend_from_slice(b": ");
                    repr_open(val, out, &mut stack);
                } else {
                    out.push(b'}');
                    stack.pop();
                }
            }
        }
    }
}

fn repr_open<'a>(v: &'a Json, out: &mut Vec<u8>, stack: &mut Vec<ReprFrame<'a>>) {
    match v {
        Json::Null => out.extend_from_slice(b"None"),
        Json::Bool(true) => out.extend_from_slice(b"True"),
        Json::Bool(false) => out.extend_from_slice(b"False"),
        Json::Number(d) => py_number(*d, out),
        Json::String(s) => py_repr_bytes(s, out),
        Json::Array(items) => {
            out.push(b'[');
            stack.push(ReprFrame::List(items, 0));
        }
        Json::Object(_) => {
            out.push(b'{');
            stack.push(ReprFrame::Dict(PyDict::new(v).entries, 0));
        }
    }
}

/// Python's view of a cJSON-printed number: `int` when the text has no `.`/`e`, else `float`
/// (Python repr), `None` for `null` (NaN, infinities).
fn py_number(d: f64, out: &mut Vec<u8>) {
    let text = cjson_number(d);
    if text == "null" {
        out.extend_from_slice(b"None");
    } else if text.bytes().any(|c| c == b'.' || c == b'e' || c == b'E') {
        let x: f64 = text.parse().unwrap_or(d);
        out.extend_from_slice(py_float_repr(x).as_bytes());
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// Python `repr(float)`: shortest round-trip digits; exponent notation when the decimal point
/// position is <= -4 or > 16; `.0` added to integral values.
pub(crate) fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits too: "d.ddde<exp>". When the value lies
    // exactly halfway between two shortest candidates Rust rounds the last digit up while
    // Python's dtoa rounds half to even: prefer the correctly rounded (ties-to-even) string of the
    // same length whenever it reads back as the same double.
    let mut e = format!("{:e}", x);
    let n = e.split('e').next().map_or(1, |m| m.bytes().filter(u8::is_ascii_digit).count());
    let exact = format!("{:.*e}", n.saturating_sub(1), x);
    if exact != e && exact.parse::<f64>().ok() == Some(x) {
        e = exact;
    }
    let (mant, exp) = e.split_once('e').unwrap_or((e.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: Vec<u8> = mant.bytes().filter(|c| c.is_ascii_digit()).collect();
    let decpt = exp + 1;
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let ds = String::from_utf8_lossy(&digits).into_owned();
    if decpt <= -4 || decpt > 16 {
        s.push_str(&ds[..1]);
        if ds.len() > 1 {
            s.push('.');
            s.push_str(&ds[1..]);
        }
        s.push('e');
        s.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            s.push('0');
        }
        s.push_str(&a.to_string());
    } else if decpt <= 0 {
        s.push_str("0.");
        for _ in 0..(-decpt) {
            s.push('0');
        }
        s.push_str(&ds);
    } else if decpt as usize >= ds.len() {
        s.push_str(&ds);
        for _ in 0..(decpt as usize - ds.len()) {
            s.push('0');
        }
        s.push_str(".0");
    } else {
        s.push_str(&ds[..decpt as usize]);
        s.push('.');
        s.push_str(&ds[decpt as usize..]);
    }
    s
}

/// Python `repr(str)` of UTF-8 bytes.
pub(crate) fn py_repr_bytes(s: &[u8], out: &mut Vec<u8>) {
    let has_single = s.contains(&b'\'');
    let has_double = s.contains(&b'"');
    let quote = if has_single && !has_double { b'"' } else { b'\'' };
    out.push(quote);
    let mut i = 0;
    while i < s.len() {
        let (cp, len) = match decode_utf8(&s[i..]) {
            Some(x) => x,
            None => {
                // Not reachable through the CLI (it rejects invalid UTF-8 first).
                push_hex_escape(out, b'x', u32::from(s[i]), 2);
                i += 1;
                continue;
            }
        };
        let c = cp;
        if c == u32::from(quote) || c == u32::from(b'\\') {
            out.push(b'\\');
            out.push(c as u8);
        } else if c == u32::from(b'\t') {
            out.extend_from_slice(b"\\t");
        } else if c == u32::from(b'\n') {
            out.extend_from_slice(b"\\n");
        } else if c == u32::from(b'\r') {
            out.extend_from_slice(b"\\r");
        } else if c < 0x20 || c == 0x7f {
            push_hex_escape(out, b'x', c, 2);
        } else if c < 0x7f {
            out.push(c as u8);
        } else if py_printable(c) {
            out.extend_from_slice(&s[i..i + len]);
        } else if c <= 0xff {
            push_hex_escape(out, b'x', c, 2);
        } else if c <= 0xffff {
            push_hex_escape(out, b'u', c, 4);
        } else {
            push_hex_escape(out, b'U', c, 8);
        }
        i += len;
    }
    out.push(quote);
}

fn push_hex_escape(out: &mut Vec<u8>, kind: u8, c: u32, width: usize) {
    out.push(b'\\');
    out.push(kind);
    out.extend_from_slice(format!("{:0width$x}", c, width = width).as_bytes());
}

/// One strictly valid UTF-8 character at the start of `s`: (code point, length).
fn decode_utf8(s: &[u8]) -> Option<(u32, usize)> {
    let b0 = *s.first()?;
    let len = match b0 {
        0x00..=0x7f => return Some((u32::from(b0), 1)),
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let chunk = s.get(..len)?;
    let c = std::str::from_utf8(chunk).ok()?.chars().next()?;
    Some((u32::from(c), len))
}

fn py_printable(c: u32) -> bool {
    PY_NON_PRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_err()
}

/// The message of the `UnicodeDecodeError` Python's strict UTF-8 decoder raises for `b`, if any:
/// `'utf-8' codec can't decode byte 0xNN in position P: <reason>` (or `bytes in position P-Q`).
pub(crate) fn py_utf8_error(b: &[u8]) -> Option<String> {
    let n = b.len();
    let cont = |x: u8| (0x80..=0xbf).contains(&x);
    let mut i = 0;
    while i < n {
        let c = b[i];
        if c < 0x80 {
            i += 1;
            continue;
        }
        // (reason, end) of an error starting at i, or the sequence length.
        let need = match c {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => return Some(utf8_msg(b, i, i + 1, "invalid start byte")),
        };
        for k in 1..need {
            let Some(&x) = b.get(i + k) else {
                return Some(utf8_msg(b, i, n, "unexpected end of data"));
            };
            let ok = if k == 1 {
                match c {
                    0xe0 => (0xa0..=0xbf).contains(&x),
                    0xed => (0x80..=0x9f).contains(&x),
                    0xf0 => (0x90..=0xbf).contains(&x),
                    0xf4 => (0x80..=0x8f).contains(&x),
                    _ => cont(x),
                }
            } else {
                cont(x)
            };
            if !ok {
                return Some(utf8_msg(b, i, i + k, "invalid continuation byte"));
            }
        }
        i += need;
    }
    None
}

fn utf8_msg(b: &[u8], start: usize, end: usize, reason: &str) -> String {
    if end - start <= 1 {
        format!("'utf-8' codec can't decode byte 0x{:02x} in position {}: {}", b[start], start, reason)
    } else {
        format!("'utf-8' codec can't decode bytes in position {}-{}: {}", start, end - 1, reason)
    }
}

/// Code points >= 0x80 that Python 3.10.13 (Unicode 13.0.0) does not consider printable
/// (`str.isprintable()` is false): categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than space.
/// Generated with `chr(cp).isprintable()`; sorted, non-overlapping, inclusive ranges.
const PY_NON_PRINTABLE: &[(u32, u32)] = &[
    (0x80, 0xA0),
    (0xAD, 0xAD),
    (0x378, 0x379),
    (0x380, 0x383),
    (0x38B, 0x38B),
    (0x38D, 0x38D),
    (0x3A2, 0x3A2),
    (0x530, 0x530),
    (0x557, 0x558),
    (0x58B, 0x58C),
    (0x590, 0x590),
    (0x5C8, 0x5CF),
    (0x5EB, 0x5EE),
    (0x5F5, 0x605),
    (0x61C, 0x61D),
    (0x6DD, 0x6DD),
    (0x70E, 0x70F),
    (0x74B, 0x74C),
    (0x7B2, 0x7BF),
    (0x7FB, 0x7FC),
    (0x82E, 0x82F),
    (0x83F, 0x83F),
    (0x85C, 0x85D),
    (0x85F, 0x85F),
    (0x86B, 0x89F),
    (0x8B5, 0x8B5),
    (0x8C8, 0x8D2),
    (0x8E2, 0x8E2),
    (0x984, 0x984),
    (0x98D, 0x98E),
    (0x991, 0x992),
    (0x9A9, 0x9A9),
    (0x9B1, 0x9B1),
    (0x9B3, 0x9B5),
    (0x9BA, 0x9BB),
    (0x9C5, 0x9C6),
    (0x9C9, 0x9CA),
    (0x9CF, 0x9D6),
    (0x9D8, 0x9DB),
    (0x9DE, 0x9DE),
    (0x9E4, 0x9E5),
    (0x9FF, 0xA00),
    (0xA04, 0xA04),
    (0xA0B, 0xA0E),
    (0xA11, 0xA12),
    (0xA29, 0xA29),
    (0xA31, 0xA31),
    (0xA34, 0xA34),
    (0xA37, 0xA37),
    (0xA3A, 0xA3B),
    (0xA3D, 0xA3D),
    (0xA43, 0xA46),
    (0xA49, 0xA4A),
    (0xA4E, 0xA50),
    (0xA52, 0xA58),
    (0xA5D, 0xA5D),
    (0xA5F, 0xA65),
    (0xA77, 0xA80),
    (0xA84, 0xA84),
    (0xA8E, 0xA8E),
    (0xA92, 0xA92),
    (0xAA9, 0xAA9),
    (0xAB1, 0xAB1),
    (0xAB4, 0xAB4),
    (0xABA, 0xABB),
    (0xAC6, 0xAC6),
    (0xACA, 0xACA),
    (0xACE, 0xACF),
    (0xAD1, 0xADF),
    (0xAE4, 0xAE5),
    (0xAF2, 0xAF8),
    (0xB00, 0xB00),
    (0xB04, 0xB04),
    (0xB0D, 0xB0E),
    (0xB11, 0xB12),
    (0xB29, 0xB29),
    (0xB31, 0xB31),
    (0xB34, 0xB34),
    (0xB3A, 0xB3B),
    (0xB45, 0xB46),
    (0xB49, 0xB4A),
    (0xB4E, 0xB54),
    (0xB58, 0xB5B),
    (0xB5E, 0xB5E),
    (0xB64, 0xB65),
    (0xB78, 0xB81),
    (0xB84, 0xB84),
    (0xB8B, 0xB8D),
    (0xB91, 0xB91),
    (0xB96, 0xB98),
    (0xB9B, 0xB9B),
    (0xB9D, 0xB9D),
    (0xBA0, 0xBA2),
    (0xBA5, 0xBA7),
    (0xBAB, 0xBAD),
    (0xBBA, 0xBBD),
    (0xBC3, 0xBC5),
    (0xBC9, 0xBC9),
    (0xBCE, 0xBCF),
    (0xBD1, 0xBD6),
    (0xBD8, 0xBE5),
    (0xBFB, 0xBFF),
    (0xC0D, 0xC0D),
    (0xC11, 0xC11),
    (0xC29, 0xC29),
    (0xC3A, 0xC3C),
    (0xC45, 0xC45),
    (0xC49, 0xC49),
    (0xC4E, 0xC54),
    (0xC57, 0xC57),
    (0xC5B, 0xC5F),
    (0xC64, 0xC65),
    (0xC70, 0xC76),
    (0xC8D, 0xC8D),
    (0xC91, 0xC91),
    (0xCA9, 0xCA9),
    (0xCB4, 0xCB4),
    (0xCBA, 0xCBB),
    (0xCC5, 0xCC5),
    (0xCC9, 0xCC9),
    (0xCCE, 0xCD4),
    (0xCD7, 0xCDD),
    (0xCDF, 0xCDF),
    (0xCE4, 0xCE5),
    (0xCF0, 0xCF0),
    (0xCF3, 0xCFF),
    (0xD0D, 0xD0D),
    (0xD11, 0xD11),
    (0xD45, 0xD45),
    (0xD49, 0xD49),
    (0xD50, 0xD53),
    (0xD64, 0xD65),
    (0xD80, 0xD80),
    (0xD84, 0xD84),
    (0xD97, 0xD99),
    (0xDB2, 0xDB2),
    (0xDBC, 0xDBC),
    (0xDBE, 0xDBF),
    (0xDC7, 0xDC9),
    (0xDCB, 0xDCE),
    (0xDD5, 0xDD5),
    (0xDD7, 0xDD7),
    (0xDE0, 0xDE5),
    (0xDF0, 0xDF1),
    (0xDF5, 0xE00),
    (0xE3B, 0xE3E),
    (0xE5C, 0xE80),
    (0xE83, 0xE83),
    (0xE85, 0xE85),
    (0xE8B, 0xE8B),
    (0xEA4, 0xEA4),
    (0xEA6, 0xEA6),
    (0xEBE, 0xEBF),
    (0xEC5, 0xEC5),
    (0xEC7, 0xEC7),
    (0xECE, 0xECF),
    (0xEDA, 0xEDB),
    (0xEE0, 0xEFF),
    (0xF48, 0xF48),
    (0xF6D, 0xF70),
    (0xF98, 0xF98),
    (0xFBD, 0xFBD),
    (0xFCD, 0xFCD),
    (0xFDB, 0xFFF),
    (0x10C6, 0x10C6),
    (0x10C8, 0x10CC),
    (0x10CE, 0x10CF),
    (0x1249, 0x1249),
    (0x124E, 0x124F),
    (0x1257, 0x1257),
    (0x1259, 0x1259),
    (0x125E, 0x125F),
    (0x1289, 0x1289),
    (0x128E, 0x128F),
    (0x12B1, 0x12B1),
    (0x12B6, 0x12B7),
    (0x12BF, 0x12BF),
    (0x12C1, 0x12C1),
    (0x12C6, 0x12C7),
    (0x12D7, 0x12D7),
    (0x1311, 0x1311),
    (0x1316, 0x1317),
    (0x135B, 0x135C),
    (0x137D, 0x137F),
    (0x139A, 0x139F),
    (0x13F6, 0x13F7),
    (0x13FE, 0x13FF),
    (0x1680, 0x1680),
    (0x169D, 0x169F),
    (0x16F9, 0x16FF),
    (0x170D, 0x170D),
    (0x1715, 0x171F),
    (0x1737, 0x173F),
    (0x1754, 0x175F),
    (0x176D, 0x176D),
    (0x1771, 0x1771),
    (0x1774, 0x177F),
    (0x17DE, 0x17DF),
    (0x17EA, 0x17EF),
    (0x17FA, 0x17FF),
    (0x180E, 0x180F),
    (0x181A, 0x181F),
    (0x1879, 0x187F),
    (0x18AB, 0x18AF),
    (0x18F6, 0x18FF),
    (0x191F, 0x191F),
    (0x192C, 0x192F),
    (0x193C, 0x193F),
    (0x1941, 0x1943),
    (0x196E, 0x196F),
    (0x1975, 0x197F),
    (0x19AC, 0x19AF),
    (0x19CA, 0x19CF),
    (0x19DB, 0x19DD),
    (0x1A1C, 0x1A1D),
    (0x1A5F, 0x1A5F),
    (0x1A7D, 0x1A7E),
    (0x1A8A, 0x1A8F),
    (0x1A9A, 0x1A9F),
    (0x1AAE, 0x1AAF),
    (0x1AC1, 0x1AFF),
    (0x1B4C, 0x1B4F),
    (0x1B7D, 0x1B7F),
    (0x1BF4, 0x1BFB),
    (0x1C38, 0x1C3A),
    (0x1C4A, 0x1C4C),
    (0x1C89, 0x1C8F),
    (0x1CBB, 0x1CBC),
    (0x1CC8, 0x1CCF),
    (0x1CFB, 0x1CFF),
    (0x1DFA, 0x1DFA),
    (0x1F16, 0x1F17),
    (0x1F1E, 0x1F1F),
    (0x1F46, 0x1F47),
    (0x1F4E, 0x1F4F),
    (0x1F58, 0x1F58),
    (0x1F5A, 0x1F5A),
    (0x1F5C, 0x1F5C),
    (0x1F5E, 0x1F5E),
    (0x1F7E, 0x1F7F),
    (0x1FB5, 0x1FB5),
    (0x1FC5, 0x1FC5),
    (0x1FD4, 0x1FD5),
    (0x1FDC, 0x1FDC),
    (0x1FF0, 0x1FF1),
    (0x1FF5, 0x1FF5),
    (0x1FFF, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x206F),
    (0x2072, 0x2073),
    (0x208F, 0x208F),
    (0x209D, 0x209F),
    (0x20C0, 0x20CF),
    (0x20F1, 0x20FF),
    (0x218C, 0x218F),
    (0x2427, 0x243F),
    (0x244B, 0x245F),
    (0x2B74, 0x2B75),
    (0x2B96, 0x2B96),
    (0x2C2F, 0x2C2F),
    (0x2C5F, 0x2C5F),
    (0x2CF4, 0x2CF8),
    (0x2D26, 0x2D26),
    (0x2D28, 0x2D2C),
    (0x2D2E, 0x2D2F),
    (0x2D68, 0x2D6E),
    (0x2D71, 0x2D7E),
    (0x2D97, 0x2D9F),
    (0x2DA7, 0x2DA7),
    (0x2DAF, 0x2DAF),
    (0x2DB7, 0x2DB7),
    (0x2DBF, 0x2DBF),
    (0x2DC7, 0x2DC7),
    (0x2DCF, 0x2DCF),
    (0x2DD7, 0x2DD7),
    (0x2DDF, 0x2DDF),
    (0x2E53, 0x2E7F),
    (0x2E9A, 0x2E9A),
    (0x2EF4, 0x2EFF),
    (0x2FD6, 0x2FEF),
    (0x2FFC, 0x3000),
    (0x3040, 0x3040),
    (0x3097, 0x3098),
    (0x3100, 0x3104),
    (0x3130, 0x3130),
    (0x318F, 0x318F),
    (0x31E4, 0x31EF),
    (0x321F, 0x321F),
    (0x9FFD, 0x9FFF),
    (0xA48D, 0xA48F),
    (0xA4C7, 0xA4CF),
    (0xA62C, 0xA63F),
    (0xA6F8, 0xA6FF),
    (0xA7C0, 0xA7C1),
    (0xA7CB, 0xA7F4),
    (0xA82D, 0xA82F),
    (0xA83A, 0xA83F),
    (0xA878, 0xA87F),
    (0xA8C6, 0xA8CD),
    (0xA8DA, 0xA8DF),
    (0xA954, 0xA95E),
    (0xA97D, 0xA97F),
    (0xA9CE, 0xA9CE),
    (0xA9DA, 0xA9DD),
    (0xA9FF, 0xA9FF),
    (0xAA37, 0xAA3F),
    (0xAA4E, 0xAA4F),
    (0xAA5A, 0xAA5B),
    (0xAAC3, 0xAADA),
    (0xAAF7, 0xAB00),
    (0xAB07, 0xAB08),
    (0xAB0F, 0xAB10),
    (0xAB17, 0xAB1F),
    (0xAB27, 0xAB27),
    (0xAB2F, 0xAB2F),
    (0xAB6C, 0xAB6F),
    (0xABEE, 0xABEF),
    (0xABFA, 0xABFF),
    (0xD7A4, 0xD7AF),
    (0xD7C7, 0xD7CA),
    (0xD7FC, 0xF8FF),
    (0xFA6E, 0xFA6F),
    (0xFADA, 0xFAFF),
    (0xFB07, 0xFB12),
    (0xFB18, 0xFB1C),
    (0xFB37, 0xFB37),
    (0xFB3D, 0xFB3D),
    (0xFB3F, 0xFB3F),
    (0xFB42, 0xFB42),
    (0xFB45, 0xFB45),
    (0xFBC2, 0xFBD2),
    (0xFD40, 0xFD4F),
    (0xFD90, 0xFD91),
    (0xFDC8, 0xFDEF),
    (0xFDFE, 0xFDFF),
    (0xFE1A, 0xFE1F),
    (0xFE53, 0xFE53),
    (0xFE67, 0xFE67),
    (0xFE6C, 0xFE6F),
    (0xFE75, 0xFE75),
    (0xFEFD, 0xFF00),
    (0xFFBF, 0xFFC1),
    (0xFFC8, 0xFFC9),
    (0xFFD0, 0xFFD1),
    (0xFFD8, 0xFFD9),
    (0xFFDD, 0xFFDF),
    (0xFFE7, 0xFFE7),
    (0xFFEF, 0xFFFB),
    (0xFFFE, 0xFFFF),
    (0x1000C, 0x1000C),
    (0x10027, 0x10027),
    (0x1003B, 0x1003B),
    (0x1003E, 0x1003E),
    (0x1004E, 0x1004F),
    (0x1005E, 0x1007F),
    (0x100FB, 0x100FF),
    (0x10103, 0x10106),
    (0x10134, 0x10136),
    (0x1018F, 0x1018F),
    (0x1019D, 0x1019F),
    (0x101A1, 0x101CF),
    (0x101FE, 0x1027F),
    (0x1029D, 0x1029F),
    (0x102D1, 0x102DF),
    (0x102FC, 0x102FF),
    (0x10324, 0x1032C),
    (0x1034B, 0x1034F),
    (0x1037B, 0x1037F),
    (0x1039E, 0x1039E),
    (0x103C4, 0x103C7),
    (0x103D6, 0x103FF),
    (0x1049E, 0x1049F),
    (0x104AA, 0x104AF),
    (0x104D4, 0x104D7),
    (0x104FC, 0x104FF),
    (0x10528, 0x1052F),
    (0x10564, 0x1056E),
    (0x10570, 0x105FF),
    (0x10737, 0x1073F),
    (0x10756, 0x1075F),
    (0x10768, 0x107FF),
    (0x10806, 0x10807),
    (0x10809, 0x10809),
    (0x10836, 0x10836),
    (0x10839, 0x1083B),
    (0x1083D, 0x1083E),
    (0x10856, 0x10856),
    (0x1089F, 0x108A6),
    (0x108B0, 0x108DF),
    (0x108F3, 0x108F3),
    (0x108F6, 0x108FA),
    (0x1091C, 0x1091E),
    (0x1093A, 0x1093E),
    (0x10940, 0x1097F),
    (0x109B8, 0x109BB),
    (0x109D0, 0x109D1),
    (0x10A04, 0x10A04),
    (0x10A07, 0x10A0B),
    (0x10A14, 0x10A14),
    (0x10A18, 0x10A18),
    (0x10A36, 0x10A37),
    (0x10A3B, 0x10A3E),
    (0x10A49, 0x10A4F),
    (0x10A59, 0x10A5F),
    (0x10AA0, 0x10ABF),
    (0x10AE7, 0x10AEA),
    (0x10AF7, 0x10AFF),
    (0x10B36, 0x10B38),
    (0x10B56, 0x10B57),
    (0x10B73, 0x10B77),
    (0x10B92, 0x10B98),
    (0x10B9D, 0x10BA8),
    (0x10BB0, 0x10BFF),
    (0x10C49, 0x10C7F),
    (0x10CB3, 0x10CBF),
    (0x10CF3, 0x10CF9),
    (0x10D28, 0x10D2F),
    (0x10D3A, 0x10E5F),
    (0x10E7F, 0x10E7F),
    (0x10EAA, 0x10EAA),
    (0x10EAE, 0x10EAF),
    (0x10EB2, 0x10EFF),
    (0x10F28, 0x10F2F),
    (0x10F5A, 0x10FAF),
    (0x10FCC, 0x10FDF),
    (0x10FF7, 0x10FFF),
    (0x1104E, 0x11051),
    (0x11070, 0x1107E),
    (0x110BD, 0x110BD),
    (0x110C2, 0x110CF),
    (0x110E9, 0x110EF),
    (0x110FA, 0x110FF),
    (0x11135, 0x11135),
    (0x11148, 0x1114F),
    (0x11177, 0x1117F),
    (0x111E0, 0x111E0),
    (0x111F5, 0x111FF),
    (0x11212, 0x11212),
    (0x1123F, 0x1127F),
    (0x11287, 0x11287),
    (0x11289, 0x11289),
    (0x1128E, 0x1128E),
    (0x1129E, 0x1129E),
    (0x112AA, 0x112AF),
    (0x112EB, 0x112EF),
    (0x112FA, 0x112FF),
    (0x11304, 0x11304),
    (0x1130D, 0x1130E),
    (0x11311, 0x11312),
    (0x11329, 0x11329),
    (0x11331, 0x11331),
    (0x11334, 0x11334),
    (0x1133A, 0x1133A),
    (0x11345, 0x11346),
    (0x11349, 0x1134A),
    (0x1134E, 0x1134F),
    (0x11351, 0x11356),
    (0x11358, 0x1135C),
    (0x11364, 0x11365),
    (0x1136D, 0x1136F),
    (0x11375, 0x113FF),
    (0x1145C, 0x1145C),
    (0x11462, 0x1147F),
    (0x114C8, 0x114CF),
    (0x114DA, 0x1157F),
    (0x115B6, 0x115B7),
    (0x115DE, 0x115FF),
    (0x11645, 0x1164F),
    (0x1165A, 0x1165F),
    (0x1166D, 0x1167F),
    (0x116B9, 0x116BF),
    (0x116CA, 0x116FF),
    (0x1171B, 0x1171C),
    (0x1172C, 0x1172F),
    (0x11740, 0x117FF),
    (0x1183C, 0x1189F),
    (0x118F3, 0x118FE),
    (0x11907, 0x11908),
    (0x1190A, 0x1190B),
    (0x11914, 0x11914),
    (0x11917, 0x11917),
    (0x11936, 0x11936),
    (0x11939, 0x1193A),
    (0x11947, 0x1194F),
    (0x1195A, 0x1199F),
    (0x119A8, 0x119A9),
    (0x119D8, 0x119D9),
    (0x119E5, 0x119FF),
    (0x11A48, 0x11A4F),
    (0x11AA3, 0x11ABF),
    (0x11AF9, 0x11BFF),
    (0x11C09, 0x11C09),
    (0x11C37, 0x11C37),
    (0x11C46, 0x11C4F),
    (0x11C6D, 0x11C6F),
    (0x11C90, 0x11C91),
    (0x11CA8, 0x11CA8),
    (0x11CB7, 0x11CFF),
    (0x11D07, 0x11D07),
    (0x11D0A, 0x11D0A),
    (0x11D37, 0x11D39),
    (0x11D3B, 0x11D3B),
    (0x11D3E, 0x11D3E),
    (0x11D48, 0x11D4F),
    (0x11D5A, 0x11D5F),
    (0x11D66, 0x11D66),
    (0x11D69, 0x11D69),
    (0x11D8F, 0x11D8F),
    (0x11D92, 0x11D92),
    (0x11D99, 0x11D9F),
    (0x11DAA, 0x11EDF),
    (0x11EF9, 0x11FAF),
    (0x11FB1, 0x11FBF),
    (0x11FF2, 0x11FFE),
    (0x1239A, 0x123FF),
    (0x1246F, 0x1246F),
    (0x12475, 0x1247F),
    (0x12544, 0x12FFF),
    (0x1342F, 0x143FF),
    (0x14647, 0x167FF),
    (0x16A39, 0x16A3F),
    (0x16A5F, 0x16A5F),
    (0x16A6A, 0x16A6D),
    (0x16A70, 0x16ACF),
    (0x16AEE, 0x16AEF),
    (0x16AF6, 0x16AFF),
    (0x16B46, 0x16B4F),
    (0x16B5A, 0x16B5A),
    (0x16B62, 0x16B62),
    (0x16B78, 0x16B7C),
    (0x16B90, 0x16E3F),
    (0x16E9B, 0x16EFF),
    (0x16F4B, 0x16F4E),
    (0x16F88, 0x16F8E),
    (0x16FA0, 0x16FDF),
    (0x16FE5, 0x16FEF),
    (0x16FF2, 0x16FFF),
    (0x187F8, 0x187FF),
    (0x18CD6, 0x18CFF),
    (0x18D09, 0x1AFFF),
    (0x1B11F, 0x1B14F),
    (0x1B153, 0x1B163),
    (0x1B168, 0x1B16F),
    (0x1B2FC, 0x1BBFF),
    (0x1BC6B, 0x1BC6F),
    (0x1BC7D, 0x1BC7F),
    (0x1BC89, 0x1BC8F),
    (0x1BC9A, 0x1BC9B),
    (0x1BCA0, 0x1CFFF),
    (0x1D0F6, 0x1D0FF),
    (0x1D127, 0x1D128),
    (0x1D173, 0x1D17A),
    (0x1D1E9, 0x1D1FF),
    (0x1D246, 0x1D2DF),
    (0x1D2F4, 0x1D2FF),
    (0x1D357, 0x1D35F),
    (0x1D379, 0x1D3FF),
    (0x1D455, 0x1D455),
    (0x1D49D, 0x1D49D),
    (0x1D4A0, 0x1D4A1),
    (0x1D4A3, 0x1D4A4),
    (0x1D4A7, 0x1D4A8),
    (0x1D4AD, 0x1D4AD),
    (0x1D4BA, 0x1D4BA),
    (0x1D4BC, 0x1D4BC),
    (0x1D4C4, 0x1D4C4),
    (0x1D506, 0x1D506),
    (0x1D50B, 0x1D50C),
    (0x1D515, 0x1D515),
    (0x1D51D, 0x1D51D),
    (0x1D53A, 0x1D53A),
    (0x1D53F, 0x1D53F),
    (0x1D545, 0x1D545),
    (0x1D547, 0x1D549),
    (0x1D551, 0x1D551),
    (0x1D6A6, 0x1D6A7),
    (0x1D7CC, 0x1D7CD),
    (0x1DA8C, 0x1DA9A),
    (0x1DAA0, 0x1DAA0),
    (0x1DAB0, 0x1DFFF),
    (0x1E007, 0x1E007),
    (0x1E019, 0x1E01A),
    (0x1E022, 0x1E022),
    (0x1E025, 0x1E025),
    (0x1E02B, 0x1E0FF),
    (0x1E12D, 0x1E12F),
    (0x1E13E, 0x1E13F),
    (0x1E14A, 0x1E14D),
    (0x1E150, 0x1E2BF),
    (0x1E2FA, 0x1E2FE),
    (0x1E300, 0x1E7FF),
    (0x1E8C5, 0x1E8C6),
    (0x1E8D7, 0x1E8FF),
    (0x1E94C, 0x1E94F),
    (0x1E95A, 0x1E95D),
    (0x1E960, 0x1EC70),
    (0x1ECB5, 0x1ED00),
    (0x1ED3E, 0x1EDFF),
    (0x1EE04, 0x1EE04),
    (0x1EE20, 0x1EE20),
    (0x1EE23, 0x1EE23),
    (0x1EE25, 0x1EE26),
    (0x1EE28, 0x1EE28),
    (0x1EE33, 0x1EE33),
    (0x1EE38, 0x1EE38),
    (0x1EE3A, 0x1EE3A),
    (0x1EE3C, 0x1EE41),
    (0x1EE43, 0x1EE46),
    (0x1EE48, 0x1EE48),
    (0x1EE4A, 0x1EE4A),
    (0x1EE4C, 0x1EE4C),
    (0x1EE50, 0x1EE50),
    (0x1EE53, 0x1EE53),
    (0x1EE55, 0x1EE56),
    (0x1EE58, 0x1EE58),
    (0x1EE5A, 0x1EE5A),
    (0x1EE5C, 0x1EE5C),
    (0x1EE5E, 0x1EE5E),
    (0x1EE60, 0x1EE60),
    (0x1EE63, 0x1EE63),
    (0x1EE65, 0x1EE66),
    (0x1EE6B, 0x1EE6B),
    (0x1EE73, 0x1EE73),
    (0x1EE78, 0x1EE78),
    (0x1EE7D, 0x1EE7D),
    (0x1EE7F, 0x1EE7F),
    (0x1EE8A, 0x1EE8A),
    (0x1EE9C, 0x1EEA0),
    (0x1EEA4, 0x1EEA4),
    (0x1EEAA, 0x1EEAA),
    (0x1EEBC, 0x1EEEF),
    (0x1EEF2, 0x1EFFF),
    (0x1F02C, 0x1F02F),
    (0x1F094, 0x1F09F),
    (0x1F0AF, 0x1F0B0),
    (0x1F0C0, 0x1F0C0),
    (0x1F0D0, 0x1F0D0),
    (0x1F0F6, 0x1F0FF),
    (0x1F1AE, 0x1F1E5),
    (0x1F203, 0x1F20F),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F24F),
    (0x1F252, 0x1F25F),
    (0x1F266, 0x1F2FF),
    (0x1F6D8, 0x1F6DF),
    (0x1F6ED, 0x1F6EF),
    (0x1F6FD, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D9, 0x1F7DF),
    (0x1F7EC, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8AF),
    (0x1F8B2, 0x1F8FF),
    (0x1F979, 0x1F979),
    (0x1F9CC, 0x1F9CC),
    (0x1FA54, 0x1FA5F),
    (0x1FA6E, 0x1FA6F),
    (0x1FA75, 0x1FA77),
    (0x1FA7B, 0x1FA7F),
    (0x1FA87, 0x1FA8F),
    (0x1FAA9, 0x1FAAF),
    (0x1FAB7, 0x1FABF),
    (0x1FAC3, 0x1FACF),
    (0x1FAD7, 0x1FAFF),
    (0x1FB93, 0x1FB93),
    (0x1FBCB, 0x1FBEF),
    (0x1FBFA, 0x1FFFF),
    (0x2A6DE, 0x2A6FF),
    (0x2B735, 0x2B73F),
    (0x2B81E, 0x2B81F),
    (0x2CEA2, 0x2CEAF),
    (0x2EBE1, 0x2F7FF),
    (0x2FA1E, 0x2FFFF),
    (0x3134B, 0xE00FF),
    (0xE01F0, 0x10FFFF),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{parse_complete, parse_prefix};
    use std::path::PathBuf;

    fn j(s: &str) -> Json {
        parse_prefix(s.as_bytes()).unwrap_or(Json::Null)
    }

    fn s(v: &Json) -> String {
        let mut o = Vec::new();
        py_str(v, &mut o);
        String::from_utf8_lossy(&o).into_owned()
    }

    #[test]
    fn python_str_of_values() {
        assert_eq!(s(&j(r#"["a", "b"]"#)), "['a', 'b']");
        assert_eq!(s(&j("true")), "True");
        assert_eq!(s(&j("false")), "False");
        assert_eq!(s(&j("null")), "None");
        assert_eq!(s(&j("3")), "3");
        assert_eq!(s(&j("-3")), "-3");
        assert_eq!(s(&j("3.0")), "3");
        assert_eq!(s(&j("1.5")), "1.5");
        assert_eq!(s(&j("3000000000")), "3000000000");
        assert_eq!(s(&j("1e15")), "1000000000000000.0");
        assert_eq!(s(&j("1e16")), "1e+16");
        assert_eq!(s(&j("1e300")), "1e+300");
        assert_eq!(s(&j("0.0001")), "0.0001");
        assert_eq!(s(&j("0.00001")), "1e-05");
        assert_eq!(s(&j("123456789012345678")), "1.2345678901234568e+17");
        assert_eq!(s(&j("0.30000000000000004")), "0.3");
        assert_eq!(s(&j("-0.0")), "0");
        assert_eq!(s(&Json::Number(f64::NAN)), "None");
        assert_eq!(s(&j("1e999")), "None");
        assert_eq!(
            s(&j(r#"{"k": "v", "n": 1, "l": [true, null], "d": {}}"#)),
            "{'k': 'v', 'n': 1, 'l': [True, None], 'd': {}}"
        );
        assert_eq!(s(&j(r#"{"x": 1, "y": 2, "x": 3}"#)), "{'x': 3, 'y': 2}");
        assert_eq!(s(&j(r#"[[], {}, ""]"#)), "[[], {}, '']");
        assert_eq!(s(&j(r#""raw 'text'\n""#)), "raw 'text'\n");
        // repr quote choice and escapes
        assert_eq!(s(&j(r#"["it's"]"#)), r#"["it's"]"#);
        assert_eq!(s(&j(r#"["say \"hi\""]"#)), r#"['say "hi"']"#);
        assert_eq!(s(&j(r#"["both ' and \""]"#)), r#"['both \' and "']"#);
        assert_eq!(s(&j(r#"["a\\b\t\n\r\u0001\u007f"]"#)), r#"['a\\b\t\n\r\x01\x7f']"#);
        assert_eq!(
            s(&j(r#"["é€😀\u0080\u00a0\u00ad\u2028\ue000\ufeff\ud83f\udfff"]"#)),
            "['é€😀\\x80\\xa0\\xad\\u2028\\ue000\\ufeff\\U0001ffff']"
        );
        assert_eq!(s(&Json::Array(vec![Json::String(b"a\xffb".to_vec())])), "['a\\xffb']");
    }

    #[test]
    fn float_repr() {
        for (x, r) in [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e-5, "1e-05"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (100.0, "100.0"),
            (123.456, "123.456"),
            (652096281946227.0 + 0.25, "652096281946227.2"), // exact tie: Python rounds half to even
            (2048510041705883.0 + 0.25, "2048510041705883.2"),
        ] {
            assert_eq!(py_float_repr(x), r);
        }
    }

    #[test]
    fn utf8_errors_like_python() {
        assert_eq!(py_utf8_error("é€😀".as_bytes()), None);
        assert_eq!(
            py_utf8_error(b"ab\xffc").as_deref(),
            Some("'utf-8' codec can't decode byte 0xff in position 2: invalid start byte")
        );
        assert_eq!(
            py_utf8_error(b"\x80").as_deref(),
            Some("'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte")
        );
        assert_eq!(
            py_utf8_error(b"a\xc3x").as_deref(),
            Some("'utf-8' codec can't decode byte 0xc3 in position 1: invalid continuation byte")
        );
        assert_eq!(
            py_utf8_error(b"a\xe2\x82x").as_deref(),
            Some("'utf-8' codec can't decode bytes in position 1-2: invalid continuation byte")
        );
        assert_eq!(
            py_utf8_error(b"a\xed\xa0\x80").as_deref(),
            Some("'utf-8' codec can't decode byte 0xed in position 1: invalid continuation byte")
        );
        assert_eq!(
            py_utf8_error(b"a\xe2\x82").as_deref(),
            Some("'utf-8' codec can't decode bytes in position 1-2: unexpected end of data")
        );
        assert_eq!(
            py_utf8_error(b"a\xf0").as_deref(),
            Some("'utf-8' codec can't decode byte 0xf0 in position 1: unexpected end of data")
        );
        assert_eq!(
            py_utf8_error(b"\xf4\x90\x80\x80").as_deref(),
            Some("'utf-8' codec can't decode byte 0xf4 in position 0: invalid continuation byte")
        );
        assert_eq!(
            py_utf8_error(b"\xf0\x90\x80x").as_deref(),
            Some("'utf-8' codec can't decode bytes in position 0-2: invalid continuation byte")
        );
        assert_eq!(
            py_utf8_error(b"\xc0\x80").as_deref(),
            Some("'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte")
        );
        // In a reply: the position counts from the start of {"error":0,"data":...}.
        let data = Json::Object(vec![(b"token".to_vec(), Json::String(b"\xff".to_vec()))]);
        let mut o = Vec::new();
        assert_eq!(render_event_in_session(b"", &data, &mut o), EventOutcome::Failed);
        assert_eq!(
            String::from_utf8_lossy(&o),
            "\n** Wazuh-logtest error 'utf-8' codec can't decode byte 0xff in position 28: invalid start byte\n"
        );
    }

    fn render(prev: &[u8], data: &str) -> (String, EventOutcome) {
        let mut o = Vec::new();
        let r = render_event_in_session(prev, &j(data), &mut o);
        (String::from_utf8_lossy(&o).into_owned(), r)
    }

    #[test]
    fn phases_layout() {
        let (t, r) = render(
            b"",
            r#"{"messages":["INFO: (7202): Session initialized with token 'aa'","WARNING: (7003): 'bb' token expires","WARNING: x"],"token":"aa",
            "output":{"timestamp":"t","rule":{"level":0,"description":"d","id":"1","mitre":{"id":["T1"],"tactic":["A"]},"firedtimes":2,"mail":false,"groups":["g"],"Zed":1,"_u":2},
            "agent":{"id":"000"},"full_log":"Dec 29 10:00:01 host sshd: x","predecoder":{"program_name":"sshd","timestamp":"Dec 29 10:00:01","hostname":"host"},
            "decoder":{"parent":"sshd","name":"sshd","ftscomment":"c","accumulate":1},"data":{"srcip":"1.2.3.4","b":{"c":"x","a":["1",2]},"B":"up"},"location":"stdin"},
            "rules_debug":["Trying rule: 1 - x","*Rule 1 matched","*Trying child rules"],"alert":false,"codemsg":1}"#,
        );
        assert_eq!(r, EventOutcome::Shown { token: b"aa".to_vec() });
        assert_eq!(
            t,
            "\n** Wazuh-Logtest: WARNING: (7003): 'bb' token expires\n** Wazuh-Logtest: WARNING: x\n\n\
             **Phase 1: Completed pre-decoding.\n\tfull event: 'Dec 29 10:00:01 host sshd: x'\n\ttimestamp: 'Dec 29 10:00:01'\n\thostname: 'host'\n\tprogram_name: 'sshd'\n\n\
             **Phase 2: Completed decoding.\n\tname: 'sshd'\n\tparent: 'sshd'\n\taccumulate: '1'\n\tftscomment: 'c'\n\tB: 'up'\n\tb.a: '['1', 2]'\n\tb.c: 'x'\n\tsrcip: '1.2.3.4'\n\n\
             **Rule debugging:\n\tTrying rule: 1 - x\n\t\t*Rule 1 matched\n\t\t*Trying child rules\n\n\
             **Phase 3: Completed filtering (rules).\n\tid: '1'\n\tlevel: '0'\n\tdescription: 'd'\n\tgroups: '['g']'\n\tfiredtimes: '2'\n\tZed: '1'\n\t_u: '2'\n\tmail: 'False'\n\tmitre.id: '['T1']'\n\tmitre.tactic: '['A']'\n"
        );
        // No decoder: data not shown; new session warning.
        let (t, _) =
            render(b"old", r#"{"token":"new","output":{"decoder":{},"data":{"x":"y"}},"alert":true,"codemsg":0}"#);
        assert_eq!(
            t,
            "\nNew session was created with token \"new\"\n**Phase 1: Completed pre-decoding.\n\n**Phase 2: Completed decoding.\n\tNo decoder matched.\n**Alert to be generated.\n"
        );
        // codemsg < 0
        let (t, r) = render(
            b"old",
            r#"{"messages":["ERROR: (7311): Failure to initializing session","ERROR: b"],"codemsg":-1}"#,
        );
        assert_eq!(r, EventOutcome::Failed);
        assert_eq!(t, "\n** Wazuh-logtest error -1: \n\tERROR: (7311): Failure to initializing session\n\tERROR: b\n");
        // envelope error
        let mut o = Vec::new();
        let r = render_reply(b"", &j(r#"{"message":"bad request","error":2,"data":{}}"#), &mut o);
        assert_eq!(r, EventOutcome::Failed);
        assert_eq!(String::from_utf8_lossy(&o), "\n** Wazuh-logtest error 2: bad request\n");
    }

    #[test]
    fn unit_lines() {
        let d = j(
            r#"{"token":"t","output":{"rule":{"level":5,"id":"80254"},"decoder":{"name":"json"}},"alert":true,"codemsg":0}"#,
        );
        let got = unit_triple(&d);
        assert_eq!(got, [b"80254".to_vec(), b"5".to_vec(), b"json".to_vec()]);
        let exp = [b"80255".to_vec(), b"10".to_vec(), b"json".to_vec()];
        let mut o = Vec::new();
        unit_test_line(&exp, &got, &mut o);
        assert_eq!(
            String::from_utf8_lossy(&o),
            "\nUnit test FAIL. Expected ['80255', '10', 'json'] , Result ['80254', '5', 'json']\n"
        );
        let mut o = Vec::new();
        unit_test_line(&got, &got, &mut o);
        assert_eq!(String::from_utf8_lossy(&o), "\nUnit test OK\n");
        assert_eq!(unit_test_exit_code(&got, &got), 0);
        assert_eq!(unit_test_exit_code(&exp, &got), 1);
        let none = unit_triple(&j(r#"{"token":"t","output":{"decoder":{}},"alert":false,"codemsg":0}"#));
        assert_eq!(none, [Vec::<u8>::new(), Vec::new(), Vec::new()]);
        assert_eq!(unit_test_exit_code(&none, &none), 3);
        let exp2 = [b"1".to_vec(), Vec::new(), b"it's".to_vec()];
        let mut o = Vec::new();
        unit_test_line(&exp2, &none, &mut o);
        assert_eq!(
            String::from_utf8_lossy(&o),
            "\nUnit test FAIL. Expected ['1', '', \"it's\"] , Result ['', '', '']\n"
        );
    }

    fn shared_dir() -> Option<PathBuf> {
        let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
        if p.join("expected/cli").is_dir() {
            Some(p)
        } else {
            None
        }
    }

    /// Every real `wazuh-logtest` run in shared/expected/cli, reproduced from the daemon replies.
    #[test]
    fn real_cli_outputs() {
        let Some(shared) = shared_dir() else {
            crate::testing::loud_skip("real_cli_outputs: ../shared/expected/cli not found");
            return;
        };
        let cli = shared.join("expected/cli");
        let seed = shared.join("expected/iam-seed");
        let mut names: Vec<String> = std::fs::read_dir(&cli)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.retain(|n| n.ends_with(".stderr"));
        names.sort();
        assert!(!names.is_empty());
        let header = "Starting wazuh-logtest v4.14.7\nType one log per line\n";
        let mut checked = 0;
        for name in names {
            let stem = name.trim_end_matches(".stderr");
            let (base, variant) = match stem.split_once('.') {
                Some((b, v)) => (b, v),
                None => (stem, ""),
            };
            let jsonl = if variant == "v" { format!("{base}.verbose.jsonl") } else { format!("{base}.expected.jsonl") };
            // -U expectations used for the recorded runs.
            let ut: Option<[Vec<u8>; 3]> = match variant {
                "U-80255" => Some([b"80255".to_vec(), b"10".to_vec(), b"json".to_vec()]),
                "U-80254" => Some([b"80254".to_vec(), b"5".to_vec(), b"json".to_vec()]),
                v if v.starts_with('U') => panic!("unknown -U variant {v}"),
                _ => None,
            };
            let expected = std::fs::read(cli.join(&name)).unwrap_or_default();
            let replies = std::fs::read(seed.join(&jsonl)).unwrap_or_default();
            let mut got: Vec<u8> = header.as_bytes().to_vec();
            let mut token: Vec<u8> = Vec::new();
            let mut last: [Vec<u8>; 3] = [Vec::new(), Vec::new(), Vec::new()];
            for l in replies.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let data = parse_complete(l).unwrap_or_else(|| panic!("{jsonl}: bad JSON line"));
                if let EventOutcome::Shown { token: t } = render_event_in_session(&token, &data, &mut got) {
                    token = t;
                    last = unit_triple(&data);
                    if let Some(ut) = &ut {
                        unit_test_line(ut, &last, &mut got);
                    }
                }
            }
            assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&expected), "{name} differs");
            // The plain render_event gives the same text for a one-session run.
            let mut plain = header.as_bytes().to_vec();
            for l in replies.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                render_event(&parse_complete(l).unwrap_or(Json::Null), &mut plain);
                if let Some(ut) = &ut {
                    unit_test_line(ut, &unit_triple(&parse_complete(l).unwrap_or(Json::Null)), &mut plain);
                }
            }
            assert_eq!(plain, expected, "{name} (render_event)");
            let rc = std::fs::read_to_string(cli.join(format!("{stem}.rc"))).unwrap_or_default();
            let want_rc: i32 = rc.trim().parse().unwrap_or(-99);
            let got_rc = match &ut {
                Some(ut) => unit_test_exit_code(ut, &last),
                None => 0,
            };
            assert_eq!(got_rc, want_rc, "{name} exit code");
            checked += 1;
        }
        eprintln!("real_cli_outputs: {checked} runs reproduced");
    }
}
