//! The AWS side of a replay: raw CloudTrail log files (as `aws s3 sync` copies them from a
//! trail's bucket) turned into exactly the events Wazuh 4.14.7's AWS integration
//! (`wodles/aws/aws_s3.py --type cloudtrail`) sends to analysisd, in the order it sends them.
//!
//! ```text
//! local folder ─► walk (S3 listing order) ─► S3Object { path, bucket, key, account }
//! file bytes ─► gunzip? ─► json.load ─► per record: wrap + reformat ─► json.dumps ─► event
//! event ─► analysisd/logtest at location "Wazuh-AWS"
//! ```
//!
//! * [`s3`]: where a local file sits in S3 ([`s3_location`]) and which files the integration
//!   lists, in which order ([`walk`]).
//! * [`cloudtrail`]: the reshaping of the records ([`Transformer`], [`cloudtrail_events`]).
//! * `pyjson` / `pystr`: CPython's `json` and `repr` behaviour, byte for byte, over borrowed text.
//! * [`input_kind`]: what a replay input file holds ([`detect_input_kind`]).
//!
//! Fidelity is checked against the events the real integration produced from the samples of
//! `../shared/cloudtrail` (`tests/aws_transform.rs`); `../shared/spec/aws-wodle.md` describes the
//! integration's steps, and the upstream sources were read where it is silent.
//!
//! Not emulated: the discard filter (`<discard_field>`/`<discard_regex>`), `.zip` and `.snappy`
//! objects, the `skip_on_error` error events (errors are returned instead), trail prefixes in
//! keys, and the processed-files database. An event longer than 65535 bytes is still produced
//! (the integration sends it); [`as_received`] gives what analysisd keeps of it.

pub mod cloudtrail;
mod error;
pub mod input_kind;
mod pyjson;
mod pystr;
pub mod s3;
mod unicode_tables;

pub use cloudtrail::{cloudtrail_events, is_gzip, LogFile, Transformer};
pub use error::AwsError;
pub use input_kind::{detect_input_kind, InputKind};
pub use s3::{s3_location, walk, S3Object, SkipReason, Skipped, Walk, WalkOptions};

/// The location analysisd gives the integration's events (`1:Wazuh-AWS:` header: queue `1`,
/// LOCALFILE).
pub const LOCATION: &str = "Wazuh-AWS";

/// The header of each datagram the integration sends to `queue/sockets/queue`, before the event.
pub const QUEUE_HEADER: &str = "1:Wazuh-AWS:";

/// The most bytes of one datagram analysisd reads from its queue socket: `OS_RecvUnix(m_queue,
/// OS_MAXSTR, …)` receives at most `OS_MAXSTR - 1`; the rest of a longer datagram is dropped by
/// the kernel. (The integration only logs a debug line for such events and sends them anyway.)
pub const ANALYSISD_MAX_DATAGRAM: usize = 65535;

/// What analysisd gets of an event (as [`Transformer`] produces it) once the integration has sent
/// it behind [`QUEUE_HEADER`]: the event cut to 65523 bytes. Events are ASCII (`ensure_ascii`), so
/// the cut never splits a character. A datagram too large for the sending socket's buffer is not
/// sent at all ("Message too long to send to Wazuh", errno 90); that limit depends on the host
/// (`net.core.wmem_default`, about 208 KiB by default) and is not applied here.
pub fn as_received(event: &[u8]) -> &[u8] {
    &event[..event.len().min(ANALYSISD_MAX_DATAGRAM - QUEUE_HEADER.len())]
}

#[cfg(test)]
mod tests {
    #[test]
    fn analysisd_keeps_65535_bytes_of_a_datagram() {
        let ev = vec![b'x'; 70000];
        assert_eq!(super::as_received(&ev).len() + super::QUEUE_HEADER.len(), 65535);
        assert_eq!(super::as_received(b"{}"), b"{}");
    }
}
