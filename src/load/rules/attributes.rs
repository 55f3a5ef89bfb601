//! A `<rule>`'s attributes, read as upstream's `getattributes` reads them:
//! the first bad one is fatal, numbers are C `atoi`/`sscanf` widths.

use super::values::{atoi, is_num, lossy, scan_width};
use super::RuleLoader;
use crate::diagnostics::Code;
use crate::load::xml::Element;
use crate::load::LoadError;

/// The attributes of one `<rule>`, as upstream leaves them.
pub(super) struct Attributes {
    pub id: i32,
    pub level: i32,
    pub maxsize: i32,
    pub timeframe: i32,
    pub frequency: i32,
    pub accuracy: i32,
    pub noalert: bool,
    pub ignore: i32,
    pub overwrite: bool,
}

impl RuleLoader<'_> {
    /// An attribute `getattributes` refuses: its message, then the caller's.
    fn bad_attribute(&self, el: &Element, msg: String) -> LoadError {
        self.fatal(Code::RuleAttribute, el, msg).then("Invalid attribute for rule.")
    }

    /// `getattributes`, then the check that id and level are given.
    pub(super) fn attributes(&mut self, el: &Element, index: usize) -> Result<Attributes, LoadError> {
        if el.attrs.is_empty() {
            return Err(self.fatal(
                Code::RuleAttribute,
                el,
                format!("Invalid rule '{}'. You must specify an ID and a level at least.", index),
            ));
        }
        let mut id: i32 = -1;
        let mut level: i32 = -1;
        let mut maxsize = 0i32;
        let mut timeframe = self.default_timeframe as i32;
        let mut frequency = 0i32;
        let mut accuracy = 1i32;
        let mut noalert = false;
        let mut ignore = 0i32;
        let mut overwrite = false;
        for (k, v) in &el.attrs {
            let num = is_num(v);
            match k.to_ascii_lowercase().as_str() {
                "id" => {
                    if !num || v.len() > 6 {
                        return Err(self.bad_attribute(el, format!("rules_op: Invalid rule id: {}. Must be integer (max 6 digits)", lossy(v))));
                    }
                    if let Some(x) = scan_width(v, 6) {
                        id = x;
                    }
                }
                "level" => {
                    // A non-numeric level is silently ignored (and then missing).
                    if num {
                        level = atoi(v);
                        if !(0..=16).contains(&level) {
                            return Err(self.bad_attribute(el, format!("rules_op: Invalid level: {}. Must be an integer between 0 and 16.", level)));
                        }
                    }
                }
                "maxsize" => {
                    if !num {
                        return Err(self.bad_attribute(el, format!("rules_op: Invalid maxsize: {}. Must be integer", lossy(v))));
                    }
                    maxsize = scan_width(v, 4).unwrap_or(maxsize);
                }
                "timeframe" => {
                    if !num {
                        return Err(self.bad_attribute(el, format!("rules_op: Invalid timeframe: {}. Must be integer (max 5 digits)", lossy(v))));
                    }
                    timeframe = scan_width(v, 5).unwrap_or(timeframe);
                }
                "frequency" => {
                    if !num {
                        return Err(self.bad_attribute(el, format!("rules_op: Invalid frequency: {}. Must be integer", lossy(v))));
                    }
                    frequency = atoi(v);
                    if !(2..=9999).contains(&frequency) {
                        return Err(self.bad_attribute(el, format!(
                            "rules_op: Invalid frequency: {}. Must be higher than 1 and lower than 10000.",
                            frequency
                        )));
                    }
                }
                "accuracy" => {
                    if !num {
                        return Err(self.bad_attribute(el, format!("rules_op: Invalid accuracy: {}. Must be integer", lossy(v))));
                    }
                    accuracy = scan_width(v, 4).unwrap_or(accuracy);
                }
                "ignore" => {
                    if !num {
                        return Err(self.bad_attribute(el, format!("rules_op: Invalid ignore_time: {}. Must be integer (max 6 digits)", lossy(v))));
                    }
                    ignore = scan_width(v, 6).unwrap_or(ignore);
                }
                "noalert" => match v.as_slice() {
                    b"0" => noalert = false,
                    b"1" => noalert = true,
                    _ => self.warn(Code::RuleNoAlertValue, el, "Invalid value for attribute 'noalert'".into()),
                },
                "overwrite" => match v.as_slice() {
                    b"yes" => overwrite = true,
                    b"no" => overwrite = false,
                    _ => return Err(self.bad_attribute(el, format!("rules_op: Invalid overwrite: {}. Can only by 'yes' or 'no'.", lossy(v)))),
                },
                _ => {
                    return Err(self.bad_attribute(el, format!(
                        "rules_op: Invalid attribute \"{}\". Only id, level, maxsize, accuracy, noalert, ignore, frequency and timeframe are allowed.",
                        k
                    )))
                }
            }
        }
        if id == -1 || level == -1 {
            return Err(self.fatal(
                Code::RuleAttribute,
                el,
                format!("No rule id or level specified for rule '{}'.", index),
            ));
        }
        Ok(Attributes { id, level, maxsize, timeframe, frequency, accuracy, noalert, ignore, overwrite })
    }
}
