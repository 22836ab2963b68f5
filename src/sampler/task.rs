//! Per-thread files: `/proc/PID/task/TID/{stat,schedstat,comm}`.
//!
//! `stat` gives the scheduler state letter, the CPU the thread last ran on
//! and tick-resolution CPU times; `schedstat` gives nanosecond on-CPU time
//! and run-queue wait, which is what separates "running" from "waiting for a
//! core" from "blocked".

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::error::{ParseError, ProcError};
use super::file::read_once;
use super::parse::{fields, next_u64, parse_u32};

/// Process id / thread id, as `std::process::Child::id()` returns it.
pub type Pid = u32;

/// `/proc/PID/task/TID/NAME`.
pub fn task_path(pid: Pid, tid: Pid, name: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/task/{tid}/{name}"))
}

/// Scheduler state letter of `stat` field 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// `R`: running or runnable (on a CPU or in its run queue).
    Running,
    /// `S`: interruptible sleep (futex, poll, sleep, ... — where a GIL waiter is).
    Sleeping,
    /// `D`: uninterruptible sleep (usually I/O).
    DiskSleep,
    /// `T`: stopped by a signal.
    Stopped,
    /// `t`: stopped by a tracer.
    TracingStop,
    /// `Z`: exited, not yet reaped.
    Zombie,
    /// `X` / `x`: dead.
    Dead,
    /// `I`: idle kernel thread.
    Idle,
    /// `P`: parked kernel thread.
    Parked,
    /// Any other letter (old kernels: `W`, `K`).
    Other(char),
}

impl TaskState {
    pub fn from_letter(b: u8) -> Self {
        match b {
            b'R' => Self::Running,
            b'S' => Self::Sleeping,
            b'D' => Self::DiskSleep,
            b'T' => Self::Stopped,
            b't' => Self::TracingStop,
            b'Z' => Self::Zombie,
            b'X' | b'x' => Self::Dead,
            b'I' => Self::Idle,
            b'P' => Self::Parked,
            other => Self::Other(char::from(other)),
        }
    }

    /// The kernel's letter for this state.
    pub fn letter(self) -> char {
        match self {
            Self::Running => 'R',
            Self::Sleeping => 'S',
            Self::DiskSleep => 'D',
            Self::Stopped => 'T',
            Self::TracingStop => 't',
            Self::Zombie => 'Z',
            Self::Dead => 'X',
            Self::Idle => 'I',
            Self::Parked => 'P',
            Self::Other(c) => c,
        }
    }
}

/// The fields of `/proc/PID/task/TID/stat` the sampler uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskStat {
    /// Field 1: the thread id (the process id for /proc/PID/stat).
    pub tid: Pid,
    /// Field 3.
    pub state: TaskState,
    /// Field 4: the parent's process id (tgid).
    pub ppid: Pid,
    /// Field 14, clock ticks.
    pub utime_ticks: u64,
    /// Field 15, clock ticks.
    pub stime_ticks: u64,
    /// Field 20: threads in the whole process.
    pub num_threads: u32,
    /// Field 22: start time after boot, clock ticks (identifies a task
    /// across tid reuse).
    pub start_ticks: u64,
    /// Field 39: the CPU the thread last ran on.
    pub processor: u32,
}

/// Nanosecond scheduler statistics of one thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedStat {
    /// Time spent on a CPU.
    pub on_cpu_ns: u64,
    /// Time spent runnable in a run queue, waiting for a CPU.
    pub runqueue_wait_ns: u64,
    /// Number of times it was put on a CPU.
    pub timeslices: u64,
}

/// A stat line split around its comm field.
pub(crate) struct StatParts<'a> {
    /// Before `(`: the pid.
    pub(crate) head: &'a [u8],
    /// Between `(` and the last `)`.
    pub(crate) comm: &'a [u8],
    /// After the last `)`: fields 3 onwards.
    pub(crate) rest: &'a [u8],
}

/// Splits a stat line at the comm field. The comm may itself contain spaces
/// and parentheses, so its end is the LAST `)` in the line.
pub(crate) fn split_comm(content: &[u8]) -> Result<StatParts<'_>, ParseError> {
    let open = content
        .iter()
        .position(|&b| b == b'(')
        .ok_or(ParseError::Invalid("no `(` before the comm field"))?;
    let close = content
        .iter()
        .rposition(|&b| b == b')')
        .filter(|&c| c > open)
        .ok_or(ParseError::Invalid("no `)` after the comm field"))?;
    Ok(StatParts {
        head: &content[..open],
        comm: &content[open + 1..close],
        rest: &content[close + 1..],
    })
}

/// The comm field of a stat line (may contain spaces and parentheses).
pub fn parse_stat_comm(content: &[u8]) -> Result<String, ParseError> {
    let parts = split_comm(content)?;
    Ok(String::from_utf8_lossy(parts.comm).into_owned())
}

/// Parses `/proc/PID/stat` or `/proc/PID/task/TID/stat`.
pub fn parse_task_stat(content: &[u8]) -> Result<TaskStat, ParseError> {
    let parts = split_comm(content)?;
    let tid = parse_u32("pid", parts.head.trim_ascii())?;
    let mut it = fields(parts.rest);
    let state_field = it.next().ok_or(ParseError::MissingField("state"))?;
    let &[letter] = state_field else {
        return Err(ParseError::Invalid("state is not a single letter"));
    };
    let state = TaskState::from_letter(letter);
    let ppid = parse_u32("ppid", it.next().ok_or(ParseError::MissingField("ppid"))?)?;
    // Fields 5..13: pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt.
    skip(&mut it, 9, "utime")?;
    let utime_ticks = next_u64(&mut it, "utime")?;
    let stime_ticks = next_u64(&mut it, "stime")?;
    // Fields 16..19: cutime cstime priority nice (the latter may be negative).
    skip(&mut it, 4, "num_threads")?;
    let num_threads = parse_u32(
        "num_threads",
        it.next().ok_or(ParseError::MissingField("num_threads"))?,
    )?;
    skip(&mut it, 1, "starttime")?; // itrealvalue
    let start_ticks = next_u64(&mut it, "starttime")?;
    // Fields 23..38.
    skip(&mut it, 16, "processor")?;
    let processor = parse_u32(
        "processor",
        it.next().ok_or(ParseError::MissingField("processor"))?,
    )?;
    Ok(TaskStat {
        tid,
        state,
        ppid,
        utime_ticks,
        stime_ticks,
        num_threads,
        start_ticks,
        processor,
    })
}

fn skip<'a>(
    it: &mut impl Iterator<Item = &'a [u8]>,
    n: usize,
    next_field: &'static str,
) -> Result<(), ParseError> {
    for _ in 0..n {
        it.next().ok_or(ParseError::MissingField(next_field))?;
    }
    Ok(())
}

/// Parses `/proc/PID/task/TID/schedstat`.
///
/// `Ok(None)` when the kernel gives no data: an empty file, or `0 0 0`,
/// which is what a kernel with sched_info turned off prints. (A thread that
/// has never been on a CPU also reads `0 0 0`; "no reading yet" is the
/// honest answer for it too.) Never reports a made-up 0.
pub fn parse_schedstat(content: &[u8]) -> Result<Option<SchedStat>, ParseError> {
    let mut it = fields(content);
    if content.trim_ascii().is_empty() {
        return Ok(None);
    }
    let s = SchedStat {
        on_cpu_ns: next_u64(&mut it, "on-cpu ns")?,
        runqueue_wait_ns: next_u64(&mut it, "run-queue wait ns")?,
        timeslices: next_u64(&mut it, "timeslices")?,
    };
    if s.on_cpu_ns == 0 && s.runqueue_wait_ns == 0 && s.timeslices == 0 {
        return Ok(None);
    }
    Ok(Some(s))
}

/// Parses `/proc/PID/task/TID/comm`: the thread name without the newline.
pub fn parse_comm(content: &[u8]) -> String {
    let name = content.strip_suffix(b"\n").unwrap_or(content);
    String::from_utf8_lossy(name).into_owned()
}

/// Whether this kernel has per-task schedstat files (CONFIG_SCHED_INFO).
/// Checked once on our own process; lets a missing schedstat file be told
/// apart from a vanished thread.
pub fn schedstat_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| Path::new("/proc/self/schedstat").exists())
}

/// Reads and parses one task's `stat` (open, read, close).
pub fn read_task_stat(pid: Pid, tid: Pid) -> Result<TaskStat, ProcError> {
    let path = task_path(pid, tid, "stat");
    let content = read_once(&path)?;
    parse_task_stat(&content).map_err(|e| ProcError::malformed(&path, e))
}

/// Reads one task's `schedstat`; `Ok(None)` on a kernel without it.
pub fn read_schedstat(pid: Pid, tid: Pid) -> Result<Option<SchedStat>, ProcError> {
    let path = task_path(pid, tid, "schedstat");
    match read_once(&path) {
        Ok(content) => parse_schedstat(&content).map_err(|e| ProcError::malformed(&path, e)),
        Err(e) if e.is_gone() && !schedstat_supported() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads one thread's name.
pub fn read_comm(pid: Pid, tid: Pid) -> Result<String, ProcError> {
    let path = task_path(pid, tid, "comm");
    Ok(parse_comm(&read_once(&path)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::test_support::fixture;

    #[test]
    fn parses_real_task_stat() {
        let s = parse_task_stat(&fixture("task_stat")).unwrap();
        assert_eq!(s.state, TaskState::Sleeping);
        assert!(s.num_threads >= 1);
        assert_eq!(parse_stat_comm(&fixture("task_stat")).unwrap(), "bash");
    }

    #[test]
    fn comm_with_spaces_and_parens_is_parsed_from_the_last_paren() {
        let c = fixture("task_stat_comm_parens");
        let s = parse_task_stat(&c).unwrap();
        assert_eq!(parse_stat_comm(&c).unwrap(), "evil) R 1 (x ) y");
        assert_eq!(s.tid, 4242);
        assert_eq!(s.state, TaskState::Running);
        assert_eq!(s.ppid, 4200);
        assert_eq!((s.utime_ticks, s.stime_ticks), (1234, 56));
        assert_eq!(s.num_threads, 9);
        assert_eq!(s.start_ticks, 777);
        assert_eq!(s.processor, 1);
    }

    #[test]
    fn truncated_stat_is_an_error_not_a_panic() {
        let e = parse_task_stat(&fixture("task_stat_truncated")).unwrap_err();
        assert_eq!(e, ParseError::MissingField("processor"));
        assert!(parse_task_stat(b"").is_err());
        assert!(parse_task_stat(b"12 (x").is_err());
        assert!(parse_task_stat(b"12 (x)").is_err());
        assert!(parse_task_stat(b"12 (x) RR 1").is_err());
        assert!(parse_task_stat(b"-1 (x) R 1").is_err());
        // Every prefix of a valid line fails cleanly.
        let full = fixture("task_stat");
        for n in 0..full.len() - 20 {
            let _ = parse_task_stat(&full[..n]);
        }
    }

    #[test]
    fn schedstat_missing_data_is_none_never_zero() {
        let s = parse_schedstat(&fixture("schedstat")).unwrap().unwrap();
        assert!(s.on_cpu_ns > 0 && s.timeslices > 0);
        assert_eq!(parse_schedstat(&fixture("schedstat_empty")).unwrap(), None);
        assert_eq!(parse_schedstat(b"0 0 0\n").unwrap(), None);
        assert_eq!(
            parse_schedstat(b"12 x 3\n").unwrap_err(),
            ParseError::BadNumber {
                field: "run-queue wait ns",
                value: "x".into(),
            }
        );
        assert!(parse_schedstat(b"12 3\n").is_err());
    }

    #[test]
    fn comm_strips_only_the_newline() {
        assert_eq!(parse_comm(&fixture("comm")), "bash");
        assert_eq!(parse_comm(b"a b) (c\n"), "a b) (c");
        assert_eq!(parse_comm(b"\xffx\n"), "\u{fffd}x");
    }

    #[test]
    fn reads_own_main_thread() {
        let pid = std::process::id();
        let tid = crate::sampler::test_support::gettid();
        let s = read_task_stat(pid, tid).unwrap();
        assert_eq!(s.tid, tid);
        assert_eq!(s.state, TaskState::Running);
        assert!(schedstat_supported());
        assert!(read_schedstat(pid, tid).unwrap().is_some());
        assert!(!read_comm(pid, tid).unwrap().is_empty());
        assert!(read_task_stat(pid, 0).unwrap_err().is_gone());
    }
}
