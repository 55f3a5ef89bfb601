//! Test suites: the upstream `.ini` format (`ruleset/testing/runtests.py`).

pub mod ini;
