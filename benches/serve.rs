//! `logtest serve`'s request handling, in process and over its Unix socket.
//! `cargo bench --bench serve` (the full upstream ruleset when `../shared` is beside the
//! checkout, else the embedded one). The many-client figures of the README come from
//! `scripts/load-test.py` (Python clients, a separate server process); these isolate the server.
//!
//! * `handle/live_session`: one `log_processing` request for a live session (token given): the
//!   protocol checks, the session lookup, decoding, rules and the reply's JSON;
//! * `handle/new_session`: the same without a token, so each request creates a session (the
//!   oldest ones are evicted at `max_sessions`);
//! * `socket/one_client`: a request and its reply over the socket, one connection each (as
//!   analysisd's clients do), one client at a time;
//! * `socket/64_clients`: 64 threads, each sending 20 requests for its own session.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logtest::load::config::RulesetFiles;
use logtest::mitre::MitreDb;
use logtest::server::{socket, Config, Logtest, RulesetState};
use logtest::session::SessionOptions;
use logtest::Ruleset;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EVENT: &str = "Oct 15 21:07:56 linux-agent sshd[29205]: Invalid user blimey from 18.18.18.18 port 48928";

fn ruleset() -> (Ruleset, &'static str) {
    let shared = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
    if shared.is_dir() {
        let files = RulesetFiles::from_home(&shared.join("wazuh-4.14.7")).expect("stock home");
        let text = std::fs::read_to_string(shared.join("mitre/enterprise-v13.1-techniques.json")).expect("mitre");
        let mitre = MitreDb::parse(&text).expect("mitre table");
        (Ruleset::load(&files, &mitre).expect("stock ruleset"), "stock")
    } else {
        eprintln!("../shared not found: benchmarking the embedded ruleset");
        (Ruleset::embedded().expect("embedded ruleset"), "embedded")
    }
}

fn request(token: Option<&str>) -> Vec<u8> {
    let token = token.map(|t| format!(",\"token\":\"{t}\"")).unwrap_or_default();
    format!(
        "{{\"version\":1,\"origin\":{{\"name\":\"bench\",\"module\":\"bench\"}},\"command\":\"log_processing\",\
         \"parameters\":{{\"event\":\"{EVENT}\",\"log_format\":\"syslog\",\"location\":\"bench\"{token}}}}}"
    )
    .into_bytes()
}

fn token_of(reply: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(reply).expect("reply is JSON");
    v["data"]["token"].as_str().expect("a token").to_string()
}

fn round_trip(path: &Path, payload: &[u8]) -> Vec<u8> {
    let mut s = UnixStream::connect(path).expect("connect");
    let mut framed = (payload.len() as u32).to_le_bytes().to_vec();
    framed.extend_from_slice(payload);
    s.write_all(&framed).expect("send");
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("reply header");
    let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
    s.read_exact(&mut body).expect("reply");
    body
}

fn bench(c: &mut Criterion) {
    let (rs, which) = ruleset();
    let opts = SessionOptions { manager_name: b"wazuh-manager".to_vec(), ..Default::default() };
    let config = Config { max_sessions: 128, session_timeout: Duration::from_secs(900) };
    let service = Arc::new(Logtest::new(RulesetState::Loaded(Arc::new(rs)), opts, config));

    let mut g = c.benchmark_group(format!("handle/{which}"));
    g.throughput(Throughput::Elements(1));
    let token = token_of(&service.handle(&request(None)));
    let live = request(Some(&token));
    g.bench_function("live_session", |b| b.iter(|| service.handle(&live)));
    let fresh = request(None);
    g.bench_function("new_session", |b| b.iter(|| service.handle(&fresh)));
    g.finish();

    let dir = std::env::temp_dir().join(format!("logtest-bench-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("logtest");
    let listener = socket::bind(&path).expect("bind");
    let server = Arc::clone(&service);
    std::thread::spawn(move || socket::serve(server, listener, 4));

    let mut g = c.benchmark_group(format!("socket/{which}"));
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_client", |b| b.iter(|| round_trip(&path, &live)));
    const CLIENTS: usize = 64;
    const PER_CLIENT: usize = 20;
    let requests: Vec<Vec<u8>> =
        (0..CLIENTS).map(|_| request(Some(&token_of(&round_trip(&path, &request(None)))))).collect();
    g.throughput(Throughput::Elements((CLIENTS * PER_CLIENT) as u64));
    g.sample_size(10);
    g.bench_function("64_clients", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                std::thread::scope(|s| {
                    for req in &requests {
                        let path = &path;
                        s.spawn(move || {
                            for _ in 0..PER_CLIENT {
                                round_trip(path, req);
                            }
                        });
                    }
                });
            }
            start.elapsed()
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
