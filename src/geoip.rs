//! GeoIP: `srcgeoip`/`dstgeoip` from a MaxMind DB (`.mmdb`) file.
//!
//! Upstream (4.14.7, only in builds with `USE_GEOIP=yes`, i.e. `LIBGEOIP_ENABLED`;
//! the shipped manager has none): `src/analysisd/decoders/geoip.c`
//! `GetGeoInfobyIP` asks a **legacy** GeoIP City database (`.dat`, libGeoIP,
//! `<global><geoipdb>`) with `GeoIP_record_by_name` and returns
//! `"<country code> / <region name>"` (at most 254 bytes), or the bare country
//! code when the record has no region (or the region code has no name), or
//! nothing when there is no record or its country code is shorter than two
//! characters. The decoders call it when they set `srcip`/`dstip`
//! (`SrcIP_FP`/`DstIP_FP` in decoders/decoder.c, `fillData` in the JSON
//! plugin), and only while the event has no geoip value yet.
//!
//! We read the GeoIP2/GeoLite2 successor format instead (the `maxminddb`
//! crate): the country code is `country.iso_code` (else
//! `registered_country.iso_code`), the region name
//! `subdivisions[0].names.en`. libGeoIP resolves addresses with `inet_addr`
//! (so `010.1.1.1`, `0x0a.1.1.1` and `10.1` are IPv4 addresses) and its
//! City database is IPv4-only: IPv6 addresses and host names get no geoip
//! (libGeoIP would try a DNS lookup for host names; we never do).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use maxminddb::{path, Reader};

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open GeoIP database '{path}': {reason}")]
pub struct GeoIpError {
    /// The file.
    pub(crate) path: PathBuf,
    /// What went wrong.
    pub(crate) reason: String,
}

/// An open MaxMind DB, shared (read-only) by every session.
pub struct GeoIp {
    reader: Reader<Vec<u8>>,
    path: PathBuf,
}

impl fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoIp")
            .field("path", &self.path)
            .field("database_type", &self.reader.metadata().database_type)
            .finish()
    }
}

/// Longest geoip value (upstream `snprintf(geobuffer, 255, …)`).
const MAX_LEN: usize = 254;

impl GeoIp {
    /// Opens a `.mmdb` file; any problem is an error naming the file.
    pub fn open(path: &Path) -> Result<GeoIp, GeoIpError> {
        let err = |reason: String| GeoIpError { path: path.to_path_buf(), reason };
        let buf = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let mut g = GeoIp::from_bytes(buf).map_err(|e| err(e.reason))?;
        g.path = path.to_path_buf();
        Ok(g)
    }

    /// A database from its bytes (the path in errors and `Debug` is empty).
    pub(crate) fn from_bytes(buf: Vec<u8>) -> Result<GeoIp, GeoIpError> {
        let reader = Reader::from_source(buf)
            .map_err(|e| GeoIpError { path: PathBuf::new(), reason: format!("not a MaxMind DB (.mmdb) file: {e}") })?;
        Ok(GeoIp { reader, path: PathBuf::new() })
    }

    /// The file the database was read from (empty for [`GeoIp::from_bytes`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The metadata's `database_type` (e.g. `GeoLite2-City`).
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// `GetGeoInfobyIP`: the geoip value of an address as the decoders see it.
    pub(crate) fn lookup(&self, ip: &[u8]) -> Option<Vec<u8>> {
        let addr = inet_addr(ip)?;
        self.lookup_addr(addr)
    }

    /// The geoip value of an IPv4 address.
    pub(crate) fn lookup_addr(&self, addr: Ipv4Addr) -> Option<Vec<u8>> {
        let r = self.reader.lookup(IpAddr::V4(addr)).ok()?;
        if !r.has_data() {
            return None;
        }
        let code: Option<String> = r.decode_path(&path!["country", "iso_code"]).ok().flatten();
        let code = match code {
            Some(c) => c,
            None => r.decode_path::<String>(&path!["registered_country", "iso_code"]).ok().flatten()?,
        };
        if code.len() < 2 {
            return None;
        }
        let region: Option<String> = r.decode_path(&path!["subdivisions", 0, "names", "en"]).ok().flatten();
        let mut out = code.into_bytes();
        if let Some(region) = region.filter(|s| !s.is_empty()) {
            out.extend_from_slice(b" / ");
            out.extend_from_slice(region.as_bytes());
            out.truncate(MAX_LEN);
        }
        Some(out)
    }

    /// Fills `srcgeoip`/`dstgeoip` from the event's `srcip`/`dstip` after decoding
    /// (before the accumulator, whose copied addresses are not looked up).
    pub(crate) fn fill(&self, ev: &mut crate::event::Event) {
        use crate::event::StaticField;
        if ev.srcgeoip.is_none() {
            ev.srcgeoip = ev.get_static(StaticField::Srcip).and_then(|ip| self.lookup(ip));
        }
        if ev.dstgeoip.is_none() {
            ev.dstgeoip = ev.get_static(StaticField::Dstip).and_then(|ip| self.lookup(ip));
        }
    }
}

/// glibc `inet_addr`/`inet_aton`: one to four parts separated by dots, each
/// decimal, octal (`0…`) or hex (`0x…`); the last part fills the remaining
/// bytes (`a`, `a.b` 8.24, `a.b.c` 8.8.16); trailing whitespace (and anything
/// after it) is ignored.
pub(crate) fn inet_addr(s: &[u8]) -> Option<Ipv4Addr> {
    const MAX: [u64; 4] = [0xffff_ffff, 0xff_ffff, 0xffff, 0xff];
    let mut parts: Vec<u64> = Vec::with_capacity(4);
    let mut i = 0;
    let val = loop {
        if !s.get(i).is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        // strtoul(…, 0)
        let (base, start) = if s[i] == b'0'
            && matches!(s.get(i + 1), Some(b'x' | b'X'))
            && s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit())
        {
            (16, i + 2)
        } else if s[i] == b'0' {
            (8, i)
        } else {
            (10, i)
        };
        let mut v: u64 = 0;
        let mut j = start;
        while let Some(d) = s.get(j).and_then(|&c| (c as char).to_digit(base)) {
            v = v.checked_mul(base as u64)?.checked_add(d as u64)?;
            j += 1;
        }
        if v > 0xffff_ffff {
            return None;
        }
        i = j;
        if s.get(i) == Some(&b'.') {
            if parts.len() > 2 || v > 0xff {
                return None;
            }
            parts.push(v);
            i += 1;
        } else {
            break v;
        }
    };
    if let Some(&c) = s.get(i) {
        if !c.is_ascii_whitespace() && c != 0x0b {
            return None;
        }
    }
    if val > MAX[parts.len()] {
        return None;
    }
    let mut word: u32 = 0;
    for (k, p) in parts.iter().enumerate() {
        word |= (*p as u32) << (24 - 8 * k);
    }
    Some(Ipv4Addr::from(word | val as u32))
}

#[cfg(test)]
#[path = "../tests/support/mmdb_writer.rs"]
mod mmdb_writer;

#[cfg(test)]
mod tests {
    use super::mmdb_writer::{city, MmdbWriter, Value};
    use super::*;

    fn db(ip_version: u16) -> GeoIp {
        let mut w = MmdbWriter::new(ip_version, "Test-City");
        w.insert_v4([8, 0, 0, 0], 8, city("US", None));
        w.insert_v4([8, 8, 8, 0], 24, city("US", Some("California")));
        w.insert_v4([41, 78, 120, 0], 24, city("CF", Some("Haut-Mbomou")));
        w.insert_v4(
            [10, 0, 0, 0],
            8,
            Value::Map(vec![(
                "registered_country".into(),
                Value::Map(vec![("iso_code".into(), Value::Str("DE".into()))]),
            )]),
        );
        w.insert_v4([11, 0, 0, 0], 8, city("X", Some("Nowhere")));
        w.insert_v4([12, 0, 0, 0], 8, Value::Map(vec![("city".into(), Value::Str("no country".into()))]));
        w.insert_v4([13, 0, 0, 0], 8, city("FR", Some(&"x".repeat(300))));
        GeoIp::from_bytes(w.build()).expect("test database opens")
    }

    #[test]
    fn lookups_as_upstream_formats_them() {
        for v in [4, 6] {
            let g = db(v);
            let l = |ip: &str| g.lookup(ip.as_bytes()).map(|v| String::from_utf8(v).unwrap());
            assert_eq!(l("8.8.8.8").as_deref(), Some("US / California"), "ip_version {v}");
            assert_eq!(l("8.8.4.4").as_deref(), Some("US"));
            assert_eq!(l("41.78.120.9").as_deref(), Some("CF / Haut-Mbomou"));
            assert_eq!(l("10.1.2.3").as_deref(), Some("DE"), "registered_country when country is missing");
            assert_eq!(l("11.1.1.1"), None, "country code shorter than two characters");
            assert_eq!(l("12.1.1.1"), None, "no country at all");
            assert_eq!(l("9.9.9.9"), None, "not in the database");
            assert_eq!(l("13.0.0.1").map(|s| s.len()), Some(254));
            // inet_addr forms
            assert_eq!(l("010.1.1.1").as_deref(), Some("US"), "octal 010 = 8");
            assert_eq!(l("0x8.8.8.8").as_deref(), Some("US / California"));
            assert_eq!(l("8.526344").as_deref(), Some("US / California"), "a.b with b = 24 bits");
            assert_eq!(l("8.8.8.8 trailing").as_deref(), Some("US / California"));
            assert_eq!(l("8.8.8.8:80"), None);
            assert_eq!(l("2001:db8::1"), None, "IPv6: upstream's City database is IPv4-only");
            assert_eq!(l("example.com"), None);
            assert_eq!(l(""), None);
        }
    }

    #[test]
    fn inet_addr_rules() {
        let a = |s: &str| inet_addr(s.as_bytes()).map(|a| a.to_string());
        assert_eq!(a("1.2.3.4").as_deref(), Some("1.2.3.4"));
        assert_eq!(a("127.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(a("1.2.65535").as_deref(), Some("1.2.255.255"));
        assert_eq!(a("16909060").as_deref(), Some("1.2.3.4"));
        assert_eq!(a("0x7f.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(a("255.255.255.255").as_deref(), Some("255.255.255.255"));
        for bad in [
            "1.2.3.256",
            "1.2.3.4.5",
            "08.1.1.1",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "0x",
            "a.b.c.d",
            "1.2.65536",
            "4294967296",
            "-1.2.3.4",
            " 1.2.3.4",
        ] {
            assert_eq!(a(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_files_are_errors_with_the_path() {
        let dir = std::env::temp_dir().join(format!("logtest-geoip-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.mmdb");
        std::fs::write(&f, b"not a database").unwrap();
        let e = GeoIp::open(&f).unwrap_err().to_string();
        assert!(e.contains("bad.mmdb") && e.contains("MaxMind DB"), "{e}");
        let e = GeoIp::open(&dir.join("missing.mmdb")).unwrap_err().to_string();
        assert!(e.contains("missing.mmdb"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
