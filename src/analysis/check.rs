//! `logtest check`'s findings over a loaded ruleset: Wazuh's own load
//! messages, made easier to act on (where the rule it missed is, whether a
//! list is declared), and our analyses Wazuh lacks.

use crate::analysis::decoders::shadowed_decoders;
use crate::analysis::patterns::never_matching_patterns;
use crate::analysis::reach::{unreachable_rules, Why};
use crate::diagnostics::{Code, Diagnostic, Severity, Span};
use crate::Ruleset;

/// The stored-event list holds at most this many events (`memory_size`).
const MEMORY_SIZE: u32 = 8192;

/// The first `'…'`-quoted text after `after` in a Wazuh message.
fn quoted_after<'a>(msg: &'a str, after: &str) -> Option<&'a str> {
    let rest = &msg[msg.find(after)? + after.len()..];
    let start = rest.find('\'')? + 1;
    let len = rest[start..].find('\'')?;
    Some(&rest[start..start + len])
}

fn at(span: &Span) -> String {
    if span.line > 0 {
        format!("{}:{}", span.file, span.line)
    } else {
        span.file.to_string()
    }
}

/// Wazuh's load messages with help added where we know more.
pub fn explained(rs: &Ruleset, declared_lists: &[String]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for d in &rs.diagnostics {
        let mut d = d.clone();
        match d.code {
            Code::DuplicateRuleId => {
                if let Some(r) =
                    quoted_after(&d.message, "Rule ID").and_then(|id| id.parse().ok()).and_then(|id| rs.rules.rule(id))
                {
                    d = d.help(format!(
                        "rule {} is first defined at {}; this later definition is dropped. To change the first one \
                         instead, give this rule overwrite=\"yes\": it then replaces the conditions, level and \
                         description of the first, keeping its place in the tree.",
                        r.id,
                        at(&r.span)
                    ));
                }
            }
            Code::UnknownIfSid | Code::UnknownIfMatchedSid => {
                let id = quoted_after(&d.message, "Signature ID").and_then(|id| id.parse::<u32>().ok());
                if let Some(r) = id.and_then(|id| rs.rules.rule(id)) {
                    d = d.help(format!(
                        "rule {} exists, but is loaded later ({}): a rule can only name rules loaded before it \
                         (files load in the order of their names)",
                        r.id,
                        at(&r.span)
                    ));
                } else if let Some(id) = id {
                    d = d.help(format!("no rule has id {id} in this ruleset"));
                }
            }
            Code::ListNotLoaded => {
                if let Some(path) = quoted_after(&d.message, "List").map(str::to_string) {
                    let path = path.as_str();
                    let base = path.split(".cdb").next().unwrap_or(path);
                    let declared = declared_lists.iter().any(|l| l == base || l.split(".cdb").next() == Some(base));
                    d = d.help(if declared {
                        format!("'{path}' is declared in ossec.conf, but its file could not be read (see the warning about it)")
                    } else {
                        format!("'{path}' is not declared in ossec.conf: add <list>{base}</list> to its <ruleset> (or pass --lists)")
                    });
                }
            }
            _ => {}
        }
        out.push(d);
    }
    out
}

/// Our own analyses: rules that can never fire, correlation that can never
/// fire, decoders never selected, patterns that can never match.
pub fn analyses(rs: &Ruleset) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let rules = &rs.rules.rules;
    for u in unreachable_rules(rs) {
        let r = &rules[u.rule];
        let (code, msg) = match &u.why {
            Why::NoAlert => continue,
            Why::ListExcludes { pinned_by, field, list } => {
                let by = &rules[*pinned_by];
                let list_name = rs.lists.get(*list).map_or("?", |l| l.name.as_str());
                let field = String::from_utf8_lossy(rs.fields.name(*field)).into_owned();
                let how = if *pinned_by == u.rule { "its own".to_string() } else { format!("rule {}'s", by.id) };
                (
                    Code::UnreachableRule,
                    format!(
                        "rule {} can never fire: {how} <list field=\"{field}\" lookup=\"match_key\"> over {list_name} \
                         (at {}) requires {field} to be a key of that list, and no key of it passes rule {}'s \
                         conditions on {field}",
                        r.id,
                        at(&by.span),
                        r.id
                    ),
                )
            }
            Why::BelowUnreachable(parent) => (
                Code::UnreachableRule,
                format!(
                    "rule {} can never fire: it only runs below rule {}, which can never match",
                    r.id, rules[*parent].id
                ),
            ),
            Why::CorrelationTarget(None) => (
                Code::CorrelationNeverFires,
                format!("rule {} can never fire: its if_matched_sid names no rule loaded before it", r.id),
            ),
            Why::CorrelationTarget(Some(t)) => {
                let t = &rules[*t];
                let why = if t.level == 0 {
                    "has level 0, and events of level-0 rules are not kept for correlation".to_string()
                } else {
                    "can never be an event's final rule".to_string()
                };
                (
                    Code::CorrelationNeverFires,
                    format!("rule {} can never fire: its if_matched_sid {} {why}", r.id, t.id),
                )
            }
        };
        out.push(Diagnostic::ours(code, Severity::Warning, msg).at(r.span.clone()).rule(r.id));
    }
    for r in rules.iter() {
        if r.frequency > MEMORY_SIZE {
            out.push(
                Diagnostic::ours(
                    Code::CorrelationNeverFires,
                    Severity::Warning,
                    format!(
                        "rule {} can never fire: frequency {} needs more earlier events than the {MEMORY_SIZE} \
                         analysisd keeps (memory_size)",
                        r.id, r.frequency
                    ),
                )
                .at(r.span.clone())
                .rule(r.id),
            );
        }
    }
    for s in shadowed_decoders(rs) {
        let d = &rs.decoders.nodes[s.decoder];
        let by = &rs.decoders.nodes[s.by];
        let name = String::from_utf8_lossy(&d.original_name);
        let by_name = String::from_utf8_lossy(&by.original_name);
        out.push(
            Diagnostic::ours(
                Code::ShadowedDecoder,
                Severity::Warning,
                format!(
                    "decoder '{name}' can never be selected: the earlier decoder '{by_name}' ({}) takes every event it could",
                    at(&by.span)
                ),
            )
            .at(d.span.clone())
            .decoder(&d.original_name),
        );
    }
    out.extend(never_matching_patterns(rs));
    out
}

/// Whether a file holds decoders (else rules): its first element.
pub fn is_decoder_file(p: &std::path::Path) -> bool {
    let Ok(bytes) = crate::load::config::read_regular_file(p, 1 << 20) else { return false };
    let text = String::from_utf8_lossy(&bytes);
    let first = |tag: &str| text.find(tag).unwrap_or(usize::MAX);
    first("<decoder") < first("<group")
}

/// What Wazuh does when a file stops the load (what `wazuh-analysisd -t`
/// prints as CRITICAL, and a logtest session's answer).
fn consequence(d: &Diagnostic, decoder_files: &[String]) -> String {
    let file = d.span.as_ref().map(|s| s.file.to_string()).unwrap_or_default();
    let critical = if decoder_files.contains(&file) {
        format!("(1202): Configuration error at '{file}'.")
    } else {
        format!("(1220): Error loading the rules: '{file}'.")
    };
    format!(
        "Wazuh refuses this ruleset: wazuh-analysisd stops with CRITICAL: {critical}; a logtest session answers \
         ERROR: (7311): Failure to initializing session"
    )
}

/// Whether Wazuh loses something over a finding: a rule or the ruleset, or
/// (an `ERROR:` message) every logtest request.
pub fn is_error(d: &Diagnostic) -> bool {
    d.effect != crate::diagnostics::Effect::None || matches!(d.severity, Severity::Error | Severity::Fatal)
}

/// The finding as `check` shows it: a Wazuh warning that costs a rule is an
/// error here, and says what Wazuh calls it.
pub fn as_shown(d: &Diagnostic) -> Diagnostic {
    let mut d = d.clone();
    if is_error(&d) && d.severity < Severity::Error {
        d.severity = Severity::Error;
        let note = if d.effect == crate::diagnostics::Effect::RuleDropped {
            "Wazuh logs this as a WARNING and loads the rest without the rule"
        } else {
            "Wazuh logs this as a WARNING"
        };
        d.help = Some(match d.help.take() {
            Some(h) => format!("{h}\n{note}"),
            None => note.to_string(),
        });
    }
    d
}

/// Loads the ruleset and gathers every finding, in load order then ours.
pub fn check(files: &crate::load::config::RulesetFiles, mitre: &crate::mitre::MitreDb) -> Vec<Diagnostic> {
    let decoder_files: Vec<String> = files.decoders.iter().map(|f| f.name.clone()).collect();
    let declared: Vec<String> = files.lists.iter().map(|f| f.name.clone()).collect();
    match Ruleset::load(files, mitre) {
        Ok(rs) => {
            let mut v = explained(&rs, &declared);
            v.extend(analyses(&rs));
            v
        }
        Err(f) => {
            let mut v = f.diagnostics.clone();
            let mut fatal = f.error.diagnostic().clone();
            let note = consequence(&fatal, &decoder_files);
            fatal.help = Some(match fatal.help.take() {
                Some(h) => format!("{h}\n{note}"),
                None => note,
            });
            v.push(fatal);
            v
        }
    }
}
