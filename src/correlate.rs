//! Correlation state: the only mutable part of the engine
//! (upstream: src/analysisd/eventinfo.c `Search_LastSids`, `Search_LastGroups`,
//! `Search_LastEvents`; eventinfo_list.c).
//!
//! A [`Correlation`] belongs to one session. It keeps the events that produced
//! a final rule (newest last), the per-rule "previous matches" lists that
//! `if_matched_sid`/`if_matched_group` rules search, `firedtimes`, `ignore`
//! timestamps, first-time-seen keys and `check_diff` contents. Time is never
//! read here: every call gets `now` from the caller's clock.
//!
//! The counting rule (spec rules.md 4.2): a rule with `frequency="F"` matches
//! when F−1 qualifying previous events are in the window, i.e. it fires on the
//! F-th event counting the current one; the current event and the newest
//! counted event are then marked `matched = level`, which stops later searches
//! of rules of that level or lower at them.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::event::{Event, StaticField};
use crate::index::{IdxVec, RuleIdx};
use crate::rules::{Rule, SameField, Search};

/// An event kept for correlation.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    /// The event.
    pub(crate) ev: Event,
    /// Highest correlation level that consumed this event.
    pub(crate) matched: u32,
    /// The latest time of this event and every event stored before it: once
    /// that is out of a window, so is everything older in the list.
    latest: i64,
}

/// Per-session correlation state.
#[derive(Debug, Clone)]
pub(crate) struct Correlation {
    /// Global event list, oldest first; `base` is the sequence number of `events[0]`.
    events: VecDeque<Stored>,
    base: u64,
    capacity: usize,
    /// Per rule that owns a list: sequence numbers of stored events whose final
    /// rule it was. Maps (not per-rule vectors) keep a new session cheap.
    sid_lists: HashMap<RuleIdx, Vec<u64>>,
    /// Per `if_matched_group` rule: its group list.
    group_lists: HashMap<RuleIdx, Vec<u64>>,
    firedtimes: IdxVec<RuleIdx, u32>,
    ignore_since: IdxVec<RuleIdx, i64>,
    fts_seen: HashSet<Vec<u8>>,
    /// The last FTS keys of `ids` decoders (upstream `fts_list`, at most
    /// `analysisd.fts_list_size` = 32), for the "3 similar keys" truncation.
    fts_list: VecDeque<Vec<u8>>,
    /// `check_diff` contents per (hostname key, rule id).
    diff_last: HashMap<(Vec<u8>, u32), Vec<u8>>,
    /// Highest internal frequency of the ruleset: how many seconds old an
    /// entry must be to be evicted beyond the first 10.
    max_freq: u32,
    /// Decoder `<accumulate>` store: key → (last update, fields).
    accumulator: HashMap<Vec<u8>, Accumulated>,
    /// Accumulator lookups since its last purge.
    acm_lookups: u32,
}

/// One accumulator entry: last update and the carried fields.
type Accumulated = (i64, [Option<Vec<u8>>; ACCUMULATED.len()]);

/// The static fields the accumulator carries between events.
const ACCUMULATED: [StaticField; 7] = [
    StaticField::Dstuser,
    StaticField::Srcuser,
    StaticField::Dstip,
    StaticField::Srcip,
    StaticField::Dstport,
    StaticField::Srcport,
    StaticField::Data,
];

/// What a correlation search found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Searched {
    /// Enough qualifying events: the rule fires.
    pub(crate) fired: bool,
    /// Qualifying earlier events counted (the walk stops once enough are found).
    pub(crate) found: u32,
}

/// Maximum entries kept in `previous_output`.
const MAX_PREVIOUS: usize = 11;

impl Correlation {
    /// State for a ruleset of `rules` rules whose highest internal frequency is
    /// `max_freq`; `capacity` is `memory_size` (default 8192).
    pub(crate) fn new(rules: usize, max_freq: u32, capacity: usize) -> Correlation {
        Correlation {
            events: VecDeque::new(),
            base: 0,
            capacity: capacity.max(1),
            sid_lists: HashMap::new(),
            group_lists: HashMap::new(),
            firedtimes: std::iter::repeat_n(0, rules).collect(),
            ignore_since: std::iter::repeat_n(0, rules).collect(),
            fts_seen: HashSet::new(),
            fts_list: VecDeque::new(),
            diff_last: HashMap::new(),
            max_freq,
            accumulator: HashMap::new(),
            acm_lookups: 0,
        }
    }

    /// The decoder accumulator (upstream: accumulator.c `Accumulate`): events of an
    /// `<accumulate>` decoder that share hostname, decoder name and `id` fill their
    /// empty fields from earlier ones and leave theirs (≤ 80 bytes) for later ones;
    /// entries expire after 120 s, and every 200th lookup purges the expired ones
    /// (`Accumulate_CleanUp`), so the store stays bounded. A key of 256 bytes or
    /// more does not fit upstream's buffer: such an event is not accumulated.
    pub(crate) fn accumulate(&mut self, ev: &mut Event, decoder_name: &[u8], now: i64) {
        const EXPIRE: i64 = 120;
        const PURGE_COUNT: u32 = 200;
        let Some(id) = ev.get_static(StaticField::Id) else { return };
        self.acm_lookups += 1;
        if self.acm_lookups >= PURGE_COUNT {
            self.acm_lookups = 0;
            self.accumulator.retain(|_, (ts, _)| *ts >= now - EXPIRE);
        }
        let len = ev.hostname.len() + decoder_name.len() + id.len() + 2;
        if len >= 256 {
            return;
        }
        let mut key = Vec::with_capacity(len);
        key.extend_from_slice(&ev.hostname);
        key.push(b' ');
        key.extend_from_slice(decoder_name);
        key.push(b' ');
        key.extend_from_slice(id);
        let entry = self.accumulator.entry(key).or_insert_with(|| (now, Default::default()));
        if now - entry.0 > EXPIRE {
            *entry = (now, Default::default());
        }
        for (i, f) in ACCUMULATED.iter().enumerate() {
            match ev.get_static(*f) {
                Some(v) if !v.is_empty() => {
                    if entry.1[i].is_none() && v.len() <= 80 {
                        entry.1[i] = Some(v.to_vec());
                    }
                }
                _ => {
                    if let Some(stored) = &entry.1[i] {
                        ev.set_static(*f, stored.clone());
                    }
                }
            }
        }
        entry.0 = now;
    }

    /// A rule's `ignore="N"` window (upstream's `ignore_time`): the first
    /// alert opens it, alerts inside it are suppressed, the first one after
    /// it closes it and alerts.
    pub(crate) fn ignored(&mut self, rule: RuleIdx, ignore: u32, now: i64) -> bool {
        if ignore == 0 {
            return false;
        }
        let since = &mut self.ignore_since[rule];
        if *since == 0 {
            *since = now;
            false
        } else if now - *since < ignore as i64 {
            true
        } else {
            *since = 0;
            false
        }
    }

    /// `check_diff`: the content a rule saw last for this host, when this
    /// event's differs from it (the first content seen is only stored).
    pub(crate) fn diff(&mut self, host: &[u8], rule_id: u32, log: &[u8]) -> Option<Vec<u8>> {
        let key = (host.to_vec(), rule_id);
        match self.diff_last.get(&key) {
            None => {
                self.diff_last.insert(key, log.to_vec());
                None
            }
            Some(old) if old == log => None,
            Some(_) => self.diff_last.insert(key, log.to_vec()),
        }
    }

    /// `if_fts`: is this first-time-seen key new? For `ids` decoders a key
    /// with more than 14 leading bytes in common with more than two of the
    /// last 32 keys is cut to 14 bytes first (and fails if that was seen).
    pub(crate) fn first_time(&mut self, mut key: Vec<u8>, ids: bool) -> bool {
        const MIN_SIZE_FOR_STR: usize = 14;
        const LIST_SIZE: usize = 32;
        if self.fts_seen.contains(&key) {
            return false;
        }
        let mut listed = false;
        if ids {
            let common = |a: &[u8], b: &[u8]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
            let similar = self.fts_list.iter().rev().filter(|k| common(k, &key) > MIN_SIZE_FOR_STR).count();
            if similar > 2 {
                key.truncate(MIN_SIZE_FOR_STR);
            }
            if self.fts_list.len() >= LIST_SIZE {
                self.fts_list.pop_front();
            }
            self.fts_list.push_back(key.clone());
            listed = true;
        }
        if !self.fts_seen.insert(key) {
            if listed {
                self.fts_list.pop_back();
            }
            return false;
        }
        true
    }

    /// Counts a firing of `rule` and returns its `firedtimes`.
    pub(crate) fn fire(&mut self, rule: RuleIdx) -> u32 {
        let ft = &mut self.firedtimes[rule];
        *ft += 1;
        *ft
    }

    fn get(&self, seq: u64) -> Option<&Stored> {
        seq.checked_sub(self.base).and_then(|i| self.events.get(i as usize))
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut Stored> {
        seq.checked_sub(self.base).and_then(|i| self.events.get_mut(i as usize))
    }

    /// Stores an event whose final rule is `rule` (spec rules.md 3.5 steps 8–10).
    pub(crate) fn store(&mut self, ev: Event, matched: u32, rule: RuleIdx, has_sid_list: bool, feeds: &[RuleIdx]) {
        let seq = self.base + self.events.len() as u64;
        let latest = self.events.back().map_or(ev.time, |s| s.latest.max(ev.time));
        self.events.push_back(Stored { ev, matched, latest });
        if has_sid_list {
            self.sid_lists.entry(rule).or_default().push(seq);
        } else {
            for &g in feeds {
                self.group_lists.entry(g).or_default().push(seq);
            }
        }
        if self.events.len() > self.capacity {
            // `OS_AddEvent`: at least the 10 oldest go, and then every entry
            // older than `max_freq` seconds (upstream compares an age with a
            // frequency); the entry just added always stays.
            let now = self.events.back().map_or(0, |s| s.ev.time);
            let mut dropped = 0usize;
            while self.events.len() > 1 {
                let old = self.events.front().map_or(0, |s| s.ev.time);
                if dropped >= 10 && now - old <= self.max_freq as i64 {
                    break;
                }
                self.events.pop_front();
                dropped += 1;
            }
            self.base += dropped as u64;
            let base = self.base;
            for l in self.sid_lists.values_mut().chain(self.group_lists.values_mut()) {
                l.retain(|&s| s >= base);
            }
        }
    }

    /// Runs the correlation search of rule `ri` for the current event
    /// (`Search_LastSids`, `Search_LastGroups`, `Search_LastEvents`). On
    /// success marks the consumed events and returns true. `previous` is the
    /// event's previous-output list: an entry is recorded only into a slot not
    /// yet filled (by an earlier search of this event), so a nested search
    /// appends after its ancestor's entries. The caller empties it on failure.
    pub(crate) fn search(
        &mut self,
        rule: &Rule,
        ri: RuleIdx,
        cur: &Event,
        cur_matched: &mut u32,
        now: i64,
        previous: &mut Vec<Vec<u8>>,
    ) -> Searched {
        let Some(kind) = rule.search else { return Searched { fired: true, found: 0 } };
        // "No sid search.": the target was not loaded before the rule.
        if kind == Search::Sid(None) {
            return Searched { fired: false, found: 0 };
        }
        let n = rule.frequency.saturating_sub(2);
        let mut count = 0u32;
        let mut first_counted: Option<u64> = None;
        // Walk newest → oldest.
        let list_len = match kind {
            Search::Sid(t) => t.and_then(|t| self.sid_lists.get(&t)).map_or(0, |l| l.len()),
            Search::Group => self.group_lists.get(&ri).map_or(0, |l| l.len()),
            Search::Event => self.events.len(),
        };
        let record = |previous: &mut Vec<Vec<u8>>, count: u32, log: &[u8]| {
            if (count as usize) < MAX_PREVIOUS && previous.len() <= count as usize {
                previous.push(log.to_vec());
            }
        };
        for pos in (0..list_len).rev() {
            let seq = match kind {
                Search::Sid(t) => t.and_then(|t| self.sid_lists.get(&t)).and_then(|l| l.get(pos)).copied(),
                Search::Group => self.group_lists.get(&ri).and_then(|l| l.get(pos)).copied(),
                Search::Event => Some(self.base + pos as u64),
            };
            let Some(seq) = seq else { continue };
            let Some(prev) = self.get(seq) else { continue };
            // The window is `timeframe` seconds on both sides of the current
            // event. Wazuh's clock only moves forward, so it stops at the
            // first event older than that; with an event clock (CloudTrail
            // files are not time-ordered) an event may also lie ahead of the
            // current one, or be older than events stored before it: the walk
            // skips such events and stops only when everything before them is
            // out of the window too. With ordered times this is Wazuh's walk.
            let timeframe = rule.timeframe as i64;
            if now - prev.latest > timeframe {
                return Searched { fired: false, found: count };
            }
            if (now - prev.ev.time).abs() > timeframe {
                continue;
            }
            if !rule.global_frequency && prev.ev.agent_id != cur.agent_id {
                if kind == Search::Event {
                    // Upstream spins on this entry until it leaves the window: no match.
                    return Searched { fired: false, found: count };
                }
                continue;
            }
            if kind == Search::Event {
                if prev.ev.decoder_type != cur.decoder_type {
                    continue;
                }
                if let Some(re) = &rule.if_matched_regex {
                    if !re.is_match(prev.ev.log()) {
                        continue;
                    }
                }
            }
            if !filters_pass(rule, cur, &prev.ev) {
                continue;
            }
            if prev.matched >= rule.level {
                return Searched { fired: false, found: count };
            }
            // Sid/group searches record every counted entry, the triggering
            // one included; the event search only the ones before it.
            if kind != Search::Event {
                record(previous, count, &prev.ev.full_log);
            }
            if count < n {
                if kind == Search::Event {
                    record(previous, count, &prev.ev.full_log);
                }
                count += 1;
                if first_counted.is_none() {
                    first_counted = Some(seq);
                }
                continue;
            }
            *cur_matched = rule.level;
            if let Some(fc) = first_counted {
                if let Some(s) = self.get_mut(fc) {
                    s.matched = rule.level;
                }
            }
            return Searched { fired: true, found: count + 1 };
        }
        Searched { fired: false, found: count }
    }
}

/// same_* / different_* filters (spec rules.md 4.6).
fn filters_pass(rule: &Rule, cur: &Event, prev: &Event) -> bool {
    fn st(e: &Event, f: StaticField) -> Option<&[u8]> {
        e.get_static(f)
    }
    if rule.same_id && !both_equal(st(cur, StaticField::Id), st(prev, StaticField::Id)) {
        return false;
    }
    if rule.same_srcip && !both_equal(st(cur, StaticField::Srcip), st(prev, StaticField::Srcip)) {
        return false;
    }
    for &f in &rule.same {
        if !both_equal(same_value(cur, f), same_value(prev, f)) {
            return false;
        }
    }
    for &f in &rule.different {
        if let (Some(a), Some(b)) = (same_value(cur, f), same_value(prev, f)) {
            if a == b {
                return false;
            }
        }
    }
    if !rule.same_fields.is_empty() {
        if !cur.has_dynamic() || !prev.has_dynamic() {
            return false;
        }
        for &fid in &rule.same_fields {
            if !both_equal(cur.field(fid), prev.field(fid)) {
                return false;
            }
        }
    }
    if !rule.different_fields.is_empty() {
        if !cur.has_dynamic() && !prev.has_dynamic() {
            return false;
        }
        for &fid in &rule.different_fields {
            if let (Some(a), Some(b)) = (cur.field(fid), prev.field(fid)) {
                if a == b {
                    return false;
                }
            }
        }
    }
    true
}

/// The value a `same_*`/`different_*` element compares (borrowed: this runs
/// for every stored event a search walks).
fn same_value(e: &Event, f: SameField) -> Option<&[u8]> {
    match f {
        SameField::Static(s) => e.get_static(s),
        SameField::Location => Some(&e.location),
        SameField::SrcGeoip => e.srcgeoip.as_deref(),
        SameField::DstGeoip => e.dstgeoip.as_deref(),
    }
}

fn both_equal(a: Option<&[u8]>, b: Option<&[u8]>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accumulator_purges_expired_entries() {
        let mut c = Correlation::new(0, 0, 8192);
        for i in 0..500_000i64 {
            let mut ev = Event { hostname: b"host".to_vec(), ..Default::default() };
            ev.set_static(StaticField::Id, i.to_string().into_bytes());
            // One event per second: every 200th lookup drops entries older than 120 s.
            c.accumulate(&mut ev, b"dec", 1_700_000_000 + i);
        }
        assert!(c.accumulator.len() <= 321, "{}", c.accumulator.len());
    }

    #[test]
    fn an_accumulator_key_too_long_for_upstream_is_not_kept() {
        let mut c = Correlation::new(0, 0, 8192);
        let mut ev = Event { hostname: vec![b'h'; 250], ..Default::default() };
        ev.set_static(StaticField::Id, b"1".to_vec());
        ev.set_static(StaticField::Srcip, b"10.0.0.1".to_vec());
        c.accumulate(&mut ev, b"dec", 0);
        assert!(c.accumulator.is_empty());
    }
}
