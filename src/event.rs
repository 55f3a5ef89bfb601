//! The event as it goes through decoding, rules and correlation.
//!
//! Static fields (the fixed members of Wazuh's `Eventinfo`) live in an array
//! indexed by [`StaticField`]; dynamic fields (decoder `order` names and JSON
//! keys) in insertion order. Field names that rules refer to are interned once
//! at load into [`FieldId`]s; after decoding, the event gets a table from id
//! to its **first** field of that name (compared ASCII-case-insensitively, as
//! Wazuh's `FindField`), so rules look fields up in O(1) without strings.

use std::ops::Range;

use crate::predecode::{Origin, Predecoded};

/// The static fields of an event, in the order alert `data` prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum StaticField {
    Protocol,
    Action,
    Srcip,
    Srcport,
    Srcuser,
    Dstip,
    Dstport,
    Dstuser,
    Id,
    Status,
    Url,
    Data,
    ExtraData,
    SystemName,
}

impl StaticField {
    /// Every static field, in `data` order.
    pub(crate) const ALL: [StaticField; 14] = [
        StaticField::Protocol,
        StaticField::Action,
        StaticField::Srcip,
        StaticField::Srcport,
        StaticField::Srcuser,
        StaticField::Dstip,
        StaticField::Dstport,
        StaticField::Dstuser,
        StaticField::Id,
        StaticField::Status,
        StaticField::Url,
        StaticField::Data,
        StaticField::ExtraData,
        StaticField::SystemName,
    ];

    /// The key in alert `data` and in decoder `order`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            StaticField::Protocol => "protocol",
            StaticField::Action => "action",
            StaticField::Srcip => "srcip",
            StaticField::Srcport => "srcport",
            StaticField::Srcuser => "srcuser",
            StaticField::Dstip => "dstip",
            StaticField::Dstport => "dstport",
            StaticField::Dstuser => "dstuser",
            StaticField::Id => "id",
            StaticField::Status => "status",
            StaticField::Url => "url",
            StaticField::Data => "data",
            StaticField::ExtraData => "extra_data",
            StaticField::SystemName => "system_name",
        }
    }

    /// Decoder `order` names (case-sensitive; `user` is `dstuser`).
    pub(crate) fn from_order_name(n: &[u8]) -> Option<StaticField> {
        if n == b"user" {
            return Some(StaticField::Dstuser);
        }
        StaticField::ALL.iter().copied().find(|f| f.name().as_bytes() == n)
    }
}

/// An interned dynamic-field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub(crate) u32);

/// Case-insensitive name → id table, filled at load, read-only afterwards.
#[derive(Debug, Clone)]
pub struct FieldNames {
    /// (name as first interned, id), hashed by [`caseless_hash`] and compared ASCII
    /// case-insensitively: every dynamic field of every event is looked up here, so a lookup
    /// neither copies nor lower-cases the name. The names are the ruleset's own: hash flooding
    /// is no concern.
    table: hashbrown::HashTable<(Box<[u8]>, FieldId)>,
    names: Vec<Box<[u8]>>,
    /// A filter in front of `table`: for every interned name, the bit of its last two bytes
    /// (lower-cased) in the 256-bit set of its length (modulo 64). Most of an event's JSON
    /// leaves are named by no rule or decoder, and nearly all of those fail here without
    /// hashing.
    filter: [[u64; 4]; 64],
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames { table: hashbrown::HashTable::new(), names: Vec::new(), filter: [[0; 4]; 64] }
    }
}

/// Eight bytes ASCII-lower-cased at once (bytes `A`..=`Z` get bit 0x20; others, including
/// bytes >= 0x80, are kept).
fn lower8(x: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = x & !HIGH;
    // High bit set in each byte whose low 7 bits are >= 'A' (0x41), and in each > 'Z' (0x5a).
    let ge_a = low7.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let gt_z = low7.wrapping_add(0x2525_2525_2525_2525);
    let upper = (ge_a ^ gt_z) & !x & HIGH;
    x | (upper >> 2)
}

/// A hash of `name` lower-cased (ASCII), eight bytes at a time.
fn caseless_hash(name: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    let mut chunks = name.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h.write_u64(lower8(u64::from_le_bytes(w)));
    }
    let rest = chunks.remainder();
    let mut w = [0u8; 8];
    w[..rest.len()].copy_from_slice(rest);
    h.write_u64(lower8(u64::from_le_bytes(w)));
    h.write_usize(name.len());
    h.finish()
}

impl FieldNames {
    /// Interns a name (load time only).
    pub(crate) fn intern(&mut self, name: &[u8]) -> FieldId {
        if let Some(id) = self.get(name) {
            return id;
        }
        let id = FieldId(self.names.len() as u32);
        let (w, b) = Self::filter_slot(name);
        self.filter[w][b / 64] |= 1 << (b % 64);
        self.names.push(name.into());
        self.table.insert_unique(caseless_hash(name), (name.into(), id), |e| caseless_hash(&e.0));
        id
    }

    /// The filter's set and bit for a name (case-insensitive).
    fn filter_slot(name: &[u8]) -> (usize, usize) {
        let n = name.len();
        let last = if n > 0 { name[n - 1].to_ascii_lowercase() } else { 0 };
        let before = if n > 1 { name[n - 2].to_ascii_lowercase() } else { 0 };
        (n % 64, (last as usize).wrapping_mul(31).wrapping_add(before as usize) % 256)
    }

    /// Looks a name up (ASCII case-insensitively).
    pub(crate) fn get(&self, name: &[u8]) -> Option<FieldId> {
        let (w, b) = Self::filter_slot(name);
        if self.filter[w][b / 64] & (1 << (b % 64)) == 0 {
            return None;
        }
        self.table.find(caseless_hash(name), |e| e.0.eq_ignore_ascii_case(name)).map(|e| e.1)
    }

    /// Number of interned names.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name is interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of an id, as first interned (empty for an unknown id).
    pub(crate) fn name(&self, id: FieldId) -> &[u8] {
        self.names.get(id.0 as usize).map(|b| &b[..]).unwrap_or(b"")
    }
}

/// The dynamic fields of an event, in the order decoders set them: every name and value in
/// one buffer, so an event with a hundred JSON leaves costs two allocations, not two hundred
/// (and its copy for the correlation history, three memcpys).
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields {
    bytes: Vec<u8>,
    /// Per field: where its name starts, where its value starts (= where the name ends), where
    /// the value ends.
    entries: Vec<[u32; 3]>,
}

impl Fields {
    /// Number of fields.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends a field.
    pub(crate) fn push(&mut self, name: &[u8], value: &[u8]) {
        let n = self.bytes.len() as u32;
        self.bytes.extend_from_slice(name);
        let v = self.bytes.len() as u32;
        self.bytes.extend_from_slice(value);
        self.entries.push([n, v, self.bytes.len() as u32]);
    }

    /// Field `i`'s name (as written by the decoder: case kept).
    pub(crate) fn name(&self, i: usize) -> &[u8] {
        let [n, v, _] = self.entries[i];
        &self.bytes[n as usize..v as usize]
    }

    /// Field `i`'s value.
    pub(crate) fn value(&self, i: usize) -> &[u8] {
        let [_, v, e] = self.entries[i];
        &self.bytes[v as usize..e as usize]
    }

    /// Every field, as (name, value).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.entries.iter().map(|&[n, v, e]| (&self.bytes[n as usize..v as usize], &self.bytes[v as usize..e as usize]))
    }

    /// Appends a field whose value `write` appends to the buffer it is given; if `write` returns
    /// false, nothing is added.
    pub(crate) fn push_with(&mut self, name: &[u8], write: impl FnOnce(&mut Vec<u8>) -> bool) -> bool {
        let n = self.bytes.len();
        self.bytes.extend_from_slice(name);
        let v = self.bytes.len();
        if write(&mut self.bytes) {
            self.entries.push([n as u32, v as u32, self.bytes.len() as u32]);
            true
        } else {
            self.bytes.truncate(n);
            false
        }
    }

    /// Keeps the first `n` fields.
    pub(crate) fn truncate(&mut self, n: usize) {
        if n < self.entries.len() {
            self.bytes.truncate(self.entries[n][0] as usize);
            self.entries.truncate(n);
        }
    }

    /// Removes every field, keeping the buffers.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
    }
}

/// A decoded event.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// The log text as received (after `<Q>:<location>:`).
    pub(crate) full_log: Vec<u8>,
    /// What pre-decoding found in `full_log` (timestamp, hostname, program name, `log`), as ranges
    /// of it.
    pub(crate) pre: Predecoded,
    /// Raw (unescaped) location as received.
    pub(crate) location: Vec<u8>,
    /// `"000"` for manager-local events, else the id from an `[id] (name) ip->file` location.
    pub(crate) agent_id: Vec<u8>,
    /// The event's hostname (agent name, syslog host or manager name).
    pub hostname: Vec<u8>,
    /// Index of the decoder whose info the event carries (name, type, parent).
    pub(crate) decoder: Option<crate::index::DecoderIdx>,
    /// The decoder's `<type>` (selects the rule root).
    pub(crate) decoder_type: crate::decode::DecoderType,
    /// The static fields, indexed by [`StaticField`].
    pub(crate) statics: [Option<Vec<u8>>; 14],
    /// Dynamic fields in the order decoders set them (duplicates kept; lookups take the first).
    pub(crate) dynamic: Fields,
    /// (FieldId, index into `dynamic` of its first occurrence), by id: only the fields the
    /// ruleset names, so a stored event does not carry a slot for every name of the ruleset.
    pub(crate) field_index: Vec<(u32, u32)>,
    /// The event's time on the session's clock (arrival, or an event field): seconds since the
    /// epoch.
    pub(crate) time: i64,
    /// Nanoseconds of [`Event::time`] (only the alert timestamp shows them).
    pub(crate) nanos: u32,
    /// GeoIP of `srcip`/`dstip` (`"US / California"`), only with a GeoIP database
    /// (see [`crate::geoip`]); upstream `Eventinfo.srcgeoip`/`dstgeoip`.
    pub(crate) srcgeoip: Option<Vec<u8>>,
    /// GeoIP of `dstip`, as [`Event::srcgeoip`].
    pub(crate) dstgeoip: Option<Vec<u8>>,
    /// Whether decoding set dynamic fields, for an event kept in the correlation history with
    /// only the fields the ruleset names ([`Event::for_history`]).
    pub(crate) had_dynamic: bool,
    /// Id of the rule a forwarded alert carries (set by `OSSECAlert_Decoder`
    /// only when the id is in the rules hash); rule evaluation then reports
    /// that rule instead of matching.
    pub(crate) forwarded_rule: Option<u32>,
}

impl Event {
    /// An event from a parsed location and the log text: pre-decoded, not yet decoded.
    pub(crate) fn new(origin: Origin, full_log: Vec<u8>) -> Event {
        let pre = crate::predecode::predecode(&full_log);
        Event { full_log, pre, location: origin.location, agent_id: origin.agent_id, ..Default::default() }
    }

    /// The text decoders and rules match against.
    pub(crate) fn log(&self) -> &[u8] {
        self.full_log.get(self.pre.log.clone()).unwrap_or(b"")
    }

    fn range(&self, r: &Option<Range<usize>>) -> Option<&[u8]> {
        r.as_ref().and_then(|r| self.full_log.get(r.clone()))
    }

    /// The pre-decoded program name (possibly empty, which is not the same as absent).
    pub(crate) fn program_name(&self) -> Option<&[u8]> {
        self.range(&self.pre.program_name)
    }

    /// The pre-decoded timestamp text.
    pub(crate) fn dec_timestamp(&self) -> Option<&[u8]> {
        self.range(&self.pre.timestamp)
    }

    /// A static field.
    pub(crate) fn get_static(&self, f: StaticField) -> Option<&[u8]> {
        self.statics[f as usize].as_deref()
    }

    /// Sets a static field (a later decoder overwrites an earlier value).
    pub(crate) fn set_static(&mut self, f: StaticField, v: Vec<u8>) {
        self.statics[f as usize] = Some(v);
    }

    /// The first dynamic field with this interned name.
    pub(crate) fn field(&self, id: FieldId) -> Option<&[u8]> {
        let at = self.field_index.binary_search_by_key(&id.0, |&(f, _)| f).ok()?;
        Some(self.dynamic.value(self.field_index[at].1 as usize))
    }

    /// Whether decoding set any dynamic field (the history's copies keep only some).
    pub(crate) fn has_dynamic(&self) -> bool {
        self.had_dynamic || !self.dynamic.is_empty()
    }

    /// The copy of the event kept for correlation: everything correlation reads of an earlier
    /// event (times, agent, decoder type, log text, static fields, location, GeoIP) but, of the
    /// dynamic fields, only those the ruleset names (the only ones a rule can compare). A
    /// CloudTrail event has about a hundred fields, of which the stock rules name a dozen: the
    /// history of 8,192 events shrinks from about 70 MB to a fifth of it.
    pub(crate) fn for_history(&self) -> Event {
        let mut dynamic = Fields::default();
        let mut field_index = Vec::with_capacity(self.field_index.len());
        for &(id, i) in &self.field_index {
            field_index.push((id, dynamic.len() as u32));
            let i = i as usize;
            dynamic.push(self.dynamic.name(i), self.dynamic.value(i));
        }
        Event {
            full_log: self.full_log.clone(),
            pre: self.pre.clone(),
            location: self.location.clone(),
            agent_id: self.agent_id.clone(),
            hostname: self.hostname.clone(),
            decoder: self.decoder,
            decoder_type: self.decoder_type,
            statics: self.statics.clone(),
            dynamic,
            field_index,
            time: self.time,
            nanos: self.nanos,
            srcgeoip: self.srcgeoip.clone(),
            dstgeoip: self.dstgeoip.clone(),
            had_dynamic: self.has_dynamic(),
            forwarded_rule: self.forwarded_rule,
        }
    }

    /// What the correlation history keeps of an event no search can read again (it is on no
    /// sid or group list, and no rule searches the whole list): its time, which the list's
    /// eviction looks at.
    pub(crate) fn time_only(&self) -> Event {
        Event { time: self.time, nanos: self.nanos, ..Event::default() }
    }

    /// The first dynamic field with this name (case-insensitive), without the index.
    pub(crate) fn field_by_name(&self, name: &[u8]) -> Option<&[u8]> {
        self.dynamic.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Builds `field_index` after decoding.
    pub(crate) fn index_fields(&mut self, names: &FieldNames) {
        self.field_index.clear();
        for (i, (name, _)) in self.dynamic.iter().enumerate() {
            if let Some(id) = names.get(name) {
                self.field_index.push((id.0, i as u32));
            }
        }
        // By id, the first occurrence of each (a stable sort keeps the decoding order).
        self.field_index.sort_by_key(|&(id, _)| id);
        self.field_index.dedup_by_key(|&mut (id, _)| id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower8_is_ascii_lowercase_for_every_byte() {
        for b in 0..=255u8 {
            let x = u64::from_le_bytes([b, b'A', b'z', b'@', b'[', 0xc1, b'Z', b]);
            let want = u64::from_le_bytes([b, b'A', b'z', b'@', b'[', 0xc1, b'Z', b].map(|c| c.to_ascii_lowercase()));
            assert_eq!(lower8(x), want, "byte {b:#x}");
        }
    }

    #[test]
    fn field_names_are_case_insensitive() {
        let mut f = FieldNames::default();
        let a = f.intern(b"aws.eventName");
        assert_eq!(f.intern(b"AWS.EVENTNAME"), a);
        let b = f.intern(b"aws.eventNames");
        assert_ne!(a, b);
        assert_eq!(f.get(b"Aws.EventName"), Some(a));
        assert_eq!(f.get(b"aws.eventNam"), None);
        assert_eq!(f.name(a), b"aws.eventName");
        let long = vec![b'X'; 300];
        let l = f.intern(&long);
        assert_eq!(f.get(&long.to_ascii_lowercase()), Some(l));
    }
}
