//! CDB lists (upstream: src/analysisd/lists_make.c, lists_list.c).
//!
//! Wazuh compiles each list's text file into a `.cdb`; we read the text file
//! directly. Its format has traps: there is no comment syntax (`#x:y` is the
//! key `#x`), a line without `:` defines nothing, keys are not trimmed, a
//! quoted key may contain `:`, the first of duplicate keys wins. Address
//! lookups are not CIDR: they retry with the value cut back to each `.`.

use std::collections::HashMap;

use crate::matcher::OsMatch;

/// One loaded list.
#[derive(Debug, Clone, Default)]
pub struct CdbList {
    /// The path the list was declared with (what rules' `<list>` refer to).
    pub(crate) name: String,
    /// For a list given on the command line (`--lists`): its canonical path,
    /// so a rule may name it by any path to the same file.
    pub(crate) canonical: Option<std::path::PathBuf>,
    map: HashMap<Box<[u8]>, Box<[u8]>>,
}

impl CdbList {
    /// Records that the list was given on the command line as `path`.
    pub(crate) fn given_as(mut self, path: Option<&std::path::Path>) -> CdbList {
        self.canonical = path.and_then(|p| std::fs::canonicalize(p).ok());
        self
    }

    /// Parses the text form.
    pub(crate) fn parse(name: &str, text: &[u8]) -> CdbList {
        let mut map: HashMap<Box<[u8]>, Box<[u8]>> = HashMap::new();
        for raw in text.split(|&b| b == b'\n') {
            let line = match raw.iter().position(|&b| b == b'\r') {
                Some(i) => &raw[..i],
                None => raw,
            };
            if let Some((k, v)) = parse_line(line) {
                map.entry(k.into()).or_insert_with(|| v.into());
            }
        }
        CdbList { name: name.to_string(), canonical: None, map }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Every key (in no particular order).
    pub(crate) fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.map.keys().map(|k| &k[..])
    }

    /// Whether the list has no key.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The value stored for `key` (exact, case-sensitive).
    pub(crate) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.map.get(key).map(|v| &v[..])
    }

    /// Address lookup: the full value, then the value cut after each `.` from the right.
    pub(crate) fn get_address(&self, value: &[u8]) -> Option<&[u8]> {
        if let Some(v) = self.get(value) {
            return Some(v);
        }
        let mut end = value.len();
        while end > 0 {
            end -= 1;
            if end > 0 && value[end - 1] == b'.' {
                if let Some(v) = self.get(&value[..end]) {
                    return Some(v);
                }
            }
        }
        None
    }
}

fn parse_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let quote = line.iter().position(|&b| b == b'"');
    let (key, rest) = match quote {
        Some(q) if q < colon => {
            let close = q + 1 + line[q + 1..].iter().position(|&b| b == b'"')?;
            let key = &line[q + 1..close];
            let after = &line[close + 1..];
            let c = after.iter().position(|&b| b == b':')?;
            (key, &after[c + 1..])
        }
        _ => (&line[..colon], &line[colon + 1..]),
    };
    let value = match rest.iter().position(|&b| b == b'"') {
        Some(q) => {
            let close = q + 1 + rest[q + 1..].iter().position(|&b| b == b'"')?;
            &rest[q + 1..close]
        }
        None => rest,
    };
    Some((key, value))
}

/// How a rule `<list>` looks a value up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// `match_key` (default): the value is a key.
    MatchKey,
    /// `not_match_key`: the value is not a key.
    NotMatchKey,
    /// `match_key_value`: the value is a key and `check_value` matches the key's value.
    MatchKeyValue,
    /// `address_match_key`: the value, or a prefix of it that ends in `.`, is a key (no CIDR).
    AddressMatchKey,
    /// `not_address_match_key`: the negation of `address_match_key`.
    NotAddressMatchKey,
    /// `address_match_key_value`, with upstream's inverted sense: false only when an address key is
    /// found and `check_value` matches its value.
    AddressMatchKeyValue,
}

impl Lookup {
    /// The `lookup` attribute value (case-insensitive).
    pub(crate) fn from_attr(v: &[u8]) -> Option<Lookup> {
        let v = v.to_ascii_lowercase();
        Some(match v.as_slice() {
            b"match_key" => Lookup::MatchKey,
            b"not_match_key" => Lookup::NotMatchKey,
            b"match_key_value" => Lookup::MatchKeyValue,
            b"address_match_key" => Lookup::AddressMatchKey,
            b"not_address_match_key" => Lookup::NotAddressMatchKey,
            b"address_match_key_value" => Lookup::AddressMatchKeyValue,
            _ => return None,
        })
    }
}

/// Evaluates one lookup of `value` in `list` (spec decoding.md 8.3).
pub(crate) fn lookup(list: &CdbList, how: Lookup, check: Option<&OsMatch>, value: &[u8]) -> bool {
    match how {
        Lookup::MatchKey => list.get(value).is_some(),
        Lookup::NotMatchKey => list.get(value).is_none(),
        Lookup::MatchKeyValue => match (list.get(value), check) {
            (Some(v), Some(m)) => m.is_match(v),
            _ => false,
        },
        Lookup::AddressMatchKey => list.get_address(value).is_some(),
        Lookup::NotAddressMatchKey => list.get_address(value).is_none(),
        // Upstream's inverted semantics: false only when found and the value matches.
        Lookup::AddressMatchKeyValue => match (list.get_address(value), check) {
            (Some(v), Some(m)) => !m.is_match(v),
            _ => true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format() {
        let l = CdbList::parse(
            "x",
            b"admin:\nbob:finance\n\"a0:a0:a0\":\n192.168.:\nx:\"a:b\" junk\nk:v:w\n#c:d\nnocolon\nbob:other\r\n",
        );
        assert_eq!(l.get(b"admin"), Some(&b""[..]));
        assert_eq!(l.get(b"bob"), Some(&b"finance"[..]));
        assert_eq!(l.get(b"a0:a0:a0"), Some(&b""[..]));
        assert_eq!(l.get(b"x"), Some(&b"a:b"[..]));
        assert_eq!(l.get(b"k"), Some(&b"v:w"[..]));
        assert_eq!(l.get(b"#c"), Some(&b"d"[..]));
        assert_eq!(l.get(b"nocolon"), None);
        assert_eq!(l.get_address(b"192.168.1.2"), Some(&b""[..]));
        assert_eq!(l.get_address(b"192.169.1.2"), None);
    }
}
