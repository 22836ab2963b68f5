//! Running `cargo build` for one interpreter and one variant: progress from
//! cargo's status lines, the artifact from its JSON messages, and a clear
//! report when it fails.

use super::{NativeError, Progress, Variant};
use crate::child::{ChildGuard, describe_status};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The crate's library target name (`libgilscope_native.so`).
const LIB_NAME: &str = "gilscope_native";
/// Lines of cargo's output kept in a build error.
const ERROR_LINES: usize = 30;

/// Environment variables that would build for something else than the
/// interpreter gilscope names.
const CLEARED_ENV: &[&str] = &[
    "PYO3_CONFIG_FILE",
    "PYO3_NO_PYTHON",
    "PYO3_CROSS",
    "PYO3_CROSS_LIB_DIR",
    "PYO3_CROSS_PYTHON_VERSION",
    "PYO3_CROSS_PYTHON_IMPLEMENTATION",
    "PYO3_USE_ABI3_FORWARD_COMPATIBILITY",
    "PYO3_ENVIRONMENT_SIGNATURE",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "PYTHON_GIL",
];

/// The cargo binary: `$CARGO` (set when gilscope runs under cargo), then
/// `cargo` on `PATH`, then `$CARGO_HOME/bin` and `~/.cargo/bin`.
pub(super) fn find_cargo() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(path) = std::env::var_os("CARGO").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(path));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("cargo")));
    }
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(home).join("bin").join("cargo"));
    }
    if let Some(home) = dirs::home_dir() {
        candidates.push(home.join(".cargo").join("bin").join("cargo"));
    }
    candidates.into_iter().find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// One `cargo build`.
pub(super) struct Build<'a> {
    pub cargo: &'a Path,
    pub python: &'a Path,
    pub variant: Variant,
    pub manifest: &'a Path,
    pub target_dir: &'a Path,
    pub log: &'a Path,
    /// Estimated crates to compile (`None`: unknown, e.g. a warm target dir).
    pub total: Option<usize>,
}

impl Build<'_> {
    /// Runs cargo; returns the built library's path.
    pub fn run(&self, progress: &mut dyn FnMut(&Progress)) -> Result<PathBuf, NativeError> {
        let mut cmd = Command::new(self.cargo);
        cmd.args(["build", "--release", "--lib", "--color", "never"])
            .args(["--message-format", "json-render-diagnostics"])
            .arg("--manifest-path")
            .arg(self.manifest)
            .arg("--target-dir")
            .arg(self.target_dir);
        if let Some(feature) = self.variant.feature() {
            cmd.args(["--features", feature]);
        }
        for var in CLEARED_ENV {
            cmd.env_remove(var);
        }
        cmd.env("PYO3_PYTHON", self.python)
            .env("PYO3_BUILD_EXTENSION_MODULE", "1")
            .env("CARGO_TERM_PROGRESS_WHEN", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut log =
            std::fs::File::create(self.log).map_err(|e| NativeError::io("create", self.log, e))?;
        let _ = writeln!(
            log,
            "PYO3_PYTHON={} PYO3_BUILD_EXTENSION_MODULE=1 {:?}",
            self.python.display(),
            cmd
        );
        let mut child = ChildGuard::spawn(&mut cmd).map_err(|e| NativeError::Build {
            module: self.variant.module_name(),
            python: self.python.to_path_buf(),
            status: format!("could not start {}: {e}", self.cargo.display()),
            errors: Vec::new(),
            log: self.log.to_path_buf(),
        })?;
        // stdout (JSON messages) on a thread; stderr (status lines and
        // rendered errors) here, so progress is reported as it happens.
        let stdout = child.child_mut().stdout.take();
        let artifacts = std::thread::spawn(move || {
            stdout.map(|pipe| {
                BufReader::new(pipe)
                    .lines()
                    .map_while(Result::ok)
                    .filter_map(|line| artifact_of(&line))
                    .collect::<Vec<_>>()
            })
        });
        let mut stderr_lines = Vec::new();
        let mut done = 0;
        if let Some(pipe) = child.child_mut().stderr.take() {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = writeln!(log, "{line}");
                if let Some(krate) = compiling(&line) {
                    done += 1;
                    progress(&Progress::Compiling {
                        variant: self.variant,
                        krate: krate.to_string(),
                        done,
                        total: self.total.map(|t| t.max(done)),
                    });
                }
                stderr_lines.push(line);
            }
        }
        let status = child.wait();
        let artifacts = artifacts.join().ok().flatten().unwrap_or_default();
        let failed = |status: String| NativeError::Build {
            module: self.variant.module_name(),
            python: self.python.to_path_buf(),
            status,
            errors: error_excerpt(&stderr_lines),
            log: self.log.to_path_buf(),
        };
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => return Err(failed(format!("cargo {}", describe_status(status)))),
            Err(e) => return Err(failed(format!("cannot wait for cargo: {e}"))),
        }
        artifacts.into_iter().last().ok_or_else(|| {
            failed("cargo reported no library (no compiler-artifact message)".into())
        })
    }
}

/// `Compiling pyo3 v0.28.3` → `pyo3`.
fn compiling(line: &str) -> Option<&str> {
    line.trim_start()
        .strip_prefix("Compiling ")?
        .split_whitespace()
        .next()
}

/// The shared library from a `compiler-artifact` JSON message of our crate.
fn artifact_of(line: &str) -> Option<PathBuf> {
    if !line.starts_with('{') {
        return None;
    }
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact"
        || message.get("target")?.get("name")?.as_str()? != LIB_NAME
    {
        return None;
    }
    message
        .get("filenames")?
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(".so"))
        .map(PathBuf::from)
}

/// The part of cargo's output that says what went wrong: from the first
/// `error` line on (at most [`ERROR_LINES`]), else the last lines.
fn error_excerpt(lines: &[String]) -> Vec<String> {
    let first_error = lines
        .iter()
        .position(|l| l.starts_with("error") || l.contains("error:"));
    // A failing build script's stdout is mostly `cargo:` directives: noise.
    let useful = |l: &&String| !l.trim_start().starts_with("cargo:") && !l.trim().is_empty();
    let mut picked: Vec<String> = match first_error {
        Some(start) => lines[start..]
            .iter()
            .filter(useful)
            .take(ERROR_LINES)
            .cloned()
            .collect(),
        None => lines
            .iter()
            .skip(lines.len().saturating_sub(ERROR_LINES / 2))
            .filter(useful)
            .cloned()
            .collect(),
    };
    let offline = lines.iter().any(|l| {
        l.contains("failed to download")
            || l.contains("Unable to update registry")
            || l.contains("failed to get `pyo3`")
    });
    if offline {
        picked.push(
            "hint: cargo needs crates.io once to fetch pyo3 and its dependencies; \
             connect, or fetch them with `cargo fetch` in workloads/native"
                .into(),
        );
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_lines_and_artifacts() {
        assert_eq!(compiling("   Compiling pyo3-ffi v0.28.3"), Some("pyo3-ffi"));
        assert_eq!(
            compiling("   Compiling gilscope-native v0.1.0 (/x/native)"),
            Some("gilscope-native")
        );
        assert_eq!(compiling("    Finished `release` profile"), None);
        let msg = r#"{"reason":"compiler-artifact","target":{"name":"gilscope_native","kind":["cdylib"]},"filenames":["/t/release/libgilscope_native.so"],"fresh":false}"#;
        assert_eq!(
            artifact_of(msg),
            Some(PathBuf::from("/t/release/libgilscope_native.so"))
        );
        let other = r#"{"reason":"compiler-artifact","target":{"name":"pyo3"},"filenames":["/t/libpyo3.rlib"]}"#;
        assert_eq!(artifact_of(other), None);
        assert_eq!(artifact_of("not json"), None);
    }

    #[test]
    fn error_excerpt_starts_at_the_first_error() {
        let lines: Vec<String> = [
            "   Compiling pyo3 v0.28.3",
            "error[E0425]: cannot find value `x` in this scope",
            "  --> src/lib.rs:3:5",
            "",
            "error: could not compile `gilscope-native` (lib) due to 1 previous error",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let excerpt = error_excerpt(&lines);
        assert_eq!(excerpt.len(), 3);
        assert!(excerpt[0].starts_with("error[E0425]"));
        let offline = vec!["error: failed to download `pyo3 v0.28.3`".to_string()];
        assert!(error_excerpt(&offline).last().unwrap().starts_with("hint:"));
    }

    #[test]
    fn finds_some_cargo_here() {
        // the tests run under cargo, so $CARGO is set
        assert!(find_cargo().is_some());
    }
}
