//! A CloudTrail replay on one core against its floor: parsing the same lines into an
//! order-preserving `serde_json::Value` and nothing else. `cargo bench --bench replay`
//! (needs `../shared` beside the checkout: the integration's events of every CloudTrail sample,
//! and the full upstream ruleset).
//!
//! * `serde_json_value`: the floor, `serde_json::from_slice::<Value>` per line (with
//!   `preserve_order`, as the alerts keep key order);
//! * `stock_ruleset`: each line through the engine, one session, alerts.json lines written to
//!   a buffer (what `logtest replay --home ../shared/wazuh-4.14.7 -j 1` does per event);
//! * `embedded_ruleset`: the same with the ruleset built into the binary (AWS/IAM and Stratus
//!   rules).

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logtest::load::config::RulesetFiles;
use logtest::mitre::MitreDb;
use logtest::output::AlertWriter;
use logtest::session::{Clock, SessionOptions, Timestamp};
use logtest::{Ruleset, Session};

// The binary's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
    p.is_dir().then_some(p)
}

/// One session and writer for the whole run: a long replay's steady state (full history).
struct Replay {
    rs: Arc<Ruleset>,
    session: Session,
    writer: AlertWriter,
    out: Vec<u8>,
}

impl Replay {
    fn new(rs: &Arc<Ruleset>) -> Replay {
        let opts = SessionOptions {
            manager_name: b"wazuh-manager".to_vec(),
            clock: Clock::EventField(b"aws.eventTime".to_vec()),
            ..Default::default()
        };
        let session = Session::new(Arc::clone(rs), opts);
        Replay { rs: Arc::clone(rs), session, writer: AlertWriter::new(b"wazuh-manager", None), out: Vec::new() }
    }

    fn run(&mut self, lines: &[&[u8]]) -> usize {
        let now = Timestamp::now();
        let mut alerts = 0;
        self.out.clear();
        for l in lines {
            if let Ok(p) = self.session.process(b"Wazuh-AWS", l, now, false) {
                alerts += self.writer.write(&self.rs, p, &mut self.out).unwrap() as usize;
            }
        }
        alerts
    }
}

fn bench(c: &mut Criterion) {
    let Some(shared) = shared() else {
        eprintln!("*** SKIPPED *** ../shared not found beside the checkout: no replay benchmark");
        return;
    };
    let mut text = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(shared.join("expected/cloudtrail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "events"))
        .collect();
    files.sort();
    for _ in 0..10 {
        for f in &files {
            text.extend(std::fs::read(f).unwrap());
        }
    }
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let mitre =
        MitreDb::parse(&std::fs::read_to_string(shared.join("mitre/enterprise-v13.1-techniques.json")).unwrap())
            .unwrap();
    let stock = Arc::new(
        Ruleset::load(&RulesetFiles::from_home(&shared.join("wazuh-4.14.7")).unwrap(), &mitre).expect("stock ruleset"),
    );
    let embedded = Arc::new(Ruleset::embedded().expect("embedded ruleset"));

    let mut g = c.benchmark_group("cloudtrail_replay");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.sample_size(20);
    g.bench_function("serde_json_value", |b| {
        b.iter(|| {
            let mut keys = 0;
            for l in &lines {
                let v: serde_json::Value = serde_json::from_slice(l).unwrap();
                keys += v.as_object().map_or(0, |o| o.len());
            }
            keys
        })
    });
    for (name, rs) in [("stock_ruleset", &stock), ("embedded_ruleset", &embedded)] {
        let mut r = Replay::new(rs);
        r.run(&lines); // fill the history first
        g.bench_function(name, |b| b.iter(|| r.run(&lines)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
