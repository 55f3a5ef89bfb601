//! A session: one stream of events over a shared [`Ruleset`], with its own
//! correlation state (a `wazuh-logtest` session, or one analysisd).
//!
//! Processing follows logtest's semantics (spec rules.md 6.4): the returned
//! rule is reported even at level 0 (no alert, not stored); an `ignore`
//! window suppresses without falling back to the parent; `alert` is "stored
//! and `log_alert_level` ≤ level".

use std::sync::Arc;

use crate::correlate::Correlation;
use crate::decode::Scratch;
use crate::event::{Event, StaticField};
use crate::geoip::GeoIp;
use crate::predecode;
use crate::rules::eval::{self, Ctx};
use crate::rules::trace::{NoTrace, RulesDebug, Trace};
use crate::Ruleset;

/// Where correlation time comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Clock {
    /// Wall-clock receive time, as analysisd.
    #[default]
    Arrival,
    /// An RFC 3339 timestamp in this (dynamic) field, e.g. `aws.eventTime`;
    /// events without a parseable value fall back to their arrival time.
    EventField(Vec<u8>),
}

impl std::str::FromStr for Clock {
    type Err = String;

    /// `arrival` or `event:FIELD`.
    fn from_str(s: &str) -> Result<Clock, String> {
        match s {
            "arrival" => Ok(Clock::Arrival),
            _ => match s.strip_prefix("event:") {
                Some(f) if !f.is_empty() => Ok(Clock::EventField(f.as_bytes().to_vec())),
                _ => Err(format!("invalid clock '{s}': expected 'arrival' or 'event:FIELD'")),
            },
        }
    }
}

/// A point in time: seconds since the epoch and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    /// Seconds since the epoch.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Timestamp {
    /// The wall clock now.
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp { secs: d.as_secs() as i64, nanos: d.subsec_nanos() }
    }

    /// Parses an RFC 3339 time, `YYYY-MM-DDTHH:MM:SS[.fff][Z|±hh:mm]` (also
    /// `±hhmm`, a space for the `T`, and no offset meaning UTC). Only real
    /// times are accepted: `2022-13-45T99:99:99Z` is not one and gives `None`
    /// (never a normalised neighbour), so the caller falls back to the
    /// arrival time.
    pub(crate) fn parse_rfc3339(s: &[u8]) -> Option<Timestamp> {
        let b = s;
        if b.len() < 19
            || b[4] != b'-'
            || b[7] != b'-'
            || !(b[10] == b'T' || b[10] == b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let d = b.get(r)?;
            d.iter().all(u8::is_ascii_digit).then(|| d.iter().fold(0i64, |n, c| n * 10 + (c - b'0') as i64))
        };
        let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
        let mut rest = &b[19..];
        let mut nanos = 0i64;
        if let Some(r) = rest.strip_prefix(b".") {
            let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            nanos =
                r[..n.min(9)].iter().fold(0i64, |acc, c| acc * 10 + (c - b'0') as i64) * 10i64.pow(9 - n.min(9) as u32);
            rest = &r[n..];
        }
        let offset = match rest {
            b"" | b"Z" | b"z" => 0,
            [sign @ (b'+' | b'-'), r @ ..] => {
                let digits = |x: &[u8]| -> Option<i64> {
                    (x.len() == 2 && x.iter().all(u8::is_ascii_digit))
                        .then(|| ((x[0] - b'0') * 10 + (x[1] - b'0')) as i64)
                };
                let (oh, om) = match r {
                    [a, b2, b':', c, d2] => (digits(&[*a, *b2])?, digits(&[*c, *d2])?),
                    [a, b2, c, d2] => (digits(&[*a, *b2])?, digits(&[*c, *d2])?),
                    _ => return None,
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                (if *sign == b'-' { -1 } else { 1 }) * (oh * 3600 + om * 60)
            }
            _ => return None,
        };
        // jiff checks that the civil time exists (month, day of month, hour…).
        let dt = jiff::civil::DateTime::new(
            i16::try_from(y).ok()?,
            i8::try_from(mo).ok()?,
            i8::try_from(d).ok()?,
            i8::try_from(h).ok()?,
            i8::try_from(mi).ok()?,
            i8::try_from(se).ok()?,
            i32::try_from(nanos).ok()?,
        )
        .ok()?;
        let utc = dt.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
        Some(Timestamp { secs: utc.as_second() - offset, nanos: nanos as u32 })
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date (year, month, day) of a day number since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Options of a session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// The manager's host name (`manager.name`, agent 000's name).
    pub manager_name: Vec<u8>,
    /// Where correlation time comes from.
    pub clock: Clock,
    /// Capacity of the global event list (`memory_size`).
    pub memory_size: usize,
    /// GeoIP database: when set, events get `srcgeoip`/`dstgeoip` after decoding
    /// and the engine behaves as a GeoIP build (`LIBGEOIP_ENABLED`).
    pub geoip: Option<Arc<GeoIp>>,
    /// `analysisd.geoip_jsonout`: alerts carry `srcgeoip`/`dstgeoip` root keys.
    pub geoip_jsonout: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            manager_name: local_hostname().into_bytes(),
            clock: Clock::Arrival,
            memory_size: 8192,
            geoip: None,
            geoip_jsonout: false,
        }
    }
}

/// The machine's host name (as `gethostname`).
pub(crate) fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "wazuh-server".to_string())
}

/// The result of processing one event: the single "alert" type every output
/// format serialises.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The event, decoded.
    pub event: Arc<Event>,
    /// The returned rule (index into `ruleset.rules.rules`).
    pub rule: Option<crate::index::RuleIdx>,
    /// The returned rule's firedtimes after this event (0 for a forwarded alert's rule).
    pub(crate) firedtimes: u32,
    /// `previous_output` entries.
    pub previous: Vec<Vec<u8>>,
    /// The content a `check_diff` rule saw before (the alert's `previous_log`).
    pub(crate) previous_log: Option<Vec<u8>>,
    /// Description after `$(field)` substitution.
    pub description: Vec<u8>,
    /// Would analysisd write this alert (stored and level ≥ log_alert_level)?
    pub alert: bool,
    /// `wazuh-logtest -v`'s rule trace, when asked for.
    pub rules_debug: Option<Vec<String>>,
    /// Messages for the logtest response (MITRE warnings, …).
    pub(crate) messages: Vec<String>,
    /// Correlation time of the event.
    pub time: Timestamp,
    /// Whether alert JSON shows the event's `srcgeoip`/`dstgeoip` (`analysisd.geoip_jsonout`).
    pub(crate) geoip_jsonout: bool,
}

/// Why an event could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// The location or the message was refused at intake.
    #[error("{0}")]
    Intake(#[from] predecode::IntakeError),
}

/// One session: a stream of events over a shared [`Ruleset`], with its own correlation state
/// (history, firedtimes, `ignore` windows, first-time-seen keys, `check_diff` contents).
pub struct Session {
    rs: Arc<Ruleset>,
    corr: Correlation,
    /// The rule walk's lower-cased log (a buffer reused from event to event).
    lower_log: Vec<u8>,
    stage: DecodeStage,
    opts: SessionOptions,
    clock_field: Option<crate::event::FieldId>,
}

/// The stateless half of processing an event: intake (location, pre-decoding, host name),
/// decoding and GeoIP. It needs no correlation state, so a replay runs it on other threads
/// ([`DecodeStage::decode`]) and hands the events to [`Session::process_decoded`] in order.
pub struct DecodeStage {
    rs: Arc<Ruleset>,
    scratch: Scratch,
    manager_short: Vec<u8>,
    geoip: Option<Arc<GeoIp>>,
}

/// An event through intake and decoding, not yet matched (see [`DecodeStage`]).
pub struct Decoded(Event);

impl DecodeStage {
    /// A decode stage over `rs` with the session options `opts` (manager name, GeoIP).
    pub fn new(rs: Arc<Ruleset>, opts: &SessionOptions) -> DecodeStage {
        let manager_short = opts.manager_name.split(|&b| b == b'.').next().unwrap_or(b"").to_vec();
        DecodeStage { rs, scratch: Scratch::default(), manager_short, geoip: opts.geoip.clone() }
    }

    /// Intake and decoding of one event from `location`.
    pub fn decode(&mut self, location: &[u8], log: &[u8]) -> Result<Decoded, ProcessError> {
        let mut ev = self.intake(location, log)?;
        self.decode_event(&mut ev, &mut NoTrace);
        Ok(Decoded(ev))
    }

    /// Intake: the location as logtest passes it (escaped into a bounded
    /// buffer, then unescaped by analysisd), pre-decoding, the host name.
    fn intake(&self, location: &[u8], log: &[u8]) -> Result<Event, ProcessError> {
        let loc = predecode::unescape_location(&predecode::escape_location(location));
        let origin = predecode::parse_location(&loc)?;
        let mut ev = Event::new(origin.clone(), log.to_vec());
        ev.hostname = predecode::event_hostname(&origin, &ev.pre, &ev.full_log, &self.manager_short).to_vec();
        Ok(ev)
    }

    /// Decoding, then GeoIP (upstream looks srcip/dstip up as the decoders
    /// set them, so addresses the accumulator copies in later get none), then
    /// the field index rules read.
    fn decode_event(&mut self, ev: &mut Event, trace: &mut impl Trace) {
        let rs = &*self.rs;
        rs.decoders.decode_traced(ev, &mut self.scratch, None, trace);
        if let Some(g) = &self.geoip {
            g.fill(ev);
        }
        ev.index_fields(&rs.fields);
    }
}

impl Session {
    /// A fresh session (empty history) over `rs`.
    pub fn new(rs: Arc<Ruleset>, opts: SessionOptions) -> Session {
        let corr = Correlation::new(rs.rules.rules.len(), rs.rules.max_freq, opts.memory_size);
        let stage = DecodeStage::new(Arc::clone(&rs), &opts);
        let clock_field = match &opts.clock {
            Clock::EventField(f) => rs.fields.get(f),
            Clock::Arrival => None,
        };
        Session { rs, corr, lower_log: Vec::new(), stage, opts, clock_field }
    }

    /// The ruleset it runs.
    pub fn ruleset(&self) -> &Arc<Ruleset> {
        &self.rs
    }

    /// Its options.
    pub(crate) fn options(&self) -> &SessionOptions {
        &self.opts
    }

    /// Processes one event received at `arrival` from `location`; with
    /// `debug`, `rules_debug` holds `wazuh-logtest -v`'s rule trace.
    pub fn process(
        &mut self,
        location: &[u8],
        log: &[u8],
        arrival: Timestamp,
        debug: bool,
    ) -> Result<Processed, ProcessError> {
        if debug {
            let mut trace = RulesDebug::default();
            let mut p = self.process_traced(location, log, arrival, &mut trace)?;
            p.rules_debug = Some(trace.lines);
            Ok(p)
        } else {
            self.process_traced(location, log, arrival, &mut NoTrace)
        }
    }

    /// Processes one event, reporting every step to `trace`.
    pub fn process_traced(
        &mut self,
        location: &[u8],
        log: &[u8],
        arrival: Timestamp,
        trace: &mut impl Trace,
    ) -> Result<Processed, ProcessError> {
        let mut ev = self.stage.intake(location, log)?;
        self.stage.decode_event(&mut ev, trace);
        Ok(self.correlate(ev, arrival, trace))
    }

    /// Matches an event decoded by a [`DecodeStage`] over the same ruleset, as
    /// [`Session::process`] would have (without a trace).
    pub fn process_decoded(&mut self, ev: Decoded, arrival: Timestamp) -> Processed {
        self.correlate(ev.0, arrival, &mut NoTrace)
    }

    /// The stateful half: the clock, the accumulator, the rule walk, correlation.
    fn correlate(&mut self, mut ev: Event, arrival: Timestamp, trace: &mut impl Trace) -> Processed {
        let rs = Arc::clone(&self.rs);
        let time = self.event_time(&ev, arrival);
        ev.time = time.secs;
        ev.nanos = time.nanos;
        self.accumulate(&rs, &mut ev, time);
        let outcome = self.match_rules(&rs, &ev, time, trace);
        self.conclude(&rs, ev, outcome, time)
    }

    /// The event's correlation time on the session's clock.
    fn event_time(&self, ev: &Event, arrival: Timestamp) -> Timestamp {
        match &self.opts.clock {
            Clock::Arrival => arrival,
            Clock::EventField(name) => {
                let v = match self.clock_field {
                    Some(id) => ev.field(id),
                    None => ev.field_by_name(name),
                };
                v.and_then(Timestamp::parse_rfc3339).unwrap_or(arrival)
            }
        }
    }

    /// The decoder's `<accumulate>`.
    fn accumulate(&mut self, rs: &Ruleset, ev: &mut Event, time: Timestamp) {
        if let Some(d) = rs.decoders.info(ev) {
            if d.accumulate {
                self.corr.accumulate(ev, &d.name, time.secs);
            }
        }
    }

    /// The rule tree walk.
    fn match_rules(&mut self, rs: &Ruleset, ev: &Event, time: Timestamp, trace: &mut impl Trace) -> eval::Outcome {
        let (hhmm, weekday) = local_hhmm_weekday(time.secs);
        let mut ctx = Ctx {
            tree: &rs.rules,
            fields: &rs.fields,
            decoders: &rs.decoders,
            lists: &rs.lists,
            ev,
            decoder_hash: eval::decoder_hash(&rs.decoders, ev),
            lower_log: eval::LowerLog::new(&mut self.lower_log),
            now: time.secs,
            hhmm,
            weekday,
        };
        eval::evaluate(&mut ctx, &mut self.corr, trace)
    }

    /// What the rule found makes of the event: its description, `ignore`,
    /// whether it alerts, and storing it for correlation.
    fn conclude(&mut self, rs: &Ruleset, ev: Event, outcome: eval::Outcome, time: Timestamp) -> Processed {
        let mut processed = Processed {
            event: Arc::new(ev),
            rule: outcome.rule,
            firedtimes: outcome.firedtimes,
            previous: Vec::new(),
            previous_log: None,
            description: Vec::new(),
            alert: false,
            rules_debug: None,
            messages: Vec::new(),
            time,
            geoip_jsonout: self.opts.geoip_jsonout,
        };
        let Some(ri) = outcome.rule else {
            return processed;
        };
        let rule = &rs.rules.rules[ri];
        processed.description =
            substitute_description_with(&rule.description, &processed.event, self.opts.geoip.is_some());
        processed.previous = outcome.previous;
        processed.previous_log = outcome.previous_log;
        processed.messages.extend(rs.mitre[ri].1.iter().cloned());
        if rule.level == 0 || self.corr.ignored(ri, rule.ignore, time.secs) {
            return processed;
        }
        processed.alert = rs.alerts.log_alert_level as u32 <= rule.level;
        let has_sid_list = rs.rules.has_sid_list[ri];
        let feeds = &rs.rules.feeds_groups[ri];
        let kept = if has_sid_list || !feeds.is_empty() || rs.rules.any_event_search {
            processed.event.for_history()
        } else {
            processed.event.time_only()
        };
        self.corr.store(kept, outcome.matched, ri, has_sid_list, feeds);
        processed
    }
}

/// `HH:MM` and weekday (0 = Sunday) of a time, in UTC.
fn local_hhmm_weekday(secs: i64) -> ([u8; 5], u8) {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (h, m) = ((rem / 3600) as u8, ((rem % 3600) / 60) as u8);
    let out = [b'0' + h / 10, b'0' + h % 10, b':', b'0' + m / 10, b'0' + m % 10];
    (out, ((days + 4).rem_euclid(7)) as u8)
}

/// Description `$(field)` substitution (spec rules.md 3.6), as a build without GeoIP.
pub fn substitute_description(desc: &[u8], ev: &Event) -> Vec<u8> {
    substitute_description_with(desc, ev, false)
}

/// Description `$(field)` substitution; with `geoip` (a GeoIP build),
/// `$(srcgeoip)`/`$(dstgeoip)` name the event's geoip values instead of dynamic fields.
pub(crate) fn substitute_description_with(full: &[u8], ev: &Event, geoip: bool) -> Vec<u8> {
    // Only the first 1024 bytes are scanned; a result that would reach 1024 bytes
    // falls back to the whole, unsubstituted description.
    let desc = &full[..full.len().min(1024)];
    let mut out = Vec::with_capacity(desc.len());
    let mut i = 0;
    while i < desc.len() {
        if desc[i] == b'$' && desc.get(i + 1) == Some(&b'(') {
            let start = i + 2;
            let Some(close) = desc[start..].iter().position(|&b| b == b')') else {
                out.extend_from_slice(&desc[i..]);
                break;
            };
            let name = &desc[start..start + close];
            let v = match name {
                b"srcgeoip" if geoip => ev.srcgeoip.as_deref(),
                b"dstgeoip" if geoip => ev.dstgeoip.as_deref(),
                _ => field_for_description(name, ev),
            };
            if let Some(v) = v {
                if out.len() + v.len() >= 1024 {
                    // Past the cap: no need to build the rest.
                    return full.to_vec();
                }
                out.extend_from_slice(v);
            }
            i = start + close + 1;
            continue;
        }
        out.push(desc[i]);
        i += 1;
    }
    if out.len() >= 1024 {
        return full.to_vec();
    }
    out
}

fn field_for_description<'a>(name: &[u8], ev: &'a Event) -> Option<&'a [u8]> {
    use StaticField::*;
    let st = |f| ev.get_static(f);
    match name {
        b"dstuser" => st(Dstuser),
        b"srcuser" => st(Srcuser),
        b"srcip" => st(Srcip),
        b"dstip" => st(Dstip),
        b"srcport" => st(Srcport),
        b"dstport" => st(Dstport),
        b"protocol" => st(Protocol),
        b"action" => st(Action),
        b"id" => st(Id),
        b"url" => st(Url),
        b"data" => st(Data),
        b"status" => st(Status),
        b"extra_data" => st(ExtraData),
        b"system_name" => st(SystemName),
        b"program_name" => ev.program_name(),
        b"hostname" => Some(&ev.hostname[..]),
        _ => ev.field_by_name(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        let t = Timestamp::parse_rfc3339(b"2024-05-01T10:00:05Z").unwrap();
        assert_eq!(t.secs, 1714557605);
        let t2 = Timestamp::parse_rfc3339(b"2024-05-01T12:00:05.5+02:00").unwrap();
        assert_eq!(t2.secs, 1714557605);
        assert_eq!(t2.nanos, 500_000_000);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert!(Timestamp::parse_rfc3339(b"nope").is_none());
        assert_eq!(Timestamp::parse_rfc3339(b"2024-05-01T10:00:05+0000").unwrap().secs, 1714557605);
        // Not real times: no normalisation into a neighbouring one.
        for bad in [
            "2022-13-45T99:99:99Z",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T10:60:00Z",
            "2024-05-01T10:00:60Z",
            "2024-05-01T10:00:00+24:00",
            "2024-05-01T10:00:00.Z",
            "2024-05-01T10:00:00 junk",
            "+024-05-01T10:00:00Z",
        ] {
            assert!(Timestamp::parse_rfc3339(bad.as_bytes()).is_none(), "{bad}");
        }
        assert!(Timestamp::parse_rfc3339(b"2024-02-29T23:59:59.999999999999Z").is_some());
    }
}
