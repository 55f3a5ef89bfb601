//! Writing alerts as analysisd writes `alerts.json`: one unformatted object
//! per line, ids `<seconds>.<n>` counting up per writer, and, with a GeoIP
//! database, addresses filled that decoding left without a location (the
//! accumulator copies addresses in after the GeoIP lookup; analysisd's
//! alerts.log writer looks them up again before alerts.json is written).
//!
//! The drop-in's `--format json`, `replay` and the server share this, so the
//! alert numbering and GeoIP re-fill live in one place.

use std::io::{self, Write};
use std::sync::Arc;

use crate::geoip::GeoIp;
use crate::json::Json;
use crate::output::alert::{alert_json, AlertContext};
use crate::session::Processed;
use crate::Ruleset;

/// Writes alerts.json lines.
pub struct AlertWriter {
    manager_name: Vec<u8>,
    geoip: Option<Arc<GeoIp>>,
    next_id: u64,
    buf: Vec<u8>,
}

impl AlertWriter {
    /// A writer for alerts of a manager named `manager_name`; with `geoip`, addresses left without
    /// a location are looked up again.
    pub fn new(manager_name: &[u8], geoip: Option<Arc<GeoIp>>) -> AlertWriter {
        AlertWriter { manager_name: manager_name.to_vec(), geoip, next_id: 0, buf: Vec::new() }
    }

    /// Writes `p` as one line if it is an alert (`alert` true); returns
    /// whether it wrote one.
    pub fn write(&mut self, rs: &Ruleset, p: Processed, out: &mut impl Write) -> io::Result<bool> {
        match self.alert(rs, p) {
            Some(a) => {
                self.write_alert(&a, out)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The alert object of `p`, with the next id, if `p` is an alert.
    pub fn alert(&mut self, rs: &Ruleset, p: Processed) -> Option<Json> {
        if !p.alert {
            return None;
        }
        let id = self.next_id();
        Some(self.render(rs, p, id))
    }

    /// Takes the next alert id (for [`AlertWriter::render`] on another thread).
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id - 1
    }

    /// The alert object of `p` (an alert) with the id suffix `id` (from
    /// [`AlertWriter::next_id`]): what [`AlertWriter::alert`] gives, without the counter.
    pub fn render(&self, rs: &Ruleset, mut p: Processed, id: u64) -> Json {
        if let Some(g) = &self.geoip {
            g.fill(Arc::make_mut(&mut p.event));
        }
        let ctx = AlertContext { manager_name: &self.manager_name, logtest: false, id_suffix: id };
        alert_json(rs, &p, &ctx)
    }

    /// A writer for the same manager that shares nothing (for a rendering thread).
    pub fn fork(&self) -> AlertWriter {
        AlertWriter::new(&self.manager_name, self.geoip.clone())
    }

    /// Writes an alert object as one alerts.json line.
    pub fn write_alert(&mut self, a: &Json, out: &mut impl Write) -> io::Result<()> {
        self.buf.clear();
        a.write_unformatted(&mut self.buf);
        self.buf.push(b'\n');
        out.write_all(&self.buf)
    }
}
