//! One column: the readings of the rows it has held a value for, with
//! rows addressed by absolute number (rows pruned so far + index). Rows
//! before its first reading and after its last one are gaps that take no
//! memory, so a thread that lived for a second costs a second of rows.

use super::BLOCK_ROWS;
use super::scan::{EMPTY, merge, scan};
use std::ops::Range;

const B: u64 = BLOCK_ROWS as u64;

#[derive(Debug, Clone)]
pub(super) struct Column {
    pub(super) name: String,
    /// Absolute row of `values[0]`.
    start: u64,
    /// NaN is a gap.
    values: Vec<f32>,
    /// Min/max per block of [`BLOCK_ROWS`] absolute rows, from the block
    /// holding `start`; [`EMPTY`] for a block without a reading.
    blocks: Vec<(f32, f32)>,
}

impl PartialEq for Column {
    /// Bitwise on values, so that gaps (always `f32::NAN`) compare equal.
    fn eq(&self, other: &Self) -> bool {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        self.name == other.name
            && (self.values.is_empty() || self.start == other.start)
            && bits(&self.values) == bits(&other.values)
            && self.blocks == other.blocks
    }
}

impl Column {
    pub(super) fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            start: 0,
            values: Vec::new(),
            blocks: Vec::new(),
        }
    }

    /// A column holding `values` from absolute row `start` (gaps as NaN).
    pub(super) fn from_values(name: &str, start: u64, values: Vec<f32>) -> Self {
        let mut column = Self {
            name: name.to_string(),
            start,
            values,
            blocks: Vec::new(),
        };
        let blocks = match column.end().checked_sub(column.start + 1) {
            Some(_) => column.block_of(column.end() - 1) + 1,
            None => 0,
        };
        column.blocks = (0..blocks)
            .map(|k| scan(&column.values[column.block_span(k)]))
            .collect();
        column
    }

    /// The stored span: its first absolute row and the values from there.
    pub(super) fn stored(&self) -> (u64, &[f32]) {
        (self.start, &self.values)
    }

    fn end(&self) -> u64 {
        self.start + self.values.len() as u64
    }

    /// The reading at absolute row `abs`; `None` for a gap.
    pub(super) fn get(&self, abs: u64) -> Option<f32> {
        let i = usize::try_from(abs.checked_sub(self.start)?).ok()?;
        self.values.get(i).copied().filter(|v| !v.is_nan())
    }

    /// Sets absolute row `abs` (NaN: a gap); rows up to it become gaps.
    pub(super) fn set(&mut self, abs: u64, value: f32) {
        if abs >= self.end() || self.values.is_empty() {
            if value.is_nan() {
                return;
            }
            if self.values.is_empty() {
                self.start = abs;
                self.blocks.clear();
            }
            self.values
                .resize((abs - self.start) as usize + 1, f32::NAN);
            self.blocks.resize(self.block_of(abs) + 1, EMPTY);
        }
        let Some(i) = abs.checked_sub(self.start).map(|i| i as usize) else {
            return;
        };
        let k = self.block_of(abs);
        let Some(slot) = self.values.get_mut(i) else {
            return;
        };
        let old = std::mem::replace(slot, value);
        if !old.is_nan() {
            // The old reading may have been its block's min or max.
            self.recompute_block(k);
        } else if let Some(b) = self.blocks.get_mut(k) {
            *b = merge(*b, (value, value));
        }
    }

    /// Forgets every row before absolute row `abs`.
    pub(super) fn drop_before(&mut self, abs: u64) {
        if abs <= self.start {
            return;
        }
        if abs >= self.end() {
            // Nothing left: give the memory back.
            self.values = Vec::new();
            self.blocks = Vec::new();
            return;
        }
        let old_first_block = self.start / B;
        self.values.drain(..(abs - self.start) as usize);
        self.start = abs;
        let gone = (abs / B - old_first_block) as usize;
        self.blocks.drain(..gone.min(self.blocks.len()));
        // The first block lost some rows: its min/max may be stale.
        self.recompute_block(0);
    }

    /// Min and max over absolute rows `rows`; `None` if all are gaps.
    pub(super) fn min_max(&self, rows: Range<u64>) -> Option<(f32, f32)> {
        let a = rows.start.max(self.start);
        let b = rows.end.min(self.end());
        if a >= b {
            return None;
        }
        let (a, b) = ((a - self.start) as usize, (b - self.start) as usize);
        let base = (self.start % B) as usize;
        // Whole blocks: from the first starting at or after `a` to the last
        // ending at or before `b`.
        let first_whole = (a + base).div_ceil(BLOCK_ROWS);
        let end_whole = (b + base) / BLOCK_ROWS;
        let extent = if first_whole >= end_whole {
            scan(&self.values[a..b])
        } else {
            let head = scan(&self.values[a..first_whole * BLOCK_ROWS - base]);
            let blocks = self.blocks[first_whole..end_whole]
                .iter()
                .fold(head, |e, &block| merge(e, block));
            merge(blocks, scan(&self.values[end_whole * BLOCK_ROWS - base..b]))
        };
        (extent.0 <= extent.1).then_some(extent)
    }

    /// The newest reading at or before absolute row `abs`, with its row.
    pub(super) fn last_at_or_before(&self, abs: u64) -> Option<(u64, f32)> {
        let end = abs.checked_sub(self.start)?.saturating_add(1);
        let end = usize::try_from(end)
            .unwrap_or(usize::MAX)
            .min(self.values.len());
        self.values[..end]
            .iter()
            .rposition(|v| !v.is_nan())
            .map(|i| (self.start + i as u64, self.values[i]))
    }

    /// Index in `blocks` of the block holding absolute row `abs`.
    fn block_of(&self, abs: u64) -> usize {
        (abs / B).saturating_sub(self.start / B) as usize
    }

    /// Indexes in `values` of block `k`.
    fn block_span(&self, k: usize) -> Range<usize> {
        let base = (self.start % B) as usize;
        let start = (k * BLOCK_ROWS).saturating_sub(base);
        let end = ((k + 1) * BLOCK_ROWS - base).min(self.values.len());
        start..end.max(start)
    }

    fn recompute_block(&mut self, k: usize) {
        let extent = scan(&self.values[self.block_span(k)]);
        if let Some(b) = self.blocks.get_mut(k) {
            *b = extent;
        }
    }
}
