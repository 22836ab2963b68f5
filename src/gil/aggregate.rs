//! Turning GIL ticks into per-interval numbers.
//!
//! Definitions (per process, per interval; all plain counts of ticks or
//! probes, so each fraction is an estimate whose resolution is one tick):
//!
//! * **GIL**: one per *owning* interpreter. An own-GIL subinterpreter has
//!   its own; a legacy subinterpreter shares the main one (`used_by`).
//! * **locked fraction**: ticks the GIL was locked / ticks the GIL was read.
//! * **hold fraction of thread T on GIL G**: ticks whose snapshot named T
//!   as G's holder / ticks G was read. Per GIL these sum to at most the
//!   locked fraction, hence ≤ 100 %. The thread's overall
//!   [`ThreadGilStats::hold_fraction`] counts any GIL of its process over
//!   the ticks the process was read.
//! * **wait fraction of T**: probes that found T inside `take_gil` / probes
//!   of T: asleep in a futex inside one of its process's GIL structs,
//!   3.15's `gil_requested` set, or runnable after such a sleep while that
//!   GIL has not changed hands since (see [`super::waits`]). Exact per
//!   probe (the kernel's answer, the thread state's flags, the GIL's own
//!   counter), not inferred from "not the holder while locked": a thread
//!   sleeping on a queue or in `time.sleep` is *blocked*, not waiting.
//!   Probes are a round-robin subset of ticks, so this fraction has its
//!   own denominator; `None` without probes.
//! * **ran without a GIL / unsure**: probes that found T runnable and
//!   holding none, split into *running free* (provably outside
//!   `take_gil`) and *unsure* (nothing tells a thread on its way into
//!   `take_gil` from free code; see [`super::waits::WaitTracker::refine`]).
//! * **hand-offs/s**: from the GIL's own `switch_number` counter (every
//!   change of holder, exact) over the interval; `sampled_handoffs_per_sec`
//!   counts holder changes between consecutive ticks (a lower bound, what
//!   a 1 kHz sampler can see).
//! * **enabled changes**: a free-threaded build's GIL switching on (an
//!   extension module without `Py_mod_gil`) or off, detected from the
//!   `enabled` counter, independently of the harness. Transient enabling
//!   (n > 0 requests during an import) shows as a change too; `raw` tells
//!   (`i32::MAX` = permanently on).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::sampler::GilTick;
use super::waits::ThreadActivity;

/// A free-threaded build's GIL switched on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GilEnabledChange {
    pub t_ns: u64,
    pub pid: u32,
    pub interp_id: i64,
    pub enabled: bool,
    /// The raw `enabled` counter (free-threaded builds).
    pub raw: Option<i32>,
}

/// One thread's share of a GIL.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HolderShare {
    pub tid: u32,
    pub fraction: f64,
}

/// One GIL over an interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GilStats {
    /// The interpreter that owns this GIL.
    pub interp_id: i64,
    /// Interpreters that used it (the owner, plus legacy subinterpreters).
    pub used_by: Vec<i64>,
    /// Ticks this GIL was read.
    pub ticks: u64,
    pub locked_fraction: f64,
    /// Ticks it was enabled / ticks (1 on a default build).
    pub enabled_fraction: f64,
    /// Enabled at the last tick.
    pub enabled: bool,
    /// Holders, largest share first; shares sum to ≤ `locked_fraction`.
    pub holders: Vec<HolderShare>,
    /// Locked, but the holder's thread id could not be read.
    pub unknown_holder_fraction: f64,
    /// Exact, from `switch_number`; `None` with < 2 ticks or no counter.
    pub handoffs_per_sec: Option<f64>,
    /// Holder changes seen between consecutive ticks (lower bound).
    pub sampled_handoffs_per_sec: Option<f64>,
}

/// One thread over an interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadGilStats {
    pub tid: u32,
    /// The GIL (owning interpreter) it held or waited for most.
    pub interp_id: Option<i64>,
    /// Ticks holding any GIL of its process / ticks the process was read.
    pub hold_fraction: f64,
    /// How often it was probed.
    pub probes: u64,
    /// Probes waiting for a GIL / probes.
    pub wait_fraction: Option<f64>,
    /// Probes on a CPU or runnable (with or without a GIL) / probes.
    pub running_fraction: Option<f64>,
    /// Probes on a CPU or runnable, holding no GIL and known to be
    /// outside `take_gil` / probes: free-threaded code, or native code
    /// that released the GIL (see [`super::waits::WaitTracker::refine`]).
    pub running_without_gil_fraction: Option<f64>,
    /// Probes on a CPU or runnable, holding no GIL, where the interpreter
    /// exposes nothing that tells waiting inside `take_gil` from running
    /// free (3.13, 3.14) / probes. Never counted as running free.
    #[serde(default)]
    pub unsure_fraction: Option<f64>,
    /// Probes blocked on something other than a GIL / probes.
    pub blocked_fraction: Option<f64>,
}

/// One process over an interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessGilStats {
    pub pid: u32,
    /// Ticks this process was read.
    pub ticks: u64,
    /// By owning interpreter id.
    pub gils: Vec<GilStats>,
    /// By thread id.
    pub threads: Vec<ThreadGilStats>,
}

/// Everything the GIL sampler saw in one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GilInterval {
    /// First and last tick of the interval (CLOCK_MONOTONIC ns).
    pub start_ns: u64,
    pub end_ns: u64,
    pub ticks: u64,
    /// By pid.
    pub processes: Vec<ProcessGilStats>,
    pub enabled_changes: Vec<GilEnabledChange>,
}

impl GilInterval {
    /// The stats of thread `tid` of `pid`.
    pub fn thread(&self, pid: u32, tid: u32) -> Option<&ThreadGilStats> {
        self.process(pid)?.threads.iter().find(|t| t.tid == tid)
    }

    pub fn process(&self, pid: u32) -> Option<&ProcessGilStats> {
        self.processes.iter().find(|p| p.pid == pid)
    }
}

#[derive(Default)]
struct GilAcc {
    used_by: BTreeSet<i64>,
    ticks: u64,
    locked: u64,
    unknown_holder: u64,
    enabled: u64,
    enabled_last: bool,
    holders: BTreeMap<u32, u64>,
    sampled_handoffs: u64,
    first_switch: Option<(u64, u64)>,
    last_switch: Option<(u64, u64)>,
    first_t: u64,
    last_t: u64,
}

#[derive(Default)]
struct ThreadAcc {
    holding: u64,
    probes: u64,
    waiting: u64,
    running: u64,
    running_free: u64,
    unsure: u64,
    blocked: u64,
    /// Ticks holding + probes waiting, by GIL.
    by_gil: BTreeMap<i64, u64>,
}

#[derive(Default)]
struct ProcAcc {
    ticks: u64,
    gils: BTreeMap<i64, GilAcc>,
    threads: BTreeMap<u32, ThreadAcc>,
}

/// Accumulates [`GilTick`]s; [`GilAggregator::take`] closes an interval.
#[derive(Default)]
pub struct GilAggregator {
    start_ns: Option<u64>,
    end_ns: u64,
    ticks: u64,
    procs: BTreeMap<u32, ProcAcc>,
    changes: Vec<GilEnabledChange>,
    /// Across intervals: last enabled state and last holder per GIL.
    enabled_state: HashMap<(u32, i64), bool>,
    last_holder: HashMap<(u32, i64), u32>,
}

impl GilAggregator {
    pub fn new() -> Self {
        Self::default()
    }

    /// When the open interval started (its first tick), if any.
    pub fn start_ns(&self) -> Option<u64> {
        self.start_ns
    }

    pub fn push(&mut self, tick: &GilTick) {
        self.start_ns.get_or_insert(tick.t_ns);
        self.end_ns = tick.t_ns;
        self.ticks += 1;
        for p in &tick.processes {
            let acc = self.procs.entry(p.pid).or_default();
            acc.ticks += 1;
            for i in &p.interpreters {
                let Some(owner) = i.gil_of else { continue };
                let gil = acc.gils.entry(owner).or_default();
                gil.used_by.insert(i.id);
                if owner != i.id {
                    continue; // a shared GIL: counted at its owner's entry
                }
                if gil.ticks == 0 {
                    gil.first_t = tick.t_ns;
                }
                gil.ticks += 1;
                gil.last_t = tick.t_ns;
                gil.enabled += u64::from(i.enabled);
                gil.enabled_last = i.enabled;
                if let Some(n) = i.switches {
                    gil.first_switch.get_or_insert((tick.t_ns, n));
                    gil.last_switch = Some((tick.t_ns, n));
                }
                let key = (p.pid, owner);
                if let Some(prev) = self.enabled_state.insert(key, i.enabled)
                    && prev != i.enabled
                {
                    self.changes.push(GilEnabledChange {
                        t_ns: tick.t_ns,
                        pid: p.pid,
                        interp_id: owner,
                        enabled: i.enabled,
                        raw: i.enabled_raw,
                    });
                }
                if !i.locked {
                    continue;
                }
                gil.locked += 1;
                let Some(tid) = i.holder_tid else {
                    gil.unknown_holder += 1;
                    continue;
                };
                *gil.holders.entry(tid).or_default() += 1;
                if self
                    .last_holder
                    .insert(key, tid)
                    .is_some_and(|prev| prev != tid)
                {
                    gil.sampled_handoffs += 1;
                }
                let t = acc.threads.entry(tid).or_default();
                t.holding += 1;
                *t.by_gil.entry(owner).or_default() += 1;
            }
            for probe in &p.probes {
                let t = acc.threads.entry(probe.tid).or_default();
                t.probes += 1;
                match probe.activity {
                    ThreadActivity::Holding { .. } => t.running += 1,
                    ThreadActivity::RunningFree => {
                        t.running += 1;
                        t.running_free += 1;
                    }
                    // Unrefined probes (`classify` alone) cannot say either.
                    ThreadActivity::Unsure | ThreadActivity::Running => {
                        t.running += 1;
                        t.unsure += 1;
                    }
                    ThreadActivity::Blocked => t.blocked += 1,
                    ThreadActivity::WaitingForGil { gil_of } => {
                        t.waiting += 1;
                        *t.by_gil.entry(gil_of).or_default() += 1;
                    }
                }
            }
        }
    }

    /// Closes the open interval and returns it; `None` if it had no tick.
    pub fn take(&mut self) -> Option<GilInterval> {
        let start_ns = self.start_ns.take()?;
        let procs = std::mem::take(&mut self.procs);
        let interval = GilInterval {
            start_ns,
            end_ns: self.end_ns,
            ticks: std::mem::take(&mut self.ticks),
            processes: procs
                .into_iter()
                .map(|(pid, p)| process_stats(pid, p))
                .collect(),
            enabled_changes: std::mem::take(&mut self.changes),
        };
        Some(interval)
    }
}

fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

fn opt_ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn process_stats(pid: u32, p: ProcAcc) -> ProcessGilStats {
    let gils = p
        .gils
        .into_iter()
        .filter(|(_, g)| g.ticks > 0)
        .map(|(id, g)| gil_stats(id, g))
        .collect();
    let threads = p
        .threads
        .into_iter()
        .map(|(tid, t)| ThreadGilStats {
            tid,
            interp_id: t.by_gil.iter().max_by_key(|(_, n)| **n).map(|(id, _)| *id),
            hold_fraction: ratio(t.holding, p.ticks),
            probes: t.probes,
            wait_fraction: opt_ratio(t.waiting, t.probes),
            running_fraction: opt_ratio(t.running, t.probes),
            running_without_gil_fraction: opt_ratio(t.running_free, t.probes),
            unsure_fraction: opt_ratio(t.unsure, t.probes),
            blocked_fraction: opt_ratio(t.blocked, t.probes),
        })
        .collect();
    ProcessGilStats {
        pid,
        ticks: p.ticks,
        gils,
        threads,
    }
}

fn gil_stats(id: i64, g: GilAcc) -> GilStats {
    let secs = g.last_t.saturating_sub(g.first_t) as f64 / 1e9;
    let handoffs_per_sec = match (g.first_switch, g.last_switch) {
        (Some((t0, n0)), Some((t1, n1))) if t1 > t0 => {
            Some(n1.wrapping_sub(n0) as f64 / ((t1 - t0) as f64 / 1e9))
        }
        _ => None,
    };
    let mut holders: Vec<HolderShare> = g
        .holders
        .iter()
        .map(|(&tid, &n)| HolderShare {
            tid,
            fraction: ratio(n, g.ticks),
        })
        .collect();
    holders.sort_by(|a, b| b.fraction.total_cmp(&a.fraction).then(a.tid.cmp(&b.tid)));
    GilStats {
        interp_id: id,
        used_by: g.used_by.into_iter().collect(),
        ticks: g.ticks,
        locked_fraction: ratio(g.locked, g.ticks),
        enabled_fraction: ratio(g.enabled, g.ticks),
        enabled: g.enabled_last,
        holders,
        unknown_holder_fraction: ratio(g.unknown_holder, g.ticks),
        handoffs_per_sec,
        sampled_handoffs_per_sec: (secs > 0.0).then(|| g.sampled_handoffs as f64 / secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gil::reader::InterpreterGil;
    use crate::gil::sampler::{ProcessTick, ThreadProbe};

    fn gil(id: i64, gil_of: i64, holder: Option<u32>, switches: u64) -> InterpreterGil {
        InterpreterGil {
            id,
            gil_of: Some(gil_of),
            locked: holder.is_some(),
            holder_tid: holder,
            enabled: true,
            enabled_raw: None,
            switches: Some(switches),
            gil_addr: 0x1000 * (gil_of as u64 + 1),
        }
    }

    fn tick(t_ms: u64, interps: Vec<InterpreterGil>, probes: Vec<ThreadProbe>) -> GilTick {
        GilTick {
            t_ns: t_ms * 1_000_000,
            late_ns: 0,
            missed: 0,
            read_ns: 0,
            cost_ns: 0,
            processes: vec![ProcessTick {
                pid: 10,
                interpreters: interps,
                probes,
            }],
            notices: vec![],
        }
    }

    #[test]
    fn two_threads_sharing_one_gil() {
        let mut agg = GilAggregator::new();
        // Ticks at 0..=9 ms; holder alternates every 2 ticks; switch_number
        // counts 1 per ms; one tick unlocked.
        for t in 0..10u64 {
            let holder = if t == 9 {
                None
            } else {
                Some(if (t / 2) % 2 == 0 { 1 } else { 2 })
            };
            let waiter = if holder == Some(1) { 2 } else { 1 };
            let probes = vec![ThreadProbe {
                tid: waiter,
                activity: ThreadActivity::WaitingForGil { gil_of: 0 },
            }];
            agg.push(&tick(t, vec![gil(0, 0, holder, 100 + t)], probes));
        }
        let iv = agg.take().unwrap();
        assert!(agg.take().is_none());
        assert_eq!(iv.ticks, 10);
        let p = iv.process(10).unwrap();
        let g = &p.gils[0];
        assert!((g.locked_fraction - 0.9).abs() < 1e-9);
        let sum: f64 = g.holders.iter().map(|h| h.fraction).sum();
        assert!((sum - 0.9).abs() < 1e-9);
        assert_eq!(g.holders[0].tid, 1); // 1 holds at 0,1,4,5,8
        assert!((g.handoffs_per_sec.unwrap() - 1000.0).abs() < 1e-6);
        // 1→2 at 2, 2→1 at 4, 1→2 at 6, 2→1 at 8: 4 changes in 9 ms.
        assert!((g.sampled_handoffs_per_sec.unwrap() - 4.0 / 0.009).abs() < 1e-6);
        let t1 = iv.thread(10, 1).unwrap();
        assert!((t1.hold_fraction - 0.5).abs() < 1e-9);
        assert_eq!(t1.interp_id, Some(0));
        assert!(t1.wait_fraction.unwrap() > 0.99);
    }

    #[test]
    fn shared_gil_counts_once_and_own_gils_separately() {
        let mut agg = GilAggregator::new();
        for t in 0..4 {
            agg.push(&tick(
                t,
                vec![
                    gil(0, 0, Some(1), 0),
                    gil(1, 0, Some(1), 0),
                    gil(2, 2, Some(7), 0),
                ],
                vec![],
            ));
        }
        let iv = agg.take().unwrap();
        let p = iv.process(10).unwrap();
        assert_eq!(p.gils.len(), 2);
        assert_eq!(p.gils[0].used_by, vec![0, 1]);
        assert_eq!(p.gils[0].holders.len(), 1);
        assert!((p.gils[0].holders[0].fraction - 1.0).abs() < 1e-9);
        assert_eq!(p.gils[1].interp_id, 2);
        assert_eq!(iv.thread(10, 7).unwrap().interp_id, Some(2));
        assert_eq!(iv.thread(10, 7).unwrap().wait_fraction, None);
    }

    #[test]
    fn enabled_changes_are_reported_across_intervals() {
        let mut agg = GilAggregator::new();
        let mut off = gil(0, 0, None, 0);
        off.enabled = false;
        off.enabled_raw = Some(0);
        let mut on = off.clone();
        on.enabled = true;
        on.enabled_raw = Some(i32::MAX);
        agg.push(&tick(0, vec![off.clone()], vec![]));
        assert!(agg.take().unwrap().enabled_changes.is_empty());
        agg.push(&tick(1, vec![off], vec![]));
        agg.push(&tick(2, vec![on], vec![]));
        let iv = agg.take().unwrap();
        assert_eq!(iv.enabled_changes.len(), 1);
        let c = iv.enabled_changes[0];
        assert!(c.enabled && c.raw == Some(i32::MAX) && c.t_ns == 2_000_000);
        assert!((iv.processes[0].gils[0].enabled_fraction - 0.5).abs() < 1e-9);
    }
}
