//! The logtest protocol's view of a session (upstream: src/analysisd/logtest.c):
//! a token, the messages a new session answers with (the ruleset's load
//! warnings and `(7202): Session initialized…`), and one reply `data` object
//! per event — `{messages?, token, output, rules_debug?, alert, codemsg}`, or
//! the error form when the event cannot be processed.
//!
//! Everything that speaks logtest (the `wazuh-logtest` drop-in, `.ini` suites,
//! the conformance tests, a future socket server) goes through this type, so
//! the protocol details live in one place.

use std::sync::Arc;

use crate::json::Json;
use crate::load::LoadFailure;
use crate::output::alert::{self, AlertContext};
use crate::session::{Processed, Session, SessionOptions, Timestamp};
use crate::Ruleset;

/// A fresh 8-hex-digit session token.
pub fn new_token() -> String {
    let t = Timestamp::now();
    let mut x = (t.nanos as u64) ^ ((t.secs as u64) << 20) ^ ((std::process::id() as u64) << 40);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    x ^= COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    format!("{:08x}", x as u32)
}

/// What one event gave.
#[derive(Debug)]
pub struct Reply {
    /// The reply's `data` object; for a refused request (see
    /// [`Reply::refused`]) the whole response, which has no `data`.
    pub data: Json,
    /// The processed event (absent when processing failed).
    pub processed: Option<Processed>,
    /// The request was refused before processing (too big): `data` is the
    /// whole `{"message", "error"}` response.
    pub refused: bool,
}

/// The largest request wazuh-analysisd reads (`OS_RecvSecureTCP(…, OS_MAXSTR - 1)`):
/// a bigger one is answered with [`oversize_response`] and not processed.
pub(crate) const MAX_REQUEST: usize = 65535;

/// The reply to a request over [`MAX_REQUEST`] bytes (the whole response, not a `data` object).
pub(crate) fn oversize_response() -> Json {
    Json::Object(vec![
        (
            b"message".to_vec(),
            Json::String(b"(7315): Failure to receive message: size is bigger than expected".to_vec()),
        ),
        (b"error".to_vec(), Json::Number(5.0)),
    ])
}

/// The size of the `log_processing` request the `wazuh-logtest` client
/// (`wazuh_logtest.py`) sends for `event`: `json.dumps` with its default
/// separators and `ensure_ascii`, keys in the client's order (`token` only
/// once the session has one). Bytes that are not UTF-8 count as the lone
/// surrogates Python's `surrogateescape` makes of them.
pub(crate) fn client_request_len(location: &[u8], event: &[u8], token: Option<&str>, rules_debug: bool) -> usize {
    let head = r#"{"version": 1, "origin": {"name": "wazuh-logtest", "module": "wazuh-logtest"}, "command": "log_processing", "parameters": {"location": , "log_format": "syslog", "event": }}"#;
    let mut n = head.len() + json_dumps_len(location) + json_dumps_len(event);
    if let Some(t) = token {
        n += r#""token": "", "#.len() + t.len();
    }
    if rules_debug {
        n += r#", "options": {"rules_debug": true}"#.len();
    }
    n
}

/// Length of Python's `json.dumps(s)` (ensure_ascii) for the text of `b`.
fn json_dumps_len(b: &[u8]) -> usize {
    let mut n = 2;
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            n += match c {
                '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
                c if (c as u32) < 0x20 => 6,
                c if (c as u32) < 0x80 => 1,
                c if (c as u32) < 0x10000 => 6,
                _ => 12,
            };
        }
        n += 6 * chunk.invalid().len();
    }
    n
}

/// analysisd keeps at most this many messages per batch of a reply
/// (`ERRORLIST_MAXSIZE`): older ones are dropped.
const MAX_MESSAGES: usize = 50;

fn keep_last(mut v: Vec<String>) -> Vec<String> {
    if v.len() > MAX_MESSAGES {
        v.drain(..v.len() - MAX_MESSAGES);
    }
    v
}

/// What creating a session says: the ruleset's load messages, then `(7202)`.
fn session_start_messages(rs: &Ruleset, token: &str) -> Vec<String> {
    let mut v: Vec<String> = rs.session_messages().collect();
    v.push(format!("INFO: (7202): Session initialized with token '{token}'"));
    keep_last(v)
}

/// A logtest session.
pub struct LogtestSession {
    state: State,
    token: String,
    /// Messages of session creation, sent with the first reply.
    pending: Option<Vec<String>>,
    /// A reply carried the token, so the client now sends it.
    client_token: bool,
}

enum State {
    Ready(Box<Session>),
    /// The ruleset gave an `ERROR:` message while loading. wazuh-analysisd
    /// then answers every request with the session's messages and codemsg
    /// -1, without a token or an output, so every request makes a new
    /// session (and after `max_sessions` of them its logtest thread hangs,
    /// which we do not copy).
    Broken(Arc<Ruleset>),
    /// The ruleset does not load: every request is answered with its
    /// messages, `(7311): Failure to initializing session` and codemsg -1.
    Failed(Vec<String>),
}

impl LogtestSession {
    /// A session with this token. A ruleset that gave a Wazuh `ERROR:` while loading makes a
    /// session that refuses every request, as analysisd does.
    pub fn new(rs: Arc<Ruleset>, opts: SessionOptions, token: String) -> LogtestSession {
        let pending = session_start_messages(&rs, &token);
        let broken = rs.diagnostics.iter().any(|d| {
            d.origin == crate::diagnostics::Origin::Wazuh && d.severity == crate::diagnostics::Severity::Error
        });
        let state = if broken { State::Broken(rs) } else { State::Ready(Box::new(Session::new(rs, opts))) };
        LogtestSession { state, token, pending: Some(pending), client_token: false }
    }

    /// A session over a ruleset that failed to load, answering as analysisd
    /// answers when it cannot create the session.
    pub fn unavailable(failure: &LoadFailure) -> LogtestSession {
        let mut messages: Vec<String> = failure.wazuh_messages().collect();
        messages.push("ERROR: (7311): Failure to initializing session".to_string());
        let state = State::Failed(keep_last(messages));
        LogtestSession { state, token: String::new(), pending: None, client_token: false }
    }

    /// The session token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The engine session (none when the ruleset cannot serve one).
    pub fn session(&self) -> Option<&Session> {
        match &self.state {
            State::Ready(s) => Some(s),
            _ => None,
        }
    }

    /// The engine session, for callers that want the processed event without
    /// building a reply (e.g. writing alerts.json).
    pub fn session_mut(&mut self) -> Option<&mut Session> {
        match &mut self.state {
            State::Ready(s) => Some(s),
            _ => None,
        }
    }

    /// Processes one event as the `wazuh-logtest` client sends it: a request
    /// over [`MAX_REQUEST`] bytes is refused as analysisd refuses it.
    pub fn process_from_client(&mut self, location: &[u8], event: &[u8], now: Timestamp, rules_debug: bool) -> Reply {
        let token = self.client_token.then_some(self.token.as_str());
        if client_request_len(location, event, token, rules_debug) > MAX_REQUEST {
            return Self::refused();
        }
        self.process(location, event, now, rules_debug)
    }

    /// `{messages, codemsg: -1}`: no session, no token, no output.
    fn refusal(pre: &[String], messages: &[String]) -> Reply {
        let s = |m: &str| Json::String(m.as_bytes().to_vec());
        let all = keep_last(pre.iter().chain(messages).cloned().collect());
        let data = Json::Object(vec![
            (b"messages".to_vec(), Json::Array(all.iter().map(|m| s(m)).collect())),
            (b"codemsg".to_vec(), Json::Number(-1.0)),
        ]);
        Reply { data, processed: None, refused: false }
    }

    /// The reply to a request too big to read.
    pub fn refused() -> Reply {
        Reply { data: oversize_response(), processed: None, refused: true }
    }

    /// Processes one event as a `log_processing` request.
    pub fn process(&mut self, location: &[u8], event: &[u8], now: Timestamp, rules_debug: bool) -> Reply {
        self.process_request(location, event, now, rules_debug, &[], &[])
    }

    /// Processes one `log_processing` request as the logtest socket does: `pre` are the
    /// messages checking the request and finding its session gave (they come before the new
    /// session's own), `post` those raised after (they come before processing's).
    pub fn process_request(
        &mut self,
        location: &[u8],
        event: &[u8],
        now: Timestamp,
        rules_debug: bool,
        pre: &[String],
        post: &[String],
    ) -> Reply {
        let session = match &mut self.state {
            State::Ready(s) => s,
            State::Broken(rs) => {
                // A new session for every request, each refused.
                return Self::refusal(pre, &session_start_messages(rs, &new_token()));
            }
            State::Failed(messages) => return Self::refusal(pre, messages),
        };
        let mut before: Vec<String> = pre.to_vec();
        before.extend(self.pending.take().unwrap_or_default());
        let before = keep_last(before);
        match session.process(location, event, now, rules_debug) {
            Ok(p) => {
                self.client_token = true;
                let rs = session.ruleset();
                let ctx = AlertContext { manager_name: &session.options().manager_name, logtest: true, id_suffix: 0 };
                let output = alert::alert_json(rs, &p, &ctx);
                let after = keep_last(post.iter().chain(&p.messages).cloned().collect());
                let debug = if rules_debug { p.rules_debug.as_deref() } else { None };
                let data = alert::logtest_response(output, &self.token, &before, &after, debug, p.alert);
                Reply { data, processed: Some(p), refused: false }
            }
            Err(e) => {
                // As the daemon answers: the error messages and codemsg -1, no
                // output; as above, `messages` comes first only when the
                // session's own messages opened it.
                let errors = [format!("ERROR: {e}"), "ERROR: (7312): Failed to process the event".to_string()];
                let after: Vec<&String> = post.iter().chain(&errors).collect();
                let s = |m: &str| Json::String(m.as_bytes().to_vec());
                let messages = (b"messages".to_vec(), Json::Array(before.iter().chain(after).map(|m| s(m)).collect()));
                let token = (b"token".to_vec(), s(&self.token));
                let mut fields = if before.is_empty() { vec![token, messages] } else { vec![messages, token] };
                fields.push((b"codemsg".to_vec(), Json::Number(-1.0)));
                Reply { data: Json::Object(fields), processed: None, refused: false }
            }
        }
    }

    /// Whether requests can be answered with this session's token (a ruleset with a load
    /// `ERROR` makes a new, refused session for every request: no token is handed out).
    pub fn has_token(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_sizes_as_the_python_client() {
        // Figures from Python's json.dumps of wazuh_logtest.py's request.
        assert_eq!(client_request_len(b"stdin", b"hello", None, false), 186);
        let ev = "caf\u{e9} \"x\"\n\x01\u{1F600}";
        assert_eq!(client_request_len(b"Wazuh-AWS", ev.as_bytes(), Some("abcd1234"), true), 275);
        assert_eq!(client_request_len(b"stdin", b"a\xffb", None, false), 189);
    }
}
