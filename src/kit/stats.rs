//! Order statistics over `f64` readings, in one place so the benches, the
//! sweep's aggregate and the report agree on what a median is.
//!
//! * [`median`]: of the finite values, the mean of the middle two for an
//!   even count; `None` for none ([`median_or_nan`]: NaN, for benches).
//! * [`percentile`]: the nearest-rank value (`sorted[round((n − 1) · p)]`),
//!   as the benches report (p99 of tick costs, frame times).
//! * [`quantile`]: linear interpolation between sorted values (the sweep's
//!   quartiles).

/// Median of the finite values; `None` when there are none.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// [`median`] of a slice, NaN when it has no finite value (what a bench
/// prints).
pub fn median_or_nan(values: &[f64]) -> f64 {
    median(values.to_vec()).unwrap_or(f64::NAN)
}

/// The nearest-rank `p`-percentile (`p` in 0…1) of `values`, which it
/// sorts; NaN when empty.
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let idx = ((values.len() - 1) as f64 * p).round() as usize;
    values[idx.min(values.len() - 1)]
}

/// The `q`-quantile (`q` in 0…1) of `sorted` (ascending, not empty),
/// interpolated linearly between its neighbours.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN, 1.0]), Some(1.0));
        assert_eq!(median(vec![f64::INFINITY, f64::NAN]), None);
        assert_eq!(median_or_nan(&[2.0, 1.0]), 1.5);
        assert!(median_or_nan(&[]).is_nan());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut v, 0.5), 3.0);
        assert_eq!(v, [1.0, 2.0, 3.0, 4.0, 5.0], "sorted in place");
        assert_eq!(percentile(&mut v, 0.0), 1.0);
        assert_eq!(percentile(&mut v, 1.0), 5.0);
        // (5 − 1) · 0.99 = 3.96 → rank 4: the largest, not an interpolation.
        assert_eq!(percentile(&mut v, 0.99), 5.0);
        assert_eq!(percentile(&mut v, 0.6), 3.0, "2.4 rounds to rank 2");
        assert!(percentile(&mut [], 0.5).is_nan());
    }

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 1.1, 1.2];
        assert!((quantile(&v, 0.25) - 1.05).abs() < 1e-12);
        assert!((quantile(&v, 0.75) - 1.15).abs() < 1e-12);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 1.2);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
    }
}
