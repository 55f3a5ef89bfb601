//! Snapshots of a case's alerts: plain, pretty-printed JSON files beside the
//! suite (`<suite dir>/snapshots/<suite name>/<case name>.json`), one entry
//! per event (`{"alert": …, "output": …}`, or `{"error": …}`), keys in
//! Wazuh's order, `timestamp` and `id` redacted (they change every run).
//!
//! Plain JSON rather than insta's `.snap`: the people who review these are
//! rule authors, not Rust developers; a JSON file reads in any pull-request
//! view, diffs with any tool, and needs no `cargo insta` to accept (that is
//! `logtest test --accept`).

use std::path::{Path, PathBuf};

use similar::{ChangeTag, TextDiff};

use crate::json::Json;
use crate::testing::case::EventResult;

/// Where a case's snapshot is kept.
pub fn path(suite: &Path, case_name: &str) -> PathBuf {
    let dir = suite.parent().unwrap_or(Path::new("."));
    let stem = suite.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    dir.join("snapshots").join(stem).join(format!("{}.json", slug(case_name)))
}

/// A file name for a case name: lower-case letters, digits and `-`.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-');
    if s.is_empty() {
        "case".to_string()
    } else {
        s.chars().take(100).collect()
    }
}

fn redact(mut v: Json) -> Json {
    if let Json::Object(o) = &mut v {
        for (k, val) in o.iter_mut() {
            if k == b"timestamp" || k == b"id" {
                *val = Json::String(format!("[{}]", String::from_utf8_lossy(k)).into_bytes());
            }
        }
    }
    v
}

/// The snapshot text of a case's events.
pub fn render(events: &[EventResult]) -> String {
    let k = |n: &str| n.as_bytes().to_vec();
    let entries = events
        .iter()
        .map(|e| match (&e.error, &e.output) {
            (Some(err), _) => Json::Object(vec![(k("error"), Json::String(err.as_bytes().to_vec()))]),
            (None, out) => Json::Object(vec![
                (k("alert"), Json::Bool(e.alert)),
                (k("output"), out.clone().map(redact).unwrap_or(Json::Null)),
            ]),
        })
        .collect();
    let mut s = String::new();
    pretty(&Json::Array(entries), 0, &mut s);
    s.push('\n');
    s
}

/// JSON with two-space indentation, keys in their order.
fn pretty(v: &Json, depth: usize, out: &mut String) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Json::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                pretty(x, depth + 1, out);
                out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Json::Object(o) if !o.is_empty() => {
            out.push_str("{\n");
            for (i, (key, x)) in o.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&String::from_utf8_lossy(&Json::String(key.clone()).to_unformatted()));
                out.push_str(": ");
                pretty(x, depth + 1, out);
                out.push_str(if i + 1 < o.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        scalar => out.push_str(&String::from_utf8_lossy(&scalar.to_unformatted())),
    }
}

/// How a case's alerts compare with its snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Stored and equal.
    Matches,
    /// No snapshot stored yet.
    Missing,
    /// Stored and different: a unified diff, stored (`-`) → now (`+`).
    Differs(String),
    /// Written or updated (`--accept`).
    Written,
}

/// Compares `actual` with the snapshot at `path`; with `accept`, writes it
/// when it is missing or different.
pub fn check(path: &Path, actual: &str, accept: bool, color: bool) -> std::io::Result<Check> {
    let stored = match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if stored.as_deref() == Some(actual) {
        return Ok(Check::Matches);
    }
    if accept {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, actual)?;
        return Ok(Check::Written);
    }
    Ok(match stored {
        None => Check::Missing,
        Some(old) => Check::Differs(diff(&old, actual, color)),
    })
}

/// A unified diff of two snapshot texts, coloured when asked.
pub fn diff(old: &str, new: &str, color: bool) -> String {
    let d = TextDiff::from_lines(old, new);
    let mut out = String::new();
    for group in d.grouped_ops(3) {
        let (first, last) = (group.first(), group.last());
        if let (Some(f), Some(l)) = (first, last) {
            let (o, n) = (f.old_range().start, f.new_range().start);
            let (oe, ne) = (l.old_range().end, l.new_range().end);
            out.push_str(&format!("@@ -{},{} +{},{} @@\n", o + 1, oe - o, n + 1, ne - n));
        }
        for op in group {
            for change in d.iter_changes(&op) {
                let (sign, paint) = match change.tag() {
                    ChangeTag::Delete => ('-', "31"),
                    ChangeTag::Insert => ('+', "32"),
                    ChangeTag::Equal => (' ', ""),
                };
                let line = format!("{sign}{}", change.value().trim_end_matches('\n'));
                if color && !paint.is_empty() {
                    out.push_str(&format!("\x1b[{paint}m{line}\x1b[0m\n"));
                } else {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_diffs() {
        assert_eq!(slug("Six failed console logins → break-in!"), "six-failed-console-logins-break-in");
        assert_eq!(path(Path::new("t/iam.yaml"), "A b"), PathBuf::from("t/snapshots/iam/a-b.json"));
        let d = diff("[\n  1,\n  2\n]\n", "[\n  1,\n  3\n]\n", false);
        assert!(d.contains("-  2\n+  3\n"), "{d}");
        let v =
            crate::json::parse_complete(br#"{"timestamp":"x","rule":{"level":5,"groups":["a"]},"id":"1.2"}"#).unwrap();
        let e = EventResult {
            arrival: Default::default(),
            rule: None,
            decoder: None,
            alert: true,
            output: Some(v),
            error: None,
            rules_debug: None,
        };
        assert_eq!(
            render(&[e]),
            "[\n  {\n    \"alert\": true,\n    \"output\": {\n      \"timestamp\": \"[timestamp]\",\n      \"rule\": {\n        \"level\": 5,\n        \"groups\": [\n          \"a\"\n        ]\n      },\n      \"id\": \"[id]\"\n    }\n  }\n]\n"
        );
    }
}
