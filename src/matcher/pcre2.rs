//! PCRE2 as Wazuh compiles it (upstream: src/shared/expression.c).
//!
//! Wazuh calls `pcre2_compile` with **no options**: matching is
//! case-sensitive (unlike OS_Match/OS_Regex), `^`/`$` are not multiline, `.`
//! does not match a newline and there is no UTF/UCP mode, so patterns work on
//! bytes. The "end pointer" is the offset just past the match minus one, so an
//! empty match at offset 0 yields -1. Captures follow `pcre2_match`'s return
//! code: groups after the highest one that took part are dropped, unset groups
//! in the middle are empty strings.
//!
//! JIT is enabled when available: it changes speed, not results.

use ::pcre2::bytes::{Regex, RegexBuilder};

#[derive(Debug, Clone)]
pub struct Pcre2 {
    re: Regex,
    pattern: Box<[u8]>,
}

impl Pcre2 {
    pub fn compile(pattern: &[u8]) -> Result<Pcre2, String> {
        let text = std::str::from_utf8(pattern).map_err(|_| "pattern is not valid UTF-8".to_string())?;
        let re = RegexBuilder::new()
            .jit_if_available(true)
            .build(text)
            .map_err(|e| e.to_string())?;
        Ok(Pcre2 { re, pattern: pattern.into() })
    }

    pub fn pattern(&self) -> &[u8] {
        &self.pattern
    }

    pub fn is_match(&self, subject: &[u8]) -> bool {
        self.re.is_match(subject).unwrap_or(false)
    }

    pub fn exec(&self, subject: &[u8], caps: &mut Vec<(usize, usize)>) -> Option<isize> {
        caps.clear();
        let mut locs = self.re.capture_locations();
        let m = self.re.captures_read(&mut locs, subject).ok()??;
        let highest = (1..locs.len()).rev().find(|&i| locs.get(i).is_some()).unwrap_or(0);
        for i in 1..=highest {
            caps.push(locs.get(i).unwrap_or((0, 0)));
        }
        Some(m.end() as isize - 1)
    }
}
