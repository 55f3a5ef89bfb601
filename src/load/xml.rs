//! Wazuh's own XML dialect (upstream: src/os_xml/os_xml.c, os_xml_variables.c).
//!
//! Rule and decoder files are not quite XML, so a standard parser would read
//! them differently from Wazuh:
//! - several top-level elements, no root wrapper required;
//! - element content is **raw**: no entities (`&lt;` stays four bytes), no
//!   CDATA, whitespace kept as written;
//! - a `<` inside content preceded by an odd number of backslashes is content
//!   (this is why OS_Regex has the `\<` escape);
//! - comments are `<!` up to `-->` (or `!>`), `<?...?>` declarations are skipped;
//! - `<var name="X">v</var>` defines `$X`, substituted in later contents and
//!   attribute values (see [`apply_variables`]).
//!
//! Every element keeps the line it starts on, so diagnostics can point at it.

/// One element: name, attributes in order, raw content, children, and where
/// its start tag is (line, column, byte range), so diagnostics can point at it.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, Vec<u8>)>,
    pub content: Vec<u8>,
    pub children: Vec<Element>,
    pub line: u32,
    /// 1-based byte column of the `<`.
    pub column: u32,
    /// Byte offsets of the start tag, `<` to just past its `>`.
    pub start: usize,
    pub tag_end: usize,
}

impl Element {
    /// First attribute with this exact (case-sensitive) name.
    pub fn attr(&self, name: &str) -> Option<&[u8]> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// First attribute whose name matches case-insensitively.
    pub fn attr_ci(&self, name: &str) -> Option<&[u8]> {
        self.attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }
}

/// An XML syntax problem, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg} (line {line})")]
pub struct XmlError {
    pub msg: String,
    pub line: u32,
    /// 1-based byte column (0: unknown) and byte offset.
    pub column: u32,
    pub offset: usize,
}

impl XmlError {
    fn at_line(msg: impl Into<String>, line: u32) -> XmlError {
        XmlError { msg: msg.into(), line, column: 0, offset: 0 }
    }
}

/// Maximum content of one element (os_xml `XML_MAXSIZE`): the text since the
/// element's last child (os_xml resets its count at every child), so a group
/// of thousands of indented rules is fine.
const MAX_CONTENT: usize = 20480;
/// Maximum nesting (os_xml `_ReadElem`'s recursion limit).
const MAX_DEPTH: usize = 1024;
/// os_xml reads attributes recursively and gives up past `XML_MAX_ATTR_DEPTH`
/// (48) levels: the 49th attribute may only be followed by `>` or `/`.
const MAX_ATTRS: usize = 49;
/// Longest variable name (`XML_VARIABLE_MAXSIZE` minus its NUL).
const MAX_VAR_NAME: usize = 255;
/// What variable substitution may add to one file. Upstream has no bound (and
/// needs quadratic time to reach it); past this the file is refused.
const MAX_EXPANSION: usize = 64 << 20;

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    line: u32,
    /// Offset where the current line starts.
    line_start: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.b.get(self.i).copied()?;
        self.i += 1;
        if c == b'\n' {
            self.line += 1;
            self.line_start = self.i;
        }
        Some(c)
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.b[self.i.min(self.b.len())..].starts_with(s)
    }

    fn column(&self) -> u32 {
        (self.i - self.line_start + 1) as u32
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, XmlError> {
        Err(XmlError { msg: msg.into(), line: self.line, column: self.column(), offset: self.i })
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    /// Skips a comment or declaration starting at `<!` or `<?`.
    fn skip_special(&mut self) -> Result<(), XmlError> {
        let start_line = self.line;
        if self.starts_with(b"<?") {
            while !self.starts_with(b"?>") {
                if self.bump().is_none() {
                    return Err(XmlError::at_line("XMLERR: Comment not closed.", start_line));
                }
            }
            self.bump();
            self.bump();
            return Ok(());
        }
        // `<!`
        self.bump();
        self.bump();
        loop {
            if self.starts_with(b"-->") {
                for _ in 0..3 {
                    self.bump();
                }
                return Ok(());
            }
            if self.starts_with(b"!>") {
                self.bump();
                self.bump();
                return Ok(());
            }
            if self.bump().is_none() {
                return Err(XmlError::at_line("XMLERR: Comment not closed.", start_line));
            }
        }
    }

    fn name(&mut self) -> Result<String, XmlError> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || c == b'>' || c == b'/' || c == b'=' || c == b'<' {
                break;
            }
            self.bump();
        }
        if start == self.i {
            return self.err("XMLERR: Element name missing.");
        }
        Ok(String::from_utf8_lossy(&self.b[start..self.i]).into_owned())
    }

    /// Reads `<name attrs...>` or `<name .../>`; returns (element, self_closed).
    fn start_tag(&mut self) -> Result<(Element, bool), XmlError> {
        let (line, column, start) = (self.line, self.column(), self.i);
        self.bump(); // '<'
        let name = self.name()?;
        let mut el = Element { name, line, column, start, ..Default::default() };
        loop {
            self.skip_ws();
            match self.peek() {
                None => return self.err(format!("XMLERR: Element '{}' not closed.", el.name)),
                Some(b'>') => {
                    self.bump();
                    el.tag_end = self.i;
                    return Ok((el, false));
                }
                Some(b'/') => {
                    self.bump();
                    if self.peek() != Some(b'>') {
                        return self.err(format!("XMLERR: Bad formed element '{}'.", el.name));
                    }
                    self.bump();
                    el.tag_end = self.i;
                    return Ok((el, true));
                }
                Some(_) => {
                    let an = self.name()?;
                    self.skip_ws();
                    if self.peek() != Some(b'=') {
                        return self.err(format!("XMLERR: Attribute '{}' has no value.", an));
                    }
                    self.bump();
                    self.skip_ws();
                    let q = match self.peek() {
                        Some(q @ (b'"' | b'\'')) => q,
                        _ => return self.err(format!("XMLERR: Attribute '{}' not followed by a \" or '.", an)),
                    };
                    self.bump();
                    let start = self.i;
                    loop {
                        match self.peek() {
                            None => return self.err(format!("XMLERR: Attribute '{}' not closed.", an)),
                            Some(c) if c == q => break,
                            Some(_) => {
                                self.bump();
                            }
                        }
                    }
                    let v = self.b[start..self.i].to_vec();
                    self.bump();
                    if el.attrs.iter().any(|(n, _)| *n == an) {
                        return self.err(format!("XMLERR: Attribute '{}' already defined.", an));
                    }
                    el.attrs.push((an, v));
                    match self.peek() {
                        Some(b'>' | b'/') => {}
                        Some(c) if c.is_ascii_whitespace() => {
                            if el.attrs.len() >= MAX_ATTRS {
                                return self.err("XMLERR: Too many attributes.");
                            }
                        }
                        None => return self.err("XMLERR: End of file while reading an attribute."),
                        Some(_) => {
                            let (n, v) = el
                                .attrs
                                .last()
                                .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
                                .unwrap_or_default();
                            return self.err(format!("XMLERR: Bad attribute closing for '{n}'='{v}'."));
                        }
                    }
                }
            }
        }
    }

    /// Reads the content and children of `el` up to its closing tag.
    fn body(&mut self, el: &mut Element, depth: usize) -> Result<(), XmlError> {
        if depth > MAX_DEPTH {
            return self.err("XMLERR: Max recursion level reached");
        }
        let mut text: Vec<u8> = Vec::new();
        let mut backslashes = 0usize;
        loop {
            let Some(c) = self.peek() else {
                return Err(XmlError {
                    msg: format!("XMLERR: Element '{}' not closed.", el.name),
                    line: el.line,
                    column: el.column,
                    offset: el.start,
                });
            };
            if c == b'<' && backslashes.is_multiple_of(2) {
                if self.starts_with(b"</") {
                    self.bump();
                    self.bump();
                    let close = self.name()?;
                    self.skip_ws();
                    if self.peek() != Some(b'>') || close != el.name {
                        return self.err(format!("XMLERR: Element '{}' not closed.", el.name));
                    }
                    self.bump();
                    if el.children.is_empty() {
                        el.content = text;
                    }
                    return Ok(());
                }
                if self.starts_with(b"<!") || self.starts_with(b"<?") {
                    self.skip_special()?;
                    continue;
                }
                let (mut child, closed) = self.start_tag()?;
                if !closed {
                    self.body(&mut child, depth + 1)?;
                }
                el.children.push(child);
                backslashes = 0;
                // The content limit counts from here (and only text after the
                // last child could become content).
                text.clear();
                continue;
            }
            backslashes = if c == b'\\' { backslashes + 1 } else { 0 };
            text.push(c);
            if text.len() > MAX_CONTENT {
                return self.err(format!("XMLERR: String overflow in element '{}'.", el.name));
            }
            self.bump();
        }
    }
}

/// Parses a whole file into its top-level elements.
pub fn parse(bytes: &[u8]) -> Result<Vec<Element>, XmlError> {
    let mut r = Reader { b: bytes, i: 0, line: 1, line_start: 0 };
    let mut out = Vec::new();
    loop {
        r.skip_ws();
        match r.peek() {
            None => return Ok(out),
            Some(b'<') => {
                if r.starts_with(b"<!") || r.starts_with(b"<?") {
                    r.skip_special()?;
                    continue;
                }
                if r.starts_with(b"</") {
                    return r.err("XMLERR: Closing tag without an opening one.");
                }
                let (mut el, closed) = r.start_tag()?;
                if !closed {
                    r.body(&mut el, 1)?;
                }
                out.push(el);
            }
            Some(_) => {
                // Text outside elements is ignored by os_xml.
                r.bump();
            }
        }
    }
}

/// Applies `<var>` definitions (upstream: os_xml_variables.c `OS_ApplyVariables`).
///
/// Variables are defined by top-level `<var name="X">value</var>` elements, which
/// are removed from the result. Once one exists, every later element's content
/// and attribute values longer than 2 bytes get `$name` replaced; the name runs
/// to `$`, `.`, `|`, `,`, a space or the end. Names starting with `(` (the
/// `$(field)` of descriptions) and empty names are left alone; an unknown name
/// is an error. Names are compared case-insensitively, the first definition of
/// a name wins. A variable's own value is **not** expanded: `<var
/// name="b">$a$a</var>` makes `$b` the literal text `$a$a`, as in Wazuh (which
/// is also why nested definitions cannot grow exponentially).
pub fn apply_variables(elements: Vec<Element>) -> Result<Vec<Element>, XmlError> {
    let mut vars: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut budget = MAX_EXPANSION;
    let mut out = Vec::with_capacity(elements.len());
    for mut el in elements {
        if el.name.eq_ignore_ascii_case("var") {
            let Some(name) = el.attr("name") else {
                return Err(XmlError::at_line("XMLERR: No value set for variable.", el.line));
            };
            if name.len() > MAX_VAR_NAME {
                return Err(XmlError::at_line("XMLERR: Invalid variable name size.", el.line));
            }
            vars.push((name.to_ascii_lowercase(), std::mem::take(&mut el.content)));
            continue;
        }
        if !vars.is_empty() {
            substitute_element(&mut el, &vars, &mut budget)?;
        }
        out.push(el);
    }
    Ok(out)
}

type Vars = [(Vec<u8>, Vec<u8>)];

fn substitute_element(el: &mut Element, vars: &Vars, budget: &mut usize) -> Result<(), XmlError> {
    if el.content.len() > 2 {
        if let Some(v) = substitute(&el.content, vars, el.line, budget)? {
            el.content = v;
        }
    }
    for (_, v) in el.attrs.iter_mut() {
        if v.len() > 2 {
            if let Some(new) = substitute(v, vars, el.line, budget)? {
                *v = new;
            }
        }
    }
    for c in el.children.iter_mut() {
        substitute_element(c, vars, budget)?;
    }
    Ok(())
}

/// The text with its variables replaced, or `None` when it has none.
fn substitute(text: &[u8], vars: &Vars, line: u32, budget: &mut usize) -> Result<Option<Vec<u8>>, XmlError> {
    if !text.contains(&b'$') {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c != b'$' {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < text.len() && !matches!(text[end], b'$' | b'.' | b'|' | b',' | b' ') {
            end += 1;
        }
        let name = &text[start..end];
        if name.len() >= MAX_VAR_NAME {
            return Err(XmlError::at_line(format!("XMLERR: Invalid variable name size: '{}'.", MAX_VAR_NAME), line));
        }
        if name.is_empty() || name[0] == b'(' {
            out.push(b'$');
            i += 1;
            continue;
        }
        let lower = name.to_ascii_lowercase();
        match vars.iter().find(|(n, _)| *n == lower) {
            Some((_, v)) => {
                if v.len() > *budget {
                    let msg =
                        format!("XMLERR: Variables expand to more than {} MiB in this file.", MAX_EXPANSION >> 20);
                    return Err(XmlError::at_line(msg, line));
                }
                *budget -= v.len();
                out.extend_from_slice(v);
            }
            None => {
                let shown = &name[..name.len().min(95)];
                let msg = format!("XMLERR: Unknown variable: '{}'.", String::from_utf8_lossy(shown));
                return Err(XmlError::at_line(msg, line));
            }
        }
        i = end;
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_content_and_escaped_lt() {
        let els = parse(b"<decoder name=\"a\">\n <regex>^a\\<b &lt; </regex>\n</decoder>").unwrap();
        assert_eq!(els[0].children[0].content, b"^a\\<b &lt; ");
        assert_eq!(els[0].children[0].line, 2);
    }

    #[test]
    fn comments_and_self_closing() {
        let els = parse(b"<!-- c --><a><b/><!-- x --><c x='1'>t</c></a>").unwrap();
        assert_eq!(els[0].children.len(), 2);
        assert_eq!(els[0].children[0].content, b"");
        assert_eq!(els[0].children[1].attr("x"), Some(&b"1"[..]));
    }

    #[test]
    fn errors_have_lines() {
        let e = parse(b"<a>\n<b>x</c>\n</a>").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse(b"<a x=\"1\" x=\"2\"></a>").is_err());
        assert!(parse(b"<a>").is_err());
    }

    #[test]
    fn variables() {
        let els = parse(b"<var name=\"F\">8</var><var name=\"L\">a|b</var><g><r f=\"$F\">x$L$ $(x)</r></g>").unwrap();
        let els = apply_variables(els).unwrap();
        assert_eq!(els.len(), 1);
        assert_eq!(els[0].children[0].attr("f"), Some(&b"$F"[..]), "values of length <= 2 untouched");
        assert_eq!(els[0].children[0].content, b"xa|b$ $(x)");
        let els = parse(b"<var name=\"F\">8</var><r>$NOPE</r>").unwrap();
        assert!(apply_variables(els).is_err());
    }
}
