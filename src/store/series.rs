//! A bounded time-series store in columns: one shared time axis (`t_ns`)
//! and named columns of readings, pruned by age and by length.
//!
//! * A missing reading is a gap (`None`), never 0. Internally a gap is
//!   stored as `f32::NAN` (half the memory of `Option<f32>`), so a
//!   non-finite value handed to [`TimeSeries::set_last`] is a gap too.
//! * Columns may appear at any time; the rows before a column's first
//!   reading and after its last are gaps that take no memory (a thread that
//!   lived for a second costs a second of rows), and appending a row costs
//!   the same however many columns there are.
//! * Every column keeps a coarser level: min/max per block of
//!   [`BLOCK_ROWS`] rows, so [`TimeSeries::decimated`] does not scan every
//!   row of a long history.
//! * Pruning drops rows from the front with `partition_point` + `drain`, in
//!   batches (a sixteenth of the history, at least one block) so that a
//!   steady 50 Hz stream does not move the whole history on every tick;
//!   [`TimeSeries::prune`] prunes exactly.
//! * A series made [`with_older`](TimeSeries::with_older) folds what it
//!   prunes into coarser tiers (means of [`older::FOLD`] rows) instead of
//!   dropping it (`older.rs`); its pruning then stops at whole groups.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::Range;

mod column;
pub mod older;
mod scan;
mod serde_form;

use column::Column;
use scan::{Grid, gallop};

/// Rows per block of the precomputed min/max level.
pub const BLOCK_ROWS: usize = 64;

/// Names a column of one [`TimeSeries`]. Ids are indexes in creation order;
/// they stay valid for the life of the series (and across save/load).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ColumnId(u32);

/// How much history a series keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesLimits {
    /// Rows older than this, relative to the newest row, are dropped.
    pub max_age_ns: Option<u64>,
    /// At most this many rows are kept (at least 1).
    pub max_rows: usize,
}

impl SeriesLimits {
    /// Rows a series may hold beyond its limits before [`TimeSeries::push_row`]
    /// prunes: 1/16 of `max_rows`, at least one block.
    pub fn slack_rows(&self) -> usize {
        (self.max_rows / 16).max(BLOCK_ROWS)
    }
}

impl Default for SeriesLimits {
    /// 15 minutes at 50 Hz; no age limit.
    fn default() -> Self {
        Self {
            max_age_ns: None,
            max_rows: 45_000,
        }
    }
}

/// One bucket of a decimated view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Time of the first row in the bucket.
    pub t_ns: u64,
    /// Smallest and largest reading; `None` when every row is a gap.
    pub min_max: Option<(f32, f32)>,
}

/// A row older than the newest one was pushed; it is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("row at {t_ns} ns is older than the newest row ({last_ns} ns)")]
pub struct OutOfOrder {
    pub t_ns: u64,
    pub last_ns: u64,
}

/// Columns of `f32` readings beside one shared time axis.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "serde_form::SeriesData")]
pub struct TimeSeries {
    limits: SeriesLimits,
    t_ns: Vec<u64>,
    columns: Vec<Column>,
    by_name: HashMap<String, ColumnId>,
    /// Rows dropped from the front so far (the absolute number of row 0).
    pruned_rows: u64,
    /// Where dropped rows are folded, coarser (see `older.rs`).
    older: Option<Box<TimeSeries>>,
}

impl TimeSeries {
    pub fn new(limits: SeriesLimits) -> Self {
        Self {
            limits: SeriesLimits {
                max_rows: limits.max_rows.max(1),
                ..limits
            },
            t_ns: Vec::new(),
            columns: Vec::new(),
            by_name: HashMap::new(),
            pruned_rows: 0,
            older: None,
        }
    }

    pub fn limits(&self) -> SeriesLimits {
        self.limits
    }

    pub fn len(&self) -> usize {
        self.t_ns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t_ns.is_empty()
    }

    /// The time axis, oldest first.
    pub fn times_ns(&self) -> &[u64] {
        &self.t_ns
    }

    pub fn first_t_ns(&self) -> Option<u64> {
        self.t_ns.first().copied()
    }

    pub fn last_t_ns(&self) -> Option<u64> {
        self.t_ns.last().copied()
    }

    /// Rows dropped by pruning since the series was created.
    pub fn pruned_rows(&self) -> u64 {
        self.pruned_rows
    }

    pub fn column_count(&self) -> usize {
        self.columns.len()
    }

    /// The column called `name`, created (all gaps so far) if it is new.
    pub fn column(&mut self, name: &str) -> ColumnId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let id = ColumnId(u32::try_from(self.columns.len()).unwrap_or(u32::MAX));
        self.columns.push(Column::new(name));
        self.by_name.insert(name.to_string(), id);
        id
    }

    pub fn column_id(&self, name: &str) -> Option<ColumnId> {
        self.by_name.get(name).copied()
    }

    pub fn column_name(&self, id: ColumnId) -> Option<&str> {
        self.col(id).map(|c| c.name.as_str())
    }

    /// Every column, in creation order.
    pub fn columns(&self) -> impl Iterator<Item = (ColumnId, &str)> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, c)| (ColumnId(i as u32), c.name.as_str()))
    }

    /// Appends a row at `t_ns` (all gaps until [`set_last`](Self::set_last)),
    /// then prunes if the history is a batch past its limits.
    pub fn push_row(&mut self, t_ns: u64) -> Result<(), OutOfOrder> {
        if let Some(last_ns) = self.last_t_ns()
            && t_ns < last_ns
        {
            return Err(OutOfOrder { t_ns, last_ns });
        }
        self.t_ns.push(t_ns);
        self.prune_batched(t_ns);
        Ok(())
    }

    /// Sets `id`'s reading in the newest row. A non-finite value (NaN, ±∞)
    /// is not a reading: it makes the row a gap.
    pub fn set_last(&mut self, id: ColumnId, value: f32) {
        let value = if value.is_finite() { value } else { f32::NAN };
        let Some(row) = self.len().checked_sub(1) else {
            return;
        };
        let abs = self.abs_row(row);
        if let Some(column) = self.columns.get_mut(id.0 as usize) {
            column.set(abs, value);
        }
    }

    /// `id`'s readings, one per row (`None`: a gap); `None` for an unknown id.
    pub fn values(&self, id: ColumnId) -> Option<impl ExactSizeIterator<Item = Option<f32>> + '_> {
        let column = self.col(id)?;
        Some((0..self.len()).map(move |row| column.get(self.abs_row(row))))
    }

    /// `id`'s reading in `row`; `None` for a gap.
    pub fn value(&self, id: ColumnId, row: usize) -> Option<f32> {
        if row >= self.len() {
            return None;
        }
        self.col(id)?.get(self.abs_row(row))
    }

    /// The rows with `t_from_ns <= t <= t_to_ns`.
    pub fn rows_between(&self, t_from_ns: u64, t_to_ns: u64) -> Range<usize> {
        let start = self.t_ns.partition_point(|&t| t < t_from_ns);
        let end = self.t_ns.partition_point(|&t| t <= t_to_ns).max(start);
        start..end
    }

    /// The newest reading of `id` at or before `t_ns`, with its time.
    pub fn last_at_or_before(&self, id: ColumnId, t_ns: u64) -> Option<(u64, f32)> {
        let end = self.t_ns.partition_point(|&t| t <= t_ns);
        let last = end.checked_sub(1)?;
        let (abs, value) = self.col(id)?.last_at_or_before(self.abs_row(last))?;
        let row = usize::try_from(abs - self.pruned_rows).ok()?;
        Some((*self.t_ns.get(row)?, value))
    }

    /// Drops, now, every row older than the age limit (relative to `now_ns`)
    /// and every row past the length limit. Returns how many were dropped.
    pub fn prune(&mut self, now_ns: u64) -> usize {
        let cut = self
            .age_cut(now_ns)
            .max(self.len().saturating_sub(self.limits.max_rows));
        self.drop_front(cut)
    }

    /// Min and max of `id` over `rows`; `None` if they are all gaps.
    pub fn min_max(&self, id: ColumnId, rows: Range<usize>) -> Option<(f32, f32)> {
        let rows = self.abs_row(rows.start)..self.abs_row(rows.end.min(self.len()));
        self.col(id)?.min_max(rows)
    }

    /// A min/max summary of `id` between `t_from_ns` and `t_to_ns`
    /// (inclusive), in `buckets` equal slices of time: one [`Bucket`] per
    /// slice that holds at least one row. Ask for about two buckets per
    /// pixel. Whole blocks of rows are read from the coarse level.
    pub fn decimated(
        &self,
        id: ColumnId,
        t_from_ns: u64,
        t_to_ns: u64,
        buckets: usize,
    ) -> Vec<Bucket> {
        let Some(column) = self.col(id) else {
            return Vec::new();
        };
        if buckets == 0 || t_to_ns < t_from_ns {
            return Vec::new();
        }
        let rows = self.rows_between(t_from_ns, t_to_ns);
        let times = &self.t_ns[rows.clone()];
        let Some(&first) = times.first() else {
            return Vec::new();
        };
        let offset = |t: u64| u128::from(t - t_from_ns);
        let grid = Grid::new(offset(t_to_ns) + 1, buckets as u128);
        let mut out = Vec::with_capacity(buckets.min(times.len()));
        let mut bucket = grid.at(offset(first));
        let mut start = 0;
        loop {
            let end_offset = Grid::end(bucket);
            let end = gallop(times, start, |t| offset(t) < end_offset);
            out.push(Bucket {
                t_ns: times[start],
                min_max: column
                    .min_max(self.abs_row(rows.start + start)..self.abs_row(rows.start + end)),
            });
            start = end;
            let Some(&t) = times.get(start) else {
                break;
            };
            // Usually the next bucket; after a pause, found by division.
            let next = grid.next(bucket);
            bucket = if offset(t) < Grid::end(next) {
                next
            } else {
                grid.at(offset(t))
            };
        }
        out
    }

    fn col(&self, id: ColumnId) -> Option<&Column> {
        self.columns.get(id.0 as usize)
    }

    fn abs_row(&self, row: usize) -> u64 {
        self.pruned_rows + row as u64
    }

    /// Rows older than `now_ns - max_age_ns`.
    fn age_cut(&self, now_ns: u64) -> usize {
        self.limits.max_age_ns.map_or(0, |age| {
            let oldest = now_ns.saturating_sub(age);
            self.t_ns.partition_point(|&t| t < oldest)
        })
    }

    fn prune_batched(&mut self, now_ns: u64) {
        // Draining k rows moves the other len - k: batches of len/16 keep
        // that to ~16 moves per pushed row.
        let age_batch = (self.len() / 16).max(BLOCK_ROWS);
        let by_age = self.age_cut(now_ns);
        let by_len = self.len().saturating_sub(self.limits.max_rows);
        if by_age >= age_batch || self.len() >= self.limits.max_rows + self.limits.slack_rows() {
            let _ = self.drop_front(by_age.max(by_len));
        }
    }

    /// Drops (or, with older tiers, folds) the first `rows` rows; returns
    /// how many went.
    fn drop_front(&mut self, rows: usize) -> usize {
        let rows = self.foldable(rows.min(self.len()));
        if rows == 0 {
            return 0;
        }
        self.fold_front(rows);
        self.t_ns.drain(..rows);
        self.pruned_rows += rows as u64;
        for column in &mut self.columns {
            column.drop_before(self.pruned_rows);
        }
        rows
    }
}

impl Default for TimeSeries {
    fn default() -> Self {
        Self::new(SeriesLimits::default())
    }
}

#[cfg(test)]
mod tests;
