//! What a run's exact GIL reader saw (CPython 3.13+): per thread, the
//! fraction of each interval it held its interpreter's GIL, waited for it,
//! or ran without it, as columns beside their own time axis (one row per
//! aggregated interval, ~10 per second), plus totals over the whole run.
//! A run without GIL data (3.12, not sampled, refused) has no rows and its
//! notices say why: missing, never 0.

use super::series::{ColumnId, SeriesLimits, TimeSeries};
use crate::gil::{GilEnabledChange, GilInterval};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a refusal notice starts (`run::gil_feed::describe`).
pub const REFUSED_PREFIX: &str = "no exact GIL lanes";
/// How an attach notice starts.
pub const ATTACHED_PREFIX: &str = "exact GIL lanes: reading";

/// Columns of one thread in [`GilTrack::series`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GilColumns {
    /// Ticks holding a GIL / ticks its process was read.
    pub hold: ColumnId,
    /// Probes waiting for a GIL / probes.
    pub wait: ColumnId,
    /// Probes on a CPU (or runnable) without any GIL, outside `take_gil`.
    pub run_free: ColumnId,
    /// Probes on a CPU (or runnable) without any GIL where the interpreter
    /// cannot tell whether it is on its way into `take_gil`.
    #[serde(default)]
    pub unsure: Option<ColumnId>,
}

/// One thread's GIL columns and run totals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GilThread {
    pub pid: u32,
    pub columns: GilColumns,
    /// Interpreter whose GIL it held or waited for most (latest interval).
    pub interp_id: Option<i64>,
    /// Σ hold fraction × process ticks, and the ticks.
    pub hold_ticks: f64,
    pub ticks: u64,
    /// Σ wait fraction × probes, Σ run-free fraction × probes, and probes.
    pub wait_probes: f64,
    pub run_free_probes: f64,
    /// Σ unsure fraction × probes (run files before it: 0).
    #[serde(default)]
    pub unsure_probes: f64,
    pub probes: u64,
    /// Σ over intervals of its process's share of ticks whose GIL holder
    /// could not be identified × ticks: time that may have been its own.
    #[serde(default)]
    pub unknown_holder_ticks: f64,
}

/// Above this share of a thread's ticks with an unidentified GIL holder,
/// its held and ran-without fractions are missing, not numbers.
pub const MAX_UNKNOWN_HOLDER: f64 = 0.05;

impl GilThread {
    /// Fraction of the run's GIL ticks this thread held a GIL; missing
    /// when too many readings could not name the holder
    /// ([`GilThread::holders_unknown`]).
    pub fn hold_fraction(&self) -> Option<f64> {
        (self.ticks > 0 && !self.holders_unknown()).then(|| self.hold_ticks / self.ticks as f64)
    }

    /// Whether more than [`MAX_UNKNOWN_HOLDER`] of its process's readings
    /// found the GIL locked by a thread that could not be identified (a
    /// container's thread id that maps to no thread): then who held the
    /// GIL is not known well enough to give this thread a share.
    pub fn holders_unknown(&self) -> bool {
        self.ticks > 0 && self.unknown_holder_ticks / self.ticks as f64 > MAX_UNKNOWN_HOLDER
    }

    /// Fraction of its probes spent waiting for a GIL.
    pub fn wait_fraction(&self) -> Option<f64> {
        (self.probes > 0).then(|| self.wait_probes / self.probes as f64)
    }

    /// Fraction of its probes running without holding any GIL (missing,
    /// like the held fraction, when the holders were not identified).
    pub fn run_free_fraction(&self) -> Option<f64> {
        (self.probes > 0 && !self.holders_unknown())
            .then(|| self.run_free_probes / self.probes as f64)
    }

    /// Fraction of its probes runnable without a GIL where the interpreter
    /// could not tell waiting from running free.
    pub fn unsure_fraction(&self) -> Option<f64> {
        (self.probes > 0).then(|| self.unsure_probes / self.probes as f64)
    }
}

/// One GIL (interpreter) over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GilTotals {
    pub pid: u32,
    pub interp_id: i64,
    pub ticks: u64,
    /// Σ locked fraction × ticks; Σ enabled fraction × ticks.
    pub locked_ticks: f64,
    pub enabled_ticks: f64,
    /// Σ hand-offs (per second × interval length).
    pub handoffs: f64,
    pub secs: f64,
}

impl GilTotals {
    pub fn locked_fraction(&self) -> Option<f64> {
        (self.ticks > 0).then(|| self.locked_ticks / self.ticks as f64)
    }

    pub fn enabled_fraction(&self) -> Option<f64> {
        (self.ticks > 0).then(|| self.enabled_ticks / self.ticks as f64)
    }

    pub fn handoffs_per_sec(&self) -> Option<f64> {
        (self.secs > 0.0).then(|| self.handoffs / self.secs)
    }
}

/// Everything about a run's GILs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GilTrack {
    pub series: TimeSeries,
    /// By TID.
    pub threads: BTreeMap<u32, GilThread>,
    /// By (pid, interpreter id).
    pub gils: Vec<GilTotals>,
    pub enabled_changes: Vec<GilEnabledChange>,
    /// Why there are no exact GIL lanes, or what went wrong reading them.
    pub notices: Vec<String>,
    pub intervals: u64,
}

impl Default for GilTrack {
    fn default() -> Self {
        Self {
            series: TimeSeries::new(SeriesLimits {
                max_age_ns: None,
                // 10 rows a second for 15 minutes.
                max_rows: 9_000,
            }),
            threads: BTreeMap::new(),
            gils: Vec::new(),
            enabled_changes: Vec::new(),
            notices: Vec::new(),
            intervals: 0,
        }
    }
}

impl GilTrack {
    /// For an attach that may last days: 5 minutes of intervals at full
    /// resolution, older ones folded into coarser tiers (the totals stay
    /// exact: they are summed as intervals arrive).
    pub fn long() -> Self {
        Self {
            series: TimeSeries::new(SeriesLimits {
                max_age_ns: None,
                max_rows: 3_000,
            })
            .with_older(super::series::older::LONG_RUN_TIERS),
            ..Self::default()
        }
    }

    /// Whether any GIL was read (intervals alone are not enough: the
    /// reader also ticks while it has no process it can read).
    pub fn has_data(&self) -> bool {
        !self.gils.is_empty()
    }

    /// Why this run has no exact GIL numbers, in one line; `None` when it
    /// has them. Every surface that shows a missing GIL figure says this.
    pub fn missing_reason(&self) -> Option<String> {
        if self.has_data() {
            return None;
        }
        let refusal = self
            .notices
            .iter()
            .find(|n| n.starts_with(REFUSED_PREFIX))
            .or_else(|| {
                self.notices
                    .iter()
                    .find(|n| !n.starts_with(ATTACHED_PREFIX))
            });
        Some(match refusal {
            Some(n) => n.clone(),
            None if self.intervals == 0 => {
                "no exact GIL lanes: the GIL reader did not run (the run was not sampled, or --gil-rate was 0)".into()
            }
            None if self.notices.iter().any(|n| n.starts_with(ATTACHED_PREFIX)) => {
                "no exact GIL lanes: the process exited before the GIL reader read it".into()
            }
            None => "no exact GIL lanes: the GIL reader found no CPython runtime in the run's processes before they exited".into(),
        })
    }

    pub fn notice(&mut self, text: String) {
        if self.notices.len() < 20 && !self.notices.contains(&text) {
            self.notices.push(text);
        }
    }

    /// Takes in one aggregated interval: a row at its end.
    pub fn eat(&mut self, interval: &GilInterval) {
        if self.series.push_row(interval.end_ns).is_err() {
            return;
        }
        self.intervals += 1;
        let secs = (interval.end_ns.saturating_sub(interval.start_ns)) as f64 / 1e9;
        for p in &interval.processes {
            for g in &p.gils {
                let totals = match self
                    .gils
                    .iter_mut()
                    .find(|t| t.pid == p.pid && t.interp_id == g.interp_id)
                {
                    Some(t) => t,
                    None => {
                        self.gils.push(GilTotals {
                            pid: p.pid,
                            interp_id: g.interp_id,
                            ..GilTotals::default()
                        });
                        self.gils.last_mut().expect("just pushed")
                    }
                };
                totals.ticks += g.ticks;
                totals.locked_ticks += g.locked_fraction * g.ticks as f64;
                totals.enabled_ticks += g.enabled_fraction * g.ticks as f64;
                if let Some(h) = g.handoffs_per_sec.or(g.sampled_handoffs_per_sec) {
                    totals.handoffs += h * secs;
                    totals.secs += secs;
                }
            }
            let unknown = p
                .gils
                .iter()
                .map(|g| g.unknown_holder_fraction)
                .fold(0.0, f64::max);
            for t in &p.threads {
                let series = &mut self.series;
                let entry = self.threads.entry(t.tid).or_insert_with(|| GilThread {
                    pid: p.pid,
                    columns: GilColumns {
                        hold: series.column(&format!("gil/{}/hold", t.tid)),
                        wait: series.column(&format!("gil/{}/wait", t.tid)),
                        run_free: series.column(&format!("gil/{}/run_free", t.tid)),
                        unsure: Some(series.column(&format!("gil/{}/unsure", t.tid))),
                    },
                    interp_id: None,
                    hold_ticks: 0.0,
                    ticks: 0,
                    wait_probes: 0.0,
                    run_free_probes: 0.0,
                    unsure_probes: 0.0,
                    probes: 0,
                    unknown_holder_ticks: 0.0,
                });
                entry.unknown_holder_ticks += unknown * p.ticks as f64;
                entry.interp_id = t.interp_id.or(entry.interp_id);
                entry.hold_ticks += t.hold_fraction * p.ticks as f64;
                entry.ticks += p.ticks;
                series.set_last(entry.columns.hold, t.hold_fraction as f32);
                if t.probes > 0 {
                    entry.probes += t.probes;
                    if let Some(w) = t.wait_fraction {
                        entry.wait_probes += w * t.probes as f64;
                        series.set_last(entry.columns.wait, w as f32);
                    }
                    if let Some(r) = t.running_without_gil_fraction {
                        entry.run_free_probes += r * t.probes as f64;
                        series.set_last(entry.columns.run_free, r as f32);
                    }
                    if let (Some(u), Some(col)) = (t.unsure_fraction, entry.columns.unsure) {
                        entry.unsure_probes += u * t.probes as f64;
                        series.set_last(col, u as f32);
                    }
                }
            }
        }
        self.enabled_changes
            .extend(interval.enabled_changes.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gil::{GilStats, ProcessGilStats, ThreadGilStats};

    fn interval(end_ns: u64, unknown: f64) -> GilInterval {
        GilInterval {
            start_ns: end_ns - 100,
            end_ns,
            ticks: 100,
            processes: vec![ProcessGilStats {
                pid: 7,
                ticks: 100,
                gils: vec![GilStats {
                    interp_id: 0,
                    used_by: vec![0],
                    ticks: 100,
                    locked_fraction: 1.0,
                    enabled_fraction: 1.0,
                    enabled: true,
                    holders: Vec::new(),
                    unknown_holder_fraction: unknown,
                    handoffs_per_sec: None,
                    sampled_handoffs_per_sec: None,
                }],
                threads: vec![ThreadGilStats {
                    tid: 8,
                    interp_id: Some(0),
                    hold_fraction: 0.5 - unknown / 2.0,
                    probes: 10,
                    wait_fraction: Some(0.4),
                    running_fraction: Some(0.5),
                    running_without_gil_fraction: Some(0.1),
                    unsure_fraction: Some(0.0),
                    blocked_fraction: Some(0.0),
                }],
            }],
            enabled_changes: Vec::new(),
        }
    }

    /// Readings whose GIL holder could not be named (a container's thread
    /// id that maps to no thread) leave the shares missing, not small.
    #[test]
    fn unnamed_holders_make_shares_missing() {
        let mut named = GilTrack::default();
        named.eat(&interval(1_000, 0.0));
        let t = named.threads[&8];
        assert_eq!(t.hold_fraction(), Some(0.5));
        assert!(t.run_free_fraction().is_some());
        let mut unnamed = GilTrack::default();
        unnamed.eat(&interval(1_000, 0.0));
        unnamed.eat(&interval(2_000, 0.6));
        let t = unnamed.threads[&8];
        assert!(t.holders_unknown());
        assert_eq!(t.hold_fraction(), None);
        assert_eq!(t.run_free_fraction(), None);
        // The wait share rests on probes of the thread itself: kept.
        assert!(t.wait_fraction().is_some());
    }
}
