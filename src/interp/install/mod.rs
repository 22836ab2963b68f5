//! Getting CPython (default and free-threaded): with uv when it is there
//! (`uv`, seconds), else built from verified source into gilscope's
//! managed directory (`from_source`, `source`, `build`; minutes).
//!
//! The whole job runs on the caller's thread and reports through a channel of
//! [`InstallEvent`]s, so the CLI can draw progress bars and the GUI can show
//! the same progress without any terminal.

mod build;
mod from_source;
mod source;
pub mod uv;

use super::probe::probe;
use super::{Build, discover};
use crate::paths;
use crossbeam_channel::Sender;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use build::{BuildDeps, check_build_deps};
pub use source::{KNOWN_RELEASES, KnownRelease, sha256_file};

/// What `pythons install` asks uv for when no version is given: the newest
/// CPython whose free-threaded build is officially supported (PEP 779).
pub const DEFAULT_UV_VERSION: &str = "3.14";
/// What it builds from source when no version is given: the release whose
/// source gilscope can fetch and verify on the most machines.
pub const DEFAULT_SOURCE_VERSION: &str = "3.13";

/// Name of the file that marks a finished, verified managed install.
pub const MARKER_FILE: &str = super::MANAGED_MARKER_FILE;
/// Time the post-install probe may take.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(30);

/// Which way `pythons install` may get its interpreters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    /// `uv python install` when uv is there; from source when it is not or
    /// when uv fails.
    Auto,
    /// Only `uv python install`.
    Uv,
    /// Only from source.
    Source,
}

/// Which way the interpreters came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// Good ones were already there (managed or uv's).
    Kept,
    /// `uv python install`.
    Uv,
    /// Built from source.
    Source,
}

impl Via {
    /// The way, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Via::Kept => "kept the interpreters already here",
            Via::Uv => "installed with uv",
            Via::Source => "built from source",
        }
    }
}

/// What to install.
#[derive(Debug, Clone)]
pub struct InstallRequest {
    /// From source: `3.13` (newest known patch release) or an exact `3.13.5`.
    pub version: String,
    /// With uv: what `uv python install` is asked for (`3.14` → `3.14 3.14t`).
    pub uv_version: String,
    /// Which ways may be taken.
    pub route: Route,
    /// Which builds; both by default.
    pub builds: Vec<Build>,
    /// Build from this tarball instead of downloading.
    pub source_tarball: Option<PathBuf>,
    /// `make -j` jobs.
    pub jobs: usize,
    /// Rebuild even when a good build exists.
    pub force: bool,
}

impl InstallRequest {
    /// `version` from uv or from source, whichever is there.
    pub fn new(version: &str) -> Self {
        Self {
            version: version.to_string(),
            uv_version: version.to_string(),
            route: Route::Auto,
            builds: vec![Build::Default, Build::FreeThreaded],
            source_tarball: None,
            jobs: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            force: false,
        }
    }
}

/// A step of the install, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// `uv python install` runs.
    Uv,
    Fetch,
    Configure,
    Compile,
    Install,
    Verify,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Uv => "uv python install",
            Phase::Fetch => "fetch",
            Phase::Configure => "configure",
            Phase::Compile => "compile",
            Phase::Install => "install",
            Phase::Verify => "verify",
        }
    }
}

/// What the install reports while it works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum InstallEvent {
    /// The full log goes to this file.
    Log { path: PathBuf },
    /// A phase began (`build` is `None` for the shared fetch).
    PhaseStarted { build: Option<Build>, phase: Phase },
    /// Progress within a phase; `total` is an estimate for build steps.
    Progress {
        build: Option<Build>,
        phase: Phase,
        done: u64,
        total: u64,
    },
    /// A phase ended.
    PhaseDone {
        build: Option<Build>,
        phase: Phase,
        secs: f64,
    },
    /// Something the user should read (a fallback taken, a warning).
    Note { text: String },
    /// A passing line (uv's latest output): shown in place, not kept.
    Status { text: String },
    /// A good build already exists and was kept.
    Kept { build: Build, python: PathBuf },
    /// A build was installed and verified.
    Installed {
        build: Build,
        python: PathBuf,
        secs: f64,
    },
    /// All done: which way, and how long it took in all.
    Done { via: Via, secs: f64 },
}

/// Why an install failed. Each message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("gilscope knows no CPython release matching '{0}' (known: {known}); pass --source-tarball FILE to build another version", known = source::known_versions())]
    UnknownVersion(String),
    #[error("missing build dependencies: {}\n  install them with: apt-get install {}", .headers.join(", "), .packages.join(" "))]
    MissingDeps {
        headers: Vec<String>,
        packages: Vec<String>,
    },
    #[error("could not get the CPython {version} source; tried:\n{}\n  fix: {fix}", .attempts.iter().map(|a| format!("  - {a}")).collect::<Vec<_>>().join("\n"))]
    Fetch {
        version: String,
        /// Each source tried: where (URL) and what happened.
        attempts: Vec<String>,
        /// What the user can do instead.
        fix: String,
    },
    #[error(
        "checksum mismatch for {file}: expected sha256 {expected}, got {actual}; the file is not the official release — delete it and try again"
    )]
    Checksum {
        file: PathBuf,
        expected: String,
        actual: String,
    },
    #[error(
        "{step} of the {build} build failed ({status}); last lines:\n{tail}\n  full log: {log}"
    )]
    Step {
        step: &'static str,
        build: Build,
        status: String,
        tail: String,
        log: PathBuf,
    },
    #[error("the new {build} interpreter at {python} does not work: {reason}\n  full log: {log}")]
    Verify {
        build: Build,
        python: PathBuf,
        reason: String,
        log: PathBuf,
    },
    #[error("{error}\n  fix: {fix}")]
    Uv { error: uv::UvError, fix: String },
    #[error(
        "--via uv: uv is not on PATH (nor in $UV); install it (`pip install uv`, or see https://docs.astral.sh/uv/), or drop --via uv to build CPython from source"
    )]
    NoUv,
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

pub(crate) fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> InstallError {
    let what = what.into();
    move |source| InstallError::Io { what, source }
}

/// One finished install, as recorded in its marker file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallMarker {
    pub version: String,
    pub build: Build,
    pub source_sha256: String,
    pub source: String,
    pub configure_args: Vec<String>,
    pub installed_at_unix: u64,
}

/// Directory of a managed install: `cpython-3.13.5` or `cpython-3.13.5t`.
pub fn prefix_for(version: &str, build: Build) -> PathBuf {
    let t = if build == Build::FreeThreaded {
        "t"
    } else {
        ""
    };
    paths::managed_pythons_dir().join(format!("cpython-{version}{t}"))
}

/// The interpreter binary inside a managed prefix.
pub fn python_in(prefix: &Path, version: &str, build: Build) -> PathBuf {
    let minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let t = if build == Build::FreeThreaded {
        "t"
    } else {
        ""
    };
    prefix.join("bin").join(format!("python{minor}{t}"))
}

/// Whether `version` (`3.13.5`) is what `wanted` (`3.13` or `3.13.5`) asks for.
pub fn version_matches(wanted: &str, version: &str) -> bool {
    version == wanted
        || version
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// A verified managed install of `build` matching `wanted`, newest first.
pub fn find_good_install(wanted: &str, build: Build) -> Option<(InstallMarker, PathBuf)> {
    let mut found: Vec<(InstallMarker, PathBuf)> = std::fs::read_dir(paths::managed_pythons_dir())
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let marker: InstallMarker =
                serde_json::from_slice(&std::fs::read(e.path().join(MARKER_FILE)).ok()?).ok()?;
            let python = python_in(&e.path(), &marker.version, marker.build);
            (marker.build == build && version_matches(wanted, &marker.version) && python.is_file())
                .then_some((marker, python))
        })
        .collect();
    found.sort_by_key(|(marker, _)| std::cmp::Reverse(source::version_key(&marker.version)));
    found.into_iter().next()
}

/// Checks that an installed interpreter runs and is the build it claims.
fn verify(python: &Path, version: &str, build: Build) -> Result<(), String> {
    let info = probe(python, VERIFY_TIMEOUT)?;
    if info.version != version {
        return Err(format!(
            "it reports version {}, expected {version}",
            info.version
        ));
    }
    if info.build() != build {
        return Err(format!("it is a {} build, expected {build}", info.build()));
    }
    Ok(())
}

/// Installs what `req` asks for, keeping good builds: with uv when the
/// route allows it and uv is there, else (or when uv fails) from source.
/// Blocks until done; says at the end which way it went and how long it
/// took ([`InstallEvent::Done`]).
pub fn install(
    req: &InstallRequest,
    events: &Sender<InstallEvent>,
) -> Result<Vec<PathBuf>, InstallError> {
    let started = Instant::now();
    let send = |ev: InstallEvent| {
        // A receiver that went away only means nobody is watching.
        let _ = events.send(ev);
    };
    let done = |via: Via| {
        send(InstallEvent::Done {
            via,
            secs: started.elapsed().as_secs_f64(),
        })
    };
    // A tarball is a request to build that source.
    let route = if req.source_tarball.is_some() {
        Route::Source
    } else {
        req.route
    };
    // Fast path: everything asked for is already there and still runs.
    if !req.force && req.source_tarball.is_none() {
        let kept = if route == Route::Uv {
            None
        } else {
            kept_managed(req)
        };
        let kept = kept.or_else(|| {
            if route == Route::Source {
                return None;
            }
            let root = discover::uv_python_dir()?;
            req.builds
                .iter()
                .map(|&b| uv::installed(&root, &req.uv_version, b).map(|(python, _)| (b, python)))
                .collect::<Option<Vec<_>>>()
        });
        if let Some(kept) = kept {
            let mut pythons = Vec::new();
            for (build, python) in kept {
                send(InstallEvent::Kept {
                    build,
                    python: python.clone(),
                });
                pythons.push(python);
            }
            done(Via::Kept);
            return Ok(pythons);
        }
    }

    let log_version = if route == Route::Uv {
        &req.uv_version
    } else {
        &req.version
    };
    let log_path = new_log_path(log_version)?;
    let mut log = File::create(&log_path)
        .map_err(io_err(format!("cannot create log {}", log_path.display())))?;
    send(InstallEvent::Log {
        path: log_path.clone(),
    });
    if route != Route::Source {
        match uv::find_uv() {
            Some(uv_bin) => {
                send(InstallEvent::Note {
                    text: format!(
                        "trying the fast path: `{}` (uv at {})",
                        uv::command_line(&req.uv_version, &req.builds),
                        uv_bin.display()
                    ),
                });
                match uv::install(&uv_bin, &req.uv_version, &req.builds, &mut log, &send) {
                    Ok(found) => {
                        let secs = started.elapsed().as_secs_f64();
                        let mut pythons = Vec::new();
                        for (build, python) in found {
                            send(InstallEvent::Installed {
                                build,
                                python: python.clone(),
                                secs,
                            });
                            pythons.push(python);
                        }
                        done(Via::Uv);
                        return Ok(pythons);
                    }
                    Err(error) if route == Route::Uv => {
                        return Err(InstallError::Uv {
                            fix: error.fix(),
                            error,
                        });
                    }
                    Err(error) => send(InstallEvent::Note {
                        text: format!(
                            "{error}\nfalling back: building CPython {} from source (about 10 minutes on 2 cores)",
                            req.version
                        ),
                    }),
                }
            }
            None if route == Route::Uv => return Err(InstallError::NoUv),
            None => send(InstallEvent::Note {
                text: format!(
                    "uv is not on PATH, so CPython {} is built from source (with uv, `{}` takes seconds)",
                    req.version,
                    uv::command_line(&req.uv_version, &req.builds)
                ),
            }),
        }
    }
    let pythons = from_source::install(req, &mut log, &log_path, &send)?;
    done(Via::Source);
    Ok(pythons)
}

/// The managed builds of everything `req` asks for, when all are there
/// and still run.
fn kept_managed(req: &InstallRequest) -> Option<Vec<(Build, PathBuf)>> {
    req.builds
        .iter()
        .map(|&build| {
            let (marker, python) = find_good_install(&req.version, build)?;
            verify(&python, &marker.version, build).ok()?;
            Some((build, python))
        })
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn new_log_path(version: &str) -> Result<PathBuf, InstallError> {
    let dir = paths::logs_dir();
    std::fs::create_dir_all(&dir).map_err(io_err(format!("cannot create {}", dir.display())))?;
    Ok(dir.join(format!("install-cpython-{version}-{}.log", unix_now())))
}

/// A failed step's last output lines, indented under its error.
fn indented(tail: impl IntoIterator<Item = String>) -> String {
    tail.into_iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_match_by_component() {
        assert!(version_matches("3.13", "3.13.5"));
        assert!(version_matches("3.13.5", "3.13.5"));
        assert!(!version_matches("3.1", "3.13.5"));
        assert!(!version_matches("3.13.5", "3.13.50"));
    }

    #[test]
    fn managed_layout() {
        let p = Path::new("/x/cpython-3.13.5t");
        assert_eq!(
            python_in(p, "3.13.5", Build::FreeThreaded),
            Path::new("/x/cpython-3.13.5t/bin/python3.13t")
        );
        assert_eq!(
            python_in(p, "3.13.5", Build::Default),
            Path::new("/x/cpython-3.13.5t/bin/python3.13")
        );
        // `make install` of a --disable-gil build names it python3.Xt.
        let p = Path::new("/x/cpython-3.15.2t");
        assert_eq!(
            python_in(p, "3.15.2", Build::FreeThreaded),
            Path::new("/x/cpython-3.15.2t/bin/python3.15t")
        );
        assert_eq!(
            python_in(Path::new("/x/cpython-3.14.10"), "3.14.10", Build::Default),
            Path::new("/x/cpython-3.14.10/bin/python3.14")
        );
        assert!(version_matches("3.14", "3.14.10"));
        assert!(!version_matches("3.14.1", "3.14.10"));
    }
}
