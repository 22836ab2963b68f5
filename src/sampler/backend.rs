//! The seam between the sampler thread and what it reads: a
//! [`SampleSource`] takes one [`Sample`] at a time, the thread around it
//! (`thread.rs`) keeps the deadline schedule, lateness, missed ticks and
//! pokes. Two sources exist, chosen by
//! [`SamplerBackend`](super::SamplerBackend):
//!
//! * `proc` (Linux): /proc — per-core use from `/proc/stat`, every thread's
//!   state and run-queue wait from `stat`/`schedstat`, RSS/PSS/USS, and
//!   what else ran.
//! * `portable` (`portable.rs`, via the sysinfo crate — the seam a macOS
//!   backend uses): per-core use (refreshed at most every 200 ms,
//!   `sysinfo::MINIMUM_CPU_UPDATE_INTERVAL`; the samples in between carry
//!   no core reading) and the process tree's RSS. Thread states, PSS/USS
//!   and the machine's other load are not measured (`None`), and say why.

use super::config::{Poke, SamplerConfig};
use super::sample::Sample;

/// What the sampler thread reads each tick.
pub trait SampleSource {
    /// Takes one sample now; `None` once the root process is gone (the
    /// thread then ends). `poke`: an extra sample outside the schedule.
    /// Timing fields (`late_ns`, `cost_ns`, `missed`, `baseline`) are
    /// filled in by the thread.
    fn sample(&mut self, config: &SamplerConfig, poke: Option<Poke>) -> Option<Sample>;
}
