//! Decoders that can never be selected.
//!
//! Top-level decoders are tried in load order (those with `<program_name>`
//! only for events with one, the others only for events without) and the
//! first whose program name and prematch match is final. Children of a
//! parent are tried in order and the first whose prematch matches wins; a
//! child *without* prematch wins at once. So a decoder is shadowed when an
//! earlier one of the same list takes every event it could take: an earlier
//! one with the same program name and the same prematch (or none), or an
//! earlier prematch-less child. Same-named siblings form a run that is tried
//! through its first member only, so runs are compared by their first
//! members (later members without prematch shadow nothing).

use crate::decode::Decoder;
use crate::index::DecoderIdx;
use crate::matcher::Matcher;
use crate::Ruleset;

/// A decoder that can never be selected, and the one that takes its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadowed {
    /// The decoder never selected.
    pub decoder: DecoderIdx,
    /// The earlier decoder that takes every event it could.
    pub by: DecoderIdx,
}

fn same(a: &Option<Matcher>, b: &Option<Matcher>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.kind() == y.kind() && x.pattern() == y.pattern(),
        _ => false,
    }
}

/// Does `earlier` take every event `later` could (both of one list)?
fn covers(earlier: &Decoder, later: &Decoder) -> bool {
    let program = earlier.program_name.is_none() || same(&earlier.program_name, &later.program_name);
    let prematch = earlier.prematch.is_none()
        || (same(&earlier.prematch, &later.prematch) && earlier.prematch_offset == later.prematch_offset);
    program && prematch
}

/// Every decoder that can never be selected.
pub fn shadowed_decoders(rs: &Ruleset) -> Vec<Shadowed> {
    let nodes = &rs.decoders.nodes;
    let mut out = Vec::new();
    for list in [&rs.decoders.with_program, &rs.decoders.without_program] {
        for (i, &d) in list.iter().enumerate() {
            if let Some(&by) = list[..i].iter().find(|&&e| covers(&nodes[e], &nodes[d])) {
                out.push(Shadowed { decoder: d, by });
            }
        }
    }
    // Children are tried run by run (a run: same-named siblings, each but the
    // last with `get_next`): only a run's first member is tried; a first
    // member without prematch wins at once; one whose prematch fails skips
    // its whole run. A child sits under every earlier top-level decoder of
    // its parent's name: it is shadowed only if it is under each of them.
    let mut children: std::collections::BTreeMap<DecoderIdx, (usize, Vec<DecoderIdx>)> = Default::default();
    for top in rs.decoders.with_program.iter().chain(&rs.decoders.without_program) {
        let kids = &nodes[*top].children;
        let mut firsts: Vec<DecoderIdx> = Vec::new();
        let mut i = 0;
        while i < kids.len() {
            let first = kids[i];
            let mut j = i;
            while j + 1 < kids.len() && nodes[kids[j]].get_next {
                j += 1;
            }
            let d = &nodes[first];
            let by = firsts.iter().copied().find(|&e| {
                let earlier = &nodes[e];
                earlier.prematch.is_none()
                    || (same(&earlier.prematch, &d.prematch) && earlier.prematch_offset == d.prematch_offset)
            });
            let entry = children.entry(first).or_default();
            entry.0 += 1;
            entry.1.extend(by);
            firsts.push(first);
            i = j + 1;
        }
    }
    for (c, (appearances, by)) in children {
        if by.len() == appearances {
            out.push(Shadowed { decoder: c, by: by[0] });
        }
    }
    out.sort_by_key(|s| s.decoder);
    out.dedup_by_key(|s| s.decoder);
    out
}
