//! Renderings of a [`Diagnostic`], kept apart from the type:
//!
//! - [`wazuh_text`]: what a logtest session says (`WARNING: (7617): …`), for
//!   Wazuh's own messages only, cut as analysisd cuts them;
//! - [`headline`] and [`human`]: `file:line:col: severity CODE message`, then
//!   the source line with a caret under the element and `= help:` notes;
//!   colour only when asked (the CLI asks on a terminal);
//! - [`json`]: one object per diagnostic, for tools;
//! - [`github`]: a workflow command (`::error file=…,line=…::…`) that GitHub
//!   Actions turns into an annotation on the line.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Diagnostic, Origin, Severity, Span};
use crate::json::Json;

/// Longest message analysisd keeps for a logtest reply (`OS_BUFFER_SIZE - 1`).
pub(crate) const MAX_WAZUH_MESSAGE: usize = 2047;

/// The message cut where analysisd cuts it.
fn cut(message: &str) -> &str {
    &message[..message.floor_char_boundary(MAX_WAZUH_MESSAGE)]
}

/// The logtest form, `WARNING: <message>`; `None` for our own notices, which
/// Wazuh does not give.
pub fn wazuh_text(d: &Diagnostic) -> Option<String> {
    if d.origin != Origin::Wazuh {
        return None;
    }
    let p = match d.severity {
        Severity::Info => "INFO",
        Severity::Warning => "WARNING",
        Severity::Error | Severity::Fatal => "ERROR",
    };
    Some(format!("{p}: {}", cut(&d.message)))
}

/// Every message Wazuh gives for it, in the logtest form: the message, then
/// its follow-ups ([`Diagnostic::also`]); none for our own notices.
pub fn wazuh_texts(d: &Diagnostic) -> Vec<String> {
    let Some(first) = wazuh_text(d) else { return Vec::new() };
    let prefix = &first[..first.find(": ").map_or(0, |i| i + 2)];
    let mut v = vec![first.clone()];
    v.extend(d.also.iter().map(|m| format!("{prefix}{}", cut(m))));
    v
}

/// `file:line:col: severity CODE message` (the parts known).
pub(crate) fn headline(d: &Diagnostic) -> String {
    let mut out = String::new();
    if let Some(s) = &d.span {
        out.push_str(&match (s.line, s.column) {
            (0, _) => format!("{}: ", s.file),
            (l, 0) => format!("{}:{l}: ", s.file),
            (l, c) => format!("{}:{l}:{c}: ", s.file),
        });
    }
    out.push_str(&format!("{} {}: {}", d.severity.as_str(), d.code.id(), cut(&d.message)));
    out
}

/// Source text for snippets: files read once, embedded ones found by name.
#[derive(Default)]
pub struct Sources {
    cache: HashMap<Arc<str>, Option<Arc<[u8]>>>,
}

impl Sources {
    /// An empty cache.
    pub fn new() -> Sources {
        Sources::default()
    }

    fn text(&mut self, span: &Span) -> Option<Arc<[u8]>> {
        self.cache
            .entry(Arc::clone(&span.file))
            .or_insert_with(|| {
                let bytes = match &span.path {
                    Some(p) => crate::load::config::read_regular_file(p, crate::load::config::MAX_FILE).ok()?,
                    None => crate::embedded::file(&span.file)?.to_vec(),
                };
                Some(Arc::from(bytes))
            })
            .clone()
    }

    /// The line of `span`, the whitespace that leads to its column (tabs
    /// kept, so the caret lines up under tab-indented XML) and how many
    /// carets to put under it.
    fn line(&mut self, span: &Span) -> Option<(String, String, usize)> {
        if span.line == 0 {
            return None;
        }
        let text = self.text(span)?;
        let line = text.split(|&b| b == b'\n').nth(span.line as usize - 1)?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let from = (span.column.max(1) as usize - 1).min(line.len());
        // Underline the span's bytes on this line (at least one).
        let len = span.end.saturating_sub(span.start).max(1);
        let to = (from + len).min(line.len()).max(from + 1);
        let lead: String = line[..from].iter().map(|&b| if b == b'\t' { '\t' } else { ' ' }).collect();
        Some((String::from_utf8_lossy(line).into_owned(), lead, to - from))
    }
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The human form: the headline, the source line with a caret, then notes.
/// With `color`, ANSI colours (the caller decides: only on a terminal).
pub fn human(d: &Diagnostic, sources: &mut Sources, color: bool) -> String {
    let p = Paint(color);
    let sev_color = match d.severity {
        Severity::Fatal | Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Info => "1;36",
    };
    let mut out = String::new();
    if let Some(s) = &d.span {
        let place = match (s.line, s.column) {
            (0, _) => format!("{}:", s.file),
            (l, 0) => format!("{}:{l}:", s.file),
            (l, c) => format!("{}:{l}:{c}:", s.file),
        };
        out.push_str(&p.wrap("1", &place));
        out.push(' ');
    }
    let (severity, code) = (p.wrap(sev_color, d.severity.as_str()), p.wrap("1", d.code.id()));
    out.push_str(&format!("{severity} {code} {}\n", cut(&d.message)));
    if let Some(span) = &d.span {
        if let Some((text, lead, carets)) = sources.line(span) {
            let gutter = span.line.to_string();
            out.push_str(&format!("{} {} {text}\n", p.wrap("1;34", &gutter), p.wrap("1;34", "|")));
            let pad = " ".repeat(gutter.len());
            let carets = p.wrap(sev_color, &"^".repeat(carets));
            out.push_str(&format!("{pad} {} {lead}{carets}\n", p.wrap("1;34", "|")));
        }
    }
    let indent = d.span.as_ref().map_or(0, |s| s.line.to_string().len());
    let note = |out: &mut String, label: &str, text: &str| {
        out.push_str(&format!("{} {} {label}: {text}\n", " ".repeat(indent), p.wrap("1;34", "=")));
    };
    match d.origin {
        Origin::Ours => note(&mut out, "note", "logtest's own check; Wazuh does not say this"),
        Origin::WazuhLog => {
            note(&mut out, "note", "Wazuh writes this to its log only; a logtest session does not show it")
        }
        Origin::Wazuh => {}
    }
    for m in &d.also {
        note(&mut out, "then", cut(m));
    }
    if let Some(src) = &d.source {
        note(&mut out, "cause", &src.to_string());
    }
    if let Some(h) = &d.help {
        note(&mut out, "help", h);
    }
    out
}

/// One JSON object: `code`, `name`, `severity`, `effect`, `wazuh` (its
/// message number or null), `message`, `file`, `line`, `column`, `rule`,
/// `decoder`, `help`.
pub fn json(d: &Diagnostic) -> Json {
    let s = |t: &str| Json::String(t.as_bytes().to_vec());
    let opt = |t: Option<&str>| t.map_or(Json::Null, s);
    let effect = match d.effect {
        super::Effect::None => "none",
        super::Effect::RuleDropped => "rule-dropped",
        super::Effect::LoadFails => "load-fails",
    };
    let k = |n: &str| n.as_bytes().to_vec();
    Json::Object(vec![
        (k("code"), s(d.code.id())),
        (k("name"), s(d.code.name())),
        (k("severity"), s(d.severity.as_str())),
        (k("effect"), s(effect)),
        (
            k("origin"),
            s(match d.origin {
                Origin::Wazuh => "wazuh",
                Origin::WazuhLog => "wazuh-log",
                Origin::Ours => "logtest",
            }),
        ),
        (k("wazuh"), d.wazuh_number().map_or(Json::Null, |n| Json::Number(n as f64))),
        (k("message"), s(&d.message)),
        (k("file"), opt(d.span.as_ref().map(|s| &*s.file))),
        (k("line"), d.span.as_ref().filter(|s| s.line > 0).map_or(Json::Null, |s| Json::Number(s.line as f64))),
        (k("column"), d.span.as_ref().filter(|s| s.column > 0).map_or(Json::Null, |s| Json::Number(s.column as f64))),
        (k("rule"), d.rule.map_or(Json::Null, |r| Json::Number(r as f64))),
        (k("decoder"), opt(d.decoder.as_deref())),
        (k("help"), opt(d.help.as_deref())),
        (k("also"), Json::Array(d.also.iter().map(|m| s(m)).collect())),
    ])
}

/// A GitHub Actions workflow command. Properties and message are escaped as
/// the runner expects (`%`, CR, LF; and `:`/`,` in properties).
pub fn github(d: &Diagnostic) -> String {
    fn esc_data(s: &str) -> String {
        s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    }
    fn esc_prop(s: &str) -> String {
        esc_data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let level = match d.severity {
        Severity::Fatal | Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut props = Vec::new();
    if let Some(s) = &d.span {
        props.push(format!("file={}", esc_prop(&s.file)));
        if s.line > 0 {
            props.push(format!("line={}", s.line));
        }
        if s.column > 0 {
            props.push(format!("col={}", s.column));
        }
    }
    props.push(format!("title={}", esc_prop(&format!("{} {}", d.code.id(), d.code.name()))));
    let mut msg = cut(&d.message).to_string();
    if let Some(h) = &d.help {
        msg.push_str("\nhelp: ");
        msg.push_str(h);
    }
    format!("::{level} {}::{}", props.join(","), esc_data(&msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::{Code, SourceFile};

    fn sample() -> (Diagnostic, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("logtest-render-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.xml");
        std::fs::write(&path, "<group name=\"g\">\n  <rule id=\"100002\" level=\"5\">\n    <if_sid>99999</if_sid>\n")
            .unwrap();
        let file = SourceFile::new("etc/rules/r.xml", Some(&path));
        let d = Diagnostic::wazuh(
            Code::UnknownIfSid,
            Severity::Warning,
            "(7617): Signature ID '99999' was not found and will be ignored in the 'if_sid' option of rule '100002'.",
        )
        .at(file.span(3, 5, 54, 62))
        .rule(100002);
        (d, path)
    }

    #[test]
    fn renderings() {
        let (d, _) = sample();
        assert_eq!(wazuh_text(&d).unwrap(), format!("WARNING: {}", d.message));
        let h = human(&d, &mut Sources::new(), false);
        assert_eq!(
            h,
            "etc/rules/r.xml:3:5: warning R106 (7617): Signature ID '99999' was not found and will be ignored in the 'if_sid' option of rule '100002'.\n\
             3 |     <if_sid>99999</if_sid>\n  |     ^^^^^^^^\n"
        );
        assert!(human(&d, &mut Sources::new(), true).contains("\x1b[1;33mwarning\x1b[0m"));
        assert_eq!(
            github(&d),
            "::warning file=etc/rules/r.xml,line=3,col=5,title=R106 unknown-if-sid::(7617)%3A Signature ID '99999' was not found and will be ignored in the 'if_sid' option of rule '100002'."
                .replace("(7617)%3A", "(7617):")
        );
        let j = String::from_utf8(json(&d).to_unformatted()).unwrap();
        assert!(j.starts_with(r#"{"code":"R106","name":"unknown-if-sid","severity":"warning","effect":"none","origin":"wazuh","wazuh":7617,"#), "{j}");
        let ours = Diagnostic::ours(Code::UnreachableRule, Severity::Warning, "never").help("remove it");
        assert!(wazuh_text(&ours).is_none());
        assert_eq!(
            human(&ours, &mut Sources::new(), false),
            "warning K001 never\n = note: logtest's own check; Wazuh does not say this\n = help: remove it\n"
        );
    }
}
