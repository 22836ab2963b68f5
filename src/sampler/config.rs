//! How a sampler is set up: its rates ([`SamplerConfig`], with the
//! cadence of every read), its backend ([`SamplerBackend`]) and the pokes
//! that ask for a sample outside the schedule ([`Poke`]). Plain data: the
//! sampler thread (`thread.rs`) and both sources read it.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Lowest and highest sampling rates offered.
pub const MIN_RATE_HZ: f64 = 10.0;
pub const MAX_RATE_HZ: f64 = 500.0;

/// How the sampler runs, and the cadence of each read (the /proc backend).
///
/// * **Every sample** (`rate_hz`, 50 Hz by default, on a deadline schedule
///   that records lateness and missed ticks): `/proc/stat`, each process's
///   `statm`, and the `schedstat` of each awake thread. A thread asleep for
///   3 reads in a row ([`IDLE_AFTER_READS`](super::thread::IDLE_AFTER_READS))
///   is read every 4th sample, after 6 more every 8th, until it runs again;
///   its next read covers the whole span, and `store::metrics` weights a
///   reading by the span since that column's previous reading.
/// * **The rarer reads**, set in Hz, fall on different samples (phases 0,
///   1, 2) so no one sample pays for two of them:
///   * task `stat` `stat_hz` (5/s) — skipped for a thread whose schedstat
///     has not moved since its last stat read (it has not run, so nothing
///     in its stat changed);
///   * the tree walk `tree_hz` (10/s) — a process's threads are listed
///     again only when `/proc/PID/task`'s link count (2 + threads) changed,
///     and at least every 5th walk; a walk re-reads a thread's `children`
///     only if its on-CPU time moved since (a thread that did not run
///     cannot have forked), all of them every 5th walk;
///   * `smaps_rollup` `smaps_hz` (2/s) while RSS or the process count
///     moves, a quarter of that ([`STEADY_SMAPS_EVERY`], 0.5/s) while they
///     stay put;
///   * what else ran ([`LOAD_HZ`](super::thread::LOAD_HZ), 1/s), in the
///     first sample and in poked ones.
/// * **Pokes** ([`Poke`]): the runner asks for an extra sample at
///   `setup_done` (the memory baseline, with smaps) and at each
///   `worker_done` (the last CPU counters before the thread exits).
/// * **The thread** asks for a 0.5 ms EEVDF slice (Linux 6.12+,
///   unprivileged; `crate::pace::request_short_slice`) so a woken sampler
///   runs before CPU-bound workers that fill every core, and sleeps in a
///   `pace::Mailbox` (one futex wait per tick).
///
/// The portable backend ([`SamplerBackend::Portable`]) reads per-core use
/// (sysinfo recomputes it at most every 200 ms) and each process's RSS every
/// sample, walks the tree at `tree_hz`, and ignores `stat_hz` and
/// `smaps_hz`. The GIL reader beside it runs at `gil_hz`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerConfig {
    /// Samples per second (10–500). Every sample reads /proc/stat, each
    /// process's statm and the schedstat of every thread that is not asleep
    /// (see [`IDLE_AFTER_READS`](super::thread::IDLE_AFTER_READS)).
    pub rate_hz: f64,
    /// Read PSS/USS (smaps_rollup: ~0.5 ms per Python process, the costliest
    /// read by far) up to this many times a second: at this rate while the
    /// RSS or the number of processes changes, at a quarter of it while
    /// they stay put (a gap between readings is "not measured", never 0).
    pub smaps_hz: f64,
    /// Walk the process tree for new processes this many times a second (new
    /// threads of known processes are found every sample).
    pub tree_hz: f64,
    /// Read each thread's `stat` (state letter, last CPU, utime/stime) this
    /// many times a second; schedstat (running / waiting / blocked) is read
    /// every sample. A stat read costs ~3 schedstat reads.
    pub stat_hz: f64,
    /// Rate of the exact GIL reader (CPython 3.13+) beside this sampler,
    /// in Hz; 0 turns it off. The runner starts it (`run::start_sampled`).
    pub gil_hz: f64,
    /// What is read: /proc (everything) or the portable sysinfo source
    /// (per-core use and memory only).
    pub backend: SamplerBackend,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            rate_hz: 50.0,
            smaps_hz: 2.0,
            tree_hz: 10.0,
            stat_hz: 5.0,
            gil_hz: 1000.0,
            backend: SamplerBackend::Proc,
        }
    }
}

impl SamplerConfig {
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.effective_rate())
    }

    fn effective_rate(&self) -> f64 {
        self.rate_hz.clamp(MIN_RATE_HZ, MAX_RATE_HZ)
    }

    /// The longest spacing of PSS/USS readings in a run whose memory stays
    /// put (readings further apart than this mean some were missed).
    pub fn steady_smaps_interval(&self) -> Duration {
        let samples = self.every(self.smaps_hz).saturating_mul(STEADY_SMAPS_EVERY);
        self.interval() * u32::try_from(samples).unwrap_or(u32::MAX)
    }

    /// A read wanted `hz` times a second happens every this many samples
    /// (at least every sample).
    pub fn every(&self, hz: f64) -> u64 {
        if hz.is_nan() || hz <= 0.0 {
            return u64::MAX;
        }
        ((self.effective_rate() / hz).round() as u64).max(1)
    }
}

/// While RSS stays put, smaps_rollup is read at 1/this of `smaps_hz`.
pub const STEADY_SMAPS_EVERY: u64 = 4;

/// Why an extra sample is taken outside the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poke {
    /// The memory baseline, before workers start (`setup_done`).
    Baseline,
    /// Counters now, e.g. as a worker finishes (before its thread exits
    /// and its last CPU time can no longer be read).
    Now,
}

/// Which source the sampler reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SamplerBackend {
    /// /proc: everything gilscope measures (Linux).
    #[default]
    Proc,
    /// sysinfo: per-core use and process memory, nothing per thread.
    Portable,
}

impl SamplerBackend {
    pub const ALL: [SamplerBackend; 2] = [SamplerBackend::Proc, SamplerBackend::Portable];

    pub fn as_str(self) -> &'static str {
        match self {
            SamplerBackend::Proc => "proc",
            SamplerBackend::Portable => "portable",
        }
    }

    /// `proc` or `portable`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Where its per-core numbers come from, for a summary line.
    pub fn core_source(self) -> &'static str {
        match self {
            SamplerBackend::Proc => "/proc/stat",
            SamplerBackend::Portable => "sysinfo, every ≥ 200 ms",
        }
    }

    /// Why a run sampled by it has no per-thread states (`None`: it has).
    pub fn thread_states_missing(self) -> Option<&'static str> {
        match self {
            SamplerBackend::Proc => None,
            SamplerBackend::Portable => Some(
                "the portable sampler (--sampler portable, sysinfo) reads per-core use and memory only; \
                 on Linux, --sampler proc (the default) reads each thread's state",
            ),
        }
    }
}

impl SamplerBackend {
    /// Why a run sampled by it has no "what else ran" readings (`None`:
    /// it reads them).
    pub fn load_missing(self) -> Option<&'static str> {
        match self {
            SamplerBackend::Proc => None,
            SamplerBackend::Portable => {
                Some("the portable sampler does not read what else ran (--sampler proc does)")
            }
        }
    }
}

impl std::fmt::Display for SamplerBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in SamplerBackend::ALL {
            assert_eq!(SamplerBackend::parse(b.as_str()), Some(b));
            let json = serde_json::to_string(&b).unwrap();
            assert_eq!(json, format!("\"{b}\""));
        }
        assert_eq!(SamplerBackend::parse("sysinfo"), None);
        assert_eq!(SamplerBackend::default(), SamplerBackend::Proc);
        assert!(SamplerBackend::Proc.thread_states_missing().is_none());
        assert!(
            SamplerBackend::Portable
                .thread_states_missing()
                .is_some_and(|why| why.contains("--sampler proc"))
        );
    }
}
