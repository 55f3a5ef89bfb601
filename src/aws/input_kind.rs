//! What a replay input file holds, recognised by its first bytes (not its name).

use super::cloudtrail::is_gzip;
use crate::json::{self, Json};

/// The kinds of input a replay understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A raw CloudTrail log file (`{"Records": [...]}`), plain or gzip: to be reshaped as the AWS
    /// integration does ([`super::Transformer`]).
    CloudTrail,
    /// Wazuh `archives.json` lines: JSON objects with `full_log` and `location`.
    Archives,
    /// JSON lines already in the integration's shape (`{"integration": "aws", …}`), e.g. `.events`
    /// files: each line is an event for location `Wazuh-AWS`.
    AwsEvents,
    /// Anything else: one log line per line.
    Plain,
}

/// JSON's four whitespace bytes.
fn skip_ws(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
    &s[n..]
}

/// Recognises the kind of a file from its first bytes `head` (a few KiB; the whole first line
/// for the line-based kinds, else a textual guess is made on the part given).
///
/// * gzip magic, or `{` `"Records"` `:` (whitespace allowed around each): [`InputKind::CloudTrail`].
///   A gzip file is taken as CloudTrail without looking inside.
/// * Else the first non-blank line: a JSON object with `"integration": "aws"` is
///   [`InputKind::AwsEvents`]; one with both `full_log` and `location` is [`InputKind::Archives`].
/// * Else [`InputKind::Plain`].
pub fn detect_input_kind(head: &[u8]) -> InputKind {
    if is_gzip(head) {
        return InputKind::CloudTrail;
    }
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if let Some(rest) = skip_ws(body).strip_prefix(b"{") {
        if let Some(rest) = skip_ws(rest).strip_prefix(b"\"Records\"") {
            if skip_ws(rest).starts_with(b":") {
                return InputKind::CloudTrail;
            }
        }
    }
    let Some(line) = body.split(|&b| b == b'\n').find(|l| !skip_ws(l).is_empty()) else {
        return InputKind::Plain;
    };
    match json::parse_complete(line) {
        Some(obj @ Json::Object(_)) => {
            if obj.get(b"integration").and_then(Json::as_bytes) == Some(b"aws") {
                InputKind::AwsEvents
            } else if obj.get(b"full_log").is_some() && obj.get(b"location").is_some() {
                InputKind::Archives
            } else {
                InputKind::Plain
            }
        }
        Some(_) => InputKind::Plain,
        // A first line cut short by `head`: guess from its text.
        None => {
            let t = skip_ws(line);
            let aws = t
                .strip_prefix(b"{")
                .map(skip_ws)
                .and_then(|r| r.strip_prefix(b"\"integration\""))
                .map(skip_ws)
                .and_then(|r| r.strip_prefix(b":"))
                .map(skip_ws)
                .is_some_and(|r| r.starts_with(b"\"aws\""));
            if aws {
                InputKind::AwsEvents
            } else if t.starts_with(b"{") && memchr::memmem::find(t, b"\"full_log\":").is_some() {
                InputKind::Archives
            } else {
                InputKind::Plain
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InputKind::*;

    #[test]
    fn kinds() {
        assert_eq!(detect_input_kind(b"{\"Records\":[]}"), CloudTrail);
        assert_eq!(detect_input_kind(b"\n  {\n    \"Records\" : [\n"), CloudTrail);
        assert_eq!(detect_input_kind(&[0x1f, 0x8b, 8, 0]), CloudTrail);
        assert_eq!(detect_input_kind(b"{\"integration\": \"aws\", \"aws\": {}}\n{\"integration\": \"aws\""), AwsEvents);
        assert_eq!(detect_input_kind(b"{\"integration\": \"aws\", \"aws\": {\"log_info\": {\"aws_acc"), AwsEvents);
        assert_eq!(
            detect_input_kind(
                b"{\"timestamp\":\"2025-01-01T00:00:00.000+0000\",\"full_log\":\"x\",\"location\":\"stdin\"}\n"
            ),
            Archives
        );
        assert_eq!(detect_input_kind(b"{\"timestamp\":\"2025\",\"full_log\":\"a very long li"), Archives);
        assert_eq!(detect_input_kind(b"{\"integration\": \"gcp\"}\n"), Plain);
        assert_eq!(detect_input_kind(b"{\"Recordsx\": 1}"), Plain);
        assert_eq!(detect_input_kind(b"Mar 14 10:00:00 host sshd[1]: Accepted password\n"), Plain);
        assert_eq!(detect_input_kind(b"[1, 2]\n"), Plain);
        assert_eq!(detect_input_kind(b""), Plain);
        assert_eq!(detect_input_kind(b"\n\n"), Plain);
    }
}
