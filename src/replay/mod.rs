//! Replaying recorded traffic through a ruleset: raw CloudTrail files (through the AWS
//! integration's transformation, [`crate::aws`]), Wazuh `archives.json`, integration events and
//! plain log lines in; alerts.json lines, a [`Summary`] and a change report
//! ([`baseline`]) against a baseline's alerts out.
//!
//! ```text
//! inputs ─► Reader (kind by content; S3 order) ─► Record ─┬─► --emit events: the event text
//!                                                        └─► DecodeStage ─► Session (in order) ─► alerts
//! ```
//!
//! With `jobs > 1` the stateless half of the engine (intake, pre-decoding, decoding) runs on
//! worker threads over batches of records; one thread takes the decoded events in input order
//! through the rule walk and correlation (it alone holds the session) and numbers the alerts;
//! rendering threads turn them into alerts.json lines and one thread writes those in order. The
//! output is the one-thread output byte for byte: correlation sees every event, in order,
//! whatever the agent. `--partition K/N` ([`Partition`]) splits a replay by agent (CloudTrail:
//! by account) across processes or machines; correlation then sees one shard's agents, which is
//! exact for rules without `global_frequency` (firedtimes count per shard).

pub mod baseline;
pub mod input;
pub mod summary;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc;
use std::sync::Arc;

use crate::aws::InputKind;
use crate::output::AlertWriter;
use crate::session::{DecodeStage, Decoded, ProcessError, Processed, Session, SessionOptions, Timestamp};
use crate::Ruleset;

pub use baseline::{Baseline, ChangeReport, Comparison};
pub use input::{Failure, InputFile, InputOptions, Inputs, Position, Reader, Record};
pub use summary::Summary;

/// What a replay writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Emit {
    /// alerts.json lines.
    #[default]
    Alerts,
    /// The events as the integration (or the input) sent them, one per line: no ruleset needed.
    Events,
}

/// One shard of `N`: the records whose shard key hashes to `K - 1` modulo `N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// 1-based shard number.
    pub k: u32,
    /// Shards in all.
    pub n: u32,
}

impl std::str::FromStr for Partition {
    type Err = String;

    /// `K/N` with 1 ≤ K ≤ N.
    fn from_str(s: &str) -> Result<Partition, String> {
        let bad = || format!("invalid partition '{s}': expected K/N with 1 <= K <= N (e.g. 2/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u32, u32) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Partition { k, n })
    }
}

impl Partition {
    /// Whether this shard takes records with this key (FNV-1a, stable across runs and machines).
    pub fn owns(&self, key: &[u8]) -> bool {
        let h = key.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        (h % self.n as u64) as u32 == self.k - 1
    }
}

/// How to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Session options (manager name, clock, GeoIP).
    pub session: SessionOptions,
    /// What to write.
    pub emit: Emit,
    /// Only this shard.
    pub partition: Option<Partition>,
    /// Threads (1: all on the calling thread).
    pub jobs: usize,
}

/// Told how a replay goes (progress bars, failures as they happen).
pub trait Observer {
    /// `bytes` of the inputs read so far (all files).
    fn progress(&mut self, _bytes: u64, _events: u64) {}
    /// An input that gave no event.
    fn failure(&mut self, _f: &Failure) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

fn kind_name(k: InputKind) -> &'static str {
    match k {
        InputKind::CloudTrail => "cloudtrail",
        InputKind::Archives => "archives",
        InputKind::AwsEvents => "aws-events",
        InputKind::Plain => "plain",
    }
}

/// Where alerts go: the output, the summary, the comparison.
struct Sink<'a> {
    rs: Option<Arc<Ruleset>>,
    writer: AlertWriter,
    out: &'a mut (dyn Write + Send),
    summary: Summary,
    comparison: Option<Comparison>,
    files: &'a [InputFile],
}

impl Sink<'_> {
    fn processed(&mut self, p: Result<Processed, ProcessError>, pos: Position) -> io::Result<()> {
        self.summary.events += 1;
        let p = match p {
            Ok(p) => p,
            Err(_) => {
                self.summary.refused += 1;
                return Ok(());
            }
        };
        let Some(rs) = &self.rs else { return Ok(()) };
        let secs = p.time.secs;
        let Some(alert) = self.writer.alert(rs, p) else { return Ok(()) };
        self.writer.write_alert(&alert, &mut self.out)?;
        self.summary.add_alert(&alert, secs);
        if let Some(c) = &mut self.comparison {
            let files = self.files;
            c.alert(&alert, || format!("{}:{}", files[pos.file as usize].path.display(), pos.line));
        }
        Ok(())
    }
}

/// The result of a replay.
pub struct Outcome {
    /// Its numbers.
    pub summary: Summary,
    /// The change report, with a baseline.
    pub report: Option<ChangeReport>,
}

/// Replays `inputs` through `rs` (not needed for [`Emit::Events`]), writing to `out`.
pub fn replay(
    rs: Option<Arc<Ruleset>>,
    inputs: &Inputs,
    input_opts: &InputOptions,
    opts: &ReplayOptions,
    baseline: Option<Baseline>,
    out: &mut (dyn Write + Send),
    observer: &mut dyn Observer,
) -> io::Result<Outcome> {
    let mut summary = Summary::default();
    for f in &inputs.failures {
        observer.failure(f);
        summary.add_failure(f.to_string());
    }
    for (_, why) in &inputs.skipped {
        *summary.skipped.entry(format!("{why:?}")).or_default() += 1;
    }
    let sink = Sink {
        rs: rs.clone(),
        writer: AlertWriter::new(&opts.session.manager_name, opts.session.geoip.clone()),
        out,
        summary,
        comparison: baseline.map(Baseline::compare),
        files: &inputs.files,
    };
    let mut reader = Reader::new(input_opts.clone());
    let (mut sink, reading) = match (&rs, opts.emit) {
        (Some(rs), Emit::Alerts) if opts.jobs > 1 => parallel(rs, inputs, &mut reader, opts, sink, observer)?,
        _ => sequential(rs.as_ref(), inputs, &mut reader, opts, sink, observer)?,
    };
    sink.summary.merge(reading);
    sink.out.flush()?;
    Ok(Outcome { report: sink.comparison.map(Comparison::finish), summary: sink.summary })
}

/// Reads every file, calling `each` with its records; returns what reading counted (files,
/// kinds, failures). Stops at the first error `each` returns.
fn read_all(
    inputs: &Inputs,
    reader: &mut Reader,
    partition: Option<Partition>,
    observer: &mut dyn Observer,
    each: &mut dyn FnMut(Record<'_>) -> io::Result<()>,
) -> io::Result<Summary> {
    let mut reading = Summary::default();
    let mut done_bytes = 0u64;
    let events = std::cell::Cell::new(0u64);
    let mut err: Option<io::Error> = None;
    for (i, f) in inputs.files.iter().enumerate() {
        if err.is_some() {
            break;
        }
        let mut failures = Vec::new();
        let base = done_bytes;
        let mut read_so_far = 0u64;
        let stats = {
            let mut emit = |r: Record<'_>| {
                if err.is_some() {
                    return;
                }
                events.set(events.get() + 1);
                if partition.is_some_and(|p| !p.owns(r.shard_key)) {
                    return;
                }
                if let Err(e) = each(r) {
                    err = Some(e);
                }
            };
            let mut fail = |f: Failure| failures.push(f);
            // The observer hears of every MiB read.
            let mut read_bytes = |n: u64| {
                if n >> 20 != read_so_far >> 20 {
                    observer.progress(base + n, events.get());
                }
                read_so_far = n;
            };
            reader.read(i as u32, f, &mut emit, &mut fail, &mut read_bytes)
        };
        done_bytes = base + f.size.max(read_so_far);
        observer.progress(done_bytes, events.get());
        reading.files += 1;
        if let Some(k) = stats.kind {
            *reading.events_by_kind.entry(kind_name(k).to_string()).or_default() += stats.events;
        }
        for f in failures {
            observer.failure(&f);
            reading.add_failure(f.to_string());
        }
    }
    match err {
        Some(e) => Err(e),
        None => Ok(reading),
    }
}

fn arrival(r: &Record<'_>) -> Timestamp {
    r.arrival.unwrap_or_else(Timestamp::now)
}

fn sequential<'a>(
    rs: Option<&Arc<Ruleset>>,
    inputs: &Inputs,
    reader: &mut Reader,
    opts: &ReplayOptions,
    mut sink: Sink<'a>,
    observer: &mut dyn Observer,
) -> io::Result<(Sink<'a>, Summary)> {
    let mut session = rs.map(|rs| Session::new(Arc::clone(rs), opts.session.clone()));
    let emit = opts.emit;
    let reading = {
        let mut each = |r: Record<'_>| -> io::Result<()> {
            match (emit, &mut session) {
                (Emit::Events, _) | (_, None) => {
                    sink.summary.events += 1;
                    sink.out.write_all(r.sent)?;
                    sink.out.write_all(b"\n")
                }
                (Emit::Alerts, Some(s)) => {
                    let p = s.process(r.location, r.log, arrival(&r), false);
                    sink.processed(p, r.pos)
                }
            }
        };
        read_all(inputs, reader, opts.partition, observer, &mut each)?
    };
    Ok((sink, reading))
}

/// Records copied out of the reader for a worker: one buffer of bytes and their ranges.
#[derive(Default)]
struct Batch {
    seq: u64,
    bytes: Vec<u8>,
    items: Vec<BatchItem>,
}

/// A record of a [`Batch`]: its location and text (ranges of the batch's bytes), arrival, origin.
type BatchItem = (std::ops::Range<usize>, std::ops::Range<usize>, Option<Timestamp>, Position);

/// How many records a batch holds.
const BATCH: usize = 128;

type DecodedBatch = (u64, Vec<(Result<Decoded, ProcessError>, Option<Timestamp>, Position)>);

/// The alerts of one batch, matched, with their ids, for a rendering thread.
type MatchedBatch = (u64, Vec<(Processed, u64, Position)>);

/// One batch's alerts.json lines, and (with a baseline) the alerts to compare.
type RenderedBatch = (u64, Vec<u8>, Vec<(crate::json::Json, Position)>);

/// A rendered batch waiting for its turn to be written.
type Rendered = (Vec<u8>, Vec<(crate::json::Json, Position)>);

/// The parallel replay: the reader (this thread) batches records for the decoding threads; one
/// thread takes the decoded batches back in input order through the rule walk and correlation
/// (it alone holds the session) and numbers the alerts; rendering threads turn alerts into
/// alerts.json lines; one thread writes the lines in input order (and compares them with the
/// baseline). Output and change report are those of a one-thread replay.
fn parallel<'a>(
    rs: &Arc<Ruleset>,
    inputs: &Inputs,
    reader: &mut Reader,
    opts: &ReplayOptions,
    sink: Sink<'a>,
    observer: &mut dyn Observer,
) -> io::Result<(Sink<'a>, Summary)> {
    let workers = opts.jobs.saturating_sub(1).max(1);
    let comparing = sink.comparison.is_some();
    std::thread::scope(|scope| {
        // Decoding.
        let (decoded_tx, decoded_rx) = mpsc::sync_channel::<DecodedBatch>(workers * 2);
        let (free_tx, free_rx) = mpsc::channel::<Batch>();
        let mut work = Vec::new();
        for _ in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<Batch>(2);
            work.push(tx);
            let decoded_tx = decoded_tx.clone();
            let free_tx = free_tx.clone();
            let mut stage = DecodeStage::new(Arc::clone(rs), &opts.session);
            scope.spawn(move || {
                for mut b in rx {
                    let out = b
                        .items
                        .iter()
                        .map(|(loc, log, t, pos)| {
                            (stage.decode(&b.bytes[loc.clone()], &b.bytes[log.clone()]), *t, *pos)
                        })
                        .collect();
                    if decoded_tx.send((b.seq, out)).is_err() {
                        return;
                    }
                    b.bytes.clear();
                    b.items.clear();
                    let _ = free_tx.send(b);
                }
            });
        }
        drop(decoded_tx);
        drop(free_tx);

        // Rendering.
        let (rendered_tx, rendered_rx) = mpsc::sync_channel::<RenderedBatch>(workers * 2);
        let mut render = Vec::new();
        let mut renderers = Vec::new();
        for _ in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<MatchedBatch>(2);
            render.push(tx);
            let rendered_tx = rendered_tx.clone();
            let writer = sink.writer.fork();
            let rs = Arc::clone(rs);
            renderers.push(scope.spawn(move || {
                let mut summary = Summary::default();
                for (seq, alerts) in rx {
                    let mut bytes = Vec::new();
                    let mut kept = Vec::new();
                    for (p, id, pos) in alerts {
                        let secs = p.time.secs;
                        let alert = writer.render(&rs, p, id);
                        alert.write_unformatted(&mut bytes);
                        bytes.push(b'\n');
                        summary.add_alert(&alert, secs);
                        if comparing {
                            kept.push((alert, pos));
                        }
                    }
                    if rendered_tx.send((seq, bytes, kept)).is_err() {
                        break;
                    }
                }
                summary
            }));
        }
        drop(rendered_tx);

        // Matching, in input order.
        let session_opts = opts.session.clone();
        let rs2 = Arc::clone(rs);
        let mut numbering = sink.writer.fork();
        let correlator = scope.spawn(move || -> (u64, u64) {
            let mut session = Session::new(rs2, session_opts);
            let mut pending: BTreeMap<u64, Vec<_>> = BTreeMap::new();
            let mut next = 0u64;
            let (mut events, mut refused) = (0u64, 0u64);
            for (seq, items) in decoded_rx {
                pending.insert(seq, items);
                while let Some(items) = pending.remove(&next) {
                    let mut alerts = Vec::new();
                    for (d, t, pos) in items {
                        events += 1;
                        match d {
                            Ok(d) => {
                                let p = session.process_decoded(d, t.unwrap_or_else(Timestamp::now));
                                if p.alert {
                                    alerts.push((p, numbering.next_id(), pos));
                                }
                            }
                            Err(_) => refused += 1,
                        }
                    }
                    // A closed channel means the writer failed: stop (its error is reported).
                    if render[(next % render.len() as u64) as usize].send((next, alerts)).is_err() {
                        return (events, refused);
                    }
                    next += 1;
                }
            }
            (events, refused)
        });

        // Writing, in input order.
        let writer = scope.spawn(move || -> io::Result<Sink<'a>> {
            let mut sink = sink;
            let mut pending: BTreeMap<u64, Rendered> = BTreeMap::new();
            let mut next = 0u64;
            for (seq, bytes, kept) in rendered_rx {
                pending.insert(seq, (bytes, kept));
                while let Some((bytes, kept)) = pending.remove(&next) {
                    next += 1;
                    // On an error the channel closes: rendering, matching, decoding, reading stop.
                    sink.out.write_all(&bytes)?;
                    if let Some(c) = &mut sink.comparison {
                        let files = sink.files;
                        for (alert, pos) in &kept {
                            c.alert(alert, || format!("{}:{}", files[pos.file as usize].path.display(), pos.line));
                        }
                    }
                }
            }
            Ok(sink)
        });

        // Reading, on this thread.
        let mut seq = 0u64;
        let mut batch = Batch::default();
        let mut turn = 0usize;
        let mut send = |b: &mut Batch, seq: &mut u64| -> io::Result<()> {
            let fresh = free_rx.try_recv().unwrap_or_default();
            let mut full = std::mem::replace(b, fresh);
            full.seq = *seq;
            *seq += 1;
            let w = &work[turn % work.len()];
            turn += 1;
            w.send(full).map_err(|_| io::Error::other("a replay worker stopped"))
        };
        let reading = {
            let mut each = |r: Record<'_>| -> io::Result<()> {
                let b = &mut batch;
                let l0 = b.bytes.len();
                b.bytes.extend_from_slice(r.location);
                let l1 = b.bytes.len();
                b.bytes.extend_from_slice(r.log);
                b.items.push((l0..l1, l1..b.bytes.len(), r.arrival, r.pos));
                if b.items.len() >= BATCH {
                    send(b, &mut seq)?;
                }
                Ok(())
            };
            read_all(inputs, reader, opts.partition, observer, &mut each)
        };
        let flushed = if batch.items.is_empty() { Ok(()) } else { send(&mut batch, &mut seq) };
        drop(work);
        let panicked = || io::Error::other("a replay thread panicked");
        let (events, refused) = correlator.join().map_err(|_| panicked())?;
        let summaries: Vec<Summary> =
            renderers.into_iter().map(|h| h.join().map_err(|_| panicked())).collect::<io::Result<_>>()?;
        // The writing thread's error (a closed output) is the one to tell.
        let mut sink = writer.join().map_err(|_| panicked())??;
        let reading = reading?;
        flushed?;
        sink.summary.events += events;
        sink.summary.refused += refused;
        for s in summaries {
            sink.summary.merge(s);
        }
        Ok((sink, reading))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_split_every_key_once() {
        let parts: Vec<Partition> = (1..=3).map(|k| format!("{k}/3").parse().unwrap()).collect();
        for key in ["000", "001", "111122223333", "218007301253", ""] {
            assert_eq!(parts.iter().filter(|p| p.owns(key.as_bytes())).count(), 1, "{key}");
        }
        for bad in ["0/3", "4/3", "1", "a/b", "1/0"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }
}
