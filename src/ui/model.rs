//! The numbers every view reads, computed once per change of the runs —
//! never inside a frame: one [`Row`] per run (built by
//! [`crate::sweep::table`], the one place rows are made, which the CLI's
//! tables read too), every run's
//! point and verdicts ([`crate::sweep::Judged`]), and the aggregate of the
//! shown run's workload (the compare charts). The app refreshes it before
//! each frame; panels read it through `UiContext::model`.
//!
//! Completed runs do not change, so everything is recomputed only when a
//! run is added, removed or finishes ([`Runs::version`]); while a run goes,
//! only its own row is refreshed, at most 4 times a second.

use super::runs::{RunId, Runs};
use crate::store::verdict::Verdict;
use crate::sweep::table::{Row, row, rows_judged};
use crate::sweep::{Aggregate, Judged, Point};
use std::time::{Duration, Instant};

/// How often a running run's own row is refreshed.
const RUNNING_ROW_EVERY: Duration = Duration::from_millis(250);

/// The views' numbers, kept current by [`RunsModel::refresh`].
#[derive(Default)]
pub struct RunsModel {
    key: Option<(u64, Option<RunId>)>,
    at: Option<Instant>,
    /// One per run, in the runs' order.
    pub rows: Vec<Row>,
    /// The run of each row.
    pub ids: Vec<RunId>,
    judged: Judged,
    /// The aggregate of the anchor run's workload (the shown run, else the
    /// newest).
    pub agg: Option<Aggregate>,
    /// The scaling chart's lines, from `agg`'s points.
    pub scaling: Vec<ScalingSeries>,
    /// How many full recomputations so far (tests and the frame bench).
    pub recomputed: u64,
}

impl RunsModel {
    /// Forgets everything: the next refresh recomputes.
    pub fn clear(&mut self) {
        self.key = None;
    }

    /// Recomputes what changed since the last call: everything when runs
    /// were added, removed or finished or the anchor changed; a running
    /// run's own row at most every 250 ms; nothing otherwise.
    pub fn refresh(&mut self, runs: &Runs, shown: Option<RunId>) {
        let key = (runs.version(), shown);
        if self.key == Some(key) {
            let due = self.at.is_none_or(|t| t.elapsed() >= RUNNING_ROW_EVERY);
            if due && runs.any_running() {
                self.refresh_running(runs);
                self.at = Some(Instant::now());
            }
            return;
        }
        let records = runs.records();
        self.judged = Judged::of(&records);
        self.rows = rows_judged(&records, &self.judged);
        self.ids = runs.ids();
        if runs.any_running() {
            self.refresh_running(runs);
        }
        let anchor = shown
            .and_then(|id| runs.ids().iter().position(|&x| x == id))
            .or(records.len().checked_sub(1));
        self.agg = anchor.and_then(|i| self.judged.workload(i)).cloned();
        self.scaling = self
            .agg
            .as_ref()
            .map_or_else(Vec::new, |a| scaling_series(&a.points));
        self.key = Some(key);
        self.at = Some(Instant::now());
        self.recomputed += 1;
    }

    /// Only the rows of running runs (their chunks and status move).
    fn refresh_running(&mut self, runs: &Runs) {
        let records = runs.records();
        for (i, e) in runs.iter().enumerate() {
            if !e.is_running() || i >= self.rows.len() {
                continue;
            }
            let b = crate::store::rows::compare_row(&e.record, &records);
            let mut r = row(&e.record, b, &records, &self.judged, i);
            // A running run's own verdicts move as it goes (what else ran,
            // gilscope's own CPU): judged here, never in a frame.
            r.verdicts = crate::store::service_verdict::run_verdicts(&e.record);
            self.rows[i] = r;
        }
    }

    /// The row of run `id`.
    pub fn row(&self, id: RunId) -> Option<&Row> {
        let i = self.ids.iter().position(|&x| x == id)?;
        self.rows.get(i)
    }

    /// The point of run `id` (once it completed).
    pub fn point(&self, id: RunId) -> Option<&Point> {
        let i = self.ids.iter().position(|&x| x == id)?;
        self.judged.point(i)
    }

    /// Among `among`, the repeat of run `id`'s point with the median time
    /// ([`Judged::median_repeat`]); `id` when there is none.
    pub fn median_repeat(&self, id: RunId, among: &[RunId]) -> RunId {
        let Some(i) = self.ids.iter().position(|&x| x == id) else {
            return id;
        };
        let j = self
            .judged
            .median_repeat(i, |j| self.ids.get(j).is_some_and(|x| among.contains(x)));
        self.ids.get(j).copied().unwrap_or(id)
    }

    /// The two runs to race among `among` ([`crate::sweep::race::race_pair`]):
    /// (the rival, the best), each its point's median repeat. `None` when
    /// the model is not of these runs (refreshed before the next frame).
    pub fn race_pair(&self, runs: &Runs, among: &[RunId]) -> Option<(RunId, RunId)> {
        if self.ids != runs.ids() {
            return None;
        }
        let records = runs.records();
        let (a, b) = crate::sweep::race::race_pair_among(&records, &self.judged, |i| {
            among.contains(&self.ids[i])
        })?;
        Some((self.ids[a], self.ids[b]))
    }

    /// The rows with their runs, in the runs' order.
    pub fn rows_with_ids(&self) -> impl Iterator<Item = (RunId, &Row)> {
        self.ids.iter().copied().zip(&self.rows)
    }

    /// The aggregate of run `id`'s workload.
    pub fn workload(&self, id: RunId) -> Option<&Aggregate> {
        let i = self.ids.iter().position(|&x| x == id)?;
        self.judged.workload(i)
    }
}

/// One point of the scaling chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPoint {
    pub workers: usize,
    pub speedup: f64,
    /// The error bar: what the point's fastest and slowest repeats give
    /// (`None` for a single run).
    pub range: Option<[f64; 2]>,
    pub runs: usize,
    /// Flagged (drawn faded, with "!"), and why.
    pub verdicts: Vec<Verdict>,
}

/// One line of the scaling chart: a mode on an interpreter.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingSeries {
    pub name: String,
    pub mode: crate::interp::Mode,
    /// Sorted by workers.
    pub points: Vec<ScalingPoint>,
}

/// What the scaling chart draws, from the grouped repeats.
pub fn scaling_series(points: &[Point]) -> Vec<ScalingSeries> {
    let mut series: Vec<ScalingSeries> = Vec::new();
    for pt in points {
        let Some(s) = pt.speedup else { continue };
        let name = format!("{} ({})", pt.mode, pt.interpreter);
        let sp = ScalingPoint {
            workers: pt.workers,
            speedup: s,
            range: pt.speedup_range,
            runs: pt.runs,
            verdicts: pt.verdicts.clone(),
        };
        match series.iter_mut().find(|x| x.name == name) {
            Some(x) => x.points.push(sp),
            None => series.push(ScalingSeries {
                name,
                mode: pt.mode,
                points: vec![sp],
            }),
        }
    }
    for s in &mut series {
        s.points.sort_by_key(|p| p.workers);
    }
    series
}
