//! A service sweep's run files as points of latency against load, per
//! (mode, interpreter, workers): the median over repeats of each offered
//! rate, the *knee* (the highest offered rate whose p99 stays under the
//! target, with every request answered correctly) and the throughput
//! ratio against the `gil` thread pool.

use super::aggregate::Spread;
use crate::interp::Mode;
use crate::store::RunRecord;
use serde::{Deserialize, Serialize};

/// One offered rate of one (mode, interpreter, workers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadPoint {
    /// The asked offered rate (requests/s).
    pub rps: f64,
    pub runs: usize,
    /// Medians over the runs that have a load report.
    pub offered_rps: f64,
    pub achieved_rps: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// The repeats' p99 spread (min–max), when several.
    pub p99_range_ms: Option<[f64; 2]>,
    /// Failed requests, all runs (errors, timeouts, unfinished).
    pub failures: u64,
    /// Every run answered every request correctly.
    pub all_correct: bool,
    /// The answers' checksum when all runs agree on it.
    pub checksum: Option<String>,
    /// The load generator's own CPU (median, in cores): it shares the
    /// machine with the server.
    #[serde(default)]
    pub loadgen_cores: Option<f64>,
}

/// The points of one (mode, interpreter, workers), by rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadCurve {
    pub mode: Mode,
    pub interpreter: String,
    pub workers: usize,
    pub points: Vec<LoadPoint>,
    /// The highest offered rate whose median p99 is under the target and
    /// whose requests were all answered correctly, with every lower rate
    /// also under it; `None` when even the lowest is not.
    pub knee_rps: Option<f64>,
    /// The most requests/s it answered correctly at any rate.
    pub max_achieved_rps: f64,
}

/// A service sweep, aggregated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceAggregate {
    pub p99_target_ms: f64,
    pub curves: Vec<LoadCurve>,
    /// Every run's checksum of answers is the same one.
    pub checksums_agree: bool,
}

/// The target a sweep uses when none is given.
pub const DEFAULT_P99_TARGET_MS: f64 = 50.0;

impl ServiceAggregate {
    /// The `gil` curve with the same worker count as `curve` (the thread
    /// pool the article compares against).
    pub fn gil_baseline(&self, curve: &LoadCurve) -> Option<&LoadCurve> {
        self.curves
            .iter()
            .find(|c| c.mode == Mode::Gil && c.workers == curve.workers)
    }

    /// `curve`'s max requests/s over the `gil` pool's.
    pub fn throughput_ratio(&self, curve: &LoadCurve) -> Option<f64> {
        let base = self.gil_baseline(curve)?;
        (base.max_achieved_rps > 0.0).then(|| curve.max_achieved_rps / base.max_achieved_rps)
    }

    /// `curve`'s knee over the `gil` pool's.
    pub fn knee_ratio(&self, curve: &LoadCurve) -> Option<f64> {
        let base = self.gil_baseline(curve)?.knee_rps?;
        Some(curve.knee_rps? / base)
    }
}

fn median(values: &[f64]) -> Option<f64> {
    Spread::of(values).map(|s| s.median)
}

/// Aggregates the runs of a service sweep (`runs` without a load report
/// are left out).
pub fn aggregate_service<R: AsRef<RunRecord>>(runs: &[R], p99_target_ms: f64) -> ServiceAggregate {
    type Key = (Mode, String, usize, u64);
    let mut groups: Vec<(Key, Vec<&RunRecord>)> = Vec::new();
    for run in runs {
        let run = run.as_ref();
        let Some(s) = run.service().summary() else {
            continue;
        };
        let rps = match s.spec.arrival {
            crate::loadgen::Arrival::Open { rps } => rps,
            crate::loadgen::Arrival::Closed { .. } => continue,
        };
        let key = (
            run.spec().mode,
            run.interpreter().name.clone(),
            run.spec().workers,
            rps.to_bits(),
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(run),
            None => groups.push((key, vec![run])),
        }
    }
    let mut curves: Vec<LoadCurve> = Vec::new();
    let mut checksums = Vec::new();
    for ((mode, interpreter, workers, rps_bits), runs) in groups {
        let sums: Vec<_> = runs.iter().filter_map(|r| r.service().summary()).collect();
        let col = |f: &dyn Fn(&crate::store::ServiceSummary) -> Option<f64>| -> Vec<f64> {
            sums.iter().filter_map(f).collect()
        };
        let p99s = col(&|s| s.latency.p99_ms);
        let p99_spread = Spread::of(&p99s);
        let sums_of_answers: Vec<Option<&String>> =
            sums.iter().map(|s| s.checksum.as_ref()).collect();
        checksums.extend(sums_of_answers.iter().flatten().map(|s| s.to_string()));
        let checksum = match sums_of_answers.first() {
            Some(Some(first)) if sums_of_answers.iter().all(|c| *c == Some(*first)) => {
                Some((*first).clone())
            }
            _ => None,
        };
        let point = LoadPoint {
            rps: f64::from_bits(rps_bits),
            runs: sums.len(),
            offered_rps: median(&col(&|s| Some(s.offered_rps))).unwrap_or(0.0),
            achieved_rps: median(&col(&|s| Some(s.achieved_rps))).unwrap_or(0.0),
            p50_ms: median(&col(&|s| s.latency.p50_ms)),
            p95_ms: median(&col(&|s| s.latency.p95_ms)),
            p99_ms: p99_spread.map(|s| s.median),
            p99_range_ms: p99_spread.filter(|s| s.n > 1).map(|s| [s.min, s.max]),
            failures: sums.iter().map(|s| s.failures.total()).sum(),
            all_correct: sums.iter().all(|s| s.all_correct),
            checksum,
            loadgen_cores: median(&col(&|s| Some(s.loadgen_cores))),
        };
        match curves
            .iter_mut()
            .find(|c| c.mode == mode && c.interpreter == interpreter && c.workers == workers)
        {
            Some(c) => c.points.push(point),
            None => curves.push(LoadCurve {
                mode,
                interpreter,
                workers,
                points: vec![point],
                knee_rps: None,
                max_achieved_rps: 0.0,
            }),
        }
    }
    for c in &mut curves {
        c.points.sort_by(|a, b| a.rps.total_cmp(&b.rps));
        c.max_achieved_rps = c.points.iter().map(|p| p.achieved_rps).fold(0.0, f64::max);
        c.knee_rps = c
            .points
            .iter()
            .take_while(|p| p.all_correct && p.p99_ms.is_some_and(|v| v <= p99_target_ms))
            .map(|p| p.rps)
            .last();
    }
    curves.sort_by(|a, b| {
        (a.mode, &a.interpreter, a.workers).cmp(&(b.mode, &b.interpreter, b.workers))
    });
    checksums.sort();
    checksums.dedup();
    ServiceAggregate {
        p99_target_ms,
        curves,
        checksums_agree: checksums.len() <= 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::{Arrival, Failures, Latency, LoadReport, LoadSpec};
    use crate::run::RunMessage;
    use crate::store::fixtures;

    fn run(mode: Mode, rps: f64, achieved: f64, p99: f64, sum: &str) -> RunRecord {
        let py = fixtures::interpreter("3.13", "3.13.5", false);
        let mut r = RunRecord::new(fixtures::spec(&py, mode, 2), py);
        let spec = LoadSpec {
            arrival: Arrival::Open { rps },
            ..LoadSpec::default()
        };
        r.eat_message(RunMessage::LoadDone(Box::new(LoadReport {
            spec,
            target: "127.0.0.1:1".into(),
            start_ns: 0,
            end_ns: 1_000_000_000,
            offered: rps as u64,
            ok: achieved as u64,
            ok_in_window: achieved as u64,
            failures: Failures::default(),
            latency: Latency {
                p50_ms: Some(p99 / 4.0),
                p95_ms: Some(p99 / 2.0),
                p99_ms: Some(p99),
                max_ms: Some(p99 * 2.0),
            },
            offered_rps: rps,
            achieved_rps: achieved,
            checksum: Some(sum.into()),
            keys_answered: 64,
            checked_against: "test".into(),
            cpu_secs: 0.1,
            cpu_cores: 0.1,
            connections_opened: 8,
            stopped_early: false,
        })));
        r
    }

    #[test]
    fn knees_and_ratios_against_the_gil_pool() {
        let runs = vec![
            run(Mode::Gil, 100.0, 100.0, 5.0, "s"),
            run(Mode::Gil, 200.0, 180.0, 80.0, "s"),
            run(Mode::Gil, 400.0, 200.0, 900.0, "s"),
            run(Mode::Subinterp, 100.0, 100.0, 4.0, "s"),
            run(Mode::Subinterp, 200.0, 200.0, 9.0, "s"),
            // a dip under the target after a miss does not count
            run(Mode::Subinterp, 400.0, 390.0, 60.0, "s"),
            run(Mode::Subinterp, 800.0, 400.0, 40.0, "s"),
        ];
        let agg = aggregate_service(&runs, 50.0);
        assert!(agg.checksums_agree);
        let gil = &agg.curves[0];
        let sub = &agg.curves[1];
        assert_eq!(
            (gil.mode, gil.knee_rps, gil.max_achieved_rps),
            (Mode::Gil, Some(100.0), 200.0)
        );
        assert_eq!((sub.mode, sub.knee_rps), (Mode::Subinterp, Some(200.0)));
        assert_eq!(agg.knee_ratio(sub), Some(2.0));
        assert_eq!(agg.throughput_ratio(sub), Some(2.0));
        let mut other = runs;
        other.push(run(Mode::Process, 100.0, 100.0, 60.0, "different"));
        let agg = aggregate_service(&other, 50.0);
        assert!(!agg.checksums_agree);
        assert_eq!(agg.curves[2].knee_rps, None);
    }
}
