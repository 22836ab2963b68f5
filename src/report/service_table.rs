//! The per-mode table of a service sweep's `report.md` a server engineer
//! compares modes by: the knee with its resolution, p99 at one rate every
//! mode ran, the server's CPU and memory per worker at the knee, the
//! throughput ratio to the gil pool with its spread over repeats, and the
//! load generator's own lateness at the knee.

use crate::sweep::service::{LoadCurve, ServiceAggregate};
use std::fmt::Write;

/// The highest rate every curve ran and stayed within the target at (so
/// every mode's p99 there is a server under, not past, its knee); else the
/// lowest rate every curve ran.
pub fn common_rate(agg: &ServiceAggregate) -> Option<f64> {
    let ran_by_all = |rps: f64| {
        agg.curves
            .iter()
            .all(|c| c.points.iter().any(|p| p.rps == rps))
    };
    let first = agg.curves.first()?;
    let shared: Vec<f64> = first
        .points
        .iter()
        .map(|p| p.rps)
        .filter(|r| ran_by_all(*r))
        .collect();
    shared
        .iter()
        .copied()
        .filter(|r| {
            agg.curves
                .iter()
                .all(|c| c.knee_rps.is_some_and(|k| k >= *r))
        })
        .reduce(f64::max)
        .or_else(|| shared.iter().copied().reduce(f64::min))
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "—".to_string(), f)
}

fn p99_at(c: &LoadCurve, rps: Option<f64>) -> String {
    let p = rps.and_then(|r| c.points.iter().find(|p| p.rps == r));
    opt(p.and_then(|p| p.p99_ms), |v| format!("{v:.1}"))
}

/// The table (markdown), with its heading.
pub fn table_md(agg: &ServiceAggregate) -> String {
    let mut md = String::new();
    let rate = common_rate(agg);
    let _ = writeln!(md, "## Per mode: knee, tail, CPU, memory\n");
    let _ = writeln!(
        md,
        "p99 at {} req/s, a rate every mode ran; CPU = the cores the server's own threads ran on and memory = PSS the workers added over the harness's baseline, per worker, both at the knee; \"max vs gil\" with the lowest–highest ratio the repeats allow; the generator's p99 lateness at the knee (how far behind schedule it sent).\n",
        opt(rate, |r| format!("{r:.0}"))
    );
    let _ = writeln!(
        md,
        "| mode | workers | knee | p99 at common rate (ms) | CPU at knee (cores) | memory per worker (MiB) | max vs gil (spread) | generator p99 late at knee (ms) | verdicts |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    for c in &agg.curves {
        let k = c.knee_point();
        let ratio = match (agg.throughput_ratio(c), agg.throughput_ratio_range(c)) {
            _ if c.mode == crate::interp::Mode::Gil => "—".to_string(),
            (Some(r), Some([lo, hi])) => format!("{} ({lo:.2}–{hi:.2})", r.text()),
            (Some(r), None) => r.text(),
            (None, _) => "no ratio: neither saturated".to_string(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.mode,
            c.workers,
            c.knee_text(),
            p99_at(c, rate),
            opt(k.and_then(|p| p.cpu_cores), |v| format!("{v:.2}")),
            opt(k.and_then(|p| p.pss_per_worker_bytes), |v| format!(
                "{:.1}",
                v / 1048576.0
            )),
            ratio,
            opt(k.and_then(|p| p.lateness_p99_ms), |v| format!("{v:.2}")),
            crate::store::verdict::labels(&c.verdicts),
        );
    }
    let _ = writeln!(md);
    for c in agg.curves.iter().filter(|c| !c.verdicts.is_empty()) {
        let _ = writeln!(
            md,
            "* {} ×{}: {}",
            c.mode,
            c.workers,
            crate::store::verdict::text(&c.verdicts)
        );
    }
    let _ = writeln!(md);
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Mode;
    use crate::sweep::service::LoadPoint;

    fn point(rps: f64, p99: f64, range: Option<[f64; 2]>) -> LoadPoint {
        LoadPoint {
            rps,
            runs: 2,
            offered_rps: rps,
            achieved_rps: range.map_or(rps, |[a, b]| (a + b) / 2.0),
            p50_ms: None,
            p95_ms: None,
            p99_ms: Some(p99),
            p99_range_ms: None,
            failures: 0,
            all_correct: true,
            checksum: None,
            loadgen_cores: None,
            lateness_p99_ms: Some(0.5),
            lateness_max_ms: None,
            generator_bound_runs: 0,
            achieved_range_rps: range,
            cpu_cores: Some(1.5),
            pss_per_worker_bytes: Some(6.0 * 1048576.0),
            contended_runs: 0,
        }
    }

    fn curve(mode: Mode, points: Vec<LoadPoint>, knee: f64, upper: f64) -> LoadCurve {
        LoadCurve {
            mode,
            interpreter: "3.13".into(),
            workers: 2,
            max_achieved_rps: points.iter().map(|p| p.achieved_rps).fold(0.0, f64::max),
            points,
            knee_rps: Some(knee),
            knee_upper_rps: Some(upper),
            verdicts: Vec::new(),
        }
    }

    #[test]
    fn the_table_compares_at_a_rate_all_ran_under_their_knee_with_spreads() {
        let agg = ServiceAggregate {
            p99_target_ms: 50.0,
            checksums_agree: true,
            curves: vec![
                curve(
                    Mode::Gil,
                    vec![
                        point(100.0, 5.0, None),
                        point(400.0, 9.0, Some([380.0, 420.0])),
                        point(800.0, 900.0, Some([300.0, 340.0])),
                    ],
                    400.0,
                    800.0,
                ),
                curve(
                    Mode::Subinterp,
                    vec![
                        point(100.0, 4.0, None),
                        point(400.0, 6.0, None),
                        point(700.0, 20.0, Some([700.0, 780.0])),
                        point(800.0, 70.0, Some([600.0, 640.0])),
                    ],
                    700.0,
                    800.0,
                ),
            ],
        };
        assert_eq!(common_rate(&agg), Some(400.0));
        let range = agg.throughput_ratio_range(&agg.curves[1]);
        let [lo, hi] = range.unwrap_or([0.0, 0.0]);
        assert!((lo - 700.0 / 420.0).abs() < 1e-9 && (hi - 780.0 / 380.0).abs() < 1e-9);
        let md = table_md(&agg);
        assert!(md.contains("p99 at 400 req/s"), "{md}");
        assert!(
            md.contains("| subinterp | 2 | 700 req/s (resolution 100 req/s = 14.3 %: 800 missed) | 6.0 | 1.50 | 6.0 | 1.85× (1.67–2.05) | 0.50 |  |"),
            "{md}"
        );
    }
}
