//! A minimal MaxMind DB (`.mmdb`) writer for tests: no real GeoIP database
//! may be downloaded here, so tests build tiny ones.
//!
//! Format (MaxMind DB File Format Specification 2.0): a binary search tree
//! over the address bits (24-bit records: 6 bytes per node, left then right,
//! big-endian; a record `< node_count` is a node, `== node_count` "no data",
//! `> node_count` points at `record - node_count - 16` in the data section),
//! 16 zero bytes, the data section, then `\xAB\xCD\xEFMaxMind.com` and the
//! metadata map. IPv6 databases keep IPv4 networks under `::/96`, as
//! GeoLite2 does. Values are written without pointers or deduplication.
#![allow(dead_code)]

/// A value of the data section.
#[derive(Debug, Clone)]
pub enum Value {
    Str(String),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(String, Value)>),
    Array(Vec<Value>),
}

/// A GeoIP2-City-shaped record: `country.iso_code` and, if given, one
/// subdivision with an English name.
pub fn city(country: &str, region: Option<&str>) -> Value {
    let mut m = vec![(
        "country".to_string(),
        Value::Map(vec![
            ("iso_code".to_string(), Value::Str(country.to_string())),
            ("names".to_string(), Value::Map(vec![("en".to_string(), Value::Str(format!("Country {country}")))])),
        ]),
    )];
    if let Some(r) = region {
        m.push((
            "subdivisions".to_string(),
            Value::Array(vec![Value::Map(vec![
                ("iso_code".to_string(), Value::Str("XX".to_string())),
                ("names".to_string(), Value::Map(vec![("en".to_string(), Value::Str(r.to_string()))])),
            ])]),
        ));
    }
    Value::Map(m)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

/// Builds a database in memory.
pub struct MmdbWriter {
    ip_version: u16,
    database_type: String,
    nodes: Vec<[Rec; 2]>,
    data: Vec<u8>,
}

impl MmdbWriter {
    /// `ip_version` 4 or 6.
    pub fn new(ip_version: u16, database_type: &str) -> MmdbWriter {
        MmdbWriter {
            ip_version,
            database_type: database_type.to_string(),
            nodes: vec![[Rec::Empty; 2]],
            data: Vec::new(),
        }
    }

    /// Maps `addr/prefix` to `value`. A network inserted after a wider one
    /// that contains it overrides it for its own addresses.
    pub fn insert_v4(&mut self, addr: [u8; 4], prefix: u8, value: Value) {
        assert!((1..=32).contains(&prefix));
        let off = self.data.len();
        encode(&value, &mut self.data);
        let word = u32::from_be_bytes(addr) as u128;
        let (bits, len) =
            if self.ip_version == 6 { (word, 96 + prefix as usize) } else { (word << 96, prefix as usize) };
        let bit = |i: usize| ((bits >> (127 - i)) & 1) as usize;
        let mut node = 0usize;
        for i in 0..len - 1 {
            let b = bit(i);
            node = match self.nodes[node][b] {
                Rec::Node(n) => n,
                r => {
                    // Split an empty or wider record into a node.
                    self.nodes.push([r, r]);
                    let n = self.nodes.len() - 1;
                    self.nodes[node][b] = Rec::Node(n);
                    n
                }
            };
        }
        self.nodes[node][bit(len - 1)] = Rec::Data(off);
    }

    /// The file's bytes.
    pub fn build(&self) -> Vec<u8> {
        let n = self.nodes.len() as u64;
        let mut out = Vec::new();
        for node in &self.nodes {
            for r in node {
                let v = match *r {
                    Rec::Empty => n,
                    Rec::Node(i) => i as u64,
                    Rec::Data(off) => n + 16 + off as u64,
                };
                assert!(v < 1 << 24, "database too large for 24-bit records");
                out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
            }
        }
        out.extend_from_slice(&[0u8; 16]);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        let meta = Value::Map(vec![
            ("binary_format_major_version".into(), Value::U16(2)),
            ("binary_format_minor_version".into(), Value::U16(0)),
            ("build_epoch".into(), Value::U64(1_700_000_000)),
            ("database_type".into(), Value::Str(self.database_type.clone())),
            ("description".into(), Value::Map(vec![("en".into(), Value::Str("logtest test database".into()))])),
            ("ip_version".into(), Value::U16(self.ip_version)),
            ("languages".into(), Value::Array(vec![Value::Str("en".into())])),
            ("node_count".into(), Value::U32(self.nodes.len() as u32)),
            ("record_size".into(), Value::U16(24)),
        ]);
        encode(&meta, &mut out);
        out
    }
}

/// Control byte(s): type (1–7 inline, 8+ extended) and payload size.
fn control(ty: u8, size: usize, out: &mut Vec<u8>) {
    let (sz, ext): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if ty <= 7 {
        out.push((ty << 5) | sz);
    } else {
        out.push(sz);
        out.push(ty - 7);
    }
    out.extend_from_slice(&ext);
}

fn uint(ty: u8, v: u64, out: &mut Vec<u8>) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    control(ty, 8 - skip, out);
    out.extend_from_slice(&bytes[skip..]);
}

fn encode(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Str(s) => {
            control(2, s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::U16(n) => uint(5, *n as u64, out),
        Value::U32(n) => uint(6, *n as u64, out),
        Value::U64(n) => uint(9, *n, out),
        Value::Map(m) => {
            control(7, m.len(), out);
            for (k, v) in m {
                encode(&Value::Str(k.clone()), out);
                encode(v, out);
            }
        }
        Value::Array(a) => {
            control(11, a.len(), out);
            for v in a {
                encode(v, out);
            }
        }
    }
}
