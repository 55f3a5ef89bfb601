//! What a replay saw, in numbers: events, alerts by rule and by level, the top users and source
//! addresses of the alerts, rule groups over time, and every input that gave no event.
//!
//! A [`Summary`] is built alert by alert, serialises to JSON (`--summary-json`) and merges
//! ([`Summary::merge`]), so the shards of a `--partition`ed replay add up to the whole.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::json::Json;

/// How many failures a summary keeps in full (all are counted and printed as they happen).
pub const KEPT_FAILURES: usize = 1000;

/// Alerts of one rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    /// `rule.level`.
    pub level: u32,
    /// `rule.description`: of its alerts, the first in byte order (descriptions with `$(field)`
    /// vary; this choice does not depend on the order of the alerts, so shards merge exactly).
    pub description: String,
    /// Alerts.
    pub count: u64,
}

/// Alerts of one description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescriptionCount {
    /// Alerts.
    pub count: u64,
    /// The rules whose alerts had it.
    pub rules: std::collections::BTreeSet<u32>,
}

/// A replay's numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Input files read.
    pub files: u64,
    /// Events by input kind (`cloudtrail`, `archives`, `aws-events`, `plain`).
    pub events_by_kind: BTreeMap<String, u64>,
    /// Events processed.
    pub events: u64,
    /// Events the engine refused (bad location, …).
    pub refused: u64,
    /// Alerts written.
    pub alerts: u64,
    /// Alerts by rule id (numeric order).
    pub by_rule: BTreeMap<u32, RuleCount>,
    /// Alerts by description (after `$(field)` substitution), with the rules that gave it.
    pub by_description: BTreeMap<String, DescriptionCount>,
    /// Alerts by level.
    pub by_level: BTreeMap<u32, u64>,
    /// Alerts by user (`aws.userIdentity.userName`, else `dstuser`, else `srcuser`).
    pub users: HashMap<String, u64>,
    /// Alerts by source address (`aws.sourceIPAddress`, else `srcip`).
    pub source_ips: HashMap<String, u64>,
    /// Alerts by hour (seconds since the epoch of the hour's start) and rule group.
    pub groups_by_hour: BTreeMap<i64, BTreeMap<String, u64>>,
    /// Inputs that gave no event: `file:line: why`, the first [`KEPT_FAILURES`].
    pub failures: Vec<String>,
    /// How many inputs gave no event.
    pub failure_count: u64,
    /// Files of a synced bucket the integration would not read, by reason.
    pub skipped: BTreeMap<String, u64>,
}

fn get<'j>(j: &'j Json, path: &[&[u8]]) -> Option<&'j Json> {
    path.iter().try_fold(j, |j, k| j.get(k))
}

fn text(j: Option<&Json>) -> Option<String> {
    j.and_then(Json::as_bytes).map(|b| String::from_utf8_lossy(b).into_owned())
}

impl Summary {
    /// Counts one alert (an alerts.json object) whose event's time is `secs`.
    pub fn add_alert(&mut self, alert: &Json, secs: i64) {
        self.alerts += 1;
        let rule = alert.get(b"rule");
        let id = text(rule.and_then(|r| r.get(b"id"))).and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
        let level = rule.and_then(|r| r.get(b"level")).and_then(Json::as_f64).unwrap_or(0.0) as u32;
        let description = text(rule.and_then(|r| r.get(b"description"))).unwrap_or_default();
        // Most alerts repeat a description already counted: no key copy for those.
        let d = match self.by_description.get_mut(&description) {
            Some(d) => d,
            None => self.by_description.entry(description.clone()).or_default(),
        };
        d.count += 1;
        d.rules.insert(id);
        let e =
            self.by_rule.entry(id).or_insert_with(|| RuleCount { level, description: description.clone(), count: 0 });
        e.count += 1;
        if description < e.description {
            e.description = description;
        }
        *self.by_level.entry(level).or_default() += 1;
        let user = text(get(alert, &[b"data", b"aws", b"userIdentity", b"userName"]))
            .or_else(|| text(get(alert, &[b"data", b"dstuser"])))
            .or_else(|| text(get(alert, &[b"data", b"srcuser"])));
        if let Some(u) = user {
            *self.users.entry(u).or_default() += 1;
        }
        let ip =
            text(get(alert, &[b"data", b"aws", b"sourceIPAddress"])).or_else(|| text(get(alert, &[b"data", b"srcip"])));
        if let Some(ip) = ip {
            *self.source_ips.entry(ip).or_default() += 1;
        }
        let hour = secs.div_euclid(3600) * 3600;
        let groups = self.groups_by_hour.entry(hour).or_default();
        if let Some(Json::Array(gs)) = rule.and_then(|r| r.get(b"groups")) {
            for g in gs {
                if let Some(g) = g.as_bytes() {
                    *groups.entry(String::from_utf8_lossy(g).into_owned()).or_default() += 1;
                }
            }
        }
    }

    /// Records an input that gave no event.
    pub fn add_failure(&mut self, what: String) {
        self.failure_count += 1;
        if self.failures.len() < KEPT_FAILURES {
            self.failures.push(what);
        }
    }

    /// Adds `other` (another shard of the same replay) to this one.
    pub fn merge(&mut self, other: Summary) {
        self.files += other.files;
        for (k, n) in other.events_by_kind {
            *self.events_by_kind.entry(k).or_default() += n;
        }
        self.events += other.events;
        self.refused += other.refused;
        self.alerts += other.alerts;
        for (id, r) in other.by_rule {
            let e = self.by_rule.entry(id).or_insert_with(|| RuleCount { count: 0, ..r.clone() });
            e.count += r.count;
            if r.description < e.description {
                e.description = r.description;
            }
        }
        for (d, c) in other.by_description {
            let e = self.by_description.entry(d).or_default();
            e.count += c.count;
            e.rules.extend(c.rules);
        }
        for (l, n) in other.by_level {
            *self.by_level.entry(l).or_default() += n;
        }
        for (u, n) in other.users {
            *self.users.entry(u).or_default() += n;
        }
        for (u, n) in other.source_ips {
            *self.source_ips.entry(u).or_default() += n;
        }
        for (h, gs) in other.groups_by_hour {
            let mine = self.groups_by_hour.entry(h).or_default();
            for (g, n) in gs {
                *mine.entry(g).or_default() += n;
            }
        }
        for f in other.failures {
            if self.failures.len() < KEPT_FAILURES {
                self.failures.push(f);
            }
        }
        self.failure_count += other.failure_count;
        for (k, n) in other.skipped {
            *self.skipped.entry(k).or_default() += n;
        }
    }

    /// The `n` largest entries of a count map, largest first (ties by name).
    pub fn top(map: &HashMap<String, u64>, n: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = map.iter().map(|(k, &c)| (k.as_str(), c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    /// Alerts by rule group in all.
    pub fn groups(&self) -> BTreeMap<&str, u64> {
        let mut out = BTreeMap::new();
        for gs in self.groups_by_hour.values() {
            for (g, n) in gs {
                *out.entry(g.as_str()).or_default() += n;
            }
        }
        out
    }

    /// The summary as text for a terminal or a CI log.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let kinds: Vec<String> = self.events_by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(
            s,
            "replay: {} events from {} file{} ({}), {} alert{}",
            self.events,
            self.files,
            if self.files == 1 { "" } else { "s" },
            if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") },
            self.alerts,
            if self.alerts == 1 { "" } else { "s" },
        );
        if self.refused > 0 {
            let _ = writeln!(s, "  {} events refused by analysisd's intake", self.refused);
        }
        if !self.by_rule.is_empty() {
            let _ = writeln!(s, "\nalerts by rule:");
            let mut rules: Vec<(&u32, &RuleCount)> = self.by_rule.iter().collect();
            rules.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
            for (id, r) in rules {
                let _ = writeln!(s, "  {:>8}  rule {:<6} level {:<2}  {}", r.count, id, r.level, r.description);
            }
            let _ = writeln!(s, "\nalerts by level:");
            for (l, n) in self.by_level.iter().rev() {
                let _ = writeln!(s, "  {n:>8}  level {l}");
            }
        }
        for (title, map) in [("top users", &self.users), ("top source IPs", &self.source_ips)] {
            if !map.is_empty() {
                let _ = writeln!(s, "\n{title} (alerts):");
                for (k, n) in Summary::top(map, 10) {
                    let _ = writeln!(s, "  {n:>8}  {k}");
                }
            }
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(s, "\nfiles not read (as the integration):");
            for (why, n) in &self.skipped {
                let _ = writeln!(s, "  {n:>8}  {why}");
            }
        }
        if self.failure_count > 0 {
            let _ = writeln!(s, "\n{} input(s) gave no event:", self.failure_count);
            for f in self.failures.iter().take(20) {
                let _ = writeln!(s, "  {f}");
            }
            if self.failure_count > 20 {
                let _ = writeln!(s, "  … and {} more (--summary-json keeps {KEPT_FAILURES})", self.failure_count - 20);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str, level: f64, user: &str) -> Json {
        crate::json::parse_complete(
            format!(
                r#"{{"rule":{{"level":{level},"description":"d{id}","id":"{id}","groups":["aws","g{id}"]}},"data":{{"aws":{{"userIdentity":{{"userName":"{user}"}},"sourceIPAddress":"192.0.2.1"}}}}}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn counts_and_merges() {
        let mut a = Summary::default();
        a.add_alert(&alert("80254", 5.0, "anaya"), 7200);
        a.add_alert(&alert("80254", 5.0, "anaya"), 7300);
        let mut b = Summary::default();
        b.add_alert(&alert("80255", 10.0, "bob"), 3600);
        b.add_failure("f:1: bad".into());
        a.merge(b);
        assert_eq!(a.alerts, 3);
        assert_eq!(a.by_rule[&80254].count, 2);
        assert_eq!(a.by_rule[&80255].level, 10);
        assert_eq!(a.by_level[&5], 2);
        assert_eq!(Summary::top(&a.users, 1), vec![("anaya", 2)]);
        assert_eq!(a.source_ips["192.0.2.1"], 3);
        assert_eq!(a.groups_by_hour[&7200]["g80254"], 2);
        assert_eq!(a.groups()["aws"], 3);
        assert_eq!(a.failure_count, 1);
        let text = a.render();
        assert!(text.contains("rule 80254  level 5"), "{text}");
        assert!(text.contains("f:1: bad"), "{text}");
        let back: Summary = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
    }
}
