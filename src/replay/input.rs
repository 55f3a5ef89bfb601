//! The inputs of a replay: files and folders turned into a stream of [`Record`]s (what analysisd
//! would have received, where from, and where in the input it was), in the order a manager would
//! have received them.
//!
//! Each file's kind is recognised by its content ([`crate::aws::detect_input_kind`]), after
//! gunzip for line files (Wazuh rotates `archives.json` into `.json.gz`):
//!
//! * raw CloudTrail files go through the AWS integration's transformation, located in their
//!   bucket as `aws s3 sync` lays them out (a folder is listed as the integration lists S3);
//! * `archives.json` lines give their `full_log`, at their `location` and agent, received at
//!   their `timestamp`;
//! * JSON lines in the integration's shape are events for `Wazuh-AWS`;
//! * anything else is one log line per line, at the `-l` location.
//!
//! Nothing read here stops a replay: a line or file that cannot be used becomes a [`Failure`]
//! naming the file and line, and the replay goes on.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::aws::{self, InputKind, LogFile, SkipReason, Transformer, WalkOptions};
use crate::json::{self, Json};
use crate::predecode::MAX_QUEUE_MESSAGE;
use crate::session::Timestamp;

/// Where a record came from in the input (for failures and the change report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Index into [`Inputs::files`].
    pub file: u32,
    /// 1-based line of a line file; 1-based record number of a CloudTrail file.
    pub line: u32,
}

/// One event as analysisd would receive it.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The location to give the engine: `Wazuh-AWS`, the `-l` location, or an agent's
    /// `[id] (name) ip->location`.
    pub location: &'a [u8],
    /// The event text, cut as analysisd's queue cuts it.
    pub log: &'a [u8],
    /// The event text before the cut (what `--emit events` prints).
    pub sent: &'a [u8],
    /// When the manager received it, if the input says (`archives.json`'s `timestamp`).
    pub arrival: Option<Timestamp>,
    /// What `--partition` splits by: the agent id, or the AWS account (of integration lines
    /// only with [`InputOptions::shard_keys`]).
    pub shard_key: &'a [u8],
    /// Where it was read.
    pub pos: Position,
}

/// A line or file that gave no event, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when the failure is one line's.
    pub line: Option<u32>,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// How to read the inputs.
#[derive(Debug, Clone)]
pub struct InputOptions {
    /// `log_info.s3bucket` for every CloudTrail file (else the folder holding `AWSLogs/`).
    pub bucket: Option<String>,
    /// The location of plain log lines.
    pub location: String,
    /// Records carry their shard key (for `--partition`); else it is left empty.
    pub shard_keys: bool,
}

impl Default for InputOptions {
    fn default() -> Self {
        InputOptions { bucket: None, location: "stdin".into(), shard_keys: false }
    }
}

/// A file to read, in replay order.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Its path (`-` for standard input).
    pub path: PathBuf,
    /// Where it sits in S3, when it was listed from a synced bucket.
    pub s3: Option<LogFile>,
    /// Its size in bytes (0 for standard input), for progress.
    pub size: u64,
}

/// The files of a replay, in order, and what was left out.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Files to read, in order.
    pub files: Vec<InputFile>,
    /// Files inside a synced bucket that the integration would not read (digests, other
    /// services, …), with the reason: not failures.
    pub skipped: Vec<(PathBuf, SkipReason)>,
    /// Paths that could not be listed.
    pub failures: Vec<Failure>,
}

impl Inputs {
    /// Lists `paths` in order: a file as itself, a folder as the integration lists a synced
    /// bucket (CloudTrail files in S3 order), then the folder's other files in path order.
    pub fn list(paths: &[PathBuf], opts: &InputOptions) -> Inputs {
        let mut out = Inputs::default();
        let walk_opts = WalkOptions { bucket: opts.bucket.clone(), ..Default::default() };
        for p in paths {
            if p.as_os_str() == "-" {
                out.files.push(InputFile { path: p.clone(), s3: None, size: 0 });
                continue;
            }
            let meta = match std::fs::metadata(p) {
                Ok(m) => m,
                Err(e) => {
                    out.failures.push(Failure { path: p.clone(), line: None, message: e.to_string() });
                    continue;
                }
            };
            if !meta.is_dir() {
                let s3 = aws::s3_location(p, opts.bucket.as_deref())
                    .ok()
                    .and_then(|(bucket, key)| LogFile::from_key(&bucket, &key).ok());
                out.files.push(InputFile { path: p.clone(), s3, size: meta.len() });
                continue;
            }
            match aws::walk(p, &walk_opts) {
                Ok(w) => {
                    for o in w.objects {
                        let size = std::fs::metadata(&o.path).map(|m| m.len()).unwrap_or(0);
                        out.files.push(InputFile { path: o.path, s3: Some(o.file), size });
                    }
                    for s in w.skipped {
                        if s.reason == SkipReason::NotInBucket {
                            let size = std::fs::metadata(&s.path).map(|m| m.len()).unwrap_or(0);
                            out.files.push(InputFile { path: s.path, s3: None, size });
                        } else {
                            out.skipped.push((s.path, s.reason));
                        }
                    }
                }
                Err(e) => out.failures.push(Failure { path: p.clone(), line: None, message: e.to_string() }),
            }
        }
        out
    }

    /// The bytes to read in all (for progress).
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// What reading one file gave.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileStats {
    /// Its kind, once known.
    pub kind: Option<InputKind>,
    /// Events read.
    pub events: u64,
}

/// Reads files into records, reusing its buffers from file to file.
pub struct Reader {
    opts: InputOptions,
    transformer: Transformer,
    data: Vec<u8>,
    line: Vec<u8>,
    location: Vec<u8>,
    log: Vec<u8>,
}

/// The most bytes of a line kept: longer lines are over every event limit, so only their start
/// is kept (memory stays flat whatever the input).
const MAX_LINE: usize = MAX_QUEUE_MESSAGE + 1;

/// How much of a file's start decides its kind.
const HEAD: usize = 64 << 10;

impl Reader {
    /// A reader with these options.
    pub fn new(opts: InputOptions) -> Reader {
        Reader {
            opts,
            transformer: Transformer::new(),
            data: Vec::new(),
            line: Vec::new(),
            location: Vec::new(),
            log: Vec::new(),
        }
    }

    /// Reads the file `f` (number `index` of the inputs), calling `emit` with each record and
    /// `fail` with each line or file that gives none. `read` is told how many bytes of the file
    /// were read so far (for progress).
    pub fn read(
        &mut self,
        index: u32,
        f: &InputFile,
        emit: &mut dyn FnMut(Record<'_>),
        fail: &mut dyn FnMut(Failure),
        read: &mut dyn FnMut(u64),
    ) -> FileStats {
        let mut stats = FileStats::default();
        let failure = |line: Option<u32>, message: String| Failure { path: f.path.clone(), line, message };
        let raw: Box<dyn Read> = if f.path.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            match File::open(&f.path) {
                Ok(file) => Box::new(file),
                Err(e) => {
                    fail(failure(None, e.to_string()));
                    return stats;
                }
            }
        };
        let mut input = BufReader::with_capacity(HEAD, CountingReader { inner: raw, count: 0, report: read });
        let head = match input.fill_buf() {
            Ok(h) => h,
            Err(e) => {
                fail(failure(None, e.to_string()));
                return stats;
            }
        };
        let gz = aws::is_gzip(head);
        let kind = if gz {
            // Look inside: a gzip file may hold lines (a rotated archives.json).
            let mut inner = Vec::new();
            let _ = flate2::read::MultiGzDecoder::new(head).take(HEAD as u64).read_to_end(&mut inner);
            if inner.is_empty() {
                InputKind::CloudTrail
            } else {
                aws::detect_input_kind(&inner)
            }
        } else {
            aws::detect_input_kind(head)
        };
        // In a synced bucket, what is not lines is a CloudTrail file (the transformation says
        // what is wrong with it).
        let kind = if kind == InputKind::Plain && f.s3.is_some() { InputKind::CloudTrail } else { kind };
        if kind == InputKind::CloudTrail {
            // Whole files: CloudTrail delivers files of a few MB at most.
            self.data.clear();
            if let Err(e) = input.read_to_end(&mut self.data) {
                fail(failure(None, e.to_string()));
                return stats;
            }
            stats.kind = Some(kind);
            self.cloudtrail(index, f, emit, fail, &mut stats);
            return stats;
        }
        if gz {
            let mut r = BufReader::with_capacity(HEAD, flate2::read::MultiGzDecoder::new(input));
            self.lines(index, f, kind, &mut r, emit, fail, &mut stats);
        } else {
            self.lines(index, f, kind, &mut input, emit, fail, &mut stats);
        }
        stats
    }

    /// A CloudTrail file in `self.data`.
    fn cloudtrail(
        &mut self,
        index: u32,
        f: &InputFile,
        emit: &mut dyn FnMut(Record<'_>),
        fail: &mut dyn FnMut(Failure),
        stats: &mut FileStats,
    ) {
        let Some(file) = &f.s3 else {
            fail(Failure {
                path: f.path.clone(),
                line: None,
                message: "a CloudTrail file outside a synced bucket: its S3 key gives the account and \
                          log_info (lay files out as `aws s3 sync s3://BUCKET DIR` does: \
                          DIR/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>)"
                    .into(),
            });
            return;
        };
        let mut n = 0u32;
        let account = file.account_id.as_bytes();
        let result = self.transformer.for_each_event(&self.data, file, |ev| {
            n += 1;
            emit(Record {
                location: aws::LOCATION.as_bytes(),
                log: aws::as_received(ev),
                sent: ev,
                arrival: None,
                shard_key: account,
                pos: Position { file: index, line: n },
            });
        });
        stats.events += n as u64;
        if let Err(e) = result {
            fail(Failure { path: f.path.clone(), line: None, message: e.to_string() });
        }
    }

    /// A line file of `kind`.
    #[allow(clippy::too_many_arguments)]
    fn lines(
        &mut self,
        index: u32,
        f: &InputFile,
        kind: InputKind,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>),
        fail: &mut dyn FnMut(Failure),
        stats: &mut FileStats,
    ) {
        stats.kind = Some(kind);
        let mut lineno = 0u32;
        let Reader { opts, line: slow, location, log, .. } = self;
        let mut one = LineSink { opts, location, log, index, path: &f.path, kind, emit, fail, stats };
        loop {
            // A line whole in the read buffer is used where it lies; one that spans reads (or is
            // too long) is gathered in `slow`.
            let buf = match input.fill_buf() {
                Ok(b) => b,
                Err(e) => {
                    (one.fail)(Failure { path: f.path.clone(), line: Some(lineno + 1), message: e.to_string() });
                    break;
                }
            };
            if buf.is_empty() {
                break;
            }
            if let Some(i) = memchr::memchr(b'\n', buf).filter(|&i| i <= MAX_LINE) {
                lineno += 1;
                let line = &buf[..i];
                one.line(line.strip_suffix(b"\r").unwrap_or(line), false, lineno);
                input.consume(i + 1);
                continue;
            }
            match read_line(input, slow) {
                Ok(None) => break,
                Ok(Some(long)) => {
                    lineno += 1;
                    one.line(slow, long, lineno);
                }
                Err(e) => {
                    (one.fail)(Failure { path: f.path.clone(), line: Some(lineno + 1), message: e.to_string() });
                    break;
                }
            }
        }
    }
}

/// What [`Reader::lines`] does with each line.
struct LineSink<'s, 'e> {
    opts: &'s InputOptions,
    location: &'s mut Vec<u8>,
    log: &'s mut Vec<u8>,
    index: u32,
    path: &'s Path,
    kind: InputKind,
    emit: &'s mut dyn FnMut(Record<'_>),
    fail: &'e mut dyn FnMut(Failure),
    stats: &'s mut FileStats,
}

impl LineSink<'_, '_> {
    /// Line `lineno` (without its terminator); `long`: it was cut at [`MAX_LINE`] bytes.
    fn line(&mut self, line: &[u8], long: bool, lineno: u32) {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        let pos = Position { file: self.index, line: lineno };
        let path = self.path;
        let fail_line = |message: String| Failure { path: path.to_path_buf(), line: Some(lineno), message };
        match self.kind {
            InputKind::Plain => {
                let room = MAX_QUEUE_MESSAGE.saturating_sub(3 + self.opts.location.len());
                self.stats.events += 1;
                (self.emit)(Record {
                    location: self.opts.location.as_bytes(),
                    log: &line[..line.len().min(room)],
                    sent: line,
                    arrival: None,
                    shard_key: b"000",
                    pos,
                });
            }
            InputKind::AwsEvents | InputKind::CloudTrail => {
                let account = if self.opts.shard_keys { aws_account(line) } else { None };
                self.stats.events += 1;
                (self.emit)(Record {
                    location: aws::LOCATION.as_bytes(),
                    log: aws::as_received(line),
                    sent: line,
                    arrival: None,
                    shard_key: account.unwrap_or(b""),
                    pos,
                });
            }
            InputKind::Archives => {
                if long {
                    (self.fail)(fail_line(format!("line longer than {MAX_LINE} bytes: not an archives.json event")));
                    return;
                }
                match archive_event(line, self.location, self.log) {
                    Ok((arrival, agent)) => {
                        let room = MAX_QUEUE_MESSAGE.saturating_sub(3 + self.location.len());
                        self.stats.events += 1;
                        (self.emit)(Record {
                            location: self.location,
                            log: &self.log[..self.log.len().min(room)],
                            sent: self.log,
                            arrival,
                            shard_key: &agent,
                            pos,
                        });
                    }
                    Err(m) => (self.fail)(fail_line(m)),
                }
            }
        }
    }
}

/// Counts the bytes read from the file (before decompression), for progress.
struct CountingReader<'r> {
    inner: Box<dyn Read + 'r>,
    count: u64,
    report: &'r mut dyn FnMut(u64),
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        (self.report)(self.count);
        Ok(n)
    }
}

/// Reads one `\n`-terminated line (a `\r` before the `\n` is dropped) into `line`, keeping at
/// most [`MAX_LINE`] bytes. `None` at the end; else whether the line was cut.
fn read_line(input: &mut dyn BufRead, line: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    line.clear();
    let mut any = false;
    let mut long = false;
    loop {
        let (used, done) = {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            any = true;
            let end = memchr::memchr(b'\n', buf);
            let piece = &buf[..end.unwrap_or(buf.len())];
            let room = MAX_LINE.saturating_sub(line.len());
            line.extend_from_slice(&piece[..piece.len().min(room)]);
            long |= piece.len() > room;
            (end.map_or(buf.len(), |i| i + 1), end.is_some())
        };
        input.consume(used);
        if done {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if line.last() == Some(&b'\r') && !long {
        line.pop();
    }
    Ok(Some(long))
}

/// `aws.aws_account_id` of an integration event, found without parsing the whole line (the
/// integration writes it last in `aws`, after `log_info`); `None` if absent.
fn aws_account(line: &[u8]) -> Option<&[u8]> {
    let key = b"\"aws_account_id\": \"";
    let at = memchr::memmem::rfind(line, key)? + key.len();
    let end = memchr::memchr(b'"', &line[at..])?;
    Some(&line[at..at + end])
}

/// An `archives.json` line: writes the engine location (`[id] (name) ip->location` for an agent)
/// and the event text; returns the arrival time and the agent id.
fn archive_event(
    line: &[u8],
    location: &mut Vec<u8>,
    log: &mut Vec<u8>,
) -> Result<(Option<Timestamp>, Vec<u8>), String> {
    let Some(obj @ Json::Object(_)) = json::parse_complete(line) else {
        return Err("not a JSON object".into());
    };
    let text = |v: Option<&Json>, what: &str| -> Result<Vec<u8>, String> {
        match v {
            Some(Json::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("`{what}` is not a string")),
            None => Err(format!("no `{what}`")),
        }
    };
    *log = text(obj.get(b"full_log"), "full_log")?;
    let loc = text(obj.get(b"location"), "location")?;
    let agent = obj.get(b"agent");
    let id = match agent.and_then(|a| a.get(b"id")) {
        Some(Json::String(s)) => s.clone(),
        _ => b"000".to_vec(),
    };
    location.clear();
    if id == b"000" {
        location.extend_from_slice(&loc);
    } else {
        let name = agent.and_then(|a| a.get(b"name")).and_then(Json::as_bytes).unwrap_or(b"unknown");
        let ip = agent.and_then(|a| a.get(b"ip")).and_then(Json::as_bytes).unwrap_or(b"any");
        location.push(b'[');
        location.extend_from_slice(&id);
        location.extend_from_slice(b"] (");
        location.extend_from_slice(name);
        location.extend_from_slice(b") ");
        location.extend_from_slice(ip);
        location.extend_from_slice(b"->");
        location.extend_from_slice(&loc);
    }
    let arrival = obj.get(b"timestamp").and_then(Json::as_bytes).and_then(Timestamp::parse_rfc3339);
    Ok((arrival, id))
}

/// Whether `path` names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_lines_give_the_agent_location_and_time() {
        let (mut loc, mut log) = (Vec::new(), Vec::new());
        let line = br#"{"timestamp":"2026-11-27T23:06:34.539+0000","agent":{"id":"001","name":"web","ip":"10.0.0.5"},"manager":{"name":"m"},"id":"1.2","full_log":"Nov 27 23:06:34 web sshd[1]: x","decoder":{},"location":"/var/log/auth.log"}"#;
        let (arrival, agent) = archive_event(line, &mut loc, &mut log).unwrap();
        assert_eq!(loc, b"[001] (web) 10.0.0.5->/var/log/auth.log");
        assert_eq!(log, b"Nov 27 23:06:34 web sshd[1]: x");
        assert_eq!(agent, b"001");
        assert_eq!(arrival.unwrap().secs, 1795820794);
        let manager = br#"{"agent":{"id":"000","name":"m"},"full_log":"x","location":"journald"}"#;
        archive_event(manager, &mut loc, &mut log).unwrap();
        assert_eq!(loc, b"journald");
        assert!(archive_event(br#"{"location":"x"}"#, &mut loc, &mut log).unwrap_err().contains("full_log"));
        assert!(archive_event(b"[1]", &mut loc, &mut log).is_err());
    }

    #[test]
    fn lines_end_at_newlines_and_long_ones_are_cut() {
        let data = b"a\r\nb\n\nlast";
        let mut r = &data[..];
        let mut line = Vec::new();
        let mut got = Vec::new();
        while let Some(long) = read_line(&mut r, &mut line).unwrap() {
            got.push((line.clone(), long));
        }
        assert_eq!(
            got,
            vec![(b"a".to_vec(), false), (b"b".to_vec(), false), (b"".to_vec(), false), (b"last".to_vec(), false)]
        );
        let big = vec![b'x'; MAX_LINE + 10];
        let mut r = &big[..];
        assert_eq!(read_line(&mut r, &mut line).unwrap(), Some(true));
        assert_eq!(line.len(), MAX_LINE);
    }

    #[test]
    fn the_account_of_an_integration_event() {
        let ev = br#"{"integration": "aws", "aws": {"log_info": {}, "aws_account_id": "111122223333"}}"#;
        assert_eq!(aws_account(ev), Some(&b"111122223333"[..]));
        assert_eq!(aws_account(b"{}"), None);
    }
}
