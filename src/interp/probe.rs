//! Probing one interpreter: run a short script in it (with a timeout) and
//! parse what it says about itself.

use crate::child::{ChildGuard, describe_status};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::Build;

/// The probe script, run with `python -I -c`.
const PROBE_SCRIPT: &str = include_str!("probe.py");
/// Marker in front of the probe's JSON line (a sitecustomize may print too).
const PROBE_MARKER: &str = "@gilscope-probe ";
/// At most this much of a broken interpreter's output goes into the reason.
const REASON_OUTPUT_CHARS: usize = 200;

/// What an interpreter says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeInfo {
    /// `sys.implementation.name`, e.g. `cpython`.
    pub implementation: String,
    /// `major.minor.micro`.
    pub version: String,
    /// `final`, `candidate`, `beta`, `alpha`.
    pub release_level: String,
    /// The full `sys.version` line.
    pub version_string: String,
    /// `realpath(sys.executable)`.
    pub executable: Option<PathBuf>,
    /// `sysconfig.get_config_var("Py_GIL_DISABLED")`.
    pub free_threaded: bool,
    /// `sys._is_gil_enabled()` at start (true where it does not exist).
    pub gil_enabled_at_start: bool,
    /// `sysconfig.get_config_var("EXT_SUFFIX")`.
    pub ext_suffix: Option<String>,
    /// `concurrent.interpreters`, `_interpreters` or `_xxsubinterpreters`.
    pub subinterp_api: Option<String>,
    /// Whether an isolated (own-GIL) subinterpreter could be created and run.
    pub own_gil_subinterpreters: bool,
    /// Why not, when the API exists but the check failed.
    pub own_gil_error: Option<String>,
    /// Whether `multiprocessing` imports.
    pub multiprocessing: bool,
}

/// A file as the kernel names it: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    /// The file at `path` on this side (symlinks followed), if it exists.
    pub fn of(path: &Path) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}

/// A probe's answer: what the interpreter says about itself, and which file
/// its executable is as seen from inside it. The latter tells a wrapper into
/// another root (whose `/usr/bin/python3.15` is not the host's) from the
/// host file of the same name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Probed {
    #[serde(flatten)]
    pub info: ProbeInfo,
    /// `os.stat(executable)` inside the interpreter; `None` when it failed.
    #[serde(default, deserialize_with = "file_id_pair")]
    pub executable_file: Option<FileId>,
}

fn file_id_pair<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<FileId>, D::Error> {
    let pair: Option<(u64, u64)> = Option::deserialize(d)?;
    Ok(pair.map(|(dev, ino)| FileId { dev, ino }))
}

impl ProbeInfo {
    pub fn build(&self) -> Build {
        if self.free_threaded {
            Build::FreeThreaded
        } else {
            Build::Default
        }
    }

    /// `(major, minor)`, `(0, 0)` when the version string is malformed.
    pub fn version_tuple(&self) -> (u32, u32) {
        let mut parts = self
            .version
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    }

    /// `3.13` or `3.13t`.
    pub fn short_name(&self) -> String {
        let (major, minor) = self.version_tuple();
        let t = if self.free_threaded { "t" } else { "" };
        format!("{major}.{minor}{t}")
    }
}

/// Runs the probe in `python` and returns its answer, or why it failed.
pub fn probe(python: &Path, timeout: Duration) -> Result<ProbeInfo, String> {
    probe_full(python, timeout).map(|p| p.info)
}

/// [`probe`], with the executable's file identity as the interpreter sees it.
pub fn probe_full(python: &Path, timeout: Duration) -> Result<Probed, String> {
    let mut cmd = Command::new(python);
    cmd.args(["-I", "-c", PROBE_SCRIPT])
        .env_remove("PYTHON_GIL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).map_err(|e| format!("cannot run it: {e}"))?;
    let stdout = child.child_mut().stdout.take();
    let stderr = child.child_mut().stderr.take();
    // Read both pipes on their own threads so a chatty child cannot block.
    let out_reader = std::thread::spawn(move || read_all(stdout));
    let err_reader = std::thread::spawn(move || read_all(stderr));
    let status = child
        .wait_timeout(timeout)
        .map_err(|e| format!("cannot wait for it: {e}"))?;
    let Some(status) = status else {
        // Killing the group closes the pipes, so the readers finish.
        let _ = child.kill();
        let _ = out_reader.join();
        let _ = err_reader.join();
        return Err(format!("probe timed out after {}", fmt_secs(timeout)));
    };
    drop(child);
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        let output = if stderr.trim().is_empty() {
            &stdout
        } else {
            &stderr
        };
        return Err(with_output(&describe_status(status), output));
    }
    parse_probed(&stdout).ok_or_else(|| with_output("probe printed no answer", &stdout))
}

fn read_all(pipe: Option<impl Read>) -> String {
    let mut buf = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Appends the last non-empty line of the output (where an error message
/// or a traceback's exception line is), shortened.
fn with_output(reason: &str, output: &str) -> String {
    let Some(last) = output.lines().rev().map(str::trim).find(|l| !l.is_empty()) else {
        return reason.to_string();
    };
    let mut last: String = last.chars().take(REASON_OUTPUT_CHARS).collect();
    if last.len() < output.trim().lines().last().map_or(0, str::len) {
        last.push('…');
    }
    format!("{reason}: {last}")
}

fn fmt_secs(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// Finds the marked JSON line in the probe's stdout.
pub fn parse_probe_output(stdout: &str) -> Option<ProbeInfo> {
    parse_probed(stdout).map(|p| p.info)
}

fn parse_probed(stdout: &str) -> Option<Probed> {
    stdout
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix(PROBE_MARKER))
        .and_then(|json| serde_json::from_str(json).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn probes_the_machines_python3() {
        let info = probe(Path::new("python3"), Duration::from_secs(20)).unwrap();
        assert_eq!(info.implementation, "cpython");
        assert!(info.version_tuple() >= (3, 9), "{info:?}");
        assert!(info.multiprocessing);
        assert!(info.executable.is_some());
    }

    #[test]
    fn a_direct_interpreter_reports_its_own_file() {
        let python = std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".pyenv/versions/3.12.1/bin/python3.12"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("/usr/bin/python3"));
        let probed = probe_full(&python, Duration::from_secs(20)).unwrap();
        let exe = probed.info.executable.clone().unwrap();
        assert_eq!(probed.executable_file, FileId::of(&exe));
        assert_eq!(probed.executable_file, FileId::of(&python));
    }

    #[test]
    fn failing_interpreter_reports_status_and_output() {
        let dir = tempfile::tempdir().unwrap();
        let bad = script(
            dir.path(),
            "python3.98",
            "echo 'libpython not found' >&2; exit 1",
        );
        let err = probe(&bad, Duration::from_secs(10)).unwrap_err();
        assert_eq!(err, "exited with status 1: libpython not found");
    }

    #[test]
    fn hanging_interpreter_times_out_and_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let hang = script(dir.path(), "python3.97", "sleep 300");
        let start = std::time::Instant::now();
        let err = probe(&hang, Duration::from_millis(300)).unwrap_err();
        assert_eq!(err, "probe timed out after 0.3 s");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn garbage_output_is_not_an_answer() {
        let dir = tempfile::tempdir().unwrap();
        let odd = script(dir.path(), "python3.96", "echo hello");
        let err = probe(&odd, Duration::from_secs(10)).unwrap_err();
        assert_eq!(err, "probe printed no answer: hello");
    }
}
