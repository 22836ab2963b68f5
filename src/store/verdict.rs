//! Verdicts: a short label with its reason in words wherever a number may
//! have been made up by the machine rather than measured — *contended*,
//! *implausible*, *noisy* — and, apart from those flags, what could not be
//! checked: *1 run* (the spread is unknown) and *not measured* (a check
//! had nothing to check with). "No label" is said only when every check
//! was made and passed. A flagged run or point is still shown (dimmed and
//! marked), never dropped.
//!
//! The rules come from physics, not from thresholds on the result:
//!
//! * **cores** — a run cannot be more than `u` times faster than its
//!   1-worker run, where `u` is the cores it could use: min(workers,
//!   cores) less what other processes *and gilscope itself* took
//!   ([`usable_cores`]);
//! * **one GIL** — workers that share one GIL cannot beat 1/h₁ (nor N),
//!   where h₁ is the share of time the 1-worker run's worker held the GIL:
//!   the GIL-held part of the work runs one thread at a time
//!   ([`beyond_gil`]);
//! * a slowed 1-worker run inflates every speedup against it
//!   ([`slowed_baseline`]); other processes and gilscope's own CPU on the
//!   cores a run needed make it *contended* ([`contended`]).
//!
//! [`point_verdicts`] is the one place a point (a mode × interpreter ×
//! workers cell, its repeats) is judged; every surface — the CLI, report,
//! compare table, race, stage and demo — reads what it computed.

use super::load::Load;
use super::metrics::{worker_gil, worker_times};
use super::record::RunRecord;
use crate::interp::Mode;
use serde::{Deserialize, Serialize};

/// *contended*: other processes and gilscope used more than the cores the
/// run left spare plus this share of the cores it needed.
pub const CONTENDED_SHARE: f64 = 0.10;
/// A speedup beyond a physical bound by more than this (or by more than
/// the point's or its baseline's spread, if wider) is *implausible*.
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
    /// Not a flag: the point rests on one run, so its spread is unknown.
    OneRun,
    /// Not a flag: a check could not be made (the reason says which).
    NotMeasured,
    /// A service run whose load generator fell behind its schedule.
    GeneratorBound,
}

impl VerdictKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Contended => "contended",
            Self::Implausible => "implausible",
            Self::Noisy => "noisy",
            Self::OneRun => "1 run",
            Self::NotMeasured => "not measured",
            Self::GeneratorBound => "generator-bound",
        }
    }

    /// A text mark that does not rely on colour.
    pub fn mark(self) -> &'static str {
        match self {
            Self::Contended => "⚠ contended",
            Self::Implausible => "✗ implausible",
            Self::Noisy => "≈ noisy",
            Self::OneRun => "① 1 run",
            Self::NotMeasured => "? not measured",
            Self::GeneratorBound => "⏱ generator-bound",
        }
    }

    /// Whether it says the number is suspect (contended, implausible,
    /// noisy), rather than that something could not be checked.
    pub fn is_flag(self) -> bool {
        matches!(
            self,
            Self::Contended | Self::Implausible | Self::Noisy | Self::GeneratorBound
        )
    }
}

/// One label and why it applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub reason: String,
}

impl Verdict {
    pub fn new(kind: VerdictKind, reason: String) -> Self {
        Self { kind, reason }
    }
}

/// "contended, noisy" (empty for none).
pub fn labels(verdicts: &[Verdict]) -> String {
    kinds(verdicts)
        .iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The kinds present, sorted, once each.
pub fn kinds(verdicts: &[Verdict]) -> Vec<VerdictKind> {
    let mut kinds: Vec<VerdictKind> = verdicts.iter().map(|v| v.kind).collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// "✗ implausible, ① 1 run" (empty for none).
pub fn marks(verdicts: &[Verdict]) -> String {
    kinds(verdicts)
        .iter()
        .map(|k| k.mark())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether any verdict is a flag (see [`VerdictKind::is_flag`]).
pub fn flagged(verdicts: &[Verdict]) -> bool {
    verdicts.iter().any(|v| v.kind.is_flag())
}

/// The state in a few words: the labels when there are any, else "no
/// label" — said only when every check was made and passed.
pub fn status(verdicts: &[Verdict]) -> String {
    if verdicts.is_empty() {
        "no label (every check made and passed)".into()
    } else {
        labels(verdicts)
    }
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

/// The cores a run of `workers` workers needs at most.
pub fn needed_cores(workers: usize, cores: u32) -> f64 {
    (workers.max(1) as f64).min(f64::from(cores.max(1)))
}

/// The cores a run of `workers` workers could use on `cores` cores while
/// others (other processes and gilscope itself) took `taken` cores:
/// min(workers, cores − taken), never below a small floor.
pub fn usable_cores(workers: usize, cores: u32, taken: f64) -> f64 {
    let free = (f64::from(cores.max(1)) - taken.max(0.0)).max(0.05);
    (workers.max(1) as f64).min(free)
}

/// *contended*: other processes and gilscope itself used more than the
/// spare cores plus [`CONTENDED_SHARE`] of the cores the run needed.
/// gilscope's own CPU (its window, samplers, load generator) competes for
/// the same cores: it counts, and is named apart.
pub fn contended(load: &Load, needed: f64) -> Option<Verdict> {
    let others = load.other_cores()?;
    let own = load.own_cores().unwrap_or(0.0);
    let taken = others + own;
    let spare = (f64::from(load.cores) - needed).max(0.0);
    let allowed = spare + CONTENDED_SHARE * needed;
    (taken > allowed).then(|| {
        Verdict::new(
            VerdictKind::Contended,
            format!(
                "other processes used {others:.2} and gilscope itself {own:.2} of {} cores ({:.0} % of the {needed:.0} this run needed; busiest: {})",
                load.cores,
                (taken - spare).max(0.0) / needed * 100.0,
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

/// What the cores allowed a run: `cores` it could have had, `others` and
/// `own` the cores other processes and gilscope took meanwhile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cores {
    pub cores: u32,
    pub others: f64,
    pub own: f64,
}

/// *implausible*: `speedup` above the cores `workers` workers could use
/// (by more than `slack`): "2.13× on 2 cores".
pub fn beyond_cores(workers: usize, speedup: f64, c: Cores, slack: f64) -> Option<Verdict> {
    if workers < 2 || !speedup.is_finite() {
        return None;
    }
    let taken = c.others + c.own;
    let cap = usable_cores(workers, c.cores, taken);
    (speedup > cap * (1.0 + slack)).then(|| {
        let less = if taken >= 0.005 {
            format!(
                ", less {:.2} taken by other processes and {:.2} by gilscope",
                c.others, c.own
            )
        } else {
            String::new()
        };
        Verdict::new(
            VerdictKind::Implausible,
            format!(
                "{speedup:.2}× on {} cores: {workers} workers could use at most {cap:.2} cores (min(workers, cores){less}), so the 1-worker run must have been slowed or the work differed",
                c.cores
            ),
        )
    })
}

/// The most a run of `workers` workers sharing one GIL can gain over its
/// 1-worker run whose worker held the GIL `h1` of its time: min(N, 1/h₁)
/// — the GIL-held part runs one thread at a time, the rest overlaps it.
pub fn gil_bound(workers: usize, h1: f64) -> f64 {
    (workers.max(1) as f64).min(1.0 / h1.max(1e-6))
}

/// *implausible*: workers sharing one GIL faster than [`gil_bound`] (by
/// more than `slack`).
pub fn beyond_gil(workers: usize, speedup: f64, h1: f64, slack: f64) -> Option<Verdict> {
    if workers < 2 || !speedup.is_finite() {
        return None;
    }
    let bound = gil_bound(workers, h1);
    (speedup > bound * (1.0 + slack)).then(|| {
        Verdict::new(
            VerdictKind::Implausible,
            format!(
                "{speedup:.2}× with one shared GIL: its 1-worker run held the GIL {:.0} % of the time, and the GIL-held part runs one thread at a time, so {workers} workers cannot beat min({workers}, 1/{h1:.2}) = {bound:.2}×",
                h1 * 100.0
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

/// *1 run*: a point of one run (or against a 1-run baseline) has no
/// known spread.
pub fn one_run(runs: usize, baseline_runs: Option<usize>) -> Option<Verdict> {
    if runs == 1 {
        Some(Verdict::new(
            VerdictKind::OneRun,
            "1 run: spread unknown (single runs here can move ±20 %; repeat it, e.g. --repeat 3)"
                .into(),
        ))
    } else if baseline_runs == Some(1) {
        Some(Verdict::new(
            VerdictKind::OneRun,
            "its 1-worker baseline is 1 run: the speedup's spread is unknown (repeat it, e.g. --repeat 3)"
                .into(),
        ))
    } else {
        None
    }
}

/// *not measured*: a check that could not be made, and why.
pub fn not_measured(what: &str, why: &str) -> Verdict {
    Verdict::new(VerdictKind::NotMeasured, format!("{what}: {why}"))
}

/// What the rules need to know of a point's 1-worker baseline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BaselineFacts {
    /// Its completed runs.
    pub runs: usize,
    /// Its times' relative spread (max − min over median; `None` below 2 runs).
    pub spread: Option<f64>,
    /// Share of time its worker held the GIL (exact reader), median over runs.
    pub gil_hold: Option<f64>,
    /// Why `gil_hold` is missing.
    pub gil_missing: Option<String>,
    /// Its worker's running and waiting-for-a-core shares.
    pub running_waiting: Option<[f64; 2]>,
}

/// What the rules need to know of a point: its repeats, its speedup
/// against its baseline, and the machine while it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct PointFacts {
    pub mode: Mode,
    pub workers: usize,
    /// Completed runs.
    pub runs: usize,
    /// Runs whose load could not be read, and the first one's reason.
    pub load_missing: Option<(usize, String)>,
    /// Relative spread of its times (`None` below 2 runs).
    pub spread: Option<f64>,
    /// Median speedup against the baseline.
    pub speedup: Option<f64>,
    /// The cores its runs could have had, and what others and gilscope
    /// took meanwhile (medians over runs).
    pub cores: Option<Cores>,
    /// Its 1-worker baseline (the point itself for 1 worker).
    pub baseline: Option<BaselineFacts>,
}

/// The verdicts of one point, apart from contention (which the runs earn
/// one by one): its spread, its baseline, and its speedup against the
/// physical bounds. The one place a point is judged.
pub fn point_verdicts(p: &PointFacts) -> Vec<Verdict> {
    let mut out = Vec::new();
    if let Some(spread) = p.spread {
        push(&mut out, noisy(p.runs, spread));
    }
    let base = p.baseline.as_ref();
    push(&mut out, one_run(p.runs, base.map(|b| b.runs)));
    if let Some((n, why)) = &p.load_missing {
        out.push(not_measured(
            "what else ran",
            &if p.runs > 1 {
                format!("{n} of {} runs: {why}", p.runs)
            } else {
                why.clone()
            },
        ));
    }
    if let Some([running, waiting]) = base.and_then(|b| b.running_waiting) {
        push(&mut out, slowed_baseline(1, running, waiting));
    }
    let (Some(speedup), Some(base)) = (p.speedup, base) else {
        return out;
    };
    if p.workers < 2 {
        return out;
    }
    let slack = [Some(EFFICIENCY_SLACK), p.spread, base.spread]
        .into_iter()
        .flatten()
        .fold(0.0, f64::max);
    match p.cores {
        Some(c) => push(&mut out, beyond_cores(p.workers, speedup, c, slack)),
        None => out.push(not_measured(
            "the cores the run could use",
            "no machine load readings",
        )),
    }
    if matches!(p.mode, Mode::Gil | Mode::FtGil) {
        match base.gil_hold {
            Some(h1) => push(&mut out, beyond_gil(p.workers, speedup, h1, slack)),
            None => out.push(not_measured(
                "the GIL bound (the 1-worker run's GIL share)",
                base.gil_missing.as_deref().unwrap_or("not read"),
            )),
        }
    }
    out
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

/// The verdicts one run earns on its own: *contended* (or *not measured*
/// when what else ran could not be read), and *implausible* as a baseline
/// when it has one worker and was slowed.
pub fn run_verdicts(run: &RunRecord) -> Vec<Verdict> {
    let mut out = Vec::new();
    match run.load_track().load() {
        Ok(load) => {
            // A script or an attach has no workers: its busy threads are.
            let workers = if run.spec().is_workload() {
                run.spec().workers
            } else {
                crate::store::metrics::busy_thread_count(run)
            };
            let needed = needed_cores(workers, load.cores);
            push(&mut out, contended(&load, needed));
        }
        Err(why) => {
            if run.is_finished() {
                out.push(not_measured("what else ran (contention)", &why));
            }
        }
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

#[cfg(test)]
mod tests;
