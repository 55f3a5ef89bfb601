#![no_main]
//! `cargo fuzz run matchers`: see fuzz/README.md.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| logtest::fuzzing::matchers_up_to(data, logtest::fuzzing::OS_REGEX_FUZZ_SUBJECT));
