//! The seam between the sampler thread and what it reads: a
//! [`SampleSource`] takes one [`Sample`] at a time, the thread around it
//! (`thread.rs`) keeps the deadline schedule, lateness, missed ticks and
//! pokes. Two sources exist, chosen by [`SamplerBackend`]:
//!
//! * `proc` (Linux): /proc — per-core use from `/proc/stat`, every thread's
//!   state and run-queue wait from `stat`/`schedstat`, RSS/PSS/USS, and
//!   what else ran.
//! * `portable` (`portable.rs`, via the sysinfo crate — the seam a macOS
//!   backend uses): per-core use (refreshed at most every 200 ms,
//!   `sysinfo::MINIMUM_CPU_UPDATE_INTERVAL`; the samples in between carry
//!   no core reading) and the process tree's RSS. Thread states, PSS/USS
//!   and the machine's other load are not measured (`None`), and say why.

use super::sample::Sample;
use super::thread::{Poke, SamplerConfig};
use serde::{Deserialize, Serialize};

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

/// What the sampler thread reads each tick.
pub trait SampleSource {
    /// Takes one sample now; `None` once the root process is gone (the
    /// thread then ends). `poke`: an extra sample outside the schedule.
    /// Timing fields (`late_ns`, `cost_ns`, `missed`, `baseline`) are
    /// filled in by the thread.
    fn sample(&mut self, config: &SamplerConfig, poke: Option<Poke>) -> Option<Sample>;
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
