//! The Wazuh API's logtest endpoints over the same service as the socket (upstream:
//! `api/controllers/logtest_controller.py`, `api/models/logtest_model.py`,
//! `framework/wazuh/logtest.py`):
//!
//! * `PUT /logtest` with `{"token"?, "event", "log_format", "location"}` (strings, no other
//!   key) → the socket's reply for that `log_processing` request (`output.timestamp` in the
//!   API's `%Y-%m-%dT%H:%M:%S.%fZ`); a socket error becomes 400 with error 7000;
//! * `DELETE /logtest/sessions/{token}` → the socket's reply to `remove_session`, or 400 / 7000.
//!
//! Every request needs `Authorization: Bearer <token>` with a token of the `--http-tokens` file
//! (compared in constant time), else 401. Bodies are limited to 1 MiB; a body that is not the
//! model gives 400, a content type other than JSON 415.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, put};
use axum::Router;

use super::protocol::Logtest;

/// The largest request body read.
pub const MAX_BODY: usize = 1 << 20;

/// What the HTTP handlers share.
#[derive(Clone)]
struct App {
    service: Arc<Logtest>,
    tokens: Arc<Vec<Vec<u8>>>,
}

/// Equal bytes, in time that depends only on the lengths.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().max(b.len());
    let mut diff = (a.len() ^ b.len()) as u8 | ((a.len() != b.len()) as u8);
    for i in 0..n {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

fn problem(status: StatusCode, title: &str, detail: &str, error: Option<u32>) -> Response {
    let mut body = serde_json::json!({ "title": title, "detail": detail });
    if let Some(e) = error {
        body["error"] = e.into();
    }
    (status, [("content-type", "application/problem+json; charset=utf-8")], body.to_string()).into_response()
}

impl App {
    /// `None` when the request carries an allowed bearer token, else the 401 to send.
    fn unauthorized(&self, headers: &HeaderMap) -> Option<Response> {
        let presented =
            headers.get("authorization").and_then(|v| v.as_bytes().strip_prefix(b"Bearer ")).map(|t| t.trim_ascii());
        let Some(token) = presented else {
            return Some(problem(StatusCode::UNAUTHORIZED, "Unauthorized", "No authorization token provided", None));
        };
        // Every allowed token is compared, whatever matches, so the time does not tell which.
        let ok = self.tokens.iter().fold(false, |ok, t| ct_eq(t, token) | ok);
        (!ok).then(|| problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Invalid token", None))
    }

    /// Sends one socket request to the service, off the async threads.
    async fn ask(&self, request: serde_json::Value) -> Response {
        let service = Arc::clone(&self.service);
        let payload = request.to_string().into_bytes();
        let reply = match tokio::task::spawn_blocking(move || service.handle(&payload)).await {
            Ok(r) => r,
            Err(_) => {
                return problem(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", "logtest failed", None)
            }
        };
        let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&reply) else {
            // Bytes that are not UTF-8 (passed through from the event): sent as they are.
            return (StatusCode::OK, [("content-type", "application/json")], reply).into_response();
        };
        if v["error"].as_i64() != Some(0) {
            let msg = v["message"].as_str().unwrap_or("Could not parse error message").to_string();
            return problem(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                &format!("Error trying to get logtest response: {msg}"),
                Some(7000),
            );
        }
        if let Some(ts) = v.pointer_mut("/data/output/timestamp") {
            if let Some(t) = ts.as_str().and_then(api_timestamp) {
                *ts = t.into();
            }
        }
        (StatusCode::OK, [("content-type", "application/json; charset=utf-8")], v.to_string()).into_response()
    }
}

/// `2026-12-01T11:50:18.484+0000` → `2026-12-01T11:50:18.484000Z` (the API's format, in UTC).
fn api_timestamp(t: &str) -> Option<String> {
    let ts: jiff::Timestamp = jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", t).ok()?.to_timestamp().ok()?;
    Some(ts.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string())
}

async fn run_logtest(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = app.unauthorized(&headers) {
        return r;
    }
    let json_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !json_type {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            "expected application/json",
            Some(6002),
        );
    }
    let bad = |detail: &str| problem(StatusCode::BAD_REQUEST, "Bad Request", detail, None);
    let Ok(serde_json::Value::Object(body)) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return bad("the body must be a JSON object");
    };
    if let Some(k) = body.keys().find(|k| !["token", "event", "log_format", "location"].contains(&k.as_str())) {
        return bad(&format!("Additional properties are not allowed ('{k}' was unexpected)"));
    }
    let mut params = serde_json::Map::new();
    for key in ["token", "event", "log_format", "location"] {
        match body.get(key) {
            Some(serde_json::Value::String(v)) => {
                params.insert(key.into(), v.clone().into());
            }
            Some(_) => return bad(&format!("'{key}' must be a string")),
            None if key == "token" => {}
            None => return bad(&format!("'{key}' is a required property")),
        }
    }
    app.ask(serde_json::json!({
        "version": 1,
        "origin": {"name": "Logtest", "module": "api"},
        "command": "log_processing",
        "parameters": params,
    }))
    .await
}

async fn end_session(State(app): State<App>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    if let Some(r) = app.unauthorized(&headers) {
        return r;
    }
    app.ask(serde_json::json!({
        "version": 1,
        "origin": {"name": "Logtest", "module": "api"},
        "command": "remove_session",
        "parameters": {"token": token},
    }))
    .await
}

/// The router of the logtest endpoints.
pub fn router(service: Arc<Logtest>, tokens: Vec<Vec<u8>>) -> Router {
    let app = App { service, tokens: Arc::new(tokens) };
    Router::new()
        .route("/logtest", put(run_logtest))
        .route("/logtest/sessions/{token}", delete(end_session))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

/// Reads `--http-tokens`: one token per line, blank lines and `#` comments skipped.
pub fn read_tokens(text: &str) -> Vec<Vec<u8>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.as_bytes().to_vec())
        .collect()
}

/// Serves the endpoints on `addr` until the process ends.
pub fn serve(service: Arc<Logtest>, addr: SocketAddr, tokens: Vec<Vec<u8>>) -> std::io::Result<()> {
    serve_listener(service, std::net::TcpListener::bind(addr)?, tokens)
}

/// Serves the endpoints on a bound listener until the process ends.
pub fn serve_listener(
    service: Arc<Logtest>,
    listener: std::net::TcpListener,
    tokens: Vec<Vec<u8>>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, router(service, tokens)).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_equality() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(!ct_eq(b"", b"a"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn timestamps_in_the_api_format() {
        assert_eq!(api_timestamp("2026-12-01T11:50:18.484+0000").as_deref(), Some("2026-12-01T11:50:18.484000Z"));
        assert_eq!(read_tokens("# c\n t1 \n\nt2\n"), vec![b"t1".to_vec(), b"t2".to_vec()]);
    }
}
