//! `SymantecWS_Decoder`: Symantec Web Security logs (upstream:
//! plugins/symantecws_decoder.c).
//!
//! A record is `date,time,key=value,key=value,...`, e.g.
//! `20070717,73614,1=5,11=1.2.3.4,1106=News,60=http://news.bbc.co.uk/,10=userX,1000=212.58.240.42,2=27`.
//! The plugin walks the entries from the one after the first comma (upstream
//! means to skip date *and* time, but its second comma search starts on the
//! first comma, so the time field is examined like any entry). At the start
//! of each entry:
//!
//! * `10=` → `dstuser`, `11=` → `srcip`: the value up to the next comma, at
//!   most 128 bytes;
//! * `60=` → `url`: the value up to the next comma, at most 1024 bytes;
//! * `3=` or `2=` → `id`: the next 9 bytes **including the key and any
//!   commas** (`3=1,2=1` gives id `3=1,2=1`; `3=1,2=1,11=...` gives
//!   `3=1,2=1,1`).
//!
//! Each field is set only if the event does not have it yet (so the first
//! entry wins). Every value is consumed even when it is not stored, and the
//! walk goes on from the next comma after what was consumed: after a 9-byte
//! id, entries inside those 9 bytes are skipped. The decoder type is not
//! touched.

use super::find;
use crate::event::{Event, StaticField};

/// Value limits (upstream: `count < 128`, `count < OS_SIZE_1024`, `count < 9`).
const USER_IP_MAX: usize = 128;
const URL_MAX: usize = 1024;
const ID_LEN: usize = 9;

/// Runs the plugin on `ev`'s log.
pub(crate) fn decode(ev: &mut Event) {
    let log = ev.log().to_vec();
    let Some(first_comma) = find(&log, 0, b',') else {
        return;
    };
    let mut next = Some(first_comma + 1);
    while let Some(mut i) = next {
        let entry = &log[i..];
        let keyed: Option<(StaticField, usize, usize)> = if entry.starts_with(b"10=") {
            Some((StaticField::Dstuser, 3, USER_IP_MAX))
        } else if entry.starts_with(b"11=") {
            Some((StaticField::Srcip, 3, USER_IP_MAX))
        } else if entry.starts_with(b"60=") {
            Some((StaticField::Url, 3, URL_MAX))
        } else {
            None
        };
        if let Some((field, key_len, max)) = keyed {
            i += key_len;
            let value: &[u8] = &log[i..];
            let len = value.iter().take(max).position(|&b| b == b',').unwrap_or(value.len().min(max));
            set_once(ev, field, &value[..len]);
            i += len;
        } else if entry.starts_with(b"3=") || entry.starts_with(b"2=") {
            let len = entry.len().min(ID_LEN);
            set_once(ev, StaticField::Id, &entry[..len]);
            i += len;
        }
        next = find(&log, i, b',').map(|c| c + 1);
    }
}

fn set_once(ev: &mut Event, field: StaticField, value: &[u8]) {
    if ev.get_static(field).is_none() {
        ev.set_static(field, value.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{event, pairs, statics};
    use super::*;

    fn run(log: &str) -> Vec<(&'static str, String)> {
        let mut ev = event(log);
        decode(&mut ev);
        statics(&ev)
    }

    // The examples of upstream's symantecws_decoder.c and 0330-symantec_decoders.xml.
    #[test]
    fn upstream_examples() {
        assert_eq!(
            run("20070717,73613,1=5,11=10.1.1.3,10=userc,3=1,2=1"),
            pairs(&[("srcip", "10.1.1.3"), ("dstuser", "userc"), ("id", "3=1,2=1")])
        );
        assert_eq!(
            run("20070717,73614,1=5,11=1.2.3.4,1106=News,60=http://news.bbc.co.uk/,10=userX,1000=212.58.240.42,2=27"),
            pairs(&[("srcip", "1.2.3.4"), ("dstuser", "userX"), ("id", "2=27"), ("url", "http://news.bbc.co.uk/")])
        );
        assert_eq!(
            run("20070717,30517,1=3,41=SWS-3.0.1.86/vendor-config,100=Version 3.0.6,3=7,2=29"),
            pairs(&[("id", "3=7,2=29")])
        );
        assert_eq!(
            run("20070717,73556,1=5,100=Logoff due to timeout.,11=1.2.3.4,10=usera,3=1,2=2"),
            pairs(&[("srcip", "1.2.3.4"), ("dstuser", "usera"), ("id", "3=1,2=2")])
        );
    }

    #[test]
    fn id_swallows_nine_bytes_and_the_entries_inside() {
        // "3=1,2=1,1" is the id; "11=2.3.4.5" starts inside it and is skipped.
        assert_eq!(
            run("20070717,73559,1=5,3=1,2=1,11=2.3.4.5,10=userb"),
            pairs(&[("dstuser", "userb"), ("id", "3=1,2=1,1")])
        );
        // The id ends exactly on a comma: the next entry is read.
        assert_eq!(run("20070717,73559,2=1234567,11=2.3.4.5"), pairs(&[("srcip", "2.3.4.5"), ("id", "2=1234567")]));
    }

    #[test]
    fn the_time_field_is_an_entry() {
        assert_eq!(run("20070717,10=alice,11=1.1.1.1"), pairs(&[("srcip", "1.1.1.1"), ("dstuser", "alice")]));
        // The date is not.
        assert_eq!(run("10=alice,x"), vec![]);
        // No comma at all.
        assert_eq!(run("10=alice"), vec![]);
    }

    #[test]
    fn first_value_wins_and_existing_fields_stay() {
        assert_eq!(
            run("20070717,1,10=a,10=b,11=1.1.1.1,11=2.2.2.2,60=/x,60=/y,2=5,3=6"),
            pairs(&[("srcip", "1.1.1.1"), ("dstuser", "a"), ("id", "2=5,3=6"), ("url", "/x")])
        );
        let mut ev = event("20070717,1,10=bob,11=1.1.1.1");
        ev.set_static(StaticField::Dstuser, Vec::new());
        decode(&mut ev);
        // An empty value is still a value.
        assert_eq!(statics(&ev), pairs(&[("srcip", "1.1.1.1"), ("dstuser", "")]));
    }

    #[test]
    fn empty_and_truncated_values() {
        assert_eq!(run("20070717,1,10=,11="), pairs(&[("srcip", ""), ("dstuser", "")]));
        let long_user = "u".repeat(200);
        let long_url = format!("/{}", "p".repeat(1100));
        let ev = run(&format!("20070717,1,10={long_user}x,11={}y,60={long_url},2=1", "9".repeat(130)));
        assert_eq!(
            ev,
            vec![
                ("srcip", "9".repeat(128)),
                ("dstuser", "u".repeat(128)),
                ("id", "2=1".to_string()),
                ("url", long_url[..1024].to_string()),
            ]
        );
        // A short id at the end of the log.
        assert_eq!(run("20070717,1,3="), pairs(&[("id", "3=")]));
    }
}
