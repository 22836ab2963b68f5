//! Python interpreters: finding them, probing them, installing them.
//!
//! * [`discover()`] lists every CPython a user may already have and probes each.
//! * [`probe`] asks one interpreter about itself in a short-lived subprocess.
//! * [`install`] builds CPython (default and free-threaded) from source into
//!   gilscope's managed directory.
//! * [`added`] keeps the interpreters a user adds by path (`pythons add`,
//!   `GILSCOPE_PYTHONS`), wrapper scripts included.

pub mod added;
pub mod apt;
pub mod discover;
pub mod install;
pub mod probe;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

pub use discover::{DiscoverOptions, discover};
pub use probe::ProbeInfo;

/// The file that marks a finished, verified managed install (in its
/// prefix, beside `bin/`); written last, so a prefix without it is an
/// install still under way.
pub const MANAGED_MARKER_FILE: &str = "gilscope-install.json";

/// How a workload's workers run in parallel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// N threads sharing one GIL (default build).
    Gil,
    /// N threads with no GIL (free-threaded build, `PYTHON_GIL=0`).
    Ft,
    /// Free-threaded build with the GIL forced back on (`PYTHON_GIL=1`).
    FtGil,
    /// N subinterpreters, each with its own GIL, each driven by its own thread.
    Subinterp,
    /// N worker processes.
    Process,
}

impl Mode {
    pub const ALL: [Mode; 5] = [
        Mode::Gil,
        Mode::Ft,
        Mode::FtGil,
        Mode::Subinterp,
        Mode::Process,
    ];

    /// The name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Gil => "gil",
            Mode::Ft => "ft",
            Mode::FtGil => "ft-gil",
            Mode::Subinterp => "subinterp",
            Mode::Process => "process",
        }
    }

    /// Parses a mode name as written by [`Mode::as_str`].
    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which CPython build an interpreter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Build {
    /// The classic build with a GIL.
    Default,
    /// `--disable-gil` (`Py_GIL_DISABLED`), e.g. `python3.13t`.
    FreeThreaded,
}

impl Build {
    pub fn as_str(self) -> &'static str {
        match self {
            Build::Default => "default",
            Build::FreeThreaded => "free-threaded",
        }
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an interpreter was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Built by `gilscope pythons install`.
    Managed,
    /// Added by the user with `gilscope pythons add PATH`.
    Added,
    /// Listed in the `GILSCOPE_PYTHONS` environment variable.
    Env,
    /// `~/.local/share/uv/python`.
    Uv,
    /// `~/.pyenv/versions`.
    Pyenv,
    /// Homebrew / Linuxbrew.
    Homebrew,
    /// Distribution paths (`/usr/bin`, `/usr/local/bin`, deadsnakes).
    System,
    /// Anywhere else on `PATH`.
    Path,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Managed => "managed",
            Source::Added => "added",
            Source::Env => "env",
            Source::Uv => "uv",
            Source::Pyenv => "pyenv",
            Source::Homebrew => "homebrew",
            Source::System => "system",
            Source::Path => "path",
        }
    }
}

/// One interpreter found on the machine, probed or broken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interpreter {
    /// Short unique name, e.g. `3.13`, `3.13t`, `3.11.7-pyenv`.
    pub name: String,
    /// The path to run.
    pub path: PathBuf,
    /// Every other path that leads to the same interpreter (symlinks, shims).
    pub aliases: Vec<PathBuf>,
    /// Where it was found (first match wins).
    pub source: Source,
    /// What the probe found, or why the interpreter is unusable.
    #[serde(flatten)]
    pub status: Status,
}

/// Result of probing an interpreter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Status {
    Ok {
        #[serde(flatten)]
        info: Box<ProbeInfo>,
        /// Derived from `info.free_threaded`; stored for readers of the JSON.
        build: Build,
        /// The modes gilscope can run with it.
        modes: Vec<Mode>,
    },
    Broken {
        /// What went wrong, e.g. "probe timed out after 5 s".
        reason: String,
    },
}

impl Interpreter {
    /// The probe results, when the interpreter works.
    pub fn info(&self) -> Option<&ProbeInfo> {
        match &self.status {
            Status::Ok { info, .. } => Some(info),
            Status::Broken { .. } => None,
        }
    }

    /// The modes this interpreter supports (empty when broken).
    pub fn modes(&self) -> &[Mode] {
        match &self.status {
            Status::Ok { modes, .. } => modes,
            Status::Broken { .. } => &[],
        }
    }

    pub fn supports(&self, mode: Mode) -> bool {
        self.modes().contains(&mode)
    }
}

/// The modes an interpreter with these facts supports.
pub fn supported_modes(info: &ProbeInfo) -> Vec<Mode> {
    if info.version_tuple() < (3, 9) {
        // The harness needs 3.9+.
        return Vec::new();
    }
    let mut modes = Vec::new();
    match info.build() {
        Build::Default => modes.push(Mode::Gil),
        Build::FreeThreaded => {
            modes.push(Mode::Ft);
            modes.push(Mode::FtGil);
        }
    }
    if info.own_gil_subinterpreters {
        modes.push(Mode::Subinterp);
    }
    if info.multiprocessing {
        modes.push(Mode::Process);
    }
    modes
}
