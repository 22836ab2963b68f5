//! Verdicts of a service sweep's curves, by the same rules and functions
//! as every other point ([`crate::store::verdict`]): *contended* (its runs
//! were, the load generator counted — see
//! [`crate::store::service_verdict`]), *noisy* (the repeats of its best
//! point spread), *implausible* (more requests/s over the gil pool than
//! the cores it could use allow), *generator-bound* (at its knee).

use super::service::{LoadCurve, ServiceAggregate};
use crate::interp::Mode;
use crate::store::verdict::{self, Verdict, VerdictKind};

/// A service sweep's curves (see [`super::service::aggregate_unjudged`])
/// with their verdicts: what the CLI and the report show.
pub fn aggregate_service<R: AsRef<crate::store::RunRecord>>(
    runs: &[R],
    p99_target_ms: f64,
) -> ServiceAggregate {
    let mut agg = super::service::aggregate_unjudged(runs, p99_target_ms);
    let cores = runs
        .iter()
        .find_map(|r| r.as_ref().load_track().load().ok().map(|l| l.cores));
    let verdicts: Vec<_> = agg
        .curves
        .iter()
        .map(|c| curve_verdicts(&agg, c, cores))
        .collect();
    for (c, v) in agg.curves.iter_mut().zip(verdicts) {
        c.verdicts = v;
    }
    agg
}

/// The verdicts of `c` in `agg`, on a machine of `cores` cores.
pub fn curve_verdicts(agg: &ServiceAggregate, c: &LoadCurve, cores: Option<u32>) -> Vec<Verdict> {
    let mut out = Vec::new();
    let runs: usize = c.points.iter().map(|p| p.runs).sum();
    let contended: usize = c.points.iter().map(|p| p.contended_runs).sum();
    if contended > 0 {
        out.push(Verdict {
            kind: VerdictKind::Contended,
            reason: format!(
                "{contended} of its {runs} runs were contended (other processes and gilscope's load generator took cores the server needed)"
            ),
        });
    }
    let best = c
        .points
        .iter()
        .max_by(|a, b| a.achieved_rps.total_cmp(&b.achieved_rps));
    let spread = best.and_then(|p| {
        let [lo, hi] = p.achieved_range_rps?;
        (p.achieved_rps > 0.0).then(|| (hi - lo) / p.achieved_rps)
    });
    if let (Some(p), Some(s)) = (best, spread) {
        verdict::push(&mut out, verdict::noisy(p.runs, s));
    }
    if c.mode != Mode::Gil
        && let (Some(r), Some(cores)) = (agg.throughput_ratio(c), cores)
    {
        // N workers on C cores do at most min(N, C) times one worker's
        // work, and the gil pool does at least one worker's.
        let slack = spread.unwrap_or(0.0).max(verdict::EFFICIENCY_SLACK);
        let quiet = verdict::Cores {
            cores,
            others: 0.0,
            own: 0.0,
        };
        verdict::push(
            &mut out,
            verdict::beyond_cores(c.workers, r.value, quiet, slack),
        );
    }
    if let Some(k) = c.knee_point()
        && k.generator_bound_runs > 0
    {
        out.push(Verdict {
            kind: VerdictKind::GeneratorBound,
            reason: format!(
                "{} of the {} runs at its knee: the load generator sent late (p99 {} behind schedule)",
                k.generator_bound_runs,
                k.runs,
                k.lateness_p99_ms
                    .map_or("—".into(), |v| format!("{v:.1} ms"))
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::service::LoadPoint;

    fn curve(mode: Mode, achieved: f64, range: [f64; 2], contended: usize) -> LoadCurve {
        LoadCurve {
            mode,
            interpreter: "3.13".into(),
            workers: 3,
            points: vec![LoadPoint {
                rps: 1000.0,
                runs: 2,
                offered_rps: 1000.0,
                achieved_rps: achieved,
                p50_ms: None,
                p95_ms: None,
                p99_ms: Some(900.0),
                p99_range_ms: None,
                failures: 0,
                all_correct: true,
                checksum: None,
                loadgen_cores: None,
                lateness_p99_ms: None,
                lateness_max_ms: None,
                generator_bound_runs: 0,
                achieved_range_rps: Some(range),
                cpu_cores: None,
                pss_per_worker_bytes: None,
                contended_runs: contended,
            }],
            knee_rps: None,
            knee_upper_rps: Some(1000.0),
            max_achieved_rps: achieved,
            verdicts: Vec::new(),
        }
    }

    #[test]
    fn more_than_the_cores_allow_over_the_gil_pool_is_implausible() {
        let agg = ServiceAggregate {
            p99_target_ms: 50.0,
            checksums_agree: true,
            curves: vec![
                curve(Mode::Gil, 300.0, [290.0, 310.0], 0),
                curve(Mode::Subinterp, 900.0, [880.0, 920.0], 1),
            ],
        };
        let kinds = |c: &LoadCurve, cores| -> Vec<VerdictKind> {
            curve_verdicts(&agg, c, Some(cores))
                .iter()
                .map(|v| v.kind)
                .collect()
        };
        // 3× the gil pool with 3 workers on 2 cores: at most 2× is possible
        assert_eq!(
            kinds(&agg.curves[1], 2),
            [VerdictKind::Contended, VerdictKind::Implausible]
        );
        // on 4 cores 3× is allowed
        assert_eq!(kinds(&agg.curves[1], 4), [VerdictKind::Contended]);
        assert!(kinds(&agg.curves[0], 2).is_empty());
        // repeats 20 % apart are noisy
        let mut noisy = agg.clone();
        noisy.curves[0] = curve(Mode::Gil, 300.0, [270.0, 330.0], 0);
        assert_eq!(
            curve_verdicts(&noisy, &noisy.curves[0], Some(2))
                .iter()
                .map(|v| v.kind)
                .collect::<Vec<_>>(),
            [VerdictKind::Noisy]
        );
    }
}
