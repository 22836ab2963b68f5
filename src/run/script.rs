//! `gilscope run --script FILE -- ARGS`: a plain Python script, unchanged,
//! in a child process of the chosen interpreter — `cd CWD && python FILE
//! ARGS` as an argument vector, never through a shell — observed like a
//! workload run (the same sampler and exact GIL reader on its process
//! tree). The interpreter build is the only "mode": `gil` (a default
//! build), `ft` (a free-threaded build as it starts by default) and `ft-gil`
//! (the free-threaded build with `PYTHON_GIL=1`); a script decides itself
//! whether it uses subinterpreters or processes.
//!
//! A [`RunSpec`] says it is a script run by its workload, `script:FILE`,
//! with the arguments as `arg` params in order and the working directory
//! as the `cwd` param — so run files keep their shape (a gilscope without
//! this reads one as a run of an unknown workload) and [`RunSpec::kind`]
//! tells the kinds apart.
//!
//! The hook `workloads/script_hook/sitecustomize.py` (first on
//! `PYTHONPATH`, put back before the script runs) reports the Python
//! thread names, the start-up GIL state and an uncaught exception on the
//! event pipe; the script's code, `sys.argv`, `__main__` and `sys.path`
//! stay as `python FILE ARGS` makes them.

use super::protocol::{RunResult, SCRIPT_CHECKSUM_PREFIX, WorkloadError};
use super::{RunEnd, RunSpec, embedded};
use crate::interp::{Interpreter, Mode};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How a script run's workload starts.
pub const SCRIPT_PREFIX: &str = "script:";
/// How an attach's workload starts.
pub const ATTACH_PREFIX: &str = "attach:";
/// The one line `--script` answers a `subinterp` or `process` mode with.
pub const SCRIPT_MODE_REFUSED: &str = "does not apply to --script: the script itself decides whether it uses subinterpreters or processes; choose the interpreter build with gil, ft or ft-gil";

/// What a run runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunKind {
    /// A workload module through the harness (the default).
    Workload,
    /// A plain script: `cd cwd && python file args…`.
    Script {
        /// As the user gave it (relative to `cwd` when relative).
        file: PathBuf,
        args: Vec<String>,
        /// `None` in a spec made without one: gilscope's own cwd.
        cwd: Option<PathBuf>,
    },
    /// A process gilscope did not start (`gilscope attach PID`).
    Attach { pid: Option<u32> },
}

impl RunKind {
    pub fn is_workload(&self) -> bool {
        matches!(self, RunKind::Workload)
    }

    /// "workload", "script" or "attach" (run files' summaries, `--json`).
    pub fn name(&self) -> &'static str {
        match self {
            RunKind::Workload => "workload",
            RunKind::Script { .. } => "script",
            RunKind::Attach { .. } => "attach",
        }
    }
}

impl RunSpec {
    /// A script run of `file` with `args` on `interp` in `mode` (gil, ft or
    /// ft-gil), started in `cwd`.
    pub fn script(
        interp: &Interpreter,
        mode: Mode,
        file: &Path,
        args: &[String],
        cwd: &Path,
        timeout: Option<Duration>,
    ) -> RunSpec {
        let mut params: Vec<(String, String)> = args
            .iter()
            .map(|a| ("arg".to_string(), a.clone()))
            .collect();
        params.push(("cwd".into(), cwd.display().to_string()));
        RunSpec {
            python: interp.path.clone(),
            interp_name: interp.name.clone(),
            mode,
            workers: 0,
            workload: format!("{SCRIPT_PREFIX}{}", file.display()),
            params,
            timeout,
        }
    }

    /// Whether this runs a workload through the harness (cheap: no
    /// allocation, for per-frame metrics).
    pub fn is_workload(&self) -> bool {
        !self.workload.starts_with(SCRIPT_PREFIX) && !self.workload.starts_with(ATTACH_PREFIX)
    }

    /// Whether this runs a plain script (cheap).
    pub fn is_script(&self) -> bool {
        self.workload.starts_with(SCRIPT_PREFIX)
    }

    /// Whether this runs a workload, a script, or watches a process.
    pub fn kind(&self) -> RunKind {
        if let Some(file) = self.workload.strip_prefix(SCRIPT_PREFIX) {
            let param = |key: &str| -> Vec<String> {
                self.params
                    .iter()
                    .filter(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
                    .collect()
            };
            return RunKind::Script {
                file: PathBuf::from(file),
                args: param("arg"),
                cwd: param("cwd").into_iter().next().map(PathBuf::from),
            };
        }
        if self.workload.starts_with(ATTACH_PREFIX) {
            let pid = self
                .params
                .iter()
                .find(|(k, _)| k == "pid")
                .and_then(|(_, v)| v.parse().ok());
            return RunKind::Attach { pid };
        }
        RunKind::Workload
    }

    /// The script's file, resolved against its working directory.
    pub fn script_path(&self) -> Option<PathBuf> {
        match self.kind() {
            RunKind::Script { file, cwd, .. } => {
                Some(cwd.map_or_else(|| file.clone(), |c| c.join(&file)))
            }
            _ => None,
        }
    }
}

/// Why `mode` cannot run a script, if it cannot.
pub fn check_script_mode(mode: Mode) -> Result<(), String> {
    match mode {
        Mode::Gil | Mode::Ft | Mode::FtGil => Ok(()),
        Mode::Subinterp | Mode::Process => Err(format!("mode '{mode}' {SCRIPT_MODE_REFUSED}")),
    }
}

/// Why `interp` cannot run a script in `mode`, if it cannot: `gil` needs a
/// default build, `ft`/`ft-gil` a free-threaded one. Any working CPython
/// will do otherwise (the hook is Python 3.6+; thread names need 3.8's
/// `threading.get_native_id`, exact GIL lanes 3.13+).
pub fn check_script_interp(interp: &Interpreter, mode: Mode) -> Result<(), String> {
    check_script_mode(mode)?;
    let Some(info) = interp.info() else {
        return Err(format!("{} is broken", interp.name));
    };
    let what = format!("{} ({}, {} build)", interp.name, info.version, info.build());
    match (mode, info.free_threaded) {
        (Mode::Gil, true) => Err(format!(
            "mode 'gil' needs a default build; {what} is free-threaded — use mode 'ft-gil' for its GIL-forced variant"
        )),
        (Mode::Ft | Mode::FtGil, false) => Err(format!(
            "mode '{mode}' needs a free-threaded build (3.13t or newer); {what} is not one"
        )),
        _ => Ok(()),
    }
}

/// The command line of a script run: `python FILE ARGS…` in its cwd, the
/// hook first on `PYTHONPATH`.
pub(super) fn command(
    spec: &RunSpec,
    file: &Path,
    args: &[String],
    cwd: Option<&Path>,
) -> Result<Command, String> {
    check_script_mode(spec.mode)?;
    let rt = embedded::runtime()?;
    let hook = rt.root().join("workloads").join("script_hook");
    let mut cmd = Command::new(&spec.python);
    cmd.arg(file).args(args);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let old = std::env::var_os("PYTHONPATH");
    let mut path = hook.into_os_string();
    if let Some(old) = old.as_ref().filter(|o| !o.is_empty()) {
        path.push(":");
        path.push(old);
    }
    cmd.env("PYTHONPATH", path)
        // The hook puts PYTHONPATH back ("": it was not set, or empty).
        .env("GILSCOPE_SCRIPT_PYTHONPATH", old.unwrap_or_default())
        .env("GILSCOPE_SCRIPT_MODE", spec.mode.as_str())
        .env("GILSCOPE_SCRIPT_NAME", &spec.workload)
        // Output line by line, as it happens (the app and the CLI show it live).
        .env("PYTHONUNBUFFERED", "1");
    match spec.mode {
        Mode::FtGil => cmd.env("PYTHON_GIL", "1"),
        // ft: the build as it starts by default (an extension may still
        // switch the GIL on: the GIL reader and the hook report it).
        _ => cmd.env_remove("PYTHON_GIL"),
    };
    Ok(cmd)
}

/// How a script run that ended on its own went: exit 0 completed (its
/// time is the process's wall time, its checksum the SHA-256 of its
/// stdout), an uncaught exception (reported by the hook, else the
/// traceback found on stderr) or a non-zero exit failed, a signal crashed.
pub(super) fn classify(
    status: std::process::ExitStatus,
    error: Option<WorkloadError>,
    stdout_sha256: String,
    stderr_tail: &[String],
    wall_secs: f64,
    ended_ns: u64,
) -> RunEnd {
    use std::os::unix::process::ExitStatusExt;
    if status.success() {
        return RunEnd::Completed {
            result: RunResult {
                t_ns: ended_ns,
                items: 0,
                elapsed_s: wall_secs,
                checksum: format!("{SCRIPT_CHECKSUM_PREFIX}{stdout_sha256}"),
                gil_enabled: None,
                start_ns: None,
            },
        };
    }
    if status.signal().is_some() {
        let status = crate::child::describe_status(status);
        let reason = match super::native_gil_fault(stderr_tail) {
            Some(cause) => format!("{cause}; the script was {status}"),
            None => format!("the script was {status}"),
        };
        return RunEnd::Crashed { reason };
    }
    let code = status.code().unwrap_or(-1);
    let error = error
        .or_else(|| traceback_from_stderr(stderr_tail))
        .unwrap_or_else(|| WorkloadError {
            t_ns: ended_ns,
            kind: format!("exit status {code}"),
            message: stderr_tail
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map_or("(nothing on stderr)".to_string(), |l| l.trim().to_string()),
            traceback: String::new(),
            filename: None,
            lineno: None,
            phase: Some("script".into()),
            worker: None,
            chunk: None,
        });
    RunEnd::WorkloadFailed { error }
}

/// The last Python traceback in `tail` (a script whose own excepthook
/// replaced the hook's still prints one).
fn traceback_from_stderr(tail: &[String]) -> Option<WorkloadError> {
    let start = tail
        .iter()
        .rposition(|l| l.starts_with("Traceback (most recent call last):"))?;
    let lines = &tail[start..];
    let last = lines
        .iter()
        .rev()
        .find(|l| !l.starts_with(' ') && !l.trim().is_empty())?;
    let (kind, message) = last.split_once(": ").unwrap_or((last.as_str(), ""));
    let place = lines.iter().rev().find_map(|l| {
        let rest = l.trim_start().strip_prefix("File \"")?;
        let (file, rest) = rest.split_once('"')?;
        let line = rest.strip_prefix(", line ")?;
        let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
        Some((file.to_string(), digits.parse().ok()))
    });
    Some(WorkloadError {
        t_ns: 0,
        kind: kind.trim().to_string(),
        message: message.to_string(),
        traceback: lines.join("\n"),
        filename: place.as_ref().map(|p| p.0.clone()),
        lineno: place.and_then(|p| p.1),
        phase: Some("script".into()),
        worker: None,
        chunk: None,
    })
}

/// A running SHA-256 of the script's stdout, line by line.
#[derive(Default)]
pub(super) struct OutputHash(Sha256);

impl OutputHash {
    pub fn line(&mut self, line: &str) {
        self.0.update(line.as_bytes());
        self.0.update(b"\n");
    }

    pub fn hex(self) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::{Interpreter, Source, Status};

    fn interp() -> Interpreter {
        Interpreter {
            name: "3.13".into(),
            path: "/usr/bin/python3".into(),
            aliases: vec![],
            source: Source::Path,
            status: Status::Broken { reason: "x".into() },
        }
    }

    #[test]
    fn a_script_spec_says_what_it_runs() {
        let args = vec!["a b".to_string(), "it's \"q\"".to_string(), "".to_string()];
        let spec = RunSpec::script(
            &interp(),
            Mode::Gil,
            Path::new("rel/s.py"),
            &args,
            Path::new("/home/u"),
            None,
        );
        assert_eq!(
            spec.kind(),
            RunKind::Script {
                file: "rel/s.py".into(),
                args: args.clone(),
                cwd: Some("/home/u".into())
            }
        );
        assert_eq!(spec.script_path(), Some(PathBuf::from("/home/u/rel/s.py")));
        assert_eq!(spec.workers, 0);
        // A run file keeps the kind.
        let back: RunSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(back.kind(), spec.kind());
        let mut plain = spec.clone();
        plain.workload = "primes".into();
        assert_eq!(plain.kind(), RunKind::Workload);
        plain.workload = "attach:python3".into();
        plain.params = vec![("pid".into(), "42".into())];
        assert_eq!(plain.kind(), RunKind::Attach { pid: Some(42) });
    }

    #[test]
    fn subinterp_and_process_are_refused_in_one_line() {
        for mode in [Mode::Gil, Mode::Ft, Mode::FtGil] {
            assert!(check_script_mode(mode).is_ok());
        }
        for mode in [Mode::Subinterp, Mode::Process] {
            let e = check_script_mode(mode).unwrap_err();
            assert!(!e.contains('\n') && e.contains(mode.as_str()), "{e}");
        }
    }

    #[test]
    fn tracebacks_on_stderr_are_found() {
        let tail: Vec<String> = [
            "some output",
            "Traceback (most recent call last):",
            "  File \"/tmp/x.py\", line 3, in <module>",
            "    f()",
            "  File \"/tmp/x.py\", line 2, in f",
            "    def f(): 1/0",
            "ZeroDivisionError: division by zero",
        ]
        .map(String::from)
        .to_vec();
        let e = traceback_from_stderr(&tail).unwrap();
        assert_eq!(e.kind, "ZeroDivisionError");
        assert_eq!(e.message, "division by zero");
        assert_eq!(e.filename.as_deref(), Some("/tmp/x.py"));
        assert_eq!(e.lineno, Some(2));
        assert!(e.traceback.starts_with("Traceback"));
        assert!(traceback_from_stderr(&tail[..1]).is_none());
    }
}
