//! From a sweep's run files to the numbers a report shows: one point per
//! (mode, interpreter, workers), medians over repeats, speedup against the
//! same mode's 1-worker point, and the single-thread overhead of the
//! free-threaded build. Everything is computed from the run files alone.

use crate::interp::Mode;
use crate::kit::stats::{median, quantile};
use crate::store::RunRecord;
use crate::store::metrics::{
    cpu_use, items_per_sec, memory_use, startup_secs, worker_gil, worker_times,
};
use crate::store::verdict::{self, Verdict, VerdictKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One (mode, interpreter, workers) cell of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub mode: Mode,
    pub interpreter: String,
    pub python_version: Option<String>,
    pub free_threaded: Option<bool>,
    pub workers: usize,
    /// Completed runs (their medians below) and failed ones.
    pub runs: usize,
    pub failed: usize,
    pub median_elapsed_secs: Option<f64>,
    pub median_items_per_sec: Option<f64>,
    /// Against this mode's 1-worker point on the same interpreter.
    pub speedup: Option<f64>,
    /// speedup / workers.
    pub efficiency: Option<f64>,
    /// Against the 1-worker `gil` point (default build), when there is one.
    pub speedup_vs_gil: Option<f64>,
    /// Mean cores busy with the run's threads (from samples), median over runs.
    pub median_thread_cores: Option<f64>,
    /// Peak RSS of the process tree minus its baseline before workers started.
    pub median_overhead_rss_bytes: Option<f64>,
    /// The same in PSS: pages shared between processes (libpython, the
    /// loaded modules of worker processes) split between them, where RSS
    /// counts them once per process. `None` where PSS was not read.
    #[serde(default)]
    pub median_overhead_pss_bytes: Option<f64>,
    pub median_peak_rss_bytes: Option<f64>,
    /// Mean over workers of their running / waiting / blocked fractions,
    /// median over runs.
    pub running: Option<f64>,
    pub waiting: Option<f64>,
    pub blocked: Option<f64>,
    /// Mean over workers of the share of time holding / waiting for a GIL
    /// (exact GIL reader, CPython 3.13+), median over runs; `None` when it
    /// could not read the GIL.
    #[serde(default)]
    pub gil_hold: Option<f64>,
    #[serde(default)]
    pub gil_wait: Option<f64>,
    /// Why `gil_hold` / `gil_wait` are missing (the first run's reason).
    #[serde(default)]
    pub gil_missing: Option<String>,
    /// The checksum all completed runs agreed on; `None` if they disagree
    /// (see `checksums`) or none completed.
    pub checksum: Option<String>,
    pub checksums: Vec<String>,
    /// Spread of the completed runs' times (absent in older sweeps).
    #[serde(default)]
    pub spread: Option<Spread>,
    /// The speedup this point's fastest and slowest runs give against the
    /// baseline's median: the error bar of `speedup`.
    #[serde(default)]
    pub speedup_range: Option<[f64; 2]>,
    /// Cores other processes used during its runs, median over runs.
    #[serde(default)]
    pub median_other_cores: Option<f64>,
    /// Cores gilscope itself used during its runs (window, samplers, load
    /// generator), median over runs: it competes for the same cores.
    #[serde(default)]
    pub median_own_cores: Option<f64>,
    /// The cores its runs could have had (their affinity, else online).
    #[serde(default)]
    pub cores: Option<u32>,
    /// Start-up before the start gate (interpreter, workers), median over
    /// runs: the work time leaves it out, the end-to-end time has it.
    #[serde(default)]
    pub median_startup_secs: Option<f64>,
    /// Runs marked contended.
    #[serde(default)]
    pub contended_runs: usize,
    /// Contended / implausible / noisy, and what could not be checked (1
    /// run, not measured), with the reason — computed once, by
    /// `store::verdict::point_verdicts` (see [`judge`]).
    #[serde(default)]
    pub verdicts: Vec<Verdict>,
    /// The workers' mean running / waiting share, median over runs (for
    /// the slowed-baseline rule).
    #[serde(default)]
    pub worker_running_waiting: Option<[f64; 2]>,
    /// Completed runs whose machine load could not be read, and the first
    /// one's reason.
    #[serde(default)]
    pub load_missing: Option<(usize, String)>,
}

/// How the values of a point's repeats spread.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub n: usize,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for no finite values.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(Self {
            n: v.len(),
            min: v[0],
            q1: quantile(&v, 0.25),
            median: median(v.clone())?,
            q3: quantile(&v, 0.75),
            max: v[v.len() - 1],
        })
    }

    /// (max − min) / median.
    pub fn relative(&self) -> f64 {
        if self.median > 0.0 {
            (self.max - self.min) / self.median
        } else {
            0.0
        }
    }

    /// "1.234 s ± 4.1 % (n = 3, min–max 1.20–1.26, IQR 1.22–1.25)" with
    /// `fmt` for each value; ± is half the min–max range as a share of the
    /// median (the "spread" of `noisy` and `--until-stable` is the whole
    /// range).
    pub fn text(&self, fmt: impl Fn(f64) -> String) -> String {
        if self.n < 2 {
            return format!("{} (n = 1, no spread)", fmt(self.median));
        }
        format!(
            "{} ± {:.1} % (n = {}, min–max {}–{}, IQR {}–{})",
            fmt(self.median),
            self.relative() * 50.0,
            self.n,
            fmt(self.min),
            fmt(self.max),
            fmt(self.q1),
            fmt(self.q3)
        )
    }
}

/// Single-thread cost of the free-threaded build: its 1-worker time against
/// the default build's 1-worker `gil` time, as a percentage (+40 % = 1.4×
/// slower).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleThreadOverhead {
    pub gil_secs: Option<f64>,
    pub ft_secs: Option<f64>,
    pub ft_gil_secs: Option<f64>,
    pub ft_overhead_pct: Option<f64>,
    pub ft_gil_overhead_pct: Option<f64>,
}

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub points: Vec<Point>,
    pub overhead: SingleThreadOverhead,
    /// True when every completed run of the sweep computed the same checksum.
    pub checksums_agree: bool,
    /// What the workload's items are ("pixels", "numbers"; "items" when
    /// no run said), for "… /s".
    #[serde(default = "items_unit")]
    pub unit: String,
}

fn items_unit() -> String {
    "items".into()
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Groups runs into points and derives speedups.
/// `runs` may be records or references to them.
pub fn aggregate<R: AsRef<RunRecord>>(runs: &[R]) -> Aggregate {
    let mut groups: BTreeMap<(Mode, String, usize), Vec<&RunRecord>> = BTreeMap::new();
    for run in runs.iter().map(AsRef::as_ref) {
        let key = (
            run.spec().mode,
            run.interpreter().name.clone(),
            run.spec().workers,
        );
        groups.entry(key).or_default().push(run);
    }
    let mut points: Vec<Point> = groups
        .into_iter()
        .map(|((mode, name, workers), runs)| point(mode, name, workers, &runs))
        .collect();
    // Speedups against the 1-worker point of the same mode and interpreter.
    let base_of = |points: &[Point], mode: Mode, interp: &str| {
        points
            .iter()
            .find(|p| p.mode == mode && p.interpreter == interp && p.workers == 1)
            .and_then(|p| p.median_elapsed_secs)
    };
    let gil_base = points
        .iter()
        // A script's runs have no worker count (0): its gil point is the base.
        .find(|p| p.mode == Mode::Gil && p.workers <= 1 && p.free_threaded != Some(true))
        .and_then(|p| p.median_elapsed_secs);
    let bases: Vec<Option<f64>> = points
        .iter()
        .map(|p| base_of(&points, p.mode, &p.interpreter))
        .collect();
    for (p, base) in points.iter_mut().zip(bases) {
        if let (Some(base), Some(t)) = (base, p.median_elapsed_secs) {
            p.speedup = Some(base / t);
            p.efficiency = Some(base / t / p.workers as f64);
            if let Some(sp) = p.spread
                && sp.n >= 2
                && sp.min > 0.0
            {
                p.speedup_range = Some([base / sp.max, base / sp.min]);
            }
        }
        if let (Some(base), Some(t)) = (gil_base, p.median_elapsed_secs) {
            p.speedup_vs_gil = Some(base / t);
        }
    }
    judge(&mut points);
    let one = |mode: Mode| {
        points
            .iter()
            .find(|p| p.mode == mode && p.workers <= 1)
            .and_then(|p| p.median_elapsed_secs)
    };
    let pct = |x: Option<f64>, base: Option<f64>| match (x, base) {
        (Some(x), Some(b)) if b > 0.0 => Some((x / b - 1.0) * 100.0),
        _ => None,
    };
    let overhead = SingleThreadOverhead {
        gil_secs: gil_base,
        ft_secs: one(Mode::Ft),
        ft_gil_secs: one(Mode::FtGil),
        ft_overhead_pct: pct(one(Mode::Ft), gil_base),
        ft_gil_overhead_pct: pct(one(Mode::FtGil), gil_base),
    };
    let mut all: Vec<&str> = runs
        .iter()
        .filter_map(|r| r.as_ref().result().map(|x| x.checksum.as_str()))
        .collect();
    all.sort_unstable();
    all.dedup();
    let unit = runs
        .iter()
        .find(|r| r.as_ref().hello().is_some_and(|h| h.item_unit.is_some()))
        .map_or_else(items_unit, |r| r.as_ref().unit().to_string());
    Aggregate {
        checksums_agree: all.len() <= 1,
        points,
        overhead,
        unit,
    }
}

/// Each point's verdicts, from [`verdict::point_verdicts`] (the one place
/// a point is judged) and the contention its runs earned.
pub fn judge(points: &mut [Point]) {
    let facts: Vec<verdict::PointFacts> = points.iter().map(|p| facts(p, points)).collect();
    for (p, f) in points.iter_mut().zip(facts) {
        for v in verdict::point_verdicts(&f) {
            verdict::push(&mut p.verdicts, Some(v));
        }
    }
}

/// What the rules need to know of `p`, its baseline found among `points`.
fn facts(p: &Point, points: &[Point]) -> verdict::PointFacts {
    let rel = |s: Option<Spread>| s.filter(|s| s.n >= 2).map(|s| s.relative());
    let base = points
        .iter()
        .find(|b| b.mode == p.mode && b.interpreter == p.interpreter && b.workers == 1);
    verdict::PointFacts {
        mode: p.mode,
        workers: p.workers,
        runs: p.runs,
        load_missing: p.load_missing.clone(),
        spread: rel(p.spread),
        speedup: p.speedup,
        cores: p.cores.map(|cores| verdict::Cores {
            cores,
            others: p.median_other_cores.unwrap_or(0.0),
            own: p.median_own_cores.unwrap_or(0.0),
        }),
        baseline: base.map(|b| verdict::BaselineFacts {
            runs: b.runs,
            spread: rel(b.spread),
            gil_hold: b.gil_hold,
            gil_missing: b.gil_missing.clone(),
            running_waiting: b.worker_running_waiting,
        }),
    }
}

/// Whether a chart of `points` shows the memory overhead in PSS: when
/// every point that has an overhead has it in PSS too. RSS counts pages
/// shared between worker processes (libpython, loaded modules) once per
/// process, which inflates `process` mode against subinterpreters.
pub fn overhead_in_pss(points: &[&Point]) -> bool {
    let with: Vec<_> = points
        .iter()
        .filter(|p| p.median_overhead_rss_bytes.is_some() || p.median_overhead_pss_bytes.is_some())
        .collect();
    !with.is_empty() && with.iter().all(|p| p.median_overhead_pss_bytes.is_some())
}

impl Point {
    /// The memory overhead in PSS or in RSS (see [`overhead_in_pss`]).
    pub fn overhead_bytes(&self, pss: bool) -> Option<f64> {
        if pss {
            self.median_overhead_pss_bytes
        } else {
            self.median_overhead_rss_bytes
        }
    }
}

fn point(mode: Mode, interpreter: String, workers: usize, runs: &[&RunRecord]) -> Point {
    let done: Vec<&RunRecord> = runs
        .iter()
        .copied()
        .filter(|r| r.result().is_some())
        .collect();
    let info = runs.first().and_then(|r| r.interpreter().info());
    let mut checksums: Vec<String> = done
        .iter()
        .filter_map(|r| r.result().map(|x| x.checksum.clone()))
        .collect();
    checksums.sort();
    checksums.dedup();
    let splits: Vec<(f64, f64, f64)> = done
        .iter()
        .filter_map(|r| {
            let s: Vec<_> = worker_times(r)
                .into_iter()
                .filter_map(|w| w.split)
                .collect();
            Some((
                mean(&s.iter().map(|x| x.running).collect::<Vec<_>>())?,
                mean(&s.iter().map(|x| x.waiting).collect::<Vec<_>>())?,
                mean(&s.iter().map(|x| x.blocked).collect::<Vec<_>>())?,
            ))
        })
        .collect();
    let gil: Vec<(Option<f64>, Option<f64>)> = done
        .iter()
        .map(|r| {
            let w = worker_gil(r);
            (
                mean(&w.iter().filter_map(|x| x.hold).collect::<Vec<_>>()),
                mean(&w.iter().filter_map(|x| x.wait).collect::<Vec<_>>()),
            )
        })
        .collect();
    let times: Vec<f64> = done
        .iter()
        .filter_map(|r| r.result().map(|x| x.elapsed_s))
        .collect();
    let spread = Spread::of(&times);
    let load_readings: Vec<Result<crate::store::Load, String>> =
        done.iter().map(|r| r.load_track().load()).collect();
    let loads: Vec<f64> = load_readings
        .iter()
        .filter_map(|l| l.as_ref().ok()?.other_cores())
        .collect();
    let own: Vec<f64> = load_readings
        .iter()
        .filter_map(|l| l.as_ref().ok()?.own_cores())
        .collect();
    let cores = load_readings
        .iter()
        .filter_map(|l| l.as_ref().ok().map(|l| l.cores))
        .min();
    let unread: Vec<&String> = load_readings
        .iter()
        .filter_map(|l| l.as_ref().err())
        .collect();
    let load_missing = unread.first().map(|why| (unread.len(), (*why).clone()));
    let run_verdicts: Vec<Vec<Verdict>> = done.iter().map(|r| verdict::run_verdicts(r)).collect();
    let contended: Vec<&Verdict> = run_verdicts
        .iter()
        .filter_map(|v| v.iter().find(|v| v.kind == VerdictKind::Contended))
        .collect();
    let mut verdicts = Vec::new();
    if let Some(first) = contended.first() {
        verdicts.push(Verdict {
            kind: VerdictKind::Contended,
            reason: if done.len() == 1 {
                first.reason.clone()
            } else {
                format!(
                    "{} of {} runs; first: {}",
                    contended.len(),
                    done.len(),
                    first.reason
                )
            },
        });
    }
    let running_waiting = (!splits.is_empty()).then(|| {
        [
            median(splits.iter().map(|s| s.0).collect()).unwrap_or(f64::NAN),
            median(splits.iter().map(|s| s.1).collect()).unwrap_or(f64::NAN),
        ]
    });
    Point {
        spread,
        speedup_range: None,
        median_other_cores: median(loads),
        median_own_cores: median(own),
        cores,
        median_startup_secs: median(done.iter().filter_map(|r| startup_secs(r)).collect()),
        load_missing,
        contended_runs: contended.len(),
        verdicts,
        worker_running_waiting: running_waiting,
        mode,
        interpreter,
        python_version: info.map(|i| i.version.clone()),
        free_threaded: info.map(|i| i.free_threaded),
        workers,
        runs: done.len(),
        failed: runs.len() - done.len(),
        median_elapsed_secs: median(times),
        median_items_per_sec: median(done.iter().filter_map(|r| items_per_sec(r)).collect()),
        speedup: None,
        efficiency: None,
        speedup_vs_gil: None,
        median_thread_cores: median(
            done.iter()
                .filter_map(|r| cpu_use(r).thread_cores)
                .collect(),
        ),
        median_overhead_rss_bytes: median(
            done.iter()
                .filter_map(|r| memory_use(r).overhead_rss_bytes.map(|b| b as f64))
                .collect(),
        ),
        median_overhead_pss_bytes: median(
            done.iter()
                .filter_map(|r| memory_use(r).overhead_pss_bytes.map(|b| b as f64))
                .collect(),
        ),
        median_peak_rss_bytes: median(
            done.iter()
                .filter_map(|r| memory_use(r).peaks.rss_bytes.map(|b| b as f64))
                .collect(),
        ),
        running: median(splits.iter().map(|s| s.0).collect()),
        waiting: median(splits.iter().map(|s| s.1).collect()),
        blocked: median(splits.iter().map(|s| s.2).collect()),
        gil_hold: median(gil.iter().filter_map(|g| g.0).collect()),
        gil_wait: median(gil.iter().filter_map(|g| g.1).collect()),
        gil_missing: done.iter().find_map(|r| r.gil().missing_reason()),
        checksum: (checksums.len() == 1).then(|| checksums[0].clone()),
        checksums,
    }
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn spreads() {
        let s = Spread::of(&[1.0, 1.2, 1.1, f64::NAN]).expect("values");
        assert_eq!((s.n, s.min, s.median, s.max), (3, 1.0, 1.1, 1.2));
        assert!((s.q1 - 1.05).abs() < 1e-9 && (s.q3 - 1.15).abs() < 1e-9);
        assert!((s.relative() - 0.2 / 1.1).abs() < 1e-9);
        assert_eq!(Spread::of(&[]), None);
        assert!(
            s.text(|v| format!("{v:.2} s"))
                .starts_with("1.10 s ± 9.1 % (n = 3")
        );
    }
}
