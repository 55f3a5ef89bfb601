//! OS_Regex: Wazuh's own pattern language, bit-compatible with 4.14.7.
//!
//! Upstream: `src/os_regex/os_regex_compile.c` (`OSRegex_Compile`),
//! `os_regex_execute.c` (`OSRegex_Execute_ex`, `_OS_Regex`) and
//! `os_regex_maps.c` (`regexmap`, `charmap`). It is the default language of
//! decoder `<prematch>`/`<regex>` and rule `<regex>`/`<field>`.
//!
//! # This is not a regular-expression engine
//!
//! OS_Regex is a single forward scan over the subject with at most four saved
//! restart points. It has no backtracking, and its results (match or not, the
//! "end pointer", the captures) follow from the *exact* order of its steps,
//! bugs included. This module ports that algorithm step by step (the
//! decoding spec, section 5.3.5); translating patterns to another regex engine
//! can never be bit-exact. The 517 upstream unit vectors, with the results the
//! real C code returns, are checked by `tests/os_regex_vectors.rs`.
//!
//! # Language
//!
//! * Literal bytes match themselves, ASCII case-insensitively; a literal
//!   byte of 0x80 or above **never matches** (upstream compares a signed
//!   `char` with an unsigned one: `é` does not match `é`; classes such as
//!   `\S` and `\.` do take such bytes). `.`, `[`, `]`, `{`, `}`, `?` are
//!   literal bytes, and so are `+` and `*` unless they directly follow an
//!   escape: `a+b` only matches `a+b`.
//! * Escapes (anything else after `\`, a lone trailing `\` included, is a
//!   compile error): `\d` digits; `\D` non-digits; `\w` `A-Za-z0-9` **plus
//!   `-`, `@`, `_`**; `\W` the rest; `\s` **only the space** (not tab);
//!   `\S` everything but the space; `\p` the punctuation set
//!   `!"#$%&'()*+,-.:;<=>?[]{|}` (not `/ @ \ ^ _` backtick `~`); `\t` tab;
//!   `\.` **any byte**; `\\ \( \) \$ \| \<` the byte itself.
//! * `\x+` / `\x*`: lazy, non-backtracking runs (see below).
//! * `( ... )`: one level of groups; nested or unbalanced parentheses and `|`
//!   inside a group are compile errors. Groups capture only when compiled with
//!   `captures` (decoder `<regex>`) *and* the pattern has a group.
//! * `|` at top level separates alternatives, tried in order; group numbering
//!   restarts in each one. `^` as the first byte of an alternative and `$` as
//!   its last byte anchor it; anywhere else they are literal.
//!
//! # Traps this module reproduces on purpose
//!
//! * A quantified class stops as soon as the *next* token accepts the current
//!   byte; only the four save slots give it a limited second chance.
//!   `^(\w+)s$` does not match `class`; `\w+1 \w+2 \w+3 \w+4 \w+5 \w+6` runs
//!   out of save slots.
//! * Both parentheses compile to the same cell, which compares equal to a
//!   literal `(`: adjacent groups `)(` only match a literal `(` in the
//!   subject, so `(hi)(Wazuh)` never matches `hiWazuh`.
//! * The `+` quantifier can accept zero bytes when a stale "inside a run" flag
//!   survives from an earlier token (`(\d+)\.(\d+)` on `v 12.34 x` captures
//!   `1` and `""`).
//! * Group marks are cleared once per alternative, not when the matcher
//!   restarts inside it, so stale marks survive; a group whose closing mark was
//!   never recorded is dropped together with every later group.
//! * In capture mode the final acceptance test first skips trailing `\x*`
//!   tokens, so the same pattern can match in capture mode and fail without it
//!   (or vice versa). [`OsRegex::is_match`] therefore runs in the mode the
//!   pattern was compiled in.
//! * A closing mark recorded before its opening mark is a size underflow
//!   upstream (a failed allocation, or memory corruption). Here it is
//!   reported as "no match" for the whole regex, as upstream's allocation
//!   failure does.
//!
//! # The end pointer
//!
//! A match returns an index into the subject (upstream returns a pointer). It
//! is *whatever the scan left behind*, not consistently the last matched
//! byte: the last matched byte, the first byte after a quantified run, the
//! first byte of a final quantified run, `0` for an empty subject (so it can
//! equal the subject length), or `-1` (one byte *before* the subject) for
//! patterns made of `*` runs that matched nothing. Decoders derive their
//! `after_prematch` / `after_regex` cursor from it with [`next_offset`].
//!
//! # Subjects and patterns
//!
//! Everything is bytes. Upstream works on NUL-terminated C strings, so a
//! pattern is cut at its first NUL byte, and a subject ends at its first NUL
//! byte (subjects coming from logs never contain one).

use std::fmt;

/// Longest accepted pattern, in bytes (upstream `OS_PATTERN_MAXSIZE`).
pub(crate) const MAX_PATTERN_LEN: usize = 20480;

/// Number of restart points the matcher can save (upstream `pt_error[4]`).
const SAVE_SLOTS: usize = 4;

/// Group count up to which [`OsRegex::is_match`] keeps marks on the stack.
const STACK_GROUPS: usize = 64;

/// A mark slot that was never written (upstream: a NULL pointer).
const UNSET: usize = usize::MAX;

/// Why a pattern did not compile. The numbers are upstream's `reg->error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsRegexError {
    /// Code 2, `OS_REGEX_PATTERN_NULL`: the pattern is missing (a NULL
    /// pointer upstream). [`OsRegex::compile`] never returns it: an empty
    /// pattern is valid and matches everything. Callers that have no pattern
    /// at all may use it.
    Empty,
    /// Code 3, `OS_REGEX_MAXSIZE`: longer than [`MAX_PATTERN_LEN`] bytes.
    TooLong,
    /// Code 6, `OS_REGEX_BADREGEX`: `\` followed by anything but
    /// `d w s p ( ) \ D W S . t $ | <`, or a trailing lone `\`.
    BadEscape,
    /// Code 7, `OS_REGEX_BADPARENTHESIS`: nested or unbalanced parentheses,
    /// or `|` inside a group.
    BadParen,
}

impl OsRegexError {
    /// Upstream's numeric error code.
    pub(crate) fn code(&self) -> i32 {
        match self {
            OsRegexError::Empty => 2,
            OsRegexError::TooLong => 3,
            OsRegexError::BadEscape => 6,
            OsRegexError::BadParen => 7,
        }
    }
}

impl fmt::Display for OsRegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            OsRegexError::Empty => "null pattern",
            OsRegexError::TooLong => "pattern longer than 20480 bytes",
            OsRegexError::BadEscape => "invalid escape sequence",
            OsRegexError::BadParen => "unbalanced or nested parenthesis, or '|' inside a group",
        };
        write!(f, "{what} (OS_Regex error {})", self.code())
    }
}

impl std::error::Error for OsRegexError {}

// ---------------------------------------------------------------------------
// Character classes (upstream `regexmap`). Class codes are upstream's: 1 `\d`,
// 2 `\w`, 3 `\s`, 4 `\p`, 5 `\(`, 6 `\)`, 7 `\\`, 8 `\D`, 9 `\W`, 10 `\S`,
// 11 `\.`, 12 `\t`, 13 `\$`, 14 `\|`, 15 `\<`.

fn class_code(letter: u8) -> Option<u8> {
    Some(match letter {
        b'd' => 1,
        b'w' => 2,
        b's' => 3,
        b'p' => 4,
        b'(' => 5,
        b')' => 6,
        b'\\' => 7,
        b'D' => 8,
        b'W' => 9,
        b'S' => 10,
        b'.' => 11,
        b't' => 12,
        b'$' => 13,
        b'|' => 14,
        b'<' => 15,
        _ => return None,
    })
}

const fn class_member(code: u8, b: u8) -> bool {
    let digit = b.is_ascii_digit();
    let word = b.is_ascii_alphanumeric() || b == b'-' || b == b'@' || b == b'_';
    match code {
        1 => digit,
        2 => word,
        3 => b == b' ',
        4 => matches!(b, 0x21..=0x2e | 0x3a..=0x3f | 0x5b | 0x5d | 0x7b..=0x7d),
        5 => b == b'(',
        6 => b == b')',
        7 => b == b'\\',
        8 => !digit,
        9 => !word,
        10 => b != b' ',
        11 => true,
        12 => b == b'\t',
        13 => b == b'$',
        14 => b == b'|',
        15 => b == b'<',
        _ => false,
    }
}

const fn build_classes() -> [[bool; 256]; 16] {
    let mut table = [[false; 256]; 16];
    let mut code = 0;
    while code < 16 {
        let mut b = 0;
        while b < 256 {
            table[code][b] = class_member(code as u8, b as u8);
            b += 1;
        }
        code += 1;
    }
    table
}

static CLASSES: [[bool; 256]; 16] = build_classes();

#[inline]
fn in_class(code: u8, b: u8) -> bool {
    CLASSES[usize::from(code & 15)][usize::from(b)]
}

// ---------------------------------------------------------------------------
// Compiled form.

/// One cell of a compiled alternative. Cells keep upstream's byte layout (an
/// escape takes two cells, a parenthesis one) because the algorithm looks at
/// fixed offsets such as "two cells after this escape" and "three cells after",
/// and some of its bugs depend on what sits there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// End of the alternative (the C terminator). Also what any read past the
    /// end returns.
    End,
    /// A literal byte, lower-cased. `+` and `*` are literals too; they act as
    /// quantifiers only in the cell right after an escape.
    Lit(u8),
    /// An escape (the `\` cell), with its class code.
    Esc(u8),
    /// Second cell of an escape. The scan never lands on it.
    EscArg(u8),
    /// A group parenthesis, opening or closing; the number is its position
    /// among the marks of the alternative (even = open, odd = close).
    Mark(u32),
}

impl Cell {
    /// The byte upstream stores in this cell, for the places where it compares
    /// a cell with a (lower-cased) subject byte. A mark is a `(`.
    #[inline]
    fn byte(self) -> u8 {
        match self {
            Cell::End => 0,
            Cell::Lit(b) => b,
            Cell::Esc(_) => b'\\',
            Cell::EscArg(code) => code,
            Cell::Mark(_) => b'(',
        }
    }

    /// Does this cell take the subject byte `lower` (lower-cased)? Upstream compares the
    /// pattern's `char` with `charmap[(uchar) byte]`: `char` is signed on x86-64, so a pattern
    /// byte >= 0x80 is negative there and never equals a subject byte. A literal `é` (or any
    /// non-ASCII byte) in an OS_Regex therefore never matches, even itself.
    #[inline]
    fn takes(self, lower: u8) -> bool {
        lower < 0x80 && self.byte() == lower
    }

    #[inline]
    fn is_quantifier(self) -> bool {
        matches!(self, Cell::Lit(b'+') | Cell::Lit(b'*'))
    }

    #[inline]
    fn is_star(self) -> bool {
        self == Cell::Lit(b'*')
    }

    #[inline]
    fn is_escape(self) -> bool {
        matches!(self, Cell::Esc(_))
    }
}

#[derive(Debug, Clone)]
struct Alternative {
    cells: Box<[Cell]>,
    /// `^`: the alternative may only match from the start of the subject.
    begin: bool,
    /// `$`: the alternative must end at the end of the subject.
    end: bool,
    /// Number of groups (half the number of marks).
    groups: usize,
    /// A run of literal cells every match must consume as consecutive subject
    /// bytes (see [`required_literal`]), used to skip the scan when the subject
    /// does not contain it. `None` when there is no safe run or the
    /// alternative is anchored at the start (those fail fast anyway).
    /// A literal every match contains (lower-cased), and its anchor byte for the search.
    required: Option<(Box<[u8]>, usize)>,
}

impl Alternative {
    #[inline]
    fn cell(&self, i: usize) -> Cell {
        self.cells.get(i).copied().unwrap_or(Cell::End)
    }

    fn new(mut cells: Vec<Cell>, marks: u32) -> Alternative {
        let begin = cells.first() == Some(&Cell::Lit(b'^'));
        if begin {
            cells.remove(0);
        }
        let end = cells.last() == Some(&Cell::Lit(b'$'));
        if end {
            cells.pop();
        }
        let required = if begin { None } else { required_literal(&cells) }.map(|l| {
            let k = super::os_match::anchor(&l);
            (l, k)
        });
        Alternative { cells: cells.into_boxed_slice(), begin, end, groups: marks as usize / 2, required }
    }

    /// False when the subject cannot match because it lacks the required literal.
    #[inline]
    fn may_match(&self, subject: &[u8]) -> bool {
        match &self.required {
            // The subject is a C string: the literal must occur before its first NUL. Found in
            // the whole subject, only the part up to the first occurrence is checked for one
            // (a later occurrence would be past that NUL too), so a long log is not scanned
            // twice per pattern.
            Some((lit, k)) => super::os_match::find_ignore_case_at(subject, lit, *k)
                .is_some_and(|at| memchr::memchr(0, &subject[..at + lit.len()]).is_none()),
            None => true,
        }
    }
}

/// The longest run of literal cells that any match consumes byte for byte.
///
/// Every way the scan passes a literal cell compares it with the current
/// subject byte (a plain literal step, or the look-ahead out of a quantified
/// run), and the next cell is compared with the next byte, so a run of
/// adjacent literal cells always matches adjacent bytes. Two exceptions are
/// left out: a `+`/`*` right after an escape is a quantifier, not a literal,
/// and the alternative's *last* cell, which the early accept of a class step
/// (`P[p+3]` is the end) can skip without consuming.
fn required_literal(cells: &[Cell]) -> Option<Box<[u8]>> {
    let usable = |i: usize| -> Option<u8> {
        let Cell::Lit(b) = cells[i] else { return None };
        let quantifier = i > 0 && matches!(cells[i - 1], Cell::EscArg(_)) && cells[i].is_quantifier();
        if quantifier || i + 1 == cells.len() {
            None
        } else {
            Some(b)
        }
    };
    let mut best: &[Cell] = &[];
    let mut i = 0;
    while i < cells.len() {
        if usable(i).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        while i < cells.len() && usable(i).is_some() {
            i += 1;
        }
        if i - start > best.len() {
            best = &cells[start..i];
        }
    }
    if best.is_empty() {
        return None;
    }
    Some(best.iter().map(|c| c.byte()).collect())
}

/// A compiled OS_Regex pattern. Immutable; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct OsRegex {
    raw: Box<[u8]>,
    alternatives: Box<[Alternative]>,
    /// Capture mode: compiled with captures and the pattern has a group.
    capture: bool,
    /// Most groups of any alternative.
    max_groups: usize,
}

impl OsRegex {
    /// Compiles `pattern`.
    ///
    /// `captures` is upstream's `OS_RETURN_SUBSTRING` (decoder `<regex>`).
    /// Capture mode is on only if it is set *and* the pattern contains a
    /// group; capture mode also changes how a match may end (see the module
    /// documentation).
    pub fn compile(pattern: &[u8], captures: bool) -> Result<OsRegex, OsRegexError> {
        let text = until_nul(pattern);
        if text.len() > MAX_PATTERN_LEN {
            return Err(OsRegexError::TooLong);
        }

        let mut alternatives = Vec::new();
        let mut cells = Vec::with_capacity(text.len());
        let mut marks = 0u32;
        let mut in_group = false;
        let mut has_group = false;
        let mut bytes = text.iter().copied();
        while let Some(b) = bytes.next() {
            match b {
                b'\\' => {
                    let code = bytes.next().and_then(class_code).ok_or(OsRegexError::BadEscape)?;
                    cells.push(Cell::Esc(code));
                    cells.push(Cell::EscArg(code));
                }
                b'(' | b')' => {
                    let opening = b == b'(';
                    if in_group == opening {
                        return Err(OsRegexError::BadParen);
                    }
                    in_group = opening;
                    has_group |= !opening;
                    cells.push(Cell::Mark(marks));
                    marks += 1;
                }
                b'|' => {
                    if in_group {
                        return Err(OsRegexError::BadParen);
                    }
                    alternatives.push(Alternative::new(std::mem::take(&mut cells), marks));
                    marks = 0;
                }
                _ => cells.push(Cell::Lit(b.to_ascii_lowercase())),
            }
        }
        if in_group {
            return Err(OsRegexError::BadParen);
        }
        alternatives.push(Alternative::new(cells, marks));

        let capture = captures && has_group;
        let max_groups = if capture { alternatives.iter().map(|a| a.groups).max().unwrap_or(0) } else { 0 };
        Ok(OsRegex { raw: pattern.into(), alternatives: alternatives.into_boxed_slice(), capture, max_groups })
    }

    /// Runs the pattern on `subject`.
    ///
    /// Returns `None` for no match, or `Some(end)`, upstream's end pointer as
    /// an index into `subject` (it can be `-1` and, for an empty subject, `0`;
    /// see the module documentation and [`next_offset`]).
    ///
    /// `caps` is cleared, then receives the captured groups of the matching
    /// alternative as `(start, end)` byte ranges into `subject` (capture mode
    /// only). Reuse it between calls: after it has grown once, nothing is
    /// allocated.
    pub fn exec(&self, subject: &[u8], caps: &mut Vec<(usize, usize)>) -> Option<isize> {
        caps.clear();
        if !self.capture {
            return self.run_plain(subject);
        }
        caps.resize(self.max_groups, (UNSET, UNSET));
        match self.run_capturing(subject, caps) {
            Some((end, groups)) => {
                caps.truncate(groups);
                Some(end)
            }
            None => {
                caps.clear();
                None
            }
        }
    }

    /// Does the pattern match `subject`? Same result as [`OsRegex::exec`]
    /// returning `Some`, without reporting captures. Does not allocate (except
    /// for a capture-mode pattern with more than 64 groups).
    pub fn is_match(&self, subject: &[u8]) -> bool {
        if !self.capture {
            return self.run_plain(subject).is_some();
        }
        if self.max_groups <= STACK_GROUPS {
            let mut marks = [(UNSET, UNSET); STACK_GROUPS];
            self.run_capturing(subject, &mut marks).is_some()
        } else {
            let mut marks = vec![(UNSET, UNSET); self.max_groups];
            self.run_capturing(subject, &mut marks).is_some()
        }
    }

    /// How many alternatives can never match, of how many: a literal cell must be taken by a
    /// subject byte ([`Cell::takes`]), and one of 0x80 or above never is. One exception: the
    /// last cell of an alternative without `$`, right after an unquantified escape, is skipped
    /// when that escape fails on a byte inside a run (step 2b: `\w+\w\s` then byte 0xA9
    /// matches `aab 1`), so such an alternative is not counted; a UTF-8 character is two bytes
    /// or more, never in that case. Checked against upstream's C code on 1.8 million random
    /// patterns with such a byte.
    pub(crate) fn dead_alternatives(&self) -> (usize, usize) {
        let dead = self
            .alternatives
            .iter()
            .filter(|a| {
                a.cells.iter().enumerate().any(|(i, c)| {
                    let skippable = !a.end && i + 1 == a.cells.len() && i >= 2 && a.cells[i - 2].is_escape();
                    matches!(c, Cell::Lit(b) if *b >= 0x80) && !skippable
                })
            })
            .count();
        (dead, self.alternatives.len())
    }

    /// The pattern as given to [`OsRegex::compile`].
    pub(crate) fn pattern(&self) -> &[u8] {
        &self.raw
    }

    /// Whether the pattern runs in capture mode (compiled with captures and
    /// containing a group).
    pub fn captures(&self) -> bool {
        self.capture
    }

    fn run_plain(&self, subject: &[u8]) -> Option<isize> {
        self.alternatives.iter().filter(|alt| alt.may_match(subject)).find_map(|alt| run(alt, subject, &mut NoMarks))
    }

    /// Capture mode: tries each alternative with its marks cleared, and turns
    /// the marks of the first one that matches into groups. Returns the end
    /// pointer and the number of groups left in `buf[..n]`.
    fn run_capturing(&self, subject: &[u8], buf: &mut [(usize, usize)]) -> Option<(isize, usize)> {
        for alt in self.alternatives.iter().filter(|alt| alt.may_match(subject)) {
            let marks = buf.get_mut(..alt.groups)?;
            marks.fill((UNSET, UNSET));
            if let Some(end) = run(alt, subject, &mut CaptureMarks(marks)) {
                // Groups stop at the first one with a mark never recorded.
                let groups = marks.iter().position(|&(open, close)| open == UNSET || close == UNSET);
                let groups = groups.unwrap_or(marks.len());
                // A group closing before it opens is a size underflow upstream;
                // its allocation fails and the whole regex reports no match.
                if marks[..groups].iter().any(|&(open, close)| close < open) {
                    return None;
                }
                return Some((end, groups));
            }
        }
        None
    }
}

/// The decoder cursor after a match whose end pointer is `end`, in a subject
/// of `subject_len` bytes.
///
/// Upstream (`decoder.c`) does `if (*end != '\0') end++`: the cursor is the
/// byte after the end pointer, unless the end pointer is at the terminator.
///
/// * `0 <= end < subject_len`: `end + 1` (possibly `subject_len`).
/// * `end >= subject_len`: only `end == subject_len == 0` can happen, for an
///   empty subject (the pointer starts at the subject and the scan never
///   runs). It points at the terminator, so the cursor stays: `subject_len`.
/// * `end == -1` (a pattern of `*` runs that matched nothing): upstream reads
///   the byte *before* the subject, undefined behaviour. In practice that byte
///   is not NUL (the subject is inside the log, or follows a header), so the
///   cursor becomes `end + 1`: the start of the subject, `0`.
pub fn next_offset(subject_len: usize, end: isize) -> usize {
    match usize::try_from(end) {
        Err(_) => 0,
        Ok(end) if end < subject_len => end + 1,
        Ok(_) => subject_len,
    }
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    match memchr::memchr(0, bytes) {
        Some(n) => &bytes[..n],
        None => bytes,
    }
}

// ---------------------------------------------------------------------------
// The scan (upstream `_OS_Regex`). Spec section 5.3.5 names the steps.

/// Where group marks go. The scan records marks only in capture mode, and
/// capture mode also changes the final acceptance test.
trait Marks {
    const CAPTURE: bool;
    fn record(&mut self, mark: u32, at: usize);
}

struct NoMarks;

impl Marks for NoMarks {
    const CAPTURE: bool = false;
    #[inline]
    fn record(&mut self, _mark: u32, _at: usize) {}
}

/// Marks as `(open, close)` pairs, one per group.
struct CaptureMarks<'a>(&'a mut [(usize, usize)]);

impl Marks for CaptureMarks<'_> {
    const CAPTURE: bool = true;
    #[inline]
    fn record(&mut self, mark: u32, at: usize) {
        if let Some(pair) = self.0.get_mut(mark as usize / 2) {
            if mark & 1 == 0 {
                pair.0 = at;
            } else {
                pair.1 = at;
            }
        }
    }
}

/// What one step of the scan did with the current subject byte.
enum Step {
    /// Consumed it: go on with the next byte.
    Next,
    /// Moved in the pattern only: look at the same byte again.
    Again,
    /// Nothing accepted it.
    Fail,
}

#[inline]
fn byte_at(subject: &[u8], i: usize) -> u8 {
    subject.get(i).copied().unwrap_or(0)
}

/// Runs one alternative. Returns the end pointer, or `None` for no match.
fn run<M: Marks>(alt: &Alternative, subject: &[u8], marks: &mut M) -> Option<isize> {
    // Cursors: `p` into the cells, `s` into the subject.
    let mut p = 0usize;
    let mut s = 0usize;
    // The end pointer. `None` after a restart from scratch (NULL upstream),
    // which is different from `Some(-1)`.
    let mut last: Option<isize> = Some(0);
    // "Inside a quantified run" (upstream `_regex_matched`). Never restored
    // from a save slot, and it survives a restart after a literal mismatch.
    let mut rep = false;
    // Where the current attempt consumed its first byte (upstream `st_error`).
    let mut first: Option<usize> = None;
    let mut saved: [Option<(usize, usize)>; SAVE_SLOTS] = [None; SAVE_SLOTS];

    loop {
        let ch = byte_at(subject, s);
        if ch == 0 {
            break;
        }
        let lower = ch.to_ascii_lowercase();

        // 1. Pre-step: pass one mark, stop at the end of the pattern.
        if let Cell::Mark(m) = alt.cell(p) {
            marks.record(m, s);
            p += 1;
        }
        if alt.cell(p) == Cell::End && !alt.end {
            return last;
        }

        let step = match alt.cell(p) {
            // 2a. A class that accepts the byte.
            Cell::Esc(class) if in_class(class, ch) => 'accepted: {
                let quant = alt.cell(p + 2);
                if !quant.is_quantifier() {
                    p += 2;
                    first.get_or_insert(s);
                    last = Some(s as isize);
                    break 'accepted Step::Next;
                }
                if quant.is_star() {
                    rep = true;
                }
                if rep {
                    // Inside a run: does the token after it take this byte?
                    let mut q = p + 3;
                    let skipped_mark = match alt.cell(q) {
                        Cell::Mark(m) => {
                            q += 1;
                            Some(m)
                        }
                        _ => None,
                    };
                    let next = alt.cell(q);
                    let advance = match next {
                        Cell::End => Some(1),
                        Cell::Esc(class2) => {
                            in_class(class2, ch).then(|| if alt.cell(q + 2).is_quantifier() { 0 } else { 2 })
                        }
                        other if other.takes(lower) => {
                            rep = false;
                            Some(1)
                        }
                        _ => None,
                    };
                    if let Some(advance) = advance {
                        if let Some(m) = skipped_mark {
                            marks.record(m, if rep && advance == 1 { s + 1 } else { s });
                        }
                        if next == Cell::End {
                            // The run reached the end of the pattern: keep
                            // consuming, and leave `last` alone (this is why a
                            // final `\w+` returns the start of its run).
                            break 'accepted Step::Next;
                        }
                        if let Some(slot) = saved.iter_mut().find(|slot| slot.is_none()) {
                            *slot = Some((p, s));
                        }
                        p = q + advance;
                    }
                } else {
                    // First byte of a `+` run. The pattern position stays.
                    if let Cell::Mark(m) = alt.cell(p + 3) {
                        let at_last_byte = byte_at(subject, s + 1) == 0;
                        marks.record(m, if at_last_byte { s + 1 } else { s });
                    }
                    rep = true;
                }
                last = Some(s as isize);
                Step::Next
            }
            // 2b. A class that rejects the byte.
            Cell::Esc(_) => {
                let after = alt.cell(p + 2);
                if (after == Cell::End || alt.cell(p + 3) == Cell::End) && rep && last.is_some() {
                    last = Some(s as isize);
                    if !alt.end {
                        return last;
                    }
                    rep = false;
                    Step::Fail
                } else if after == Cell::Lit(b'+') && rep {
                    p += 3;
                    rep = false;
                    Step::Again
                } else if after.is_star() {
                    p += 3;
                    last = Some(s as isize - 1);
                    rep = false;
                    Step::Again
                } else {
                    rep = false;
                    Step::Fail
                }
            }
            // 3. A literal cell (a mark compares as `(`).
            cell if cell.takes(lower) => {
                p += 1;
                first.get_or_insert(s);
                last = Some(s as isize);
                Step::Next
            }
            _ => Step::Fail,
        };

        match step {
            Step::Next => s += 1,
            Step::Again => {}
            // 4. Failure: resume from the newest save slot, or restart.
            Step::Fail => {
                if let Some((sp, ss)) = saved.iter_mut().rev().find_map(|slot| slot.take()) {
                    p = sp;
                    s = ss + 1;
                } else if alt.begin {
                    return None;
                } else {
                    if let Some(f) = first.take() {
                        s = f;
                    }
                    p = 0;
                    last = None;
                    s += 1;
                }
            }
        }
    }

    // The subject is exhausted; `s` is at its terminator.
    if M::CAPTURE {
        // A group may close after trailing `\x*` tokens that matched nothing.
        while alt.cell(p).is_escape() && alt.cell(p + 2).is_star() {
            p += 3;
        }
        if let Cell::Mark(m) = alt.cell(p) {
            marks.record(m, s);
        }
    }
    if accepts_at_end(alt, p, rep) {
        last
    } else {
        None
    }
}

/// The final test once the subject is exhausted: is the rest of the pattern
/// empty enough? Each check moves the cursor and the moves persist into the
/// next check, exactly as upstream's chain of `&&`/`||` with side effects.
fn accepts_at_end(alt: &Alternative, mut p: usize, rep: bool) -> bool {
    // Upstream `ENDOFFILE`: step over one mark, then expect the end.
    let end_here = |p: &mut usize| {
        if let Cell::Mark(_) = alt.cell(*p) {
            *p += 1;
        }
        alt.cell(*p) == Cell::End
    };

    if end_here(&mut p) {
        return true;
    }
    if alt.cell(p).is_escape() && rep {
        p += 2;
        if alt.cell(p).is_quantifier() {
            p += 1;
            if end_here(&mut p) {
                return true;
            }
            if alt.cell(p).is_escape() {
                p += 2;
                if alt.cell(p).is_star() {
                    p += 1;
                    if end_here(&mut p) {
                        return true;
                    }
                }
            }
        }
    }
    if alt.cell(p).is_escape() {
        p += 2;
        if alt.cell(p).is_star() {
            p += 1;
            return end_here(&mut p);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_pattern_is_shareable() {
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        shareable::<OsRegex>();
    }

    /// (matched end index, groups as strings)
    fn exec(pattern: &str, subject: &str) -> Option<(isize, Vec<String>)> {
        let re = OsRegex::compile(pattern.as_bytes(), true).expect("compiles");
        let mut caps = Vec::new();
        let end = re.exec(subject.as_bytes(), &mut caps)?;
        assert!(re.is_match(subject.as_bytes()), "is_match agrees for {pattern:?} on {subject:?}");
        let groups =
            caps.iter().map(|&(a, b)| String::from_utf8_lossy(&subject.as_bytes()[a..b]).into_owned()).collect();
        Some((end, groups))
    }

    fn check(pattern: &str, subject: &str, end: Option<isize>, groups: &[&str]) {
        let got = exec(pattern, subject);
        match end {
            None => assert!(got.is_none(), "{pattern:?} on {subject:?}: expected no match, got {got:?}"),
            Some(e) => {
                let (ge, gg) = got.unwrap_or_else(|| panic!("{pattern:?} on {subject:?}: expected a match"));
                assert_eq!(ge, e, "{pattern:?} on {subject:?}: end");
                assert_eq!(gg, groups, "{pattern:?} on {subject:?}: groups");
            }
        }
    }

    /// Appendix B gives the subject from the end index onwards.
    fn check_tail(pattern: &str, subject: &str, tail: Option<&str>, groups: &[&str]) {
        let end = tail.map(|t| (subject.len() - t.len()) as isize);
        check(pattern, subject, end, groups);
    }

    #[test]
    fn spec_5_3_6_table() {
        check("^foo", "foo bar", Some(2), &[]);
        check("^foo ", "foo bar", Some(3), &[]);
        check("^foo\\s+", "foo   bar", Some(6), &[]);
        check("^foo\\s+", "foo   ", Some(3), &[]);
        check("^foo: \\S+", "foo: abc def", Some(8), &[]);
        check("^foo: (\\S+)", "foo: abc def", Some(5), &["abc"]);
        check("^foo: (\\S+) ", "foo: abc def", Some(8), &["abc"]);
        check("\\d+", "abc123def", Some(6), &[]);
        check("\\d+", "abc123", Some(3), &[]);
        check("(\\d+)\\.(\\d+)", "v 12.34 x", Some(3), &["1", ""]);
        check("(\\d+).(\\d+)", "v 12.34 x", Some(5), &["12", "34"]);
        check("(\\d+.\\d+.\\d+.\\d+)", "ip=10.20.30.40;", Some(12), &["10.20.30.40"]);
        check("(\\S+)@(\\S+)", "a@b@c", Some(2), &["a", "b@c"]);
        check("user=(\\.*) ", "user=john doe x", Some(9), &["john"]);
        check("^(\\.+) (\\d+)$", "hello world 42", Some(12), &["hello world", "42"]);
        check("(\\w+)=(\\w+)", "key=value other=2", Some(4), &["key", "value"]);
        let s = "sshd: from 1.2.3.4 port 22 ssh2";
        check("from (\\S+) port (\\d+)", s, Some(s.find("22").unwrap_or(0) as isize), &["1.2.3.4", "22"]);
        check("(\\w+)", "foo-bar@x_y.z", Some(0), &["foo-bar@x_y"]);
        check("\\s+(\\S+)", "a\tb c", Some(4), &["c"]);
        check("a+b", "aab", None, &[]);
        check("a+b", "xa+by", Some(3), &[]);
        check("a.c", "abc", None, &[]);
        check("a\\.c", "abc", Some(2), &[]);
        check("ABC", "xabcx", Some(3), &[]);
        check("(hi)(Wazuh)", "hiWazuh", None, &[]);
        check("(\\d+)\\D*", "123", Some(2), &[""]);
        check("(\\d+\\w\\d+)", "04T15", Some(1), &["04"]);
        check("\\d*", "abc", Some(-1), &[]);
        check("^\\d+$", "123 ", None, &[]);
        check("\\w+1 \\w+2 \\w+3 \\w+4 \\w+5 \\w+6", "z1 x2 x3 x4 x5x5 x6", None, &[]);
        check("^{\\s*\"", "{\"a\":1}", Some(1), &[]);
        check("\"integration\":\"ms-graph\"", "{\"integration\": \"ms-graph\"}", None, &[]);
        check("^(\\w+)s$", "class", None, &[]);
    }

    #[test]
    fn appendix_b_table() {
        check_tail("\\w+", "Wazuh", Some("Wazuh"), &[]);
        check_tail("(\\w+)", "Wazuh", Some("Wazuh"), &["Wazuh"]);
        check_tail("^\\w+\\s+$", "Wazuh  ", Some("  "), &[]);
        check_tail("\\w+\\s*", "Wazuh ", Some("h "), &[]);
        check_tail("(\\w+)(\\s+)", "Wazuh ", None, &[]);
        check_tail("(\\w+)\\d+(\\s*)", "Wazuh123 ", Some("3 "), &["Wazuh", " "]);
        check_tail("(\\d+)", "asd_12_qwe", Some("12_qwe"), &["12"]);
        check_tail("\\p+", "$()|<", Some("$()|<"), &[]);
        check_tail("Backslash character is (\\.*)", "Backslash character is \\", Some(" \\"), &["\\"]);
        check_tail("Special characters are \\t+", "Special characters are $()|<\\", None, &[]);
        check_tail("Special characters are (\\d*)", "Special characters are $()|<\\", Some(" $()|<\\"), &[""]);
        check_tail("^\\d+", "1234asd", Some("asd"), &[]);
        check_tail("^(\\d+)", "1234asd", Some("1234asd"), &["1234"]);
        check_tail("^$|^\\d|\\d$|\\s(\\w+\\w)", "^hi digits asd", Some("igits asd"), &["di"]);
        check_tail("\\d*$", "pattern123", None, &[]);
        check_tail("(\\d*)$", "123pattern", None, &[]);
        check_tail("\\D*\\d*", "Test123", Some("t123"), &[]);
        check_tail("\\w*\\w*\\w*\\w*\\w*\\w*", "xy", None, &[]);
        check_tail("\\w*\\p*\\d*\\w*", "xy55", None, &[]);
        check_tail("xyz\\d*\\w*", "xyz", None, &[]);
        check_tail("xyz(\\w*)", "xyz", Some("z"), &[]);
        check_tail("\\d+(\\D*)", "123Test", Some("3Test"), &["Test"]);
        check_tail("(\\d*)\\w*", "123Test", Some("123Test"), &[""]);
        check_tail(
            "(\\w+1) (\\w+2) (\\w+3) (\\w+4) (\\w+5)",
            "xyz1xyz1 xyz2xyz2 xyz3xyz3 xyz4xyz4 xyz5xyz5",
            Some("5xyz5"),
            &["xyz1xyz1", "xyz2xyz2", "xyz3xyz3", "xyz4xyz4", "xyz5"],
        );
        check_tail("\\d+\\w\\d+", "04T15", Some("T15"), &[]);
        check_tail("(\\d+\\D\\d+)", "04T15", Some("15"), &["04T15"]);
        check_tail("", "Test", Some("Test"), &[]);
        check_tail("(\\w*)", "", Some(""), &[]);
    }

    #[test]
    fn alternatives_renumber_groups() {
        let p = "[(\\S+)]: (\\d+) |[(\\S+)]:\\d+: (\\d+) ";
        check(p, "x [sshd]: 42 y", Some(12), &["sshd", "42"]);
        check(p, "x [sshd]:7: 42 y", Some(14), &["sshd", "42"]);
    }

    #[test]
    fn compile_errors() {
        let err = |p: &[u8]| OsRegex::compile(p, true).err();
        assert_eq!(err(b"a\\"), Some(OsRegexError::BadEscape));
        assert_eq!(err(b"\\n"), Some(OsRegexError::BadEscape));
        assert_eq!(err(b"\\x41"), Some(OsRegexError::BadEscape));
        assert_eq!(err(b"((a))"), Some(OsRegexError::BadParen));
        assert_eq!(err(b"(a"), Some(OsRegexError::BadParen));
        assert_eq!(err(b"a)"), Some(OsRegexError::BadParen));
        assert_eq!(err(b")("), Some(OsRegexError::BadParen));
        assert_eq!(err(b"(a|b)"), Some(OsRegexError::BadParen));
        assert_eq!(err(b"(a\\q|b)"), Some(OsRegexError::BadEscape));
        assert_eq!(err(&vec![b'a'; MAX_PATTERN_LEN + 1]), Some(OsRegexError::TooLong));
        assert_eq!(err(&vec![b'a'; MAX_PATTERN_LEN]), None);
        assert_eq!(err(b""), None);
        assert_eq!(err(b"\\(\\)\\|\\$\\<\\\\\\.\\t\\p\\D\\W\\S"), None);
        assert_eq!(OsRegexError::BadParen.code(), 7);
        assert!(OsRegexError::BadEscape.to_string().contains('6'));
    }

    #[test]
    fn escapes_are_literal_where_expected() {
        check("a\\|b", "xa|b", Some(3), &[]);
        check("\\(x\\)", "(x)", Some(2), &[]);
        check("cost \\$5", "cost $5", Some(6), &[]);
        check("^$", "", Some(0), &[]);
        check("^$", "a", None, &[]);
        check("a$b", "a$b", Some(2), &[]);
        check("x^", "x^", Some(1), &[]);
        check("\\s", "\t", None, &[]);
        check("\\S", "\t", Some(0), &[]);
        check("\\w", "@", Some(0), &[]);
        check("\\p", "/", None, &[]);
        check("\\p", "}", Some(0), &[]);
    }

    #[test]
    fn classes_match_upstream_regexmap() {
        // Ranges taken from upstream os_regex_maps.c, `regexmap` rows 1-15.
        let rows: [&[(u8, u8)]; 15] = [
            &[(0x30, 0x39)],
            &[(0x2d, 0x2d), (0x30, 0x39), (0x40, 0x5a), (0x5f, 0x5f), (0x61, 0x7a)],
            &[(0x20, 0x20)],
            &[(0x21, 0x2e), (0x3a, 0x3f), (0x5b, 0x5b), (0x5d, 0x5d), (0x7b, 0x7d)],
            &[(0x28, 0x28)],
            &[(0x29, 0x29)],
            &[(0x5c, 0x5c)],
            &[(0x00, 0x2f), (0x3a, 0xff)],
            &[(0x00, 0x2c), (0x2e, 0x2f), (0x3a, 0x3f), (0x5b, 0x5e), (0x60, 0x60), (0x7b, 0xff)],
            &[(0x00, 0x1f), (0x21, 0xff)],
            &[(0x00, 0xff)],
            &[(0x09, 0x09)],
            &[(0x24, 0x24)],
            &[(0x7c, 0x7c)],
            &[(0x3c, 0x3c)],
        ];
        for (i, ranges) in rows.iter().enumerate() {
            let code = i as u8 + 1;
            for b in 0..=255u8 {
                let want = ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&b));
                assert_eq!(in_class(code, b), want, "class {code} byte {b:#x}");
            }
        }
    }

    #[test]
    fn capture_mode_changes_acceptance() {
        // Trailing `\x*` tokens are skipped before the final test only in
        // capture mode.
        let with = OsRegex::compile(b"(a)\\d*\\d*", true).expect("compiles");
        let without = OsRegex::compile(b"(a)\\d*\\d*", false).expect("compiles");
        assert!(with.captures());
        assert!(!without.captures());
        assert!(!OsRegex::compile(b"a\\d*", true).expect("compiles").captures());
        let mut caps = Vec::new();
        assert_eq!(with.exec(b"a", &mut caps).is_some(), with.is_match(b"a"));
        assert_eq!(without.exec(b"a", &mut caps).is_some(), without.is_match(b"a"));
        assert!(caps.is_empty());
    }

    #[test]
    fn non_utf8_and_nul() {
        check("\\S+ \\S+", "\u{e9}t\u{e9} x", Some(6), &[]);
        let mut caps = Vec::new();
        let re = OsRegex::compile(b"a(\\S+)", true).expect("compiles");
        assert_eq!(re.exec(b"a\xff\xfe\x80 z", &mut caps), Some(1));
        assert_eq!(caps, vec![(1, 4)]);
        // A literal byte >= 0x80 never matches (upstream's signed `char` compare); these are
        // the answers of upstream's C code (built into the `os_regex_diff` fuzz target).
        let re = OsRegex::compile(b"\xff(\\S+)", true).expect("compiles");
        assert_eq!(re.exec(b"a\xff\xfe\x80 z", &mut caps), None);
        for pattern in
            ["\u{e9}", "\u{e9}|abc", "(\u{e9})", "a\\S*\u{e9}", "^\u{e9}", "\u{e9}$", "\\.\u{e9}", "x\\w+\u{e9}"]
        {
            for captures in [false, true] {
                let re = OsRegex::compile(pattern.as_bytes(), captures).expect("compiles");
                assert!(!re.is_match("x\u{e9}".as_bytes()), "{pattern:?} (captures: {captures})");
                assert!(!re.is_match("\u{e9}".as_bytes()), "{pattern:?} (captures: {captures})");
            }
        }
        check("(\\S+)", "x\u{e9}", Some(0), &["x\u{e9}"]);
        // Patterns and subjects end at the first NUL, as C strings do.
        let re = OsRegex::compile(b"ab\0cd", false).expect("compiles");
        assert_eq!(re.pattern(), b"ab\0cd");
        assert!(re.is_match(b"xab"));
        assert!(!OsRegex::compile(b"cd", false).expect("compiles").is_match(b"ab\0cd"));
    }

    #[test]
    fn next_offset_semantics() {
        assert_eq!(next_offset(7, 2), 3);
        assert_eq!(next_offset(7, 6), 7);
        assert_eq!(next_offset(0, 0), 0);
        assert_eq!(next_offset(5, -1), 0);
        assert_eq!(next_offset(0, -1), 0);
    }

    #[test]
    fn exec_reuses_caps() {
        let re = OsRegex::compile(b"(\\w+)=(\\w+)", true).expect("compiles");
        let mut caps = vec![(9, 9); 5];
        assert_eq!(re.exec(b"nothing here", &mut caps), None);
        assert!(caps.is_empty());
        assert_eq!(re.exec(b"a=b", &mut caps), Some(2));
        assert_eq!(caps, vec![(0, 1), (2, 3)]);
    }

    #[test]
    fn prefilter_never_changes_results() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let alphabet: &[u8] = b"abAB1 :+*.()|$";
        let escapes: &[u8] = b"dwsSW.p";
        let (mut caps_a, mut caps_b) = (Vec::new(), Vec::new());
        let mut filtered = 0;
        for _ in 0..200_000 {
            let mut pattern = Vec::new();
            for _ in 0..(next() % 10) {
                if next() % 4 == 0 {
                    pattern.push(b'\\');
                    pattern.push(escapes[(next() as usize) % escapes.len()]);
                    if next() % 2 == 0 {
                        pattern.push(if next() % 2 == 0 { b'+' } else { b'*' });
                    }
                } else {
                    pattern.push(alphabet[(next() as usize) % alphabet.len()]);
                }
            }
            let subject: Vec<u8> = (0..(next() % 14)).map(|_| alphabet[(next() as usize) % alphabet.len()]).collect();
            for captures in [false, true] {
                let Ok(re) = OsRegex::compile(&pattern, captures) else { continue };
                let mut bare = re.clone();
                let alts: Vec<Alternative> = bare
                    .alternatives
                    .iter()
                    .cloned()
                    .map(|mut a| {
                        filtered += a.required.is_some() as usize;
                        a.required = None;
                        a
                    })
                    .collect();
                bare.alternatives = alts.into_boxed_slice();
                assert_eq!(
                    (re.exec(&subject, &mut caps_a), &caps_a),
                    (bare.exec(&subject, &mut caps_b), &caps_b),
                    "pattern {:?} subject {:?}",
                    String::from_utf8_lossy(&pattern),
                    String::from_utf8_lossy(&subject)
                );
            }
        }
        assert!(filtered > 10_000);
    }

    #[test]
    fn dead_alternatives_never_match() {
        let mut state: u64 = 0x51_7cc1_b727_220a;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let tokens: &[&[u8]] = &[
            b"\\w",
            b"\\w+",
            b"\\w*",
            b"\\s",
            b"\\d+",
            b"\\S+",
            b"\\.*",
            b"\\.+",
            b"a",
            b" ",
            b"(",
            b")",
            b"\xa9",
            b"\xc3\xa9",
            b"^",
            b"$",
            b"|",
            b"(\\w)",
            b"\\s+",
        ];
        let alphabet = b"ab 1\xa9\xc3";
        let (mut dead, mut caps) = (0, Vec::new());
        for _ in 0..300_000 {
            let pattern: Vec<u8> =
                (0..1 + next() % 6).flat_map(|_| tokens[next() % tokens.len()].iter().copied()).collect();
            let subject: Vec<u8> = (0..next() % 9).map(|_| alphabet[next() % alphabet.len()]).collect();
            for captures in [false, true] {
                let Ok(re) = OsRegex::compile(&pattern, captures) else { continue };
                let (d, n) = re.dead_alternatives();
                if d == n {
                    dead += 1;
                    assert_eq!(re.exec(&subject, &mut caps), None, "{pattern:?} on {subject:?}");
                }
            }
        }
        assert!(dead > 10_000, "{dead}");
    }

    #[test]
    fn random_patterns_never_panic() {
        // A small LCG; no extra dependencies.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let alphabet: &[u8] = b"ab1 \\()|^$+*.dwspDWSt<-@_\t\xff";
        let escapes: &[u8] = b"dwspDWSt.()$|<\\";
        let mut caps = Vec::new();
        let mut compiled = 0;
        for _ in 0..20_000 {
            let plen = (next() % 14) as usize;
            let mut pattern = Vec::with_capacity(plen);
            for _ in 0..plen {
                if next() % 3 == 0 {
                    pattern.push(b'\\');
                    pattern.push(escapes[(next() as usize) % escapes.len()]);
                } else {
                    pattern.push(alphabet[(next() as usize) % alphabet.len()]);
                }
            }
            let slen = (next() % 16) as usize;
            let subject: Vec<u8> = (0..slen).map(|_| alphabet[(next() as usize) % alphabet.len()]).collect();
            for captures in [false, true] {
                if let Ok(re) = OsRegex::compile(&pattern, captures) {
                    compiled += 1;
                    let end = re.exec(&subject, &mut caps);
                    assert_eq!(end.is_some(), re.is_match(&subject));
                    if let Some(end) = end {
                        assert!(end >= -1 && end <= subject.len() as isize);
                        let cursor = next_offset(subject.len(), end);
                        assert!(cursor <= subject.len());
                    }
                    for &(a, b) in &caps {
                        assert!(a <= b && b <= subject.len());
                    }
                }
            }
        }
        assert!(compiled > 10_000);
    }
}
