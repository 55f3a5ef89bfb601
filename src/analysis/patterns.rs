//! Patterns Wazuh can never match because of a byte of 0x80 or above: upstream's OS_Regex
//! literal step and OS_Match substring test compare the pattern's signed `char` with an
//! unsigned subject byte (see `matcher::os_regex` and `matcher::os_match`), so `<match>contraseña`
//! never matches "contraseña". Found by the `os_regex_diff` fuzz target; nothing in Wazuh warns.

use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::matcher::Matcher;
use crate::rules::Cond;
use crate::Ruleset;

/// The pattern text and the first character of 0x80 or above in it.
fn first_non_ascii(pattern: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(pattern).into_owned();
    let ch = text.chars().find(|c| !c.is_ascii()).map(String::from).unwrap_or_default();
    (text, ch)
}

/// What to say about `m` in `element`, if some of its alternatives can never match.
fn finding(element: &str, m: &Matcher, negate: bool) -> Option<(String, &'static str)> {
    let (dead, total) = m.dead_alternatives();
    if dead == 0 {
        return None;
    }
    let (text, ch) = first_non_ascii(m.pattern());
    let language = match m {
        Matcher::OsMatch(_) => "OS_Match",
        _ => "OS_Regex",
    };
    let what = if dead < total {
        format!("{dead} of the {total} alternatives of {element} '{text}' can never match")
    } else if negate {
        format!(
            "{element} '{text}' (negate=\"yes\") is always true when the value is present: the pattern can never match"
        )
    } else {
        format!("{element} '{text}' can never match")
    };
    let why = format!(
        "{what}: Wazuh's {language} compares '{ch}' (a byte of 0x80 or above) as a signed char, which \
         never equals a byte of the log, so the text is never found, not even in itself"
    );
    let help = match m {
        Matcher::OsMatch(_) => {
            "an anchored OS_Match alternative (^text, text$ or ^text$) compares these bytes correctly; or use \
             type=\"pcre2\", or match the ASCII part of the text"
        }
        _ => "use type=\"pcre2\", or \\S (or \\.) where the non-ASCII character goes, or match the ASCII part of the text",
    };
    Some((why, help))
}

/// Every rule condition and decoder pattern with such a byte.
pub fn never_matching_patterns(rs: &Ruleset) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in rs.rules.rules.iter() {
        let mut conds: Vec<(String, &Cond)> = Vec::new();
        let named = [
            ("<match>", &r.match_),
            ("<regex>", &r.regex),
            ("<program_name>", &r.program_name),
            ("<id>", &r.id_cond),
            ("<system_name>", &r.system_name),
            ("<protocol>", &r.protocol),
            ("<action>", &r.action),
            ("<url>", &r.url),
            ("<location>", &r.location),
            ("<srcport>", &r.srcport),
            ("<dstport>", &r.dstport),
            ("<user>", &r.user),
            ("<srcgeoip>", &r.srcgeoip),
            ("<dstgeoip>", &r.dstgeoip),
            ("<data>", &r.data),
            ("<extra_data>", &r.extra_data),
            ("<hostname>", &r.hostname),
            ("<status>", &r.status),
        ];
        for (element, cond) in named {
            if let Some(c) = cond {
                conds.push((element.to_string(), c));
            }
        }
        for (field, c) in &r.fields {
            conds.push((format!("<field name=\"{}\">", String::from_utf8_lossy(rs.fields.name(*field))), c));
        }
        for (element, c) in conds {
            if let Some((msg, help)) = finding(&element, &c.m, c.negate) {
                out.push(
                    Diagnostic::ours(Code::NeverMatches, Severity::Warning, format!("rule {}: {msg}", r.id))
                        .at(r.span.clone())
                        .rule(r.id)
                        .help(help),
                );
            }
        }
    }
    for d in rs.decoders.nodes.iter() {
        let name = String::from_utf8_lossy(&d.original_name);
        for (element, m) in [("<program_name>", &d.program_name), ("<prematch>", &d.prematch), ("<regex>", &d.regex)] {
            if let Some((msg, help)) = m.as_ref().and_then(|m| finding(element, m, false)) {
                out.push(
                    Diagnostic::ours(Code::NeverMatches, Severity::Warning, format!("decoder '{name}': {msg}"))
                        .at(d.span.clone())
                        .decoder(&d.original_name)
                        .help(help),
                );
            }
        }
    }
    out
}
