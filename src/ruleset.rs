//! The compiled ruleset: decoders, lists, the rule tree and everything they
//! refer to, built once and never changed, so many sessions (and threads) can
//! share it behind an `Arc`.

use crate::decode::Decoders;
use crate::diagnostics::{render, Code, Diagnostic, Severity, SourceFile};
use crate::event::FieldNames;
use crate::index::{IdxVec, ListIdx, RuleIdx};
use crate::lists::CdbList;
use crate::load::config::{AlertSettings, FileRef, RulesetFiles};
use crate::load::decoders::DecoderLoader;
use crate::load::rules::RuleLoader;
use crate::load::{LoadError, LoadFailure};
use crate::mitre::{self, MitreDb, MitreOut};
use crate::rules::RuleTree;

/// A loaded ruleset: decoders, lists and the rule tree, with the field names they refer to. It
/// never changes once built; sessions share it behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Ruleset {
    /// The decoders.
    pub(crate) decoders: Decoders,
    /// The CDB lists, in `<ruleset>` order (rules' `<list>` refer to them by index).
    pub(crate) lists: IdxVec<ListIdx, CdbList>,
    /// The rules and their tree.
    pub rules: RuleTree,
    /// The dynamic field names rules refer to, interned at load.
    pub(crate) fields: FieldNames,
    /// The `<alerts>` levels.
    pub(crate) alerts: AlertSettings,
    /// Per rule: its resolved `rule.mitre` and the warnings resolving it gave.
    pub(crate) mitre: IdxVec<RuleIdx, (Option<MitreOut>, Vec<String>)>,
    /// Non-fatal load messages, in load order.
    pub diagnostics: Vec<Diagnostic>,
    /// Where the files came from, for humans.
    pub(crate) origin: String,
    /// How many decoder files were named.
    pub(crate) decoder_files: usize,
    /// How many rule files were named.
    pub(crate) rule_files: usize,
}

fn missing(file: &SourceFile) -> Diagnostic {
    let msg = format!("(1103): Could not open file '{}' due to [(2)-(No such file or directory)].", file.name);
    Diagnostic::wazuh(Code::FileMissing, Severity::Warning, msg).at(file.whole())
}

/// Reads each file in order and hands it to `load` (`None`: it does not exist).
fn each_file(
    files: &[FileRef],
    mut load: impl FnMut(&SourceFile, Option<&[u8]>) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    for f in files {
        let file = f.source_file();
        let bytes = f.read().map_err(|e| LoadError::io(&file, e))?;
        load(&file, bytes.as_deref())?;
    }
    Ok(())
}

impl Ruleset {
    /// Loads decoders, then lists, then rules, in the files' order.
    pub fn load(files: &RulesetFiles, mitre_db: &MitreDb) -> Result<Ruleset, LoadFailure> {
        let mut diagnostics = Vec::new();
        let fail = |error: LoadError, mut diagnostics: Vec<Diagnostic>, more: &[Diagnostic]| {
            diagnostics.extend_from_slice(more);
            LoadFailure { error, diagnostics }
        };
        let mut dl = DecoderLoader::new();
        let read = each_file(&files.decoders, |file, bytes| match bytes {
            Some(bytes) => dl.load_file(file, bytes),
            None => {
                dl.diagnostics.push(missing(file));
                Ok(())
            }
        });
        if let Err(e) = read {
            return Err(fail(e, diagnostics, &dl.diagnostics));
        }
        let (decoders, mut d) = dl.finish();
        diagnostics.append(&mut d);

        let mut lists = IdxVec::new();
        for f in &files.lists {
            match f.read() {
                Ok(Some(bytes)) => {
                    lists.push(CdbList::parse(&f.name, &bytes).given_as(f.given_path()));
                }
                Ok(None) => diagnostics.push(missing(&f.source_file())),
                Err(e) => return Err(fail(LoadError::io(&f.source_file(), e), diagnostics, &[])),
            }
        }

        let mut fields = FieldNames::default();
        let mut rl = RuleLoader::new(&decoders, &lists, &mut fields, files.alerts.email_alert_level as u32);
        rl.adapt_rule_60000 = files.adapt_rule_60000;
        rl.log_alert_level = files.alerts.log_alert_level as u32;
        let read = each_file(&files.rules, |file, bytes| match bytes {
            Some(bytes) => rl.load_file(file, bytes),
            None => {
                rl.diagnostics.push(missing(file));
                Ok(())
            }
        });
        if let Err(e) = read {
            return Err(fail(e, diagnostics, &rl.diagnostics));
        }
        let (mut rules, mut d) = rl.finish();
        // The default clock of a CloudTrail replay reads this field on every event: interned,
        // it is found through the field index instead of by name.
        fields.intern(b"aws.eventTime");
        diagnostics.append(&mut d);
        // Finalise levels (9900 → 0, n×100 → n); a level-0 rule with accuracy 0 stays 99.
        for r in &mut rules.rules {
            if r.internal_level == 9900 {
                r.level = 0;
            } else if r.internal_level == 99 {
                r.level = 99;
            }
        }
        rules.build_prefilters();
        let mitre = rules
            .rules
            .iter()
            .map(|r| {
                let mut warnings = Vec::new();
                let m = mitre::resolve(mitre_db, &r.mitre, &mut warnings);
                (m, warnings)
            })
            .collect();
        Ok(Ruleset {
            decoders,
            lists,
            rules,
            fields,
            alerts: files.alerts,
            mitre,
            diagnostics,
            origin: files.origin.clone(),
            decoder_files: files.decoders.len(),
            rule_files: files.rules.len(),
        })
    }

    /// The embedded default ruleset with the embedded MITRE table.
    pub fn embedded() -> Result<Ruleset, LoadFailure> {
        Ruleset::load(&crate::embedded::files(), &MitreDb::embedded())
    }

    /// The load messages Wazuh itself would give a new logtest session.
    pub(crate) fn session_messages(&self) -> impl Iterator<Item = String> + '_ {
        self.diagnostics.iter().flat_map(render::wazuh_texts)
    }

    /// One line for humans: what was loaded.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} decoder files ({} decoders), {} lists, {} rule files ({} rules, {} tree nodes)",
            self.origin,
            self.decoder_files,
            self.decoders.nodes.len(),
            self.lists.len(),
            self.rule_files,
            self.rules.rules.len(),
            self.rules.node_count()
        )
    }
}
