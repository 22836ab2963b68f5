//! Interpreters the user names: added with `gilscope pythons add` (kept in
//! `pythons.json` under gilscope's config dir) and listed in the
//! `GILSCOPE_PYTHONS` environment variable. Discovery probes them like any
//! other candidate.
//!
//! A path is kept as the user gave it (made absolute, never resolved): it may
//! be a wrapper script that runs an interpreter somewhere else (a chroot, a
//! container), and gilscope must run it through the wrapper.

use super::probe::{ProbeInfo, probe};
use crate::paths;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Extra interpreter paths, colon-separated like `PATH`; a directory stands
/// for the `python3.X` files in it.
pub const ENV_VAR: &str = "GILSCOPE_PYTHONS";
/// Version of `pythons.json`.
const FILE_VERSION: u32 = 1;

/// `pythons.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PythonsConfig {
    pub version: u32,
    /// Absolute paths, in the order they were added.
    pub added: Vec<PathBuf>,
}

impl Default for PythonsConfig {
    fn default() -> Self {
        Self {
            version: FILE_VERSION,
            added: Vec::new(),
        }
    }
}

/// Why the config file could not be used. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read {}: {source}; fix its permissions or delete it (it lists the interpreters added with `gilscope pythons add`)",
        .file.display()
    )]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is not a gilscope pythons file: {reason}; fix it or delete it (it lists the interpreters added with `gilscope pythons add`)",
        .file.display()
    )]
    Parse { file: PathBuf, reason: String },
    #[error(
        "cannot write {}: {source}; make its directory writable or point GILSCOPE_CONFIG_DIR elsewhere",
        .file.display()
    )]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
}

impl PythonsConfig {
    /// Reads `file`; a missing file is an empty config.
    pub fn load_from(file: &Path) -> Result<Self, ConfigError> {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    file: file.to_path_buf(),
                    source,
                });
            }
        };
        let config: Self = serde_json::from_slice(&bytes).map_err(|e| ConfigError::Parse {
            file: file.to_path_buf(),
            reason: e.to_string(),
        })?;
        if config.version > FILE_VERSION {
            return Err(ConfigError::Parse {
                file: file.to_path_buf(),
                reason: format!(
                    "it has version {}, written by a newer gilscope (this one reads {FILE_VERSION})",
                    config.version
                ),
            });
        }
        Ok(config)
    }

    /// Writes `file` atomically: a temporary file beside it, synced, renamed
    /// over it. A reader sees the old or the new list, never half of one.
    pub fn save_to(&self, file: &Path) -> Result<(), ConfigError> {
        let write_err = |source| ConfigError::Write {
            file: file.to_path_buf(),
            source,
        };
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write_err)?;
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| write_err(e.into()))?;
        json.push(b'\n');
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            file.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(&json)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, file)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(write_err(e));
        }
        // The rename itself survives a crash once the directory is synced.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    pub fn load() -> Result<Self, ConfigError> {
        Self::load_from(&paths::pythons_config_file())
    }

    pub fn save(&self) -> Result<(), ConfigError> {
        self.save_to(&paths::pythons_config_file())
    }
}

/// The paths in `GILSCOPE_PYTHONS` (empty entries skipped).
pub fn env_pythons() -> Vec<PathBuf> {
    std::env::var_os(ENV_VAR)
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Why `gilscope pythons add` refused a path. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error(
        "{}: no such file; pass the path of a Python interpreter (e.g. ~/.pyenv/versions/3.12.1/bin/python3.12) or of a wrapper script that runs one",
        .0.display()
    )]
    NotFound(PathBuf),
    #[error(
        "{} is a directory; pass the interpreter file in it (e.g. {}/bin/python3)",
        .0.display(), .0.display()
    )]
    Directory(PathBuf),
    #[error("{} is not executable; make it so with `chmod +x {}`", .0.display(), .0.display())]
    NotExecutable(PathBuf),
    #[error(
        "{} is not a working Python ({reason}); pass a python3.X executable, or a wrapper script that execs one with all its arguments (\"$@\")",
        .path.display()
    )]
    Probe { path: PathBuf, reason: String },
    #[error("{0}")]
    Config(#[from] ConfigError),
}

/// What `add` did.
#[derive(Debug, Clone)]
pub struct Added {
    /// The path as stored (absolute).
    pub path: PathBuf,
    /// What the probe found.
    pub info: ProbeInfo,
    /// It was already in the config (nothing written).
    pub already: bool,
}

/// `path` made absolute against the current directory, symlinks kept.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Probes `path` now and, when it is a working Python, keeps it in
/// `config_file`.
pub fn add(path: &Path, timeout: Duration, config_file: &Path) -> Result<Added, AddError> {
    use std::os::unix::fs::PermissionsExt;
    let path = absolute(path);
    let meta = std::fs::metadata(&path).map_err(|_| AddError::NotFound(path.clone()))?;
    if meta.is_dir() {
        return Err(AddError::Directory(path));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(AddError::NotExecutable(path));
    }
    let info = probe(&path, timeout).map_err(|reason| AddError::Probe {
        path: path.clone(),
        reason,
    })?;
    let mut config = PythonsConfig::load_from(config_file)?;
    let already = config.added.contains(&path);
    if !already {
        config.added.push(path.clone());
        config.save_to(config_file)?;
    }
    Ok(Added {
        path,
        info,
        already,
    })
}

/// Why `gilscope pythons remove` did nothing.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("{} was not added; added: {}", .path.display(), list_or_none(.added))]
    NotAdded { path: PathBuf, added: Vec<PathBuf> },
    #[error("{0}")]
    Config(#[from] ConfigError),
}

fn list_or_none(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        "none (`gilscope pythons add PATH` adds one)".into()
    } else {
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Forgets an added path (it need not exist any more). Returns the path
/// removed.
pub fn remove(path: &Path, config_file: &Path) -> Result<PathBuf, RemoveError> {
    let path = absolute(path);
    let mut config = PythonsConfig::load_from(config_file)?;
    let before = config.added.len();
    config.added.retain(|p| p != &path);
    if config.added.len() == before {
        return Err(RemoveError::NotAdded {
            path,
            added: config.added,
        });
    }
    config.save_to(config_file)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The machine's python3, as a path.
    fn python3() -> PathBuf {
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .unwrap();
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    }

    #[test]
    fn add_probes_keeps_and_remove_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub").join("pythons.json");
        let py = python3();
        let added = add(&py, Duration::from_secs(20), &file).unwrap();
        assert!(!added.already);
        assert_eq!(added.info.implementation, "cpython");
        assert_eq!(
            PythonsConfig::load_from(&file).unwrap().added,
            [py.as_path()]
        );
        // Adding again changes nothing.
        assert!(add(&py, Duration::from_secs(20), &file).unwrap().already);
        assert_eq!(PythonsConfig::load_from(&file).unwrap().added.len(), 1);
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["pythons.json"]);
        assert_eq!(remove(&py, &file).unwrap(), py);
        assert!(PythonsConfig::load_from(&file).unwrap().added.is_empty());
        let err = remove(&py, &file).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{} was not added; added: none (`gilscope pythons add PATH` adds one)",
                py.display()
            )
        );
    }

    #[test]
    fn non_pythons_are_refused_with_the_reason() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pythons.json");
        let t = Duration::from_secs(10);

        let missing = dir.path().join("python3.99");
        let err = add(&missing, t, &file).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: no such file; pass", missing.display())),
            "{err}"
        );

        let err = add(dir.path(), t, &file).unwrap_err().to_string();
        assert!(
            err.contains("is a directory; pass the interpreter file in it"),
            "{err}"
        );

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello").unwrap();
        let err = add(&text, t, &file).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{} is not executable; make it so with `chmod +x {}`",
                text.display(),
                text.display()
            )
        );

        // A real program that is not Python: /bin/true prints nothing.
        let err = add(Path::new("/bin/true"), t, &file)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "/bin/true is not a working Python (probe printed no answer); pass a python3.X executable, or a wrapper script that execs one with all its arguments (\"$@\")"
        );
        let script = dir.path().join("python3.98");
        std::fs::write(
            &script,
            "#!/bin/sh\necho 'no libpython3.98.so' >&2\nexit 127\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = add(&script, t, &file).unwrap_err().to_string();
        assert!(
            err.contains("(exited with status 127: no libpython3.98.so)"),
            "{err}"
        );
        // Nothing refused was written.
        assert!(!file.exists());
    }

    #[test]
    fn a_broken_config_is_reported_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pythons.json");
        std::fs::write(&file, "{ not json").unwrap();
        let err = add(&python3(), Duration::from_secs(20), &file)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "{} is not a gilscope pythons file: ",
                file.display()
            )),
            "{err}"
        );
        assert!(
            err.ends_with(
                "fix it or delete it (it lists the interpreters added with `gilscope pythons add`)"
            ),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "{ not json");

        std::fs::write(&file, r#"{"version": 9, "added": []}"#).unwrap();
        let err = PythonsConfig::load_from(&file).unwrap_err().to_string();
        assert!(
            err.contains("it has version 9, written by a newer gilscope"),
            "{err}"
        );
    }

    #[test]
    fn relative_paths_are_made_absolute_without_resolving_links() {
        let abs = absolute(Path::new("bin/python3"));
        assert!(abs.is_absolute());
        assert!(abs.ends_with("bin/python3"));
        assert_eq!(
            absolute(Path::new("/usr/bin/python3")),
            Path::new("/usr/bin/python3")
        );
    }
}
