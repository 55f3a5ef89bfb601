//! The built-in plugin decoders other than JSON (upstream:
//! src/analysisd/decoders/plugins/*.c): `PF_Decoder`, `SymantecWS_Decoder`,
//! `SonicWall_Decoder` and `OSSECAlert_Decoder`.
//!
//! Unlike `JSON_Decoder`, these ignore the `plugin_decoder` offset: they always
//! read the event's whole `log`. They only set static fields (never dynamic
//! ones), and stop silently where their input does not fit, keeping whatever
//! they had set until then. SonicWall and OSSECAlert also change the event's
//! decoder type, which selects the rule roots; OSSECAlert can also rewrite
//! the event's location, hostname and log (see [`ossec_alert`]).
//!
//! Upstream writes that type into the *decoder* (`lf->decoder_info->type`), so
//! it persists for later events decoded with the same decoder info. We set it
//! on the event only. The two differ only when a later event carries that same
//! decoder info without running the plugin, which needs a broken sibling chain
//! around the plugin node and never happens with the stock ruleset. (There,
//! `sonicwall` and the OpenBSD `pf` decoder have children, so their plugins
//! never run at all: a parent with children never runs its own plugin, and
//! the pfSense decoders attach to every top-level decoder named `pf`.)

pub(crate) mod ossec_alert;
pub(crate) mod pf;
pub(crate) mod sonicwall;
pub(crate) mod symantec_ws;

/// `strchr`: the first `byte` at or after `from`.
fn find(s: &[u8], from: usize, byte: u8) -> Option<usize> {
    s.get(from..)?.iter().position(|&b| b == byte).map(|k| from + k)
}

/// Is `s[at]` `byte`? (`None` at the end of the text, upstream's NUL.)
fn expect(s: &[u8], at: usize, byte: u8) -> Option<()> {
    (s.get(at) == Some(&byte)).then_some(())
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::event::{Event, StaticField};
    use crate::predecode::Origin;

    /// An event from `stdin` on the manager.
    pub fn event(log: &str) -> Event {
        let origin = Origin { location: b"stdin".to_vec(), agent_id: b"000".to_vec(), agent_hostname: None };
        Event::new(origin, log.as_bytes().to_vec())
    }

    /// The static fields that are set, as `(name, value)` strings.
    pub fn statics(ev: &Event) -> Vec<(&'static str, String)> {
        StaticField::ALL
            .iter()
            .filter_map(|&f| ev.get_static(f).map(|v| (f.name(), String::from_utf8_lossy(v).into_owned())))
            .collect()
    }

    /// `[(name, value)]` from string pairs.
    pub fn pairs(p: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        p.iter().map(|&(k, v)| (k, v.to_string())).collect()
    }
}

/// No input makes a plugin panic: every prefix of realistic lines, and those
/// prefixes with each byte replaced by the separators the plugins look for.
#[cfg(test)]
mod robustness_tests {
    use super::test_util::event;
    use std::collections::HashMap;

    #[test]
    fn truncated_and_mangled_lines() {
        let lines: &[&str] = &[
            "rule 2/(match) pass in on xl0: 140.211.166.3.6667 > 192.168.2.10.16290: P 7408:7677(269) ack",
            "20070717,73614,1=5,11=1.2.3.4,60=http://news.bbc.co.uk/,10=userX,3=1,2=27",
            "pri=6 c=1024 m=97 src=10.0.0.5:51000:LAN dst=93.184.216.34:80:WAN proto=tcp/http result=403 dstname=e.com arg=/i",
            "ossec: Alert Level: 3; Rule: 5715 - d; Location: (web1) 10.0.0.2->/x; srcip: 1.1.1.1; user: root;  log",
        ];
        let rules: HashMap<u32, crate::index::RuleIdx> = [(5715, crate::index::Idx::new(0))].into_iter().collect();
        let mut caps = Vec::new();
        for line in lines {
            let b = line.as_bytes();
            for n in 0..=b.len() {
                let mut variants = vec![b[..n].to_vec()];
                for sep in [b' ', b':', b';', b',', b')', b'>', b'.', b'/', b'=', 0x01] {
                    for k in 0..n {
                        let mut v = b[..n].to_vec();
                        v[k] = sep;
                        variants.push(v);
                    }
                }
                for v in variants {
                    let text = String::from_utf8_lossy(&v).into_owned();
                    let mut ev = event(&text);
                    super::pf::decode(&mut ev);
                    super::symantec_ws::decode(&mut ev);
                    super::sonicwall::decode(&mut ev, &mut caps);
                    super::ossec_alert::decode(&mut ev, Some(&rules));
                    super::ossec_alert::decode(&mut ev, None);
                }
            }
        }
    }
}

/// The plugins behind the loader, the decoder tree and rule evaluation.
#[cfg(test)]
mod pipeline_tests {
    use super::test_util::{event, pairs, statics};
    use crate::correlate::Correlation;
    use crate::decode::{DecoderType, Decoders, Plugin, Scratch};
    use crate::event::{Event, FieldNames};
    use crate::load::decoders::DecoderLoader;
    use crate::load::rules::RuleLoader;
    use crate::rules::eval::{evaluate, Ctx};
    use crate::rules::RuleTree;

    // Shaped like the stock ruleset's decoders of these plugins.
    const DECODERS: &str = r#"
<decoder name="pf">
  <type>firewall</type>
  <program_name>^pf$</program_name>
  <plugin_decoder>PF_Decoder</plugin_decoder>
</decoder>
<decoder name="sonicwall">
  <plugin_decoder>SonicWall_Decoder</plugin_decoder>
  <prematch>^\s*id=\w+\s+sn=\w+\s+time="\.+"\s+fw=\S+ </prematch>
</decoder>
<decoder name="symantec-websecurity">
  <prematch>^\d\d\d\d\d\d\d\d,\d\d\d+,</prematch>
  <plugin_decoder>SymantecWS_Decoder</plugin_decoder>
</decoder>
<decoder name="ossec">
  <prematch>^ossec: </prematch>
  <type>ossec</type>
</decoder>
<decoder name="ossec-alert1">
  <parent>ossec</parent>
  <prematch>^ossec: Alert Level:</prematch>
  <plugin_decoder>OSSECAlert_Decoder</plugin_decoder>
</decoder>
<decoder name="ossec-alert">
  <program_name>^ossec$</program_name>
  <plugin_decoder>OSSECAlert_Decoder</plugin_decoder>
</decoder>
"#;

    const RULES: &str = r#"
<group name="test,">
  <rule id="1" level="0" noalert="1">
    <category>syslog</category>
    <description>Syslog root</description>
  </rule>
  <rule id="2" level="0" noalert="1">
    <category>ossec</category>
    <description>OSSEC root</description>
  </rule>
  <rule id="100" level="2">
    <match>Alert Level</match>
    <description>Would match the forwarded text</description>
  </rule>
  <rule id="101" level="3">
    <category>ossec</category>
    <match>Alert Level</match>
    <description>Would match the forwarded text too</description>
  </rule>
  <rule id="5715" level="3">
    <match>^nothing matches this$</match>
    <description>sshd: authentication success.</description>
  </rule>
</group>
"#;

    fn decoders(extra: &str) -> Decoders {
        let mut dl = DecoderLoader::new();
        dl.load_file(
            &crate::diagnostics::SourceFile::new("test_decoders.xml", None),
            format!("{DECODERS}{extra}").as_bytes(),
        )
        .unwrap();
        let (set, diagnostics) = dl.finish();
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        set
    }

    fn rules(decoders: &Decoders) -> RuleTree {
        let mut fields = FieldNames::default();
        let no_lists = crate::index::IdxVec::new();
        let mut rl = RuleLoader::new(decoders, &no_lists, &mut fields, 12);
        rl.load_file(&crate::diagnostics::SourceFile::new("test_rules.xml", None), RULES.as_bytes()).unwrap();
        let (tree, diagnostics) = rl.finish();
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        tree
    }

    fn name(d: &Decoders, ev: &Event) -> String {
        String::from_utf8_lossy(&d.info(ev).unwrap().name).into_owned()
    }

    /// The rule id evaluation returns, and its firedtimes.
    fn evaluate_rule(d: &Decoders, tree: &RuleTree, ev: &Event) -> Option<(u32, u32)> {
        let mut corr = Correlation::new(tree.rules.len(), tree.max_freq, 16);
        let fields = crate::event::FieldNames::default();
        let lists = crate::index::IdxVec::new();
        let mut lower = Vec::new();
        let mut ctx = Ctx {
            tree,
            fields: &fields,
            decoders: d,
            lists: &lists,
            ev,
            decoder_hash: crate::rules::eval::decoder_hash(d, ev),
            lower_log: crate::rules::eval::LowerLog::new(&mut lower),
            now: 0,
            hhmm: *b"12:00",
            weekday: 1,
        };
        let out = evaluate(&mut ctx, &mut corr, &mut crate::rules::trace::NoTrace);
        out.rule.map(|ri| (tree.rules[ri].id, out.firedtimes))
    }

    #[test]
    fn plugin_names() {
        let d = decoders("");
        let plugins: Vec<_> = d.nodes.iter().filter_map(|n| n.plugin).collect();
        assert_eq!(
            plugins,
            [Plugin::Pf, Plugin::SonicWall, Plugin::SymantecWs, Plugin::OssecAlert, Plugin::OssecAlert]
        );
        let mut dl = DecoderLoader::new();
        let bad = dl.load_file(
            &crate::diagnostics::SourceFile::new("x.xml", None),
            b"<decoder name=\"x\"><prematch>a</prematch><plugin_decoder>pf_decoder</plugin_decoder></decoder>",
        );
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("(2110): Invalid decoder argument for plugin_decoder: 'pf_decoder'."));
    }

    #[test]
    fn plugins_run_from_the_tree() {
        let d = decoders("");
        let mut scratch = Scratch::default();
        let mut ev = event("Mar 30 15:54:22 enigma pf: Mar 30 15:54:22.171929 rule 3/(match) pass out on xl0: 192.168.2.10.1514 > 192.168.2.190.1030:  udp 73");
        d.decode(&mut ev, &mut scratch);
        assert_eq!(name(&d, &ev), "pf");
        assert_eq!(ev.decoder_type, DecoderType::Firewall);
        assert_eq!(statics(&ev).len(), 6);

        let mut ev =
            event("20070717,73614,1=5,11=1.2.3.4,1106=News,60=http://news.bbc.co.uk/,10=userX,1000=212.58.240.42,2=27");
        d.decode(&mut ev, &mut scratch);
        assert_eq!(name(&d, &ev), "symantec-websecurity");
        assert_eq!(
            statics(&ev),
            pairs(&[("srcip", "1.2.3.4"), ("dstuser", "userX"), ("id", "2=27"), ("url", "http://news.bbc.co.uk/")])
        );

        let mut ev = event("id=firewall sn=00301E0526B1 time=\"2004-04-01 10:39:35\" fw=67.32.44.2 pri=5 c=64 m=36 msg=\"TCP connection dropped\" n=2686 src=67.101.200.27:4507:WAN dst=67.32.44.2:445:LAN rule=0");
        d.decode(&mut ev, &mut scratch);
        assert_eq!(name(&d, &ev), "sonicwall");
        assert_eq!(ev.decoder_type, DecoderType::Firewall);
        assert_eq!(statics(&ev)[0], ("action", "drop".to_string()));
    }

    #[test]
    fn a_parent_with_children_never_runs_its_plugin() {
        // As in the stock ruleset, where the pfSense decoders attach to every `pf`.
        let d = decoders(
            r#"<decoder name="pf-fields"><parent>pf</parent><regex>^(\w+) </regex><order>extra_data</order></decoder>"#,
        );
        let mut ev = event("Mar 30 15:54:22 enigma pf: Mar 30 15:54:22.171929 rule 3/(match) pass out on xl0: 192.168.2.10.1514 > 192.168.2.190.1030:  udp 73");
        d.decode(&mut ev, &mut Scratch::default());
        assert_eq!(name(&d, &ev), "pf");
        assert_eq!(statics(&ev), pairs(&[("extra_data", "Mar")]));
    }

    const ALERT: &str = "ossec: Alert Level: 3; Rule: 5715 - sshd: authentication success.; Location: (web1) 10.0.0.2->/var/log/secure; srcip: 10.0.0.5; user: root;  Dec 29 10:00:01 web1 sshd[1234]: Accepted password for root from 10.0.0.5 port 22 ssh2";

    #[test]
    fn forwarded_alert_under_logtest_gets_no_rule() {
        let d = decoders("");
        let tree = rules(&d);
        // `ossec-alert1` has no use_own_name: it is reported as its parent `ossec`.
        for (log, decoder) in
            [(ALERT.to_string(), "ossec"), (format!("Dec 29 10:00:02 manager1 {ALERT}"), "ossec-alert")]
        {
            let mut ev = event(&log);
            d.decode(&mut ev, &mut Scratch::default());
            assert_eq!(name(&d, &ev), decoder);
            assert_eq!(ev.decoder_type, DecoderType::OssecAlert);
            assert_eq!(ev.forwarded_rule, None);
            assert_eq!(statics(&ev), vec![]);
            assert_eq!(ev.full_log, log.as_bytes());
            // Rules 100 and 101 would match the text, but no root has this type.
            assert_eq!(evaluate_rule(&d, &tree, &ev), None);
            let mut as_syslog = ev.clone();
            as_syslog.decoder_type = DecoderType::Syslog;
            assert_eq!(evaluate_rule(&d, &tree, &as_syslog), Some((100, 1)));
        }
    }

    #[test]
    fn forwarded_alert_under_analysisd_reuses_the_rule() {
        let d = decoders("");
        let tree = rules(&d);
        let mut ev = event(ALERT);
        d.decode_with_rules(&mut ev, &mut Scratch::default(), Some(&tree.by_id));
        assert_eq!(name(&d, &ev), "ossec");
        assert_eq!(ev.forwarded_rule, Some(5715));
        assert_eq!(ev.location, b"stdin|(web1) 10.0.0.2->/var/log/secure");
        assert_eq!(statics(&ev), pairs(&[("srcip", "10.0.0.5"), ("dstuser", "root")]));
        // Reported without matching and without a firedtime (upstream omits `firedtimes`).
        assert_eq!(evaluate_rule(&d, &tree, &ev), Some((5715, 0)));

        // An id the ruleset does not have: no rule at all.
        let mut ev = event(&ALERT.replace("5715", "5716"));
        d.decode_with_rules(&mut ev, &mut Scratch::default(), Some(&tree.by_id));
        assert_eq!(ev.forwarded_rule, None);
        assert_eq!(evaluate_rule(&d, &tree, &ev), None);
    }
}
