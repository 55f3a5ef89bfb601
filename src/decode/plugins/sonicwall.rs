//! `SonicWall_Decoder`: SonicWall firewall logs (upstream:
//! plugins/sonicwall_decoder.c).
//!
//! Example: `id=firewall sn=000SERIAL time="2007-01-03 14:48:06" fw=1.1.1.1 pri=6 c=262144 m=98 msg="Connection Opened" n=23419 src=2.2.2.2:36701:WAN dst=1.1.1.1:50000:WAN proto=tcp/50000`.
//!
//! Three OS_Regex patterns (the language of decoders, so `.` is a literal
//! dot) run one after the other, each from the previous one's end pointer:
//!
//! 1. The decoder type becomes `syslog`, whatever the decoder says.
//! 2. `pri=(\d) c=(\d+) m=(\d+) ` on the whole log: `status` = pri (one
//!    digit), `id` = m; no match: stop.
//! 3. `src=(\d+.\d+.\d+.\d+):(\d+):\S+ dst=(\d+.\d+.\d+.\d+):(\d+):`:
//!    `srcip`, `srcport`, `dstip`, `dstport`; no match: stop (status and id
//!    stay). If the byte after the first space following the match starts
//!    `proto=`, `protocol` is what follows, up to `/`, the end of the log or 6
//!    bytes (upstream's `isValidChar` is true for every byte but NUL and 0x01,
//!    so `proto=icmp note=...` gives `icmp n`).
//! 4. By category `c` and message id `m`: c=32 → type `ids`; else m 98, 597,
//!    598 → type `firewall`, action `pass`; m 38, 36, 173, 174, 37 → `firewall`,
//!    `drop`; m 537 → `firewall`, `close`; m 97 (proxy) → type `squid`, and
//!    if `result=(\d+) dstname=(\S+) arg=(\S+)$` matches after the protocol,
//!    `id` becomes the result (the HTTP code) and `url` dstname + arg. There
//!    must have been a space after the addresses for that last regex to run.
//!
//! Every value replaces an earlier one.

use std::sync::OnceLock;

use super::find;
use crate::decode::DecoderType;
use crate::event::{Event, StaticField};
use crate::matcher::OsRegex;

const PRI_CAT_MSG: &[u8] = br"pri=(\d) c=(\d+) m=(\d+) ";
const ADDRESSES: &[u8] = br"src=(\d+.\d+.\d+.\d+):(\d+):\S+ dst=(\d+.\d+.\d+.\d+):(\d+):";
const PROXY: &[u8] = br"result=(\d+) dstname=(\S+) arg=(\S+)$";
/// Longest protocol (upstream stops copying at 6 bytes).
const PROTO_MAX: usize = 6;

fn regexes() -> &'static [OsRegex; 3] {
    static RE: OnceLock<[OsRegex; 3]> = OnceLock::new();
    RE.get_or_init(|| {
        [PRI_CAT_MSG, ADDRESSES, PROXY].map(|p| OsRegex::compile(p, true).expect("SonicWall patterns compile"))
    })
}

/// Runs `re` on `log[from..]`. Returns the end pointer as an index into `log`
/// and the captures as slices of `log`; `None` when it does not match or a
/// group is missing (upstream then stops).
fn run<'a>(re: &OsRegex, log: &'a [u8], from: usize, caps: &mut Vec<(usize, usize)>) -> Option<(usize, Vec<&'a [u8]>)> {
    let subject = log.get(from..)?;
    let end = re.exec(subject, caps)?;
    let groups = caps.iter().map(|&(s, e)| subject.get(s..e)).collect::<Option<Vec<_>>>()?;
    // The end pointer can only be -1 for patterns made of `*` runs; not these.
    Some((from + usize::try_from(end).unwrap_or(0), groups))
}

/// Runs the plugin on `ev`'s log. `caps` is scratch space.
pub(crate) fn decode(ev: &mut Event, caps: &mut Vec<(usize, usize)>) {
    ev.decoder_type = DecoderType::Syslog;
    let log = ev.log().to_vec();
    let _ = decode_log(ev, &log, caps);
}

fn decode_log(ev: &mut Event, log: &[u8], caps: &mut Vec<(usize, usize)>) -> Option<()> {
    let [pri_cat_msg, addresses, proxy] = regexes();
    let set = |ev: &mut Event, f: StaticField, v: &[u8]| ev.set_static(f, v.to_vec());

    let (end, g) = run(pri_cat_msg, log, 0, caps)?;
    let [pri, category, msg_id] = g[..] else { return None };
    set(ev, StaticField::Status, pri);
    set(ev, StaticField::Id, msg_id);

    let (end, g) = run(addresses, log, end, caps)?;
    let [srcip, srcport, dstip, dstport] = g[..] else { return None };
    set(ev, StaticField::Srcip, srcip);
    set(ev, StaticField::Srcport, srcport);
    set(ev, StaticField::Dstip, dstip);
    set(ev, StaticField::Dstport, dstport);

    // The cursor for the proxy regex: after the protocol, or after the space.
    let mut cursor = find(log, end, b' ').map(|s| s + 1);
    if let Some(c) = cursor {
        if let Some(rest) = log[c..].strip_prefix(b"proto=") {
            let len =
                rest.iter().take(PROTO_MAX).position(|&b| b == b'/' || b <= 1).unwrap_or(rest.len().min(PROTO_MAX));
            set(ev, StaticField::Protocol, &rest[..len]);
            cursor = Some(c + 6 + len);
        }
    }

    let (dtype, action): (DecoderType, Option<&[u8]>) = match (category, msg_id) {
        (b"32", _) => (DecoderType::Ids, None),
        (_, b"98" | b"597" | b"598") => (DecoderType::Firewall, Some(b"pass")),
        (_, b"38" | b"36" | b"173" | b"174" | b"37") => (DecoderType::Firewall, Some(b"drop")),
        (_, b"537") => (DecoderType::Firewall, Some(b"close")),
        (_, b"97") => (DecoderType::Squid, None),
        _ => return Some(()),
    };
    ev.decoder_type = dtype;
    if let Some(a) = action {
        set(ev, StaticField::Action, a);
    }
    if dtype == DecoderType::Squid {
        let (_, g) = run(proxy, log, cursor?, caps)?;
        let [result, dstname, arg] = g[..] else { return None };
        set(ev, StaticField::Id, result);
        set(ev, StaticField::Url, &[dstname, arg].concat());
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{event, pairs, statics};
    use super::*;

    fn run_on(log: &str) -> (DecoderType, Vec<(&'static str, String)>) {
        let mut ev = event(log);
        ev.decoder_type = DecoderType::Windows;
        decode(&mut ev, &mut Vec::new());
        (ev.decoder_type, statics(&ev))
    }

    // Examples of upstream's sonicwall_decoder.c and 0295-sonicwall_decoders.xml.
    #[test]
    fn connection_opened() {
        let (t, f) = run_on("Jan  3 13:45:36 192.168.5.1 id=firewall sn=000SERIAL time=\"2007-01-03 14:48:06\" fw=1.1.1.1 pri=6 c=262144 m=98 msg=\"Connection Opened\" n=23419 src=2.2.2.2:36701:WAN dst=1.1.1.1:50000:WAN proto=tcp/50000");
        assert_eq!(t, DecoderType::Firewall);
        assert_eq!(
            f,
            pairs(&[
                ("protocol", "tcp"),
                ("action", "pass"),
                ("srcip", "2.2.2.2"),
                ("srcport", "36701"),
                ("dstip", "1.1.1.1"),
                ("dstport", "50000"),
                ("id", "98"),
                ("status", "6"),
            ])
        );
    }

    #[test]
    fn ids_category_and_no_protocol() {
        let (t, f) = run_on("Jan  3 13:45:36 192.168.5.1 id=firewall sn=000SERIAL time=\"2007-01-03 14:48:07\" fw=1.1.1.1 pri=1 c=32 m=30 msg=\"Administrator login denied due to bad credentials\" n=7 src=2.2.2.2:36701:WAN dst=1.1.1.1:50000:WAN");
        assert_eq!(t, DecoderType::Ids);
        assert_eq!(
            f,
            pairs(&[
                ("srcip", "2.2.2.2"),
                ("srcport", "36701"),
                ("dstip", "1.1.1.1"),
                ("dstport", "50000"),
                ("id", "30"),
                ("status", "1"),
            ])
        );
    }

    #[test]
    fn dropped() {
        let (t, f) = run_on("id=firewall sn=00301E0526B1 time=\"2004-04-01 10:39:35\" fw=67.32.44.2 pri=5 c=64 m=36 msg=\"TCP connection dropped\" n=2686 src=67.101.200.27:4507:WAN dst=67.32.44.2:445:LAN rule=0");
        assert_eq!(t, DecoderType::Firewall);
        assert_eq!(
            f,
            pairs(&[
                ("action", "drop"),
                ("srcip", "67.101.200.27"),
                ("srcport", "4507"),
                ("dstip", "67.32.44.2"),
                ("dstport", "445"),
                ("id", "36"),
                ("status", "5"),
            ])
        );
    }

    #[test]
    fn partial_matches() {
        // No port in the addresses (m=1197 NAT mapping): status and id only, type syslog.
        let (t, f) = run_on("id=NSA3600  sn=C0EAE4599999 time=\"2019-02-27 12:55:40 UTC\" fw=2.228.169.242 pri=5 c=0 m=1197 msg=\"NAT Mapping\" n=4748427 src=10.12.14.9::X0-V500 dst=217.56.236.4::X3 proto=icmp note=\"Source: 2.228.169.242, 63130\"");
        assert_eq!(t, DecoderType::Syslog);
        assert_eq!(f, pairs(&[("id", "1197"), ("status", "5")]));
        // pri must be a single digit.
        let (t, f) = run_on("fw=1.1.1.1 pri=10 c=32 m=30 src=2.2.2.2:1:WAN dst=1.1.1.1:2:WAN");
        assert_eq!(t, DecoderType::Syslog);
        assert_eq!(f, vec![]);
    }

    #[test]
    fn protocol_is_cut_at_six_bytes() {
        let (t, f) = run_on("pri=5 c=4 m=537 src=1.2.3.4:5:X0 dst=5.6.7.8:9:X1 proto=icmp note=x");
        assert_eq!(t, DecoderType::Firewall);
        assert_eq!(
            f,
            pairs(&[
                ("protocol", "icmp n"),
                ("action", "close"),
                ("srcip", "1.2.3.4"),
                ("srcport", "5"),
                ("dstip", "5.6.7.8"),
                ("dstport", "9"),
                ("id", "537"),
                ("status", "5"),
            ])
        );
        // Something else than proto= after the addresses.
        let (_, f) = run_on("pri=5 c=4 m=1 src=1.2.3.4:5:X0 dst=5.6.7.8:9:X1 srcMac=00 proto=udp/53");
        assert!(!f.iter().any(|(k, _)| *k == "protocol"));
        // proto= at the very end.
        let (_, f) = run_on("pri=5 c=4 m=1 src=1.2.3.4:5:X0 dst=5.6.7.8:9:X1 proto=");
        assert!(f.contains(&("protocol", String::new())));
    }

    #[test]
    fn proxy_messages() {
        let (t, f) = run_on("pri=6 c=1024 m=97 msg=\"Web site hit\" n=1 src=10.0.0.5:51000:LAN dst=93.184.216.34:80:WAN proto=tcp/http op=1 result=403 dstname=example.com arg=/index.html");
        assert_eq!(t, DecoderType::Squid);
        assert_eq!(
            f,
            pairs(&[
                ("protocol", "tcp"),
                ("srcip", "10.0.0.5"),
                ("srcport", "51000"),
                ("dstip", "93.184.216.34"),
                ("dstport", "80"),
                ("id", "403"),
                ("status", "6"),
                ("url", "example.com/index.html"),
            ])
        );
        // The proxy regex does not match: id stays m.
        let (t, f) =
            run_on("pri=6 c=1024 m=97 src=10.0.0.5:51000:LAN dst=93.184.216.34:80:WAN proto=tcp/http result=403");
        assert_eq!(t, DecoderType::Squid);
        assert!(f.contains(&("id", "97".to_string())));
        // No space after the addresses: nothing more.
        let (t, f) = run_on("pri=6 c=1024 m=97 src=10.0.0.5:51000:LAN dst=93.184.216.34:80:WAN");
        assert_eq!(t, DecoderType::Squid);
        assert!(f.contains(&("id", "97".to_string())));
    }

    #[test]
    fn no_match_makes_the_type_syslog() {
        let (t, f) = run_on("id=firewall sn=1 time=\"x\" fw=1.1.1.1 msg=\"nothing\"");
        assert_eq!(t, DecoderType::Syslog);
        assert_eq!(f, vec![]);
    }
}
