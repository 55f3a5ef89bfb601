//! The catalogue of diagnostic codes. A code names a *kind* of problem and
//! never changes meaning once published (tools filter on it, `--deny` takes
//! it); Wazuh's own message numbers, where it has them, are part of the
//! message, not the code.
//!
//! Letters: `X` XML, `F` files and configuration, `D` decoders, `R` rules,
//! `L` lists, `S` test suites, `K` our own checks of `logtest check`.

use super::Effect;

macro_rules! codes {
    ($($variant:ident = $id:literal, $name:literal, $effect:ident, $summary:literal;)*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(#[doc = $summary] $variant,)*
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The short code, e.g. `R106`.
            pub(crate) fn id(self) -> &'static str {
                match self { $(Code::$variant => $id,)* }
            }

            /// The kebab-case name, e.g. `unknown-if-sid`.
            pub(crate) fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// One line on what the code means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }

            /// What Wazuh does about a problem of this kind (a message may say more).
            pub(crate) fn effect(self) -> Effect {
                match self { $(Code::$variant => Effect::$effect,)* }
            }

            /// The code with this id or name.
            pub fn find(text: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.id().eq_ignore_ascii_case(text) || c.name() == text)
            }
        }
    };
}

codes! {
    XmlSyntax = "X001", "xml-syntax", LoadFails, "The file is not XML that Wazuh's reader accepts (Wazuh: 1226).";
    XmlVariable = "X002", "xml-variable", LoadFails, "A `<var>` definition or a `$variable` reference is wrong.";

    FileUnreadable = "F001", "file-unreadable", LoadFails, "A file cannot be read (permissions, not a regular file, too big).";
    FileMissing = "F002", "file-missing", None, "A configured file does not exist; Wazuh warns and goes on (1103).";
    Config = "F003", "config", LoadFails, "The Wazuh configuration (ossec.conf) or a command-line setting is wrong.";
    FileEmpty = "F004", "file-empty", LoadFails, "A decoder file is empty or holds no element.";

    DecoderStructure = "D001", "decoder-structure", LoadFails, "A decoder file holds something other than `<decoder>` elements, or a decoder's attributes are wrong (1230, 1231).";
    DecoderElement = "D002", "decoder-element", LoadFails, "A decoder has an unknown element, type or plugin (2110).";
    DecoderOrder = "D003", "decoder-order", LoadFails, "A decoder's `<order>` or `<fts>` names a field wrongly, or too many.";
    DecoderConfig = "D004", "decoder-config", LoadFails, "A decoder's options do not fit together (2107, 2108, 2111, 2120).";
    DecoderPattern = "D005", "decoder-pattern", LoadFails, "A decoder's pattern does not compile (1452).";
    DecoderTree = "D006", "decoder-tree", LoadFails, "A child decoder's parent is unknown, or siblings clash (2101-2105).";
    DecoderTooLong = "D007", "decoder-too-long", LoadFails, "A decoder element is longer than Wazuh's 1,023 bytes (1104).";
    DecoderValue = "D101", "decoder-value", None, "A decoder option has an invalid value; Wazuh uses the default (7601-7603).";

    RuleFileStructure = "R001", "rule-file-structure", LoadFails, "A rule file holds something other than `<group name=\"…\">` elements of `<rule>`s.";
    RuleAttribute = "R002", "rule-attribute", LoadFails, "A `<rule>` attribute is missing, unknown or out of range.";
    RuleNoOptions = "R003", "rule-no-options", LoadFails, "A rule has no elements at all.";
    RuleUnknownElement = "R004", "rule-unknown-element", LoadFails, "A rule has an element Wazuh does not know (or one of the case-sensitive ones in the wrong case).";
    RuleValue = "R005", "rule-value", LoadFails, "A rule element has a value Wazuh refuses (time, weekday, address, category, options, list, field...).";
    RulePattern = "R006", "rule-pattern", LoadFails, "A rule's pattern does not compile (5107, 1450).";
    RuleNoDescription = "R007", "rule-no-description", LoadFails, "A rule has no `<description>`.";
    RuleContext = "R008", "rule-context", LoadFails, "A rule uses frequency, same_*/different_*, check_diff or global_frequency without an if_matched_*.";
    RuleTreeTooBig = "R009", "rule-tree-too-big", LoadFails, "Placing the rule would take the rule tree past our bound of positions (rules matching their own if_group/if_level).";
    DuplicateRuleId = "R101", "duplicate-rule-id", RuleDropped, "A rule id is defined twice; the later rule is dropped (7612).";
    OverwriteUnknown = "R102", "overwrite-unknown-id", None, "`overwrite=\"yes\"` on an id no earlier rule has: the rule is loaded as new (7613).";
    RuleAttributeValue = "R103", "rule-attribute-value", None, "An attribute of a rule element has an invalid value; Wazuh uses the default (7600).";
    OverwriteKeeps = "R104", "overwrite-keeps", None, "An overwrite cannot change a rule's placement or correlation target; the original stays (7605).";
    ListNotLoaded = "R105", "list-not-loaded", RuleDropped, "A rule's `<list>` is not a loaded list: the rule is dropped (7616).";
    UnknownIfSid = "R106", "unknown-if-sid", None, "An id of `if_sid` names no earlier rule and is ignored (7617).";
    EmptyIfSid = "R107", "empty-if-sid", RuleDropped, "No id of `if_sid` names an earlier rule: the rule is dropped (7619).";
    InvalidIfSid = "R108", "invalid-if-sid", RuleDropped, "`if_sid` or `if_matched_sid` is not a list of integers: the rule is dropped (7607, 7615, 7618).";
    InvalidIfLevel = "R109", "invalid-if-level", RuleDropped, "`if_level` is invalid or no earlier rule has that level: the rule is dropped (7608, 7609).";
    UnknownIfGroup = "R110", "unknown-if-group", RuleDropped, "No earlier rule is in the `if_group` group: the rule is dropped (7610).";
    NoCategoryRoot = "R111", "no-category-root", RuleDropped, "No root rule of the rule's category exists: the rule is dropped (7611).";
    UnknownIfMatchedSid = "R113", "unknown-if-matched-sid", RuleDropped, "`if_matched_sid` names no earlier rule: the rule is dropped (7620).";
    ValueTooLong = "R114", "value-too-long", None, "A rule value is longer than Wazuh keeps (2,048 bytes); what was gathered is lost (1104).";
    RuleInfo = "R115", "rule-info", None, "An `<info>` element has an invalid attribute.";
    RuleMitre = "R116", "rule-mitre", None, "A `<mitre>` block is empty, mixes formats or is incomplete; Wazuh discards it.";
    DeprecatedOption = "R117", "deprecated-option", None, "A rule uses an option Wazuh no longer supports.";
    RuleNoAlertValue = "R118", "rule-noalert-value", None, "`noalert` is neither 0 nor 1.";
    MitreUnknown = "R119", "mitre-unknown", None, "A rule names a MITRE technique the ATT&CK table lacks.";

    ListUnreadable = "L001", "list-unreadable", None, "A CDB list's file cannot be read.";

    SuiteSyntax = "S001", "suite-syntax", LoadFails, "A test suite file cannot be parsed.";
    SuiteInvalid = "S002", "suite-invalid", LoadFails, "A test suite does not follow the suite format.";
    NoTests = "S003", "no-tests", LoadFails, "No test suite was found where one was asked for.";
    TestFailed = "S101", "test-failed", None, "A test case's expectation did not hold.";
    SnapshotMismatch = "S102", "snapshot-mismatch", None, "A test case's alerts differ from its stored snapshot.";
    SnapshotMissing = "S103", "snapshot-missing", None, "A test case asks for a snapshot that is not stored yet.";
    CoverageLow = "S104", "coverage-low", None, "Rule coverage is below the asked minimum.";

    UnreachableRule = "K001", "unreachable-rule", None, "A rule can never fire: an ancestor requires what it excludes.";
    DuplicateIdAcrossFiles = "K002", "duplicate-id-across-files", None, "The same rule id is defined in two files.";
    UnknownReference = "K003", "unknown-reference", None, "An if_sid, if_matched_sid or if_group names an id or group that no rule has.";
    ListUndeclared = "K004", "list-undeclared", None, "A rule uses a list that ossec.conf does not declare or that is missing on disk.";
    NeverMatches = "K005", "never-matches", None, "A pattern can never match what reaches it.";
    CorrelationNeverFires = "K006", "correlation-never-fires", None, "A correlation rule can never fire.";
    ShadowedDecoder = "K007", "shadowed-decoder", None, "A decoder can never be selected: an earlier sibling takes every event it could.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique() {
        let mut ids: Vec<_> = Code::ALL.iter().map(|c| c.id()).collect();
        let mut names: Vec<_> = Code::ALL.iter().map(|c| c.name()).collect();
        ids.sort();
        names.sort();
        let n = ids.len();
        ids.dedup();
        names.dedup();
        assert_eq!(ids.len(), n);
        assert_eq!(names.len(), n);
        assert_eq!(Code::find("r106"), Some(Code::UnknownIfSid));
        assert_eq!(Code::find("unknown-if-sid"), Some(Code::UnknownIfSid));
    }
}
