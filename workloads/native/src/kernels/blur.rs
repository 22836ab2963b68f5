//! The blur kernel: one band of rows, exactly as `run_chunk` in
//! `workloads/builtin/blur.py` computes it (and `src/blur.rs` in gilscope,
//! the reference, for the whole image):
//!
//! out(x, y, c) = floor(sum over dy, dx in -r..=r of
//!                      in(clamp(x+dx), clamp(y+dy), c) / (2r+1)^2)
//!
//! computed separably: horizontal window sums of every row the band needs
//! (halo rows clamped to the image), then vertical sums of those, and one
//! integer floor division at the end. Pure Rust: no Python object is touched,
//! so the caller runs it with the GIL released.

use std::cell::RefCell;
use std::fmt;
use std::ops::AddAssign;

thread_local! {
    // The horizontal sums of a band, kept per thread between calls: a fresh
    // megabyte-sized allocation per band would page-fault on every call, and
    // page faults of threads of one process contend in the kernel.
    static SUMS_U32: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    static SUMS_U64: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Why a band cannot be blurred (becomes a Python `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BandError {
    /// `rgb` does not hold `width * height * 3` bytes.
    Size {
        len: usize,
        width: usize,
        height: usize,
    },
    /// `y0..y1` is empty or leaves the image.
    Rows { y0: usize, y1: usize, height: usize },
}

impl fmt::Display for BandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BandError::Size { len, width, height } => write!(
                f,
                "rgb has {len} bytes; a {width} x {height} RGB image needs {}",
                width.saturating_mul(*height).saturating_mul(3)
            ),
            BandError::Rows { y0, y1, height } => write!(
                f,
                "rows {y0}..{y1} are not a non-empty band of an image {height} rows high"
            ),
        }
    }
}

/// A window-sum accumulator: `u32` while `255 * (2r+1)^2` fits, else `u64`.
trait Acc: Copy + Default + AddAssign + From<u8> {
    /// `self / area` (always <= 255, since every term is <= 255).
    fn div_to_u8(self, area: u64) -> u8;
}

impl Acc for u32 {
    fn div_to_u8(self, area: u64) -> u8 {
        (u64::from(self) / area) as u8
    }
}

impl Acc for u64 {
    fn div_to_u8(self, area: u64) -> u8 {
        (self / area) as u8
    }
}

/// Blur rows `y0..y1` of a packed-RGB `width` x `height` image with box
/// radius `radius`; returns the band's `(y1 - y0) * width * 3` bytes.
pub fn blur_band(
    rgb: &[u8],
    width: usize,
    height: usize,
    radius: usize,
    y0: usize,
    y1: usize,
) -> Result<Vec<u8>, BandError> {
    let expected = width.checked_mul(height).and_then(|n| n.checked_mul(3));
    if width == 0 || height == 0 || expected != Some(rgb.len()) {
        return Err(BandError::Size {
            len: rgb.len(),
            width,
            height,
        });
    }
    if y0 >= y1 || y1 > height {
        return Err(BandError::Rows { y0, y1, height });
    }
    let side = 2 * radius as u64 + 1;
    let area = side * side;
    let shape = Band {
        rgb,
        width,
        height,
        r: radius,
        y0,
        y1,
        area,
    };
    if area.saturating_mul(255) <= u64::from(u32::MAX) {
        Ok(SUMS_U32.with_borrow_mut(|sums| band(&shape, sums)))
    } else {
        Ok(SUMS_U64.with_borrow_mut(|sums| band(&shape, sums)))
    }
}

/// One call's inputs.
struct Band<'a> {
    rgb: &'a [u8],
    width: usize,
    height: usize,
    r: usize,
    y0: usize,
    y1: usize,
    area: u64,
}

fn band<A: Acc>(b: &Band<'_>, sums: &mut Vec<A>) -> Vec<u8> {
    let Band {
        rgb,
        width,
        height,
        r,
        y0,
        y1,
        area,
    } = *b;
    let stride = width * 3;
    // the rows the band's windows reach, clamped to the image
    let lo = y0.saturating_sub(r);
    let hi = (y1 - 1 + r).min(height - 1);
    sums.clear();
    sums.resize((hi - lo + 1) * stride, A::default());
    for y in lo..=hi {
        let row = &rgb[y * stride..(y + 1) * stride];
        horizontal(
            row,
            width,
            r,
            &mut sums[(y - lo) * stride..(y - lo + 1) * stride],
        );
    }
    let mut out = vec![0u8; (y1 - y0) * stride];
    let mut acc = vec![A::default(); stride];
    for (y, out_row) in (y0..y1).zip(out.chunks_exact_mut(stride)) {
        acc.iter_mut().for_each(|a| *a = A::default());
        for dy in 0..=2 * r {
            // clamp(y + dy - r) to 0..height, always within lo..=hi
            let sy = (y + dy).saturating_sub(r).min(height - 1);
            let src = &sums[(sy - lo) * stride..(sy - lo + 1) * stride];
            for (a, &v) in acc.iter_mut().zip(src) {
                *a += v;
            }
        }
        for (o, &a) in out_row.iter_mut().zip(&acc) {
            *o = a.div_to_u8(area);
        }
    }
    out
}

/// Window sums along one row: `out[3x + c] = sum over dx of
/// row[3 clamp(x + dx) + c]`. One pass per offset `dx`: the part of the row
/// where `x + dx` stays inside is a plain shifted add, the edges clamp.
fn horizontal<A: Acc>(row: &[u8], width: usize, r: usize, out: &mut [A]) {
    let last = &row[(width - 1) * 3..width * 3];
    let first = &row[..3];
    for k in 0..=2 * r {
        // offset dx = k - r; x + dx is inside for x in start..end
        let start = r.saturating_sub(k).min(width);
        let end = (width + r).saturating_sub(k).min(width).max(start);
        for px in out[..start * 3].chunks_exact_mut(3) {
            px.iter_mut()
                .zip(first)
                .for_each(|(o, &v)| *o += A::from(v));
        }
        if end > start {
            // here x + dx >= 0 for x >= start, so start + k >= r
            let src = (start + k - r) * 3;
            let inner = &row[src..src + (end - start) * 3];
            for (o, &v) in out[start * 3..end * 3].iter_mut().zip(inner) {
                *o += A::from(v);
            }
        }
        for px in out[end * 3..].chunks_exact_mut(3) {
            px.iter_mut().zip(last).for_each(|(o, &v)| *o += A::from(v));
        }
    }
}
