//! Embeds the Python harness, the built-in workloads and the shipped assets
//! into the binary, so an installed gilscope needs no source tree.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Files under `dir` (recursively) with one of `exts`, skipping caches and
/// the native extension crate's build output.
fn collect(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            // assets/screenshots are the README's pictures, not runtime files.
            if name != "__pycache__"
                && name != "target"
                && name != "screenshots"
                && !name.starts_with('.')
            {
                collect(&path, exts, out);
            }
        } else if exts.iter().any(|e| name.ends_with(e)) {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let mut files = Vec::new();
    collect(&root.join("workloads"), &[".py", ".md"], &mut files);
    collect(&root.join("assets"), &[".png", ".ppm", ".md"], &mut files);
    files.sort();
    let mut code = String::from(
        "/// Files embedded from the source tree: (relative path, contents).\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        // Relative to CARGO_MANIFEST_DIR, so the generated code does not
        // name this checkout: another clone sharing the target dir (CI)
        // must never embed this tree's files.
        let _ = writeln!(
            code,
            "    ({rel:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {:?}))),",
            format!("/{rel}")
        );
    }
    code.push_str("];\n");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("embedded.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
    println!("cargo:rerun-if-changed=workloads");
    println!("cargo:rerun-if-changed=assets");
    println!("cargo:rerun-if-changed=build.rs");
}
