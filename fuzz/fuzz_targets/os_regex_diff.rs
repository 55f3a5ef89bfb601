#![no_main]
//! `cargo fuzz run os_regex_diff` (with `WAZUH_MIRROR` set at build time): our OS_Regex and
//! OS_Match against upstream's C code on the same pattern and subject. They must agree on
//! whether the pattern compiles, whether it matches, the end pointer and every captured group.
//! Input: byte 0 picks OS_Regex without captures, with captures, or OS_Match; then a pattern,
//! a NUL, a subject (a C string to upstream: it ends at its first NUL).
use libfuzzer_sys::fuzz_target;

#[cfg(upstream_os_regex)]
mod upstream {
    use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};

    extern "C" {
        fn ref_regex_compile(pattern: *const c_char, captures: c_int) -> *mut c_void;
        fn ref_regex_exec(r: *mut c_void, subject: *const c_char, end: *mut c_long) -> c_int;
        fn ref_regex_group(r: *const c_void, i: usize) -> *const c_char;
        fn ref_regex_free(r: *mut c_void);
        fn ref_match(pattern: *const c_char, subject: *const c_char) -> c_int;
    }

    /// The subject as upstream sees it, one non-NUL byte before it: a `*`-only pattern can
    /// leave the end pointer one byte before the subject (see `next_offset`), and reading it
    /// must stay inside the buffer.
    struct Subject(Vec<u8>);

    impl Subject {
        fn new(bytes: &[u8]) -> Subject {
            let text = &bytes[..memchr(bytes)];
            let mut buf = Vec::with_capacity(text.len() + 2);
            buf.push(b'x');
            buf.extend_from_slice(text);
            buf.push(0);
            Subject(buf)
        }
        fn ptr(&self) -> *const c_char {
            self.0[1..].as_ptr().cast()
        }
    }

    fn memchr(b: &[u8]) -> usize {
        b.iter().position(|&c| c == 0).unwrap_or(b.len())
    }

    /// Compiles?, then the end offset and the groups of a match.
    pub type RegexOutcome = Option<Option<(isize, Vec<Vec<u8>>)>>;

    pub fn regex(pattern: &[u8], subject: &[u8], captures: bool) -> RegexOutcome {
        let pattern = CString::new(pattern).ok()?;
        let subject = Subject::new(subject);
        // SAFETY: NUL-terminated strings that outlive the calls; `r` is freed once.
        unsafe {
            let r = ref_regex_compile(pattern.as_ptr(), captures as c_int);
            if r.is_null() {
                return None;
            }
            let mut end: c_long = 0;
            let result = if ref_regex_exec(r, subject.ptr(), &mut end) == 1 {
                let mut groups = Vec::new();
                loop {
                    let g = ref_regex_group(r, groups.len());
                    if g.is_null() {
                        break;
                    }
                    groups.push(CStr::from_ptr(g).to_bytes().to_vec());
                }
                Some((end as isize, groups))
            } else {
                None
            };
            ref_regex_free(r);
            Some(result)
        }
    }

    pub fn os_match(pattern: &[u8], subject: &[u8]) -> Option<bool> {
        let pattern = CString::new(pattern).ok()?;
        let subject = Subject::new(subject);
        // SAFETY: NUL-terminated strings that outlive the call.
        match unsafe { ref_match(pattern.as_ptr(), subject.ptr()) } {
            -1 => None,
            hit => Some(hit == 1),
        }
    }
}

#[cfg(upstream_os_regex)]
fn check(data: &[u8]) {
    use logtest::matcher::OsRegex;
    let Some((&which, rest)) = data.split_first() else { return };
    let (pattern, subject) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if which % 3 == 2 {
        let ours = logtest::fuzzing::os_match(pattern, subject);
        let theirs = upstream::os_match(pattern, subject);
        assert_eq!(ours, theirs, "OS_Match {:?} on {:?}", show(pattern), show(subject));
        return;
    }
    // As the `matchers` target: OS_Regex's cost grows fast on nested runs (upstream's too).
    let subject = &subject[..subject.len().min(logtest::fuzzing::OS_REGEX_FUZZ_SUBJECT)];
    let captures = which % 3 == 1;
    let mut caps = Vec::new();
    let ours = OsRegex::compile(pattern, captures).ok().map(|re| {
        re.exec(subject, &mut caps)
            .map(|end| (end, caps.iter().map(|&(a, b)| subject[a..b].to_vec()).collect::<Vec<_>>()))
    });
    let theirs = upstream::regex(pattern, subject, captures);
    assert_eq!(ours, theirs, "OS_Regex {:?} (captures: {captures}) on {:?}", show(pattern), show(subject));
}

#[cfg(not(upstream_os_regex))]
fn check(_: &[u8]) {
    eprintln!(
        "os_regex_diff was built without upstream's OS_Regex: set WAZUH_MIRROR to a git directory \
         of wazuh/wazuh (see fuzz/README.md) and build again"
    );
    std::process::exit(2);
}

fuzz_target!(|data: &[u8]| check(data));
