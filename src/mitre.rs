//! The MITRE ATT&CK technique table rules refer to
//! (upstream: analysisd asks wazuh-db's mitre.db; to_json.c builds `rule.mitre`).
//!
//! The table has the shape of `data/mitre/enterprise-attack.json`:
//! `{"tactics": {"TA0001": "Initial Access", ...}, "techniques": {"T1078":
//! {"name": "Valid Accounts", "tactics": ["Defense Evasion", ...]}}}`.

use std::collections::HashMap;

/// One technique.
#[derive(Debug, Clone)]
pub(crate) struct Technique {
    /// The technique name (`rule.mitre.technique`).
    pub(crate) name: String,
    /// The names of its tactics.
    pub(crate) tactics: Vec<String>,
}

/// Technique id → name and tactics; tactic id → name.
#[derive(Debug, Clone, Default)]
pub struct MitreDb {
    /// Tactic id → name.
    pub(crate) tactics: HashMap<String, String>,
    /// Technique id → technique.
    pub(crate) techniques: HashMap<String, Technique>,
}

/// The table embedded in the binary.
pub(crate) const EMBEDDED: &str = include_str!("../data/mitre/enterprise-attack.json");

impl MitreDb {
    /// Parses a table.
    pub fn parse(text: &str) -> Result<MitreDb, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut db = MitreDb::default();
        if let Some(t) = v.get("tactics").and_then(|t| t.as_object()) {
            for (k, name) in t {
                db.tactics.insert(k.clone(), name.as_str().unwrap_or_default().to_string());
            }
        }
        let Some(techs) = v.get("techniques").and_then(|t| t.as_object()) else {
            return Err("no \"techniques\" object".into());
        };
        for (k, t) in techs {
            let name = t.get("name").and_then(|n| n.as_str()).unwrap_or_default().to_string();
            let tactics = t
                .get("tactics")
                .and_then(|a| a.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                .unwrap_or_default();
            db.techniques.insert(k.clone(), Technique { name, tactics });
        }
        Ok(db)
    }

    /// The embedded table.
    pub fn embedded() -> MitreDb {
        MitreDb::parse(EMBEDDED).unwrap_or_default()
    }
}

/// `rule.mitre` content: ids, tactic names, technique names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MitreOut {
    /// Technique ids.
    pub(crate) id: Vec<String>,
    /// Tactic names, each once.
    pub(crate) tactic: Vec<String>,
    /// Technique names.
    pub(crate) technique: Vec<String>,
}

/// Resolves a rule's references; warnings go to `messages`.
pub(crate) fn resolve(db: &MitreDb, refs: &crate::rules::MitreRefs, messages: &mut Vec<String>) -> Option<MitreOut> {
    let mut out = MitreOut::default();
    if !refs.pairs.is_empty() {
        for (tactic_id, tech_id) in &refs.pairs {
            let Some(t) = db.techniques.get(tech_id) else {
                messages.push(format!("WARNING: Mitre Technique ID '{}' not found in database.", tech_id));
                continue;
            };
            let tactic_name = db.tactics.get(tactic_id);
            match tactic_name {
                Some(tn) if t.tactics.contains(tn) => {
                    if !out.technique.contains(&t.name) {
                        out.id.push(tech_id.clone());
                        out.technique.push(t.name.clone());
                    }
                    if !out.tactic.contains(tn) {
                        out.tactic.push(tn.clone());
                    }
                }
                _ => {
                    messages.push(format!("WARNING: Mitre Tactic ID '{}' is not a tactic of '{}'.", tactic_id, tech_id))
                }
            }
        }
    } else {
        for id in &refs.ids {
            out.id.push(id.clone());
            match db.techniques.get(id) {
                Some(t) => {
                    out.technique.push(t.name.clone());
                    for tn in &t.tactics {
                        if !out.tactic.contains(tn) {
                            out.tactic.push(tn.clone());
                        }
                    }
                }
                None => messages.push(format!("WARNING: Mitre Technique ID '{}' not found in database.", id)),
            }
        }
    }
    if out.tactic.is_empty() {
        None
    } else {
        Some(out)
    }
}
