//! Runs: one workload, in one mode, with N workers, in a child process of
//! the interpreter under test.
//!
//! [`runner::start`] spawns the harness and streams [`RunMessage`]s: the
//! harness's protocol events, the workload's own output lines, and finally a
//! [`RunOutcome`]. Dropping the handle stops the run. [`check_params`]
//! converts a workload's parameters as a run would, starting nothing (call
//! it once before a run or a sweep; it spawns the interpreter, so not on a
//! UI thread). [`catalog::probe_workloads`] asks an interpreter to
//! describe the built-in workloads and their defaults (`harness.py
//! --probe`; it spawns the interpreter too).

pub mod attach;
pub mod catalog;
pub mod check;
pub mod embedded;
pub mod gil_feed;
pub mod protocol;
pub mod runner;
pub mod script;

use crate::child::Usage;
use crate::interp::{Build, Interpreter, Mode};
use protocol::{Event, RunResult, WorkloadError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use check::check_params;
pub use runner::{RunHandle, start, start_sampled, start_with_env};
pub use script::{RunKind, check_script_mode};

/// Everything needed to start a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The interpreter binary.
    pub python: PathBuf,
    /// Its name in `gilscope pythons list`, for display.
    pub interp_name: String,
    pub mode: Mode,
    pub workers: usize,
    /// A built-in workload name or a path to a workload file.
    pub workload: String,
    /// `key=value` parameters, passed through to the workload.
    pub params: Vec<(String, String)>,
    /// Kill the run after this long.
    pub timeout: Option<Duration>,
}

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What a running run reports.
#[derive(Debug, Clone)]
pub enum RunMessage {
    /// A protocol event, with the time gilscope received it.
    Event { event: Event, received: Instant },
    /// A line the workload printed.
    Output { stream: Stream, line: String },
    /// A line on the event pipe that was not a valid event.
    ProtocolProblem(String),
    /// One tick of the sampler (when the run is sampled).
    Sample(Box<crate::sampler::Sample>),
    /// ~100 ms of the exact GIL reader, aggregated (CPython 3.13+).
    Gil(Box<crate::gil::GilInterval>),
    /// The GIL reader attached to a process, or why it cannot.
    GilNotice(String),
    /// One interval (250 ms) of a service run's load generator.
    Load(Box<crate::loadgen::LoadInterval>),
    /// The load generator's report (a service run; before `Finished`).
    LoadDone(Box<crate::loadgen::LoadReport>),
    /// The run is over; always the last message.
    Finished(Box<RunOutcome>),
}

/// What pyo3 prints when Rust code copies a Python object handle on a
/// thread that does not hold the GIL (0.28: "attached"; older: "held").
const PYO3_NO_GIL_PANICS: [&str; 2] = [
    "Cannot clone pointer into Python heap without the thread being attached",
    "Cannot clone pointer into Python heap without the GIL being held",
];

/// When the stderr of a crashed run shows a native extension touching a
/// Python object without the GIL (the pyo3 panic that crashed Perspective
/// 3.4.0), the cause in words with the panic quoted.
pub fn native_gil_fault(stderr_tail: &[String]) -> Option<String> {
    let line = stderr_tail
        .iter()
        .find(|l| PYO3_NO_GIL_PANICS.iter().any(|p| l.contains(p)))?;
    Some(format!(
        "a native extension touched a Python object without holding the GIL (a pyo3 panic in a Rust thread: \"{}\")",
        line.trim()
    ))
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "end", rename_all = "kebab-case")]
pub enum RunEnd {
    /// The workload finished and reported its result.
    Completed { result: RunResult },
    /// The workload raised (at import, in prepare, in a chunk, …).
    WorkloadFailed { error: WorkloadError },
    /// The interpreter died (signal) or exited without a result.
    Crashed { reason: String },
    /// Killed after the timeout.
    TimedOut { after_secs: f64 },
    /// Stopped by the user.
    Stopped,
    /// An attach to a process gilscope did not start ended (the process
    /// exited, the duration was over, or the user stopped watching); the
    /// process itself was never touched.
    Detached { reason: String },
}

/// The end of a run, with what the kernel accounted for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    pub end: RunEnd,
    /// From spawn to exit, as seen by gilscope.
    pub wall_secs: f64,
    /// CPU time and peak RSS of the child and its reaped descendants.
    pub usage: Option<Usage>,
    /// "exited with status 0", "killed by signal 11 (SIGSEGV)", ….
    pub exit: String,
    /// The last lines the workload wrote to stderr.
    pub stderr_tail: Vec<String>,
    /// How the sampler kept up (`None` when the run was not sampled).
    #[serde(default)]
    pub sampler: Option<crate::sampler::SamplerStats>,
    /// When the child ended or was killed (CLOCK_MONOTONIC ns, the events'
    /// clock); `None` in files from before it.
    #[serde(default)]
    pub ended_ns: Option<u64>,
}

impl RunOutcome {
    /// The outcome of a run whose interpreter could not be started.
    pub fn not_started(reason: &str) -> Self {
        Self {
            end: RunEnd::Crashed {
                reason: format!("could not start: {reason}"),
            },
            wall_secs: 0.0,
            usage: None,
            exit: "not started".into(),
            stderr_tail: Vec::new(),
            sampler: None,
            ended_ns: None,
        }
    }

    /// Whether the run went wrong: not completed, not stopped by the user,
    /// not an attach that ended (those are the user's choice or the
    /// target's, and are shown neutrally).
    pub fn is_failure(&self) -> bool {
        !matches!(
            self.end,
            RunEnd::Completed { .. } | RunEnd::Stopped | RunEnd::Detached { .. }
        )
    }

    /// A one-line description of how the run ended.
    pub fn headline(&self) -> String {
        match &self.end {
            RunEnd::Completed { result } if result.is_script() => format!(
                "the script exited with status 0 after {:.3} s",
                result.elapsed_s
            ),
            RunEnd::Completed { result } => format!(
                "completed: {} items in {:.3} s",
                result.items, result.elapsed_s
            ),
            RunEnd::WorkloadFailed { error } if error.phase.as_deref() == Some("script") => {
                format!("script failed: {}", error.headline())
            }
            RunEnd::WorkloadFailed { error } => format!("workload error: {}", error.headline()),
            RunEnd::Crashed { reason } => format!("crashed: {reason}"),
            RunEnd::TimedOut { after_secs } => {
                format!("timed out after {after_secs:.1} s and was killed")
            }
            RunEnd::Stopped => "stopped by you".to_string(),
            RunEnd::Detached { reason } => format!("detached: {reason}"),
        }
    }
}

/// Why `interp` cannot run `mode`, if it cannot.
pub fn check_mode(interp: &Interpreter, mode: Mode) -> Result<(), String> {
    if interp.supports(mode) {
        return Ok(());
    }
    let Some(info) = interp.info() else {
        return Err(format!("{} is broken", interp.name));
    };
    let what = format!("{} ({}, {} build)", interp.name, info.version, info.build());
    Err(match mode {
        Mode::Ft | Mode::FtGil => {
            format!("mode '{mode}' needs a free-threaded build (3.13t or newer); {what} is not one")
        }
        Mode::Gil if info.build() == Build::FreeThreaded => {
            format!(
                "mode 'gil' needs a default build; {what} is free-threaded — use mode 'ft-gil' for its GIL-forced variant"
            )
        }
        Mode::Subinterp => match &info.own_gil_error {
            Some(err) => format!(
                "mode 'subinterp' needs own-GIL subinterpreters; on {what} they failed: {err}"
            ),
            None => format!(
                "mode 'subinterp' needs CPython 3.12+ with own-GIL subinterpreters; {what} has none"
            ),
        },
        _ if info.version_tuple() < (3, 9) => {
            format!("{what} is too old: gilscope's harness needs Python 3.9+")
        }
        _ => format!("{what} cannot run mode '{mode}'"),
    })
}

/// The interpreter gilscope picks for `mode` when none is named: the newest
/// working one, gilscope's own builds first, a default build unless the mode
/// needs a free-threaded one.
pub fn pick_interpreter(interps: &[Interpreter], mode: Mode) -> Option<&Interpreter> {
    let wants_ft = matches!(mode, Mode::Ft | Mode::FtGil);
    interps.iter().filter(|i| i.supports(mode)).min_by_key(|i| {
        let info = i.info();
        let build_penalty = info.is_some_and(|x| x.free_threaded != wants_ft);
        let (major, minor) = info.map(|x| x.version_tuple()).unwrap_or((0, 0));
        (
            build_penalty,
            std::cmp::Reverse((major, minor)),
            i.source != crate::interp::Source::Managed,
        )
    })
}

/// Names of interpreters that can run `mode`, for error messages.
pub fn interpreters_for(interps: &[Interpreter], mode: Mode) -> Vec<String> {
    interps
        .iter()
        .filter(|i| i.supports(mode))
        .map(|i| i.name.clone())
        .collect()
}
