//! The fast path: CPython from uv (`uv python install 3.14 3.14t`) when uv
//! is on `PATH` — a download of seconds instead of a build of minutes.
//!
//! uv keeps each interpreter in its own folder under `uv python dir`
//! (`$UV_PYTHON_INSTALL_DIR`, else `~/.local/share/uv/python`), named as
//! `uv python list` prints it: `cpython-3.14.2-linux-x86_64-gnu`,
//! `cpython-3.13.5+freethreaded-linux-x86_64-gnu` (`+debug` for debug
//! builds), with `bin/python3.14` or `bin/python3.13t` and `bin/python3`
//! inside. Discovery (`interp::discover`) scans the same folder; here the
//! folder names pick the candidates and a probe confirms each.

use super::{InstallEvent, Phase, source, version_matches};
use crate::child::{ChildGuard, describe_status};
use crate::interp::probe::{ProbeInfo, probe};
use crate::interp::{Build, added, discover};
use crate::paths;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Lines of uv's output kept for an error.
const TAIL_LINES: usize = 12;
/// Time a probe of a uv interpreter may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why uv did not give the interpreters. Each message names the command.
#[derive(Debug, thiserror::Error)]
pub enum UvError {
    #[error("`{command}` failed after {secs:.1} s ({status}); uv said:\n{tail}")]
    Failed {
        command: String,
        secs: f64,
        status: String,
        tail: String,
    },
    #[error("cannot run `{command}`: {source}")]
    Start {
        command: String,
        source: std::io::Error,
    },
    #[error(
        "`{command}` succeeded, but no working {build} CPython {version} is in uv's folder {}",
        .root.display()
    )]
    Missing {
        command: String,
        build: Build,
        version: String,
        root: PathBuf,
    },
}

impl UvError {
    /// What the user can do about it.
    pub fn fix(&self) -> String {
        match self {
            UvError::Failed { .. } | UvError::Start { .. } => {
                "uv downloads CPython from GitHub (python-build-standalone): check that this \
                 machine can reach it (a proxy: HTTPS_PROXY; a mirror: UV_PYTHON_INSTALL_MIRROR), \
                 or build from source: gilscope pythons install --via source"
                    .into()
            }
            UvError::Missing { root, .. } => format!(
                "`uv python list --only-installed` shows what uv has; `gilscope pythons add PATH` \
                 adds one gilscope did not find in {}",
                root.display()
            ),
        }
    }
}

/// The uv to run: `$UV` (uv sets it for the commands it runs, `uvx
/// gilscope` too), then `uv` on `PATH`.
pub fn find_uv() -> Option<PathBuf> {
    let from_env = std::env::var_os("UV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("uv")).collect())
        .unwrap_or_default();
    from_env
        .into_iter()
        .chain(on_path)
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// uv's request for a build: `3.14t`, `3.13`.
pub fn request(version: &str, build: Build) -> String {
    match build {
        Build::FreeThreaded => format!("{version}t"),
        Build::Default => version.to_string(),
    }
}

/// `uv python install` with the requests for `builds`, as the user would type it.
pub fn command_line(version: &str, builds: &[Build]) -> String {
    let requests: Vec<String> = builds.iter().map(|&b| request(version, b)).collect();
    format!("uv python install {}", requests.join(" "))
}

/// The version and build a folder of uv's names:
/// `cpython-3.13.5+freethreaded-linux-x86_64-gnu` → `3.13.5`, free-threaded.
/// Debug builds and other implementations are not for gilscope.
pub fn parse_folder_name(name: &str) -> Option<(&str, Build)> {
    let (key, _platform) = name.strip_prefix("cpython-")?.split_once('-')?;
    let (version, build) = match key.split_once('+') {
        None => (key, Build::Default),
        Some((version, "freethreaded")) => (version, Build::FreeThreaded),
        Some(_) => return None,
    };
    version
        .starts_with(|c: char| c.is_ascii_digit())
        .then_some((version, build))
}

/// The newest working interpreter of `build` matching `version` (`3.14`
/// or `3.14.2`) among uv's folders in `root`, with its probe.
pub fn installed(root: &Path, version: &str, build: Build) -> Option<(PathBuf, ProbeInfo)> {
    let mut folders: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(root)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (v, b) = parse_folder_name(&name)?;
            (b == build && version_matches(version, v)).then(|| (source::version_key(v), e.path()))
        })
        .collect();
    folders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    folders.into_iter().find_map(|(_, folder)| {
        discover::interpreter_files(&folder.join("bin"))
            .into_iter()
            .find_map(|python| {
                let info = probe(&python, PROBE_TIMEOUT).ok()?;
                (info.build() == build && version_matches(version, &info.version))
                    .then_some((python, info))
            })
    })
}

/// Where this uv keeps its interpreters (`uv python dir`), or where
/// discovery looks when uv does not say.
fn python_dir(uv: &Path) -> Option<PathBuf> {
    let asked = || -> Option<PathBuf> {
        let mut cmd = Command::new(uv);
        cmd.args(["python", "dir"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = ChildGuard::spawn(&mut cmd).ok()?;
        let mut out = String::new();
        child
            .child_mut()
            .stdout
            .take()?
            .read_to_string(&mut out)
            .ok()?;
        let status = child.wait().ok()?;
        let dir = out.trim();
        (status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
    };
    asked().or_else(discover::uv_python_dir)
}

/// Runs `uv python install` for `builds` of `version`, reporting each line
/// uv prints, then finds and checks the interpreters. Returns them in the
/// order of `builds`.
pub(super) fn install(
    uv: &Path,
    version: &str,
    builds: &[Build],
    log: &mut File,
    send: &dyn Fn(InstallEvent),
) -> Result<Vec<(Build, PathBuf)>, UvError> {
    let command = command_line(version, builds);
    let started = Instant::now();
    send(InstallEvent::PhaseStarted {
        build: None,
        phase: Phase::Uv,
    });
    let _ = writeln!(log, "\n=== {command} (uv at {})", uv.display());
    let start_err = |source: std::io::Error| UvError::Start {
        command: command.clone(),
        source,
    };
    let (reader, writer) = std::io::pipe().map_err(start_err)?;
    let writer2 = writer.try_clone().map_err(start_err)?;
    let mut cmd = Command::new(uv);
    cmd.args(["python", "install"])
        .args(builds.iter().map(|&b| request(version, b)))
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2);
    let spawned = ChildGuard::spawn(&mut cmd);
    // The command holds the pipe's write ends: drop it so EOF can arrive.
    drop(cmd);
    let mut child = spawned.map_err(start_err)?;
    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES);
    for line in BufReader::new(reader).lines() {
        let Ok(line) = line else { break };
        let _ = writeln!(log, "{line}");
        if line.trim().is_empty() {
            continue;
        }
        send(InstallEvent::Status {
            text: format!("uv: {}", line.trim()),
        });
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    let status = child.wait().map_err(start_err)?;
    let secs = started.elapsed().as_secs_f64();
    if !status.success() {
        let _ = writeln!(log, "=== {command}: {}", describe_status(status));
        return Err(UvError::Failed {
            command,
            secs,
            status: describe_status(status),
            tail: super::indented(tail),
        });
    }
    send(InstallEvent::PhaseDone {
        build: None,
        phase: Phase::Uv,
        secs,
    });
    let root = python_dir(uv).unwrap_or_default();
    let mut found = Vec::new();
    for &build in builds {
        let Some((python, _)) = installed(&root, version, build) else {
            return Err(UvError::Missing {
                command,
                build,
                version: version.to_string(),
                root,
            });
        };
        found.push((build, python));
    }
    // A uv configured to keep them elsewhere (uv.toml): gilscope's own list
    // remembers them, so discovery finds them too.
    if discover::uv_python_dir().is_none_or(|seen| !same_dir(&seen, &root)) {
        for (_, python) in &found {
            let text = match added::add(python, PROBE_TIMEOUT, &paths::pythons_config_file()) {
                Ok(_) => format!(
                    "uv keeps its interpreters in {}, where gilscope does not look: added {} (`gilscope pythons remove` forgets it)",
                    root.display(),
                    python.display()
                ),
                Err(err) => format!("could not remember {}: {err}", python.display()),
            };
            send(InstallEvent::Note { text });
        }
    }
    Ok(found)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_as_uv_writes_them() {
        assert_eq!(
            parse_folder_name("cpython-3.13.5+freethreaded-linux-x86_64-gnu"),
            Some(("3.13.5", Build::FreeThreaded))
        );
        assert_eq!(
            parse_folder_name("cpython-3.14.2-linux-x86_64-gnu"),
            Some(("3.14.2", Build::Default))
        );
        // uv's minor-version links
        assert_eq!(
            parse_folder_name("cpython-3.14+freethreaded-linux-x86_64-gnu"),
            Some(("3.14", Build::FreeThreaded))
        );
        for other in [
            "cpython-3.13.5+debug-linux-x86_64-gnu",
            "cpython-3.13.5+freethreaded+debug-linux-x86_64-gnu",
            "pypy-3.10.14-linux-x86_64-gnu",
            ".lock",
            ".cache",
            "cpython-latest",
        ] {
            assert_eq!(parse_folder_name(other), None, "{other}");
        }
    }

    #[test]
    fn requests_and_the_command_line() {
        assert_eq!(request("3.14", Build::FreeThreaded), "3.14t");
        assert_eq!(request("3.13.5", Build::Default), "3.13.5");
        assert_eq!(
            command_line("3.14", &[Build::Default, Build::FreeThreaded]),
            "uv python install 3.14 3.14t"
        );
    }
}
