//! Bad ruleset files never panic the loaders: every upstream decoder and rule
//! file, mutated at random (bytes changed, inserted, cut, lines duplicated),
//! either loads or gives an error.

mod common;

use logtest::event::FieldNames;
use logtest::load::decoders::DecoderLoader;
use logtest::load::rules::RuleLoader;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

fn mutate(r: &mut Lcg, text: &[u8]) -> Vec<u8> {
    const BYTES: &[u8] = b"<>/\\\"'=!-$()|,. \n\x00\xffaZ0";
    let mut v = text.to_vec();
    for _ in 0..1 + r.next() % 4 {
        if v.is_empty() {
            break;
        }
        let i = r.next() % v.len();
        match r.next() % 4 {
            0 => v[i] = BYTES[r.next() % BYTES.len()],
            1 => v.insert(i, BYTES[r.next() % BYTES.len()]),
            2 => {
                let j = (i + r.next() % 64).min(v.len());
                v.drain(i..j);
            }
            _ => {
                let j = (i + r.next() % 200).min(v.len());
                let chunk = v[i..j].to_vec();
                v.splice(i..i, chunk);
            }
        }
    }
    v
}

fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    v.sort();
    v.into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn mutated_ruleset_files_never_panic() {
    let Some(shared) = common::shared() else { return };
    let home = shared.join("wazuh-4.14.7");
    let decoder_files = files(&home.join("ruleset/decoders"));
    let rule_files = files(&home.join("ruleset/rules"));
    let mut r = Lcg(std::env::var("LOGTEST_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(42));
    // The stock decoders, so mutated rules can refer to them.
    let mut dl = DecoderLoader::new();
    for (name, bytes) in &decoder_files {
        dl.load_file(name, bytes).expect("stock decoders load");
    }
    let (decoders, _) = dl.finish();
    let (mut loaded, mut rejected) = (0, 0);
    // LOGTEST_FUZZ_ROUNDS raises the effort for a longer local run.
    let rounds: usize = std::env::var("LOGTEST_FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    for round in 0..rounds {
        for (name, bytes) in &decoder_files {
            let mut dl = DecoderLoader::new();
            match dl.load_file(name, &mutate(&mut r, bytes)) {
                Ok(()) => loaded += 1,
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    rejected += 1
                }
            }
            let _ = dl.finish();
        }
        for (name, bytes) in &rule_files {
            let mut fields = FieldNames::default();
            let mut rl = RuleLoader::new(&decoders, &[], &mut fields, 12);
            match rl.load_file(name, &mutate(&mut r, bytes)) {
                Ok(()) => loaded += 1,
                Err(_) => rejected += 1,
            }
            let _ = rl.finish();
        }
        let _ = round;
    }
    eprintln!("mutated files: {loaded} loaded, {rejected} rejected");
    assert!(loaded > 0 && rejected > 0);
}
