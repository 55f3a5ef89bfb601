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
    /// The reply's `data` object.
    pub data: Json,
    /// The processed event (absent when processing failed).
    pub processed: Option<Processed>,
}

/// A logtest session.
pub struct LogtestSession {
    session: Session,
    token: String,
    /// Messages of session creation, sent with the first reply.
    pending: Option<Vec<String>>,
}

impl LogtestSession {
    pub fn new(rs: Arc<Ruleset>, opts: SessionOptions, token: String) -> LogtestSession {
        let mut pending: Vec<String> = rs.session_messages().collect();
        pending.push(format!("INFO: (7202): Session initialized with token '{token}'"));
        LogtestSession { session: Session::new(rs, opts), token, pending: Some(pending) }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The engine session, for callers that want the processed event without
    /// building a reply (e.g. writing alerts.json).
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Processes one event as a `log_processing` request.
    pub fn process(&mut self, location: &[u8], event: &[u8], now: Timestamp, rules_debug: bool) -> Reply {
        let mut messages = self.pending.take().unwrap_or_default();
        match self.session.process(location, event, now, rules_debug) {
            Ok(p) => {
                let rs = self.session.ruleset();
                let ctx = AlertContext { manager_name: &self.session.options().manager_name, logtest: true, id_suffix: 0 };
                let output = alert::alert_json(rs, &p, &ctx);
                messages.extend(p.messages.iter().cloned());
                let debug = if rules_debug { p.rules_debug.as_deref() } else { None };
                let data = alert::logtest_response(output, &self.token, &messages, debug, p.alert);
                Reply { data, processed: Some(p) }
            }
            Err(e) => {
                // As the daemon answers: the error messages and codemsg -1, no output.
                messages.push(format!("ERROR: {e}"));
                messages.push("ERROR: (7312): Failed to process the event".to_string());
                let s = |m: &str| Json::String(m.as_bytes().to_vec());
                let data = Json::Object(vec![
                    (b"messages".to_vec(), Json::Array(messages.iter().map(|m| s(m)).collect())),
                    (b"token".to_vec(), s(&self.token)),
                    (b"codemsg".to_vec(), Json::Number(-1.0)),
                ]);
                Reply { data, processed: None }
            }
        }
    }
}
