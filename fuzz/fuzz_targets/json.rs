#![no_main]
//! `cargo fuzz run json`: see fuzz/README.md.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| logtest::fuzzing::json(data));
