//! Rules: the compiled rule set and the rule tree
//! (upstream: src/analysisd/rules.c, rules_list.c).
//!
//! A [`Rule`] holds the compiled conditions of one `<rule>`; the [`RuleTree`]
//! places rules under their parents (`if_sid` > `if_level` > `if_group` >
//! category) with Wazuh's sibling order: level-0 rules first, then by level
//! descending, stable in load order. A rule can sit at several places in the
//! tree; its state (firedtimes, correlation lists) is shared across them and
//! lives in the session, indexed by rule.

pub(crate) mod eval;
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
    /// The compiled pattern, in the language the element's `type` (or its default) chose.
    pub m: Matcher,
    /// `negate="yes"` (of the last occurrence): inverts the result, but only for a present value.
    pub negate: bool,
}

impl Cond {
    /// Wazuh's pass rule: an absent value fails whatever `negate` says.
    #[inline]
    pub(crate) fn test(&self, value: Option<&[u8]>) -> bool {
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
pub(crate) enum IpNet {
    /// An IPv4 network.
    V4 {
        /// The address, already masked.
        addr: u32,
        /// The mask, bit for bit as given (a dotted mask need not be contiguous).
        mask: u32,
    },
    /// An IPv6 network.
    V6 {
        /// The address, already masked.
        addr: u128,
        /// The mask (from the prefix length; `/128` by default).
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
    pub(crate) fn contains(&self, ip: &IpAddr) -> bool {
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
    /// The entries of every occurrence, in document order.
    pub(crate) nets: Vec<IpNet>,
    /// `negate` of the last occurrence: inverts the whole list.
    pub(crate) negate: bool,
}

impl IpList {
    /// The event value must be an address `inet_pton` accepts (IPv4 first,
    /// then IPv6); anything else fails whatever `negate` says.
    pub(crate) fn test(&self, value: Option<&[u8]>) -> bool {
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
    /// `comp_srcuser_dstuser`: passes unless `srcuser` and `dstuser` are both present and differ.
    SrcuserDstuser,
    /// `check_id_size`: `id` is present and at least 10 bytes long.
    CheckIdSize,
    /// `comp_mswin_targetuser_calleruser_diff`: in `log`, the text after "Target Account Name:"
    /// differs from the text after "Caller User Name:" (both labels required).
    MswinTargetCaller,
    /// `is_simple_http_request`: `url` is `/` or has no `?`.
    SimpleHttpRequest,
    /// `is_valid_crawler`: `log` starts with one of a fixed list of Google, MSN and Yahoo crawler
    /// address prefixes.
    ValidCrawler,
}

/// What a `<list field=...>` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListField {
    /// A static field (`srcip`, `srcport`, `dstip`, `url`, `id`, …).
    Static(StaticField),
    /// `hostname`: the event's hostname.
    Hostname,
    /// `program_name`: the pre-decoded program name.
    ProgramName,
    /// srcuser if set, else dstuser.
    User,
    /// Any other name (trimmed of spaces): the first dynamic field of that name.
    Dynamic(FieldId),
}

/// One `<list>` condition.
#[derive(Debug, Clone)]
pub struct ListCond {
    /// The `field` attribute: what is looked up.
    pub(crate) field: ListField,
    /// The `lookup` attribute (default `match_key`).
    pub(crate) lookup: Lookup,
    /// `check_value`: an OS_Match pattern on the value stored for the key (the `*_key_value`
    /// lookups).
    pub(crate) check: Option<OsMatch>,
    /// The list, resolved by its path at load.
    pub(crate) list: ListIdx,
}

/// `<time>`: upstream's normalised string (`OS_IsValidTime`): a flag byte
/// (`.` or `!`) followed by the start and end times, normally `HH:MM` each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeRange {
    /// The flag byte, then the start time at offset 1 and the end time at offset 6. A range given
    /// backwards (`18:00-08:00`) is stored as `!` and the swapped range, both ends then excluded.
    pub(crate) spec: Vec<u8>,
}

impl TimeRange {
    /// `OS_IsonTime`: `hhmm` (the first five bytes of the reception time
    /// `HH:MM:SS`) is compared with `strncmp(…, 5)` against the bytes at
    /// offsets 1 and 6 of the spec, inclusive at both ends; `!` inverts.
    pub(crate) fn is_on(&self, hhmm: &[u8]) -> bool {
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
pub(crate) enum SameField {
    /// A static field; `same_user`/`different_user` compare `dstuser` only.
    Static(StaticField),
    /// `same_location`/`different_location`: the raw location.
    Location,
    /// `same_srcgeoip`/`different_srcgeoip` (values only with a GeoIP database).
    SrcGeoip,
    /// `same_dstgeoip`/`different_dstgeoip` (values only with a GeoIP database).
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
    /// The alert's `rule.mail`: `email_alert_level` ≤ level, or `alert_by_email`; cleared by
    /// `no_email_alert`.
    pub mail: bool,
    /// analysisd would write the alert: `log_alert_level` ≤ level, or `log_alert`; cleared by
    /// `no_log`. logtest's `alert` does not look at it (spec rules.md trap 20).
    pub(crate) log: bool,
    /// `no_ar`: no active response (none runs here).
    pub(crate) no_ar: bool,
    /// `no_full_log`: the alert has no `full_log` (its `previous_output` stays).
    pub(crate) no_full_log: bool,
    /// `no_counter`: the alert has no `rule.firedtimes`. `no_email_alert` and `no_log` clear it
    /// again when they clear a flag that was set (upstream clears with a 12-bit mask).
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
    /// Dynamic field names, from the last occurrence only.
    pub dynamic: Vec<Vec<u8>>,
}

impl FtsKeys {
    /// Whether any key is given.
    pub fn is_set(&self) -> bool {
        self.statics != 0 || !self.dynamic.is_empty()
    }
}

/// One compiled `<rule>` (upstream `RuleInfo`): its attributes, its conditions (checked in
/// upstream's order, see [`eval`]), its placement and correlation settings, and what its alerts
/// show. Fields keep upstream's values, quirks included: repeated text elements are concatenated,
/// numbers are read with upstream's widths, an overwrite replaces most of them in place.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    /// The `id` attribute (at most 6 digits). Ids below 10 are root templates.
    pub id: u32,
    /// Final level (0..16; 99 for level 0 with `accuracy="0"`).
    pub level: u32,
    /// Level while loading (level 0 → 9900, n → n×100 unless accuracy 0); decides sibling order.
    pub internal_level: u32,
    /// The `frequency` attribute F as written (2–9999; 0 when absent). Upstream stores F − 2: the
    /// correlation search needs F − 1 qualifying earlier events, so the rule fires on the F-th
    /// event counting the current one. An absent frequency behaves as 2, which the alert's
    /// `rule.frequency` then shows.
    pub(crate) frequency: u32,
    /// The `timeframe` attribute in seconds (only its first 5 digits are read; default
    /// `analysisd.default_timeframe`, 360): how far back the correlation search looks.
    pub timeframe: u32,
    /// The `ignore` attribute in seconds (first 6 digits; 0 = none): after an alert, the rule's
    /// alerts are suppressed for this long (logtest's behaviour; analysisd would report the parent
    /// instead). Unrelated to the `<ignore>` element ([`Rule::fts_ignore`]).
    pub ignore: u32,
    /// The `maxsize` attribute (first 4 digits; 0 = no check). Despite the name, the rule needs
    /// `log` to be *at least* this many bytes long (upstream compares with `>=`).
    pub maxsize: u32,
    /// `noalert="1"`: the rule only groups its children. When none of them matches it is not
    /// returned either (the next sibling is tried) and it never counts a firedtime.
    pub(crate) noalert: bool,
    /// `overwrite="yes"` on an id loaded before: this definition replaces the earlier one's
    /// conditions and metadata in place, keeping its tree positions, placement and correlation
    /// wiring (`OS_AddRuleInfo`). Cleared when the id did not exist (7613: loaded as a new rule).
    pub(crate) overwrite: bool,
    /// `<options>` flags; `mail` and `log` start from the alert levels of `ossec.conf`.
    pub options: Options,
    /// `<category>` (default syslog). It only places a rule without a parent (under the first root
    /// of its category); a child takes its parent's category. At evaluation only roots compare it
    /// with the event's decoder type.
    pub(crate) category: DecoderType,
    /// `<decoded_as>`: the decoder name the event must carry (the name in its decoder info, which
    /// for a child without `use_own_name` is its parent's).
    pub(crate) decoded_as: Option<Box<[u8]>>,

    /// `<program_name>`: the pre-decoded program name.
    pub(crate) program_name: Option<Cond>,
    /// `<id>`: the static `id` field. (`id` is the rule's own id.)
    pub(crate) id_cond: Option<Cond>,
    /// `<system_name>`: the static `system_name` (upstream `systemname`).
    pub(crate) system_name: Option<Cond>,
    /// `<protocol>`: the static `protocol`.
    pub(crate) protocol: Option<Cond>,
    /// `<match>` (OS_Match by default): tested against `log`. (`match` is a keyword.)
    pub match_: Option<Cond>,
    /// `<regex>` (OS_Regex by default): tested against `log`.
    pub(crate) regex: Option<Cond>,
    /// `<action>`: the static `action`, compared exactly and case-sensitively by default
    /// ([`crate::matcher::Kind::Exact`]) unless `type` says otherwise.
    pub(crate) action: Option<Cond>,
    /// `<url>`: the static `url`.
    pub(crate) url: Option<Cond>,
    /// `<location>`: the event's location as received (not the alert's `location`).
    pub(crate) location: Option<Cond>,
    /// `<field name="…">` conditions in document order (OS_Regex by default), each on the first
    /// dynamic field of that name (case-insensitive); every one must hold.
    pub(crate) fields: Vec<(FieldId, Cond)>,
    /// Every `<srcip>` as one OR list.
    pub(crate) srcip: Option<IpList>,
    /// Every `<dstip>` as one OR list.
    pub(crate) dstip: Option<IpList>,
    /// `<srcport>`: the static `srcport`.
    pub(crate) srcport: Option<Cond>,
    /// `<dstport>`: the static `dstport`.
    pub(crate) dstport: Option<Cond>,
    /// `<compiled_rule>` (the last one given).
    pub(crate) compiled: Option<CompiledRule>,
    /// `<user>`: `dstuser`, or `srcuser` when the event has no `dstuser` (the opposite order of
    /// `<list field="user">`).
    pub(crate) user: Option<Cond>,
    /// `<srcgeoip>`: only a session with a GeoIP database has the value; without one it never
    /// matches.
    pub(crate) srcgeoip: Option<Cond>,
    /// `<dstgeoip>`: as [`Rule::srcgeoip`], for `dstgeoip`.
    pub(crate) dstgeoip: Option<Cond>,
    /// `<time>`: the `HH:MM` of the event's time on the session's clock (UTC) must be in range.
    pub(crate) time: Option<TimeRange>,
    /// `<weekday>` as bits, bit i = weekday i (0 = Sunday), tested against the weekday of the
    /// event's time (UTC).
    pub(crate) weekday: Option<u8>,
    /// `<data>`: the static `data`.
    pub(crate) data: Option<Cond>,
    /// `<extra_data>`: the static `extra_data`.
    pub(crate) extra_data: Option<Cond>,
    /// `<hostname>`: the event's hostname (agent name, syslog header host or manager name).
    pub(crate) hostname: Option<Cond>,
    /// `<status>`: the static `status`.
    pub(crate) status: Option<Cond>,
    /// `<check_diff>` (upstream `doDiff`): matches when `log` differs from what this rule last saw
    /// from the same host (the first content is only stored). Such a rule never runs a correlation
    /// search.
    pub(crate) check_diff: bool,
    /// `<if_fts>`: matches only the first time the session sees the decoder's `<fts>` key.
    pub(crate) if_fts: bool,
    /// `<list>` conditions, of which only the **last two** are kept: upstream's `OS_AddListRule`
    /// returns the wrong list head, so from the third `<list>` on the earliest is lost (spec
    /// rules.md trap 18).
    pub(crate) lists: Vec<ListCond>,

    /// `<if_sid>`: parent ids separated by `,` or spaces. Repeated elements are concatenated with
    /// no separator (`100` and `200` make `100200`); a trailing separator also attaches the rule by
    /// category. Set from `if_matched_sid` when the rule has no placement of its own.
    pub if_sid: Option<String>,
    /// `<if_group>` (concatenated): the rule goes under every rule loaded earlier whose groups
    /// match it (OS_WordMatch: a case-insensitive substring). Set from `if_matched_group` when the
    /// rule has no other placement.
    pub if_group: Option<Vec<u8>>,
    /// `<if_level>`: the rule goes under every node loaded earlier whose internal level is at least
    /// L×100, which includes every level-0 rule and the root templates.
    pub(crate) if_level: Option<String>,
    /// `if_matched_sid` (C `atoi` of the text; `None` when absent or 0).
    pub(crate) if_matched_sid: Option<i32>,
    /// `<if_matched_group>`, compiled (OS_Match): the events of rules loaded earlier whose groups
    /// match it feed this rule's group list.
    pub(crate) if_matched_group: Option<OsMatch>,
    /// The `<if_matched_group>` text, which an overwrite compares (7605).
    pub(crate) if_matched_group_text: Option<Vec<u8>>,
    /// `<if_matched_regex>`: the event search's test of earlier events' `log`.
    pub(crate) if_matched_regex: Option<OsRegex>,
    /// `same_*` elements other than `same_id` and `same_srcip`: an earlier event counts only if
    /// both have the value and it is equal.
    pub(crate) same: Vec<SameField>,
    /// `different_*`/`not_same_*`: an earlier event with the same value is skipped; an absent value
    /// counts as different.
    pub(crate) different: Vec<SameField>,
    /// `<same_field>`: every listed dynamic field must exist in both events and be equal; when
    /// either event has no dynamic fields at all, the earlier one does not count.
    pub(crate) same_fields: Vec<FieldId>,
    /// `<different_field>`/`<not_same_field>`: an earlier event is skipped when any listed field
    /// exists in both with equal values, or when neither event has dynamic fields.
    pub(crate) different_fields: Vec<FieldId>,
    /// `same_id`: checked before the other filters, as upstream does.
    pub(crate) same_id: bool,
    /// `same_source_ip`/`same_srcip`: checked right after `same_id`.
    pub same_srcip: bool,
    /// `global_frequency`: earlier events of every agent count, not only the current event's
    /// agent's.
    pub(crate) global_frequency: bool,
    /// Upstream `context`: set by any `if_matched_*` or `check_diff` (cleared
    /// again at wiring for a `check_diff` rule without sid/group search). The
    /// correlation search runs only while it is set, so an overwrite without
    /// `if_matched_*` switches the kept search off.
    pub(crate) context: bool,
    /// Set when wiring correlation (upstream `event_search`; the alert's
    /// `rule.frequency` is shown iff it is set).
    pub search: Option<Search>,
    /// `<ignore>` fields (the FTS-based suppression list, not the attribute). Read for fidelity and
    /// checked at load; logtest never records them.
    pub fts_ignore: FtsKeys,
    /// `<check_if_ignored>` fields; never matches in 4.14.7 (spec rules.md 3.5), and logtest never
    /// gets there.
    pub fts_check_ignored: FtsKeys,

    /// `<description>` as written: fragments concatenated, the first newline of each made a space.
    /// `$(field)` is substituted per event ([`crate::session::Processed::description`]).
    pub description: Vec<u8>,
    /// The group string: the `<group name>` value with every `<group>` text appended, no separator,
    /// newlines removed. Alerts split it at `,` into `groups` and the compliance arrays.
    pub groups: Vec<u8>,
    /// `<info>` entries as (type, text); the type is `text`, `link`, `cve`, `osvdb`, or `-1` when
    /// the attribute is invalid (upstream logs an error and keeps the entry). Alerts show the texts
    /// concatenated.
    pub info: Vec<(Vec<u8>, Vec<u8>)>,
    /// `<cve>` (concatenated): the alert's `rule.cve`.
    pub(crate) cve: Vec<u8>,
    /// `<mitre>` references, resolved against the ATT&CK table when the ruleset is built.
    pub mitre: MitreRefs,

    /// Where the rule is defined (its `<rule>` start tag).
    pub(crate) span: crate::diagnostics::Span,
}

/// A position of a rule in the tree.
#[derive(Debug, Clone)]
pub struct Node {
    /// The rule at this position.
    pub rule: RuleIdx,
    /// Child nodes in sibling order: level 0 first, then level descending, each level in load order
    /// (by internal level, so `accuracy="0"` rules come last).
    pub children: Vec<NodeIdx>,
    /// The node whose child list holds this one (`None` for roots).
    pub(crate) parent: Option<NodeIdx>,
    /// Distance from the root (0 for roots).
    pub(crate) depth: u32,
}

/// The rule tree: every rule definition, the positions they take, and the correlation wiring
/// between them. Built once by the loader, read-only afterwards.
#[derive(Debug, Clone, Default)]
pub struct RuleTree {
    /// Every rule definition, in load order.
    pub rules: IdxVec<RuleIdx, Rule>,
    /// Every position in the tree.
    pub nodes: IdxVec<NodeIdx, Node>,
    /// The root templates (ids below 10), in sibling order; evaluation starts here.
    pub roots: Vec<NodeIdx>,
    /// Rule id → its definition (`AddHash_Rule`: the first definition wins).
    pub by_id: HashMap<u32, RuleIdx>,
    /// Rules that own a previous-matches list (targets of some `if_matched_sid`).
    pub has_sid_list: IdxVec<RuleIdx, bool>,
    /// For each rule: the `if_matched_group` correlation rules whose list it feeds.
    pub feeds_groups: IdxVec<RuleIdx, Vec<RuleIdx>>,
    /// For each rule: its nodes (a rule can sit under several parents).
    pub nodes_of: IdxVec<RuleIdx, Vec<NodeIdx>>,
    /// Per node, what decides most evaluations of its rule at once, packed together (rules and
    /// nodes are large and scattered: reading a node, then its rule's `decoded_as`, was the
    /// walk's main cost, two cache misses per rule tried).
    pub(crate) prefilter: IdxVec<NodeIdx, Prefilter>,
    /// For nodes with many children (the category roots): which children can pass their
    /// prefilter, by the event's decoder and whether it has a program name. Index into
    /// `child_indexes`, `u32::MAX` for nodes without one.
    pub(crate) child_index_of: IdxVec<NodeIdx, u32>,
    pub(crate) child_indexes: Vec<ChildIndex>,
    /// Some rule searches the whole event list (`if_matched_regex`): then every stored event's
    /// content can be read again; otherwise only those on a sid or group list.
    pub(crate) any_event_search: bool,
    /// Highest internal frequency (attribute − 2) of any rule read: the age
    /// (in seconds!) beyond which upstream's event list evicts extra entries.
    pub max_freq: u32,
}

/// The first checks of a rule, in a compact form (see [`RuleTree::prefilter`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prefilter {
    /// The rule's category (which root it hangs from).
    pub(crate) category: DecoderType,
    /// [`name_hash`] of its `<decoded_as>`, 0 without one.
    pub(crate) decoded_as: u64,
    /// It has a `<program_name>`, which an event without a program name fails.
    pub(crate) needs_program_name: bool,
}

/// The children of one node split by what their prefilter lets through (see
/// [`RuleTree::child_index_of`]); every list keeps sibling order.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChildIndex {
    /// (decoded_as hash, the event has a program name) → the children that can pass: those
    /// with that `decoded_as` or none, less those needing a program name when there is none.
    by_decoder: rustc_hash::FxHashMap<(u64, bool), Vec<NodeIdx>>,
    /// The same for a decoder no child names: the children without `decoded_as` (without a
    /// program name, with one).
    generic: [Vec<NodeIdx>; 2],
}

impl ChildIndex {
    /// The children an event with decoder hash `decoder` (0: none) can enter, in order.
    pub(crate) fn candidates(&self, decoder: u64, has_program_name: bool) -> &[NodeIdx] {
        match self.by_decoder.get(&(decoder, has_program_name)) {
            Some(v) => v,
            None => &self.generic[has_program_name as usize],
        }
    }
}

/// Nodes with at least this many children get a [`ChildIndex`].
const CHILD_INDEX_MIN: usize = 16;

/// A non-zero hash of a decoder name (equal names, equal hashes).
pub(crate) fn name_hash(name: &[u8]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(name);
    h.finish() | 1
}

impl RuleTree {
    /// Fills [`RuleTree::prefilter`] (after loading).
    pub(crate) fn build_prefilters(&mut self) {
        self.any_event_search = self.rules.iter().any(|r| r.search == Some(Search::Event));
        let rules = &self.rules;
        self.prefilter = self
            .nodes
            .iter()
            .map(|n| {
                let r = &rules[n.rule];
                Prefilter {
                    category: r.category,
                    decoded_as: r.decoded_as.as_deref().map_or(0, name_hash),
                    needs_program_name: r.program_name.is_some(),
                }
            })
            .collect();
        self.child_indexes.clear();
        let mut index_of = IdxVec::new();
        for n in self.nodes.iter() {
            if n.children.len() < CHILD_INDEX_MIN {
                index_of.push(u32::MAX);
                continue;
            }
            let pre = &self.prefilter;
            let can = |c: NodeIdx, decoder: u64, pn: bool| {
                let p = &pre[c];
                (p.decoded_as == 0 || p.decoded_as == decoder) && (pn || !p.needs_program_name)
            };
            let mut ix = ChildIndex::default();
            for pn in [false, true] {
                ix.generic[pn as usize] = n.children.iter().copied().filter(|&c| can(c, 0, pn)).collect();
                let mut decoders: Vec<u64> =
                    n.children.iter().map(|&c| pre[c].decoded_as).filter(|&h| h != 0).collect();
                decoders.sort_unstable();
                decoders.dedup();
                for h in decoders {
                    ix.by_decoder.insert((h, pn), n.children.iter().copied().filter(|&c| can(c, h, pn)).collect());
                }
            }
            index_of.push(self.child_indexes.len() as u32);
            self.child_indexes.push(ix);
        }
        self.child_index_of = index_of;
    }

    /// The children of `node` an event with this decoder hash and program name can enter
    /// (all of them when the node has no [`ChildIndex`]).
    pub(crate) fn children_for(&self, node: NodeIdx, decoder: u64, has_program_name: bool) -> &[NodeIdx] {
        match self.child_index_of.get(node).copied() {
            Some(i) if i != u32::MAX => self.child_indexes[i as usize].candidates(decoder, has_program_name),
            _ => &self.nodes[node].children,
        }
    }

    /// The rule with this id.
    pub fn rule(&self, id: u32) -> Option<&Rule> {
        self.by_id.get(&id).map(|&i| &self.rules[i])
    }

    /// Number of tree nodes ("Total rules enabled").
    pub(crate) fn node_count(&self) -> usize {
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
