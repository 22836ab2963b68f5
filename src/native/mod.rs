//! Native kernels: gilscope's pyo3 extension (`workloads/native/`), built
//! with plain cargo for the interpreter under test and cached per
//! interpreter.
//!
//! Two variants of the same code, each its own module:
//!
//! | [`Variant`] | module | declares |
//! |---|---|---|
//! | `GilFree` | `gilscope_native` | `gil_used = false`: runs without the GIL on a free-threaded build |
//! | `GilUsed` | `gilscope_native_gil` | `gil_used = true`: importing it re-enables the GIL there |
//!
//! A build is `cargo build --release` of the crate's sources (embedded in
//! gilscope, written under the cache) with `PYO3_PYTHON` naming the
//! interpreter and `PYO3_BUILD_EXTENSION_MODULE=1`; the cdylib is copied to
//! `<module><EXT_SUFFIX>`. The cache, under `cache_dir()/native`:
//!
//! ```text
//! src/<source hash>/                   the crate, as built
//! <interpreter key>/python.txt         which interpreter (key: real path, mtime, size)
//! <interpreter key>/target/            cargo's target dir (pyo3 is built once per interpreter)
//! <interpreter key>/<variant>.log      the last build's full cargo output
//! <interpreter key>/<variant>-<source hash>/<module><EXT_SUFFIX>
//! ```
//!
//! [`setup_for_run`] is what the runner calls: which modules a run needs
//! (`blur` with `kernel=native`, `import_gil_module`), built or found, as
//! `PYTHONPATH` entries.

mod cargo;
mod python;
mod run;
mod source;

pub use run::{
    FAULT_PARAM, IMPORT_PARAM, KERNEL_PARAM, RunNeeds, RunSetup, experiment_requested, run_needs,
    setup_for_run,
};
pub use source::Source;

use crate::paths;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Which build of the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// `gilscope_native`, `gil_used = false`.
    GilFree,
    /// `gilscope_native_gil`, `gil_used = true`.
    GilUsed,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::GilFree, Variant::GilUsed];

    /// The Python module name.
    pub fn module_name(self) -> &'static str {
        match self {
            Variant::GilFree => "gilscope_native",
            Variant::GilUsed => "gilscope_native_gil",
        }
    }

    /// Whether the module declares that it needs the GIL.
    pub fn gil_used(self) -> bool {
        self == Variant::GilUsed
    }

    /// `gil-free` / `gil-used`, for file names and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::GilFree => "gil-free",
            Variant::GilUsed => "gil-used",
        }
    }

    /// The crate feature that selects this variant.
    fn feature(self) -> Option<&'static str> {
        match self {
            Variant::GilFree => None,
            Variant::GilUsed => Some("gil-used"),
        }
    }
}

/// A built module, ready to import.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub variant: Variant,
    /// The directory to put on `sys.path`.
    pub dir: PathBuf,
    /// `<dir>/<module><EXT_SUFFIX>`.
    pub file: PathBuf,
    /// Found in the cache (no build ran).
    pub cached: bool,
    /// How long cargo and the install took, when a build ran.
    pub build_secs: Option<f64>,
}

/// What a build is doing, for a progress display.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Already built for this interpreter and these sources.
    Cached { variant: Variant, file: PathBuf },
    /// cargo is starting; its full output goes to `log`.
    Building {
        variant: Variant,
        python: PathBuf,
        log: PathBuf,
    },
    /// cargo started compiling a crate: the `done`-th of about `total`
    /// (`None` when only some need rebuilding).
    Compiling {
        variant: Variant,
        krate: String,
        done: usize,
        total: Option<usize>,
    },
    /// Built and installed.
    Built {
        variant: Variant,
        file: PathBuf,
        secs: f64,
    },
}

impl Progress {
    /// One line for a status bar or a terminal.
    pub fn describe(&self) -> String {
        match self {
            Progress::Cached { variant, file } => {
                format!("{}: cached ({})", variant.module_name(), file.display())
            }
            Progress::Building {
                variant,
                python,
                log,
            } => format!(
                "{}: building for {} (log: {})",
                variant.module_name(),
                python.display(),
                log.display()
            ),
            Progress::Compiling {
                variant,
                krate,
                done,
                total,
            } => {
                let mut text = format!("{}: compiling {krate} ({done}", variant.module_name());
                if let Some(total) = total {
                    let _ = write!(text, "/{total}");
                }
                text.push(')');
                text
            }
            Progress::Built {
                variant,
                file,
                secs,
            } => format!(
                "{}: built in {secs:.1} s ({})",
                variant.module_name(),
                file.display()
            ),
        }
    }
}

/// Why the native kernels are not available.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// The run asks for something the extension cannot do in its mode.
    #[error("{0}")]
    Refused(String),
    /// The interpreter could not be asked about itself.
    #[error("cannot build the native kernels for {}: {reason}", .python.display())]
    Interpreter { python: PathBuf, reason: String },
    /// No Rust toolchain: a wheel install (`pip install gilscope`) has
    /// none, and only the native kernels need one.
    #[error(
        "{} (gilscope's native kernels) is compiled on first use and needs a Rust toolchain \
         (cargo); none was found ($CARGO, PATH, ~/.cargo/bin). Everything else in gilscope works \
         without one. Install Rust from https://rustup.rs (then open a new shell), or run without \
         the native parts: {}",
        .variant.module_name(),
        match .variant {
            Variant::GilFree => "blur with kernel=python, and no native_fault",
            Variant::GilUsed => "no import_gil_module",
        }
    )]
    NoCargo { variant: Variant },
    /// cargo failed: what it said, and where its full output is.
    #[error(
        "building {module} for {} failed ({status}):\n{}\nfull cargo output: {}",
        .python.display(),
        indent(.errors),
        .log.display()
    )]
    Build {
        module: &'static str,
        python: PathBuf,
        status: String,
        errors: Vec<String>,
        log: PathBuf,
    },
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl NativeError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        NativeError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

fn indent(lines: &[String]) -> String {
    if lines.is_empty() {
        return "  (cargo printed nothing that looks like an error)".into();
    }
    lines
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first 8 bytes of a digest as 16 hex digits.
fn hex16(digest: &[u8]) -> String {
    digest.iter().take(8).fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Where built modules are kept, and which sources they are built from.
#[derive(Debug, Clone)]
pub struct NativeCache {
    root: PathBuf,
    source: Source,
}

impl Default for NativeCache {
    fn default() -> Self {
        Self::at(paths::cache_dir().join("native"))
    }
}

impl NativeCache {
    /// A cache rooted at `root`, building the embedded sources.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            source: Source::Embedded,
        }
    }

    /// Builds from `source` instead of the embedded crate.
    pub fn with_source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The module for `python`, if it is already built from these sources.
    pub fn lookup(&self, python: &Path, variant: Variant) -> Result<Option<Built>, NativeError> {
        let id = python::Identity::of(python)?;
        let files = self.source.load()?;
        let dir = self.module_dir(&id, variant, &files.hash);
        Ok(find_module(&dir, variant).map(|file| Built {
            variant,
            dir,
            file,
            cached: true,
            build_secs: None,
        }))
    }

    /// The module for `python`: from the cache, or built now (15–35 s on 2
    /// busy cores the first time for an interpreter, which compiles pyo3;
    /// about a second for the other variant or after a source change).
    pub fn ensure(
        &self,
        python: &Path,
        variant: Variant,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Built, NativeError> {
        let id = python::Identity::of(python)?;
        let files = self.source.load()?;
        let dir = self.module_dir(&id, variant, &files.hash);
        if let Some(file) = find_module(&dir, variant) {
            progress(&Progress::Cached {
                variant,
                file: file.clone(),
            });
            return Ok(Built {
                variant,
                dir,
                file,
                cached: true,
                build_secs: None,
            });
        }
        let started = Instant::now();
        let facts = python::facts(python)?;
        let cargo = cargo::find_cargo().ok_or(NativeError::NoCargo { variant })?;
        let crate_dir = files.materialize(&self.root.join("src"))?;
        let interp_dir = self.root.join(&id.key);
        std::fs::create_dir_all(&interp_dir)
            .map_err(|e| NativeError::io("create", &interp_dir, e))?;
        let note = interp_dir.join("python.txt");
        let _ = std::fs::write(
            &note,
            format!("{}\n{}\n", id.real_path.display(), facts.ext_suffix),
        );
        let target_dir = interp_dir.join("target");
        let log = interp_dir.join(format!("{}.log", variant.as_str()));
        // A warm target dir rebuilds only some crates: no estimate then.
        let total = if target_dir.join("release").is_dir() {
            None
        } else {
            source::dependency_count(&files.lock)
        };
        progress(&Progress::Building {
            variant,
            python: python.to_path_buf(),
            log: log.clone(),
        });
        let manifest = crate_dir.join("Cargo.toml");
        let lib = cargo::Build {
            cargo: &cargo,
            python,
            variant,
            manifest: &manifest,
            target_dir: &target_dir,
            log: &log,
            total,
        }
        .run(progress)?;
        let file = install(&lib, &dir, variant, &facts.ext_suffix)?;
        let secs = started.elapsed().as_secs_f64();
        progress(&Progress::Built {
            variant,
            file: file.clone(),
            secs,
        });
        Ok(Built {
            variant,
            dir,
            file,
            cached: false,
            build_secs: Some(secs),
        })
    }

    fn module_dir(&self, id: &python::Identity, variant: Variant, source_hash: &str) -> PathBuf {
        self.root
            .join(&id.key)
            .join(format!("{}-{source_hash}", variant.as_str()))
    }
}

/// `<module>.<anything>.so` (or `<module>.so`) in `dir`.
fn find_module(dir: &Path, variant: Variant) -> Option<PathBuf> {
    let prefix = format!("{}.", variant.module_name());
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".so"))
        })
        .collect();
    found.sort();
    found.pop()
}

/// Copies the library into a fresh `dir` as `<module><ext_suffix>` (via a
/// temporary sibling and a rename: a concurrent gilscope never sees half a
/// file).
fn install(
    lib: &Path,
    dir: &Path,
    variant: Variant,
    ext_suffix: &str,
) -> Result<PathBuf, NativeError> {
    let name = format!("{}{ext_suffix}", variant.module_name());
    let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| NativeError::io("create", &tmp, e))?;
    std::fs::copy(lib, tmp.join(&name)).map_err(|e| NativeError::io("copy", lib, e))?;
    if std::fs::rename(&tmp, dir).is_err() {
        // Another gilscope installed it first.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    find_module(dir, variant).ok_or_else(|| {
        NativeError::io(
            "install",
            &dir.join(&name),
            std::io::Error::other("the module is missing after the copy"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_name_their_modules() {
        assert_eq!(Variant::GilFree.module_name(), "gilscope_native");
        assert_eq!(Variant::GilUsed.module_name(), "gilscope_native_gil");
        assert!(Variant::GilUsed.gil_used() && !Variant::GilFree.gil_used());
        assert_eq!(Variant::GilUsed.feature(), Some("gil-used"));
    }

    #[test]
    fn finds_only_its_own_module() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path()
                .join("gilscope_native_gil.cpython-313t-x86_64-linux-gnu.so"),
            b"",
        )
        .unwrap();
        assert_eq!(find_module(dir.path(), Variant::GilFree), None);
        assert!(find_module(dir.path(), Variant::GilUsed).is_some());
    }

    #[test]
    fn installs_under_the_interpreter_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("libgilscope_native.so");
        std::fs::write(&lib, b"ELF").unwrap();
        let target = dir.path().join("gil-free-abc");
        let file = install(
            &lib,
            &target,
            Variant::GilFree,
            ".cpython-313-x86_64-linux-gnu.so",
        )
        .unwrap();
        assert_eq!(
            file,
            target.join("gilscope_native.cpython-313-x86_64-linux-gnu.so")
        );
        // a second install (a concurrent build) keeps the first
        assert_eq!(
            install(
                &lib,
                &target,
                Variant::GilFree,
                ".cpython-313-x86_64-linux-gnu.so"
            )
            .unwrap(),
            file
        );
    }

    #[test]
    fn build_errors_say_what_and_where() {
        let err = NativeError::Build {
            module: "gilscope_native",
            python: PathBuf::from("/py/bin/python3.13t"),
            status: "cargo exited with status 101".into(),
            errors: vec!["error[E0425]: cannot find value `x`".into()],
            log: PathBuf::from("/cache/native/k/gil-free.log"),
        };
        let text = err.to_string();
        assert!(text.starts_with("building gilscope_native for /py/bin/python3.13t failed (cargo exited with status 101):"));
        assert!(text.contains("\n  error[E0425]"));
        assert!(text.ends_with("full cargo output: /cache/native/k/gil-free.log"));
    }

    #[test]
    fn a_missing_interpreter_is_reported() {
        let cache = NativeCache::at(tempfile::tempdir().unwrap().path());
        let err = cache
            .ensure(
                Path::new("/nonexistent/python3"),
                Variant::GilFree,
                &mut |_| {},
            )
            .unwrap_err();
        assert!(matches!(err, NativeError::Interpreter { .. }), "{err}");
    }
}
