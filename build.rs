//! Embeds our own ruleset (`decoders/`, `ruleset/`, `lists/`) into the binary
//! as the default ruleset.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, ext: Option<&str>, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, ext, out);
        } else if ext.is_none_or(|e| p.extension().and_then(|x| x.to_str()) == Some(e)) {
            if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') || n.ends_with(".md")) {
                continue;
            }
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let mut code = String::new();
    for (name, dir, ext, prefix) in [
        ("DECODERS", "decoders", Some("xml"), "ruleset/decoders/"),
        ("RULES", "ruleset", Some("xml"), "ruleset/rules/"),
        ("LISTS", "lists", None, "etc/lists/"),
    ] {
        let base = root.join(dir);
        println!("cargo:rerun-if-changed={}", base.display());
        let mut found = Vec::new();
        files(&base, ext, &mut found);
        writeln!(code, "pub static {name}: &[(&str, &[u8])] = &[").unwrap();
        for f in found {
            println!("cargo:rerun-if-changed={}", f.display());
            let rel = f.strip_prefix(&base).unwrap().to_string_lossy().replace('\\', "/");
            writeln!(code, "    ({:?}, include_bytes!({:?})),", format!("{prefix}{rel}"), f.display().to_string())
                .unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("embedded.rs");
    std::fs::write(out, code).expect("write embedded.rs");
}
