//! What the engine reports while it evaluates an event: which decoders it
//! tried, each rule it tried, each condition with its result and the value it
//! saw, and what a correlation search found.
//!
//! The evaluation is generic over a [`Trace`], every method of which has a
//! no-op default: with [`NoTrace`] the calls compile to nothing, so tracing
//! costs the hot path nothing when unused. `wazuh-logtest -v`'s
//! `rules_debug` lines are one tracer ([`RulesDebug`]); `explain` is another.

use super::{CompiledRule, Cond, IpList, ListCond, Rule, TimeRange};
use crate::decode::Decoder;
use crate::lists::CdbList;

/// A condition of a rule, as evaluated.
#[derive(Debug, Clone, Copy)]
pub enum Condition<'a> {
    /// `<decoded_as>`.
    DecodedAs(&'a [u8]),
    /// A text element (`match`, `regex`, `user`, `srcport`, …) by its element name.
    Text {
        /// The element name.
        element: &'static str,
        /// Its compiled pattern and `negate`.
        cond: &'a Cond,
    },
    /// `<field name="…">`.
    Field {
        /// The `name` attribute.
        name: &'a [u8],
        /// Its compiled pattern and `negate`.
        cond: &'a Cond,
    },
    /// `<srcip>` / `<dstip>` (element name, list).
    Address {
        /// `srcip` or `dstip`.
        element: &'static str,
        /// The address list.
        list: &'a IpList,
    },
    /// `<compiled_rule>`.
    Compiled(CompiledRule),
    /// `maxsize`: the log must be at least this long.
    MaxSize(u32),
    /// `<time>`.
    Time(&'a TimeRange),
    /// `<weekday>` as bits (bit 0 = Sunday).
    Weekday(u8),
    /// `<check_diff>`: the content differs from what the rule saw last from the host.
    CheckDiff,
    /// `<if_fts>`: the decoder's first-time-seen key is new.
    IfFts,
    /// One of the (last two) `<list>` conditions.
    List {
        /// The condition: field, lookup and `check_value`.
        cond: &'a ListCond,
        /// The list it names (`None`: not found; the condition then fails).
        list: Option<&'a CdbList>,
    },
}

/// The value a condition saw.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    /// The field is absent: the condition fails whatever `negate` says.
    Absent,
    /// The bytes the condition tested.
    Bytes(&'a [u8]),
    /// A length (for `maxsize`).
    Length(usize),
    /// `HH:MM` and weekday (0 = Sunday) of the event's time.
    Clock {
        /// `HH:MM`.
        hhmm: [u8; 5],
        /// 0 = Sunday.
        weekday: u8,
    },
    /// Nothing to show (a side effect, e.g. `check_diff`).
    None,
}

impl<'a> From<Option<&'a [u8]>> for Value<'a> {
    fn from(v: Option<&'a [u8]>) -> Value<'a> {
        v.map_or(Value::Absent, Value::Bytes)
    }
}

/// Receives the steps of an evaluation. Every method defaults to nothing.
pub trait Trace {
    /// Whether this tracer records anything: without one, the walk may skip a rule on its
    /// prefilter without reporting its conditions.
    const ENABLED: bool = true;
    /// A decoder was tried (its program name and prematch).
    fn decoder(&mut self, _decoder: &Decoder, _matched: bool) {}
    /// A rule is about to be checked.
    fn rule(&mut self, _rule: &Rule) {}
    /// One of its conditions was checked.
    fn condition(&mut self, _rule: &Rule, _cond: Condition<'_>, _value: Value<'_>, _passed: bool) {}
    /// Its correlation search ran: `found` qualifying earlier events in the
    /// window (counting stops once enough are found), `needed` of them to fire.
    fn correlation(&mut self, _rule: &Rule, _found: u32, _needed: u32, _passed: bool) {}
    /// Every check held; its children are tried next (if it has any).
    fn matched(&mut self, _rule: &Rule, _has_children: bool) {}
}

/// No tracing.
pub struct NoTrace;

impl Trace for NoTrace {
    const ENABLED: bool = false;
}

/// `wazuh-logtest -v`: upstream's `rules_debug` lines.
#[derive(Debug, Default)]
pub struct RulesDebug {
    /// The lines, in order, each cut to 1055 bytes (`RULES_DEBUG_MSG_I_MAX_LEN` with its NUL).
    pub lines: Vec<String>,
}

impl Trace for RulesDebug {
    fn rule(&mut self, rule: &Rule) {
        // snprintf into RULES_DEBUG_MSG_I_MAX_LEN (1056) bytes.
        let mut line = format!("Trying rule: {} - ", rule.id).into_bytes();
        line.extend_from_slice(&rule.description);
        line.truncate(1055);
        self.lines.push(String::from_utf8_lossy(&line).into_owned());
    }

    fn matched(&mut self, rule: &Rule, has_children: bool) {
        self.lines.push(format!("*Rule {} matched", rule.id));
        if has_children {
            self.lines.push("*Trying child rules".to_string());
        }
    }
}

/// Passes every step to two tracers.
pub struct Both<'a, A: Trace, B: Trace>(pub &'a mut A, pub &'a mut B);

impl<A: Trace, B: Trace> Trace for Both<'_, A, B> {
    fn decoder(&mut self, d: &Decoder, m: bool) {
        self.0.decoder(d, m);
        self.1.decoder(d, m);
    }
    fn rule(&mut self, r: &Rule) {
        self.0.rule(r);
        self.1.rule(r);
    }
    fn condition(&mut self, r: &Rule, c: Condition<'_>, v: Value<'_>, p: bool) {
        self.0.condition(r, c, v, p);
        self.1.condition(r, c, v, p);
    }
    fn correlation(&mut self, r: &Rule, f: u32, n: u32, p: bool) {
        self.0.correlation(r, f, n, p);
        self.1.correlation(r, f, n, p);
    }
    fn matched(&mut self, r: &Rule, h: bool) {
        self.0.matched(r, h);
        self.1.matched(r, h);
    }
}
