//! The inner loops of decimation: min/max of a run of values, bucket
//! boundaries without a division per bucket, and a galloping search.

/// The min/max of values with no reading.
pub(super) const EMPTY: (f32, f32) = (f32::INFINITY, f32::NEG_INFINITY);

const LANES: usize = 8;

/// Min/max of `values`, skipping NaN gaps (`v < lo` is false for NaN), in
/// eight lanes so that it vectorizes. Readings are finite, so the result is
/// [`EMPTY`] only when every value is a gap.
pub(super) fn scan(values: &[f32]) -> (f32, f32) {
    let mut lo = [f32::INFINITY; LANES];
    let mut hi = [f32::NEG_INFINITY; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(chunk) {
            *l = if v < *l { v } else { *l };
            *h = if v > *h { v } else { *h };
        }
    }
    let mut extent = EMPTY;
    for (&l, &h) in lo.iter().zip(&hi) {
        extent = merge(extent, (l, h));
    }
    for &v in rest {
        extent = merge(extent, (v, v));
    }
    extent
}

/// The union of two extents (NaN operands are ignored).
pub(super) fn merge(a: (f32, f32), b: (f32, f32)) -> (f32, f32) {
    (
        if b.0 < a.0 { b.0 } else { a.0 },
        if b.1 > a.1 { b.1 } else { a.1 },
    )
}

/// `n` equal slices of `span` time offsets: offset `x` lies in bucket
/// `floor(x * n / span)`; bucket `b` ends before `ceil((b + 1) * span / n)`.
pub(super) struct Grid {
    span: u128,
    n: u128,
    step_q: u128,
    step_r: u128,
}

/// One bucket `b`, as `(b + 1) * span = q * n + r`.
#[derive(Clone, Copy)]
pub(super) struct Cursor {
    q: u128,
    r: u128,
}

impl Grid {
    /// `span` ≥ 1 offsets (up to 2^64), `n` ≥ 1 buckets.
    pub(super) fn new(span: u128, n: u128) -> Self {
        Self {
            span,
            n,
            step_q: span / n,
            step_r: span % n,
        }
    }

    /// The bucket holding offset `x` (< span).
    pub(super) fn at(&self, x: u128) -> Cursor {
        let num = (x * self.n / self.span + 1) * self.span;
        Cursor {
            q: num / self.n,
            r: num % self.n,
        }
    }

    /// The bucket after `c`, without a division.
    pub(super) fn next(&self, c: Cursor) -> Cursor {
        let (mut q, mut r) = (c.q + self.step_q, c.r + self.step_r);
        if r >= self.n {
            r -= self.n;
            q += 1;
        }
        Cursor { q, r }
    }

    /// The first offset past bucket `c`.
    pub(super) fn end(c: Cursor) -> u128 {
        c.q + u128::from(c.r > 0)
    }
}

/// The first index after `start` where `pred` is false, `pred` holding at
/// `start` and being monotone: O(log k) for a result k rows on.
pub(super) fn gallop(times: &[u64], start: usize, pred: impl Fn(u64) -> bool) -> usize {
    let mut lo = start;
    let mut step = 1;
    let mut hi = start + 1;
    while hi < times.len() && pred(times[hi]) {
        lo = hi;
        step *= 2;
        hi = start + step;
    }
    let hi = hi.min(times.len());
    lo + 1 + times[lo + 1..hi].partition_point(|&t| pred(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_skips_gaps_in_every_lane() {
        let mut values = vec![f32::NAN; 37];
        assert_eq!(scan(&values), EMPTY);
        values[3] = 2.0;
        values[36] = -1.0;
        values[17] = 5.0;
        assert_eq!(scan(&values), (-1.0, 5.0));
        assert_eq!(scan(&[]), EMPTY);
    }

    #[test]
    fn grid_steps_match_division() {
        for (span, n) in [
            (1u128, 1u128),
            (10, 3),
            (1000, 7),
            (7, 1000),
            (1 << 64, 2000),
        ] {
            let grid = Grid::new(span, n);
            let mut c = grid.at(0);
            for b in 0..n.min(3000) {
                assert_eq!(Grid::end(c), ((b + 1) * span).div_ceil(n), "{span} {n} {b}");
                c = grid.next(c);
            }
        }
    }

    #[test]
    fn gallop_finds_the_end() {
        let times: Vec<u64> = (0..100).collect();
        for start in [0, 5, 99] {
            for end in start + 1..=100 {
                assert_eq!(gallop(&times, start, |t| t < end as u64), end);
            }
        }
    }
}
