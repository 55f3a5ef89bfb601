//! `PF_Decoder`: OpenBSD pf logs (upstream: plugins/pf_decoder.c).
//!
//! The log (after the syslog header) looks like
//! `Mar 30 15:54:22.171929 rule 3/(match) pass out on xl0: 192.168.2.10.1514 > 192.168.2.190.1030:  udp 73`.
//! Fields are read left to right and the plugin stops at the first thing that
//! does not fit, keeping what it has set so far:
//!
//! 1. `action`: the first `)` must be followed by a space; the next byte gives
//!    `pass` (`p`) or `block` (`b`); anything else stops (nothing set).
//! 2. `srcip`/`srcport`: after the next `:`, which must be followed by a space,
//!    the text up to the next space (none: stop). If it has four dots, the part
//!    after the fourth is `srcport` (`1.2.3.4.80` → `1.2.3.4` and `80`);
//!    otherwise it is all `srcip` and there is no `srcport`.
//! 3. That space must be followed by `> `, else stop.
//! 4. `dstip`/`dstport`: the text up to the next `:` (none: stop), split the
//!    same way.
//! 5. `protocol`: the first non-space byte after that `:` gives `UDP` (`u`),
//!    `ICMP` (`i`) or `TCP` (anything else, e.g. the TCP flags `S`, `P`,
//!    `.`); none when the log ends there.
//!
//! Every value replaces an earlier one. The decoder type is not touched.

use super::{expect, find};
use crate::event::{Event, StaticField};

/// What the plugin found, in the order it finds it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Found<'a> {
    action: Option<&'static [u8]>,
    srcip: Option<&'a [u8]>,
    srcport: Option<&'a [u8]>,
    dstip: Option<&'a [u8]>,
    dstport: Option<&'a [u8]>,
    protocol: Option<&'static [u8]>,
}

/// Runs the plugin on `ev`'s log.
pub(crate) fn decode(ev: &mut Event) {
    let log = ev.log().to_vec();
    let mut found = Found::default();
    let _ = parse(&log, &mut found);
    let values = [
        (StaticField::Action, found.action),
        (StaticField::Srcip, found.srcip),
        (StaticField::Srcport, found.srcport),
        (StaticField::Dstip, found.dstip),
        (StaticField::Dstport, found.dstport),
        (StaticField::Protocol, found.protocol),
    ];
    for (field, value) in values {
        if let Some(v) = value {
            ev.set_static(field, v.to_vec());
        }
    }
}

/// Fills `out` as far as the log allows (`None` = upstream's early return).
fn parse<'a>(log: &'a [u8], out: &mut Found<'a>) -> Option<()> {
    // "... rule 3/(match) pass out on xl0: ..."
    let mut i = find(log, 0, b')')? + 1;
    expect(log, i, b' ')?;
    i += 1;
    out.action = Some(match log.get(i)? {
        b'p' => b"pass",
        b'b' => b"block",
        _ => return None,
    });

    // "...: 192.168.2.10.1514 > ..."
    i = find(log, i, b':')? + 1;
    expect(log, i, b' ')?;
    i += 1;
    let space = find(log, i, b' ')?;
    let (ip, port) = split_port(&log[i..space]);
    out.srcip = Some(ip);
    out.srcport = port;

    i = space + 1;
    expect(log, i, b'>')?;
    expect(log, i + 1, b' ')?;
    i += 2;

    // "192.168.2.190.1030:  udp 73"
    let colon = find(log, i, b':')?;
    let (ip, port) = split_port(&log[i..colon]);
    out.dstip = Some(ip);
    out.dstport = port;

    let first = log[colon + 1..].iter().find(|&&b| b != b' ');
    out.protocol = first.map(|&b| -> &'static [u8] {
        match b {
            b'u' => b"UDP",
            b'i' => b"ICMP",
            _ => b"TCP",
        }
    });
    Some(())
}

/// `a.b.c.d.port` → (`a.b.c.d`, `port`): cut at the fourth dot, if any.
fn split_port(addr: &[u8]) -> (&[u8], Option<&[u8]>) {
    match addr.iter().enumerate().filter(|&(_, &b)| b == b'.').nth(3) {
        Some((k, _)) => (&addr[..k], Some(&addr[k + 1..])),
        None => (addr, None),
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

    // The examples of upstream's pf_decoder.c and 0180-openbsd_decoders.xml.
    #[test]
    fn tcp_with_syslog_header() {
        let mut ev = event(
            "Mar 30 15:33:26 enigma pf: Mar 30 15:32:33.483712 rule 2/(match) pass in on xl0: 140.211.166.3.6667 > 192.168.2.10.16290: P 7408:7677(269) ack 1773 win 2520 <nop,nop,timestamp 3960674784 2860123562> (DF)",
        );
        assert_eq!(ev.program_name(), Some(&b"pf"[..]));
        decode(&mut ev);
        assert_eq!(
            statics(&ev),
            pairs(&[
                ("protocol", "TCP"),
                ("action", "pass"),
                ("srcip", "140.211.166.3"),
                ("srcport", "6667"),
                ("dstip", "192.168.2.10"),
                ("dstport", "16290"),
            ])
        );
    }

    #[test]
    fn block_udp_icmp() {
        assert_eq!(
            run("Mar 30 15:47:05.522341 rule 4/(match) block in on lo0: 127.0.0.1.48784 > 127.0.0.1.23: S 1381529123:1381529123(0) win 16384 <mss 33184,nop,nop,sackOK,nop,wscale 0,[|tcp]> (DF) [tos 0x10]"),
            pairs(&[
                ("protocol", "TCP"),
                ("action", "block"),
                ("srcip", "127.0.0.1"),
                ("srcport", "48784"),
                ("dstip", "127.0.0.1"),
                ("dstport", "23"),
            ])
        );
        assert_eq!(
            run("Mar 30 15:54:22.171929 rule 3/(match) pass out on xl0: 192.168.2.10.1514 > 192.168.2.190.1030:  udp 73"),
            pairs(&[
                ("protocol", "UDP"),
                ("action", "pass"),
                ("srcip", "192.168.2.10"),
                ("srcport", "1514"),
                ("dstip", "192.168.2.190"),
                ("dstport", "1030"),
            ])
        );
        // No ports: four-part addresses stay whole.
        assert_eq!(
            run("Mar 30 17:47:40.390143 rule 2/(match) pass in on lo0: 127.0.0.1 > 127.0.0.1: icmp: echo reply"),
            pairs(&[("protocol", "ICMP"), ("action", "pass"), ("srcip", "127.0.0.1"), ("dstip", "127.0.0.1")])
        );
    }

    #[test]
    fn stops_where_the_log_stops_fitting() {
        // No ')' / no space after it / unknown action: nothing.
        assert_eq!(run("rule 3 pass out on xl0: 1.2.3.4.5 > 5.6.7.8.9: udp"), vec![]);
        assert_eq!(run("rule 3/(match)pass out on xl0: 1.2.3.4.5 > 5.6.7.8.9: udp"), vec![]);
        assert_eq!(run("rule 3/(match) drop out on xl0: 1.2.3.4.5 > 5.6.7.8.9: udp"), vec![]);
        // Only the first byte of the action counts.
        assert_eq!(run("rule 3/(match) pxyz"), pairs(&[("action", "pass")]));
        assert_eq!(run("rule 3/(match) block in on xl0:"), pairs(&[("action", "block")]));
        assert_eq!(run("rule 3/(match) block in on xl0:x 1.2.3.4 > 5.6.7.8: udp"), pairs(&[("action", "block")]));
        // Source without a following space.
        assert_eq!(run("rule 3/(match) block in on xl0: 1.2.3.4.5"), pairs(&[("action", "block")]));
        // Source kept even when "> " does not follow.
        assert_eq!(
            run("rule 3/(match) block in on xl0: 1.2.3.4.5 < 5.6.7.8.9: udp"),
            pairs(&[("action", "block"), ("srcip", "1.2.3.4"), ("srcport", "5")])
        );
        assert_eq!(
            run("rule 3/(match) block in on xl0: 1.2.3.4.5 >"),
            pairs(&[("action", "block"), ("srcip", "1.2.3.4"), ("srcport", "5")])
        );
        // No ':' after the destination.
        assert_eq!(
            run("rule 3/(match) block in on xl0: 1.2.3.4.5 > 5.6.7.8.9 udp"),
            pairs(&[("action", "block"), ("srcip", "1.2.3.4"), ("srcport", "5")])
        );
        // Nothing after the destination's ':': no protocol.
        assert_eq!(
            run("rule 3/(match) block in on xl0: 1.2.3.4.5 > 5.6.7.8.9:   "),
            pairs(&[
                ("action", "block"),
                ("srcip", "1.2.3.4"),
                ("srcport", "5"),
                ("dstip", "5.6.7.8"),
                ("dstport", "9")
            ])
        );
    }

    #[test]
    fn odd_addresses() {
        // Empty source (two spaces), more than four dots, IPv6 (the first ':' ends it).
        assert_eq!(
            run("x) pass on em0:  > 1.2.3.4.5.6.7: Udp"),
            pairs(&[
                ("protocol", "TCP"),
                ("action", "pass"),
                ("srcip", ""),
                ("dstip", "1.2.3.4"),
                ("dstport", "5.6.7")
            ])
        );
        assert_eq!(
            run("x) pass on em0: fe80::1.546 > ff02::1:2.547: udp"),
            pairs(&[("protocol", "TCP"), ("action", "pass"), ("srcip", "fe80::1.546"), ("dstip", "ff02")])
        );
    }

    #[test]
    fn overwrites_earlier_values() {
        let mut ev = event("x) block on em0: 1.2.3.4 > 5.6.7.8: icmp");
        ev.set_static(StaticField::Action, b"old".to_vec());
        ev.set_static(StaticField::Srcport, b"99".to_vec());
        decode(&mut ev);
        assert_eq!(ev.get_static(StaticField::Action), Some(&b"block"[..]));
        // No port in the log: the earlier one stays.
        assert_eq!(ev.get_static(StaticField::Srcport), Some(&b"99"[..]));
    }
}
