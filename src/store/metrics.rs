//! Metrics derived from one [`RunRecord`]: throughput, CPU use, memory
//! overhead, where each worker's time went, and how the sampler kept up.
//!
//! Every metric that could not be measured is `None`, never 0.
//! Fractions from samples are weighted by the length of the interval they
//! cover: row `i` covers `(t[i-1], t[i]]`.

use super::memory::{MemoryBaseline, MemoryPeaks};
use super::record::RunRecord;
use super::series::{ColumnId, TimeSeries};
use crate::sampler::SamplerStats;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// At most this many buckets in a [`Throughput`]; longer runs get wider ones.
pub const MAX_THROUGHPUT_BUCKETS: usize = 100_000;

/// Items per second over time, from `chunk_done` events (a chunk's items
/// count in the bucket where it completed).
#[derive(Debug, Clone, PartialEq)]
pub struct Throughput {
    /// Start of the first bucket.
    pub t0_ns: u64,
    pub bucket_ns: u64,
    /// Items/s of all workers, per bucket.
    pub total: Vec<f64>,
    /// Items/s per worker (index = worker), per bucket.
    pub per_worker: Vec<Vec<f64>>,
}

/// Throughput in buckets of `bucket_ns` from the start of the work (or the
/// first chunk); `None` before the first chunk.
pub fn throughput(run: &RunRecord, bucket_ns: u64) -> Option<Throughput> {
    let first = run.chunks().map(|c| c.t_ns).min()?;
    let last = run.chunks().map(|c| c.t_ns).max()?;
    let t0_ns = run
        .work_window_ns()
        .map_or(first, |(start, _)| start.min(first));
    let span = last - t0_ns + 1;
    let bucket_ns = bucket_ns
        .max(1)
        .max(span.div_ceil(MAX_THROUGHPUT_BUCKETS as u64));
    let buckets = usize::try_from(span.div_ceil(bucket_ns)).ok()?;
    let mut per_worker = vec![vec![0.0; buckets]; run.worker_count()];
    let per_item = 1e9 / bucket_ns as f64;
    for chunk in run.chunks() {
        let b = ((chunk.t_ns - t0_ns) / bucket_ns) as usize;
        if let Some(slot) = per_worker
            .get_mut(chunk.worker)
            .and_then(|worker| worker.get_mut(b))
        {
            *slot += chunk.items as f64 * per_item;
        }
    }
    let total = (0..buckets)
        .map(|b| per_worker.iter().map(|w| w[b]).sum())
        .collect();
    Some(Throughput {
        t0_ns,
        bucket_ns,
        total,
        per_worker,
    })
}

/// Items per second of the whole run: the result's items over its
/// `elapsed_s`; before a result, the items of the chunks done so far over
/// the time since work started.
///
/// `None` for a script or an attach: they report no items.
pub fn items_per_sec(run: &RunRecord) -> Option<f64> {
    if !run.spec().is_workload() {
        return None;
    }
    if let Some(result) = run.result() {
        return (result.elapsed_s > 0.0).then(|| result.items as f64 / result.elapsed_s);
    }
    let items: u64 = run.worker_totals().values().map(|w| w.items).sum();
    let (start, _) = run.work_window_ns()?;
    let last = run.chunks().map(|c| c.t_ns).max()?;
    (last > start).then(|| items as f64 / ((last - start) as f64 / 1e9))
}

/// The run's start gate on the sampler's clock: when every worker was
/// ready and the chunks were released (`result.start_ns`), else when the
/// first worker started. `None` for a script or an attach.
pub fn start_gate_ns(run: &RunRecord) -> Option<u64> {
    if !run.spec().is_workload() {
        return None;
    }
    run.result()
        .and_then(|r| r.start_ns)
        .or(run.work_window_ns().map(|(start, _)| start))
}

/// Start-up: seconds from the run's first event or sample (the
/// interpreter starting) to its start gate (workers ready) — what the
/// work time leaves out and the end-to-end time has.
pub fn startup_secs(run: &RunRecord) -> Option<f64> {
    let gate = start_gate_ns(run)?;
    let t0 = run.t0_ns().filter(|&t0| t0 <= gate)?;
    Some((gate - t0) as f64 / 1e9)
}

/// How many cores were busy, three ways.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuUse {
    /// Mean over the work window of the sum of every core's busy fraction
    /// (/proc/stat: counts every process on the machine, 10 ms ticks).
    pub mean_busy_cores: Option<f64>,
    /// The run's own threads: sum of their running fractions (schedstat).
    pub thread_cores: Option<f64>,
    /// The run's CPU time over its wall time (rusage of the child tree).
    pub rusage_cores: Option<f64>,
}

pub fn cpu_use(run: &RunRecord) -> CpuUse {
    let series = run.series();
    let rows = run.work_window_ns().map_or(0..0, |(start, end)| {
        series.rows_between(start.saturating_add(1), end)
    });
    let window_ns = interval_sum_ns(series, rows.clone());
    let cores: Vec<f64> = run
        .cores()
        .values()
        .filter_map(|c| weighted_mean(series, c.busy, rows.clone()))
        .collect();
    let thread_ns: Vec<f64> = run
        .thread_tracks()
        .values()
        .filter_map(|t| weighted_sum(series, t.columns.running, rows.clone()).map(|(v, _)| v))
        .collect();
    let rusage_cores = run.outcome().and_then(|o| {
        let usage = o.usage?;
        (o.wall_secs > 0.0).then(|| usage.cpu_secs() / o.wall_secs)
    });
    CpuUse {
        mean_busy_cores: (!cores.is_empty()).then(|| cores.iter().sum()),
        thread_cores: (!thread_ns.is_empty() && window_ns > 0)
            .then(|| thread_ns.iter().sum::<f64>() / window_ns as f64),
        rusage_cores,
    }
}

/// Memory at its peak against the baseline before the workers started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryUse {
    pub baseline: Option<MemoryBaseline>,
    pub peaks: MemoryPeaks,
    /// The kernel's peak RSS of the child or any one reaped descendant
    /// (not a sum over processes).
    pub rusage_max_rss_bytes: Option<u64>,
    /// Peak − baseline (negative when memory was given back).
    pub overhead_rss_bytes: Option<i64>,
    pub overhead_pss_bytes: Option<i64>,
    pub overhead_uss_bytes: Option<i64>,
    /// Overhead divided by the number of workers.
    pub overhead_rss_per_worker_bytes: Option<f64>,
    pub overhead_pss_per_worker_bytes: Option<f64>,
}

pub fn memory_use(run: &RunRecord) -> MemoryUse {
    let baseline = run.memory_baseline();
    let peaks = run.memory_peaks();
    let over = |peak: Option<u64>, base: Option<u64>| -> Option<i64> {
        Some(i64::try_from(peak?).ok()? - i64::try_from(base?).ok()?)
    };
    let overhead_rss_bytes = over(peaks.rss_bytes, baseline.map(|b| b.rss_bytes));
    let overhead_pss_bytes = over(peaks.pss_peak(), baseline.and_then(|b| b.pss_bytes));
    let workers = run.worker_count().max(1) as f64;
    MemoryUse {
        baseline,
        peaks,
        rusage_max_rss_bytes: run.outcome().and_then(|o| o.usage).map(|u| u.max_rss_bytes),
        overhead_rss_bytes,
        overhead_pss_bytes,
        overhead_uss_bytes: over(peaks.uss_bytes, baseline.and_then(|b| b.uss_bytes)),
        overhead_rss_per_worker_bytes: overhead_rss_bytes.map(|o| o as f64 / workers),
        overhead_pss_per_worker_bytes: overhead_pss_bytes.map(|o| o as f64 / workers),
    }
}

/// Where a thread's time went over an interval (fractions sum to ~1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSplit {
    /// On a core.
    pub running: f64,
    /// Runnable, waiting for a core.
    pub waiting: f64,
    /// Neither: sleeping or blocked (a GIL waiter sleeps in a futex).
    pub blocked: f64,
    /// How much time the fractions cover.
    pub measured_ns: u64,
}

/// One worker's thread between its `worker_started` and `worker_done`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkerTime {
    pub worker: usize,
    /// Its thread (its process's main thread in `process` mode).
    pub tid: Option<u32>,
    /// `None` before it was sampled or without schedstat.
    pub split: Option<TimeSplit>,
}

/// [`WorkerTime`] for every worker of the run.
pub fn worker_times(run: &RunRecord) -> Vec<WorkerTime> {
    let series = run.series();
    let window_end = run.work_window_ns().map(|(_, end)| end);
    (0..run.worker_count())
        .map(|worker| {
            let thread = run.worker_thread(worker);
            let split = thread.and_then(|t| {
                let start = run.worker_started(worker)?.t_ns;
                let end = run.worker_done(worker).map(|d| d.t_ns).or(window_end)?;
                let rows = series.rows_between(start.saturating_add(1), end);
                time_split(
                    series,
                    t.columns.running,
                    t.columns.waiting,
                    t.columns.blocked,
                    rows,
                )
            });
            WorkerTime {
                worker,
                tid: thread.map(|t| t.tid),
                split,
            }
        })
        .collect()
}

/// Where thread `tid`'s time went over every sample that saw it (an
/// attached process's threads, which no harness event names).
pub fn thread_split(run: &RunRecord, tid: u32) -> Option<TimeSplit> {
    let track = run.thread_tracks().get(&tid)?;
    let series = run.series();
    let rows = series.rows_between(track.first_seen_ns, track.last_seen_ns);
    time_split(
        series,
        track.columns.running,
        track.columns.waiting,
        track.columns.blocked,
        rows,
    )
}

/// One worker's thread with the exact GIL reader (CPython 3.13+).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkerGil {
    pub worker: usize,
    pub tid: u32,
    /// Share of the GIL reader's ticks it held a GIL.
    pub hold: Option<f64>,
    /// Share of its probes spent waiting for a GIL.
    pub wait: Option<f64>,
    /// Share of its probes running without any GIL (free-threaded code, or
    /// native code that released it).
    pub run_free: Option<f64>,
    /// Share of its probes runnable without a GIL where CPython
    /// cannot tell waiting inside `take_gil` from running free.
    pub unsure: Option<f64>,
}

impl WorkerGil {
    /// Thread `tid`'s GIL numbers, as worker `worker`.
    fn of(worker: usize, tid: u32, t: &super::gil::GilThread) -> Self {
        Self {
            worker,
            tid,
            hold: t.hold_fraction(),
            wait: t.wait_fraction(),
            run_free: t.run_free_fraction(),
            unsure: t.unsure_fraction(),
        }
    }
}

/// [`WorkerGil`] for every worker whose thread the GIL reader saw; empty
/// when it saw none (older CPython, not sampled, refused: see
/// `run.gil().notices`).
///
/// A script or an attach has no workers: its "workers" are its busy
/// threads ([`busy_threads_gil`]), numbered by TID.
pub fn worker_gil(run: &RunRecord) -> Vec<WorkerGil> {
    if !run.spec().is_workload() {
        return busy_threads_gil(run);
    }
    let gil = run.gil();
    (0..run.worker_count())
        .filter_map(|worker| {
            let tid = u32::try_from(run.worker_started(worker)?.native_id).ok()?;
            Some(WorkerGil::of(worker, tid, gil.threads.get(&tid)?))
        })
        .collect()
}

/// A thread counts as busy when it held, waited for or ran without a GIL
/// at least this share of the time (a thread asleep in `join` or on an
/// empty queue does not).
pub const BUSY_THREAD_SHARE: f64 = 0.10;

/// The GIL numbers of the threads that wanted to run Python — held, waited
/// for or ran without a GIL at least [`BUSY_THREAD_SHARE`] of the time —
/// numbered 0, 1, … by TID: what a script's or an attached process's
/// "GIL wait" is averaged over.
pub fn busy_threads_gil(run: &RunRecord) -> Vec<WorkerGil> {
    run.gil()
        .threads
        .iter()
        .filter(|(_, t)| {
            let share = t.hold_fraction().unwrap_or(0.0)
                + t.wait_fraction().unwrap_or(0.0)
                + t.run_free_fraction().unwrap_or(0.0)
                + t.unsure_fraction().unwrap_or(0.0);
            share >= BUSY_THREAD_SHARE
        })
        .enumerate()
        .map(|(worker, (&tid, t))| WorkerGil::of(worker, tid, t))
        .collect()
}

/// How many threads of a script or an attached process wanted a core:
/// its busy threads by the GIL reader, else (no GIL numbers) the threads
/// that ran or waited for a core at least [`BUSY_THREAD_SHARE`] of the
/// time they were seen.
pub fn busy_thread_count(run: &RunRecord) -> usize {
    let by_gil = busy_threads_gil(run).len();
    if by_gil > 0 {
        return by_gil;
    }
    run.thread_tracks()
        .keys()
        .filter_map(|&tid| thread_split(run, tid))
        .filter(|s| s.running + s.waiting >= BUSY_THREAD_SHARE)
        .count()
}

fn time_split(
    series: &TimeSeries,
    running: ColumnId,
    waiting: ColumnId,
    blocked: ColumnId,
    rows: Range<usize>,
) -> Option<TimeSplit> {
    let (run_ns, measured) = weighted_sum(series, running, rows.clone())?;
    let (wait_ns, _) = weighted_sum(series, waiting, rows.clone()).unwrap_or((0.0, 0));
    let (block_ns, _) = weighted_sum(series, blocked, rows).unwrap_or((0.0, 0));
    (measured > 0).then(|| TimeSplit {
        running: run_ns / measured as f64,
        waiting: wait_ns / measured as f64,
        blocked: block_ns / measured as f64,
        measured_ns: measured,
    })
}

/// The harness's main thread's CPU during the work: what forwarding the
/// workers' reports (chunk events, …) cost, competing with the workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarnessCpu {
    /// Its on-CPU seconds during the work window (schedstat).
    pub on_cpu_secs: Option<f64>,
    /// The same as a share of one core over the window.
    pub core_share: Option<f64>,
    /// Why the two are missing, when they are.
    pub missing: Option<String>,
}

/// [`HarnessCpu`] from the samples of the thread labelled "main" between
/// the first `worker_started` and the last `worker_done`.
pub fn harness_cpu(run: &RunRecord) -> HarnessCpu {
    let missing = |why: &str| HarnessCpu {
        on_cpu_secs: None,
        core_share: None,
        missing: Some(why.to_string()),
    };
    if run.series().is_empty() {
        return missing("the run was not sampled");
    }
    let Some((start, end)) = run.work_window_ns() else {
        return missing("the workers never started");
    };
    if let Some(why) = run.thread_states_missing() {
        return missing(&format!("thread states not measured: {why}"));
    }
    let Some((_, main)) = run
        .threads()
        .into_iter()
        .find(|(label, _)| *label == super::labels::ThreadLabel::Main)
    else {
        return missing("the harness's main thread was never sampled");
    };
    let series = run.series();
    let rows = series.rows_between(start.saturating_add(1), end);
    match weighted_sum(series, main.columns.running, rows) {
        Some((on_cpu_ns, measured_ns)) if measured_ns > 0 => HarnessCpu {
            on_cpu_secs: Some(on_cpu_ns / 1e9),
            core_share: Some(on_cpu_ns / measured_ns as f64),
            missing: None,
        },
        _ => missing("no schedstat reading of the main thread during the work"),
    }
}

/// Sum over every thread seen of its last cumulative on-CPU time
/// (schedstat), i.e. its CPU time since it started; `None` without
/// schedstat. A thread that ended between two samples loses its last
/// interval.
pub fn threads_on_cpu_ns(run: &RunRecord) -> Option<u64> {
    run.thread_tracks()
        .values()
        .filter_map(|t| t.last_on_cpu_ns)
        .fold(None, |sum, ns| Some(sum.unwrap_or(0) + ns))
}

/// The same from utime + stime (10 ms tick resolution).
pub fn threads_cpu_time_ns(run: &RunRecord) -> u64 {
    run.thread_tracks()
        .values()
        .map(|t| t.last_cpu_time_ns)
        .sum()
}

/// How the sampler kept up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerUse {
    pub samples: u64,
    pub missed_ticks: u64,
    pub max_late_ns: u64,
    pub mean_late_ns: Option<f64>,
    pub max_cost_ns: u64,
    pub mean_cost_ns: Option<f64>,
    /// Samples refused because they were older than the newest one.
    pub out_of_order: u64,
    /// What the sampler thread itself reported at the end, if it did.
    pub reported: Option<SamplerStats>,
}

pub fn sampler_use(run: &RunRecord) -> SamplerUse {
    let s = run.sample_stats();
    let mean = |total: u64| (s.samples > 0).then(|| total as f64 / s.samples as f64);
    SamplerUse {
        samples: s.samples,
        missed_ticks: s.missed_ticks,
        max_late_ns: s.max_late_ns,
        mean_late_ns: mean(s.total_late_ns),
        max_cost_ns: s.max_cost_ns,
        mean_cost_ns: mean(s.total_cost_ns),
        out_of_order: s.out_of_order,
        reported: run.outcome().and_then(|o| o.sampler),
    }
}

/// Σ value·dt and Σ dt (ns) over the rows where `col` has a reading.
/// `None` when it has none.
/// Σ value × the span it describes, and Σ spans, over `rows`. A reading
/// describes the time since the previous reading of the same column (the
/// sampler derives it from cumulative counters against that reading), so
/// rows where the column has no value (a sleeping thread read less often,
/// a failed read) are covered by the next reading; spans never reach back
/// past the start of `rows`.
fn weighted_sum(series: &TimeSeries, col: ColumnId, rows: Range<usize>) -> Option<(f64, u64)> {
    let times = series.times_ns();
    let start = rows.start.max(1);
    let end = rows.end.min(times.len());
    if start >= end {
        return None;
    }
    let floor = times[start - 1];
    // The reading before the range, if the column had one recently.
    let mut last: Option<u64> = (start.saturating_sub(LOOKBACK_ROWS)..start)
        .rev()
        .find(|&r| series.value(col, r).is_some())
        .map(|r| times[r]);
    let mut sum = 0.0;
    let mut weight = 0u64;
    let mut any = false;
    for row in start..end {
        if let Some(v) = series.value(col, row) {
            let from = match last {
                Some(t) => t.max(floor),
                None => times[row - 1],
            };
            let dt = times[row] - from;
            sum += f64::from(v) * dt as f64;
            weight += dt;
            any = true;
            last = Some(times[row]);
        }
    }
    any.then_some((sum, weight))
}

/// How far back [`weighted_sum`] looks for a column's reading before its
/// range (a sleeping thread is read every 4th sample).
const LOOKBACK_ROWS: usize = 16;

fn weighted_mean(series: &TimeSeries, col: ColumnId, rows: Range<usize>) -> Option<f64> {
    let (sum, weight) = weighted_sum(series, col, rows)?;
    (weight > 0).then(|| sum / weight as f64)
}

/// Σ dt over `rows` (each row's interval since the previous row).
fn interval_sum_ns(series: &TimeSeries, rows: Range<usize>) -> u64 {
    let times = series.times_ns();
    let start = rows.start.max(1);
    let end = rows.end.min(times.len());
    if start >= end {
        return 0;
    }
    times[end - 1] - times[start - 1]
}

#[cfg(test)]
mod tests;
