//! The extension crate's sources, embedded at compile time so an installed
//! gilscope can build it without a source tree, and written out once per
//! content hash.
//!
//! They are read through `src/native/embed/`, whose files are symlinks to
//! `workloads/native/` and the workspace's `Cargo.lock`: `cargo package`
//! leaves out every folder with a `Cargo.toml` of its own (a nested
//! package) but stores a symlinked file as a copy, so the crate published
//! for `cargo install gilscope` carries them too.

use super::NativeError;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `workloads/native`: (path inside the crate, contents).
const EMBEDDED: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("embed/Cargo.toml.in")),
    ("src/lib.rs", include_str!("embed/lib.rs.in")),
    ("src/kernels.rs", include_str!("embed/kernels.rs.in")),
    (
        "src/kernels/blur.rs",
        include_str!("embed/kernels/blur.rs.in"),
    ),
    (
        "src/kernels/spin.rs",
        include_str!("embed/kernels/spin.rs.in"),
    ),
];

/// gilscope's workspace lock: it pins pyo3 and its dependencies; cargo
/// drops the entries the extension does not use.
const WORKSPACE_LOCK: &str = include_str!("embed/Cargo.lock.in");

/// The crate's package name (the root of its dependency graph in the lock).
const PACKAGE: &str = "gilscope-native";

/// Where the crate's sources come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The copy compiled into gilscope.
    Embedded,
    /// A directory laid out like `workloads/native` (for development and
    /// tests): read when a build needs it.
    Dir(PathBuf),
}

/// The crate's files in memory, with their content hash.
pub(super) struct Files {
    files: Vec<(String, Vec<u8>)>,
    /// The lock the build starts from (not part of the hash: it only pins
    /// versions of pyo3's dependencies).
    pub lock: String,
    pub hash: String,
}

impl Source {
    /// Reads the sources (only `Dir` can fail).
    pub(super) fn load(&self) -> Result<Files, NativeError> {
        let (mut files, lock) = match self {
            Source::Embedded => (
                EMBEDDED
                    .iter()
                    .map(|(rel, text)| ((*rel).to_string(), text.as_bytes().to_vec()))
                    .collect::<Vec<_>>(),
                WORKSPACE_LOCK.to_string(),
            ),
            Source::Dir(dir) => (
                read_tree(dir)?,
                std::fs::read_to_string(dir.join("Cargo.lock"))
                    .unwrap_or_else(|_| WORKSPACE_LOCK.to_string()),
            ),
        };
        files.sort();
        let hash = hash_files(&files);
        Ok(Files { files, lock, hash })
    }
}

/// Cargo.toml and every `.rs` under `src/` of `dir`.
fn read_tree(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, NativeError> {
    let mut out = Vec::new();
    let manifest = dir.join("Cargo.toml");
    let bytes = std::fs::read(&manifest).map_err(|e| NativeError::io("read", &manifest, e))?;
    out.push(("Cargo.toml".to_string(), bytes));
    let mut stack = vec![dir.join("src")];
    while let Some(current) = stack.pop() {
        let entries =
            std::fs::read_dir(&current).map_err(|e| NativeError::io("read", &current, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let bytes = std::fs::read(&path).map_err(|e| NativeError::io("read", &path, e))?;
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, bytes));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn hash_files(files: &[(String, Vec<u8>)]) -> String {
    let mut hasher = Sha256::new();
    for (rel, bytes) in files {
        hasher.update(rel.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    super::hex16(&hasher.finalize())
}

impl Files {
    /// Writes the crate under `root/<hash>` (once; a finished copy is
    /// reused) and returns its directory.
    pub(super) fn materialize(&self, root: &Path) -> Result<PathBuf, NativeError> {
        let dir = root.join(&self.hash);
        if dir.join(".complete").is_file() {
            return Ok(dir);
        }
        let tmp = root.join(format!("{}.tmp{}", self.hash, std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        for (rel, bytes) in &self.files {
            let path = tmp.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| NativeError::io("create", parent, e))?;
            }
            let mut bytes = bytes.clone();
            if rel == "Cargo.toml" {
                // Out of gilscope's tree the crate is its own workspace.
                bytes.extend_from_slice(b"\n[workspace]\n");
            }
            std::fs::write(&path, bytes).map_err(|e| NativeError::io("write", &path, e))?;
        }
        let path = tmp.join("Cargo.lock");
        std::fs::write(&path, &self.lock).map_err(|e| NativeError::io("write", &path, e))?;
        let marker = tmp.join(".complete");
        std::fs::write(&marker, b"").map_err(|e| NativeError::io("write", &marker, e))?;
        if std::fs::rename(&tmp, &dir).is_err() {
            // Another gilscope finished first; its copy is identical.
            let _ = std::fs::remove_dir_all(&tmp);
        }
        if dir.join(".complete").is_file() {
            Ok(dir)
        } else {
            Err(NativeError::io(
                "set up",
                &dir,
                std::io::Error::other("the crate's files are incomplete"),
            ))
        }
    }
}

/// Packages the crate depends on (itself included), from `Cargo.lock`
/// text: an estimate of how many crates a clean build compiles.
pub(super) fn dependency_count(lock: &str) -> Option<usize> {
    let graph = parse_lock(lock);
    graph.get(PACKAGE)?;
    let mut seen = BTreeSet::new();
    let mut stack = vec![PACKAGE.to_string()];
    while let Some(name) = stack.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(deps) = graph.get(&name) {
            stack.extend(deps.iter().cloned());
        }
    }
    Some(seen.len())
}

/// `name -> dependency names` from a `Cargo.lock` (names only: the
/// entries are `"name"`, `"name version"` or `"name version (source)"`).
fn parse_lock(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_deps = false;
    for line in text.lines().map(str::trim) {
        if line == "[[package]]" {
            current = None;
            in_deps = false;
        } else if let Some(rest) = line.strip_prefix("name = ") {
            let name = rest.trim_matches('"').to_string();
            graph.entry(name.clone()).or_default();
            current = Some(name);
        } else if line.starts_with("dependencies = [") {
            in_deps = !line.ends_with(']');
        } else if in_deps {
            if line.starts_with(']') {
                in_deps = false;
            } else if let Some(name) = &current {
                let entry = line.trim_end_matches(',').trim_matches('"');
                if let Some(dep) = entry.split_whitespace().next() {
                    graph.entry(name.clone()).or_default().push(dep.to_string());
                }
            }
        }
    }
    graph
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "gilscope-native"
version = "0.1.0"
dependencies = [
 "pyo3",
]

[[package]]
name = "pyo3"
version = "0.28.3"
dependencies = [
 "libc",
 "syn 2.0.119",
]

[[package]]
name = "libc"
version = "0.2.1"

[[package]]
name = "syn"
version = "2.0.119"
dependencies = ["unicode-ident"]

[[package]]
name = "unicode-ident"
version = "1.0.0"

[[package]]
name = "unrelated"
version = "1.0.0"
dependencies = [
 "libc",
]
"#;

    #[test]
    fn counts_what_the_crate_depends_on() {
        // gilscope-native, pyo3, libc, syn (its one-line list is not
        // followed: a multi-line list is what cargo writes)
        assert_eq!(dependency_count(LOCK), Some(4));
        assert_eq!(dependency_count("version = 4\n"), None);
    }

    #[test]
    fn the_embedded_sources_are_the_crate_in_the_tree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/native");
        let embedded = Source::Embedded.load().unwrap();
        let on_disk = Source::Dir(root).load().unwrap();
        let names = |f: &Files| f.files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&embedded), names(&on_disk));
        assert_eq!(embedded.hash, on_disk.hash);
        // the workspace lock pins the extension's pyo3
        let count = dependency_count(WORKSPACE_LOCK).unwrap();
        assert!(count >= 5, "{count}");
    }

    #[test]
    fn materializes_once_with_its_own_workspace() {
        let root = tempfile::tempdir().unwrap();
        let files = Source::Embedded.load().unwrap();
        let dir = files.materialize(root.path()).unwrap();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(manifest.trim_end().ends_with("[workspace]"));
        assert!(dir.join("src/kernels/blur.rs").is_file());
        assert!(dir.join("Cargo.lock").is_file());
        assert_eq!(files.materialize(root.path()).unwrap(), dir);
    }
}
