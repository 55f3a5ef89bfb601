//! Builds upstream's OS_Regex/OS_Match (Wazuh v4.14.7 `src/os_regex/*.c`) into the fuzz targets
//! when `WAZUH_MIRROR` names a git directory of wazuh/wazuh (the one `fetch github:wazuh/wazuh`
//! gives, as for `../shared/oracle`). The sources are read with `git show`, never copied into the
//! project; `upstream/shared.h` stands in for Wazuh's header. Without the variable, the
//! `os_regex_diff` target says so and exits: the other targets do not need it.

use std::path::PathBuf;
use std::process::Command;

const TAG: &str = "v4.14.7";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(upstream_os_regex)");
    println!("cargo::rerun-if-env-changed=WAZUH_MIRROR");
    println!("cargo::rerun-if-changed=upstream");
    let Some(mirror) = std::env::var_os("WAZUH_MIRROR") else { return };
    let git = |args: &[&str]| {
        let out = Command::new("git").arg("--git-dir").arg(&mirror).args(args).output().expect("git runs");
        assert!(out.status.success(), "git {args:?} in WAZUH_MIRROR failed: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("os_regex");
    std::fs::create_dir_all(&dir).expect("OUT_DIR is writable");
    let listing = git(&["ls-tree", "--name-only", &format!("{TAG}:src/os_regex")]);
    let mut build = cc::Build::new();
    for name in String::from_utf8_lossy(&listing).lines() {
        if !(name.ends_with(".c") || name.ends_with(".h")) {
            continue;
        }
        let path = dir.join(name);
        std::fs::write(&path, git(&["show", &format!("{TAG}:src/os_regex/{name}")])).expect("write source");
        if name.ends_with(".c") {
            build.file(&path);
        }
    }
    build
        .file("upstream/reference.c")
        .include(&dir)
        .include("upstream")
        .flag_if_supported("-Werror=implicit-function-declaration")
        .warnings(false)
        .compile("wazuh_os_regex");
    println!("cargo::rustc-cfg=upstream_os_regex");
}
