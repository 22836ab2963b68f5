//! Comparing runs: speedup and parallel efficiency against a baseline —
//! the 1-worker run of the same workload and params on the same
//! interpreter, or on the GIL build.

use super::metrics::items_per_sec;
use super::record::RunRecord;
use crate::interp::{Build, Mode};
use crate::run::RunKind;

/// Which baseline to compare a run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaselineKind {
    /// 1 worker, same interpreter (same mode preferred).
    SameInterpreter,
    /// 1 worker, mode `gil` on a default (GIL) build (same Python version
    /// preferred): what the code would do without any of this.
    GilBuild,
}

/// A run against one baseline.
#[derive(Debug, Clone, Copy)]
pub struct Versus<'a> {
    /// The baseline run itself (never its position in a list).
    pub baseline: &'a RunRecord,
    pub speedup: Option<f64>,
    pub efficiency: Option<f64>,
    /// Whether both runs computed the same result (`None` if either has none).
    pub checksum_matches: Option<bool>,
}

/// A run against both baselines.
///
/// A script run has no worker count: both baselines are its script's run
/// (same file, same arguments) on a default build in mode `gil` (same
/// Python version preferred), so `speedup` is that run's wall time over
/// this one's and `efficiency` is `None`.
#[derive(Debug, Clone, Copy)]
pub struct Comparison<'a> {
    pub same_interpreter: Option<Versus<'a>>,
    pub gil_build: Option<Versus<'a>>,
}

/// How many times faster `run` did the work than `baseline`: the ratio of
/// their elapsed times when they did the same number of items, else of
/// their items/s. `None` unless both completed with a result.
pub fn speedup(run: &RunRecord, baseline: &RunRecord) -> Option<f64> {
    let (r, b) = (run.result()?, baseline.result()?);
    if r.items == b.items {
        return (r.elapsed_s > 0.0 && b.elapsed_s > 0.0).then(|| b.elapsed_s / r.elapsed_s);
    }
    let (r, b) = (items_per_sec(run)?, items_per_sec(baseline)?);
    (b > 0.0).then(|| r / b)
}

/// Speedup per added worker: speedup / (workers / baseline's workers).
/// 1.0 is perfect scaling.
pub fn parallel_efficiency(run: &RunRecord, baseline: &RunRecord) -> Option<f64> {
    let ratio = run.spec().workers as f64 / baseline.spec().workers.max(1) as f64;
    speedup(run, baseline)
        .filter(|_| ratio > 0.0)
        .map(|s| s / ratio)
}

/// Whether two runs computed the same checksum.
pub fn checksum_matches(a: &RunRecord, b: &RunRecord) -> Option<bool> {
    Some(a.result()?.checksum == b.result()?.checksum)
}

/// Parameters that only say where to write a result (`out=…`): two runs
/// that differ only in them did the same work.
pub const OUTPUT_ONLY_PARAMS: [&str; 3] = ["out", "output", "out_dir"];

/// Harness parameters that change the experiment, not the workload's
/// work: the harness takes them out before the workload sees its
/// parameters (so its `hello` does not list them), yet a run that imports
/// a GIL-needing module mid-way, or runs a faulty native kernel, is not a
/// repeat of, nor a baseline for, a run that does not.
pub const EXPERIMENT_PARAMS: [&str; 2] = [crate::native::IMPORT_PARAM, crate::native::FAULT_PARAM];

/// Same workload and the same parameters (as resolved by the harness when
/// both runs reported them, else as given), output-only ones aside.
///
/// Scripts: the same file (resolved against each run's working
/// directory) with the same arguments in the same order.
pub fn same_workload(a: &RunRecord, b: &RunRecord) -> bool {
    match (a.kind(), b.kind()) {
        (RunKind::Workload, RunKind::Workload) => {}
        (RunKind::Script { args: x, .. }, RunKind::Script { args: y, .. }) => {
            return x == y && a.spec().script_path() == b.spec().script_path();
        }
        _ => return false,
    }
    if a.spec().workload != b.spec().workload {
        return false;
    }
    let experiment = |r: &RunRecord| {
        let mut p: Vec<_> = r
            .spec()
            .params
            .iter()
            .filter(|(k, v)| crate::native::experiment_requested(k, v))
            .cloned()
            .collect();
        p.sort();
        p
    };
    if experiment(a) != experiment(b) {
        return false;
    }
    // (The experiment's own parameters were compared just above.)
    let work = |k: &str| !OUTPUT_ONLY_PARAMS.contains(&k) && !EXPERIMENT_PARAMS.contains(&k);
    let resolved = |r: &RunRecord| {
        r.hello()
            .map(|h| {
                h.params
                    .iter()
                    .filter(|(k, _)| work(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Vec<_>>()
            })
            .filter(|p| !p.is_empty())
    };
    if let (Some(pa), Some(pb)) = (resolved(a), resolved(b)) {
        return pa == pb;
    }
    let given = |r: &RunRecord| {
        let mut p: Vec<_> = r
            .spec()
            .params
            .iter()
            .filter(|(k, _)| work(k))
            .cloned()
            .collect();
        p.sort();
        p
    };
    given(a) == given(b)
}

/// Same interpreter binary and version.
pub fn same_interpreter(a: &RunRecord, b: &RunRecord) -> bool {
    let version = |r: &RunRecord| r.interpreter().info().map(|i| i.version_string.clone());
    a.interpreter().path == b.interpreter().path && version(a) == version(b)
}

/// The baseline of kind `kind` for `run` among `runs` (which may include
/// `run` itself): `run` itself when it qualifies, else, when several fit
/// equally (repeats), the one with the median throughput.
pub fn find_baseline<'a, R: AsRef<RunRecord>>(
    run: &RunRecord,
    runs: &'a [R],
    kind: BaselineKind,
) -> Option<&'a RunRecord> {
    baseline_index(run, runs, kind).and_then(|i| runs.get(i).map(AsRef::as_ref))
}

/// [`speedup`] and [`parallel_efficiency`] against both baselines.
/// `runs` may be records or references to them.
pub fn compare<'a, R: AsRef<RunRecord>>(run: &RunRecord, runs: &'a [R]) -> Comparison<'a> {
    let versus = |kind| {
        let baseline = find_baseline(run, runs, kind)?;
        Some(Versus {
            baseline,
            speedup: speedup(run, baseline),
            efficiency: parallel_efficiency(run, baseline),
            checksum_matches: checksum_matches(run, baseline),
        })
    };
    Comparison {
        same_interpreter: versus(BaselineKind::SameInterpreter),
        gil_build: versus(BaselineKind::GilBuild),
    }
}

fn baseline_index<R: AsRef<RunRecord>>(
    run: &RunRecord,
    runs: &[R],
    kind: BaselineKind,
) -> Option<usize> {
    let script = run.spec().is_script();
    // A script's baseline is always its run on the default build.
    let kind = if script { BaselineKind::GilBuild } else { kind };
    let version = |r: &RunRecord| r.interpreter().info().map(|i| i.version_tuple());
    let build = |r: &RunRecord| r.interpreter().info().map(|i| i.build());
    let rank = |c: &RunRecord| -> Option<u8> {
        match kind {
            BaselineKind::SameInterpreter => {
                if !same_interpreter(run, c) {
                    return None;
                }
                let plain = match build(c) {
                    Some(Build::FreeThreaded) => Mode::Ft,
                    _ => Mode::Gil,
                };
                Some(if c.spec().mode == run.spec().mode {
                    0
                } else if c.spec().mode == plain {
                    1
                } else {
                    2
                })
            }
            BaselineKind::GilBuild => {
                if build(c) != Some(Build::Default) || c.spec().mode != Mode::Gil {
                    return None;
                }
                Some(if version(c) == version(run) { 0 } else { 1 })
            }
        }
    };
    // Runs of a script are ranked by 1 / wall time, workloads by items/s.
    let rate = |c: &RunRecord| -> Option<f64> {
        if script {
            c.result()
                .map(|r| r.elapsed_s)
                .filter(|&e| e > 0.0)
                .map(|e| 1.0 / e)
        } else {
            items_per_sec(c)
        }
    };
    let ranked: Vec<(u8, usize, f64)> = runs
        .iter()
        .map(AsRef::as_ref)
        .enumerate()
        .filter(|(_, c)| {
            (script || c.spec().workers == 1)
                && c.result().is_some()
                && rate(c).is_some()
                && same_workload(run, c)
        })
        .filter_map(|(i, c)| Some((rank(c)?, i, rate(c)?)))
        .collect();
    let best = ranked.iter().map(|&(r, _, _)| r).min()?;
    let mut group: Vec<(usize, f64)> = ranked
        .iter()
        .filter(|&&(r, _, _)| r == best)
        .map(|&(_, i, rate)| (i, rate))
        .collect();
    // A qualifying 1-worker run is its own baseline (1.00×, not a ratio to
    // one of its repeats).
    if let Some(&(i, _)) = group
        .iter()
        .find(|&&(i, _)| runs.get(i).is_some_and(|c| std::ptr::eq(c.as_ref(), run)))
    {
        return Some(i);
    }
    // Among repeats, the median run (by throughput; the earlier of the two
    // middle ones), so no single fast or slow repeat sets every speedup.
    group.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    group.get((group.len() - 1) / 2).map(|&(i, _)| i)
}

#[cfg(test)]
mod tests;
