//! Wazuh's own XML dialect (upstream: src/os_xml/os_xml.c, os_xml_variables.c,
//! os_xml_node_access.c).
//!
//! Rule and decoder files are not quite XML, so a standard parser would read
//! them differently from Wazuh. This reader is a state machine with the same
//! states, the same one-byte look-ahead (a two-slot push-back stash) and the
//! same limits as os_xml's `_ReadElem`/`_getattributes`, so it accepts what
//! os_xml accepts, builds the same contents and fails with the same message on
//! the same line. In short:
//! - several top-level elements, no root wrapper required; text outside
//!   elements is skipped;
//! - an element name is every byte up to `>` or white space (a final `/`
//!   makes it self-closing: `<a/>`; `<a/b>` is an element `a/b`), a closing
//!   tag is every byte up to `>` (`</a >` does not close `a`);
//! - element content is **raw**: no entities (`&lt;` stays four bytes), no
//!   CDATA, white space kept; the content of an element with children is the
//!   text after its last child; a `<` preceded by an odd number of
//!   backslashes is content (this is why OS_Regex has the `\<` escape);
//! - a comment is `<!` up to `!>` or `-->` and may appear anywhere outside
//!   attribute lists, even inside names and closing tags; `<?xml ...?>` is
//!   *not* special (it is an element named `?xml`);
//! - attributes are `name="v"` or `name='v'` (white space allowed after `=`,
//!   not before), a value may span lines but not contain `>`; `/` right after
//!   a value ends the element (`<a x="1"/` is complete, the `>` that usually
//!   follows is text of the parent);
//! - bytes are C `char`s: a NUL byte ends the name or value it is in, and a
//!   0xFF byte that os_xml pushes back reads as end of file;
//! - `<var name="X">v</var>` defines `$X`, substituted in later contents and
//!   attribute values (see [`apply_variables`]); elements and attributes
//!   named `var` are hidden from the loaders, as `OS_GetElementsbyNode` does.
//!
//! [`parse`] gives the elements as written (variables included);
//! [`apply_variables`] and [`nodes`] give the loaders' view of them.
//!
//! Every element keeps the line it starts on, so diagnostics can point at it.

/// One element: name, attributes in order, raw content, children, and where
/// its start tag is (line, column, byte range), so diagnostics can point at it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    /// The element name, as written.
    pub(crate) name: String,
    /// Attributes (name, value) in document order.
    pub(crate) attrs: Vec<(String, Vec<u8>)>,
    /// The raw text content (no entities, whitespace kept).
    pub(crate) content: Vec<u8>,
    /// Child elements.
    pub(crate) children: Vec<Element>,
    /// 1-based line of the `<`.
    pub(crate) line: u32,
    /// 1-based byte column of the `<`.
    pub(crate) column: u32,
    /// Byte offsets of the start tag, `<` to just past its `>`.
    pub(crate) start: usize,
    /// Just past the `>` of the start tag.
    pub(crate) tag_end: usize,
}

impl Element {
    /// First attribute with this exact (case-sensitive) name.
    pub(crate) fn attr(&self, name: &str) -> Option<&[u8]> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

/// An XML syntax problem, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg} (line {line})")]
pub(crate) struct XmlError {
    /// The message, in os_xml's words (`XMLERR: …`).
    pub(crate) msg: String,
    /// The line it was found on (os_xml's count: 1 + the newlines read).
    pub(crate) line: u32,
    /// 1-based byte column (0: unknown).
    pub(crate) column: u32,
    /// Byte offset in the file.
    pub(crate) offset: usize,
}

/// `XML_MAXSIZE`: the longest element name, content (the text since the
/// element's last child, so a group of thousands of rules is fine), closing
/// tag, attribute name or value, minus one.
const XML_MAXSIZE: usize = 20480;
/// `_ReadElem`'s recursion limit: nesting levels, the top level being 1.
const MAX_DEPTH: usize = 1024;
/// `XML_MAX_ATTR_DEPTH`: `_getattributes` recurses after every attribute
/// followed by white space and gives up past this depth, so an element has
/// at most 49 attributes, and the 49th may only be followed by `>` or `/`.
const MAX_ATTR_DEPTH: usize = 48;
/// `XML_ERR_LENGTH` is 128 and os_xml formats into 127 bytes: messages keep
/// their first 126 bytes.
const ERR_MAX: usize = 126;
/// `OS_ApplyVariables` formats into the whole 128 bytes.
const VAR_ERR_MAX: usize = 127;
/// `XML_VARIABLE_MAXSIZE`: a variable name of this length is refused.
const VAR_NAME_SIZE: usize = 256;
/// What variable substitution may add to one file. Upstream has no bound (and
/// needs quadratic time to reach it); past this the file is refused.
const MAX_EXPANSION: usize = 64 << 20;

/// `fgetc`'s end of file (also what a pushed-back 0xFF byte reads as: the
/// stash is `char`).
const EOF: i32 = -1;

/// C `isspace` in the C locale.
fn is_space(c: i32) -> bool {
    matches!(c, 9..=13 | 32)
}

/// A C string: the bytes up to the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// Builds an os_xml message from pieces (arguments are C strings) and cuts it
/// as os_xml's fixed buffer does.
fn message(parts: &[&[u8]], max: usize) -> String {
    let mut m: Vec<u8> = Vec::new();
    for p in parts {
        m.extend_from_slice(p);
    }
    m.truncate(max);
    String::from_utf8_lossy(&m).into_owned()
}

/// The file as os_xml reads it: `fgetc` with a push-back stash of two `char`s,
/// a line counter (`\n` read: +1, `\n` pushed back: -1) and, for diagnostics,
/// byte offsets.
struct Input<'a> {
    b: &'a [u8],
    /// Next byte of the file.
    i: usize,
    line: u32,
    stash: [(i32, usize); 2],
    stashed: usize,
    /// Offset of the byte last returned (the file length after end of file).
    last: usize,
    /// Offset just past the last `\n` read from the file.
    line_start: usize,
}

impl<'a> Input<'a> {
    fn new(b: &'a [u8]) -> Input<'a> {
        Input { b, i: 0, line: 1, stash: [(0, 0); 2], stashed: 0, last: 0, line_start: 0 }
    }

    fn getc(&mut self) -> i32 {
        let c = if self.stashed > 0 {
            self.stashed -= 1;
            let (c, off) = self.stash[self.stashed];
            self.last = off;
            c
        } else if let Some(&c) = self.b.get(self.i) {
            self.last = self.i;
            self.i += 1;
            if c == b'\n' {
                self.line_start = self.i;
            }
            i32::from(c)
        } else {
            self.last = self.b.len();
            EOF
        };
        if c == i32::from(b'\n') {
            self.line = self.line.wrapping_add(1);
        }
        c
    }

    /// Pushes `c` (read at `off`) back; a full stash drops it, as os_xml does.
    fn ungetc(&mut self, c: i32, off: usize) {
        if self.stashed >= self.stash.len() {
            return;
        }
        // The stash holds (signed) chars: 0x80..=0xFF come back negative,
        // 0xFF as EOF.
        self.stash[self.stashed] = (i32::from(c as u8 as i8), off);
        self.stashed += 1;
        if c == i32::from(b'\n') {
            self.line = self.line.wrapping_sub(1);
        }
    }

    fn column_of(&self, off: usize) -> u32 {
        let start = if off >= self.line_start {
            self.line_start
        } else {
            let upto = off.min(self.b.len());
            self.b[..upto].iter().rposition(|&c| c == b'\n').map_or(0, |n| n + 1)
        };
        u32::try_from(off - start + 1).unwrap_or(u32::MAX)
    }

    /// os_xml's `xml_error`: the message and the current line.
    fn error(&self, parts: &[&[u8]]) -> XmlError {
        XmlError { msg: message(parts, ERR_MAX), line: self.line, column: self.column_of(self.last), offset: self.last }
    }
}

/// One entry of os_xml's flat element table: an element or an attribute, its
/// depth (`rl`) and content. Attributes follow their element, children follow
/// its attributes.
#[derive(Debug, Clone, Default)]
struct Item {
    attr: bool,
    name: Vec<u8>,
    content: Vec<u8>,
    /// Depth: 0 for top-level elements and their attributes.
    rl: usize,
    closed: bool,
    line: u32,
    column: u32,
    start: usize,
    tag_end: usize,
}

impl Item {
    /// `XML_VARIABLE_BEGIN`: os_xml's type for anything named `var`.
    fn is_var(&self) -> bool {
        self.name.eq_ignore_ascii_case(b"var")
    }
}

/// Where `_ReadElem` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loc {
    /// Between elements (`location == -1`).
    Outside,
    /// In the element name (0).
    Name,
    /// In the content (1).
    Content,
    /// In a closing tag (2).
    Close,
}

/// One `_ReadElem` call: it reads elements of depth `rl` (a nested call one
/// element, the top call all of them).
struct Frame {
    rl: usize,
    loc: Loc,
    /// `prevv == -1`: an odd number of backslashes just before.
    escaped: bool,
    elem: Vec<u8>,
    cont: Vec<u8>,
    close: Vec<u8>,
    /// The open element's index in the table.
    cur: usize,
    /// Where its `<` is: line, column, offset.
    at: (u32, u32, usize),
}

impl Frame {
    fn new(rl: usize) -> Frame {
        Frame {
            rl,
            loc: Loc::Outside,
            escaped: false,
            elem: Vec::new(),
            cont: Vec::new(),
            close: Vec::new(),
            cur: 0,
            at: (0, 0, 0),
        }
    }

    /// os_xml's `count`: the length of the buffer being filled.
    fn count(&self) -> usize {
        match self.loc {
            Loc::Outside => 0,
            Loc::Name => self.elem.len(),
            Loc::Content => self.cont.len(),
            Loc::Close => self.close.len(),
        }
    }

    fn reset(&mut self) {
        self.loc = Loc::Outside;
        self.elem.clear();
        self.cont.clear();
        self.close.clear();
    }
}

/// `_oscomment`, after a `<`: `Ok(true)` when a comment was skipped,
/// `Ok(false)` when the next byte is not `!` (it is pushed back).
fn comment(inp: &mut Input) -> Result<bool, ()> {
    let c = inp.getc();
    if c != i32::from(b'!') {
        inp.ungetc(c, inp.last);
        return Ok(false);
    }
    loop {
        let c = inp.getc();
        if c == EOF {
            return Err(());
        }
        if c == i32::from(b'!') {
            let c = inp.getc();
            if c == i32::from(b'>') {
                return Ok(true);
            }
            inp.ungetc(c, inp.last);
        } else if c == i32::from(b'-') {
            let mut c = inp.getc();
            if c == i32::from(b'-') {
                c = inp.getc();
                if c == i32::from(b'>') {
                    return Ok(true);
                }
                // os_xml pushes this byte back twice.
                inp.ungetc(c, inp.last);
            }
            inp.ungetc(c, inp.last);
        }
    }
}

/// How a start tag's attribute list ended.
#[derive(PartialEq, Eq)]
enum AttrEnd {
    /// At `>`.
    Gt,
    /// At `/`: the element is closed (a `>` after it is not read).
    Slash,
}

/// `_getattributes`: reads the attributes of the element at `items[elem]`
/// (the name was ended by white space) into `items`.
fn attributes(inp: &mut Input, items: &mut Vec<Item>, elem: usize) -> Result<AttrEnd, XmlError> {
    let rl = items[elem].rl;
    let (line, column, start) = (items[elem].line, items[elem].column, items[elem].start);
    let mut depth = 0;
    'call: loop {
        if depth > MAX_ATTR_DEPTH {
            return Err(inp.error(&[b"XMLERR: Too many attributes."]));
        }
        let mut attr: Vec<u8> = Vec::new();
        let mut value: Vec<u8> = Vec::new();
        // Some(quote) once in the value.
        let mut quote: Option<i32> = None;
        loop {
            let c = inp.getc();
            if c == EOF {
                return Err(inp.error(&[b"XMLERR: End of file while reading an attribute."]));
            }
            let count = if quote.is_some() { value.len() } else { attr.len() };
            if count >= XML_MAXSIZE {
                // os_xml cuts at count - 1 (the name being read loses its
                // last byte) and shows 20 bytes.
                attr.truncate(count - 1);
                let shown = c_str(&attr);
                let shown = &shown[..shown.len().min(20)];
                return Err(inp.error(&[b"XMLERR: Overflow attempt at attribute '", shown, b"'."]));
            }
            if c == i32::from(b'>') || (quote.is_none() && c == i32::from(b'/')) {
                if quote.is_some() {
                    return Err(inp.error(&[b"XMLERR: Attribute '", c_str(&attr), b"' not closed."]));
                }
                if !attr.is_empty() {
                    return Err(inp.error(&[b"XMLERR: Attribute '", c_str(&attr), b"' has no value."]));
                }
                return Ok(if c == i32::from(b'/') { AttrEnd::Slash } else { AttrEnd::Gt });
            }
            match quote {
                None if c == i32::from(b'=') => {
                    let name = c_str(&attr);
                    // Same name among this element's attributes, back to
                    // the last one named `var` (a different type for os_xml).
                    let dup =
                        items[elem + 1..].iter().rev().take_while(|a| a.attr && !a.is_var()).any(|a| a.name == name);
                    if dup {
                        return Err(inp.error(&[b"XMLERR: Attribute '", name, b"' already defined."]));
                    }
                    let mut c = inp.getc();
                    if c != i32::from(b'"') && c != i32::from(b'\'') {
                        let mut ok = false;
                        if is_space(c) {
                            loop {
                                c = inp.getc();
                                if c == EOF || !is_space(c) {
                                    ok = c == i32::from(b'"') || c == i32::from(b'\'');
                                    break;
                                }
                            }
                        }
                        if !ok {
                            let msg: &[&[u8]] = &[b"XMLERR: Attribute '", name, b"' not followed by a \" or '."];
                            return Err(inp.error(msg));
                        }
                    }
                    quote = Some(c);
                }
                None if is_space(c) => {
                    if !attr.is_empty() {
                        return Err(inp.error(&[b"XMLERR: Attribute '", c_str(&attr), b"' has no value."]));
                    }
                }
                Some(q) if c == q => {
                    items.push(Item {
                        attr: true,
                        name: c_str(&attr).to_vec(),
                        content: c_str(&value).to_vec(),
                        rl,
                        closed: true,
                        line,
                        column,
                        start,
                        tag_end: inp.last + 1,
                    });
                    let c = inp.getc();
                    if is_space(c) {
                        depth += 1;
                        continue 'call;
                    }
                    if c == i32::from(b'>') {
                        return Ok(AttrEnd::Gt);
                    }
                    if c == i32::from(b'/') {
                        return Ok(AttrEnd::Slash);
                    }
                    let msg: &[&[u8]] =
                        &[b"XMLERR: Bad attribute closing for '", c_str(&attr), b"'='", c_str(&value), b"'."];
                    return Err(inp.error(msg));
                }
                None => attr.push(c as u8),
                Some(_) => value.push(c as u8),
            }
        }
    }
}

/// `ParseXML` with `flag_truncate` false (`OS_ReadXML`, as the rule and
/// decoder loaders call it): the flat table.
fn read_table(bytes: &[u8]) -> Result<Vec<Item>, XmlError> {
    let mut inp = Input::new(bytes);
    let mut items: Vec<Item> = Vec::new();
    // The nested `_ReadElem` calls; never empty.
    let mut stack: Vec<Frame> = vec![Frame::new(0)];
    loop {
        let depth = stack.len();
        let Some(f) = stack.last_mut() else { break };
        let c = inp.getc();
        let (line, off) = (inp.line, inp.last);
        if c == EOF {
            if depth == 1 && f.loc == Loc::Outside {
                break;
            }
            return Err(inp.error(&[b"XMLERR: End of file and some elements were not closed."]));
        }
        if c == i32::from(b'\\') {
            f.escaped = !f.escaped;
        } else if c != i32::from(b'<') {
            f.escaped = false;
        }
        if f.count() >= XML_MAXSIZE {
            return Err(inp.error(&[b"XMLERR: String overflow."]));
        }
        if c == i32::from(b'<') {
            match comment(&mut inp) {
                Err(()) => return Err(inp.error(&[b"XMLERR: Comment not closed."])),
                Ok(true) => continue,
                Ok(false) => {}
            }
        }
        match f.loc {
            Loc::Outside if !f.escaped => {
                if c != i32::from(b'<') {
                    continue;
                }
                let c2 = inp.getc();
                if c2 == i32::from(b'/') {
                    return Err(inp.error(&[b"XMLERR: Element not opened."]));
                }
                inp.ungetc(c2, inp.last);
                f.loc = Loc::Name;
                f.at = (line, inp.column_of(off), off);
            }
            Loc::Name if c == i32::from(b'>') || is_space(c) => {
                let self_closed = f.elem.last() == Some(&b'/');
                let raw_len = f.elem.len() - usize::from(self_closed);
                let name = c_str(&f.elem[..raw_len]).to_vec();
                f.elem.truncate(raw_len);
                let (line, column, start) = f.at;
                f.cur = items.len();
                items.push(Item { name, rl: f.rl, line, column, start, tag_end: inp.last + 1, ..Item::default() });
                let mut closed = self_closed;
                if is_space(c) {
                    closed |= attributes(&mut inp, &mut items, f.cur)? == AttrEnd::Slash;
                    items[f.cur].tag_end = inp.last + 1;
                }
                if closed {
                    items[f.cur].closed = true;
                    f.reset();
                    if depth > 1 {
                        stack.pop();
                        if let Some(p) = stack.last_mut() {
                            p.cont.clear();
                        }
                    }
                } else {
                    f.loc = Loc::Content;
                }
            }
            Loc::Close if c == i32::from(b'>') => {
                if c_str(&f.close) != c_str(&f.elem) {
                    return Err(inp.error(&[b"XMLERR: Element '", c_str(&f.elem), b"' not closed."]));
                }
                let item = &mut items[f.cur];
                item.content = c_str(&f.cont).to_vec();
                item.closed = true;
                f.reset();
                if depth > 1 {
                    stack.pop();
                    if let Some(p) = stack.last_mut() {
                        p.cont.clear();
                    }
                }
            }
            Loc::Content if c == i32::from(b'<') && !f.escaped => {
                let c2 = inp.getc();
                if c2 == i32::from(b'/') {
                    f.loc = Loc::Close;
                } else {
                    inp.ungetc(c2, inp.last);
                    inp.ungetc(c, off);
                    if depth + 1 > MAX_DEPTH {
                        return Err(inp.error(&[b"XMLERR: Max recursion level reached"]));
                    }
                    let rl = f.rl + 1;
                    stack.push(Frame::new(rl));
                }
            }
            loc => {
                match loc {
                    Loc::Name => f.elem.push(c as u8),
                    Loc::Content => f.cont.push(c as u8),
                    Loc::Close => f.close.push(c as u8),
                    Loc::Outside => {}
                }
                if c == i32::from(b'<') {
                    f.escaped = false;
                }
            }
        }
    }
    // ParseXML's final check (every element is closed by then).
    if let Some(open) = items.iter().find(|i| !i.attr && !i.closed) {
        return Err(inp.error(&[b"XMLERR: Element '", &open.name, b"' not closed."]));
    }
    Ok(items)
}

/// The elements of a table as written: every element (`var` ones too) with
/// all its attributes, under its real parent.
fn tree(items: Vec<Item>) -> Vec<Element> {
    let mut roots: Vec<Element> = Vec::new();
    let mut open: Vec<Element> = Vec::new();
    fn attach(open: &mut [Element], roots: &mut Vec<Element>, e: Element) {
        match open.last_mut() {
            Some(p) => p.children.push(e),
            None => roots.push(e),
        }
    }
    for it in items {
        if it.attr {
            if let Some(e) = open.last_mut() {
                e.attrs.push((String::from_utf8_lossy(&it.name).into_owned(), it.content));
            }
            continue;
        }
        while open.len() > it.rl {
            let Some(e) = open.pop() else { break };
            attach(&mut open, &mut roots, e);
        }
        open.push(element(it));
    }
    while let Some(e) = open.pop() {
        attach(&mut open, &mut roots, e);
    }
    roots
}

fn element(it: Item) -> Element {
    Element {
        name: String::from_utf8_lossy(&it.name).into_owned(),
        attrs: Vec::new(),
        content: it.content,
        children: Vec::new(),
        line: it.line,
        column: it.column,
        start: it.start,
        tag_end: it.tag_end,
    }
}

/// Back to the flat table (pre-order: element, its attributes, its children).
fn table(elements: Vec<Element>) -> Vec<Item> {
    let mut items = Vec::new();
    // (remaining siblings in reverse order, depth)
    let mut todo: Vec<(Vec<Element>, usize)> = Vec::new();
    let mut top = elements;
    top.reverse();
    todo.push((top, 0));
    while let Some((mut siblings, rl)) = todo.pop() {
        let Some(e) = siblings.pop() else { continue };
        let Element { name, attrs, content, mut children, line, column, start, tag_end } = e;
        let item = |attr: bool, name: String, content: Vec<u8>| Item {
            attr,
            name: name.into_bytes(),
            content,
            rl,
            closed: true,
            line,
            column,
            start,
            tag_end,
        };
        items.push(item(false, name, content));
        for (n, v) in attrs {
            items.push(item(true, n, v));
        }
        todo.push((siblings, rl));
        children.reverse();
        todo.push((children, rl + 1));
    }
    items
}

/// What the loaders see (`OS_GetElementsbyNode`): elements named `var` are
/// left out; an element's attributes stop before the first one named `var`;
/// the children of an element are the elements one level deeper that follow
/// it before any element of its level or above (so the children of a `var`
/// element that follows an element become children of that element).
fn view(items: Vec<Item>) -> Vec<Element> {
    // For each depth, the last element of that depth whose children are
    // still being listed (None: the last element at or above that depth was
    // shallower, or there is none); an element is complete once a later one
    // of its depth or above comes.
    let mut open: Vec<Option<Element>> = Vec::new();
    let mut roots: Vec<Element> = Vec::new();
    // Completes the elements of depth `r` and deeper.
    fn close(open: &mut Vec<Option<Element>>, roots: &mut Vec<Element>, r: usize) {
        while open.len() > r {
            let Some(done) = open.pop().flatten() else { continue };
            match open.last_mut() {
                Some(Some(p)) => p.children.push(done),
                // Listed by no element: OS_GetElementsbyNode never reaches it.
                Some(None) => {}
                None => roots.push(done),
            }
        }
    }
    let mut items = items.into_iter().peekable();
    while let Some(it) = items.next() {
        if it.attr {
            continue;
        }
        let shown = !it.is_var();
        let r = it.rl;
        let mut e = element(it);
        // Its attributes follow it; os_xml stops at one named `var`.
        let mut listing = true;
        while let Some(a) = items.next_if(|a| a.attr) {
            listing &= !a.is_var();
            if listing && shown {
                e.attrs.push((String::from_utf8_lossy(&a.name).into_owned(), a.content));
            }
        }
        if !shown {
            continue;
        }
        close(&mut open, &mut roots, r);
        // Depths between the last listing element and this one list nothing.
        open.resize_with(r, || None);
        open.push(Some(e));
    }
    close(&mut open, &mut roots, 0);
    roots
}

/// Parses a whole file into its top-level elements, as written: `var`
/// elements and attributes are kept (see [`apply_variables`] and [`nodes`]
/// for what the loaders see).
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Element>, XmlError> {
    read_table(bytes).map(tree)
}

/// What Wazuh's loaders see of parsed elements when it does not apply
/// variables (ossec.conf): `var` elements and attributes hidden as
/// `OS_GetElementsbyNode` hides them.
#[allow(dead_code)]
pub(crate) fn nodes(elements: Vec<Element>) -> Vec<Element> {
    view(table(elements))
}

/// Applies `<var>` definitions (upstream: os_xml_variables.c `OS_ApplyVariables`)
/// and returns what the loaders see (see [`nodes`]).
///
/// Anything named `var` (case-insensitively), at any depth, defines a
/// variable: its name is the value of the first following attribute named
/// `name` in its scope (its own, usually), its value its content. Once one
/// exists, every later element's content and attribute value longer than 2
/// bytes gets `$name` replaced; the name runs to `$`, `.`, `|`, `,`, a space
/// or the end. Names starting with `(` (the `$(field)` of descriptions) and
/// empty names are left alone; an unknown name is an error. Names are compared
/// case-insensitively, the first definition of a name wins. A variable's own
/// value is **not** expanded: `<var name="b">$a$a</var>` makes `$b` the
/// literal text `$a$a`, as in Wazuh (which is also why nested definitions
/// cannot grow exponentially).
///
/// Wazuh's bookkeeping slips after a `$(...)`: a variable later in the same
/// text replaces from too early a position (`$(x) $F` with `F` = `8` becomes
/// `$8`). This is reproduced.
pub(crate) fn apply_variables(elements: Vec<Element>) -> Result<Vec<Element>, XmlError> {
    let mut items = table(elements);
    substitute_all(&mut items)?;
    Ok(view(items))
}

type Vars = [(Vec<u8>, Vec<u8>)];

fn var_error(it: &Item, msg: &[&[u8]]) -> XmlError {
    XmlError { msg: message(msg, VAR_ERR_MAX), line: it.line, column: it.column, offset: it.start }
}

fn substitute_all(items: &mut [Item]) -> Result<(), XmlError> {
    let n = items.len();
    // For a `var` entry, os_xml looks at the following entries up to the
    // first one of a lower depth, for the first attribute (one not named
    // `var`): precompute both, so that many `var`s stay linear.
    let mut next_attr = vec![n; n + 1];
    for i in (0..n).rev() {
        next_attr[i] = if items[i].attr && !items[i].is_var() { i } else { next_attr[i + 1] };
    }
    let mut next_shallower = vec![n; n];
    let mut stack: Vec<usize> = Vec::new();
    for i in (0..n).rev() {
        while stack.last().is_some_and(|&j| items[j].rl >= items[i].rl) {
            stack.pop();
        }
        next_shallower[i] = stack.last().copied().unwrap_or(n);
        stack.push(i);
    }
    let mut vars: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut budget = MAX_EXPANSION;
    for i in 0..n {
        if items[i].is_var() {
            let j = next_attr[i + 1];
            if j >= next_shallower[i] {
                return Err(var_error(&items[i], &[b"XMLERR: No value set for variable."]));
            }
            if !items[j].name.eq_ignore_ascii_case(b"name") {
                let msg: &[&[u8]] = &[b"XMLERR: Only \"name\" is allowed as an attribute for a variable."];
                return Err(var_error(&items[j], msg));
            }
            if items[j].content.len() >= VAR_NAME_SIZE {
                return Err(var_error(&items[j], &[b"XMLERR: Invalid variable name size."]));
            }
            vars.push((items[j].content.clone(), items[i].content.clone()));
        } else if items[i].content.len() > 2 && !vars.is_empty() {
            match substitute(&items[i].content, &vars, &mut budget) {
                Ok(Some(v)) => items[i].content = v,
                Ok(None) => {}
                Err(msg) => return Err(var_error(&items[i], &[msg.as_bytes()])),
            }
        }
    }
    Ok(())
}

/// The text with its variables replaced, or `None` when it has none.
///
/// os_xml keeps `init`, the position in the text being rewritten that
/// corresponds to its reading position in the original; a replacement keeps
/// the rewritten text up to `init`, adds the value and the rest of the
/// original. `$(...)` does not advance `init`.
fn substitute(text: &[u8], vars: &Vars, budget: &mut usize) -> Result<Option<Vec<u8>>, String> {
    if !text.contains(&b'$') {
        return Ok(None);
    }
    // The rewritten text is `done` + `text[from..]`.
    let mut done: Vec<u8> = Vec::with_capacity(text.len());
    let mut from = 0;
    let mut init = 0usize;
    let mut p = 0;
    let mut changed = false;
    while p < text.len() {
        if text[p] != b'$' {
            p += 1;
            init += 1;
            continue;
        }
        p += 1;
        let start = p;
        while p < text.len() && !matches!(text[p], b'$' | b'.' | b'|' | b',' | b' ') {
            if p - start >= VAR_NAME_SIZE - 1 {
                return Err(format!("XMLERR: Invalid variable name size: '{}'.", VAR_NAME_SIZE - 1));
            }
            p += 1;
        }
        let name = &text[start..p];
        match vars.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, v)) => {
                if v.len() > *budget {
                    return Err(format!(
                        "XMLERR: Variables expand to more than {} MiB in this file.",
                        MAX_EXPANSION >> 20
                    ));
                }
                *budget -= v.len();
                if init >= done.len() {
                    let more = (init - done.len()).min(text.len() - from);
                    done.extend_from_slice(&text[from..from + more]);
                } else {
                    done.truncate(init);
                }
                done.extend_from_slice(v);
                init = done.len();
                from = p;
                changed = true;
            }
            None if name.first() == Some(&b'(') => {}
            None if !name.is_empty() => {
                let shown = &name[..name.len().min(95)];
                return Err(format!("XMLERR: Unknown variable: '{}'.", String::from_utf8_lossy(shown)));
            }
            None => init += 1,
        }
    }
    if !changed {
        return Ok(None);
    }
    done.extend_from_slice(&text[from..]);
    Ok(Some(done))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(b: &[u8]) -> (String, u32) {
        let e = parse(b).unwrap_err();
        (e.msg, e.line)
    }

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

    #[test]
    fn end_of_file_anywhere_in_an_element() {
        let eof = "XMLERR: End of file and some elements were not closed.";
        for (input, line) in [
            (&b"<group name=\"x\">\n<rule>\n</rule>\n</group\n"[..], 5),
            (b"<a>text", 1),
            (b"<a><b>", 1),
            (b"<a", 1),
            (b"<a>\n\n</a", 3),
            (b"<", 1),
        ] {
            assert_eq!(err(input), (eof.to_string(), line), "{}", String::from_utf8_lossy(input));
        }
        // Complete: os_xml needs no `>` after a `/` that ends the attributes.
        assert_eq!(parse(b"<a x=\"1\"/").unwrap()[0].attr("x"), Some(&b"1"[..]));
    }

    #[test]
    fn closing_tags_are_raw() {
        assert_eq!(err(b"<a>\n</a >"), ("XMLERR: Element 'a' not closed.".into(), 2));
        assert_eq!(err(b"<a></a\n>"), ("XMLERR: Element 'a' not closed.".into(), 2));
        let els = parse(b"<a/b>x</a/b><c<!-- z -->d>y</cd>").unwrap();
        assert_eq!((els[0].name.as_str(), &els[0].content[..]), ("a/b", &b"x"[..]));
        assert_eq!(els[1].name, "cd");
        assert_eq!(err(b"</a>"), ("XMLERR: Element not opened.".into(), 1));
    }

    #[test]
    fn attributes_as_os_xml() {
        let els = parse(b"<a x = \"1\">t</a>");
        assert_eq!(els.unwrap_err().msg, "XMLERR: Attribute 'x' has no value.");
        let els = parse(b"<a x=\n 'v\n/'>t</a>").unwrap();
        assert_eq!(els[0].attr("x"), Some(&b"v\n/"[..]));
        assert_eq!(err(b"<a x=\"1>\">"), ("XMLERR: Attribute 'x' not closed.".into(), 1));
        assert_eq!(err(b"<a x=\"1"), ("XMLERR: End of file while reading an attribute.".into(), 1));
        assert_eq!(err(b"<a x=1>"), ("XMLERR: Attribute 'x' not followed by a \" or '.".into(), 1));
        assert_eq!(err(b"<a x=\"1\"y=\"2\">"), ("XMLERR: Bad attribute closing for 'x'='1'.".into(), 1));
        // `var` attributes are another type: no duplicate check across them.
        assert!(parse(b"<a x=\"1\" var=\"v\" x=\"2\"/>").is_ok());
        // The `>` after `"/` is content of the parent.
        let els = parse(b"<a><b x=\"1\"/></a>").unwrap();
        assert_eq!(els[0].content, b">");
        let many = |n: usize, tail: &str| {
            let attrs: String = (0..n).map(|i| format!(" a{i}=\"\"")).collect();
            format!("<a{attrs}{tail}></a>")
        };
        assert!(parse(many(49, "").as_bytes()).is_ok());
        assert_eq!(parse(many(49, " ").as_bytes()).unwrap_err().msg, "XMLERR: Too many attributes.");
        assert!(parse(many(48, " ").as_bytes()).is_ok());
        assert_eq!(parse(many(50, "").as_bytes()).unwrap_err().msg, "XMLERR: Too many attributes.");
    }

    #[test]
    fn comments_as_os_xml() {
        assert!(parse(b"<!-->x<!!><a>1<!--c-->2</a>").is_ok());
        assert_eq!(parse(b"<a>1<!--c-->2</a>").unwrap()[0].content, b"12");
        assert_eq!(err(b"<!DOCTYPE a>\n<a/>\n"), ("XMLERR: Comment not closed.".into(), 3));
        // A pushed-back 0xFF reads as end of file.
        assert_eq!(err(b"<!-- -\xff -->"), ("XMLERR: Comment not closed.".into(), 1));
    }

    #[test]
    fn limits() {
        let ok = format!("<a>{}</a>", "x".repeat(XML_MAXSIZE - 1));
        assert!(parse(ok.as_bytes()).is_ok());
        let long = format!("<a>{}</a>", "x".repeat(XML_MAXSIZE));
        assert_eq!(parse(long.as_bytes()).unwrap_err().msg, "XMLERR: String overflow.");
        let deep = |n: usize| "<a>".repeat(n) + &"</a>".repeat(n);
        assert!(parse(deep(MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(parse(deep(MAX_DEPTH + 1).as_bytes()).unwrap_err().msg, "XMLERR: Max recursion level reached");
        let attr = format!("<a {}=\"1\">", "n".repeat(XML_MAXSIZE));
        let e = parse(attr.as_bytes()).unwrap_err().msg;
        assert_eq!(e, format!("XMLERR: Overflow attempt at attribute '{}'.", "n".repeat(20)));
        let name = "e".repeat(200);
        let e = parse(format!("<{name}></x>").as_bytes()).unwrap_err().msg;
        assert_eq!(e.len(), ERR_MAX);
    }

    #[test]
    fn the_view_hides_var() {
        let els = parse(b"<g n=\"1\" var=\"v\" m=\"2\"><var name=\"x\">1</var><r/></g>").unwrap();
        let v = nodes(els);
        assert_eq!(v[0].attrs.len(), 1);
        assert_eq!(v[0].children.len(), 1);
        // Children of a `var` that follows an element are listed as its own.
        let v = nodes(parse(b"<a><b/></a><var name=\"y\"><c/></var>").unwrap());
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["b", "c"]);
    }

    #[test]
    fn substitution_slips_after_a_field() {
        let els = parse(b"<var name=\"F\">8</var><r>$(x) $F</r>").unwrap();
        assert_eq!(apply_variables(els).unwrap()[0].content, b"$8");
        let long = format!("<var name=\"F\">8</var><r>${}</r>", "n".repeat(255));
        let e = apply_variables(parse(long.as_bytes()).unwrap()).unwrap_err().msg;
        assert_eq!(e, format!("XMLERR: Unknown variable: '{}'.", "n".repeat(95)));
        let long = format!("<var name=\"F\">8</var><r>${}</r>", "n".repeat(256));
        let e = apply_variables(parse(long.as_bytes()).unwrap()).unwrap_err().msg;
        assert_eq!(e, "XMLERR: Invalid variable name size: '255'.");
    }

    #[test]
    fn deep_files_need_little_stack() {
        let run = || {
            let deep =
                format!("<var name=\"v\">1</var>{}{}", "<a x=\"$v.\">".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
            let els = parse(deep.as_bytes()).unwrap();
            let els = apply_variables(els).unwrap();
            assert_eq!(els.len(), 1);
            let mut e = &els[0];
            while let Some(c) = e.children.first() {
                e = c;
            }
            assert_eq!(e.attr("x"), Some(&b"1."[..]));
            let deeper = "<a>".repeat(100_000);
            assert_eq!(parse(deeper.as_bytes()).unwrap_err().msg, "XMLERR: Max recursion level reached");
        };
        std::thread::Builder::new().stack_size(256 << 10).spawn(run).unwrap().join().unwrap();
    }
}
