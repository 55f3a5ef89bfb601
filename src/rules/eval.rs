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

use super::{CompiledRule, ListField, Rule, RuleTree};
use crate::correlate::Correlation;
use crate::decode::{Decoders, FtsStatic};
use crate::event::{Event, StaticField};
use crate::lists::{lookup, CdbList};

/// What one evaluation found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The returned rule (index into the tree's rules).
    pub rule: Option<usize>,
    /// The immediate parent of the returned rule, if any.
    pub parent: Option<usize>,
    pub firedtimes: u32,
    /// `matched` level given to the current event by a correlation search.
    pub matched: u32,
    /// `previous_output` entries of the winning correlation search.
    pub previous: Vec<Vec<u8>>,
    /// `previous_log` of a `check_diff` match.
    pub previous_log: Option<Vec<u8>>,
}

/// Everything a rule check reads.
pub struct Ctx<'a> {
    pub tree: &'a RuleTree,
    pub decoders: &'a Decoders,
    pub lists: &'a [CdbList],
    pub ev: &'a Event,
    /// Seconds since the epoch (the session's clock).
    pub now: i64,
    /// Local `HH:MM` and weekday (0 = Sunday) of `now`.
    pub hhmm: [u8; 5],
    pub weekday: u8,
    pub debug: Option<&'a mut Vec<String>>,
}

/// Evaluates the tree; mutates the correlation state as Wazuh does.
pub fn evaluate(ctx: &mut Ctx<'_>, corr: &mut Correlation) -> Outcome {
    let mut out = Outcome::default();
    // A forwarded alert (OSSECAlert_Decoder, type "ossec alert") is not matched:
    // it reports the rule it carries, if any, without counting a firedtime.
    if ctx.ev.decoder_type == crate::decode::DecoderType::OssecAlert {
        out.rule = ctx.ev.forwarded_rule.and_then(|id| ctx.tree.by_id.get(&id).copied());
        return out;
    }
    for &root in &ctx.tree.roots {
        let r = &ctx.tree.rules[ctx.tree.nodes[root].rule];
        if r.category != ctx.ev.decoder_type {
            continue;
        }
        if let Some(found) = check_node(ctx, corr, root, &mut out) {
            out.rule = Some(found);
            return out;
        }
    }
    out
}

/// Tries the subtree at `root` depth-first, without recursion (an `if_sid`
/// chain may be tens of thousands of rules deep). Returns the rule that wins.
fn check_node(ctx: &mut Ctx<'_>, corr: &mut Correlation, root: usize, out: &mut Outcome) -> Option<usize> {
    let tree = ctx.tree;
    if !enter(ctx, corr, root, out) {
        return None;
    }
    // Matched nodes on the path from `root`, each with the next child to try.
    let mut path: Vec<(usize, usize)> = vec![(root, 0)];
    while let Some(top) = path.last_mut() {
        let (node, next) = *top;
        let children = &tree.nodes[node].children;
        if let Some(&child) = children.get(next) {
            top.1 += 1;
            if enter(ctx, corr, child, out) {
                path.push((child, 0));
            }
            continue;
        }
        // Every child failed (or there were none): the node answers for itself.
        path.pop();
        let ri = tree.nodes[node].rule;
        if tree.rules[ri].noalert {
            continue;
        }
        if let Some(&(parent, _)) = path.last() {
            out.parent = Some(tree.nodes[parent].rule);
        }
        let ft = &mut corr.firedtimes[ri];
        *ft += 1;
        out.firedtimes = *ft;
        return Some(ri);
    }
    None
}

/// Checks one node's rule (its conditions, then its correlation search);
/// true when it matched and its children are to be tried.
fn enter(ctx: &mut Ctx<'_>, corr: &mut Correlation, node: usize, out: &mut Outcome) -> bool {
    let tree = ctx.tree;
    let ri = tree.nodes[node].rule;
    let rule = &tree.rules[ri];
    if let Some(d) = ctx.debug.as_deref_mut() {
        // snprintf into RULES_DEBUG_MSG_I_MAX_LEN (1056) bytes.
        let mut line = format!("Trying rule: {} - ", rule.id).into_bytes();
        line.extend_from_slice(&rule.description);
        line.truncate(1055);
        d.push(String::from_utf8_lossy(&line).into_owned());
    }
    if !conditions(ctx, corr, rule, ri, out) {
        return false;
    }
    // The search runs while the rule is a context rule without check_diff
    // (an overwrite without if_matched_* keeps the search but clears context).
    if rule.context
        && !rule.check_diff
        && rule.search.is_some()
        && !corr.search(rule, ri, ctx.ev, &mut out.matched, ctx.now, &mut out.previous)
    {
        out.previous.clear();
        return false;
    }
    if let Some(d) = ctx.debug.as_deref_mut() {
        d.push(format!("*Rule {} matched", rule.id));
        if !tree.nodes[node].children.is_empty() {
            d.push("*Trying child rules".to_string());
        }
    }
    true
}

fn conditions(ctx: &mut Ctx<'_>, corr: &mut Correlation, r: &Rule, ri: usize, out: &mut Outcome) -> bool {
    let ev = ctx.ev;
    let st = |f: StaticField| ev.get_static(f);
    if let Some(name) = &r.decoded_as {
        match ctx.decoders.info(ev) {
            Some(d) if d.name == *name => {}
            _ => return false,
        }
    }
    macro_rules! cond {
        ($c:expr, $v:expr) => {
            if let Some(c) = &$c {
                if !c.test($v) {
                    return false;
                }
            }
        };
    }
    cond!(r.program_name, ev.program_name());
    cond!(r.id_cond, st(StaticField::Id));
    cond!(r.system_name, st(StaticField::SystemName));
    cond!(r.protocol, st(StaticField::Protocol));
    cond!(r.match_, Some(ev.log()));
    cond!(r.regex, Some(ev.log()));
    cond!(r.action, st(StaticField::Action));
    cond!(r.url, st(StaticField::Url));
    cond!(r.location, Some(&ev.location[..]));
    for (fid, c) in &r.fields {
        if !c.test(ev.field(*fid)) {
            return false;
        }
    }
    if let Some(l) = &r.srcip {
        if !l.test(st(StaticField::Srcip)) {
            return false;
        }
    }
    if let Some(l) = &r.dstip {
        if !l.test(st(StaticField::Dstip)) {
            return false;
        }
    }
    cond!(r.srcport, st(StaticField::Srcport));
    cond!(r.dstport, st(StaticField::Dstport));
    if let Some(c) = r.compiled {
        if !compiled_rule(c, ev) {
            return false;
        }
    }
    cond!(r.user, st(StaticField::Dstuser).or(st(StaticField::Srcuser)));
    cond!(r.srcgeoip, ev.srcgeoip.as_deref());
    cond!(r.dstgeoip, ev.dstgeoip.as_deref());
    if r.maxsize > 0 && (ev.log().len() as u32) < r.maxsize {
        return false;
    }
    if let Some(t) = &r.time {
        if !t.is_on(&ctx.hhmm) {
            return false;
        }
    }
    if let Some(w) = r.weekday {
        if w & (1 << ctx.weekday) == 0 {
            return false;
        }
    }
    cond!(r.data, st(StaticField::Data));
    cond!(r.extra_data, st(StaticField::ExtraData));
    cond!(r.hostname, Some(&ev.hostname[..]));
    cond!(r.status, st(StaticField::Status));
    if r.check_diff && !check_diff(corr, r, ev, out) {
        return false;
    }
    if r.if_fts && !first_time_seen(ctx, corr) {
        return false;
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
        let Some(v) = value else { return false };
        let Some(list) = ctx.lists.get(l.list) else { return false };
        if !lookup(list, l.lookup, l.check.as_ref(), v) {
            return false;
        }
    }
    let _ = ri;
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
    let key = (host.to_vec(), r.id);
    match corr.diff_last.get(&key) {
        None => {
            corr.diff_last.insert(key, log.to_vec());
            false
        }
        Some(old) if old == log => false,
        Some(old) => {
            let old = old.clone();
            corr.diff_last.insert(key, log.to_vec());
            out.previous = vec![b"Previous output:".to_vec(), old.clone()];
            out.previous_log = Some(old);
            true
        }
    }
}

/// `FTS`: the key is the decoder name and the values of the decoder's
/// `<fts>` fields (statics in a fixed order, cut to 255 bytes, then the
/// dynamic ones up to 256). A key seen before fails. For `ids` decoders, a
/// key with more than 14 leading bytes in common with more than two of the
/// last 32 keys is cut to 14 bytes first (and fails if that was seen).
fn first_time_seen(ctx: &Ctx<'_>, corr: &mut Correlation) -> bool {
    const FLSIZE: usize = 256;
    const MIN_SIZE_FOR_STR: usize = 14;
    const LIST_SIZE: usize = 32;
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
    if corr.fts_seen.contains(&key) {
        return false;
    }
    let mut listed = false;
    if d.dtype == crate::decode::DecoderType::Ids {
        let common = |a: &[u8], b: &[u8]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let similar = corr.fts_list.iter().rev().filter(|k| common(k, &key) > MIN_SIZE_FOR_STR).count();
        if similar > 2 {
            key.truncate(MIN_SIZE_FOR_STR);
        }
        if corr.fts_list.len() >= LIST_SIZE {
            corr.fts_list.pop_front();
        }
        corr.fts_list.push_back(key.clone());
        listed = true;
    }
    if !corr.fts_seen.insert(key) {
        if listed {
            corr.fts_list.pop_back();
        }
        return false;
    }
    true
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
    let log = &log[..log.iter().position(|&b| b == 0).unwrap_or(log.len())];
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
