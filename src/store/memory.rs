//! Memory of a run beyond the plotted columns: exact peaks and the baseline
//! before workers start (so overhead = peak − baseline).
//!
//! The baseline is the sampler's out-of-schedule baseline sample (taken when
//! the harness reported `setup_done`) if there is one, else the last
//! reading at or before `setup_done`. Samples and events race on their way
//! here, so readings that arrive before `setup_done` are held back briefly,
//! and readings that arrive after it still count if they were taken before.

use crate::sampler::{MemorySample, PssMissing};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Readings held back while `setup_done` has not arrived.
const MAX_PENDING: usize = 512;

/// Memory of the process tree before any worker existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryBaseline {
    /// When the RSS reading was taken.
    pub t_ns: u64,
    pub rss_bytes: u64,
    /// The newest PSS/USS readings at or before it (read at a lower rate).
    pub pss_bytes: Option<u64>,
    pub uss_bytes: Option<u64>,
    /// From the sampler's baseline sample rather than a scheduled one.
    pub from_baseline_sample: bool,
}

/// The largest readings of the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryPeaks {
    pub rss_bytes: Option<u64>,
    /// When the RSS peak was read.
    pub rss_t_ns: Option<u64>,
    pub pss_bytes: Option<u64>,
    pub uss_bytes: Option<u64>,
    pub processes: Option<u32>,
    /// Why the latest PSS/USS reading that was tried is missing (a run
    /// whose only tries missed has no PSS peak, and this says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pss_missing: Option<PssMissing>,
    /// The tree's RSS in the sample that read the PSS peak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pss_at_rss_bytes: Option<u64>,
}

impl MemoryPeaks {
    /// The PSS peak, when it means one: read while the tree's RSS was at
    /// least three quarters of its peak. PSS is read a few times a second; a short run
    /// may have it only from its first moments (a starting interpreter of
    /// 1 MiB beside a 10 MiB peak), which is no peak.
    pub fn pss_peak(&self) -> Option<u64> {
        let pss = self.pss_bytes?;
        match (self.pss_at_rss_bytes, self.rss_bytes) {
            (Some(at), Some(peak)) if at.saturating_mul(4) < peak.saturating_mul(3) => None,
            _ => Some(pss),
        }
    }

    /// Why there is no PSS peak, when there is none.
    pub fn pss_missing_reason(&self) -> Option<String> {
        if self.pss_peak().is_some() {
            return None;
        }
        if let (Some(at), Some(peak)) = (self.pss_at_rss_bytes, self.rss_bytes)
            && self.pss_bytes.is_some()
        {
            return Some(format!(
                "missing: PSS was read only while the process tree's RSS was {:.1} MiB, under three quarters of its peak of {:.1} MiB (starting or exiting)",
                at as f64 / 1048576.0,
                peak as f64 / 1048576.0
            ));
        }
        Some(match self.pss_missing {
            Some(why) => format!("missing: {}", why.reason()),
            None => "missing: smaps_rollup was not read (the run ended first, or the sampler cannot read it here)".to_string(),
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryTracker {
    peaks: MemoryPeaks,
    baseline: Option<MemoryBaseline>,
    setup_done_ns: Option<u64>,
    #[serde(skip)]
    pending: VecDeque<(u64, MemorySample)>,
}

impl MemoryTracker {
    pub fn peaks(&self) -> MemoryPeaks {
        self.peaks
    }

    pub fn baseline(&self) -> Option<MemoryBaseline> {
        self.baseline
    }

    /// A reading taken at `t_ns`; `baseline_sample` for the sampler's
    /// out-of-schedule sample at `setup_done`.
    pub fn on_sample(&mut self, t_ns: u64, memory: &MemorySample, baseline_sample: bool) {
        let p = &mut self.peaks;
        if p.rss_bytes.is_none_or(|peak| memory.rss_bytes > peak) {
            p.rss_bytes = Some(memory.rss_bytes);
            p.rss_t_ns = Some(t_ns);
        }
        if let Some(pss) = memory.pss_bytes
            && p.pss_bytes.is_none_or(|peak| pss > peak)
        {
            p.pss_bytes = Some(pss);
            p.pss_at_rss_bytes = Some(memory.rss_bytes);
        }
        if memory.pss_missing.is_some() {
            p.pss_missing = memory.pss_missing;
        }
        p.uss_bytes = max_opt(p.uss_bytes, memory.uss_bytes);
        p.processes = max_opt(p.processes, Some(memory.processes));
        match self.setup_done_ns {
            _ if baseline_sample => self.fold(t_ns, memory, true),
            Some(setup) if t_ns <= setup => self.fold(t_ns, memory, false),
            Some(_) => {}
            None => {
                if self.pending.len() >= MAX_PENDING {
                    self.pending.pop_front();
                }
                self.pending.push_back((t_ns, *memory));
            }
        }
    }

    /// The harness reported `setup_done` at `t_ns`.
    pub fn on_setup_done(&mut self, t_ns: u64) {
        self.setup_done_ns = Some(t_ns);
        for (t, memory) in std::mem::take(&mut self.pending) {
            if t <= t_ns {
                self.fold(t, &memory, false);
            }
        }
    }

    fn fold(&mut self, t_ns: u64, memory: &MemorySample, from_baseline_sample: bool) {
        let prev = self.baseline;
        if let Some(b) = prev
            && !from_baseline_sample
            && (b.from_baseline_sample || t_ns < b.t_ns)
        {
            return;
        }
        self.baseline = Some(MemoryBaseline {
            t_ns,
            rss_bytes: memory.rss_bytes,
            pss_bytes: memory.pss_bytes.or(prev.and_then(|b| b.pss_bytes)),
            uss_bytes: memory.uss_bytes.or(prev.and_then(|b| b.uss_bytes)),
            from_baseline_sample,
        });
    }
}

fn max_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem(rss: u64, pss: Option<u64>) -> MemorySample {
        MemorySample {
            rss_bytes: rss,
            pss_bytes: pss,
            uss_bytes: pss.map(|p| p / 2),
            pss_missing: None,
            processes: 1,
        }
    }

    #[test]
    fn baseline_is_the_last_reading_at_or_before_setup_done() {
        let mut m = MemoryTracker::default();
        m.on_sample(10, &mem(100, Some(90)), false);
        m.on_sample(20, &mem(110, None), false);
        assert_eq!(m.baseline(), None, "setup_done not seen yet");
        // A reading taken after setup_done but eaten before the event.
        m.on_sample(40, &mem(500, None), false);
        m.on_setup_done(30);
        let b = m.baseline().unwrap();
        assert_eq!((b.t_ns, b.rss_bytes, b.pss_bytes), (20, 110, Some(90)));
        // A late reading taken before setup_done still counts; one after not.
        m.on_sample(25, &mem(120, None), false);
        m.on_sample(50, &mem(900, Some(800)), false);
        let b = m.baseline().unwrap();
        assert_eq!((b.t_ns, b.rss_bytes, b.uss_bytes), (25, 120, Some(45)));
        let p = m.peaks();
        assert_eq!(
            (p.rss_bytes, p.rss_t_ns, p.pss_bytes),
            (Some(900), Some(50), Some(800))
        );
    }

    #[test]
    fn the_baseline_sample_wins() {
        let mut m = MemoryTracker::default();
        m.on_setup_done(30);
        m.on_sample(20, &mem(110, Some(100)), false);
        m.on_sample(31, &mem(115, None), true);
        m.on_sample(29, &mem(999, None), false);
        let b = m.baseline().unwrap();
        assert!(b.from_baseline_sample);
        assert_eq!((b.rss_bytes, b.pss_bytes), (115, Some(100)));
    }

    #[test]
    fn no_reading_before_setup_means_no_baseline() {
        let mut m = MemoryTracker::default();
        m.on_setup_done(30);
        m.on_sample(40, &mem(100, None), false);
        assert_eq!(m.baseline(), None);
        assert_eq!(m.peaks().rss_bytes, Some(100));
    }

    /// The short script: PSS read once, at start-up (1.1 MiB of a
    /// 1.3 MiB tree), then the tree grew to 10.4 MiB and PSS reads failed
    /// as it exited: no PSS peak, and the reason says why.
    #[test]
    fn a_pss_read_only_at_start_up_is_no_peak() {
        const MIB: u64 = 1 << 20;
        let mut m = MemoryTracker::default();
        m.on_sample(1, &mem(13 * MIB / 10, Some(11 * MIB / 10)), false);
        m.on_sample(2, &mem(104 * MIB / 10, None), false);
        let mut exiting = mem(104 * MIB / 10, None);
        exiting.pss_missing = Some(PssMissing::Exiting);
        m.on_sample(3, &exiting, false);
        let p = m.peaks();
        assert_eq!(p.pss_peak(), None);
        let why = p.pss_missing_reason().unwrap();
        assert!(
            why.contains("under three quarters of its peak of 10.4 MiB"),
            "{why}"
        );
        // Read near the RSS peak, it is one.
        m.on_sample(4, &mem(10 * MIB, Some(8 * MIB)), false);
        assert_eq!(m.peaks().pss_peak(), Some(8 * MIB));
        assert_eq!(m.peaks().pss_missing_reason(), None);
    }
}
