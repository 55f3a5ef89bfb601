//! The change report: a replay's alerts against a baseline `alerts.json` (a real manager's, or
//! an earlier replay's), rule by rule.
//!
//! Alerts are matched by the event they came from: the agent, the location and the event text
//! (`full_log`, or for JSON-decoded events, which alerts.json shows without `full_log`, the
//! decoded `data`). The n-th alert of an event in the baseline pairs with the n-th in the replay,
//! so repeated identical events pair in order. A pair whose objects differ (with `timestamp` and
//! `id` aside: they come from the clock and the alert counter) is *changed*, with the keys that
//! differ; an alert without a partner is *only in the baseline* or *only in the replay*.
//!
//! The baseline is held as its lines, indexed by source; the replay's alerts stream past it, so a
//! report costs the baseline's size in memory, not the replay's.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::json::{self, Json};

/// Root keys that differ between any two runs: the alert's time and its id.
const IGNORED: [&[u8]; 2] = [b"timestamp", b"id"];

/// How many examples a rule's entry keeps of each kind of difference.
const EXAMPLES: usize = 5;

/// The baseline failed to load.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// It could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not an alert object.
    #[error("{path}:{line}: not an alerts.json line (a JSON object with `rule`)")]
    NotAnAlert {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u32,
    },
}

struct Stored {
    line: u32,
    text: Box<[u8]>,
}

/// A baseline `alerts.json`, indexed by source event.
pub struct Baseline {
    path: PathBuf,
    by_source: HashMap<Vec<u8>, VecDeque<Stored>>,
    count: u64,
}

/// The source of an alert: `agent.id`, `location` and `full_log` (else `data`), NUL-separated.
pub fn source_key(alert: &Json) -> Vec<u8> {
    let mut k = Vec::new();
    let agent = alert.get(b"agent").and_then(|a| a.get(b"id")).and_then(Json::as_bytes).unwrap_or(b"");
    k.extend_from_slice(agent);
    k.push(0);
    k.extend_from_slice(alert.get(b"location").and_then(Json::as_bytes).unwrap_or(b""));
    k.push(0);
    match alert.get(b"full_log") {
        Some(Json::String(s)) => {
            k.push(b'l');
            k.extend_from_slice(s);
        }
        _ => {
            k.push(b'd');
            if let Some(d) = alert.get(b"data") {
                d.write_unformatted(&mut k);
            }
        }
    }
    k
}

fn rule_of(alert: &Json) -> (u32, String) {
    let r = alert.get(b"rule");
    let id = r.and_then(|r| r.get(b"id")).and_then(Json::as_bytes).and_then(|b| std::str::from_utf8(b).ok());
    let desc = r.and_then(|r| r.get(b"description")).and_then(Json::as_bytes).unwrap_or(b"");
    (id.and_then(|s| s.parse().ok()).unwrap_or(0), String::from_utf8_lossy(desc).into_owned())
}

/// Every leaf of `j` as `path → JSON text` (arrays index their items: `rule.groups[1]`).
fn leaves(j: &Json, path: &mut String, out: &mut BTreeMap<String, Vec<u8>>, root: bool) {
    match j {
        Json::Object(members) => {
            for (k, v) in members {
                if root && IGNORED.contains(&&k[..]) {
                    continue;
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&String::from_utf8_lossy(k));
                // cJSON keeps the first of duplicate keys: so does the comparison.
                if !out.contains_key(path.as_str()) {
                    leaves(v, path, out, false);
                }
                path.truncate(len);
            }
        }
        Json::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                leaves(v, path, out, false);
                path.truncate(len);
            }
        }
        _ => {
            out.insert(path.clone(), j.to_unformatted());
        }
    }
}

/// The keys whose values differ between two alerts (array items collapse to their array).
pub fn changed_keys(a: &Json, b: &Json) -> Vec<(String, Option<String>, Option<String>)> {
    let (mut la, mut lb) = (BTreeMap::new(), BTreeMap::new());
    leaves(a, &mut String::new(), &mut la, true);
    leaves(b, &mut String::new(), &mut lb, true);
    let mut out: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    let keys: std::collections::BTreeSet<&String> = la.keys().chain(lb.keys()).collect();
    for k in keys {
        let (va, vb) = (la.get(k), lb.get(k));
        if va != vb {
            let name = match k.find('[') {
                Some(i) => k[..i].to_string(),
                None => k.clone(),
            };
            let show = |v: Option<&Vec<u8>>| v.map(|v| String::from_utf8_lossy(v).into_owned());
            if out.last().is_some_and(|l| l.0 == name) {
                continue;
            }
            if name != *k {
                // An array: show it whole.
                let arr = |j: &Json| {
                    name.split('.')
                        .try_fold(j, |j, p| j.get(p.as_bytes()))
                        .map(|v| String::from_utf8_lossy(&v.to_unformatted()).into_owned())
                };
                out.push((name.clone(), arr(a), arr(b)));
            } else {
                out.push((name, show(va), show(vb)));
            }
        }
    }
    out
}

/// One difference, for the report's examples.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Example {
    /// Where the baseline alert is (`file:line`), if any.
    pub baseline: Option<String>,
    /// Where the replayed event came from (`file:line`), if any.
    pub replay: Option<String>,
    /// For a changed alert: each key with its baseline and replay values.
    pub keys: Vec<(String, Option<String>, Option<String>)>,
}

/// The differences of one rule (a changed alert counts under its baseline rule).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RuleChanges {
    /// The rule's description.
    pub description: String,
    /// Alerts only in the baseline.
    pub only_baseline: u64,
    /// Alerts only in the replay.
    pub only_replay: u64,
    /// Alerts in both, with other values.
    pub changed: u64,
    /// How often each key differed among the changed alerts.
    pub changed_keys: BTreeMap<String, u64>,
    /// The first few differences.
    pub examples: Vec<Example>,
}

/// The change report.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ChangeReport {
    /// The baseline file.
    pub baseline: String,
    /// Alerts in the baseline.
    pub baseline_alerts: u64,
    /// Alerts in the replay.
    pub replay_alerts: u64,
    /// Alerts identical in both.
    pub same: u64,
    /// Differences by rule id.
    pub by_rule: BTreeMap<u32, RuleChanges>,
}

impl Baseline {
    /// Reads an alerts.json file (blank lines allowed).
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let io = |source| BaselineError::Io { path: path.to_path_buf(), source };
        let f = std::fs::File::open(path).map_err(io)?;
        let mut b = Baseline { path: path.to_path_buf(), by_source: HashMap::new(), count: 0 };
        for (i, line) in std::io::BufReader::new(f).split(b'\n').enumerate() {
            let line = line.map_err(io)?;
            let lineno = i as u32 + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Some(a @ Json::Object(_)) = json::parse_complete(&line) else {
                return Err(BaselineError::NotAnAlert { path: path.to_path_buf(), line: lineno });
            };
            if a.get(b"rule").is_none() {
                return Err(BaselineError::NotAnAlert { path: path.to_path_buf(), line: lineno });
            }
            b.by_source.entry(source_key(&a)).or_default().push_back(Stored { line: lineno, text: line.into() });
            b.count += 1;
        }
        Ok(b)
    }

    /// Alerts in the baseline.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether the baseline has no alert.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// A comparison that replay alerts are fed to.
    pub fn compare(self) -> Comparison {
        let report = ChangeReport {
            baseline: self.path.display().to_string(),
            baseline_alerts: self.count,
            ..Default::default()
        };
        Comparison { baseline: self, report }
    }
}

/// A comparison in progress: feed it every replay alert, then [`Comparison::finish`].
pub struct Comparison {
    baseline: Baseline,
    report: ChangeReport,
}

impl Comparison {
    fn entry(&mut self, rule: (u32, String)) -> &mut RuleChanges {
        self.report.by_rule.entry(rule.0).or_insert_with(|| RuleChanges { description: rule.1, ..Default::default() })
    }

    /// One alert of the replay, from the input at `origin` (`file:line`).
    pub fn alert(&mut self, alert: &Json, origin: impl FnOnce() -> String) {
        self.report.replay_alerts += 1;
        let key = source_key(alert);
        let stored = self.baseline.by_source.get_mut(&key).and_then(|q| q.pop_front());
        let Some(stored) = stored else {
            let e = self.entry(rule_of(alert));
            e.only_replay += 1;
            if e.examples.len() < EXAMPLES {
                e.examples.push(Example { baseline: None, replay: Some(origin()), keys: Vec::new() });
            }
            return;
        };
        let base = json::parse_complete(&stored.text).unwrap_or(Json::Null);
        let keys = changed_keys(&base, alert);
        if keys.is_empty() {
            self.report.same += 1;
            return;
        }
        let at = format!("{}:{}", self.baseline.path.display(), stored.line);
        let e = self.entry(rule_of(&base));
        e.changed += 1;
        for k in &keys {
            *e.changed_keys.entry(k.0.clone()).or_default() += 1;
        }
        if e.examples.len() < EXAMPLES {
            e.examples.push(Example { baseline: Some(at), replay: Some(origin()), keys });
        }
    }

    /// The report: what is left of the baseline is only in the baseline.
    pub fn finish(mut self) -> ChangeReport {
        let mut left: Vec<Stored> = std::mem::take(&mut self.baseline.by_source).into_values().flatten().collect();
        left.sort_by_key(|s| s.line);
        for s in left {
            let base = json::parse_complete(&s.text).unwrap_or(Json::Null);
            let at = format!("{}:{}", self.baseline.path.display(), s.line);
            let e = self.entry(rule_of(&base));
            e.only_baseline += 1;
            if e.examples.len() < EXAMPLES {
                e.examples.push(Example { baseline: Some(at), replay: None, keys: Vec::new() });
            }
        }
        self.report
    }
}

impl ChangeReport {
    /// Alerts that differ (changed, or in only one of the two).
    pub fn differences(&self) -> u64 {
        self.by_rule.values().map(|r| r.only_baseline + r.only_replay + r.changed).sum()
    }

    /// The report as text.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let n = self.differences();
        let _ = writeln!(
            s,
            "change report: baseline {} has {} alert{}, the replay {}; {} identical",
            self.baseline,
            self.baseline_alerts,
            if self.baseline_alerts == 1 { "" } else { "s" },
            self.replay_alerts,
            self.same
        );
        if n == 0 {
            let _ = writeln!(s, "no change (timestamp and id aside)");
            return s;
        }
        let _ = writeln!(
            s,
            "{n} alert{} differ, in {} rule{}:",
            if n == 1 { "" } else { "s" },
            self.by_rule.len(),
            if self.by_rule.len() == 1 { "" } else { "s" }
        );
        for (id, r) in &self.by_rule {
            let mut parts = Vec::new();
            if r.only_baseline > 0 {
                parts.push(format!("{} only in the baseline", r.only_baseline));
            }
            if r.only_replay > 0 {
                parts.push(format!("{} only in the replay", r.only_replay));
            }
            if r.changed > 0 {
                let keys: Vec<String> = r.changed_keys.iter().map(|(k, c)| format!("{k} ×{c}")).collect();
                parts.push(format!("{} changed ({})", r.changed, keys.join(", ")));
            }
            let _ = writeln!(s, "  rule {id} ({}): {}", r.description, parts.join(", "));
            for e in &r.examples {
                let place = match (&e.baseline, &e.replay) {
                    (Some(b), Some(r)) => format!("{b} ~ {r}"),
                    (Some(b), None) => b.clone(),
                    (None, Some(r)) => r.clone(),
                    (None, None) => String::new(),
                };
                let _ = write!(s, "      {place}");
                for (k, a, b) in &e.keys {
                    let _ = write!(
                        s,
                        "  {k}: {} -> {}",
                        a.as_deref().unwrap_or("(absent)"),
                        b.as_deref().unwrap_or("(absent)")
                    );
                }
                let _ = writeln!(s);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Json {
        json::parse_complete(s.as_bytes()).unwrap()
    }

    #[test]
    fn keys_that_differ_ignore_time_and_id() {
        let a = j(r#"{"timestamp":"1","rule":{"level":5,"groups":["a","b"]},"id":"1.0","data":{"x":"1"}}"#);
        let b = j(r#"{"timestamp":"2","rule":{"level":7,"groups":["a","c"]},"id":"2.0","data":{"x":"1","y":"2"}}"#);
        let k = changed_keys(&a, &b);
        let names: Vec<&str> = k.iter().map(|k| k.0.as_str()).collect();
        assert_eq!(names, vec!["data.y", "rule.groups", "rule.level"]);
        assert_eq!(k[1].1.as_deref(), Some(r#"["a","b"]"#));
        assert_eq!(k[2], ("rule.level".into(), Some("5".into()), Some("7".into())));
        assert!(changed_keys(&a, &a).is_empty());
    }

    #[test]
    fn sources_pair_in_order() {
        let dir = std::env::temp_dir().join(format!("logtest-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("alerts.json");
        let a1 = r#"{"rule":{"id":"1","level":3},"agent":{"id":"000"},"full_log":"x","location":"l"}"#;
        let a2 = r#"{"rule":{"id":"2","level":3},"agent":{"id":"000"},"full_log":"y","location":"l"}"#;
        std::fs::write(&p, format!("{a1}\n{a1}\n\n{a2}\n")).unwrap();
        let b = Baseline::load(&p).unwrap();
        assert_eq!(b.len(), 3);
        let mut c = b.compare();
        c.alert(&j(a1), || "in:1".into());
        c.alert(&j(&a1.replace("\"level\":3", "\"level\":4")), || "in:2".into());
        c.alert(&j(&a1.replace("\"x\"", "\"z\"")), || "in:3".into());
        let r = c.finish();
        assert_eq!(r.same, 1);
        assert_eq!(r.by_rule[&1].changed, 1);
        assert_eq!(r.by_rule[&1].changed_keys["rule.level"], 1);
        assert_eq!(r.by_rule[&1].only_replay, 1);
        assert_eq!(r.by_rule[&2].only_baseline, 1);
        assert_eq!(r.differences(), 3);
        let text = r.render();
        assert!(text.contains("rule 1 (): 1 only in the replay, 1 changed (rule.level ×1)"), "{text}");
        assert!(text.contains(":4"), "{text}");
        std::fs::write(&p, "{}\n").unwrap();
        assert!(matches!(Baseline::load(&p), Err(BaselineError::NotAnAlert { line: 1, .. })));
        std::fs::remove_dir_all(&dir).ok();
    }
}
