//! Rule and decoder coverage of a test run: which rules fired (were an
//! event's final rule) and which decoders matched (were selected for an
//! event), per rule file and decoder file, and which never did.
//!
//! Rules that can never fire ([`crate::analysis::reach`]: `noalert`, below a
//! list that excludes them, correlation over such a rule) are listed apart
//! and not counted.

use std::collections::{BTreeMap, HashSet};

use crate::index::DecoderIdx;
use crate::json::Json;
use crate::session::Processed;
use crate::Ruleset;

/// What a run reached. Collect per case, then merge.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Ids of rules that were an event's final rule.
    pub fired: HashSet<u32>,
    /// Decoders whose information an event carried (the one selected).
    pub decoders: HashSet<DecoderIdx>,
}

impl Coverage {
    /// Records an event's final rule and decoder.
    pub fn event(&mut self, rs: &Ruleset, p: &Processed) {
        if let Some(ri) = p.rule {
            self.fired.insert(rs.rules.rules[ri].id);
        }
        if let Some(d) = p.event.decoder {
            self.decoders.insert(d);
        }
    }

    /// Adds what another run reached.
    pub fn merge(&mut self, other: Coverage) {
        self.fired.extend(other.fired);
        self.decoders.extend(other.decoders);
    }

    /// The report over a ruleset.
    pub fn report(&self, rs: &Ruleset) -> Report {
        let mut rule_files: BTreeMap<String, FileCoverage> = BTreeMap::new();
        let dead: std::collections::HashSet<_> =
            crate::analysis::reach::unreachable_rules(rs).into_iter().map(|u| u.rule).collect();
        let mut never_fire = Vec::new();
        for (ri, r) in rs.rules.rules.iter_enumerated() {
            if dead.contains(&ri) {
                never_fire.push(r.id);
                continue;
            }
            let f = rule_files.entry(r.span.file.to_string()).or_default();
            f.total += 1;
            if self.fired.contains(&r.id) {
                f.covered += 1;
            } else {
                f.missing.push(r.id.to_string());
            }
        }
        let mut decoder_files: BTreeMap<String, FileCoverage> = BTreeMap::new();
        for (di, d) in rs.decoders.nodes.iter_enumerated() {
            let f = decoder_files.entry(d.span.file.to_string()).or_default();
            f.total += 1;
            if self.decoders.contains(&di) {
                f.covered += 1;
            } else {
                f.missing.push(format!("{} (line {})", String::from_utf8_lossy(&d.original_name), d.span.line));
            }
        }
        Report { rule_files, decoder_files, never_fire }
    }
}

/// Coverage of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCoverage {
    /// Rules fired (or decoders matched) in the file.
    pub covered: usize,
    /// Rules that can fire (or decoders) in the file.
    pub total: usize,
    /// Rule ids never fired, or decoders never matched.
    pub missing: Vec<String>,
}

/// A coverage report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per rule file.
    pub rule_files: BTreeMap<String, FileCoverage>,
    /// Per decoder file.
    pub decoder_files: BTreeMap<String, FileCoverage>,
    /// Rules that can never fire (see [`crate::analysis::reach`]).
    pub never_fire: Vec<u32>,
}

fn sum(files: &BTreeMap<String, FileCoverage>) -> (usize, usize) {
    files.values().fold((0, 0), |(c, t), f| (c + f.covered, t + f.total))
}

fn pct(c: usize, t: usize) -> f64 {
    if t == 0 {
        100.0
    } else {
        100.0 * c as f64 / t as f64
    }
}

impl Report {
    /// Rules fired, out of those that can fire.
    pub fn rules(&self) -> (usize, usize) {
        sum(&self.rule_files)
    }

    /// Decoders matched, out of all.
    pub fn decoders(&self) -> (usize, usize) {
        sum(&self.decoder_files)
    }

    /// The rule coverage in percent (100 when there is nothing to cover).
    pub fn rule_percent(&self) -> f64 {
        let (c, t) = self.rules();
        pct(c, t)
    }

    /// Lines for a terminal or a CI log.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let (rc, rt) = self.rules();
        let (dc, dt) = self.decoders();
        s.push_str(&format!(
            "coverage: rules {rc}/{rt} fired ({:.1}%), decoders {dc}/{dt} matched ({:.1}%)\n",
            pct(rc, rt),
            pct(dc, dt)
        ));
        let list = |v: &[String]| {
            let shown: Vec<&str> = v.iter().take(40).map(String::as_str).collect();
            let more = if v.len() > 40 { format!(" … and {} more", v.len() - 40) } else { String::new() };
            format!("{}{more}", shown.join(", "))
        };
        for (name, f) in &self.rule_files {
            s.push_str(&format!("  rules    {name}: {}/{}", f.covered, f.total));
            if !f.missing.is_empty() {
                s.push_str(&format!("; never fired: {}", list(&f.missing)));
            }
            s.push('\n');
        }
        for (name, f) in &self.decoder_files {
            s.push_str(&format!("  decoders {name}: {}/{}", f.covered, f.total));
            if !f.missing.is_empty() {
                s.push_str(&format!("; never matched: {}", list(&f.missing)));
            }
            s.push('\n');
        }
        if !self.never_fire.is_empty() {
            let ids: Vec<String> = self.never_fire.iter().map(|i| i.to_string()).collect();
            s.push_str(&format!("  can never fire (not counted; `logtest check` says why): {}\n", list(&ids)));
        }
        s
    }

    /// `{"rules": {covered, total, percent, files: {name: {covered, total, missing}}}, "decoders": …, "never_fire": […]}`.
    pub fn json(&self) -> Json {
        let k = |n: &str| n.as_bytes().to_vec();
        let files = |m: &BTreeMap<String, FileCoverage>| {
            let (c, t) = sum(m);
            Json::Object(vec![
                (k("covered"), Json::Number(c as f64)),
                (k("total"), Json::Number(t as f64)),
                (k("percent"), Json::Number((pct(c, t) * 10.0).round() / 10.0)),
                (
                    k("files"),
                    Json::Object(
                        m.iter()
                            .map(|(name, f)| {
                                (
                                    k(name),
                                    Json::Object(vec![
                                        (k("covered"), Json::Number(f.covered as f64)),
                                        (k("total"), Json::Number(f.total as f64)),
                                        (
                                            k("missing"),
                                            Json::Array(
                                                f.missing.iter().map(|m| Json::String(m.as_bytes().to_vec())).collect(),
                                            ),
                                        ),
                                    ]),
                                )
                            })
                            .collect(),
                    ),
                ),
            ])
        };
        Json::Object(vec![
            (k("rules"), files(&self.rule_files)),
            (k("decoders"), files(&self.decoder_files)),
            (k("never_fire"), Json::Array(self.never_fire.iter().map(|&i| Json::Number(i as f64)).collect())),
        ])
    }
}
