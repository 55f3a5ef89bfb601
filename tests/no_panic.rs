//! Bad input never panics: mutated real events, random bytes and odd
//! locations through the whole engine (stock ruleset when ../shared is
//! there, always the embedded one), in one long session each.

mod common;

use std::sync::Arc;

use logtest::output::alert::{self, AlertContext};
use logtest::session::{Session, Timestamp};
use logtest::Ruleset;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(r: &mut Lcg, base: &[u8]) -> Vec<u8> {
    const INTERESTING: &[u8] = b"\x00\x01\t\n\r \"'()*+-./:;<=>?@[\\]^_{|}~\x7f\x80\xc3\xa4\xff0123456789aZ";
    let mut v = base.to_vec();
    for _ in 0..1 + r.below(6) {
        let len = v.len();
        match r.below(5) {
            0 if len > 0 => {
                let i = r.below(len);
                v[i] = INTERESTING[r.below(INTERESTING.len())];
            }
            1 => {
                let i = r.below(len + 1);
                v.insert(i, INTERESTING[r.below(INTERESTING.len())]);
            }
            2 if len > 0 => {
                let i = r.below(len);
                v.truncate(i);
            }
            3 if len > 1 => {
                let (a, b) = (r.below(len), r.below(len));
                let (a, b) = (a.min(b), a.max(b));
                let chunk = v[a..b].to_vec();
                let at = r.below(v.len() + 1);
                v.splice(at..at, chunk);
            }
            _ => {}
        }
    }
    v
}

fn hammer(rs: Arc<Ruleset>, seeds: &[Vec<u8>], rounds: usize) {
    // LOGTEST_FUZZ_ROUNDS raises the effort for a longer local run.
    let rounds = std::env::var("LOGTEST_FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(rounds);
    let locations: [&[u8]; 6] =
        [b"stdin", b"Wazuh-AWS", b"[001] (agent1) 10.0.0.2->/var/log/secure", b"(script) u@h->x", b"[", b"a|:b||"];
    let mut session = Session::new(Arc::clone(&rs), common::opts());
    let mut r = Lcg(std::env::var("LOGTEST_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed));
    for i in 0..rounds {
        let base = &seeds[r.below(seeds.len())];
        let ev =
            if r.below(10) == 0 { (0..r.below(300)).map(|_| r.next() as u8).collect() } else { mutate(&mut r, base) };
        let loc = locations[r.below(locations.len())];
        let t = Timestamp { secs: 1_700_000_000 + (i as i64) * r.below(5) as i64, nanos: 0 };
        if let Ok(p) = session.process(loc, &ev, t, i % 7 == 0) {
            let a = alert::alert_json(&rs, &p, &AlertContext { manager_name: b"m", logtest: true, id_suffix: 0 });
            let mut text = Vec::new();
            let data = alert::logtest_response(a, "00000000", &[], &[], p.rules_debug.as_deref(), p.alert);
            logtest::output::logtest_text::render_event(&data, &mut text);
        }
    }
}

fn seeds_from_shared() -> Vec<Vec<u8>> {
    let Some(shared) = common::shared() else { return Vec::new() };
    let mut seeds = Vec::new();
    for dir in ["expected/mutations", "expected/iam-seed", "expected/cloudtrail"] {
        let Ok(rd) = std::fs::read_dir(shared.join(dir)) else { continue };
        for f in rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "events")) {
            seeds.extend(common::read_lines(&f));
        }
    }
    seeds
}

#[test]
fn stock_ruleset_survives_mutated_events() {
    let seeds = seeds_from_shared();
    if seeds.is_empty() {
        return;
    }
    let shared = common::shared().unwrap();
    hammer(common::stock_with_tests(&shared), &seeds, 30_000);
}

#[test]
fn embedded_ruleset_survives_mutated_events() {
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/ruleset/tests/iam"));
    for f in std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "events"))
    {
        seeds.extend(common::read_lines(&f));
    }
    hammer(Arc::new(Ruleset::embedded().unwrap()), &seeds, 20_000);
}
