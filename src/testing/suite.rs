//! Native test suites: YAML files of cases, each a sequence of events with
//! expectations for every event's alert (see the README for the format and
//! `docs/suite.schema.json` for its JSON Schema).
//!
//! ```yaml
//! ruleset:                 # optional; paths relative to this file
//!   rules: [../rules/*.xml]
//! cases:
//!   - name: six failed console logins raise a break-in alert
//!     location: Wazuh-AWS  # default: stdin
//!     clock: arrival       # or event:FIELD
//!     events:
//!       - file: data/break-in.events       # one event per line
//!       - '{"integration": "aws", ...}'    # one event
//!       - {event: 'x', at: '+30s'}         # arrival time: +N[s|m|h] after the previous, or RFC 3339
//!     expect:
//!       - {rule: 80254, level: 5}
//!       - {alert: false}
//!       - rule: 80255
//!         fields: {data.aws.userIdentity.userName: anaya, rule.firedtimes: 1}
//!     snapshot: true
//! ```
//!
//! Every value keeps the line it was written on, so a failure points at the
//! case and at the expectation that did not hold.

use std::path::{Path, PathBuf};

use crate::diagnostics::{Code, Diagnostic, Severity, SourceFile};
use crate::session::{Clock, Timestamp};

/// A parsed suite file.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite file.
    pub path: PathBuf,
    /// The suite's own ruleset, if it names one.
    pub ruleset: Option<SuiteRuleset>,
    /// Its cases, in file order.
    pub cases: Vec<Case>,
}

/// `ruleset:` of a suite: globs resolved against the suite's directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SuiteRuleset {
    /// A Wazuh home (its `etc/ossec.conf` `<ruleset>`).
    pub home: Option<PathBuf>,
    /// Decoder files or globs, after the home's.
    pub decoders: Vec<String>,
    /// Rule files or globs, after the home's.
    pub rules: Vec<String>,
    /// CDB list text files or globs.
    pub lists: Vec<String>,
    /// A MITRE ATT&CK technique table (JSON).
    pub mitre: Option<PathBuf>,
}

/// One case: its own session, its events in order, one expectation per event.
#[derive(Debug, Clone)]
pub struct Case {
    /// Shown in reports; `--filter` matches it.
    pub name: String,
    /// Line of the case's `name`.
    pub line: u32,
    /// Where the events come from (default `stdin`).
    pub location: String,
    /// The correlation clock.
    pub clock: Clock,
    /// Arrival time of the first event (default: when the case runs).
    pub start: Option<Timestamp>,
    /// The events, in order.
    pub events: Vec<EventSpec>,
    /// One expectation per event from the first (fewer: later events unchecked).
    pub expect: Vec<Expectation>,
    /// Compare the case's alerts with its stored snapshot.
    pub snapshot: bool,
    /// `skip: REASON`: reported as skipped, not run.
    pub skip: Option<String>,
}

/// When an event arrives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum At {
    /// With the previous one (or at the start).
    Same,
    /// This many seconds after the previous one.
    After(f64),
    /// At this time.
    Exactly(Timestamp),
}

/// One event of a case.
#[derive(Debug, Clone)]
pub struct EventSpec {
    /// The event as the engine receives it.
    pub text: Vec<u8>,
    /// When it arrives.
    pub at: At,
    /// Where it was written: the suite line, or the events file and its line.
    pub file: PathBuf,
    /// Line in `file`.
    pub line: u32,
}

/// What one event must give. Unset keys are not checked.
#[derive(Debug, Clone, Default)]
pub struct Expectation {
    /// Line of the expectation in the suite.
    pub line: u32,
    /// The final rule's id.
    pub rule: Option<String>,
    /// The final rule's level.
    pub level: Option<String>,
    /// The decoder's name.
    pub decoder: Option<String>,
    /// logtest's `alert`.
    pub alert: Option<bool>,
    /// Dotted path into the alert object → expected text.
    pub fields: Vec<(String, String)>,
    /// Dotted paths that must not be in the alert object.
    pub absent: Vec<String>,
}

// ---- Reading the YAML tree (marked-yaml keeps every node's position). ----

/// The largest suite file read.
pub const MAX_SUITE_FILE: u64 = 256 << 20;

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode, MarkedSequenceNode};
use marked_yaml::Node;

struct Reader<'a> {
    file: SourceFile,
    dir: &'a Path,
    path: &'a Path,
}

fn pos(span: &marked_yaml::Span) -> (u32, u32) {
    span.start().map_or((0, 0), |m| (m.line() as u32, m.column() as u32))
}

impl Reader<'_> {
    fn err(&self, span: &marked_yaml::Span, msg: impl Into<String>) -> Box<Diagnostic> {
        let (l, c) = pos(span);
        Box::new(Diagnostic::ours(Code::SuiteInvalid, Severity::Fatal, msg).at(self.file.span(l, c, 0, 0)))
    }

    fn map<'n>(&self, n: &'n Node, what: &str) -> Result<&'n MarkedMappingNode, Box<Diagnostic>> {
        n.as_mapping().ok_or_else(|| self.err(n.span(), format!("{what}: expected a mapping (key: value)")))
    }

    fn seq<'n>(&self, n: &'n Node, what: &str) -> Result<&'n MarkedSequenceNode, Box<Diagnostic>> {
        n.as_sequence().ok_or_else(|| self.err(n.span(), format!("{what}: expected a list")))
    }

    fn scalar<'n>(&self, n: &'n Node, what: &str) -> Result<&'n MarkedScalarNode, Box<Diagnostic>> {
        n.as_scalar().ok_or_else(|| self.err(n.span(), format!("{what}: expected a single value")))
    }

    /// Refuses keys the format does not have, at the key.
    fn keys(&self, m: &MarkedMappingNode, allowed: &[&str], what: &str) -> Result<(), Box<Diagnostic>> {
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(self.err(
                    k.span(),
                    format!("{what}: unknown key `{}`; expected one of {}", k.as_str(), allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// A list of strings, or one string.
    fn strings(&self, n: &Node, what: &str) -> Result<Vec<String>, Box<Diagnostic>> {
        match n {
            Node::Scalar(s) => Ok(vec![s.as_str().to_string()]),
            Node::Sequence(q) => q.iter().map(|x| self.scalar(x, what).map(|s| s.as_str().to_string())).collect(),
            Node::Mapping(_) => Err(self.err(n.span(), format!("{what}: expected a list of values"))),
        }
    }

    fn boolean(&self, n: &Node, what: &str) -> Result<bool, Box<Diagnostic>> {
        let s = self.scalar(n, what)?;
        parse_bool(s.as_str())
            .ok_or_else(|| self.err(n.span(), format!("{what}: expected true or false, not '{}'", s.as_str())))
    }

    fn rel(&self, p: &str) -> String {
        if Path::new(p).is_absolute() {
            p.to_string()
        } else {
            self.dir.join(p).display().to_string()
        }
    }

    fn ruleset(&self, n: &Node) -> Result<SuiteRuleset, Box<Diagnostic>> {
        let m = self.map(n, "ruleset")?;
        self.keys(m, &["home", "decoders", "rules", "lists", "mitre"], "ruleset")?;
        let one = |k: &str| -> Result<Option<PathBuf>, Box<Diagnostic>> {
            m.get_node(k).map(|v| self.scalar(v, k).map(|s| PathBuf::from(self.rel(s.as_str())))).transpose()
        };
        let many = |k: &str| -> Result<Vec<String>, Box<Diagnostic>> {
            Ok(m.get_node(k)
                .map(|v| self.strings(v, k))
                .transpose()?
                .unwrap_or_default()
                .iter()
                .map(|g| self.rel(g))
                .collect())
        };
        Ok(SuiteRuleset {
            home: one("home")?,
            decoders: many("decoders")?,
            rules: many("rules")?,
            lists: many("lists")?,
            mitre: one("mitre")?,
        })
    }

    fn at(&self, n: &Node) -> Result<At, Box<Diagnostic>> {
        let s = self.scalar(n, "at")?;
        parse_at(s.as_str()).ok_or_else(|| {
            self.err(n.span(), format!("at: '{}' is neither +N[ms|s|m|h|d] nor an RFC 3339 time", s.as_str()))
        })
    }

    fn events(&self, n: &Node, out: &mut Vec<EventSpec>) -> Result<(), Box<Diagnostic>> {
        for ev in self.seq(n, "events")?.iter() {
            let (line, _) = pos(ev.span());
            match ev {
                Node::Scalar(t) => out.push(EventSpec {
                    text: t.as_str().as_bytes().to_vec(),
                    at: At::Same,
                    file: self.path.into(),
                    line,
                }),
                Node::Sequence(_) => {
                    return Err(self.err(ev.span(), "an event is a string, {file: PATH} or {event: TEXT}"))
                }
                Node::Mapping(m) => {
                    self.keys(m, &["event", "file", "at"], "event")?;
                    let at = m.get_node("at").map(|a| self.at(a)).transpose()?.unwrap_or(At::Same);
                    match (m.get_node("event"), m.get_node("file")) {
                        (Some(e), None) => out.push(EventSpec {
                            text: self.scalar(e, "event")?.as_str().as_bytes().to_vec(),
                            at,
                            file: self.path.into(),
                            line,
                        }),
                        (None, Some(f)) => {
                            let p = PathBuf::from(self.rel(self.scalar(f, "file")?.as_str()));
                            let bytes = crate::load::config::read_regular_file(&p, MAX_SUITE_FILE)
                                .map_err(|e| self.err(f.span(), format!("file: {}: {e}", p.display())))?;
                            let mut first = true;
                            for (i, l) in bytes.split(|&b| b == b'\n').enumerate() {
                                let l = l.strip_suffix(b"\r").unwrap_or(l);
                                if l.is_empty() {
                                    continue;
                                }
                                // `at` spaces the file's events: the first after the previous
                                // event, each next as much later; an absolute time is the first's.
                                let at = if first || matches!(at, At::After(_)) { at } else { At::Same };
                                first = false;
                                out.push(EventSpec { text: l.to_vec(), at, file: p.clone(), line: i as u32 + 1 });
                            }
                        }
                        _ => return Err(self.err(ev.span(), "an event has either `event:` or `file:`")),
                    }
                }
            }
        }
        Ok(())
    }

    fn expectation(&self, n: &Node) -> Result<Expectation, Box<Diagnostic>> {
        let m = self.map(n, "expect")?;
        self.keys(m, &["rule", "level", "decoder", "alert", "fields", "absent"], "expect")?;
        let text = |k: &str| -> Result<Option<String>, Box<Diagnostic>> {
            m.get_node(k).map(|v| self.scalar(v, k).map(|s| s.as_str().to_string())).transpose()
        };
        let mut fields = Vec::new();
        if let Some(f) = m.get_node("fields") {
            for (k, v) in self.map(f, "fields")?.iter() {
                fields.push((k.as_str().to_string(), node_text(v)));
            }
        }
        Ok(Expectation {
            line: pos(n.span()).0,
            rule: text("rule")?,
            level: text("level")?,
            decoder: text("decoder")?,
            alert: m.get_node("alert").map(|a| self.boolean(a, "alert")).transpose()?,
            fields,
            absent: m.get_node("absent").map(|a| self.strings(a, "absent")).transpose()?.unwrap_or_default(),
        })
    }

    fn case(&self, n: &Node) -> Result<Case, Box<Diagnostic>> {
        let m = self.map(n, "case")?;
        self.keys(m, &["name", "location", "clock", "start", "events", "expect", "snapshot", "skip"], "case")?;
        let name_node = m.get_node("name").ok_or_else(|| self.err(n.span(), "a case needs a `name`"))?;
        let name = self.scalar(name_node, "name")?.as_str().to_string();
        let line = pos(name_node.span()).0;
        let clock = match m.get_node("clock") {
            None => Clock::Arrival,
            Some(c) => self.scalar(c, "clock")?.as_str().parse::<Clock>().map_err(|e| self.err(c.span(), e))?,
        };
        let start = match m.get_node("start") {
            None => None,
            Some(v) => {
                let t = self.scalar(v, "start")?.as_str();
                Some(
                    Timestamp::parse_rfc3339(t.as_bytes())
                        .ok_or_else(|| self.err(v.span(), format!("start: '{t}' is not an RFC 3339 time")))?,
                )
            }
        };
        let mut events = Vec::new();
        match m.get_node("events") {
            Some(e) => self.events(e, &mut events)?,
            None => return Err(self.err(n.span(), format!("case '{name}' has no `events`"))),
        }
        if events.is_empty() {
            return Err(self.err(name_node.span(), format!("case '{name}' has no events")));
        }
        let mut expect = Vec::new();
        if let Some(e) = m.get_node("expect") {
            for x in self.seq(e, "expect")?.iter() {
                expect.push(self.expectation(x)?);
            }
        }
        if expect.len() > events.len() {
            return Err(Box::new(
                Diagnostic::ours(
                    Code::SuiteInvalid,
                    Severity::Fatal,
                    format!("case '{name}' expects {} events but has {}", expect.len(), events.len()),
                )
                .at(self.file.span(expect[events.len()].line, 0, 0, 0)),
            ));
        }
        Ok(Case {
            name,
            line,
            location: m
                .get_node("location")
                .map(|v| self.scalar(v, "location").map(|s| s.as_str().to_string()))
                .transpose()?
                .unwrap_or_else(|| "stdin".into()),
            clock,
            start,
            events,
            expect,
            snapshot: m.get_node("snapshot").map(|v| self.boolean(v, "snapshot")).transpose()?.unwrap_or(false),
            skip: m.get_node("skip").map(|v| self.scalar(v, "skip").map(|s| s.as_str().to_string())).transpose()?,
        })
    }
}

/// A YAML value as the text it is compared as: scalars as written, lists
/// and mappings as compact JSON (of their scalars as strings).
fn node_text(n: &Node) -> String {
    fn json(n: &Node) -> serde_json::Value {
        match n {
            Node::Scalar(s) => serde_json::Value::String(s.as_str().to_string()),
            Node::Sequence(q) => serde_json::Value::Array(q.iter().map(json).collect()),
            Node::Mapping(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.as_str().to_string(), json(v))).collect())
            }
        }
    }
    match n {
        Node::Scalar(s) => s.as_str().to_string(),
        other => json(other).to_string(),
    }
}

/// `+30s`, `+2m`, `+1h`, `+1.5s` (seconds), or an RFC 3339 time.
fn parse_at(text: &str) -> Option<At> {
    if let Some(rest) = text.strip_prefix('+') {
        let (num, unit) = match rest.find(|c: char| c.is_ascii_alphabetic()) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "s"),
        };
        let n: f64 = num.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
        let mult = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return None,
        };
        return Some(At::After(n * mult));
    }
    Timestamp::parse_rfc3339(text.as_bytes()).map(At::Exactly)
}

/// Parses a suite file. Event files named by `file:` are read now (relative
/// to the suite), so a missing one is a problem of the suite, with its line.
pub fn parse(path: &Path, text: &str) -> Result<Suite, Box<Diagnostic>> {
    let file = SourceFile::new(&path.display().to_string(), Some(path));
    let root = marked_yaml::parse_yaml(0, text).map_err(|e| {
        let (line, column) = yaml_load_marker(&e);
        Diagnostic::ours(Code::SuiteSyntax, Severity::Fatal, e.to_string()).at(file.span(line, column, 0, 0))
    })?;
    let r = Reader { file, dir: path.parent().unwrap_or(Path::new(".")), path };
    let top = r.map(&root, "suite")?;
    r.keys(top, &["ruleset", "cases"], "suite")?;
    let ruleset = top.get_node("ruleset").map(|n| r.ruleset(n)).transpose()?;
    let cases_node = top.get_node("cases").ok_or_else(|| r.err(root.span(), "a suite needs `cases`"))?;
    let cases = r.seq(cases_node, "cases")?.iter().map(|c| r.case(c)).collect::<Result<Vec<_>, _>>()?;
    Ok(Suite { path: path.into(), ruleset, cases })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" | "yes" => Some(true),
        "false" | "False" | "FALSE" | "no" => Some(false),
        _ => None,
    }
}

fn yaml_load_marker(e: &marked_yaml::LoadError) -> (u32, u32) {
    use marked_yaml::LoadError::*;
    let m = match e {
        TopLevelMustBeMapping(m)
        | TopLevelMustBeSequence(m)
        | UnexpectedAnchor(m)
        | MappingKeyMustBeScalar(m)
        | UnexpectedTag(m)
        | ScanError(m, _) => Some(*m),
        _ => None,
    };
    m.map_or((0, 0), |m| (m.line() as u32, m.column() as u32))
}

/// Reads and parses a suite file.
pub fn load(path: &Path) -> Result<Suite, Box<Diagnostic>> {
    let file = SourceFile::new(&path.display().to_string(), Some(path));
    let bytes = crate::load::config::read_regular_file(path, MAX_SUITE_FILE).map_err(|e| {
        Diagnostic::ours(Code::FileUnreadable, Severity::Fatal, format!("cannot read '{}': {e}", path.display()))
            .at(file.whole())
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Diagnostic::ours(Code::SuiteSyntax, Severity::Fatal, "not UTF-8 text").at(file.whole()))?;
    parse(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_events_and_expectations_keep_their_lines() {
        let dir = std::env::temp_dir().join(format!("logtest-suite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("e.events"), "one\n\ntwo\n").unwrap();
        let text = "\
ruleset:
  rules: [r/*.xml]
cases:
  - name: first
    location: Wazuh-AWS
    clock: event:aws.eventTime
    events:
      - file: e.events
        at: +30s
      - 'three'
      - {event: four, at: '2024-05-01T10:00:00Z'}
    expect:
      - {rule: 80254, level: 5}
      - rule: 80255
        fields: {rule.firedtimes: 1, rule.groups: [a, b]}
        absent: [data.x]
      - {alert: false}
    snapshot: true
";
        let s = parse(&dir.join("s.yaml"), text).unwrap();
        let r = s.ruleset.unwrap();
        assert_eq!(r.rules, vec![dir.join("r/*.xml").display().to_string()]);
        let c = &s.cases[0];
        assert_eq!((c.name.as_str(), c.line, c.location.as_str()), ("first", 4, "Wazuh-AWS"));
        assert_eq!(c.clock, Clock::EventField(b"aws.eventTime".to_vec()));
        let texts: Vec<&[u8]> = c.events.iter().map(|e| &e.text[..]).collect();
        assert_eq!(texts, [&b"one"[..], b"two", b"three", b"four"]);
        assert_eq!((c.events[0].at, c.events[1].at, c.events[2].at), (At::After(30.0), At::After(30.0), At::Same));
        assert_eq!((c.events[1].line, c.events[2].line), (3, 10));
        assert!(matches!(c.events[3].at, At::Exactly(_)));
        assert_eq!(c.expect[1].line, 14);
        assert_eq!(
            c.expect[1].fields,
            vec![("rule.firedtimes".into(), "1".into()), ("rule.groups".into(), "[\"a\",\"b\"]".into())]
        );
        assert_eq!(c.expect[2].alert, Some(false));
        assert!(c.snapshot);
    }

    #[test]
    fn problems_point_at_their_line() {
        let p = Path::new("/nonexistent/s.yaml");
        let e = parse(p, "cases:\n  - name: x\n    events: ['a']\n    expect: [{rool: 1}]\n").unwrap_err();
        assert_eq!(e.span.as_ref().map(|s| s.line), Some(4), "{e}");
        assert!(e.message.contains("rool"), "{e}");
        let e = parse(p, "cases:\n  - name: x\n    clock: sometimes\n    events: ['a']\n").unwrap_err();
        assert_eq!(e.span.as_ref().map(|s| s.line), Some(3), "{e}");
        let e = parse(p, "cases: [\n").unwrap_err();
        assert_eq!(e.code, Code::SuiteSyntax);
        let e = parse(p, "cases:\n  - name: x\n    events: [a]\n    expect: [{}, {}]\n").unwrap_err();
        assert!(e.message.contains("expects 2 events but has 1"), "{e}");
    }
}
