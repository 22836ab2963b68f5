//! The plain data the sampler thread sends: one [`Sample`] per tick.
//!
//! Cumulative counters are kept as read (so a consumer can difference any
//! two samples); per-interval fractions are derived against the previous
//! sample of the same thread. A value that could not be read is `None`,
//! never 0.

use serde::{Deserialize, Serialize};

/// One tick of the sampler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// CLOCK_MONOTONIC ns when the sample was taken (the clock of Python's
    /// `time.monotonic_ns()`, so it lines up with protocol events).
    pub t_ns: u64,
    /// How far behind its deadline this sample started (0 when on time).
    pub late_ns: u64,
    /// How long taking the sample took.
    pub cost_ns: u64,
    /// Ticks skipped because the sampler fell behind (deadlines missed by
    /// more than one interval since the previous sample).
    pub missed: u32,
    /// Taken out of schedule when the harness reported `setup_done`: the
    /// memory baseline before workers start.
    pub baseline: bool,
    /// Per-core utilisation since the previous sample, by CPU number; `None`
    /// for a core where no tick elapsed (at 10 ms ticks and 50 Hz this is
    /// common: see `cores_window`).
    pub cores: Vec<CoreSample>,
    /// Every thread of the run's process tree.
    pub threads: Vec<ThreadSample>,
    /// Memory of the whole process tree; `None` when it could not be read.
    pub memory: Option<MemorySample>,
    /// What else ran on the machine (cumulative counters), in the first
    /// sample, about once a second and in poked samples; `None` in the
    /// others.
    #[serde(default)]
    pub load: Option<super::load::LoadSample>,
    /// The backend that took it: what it could measure (`threads` is empty
    /// and says nothing for `portable`).
    #[serde(default)]
    pub sampler: super::config::SamplerBackend,
}

/// One core over the interval since the previous sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CoreSample {
    pub cpu: u32,
    /// Fractions of the interval; `None` when no tick elapsed.
    pub busy: Option<CoreBusy>,
}

/// How busy one core was over an interval, as fractions of it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CoreBusy {
    /// Busy: user + system (/proc), or the whole non-idle share (sysinfo).
    pub busy: f32,
    /// The split, where the backend reads it (`None`: not measured).
    pub user: Option<f32>,
    pub system: Option<f32>,
    pub idle: Option<f32>,
    pub iowait: Option<f32>,
}

impl CoreBusy {
    /// From /proc/stat's split.
    pub fn split(user: f32, system: f32, idle: f32, iowait: f32) -> Self {
        Self {
            busy: user + system,
            user: Some(user),
            system: Some(system),
            idle: Some(idle),
            iowait: Some(iowait),
        }
    }

    /// Only the busy share is known.
    pub fn total(busy: f32) -> Self {
        Self {
            busy,
            user: None,
            system: None,
            idle: None,
            iowait: None,
        }
    }
}

/// One thread at sample time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadSample {
    /// Process id (the harness, or a worker process in `process` mode).
    pub pid: u32,
    /// OS thread id (what Python's `threading.get_native_id()` returns).
    pub tid: u32,
    /// Thread name (`comm`).
    pub name: String,
    /// Kernel state letter (R, S, D, …). This, `last_cpu`, `utime_ns` and
    /// `stime_ns` come from the thread's `stat`, read every
    /// `1 / SamplerConfig::stat_hz` seconds (they may be that much older than
    /// `t_ns`); the schedstat fields are fresh every sample.
    pub state: char,
    /// Last CPU the thread ran on.
    pub last_cpu: u32,
    /// Cumulative user and system time in ns (10 ms tick resolution).
    pub utime_ns: u64,
    pub stime_ns: u64,
    /// Cumulative on-CPU and run-queue-wait ns from schedstat; `None` on a
    /// kernel without schedstat.
    pub on_cpu_ns: Option<u64>,
    pub runqueue_ns: Option<u64>,
    /// Fractions of the interval since this thread's previous sample
    /// (`None` for its first sample or without schedstat): running on a
    /// core, runnable but waiting for a core, and neither (sleeping or
    /// blocked — a GIL waiter sleeps in a futex).
    pub running: Option<f32>,
    pub waiting: Option<f32>,
    pub blocked: Option<f32>,
}

/// Memory of the process tree, summed over its processes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MemorySample {
    /// RSS from statm, every sample.
    pub rss_bytes: u64,
    /// PSS and USS from smaps_rollup, at a lower rate: `None` in samples
    /// where they were not read.
    pub pss_bytes: Option<u64>,
    pub uss_bytes: Option<u64>,
    /// Number of processes in the tree.
    pub processes: u32,
    /// Why PSS and USS are missing from a sample that tried to read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pss_missing: Option<PssMissing>,
}

/// Why a PSS/USS reading was not taken as a number: a sum over the
/// process tree that would understate is no reading at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PssMissing {
    /// A process's `smaps_rollup` could not be read whole (it exited, or
    /// the read failed or came back cut short).
    Unreadable,
    /// A process was exiting: its `smaps_rollup` came back far below its
    /// RSS (under a tenth) or with PSS below USS, as an address space
    /// being torn down reads.
    Exiting,
}

impl PssMissing {
    /// The reason, in words.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Unreadable => {
                "a process's smaps_rollup could not be read whole (it exited or the read failed)"
            }
            Self::Exiting => {
                "a process was exiting while it was read (its smaps_rollup fell below a tenth of its RSS, or PSS below USS)"
            }
        }
    }
}
