//! Test suites: the upstream `.ini` format (`ruleset/testing/runtests.py`).

pub mod ini;
pub mod report;
pub mod runner;

/// Tells a test run, visibly, that a check was skipped (e.g. `../shared` is
/// absent). The text goes straight to the process's stderr, which the test
/// harness does not capture, so it shows even when the test passes.
pub fn loud_skip(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "\n*** SKIPPED: {what} ***\n");
}
