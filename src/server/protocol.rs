//! wazuh-analysisd's logtest protocol, request by request (upstream `src/analysisd/logtest.c`:
//! `w_logtest_process_request`, `w_logtest_check_input*`, `…_log_processing`,
//! `…_remove_session`): one JSON request in, one JSON reply out, with the sessions it keeps
//! between requests.
//!
//! A request is checked in upstream's order: the JSON itself (`(7307)`, with the position cJSON
//! reports), `parameters` (an object), `command` (a string), then per command. Errors answer
//! `{"message", "error", "data": {}}`; a processed request answers `{"error": 0, "data":
//! {…, "codemsg"}}`, its `data` built by [`LogtestSession`]. Sessions are found by token, made
//! when the token is missing, invalid or unknown, evicted oldest-first above `max_sessions`
//! and removed after `session_timeout` of inactivity ([`Logtest::expire`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::json::{self, Json};
use crate::load::LoadFailure;
use crate::logtest::{new_token, oversize_response, LogtestSession};
use crate::session::{SessionOptions, Timestamp};
use crate::Ruleset;

/// `<rule_test>` of ossec.conf.
#[derive(Debug, Clone)]
pub struct Config {
    /// `max_sessions` (default 64).
    pub max_sessions: usize,
    /// `session_timeout` (default 15 minutes).
    pub session_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config { max_sessions: 64, session_timeout: Duration::from_secs(900) }
    }
}

/// Error codes of the reply's `error`.
const ERROR_PARSING: f64 = 1.0;
const INVALID_JSON: f64 = 2.0;
const COMMAND_NOT_ALLOWED: f64 = 3.0;
const INVALID_TOKEN: f64 = 4.0;

/// How many bytes of the request a `(7307)` message quotes around the error.
const PARSE_SLICE: usize = 20;

/// What new sessions are made from: a loaded ruleset, or the failure that stopped it.
#[derive(Clone)]
pub enum RulesetState {
    /// The ruleset, shared by every session made from it.
    Loaded(Arc<Ruleset>),
    /// It did not load: every session answers with the failure's messages.
    Failed(Arc<LoadFailure>),
}

struct Entry {
    session: Arc<Mutex<LogtestSession>>,
    /// When it was last used (upstream keeps seconds: `time(NULL)`).
    last: Instant,
}

/// The logtest service: requests in, replies out.
pub struct Logtest {
    ruleset: Mutex<RulesetState>,
    opts: SessionOptions,
    config: Config,
    sessions: Mutex<HashMap<String, Entry>>,
}

fn s(v: &str) -> Json {
    Json::String(v.as_bytes().to_vec())
}

fn error_reply(message: &str, error: f64) -> Vec<u8> {
    error_reply_bytes(message.as_bytes(), error)
}

/// An error reply whose message may carry the request's own bytes (not always UTF-8).
fn error_reply_bytes(message: &[u8], error: f64) -> Vec<u8> {
    Json::Object(vec![
        (b"message".to_vec(), Json::String(message.to_vec())),
        (b"error".to_vec(), Json::Number(error)),
        (b"data".to_vec(), Json::Object(Vec::new())),
    ])
    .to_unformatted()
}

/// The reply to a request whose length is over the protocol's limit (sent without reading it).
pub fn oversize_reply() -> Vec<u8> {
    oversize_response().to_unformatted()
}

impl Logtest {
    /// A service making its sessions from `ruleset`.
    pub fn new(ruleset: RulesetState, opts: SessionOptions, config: Config) -> Logtest {
        Logtest { ruleset: Mutex::new(ruleset), opts, config, sessions: Mutex::new(HashMap::new()) }
    }

    /// Sessions made from now on use `ruleset`; live sessions keep theirs until they end.
    pub fn set_ruleset(&self, ruleset: RulesetState) {
        *self.ruleset.lock().unwrap_or_else(|e| e.into_inner()) = ruleset;
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Removes the sessions idle for `session_timeout` or longer (upstream's inactivity thread,
    /// which wakes every `session_timeout`).
    pub fn expire(&self, now: Instant) {
        let timeout = self.config.session_timeout;
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, e| now.duration_since(e.last) < timeout);
    }

    fn new_session(&self) -> LogtestSession {
        let state = self.ruleset.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match state {
            RulesetState::Loaded(rs) => LogtestSession::new(rs, self.opts.clone(), new_token()),
            RulesetState::Failed(f) => LogtestSession::unavailable(&f),
        }
    }

    /// Answers one request (the payload after the 4-byte length), as analysisd does.
    pub fn handle(&self, request: &[u8]) -> Vec<u8> {
        // A C string: it ends at its first NUL.
        let text = &request[..memchr::memchr(0, request).unwrap_or(request.len())];
        let Some((root, _)) = json::parse_with_end(text) else {
            let pos = super::cjson_error::error_position(text).unwrap_or(0);
            let from = pos.saturating_sub(PARSE_SLICE / 2).min(text.len());
            let slice = &text[from..(from + PARSE_SLICE).min(text.len())];
            // The quoted bytes are the request's own, UTF-8 or not.
            let mut msg = format!("(7307): Error parsing JSON in position {pos}, ... ").into_bytes();
            msg.extend_from_slice(slice);
            msg.extend_from_slice(b" ...");
            return error_reply_bytes(&msg, ERROR_PARSING);
        };
        // Keys are looked up case-sensitively, the first of duplicates winning.
        let Some(params) = root.get(b"parameters") else {
            return error_reply("(7313): 'parameters' JSON field not found", INVALID_JSON);
        };
        if !params.is_object() {
            return error_reply("(7317): 'parameters' JSON field value is not valid", INVALID_JSON);
        }
        let command = match root.get(b"command") {
            None => return error_reply("(7313): 'command' JSON field not found", INVALID_JSON),
            Some(Json::String(c)) => c.clone(),
            Some(_) => return error_reply("(7317): 'command' JSON field value is not valid", INVALID_JSON),
        };
        let data = match &command[..] {
            b"remove_session" => match self.remove_session(params) {
                Ok(data) => data,
                Err(reply) => return reply,
            },
            b"log_processing" => match self.log_processing(params) {
                Ok(data) => data,
                Err(reply) => return reply,
            },
            _ => return error_reply("(7306): Unable to process command", COMMAND_NOT_ALLOWED),
        };
        Json::Object(vec![(b"error".to_vec(), Json::Number(0.0)), (b"data".to_vec(), data)]).to_unformatted()
    }

    fn remove_session(&self, params: &Json) -> Result<Json, Vec<u8>> {
        let token = match params.get(b"token") {
            Some(Json::String(t)) => String::from_utf8_lossy(t).into_owned(),
            _ => {
                return Err(error_reply(
                    "(7316): Failure to remove session. token JSON field must be a string",
                    INVALID_TOKEN,
                ))
            }
        };
        if token.len() != 8 {
            return Err(error_reply(&format!("(7309): '{token}' is not a valid token"), INVALID_TOKEN));
        }
        let removed = self.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(&token).is_some();
        let (message, code) = if removed {
            (format!("INFO: (7206): The session '{token}' was closed successfully"), 0.0)
        } else {
            (format!("ERROR: (7004): No session found for token '{token}'"), -1.0)
        };
        Ok(Json::Object(vec![
            (b"messages".to_vec(), Json::Array(vec![s(&message)])),
            (b"codemsg".to_vec(), Json::Number(code)),
        ]))
    }

    fn log_processing(&self, params: &Json) -> Result<Json, Vec<u8>> {
        let non_empty_string = |key: &[u8]| match params.get(key) {
            Some(Json::String(v)) if !v.is_empty() => Some(v.clone()),
            _ => None,
        };
        let Some(location) = non_empty_string(b"location") else {
            return Err(error_reply("(7308): 'location' JSON field is required and must be a string", INVALID_JSON));
        };
        if non_empty_string(b"log_format").is_none() {
            return Err(error_reply("(7308): 'log_format' JSON field is required and must be a string", INVALID_JSON));
        }
        let event = match params.get(b"event") {
            None => return Err(error_reply("(7313): 'event' JSON field not found", INVALID_JSON)),
            Some(Json::String(e)) if !e.is_empty() => e.clone(),
            // An object event is processed as its unformatted JSON text.
            Some(o @ Json::Object(m)) if !m.is_empty() => o.to_unformatted(),
            Some(_) => return Err(error_reply("(7317): 'event' JSON field value is not valid", INVALID_JSON)),
        };
        let mut pre: Vec<String> = Vec::new();
        let token = match params.get(b"token") {
            None => None,
            Some(Json::String(t)) if t.len() == 8 => Some(String::from_utf8_lossy(t).into_owned()),
            Some(other) => {
                let shown = match other {
                    Json::String(t) => String::from_utf8_lossy(t).into_owned(),
                    v => String::from_utf8_lossy(&v.to_unformatted()).into_owned(),
                };
                pre.push(format!("WARNING: (7309): '{shown}' is not a valid token"));
                None
            }
        };
        let options = match params.get(b"options") {
            Some(o @ Json::Object(_)) => Some(o),
            None => None,
            Some(_) => {
                pre.push(
                    "WARNING: (7005): 'options' field must be a JSON object. The parameter will be ignored".into(),
                );
                None
            }
        };
        // Find the session, or make one.
        let session = {
            let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
            let found = token.as_ref().and_then(|t| sessions.get_mut(t)).map(|e| {
                e.last = Instant::now();
                Arc::clone(&e.session)
            });
            match found {
                Some(s) => s,
                None => {
                    if let Some(t) = &token {
                        pre.push(format!("WARNING: (7003): '{t}' token expires"));
                    }
                    drop(sessions);
                    let fresh = self.new_session();
                    let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
                    let shared = Arc::new(Mutex::new(fresh));
                    let (has_token, tok) = {
                        let g = shared.lock().unwrap_or_else(|e| e.into_inner());
                        (g.has_token(), g.token().to_string())
                    };
                    if has_token {
                        if sessions.len() >= self.config.max_sessions {
                            // The one used longest ago goes, silently.
                            if let Some(oldest) = sessions.iter().min_by_key(|(_, e)| e.last).map(|(k, _)| k.clone()) {
                                sessions.remove(&oldest);
                            }
                        }
                        sessions.insert(tok, Entry { session: Arc::clone(&shared), last: Instant::now() });
                    }
                    shared
                }
            }
        };
        let mut post = Vec::new();
        let rules_debug = match options.and_then(|o| o.get(b"rules_debug")) {
            None => false,
            Some(Json::Bool(b)) => *b,
            Some(_) => {
                post.push(
                    "WARNING: (7006): 'rules_debug' field must be a boolean. The parameter will be ignored".into(),
                );
                false
            }
        };
        let mut guard = session.lock().unwrap_or_else(|e| e.into_inner());
        let reply = guard.process_request(&location, &event, Timestamp::now(), rules_debug, &pre, &post);
        Ok(reply.data)
    }
}
