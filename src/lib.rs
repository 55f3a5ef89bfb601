//! logtest: the Wazuh 4.14 analysis engine (decoding, rules, correlation) and
//! a ruleset test tool built on it.
//!
//! An event's way through the engine:
//! ```text
//! ruleset files ─► load ─► Ruleset (compiled, immutable, shareable)
//! raw line + location ─► predecode ─► decode ─► rules ─► correlate ─► Alert ─► output
//! ```
//! [`Ruleset`] is built once; a [`Session`] holds the correlation state of
//! one logtest session (or one analysisd), so tests and parallel runs share
//! one ruleset across many cheap sessions.

#![warn(missing_docs)]
// Module docs explain their internals too, linking crate-private items:
// `cargo doc --document-private-items` resolves those links.
#![allow(rustdoc::private_intra_doc_links)]

pub mod analysis;
pub mod aws;
pub(crate) mod correlate;
pub mod decode;
pub mod diagnostics;
pub mod embedded;
pub mod event;
pub mod explain;
#[doc(hidden)]
pub mod fuzzing;
pub mod geoip;
pub mod index;
pub mod json;
pub mod lists;
pub mod load;
pub mod logtest;
pub mod matcher;
pub mod mitre;
pub mod output;
pub mod predecode;
pub mod replay;
pub mod report;
pub mod rules;
pub(crate) mod ruleset;
pub mod server;
pub mod session;
pub mod testing;

pub use ruleset::Ruleset;
pub use session::Session;
