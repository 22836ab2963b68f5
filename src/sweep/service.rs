//! A service sweep's run files as points of latency against load, per
//! (mode, interpreter, workers): the median over repeats of each offered
//! rate (latency over every request, failures included), the *knee* (the
//! highest offered rate whose p99 stays under the target, with every
//! request answered correctly, found by the engine's search to a stated
//! resolution, see [`super::knee`]) and the ratios against the `gil`
//! thread pool — bounds ("≥", "≤") where a curve never saturated.

use super::aggregate::Spread;
use super::knee::{bracket, is_good};
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
    /// The generator's p99 lateness (median over runs, ms; open loop).
    #[serde(default)]
    pub lateness_p99_ms: Option<f64>,
    #[serde(default)]
    pub lateness_max_ms: Option<f64>,
    /// Runs flagged *generator-bound*.
    #[serde(default)]
    pub generator_bound_runs: usize,
    /// The repeats' answered requests/s (min–max), when several.
    #[serde(default)]
    pub achieved_range_rps: Option<[f64; 2]>,
    /// The cores the server's own threads ran on over its work (their
    /// running fractions summed; else its CPU time over its wall time),
    /// median.
    #[serde(default)]
    pub cpu_cores: Option<f64>,
    /// Proportional memory (PSS) the workers added over the harness's
    /// baseline, per worker (median, bytes).
    #[serde(default)]
    pub pss_per_worker_bytes: Option<f64>,
    /// Runs labelled *contended* (the load generator counted).
    #[serde(default)]
    pub contended_runs: usize,
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
    /// The first rate above the knee that missed the target (the knee lies
    /// in `[knee_rps, knee_upper_rps)`); `None` when no rate missed it: the
    /// curve never saturated and its knee is only a lower bound.
    #[serde(default)]
    pub knee_upper_rps: Option<f64>,
    /// The most requests/s it answered correctly at any rate.
    pub max_achieved_rps: f64,
    /// Its verdicts (set by `sweep::service_verdict::aggregate_service`).
    #[serde(default)]
    pub verdicts: Vec<crate::store::Verdict>,
}

impl LoadCurve {
    /// Some rate missed the target.
    pub fn saturated(&self) -> bool {
        self.knee_upper_rps.is_some()
    }

    /// The knee's point.
    pub fn knee_point(&self) -> Option<&LoadPoint> {
        let k = self.knee_rps?;
        self.points.iter().find(|p| p.rps == k)
    }

    /// "1,450 req/s (±5 %: next 1,525 missed)" / "≥ 800 req/s (never
    /// saturated)" / "below the lowest rate".
    pub fn knee_text(&self) -> String {
        match (self.knee_rps, self.knee_upper_rps) {
            (Some(k), Some(u)) => format!(
                "{k:.0} req/s (resolution {:.0} req/s = {:.1} %: {u:.0} missed)",
                u - k,
                100.0 * (u - k) / k
            ),
            (Some(k), None) => format!("≥ {k:.0} req/s (never saturated)"),
            (None, _) => "below the lowest rate".to_string(),
        }
    }
}

/// A ratio between two curves, with whether it is exact or a bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    pub value: f64,
    /// "" (both measured), "≥ " (this curve never saturated), "≤ " (the
    /// baseline never saturated).
    pub bound: &'static str,
}

impl Ratio {
    fn of(value: f64, curve: &LoadCurve, base: &LoadCurve) -> Option<Self> {
        let bound = match (curve.saturated(), base.saturated()) {
            (true, true) => "",
            (false, true) => "≥ ",
            (true, false) => "≤ ",
            (false, false) => return None,
        };
        value.is_finite().then_some(Self { value, bound })
    }

    /// "≥ 1.80×".
    pub fn text(&self) -> String {
        format!("{}{:.2}×", self.bound, self.value)
    }
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

    /// `curve`'s max requests/s over the `gil` pool's (a bound when one of
    /// them never saturated; `None` when neither did).
    pub fn throughput_ratio(&self, curve: &LoadCurve) -> Option<Ratio> {
        let base = self.gil_baseline(curve)?;
        if base.max_achieved_rps <= 0.0 {
            return None;
        }
        Ratio::of(curve.max_achieved_rps / base.max_achieved_rps, curve, base)
    }

    /// The spread of [`Self::throughput_ratio`] over the repeats: the
    /// lowest and highest ratio the two maxima's repeats allow
    /// (`[min / base max, max / base min]`), when both have repeats.
    pub fn throughput_ratio_range(&self, curve: &LoadCurve) -> Option<[f64; 2]> {
        let best = |c: &LoadCurve| {
            c.points
                .iter()
                .max_by(|a, b| a.achieved_rps.total_cmp(&b.achieved_rps))
                .and_then(|p| p.achieved_range_rps)
        };
        let [lo, hi] = best(curve)?;
        let [base_lo, base_hi] = best(self.gil_baseline(curve)?)?;
        (base_lo > 0.0).then(|| [lo / base_hi, hi / base_lo])
    }

    /// `curve`'s knee over the `gil` pool's (a bound as above).
    pub fn knee_ratio(&self, curve: &LoadCurve) -> Option<Ratio> {
        let base = self.gil_baseline(curve)?;
        Ratio::of(curve.knee_rps? / base.knee_rps?, curve, base)
    }
}

fn median(values: &[f64]) -> Option<f64> {
    Spread::of(values).map(|s| s.median)
}

/// Aggregates the runs of a service sweep (`runs` without a load report
/// are left out).
pub fn aggregate_unjudged<R: AsRef<RunRecord>>(runs: &[R], p99_target_ms: f64) -> ServiceAggregate {
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
        let run_sums: Vec<_> = runs
            .iter()
            .map(|r| crate::store::summary::summarize(r))
            .collect();
        let col = |f: &dyn Fn(&crate::store::ServiceSummary) -> Option<f64>| -> Vec<f64> {
            sums.iter().filter_map(f).collect()
        };
        let p99s = col(&|s| s.p99_all_ms());
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
            p50_ms: median(&col(&|s| s.tail().p50_ms)),
            p95_ms: median(&col(&|s| s.tail().p95_ms)),
            p99_ms: p99_spread.map(|s| s.median),
            p99_range_ms: p99_spread.filter(|s| s.n > 1).map(|s| [s.min, s.max]),
            failures: sums.iter().map(|s| s.failures.total()).sum(),
            all_correct: sums.iter().all(|s| s.all_correct),
            checksum,
            loadgen_cores: median(&col(&|s| Some(s.loadgen_cores))),
            lateness_p99_ms: median(&col(&|s| s.lateness.and_then(|l| l.p99_ms))),
            lateness_max_ms: median(&col(&|s| s.lateness.and_then(|l| l.max_ms))),
            generator_bound_runs: sums.iter().filter(|s| s.generator_bound.is_some()).count(),
            achieved_range_rps: Spread::of(&col(&|s| Some(s.achieved_rps)))
                .filter(|s| s.n > 1)
                .map(|s| [s.min, s.max]),
            cpu_cores: median(
                &run_sums
                    .iter()
                    .filter_map(|s| s.thread_cores.or(s.rusage_cores))
                    .collect::<Vec<_>>(),
            ),
            pss_per_worker_bytes: median(
                &run_sums
                    .iter()
                    .filter_map(|s| s.overhead_pss_bytes)
                    .map(|b| b as f64 / workers.max(1) as f64)
                    .collect::<Vec<_>>(),
            ),
            contended_runs: runs
                .iter()
                .filter(|r| {
                    crate::store::service_verdict::run_verdicts(r)
                        .iter()
                        .any(|v| v.kind == crate::store::VerdictKind::Contended)
                })
                .count(),
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
                knee_upper_rps: None,
                max_achieved_rps: 0.0,
                verdicts: Vec::new(),
            }),
        }
    }
    for c in &mut curves {
        c.points.sort_by(|a, b| a.rps.total_cmp(&b.rps));
        c.max_achieved_rps = c.points.iter().map(|p| p.achieved_rps).fold(0.0, f64::max);
        let verdicts: Vec<(f64, bool)> = c
            .points
            .iter()
            .map(|p| (p.rps, is_good(p.p99_ms, p.failures == 0, p99_target_ms)))
            .collect();
        (c.knee_rps, c.knee_upper_rps) = bracket(&verdicts);
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
            latency_all: Latency {
                p50_ms: Some(p99 / 4.0),
                p95_ms: Some(p99 / 2.0),
                p99_ms: Some(p99),
                max_ms: Some(p99 * 2.0),
            },
            requests_all: achieved as u64,
            lateness: None,
            warmup_requests: 10,
            warmup_failures: 0,
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
        let agg = aggregate_unjudged(&runs, 50.0);
        assert!(agg.checksums_agree);
        let gil = &agg.curves[0];
        let sub = &agg.curves[1];
        assert_eq!(
            (
                gil.mode,
                gil.knee_rps,
                gil.knee_upper_rps,
                gil.max_achieved_rps
            ),
            (Mode::Gil, Some(100.0), Some(200.0), 200.0)
        );
        assert_eq!(
            (sub.mode, sub.knee_rps, sub.knee_upper_rps),
            (Mode::Subinterp, Some(200.0), Some(400.0))
        );
        assert_eq!(agg.knee_ratio(sub).map(|r| r.text()), Some("2.00×".into()));
        assert_eq!(
            agg.throughput_ratio(sub).map(|r| r.text()),
            Some("2.00×".into())
        );
        assert!(
            gil.knee_text().contains("resolution 100 req/s"),
            "{}",
            gil.knee_text()
        );
        // a curve that never missed the target is only a lower bound
        let mut unsat = runs.clone();
        unsat.retain(|r| r.spec().mode == Mode::Gil);
        unsat.push(run(Mode::Process, 100.0, 100.0, 4.0, "s"));
        unsat.push(run(Mode::Process, 400.0, 400.0, 5.0, "s"));
        let agg = aggregate_unjudged(&unsat, 50.0);
        let process = &agg.curves[1];
        assert_eq!(
            (process.knee_rps, process.knee_upper_rps),
            (Some(400.0), None)
        );
        assert_eq!(
            agg.knee_ratio(process).map(|r| r.text()),
            Some("≥ 4.00×".into())
        );
        assert!(process.knee_text().starts_with("≥ 400"));
        let mut other = runs;
        other.push(run(Mode::Process, 100.0, 100.0, 60.0, "different"));
        let agg = aggregate_unjudged(&other, 50.0);
        assert!(!agg.checksums_agree);
        assert_eq!(agg.curves[2].knee_rps, None);
    }
}
