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
        dl.load_file(&logtest::diagnostics::SourceFile::new(name, None), bytes).expect("stock decoders load");
    }
    let (decoders, _) = dl.finish();
    let (mut loaded, mut rejected) = (0, 0);
    // LOGTEST_FUZZ_ROUNDS raises the effort for a longer local run.
    let rounds: usize = std::env::var("LOGTEST_FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    for round in 0..rounds {
        for (name, bytes) in &decoder_files {
            let mut dl = DecoderLoader::new();
            match dl.load_file(&logtest::diagnostics::SourceFile::new(name, None), &mutate(&mut r, bytes)) {
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
            let no_lists = logtest::index::IdxVec::new();
            let mut rl = RuleLoader::new(&decoders, &no_lists, &mut fields, 12);
            match rl.load_file(&logtest::diagnostics::SourceFile::new(name, None), &mutate(&mut r, bytes)) {
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

/// The classes of adversarial rule files the hostile probe used, at random
/// sizes: each loads or fails with a message, and a loaded one runs events.
#[test]
fn adversarial_rule_files_never_panic() {
    use logtest::load::config::RulesetFiles;
    use logtest::session::{Clock, Session, SessionOptions, Timestamp};
    use std::sync::Arc;

    let mut r = Lcg(std::env::var("LOGTEST_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(7));
    let rounds: usize = std::env::var("LOGTEST_FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    let dir = std::env::temp_dir().join(format!("logtest-adversarial-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dec = dir.join("d.xml");
    std::fs::write(
        &dec,
        "<decoder name=\"json\"><prematch>^{</prematch><plugin_decoder>JSON_Decoder</plugin_decoder></decoder>",
    )
    .unwrap();
    let root =
        "<group name=\"r,\"><rule id=\"1\" level=\"0\" noalert=\"1\"><description>root</description></rule></group>\n";
    let (mut loaded, mut rejected) = (0, 0);
    for round in 0..rounds * 8 {
        let n = 1 + r.next() % 3000;
        let mut t = String::from(root);
        match round % 8 {
            // if_sid chains, with loops and self-references.
            0 => {
                for i in 0..n {
                    let parent = if i == 0 { 1 } else { 100000 + r.next() % (i + 1) };
                    t.push_str(&format!("<group name=\"c,\"><rule id=\"{}\" level=\"{}\"><if_sid>{parent}, {}</if_sid><match>x</match><description>d</description></rule></group>\n", 100000 + i, r.next() % 17, 100000 + r.next() % n));
                }
            }
            // Variables referring to variables.
            1 => {
                t.insert_str(0, "<var name=\"v0\">x</var>\n");
                for i in 1..n.min(40) {
                    t.insert_str(
                        0,
                        &format!(
                            "<var name=\"v{i}\">{}</var>\n",
                            format!("$v{} ", r.next() % i).repeat(1 + r.next() % 20)
                        ),
                    );
                }
                t.push_str(&format!("<group name=\"g,\"><rule id=\"100001\" level=\"3\"><match>$v{}</match><description>$v1 $(x)</description></rule></group>\n", r.next() % 40));
            }
            // Rules feeding their own if_group / if_level.
            2 | 3 => {
                t.push_str("<group name=\"gx,\"><rule id=\"100000\" level=\"5\"><match>x</match><description>b</description></rule>\n");
                for i in 0..n.min(40) {
                    let placement = if round % 8 == 2 {
                        "<if_group>gx</if_group>".to_string()
                    } else {
                        format!("<if_level>{}</if_level>", 1 + r.next() % 5)
                    };
                    t.push_str(&format!(
                        "<rule id=\"{}\" level=\"5\">{placement}<match>x</match><description>r</description></rule>\n",
                        100001 + i
                    ));
                }
                t.push_str("</group>\n");
            }
            // Attribute counts around os_xml's limit.
            4 => {
                let attrs: String = (0..40 + r.next() % 20).map(|i| format!(" a{i}=\"v\"")).collect();
                t.push_str(&format!("<group name=\"g,\"><rule id=\"100001\" level=\"3\"{attrs}><match>x</match><description>d</description></rule></group>\n"));
            }
            // Nesting around os_xml's recursion limit.
            5 => {
                let depth = 1000 + r.next() % 50;
                t.push_str(&"<a>".repeat(depth));
                t.push_str(&"</a>".repeat(depth));
            }
            // Contents around the element limit, descriptions full of fields.
            6 => {
                let big = "y".repeat(20_000 + r.next() % 1000);
                t.push_str(&format!("<group name=\"g,\">{}<rule id=\"100001\" level=\"3\"><match>{big}</match><description>{}</description></rule></group>\n", " \n".repeat(r.next() % 20_000), "$(f)".repeat(r.next() % 600)));
            }
            // Long if_sid lists and odd separators.
            _ => {
                let ids: String = (0..n)
                    .map(|_| format!("{}{}", 1 + r.next() % 100, [",", " ", ", ", ",,", "x"][r.next() % 5]))
                    .collect();
                t.push_str(&format!("<group name=\"g,\"><rule id=\"100001\" level=\"3\"><if_sid>{ids}</if_sid><match>x</match><description>d</description></rule></group>\n"));
            }
        }
        let file = dir.join(format!("r{round}.xml"));
        std::fs::write(&file, &t).unwrap();
        let mut files = RulesetFiles::default();
        files.add_explicit(std::slice::from_ref(&dec), &[file], &[]);
        match logtest::Ruleset::load(&files, &logtest::mitre::MitreDb::embedded()) {
            Ok(rs) => {
                loaded += 1;
                let rs = Arc::new(rs);
                let clock = Clock::EventField(b"t".to_vec());
                let mut s =
                    Session::new(rs, SessionOptions { clock, manager_name: b"m".to_vec(), ..Default::default() });
                for i in 0..20u64 {
                    let times = [
                        "2024-05-01T10:00:00Z",
                        "2022-13-45T99:99:99Z",
                        "1970-01-01T00:00:00Z",
                        "9999-12-31T23:59:59Z",
                        "0000-01-01T00:00:00Z",
                        "",
                    ];
                    let ev = format!(
                        "{{\"t\":\"{}\",\"f\":\"{}\",\"m\":\"x\"}}",
                        times[r.next() % times.len()],
                        "z".repeat(r.next() % 2000)
                    );
                    let _ = s.process(
                        b"stdin",
                        ev.as_bytes(),
                        Timestamp { secs: 1_700_000_000 - (i as i64) * 86_400, nanos: 0 },
                        i % 2 == 0,
                    );
                    let _ = s.process(b"stdin", b"x", Timestamp::now(), false);
                }
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                rejected += 1;
            }
        }
    }
    eprintln!("adversarial files: {loaded} loaded, {rejected} rejected");
    assert!(loaded > 0 && rejected > 0);
}
