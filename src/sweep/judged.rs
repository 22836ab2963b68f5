//! Runs judged once: every run's point (its repeats of the same workload,
//! parameters, interpreter, mode and workers) aggregated and judged by
//! `store::verdict::point_verdicts`, and the verdicts each run shows —
//! its own (contended, not measured, a slowed 1-worker run) and its
//! point's (implausible speedup, noisy, 1 run). The compare table, the
//! live view's headline, the race and the stage read this; none judges
//! again.

use super::aggregate::{Aggregate, Point, aggregate};
use crate::store::RunRecord;
use crate::store::compare::same_workload;
use crate::store::verdict::{self, Verdict, VerdictKind};

/// The runs' points and verdicts, computed once.
#[derive(Debug, Clone, Default)]
pub struct Judged {
    /// One aggregate per workload (same workload and parameters), in the
    /// order of each workload's first run.
    pub workloads: Vec<Aggregate>,
    /// Per run (in the order given): its workload's index in `workloads`
    /// and its point's index there (`None` until it completed).
    pub place: Vec<(usize, Option<usize>)>,
    /// Per run: the verdicts it shows.
    pub verdicts: Vec<Vec<Verdict>>,
    /// Per run: its workers' time, once it completed.
    pub times: Vec<Option<f64>>,
}

impl Judged {
    /// Judges `records` (completed and not).
    pub fn of(records: &[&RunRecord]) -> Self {
        // Workload classes: same workload and parameters.
        let mut classes: Vec<Vec<usize>> = Vec::new();
        let mut class_of = vec![0usize; records.len()];
        for (i, run) in records.iter().enumerate() {
            match classes
                .iter()
                .position(|c| same_workload(records[c[0]], run))
            {
                Some(k) => {
                    classes[k].push(i);
                    class_of[i] = k;
                }
                None => {
                    class_of[i] = classes.len();
                    classes.push(vec![i]);
                }
            }
        }
        let workloads: Vec<Aggregate> = classes
            .iter()
            .map(|c| {
                let done: Vec<&RunRecord> = c
                    .iter()
                    .map(|&i| records[i])
                    .filter(|r| r.result().is_some())
                    .collect();
                aggregate(&done)
            })
            .collect();
        let place: Vec<(usize, Option<usize>)> = records
            .iter()
            .zip(&class_of)
            .map(|(run, &k)| {
                let point = run.result().and_then(|_| {
                    workloads[k].points.iter().position(|p| {
                        p.mode == run.spec().mode
                            && p.interpreter == run.interpreter().name
                            && p.workers == run.spec().workers
                    })
                });
                (k, point)
            })
            .collect();
        let verdicts = records
            .iter()
            .zip(&place)
            .map(|(run, &(k, p))| {
                let mut v = crate::store::service_verdict::run_verdicts(run);
                if let Some(point) = p.map(|p| &workloads[k].points[p]) {
                    // The run's own contention is more precise than its
                    // point's "k of n runs".
                    for pv in point
                        .verdicts
                        .iter()
                        .filter(|pv| pv.kind != VerdictKind::Contended)
                    {
                        verdict::push(&mut v, Some(pv.clone()));
                    }
                }
                v
            })
            .collect();
        let times = records
            .iter()
            .map(|r| r.result().map(|x| x.elapsed_s))
            .collect();
        Self {
            workloads,
            place,
            verdicts,
            times,
        }
    }

    /// Among the runs `keep` accepts, the repeat of run `i`'s point whose
    /// time is the median (the lower middle of an even count): what the
    /// race races and an exported animation shows. `i` itself when its
    /// point has no completed repeat among them.
    pub fn median_repeat(&self, i: usize, keep: impl Fn(usize) -> bool) -> usize {
        let Some(&(k, Some(p))) = self.place.get(i) else {
            return i;
        };
        let mut repeats: Vec<(f64, usize)> = self
            .place
            .iter()
            .enumerate()
            .filter(|&(j, &pl)| pl == (k, Some(p)) && keep(j))
            .filter_map(|(j, _)| self.times.get(j).copied().flatten().map(|t| (t, j)))
            .collect();
        repeats.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        repeats
            .get(repeats.len().saturating_sub(1) / 2)
            .map_or(i, |&(_, j)| j)
    }

    /// The point of run `i` (in the order given to [`Judged::of`]).
    pub fn point(&self, i: usize) -> Option<&Point> {
        let &(k, p) = self.place.get(i)?;
        self.workloads.get(k)?.points.get(p?)
    }

    /// The aggregate of run `i`'s workload.
    pub fn workload(&self, i: usize) -> Option<&Aggregate> {
        self.workloads.get(self.place.get(i)?.0)
    }
}
