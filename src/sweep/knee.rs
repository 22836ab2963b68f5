//! Finding a service's knee, not picking it: after a service sweep's grid
//! of offered rates, the engine asks [`KneeSearch`] for more rates between
//! each curve's last good rate (median p99 within the target, no failed
//! request, every lower rate good too) and its first bad one,
//! halving the gap until it is within the resolution (a share of the good
//! rate) or [`MAX_KNEE_STEPS`] rounds were run.

use super::aggregate::Spread;
use crate::interp::Mode;
use crate::store::RunRecord;
use std::collections::BTreeMap;

/// The resolution a service sweep searches its knees to when none is given
/// (% of the knee).
pub const DEFAULT_KNEE_RESOLUTION_PCT: f64 = 10.0;
/// Bisection rounds per curve at most.
pub const MAX_KNEE_STEPS: usize = 8;

/// A rate is good when no run at it had a failed request (every answer
/// came in time and was correct) and the median p99 (over all requests) is
/// within the target.
pub fn is_good(p99_ms: Option<f64>, no_failures: bool, target_ms: f64) -> bool {
    no_failures && p99_ms.is_some_and(|v| v <= target_ms)
}

/// `(last good, first bad)` of rates sorted ascending with their verdict:
/// the last good rate of the good prefix, and the rate right after it.
pub fn bracket(points: &[(f64, bool)]) -> (Option<f64>, Option<f64>) {
    let good = points.iter().take_while(|(_, g)| *g).count();
    (
        good.checked_sub(1).map(|i| points[i].0),
        points.get(good).map(|p| p.0),
    )
}

/// What one run at a rate gave.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Outcome {
    p99_ms: Option<f64>,
    no_failures: bool,
}

/// The knee search of one sweep.
#[derive(Debug, Clone, Default)]
pub struct KneeSearch {
    /// Per (mode, workers): rate bits → the runs' outcomes.
    results: BTreeMap<(Mode, usize), BTreeMap<u64, Vec<Outcome>>>,
    steps: BTreeMap<(Mode, usize), usize>,
}

impl KneeSearch {
    /// A run at `rps` ended (a failed run counts as a bad one).
    pub fn eat(&mut self, mode: Mode, workers: usize, rps: f64, record: &RunRecord) {
        let outcome = match record.service().summary() {
            Some(s) => Outcome {
                p99_ms: s.p99_all_ms(),
                no_failures: s.failures.total() == 0,
            },
            None => Outcome {
                p99_ms: None,
                no_failures: false,
            },
        };
        self.results
            .entry((mode, workers))
            .or_default()
            .entry(rps.to_bits())
            .or_default()
            .push(outcome);
    }

    /// The good/bad verdict of each rate of a curve, ascending.
    fn points(&self, key: (Mode, usize), target_ms: f64) -> Vec<(f64, bool)> {
        let Some(rates) = self.results.get(&key) else {
            return Vec::new();
        };
        let mut out: Vec<(f64, bool)> = rates
            .iter()
            .map(|(bits, runs)| {
                let p99s: Vec<f64> = runs.iter().filter_map(|o| o.p99_ms).collect();
                let median = (p99s.len() == runs.len())
                    .then(|| Spread::of(&p99s).map(|s| s.median))
                    .flatten();
                let correct = runs.iter().all(|o| o.no_failures);
                (f64::from_bits(*bits), is_good(median, correct, target_ms))
            })
            .collect();
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    /// The next rate to try for each curve whose knee is not yet within
    /// `resolution_pct` % (rounded to whole requests/s), in `order`.
    pub fn next_rates(
        &mut self,
        order: &[(Mode, usize)],
        target_ms: f64,
        resolution_pct: f64,
    ) -> Vec<(Mode, usize, f64)> {
        let mut out = Vec::new();
        for &key in order {
            let steps = self.steps.get(&key).copied().unwrap_or(0);
            if steps >= MAX_KNEE_STEPS {
                continue;
            }
            let (Some(good), Some(bad)) = bracket(&self.points(key, target_ms)) else {
                continue;
            };
            if bad - good <= good * resolution_pct / 100.0 {
                continue;
            }
            let mid = ((good + bad) / 2.0).round();
            if mid <= good || mid >= bad {
                continue;
            }
            self.steps.insert(key, steps + 1);
            out.push((key.0, key.1, mid));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bracket_is_the_good_prefix_and_the_rate_after_it() {
        assert_eq!(bracket(&[]), (None, None));
        assert_eq!(
            bracket(&[(1.0, true), (2.0, true), (4.0, false), (8.0, true)]),
            (Some(2.0), Some(4.0))
        );
        assert_eq!(bracket(&[(1.0, false), (2.0, true)]), (None, Some(1.0)));
        assert_eq!(bracket(&[(1.0, true), (2.0, true)]), (Some(2.0), None));
        assert!(is_good(Some(50.0), true, 50.0));
        assert!(!is_good(Some(1.0), false, 50.0));
        assert!(!is_good(None, true, 50.0));
    }
}
