//! Our own ruleset, built into the binary (see `build.rs`): the files of
//! `decoders/`, `ruleset/` and `lists/`, named as they would be in a Wazuh
//! home (`ruleset/decoders/…`, `ruleset/rules/…`, `etc/lists/…`).

/// The file tables `build.rs` generates: `DECODERS`, `RULES` and `LISTS`,
/// each `(name, bytes)` in directory order. Private: [`files()`] and [`file()`]
/// are the way in.
mod generated {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

use generated::{DECODERS, LISTS, RULES};

use crate::load::config::{AlertSettings, FileRef, RulesetFiles, Source};

/// The embedded ruleset's file list, in Wazuh's load order.
pub fn files() -> RulesetFiles {
    let mk =
        |(name, bytes): &(&str, &'static [u8])| FileRef { name: name.to_string(), source: Source::Embedded(bytes) };
    let mut decoders: Vec<FileRef> = DECODERS.iter().map(mk).collect();
    let mut rules: Vec<FileRef> = RULES.iter().map(mk).collect();
    decoders.sort_by(|a, b| a.basename().as_bytes().cmp(b.basename().as_bytes()));
    rules.sort_by(|a, b| a.basename().as_bytes().cmp(b.basename().as_bytes()));
    RulesetFiles {
        decoders,
        rules,
        lists: LISTS.iter().map(mk).collect(),
        alerts: AlertSettings::default(),
        origin: "embedded default ruleset".into(),
        adapt_rule_60000: false,
    }
}

/// The bytes of an embedded file, by the name it has in the ruleset.
pub(crate) fn file(name: &str) -> Option<&'static [u8]> {
    DECODERS.iter().chain(RULES.iter()).chain(LISTS.iter()).find(|(n, _)| *n == name).map(|(_, b)| *b)
}
