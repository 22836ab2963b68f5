//! A series' rows as the intervals they describe, across its older tiers
//! (a long attach keeps its last minutes exact and the time before as
//! means): what the trace and the animation's lanes read.
//!
//! A row of the exact tier describes the time since the row before it
//! (the first row: as long as the next interval); one whose interval is
//! longer than [`GAP_NS`] is a gap — the sampler fell behind or the value
//! could not be read — and is skipped. A row of an older tier (the mean of
//! [`FOLD`](crate::store::series::older::FOLD) rows, at the time of the
//! first) describes the time up to the next row.

use crate::store::TimeSeries;

/// Readings further apart than this are a gap, not one long interval
/// (the app's lanes use the same rule).
pub const GAP_NS: u64 = 500_000_000;

/// Calls `each(from_ns, to_ns, values)` for every row of `series` and its
/// older tiers, oldest first, with the values of the columns `names` (in
/// that order; `None`: a gap in that column, or a column the tier does not
/// have). Intervals never overlap and come in order.
pub fn for_each<F>(series: &TimeSeries, names: &[String], mut each: F)
where
    F: FnMut(u64, u64, &[Option<f32>]),
{
    let mut tiers = vec![series];
    while let Some(older) = tiers.last().and_then(|t| t.older()) {
        tiers.push(older);
    }
    let mut values = vec![None; names.len()];
    let mut done_ns: Option<u64> = None;
    // Oldest tier first; each covers what comes before the next finer
    // tier's first row.
    for k in (0..tiers.len()).rev() {
        let tier = tiers[k];
        let times = tier.times_ns();
        if times.is_empty() {
            continue;
        }
        let cutoff = tiers[..k]
            .iter()
            .rev()
            .find_map(|t| t.first_t_ns())
            .unwrap_or(u64::MAX);
        let ids: Vec<_> = names.iter().map(|n| tier.column_id(n)).collect();
        let exact = k == 0;
        let end = times.partition_point(|&t| t < cutoff);
        for row in 0..end {
            let t = times[row];
            let (from, to) = if exact {
                let span = match row {
                    0 => times.get(1).map_or(0, |&next| next.saturating_sub(t)),
                    _ => t - times[row - 1],
                };
                if span > GAP_NS {
                    continue;
                }
                (t.saturating_sub(span), t)
            } else {
                let next = times.get(row + 1).copied().filter(|&n| n < cutoff);
                (t, next.unwrap_or(cutoff).min(t.saturating_add(GAP_NS * 64)))
            };
            // Never back over what an older tier already covered.
            let from = done_ns.map_or(from, |d| from.max(d));
            if to <= from {
                continue;
            }
            for (slot, id) in values.iter_mut().zip(&ids) {
                *slot = id.and_then(|id| tier.value(id, row));
            }
            each(from, to, &values);
            done_ns = Some(to);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SeriesLimits;

    const MS: u64 = 1_000_000;

    #[test]
    fn rows_are_intervals_since_the_previous_and_gaps_are_skipped() {
        let mut s = TimeSeries::new(SeriesLimits::default());
        let id = s.column("x");
        for (t, v) in [(100, 0.1), (120, 0.2), (140, 0.3), (900, 0.4), (920, 0.5)] {
            s.push_row(t * MS).unwrap();
            s.set_last(id, v);
        }
        let mut seen = Vec::new();
        for_each(&s, &["x".to_string(), "y".to_string()], |f, t, v| {
            seen.push((f / MS, t / MS, v[0], v[1]));
        });
        assert_eq!(
            seen,
            vec![
                (80, 100, Some(0.1), None),
                (100, 120, Some(0.2), None),
                (120, 140, Some(0.3), None),
                // 140 → 900 ms is a gap: the 900 ms row is skipped.
                (900, 920, Some(0.5), None),
            ]
        );
    }

    #[test]
    fn older_tiers_come_first_and_never_overlap() {
        let limits = SeriesLimits {
            max_age_ns: None,
            max_rows: 64,
        };
        let mut s = TimeSeries::new(limits).with_older(1);
        let id = s.column("x");
        for i in 0..1000u64 {
            s.push_row(i * 20 * MS).unwrap();
            s.set_last(id, 0.5);
            s.prune(i * 20 * MS);
        }
        assert!(s.older().is_some_and(|o| !o.is_empty()));
        let mut last_to = 0;
        let mut covered = 0;
        for_each(&s, &["x".to_string()], |f, t, v| {
            assert!(f >= last_to, "{f} < {last_to}");
            assert_eq!(v[0], Some(0.5));
            last_to = t;
            covered += t - f;
        });
        assert_eq!(last_to, 999 * 20 * MS);
        // Nearly all of the 20 s is covered, old and new.
        assert!(covered > 19_000 * MS, "{covered}");
    }
}
