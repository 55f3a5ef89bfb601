//! Test suites: the upstream `.ini` format (`ruleset/testing/runtests.py`)
//! and native YAML suites ([`suite`], run by [`case`]), with snapshots,
//! coverage and CI reports.

pub mod case;
pub mod coverage;
pub mod ini;
pub mod junit;
pub mod report;
pub mod runner;
pub mod snapshot;
pub mod suite;

/// Tells a test run, visibly, that a check was skipped (e.g. `../shared` is
/// absent). The text goes straight to the process's stderr, which the test
/// harness does not capture, so it shows even when the test passes. With
/// `CI` set in the environment a skip is a failure: CI must run everything.
pub fn loud_skip(what: &str) {
    use std::io::Write;
    if std::env::var_os("CI").is_some() {
        panic!("{what} (CI is set: nothing may be skipped)");
    }
    // A test's stderr: if even that is gone there is nobody to tell.
    writeln!(std::io::stderr().lock(), "\n*** SKIPPED: {what} ***\n").ok();
}
