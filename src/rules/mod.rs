//! Rules: the compiled rule set and the rule tree
//! (upstream: src/analysisd/rules.c, rules_list.c).
//!
//! A [`Rule`] holds the compiled conditions of one `<rule>`; the [`RuleTree`]
//! places rules under their parents (`if_sid` > `if_level` > `if_group` >
//! category) with Wazuh's sibling order: level-0 rules first, then by level
//! descending, stable in load order. A rule can sit at several places in the
//! tree; its state (firedtimes, correlation lists) is shared across them and
//! lives in the session, indexed by rule.

pub mod eval;
pub mod trace;

use std::collections::HashMap;
use std::net::IpAddr;

use crate::decode::DecoderType;
use crate::event::{FieldId, StaticField};
use crate::index::{IdxVec, ListIdx, NodeIdx, RuleIdx};
use crate::lists::Lookup;
use crate::matcher::{Matcher, OsMatch, OsRegex};

/// A pattern condition with its `negate` attribute.
#[derive(Debug, Clone)]
pub struct Cond {
    pub m: Matcher,
    pub negate: bool,
}

impl Cond {
    /// Wazuh's pass rule: an absent value fails whatever `negate` says.
    #[inline]
    pub fn test(&self, value: Option<&[u8]>) -> bool {
        match value {
            Some(v) => self.m.is_match(v) != self.negate,
            None => false,
        }
    }
}

/// One entry of a `<srcip>`/`<dstip>` list (upstream `os_ip`, built by
/// `OS_IsValidIP`): the address already masked, and the mask. A dotted IPv4
/// mask is used bit for bit, so it need not be contiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpNet {
    V4 {
        addr: u32,
        mask: u32,
    },
    V6 {
        addr: u128,
        mask: u128,
    },
    /// `any`: upstream stores only an all-zero IPv6 entry (its IPv4 part is
    /// left NULL, so an IPv4 event reaching it crashes analysisd); it matches
    /// every IPv6 address here and no IPv4 one.
    Any,
}

impl IpNet {
    /// Does the network contain `ip`? An address of the other family never
    /// matches (upstream dereferences the entry's missing half: a crash).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self, ip) {
            (IpNet::V4 { addr, mask }, IpAddr::V4(b)) => u32::from(*b) & mask == *addr,
            (IpNet::V6 { addr, mask }, IpAddr::V6(b)) => u128::from(*b) & mask == *addr,
            (IpNet::Any, IpAddr::V6(_)) => true,
            _ => false,
        }
    }
}

/// `<srcip>`/`<dstip>`: every occurrence adds its address to one list, tried
/// in order as a plain OR (upstream `OS_IPFoundList`). A leading `!` on an
/// entry is skipped when the address is parsed and so has no effect; the
/// `negate` of the last occurrence inverts the whole list.
#[derive(Debug, Clone, Default)]
pub struct IpList {
    pub nets: Vec<IpNet>,
    pub negate: bool,
}

impl IpList {
    /// The event value must be an address `inet_pton` accepts (IPv4 first,
    /// then IPv6); anything else fails whatever `negate` says.
    pub fn test(&self, value: Option<&[u8]>) -> bool {
        let Some(v) = value else { return false };
        let Some(ip) = std::str::from_utf8(v).ok().and_then(|s| s.parse::<IpAddr>().ok()) else {
            return false;
        };
        self.nets.iter().any(|n| n.contains(&ip)) != self.negate
    }
}

/// Built-in C predicates of `<compiled_rule>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompiledRule {
    SrcuserDstuser,
    CheckIdSize,
    MswinTargetCaller,
    SimpleHttpRequest,
    ValidCrawler,
}

/// What a `<list field=...>` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListField {
    Static(StaticField),
    Hostname,
    ProgramName,
    /// srcuser if set, else dstuser.
    User,
    Dynamic(FieldId),
}

/// One `<list>` condition.
#[derive(Debug, Clone)]
pub struct ListCond {
    pub field: ListField,
    pub lookup: Lookup,
    pub check: Option<OsMatch>,
    /// The list.
    pub list: ListIdx,
}

/// `<time>`: upstream's normalised string (`OS_IsValidTime`): a flag byte
/// (`.` or `!`) followed by the start and end times, normally `HH:MM` each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeRange {
    pub spec: Vec<u8>,
}

impl TimeRange {
    /// `OS_IsonTime`: `hhmm` (the first five bytes of the reception time
    /// `HH:MM:SS`) is compared with `strncmp(…, 5)` against the bytes at
    /// offsets 1 and 6 of the spec, inclusive at both ends; `!` inverts.
    pub fn is_on(&self, hhmm: &[u8]) -> bool {
        fn strncmp5(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
            for i in 0..5 {
                let x = a.get(i).copied().unwrap_or(0);
                let y = b.get(i).copied().unwrap_or(0);
                if x != y {
                    return x.cmp(&y);
                }
                if x == 0 {
                    break;
                }
            }
            std::cmp::Ordering::Equal
        }
        let on = self.spec.first() != Some(&b'!');
        let start = self.spec.get(1..).unwrap_or_default();
        let end = self.spec.get(6..).unwrap_or_default();
        if strncmp5(hhmm, start).is_ge() && strncmp5(hhmm, end).is_le() {
            on
        } else {
            !on
        }
    }
}

/// Fields compared by `same_*`/`different_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameField {
    Static(StaticField),
    Location,
    SrcGeoip,
    DstGeoip,
}

/// Which correlation search a rule uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// `if_matched_sid`: the target rule's list (index of the target rule);
    /// `None` when no rule with that id was loaded before the correlation
    /// rule (upstream logs "No sid search." and the search always fails).
    Sid(Option<RuleIdx>),
    /// `if_matched_group`: the rule's own group list.
    Group,
    /// `if_matched_regex`: the global event list.
    Event,
}

/// `<options>` flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub mail: bool,
    pub log: bool,
    pub no_ar: bool,
    pub no_full_log: bool,
    pub no_counter: bool,
}

/// MITRE references of a rule.
#[derive(Debug, Clone, Default)]
pub struct MitreRefs {
    /// Deprecated `<id>` form.
    pub ids: Vec<String>,
    /// New form: (tactic id, technique id) pairs.
    pub pairs: Vec<(String, String)>,
}

/// The field list of `<ignore>`/`<check_if_ignored>`: static flags are OR-ed
/// over all occurrences, the dynamic names come from the last one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FtsKeys {
    /// Static keys as upstream's `FTS_*` bits: 1 dstuser (`user`), 2 srcip,
    /// 4 dstip, 8 id, 16 location, 32 data, 64 name (decoder name).
    pub statics: u8,
    pub dynamic: Vec<Vec<u8>>,
}

impl FtsKeys {
    pub fn is_set(&self) -> bool {
        self.statics != 0 || !self.dynamic.is_empty()
    }
}

/// One compiled rule.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    pub id: u32,
    /// Final level (0..16; 99 for level 0 with `accuracy="0"`).
    pub level: u32,
    /// Level while loading (level 0 → 9900, n → n×100 unless accuracy 0); decides sibling order.
    pub internal_level: u32,
    /// `frequency` attribute (0 when absent).
    pub frequency: u32,
    pub timeframe: u32,
    pub ignore: u32,
    pub maxsize: u32,
    pub noalert: bool,
    pub overwrite: bool,
    pub options: Options,
    pub category: DecoderType,
    pub decoded_as: Option<Box<[u8]>>,

    pub program_name: Option<Cond>,
    pub id_cond: Option<Cond>,
    pub system_name: Option<Cond>,
    pub protocol: Option<Cond>,
    pub match_: Option<Cond>,
    pub regex: Option<Cond>,
    pub action: Option<Cond>,
    pub url: Option<Cond>,
    pub location: Option<Cond>,
    pub fields: Vec<(FieldId, Cond)>,
    pub srcip: Option<IpList>,
    pub dstip: Option<IpList>,
    pub srcport: Option<Cond>,
    pub dstport: Option<Cond>,
    pub compiled: Option<CompiledRule>,
    pub user: Option<Cond>,
    pub srcgeoip: Option<Cond>,
    pub dstgeoip: Option<Cond>,
    pub time: Option<TimeRange>,
    /// Bit i = weekday i (0 = Sunday).
    pub weekday: Option<u8>,
    pub data: Option<Cond>,
    pub extra_data: Option<Cond>,
    pub hostname: Option<Cond>,
    pub status: Option<Cond>,
    pub check_diff: bool,
    pub if_fts: bool,
    pub lists: Vec<ListCond>,

    pub if_sid: Option<String>,
    pub if_group: Option<Vec<u8>>,
    pub if_level: Option<String>,
    /// `if_matched_sid` (C `atoi` of the text; `None` when absent or 0).
    pub if_matched_sid: Option<i32>,
    pub if_matched_group: Option<OsMatch>,
    pub if_matched_group_text: Option<Vec<u8>>,
    pub if_matched_regex: Option<OsRegex>,
    pub same: Vec<SameField>,
    pub different: Vec<SameField>,
    pub same_fields: Vec<FieldId>,
    pub different_fields: Vec<FieldId>,
    pub same_id: bool,
    pub same_srcip: bool,
    pub global_frequency: bool,
    /// Upstream `context`: set by any `if_matched_*` or `check_diff` (cleared
    /// again at wiring for a `check_diff` rule without sid/group search). The
    /// correlation search runs only while it is set, so an overwrite without
    /// `if_matched_*` switches the kept search off.
    pub context: bool,
    /// Set when wiring correlation (upstream `event_search`; the alert's
    /// `rule.frequency` is shown iff it is set).
    pub search: Option<Search>,
    /// `<ignore>` fields (the FTS-based suppression list, not the attribute).
    pub fts_ignore: FtsKeys,
    /// `<check_if_ignored>` fields.
    pub fts_check_ignored: FtsKeys,

    pub description: Vec<u8>,
    pub groups: Vec<u8>,
    pub info: Vec<(Vec<u8>, Vec<u8>)>,
    pub cve: Vec<u8>,
    pub mitre: MitreRefs,

    /// Where the rule is defined (its `<rule>` start tag).
    pub span: crate::diagnostics::Span,
}

/// A position of a rule in the tree.
#[derive(Debug, Clone)]
pub struct Node {
    pub rule: RuleIdx,
    pub children: Vec<NodeIdx>,
    /// The node whose child list holds this one (`None` for roots).
    pub parent: Option<NodeIdx>,
    /// Distance from the root (0 for roots).
    pub depth: u32,
}

/// The rule tree.
#[derive(Debug, Clone, Default)]
pub struct RuleTree {
    pub rules: IdxVec<RuleIdx, Rule>,
    pub nodes: IdxVec<NodeIdx, Node>,
    pub roots: Vec<NodeIdx>,
    pub by_id: HashMap<u32, RuleIdx>,
    /// Rules that own a previous-matches list (targets of some `if_matched_sid`).
    pub has_sid_list: IdxVec<RuleIdx, bool>,
    /// For each rule: the `if_matched_group` correlation rules whose list it feeds.
    pub feeds_groups: IdxVec<RuleIdx, Vec<RuleIdx>>,
    /// For each rule: its nodes (a rule can sit under several parents).
    pub nodes_of: IdxVec<RuleIdx, Vec<NodeIdx>>,
    /// Highest internal frequency (attribute − 2) of any rule read: the age
    /// (in seconds!) beyond which upstream's event list evicts extra entries.
    pub max_freq: u32,
}

impl RuleTree {
    pub fn rule(&self, id: u32) -> Option<&Rule> {
        self.by_id.get(&id).map(|&i| &self.rules[i])
    }

    /// Number of tree nodes ("Total rules enabled").
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Inserts node `n` into `list` keeping internal levels descending, stable
    /// (after every node of the same level). The list is sorted, so a binary
    /// search finds the place: a category root with 100,000 children is common.
    pub(crate) fn insert_sorted(
        rules: &IdxVec<RuleIdx, Rule>,
        nodes: &IdxVec<NodeIdx, Node>,
        list: &mut Vec<NodeIdx>,
        n: NodeIdx,
    ) {
        let lvl = rules[nodes[n].rule].internal_level;
        let pos = list.partition_point(|&x| rules[nodes[x].rule].internal_level >= lvl);
        list.insert(pos, n);
    }
}
