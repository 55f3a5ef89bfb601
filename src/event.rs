//! The event as it goes through decoding, rules and correlation.
//!
//! Static fields (the fixed members of Wazuh's `Eventinfo`) live in an array
//! indexed by [`StaticField`]; dynamic fields (decoder `order` names and JSON
//! keys) in insertion order. Field names that rules refer to are interned once
//! at load into [`FieldId`]s; after decoding, the event gets a table from id
//! to its **first** field of that name (compared ASCII-case-insensitively, as
//! Wazuh's `FindField`), so rules look fields up in O(1) without strings.

use std::collections::HashMap;
use std::ops::Range;

use crate::predecode::{Origin, Predecoded};

/// The static fields of an event, in the order alert `data` prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaticField {
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
    pub const ALL: [StaticField; 14] = [
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
    pub fn name(self) -> &'static str {
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
    pub fn from_order_name(n: &[u8]) -> Option<StaticField> {
        if n == b"user" {
            return Some(StaticField::Dstuser);
        }
        StaticField::ALL.iter().copied().find(|f| f.name().as_bytes() == n)
    }
}

/// An interned dynamic-field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

/// Case-insensitive name → id table, filled at load, read-only afterwards.
#[derive(Debug, Clone, Default)]
pub struct FieldNames {
    map: HashMap<Box<[u8]>, FieldId>,
    names: Vec<Box<[u8]>>,
}

impl FieldNames {
    fn key(name: &[u8]) -> Box<[u8]> {
        name.to_ascii_lowercase().into_boxed_slice()
    }

    /// Interns a name (load time only).
    pub fn intern(&mut self, name: &[u8]) -> FieldId {
        let k = Self::key(name);
        if let Some(id) = self.map.get(&k) {
            return *id;
        }
        let id = FieldId(self.names.len() as u32);
        self.names.push(name.into());
        self.map.insert(k, id);
        id
    }

    /// Looks a name up without allocating for short names.
    pub fn get(&self, name: &[u8]) -> Option<FieldId> {
        let mut buf = [0u8; 128];
        if name.len() <= buf.len() {
            let b = &mut buf[..name.len()];
            b.copy_from_slice(name);
            b.make_ascii_lowercase();
            self.map.get(&*b).copied()
        } else {
            self.map.get(&*name.to_ascii_lowercase()).copied()
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, id: FieldId) -> &[u8] {
        self.names.get(id.0 as usize).map(|b| &b[..]).unwrap_or(b"")
    }
}

/// One dynamic field.
#[derive(Debug, Clone)]
pub struct DynField {
    pub name: Box<[u8]>,
    pub value: Vec<u8>,
}

/// A decoded event.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// The log text as received (after `<Q>:<location>:`).
    pub full_log: Vec<u8>,
    pub pre: Predecoded,
    /// Raw (unescaped) location as received.
    pub location: Vec<u8>,
    pub agent_id: Vec<u8>,
    /// The event's hostname (agent name, syslog host or manager name).
    pub hostname: Vec<u8>,
    /// Index of the decoder whose info the event carries (name, type, parent).
    pub decoder: Option<crate::index::DecoderIdx>,
    /// The decoder's `<type>` (selects the rule root).
    pub decoder_type: crate::decode::DecoderType,
    pub statics: [Option<Vec<u8>>; 14],
    pub dynamic: Vec<DynField>,
    /// FieldId → index into `dynamic` of its first occurrence (`u32::MAX` = none).
    pub field_index: Vec<u32>,
    /// Reception time: seconds since the epoch and nanoseconds.
    pub time: i64,
    pub nanos: u32,
    /// GeoIP of `srcip`/`dstip` (`"US / California"`), only with a GeoIP database
    /// (see [`crate::geoip`]); upstream `Eventinfo.srcgeoip`/`dstgeoip`.
    pub srcgeoip: Option<Vec<u8>>,
    pub dstgeoip: Option<Vec<u8>>,
    /// Id of the rule a forwarded alert carries (set by `OSSECAlert_Decoder`
    /// only when the id is in the rules hash); rule evaluation then reports
    /// that rule instead of matching.
    pub forwarded_rule: Option<u32>,
}

impl Event {
    pub fn new(origin: Origin, full_log: Vec<u8>) -> Event {
        let pre = crate::predecode::predecode(&full_log);
        Event { full_log, pre, location: origin.location, agent_id: origin.agent_id, ..Default::default() }
    }

    /// The text decoders and rules match against.
    pub fn log(&self) -> &[u8] {
        self.full_log.get(self.pre.log.clone()).unwrap_or(b"")
    }

    fn range(&self, r: &Option<Range<usize>>) -> Option<&[u8]> {
        r.as_ref().and_then(|r| self.full_log.get(r.clone()))
    }

    pub fn program_name(&self) -> Option<&[u8]> {
        self.range(&self.pre.program_name)
    }

    pub fn dec_timestamp(&self) -> Option<&[u8]> {
        self.range(&self.pre.timestamp)
    }

    pub fn get_static(&self, f: StaticField) -> Option<&[u8]> {
        self.statics[f as usize].as_deref()
    }

    pub fn set_static(&mut self, f: StaticField, v: Vec<u8>) {
        self.statics[f as usize] = Some(v);
    }

    /// The first dynamic field with this interned name.
    pub fn field(&self, id: FieldId) -> Option<&[u8]> {
        let i = *self.field_index.get(id.0 as usize)?;
        self.dynamic.get(i as usize).map(|f| f.value.as_slice())
    }

    /// The first dynamic field with this name (case-insensitive), without the index.
    pub fn field_by_name(&self, name: &[u8]) -> Option<&[u8]> {
        self.dynamic.iter().find(|f| f.name.eq_ignore_ascii_case(name)).map(|f| f.value.as_slice())
    }

    /// Builds `field_index` after decoding.
    pub fn index_fields(&mut self, names: &FieldNames) {
        self.field_index.clear();
        self.field_index.resize(names.len(), u32::MAX);
        for (i, f) in self.dynamic.iter().enumerate() {
            if let Some(id) = names.get(&f.name) {
                let slot = &mut self.field_index[id.0 as usize];
                if *slot == u32::MAX {
                    *slot = i as u32;
                }
            }
        }
    }
}
