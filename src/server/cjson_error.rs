//! Where cJSON says a parse failed: the `return_parse_end` of a failed
//! `cJSON_ParseWithOpts(text, &end, 0)` (cJSON 1.7.18), which the logtest socket's `(7307)`
//! message quotes ("Error parsing JSON in position N, ... <20 bytes around it> ...").
//!
//! [`crate::json`] decides *whether* a text parses; this walks it the way cJSON's recursive
//! descent does only to find the offset its failing function leaves behind, which depends on
//! details the value parser does not need (a string that fails points just past its quote, or
//! at the escape that failed; a missing closing bracket points at what stands there; the end
//! of the text counts its NUL).

/// cJSON's parse buffer: the text and its NUL (`length` = text length + 1).
struct Buf<'a> {
    text: &'a [u8],
    length: usize,
    off: usize,
    depth: usize,
}

/// cJSON's `CJSON_NESTING_LIMIT`.
const NESTING_LIMIT: usize = 1000;

impl Buf<'_> {
    fn at(&self, i: usize) -> u8 {
        self.text.get(i).copied().unwrap_or(0)
    }

    fn can_access(&self, i: usize) -> bool {
        self.off + i < self.length
    }

    fn can_read(&self, n: usize) -> bool {
        self.off + n <= self.length
    }

    fn starts_with(&self, lit: &[u8]) -> bool {
        self.text.get(self.off..).is_some_and(|t| t.starts_with(lit))
    }

    fn skip_ws(&mut self) {
        if !self.can_access(0) {
            return;
        }
        // The NUL counts as whitespace; cJSON then steps back onto it.
        while self.can_access(0) && self.at(self.off) <= 32 {
            self.off += 1;
        }
        if self.off == self.length {
            self.off -= 1;
        }
    }

    fn value(&mut self) -> bool {
        if self.can_read(4) && self.starts_with(b"null") {
            self.off += 4;
            return true;
        }
        if self.can_read(5) && self.starts_with(b"false") {
            self.off += 5;
            return true;
        }
        if self.can_read(4) && self.starts_with(b"true") {
            self.off += 4;
            return true;
        }
        if !self.can_access(0) {
            return false;
        }
        match self.at(self.off) {
            b'"' => self.string(),
            b'-' | b'0'..=b'9' => self.number(),
            b'[' => self.container(b']'),
            b'{' => self.container(b'}'),
            _ => false,
        }
    }

    fn string(&mut self) -> bool {
        let start = self.off;
        let mut ip = start + 1;
        if self.at(start) != b'"' {
            self.off = ip;
            return false;
        }
        let mut end = start + 1;
        while end < self.length && self.at(end) != b'"' {
            if self.at(end) == b'\\' {
                if end + 1 >= self.length {
                    self.off = ip;
                    return false;
                }
                end += 1;
            }
            end += 1;
        }
        if end >= self.length || self.at(end) != b'"' {
            self.off = ip;
            return false;
        }
        while ip < end {
            if self.at(ip) != b'\\' {
                ip += 1;
                continue;
            }
            let seq = match self.at(ip + 1) {
                b'b' | b'f' | b'n' | b'r' | b't' | b'"' | b'\\' | b'/' => 2,
                b'u' => self.utf16(ip, end),
                _ => 0,
            };
            if seq == 0 {
                self.off = ip;
                return false;
            }
            ip += seq;
        }
        self.off = end + 1;
        true
    }

    fn hex4(&self, at: usize) -> u32 {
        let mut h = 0u32;
        for i in 0..4 {
            let d = match self.at(at + i) {
                c @ b'0'..=b'9' => (c - b'0') as u32,
                c @ b'A'..=b'F' => (c - b'A' + 10) as u32,
                c @ b'a'..=b'f' => (c - b'a' + 10) as u32,
                _ => return 0,
            };
            h = (h << 4) | d;
        }
        h
    }

    /// The length of the `\u` literal at `ip` (0: invalid).
    fn utf16(&self, ip: usize, end: usize) -> usize {
        if end - ip < 6 {
            return 0;
        }
        let first = self.hex4(ip + 2);
        if (0xDC00..=0xDFFF).contains(&first) {
            return 0;
        }
        if !(0xD800..=0xDBFF).contains(&first) {
            return 6;
        }
        let second = ip + 6;
        if end - second < 6 || self.at(second) != b'\\' || self.at(second + 1) != b'u' {
            return 0;
        }
        if !(0xDC00..=0xDFFF).contains(&self.hex4(second + 2)) {
            return 0;
        }
        12
    }

    fn number(&mut self) -> bool {
        let mut n = 0;
        while n < 63 && self.can_access(n) {
            match self.at(self.off + n) {
                b'0'..=b'9' | b'+' | b'-' | b'e' | b'E' | b'.' => n += 1,
                _ => break,
            }
        }
        match super::super::json::strtod_len(&self.text[self.off..(self.off + n).min(self.text.len())]) {
            Some(used) => {
                self.off += used;
                true
            }
            None => false,
        }
    }

    /// An array (`close` = `]`) or an object (`}`) at the offset.
    fn container(&mut self, close: u8) -> bool {
        if self.depth >= NESTING_LIMIT {
            return false;
        }
        self.depth += 1;
        self.off += 1;
        self.skip_ws();
        if self.can_access(0) && self.at(self.off) == close {
            self.off += 1;
            self.depth -= 1;
            return true;
        }
        if !self.can_access(0) {
            self.off -= 1;
            return false;
        }
        self.off -= 1;
        loop {
            self.off += 1;
            self.skip_ws();
            if close == b'}' {
                if !self.string() {
                    return false;
                }
                self.skip_ws();
                if !self.can_access(0) || self.at(self.off) != b':' {
                    return false;
                }
                self.off += 1;
                self.skip_ws();
            }
            if !self.value() {
                return false;
            }
            self.skip_ws();
            if !(self.can_access(0) && self.at(self.off) == b',') {
                break;
            }
        }
        if !self.can_access(0) || self.at(self.off) != close {
            return false;
        }
        self.off += 1;
        self.depth -= 1;
        true
    }
}

/// The offset cJSON reports for a text it fails to parse (`None`: it parses). The text is a C
/// string: it ends at its first NUL.
pub fn error_position(input: &[u8]) -> Option<usize> {
    let text = &input[..memchr::memchr(0, input).unwrap_or(input.len())];
    let mut b = Buf { text, length: text.len() + 1, off: 0, depth: 0 };
    if b.can_access(4) && text.starts_with(b"\xEF\xBB\xBF") {
        b.off = 3;
    }
    b.skip_ws();
    if b.value() {
        return None;
    }
    Some(if b.off < b.length { b.off } else { b.length - 1 })
}

#[cfg(test)]
mod tests {
    use super::error_position;

    #[test]
    fn positions_as_cjson_reports_them() {
        assert_eq!(error_position(b"hello"), Some(0));
        assert_eq!(error_position(b"{"), Some(1));
        assert_eq!(error_position(b"{'version':1}"), Some(2));
        assert_eq!(error_position(br#"{"version":1,origin":{"name":"x"}}"#), Some(14));
        assert_eq!(error_position(b"   "), Some(3));
        assert_eq!(error_position(br#"{"a":"\q"}"#), Some(6));
        assert_eq!(error_position(br#"{"a":1} trailing"#), None);
        assert_eq!(error_position(br#"["x", ]"#), Some(6));
    }

    #[test]
    fn fails_exactly_where_the_value_parser_fails() {
        let seeds: [&[u8]; 5] = [
            br#"{"version":1,"origin":{"name":"x","module":"y"},"command":"log_processing","parameters":{"event":"a\u00e9\ud83d\ude00","location":"l","log_format":"syslog","token":"12345678","options":{"rules_debug":true}}}"#,
            b"[1, -2.5e3, true, false, null, {}, [], \"s\\n\"]",
            b"  {\"a\" :\t[ {\"b\": [1,2]} ] }",
            b"\"\\u12\"",
            b"-",
        ];
        let mut x: u64 = 99;
        for i in 0..30_000 {
            let mut m = seeds[i % seeds.len()].to_vec();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (x % (m.len() as u64 + 1)) as usize;
            match (x >> 20) % 4 {
                0 if at < m.len() => {
                    m.remove(at);
                }
                1 => m.insert(at, b"{}[],:\"\\ 0-e.u\x00"[((x >> 30) % 15) as usize]),
                2 => m.truncate(at),
                _ => {}
            }
            assert_eq!(
                error_position(&m).is_some(),
                crate::json::parse_with_end(&m).is_none(),
                "{:?}",
                String::from_utf8_lossy(&m)
            );
        }
    }
}
