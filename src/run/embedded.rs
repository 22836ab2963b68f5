//! The harness, built-in workloads and assets, embedded at build time and
//! written out once per content hash under the cache directory.

use crate::paths;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod files {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The embedded files: (path relative to the source tree, contents).
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    files::FILES
}

/// Where the runtime files live (written on first use).
pub struct Runtime {
    root: PathBuf,
}

impl Runtime {
    /// `workloads/harness.py`.
    pub fn harness(&self) -> PathBuf {
        self.root.join("workloads").join("harness.py")
    }

    /// A built-in workload's file, if there is one by that name.
    pub fn builtin_workload(&self, name: &str) -> Option<PathBuf> {
        let path = self
            .root
            .join("workloads")
            .join("builtin")
            .join(format!("{name}.py"));
        path.is_file().then_some(path)
    }

    /// Names of the built-in workloads, sorted.
    pub fn builtin_names(&self) -> Vec<String> {
        let mut names: Vec<String> = files()
            .iter()
            .filter_map(|(rel, _)| rel.strip_prefix("workloads/builtin/")?.strip_suffix(".py"))
            .filter(|n| !n.starts_with('_') && !n.contains('/'))
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }

    /// A shipped asset, e.g. `astronaut.png`.
    pub fn asset(&self, name: &str) -> PathBuf {
        self.root.join("assets").join(name)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn content_hash() -> String {
    let mut hasher = Sha256::new();
    for (rel, bytes) in files() {
        hasher.update(rel.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn materialize() -> Result<PathBuf, String> {
    let root = paths::cache_dir().join("runtime").join(content_hash());
    if root.join(".complete").is_file() {
        return Ok(root);
    }
    // Write into a temporary sibling, then rename: a concurrent gilscope
    // never sees half the files.
    let tmp = root.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for (rel, bytes) in files() {
        let path = tmp.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    std::fs::write(tmp.join(".complete"), b"")
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    if std::fs::rename(&tmp, &root).is_err() {
        // Someone else finished first; theirs is identical.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if root.join(".complete").is_file() {
        Ok(root)
    } else {
        Err(format!(
            "cannot set up the harness files in {}",
            root.display()
        ))
    }
}

/// The runtime files, written out on first use.
pub fn runtime() -> Result<&'static Runtime, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| materialize().map(|root| Runtime { root }))
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Python file in the source tree is embedded (build.rs walks the
    /// tree; this guards against it missing a file).
    #[test]
    fn all_workload_files_are_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut on_disk = Vec::new();
        let mut stack = vec![root.join("workloads")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() && name != "__pycache__" && name != "target" {
                    stack.push(path);
                } else if name.ends_with(".py") {
                    on_disk.push(
                        path.strip_prefix(root)
                            .unwrap()
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
            }
        }
        on_disk.sort();
        let embedded: Vec<&str> = files()
            .iter()
            .map(|(rel, _)| *rel)
            .filter(|r| r.ends_with(".py"))
            .collect();
        assert_eq!(embedded, on_disk);
        assert!(embedded.contains(&"workloads/harness.py"));
    }

    #[test]
    fn runtime_is_written_and_lists_builtins() {
        let rt = runtime().unwrap();
        assert!(rt.harness().is_file());
        let names = rt.builtin_names();
        for expected in [
            "blur",
            "fib",
            "hash",
            "mandelbrot",
            "primes",
            "sleep",
            "strings",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
        assert!(rt.asset("astronaut.png").is_file());
    }
}
