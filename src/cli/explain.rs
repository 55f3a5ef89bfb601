//! `logtest explain`: why a rule did or did not fire for an event. Events
//! come on stdin, one per line, all in one session: the last one is
//! explained, the earlier ones are its history (for correlation rules).

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use logtest::explain::{self, Checked, Explanation, RuleReport, Try, Verdict};
use logtest::json::Json;
use logtest::session::Session;
use logtest::Ruleset;

use super::common::RulesetArgs;
use super::CliError;

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Lines for a person.
    Human,
    /// One JSON object.
    Json,
}

#[derive(Args, Clone)]
pub struct ExplainArgs {
    #[command(flatten)]
    ruleset: RulesetArgs,
    /// Explain this rule: each condition on the way to it, and what stopped it.
    #[arg(long, value_name = "ID")]
    rule: Option<u32>,
    /// Location of the events.
    #[arg(short = 'l', value_name = "LOCATION", default_value = "stdin")]
    location: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// List every child of the final rule that was tried, with each of its checks.
    #[arg(long)]
    all: bool,
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s.to_string()
    }
}

fn check_line(c: &Checked) -> String {
    let mark = if c.passed { "✓" } else { "✗" };
    let value = match &c.value {
        None => "field absent".to_string(),
        Some(v) if v.is_empty() => String::new(),
        Some(v) => format!("value '{}'", short(v, 120)),
    };
    let note = c.note.as_ref().map(|n| format!(" — {n}")).unwrap_or_default();
    format!("{mark} {}  {value}{note}", c.condition)
}

/// How many of the final rule's children the summary lists.
const CHILDREN_SHOWN: usize = 8;

/// The check that stopped a try, on one line.
fn first_failure(t: &Try) -> String {
    if let Some(c) = t.conditions.iter().find(|c| !c.passed) {
        return check_line(c);
    }
    match t.correlation {
        Some((found, needed, _)) => format!(
            "✗ correlation: {found} matching earlier event{} in the window, {needed} needed",
            if found == 1 { "" } else { "s" }
        ),
        None => "✗ (no check recorded)".into(),
    }
}

fn try_lines(t: &Try, indent: &str, out: &mut String) {
    for c in &t.conditions {
        out.push_str(&format!("{indent}{}\n", check_line(c)));
    }
    if let Some((found, needed, fired)) = t.correlation {
        let mark = if fired { "✓" } else { "✗" };
        out.push_str(&format!(
            "{indent}{mark} correlation: {found} matching earlier event{} in the window, {needed} needed\n",
            if found == 1 { "" } else { "s" }
        ));
    }
}

fn rule_text(rs: &Ruleset, r: &RuleReport, out: &mut String) {
    let rule = rs.rules.rule(r.rule).expect("a loaded rule");
    let head = match &r.verdict {
        Verdict::Fired => "fired".to_string(),
        Verdict::MatchedChildWon(c) => format!("matched, but its child {c} took the event"),
        Verdict::MatchedNoAlert => "matched, but it is noalert (it only groups its children)".to_string(),
        Verdict::Failed => "did not fire: one of its own checks failed".to_string(),
        Verdict::NotReached { blocker: Some(b) } => format!("not reached: stopped at rule {b}"),
        Verdict::NotReached { blocker: None } => "not reached".to_string(),
    };
    out.push_str(&format!("\nrule {} \"{}\" ({}): {head}\n", r.rule, String::from_utf8_lossy(&rule.description), r.at));
    if let Some(c) = &r.correlation {
        out.push_str(&format!("  correlation rule: {c}\n"));
    }
    for (i, step) in r.path.iter().enumerate() {
        let state = match &step.tried {
            None => "not tried".to_string(),
            Some(t) if t.matched => "matched".to_string(),
            Some(_) => "failed".to_string(),
        };
        out.push_str(&format!("  {:<7} {:<10} {} ({})\n", step.rule, state, short(&step.description, 70), step.at));
        let detail = Some(i) == r.stopped_at || step.rule == r.rule;
        if let (true, Some(t)) = (detail, &step.tried) {
            try_lines(t, "            ", out);
        }
        if Some(i) == r.stopped_at && step.tried.is_none() {
            if let Verdict::NotReached { blocker: Some(b) } = r.verdict {
                out.push_str(&format!("            its earlier sibling {b} matched and took the event\n"));
            } else {
                out.push_str("            its parent's other children or an earlier root took the event\n");
            }
        }
    }
}

fn report_json(r: &RuleReport) -> Json {
    let s = |v: &str| Json::String(v.as_bytes().to_vec());
    let k = |n: &str| n.as_bytes().to_vec();
    let try_json = |t: &Try| {
        let mut o = vec![
            (
                k("conditions"),
                Json::Array(
                    t.conditions
                        .iter()
                        .map(|c| {
                            Json::Object(vec![
                                (k("condition"), s(&c.condition)),
                                (k("value"), c.value.as_deref().map_or(Json::Null, s)),
                                (k("passed"), Json::Bool(c.passed)),
                                (k("note"), c.note.as_deref().map_or(Json::Null, s)),
                            ])
                        })
                        .collect(),
                ),
            ),
            (k("matched"), Json::Bool(t.matched)),
        ];
        if let Some((f, n, p)) = t.correlation {
            o.push((
                k("correlation"),
                Json::Object(vec![
                    (k("found"), Json::Number(f as f64)),
                    (k("needed"), Json::Number(n as f64)),
                    (k("fired"), Json::Bool(p)),
                ]),
            ));
        }
        Json::Object(o)
    };
    let verdict = match &r.verdict {
        Verdict::Fired => "fired".to_string(),
        Verdict::MatchedChildWon(_) => "matched-child-won".into(),
        Verdict::MatchedNoAlert => "matched-noalert".into(),
        Verdict::Failed => "failed".into(),
        Verdict::NotReached { .. } => "not-reached".into(),
    };
    let blocker = match &r.verdict {
        Verdict::NotReached { blocker: Some(b) } | Verdict::MatchedChildWon(b) => Json::Number(*b as f64),
        _ => Json::Null,
    };
    Json::Object(vec![
        (k("rule"), Json::Number(r.rule as f64)),
        (k("verdict"), s(&verdict)),
        (k("by"), blocker),
        (k("correlation"), r.correlation.as_deref().map_or(Json::Null, s)),
        (
            k("path"),
            Json::Array(
                r.path
                    .iter()
                    .map(|p| {
                        Json::Object(vec![
                            (k("rule"), Json::Number(p.rule as f64)),
                            (k("description"), s(&p.description)),
                            (k("at"), s(&p.at)),
                            (k("tried"), p.tried.as_ref().map_or(Json::Null, try_json)),
                        ])
                    })
                    .collect(),
            ),
        ),
        (k("stopped_at"), r.stopped_at.map_or(Json::Null, |i| Json::Number(r.path[i].rule as f64))),
    ])
}

fn render(rs: &Ruleset, e: &Explanation, rule: Option<&RuleReport>, event: &[u8], format: Format, all: bool) -> String {
    let p = &e.processed;
    let decoder = e.decoder.clone();
    let path = e.fired_path(rs);
    let final_rule = p.rule.map(|ri| &rs.rules.rules[ri]);
    match format {
        Format::Json => {
            let s = |v: &str| Json::String(v.as_bytes().to_vec());
            let k = |n: &str| n.as_bytes().to_vec();
            let mut o = vec![
                (k("event"), Json::String(event.to_vec())),
                (k("decoder"), decoder.as_deref().map_or(Json::Null, s)),
                (
                    k("decoders_tried"),
                    Json::Array(
                        e.recorder
                            .decoders
                            .iter()
                            .map(|(n, m)| Json::Object(vec![(k("name"), s(n)), (k("matched"), Json::Bool(*m))]))
                            .collect(),
                    ),
                ),
                (k("path"), Json::Array(path.iter().map(|&i| Json::Number(i as f64)).collect())),
                (k("final_rule"), final_rule.map_or(Json::Null, |r| Json::Number(r.id as f64))),
                (k("level"), final_rule.map_or(Json::Null, |r| Json::Number(r.level as f64))),
                (k("alert"), Json::Bool(p.alert)),
            ];
            if let Some(r) = rule {
                o.push((k("rule"), report_json(r)));
            }
            let mut t = String::from_utf8_lossy(&Json::Object(o).to_unformatted()).into_owned();
            t.push('\n');
            t
        }
        Format::Human => {
            let mut out = String::new();
            out.push_str(&format!("event: {}\n", short(&String::from_utf8_lossy(event), 160)));
            let tried: Vec<String> = e.recorder.decoders.iter().filter(|(_, m)| *m).map(|(n, _)| n.clone()).collect();
            out.push_str(&format!(
                "decoding: {} ({} fields; matched: {})\n",
                decoder.as_deref().map_or("no decoder".to_string(), |d| format!("decoder '{d}'")),
                e.fields,
                if tried.is_empty() { "none".to_string() } else { tried.join(" → ") }
            ));
            match final_rule {
                Some(r) => out.push_str(&format!(
                    "rules: {}\nfinal rule: {} (level {}{}) \"{}\"\n",
                    path.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" → "),
                    r.id,
                    r.level,
                    if p.alert { ", alert" } else { ", no alert" },
                    String::from_utf8_lossy(&p.description)
                )),
                None => out.push_str("final rule: none (no rule matched)\n"),
            }
            // The final rule's children that were tried: why none took the event.
            if let Some(ri) = p.rule {
                let mut tried = Vec::new();
                for &n in rs.rules.nodes_of[ri].iter().take(1) {
                    for &c in &rs.rules.nodes[n].children {
                        let cr = &rs.rules.rules[rs.rules.nodes[c].rule];
                        if let Some(t) = e.recorder.tries.get(&cr.id).and_then(|t| t.last()) {
                            tried.push((cr.id, t));
                        }
                    }
                }
                if !tried.is_empty() && (rule.is_none() || all) {
                    out.push_str(&format!(
                        "children of {} tried: {}, none took the event\n",
                        final_rule.map_or(0, |r| r.id),
                        tried.len()
                    ));
                }
                let shown = if all {
                    tried.len()
                } else if rule.is_some() {
                    0
                } else {
                    CHILDREN_SHOWN
                };
                for (id, t) in tried.iter().take(shown) {
                    if all {
                        out.push_str(&format!("  {id}:\n"));
                        try_lines(t, "    ", &mut out);
                    } else {
                        out.push_str(&format!("  {id:<7} {}\n", first_failure(t)));
                    }
                }
                if tried.len() > shown && rule.is_none() {
                    out.push_str(&format!(
                        "  … and {} more (--all lists every child with each check)\n",
                        tried.len() - shown
                    ));
                }
            }
            if let Some(r) = rule {
                rule_text(rs, r, &mut out);
            }
            out
        }
    }
}

pub fn run(a: ExplainArgs) -> Result<ExitCode, CliError> {
    let rs = Arc::new(a.ruleset.load(false)?);
    let opts = a.ruleset.session_options()?;
    let mut events = Vec::new();
    for line in std::io::stdin().lock().split(b'\n') {
        let mut l = line.map_err(|e| CliError::io("reading stdin", e))?;
        if l.last() == Some(&b'\r') {
            l.pop();
        }
        if !l.is_empty() {
            events.push(l);
        }
    }
    if events.is_empty() {
        return Err(CliError::Usage("no event on stdin: give one per line (the last is explained)".into()));
    }
    if let Some(id) = a.rule {
        if rs.rules.rule(id).is_none() {
            return Err(CliError::Usage(format!("rule {id} is not in the ruleset ({})", rs.summary())));
        }
    }
    let mut session = Session::new(Arc::clone(&rs), opts);
    let Some((last, history)) = events.split_last() else {
        return Err(CliError::Usage("no event on stdin".into()));
    };
    let e = explain::explain(&rs, &mut session, a.location.as_bytes(), history, last)
        .map_err(|e| CliError::Usage(format!("the event cannot be processed: {e}")))?;
    let report = a.rule.and_then(|id| e.rule(&rs, id));
    let text = render(&rs, &e, report.as_ref(), last, a.format, a.all);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(|e| CliError::io("writing to stdout", e))?;
    Ok(ExitCode::SUCCESS)
}
