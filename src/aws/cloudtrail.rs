//! A CloudTrail log file → the events Wazuh 4.14.7's AWS integration sends for it.
//!
//! Upstream (`wodles/aws/` at v4.14.7), for each object of a CloudTrail bucket:
//!
//! 1. `decompress_file` + `AWSLogsBucket.load_information_from_file`: `json.load` of the file,
//!    then `[dict(x, source='cloudtrail') for x in json_file['Records']]` (nothing when there is
//!    no `Records` key). The whole file is read and every record wrapped **before** anything is
//!    sent, so a file that fails here sends nothing.
//! 2. Per record, `AWSLogsBucket.get_alert_msg`: `remove_none_fields` (delete `None` values in
//!    dicts, recursively through dicts only), then
//!    `msg = {'integration': 'aws', 'aws': {'log_info': {'aws_account_alias', 'log_file',
//!    's3bucket'}}}`, `msg['aws'].update(record)`, `msg['aws']['aws_account_id'] = <account of
//!    the prefix being listed>`.
//! 3. `AWSCloudTrailBucket.reformat_msg` → `AWSBucket.reformat_msg`: unwrap one-element lists
//!    (walking dicts only, the unwrapped element not walked), add `source_ip_address` when
//!    `re.match(r'\d+\.\d+.\d+.\d+', sourceIPAddress)`, wrap a non-dict top-level `tags` as
//!    `{'value': …}`; then the CloudTrail part: `additionalEventData`, `responseElements` and
//!    `requestParameters` that are not dicts become `{'string': str(value)}`, and a bool
//!    `requestParameters.disableApiTermination` becomes `{'value': …}`.
//! 4. `send_msg`: `json.dumps(msg, default=str)` after the `1:Wazuh-AWS:` header (queue `1`,
//!    location `Wazuh-AWS`).
//!
//! Python dicts keep insertion order and `update`/assignment of an existing key keeps its place,
//! so a record's own `source`, `aws_account_id` or `source_ip_address` key is overwritten where
//! it stands, and a record's `log_info` key replaces the template's value at the front.
//!
//! Speed: the file is parsed once into a tree that borrows its text ([`super::pyjson`]), each
//! record is reshaped in place, and its event is written into one reused buffer; the `log_info`
//! object is serialised once per file.

use std::io::Read;

use super::error::{line_col, AwsError};
use super::pyjson::{self, find, Member, Value};
use super::pystr::{self, PyStr};

/// The fields `AWSCloudTrailBucket.reformat_msg` turns into `{'string': str(value)}` when they
/// are not dicts (`DYNAMIC_FIELDS` upstream).
const DYNAMIC_FIELDS: [&str; 3] = ["additionalEventData", "responseElements", "requestParameters"];

/// Where a log file came from: what the integration puts in `aws.log_info` and
/// `aws.aws_account_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// The bucket name (`aws.log_info.s3bucket`).
    pub bucket: String,
    /// The object's full S3 key (`aws.log_info.log_file`).
    pub key: String,
    /// The account whose prefix was being listed (`aws.aws_account_id`). Not the records'
    /// `recipientAccountId`, though usually equal.
    pub account_id: String,
}

impl LogFile {
    /// The log file at `key` in `bucket`, its account taken from the key: the folder just
    /// before `CloudTrail/` somewhere below an `AWSLogs/` folder
    /// (`[prefix/]AWSLogs/[suffix/][org-id/]<account>/CloudTrail/<region>/…/<file>`).
    pub fn from_key(bucket: &str, key: &str) -> Result<LogFile, AwsError> {
        let account = account_of_key(key).ok_or_else(|| AwsError::KeyLayout { key: key.to_string() })?;
        Ok(LogFile { bucket: bucket.to_string(), key: key.to_string(), account_id: account.to_string() })
    }
}

/// The account folder of a CloudTrail key, if the key has the CloudTrail layout.
pub(crate) fn account_of_key(key: &str) -> Option<&str> {
    let parts: Vec<&str> = key.split('/').collect();
    let logs = parts.iter().position(|p| *p == "AWSLogs")?;
    let ct = (logs + 2..parts.len()).find(|&i| parts[i] == "CloudTrail")?;
    // A region folder and a file name must follow.
    if parts.len() < ct + 3 || parts[ct + 1].is_empty() || parts[parts.len() - 1].is_empty() {
        return None;
    }
    let account = parts[ct - 1];
    (!account.is_empty()).then_some(account)
}

/// Whether `data` starts with the gzip magic bytes (`1f 8b`).
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b])
}

/// Turns CloudTrail log files into the integration's events. Holds the buffers reused from
/// file to file and event to event; one per thread.
#[derive(Debug, Default)]
pub struct Transformer {
    /// Decompressed text of a gzip file.
    inflated: Vec<u8>,
    /// The event being written.
    line: Vec<u8>,
    /// `json.dumps` of this file's `log_info`.
    log_info: Vec<u8>,
    /// `aws.log_info.aws_account_alias` (the wodle's `aws_account_alias` option; default "").
    account_alias: String,
}

impl Transformer {
    /// A transformer with an empty account alias (the default of the wodle's
    /// `<aws_account_alias>`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A transformer whose events carry `alias` as `aws.log_info.aws_account_alias`.
    pub fn with_account_alias(alias: &str) -> Self {
        Transformer { account_alias: alias.to_string(), ..Self::default() }
    }

    /// Calls `emit` with each event of the log file `data` (plain or gzip, recognised by its
    /// magic bytes), in the order the integration sends them. An event is the JSON text the
    /// integration sends after `1:Wazuh-AWS:` (so: what analysisd decodes, at location
    /// [`super::LOCATION`]); it never contains a newline. Returns the number of events.
    ///
    /// On an error nothing was emitted, except for [`AwsError::SourceIpNotString`], where the
    /// events before the failing record were (as the integration had sent them).
    pub fn for_each_event(
        &mut self,
        data: &[u8],
        file: &LogFile,
        mut emit: impl FnMut(&[u8]),
    ) -> Result<usize, AwsError> {
        let Transformer { inflated, line, log_info, account_alias } = self;
        let text: &[u8] = if is_gzip(data) {
            inflated.clear();
            flate2::read::MultiGzDecoder::new(data)
                .read_to_end(inflated)
                .map_err(|source| AwsError::Gzip { file: file.key.clone(), source })?;
            inflated
        } else {
            data
        };
        let text = std::str::from_utf8(text).map_err(|e| {
            let offset = e.valid_up_to();
            AwsError::Utf8 { file: file.key.clone(), offset, line: line_col(text, offset).0 }
        })?;
        let root = pyjson::parse(text).map_err(|e| {
            let (line, column) = line_col(text.as_bytes(), e.offset);
            AwsError::Json { file: file.key.clone(), offset: e.offset, line, column, msg: e.msg }
        })?;
        let records = take_records(root).map_err(|what| AwsError::Shape { file: file.key.clone(), what })?;

        log_info.clear();
        for (i, (k, v)) in
            [("aws_account_alias", &**account_alias), ("log_file", &file.key), ("s3bucket", &file.bucket)]
                .into_iter()
                .enumerate()
        {
            log_info.extend_from_slice(if i == 0 { b"{" } else { b", " });
            pystr::write_json(log_info, k, false);
            log_info.extend_from_slice(b": ");
            pystr::write_json(log_info, v, false);
        }
        log_info.push(b'}');
        let log_info: &[u8] = log_info;

        let mut n = 0;
        for record in records {
            let aws = reshape(record, &file.account_id).map_err(|()| AwsError::SourceIpNotString {
                file: file.key.clone(),
                record: n,
                emitted: n,
            })?;
            line.clear();
            aws.write(line, log_info, &file.account_id);
            emit(line);
            n += 1;
        }
        Ok(n)
    }

    /// The events of a log file, each as its own buffer (see [`Transformer::for_each_event`]).
    pub fn events(&mut self, data: &[u8], file: &LogFile) -> Result<Vec<Vec<u8>>, AwsError> {
        let mut out = Vec::new();
        self.for_each_event(data, file, |e| out.push(e.to_vec()))?;
        Ok(out)
    }
}

/// The events of the CloudTrail log file `data` stored at `key` in `bucket` (account taken from
/// the key), with an empty account alias. See [`Transformer::for_each_event`].
pub fn cloudtrail_events(data: &[u8], bucket: &str, key: &str) -> Result<Vec<Vec<u8>>, AwsError> {
    Transformer::new().events(data, &LogFile::from_key(bucket, key)?)
}

/// Python's type name, for messages.
fn type_name(v: &Value<'_>) -> &'static str {
    match v {
        Value::Null => "None",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Str(_) | Value::Owned(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// `None if 'Records' not in json_file else [dict(x, source=…) for x in json_file['Records']]`,
/// without the `source`: the records as dicts, or why Python raises.
///
/// `dict(x)` accepts a dict, and also an iterable of pairs: `[]` and `""` give `{}`. A
/// non-empty list of pairs (`[["k", "v"]]`) would give a dict too; it is refused here instead
/// (no CloudTrail file holds one).
fn take_records(root: Value<'_>) -> Result<Vec<Vec<Member<'_>>>, String> {
    let records = match root {
        Value::Object(mut m) => match find(&m, "Records") {
            None => return Ok(Vec::new()),
            Some(i) => std::mem::replace(&mut m[i].1, Value::Null),
        },
        // `'Records' in list` looks for an element; `list['Records']` is then a TypeError.
        Value::Array(items) => {
            return if items.iter().any(|v| matches!(v, Value::Str(s) if s.is("Records"))) {
                Err("the file is a list holding \"Records\": list indices must be integers (TypeError)".into())
            } else {
                Ok(Vec::new())
            };
        }
        // `'Records' in str` is a substring test; `str['Records']` is then a TypeError.
        Value::Str(s) => {
            let cps: Vec<u32> = s.code_points().collect();
            let pat: Vec<u32> = "Records".chars().map(u32::from).collect();
            return if cps.windows(pat.len()).any(|w| w == pat.as_slice()) {
                Err("the file is a string holding \"Records\": string indices must be integers (TypeError)".into())
            } else {
                Ok(Vec::new())
            };
        }
        other => return Err(format!("the file is a JSON {}: argument is not iterable (TypeError)", type_name(&other))),
    };
    match records {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, r)| match r {
                Value::Object(m) => Ok(m),
                Value::Array(a) if a.is_empty() => Ok(Vec::new()),
                Value::Str(s) if s.0.is_empty() => Ok(Vec::new()),
                other => Err(format!(
                    "record {i} is a {}, not an object (dict(x) raises {})",
                    type_name(&other),
                    if matches!(other, Value::Str(_) | Value::Array(_)) { "ValueError" } else { "TypeError" }
                )),
            })
            .collect(),
        // Iterating a dict yields its keys; a key is a str, and only "" makes a dict.
        Value::Object(m) => m
            .iter()
            .map(|(k, _)| {
                if k.0.is_empty() {
                    Ok(Vec::new())
                } else {
                    Err("\"Records\" is an object, not a list (dict(key) raises ValueError)".to_string())
                }
            })
            .collect(),
        Value::Str(s) if s.0.is_empty() => Ok(Vec::new()),
        other => Err(format!("\"Records\" is a {}, not a list", type_name(&other))),
    }
}

/// `remove_none_fields`: deletes `None` values of dicts, recursing into dict values only.
fn remove_none(members: &mut Vec<Member<'_>>) {
    members.retain_mut(|(_, v)| match v {
        Value::Null => false,
        Value::Object(inner) => {
            remove_none(inner);
            true
        }
        _ => true,
    });
}

/// `single_element_list_to_dictionary`: a one-element list becomes its element (not walked
/// further); dicts are walked.
fn unwrap_single(members: &mut [Member<'_>]) {
    for (_, v) in members {
        match v {
            Value::Array(items) if items.len() == 1 => *v = items.pop().expect("one item"),
            Value::Object(inner) => unwrap_single(inner),
            _ => {}
        }
    }
}

/// `{key: value}`.
fn wrap<'a>(key: &'a str, value: Value<'a>) -> Value<'a> {
    Value::Object(vec![(PyStr::plain(key), value)])
}

/// The record keys the integration reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Source,
    LogInfo,
    AccountId,
    SourceIp,
    SourceIpAddress,
    Tags,
    /// `DYNAMIC_FIELDS[n]`.
    Dynamic(usize),
    Other,
}

const KEYS: [(&str, Key); 9] = [
    ("source", Key::Source),
    ("log_info", Key::LogInfo),
    ("aws_account_id", Key::AccountId),
    ("sourceIPAddress", Key::SourceIp),
    ("source_ip_address", Key::SourceIpAddress),
    ("tags", Key::Tags),
    (DYNAMIC_FIELDS[0], Key::Dynamic(0)),
    (DYNAMIC_FIELDS[1], Key::Dynamic(1)),
    (DYNAMIC_FIELDS[2], Key::Dynamic(2)),
];

/// Which of the [`KEYS`] `k` is (Python equality: an escaped spelling counts).
#[inline]
fn classify(k: &PyStr<'_>) -> Key {
    match k.0 {
        "source" => Key::Source,
        "log_info" => Key::LogInfo,
        "aws_account_id" => Key::AccountId,
        "sourceIPAddress" => Key::SourceIp,
        "source_ip_address" => Key::SourceIpAddress,
        "tags" => Key::Tags,
        "additionalEventData" => Key::Dynamic(0),
        "responseElements" => Key::Dynamic(1),
        "requestParameters" => Key::Dynamic(2),
        _ if k.escaped() => KEYS.iter().find(|(name, _)| k.is(name)).map_or(Key::Other, |&(_, key)| key),
        _ => Key::Other,
    }
}

/// The `aws` object of one event, without copying the record: the record's members (reshaped
/// in place) and what the integration adds around them. Python's
/// `{'log_info': …}.update(record)` puts `log_info` first (the record's own value if it has
/// one); keys the record lacks are appended in the order they are set: `source`
/// (`dict(x, source=…)`), `aws_account_id` (`get_alert_msg`), `source_ip_address`
/// (`reformat_msg`).
struct AwsObject<'a> {
    members: Vec<Member<'a>>,
    /// Index of the record's own `log_info`, written first instead of the template.
    own_log_info: Option<usize>,
    /// The record had no `source`.
    append_source: bool,
    /// The record had no `aws_account_id` (after `None` removal).
    append_account: bool,
    /// `source_ip_address` to append (the record had none).
    append_ip: Option<Value<'a>>,
}

impl AwsObject<'_> {
    /// Appends the event: `json.dumps({'integration': 'aws', 'aws': …})`.
    fn write(&self, out: &mut Vec<u8>, log_info: &[u8], account: &str) {
        out.extend_from_slice(b"{\"integration\": \"aws\", \"aws\": {\"log_info\": ");
        match self.own_log_info {
            Some(i) => pyjson::write_value(out, &self.members[i].1),
            None => out.extend_from_slice(log_info),
        }
        for (i, (k, v)) in self.members.iter().enumerate() {
            if Some(i) != self.own_log_info {
                out.extend_from_slice(b", ");
                pystr::write_json(out, k.0, true);
                out.extend_from_slice(b": ");
                pyjson::write_value(out, v);
            }
        }
        if self.append_source {
            out.extend_from_slice(b", \"source\": \"cloudtrail\"");
        }
        if self.append_account {
            out.extend_from_slice(b", \"aws_account_id\": ");
            pystr::write_json(out, account, false);
        }
        if let Some(ip) = &self.append_ip {
            out.extend_from_slice(b", \"source_ip_address\": ");
            pyjson::write_value(out, ip);
        }
        out.extend_from_slice(b"}}");
    }
}

/// Steps 2 and 3 for one record. `Err` when `sourceIPAddress` is not a string (Python's
/// `re.match` raises).
fn reshape<'a>(mut m: Vec<Member<'a>>, account_id: &str) -> Result<AwsObject<'a>, ()> {
    // In one pass over the record's keys: dict(x, source='cloudtrail') (in place if present,
    // before None removal, so a `"source": null` keeps its place; else appended), then
    // remove_none_fields, noting where the keys of interest end up.
    let mut has_source = false;
    let (mut log_info, mut account, mut ip, mut ip_address, mut tags) = (None, None, None, None, None);
    let mut dynamic = [None; 3];
    let mut n = 0;
    m.retain_mut(|(k, v)| {
        let key = classify(k);
        if key == Key::Source {
            *v = Value::Str(PyStr::plain("cloudtrail"));
            has_source = true;
        }
        match v {
            Value::Null => return false,
            Value::Object(inner) => remove_none(inner),
            _ => {}
        }
        let slot = Some(n);
        match key {
            Key::LogInfo => log_info = slot,
            Key::AccountId => account = slot,
            Key::SourceIp => ip = slot,
            Key::SourceIpAddress => ip_address = slot,
            Key::Tags => tags = slot,
            Key::Dynamic(d) => dynamic[d] = slot,
            Key::Source | Key::Other => {}
        }
        n += 1;
        true
    });
    // msg['aws']['aws_account_id'] = …, in place if the record has one.
    if let Some(i) = account {
        // Plain text (an S3 key part), not a JSON literal body: owned.
        m[i].1 = Value::Owned(account_id.into());
    }

    // AWSBucket.reformat_msg
    unwrap_single(&mut m);
    let mut append_ip = None;
    if let Some(i) = ip {
        match &m[i].1 {
            Value::Str(s) => {
                if pystr::looks_like_ip(s) {
                    let v = m[i].1.clone();
                    match ip_address {
                        Some(j) => m[j].1 = v,
                        None => append_ip = Some(v),
                    }
                }
            }
            _ => return Err(()),
        }
    }
    if let Some(i) = tags {
        if !m[i].1.is_object() {
            let t = std::mem::replace(&mut m[i].1, Value::Null);
            m[i].1 = wrap("value", t);
        }
    }

    // AWSCloudTrailBucket.reformat_msg
    for i in dynamic.into_iter().flatten() {
        if !m[i].1.is_object() {
            let s = match std::mem::replace(&mut m[i].1, Value::Null) {
                v @ (Value::Str(_) | Value::Owned(_)) => v,
                other => Value::Owned(pyjson::py_str(&other).into_boxed_str()),
            };
            m[i].1 = wrap("string", s);
        }
    }
    if let Some(i) = dynamic[2] {
        if let Value::Object(rp) = &mut m[i].1 {
            if let Some(j) = find(rp, "disableApiTermination") {
                // A bool is wrapped; a dict is kept; anything else is kept and upstream prints
                // "WARNING: Could not reformat event" to its stdout (not an event).
                if matches!(rp[j].1, Value::Bool(_)) {
                    let b = std::mem::replace(&mut rp[j].1, Value::Null);
                    rp[j].1 = wrap("value", b);
                }
            }
        }
    }
    Ok(AwsObject {
        members: m,
        own_log_info: log_info,
        append_source: !has_source,
        append_account: account.is_none(),
        append_ip,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_key_match_agrees_with_the_table() {
        for (name, key) in KEYS {
            assert_eq!(classify(&PyStr::plain(name)), key);
            let escaped = format!("\\u{:04x}{}", u32::from(name.as_bytes()[0]), &name[1..]);
            assert_eq!(classify(&PyStr(&escaped)), key, "{escaped}");
        }
        assert_eq!(classify(&PyStr::plain("Source")), Key::Other);
    }

    #[test]
    fn account_comes_from_the_key() {
        let a = account_of_key;
        assert_eq!(a("AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/x.json.gz"), Some("111122223333"));
        assert_eq!(a("pre/fix/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/x.json"), Some("111122223333"));
        assert_eq!(a("AWSLogs/CloudTrail/us-east-1/x.json"), None);
        assert_eq!(a("AWSLogs/111122223333/CloudTrail/us-east-1/"), None);
        assert_eq!(a("AWSLogs/111122223333/CloudTrail/x.json"), None);
        assert_eq!(a("logs/111122223333/CloudTrail/us-east-1/x.json"), None);
    }
}
