//! Verdicts: a short label with its reason in words wherever a number may
//! have been made up by the machine rather than measured — *contended*,
//! *implausible*, *noisy*. A flagged run or point is still shown (dimmed
//! and marked), never dropped.
//!
//! The thresholds are the constants below; the README's "Verdicts" section
//! says the same in words.

use super::load::Load;
use super::metrics::{worker_gil, worker_times};
use super::record::RunRecord;
use crate::interp::Mode;
use serde::{Deserialize, Serialize};

/// *contended*: other processes used more than the cores the run left
/// spare plus this share of the cores it needed.
pub const CONTENDED_SHARE: f64 = 0.10;
/// A mode whose workers share one GIL and together hold it at least this
/// share of the time (the GIL is busy: the work is serial) …
pub const GIL_BOUND_HOLD: f64 = 0.90;
/// … cannot honestly be faster than this many times its 1-worker run.
pub const GIL_BOUND_MAX_SPEEDUP: f64 = 1.10;
/// Parallel efficiency above 100 % by more than this (or by more than the
/// point's spread, if wider) is *implausible*.
pub const EFFICIENCY_SLACK: f64 = 0.05;
/// A 1-worker run whose worker got less than this share of a core …
pub const BASELINE_MIN_CORE: f64 = 0.90;
/// … while it waited for a core at least this share of the time was
/// slowed by others: a speedup against it is *implausible*.
pub const BASELINE_MIN_WAITING: f64 = 0.05;
/// Repeats whose times spread (max − min) by more than this share of the
/// median are *noisy*.
pub const NOISY_SPREAD: f64 = 0.10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Contended,
    Implausible,
    Noisy,
    /// A service run whose load generator fell behind its schedule.
    GeneratorBound,
}

impl VerdictKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Contended => "contended",
            Self::Implausible => "implausible",
            Self::Noisy => "noisy",
            Self::GeneratorBound => "generator-bound",
        }
    }

    /// A text mark that does not rely on colour.
    pub fn mark(self) -> &'static str {
        match self {
            Self::Contended => "⚠ contended",
            Self::Implausible => "✗ implausible",
            Self::Noisy => "≈ noisy",
            Self::GeneratorBound => "⏱ generator-bound",
        }
    }
}

/// One label and why it applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub reason: String,
}

impl Verdict {
    fn new(kind: VerdictKind, reason: String) -> Self {
        Self { kind, reason }
    }
}

/// "contended, noisy" (empty for none).
pub fn labels(verdicts: &[Verdict]) -> String {
    let mut kinds: Vec<VerdictKind> = verdicts.iter().map(|v| v.kind).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// "contended: …; noisy: …" (empty for none).
pub fn text(verdicts: &[Verdict]) -> String {
    verdicts
        .iter()
        .map(|v| format!("{}: {}", v.kind.label(), v.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Adds `v` unless a verdict of the same kind and reason is there.
pub fn push(out: &mut Vec<Verdict>, v: Option<Verdict>) {
    if let Some(v) = v
        && !out.contains(&v)
    {
        out.push(v);
    }
}

/// The cores a run of `mode` with `workers` workers needs at most.
pub fn needed_cores(mode: Mode, workers: usize, cores: u32) -> f64 {
    let _ = mode; // every mode can keep `workers` cores busy (gil only in bursts)
    (workers.max(1) as f64).min(f64::from(cores.max(1)))
}

/// *contended*: others used more than the spare cores plus
/// [`CONTENDED_SHARE`] of the cores the run needed.
pub fn contended(load: &Load, needed: f64) -> Option<Verdict> {
    let others = load.other_cores()?;
    let spare = (f64::from(load.cores) - needed).max(0.0);
    let allowed = spare + CONTENDED_SHARE * needed;
    (others > allowed).then(|| {
        Verdict::new(
            VerdictKind::Contended,
            format!(
                "other processes used {others:.2} of {} cores ({:.0} % of the {needed:.0} this run needed; busiest: {})",
                load.cores,
                (others - spare).max(0.0) / needed * 100.0,
                load.busiest_text()
            ),
        )
    })
}

/// *implausible* (as a baseline): a 1-worker run whose worker got less
/// than [`BASELINE_MIN_CORE`] of a core while it waited for one.
pub fn slowed_baseline(workers: usize, running: f64, waiting: f64) -> Option<Verdict> {
    (workers == 1 && running < BASELINE_MIN_CORE && waiting >= BASELINE_MIN_WAITING).then(|| {
        Verdict::new(
            VerdictKind::Implausible,
            format!(
                "the 1-worker run was slowed: it got {running:.2} cores (waited for a core {:.0} % of the time), so speedups against it are inflated",
                waiting * 100.0
            ),
        )
    })
}

/// *implausible*: a speedup the run's own measurements do not allow.
/// `gil_hold`: share of time the workers' one shared GIL was held by
/// them (see [`shared_gil_hold`]); `spread`: the
/// point's relative spread (max − min over median), if it has repeats.
pub fn implausible_speedup(
    workers: usize,
    speedup: f64,
    gil_hold: Option<f64>,
    spread: Option<f64>,
) -> Option<Verdict> {
    if workers < 2 || !speedup.is_finite() {
        return None;
    }
    if let Some(hold) = gil_hold
        && hold >= GIL_BOUND_HOLD
        && speedup > GIL_BOUND_MAX_SPEEDUP
    {
        return Some(Verdict::new(
            VerdictKind::Implausible,
            format!(
                "{speedup:.2}× while its workers held their one GIL {:.0} % of the time: a GIL-bound run cannot beat {GIL_BOUND_MAX_SPEEDUP:.1}× its 1-worker run",
                hold * 100.0
            ),
        ));
    }
    let efficiency = speedup / workers as f64;
    let slack = EFFICIENCY_SLACK.max(spread.unwrap_or(0.0));
    (efficiency > 1.0 + slack).then(|| {
        Verdict::new(
            VerdictKind::Implausible,
            format!(
                "efficiency {:.0} % is above 100 % by more than {} ({:.0} %): {workers} workers cannot do more than {workers}× the work of one",
                efficiency * 100.0,
                if spread.is_some_and(|s| s > EFFICIENCY_SLACK) { "the spread" } else { "the slack" },
                slack * 100.0
            ),
        )
    })
}

/// *noisy*: repeats spread by more than [`NOISY_SPREAD`] of their median.
pub fn noisy(runs: usize, relative_spread: f64) -> Option<Verdict> {
    (runs >= 2 && relative_spread > NOISY_SPREAD).then(|| {
        Verdict::new(
            VerdictKind::Noisy,
            format!(
                "the {runs} repeats spread by {:.0} % of their median (over {:.0} %)",
                relative_spread * 100.0,
                NOISY_SPREAD * 100.0
            ),
        )
    })
}

/// The mean running and waiting share of a run's workers.
pub fn worker_split(run: &RunRecord) -> Option<(f64, f64)> {
    let s: Vec<_> = worker_times(run)
        .into_iter()
        .filter_map(|w| w.split)
        .collect();
    if s.is_empty() {
        return None;
    }
    let n = s.len() as f64;
    Some((
        s.iter().map(|x| x.running).sum::<f64>() / n,
        s.iter().map(|x| x.waiting).sum::<f64>() / n,
    ))
}

/// The share of time the one GIL a run's workers share was held by them:
/// the sum of their hold fractions (exact reader), at most 1; `None` in
/// modes without one shared GIL (ft, subinterp, process) or unread.
pub fn shared_gil_hold(run: &RunRecord) -> Option<f64> {
    if !matches!(run.spec().mode, Mode::Gil | Mode::FtGil) {
        return None;
    }
    let h: Vec<f64> = worker_gil(run).iter().filter_map(|g| g.hold).collect();
    (!h.is_empty()).then(|| h.iter().sum::<f64>().min(1.0))
}

/// The same from a point's mean hold per worker.
pub fn shared_gil_hold_of(mode: Mode, workers: usize, mean_hold: Option<f64>) -> Option<f64> {
    matches!(mode, Mode::Gil | Mode::FtGil)
        .then_some(mean_hold?)
        .map(|h| (h * workers as f64).min(1.0))
}

/// The verdicts one run earns on its own: *contended*, and *implausible*
/// as a baseline when it has one worker and was slowed.
pub fn run_verdicts(run: &RunRecord) -> Vec<Verdict> {
    let mut out = Vec::new();
    if let Ok(load) = run.load_track().load() {
        // A script or an attach has no workers: its busy threads are.
        let workers = if run.spec().is_workload() {
            run.spec().workers
        } else {
            crate::store::metrics::busy_thread_count(run)
        };
        let needed = needed_cores(run.spec().mode, workers, load.cores);
        push(&mut out, contended(&load, needed));
    }
    if run.result().is_some()
        && let Some((running, waiting)) = worker_split(run)
    {
        push(
            &mut out,
            slowed_baseline(run.spec().workers, running, waiting),
        );
    }
    out
}

/// The verdicts of a run compared with its 1-worker `baseline`: its own,
/// the baseline's slowing, and an implausible speedup.
pub fn comparison_verdicts(
    run: &RunRecord,
    baseline: Option<&RunRecord>,
    speedup: Option<f64>,
) -> Vec<Verdict> {
    let mut out = run_verdicts(run);
    if let Some(base) = baseline
        && !std::ptr::eq(base, run)
        && let Some((running, waiting)) = worker_split(base)
    {
        push(&mut out, slowed_baseline(1, running, waiting));
    }
    if let Some(s) = speedup {
        push(
            &mut out,
            implausible_speedup(run.spec().workers, s, shared_gil_hold(run), None),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::{LoadSample, NamedCpu};
    use crate::store::fixtures::{Synth, interpreter};
    use crate::store::load::LoadTrack;

    fn load(other_cores: f64, cores: u32) -> Load {
        let mut t = LoadTrack::default();
        let r = |machine: f64, yes: f64| LoadSample {
            machine_busy_ns: (machine * 1e9) as u64,
            machine_all_ns: 0,
            cores_online: cores,
            cores_allowed: Some(cores),
            tree_cpu_ns: Some(0),
            own_cpu_ns: Some(0),
            own_threads: Vec::new(),
            others: vec![NamedCpu {
                name: "yes".into(),
                cpu_ns: (yes * 1e9) as u64,
                count: 1,
            }],
            processes_scanned: 1,
            cost_ns: 0,
        };
        t.eat(0, r(0.0, 0.0));
        t.eat(1_000_000_000, r(other_cores, other_cores));
        t.load().expect("two readings")
    }

    #[test]
    fn contended_counts_only_what_the_run_needed() {
        // 2 workers on 2 cores: 0.3 cores of others is 15 % of its need.
        let v = contended(&load(0.3, 2), 2.0).expect("contended");
        assert_eq!(v.kind, VerdictKind::Contended);
        assert!(v.reason.contains("0.30 of 2 cores"), "{}", v.reason);
        assert!(v.reason.contains("15 %"), "{}", v.reason);
        assert!(v.reason.contains("busiest: yes 0.30"), "{}", v.reason);
        // A little background is not contention.
        assert_eq!(contended(&load(0.15, 2), 2.0), None);
        // 1 worker on 2 cores: one busy core of others leaves it its own.
        assert_eq!(contended(&load(1.0, 2), 1.0), None);
        assert!(contended(&load(1.3, 2), 1.0).is_some());
    }

    #[test]
    fn slowed_baseline_needs_waiting_for_a_core() {
        let v = slowed_baseline(1, 0.62, 0.30).expect("slowed");
        assert_eq!(v.kind, VerdictKind::Implausible);
        assert!(v.reason.contains("got 0.62 cores"), "{}", v.reason);
        // Sleeping (I/O, a lock) is not being slowed by others.
        assert_eq!(slowed_baseline(1, 0.62, 0.01), None);
        assert_eq!(slowed_baseline(1, 0.97, 0.03), None);
        assert_eq!(slowed_baseline(2, 0.5, 0.5), None);
    }

    #[test]
    fn gil_bound_speedup_is_implausible() {
        let v = implausible_speedup(2, 2.02, Some(0.95), None).expect("implausible");
        assert!(v.reason.contains("2.02×"), "{}", v.reason);
        assert!(v.reason.contains("95 %"), "{}", v.reason);
        // Two gil workers holding 49 % each: the GIL was busy 98 %.
        assert_eq!(shared_gil_hold_of(Mode::Gil, 2, Some(0.49)), Some(0.98));
        assert_eq!(shared_gil_hold_of(Mode::Subinterp, 2, Some(0.49)), None);
        assert_eq!(implausible_speedup(2, 1.05, Some(0.95), None), None);
        // Not GIL-bound: 1.9× on 2 workers is fine.
        assert_eq!(implausible_speedup(2, 1.9, Some(0.5), None), None);
    }

    #[test]
    fn efficiency_above_100_beyond_the_spread_is_implausible() {
        let v = implausible_speedup(2, 2.14, None, None).expect("107 %");
        assert!(v.reason.contains("107 %"), "{}", v.reason);
        // Within the repeats' spread: not flagged (noisy says the rest).
        assert_eq!(implausible_speedup(2, 2.14, None, Some(0.2)), None);
        assert_eq!(implausible_speedup(2, 2.06, None, None), None);
        assert_eq!(implausible_speedup(1, 3.0, None, None), None);
    }

    #[test]
    fn noisy_needs_repeats() {
        assert!(noisy(3, 0.25).is_some());
        assert_eq!(noisy(3, 0.05), None);
        assert_eq!(noisy(1, 0.5), None);
    }

    #[test]
    fn a_synthetic_slowed_baseline_is_implausible_and_a_clean_one_is_not() {
        let interp = interpreter("3.13", "3.13.5", false);
        let mut slowed = Synth::new(Mode::Gil, 1);
        slowed.running = 0.62;
        let run = slowed.build(&interp);
        let v = run_verdicts(&run);
        assert_eq!(labels(&v), "implausible", "{v:?}");
        assert!(text(&v).contains("got 0.62 cores"), "{}", text(&v));
        let mut clean = Synth::new(Mode::Gil, 1);
        clean.running = 0.97;
        let clean = clean.build(&interp);
        assert_eq!(run_verdicts(&clean), Vec::new());
        // A 2-worker run compared against the slowed baseline inherits it.
        let two = Synth::new(Mode::Ft, 2).build(&interp);
        let v = comparison_verdicts(&two, Some(&run), Some(1.9));
        assert_eq!(labels(&v), "implausible");
    }
}
