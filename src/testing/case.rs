//! Running one native case: a fresh session, the events at their arrival
//! times, and every expectation checked against what each event gave.
//!
//! An event goes through the engine as a `wazuh-logtest` request would: a
//! request over analysisd's limit is refused (7315), a ruleset that gave a
//! load `ERROR` refuses everything (as analysisd's logtest does). The
//! expectation keys compare as text: `rule` (id), `level`, `decoder` (name),
//! `alert` (logtest's flag: stored and at or above `log_alert_level`),
//! `fields` (dotted paths into the alert object, as in alerts.json) and
//! `absent` (paths that must not be there).

use std::sync::Arc;

use crate::diagnostics::{Origin, Severity};
use crate::json::Json;
use crate::logtest::{client_request_len, MAX_REQUEST};
use crate::output::alert::{alert_json, AlertContext};
use crate::session::{Session, SessionOptions, Timestamp};
use crate::testing::coverage::Coverage;
use crate::testing::suite::{At, Case, Expectation};
use crate::Ruleset;

/// What one event gave.
#[derive(Debug, Clone)]
pub struct EventResult {
    /// Arrival time used.
    pub arrival: Timestamp,
    /// The final rule's id and level, if any.
    pub rule: Option<(u32, u32)>,
    /// The name of the decoder the event carries.
    pub decoder: Option<String>,
    /// logtest's `alert`.
    pub alert: bool,
    /// The alert object (alerts.json shape; also for events that do not alert).
    pub output: Option<Json>,
    /// Why the event gave nothing (refused, not processable).
    pub error: Option<String>,
    /// The rule trace (`wazuh-logtest -v`), when asked for.
    pub rules_debug: Option<Vec<String>>,
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The suite line of the expectation.
    pub line: u32,
    /// 0-based event index.
    pub event: usize,
    /// `rule`, `level`, `decoder`, `alert`, `fields.PATH`, `absent.PATH`, `event`.
    pub key: String,
    /// What the expectation says.
    pub expected: String,
    /// What the event gave.
    pub got: String,
}

/// A case's run.
#[derive(Debug, Clone)]
pub struct CaseRun {
    /// One result per event, in order.
    pub events: Vec<EventResult>,
    /// The expectations that did not hold.
    pub failures: Vec<Failure>,
}

impl CaseRun {
    /// Every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The arrival time of each event: `start` (or now), moved by each `at`.
pub fn arrivals(case: &Case, now: Timestamp) -> Vec<Timestamp> {
    let mut t = case.start.unwrap_or(now);
    case.events
        .iter()
        .map(|e| {
            match e.at {
                At::Same => {}
                At::After(s) => {
                    let nanos = (s.fract() * 1e9).round() as i64 + t.nanos as i64;
                    t.secs += s.trunc() as i64 + nanos.div_euclid(1_000_000_000);
                    t.nanos = nanos.rem_euclid(1_000_000_000) as u32;
                }
                At::Exactly(x) => t = x,
            }
            t
        })
        .collect()
}

/// A ruleset that gave a load `ERROR`: Wazuh's logtest refuses every request.
fn broken(rs: &Ruleset) -> Option<String> {
    rs.diagnostics.iter().find(|d| d.origin == Origin::Wazuh && d.severity == Severity::Error).map(|d| {
        format!("the ruleset gave a load ERROR, so Wazuh's logtest refuses every event (codemsg -1): {}", d.message)
    })
}

/// Runs `case` in a fresh session with the given arrival times, recording
/// what each event reached in `coverage`; with `debug`, each event keeps its
/// rule trace.
pub fn run(
    rs: &Arc<Ruleset>,
    opts: &SessionOptions,
    case: &Case,
    times: &[Timestamp],
    coverage: &mut Coverage,
    debug: bool,
) -> CaseRun {
    let mut opts = opts.clone();
    opts.clock = case.clock.clone();
    let manager = opts.manager_name.clone();
    let mut session = Session::new(Arc::clone(rs), opts);
    let refused_all = broken(rs);
    let mut events = Vec::with_capacity(case.events.len());
    let mut has_token = false;
    for (ev, &arrival) in case.events.iter().zip(times) {
        let mut r = EventResult {
            arrival,
            rule: None,
            decoder: None,
            alert: false,
            output: None,
            error: None,
            rules_debug: None,
        };
        let token = has_token.then_some("00000000");
        if let Some(why) = &refused_all {
            r.error = Some(why.clone());
        } else if client_request_len(case.location.as_bytes(), &ev.text, token, false) > MAX_REQUEST {
            r.error = Some(format!(
                "refused: the wazuh-logtest request would be over {MAX_REQUEST} bytes \
                 ((7315): Failure to receive message: size is bigger than expected)"
            ));
        } else {
            match session.process(case.location.as_bytes(), &ev.text, arrival, debug) {
                Ok(p) => {
                    has_token = true;
                    coverage.event(rs, &p);
                    r.rules_debug = p.rules_debug.clone();
                    r.rule = p.rule.map(|ri| (rs.rules.rules[ri].id, rs.rules.rules[ri].level));
                    r.decoder = rs.decoders.info(&p.event).map(|d| String::from_utf8_lossy(&d.name).into_owned());
                    r.alert = p.alert;
                    let ctx = AlertContext { manager_name: &manager, logtest: false, id_suffix: 0 };
                    r.output = Some(alert_json(rs, &p, &ctx));
                }
                Err(e) => r.error = Some(e.to_string()),
            }
        }
        events.push(r);
    }
    let mut failures = Vec::new();
    for (i, (ex, r)) in case.expect.iter().zip(&events).enumerate() {
        check(ex, i, r, &mut failures);
    }
    CaseRun { events, failures }
}

/// The value at a dotted path of an alert object (`rule.groups.0` indexes arrays).
pub fn lookup<'a>(v: &'a Json, path: &str) -> Option<&'a Json> {
    let mut cur = v;
    for part in path.split('.') {
        cur = match cur {
            Json::Object(o) => o.iter().find(|(k, _)| k.as_slice() == part.as_bytes()).map(|(_, v)| v)?,
            Json::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A JSON value as text: strings as they are, anything else as compact JSON.
pub fn text(v: &Json) -> String {
    match v {
        Json::String(s) => String::from_utf8_lossy(s).into_owned(),
        other => String::from_utf8_lossy(&other.to_unformatted()).into_owned(),
    }
}

fn check(ex: &Expectation, i: usize, r: &EventResult, failures: &mut Vec<Failure>) {
    let mut fail = |key: &str, expected: &str, got: &str| {
        failures.push(Failure {
            line: ex.line,
            event: i,
            key: key.to_string(),
            expected: expected.to_string(),
            got: got.to_string(),
        })
    };
    let nothing = ex.rule.is_none()
        && ex.level.is_none()
        && ex.decoder.is_none()
        && ex.alert.is_none()
        && ex.fields.is_empty()
        && ex.absent.is_empty();
    if let Some(e) = &r.error {
        if !nothing {
            fail("event", "a processed event", e);
        }
        return;
    }
    let none = "(none)";
    if let Some(want) = &ex.rule {
        let got = r.rule.map_or(none.to_string(), |(id, _)| id.to_string());
        if *want != got {
            fail("rule", want, &got);
        }
    }
    if let Some(want) = &ex.level {
        let got = r.rule.map_or(none.to_string(), |(_, l)| l.to_string());
        if *want != got {
            fail("level", want, &got);
        }
    }
    if let Some(want) = &ex.decoder {
        let got = r.decoder.as_deref().unwrap_or(none);
        if want != got {
            fail("decoder", want, got);
        }
    }
    if let Some(want) = ex.alert {
        if want != r.alert {
            fail("alert", &want.to_string(), &r.alert.to_string());
        }
    }
    let out = r.output.as_ref();
    for (path, want) in &ex.fields {
        let got = out.and_then(|o| lookup(o, path)).map(text);
        match got {
            Some(g) if g == *want => {}
            Some(g) => fail(&format!("fields.{path}"), want, &g),
            None => fail(&format!("fields.{path}"), want, "(absent)"),
        }
    }
    for path in &ex.absent {
        if let Some(g) = out.and_then(|o| lookup(o, path)) {
            fail(&format!("absent.{path}"), "(absent)", &text(g));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::suite::EventSpec;

    #[test]
    fn arrival_times_follow_at() {
        let ev = |at| EventSpec { text: b"x".to_vec(), at, file: "f".into(), line: 1 };
        let t0 = Timestamp { secs: 1000, nanos: 0 };
        let case = Case {
            name: "c".into(),
            line: 1,
            location: "stdin".into(),
            clock: Default::default(),
            start: None,
            events: vec![ev(At::Same), ev(At::After(1.5)), ev(At::After(0.5)), ev(At::Exactly(t0)), ev(At::Same)],
            expect: vec![],
            snapshot: false,
            skip: None,
        };
        let secs: Vec<(i64, u32)> =
            arrivals(&case, Timestamp { secs: 10, nanos: 0 }).iter().map(|t| (t.secs, t.nanos)).collect();
        assert_eq!(secs, [(10, 0), (11, 500_000_000), (12, 0), (1000, 0), (1000, 0)]);
    }

    #[test]
    fn lookups() {
        let v = crate::json::parse_complete(br#"{"rule":{"id":"5","groups":["a","b"],"firedtimes":2}}"#).unwrap();
        assert_eq!(lookup(&v, "rule.id").map(text).as_deref(), Some("5"));
        assert_eq!(lookup(&v, "rule.firedtimes").map(text).as_deref(), Some("2"));
        assert_eq!(lookup(&v, "rule.groups").map(text).as_deref(), Some("[\"a\",\"b\"]"));
        assert_eq!(lookup(&v, "rule.groups.1").map(text).as_deref(), Some("b"));
        assert!(lookup(&v, "rule.nope").is_none());
    }
}
