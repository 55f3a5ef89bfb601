//! Evaluating the rule tree for one decoded event
//! (upstream: src/analysisd/rules.c `OS_CheckIfRuleMatch`; analysisd.c).
//!
//! Roots are tried in order, each only if its category equals the event's
//! decoder type. A rule's checks run in upstream's fixed order (some have side
//! effects: `if_fts` records keys, `check_diff` stores content, the
//! correlation search marks events), then its children in sibling order; the
//! first child that returns a rule wins and the deepest match is the result.
//! A rule whose children all fail returns itself (and counts a firedtime)
//! unless it is `noalert`.

use super::trace::{Condition, Trace, Value};
use super::{CompiledRule, ListField, Rule, RuleTree};
use crate::correlate::Correlation;
use crate::decode::{Decoders, FtsStatic};
use crate::event::{Event, StaticField};
use crate::index::{IdxVec, ListIdx, NodeIdx, RuleIdx};
use crate::lists::{lookup, CdbList};

/// What one evaluation found.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// The returned rule (index into the tree's rules).
    pub(crate) rule: Option<RuleIdx>,
    /// The immediate parent of the returned rule, if any.
    pub(crate) parent: Option<RuleIdx>,
    /// The returned rule's firedtimes after this event.
    pub(crate) firedtimes: u32,
    /// `matched` level given to the current event by a correlation search.
    pub(crate) matched: u32,
    /// `previous_output` entries of the winning correlation search.
    pub(crate) previous: Vec<Vec<u8>>,
    /// `previous_log` of a `check_diff` match.
    pub(crate) previous_log: Option<Vec<u8>>,
}

/// Everything a rule check reads.
pub(crate) struct Ctx<'a> {
    /// The rules.
    pub(crate) tree: &'a RuleTree,
    /// Names of dynamic fields (for traces).
    pub(crate) fields: &'a crate::event::FieldNames,
    /// The decoders (for `decoded_as` and `<fts>`).
    pub(crate) decoders: &'a Decoders,
    /// The CDB lists.
    pub(crate) lists: &'a IdxVec<ListIdx, CdbList>,
    /// The event.
    pub(crate) ev: &'a Event,
    /// [`super::name_hash`] of the event's decoder name (0: no decoder).
    pub(crate) decoder_hash: u64,
    /// The log, lower-cased once for every `<match>` of the walk.
    pub(crate) lower_log: LowerLog<'a>,
    /// Seconds since the epoch (the session's clock).
    pub(crate) now: i64,
    /// `HH:MM` of `now` (UTC).
    pub(crate) hhmm: [u8; 5],
    /// Weekday of `now` (0 = Sunday).
    pub(crate) weekday: u8,
}

/// Evaluates the tree; mutates the correlation state as Wazuh does.
/// The event's log lower-cased (ASCII), made on first use in a buffer the session lends.
pub(crate) struct LowerLog<'a> {
    buf: &'a mut Vec<u8>,
    ready: bool,
}

impl<'a> LowerLog<'a> {
    /// A cache that lower-cases into `buf`.
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> LowerLog<'a> {
        LowerLog { buf, ready: false }
    }

    /// `log` cut at its first NUL and lower-cased.
    fn get(&mut self, log: &[u8]) -> &[u8] {
        if !self.ready {
            self.buf.clear();
            self.buf.extend_from_slice(&log[..memchr::memchr(0, log).unwrap_or(log.len())]);
            self.buf.make_ascii_lowercase();
            self.ready = true;
        }
        self.buf
    }
}

/// [`super::name_hash`] of `ev`'s decoder name, for [`Ctx::decoder_hash`].
pub(crate) fn decoder_hash(decoders: &Decoders, ev: &Event) -> u64 {
    decoders.info(ev).map_or(0, |d| super::name_hash(&d.name))
}

pub(crate) fn evaluate(ctx: &mut Ctx<'_>, corr: &mut Correlation, trace: &mut impl Trace) -> Outcome {
    let mut out = Outcome::default();
    // A forwarded alert (OSSECAlert_Decoder, type "ossec alert") is not matched:
    // it reports the rule it carries, if any, without counting a firedtime.
    if ctx.ev.decoder_type == crate::decode::DecoderType::OssecAlert {
        out.rule = ctx.ev.forwarded_rule.and_then(|id| ctx.tree.by_id.get(&id).copied());
        return out;
    }
    for &root in &ctx.tree.roots {
        let category = match ctx.tree.prefilter.get(root) {
            Some(p) => p.category,
            // A tree built by hand, without prefilters.
            None => ctx.tree.rules[ctx.tree.nodes[root].rule].category,
        };
        if category != ctx.ev.decoder_type {
            continue;
        }
        if let Some(found) = check_node(ctx, corr, root, &mut out, trace) {
            out.rule = Some(found);
            return out;
        }
    }
    out
}

/// Tries the subtree at `root` depth-first, without recursion (an `if_sid`
/// chain may be tens of thousands of rules deep). Returns the rule that wins.
fn check_node<T: Trace>(
    ctx: &mut Ctx<'_>,
    corr: &mut Correlation,
    root: NodeIdx,
    out: &mut Outcome,
    trace: &mut T,
) -> Option<RuleIdx> {
    let tree = ctx.tree;
    if !enter(ctx, corr, root, out, trace) {
        return None;
    }
    // Without a tracer, a node's children are narrowed to those its prefilter can let
    // through (the others would fail at once, reporting nothing).
    let has_program_name = ctx.ev.program_name().is_some();
    let decoder = ctx.decoder_hash;
    let children = |node: NodeIdx| -> &[NodeIdx] {
        if T::ENABLED {
            &tree.nodes[node].children
        } else {
            tree.children_for(node, decoder, has_program_name)
        }
    };
    // Matched nodes on the path from `root`, each with its children and the next to try.
    let mut path: Vec<(NodeIdx, &[NodeIdx], usize)> = vec![(root, children(root), 0)];
    while let Some(top) = path.last_mut() {
        let (node, kids, next) = *top;
        if let Some(&child) = kids.get(next) {
            top.2 += 1;
            if enter(ctx, corr, child, out, trace) {
                path.push((child, children(child), 0));
            }
            continue;
        }
        // Every child failed (or there were none): the node answers for itself.
        path.pop();
        let ri = tree.nodes[node].rule;
        if tree.rules[ri].noalert {
            continue;
        }
        if let Some(&(parent, _, _)) = path.last() {
            out.parent = Some(tree.nodes[parent].rule);
        }
        out.firedtimes = corr.fire(ri);
        return Some(ri);
    }
    None
}

/// Checks one node's rule (its conditions, then its correlation search);
/// true when it matched and its children are to be tried.
fn enter<T: Trace>(ctx: &mut Ctx<'_>, corr: &mut Correlation, node: NodeIdx, out: &mut Outcome, trace: &mut T) -> bool {
    let tree = ctx.tree;
    if !T::ENABLED {
        // The first two checks, from the packed prefilter: most rules fail here.
        if let Some(pre) = tree.prefilter.get(node) {
            if (pre.decoded_as != 0 && pre.decoded_as != ctx.decoder_hash)
                || (pre.needs_program_name && ctx.ev.program_name().is_none())
            {
                return false;
            }
        }
    }
    let ri = tree.nodes[node].rule;
    let rule = &tree.rules[ri];
    trace.rule(rule);
    if !conditions(ctx, corr, rule, out, trace) {
        return false;
    }
    // The search runs while the rule is a context rule without check_diff
    // (an overwrite without if_matched_* keeps the search but clears context).
    if rule.context && !rule.check_diff && rule.search.is_some() {
        let found = corr.search(rule, ri, ctx.ev, &mut out.matched, ctx.now, &mut out.previous);
        trace.correlation(rule, found.found, rule.frequency.max(2) - 1, found.fired);
        if !found.fired {
            out.previous.clear();
            return false;
        }
    }
    trace.matched(rule, !tree.nodes[node].children.is_empty());
    true
}

fn conditions<T: Trace>(ctx: &mut Ctx<'_>, corr: &mut Correlation, r: &Rule, out: &mut Outcome, trace: &mut T) -> bool {
    let ev = ctx.ev;
    // The conditions below have no side effects until the last ones (check_diff, if_fts), so
    // their order only shows in a trace. Without one, the `<field>` tests (short values) run
    // first: a rule with `<field name="aws.eventName">` and a `<regex>` over the whole record
    // then rarely runs the regex.
    if !T::ENABLED && !r.fields.iter().all(|(fid, c)| c.test(ev.field(*fid))) {
        return false;
    }
    let st = |f: StaticField| ev.get_static(f);
    // Each check reports to the tracer, then fails the rule if it did not hold.
    macro_rules! check {
        ($cond:expr, $value:expr, $ok:expr) => {{
            let ok = $ok;
            trace.condition(r, $cond, $value, ok);
            if !ok {
                return false;
            }
        }};
    }
    macro_rules! text {
        ($el:literal, $c:expr, $v:expr) => {
            if let Some(c) = &$c {
                let v: Option<&[u8]> = $v;
                check!(Condition::Text { element: $el, cond: c }, Value::from(v), c.test(v));
            }
        };
    }
    if let Some(name) = &r.decoded_as {
        let decoder = ctx.decoders.info(ev).map(|d| &d.name[..]);
        check!(Condition::DecodedAs(name), Value::from(decoder), decoder == Some(&name[..]));
    }
    text!("program_name", r.program_name, ev.program_name());
    text!("id", r.id_cond, st(StaticField::Id));
    text!("system_name", r.system_name, st(StaticField::SystemName));
    text!("protocol", r.protocol, st(StaticField::Protocol));
    if let Some(c) = &r.match_ {
        // OS_Match patterns test the lower-cased log (made once per event).
        let log = ev.log();
        let ok = match &c.m {
            crate::matcher::Matcher::OsMatch(m) => m.is_match_lowered(ctx.lower_log.get(log)) != c.negate,
            _ => c.test(Some(log)),
        };
        check!(Condition::Text { element: "match", cond: c }, Value::from(Some(log)), ok);
    }
    text!("regex", r.regex, Some(ev.log()));
    text!("action", r.action, st(StaticField::Action));
    text!("url", r.url, st(StaticField::Url));
    text!("location", r.location, Some(&ev.location[..]));
    if T::ENABLED {
        for (fid, c) in &r.fields {
            let v = ev.field(*fid);
            check!(Condition::Field { name: ctx.fields.name(*fid), cond: c }, Value::from(v), c.test(v));
        }
    }
    if let Some(l) = &r.srcip {
        let v = st(StaticField::Srcip);
        check!(Condition::Address { element: "srcip", list: l }, Value::from(v), l.test(v));
    }
    if let Some(l) = &r.dstip {
        let v = st(StaticField::Dstip);
        check!(Condition::Address { element: "dstip", list: l }, Value::from(v), l.test(v));
    }
    text!("srcport", r.srcport, st(StaticField::Srcport));
    text!("dstport", r.dstport, st(StaticField::Dstport));
    if let Some(c) = r.compiled {
        check!(Condition::Compiled(c), Value::None, compiled_rule(c, ev));
    }
    text!("user", r.user, st(StaticField::Dstuser).or(st(StaticField::Srcuser)));
    text!("srcgeoip", r.srcgeoip, ev.srcgeoip.as_deref());
    text!("dstgeoip", r.dstgeoip, ev.dstgeoip.as_deref());
    if r.maxsize > 0 {
        let n = ev.log().len();
        check!(Condition::MaxSize(r.maxsize), Value::Length(n), (n as u32) >= r.maxsize);
    }
    let clock = Value::Clock { hhmm: ctx.hhmm, weekday: ctx.weekday };
    if let Some(t) = &r.time {
        check!(Condition::Time(t), clock, t.is_on(&ctx.hhmm));
    }
    if let Some(w) = r.weekday {
        check!(Condition::Weekday(w), clock, w & (1 << ctx.weekday) != 0);
    }
    text!("data", r.data, st(StaticField::Data));
    text!("extra_data", r.extra_data, st(StaticField::ExtraData));
    text!("hostname", r.hostname, Some(&ev.hostname[..]));
    text!("status", r.status, st(StaticField::Status));
    if r.check_diff {
        check!(Condition::CheckDiff, Value::None, check_diff(corr, r, ev, out));
    }
    if r.if_fts {
        check!(Condition::IfFts, Value::None, first_time_seen(ctx, corr));
    }
    // Upstream's list chain keeps only the last two `<list>` conditions.
    let skip = r.lists.len().saturating_sub(2);
    for l in r.lists.iter().skip(skip) {
        let value: Option<&[u8]> = match l.field {
            ListField::Static(f) => st(f),
            ListField::Hostname => Some(&ev.hostname[..]),
            ListField::ProgramName => ev.program_name(),
            ListField::User => st(StaticField::Srcuser).or(st(StaticField::Dstuser)),
            ListField::Dynamic(fid) => ev.field(fid),
        };
        let list = ctx.lists.get(l.list);
        let ok = match (value, list) {
            (Some(v), Some(list)) => lookup(list, l.lookup, l.check.as_ref(), v),
            _ => false,
        };
        check!(Condition::List { cond: l, list }, Value::from(value), ok);
    }
    true
}

fn check_diff(corr: &mut Correlation, r: &Rule, ev: &Event, out: &mut Outcome) -> bool {
    let log = ev.log();
    if log.len() >= 65536 {
        return false;
    }
    // The store is queue/diff/<host>/<rule id>: for `(name) …` hostnames the
    // host is the text inside the parentheses.
    let host = match ev.hostname.strip_prefix(b"(") {
        Some(rest) => rest.split(|&b| b == b')').next().unwrap_or(rest),
        None => &ev.hostname[..],
    };
    match corr.diff(host, r.id, log) {
        Some(old) => {
            out.previous = vec![b"Previous output:".to_vec(), old.clone()];
            out.previous_log = Some(old);
            true
        }
        None => false,
    }
}

/// `FTS`: the key is the decoder name and the values of the decoder's
/// `<fts>` fields (statics in a fixed order, cut to 255 bytes, then the
/// dynamic ones up to 256). A key seen before fails. For `ids` decoders, a
/// key with more than 14 leading bytes in common with more than two of the
/// last 32 keys is cut to 14 bytes first (and fails if that was seen).
fn first_time_seen(ctx: &Ctx<'_>, corr: &mut Correlation) -> bool {
    const FLSIZE: usize = 256;
    let ev = ctx.ev;
    let Some(d) = ctx.decoders.info(ev) else { return false };
    let Some(fts) = &d.fts else { return false };
    let has = |f: FtsStatic| fts.statics.contains(&f);
    let mut key = d.name.to_vec();
    let mut part = |on: bool, v: Option<&[u8]>| {
        key.push(b' ');
        if on {
            if let Some(v) = v {
                key.extend_from_slice(v);
            }
        }
    };
    let st = |f: StaticField| ev.get_static(f);
    part(has(FtsStatic::Id), st(StaticField::Id));
    part(has(FtsStatic::Dstuser), st(StaticField::Dstuser));
    part(has(FtsStatic::Srcuser), st(StaticField::Srcuser));
    part(has(FtsStatic::Srcip), st(StaticField::Srcip));
    part(has(FtsStatic::Dstip), st(StaticField::Dstip));
    part(has(FtsStatic::Data), st(StaticField::Data));
    part(has(FtsStatic::SystemName), st(StaticField::SystemName));
    part(has(FtsStatic::Location), Some(&ev.location[..]));
    key.truncate(FLSIZE - 1);
    for name in &fts.dynamic {
        if let Some(v) = ev.field_by_name(name) {
            key.push(b' ');
            key.extend_from_slice(v);
        }
    }
    key.truncate(FLSIZE);
    corr.first_time(key, d.dtype == crate::decode::DecoderType::Ids)
}

/// The built-in predicates of upstream's compiled_rules/generic_samples.c.
fn compiled_rule(c: CompiledRule, ev: &Event) -> bool {
    let st = |f: StaticField| ev.get_static(f);
    match c {
        // Passes unless both users are present and differ.
        CompiledRule::SrcuserDstuser => match (st(StaticField::Srcuser), st(StaticField::Dstuser)) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        },
        CompiledRule::CheckIdSize => st(StaticField::Id).is_some_and(|v| v.len() >= 10),
        CompiledRule::MswinTargetCaller => mswin_users_differ(ev.log()),
        CompiledRule::SimpleHttpRequest => match st(StaticField::Url) {
            Some(u) => u == b"/" || !u.contains(&b'?'),
            None => false,
        },
        CompiledRule::ValidCrawler => {
            const PREFIXES: &[&[u8]] =
                &[b"66.249.", b"72.14.", b"209.85.", b"65.55.", b"207.46.", b"74.6.", b"72.30.", b"67.195."];
            let log = ev.log();
            PREFIXES.iter().any(|p| log.starts_with(p))
        }
    }
}

/// `comp_mswin_targetuser_calleruser_diff`: after the first `:` following
/// "Target Account Name" and the first `:` following "Caller User Name", the
/// two texts are compared byte by byte up to a tab or a double space in the
/// target text (or its end); any difference passes. Either label or colon
/// missing fails.
fn mswin_users_differ(log: &[u8]) -> bool {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    // C strings: nothing after a NUL byte is seen.
    let log = &log[..memchr::memchr(0, log).unwrap_or(log.len())];
    let (Some(t), Some(c)) = (find(log, b"Target Account Name"), find(log, b"Caller User Name")) else {
        return false;
    };
    let colon = |from: usize| log[from..].iter().position(|&b| b == b':').map(|p| from + p + 1);
    let (Some(mut t), Some(mut c)) = (colon(t), colon(c)) else {
        return false;
    };
    let at = |i: usize| log.get(i).copied().unwrap_or(0);
    while at(t) != 0 {
        if at(t) != at(c) {
            return true;
        }
        if at(t) == b'\t' || (at(t) == b' ' && at(t + 1) == b' ') {
            break;
        }
        t += 1;
        c += 1;
    }
    false
}
