//! Property tests of frequency/timeframe correlation (spec rules.md §4)
//! against a reference model written from the spec: random event sequences
//! (hits and misses, 1–3 agents, random time gaps) through a base rule and an
//! `if_matched_sid` rule with random `frequency`/`timeframe`, optionally
//! `same_field` and `global_frequency`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use logtest::load::config::RulesetFiles;
use logtest::mitre::MitreDb;
use logtest::session::{Session, SessionOptions, Timestamp};
use logtest::Ruleset;
use proptest::prelude::*;

const T0: i64 = 1_714_557_600;
const CORR_LEVEL: u32 = 10;

#[derive(Debug, Clone, Copy)]
struct Params {
    frequency: u32,
    timeframe: i64,
    same_field: bool,
    global: bool,
}

#[derive(Debug, Clone, Copy)]
struct Ev {
    agent: usize,
    hit: bool,
    user: u8,
    gap: i64,
}

fn ruleset(p: Params) -> Arc<Ruleset> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "logtest-correlation-props-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let dec = dir.join("decoders.xml");
    std::fs::write(
        &dec,
        r#"<decoder name="json"><prematch>^{\s*"</prematch><plugin_decoder>JSON_Decoder</plugin_decoder></decoder>"#,
    )
    .unwrap();
    let extra = format!(
        "{}{}",
        if p.same_field { "<same_field>u</same_field>" } else { "" },
        if p.global { "<global_frequency />" } else { "" }
    );
    let rules = format!(
        r#"<group name="props,">
  <rule id="1" level="0" noalert="1"><category>syslog</category><description>root</description></rule>
  <rule id="100" level="3"><decoded_as>json</decoded_as><description>any event</description></rule>
  <rule id="101" level="5"><if_sid>100</if_sid><field name="k">^hit$</field><description>base</description></rule>
  <rule id="102" level="{CORR_LEVEL}" frequency="{}" timeframe="{}">
    <if_matched_sid>101</if_matched_sid>{extra}
    <description>correlation</description>
  </rule>
</group>"#,
        p.frequency, p.timeframe
    );
    let rf = dir.join("rules.xml");
    std::fs::write(&rf, rules).unwrap();
    let mut files = RulesetFiles::default();
    files.add_explicit(&[dec], &[rf], &[]);
    let rs = Ruleset::load(&files, &MitreDb::default()).expect("ruleset loads");
    let _ = std::fs::remove_dir_all(&dir);
    Arc::new(rs)
}

/// What the engine returned for each event: (rule id, previous_output entries).
fn run_engine(p: Params, events: &[Ev]) -> Vec<(Option<u32>, usize)> {
    let rs = ruleset(p);
    let mut s = Session::new(Arc::clone(&rs), SessionOptions { manager_name: b"m".to_vec(), ..Default::default() });
    let mut t = T0;
    events
        .iter()
        .map(|e| {
            t += e.gap;
            let loc = format!("[00{}] (a{}) any->x", e.agent + 1, e.agent + 1);
            let log = format!(r#"{{"k":"{}","u":"{}"}}"#, if e.hit { "hit" } else { "miss" }, e.user);
            let out = s.process(loc.as_bytes(), log.as_bytes(), Timestamp { secs: t, nanos: 0 }, false).unwrap();
            (out.rule.map(|i| rs.rules.rules[i].id), out.previous.len())
        })
        .collect()
}

/// The reference model of spec §4.2/4.3: rule 101's sid list holds the hits
/// whose final rule was 101; rule 102 walks it newest first.
fn run_model(p: Params, events: &[Ev]) -> Vec<(Option<u32>, usize)> {
    struct Stored {
        time: i64,
        agent: usize,
        user: u8,
        matched: u32,
    }
    let n = p.frequency - 2;
    let mut list: Vec<Stored> = Vec::new();
    let mut t = T0;
    let mut out = Vec::new();
    for e in events {
        t += e.gap;
        if !e.hit {
            out.push((Some(100), 0));
            continue;
        }
        let mut count = 0u32;
        let mut first: Option<usize> = None;
        let mut recorded = 0usize;
        let mut fired = false;
        for i in (0..list.len()).rev() {
            let prev = &list[i];
            if t - prev.time > p.timeframe {
                break;
            }
            if !p.global && prev.agent != e.agent {
                continue;
            }
            if p.same_field && prev.user != e.user {
                continue;
            }
            if prev.matched >= CORR_LEVEL {
                break;
            }
            if recorded < 11 {
                recorded += 1;
            }
            if count < n {
                count += 1;
                first.get_or_insert(i);
                continue;
            }
            if let Some(f) = first {
                list[f].matched = CORR_LEVEL;
            }
            fired = true;
            break;
        }
        if fired {
            // Not stored in 101's list: its final rule was 102.
            out.push((Some(102), recorded));
        } else {
            list.push(Stored { time: t, agent: e.agent, user: e.user, matched: 0 });
            out.push((Some(101), 0));
        }
    }
    out
}

fn params() -> impl Strategy<Value = Params> {
    (2u32..=7, 1i64..=120, any::<bool>(), any::<bool>()).prop_map(|(frequency, timeframe, same_field, global)| Params {
        frequency,
        timeframe,
        same_field,
        global,
    })
}

fn events(agents: usize) -> impl Strategy<Value = Vec<Ev>> {
    let gap = prop_oneof![3 => Just(0i64), 4 => 0i64..=15, 1 => 0i64..=150];
    prop::collection::vec(
        (0..agents, prop::bool::weighted(0.8), 0u8..2, gap).prop_map(|(agent, hit, user, gap)| Ev {
            agent,
            hit,
            user,
            gap,
        }),
        1..60,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// The engine agrees with the model on every event: which rule, and how
    /// many previous_output entries a correlation alert carries.
    #[test]
    fn model_agreement(p in params(), evs in (1usize..=3).prop_flat_map(events)) {
        let engine = run_engine(p, &evs);
        let model = run_model(p, &evs);
        prop_assert_eq!(engine, model, "params {:?}", p);
    }

    /// One agent, every event a hit, all inside the window: fires on the F-th
    /// event and then every F events (F ≥ 3); with F = 2 on every event after
    /// the first. A correlation alert lists F − 1 previous events.
    #[test]
    fn cadence_inside_the_window(f in 2u32..=9, count in 1usize..=40) {
        let p = Params { frequency: f, timeframe: 1000, same_field: false, global: false };
        let evs: Vec<Ev> = (0..count).map(|_| Ev { agent: 0, hit: true, user: 0, gap: 1 }).collect();
        let out = run_engine(p, &evs);
        for (i, (rule, prev)) in out.iter().enumerate() {
            let k = i + 1;
            let fires = if f == 2 { k >= 2 } else { k % f as usize == 0 };
            prop_assert_eq!(*rule == Some(102), fires, "event {} of F={}", k, f);
            if fires {
                prop_assert_eq!(*prev, (f as usize - 1).min(11));
            }
        }
    }

    /// Without global_frequency agents are separate: interleaving other
    /// agents' events changes nothing for an agent; with it, they pool.
    #[test]
    fn agents_are_separate_unless_global(f in 3u32..=6, count in 2usize..=30, global in any::<bool>()) {
        let p = Params { frequency: f, timeframe: 1000, same_field: false, global };
        let evs: Vec<Ev> = (0..count).map(|i| Ev { agent: i % 2, hit: true, user: 0, gap: 1 }).collect();
        let out = run_engine(p, &evs);
        let fired: Vec<usize> = out.iter().enumerate().filter(|(_, (r, _))| *r == Some(102)).map(|(i, _)| i + 1).collect();
        let expect: Vec<usize> = if global {
            (1..=count).filter(|k| k % f as usize == 0).collect()
        } else {
            // Agent a's j-th event is event 2j − 1 + a; it fires on its own F-th, 2F-th, …
            (1..=count).filter(|k| {
                let j = k.div_ceil(2);
                j % f as usize == 0
            }).collect()
        };
        prop_assert_eq!(fired, expect);
    }

    /// The window: an event more than `timeframe` seconds after the previous
    /// hit never fires, whatever came before.
    #[test]
    fn stale_events_do_not_count(f in 2u32..=5, tf in 1i64..=60, count in 1usize..=20) {
        let p = Params { frequency: f, timeframe: tf, same_field: false, global: false };
        let evs: Vec<Ev> = (0..count).map(|_| Ev { agent: 0, hit: true, user: 0, gap: tf + 1 }).collect();
        let out = run_engine(p, &evs);
        prop_assert!(out.iter().all(|(r, _)| *r == Some(101)));
    }
}
