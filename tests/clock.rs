//! `--clock`: correlation windows on arrival time or on an event field.

mod common;

use std::sync::Arc;

use logtest::session::{Clock, Session, SessionOptions, Timestamp};
use logtest::Ruleset;

fn failure(time: &str, n: usize) -> Vec<u8> {
    format!(
        "{{\"integration\": \"aws\", \"aws\": {{\"source\": \"cloudtrail\", \"eventSource\": \"signin.amazonaws.com\", \"eventName\": \"ConsoleLogin\", \"eventTime\": \"{time}\", \"eventID\": \"ev-{n}\", \"userIdentity\": {{\"type\": \"IAMUser\", \"userName\": \"alice\"}}, \"responseElements\": {{\"ConsoleLogin\": \"Failure\"}}}}}}"
    )
    .into_bytes()
}

fn ids(clock: Clock, times: &[&str], arrival_step: i64) -> Vec<String> {
    let rs = Arc::new(Ruleset::embedded().unwrap());
    let mut s = Session::new(rs.clone(), SessionOptions { clock, ..common::opts() });
    times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let p = s
                .process(
                    b"Wazuh-AWS",
                    &failure(t, i),
                    Timestamp { secs: 1_700_000_000 + i as i64 * arrival_step, nanos: 0 },
                    false,
                )
                .unwrap();
            rs.rules.rules[p.rule.unwrap()].id.to_string()
        })
        .collect()
}

#[test]
fn event_clock_spreads_a_burst() {
    // Six failures two minutes apart in event time (10 minutes > 360 s), all arriving at once.
    let times = [
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:02:00Z",
        "2024-05-01T10:04:00Z",
        "2024-05-01T10:06:00Z",
        "2024-05-01T10:08:00Z",
        "2024-05-01T10:10:00Z",
    ];
    let arrival = ids(Clock::Arrival, &times, 0);
    assert_eq!(arrival.last().map(String::as_str), Some("80255"), "arrival clock: a burst within the window");
    let event = ids(Clock::EventField(b"aws.eventTime".to_vec()), &times, 0);
    assert!(event.iter().all(|r| r == "80254"), "event clock: spread over 10 minutes, {event:?}");
}

#[test]
fn event_clock_compresses_a_replay() {
    // Six failures within one minute of event time, replayed an hour apart each.
    let times = [
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:10Z",
        "2024-05-01T10:00:20Z",
        "2024-05-01T10:00:30Z",
        "2024-05-01T10:00:40Z",
        "2024-05-01T10:00:50Z",
    ];
    assert!(ids(Clock::Arrival, &times, 3600).iter().all(|r| r == "80254"));
    let event = ids(Clock::EventField(b"aws.eventTime".to_vec()), &times, 3600);
    assert_eq!(event.last().map(String::as_str), Some("80255"));
}

#[test]
fn event_clock_times_going_backwards_are_not_inside_the_window() {
    // Six failures one day apart, in reverse order: no two within 360 s.
    let times = [
        "2024-05-06T10:00:00Z",
        "2024-05-05T10:00:00Z",
        "2024-05-04T10:00:00Z",
        "2024-05-03T10:00:00Z",
        "2024-05-02T10:00:00Z",
        "2024-05-01T10:00:00Z",
    ];
    let event = ids(Clock::EventField(b"aws.eventTime".to_vec()), &times, 0);
    assert!(event.iter().all(|r| r == "80254"), "{event:?}");
}

#[test]
fn event_clock_counts_out_of_order_events_inside_the_window() {
    // A burst within five minutes whose records come out of order (as in a CloudTrail
    // file), one of them older than an event stored after it: all six count.
    let times = [
        "2024-05-01T10:02:00Z",
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:04:00Z",
        "2024-05-01T10:01:00Z",
        "2024-05-01T10:03:00Z",
        "2024-05-01T10:00:30Z",
    ];
    let event = ids(Clock::EventField(b"aws.eventTime".to_vec()), &times, 0);
    assert_eq!(event.last().map(String::as_str), Some("80255"), "{event:?}");
    // A day-old straggler between them neither counts nor hides the others.
    let times = [
        "2024-05-01T10:02:00Z",
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:04:00Z",
        "2024-04-30T10:01:00Z",
        "2024-05-01T10:01:00Z",
        "2024-05-01T10:03:00Z",
        "2024-05-01T10:00:30Z",
    ];
    let event = ids(Clock::EventField(b"aws.eventTime".to_vec()), &times, 0);
    assert_eq!(event.last().map(String::as_str), Some("80255"), "{event:?}");
    assert_eq!(event.iter().filter(|r| *r == "80255").count(), 1, "{event:?}");
}

#[test]
fn invalid_event_times_fall_back_to_arrival() {
    let rs = Arc::new(Ruleset::embedded().unwrap());
    let mut s = Session::new(
        rs.clone(),
        SessionOptions { clock: Clock::EventField(b"aws.eventTime".to_vec()), ..common::opts() },
    );
    let arrival = Timestamp { secs: 1_700_000_000, nanos: 0 };
    for bad in ["2022-13-45T99:99:99Z", "2023-02-29T10:00:00Z", "9999-99-99T00:00:00Z", "yesterday"] {
        let p = s.process(b"Wazuh-AWS", &failure(bad, 0), arrival, false).unwrap();
        assert_eq!(p.time, arrival, "{bad}");
        let alert = logtest::output::alert::alert_json(
            &rs,
            &p,
            &logtest::output::alert::AlertContext { manager_name: b"m", logtest: false, id_suffix: 0 },
        );
        let text = String::from_utf8(alert.to_unformatted()).unwrap();
        assert!(text.starts_with("{\"timestamp\":\"2023-11-14T22:13:20.000+0000\""), "{bad}: {text}");
    }
}
