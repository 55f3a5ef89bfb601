//! PCRE2 as Wazuh compiles and runs it (upstream: src/shared/expression.c).
//!
//! Wazuh calls `pcre2_compile` with **no options** on the pattern as a C
//! string: matching is case-sensitive (unlike OS_Match/OS_Regex), `^`/`$` are
//! not multiline, `.` does not match a newline and there is no UTF/UCP mode,
//! so patterns and subjects are bytes (a pattern need not be valid UTF-8).
//! The "end pointer" is the offset just past the match minus one, so an empty
//! match at offset 0 yields -1. Captures follow `pcre2_match`'s return code:
//! groups after the highest one that took part are dropped, unset groups in
//! the middle are empty strings.
//!
//! Wazuh matches with `pcre2_match` and a NULL match context: the
//! *interpreter* with PCRE2's default limits (match limit 10,000,000, heap
//! limit 20 GB); any error, a hit limit included, is "no match". We
//! JIT-compile for speed, but a JIT run can stop where the interpreter does
//! not (its stack is bounded: with the crate default of 32 KiB, `(a|b)*c$`
//! failed from 1,100 bytes and stock rule 92041 on a 32,000-byte base64
//! string). So a JIT run that ends in any error is run again by the
//! interpreter with the default limits, and only the interpreter's answer
//! counts: every subject gets the answer Wazuh gives.
//!
//! This talks to `pcre2-sys` directly (not the `pcre2` crate) because the
//! crate only compiles `&str` patterns, and Wazuh compiles any bytes.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use pcre2_sys::*;

/// Largest JIT stack a thread grows before a run falls back to the interpreter.
const JIT_STACK_MAX: usize = 8 << 20;

/// A compiled pattern (immutable after compilation, so shared across threads).
struct Code {
    ptr: NonNull<pcre2_code_8>,
    jit: bool,
    /// Capture groups of the pattern (not counting the whole match).
    groups: u32,
}

// SAFETY: a compiled (and JIT-compiled) pcre2_code is never modified by
// matching; PCRE2 documents it as safe to use from several threads at once.
// All mutable matching state (match data, JIT stack) is per thread.
unsafe impl Send for Code {}
unsafe impl Sync for Code {}

impl Drop for Code {
    fn drop(&mut self) {
        // SAFETY: the pointer came from pcre2_compile_8 and is freed once.
        unsafe { pcre2_code_free_8(self.ptr.as_ptr()) }
    }
}

/// A PCRE2 pattern compiled as Wazuh compiles it.
#[derive(Clone)]
pub struct Pcre2 {
    code: Arc<Code>,
    pattern: Box<[u8]>,
}

impl std::fmt::Debug for Pcre2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pcre2").field("pattern", &String::from_utf8_lossy(&self.pattern)).finish()
    }
}

/// PCRE2's own compile error: its message and the offset in the pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at offset {offset}")]
pub(crate) struct Pcre2Error {
    /// PCRE2's error code.
    pub(crate) code: i32,
    /// PCRE2's message for it.
    pub(crate) message: String,
    /// Where in the pattern it was found.
    pub(crate) offset: usize,
}

fn error_message(code: i32) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer and its length are valid; PCRE2 NUL-terminates.
    let n = unsafe { pcre2_get_error_message_8(code, buf.as_mut_ptr(), buf.len()) };
    if n < 0 {
        return format!("PCRE2 error {code}");
    }
    String::from_utf8_lossy(&buf[..n as usize]).into_owned()
}

/// Per-thread matching state: match data large enough for the patterns seen
/// so far, and a match context carrying a JIT stack.
struct Scratch {
    data: NonNull<pcre2_match_data_8>,
    pairs: u32,
    context: NonNull<pcre2_match_context_8>,
    stack: NonNull<pcre2_jit_stack_8>,
}

impl Scratch {
    fn new() -> Option<Scratch> {
        // SAFETY: plain constructors; every pointer is checked before use.
        unsafe {
            let data = NonNull::new(pcre2_match_data_create_8(16, ptr::null_mut()))?;
            let Some(context) = NonNull::new(pcre2_match_context_create_8(ptr::null_mut())) else {
                pcre2_match_data_free_8(data.as_ptr());
                return None;
            };
            let Some(stack) = NonNull::new(pcre2_jit_stack_create_8(32 << 10, JIT_STACK_MAX, ptr::null_mut())) else {
                pcre2_match_data_free_8(data.as_ptr());
                pcre2_match_context_free_8(context.as_ptr());
                return None;
            };
            pcre2_jit_stack_assign_8(context.as_ptr(), None, stack.as_ptr() as *mut c_void);
            Some(Scratch { data, pairs: 16, context, stack })
        }
    }

    /// Makes the match data hold at least `pairs` offset pairs.
    fn reserve(&mut self, pairs: u32) -> bool {
        if pairs <= self.pairs {
            return true;
        }
        // SAFETY: the old match data is ours and not in use.
        unsafe {
            let Some(new) = NonNull::new(pcre2_match_data_create_8(pairs, ptr::null_mut())) else {
                return false;
            };
            pcre2_match_data_free_8(self.data.as_ptr());
            self.data = new;
        }
        self.pairs = pairs;
        true
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: each pointer was created by its constructor and is freed once.
        unsafe {
            pcre2_match_data_free_8(self.data.as_ptr());
            pcre2_match_context_free_8(self.context.as_ptr());
            pcre2_jit_stack_free_8(self.stack.as_ptr());
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

impl Pcre2 {
    /// Compiles `pattern` with no options. As Wazuh hands PCRE2 a C string,
    /// the pattern ends at its first NUL byte.
    pub(crate) fn compile(pattern: &[u8]) -> Result<Pcre2, Pcre2Error> {
        let pattern = &pattern[..memchr::memchr(0, pattern).unwrap_or(pattern.len())];
        let mut code = 0i32;
        let mut offset = 0usize;
        // SAFETY: pointer and length describe `pattern`; a NULL context means defaults.
        let raw =
            unsafe { pcre2_compile_8(pattern.as_ptr(), pattern.len(), 0, &mut code, &mut offset, ptr::null_mut()) };
        let Some(ptr) = NonNull::new(raw) else {
            return Err(Pcre2Error { code, message: error_message(code), offset });
        };
        // SAFETY: `ptr` is a valid compiled pattern; JIT failure just leaves it interpreted.
        let jit = unsafe { pcre2_jit_compile_8(ptr.as_ptr(), PCRE2_JIT_COMPLETE) } == 0;
        let mut groups = 0u32;
        // SAFETY: CAPTURECOUNT writes a uint32_t.
        unsafe { pcre2_pattern_info_8(ptr.as_ptr(), PCRE2_INFO_CAPTURECOUNT, &mut groups as *mut u32 as *mut c_void) };
        Ok(Pcre2 { code: Arc::new(Code { ptr, jit, groups }), pattern: pattern.into() })
    }

    /// The pattern as written.
    pub(crate) fn pattern(&self) -> &[u8] {
        &self.pattern
    }

    /// Runs the pattern on `subject` and hands the return code and the
    /// ovector to `f` (rc > 0: a match with rc − 1 groups taking part).
    fn run<R>(&self, subject: &[u8], f: impl FnOnce(i32, &[usize]) -> R) -> R {
        // Wazuh passes strlen(subject): the subject ends at its first NUL.
        let subject = &subject[..memchr::memchr(0, subject).unwrap_or(subject.len())];
        SCRATCH.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                *slot = Scratch::new();
            }
            let Some(s) = slot.as_mut() else { return f(PCRE2_ERROR_NOMEMORY, &[]) };
            if !s.reserve(self.code.groups + 1) {
                return f(PCRE2_ERROR_NOMEMORY, &[]);
            }
            let code = self.code.ptr.as_ptr();
            let mut rc = PCRE2_ERROR_NOMATCH;
            if self.code.jit {
                // SAFETY: code, subject, match data and context are valid for the call.
                rc = unsafe {
                    pcre2_match_8(code, subject.as_ptr(), subject.len(), 0, 0, s.data.as_ptr(), s.context.as_ptr())
                };
            }
            if !self.code.jit || (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
                // The interpreter with default limits: what Wazuh runs.
                // SAFETY: as above; a NULL match context means PCRE2's defaults.
                rc = unsafe {
                    pcre2_match_8(
                        code,
                        subject.as_ptr(),
                        subject.len(),
                        0,
                        PCRE2_NO_JIT,
                        s.data.as_ptr(),
                        ptr::null_mut(),
                    )
                };
            }
            if rc <= 0 {
                return f(rc, &[]);
            }
            // SAFETY: the ovector holds `pairs` pairs and lives as long as the match data.
            let ov = unsafe {
                std::slice::from_raw_parts(pcre2_get_ovector_pointer_8(s.data.as_ptr()), 2 * s.pairs as usize)
            };
            f(rc, ov)
        })
    }

    /// Does the pattern match somewhere in `subject`?
    pub(crate) fn is_match(&self, subject: &[u8]) -> bool {
        self.run(subject, |rc, _| rc > 0)
    }

    /// Matches and fills `caps` with the groups up to the highest one that
    /// took part (unset ones as empty ranges); returns the end pointer.
    pub(crate) fn exec(&self, subject: &[u8], caps: &mut Vec<(usize, usize)>) -> Option<isize> {
        caps.clear();
        self.run(subject, |rc, ov| {
            if rc <= 0 {
                return None;
            }
            for i in 1..rc as usize {
                let (s, e) = (ov[2 * i], ov[2 * i + 1]);
                caps.push(if s == PCRE2_UNSET || e == PCRE2_UNSET { (0, 0) } else { (s, e) });
            }
            Some(ov[1] as isize - 1)
        })
    }

    /// The groups of a match, `None` for a group that did not take part
    /// (index 0 is the whole match).
    pub(crate) fn captures(&self, subject: &[u8]) -> Option<Vec<Option<(usize, usize)>>> {
        self.run(subject, |rc, ov| {
            if rc <= 0 {
                return None;
            }
            Some(
                (0..=self.code.groups as usize)
                    .map(|i| {
                        let (s, e) = (ov[2 * i], ov[2 * i + 1]);
                        (i < rc as usize && s != PCRE2_UNSET).then_some((s, e))
                    })
                    .collect(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_patterns_and_captures() {
        let p = Pcre2::compile(b"caf\xe9 (o)(x)?(k)?").unwrap();
        assert!(p.is_match(b"un caf\xe9 ok"));
        assert!(!p.is_match("un café ok".as_bytes()));
        let mut caps = Vec::new();
        assert_eq!(p.exec(b"caf\xe9 ok", &mut caps), Some(6));
        assert_eq!(caps, vec![(5, 6), (0, 0), (6, 7)]);
        let c = p.captures(b"caf\xe9 o").unwrap();
        assert_eq!(c, vec![Some((0, 6)), Some((5, 6)), None, None]);
        assert!(Pcre2::compile(b"(").is_err());
        // Case-sensitive, no multiline; an empty match at 0 ends at -1.
        assert!(!Pcre2::compile(b"ABC").unwrap().is_match(b"abc"));
        assert_eq!(Pcre2::compile(b"x*").unwrap().exec(b"abc", &mut caps), Some(-1));
    }

    #[test]
    fn long_subjects_get_the_interpreter_answer() {
        // Past any small JIT stack: the interpreter (heap frames) still matches.
        let p = Pcre2::compile(b"(a|b)*c$").unwrap();
        let mut s = b"ab".repeat(50_000);
        s.push(b'c');
        assert!(p.is_match(&s));
        s.pop();
        assert!(!p.is_match(&s));
    }

    #[test]
    fn c_strings() {
        // The pattern and the subject end at their first NUL, as in C.
        let p = Pcre2::compile(b"ab\0cd").unwrap();
        assert_eq!(p.pattern(), b"ab");
        assert!(p.is_match(b"xab"));
        assert!(!Pcre2::compile(b"cd").unwrap().is_match(b"ab\0cd"));
    }
}
