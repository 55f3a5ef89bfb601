//! Errors of the AWS part: each names the file (S3 key, or local path) it is about.
//!
//! A file the integration cannot read yields an error for that file only: callers go on with
//! the next file, as the integration does with `skip_on_error` (it then sends an `error_msg`
//! event instead; without it, it exits). Nothing here panics on bad input.

use std::path::PathBuf;

/// Why a log file, key or folder could not be turned into events.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The file starts like gzip but does not decompress (the integration: `Invalid gzip file
    /// received.`, exit 8).
    #[error("{file}: invalid gzip data: {source}")]
    Gzip {
        /// The S3 key (or path) of the file.
        file: String,
        /// What the decompressor said.
        source: std::io::Error,
    },
    /// The (decompressed) text is not UTF-8 (the integration: `UnicodeDecodeError`, "Failed to
    /// parse file", exit 9).
    #[error("{file}: not UTF-8 at byte {offset} (line {line})")]
    Utf8 {
        /// The S3 key (or path) of the file.
        file: String,
        /// Byte offset of the first invalid byte.
        offset: usize,
        /// 1-based line of that byte.
        line: usize,
    },
    /// `json.load` fails (the integration: `JSONDecodeError`, "Failed to parse file", exit 9).
    #[error("{file}: invalid JSON at byte {offset} (line {line}, column {column}): {msg}")]
    Json {
        /// The S3 key (or path) of the file.
        file: String,
        /// Byte offset of the error in the (decompressed) text.
        offset: usize,
        /// 1-based line.
        line: usize,
        /// 1-based column, in bytes.
        column: usize,
        /// CPython's message (`Expecting value`, `Extra data`, …).
        msg: &'static str,
    },
    /// The file parses but the integration cannot take records out of it: `Records` (or the
    /// top-level value) is not something `[dict(x, source=…) for x in …]` accepts (the
    /// integration: `TypeError`/`ValueError`, "Failed to decompress/parse file", exit 8/9). No
    /// event of the file is sent.
    #[error("{file}: {what}")]
    Shape {
        /// The S3 key (or path) of the file.
        file: String,
        /// What is wrong, e.g. `record 3 is a number, not an object`.
        what: String,
    },
    /// A record's `sourceIPAddress` is not a string, so `re.match` raises `TypeError` inside
    /// `reformat_msg`. The integration dies there ("Unexpected error querying/working with
    /// objects in S3", exit 7): the events before it were sent, none after it.
    #[error("{file}: record {record}: sourceIPAddress is not a string; the integration stops here (exit 7)")]
    SourceIpNotString {
        /// The S3 key of the file.
        file: String,
        /// 0-based index of the record in `Records`.
        record: usize,
        /// Events of this file already handed out before the failure.
        emitted: usize,
    },
    /// An S3 key that is not `…AWSLogs/[…/]<account>/CloudTrail/<region>/…`.
    #[error("{key}: not a CloudTrail key (expected …AWSLogs/[…/]<account>/CloudTrail/<region>/…)")]
    KeyLayout {
        /// The key.
        key: String,
    },
    /// A local path with no `AWSLogs` folder above it, or not valid UTF-8 (S3 keys are UTF-8).
    #[error("{}: not inside an `aws s3 sync` tree (no AWSLogs/ folder above it, or not UTF-8)", path.display())]
    NotInBucket {
        /// The path.
        path: PathBuf,
    },
    /// Reading a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// 1-based (line, column) of byte `offset` in `text`, counting `\n` as the line end.
pub(crate) fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let col = 1 + before.len() - memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    (line, col)
}
