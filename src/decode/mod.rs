//! Decoding: choosing a decoder for an event and extracting its fields
//! (upstream: src/analysisd/decoders/decoder.c `DecodeEvent`).
//!
//! The decoder "tree" has exactly two levels. Top-level decoders live in two
//! lists: those with `<program_name>` (tried only for events that *have* a
//! program name, even an empty one) and those without (tried only for events
//! without one). The first top-level decoder whose program name and prematch
//! match is final — there is no fallback. Its children are scanned: the first
//! child whose prematch matches wins, and a child *without* prematch wins at
//! once but leaves the event's decoder info on the parent. The winner and its
//! same-named siblings ("sibling chain") then run their regexes in turn.
//! A parent with children never runs its own regex or plugin.

pub(crate) mod json_plugin;
pub(crate) mod plugins;

use std::collections::HashMap;

use crate::event::{Event, StaticField};
use crate::index::{DecoderIdx, IdxVec};
use crate::matcher::{next_offset, Matcher};
use crate::rules::trace::{NoTrace, Trace};

/// The `<type>` of a decoder, which selects the rule root (category).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum DecoderType {
    /// `firewall`.
    Firewall,
    /// `ids` (its first-time-seen keys get the "3 similar keys" truncation).
    Ids,
    /// `web-log`.
    WebLog,
    /// `syslog`, the default.
    #[default]
    Syslog,
    /// `squid`.
    Squid,
    /// `windows`.
    Windows,
    /// `host-information`: a decoder type only (no rule `<category>` has it).
    HostInformation,
    /// `ossec`.
    Ossec,
    /// Set by `OSSECAlert_Decoder` (upstream `OSSEC_ALERT`); no decoder
    /// `<type>` or rule `<category>` names it, so no rule root matches it.
    OssecAlert,
}

impl DecoderType {
    /// Decoder `<type>` values (case-sensitive).
    pub(crate) fn from_decoder_type(v: &[u8]) -> Option<DecoderType> {
        Some(match v {
            b"firewall" => DecoderType::Firewall,
            b"ids" => DecoderType::Ids,
            b"web-log" => DecoderType::WebLog,
            b"syslog" => DecoderType::Syslog,
            b"squid" => DecoderType::Squid,
            b"windows" => DecoderType::Windows,
            b"host-information" => DecoderType::HostInformation,
            b"ossec" => DecoderType::Ossec,
            _ => return None,
        })
    }
}

/// Where a prematch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum PrematchOffset {
    /// At the start of `log` (the default).
    #[default]
    Log,
    /// `after_parent`: after the parent's prematch.
    AfterParent,
}

/// Where a regex starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum RegexOffset {
    /// At the start of `log` (the default).
    #[default]
    Log,
    /// `after_parent`: after the parent's prematch.
    AfterParent,
    /// `after_prematch`: after the decoder's own prematch (a decoder without parent stores it as
    /// `AfterParent`).
    AfterPrematch,
    /// `after_regex`: after the previous regex of the sibling chain.
    AfterRegex,
}

/// Where the JSON plugin starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum PluginOffset {
    /// At the start of `log` (the default).
    #[default]
    Log,
    /// `after_parent`: after the parent's prematch.
    AfterParent,
    /// `after_prematch`: after the decoder's prematch.
    AfterPrematch,
    /// `after_regex`: accepted at load, the JSON plugin then refuses to run.
    Invalid,
}

/// A plugin decoder (`<plugin_decoder>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plugin {
    /// `JSON_Decoder` ([`json_plugin`]).
    Json,
    /// `PF_Decoder` ([`plugins::pf`]).
    Pf,
    /// `SymantecWS_Decoder` ([`plugins::symantec_ws`]).
    SymantecWs,
    /// `SonicWall_Decoder` ([`plugins::sonicwall`]).
    SonicWall,
    /// `OSSECAlert_Decoder` ([`plugins::ossec_alert`]).
    OssecAlert,
}

impl Plugin {
    /// The `<plugin_decoder>` value (case-sensitive).
    pub(crate) fn from_name(name: &[u8]) -> Option<Plugin> {
        Some(match name {
            b"JSON_Decoder" => Plugin::Json,
            b"PF_Decoder" => Plugin::Pf,
            b"SymantecWS_Decoder" => Plugin::SymantecWs,
            b"SonicWall_Decoder" => Plugin::SonicWall,
            b"OSSECAlert_Decoder" => Plugin::OssecAlert,
            _ => return None,
        })
    }
}

/// Where a capture goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OrderSlot {
    /// A static field (`user` is `dstuser`).
    Static(StaticField),
    /// A dynamic field of this name.
    Dynamic(Box<[u8]>),
}

/// The `<fts>` of a decoder.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fts {
    /// The static parts of the key (their order in the key is fixed, not this one).
    pub(crate) statics: Vec<FtsStatic>,
    /// Dynamic fields of the decoder's `order` (from the last `<fts>`), appended in this order.
    pub(crate) dynamic: Vec<Box<[u8]>>,
}

/// A static part of an `<fts>` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FtsStatic {
    /// `dstuser` (or `user`).
    Dstuser,
    /// `srcuser`.
    Srcuser,
    /// `srcip`.
    Srcip,
    /// `dstip`.
    Dstip,
    /// `id`.
    Id,
    /// `location`.
    Location,
    /// `data` (or `extra_data`, which upstream maps to the same bit).
    Data,
    /// `system_name`.
    SystemName,
    /// `name`: accepted, but the key always starts with the decoder name anyway.
    Name,
}

/// One compiled `<decoder>` (upstream `OSDecoderInfo`).
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Name after renaming (children without `use_own_name` take the parent's).
    pub name: Box<[u8]>,
    /// The `name` attribute as written.
    pub(crate) original_name: Box<[u8]>,
    /// The raw `<parent>` text (repeated elements concatenated).
    pub(crate) parent: Option<Box<[u8]>>,
    /// `<program_name>` (OS_Match by default): a top-level decoder with it is tried only for events
    /// that have a program name.
    pub(crate) program_name: Option<Matcher>,
    /// `<prematch>` (OS_Regex by default; repeated elements concatenated).
    pub(crate) prematch: Option<Matcher>,
    /// Where the prematch starts.
    pub(crate) prematch_offset: PrematchOffset,
    /// `<regex>` (OS_Regex by default, compiled with captures; concatenated).
    pub(crate) regex: Option<Matcher>,
    /// Where the regex starts.
    pub(crate) regex_offset: RegexOffset,
    /// `<order>`: where the regex's captures go, in capture order.
    pub(crate) order: Vec<OrderSlot>,
    /// `<fts>`: the first-time-seen key of `<if_fts>` rules.
    pub(crate) fts: Option<Fts>,
    /// `<ftscomment>` (the alert's `decoder.ftscomment`).
    pub(crate) ftscomment: Option<Box<[u8]>>,
    /// `<type>` (default syslog): the event's decoder type, which picks the rule roots.
    pub(crate) dtype: DecoderType,
    /// `<use_own_name>true</use_own_name>`: a child keeps its own name instead of its parent's.
    pub(crate) use_own_name: bool,
    /// `<accumulate>`: static fields are carried between events of the same host, decoder and `id`.
    pub(crate) accumulate: bool,
    /// `<plugin_decoder>`: a built-in decoder runs instead of a regex.
    pub(crate) plugin: Option<Plugin>,
    /// The plugin's `offset` attribute.
    pub(crate) plugin_offset: PluginOffset,
    /// `<json_null_field>discard</json_null_field>`: JSON nulls are dropped instead of kept as the
    /// text `null`.
    pub(crate) json_null_discard: bool,
    /// `<json_array_structure>csv</json_array_structure>`: JSON arrays become comma-separated text
    /// instead of printed JSON.
    pub(crate) json_csv: bool,
    /// Set on all but the last member of a same-named sibling run.
    pub(crate) get_next: bool,
    /// Children, top-level decoders only.
    pub(crate) children: Vec<DecoderIdx>,
    /// Where the decoder is defined (its `<decoder>` start tag).
    pub(crate) span: crate::diagnostics::Span,
}

/// The compiled decoder set.
#[derive(Debug, Clone, Default)]
pub struct Decoders {
    /// Every decoder, in load order.
    pub(crate) nodes: IdxVec<DecoderIdx, Decoder>,
    /// Top-level decoders with `<program_name>`, in load order.
    pub(crate) with_program: Vec<DecoderIdx>,
    /// Top-level decoders without, in load order.
    pub(crate) without_program: Vec<DecoderIdx>,
    /// Maximum number of dynamic fields (`analysisd.decoder_order_size`).
    pub(crate) order_size: usize,
    /// Names known to `decoded_as` (decoder names and Wazuh's internal ones).
    pub(crate) known_names: std::collections::BTreeSet<Box<[u8]>>,
}

/// Where a regex chain starts: the top-level decoder, the index of the first
/// node in its child list (`None`: the top-level decoder itself), and the
/// cursors its offsets refer to.
struct Chain {
    top: DecoderIdx,
    child: Option<usize>,
    /// Just after the parent's prematch (`after_parent`).
    after_parent: usize,
    /// The same, for the JSON plugin, which only has one with a parent.
    parent_cursor: Option<usize>,
    /// Just after the node's own prematch (`after_prematch`).
    after_prematch: usize,
}

/// Reusable buffers for decoding (kept by a session, so decoding does not
/// allocate per decoder).
#[derive(Debug, Default)]
pub struct Scratch {
    /// Capture ranges of the last match.
    pub(crate) caps: Vec<(usize, usize)>,
    /// The JSON decoder's leaves, before they become the event's fields.
    pub(crate) json_leaves: crate::event::Fields,
}

impl Decoders {
    /// Decodes `ev` in place: sets its decoder and fields, as wazuh-logtest
    /// does. (Its rules hash is always empty, so `OSSECAlert_Decoder` never
    /// finds a forwarded alert's rule: see [`plugins::ossec_alert`].)
    pub fn decode(&self, ev: &mut Event, scratch: &mut Scratch) {
        self.decode_traced(ev, scratch, None, &mut NoTrace);
    }

    /// Decodes `ev` as wazuh-analysisd does: `rules` (rule id → rule, the
    /// rule tree's `by_id`) is the hash `OSSECAlert_Decoder` looks forwarded
    /// alerts' rule ids up in; `None` is logtest's empty hash.
    pub fn decode_with_rules(
        &self,
        ev: &mut Event,
        scratch: &mut Scratch,
        rules: Option<&HashMap<u32, crate::index::RuleIdx>>,
    ) {
        self.decode_traced(ev, scratch, rules, &mut NoTrace);
    }

    /// Decodes `ev`, reporting each decoder tried to `trace`.
    pub(crate) fn decode_traced(
        &self,
        ev: &mut Event,
        scratch: &mut Scratch,
        rules: Option<&HashMap<u32, crate::index::RuleIdx>>,
        trace: &mut impl Trace,
    ) {
        let program = ev.pre.program_name.clone();
        let log_range = ev.pre.log.clone();
        let list = if program.is_some() { &self.with_program } else { &self.without_program };
        for &di in list {
            let d = &self.nodes[di];
            if let (Some(pr), Some(pm)) = (&program, &d.program_name) {
                let pn = ev.full_log.get(pr.clone()).unwrap_or(b"");
                if !pm.is_match(pn) {
                    trace.decoder(d, false);
                    continue;
                }
            }
            // Cursors are offsets into the log.
            let log = ev.full_log.get(log_range.clone()).unwrap_or(b"");
            let mut p = 0usize;
            if let Some(pre) = &d.prematch {
                match pre.exec(log, &mut scratch.caps) {
                    Some(end) => p = next_offset(log.len(), end),
                    None => {
                        trace.decoder(d, false);
                        continue;
                    }
                }
            }
            trace.decoder(d, true);
            ev.decoder = Some(di);
            ev.decoder_type = d.dtype;
            if d.children.is_empty() {
                let chain = Chain { top: di, child: None, after_parent: p, parent_cursor: None, after_prematch: p };
                self.run_chain(ev, chain, scratch, rules);
                return;
            }
            let mut k = 0;
            while k < d.children.len() {
                let ci = d.children[k];
                let child = &self.nodes[ci];
                let Some(pre) = &child.prematch else {
                    // A prematch-less child wins at once; the decoder info stays the parent's.
                    trace.decoder(child, true);
                    let chain =
                        Chain { top: di, child: Some(k), after_parent: p, parent_cursor: None, after_prematch: p };
                    self.run_chain(ev, chain, scratch, rules);
                    return;
                };
                let subj_start = if child.prematch_offset == PrematchOffset::AfterParent { p } else { 0 };
                let subj = log.get(subj_start..).unwrap_or(b"");
                if let Some(end) = pre.exec(subj, &mut scratch.caps) {
                    trace.decoder(child, true);
                    let c = subj_start + next_offset(subj.len(), end);
                    ev.decoder = Some(ci);
                    ev.decoder_type = child.dtype;
                    let chain =
                        Chain { top: di, child: Some(k), after_parent: p, parent_cursor: Some(p), after_prematch: c };
                    self.run_chain(ev, chain, scratch, rules);
                    return;
                }
                trace.decoder(child, false);
                if child.get_next {
                    // Skip the rest of this sibling run.
                    while k < d.children.len() && self.nodes[d.children[k]].get_next {
                        k += 1;
                    }
                }
                k += 1;
            }
            // No child matched: decoded as the parent, with no fields.
            return;
        }
    }

    /// Runs the regex node and its sibling chain.
    fn run_chain(
        &self,
        ev: &mut Event,
        chain: Chain,
        scratch: &mut Scratch,
        rules: Option<&HashMap<u32, crate::index::RuleIdx>>,
    ) {
        let Chain { top, child, after_parent: p, parent_cursor: after_parent, after_prematch: c } = chain;
        let mut r: Option<usize> = None;
        let mut k = child;
        loop {
            // Re-read each time: OSSECAlert_Decoder replaces the log.
            let log_range = ev.pre.log.clone();
            let ni = match k {
                Some(k) => match self.nodes[top].children.get(k) {
                    Some(&ni) => ni,
                    None => return,
                },
                None => top,
            };
            let n = &self.nodes[ni];
            if let Some(plugin) = n.plugin {
                match plugin {
                    Plugin::Json => {
                        // The plugin reads offset and flags from the event's decoder info.
                        let info = &self.nodes[ev.decoder.unwrap_or(ni)];
                        let start = match info.plugin_offset {
                            PluginOffset::Log => Some(0),
                            PluginOffset::AfterParent => after_parent,
                            PluginOffset::AfterPrematch => Some(c),
                            PluginOffset::Invalid => None,
                        };
                        if let Some(start) = start {
                            // The plugin only writes fields: lend it the log without copying it.
                            let full_log = std::mem::take(&mut ev.full_log);
                            let input = full_log.get(log_range.start + start..log_range.end).unwrap_or(b"");
                            json_plugin::decode(
                                input,
                                info.json_null_discard,
                                info.json_csv,
                                self.order_size,
                                ev,
                                &mut scratch.json_leaves,
                            );
                            ev.full_log = full_log;
                        }
                    }
                    // The others read the whole log, whatever the offset.
                    Plugin::Pf => plugins::pf::decode(ev),
                    Plugin::SymantecWs => plugins::symantec_ws::decode(ev),
                    Plugin::SonicWall => plugins::sonicwall::decode(ev, &mut scratch.caps),
                    Plugin::OssecAlert => plugins::ossec_alert::decode(ev, rules),
                }
            } else if let Some(re) = &n.regex {
                let start = match n.regex_offset {
                    RegexOffset::Log => 0,
                    RegexOffset::AfterParent => p,
                    RegexOffset::AfterPrematch => c,
                    RegexOffset::AfterRegex => r.unwrap_or(c),
                };
                let log = ev.full_log.get(log_range.clone()).unwrap_or(b"");
                let subj = log.get(start..).unwrap_or(b"");
                match re.exec(subj, &mut scratch.caps) {
                    None => match k {
                        Some(kk) if n.get_next => {
                            k = Some(kk + 1);
                            continue;
                        }
                        _ => return,
                    },
                    Some(end) => {
                        r = Some(start + next_offset(subj.len(), end));
                        if ev.dynamic.len() >= self.order_size {
                            return;
                        }
                        let base = log_range.start + start;
                        for (i, &(s, e)) in scratch.caps.iter().enumerate() {
                            let Some(slot) = n.order.get(i) else { break };
                            let v = ev.full_log.get(base + s..base + e).unwrap_or(b"");
                            match slot {
                                OrderSlot::Static(f) => {
                                    let v = v.to_vec();
                                    ev.set_static(*f, v)
                                }
                                OrderSlot::Dynamic(name) => {
                                    if ev.dynamic.len() < self.order_size {
                                        ev.dynamic.push(name, v)
                                    }
                                }
                            }
                        }
                    }
                }
            } else {
                return;
            }
            if n.get_next {
                match k {
                    Some(kk) => k = Some(kk + 1),
                    None => return,
                }
            } else {
                return;
            }
        }
    }

    /// The event's decoder info.
    pub(crate) fn info(&self, ev: &Event) -> Option<&Decoder> {
        ev.decoder.and_then(|i| self.nodes.get(i))
    }
}
