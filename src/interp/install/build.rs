//! Configuring, compiling and installing one CPython build, with progress.

use super::{InstallError, InstallEvent, Phase, io_err};
use crate::child::{ChildGuard, describe_status};
use crate::interp::Build;
use crate::paths;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Lines of output each step prints for CPython 3.13 (measured here); the
/// progress bar's estimate, capped at 99 % until the step really ends.
const EXPECTED_LINES_CONFIGURE: u64 = 780;
const EXPECTED_LINES_COMPILE: u64 = 1400;
const EXPECTED_LINES_INSTALL: u64 = 4900;
/// Lines of a failed step's output shown in the error.
const TAIL_LINES: usize = 15;

/// A build dependency: what is checked and the Debian package that has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    pub what: &'static str,
    pub package: &'static str,
}

/// Without these, CPython does not build or is useless (no pip, no zlib).
const REQUIRED_HEADERS: [Dep; 3] = [
    Dep {
        what: "zlib.h",
        package: "zlib1g-dev",
    },
    Dep {
        what: "ffi.h",
        package: "libffi-dev",
    },
    Dep {
        what: "openssl/ssl.h",
        package: "libssl-dev",
    },
];
/// Without these, some stdlib modules are missing.
const OPTIONAL_HEADERS: [Dep; 6] = [
    Dep {
        what: "sqlite3.h",
        package: "libsqlite3-dev",
    },
    Dep {
        what: "bzlib.h",
        package: "libbz2-dev",
    },
    Dep {
        what: "lzma.h",
        package: "liblzma-dev",
    },
    Dep {
        what: "readline/readline.h",
        package: "libreadline-dev",
    },
    Dep {
        what: "ncurses.h",
        package: "libncurses-dev",
    },
    Dep {
        what: "uuid/uuid.h",
        package: "uuid-dev",
    },
];

/// What the machine lacks for building CPython.
#[derive(Debug, Clone, Default)]
pub struct BuildDeps {
    pub missing_required: Vec<Dep>,
    pub missing_optional: Vec<Dep>,
}

fn tool_works(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the C preprocessor finds `header`.
fn header_found(header: &str) -> bool {
    let Ok(mut child) = Command::new("cc")
        .args(["-E", "-x", "c", "-", "-o", "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "#include <{header}>");
    }
    child.wait().is_ok_and(|s| s.success())
}

/// Checks the compiler, make and the headers CPython needs.
pub fn check_build_deps() -> BuildDeps {
    let mut deps = BuildDeps::default();
    if !tool_works("cc") {
        deps.missing_required.push(Dep {
            what: "a C compiler (cc)",
            package: "build-essential",
        });
        // Without a compiler no header can be checked.
        return deps;
    }
    if !tool_works("make") {
        deps.missing_required.push(Dep {
            what: "make",
            package: "make",
        });
    }
    deps.missing_required.extend(
        REQUIRED_HEADERS
            .iter()
            .filter(|d| !header_found(d.what))
            .cloned(),
    );
    deps.missing_optional.extend(
        OPTIONAL_HEADERS
            .iter()
            .filter(|d| !header_found(d.what))
            .cloned(),
    );
    deps
}

/// Unpacks the tarball into a fresh directory under the cache.
pub(super) fn extract(
    tarball: &Path,
    version: &str,
    log: &mut File,
) -> Result<PathBuf, InstallError> {
    let root = paths::cache_dir().join("build");
    let src = root.join(format!("Python-{version}"));
    if src.exists() {
        std::fs::remove_dir_all(&src).map_err(io_err(format!("cannot clear {}", src.display())))?;
    }
    std::fs::create_dir_all(&root).map_err(io_err(format!("cannot create {}", root.display())))?;
    let _ = writeln!(log, "extract {} into {}", tarball.display(), root.display());
    let out = Command::new("tar")
        .arg("-xf")
        .arg(tarball)
        .arg("-C")
        .arg(&root)
        .output()
        .map_err(io_err("cannot run tar"))?;
    if !out.status.success() || !src.join("configure").is_file() {
        return Err(InstallError::Io {
            what: format!("cannot unpack {}", tarball.display()),
            source: std::io::Error::other(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        });
    }
    Ok(src)
}

/// Builds and installs one build into `prefix`; returns the configure arguments.
pub(super) fn build_one(
    src: &Path,
    prefix: &Path,
    build: Build,
    jobs: usize,
    log: &mut File,
    log_path: &Path,
    send: &dyn Fn(InstallEvent),
) -> Result<Vec<String>, InstallError> {
    let build_dir = src.with_file_name(format!(
        "{}-{}",
        src.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        build.as_str()
    ));
    for dir in [&build_dir, &prefix.to_path_buf()] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .map_err(io_err(format!("cannot clear {}", dir.display())))?;
        }
    }
    std::fs::create_dir_all(&build_dir)
        .map_err(io_err(format!("cannot create {}", build_dir.display())))?;

    let mut args = Vec::new();
    if build == Build::FreeThreaded {
        args.push("--disable-gil".to_string());
    }
    args.push("--enable-shared".to_string());
    args.push(format!("--prefix={}", prefix.display()));
    args.push(format!(
        "LDFLAGS=-Wl,-rpath,{}",
        prefix.join("lib").display()
    ));

    let step =
        |phase: Phase, program: &Path, step_args: &[String], expected: u64, log: &mut File| {
            let mut cmd = Command::new(program);
            cmd.args(step_args)
                .current_dir(&build_dir)
                .env_remove("MAKEFLAGS");
            run_step(cmd, build, phase, expected, log, log_path, send)
        };
    step(
        Phase::Configure,
        &src.join("configure"),
        &args,
        EXPECTED_LINES_CONFIGURE,
        log,
    )?;
    step(
        Phase::Compile,
        Path::new("make"),
        &[format!("-j{jobs}")],
        EXPECTED_LINES_COMPILE,
        log,
    )?;
    step(
        Phase::Install,
        Path::new("make"),
        &["install".to_string()],
        EXPECTED_LINES_INSTALL,
        log,
    )?;
    let _ = std::fs::remove_dir_all(&build_dir);
    Ok(args)
}

/// Runs one step with stdout and stderr into the log, counting lines for
/// progress and keeping the last ones for the error message.
fn run_step(
    mut cmd: Command,
    build: Build,
    phase: Phase,
    expected_lines: u64,
    log: &mut File,
    log_path: &Path,
    send: &dyn Fn(InstallEvent),
) -> Result<(), InstallError> {
    let started = Instant::now();
    send(InstallEvent::PhaseStarted {
        build: Some(build),
        phase,
    });
    let _ = writeln!(log, "\n=== {} {}: {cmd:?}", build.as_str(), phase.as_str());
    let (reader, writer) = std::io::pipe().map_err(io_err("cannot create a pipe"))?;
    let writer2 = writer.try_clone().map_err(io_err("cannot create a pipe"))?;
    cmd.stdin(Stdio::null()).stdout(writer).stderr(writer2);
    let spawned = ChildGuard::spawn(&mut cmd);
    // The command holds the pipe's write ends: drop it so EOF can arrive.
    drop(cmd);
    let mut child = spawned.map_err(io_err(format!("cannot start the {} step", phase.as_str())))?;
    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES);
    let mut lines = 0u64;
    for line in BufReader::new(reader).lines() {
        let Ok(line) = line else { break };
        let _ = writeln!(log, "{line}");
        lines += 1;
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
        let estimate = expected_lines.max(lines + lines / 100 + 1);
        send(InstallEvent::Progress {
            build: Some(build),
            phase,
            done: lines,
            total: estimate,
        });
    }
    let status = child
        .child_mut()
        .wait()
        .map_err(io_err("cannot wait for the build"))?;
    if !status.success() {
        return Err(InstallError::Step {
            step: phase.as_str(),
            build,
            status: describe_status(status),
            tail: super::indented(tail),
            log: log_path.to_path_buf(),
        });
    }
    send(InstallEvent::PhaseDone {
        build: Some(build),
        phase,
        secs: started.elapsed().as_secs_f64(),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_present_headers_and_not_absent_ones() {
        assert!(header_found("stdio.h"));
        assert!(!header_found("gilscope_no_such_header_42.h"));
    }

    #[test]
    fn failing_step_reports_tail_and_log() {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("log");
        let mut log = File::create(&log_path).unwrap();
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo checking foo; echo 'error: no compiler' >&2; exit 2",
        ]);
        let err = run_step(
            cmd,
            Build::FreeThreaded,
            Phase::Configure,
            10,
            &mut log,
            &log_path,
            &|_| {},
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("configure of the free-threaded build failed (exited with status 2)"),
            "{msg}"
        );
        assert!(msg.contains("    error: no compiler"), "{msg}");
        assert!(
            msg.ends_with(&format!("full log: {}", log_path.display())),
            "{msg}"
        );
        let logged = std::fs::read_to_string(&log_path).unwrap();
        assert!(logged.contains("checking foo") && logged.contains("error: no compiler"));
    }
}
