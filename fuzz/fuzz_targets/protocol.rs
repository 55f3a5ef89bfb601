#![no_main]
//! `cargo fuzz run protocol`: see fuzz/README.md.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| logtest::fuzzing::protocol(data));
