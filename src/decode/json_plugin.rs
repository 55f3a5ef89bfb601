//! The `JSON_Decoder` plugin (upstream: plugins/json_decoder.c).
//!
//! Every leaf of the JSON object becomes a field named by its dotted path,
//! with Wazuh's value formatting (see [`crate::json::flatten`]). A handful of
//! top-level keys fill static fields instead (`fillData`): `srcip`, `dstip`,
//! ports, `protocol`, `action`, `srcuser`, `id`, `status`, `url`, `data`,
//! `extra_data`, `systemname` (→ `system_name`; the key `system_name` stays
//! dynamic), `dstuser`, and `user`, which fills `dstuser` only while that is
//! empty. Invalid JSON or a non-object root yields no fields, but the event
//! stays decoded.

use crate::event::{Event, Fields, StaticField};
use crate::json;

fn static_key(key: &[u8]) -> Option<StaticField> {
    Some(match key {
        b"srcip" => StaticField::Srcip,
        b"dstip" => StaticField::Dstip,
        b"srcport" => StaticField::Srcport,
        b"dstport" => StaticField::Dstport,
        b"protocol" => StaticField::Protocol,
        b"action" => StaticField::Action,
        b"srcuser" => StaticField::Srcuser,
        b"id" => StaticField::Id,
        b"status" => StaticField::Status,
        b"url" => StaticField::Url,
        b"data" => StaticField::Data,
        b"extra_data" => StaticField::ExtraData,
        b"systemname" => StaticField::SystemName,
        b"dstuser" => StaticField::Dstuser,
        _ => return None,
    })
}

/// Decodes `input` into `ev`'s fields; `leaves` is a buffer reused from event to event.
///
/// The leaves are flattened straight into the event's fields; only when one of them is a
/// static field's key (or `user`), or there are more than `order_size`, are they taken out and
/// applied one by one, in order (an event with `srcip` or `user` at its top level).
pub(crate) fn decode(
    input: &[u8],
    null_discard: bool,
    csv: bool,
    order_size: usize,
    ev: &mut Event,
    leaves: &mut Fields,
) {
    let start = ev.dynamic.len();
    if !json::flatten_prefix(input, null_discard, csv, &mut ev.dynamic) {
        return;
    }
    let n = ev.dynamic.len();
    let special = (start..n).any(|i| {
        let k = ev.dynamic.name(i);
        k == b"user" || static_key(k).is_some()
    });
    if !special && n <= order_size {
        return;
    }
    leaves.clear();
    for i in start..n {
        leaves.push(ev.dynamic.name(i), ev.dynamic.value(i));
    }
    ev.dynamic.truncate(start);
    for (key, value) in leaves.iter() {
        if let Some(f) = static_key(key) {
            ev.set_static(f, value.to_vec());
            continue;
        }
        if key == b"user" && ev.get_static(StaticField::Dstuser).is_none_or(|v| v.is_empty()) {
            ev.set_static(StaticField::Dstuser, value.to_vec());
            continue;
        }
        if ev.dynamic.len() < order_size {
            ev.dynamic.push(key, value);
        }
    }
}
