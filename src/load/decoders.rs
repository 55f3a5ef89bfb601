//! Decoder files → [`Decoders`] (upstream: src/analysisd/decoders/decode-xml.c
//! `ReadDecodeXML`, decoders_list.c `OS_AddOSDecoder`).
//!
//! Wazuh's quirks reproduced here: repeated `<regex>`, `<prematch>`,
//! `<program_name>`, `<parent>` and `<ftscomment>` elements are *concatenated*
//! (not alternated) and the last `type` wins; only the first regex/prematch may
//! carry `offset`; `user` in `order` is `dstuser`; children attach to every
//! earlier top-level decoder of their parent's name; same-named siblings form a
//! chain whose members all run.

use super::xml::{self, Element};
use super::LoadError;
use crate::decode::{
    Decoder, DecoderType, Decoders, Fts, FtsStatic, OrderSlot, Plugin, PluginOffset, PrematchOffset, RegexOffset,
};
use crate::diagnostics::{Code, Diagnostic, Severity, SourceFile, Span};
use crate::event::StaticField;
use crate::index::DecoderIdx;
use crate::matcher::{Kind, Matcher};

/// Maximum bytes of a decoder element after concatenation.
const MAX_ELEMENT: usize = 1023;
/// Default `analysisd.decoder_order_size`.
pub(crate) const ORDER_SIZE: usize = 256;

/// Names of Wazuh's built-in decoders, valid in `decoded_as`.
const INTERNAL_NAMES: &[&str] = &[
    "rootcheck",
    "syscheck_integrity_changed",
    "syscheck_new_entry",
    "syscheck_deleted",
    "syscheck_registry_key_modified",
    "syscheck_registry_key_added",
    "syscheck_registry_key_deleted",
    "syscheck_registry_value_modified",
    "syscheck_registry_value_added",
    "syscheck_registry_value_deleted",
    "hostinfo_new",
    "hostinfo_modified",
    "syscollector",
    "ciscat",
    "windows_eventchannel",
    "sca",
];

/// Builds decoders file by file.
pub struct DecoderLoader {
    /// The decoders read so far.
    pub(crate) set: Decoders,
    /// Non-fatal messages, in load order.
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The file being read.
    file: SourceFile,
}

impl Default for DecoderLoader {
    fn default() -> Self {
        Self::new()
    }
}

struct Text {
    value: Vec<u8>,
    kind: Option<Kind>,
    offset: Option<Offset>,
    count: usize,
}

impl Text {
    fn new() -> Text {
        Text { value: Vec::new(), kind: None, offset: None, count: 0 }
    }
}

/// An `offset` attribute (upstream `w_get_attr_offset`: case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // Wazuh's own names
enum Offset {
    AfterParent,
    AfterPrematch,
    AfterRegex,
}

impl Offset {
    /// `None` for a value that is none of the three.
    fn parse(v: &[u8]) -> Option<Offset> {
        match v.to_ascii_lowercase().as_slice() {
            b"after_parent" => Some(Offset::AfterParent),
            b"after_prematch" => Some(Offset::AfterPrematch),
            b"after_regex" => Some(Offset::AfterRegex),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Offset::AfterParent => "after_parent",
            Offset::AfterPrematch => "after_prematch",
            Offset::AfterRegex => "after_regex",
        }
    }
}

/// How an element's `offset` attribute is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OffsetRule {
    /// Not read (`program_name`).
    Ignored,
    /// An invalid value is reported with this severity and ignored (`regex`: a warning,
    /// `prematch`: an error that does not stop the load).
    Reported(Severity),
}

impl DecoderLoader {
    /// A loader with no decoder yet, knowing Wazuh's built-in decoder names (for `decoded_as`).
    pub fn new() -> DecoderLoader {
        let mut set = Decoders { order_size: ORDER_SIZE, ..Default::default() };
        for n in INTERNAL_NAMES {
            set.known_names.insert(n.as_bytes().into());
        }
        DecoderLoader { set, diagnostics: Vec::new(), file: SourceFile::new("", None) }
    }

    /// Where `el`'s start tag is in the current file.
    fn at(&self, el: &Element) -> Span {
        self.file.span(el.line, el.column, el.start, el.tag_end)
    }

    /// A fatal problem at `el`, in Wazuh's words.
    fn fatal(&self, code: Code, el: &Element, msg: String) -> LoadError {
        LoadError::wazuh(code, msg).at(self.at(el))
    }

    fn push(&mut self, severity: Severity, code: Code, el: &Element, msg: String) {
        let d = Diagnostic::wazuh(code, severity, msg).at(self.at(el));
        self.diagnostics.push(d);
    }

    /// Loads one file. `local` files may be empty.
    pub fn load_file(&mut self, file: &SourceFile, bytes: &[u8]) -> Result<(), LoadError> {
        self.file = file.clone();
        let local = file.name.ends_with("local_decoder.xml");
        if bytes.is_empty() {
            if local {
                return Ok(());
            }
            return Err(LoadError::wazuh(Code::FileEmpty, "empty decoder file").at(file.whole()));
        }
        let els = xml::parse(bytes).map_err(|e| LoadError::xml(file, e))?;
        let els = xml::apply_variables(els).map_err(|e| LoadError::xml_vars(file, e))?;
        if els.is_empty() {
            if local {
                return Ok(());
            }
            let msg = "(1231): Invalid NULL element in the configuration.";
            return Err(LoadError::wazuh(Code::FileEmpty, msg).at(file.whole()));
        }
        for el in &els {
            if !el.name.eq_ignore_ascii_case("decoder") {
                let msg = format!("(1230): Invalid element in the configuration: '{}'.", el.name);
                return Err(self.fatal(Code::DecoderStructure, el, msg));
            }
            let d = self.parse_decoder(el)?;
            self.insert(d)?;
        }
        Ok(())
    }

    fn parse_decoder(&mut self, el: &Element) -> Result<Decoder, LoadError> {
        let file = self.file.clone();
        let fatal = |code: Code, at: &Element, msg: String| {
            LoadError::wazuh(code, msg).at(file.span(at.line, at.column, at.start, at.tag_end))
        };
        let bad_attr = || {
            let msg = format!("(1230): Invalid element in the configuration: '{}'.", el.name);
            fatal(Code::DecoderStructure, el, msg)
        };
        let name: Box<[u8]> = match el.attrs.first() {
            Some((n, v)) if n.eq_ignore_ascii_case("name") => v.as_slice().into(),
            _ => return Err(bad_attr()),
        };
        match el.attrs.get(1) {
            None => {}
            Some((n, _)) if n.eq_ignore_ascii_case("status") && el.attrs.len() == 2 => {}
            _ => return Err(bad_attr()),
        }
        let dname = String::from_utf8_lossy(&name).into_owned();
        // A decoder without options (upstream: no child nodes).
        if el.children.is_empty() {
            return Err(fatal(Code::DecoderStructure, el, "(1231): Invalid NULL element in the configuration.".into()));
        }
        let mut parent = Text::new();
        let mut program = Text::new();
        let mut prematch = Text::new();
        let mut regex = Text::new();
        let mut ftscomment = Text::new();
        let mut order: Option<(Vec<u8>, &Element)> = None;
        let mut fts_specs: Vec<(Vec<u8>, &Element)> = Vec::new();
        let mut fts_before_order = false;
        let mut dtype = DecoderType::Syslog;
        let mut use_own_name = false;
        let mut accumulate = false;
        let mut plugin: Option<(Plugin, Option<Offset>)> = None;
        let mut json_null_discard = false;
        let mut json_csv = false;

        for c in &el.children {
            let n = c.name.to_ascii_lowercase();
            let warn_attr = |me: &mut Self, attr: &str| {
                me.push(Severity::Warning, Code::DecoderValue, c, invalid_attr(attr, &n, &dname))
            };
            let append =
                |t: &mut Text, allowed: &[Kind], offsets: OffsetRule, me: &mut Self| -> Result<(), LoadError> {
                    // Upstream reads the offset first: an invalid one is reported and
                    // dropped; only the first element may carry one.
                    if let (OffsetRule::Reported(severity), Some(v)) = (offsets, c.attr("offset")) {
                        match Offset::parse(v) {
                            None => me.push(severity, Code::DecoderValue, c, invalid_attr("offset", &n, &dname)),
                            Some(_) if t.count > 0 => {
                                let msg = format!("(2109): Duplicated offsets for same regex: '{}'.", dname);
                                return Err(fatal(Code::DecoderConfig, c, msg)
                                    .then(format!("(2107): Decoder configuration error: '{}'.", dname)));
                            }
                            Some(o) => t.offset = Some(o),
                        }
                    }
                    t.value.extend_from_slice(&c.content);
                    if t.value.len() > MAX_ELEMENT {
                        return Err(fatal(
                            Code::DecoderTooLong,
                            c,
                            format!("(1104): Maximum string size reached for: {}.", dname),
                        ));
                    }
                    t.kind = None;
                    if let Some(tv) = c.attr("type") {
                        match Kind::from_attr(tv).filter(|k| allowed.contains(k)) {
                            Some(k) => t.kind = Some(k),
                            None => warn_attr(me, "type"),
                        }
                    }
                    t.count += 1;
                    Ok(())
                };
            match n.as_str() {
                "parent" => {
                    parent.value.extend_from_slice(&c.content);
                    parent.count += 1;
                }
                "program_name" => {
                    append(&mut program, &[Kind::OsMatch, Kind::OsRegex, Kind::Pcre2], OffsetRule::Ignored, self)?
                }
                // Upstream logs a bad prematch offset as an ERROR (which makes logtest answer codemsg -1).
                "prematch" => {
                    append(&mut prematch, &[Kind::OsRegex, Kind::Pcre2], OffsetRule::Reported(Severity::Error), self)?
                }
                "regex" => {
                    append(&mut regex, &[Kind::OsRegex, Kind::Pcre2], OffsetRule::Reported(Severity::Warning), self)?
                }
                "ftscomment" => {
                    ftscomment.value.extend_from_slice(&c.content);
                    ftscomment.count += 1;
                }
                "order" => order = Some((c.content.clone(), c)),
                "fts" => {
                    if order.is_none() {
                        fts_before_order = true;
                    }
                    fts_specs.push((c.content.clone(), c));
                }
                "use_own_name" => use_own_name |= c.content == b"true",
                "accumulate" => accumulate = true,
                "plugin_decoder" => {
                    let p = Plugin::from_name(&c.content).ok_or_else(|| {
                        fatal(
                            Code::DecoderElement,
                            c,
                            format!(
                                "(2110): Invalid decoder argument for plugin_decoder: '{}'.",
                                String::from_utf8_lossy(&c.content)
                            ),
                        )
                    })?;
                    let off = match c.attr("offset") {
                        None => None,
                        Some(v) => match Offset::parse(v) {
                            Some(o) => Some(o),
                            None => {
                                let msg = format!("(2107): Decoder configuration error: '{}'.", dname);
                                return Err(fatal(Code::DecoderConfig, c, msg));
                            }
                        },
                    };
                    plugin = Some((p, off));
                }
                "json_null_field" => {
                    let v = c.content.to_ascii_lowercase();
                    json_null_discard = match v.as_slice() {
                        b"discard" => true,
                        b"string" => false,
                        b"empty" => {
                            self.push(Severity::Warning, Code::DecoderValue, c, format!("(7603): Deprecated value 'empty' in 'json_null_field' option (decoder `{dname}`). Default value will be used."));
                            false
                        }
                        _ => {
                            self.push(Severity::Warning, Code::DecoderValue, c, format!(
                                    "(7602): Invalid value '{}' in 'json_null_field' option (decoder `{dname}`). Default value will be used.",
                                    String::from_utf8_lossy(&c.content)
                                ));
                            false
                        }
                    };
                }
                "json_array_structure" => {
                    let v = c.content.to_ascii_lowercase();
                    json_csv = match v.as_slice() {
                        b"csv" => true,
                        b"array" => false,
                        _ => {
                            self.push(Severity::Warning, Code::DecoderValue, c, format!(
                                    "(7602): Invalid value '{}' in 'json_array_structure' option (decoder `{dname}`). Default value will be used.",
                                    String::from_utf8_lossy(&c.content)
                                ));
                            false
                        }
                    };
                }
                _ if c.name == "type" => {
                    dtype = DecoderType::from_decoder_type(&c.content).ok_or_else(|| {
                        fatal(
                            Code::DecoderElement,
                            c,
                            format!("Invalid decoder type '{}'.", String::from_utf8_lossy(&c.content)),
                        )
                    })?;
                }
                _ => {
                    let msg = format!("Invalid element '{}' for decoder 'decoder'", c.name);
                    return Err(fatal(Code::DecoderElement, c, msg));
                }
            }
        }

        let order_slots = match &order {
            Some((text, line)) => parse_order(text).map_err(|piece| {
                fatal(
                    Code::DecoderOrder,
                    line,
                    format!("decode-xml: Wrong field '{}' in the order of decoder '{}'", piece, dname),
                )
            })?,
            None => Vec::new(),
        };
        if order_slots.len() > ORDER_SIZE {
            return Err(fatal(Code::DecoderOrder, el, "Order has too many fields.".into()));
        }
        let mut fts: Option<Fts> = None;
        for (text, line) in &fts_specs {
            let f = fts.get_or_insert_with(Fts::default);
            f.dynamic.clear();
            for piece in split_list(text) {
                let piece = piece.map_err(|p| {
                    fatal(
                        Code::DecoderOrder,
                        line,
                        format!("decode-xml: Wrong field '{}' in the fts decoder '{}'", p, dname),
                    )
                })?;
                let st = match piece.as_slice() {
                    b"dstuser" | b"user" => Some(FtsStatic::Dstuser),
                    b"srcuser" => Some(FtsStatic::Srcuser),
                    b"srcip" => Some(FtsStatic::Srcip),
                    b"dstip" => Some(FtsStatic::Dstip),
                    b"id" => Some(FtsStatic::Id),
                    b"location" => Some(FtsStatic::Location),
                    b"data" | b"extra_data" => Some(FtsStatic::Data),
                    b"system_name" => Some(FtsStatic::SystemName),
                    b"name" => Some(FtsStatic::Name),
                    _ => None,
                };
                match st {
                    Some(s) => {
                        if !f.statics.contains(&s) {
                            f.statics.push(s)
                        }
                    }
                    None => {
                        // Must be a dynamic field of `order`, before any static slot.
                        let found = order_slots
                            .iter()
                            .take_while(|s| matches!(s, OrderSlot::Dynamic(_)))
                            .any(|s| matches!(s, OrderSlot::Dynamic(n) if n.eq_ignore_ascii_case(&piece)));
                        if found {
                            f.dynamic.push(piece.into());
                        } else if !fts_before_order {
                            return Err(fatal(
                                Code::DecoderOrder,
                                line,
                                format!(
                                    "decode-xml: Wrong field '{}' in the fts decoder '{}'",
                                    String::from_utf8_lossy(&piece),
                                    dname
                                ),
                            ));
                        }
                    }
                }
            }
        }

        // Validation (spec decoding.md 3.5), in upstream order. Each failure is
        // Wazuh's specific message (if any), then `(2107)`, as two messages.
        let cfg_err = |first: Option<String>| {
            let last = format!("(2107): Decoder configuration error: '{}'.", dname);
            match first {
                Some(m) => fatal(Code::DecoderConfig, el, m).then(last),
                None => fatal(Code::DecoderConfig, el, last),
            }
        };
        let bad_offset = |o: Offset| cfg_err(Some(format!("(2120): Invalid offset value: '{}'", o.name())));
        if prematch.count == 0 && parent.count == 0 && program.count == 0 {
            return Err(cfg_err(Some(format!("(2108): No 'prematch' found in decoder: '{}'.", dname))));
        }
        if (regex.count > 0) != order.is_some() || (!fts_specs.is_empty() && regex.count == 0) {
            return Err(cfg_err(None));
        }
        let has_parent = parent.count > 0;
        let regex_offset = match regex.offset {
            None => RegexOffset::Log,
            Some(Offset::AfterParent) if !has_parent => return Err(bad_offset(Offset::AfterParent)),
            Some(Offset::AfterParent) => RegexOffset::AfterParent,
            // Without a parent, after_prematch means after_parent (and the prematch is not needed).
            Some(Offset::AfterPrematch) if !has_parent => RegexOffset::AfterParent,
            Some(Offset::AfterPrematch) if prematch.count == 0 => return Err(bad_offset(Offset::AfterPrematch)),
            Some(Offset::AfterPrematch) => RegexOffset::AfterPrematch,
            Some(Offset::AfterRegex) if !has_parent || regex.count == 0 => {
                return Err(bad_offset(Offset::AfterRegex));
            }
            Some(Offset::AfterRegex) => RegexOffset::AfterRegex,
        };
        let prematch_offset = match prematch.offset {
            None => PrematchOffset::Log,
            Some(Offset::AfterParent) if has_parent => PrematchOffset::AfterParent,
            Some(Offset::AfterParent) => return Err(bad_offset(Offset::AfterParent)),
            Some(_) => return Err(cfg_err(None)),
        };
        let (plugin, plugin_offset) = match plugin {
            None => (None, PluginOffset::Log),
            Some((p, off)) => {
                let off = match off {
                    None => PluginOffset::Log,
                    Some(Offset::AfterParent) if !has_parent => return Err(bad_offset(Offset::AfterParent)),
                    Some(Offset::AfterParent) => PluginOffset::AfterParent,
                    Some(Offset::AfterPrematch) if prematch.count == 0 => {
                        return Err(bad_offset(Offset::AfterPrematch));
                    }
                    Some(Offset::AfterPrematch) => PluginOffset::AfterPrematch,
                    Some(Offset::AfterRegex) => PluginOffset::Invalid,
                };
                (Some(p), off)
            }
        };
        let compile = |t: &Text, default: Kind, captures: bool| -> Result<Option<Matcher>, LoadError> {
            if t.count == 0 {
                return Ok(None);
            }
            Matcher::compile(t.kind.unwrap_or(default), &t.value, captures).map(Some).map_err(|e| {
                let first = format!("(1452): Syntax error on regex: '{}'", String::from_utf8_lossy(&t.value));
                let mut err = cfg_err(Some(first)).caused_by(e);
                err.0.code = Code::DecoderPattern;
                err
            })
        };
        let prematch_m = compile(&prematch, Kind::OsRegex, false)?;
        let program_name = compile(&program, Kind::OsMatch, false)?;
        let regex_m = compile(&regex, Kind::OsRegex, true)?;
        if plugin.is_some() && (regex.count > 0 || order.is_some()) {
            return Err(fatal(
                Code::DecoderConfig,
                el,
                format!("(2111): Additional data to plugin decoder: '{}'.", dname),
            ));
        }
        Ok(Decoder {
            name: name.clone(),
            original_name: name,
            parent: if has_parent { Some(parent.value.into()) } else { None },
            program_name,
            prematch: prematch_m,
            prematch_offset,
            regex: regex_m,
            regex_offset,
            order: order_slots,
            fts,
            ftscomment: if ftscomment.count > 0 { Some(ftscomment.value.into()) } else { None },
            dtype,
            use_own_name,
            accumulate,
            plugin,
            plugin_offset,
            json_null_discard,
            json_csv,
            get_next: false,
            children: Vec::new(),
            span: self.at(el),
        })
    }

    /// Inserts a decoder into the tree (spec decoding.md 3.6).
    fn insert(&mut self, d: Decoder) -> Result<(), LoadError> {
        self.set.known_names.insert(d.original_name.clone());
        let idx = self.set.nodes.next_index();
        let Some(parent) = d.parent.clone() else {
            if d.program_name.is_some() {
                self.set.with_program.push(idx);
            } else {
                self.set.without_program.push(idx);
            }
            self.set.nodes.push(d);
            return Ok(());
        };
        let span = d.span.clone();
        let dname = String::from_utf8_lossy(&d.original_name).into_owned();
        let fatal = |msg: String| LoadError::wazuh(Code::DecoderTree, msg).at(span.clone());
        // A decoder the tree refuses: the reason, then upstream's two callers' messages.
        let list_err = |msg: String| fatal(msg).then(LIST_FAILED).then(ADD_FAILED);
        let parents: Vec<DecoderIdx> = self
            .set
            .with_program
            .iter()
            .chain(self.set.without_program.iter())
            .copied()
            .filter(|&p| self.set.nodes[p].original_name == parent)
            .collect();
        if parents.is_empty() {
            let msg = format!("(2101): Parent decoder name invalid: '{}'.", String::from_utf8_lossy(&parent));
            return Err(fatal(msg).then(ADD_FAILED));
        }
        let mut sorted = parents.clone();
        sorted.sort_unstable();
        for &p in &sorted {
            let siblings: Vec<DecoderIdx> = self.set.nodes[p]
                .children
                .iter()
                .copied()
                .filter(|&s| self.set.nodes[s].original_name == d.original_name)
                .collect();
            let mut has_earlier_pattern = false;
            for &s in &siblings {
                if d.prematch.is_some() {
                    return Err(list_err(format!("(2102): Duplicated decoder with prematch: '{dname}'.")));
                }
                if d.fts.is_some() {
                    return Err(list_err(format!("(2103): Duplicated decoder with fts set: '{dname}'.")));
                }
                let sib = &self.set.nodes[s];
                let ok = |x: &Decoder| x.regex.is_some() || x.plugin.is_some();
                if !ok(sib) || !ok(&d) {
                    return Err(list_err(format!("(2104): Invalid duplicated decoder: '{dname}'.")));
                }
                has_earlier_pattern |= sib.prematch.is_some() || sib.regex.is_some();
            }
            if d.regex_offset == RegexOffset::AfterRegex && !has_earlier_pattern {
                return Err(list_err(format!("(2120): Invalid offset value: '{dname}'")));
            }
            for s in siblings {
                self.set.nodes[s].get_next = true;
            }
        }
        self.set.nodes.push(d);
        for p in parents {
            self.set.nodes[p].children.push(idx);
        }
        Ok(())
    }

    /// Renames children after all files are read and returns the set.
    pub fn finish(mut self) -> (Decoders, Vec<Diagnostic>) {
        let tops: Vec<DecoderIdx> =
            self.set.with_program.iter().chain(self.set.without_program.iter()).copied().collect();
        for t in tops {
            let pname = self.set.nodes[t].original_name.clone();
            for ci in self.set.nodes[t].children.clone() {
                if !self.set.nodes[ci].use_own_name {
                    self.set.nodes[ci].name = pname.clone();
                }
            }
        }
        (self.set, self.diagnostics)
    }
}

/// `DEC_PLUGIN_ERR`: a decoder the tree (`_OS_AddOSDecoder`) refused.
const LIST_FAILED: &str = "(2105): Error loading decoder options.";
/// `DECODER_ERROR`: a decoder that could not be added (`ReadDecodeXML`).
const ADD_FAILED: &str = "(2106): Error adding decoder plugin.";

/// Upstream's message for a bad attribute value.
fn invalid_attr(attr: &str, option: &str, decoder: &str) -> String {
    format!("(7601): Invalid value for attribute '{attr}' in '{option}' option (decoder `{decoder}`). Default value will be used.")
}

/// Splits a comma list as `OS_StrBreak` does (`\,` is a literal comma).
/// Returns Err(piece) for an empty piece.
fn split_list(text: &[u8]) -> Vec<Result<Vec<u8>, String>> {
    let mut pieces = Vec::new();
    let mut cur = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c == b'\\' && text.get(i + 1) == Some(&b',') {
            cur.push(b',');
            i += 2;
            continue;
        }
        if c == b',' {
            pieces.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
        i += 1;
    }
    pieces.push(cur);
    pieces
        .into_iter()
        .map(|p| {
            let start = p.iter().position(|&b| b != b' ').unwrap_or(p.len());
            let p = &p[start..];
            let end = p.iter().position(|&b| b == b' ').unwrap_or(p.len());
            let p = &p[..end];
            if p.is_empty() {
                Err(String::from_utf8_lossy(p).into_owned())
            } else {
                Ok(p.to_vec())
            }
        })
        .collect()
}

fn parse_order(text: &[u8]) -> Result<Vec<OrderSlot>, String> {
    split_list(text)
        .into_iter()
        .map(|p| {
            let p = p?;
            Ok(match StaticField::from_order_name(&p) {
                Some(f) => OrderSlot::Static(f),
                None => OrderSlot::Dynamic(p.into()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_split() {
        let o = parse_order(b"srcip, user,  a.b,x\\,y, extra words").unwrap();
        assert_eq!(o[0], OrderSlot::Static(StaticField::Srcip));
        assert_eq!(o[1], OrderSlot::Static(StaticField::Dstuser));
        assert_eq!(o[2], OrderSlot::Dynamic((*b"a.b").into()));
        assert_eq!(o[3], OrderSlot::Dynamic((*b"x,y").into()));
        assert_eq!(o[4], OrderSlot::Dynamic((*b"extra").into()));
        assert!(parse_order(b"a,,b").is_err());
        assert!(parse_order(b"a,").is_err());
    }
}
