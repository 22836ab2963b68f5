//! The columns a record keeps per core, per thread and for the whole run,
//! and what it remembers about each OS thread beyond its columns.

use crate::sampler::ThreadSample;
use crate::store::series::{ColumnId, TimeSeries};
use serde::{Deserialize, Serialize};

/// Columns of one core: fractions of each interval (`busy` = user + system).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreColumns {
    pub busy: ColumnId,
    pub user: ColumnId,
    pub system: ColumnId,
}

/// Columns of one thread: fractions of each interval from schedstat, and
/// the kernel state letter as its code point (see
/// [`RunRecord::state_at`](super::RunRecord::state_at)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadColumns {
    pub running: ColumnId,
    pub waiting: ColumnId,
    pub blocked: ColumnId,
    pub state: ColumnId,
}

/// Columns of the process tree's memory and of the sampler itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunColumns {
    pub rss_bytes: ColumnId,
    pub pss_bytes: ColumnId,
    pub uss_bytes: ColumnId,
    pub processes: ColumnId,
    pub late_ms: ColumnId,
    pub cost_ms: ColumnId,
}

/// One OS thread seen by the sampler, by TID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadTrack {
    pub tid: u32,
    pub pid: u32,
    /// Its name (`comm`) when last seen.
    pub name: String,
    pub first_seen_ns: u64,
    pub last_seen_ns: u64,
    /// Cumulative schedstat counters at the first and last sample that saw
    /// the thread (`None` without schedstat).
    pub first_on_cpu_ns: Option<u64>,
    pub last_on_cpu_ns: Option<u64>,
    pub last_runqueue_ns: Option<u64>,
    /// Cumulative utime + stime (10 ms ticks) at the last sample.
    pub last_cpu_time_ns: u64,
    pub columns: ThreadColumns,
}

pub(super) fn new_track(series: &mut TimeSeries, thread: &ThreadSample, t_ns: u64) -> ThreadTrack {
    let col = |series: &mut TimeSeries, what: &str| {
        series.column(&format!("thread/{}/{what}", thread.tid))
    };
    ThreadTrack {
        tid: thread.tid,
        pid: thread.pid,
        name: thread.name.clone(),
        first_seen_ns: t_ns,
        last_seen_ns: t_ns,
        first_on_cpu_ns: thread.on_cpu_ns,
        last_on_cpu_ns: thread.on_cpu_ns,
        last_runqueue_ns: thread.runqueue_ns,
        last_cpu_time_ns: thread.utime_ns + thread.stime_ns,
        columns: ThreadColumns {
            running: col(series, "running"),
            waiting: col(series, "waiting"),
            blocked: col(series, "blocked"),
            state: col(series, "state"),
        },
    }
}

pub(super) fn update_track(track: &mut ThreadTrack, thread: &ThreadSample, t_ns: u64) {
    if track.name != thread.name {
        track.name.clone_from(&thread.name);
    }
    track.pid = thread.pid;
    track.last_seen_ns = t_ns;
    track.first_on_cpu_ns = track.first_on_cpu_ns.or(thread.on_cpu_ns);
    track.last_on_cpu_ns = thread.on_cpu_ns.or(track.last_on_cpu_ns);
    track.last_runqueue_ns = thread.runqueue_ns.or(track.last_runqueue_ns);
    track.last_cpu_time_ns = thread.utime_ns + thread.stime_ns;
}
