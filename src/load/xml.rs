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

use std::collections::HashMap;

/// One element: name, attributes in order, raw content, children, line.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, Vec<u8>)>,
    pub content: Vec<u8>,
    pub children: Vec<Element>,
    pub line: u32,
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

/// An XML syntax problem, with the line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg} (line {line})")]
pub struct XmlError {
    pub msg: String,
    pub line: u32,
}

/// Maximum content of one element (os_xml `XML_MAXSIZE`).
const MAX_CONTENT: usize = 20480;
/// Maximum nesting we accept; Wazuh files use 3 or 4 levels.
const MAX_DEPTH: usize = 64;

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    line: u32,
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
        }
        Some(c)
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.b[self.i.min(self.b.len())..].starts_with(s)
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, XmlError> {
        Err(XmlError { msg: msg.into(), line: self.line })
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
                    return Err(XmlError { msg: "XMLERR: Comment not closed.".into(), line: start_line });
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
                return Err(XmlError { msg: "XMLERR: Comment not closed.".into(), line: start_line });
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
        let line = self.line;
        self.bump(); // '<'
        let name = self.name()?;
        let mut el = Element { name, line, ..Default::default() };
        loop {
            self.skip_ws();
            match self.peek() {
                None => return self.err(format!("XMLERR: Element '{}' not closed.", el.name)),
                Some(b'>') => {
                    self.bump();
                    return Ok((el, false));
                }
                Some(b'/') => {
                    self.bump();
                    if self.peek() != Some(b'>') {
                        return self.err(format!("XMLERR: Bad formed element '{}'.", el.name));
                    }
                    self.bump();
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
                }
            }
        }
    }

    /// Reads the content and children of `el` up to its closing tag.
    fn body(&mut self, el: &mut Element, depth: usize) -> Result<(), XmlError> {
        if depth > MAX_DEPTH {
            return self.err("XMLERR: Too many nested elements.");
        }
        let mut text: Vec<u8> = Vec::new();
        let mut backslashes = 0usize;
        loop {
            let Some(c) = self.peek() else {
                return Err(XmlError { msg: format!("XMLERR: Element '{}' not closed.", el.name), line: el.line });
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
    let mut r = Reader { b: bytes, i: 0, line: 1 };
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
/// is an error. Names are compared case-insensitively.
pub fn apply_variables(elements: Vec<Element>) -> Result<Vec<Element>, XmlError> {
    let mut vars: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let mut out = Vec::with_capacity(elements.len());
    for mut el in elements {
        if el.name.eq_ignore_ascii_case("var") {
            let Some(name) = el.attr("name") else {
                return Err(XmlError { msg: "XMLERR: Variable without a name.".into(), line: el.line });
            };
            let value = if vars.is_empty() { el.content.clone() } else { substitute(&el.content, &vars, el.line)? };
            vars.insert(name.to_ascii_lowercase(), value);
            continue;
        }
        if !vars.is_empty() {
            substitute_element(&mut el, &vars)?;
        }
        out.push(el);
    }
    Ok(out)
}

fn substitute_element(el: &mut Element, vars: &HashMap<Vec<u8>, Vec<u8>>) -> Result<(), XmlError> {
    if el.content.len() > 2 {
        el.content = substitute(&el.content, vars, el.line)?;
    }
    for (_, v) in el.attrs.iter_mut() {
        if v.len() > 2 {
            *v = substitute(v, vars, el.line)?;
        }
    }
    for c in el.children.iter_mut() {
        substitute_element(c, vars)?;
    }
    Ok(())
}

fn substitute(text: &[u8], vars: &HashMap<Vec<u8>, Vec<u8>>, line: u32) -> Result<Vec<u8>, XmlError> {
    if !text.contains(&b'$') {
        return Ok(text.to_vec());
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
        if name.is_empty() || name[0] == b'(' {
            out.push(b'$');
            i += 1;
            continue;
        }
        match vars.get(&name.to_ascii_lowercase()) {
            Some(v) => out.extend_from_slice(v),
            None => {
                return Err(XmlError {
                    msg: format!("XMLERR: Unknown variable: '{}'.", String::from_utf8_lossy(name)),
                    line,
                })
            }
        }
        i = end;
    }
    Ok(out)
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
