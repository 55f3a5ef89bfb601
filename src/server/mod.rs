//! `logtest serve`: wazuh-analysisd's logtest socket over our engine.
//!
//! * [`protocol`]: requests and replies as `src/analysisd/logtest.c` makes them, and the
//!   sessions kept between requests;
//! * [`socket`]: the Unix socket, its framing and limits;
//! * [`http`]: the Wazuh API's `PUT /logtest` and `DELETE /logtest/sessions/{token}`;
//! * `cjson_error`: the parse-error position cJSON reports, quoted by `(7307)`.
//!
//! Checked against the exchanges recorded from a real 4.14.7 analysisd
//! (`tests/data/oracle/protocol.jsonl`, `tests/serve.rs`).

mod cjson_error;
pub mod http;
pub mod protocol;
pub mod socket;

pub use protocol::{Config, Logtest, RulesetState};

/// The offset cJSON reports for a text it fails to parse (`None`: it parses).
pub fn cjson_error_position(text: &[u8]) -> Option<usize> {
    cjson_error::error_position(text)
}
