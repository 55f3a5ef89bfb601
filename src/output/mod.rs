//! Output formats, all serialisers over one [`crate::session::Processed`]:
//! the `alerts.json` alert object ([`alert`]), the logtest response
//! ([`alert::logtest_response`]) and the `wazuh-logtest` text ([`logtest_text`]);
//! [`AlertWriter`] writes alerts.json lines.

pub mod alert;
pub mod logtest_text;
pub(crate) mod writer;

pub use writer::AlertWriter;
