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
        Self {
            workloads,
            place,
            verdicts,
        }
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
