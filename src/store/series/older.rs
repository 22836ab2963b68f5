//! Older history at decreasing resolution: a series made
//! [`with_older`](TimeSeries::with_older) folds the rows its limits drop
//! into a coarser series instead of forgetting them — one row per
//! [`FOLD`] rows (aligned on absolute row numbers), each column's mean
//! over them (a gap when every one was a gap), at the time of the first —
//! which is bounded the same way and folds into its own older tier. With
//! `max_rows` rows per tier and `k` older tiers the series spans
//! `max_rows × FOLD^k` rows in `(k + 1) × max_rows` rows of memory: a long
//! attach keeps its last minutes exact and the hours before as means.
//! Totals that must stay exact are kept outside the series (thread CPU
//! counters, GIL totals).

use super::{Bucket, ColumnId, TimeSeries};

/// Rows of one tier folded into one row of the next.
pub const FOLD: u64 = 32;

/// Older tiers of a long run's histories (an attach): at 50 Hz with
/// 15 000 rows a tier, 5 minutes exact, 2.7 hours of 0.64 s means, then
/// 3.6 days of 20 s means.
pub const LONG_RUN_TIERS: usize = 2;

impl TimeSeries {
    /// This series with `tiers` older tiers (each [`FOLD`] times coarser,
    /// each with this one's limits): rows pruned from the front are folded
    /// into them rather than dropped.
    pub fn with_older(mut self, tiers: usize) -> Self {
        self.older =
            (tiers > 0).then(|| Box::new(TimeSeries::new(self.limits).with_older(tiers - 1)));
        self
    }

    /// The next coarser tier, if this series keeps one.
    pub fn older(&self) -> Option<&TimeSeries> {
        self.older.as_deref()
    }

    /// Rows the front drop of `rows` may take when older tiers fold whole
    /// groups: rounded down to a [`FOLD`]-aligned absolute row.
    pub(super) fn foldable(&self, rows: usize) -> usize {
        if self.older.is_none() {
            return rows;
        }
        let end = (self.pruned_rows + rows as u64) / FOLD * FOLD;
        usize::try_from(end.saturating_sub(self.pruned_rows)).unwrap_or(0)
    }

    /// Folds the first `rows` rows (a whole number of [`FOLD`] groups)
    /// into the older tier, before they are dropped.
    pub(super) fn fold_front(&mut self, rows: usize) {
        let Some(mut older) = self.older.take() else {
            return;
        };
        let ids: Vec<ColumnId> = self.columns.iter().map(|c| older.column(&c.name)).collect();
        let fold = FOLD as usize;
        for group in (0..rows).step_by(fold) {
            let end = (group + fold).min(rows);
            if older.push_row(self.t_ns[group]).is_err() {
                continue;
            }
            for (column, &id) in self.columns.iter().zip(&ids) {
                let (mut sum, mut n) = (0.0f64, 0u32);
                for row in group..end {
                    if let Some(v) = column.get(self.abs_row(row)) {
                        sum += f64::from(v);
                        n += 1;
                    }
                }
                if n > 0 {
                    older.set_last(id, (sum / f64::from(n)) as f32);
                }
            }
        }
        self.older = Some(older);
    }

    /// [`decimated`](TimeSeries::decimated) over this tier and the older
    /// ones: buckets before this tier's first row come from the older
    /// tiers (their min/max of means), the rest from this one.
    pub fn decimated_all(
        &self,
        id: ColumnId,
        t_from_ns: u64,
        t_to_ns: u64,
        buckets: usize,
    ) -> Vec<Bucket> {
        let (Some(older), Some(first)) = (self.older(), self.first_t_ns()) else {
            return self.decimated(id, t_from_ns, t_to_ns, buckets);
        };
        let mut out = Vec::new();
        if t_from_ns < first
            && let Some(older_id) = self.column_name(id).and_then(|n| older.column_id(n))
        {
            let older_to = t_to_ns.min(first - 1);
            let share = (older_to - t_from_ns + 1) as f64 / (t_to_ns - t_from_ns + 1) as f64;
            let n = ((buckets as f64 * share).ceil() as usize).max(1);
            out = older.decimated_all(older_id, t_from_ns, older_to, n);
        }
        if t_to_ns >= first {
            let share =
                (t_to_ns - t_from_ns.max(first) + 1) as f64 / (t_to_ns - t_from_ns + 1) as f64;
            let n = ((buckets as f64 * share).ceil() as usize).max(1);
            out.extend(self.decimated(id, t_from_ns.max(first), t_to_ns, n));
        }
        out
    }

    /// The time of the oldest row kept in any tier.
    pub fn oldest_t_ns(&self) -> Option<u64> {
        self.older()
            .and_then(TimeSeries::oldest_t_ns)
            .or(self.first_t_ns())
    }

    /// Rows kept in this tier and every older one.
    pub fn rows_in_all_tiers(&self) -> usize {
        self.len() + self.older().map_or(0, TimeSeries::rows_in_all_tiers)
    }
}

#[cfg(test)]
mod tests {
    use super::super::SeriesLimits;
    use super::*;

    #[test]
    fn pruned_rows_fold_into_means_and_the_whole_span_stays() {
        let limits = SeriesLimits {
            max_age_ns: None,
            max_rows: 256,
        };
        let mut s = TimeSeries::new(limits).with_older(2);
        let c = s.column("x");
        let rows = 256 * FOLD * 3;
        for k in 0..rows {
            s.push_row(k * 10).unwrap();
            // Gaps every 7th row; otherwise the row number.
            if k % 7 != 0 {
                s.set_last(c, k as f32);
            }
        }
        // Memory stays bounded: every tier at most its limit plus slack.
        let slack = limits.max_rows + limits.slack_rows();
        let older = s.older().unwrap();
        let oldest = older.older().unwrap();
        assert!(s.len() <= slack && older.len() <= slack && oldest.len() <= slack);
        assert!(oldest.older().is_none());
        // The whole span is still there, at decreasing resolution.
        assert_eq!(s.oldest_t_ns(), Some(0));
        assert!(s.rows_in_all_tiers() < 3 * slack);
        let id = oldest.column_id("x").unwrap();
        let older_id = older.column_id("x").unwrap();
        let pruned = older.pruned_rows();
        // Row r of the middle tier is the mean of its FOLD source rows.
        for r in 0..3 {
            let abs = pruned + r;
            let src: Vec<f64> = (abs * FOLD..(abs + 1) * FOLD)
                .filter(|k| k % 7 != 0)
                .map(|k| k as f64)
                .collect();
            let mean = src.iter().sum::<f64>() / src.len() as f64;
            let got = f64::from(older.value(older_id, r as usize).unwrap());
            assert!((got - mean).abs() < 0.01, "row {r}: {got} vs {mean}");
            assert_eq!(older.times_ns()[r as usize], abs * FOLD * 10);
        }
        assert!(oldest.value(id, 0).is_some());
        // A decimated view over everything starts at 0 and ends at the last row.
        let b = s.decimated_all(c, 0, (rows - 1) * 10, 100);
        assert_eq!(b.first().map(|b| b.t_ns), Some(0));
        assert!(b.len() >= 50 && b.len() <= 110, "{}", b.len());
        assert!(b.windows(2).all(|w| w[0].t_ns < w[1].t_ns));
        let (lo, hi) = b.last().unwrap().min_max.unwrap();
        assert!(hi <= (rows - 1) as f32 && lo > 0.0);
    }

    #[test]
    fn older_tiers_are_saved_and_loaded() {
        let mut s = TimeSeries::new(SeriesLimits {
            max_age_ns: None,
            max_rows: 64,
        })
        .with_older(1);
        let c = s.column("x");
        for k in 0..2000u64 {
            s.push_row(k).unwrap();
            s.set_last(c, (k % 10) as f32);
        }
        assert!(s.older().is_some_and(|o| !o.is_empty()));
        let text = serde_json::to_string(&s).unwrap();
        let back: TimeSeries = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.oldest_t_ns(), Some(0));
    }

    #[test]
    fn without_older_tiers_nothing_changes() {
        let mut s = TimeSeries::new(SeriesLimits {
            max_age_ns: None,
            max_rows: 100,
        });
        let c = s.column("x");
        for k in 0..1000 {
            s.push_row(k).unwrap();
            s.set_last(c, 1.0);
        }
        assert!(s.older().is_none());
        assert_eq!(s.decimated_all(c, 0, 999, 10), s.decimated(c, 0, 999, 10));
    }
}
