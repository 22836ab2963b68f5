//! What the GIL sampler costs: run it against a live process tree for a
//! while and report its CPU share and per-tick times. Meant for
//! `gilscope bench sampler`; prints nothing itself.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::GilError;
use super::sampler::{GilSamplerConfig, GilTicks};
use super::sched::{SHORT_SLICE, request_short_slice, thread_cpu_ns};
use crate::kit::stats::percentile;

/// The numbers of one bench run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GilBenchReport {
    pub rate_hz: f64,
    pub wall_secs: f64,
    pub ticks: u64,
    /// Ticks skipped because one overran its slot.
    pub missed: u64,
    pub max_late_us: f64,
    /// CPU time of the sampling thread / wall time (1.0 = one core):
    /// the ticks' work plus waking up for each of them.
    pub cpu_share: f64,
    /// The ticks' own work / wall time (sum of tick times).
    pub work_share: f64,
    /// CPU share of a thread that only wakes up on the same schedule and
    /// does nothing: the floor any sampler at this rate pays on this
    /// machine (timer and scheduler costs; large in a VM).
    pub wakeup_floor_share: f64,
    /// Reading the GIL snapshots of every process, per tick.
    pub read_median_us: f64,
    pub read_p99_us: f64,
    /// The whole tick (snapshots, thread probes, tree walks), per tick.
    pub tick_median_us: f64,
    pub tick_p99_us: f64,
    pub tick_max_us: f64,
    /// Processes, interpreters and probes of the last tick.
    pub processes: usize,
    pub interpreters: usize,
    pub probes_per_tick: usize,
}

/// Samples the tree under `root` at `config.rate_hz` for `duration` on the
/// calling thread (the same schedule and work as [`super::GilSampler`]).
/// Errors when `root` itself cannot be read (not CPython 3.13+, gone).
pub fn bench(
    root: u32,
    config: GilSamplerConfig,
    duration: Duration,
) -> Result<GilBenchReport, GilError> {
    // A root that cannot be read says why (3.12: "no debug offsets").
    drop(super::GilReader::open(root)?);
    request_short_slice(SHORT_SLICE);
    let interval = config.interval();
    let mut state = GilTicks::new(root, config);
    let mut reads = Vec::new();
    let mut ticks = Vec::new();
    let (mut missed, mut max_late) = (0u64, Duration::ZERO);
    let (mut processes, mut interpreters, mut probes) = (0, 0, 0);
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < duration {
        let deadline = start + interval.mul_f64(n as f64);
        let late = Instant::now().saturating_duration_since(deadline);
        let Some(t) = state.tick() else {
            break;
        };
        let skipped = (late.as_nanos() / interval.as_nanos().max(1)) as u64;
        n += 1 + skipped;
        missed += skipped;
        max_late = max_late.max(late);
        reads.push(t.read_ns as f64 / 1e3);
        ticks.push(t.cost_ns as f64 / 1e3);
        processes = t.processes.len();
        interpreters = t.processes.iter().map(|p| p.interpreters.len()).sum();
        probes = t.processes.iter().map(|p| p.probes.len()).sum();
        let next = start + interval.mul_f64(n as f64);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let wall = start.elapsed();
    let cpu = thread_cpu_ns().saturating_sub(cpu0);
    let work_ns: f64 = ticks.iter().sum::<f64>() * 1e3;
    let wakeup_floor_share = wakeup_floor(interval, (duration / 3).min(Duration::from_secs(1)));
    if processes == 0 {
        return Err(GilError::Gone { pid: root });
    }
    Ok(GilBenchReport {
        rate_hz: config.rate_hz,
        wall_secs: wall.as_secs_f64(),
        ticks: ticks.len() as u64,
        missed,
        max_late_us: max_late.as_secs_f64() * 1e6,
        cpu_share: cpu as f64 / wall.as_nanos().max(1) as f64,
        work_share: work_ns / wall.as_nanos().max(1) as f64,
        wakeup_floor_share,
        read_median_us: percentile(&mut reads, 0.5),
        read_p99_us: percentile(&mut reads, 0.99),
        tick_median_us: percentile(&mut ticks, 0.5),
        tick_p99_us: percentile(&mut ticks, 0.99),
        tick_max_us: percentile(&mut ticks, 1.0),
        processes,
        interpreters,
        probes_per_tick: probes,
    })
}

/// CPU share of waking up every `interval` for `duration`, doing nothing.
fn wakeup_floor(interval: Duration, duration: Duration) -> f64 {
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    let mut n: u32 = 0;
    while start.elapsed() < duration {
        n = n.saturating_add(1);
        let next = start + interval * n;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    thread_cpu_ns().saturating_sub(cpu0) as f64 / start.elapsed().as_nanos().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_python_tree_is_an_error() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let r = bench(
            child.id(),
            GilSamplerConfig::default(),
            Duration::from_millis(50),
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(matches!(r, Err(GilError::NotPython { .. })), "{r:?}");
    }
}
