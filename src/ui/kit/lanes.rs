//! Bitmaps for the time plots: the per-core heat map and the thread-state
//! swimlanes, one pixel column per time bucket and one row per core or
//! thread. They are uploaded as textures and stretched over the plot's time
//! axis, so 64 cores or 256 threads cost one quad each, not one shape per
//! reading. Missing readings stay transparent: a gap, never a zero.

use crate::store::RunRecord;
use crate::store::labels::ThreadLabel;
use crate::store::series::{ColumnId, TimeSeries};
use egui::{Color32, ColorImage};

/// Colours of the three thread states (and the heat map's ends).
#[derive(Debug, Clone, Copy)]
pub struct StateColors {
    /// Running (with the GIL, when the GIL reader knows).
    pub running: Color32,
    /// Running without holding any GIL (free-threaded, or released it).
    pub running_free: Color32,
    /// Runnable, waiting for a core.
    pub waiting: Color32,
    /// Blocked (waiting for the GIL, when the GIL reader knows).
    pub blocked: Color32,
    /// Blocked on something other than a GIL (exact lanes only).
    pub blocked_other: Color32,
    /// Running at a moment the GIL reader has no reading for (exact lanes
    /// only: before it attached, or a gap).
    pub unread: Color32,
    /// Runnable without the GIL where the interpreter does not show whether
    /// it is waiting inside `take_gil` (3.13/3.14, exact lanes only).
    pub unsure: Color32,
    /// Heat map at 0 % busy.
    pub cold: Color32,
    /// Heat map at 100 % busy.
    pub hot: Color32,
}

impl StateColors {
    pub fn new(dark: bool) -> Self {
        use super::style::rgb;
        use crate::palette::state;
        Self {
            running: rgb(state::HOLDING),
            running_free: rgb(state::RUNNING_FREE),
            waiting: rgb(state::WAITING_FOR_CORE),
            blocked: rgb(state::WAITING_FOR_GIL),
            blocked_other: if dark {
                Color32::from_rgb(0x6b, 0x72, 0x80)
            } else {
                Color32::from_rgb(0xa0, 0xa6, 0xb0)
            },
            unread: if dark {
                Color32::from_rgb(0xc8, 0xcd, 0xd4)
            } else {
                Color32::from_rgb(0x55, 0x5b, 0x66)
            },
            unsure: rgb(state::UNSURE),
            cold: if dark {
                Color32::from_rgb(0x24, 0x3b, 0x55)
            } else {
                Color32::from_rgb(0xdc, 0xe6, 0xf2)
            },
            hot: Color32::from_rgb(0xff, 0x6b, 0x1a),
        }
    }
}

/// One bitmap and what its rows are.
#[derive(Debug, Clone)]
pub struct Bitmap {
    pub image: ColorImage,
    /// Row labels, top to bottom.
    pub rows: Vec<String>,
    /// Seconds since the run's t0 covered by the bitmap (left, right edge).
    pub t_from_s: f64,
    pub t_to_s: f64,
}

/// A time window of a run, in ns on the sampler's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub t0_ns: u64,
    pub from_ns: u64,
    pub to_ns: u64,
}

impl Span {
    /// The whole recorded span of `run` (`None` before the first sample).
    pub fn whole(run: &RunRecord) -> Option<Self> {
        let series = run.series();
        let t0_ns = run.t0_ns().or(series.first_t_ns())?;
        let from_ns = series.first_t_ns()?.max(t0_ns);
        let to_ns = series.last_t_ns()?.max(from_ns + 1);
        Some(Self {
            t0_ns,
            from_ns,
            to_ns,
        })
    }

    pub fn secs(&self, t_ns: u64) -> f64 {
        (t_ns as f64 - self.t0_ns as f64) / 1e9
    }
}

/// Readings further apart than this are a gap (the sampler fell behind or
/// the value could not be read), not one long interval.
pub const GAP_NS: u64 = 500_000_000;
/// Most columns an accumulator keeps; past this it halves its resolution.
pub const MAX_COLS: usize = 1024;
/// The finest column: 10 ms.
pub const FIRST_BUCKET_NS: u64 = 10_000_000;

/// Per-column maxima of some columns of a growing [`TimeSeries`], at a
/// fixed time resolution that halves (merging neighbours) whenever the run
/// outgrows [`MAX_COLS`] columns. Each frame feeds only the rows that
/// arrived since the last one, so a 10-minute run costs no more per frame
/// than a 10-second one.
///
/// A reading describes the interval since the previous one, so it fills
/// the columns back to the previous reading of the same column (unless
/// that was more than [`GAP_NS`] earlier: a gap stays empty).
#[derive(Debug, Clone)]
pub struct Accumulator {
    pub start_ns: u64,
    pub bucket_ns: u64,
    /// Columns in use (the newest reading's column + 1).
    pub cols: usize,
    data: Vec<Vec<Option<f32>>>,
    last: Vec<Option<(usize, u64)>>,
    index: std::collections::HashMap<ColumnId, usize>,
    /// Absolute number of the next row to read (see `TimeSeries::pruned_rows`).
    next_row: u64,
    /// How far back a column's first reading reaches (0: its own column
    /// only). The GIL reader's rows each close a 100 ms interval.
    first_span_ns: u64,
}

impl Accumulator {
    pub fn new(start_ns: u64, bucket_ns: u64) -> Self {
        Self {
            start_ns,
            bucket_ns: bucket_ns.max(1),
            cols: 0,
            data: Vec::new(),
            last: Vec::new(),
            index: std::collections::HashMap::new(),
            next_row: 0,
            first_span_ns: 0,
        }
    }

    /// An accumulator whose readings each describe the `span_ns` before
    /// them (the first one too).
    pub fn with_first_span(mut self, span_ns: u64) -> Self {
        self.first_span_ns = span_ns;
        self
    }

    /// The time covered, `[start, start + cols × bucket)`.
    pub fn end_ns(&self) -> u64 {
        self.start_ns + self.cols as u64 * self.bucket_ns
    }

    /// Rows read so far (absolute).
    pub fn rows_read(&self) -> u64 {
        self.next_row
    }

    /// Column maxima of `id` (`None` when it was never fed).
    pub fn column(&self, id: ColumnId) -> Option<&[Option<f32>]> {
        self.index
            .get(&id)
            .map(|&i| &self.data[i][..self.cols.min(self.data[i].len())])
    }

    /// Reads the rows of `series` not read yet, for every column in `ids`.
    pub fn feed(&mut self, series: &TimeSeries, ids: &[ColumnId]) {
        let slots: Vec<usize> = ids
            .iter()
            .map(|id| {
                *self.index.entry(*id).or_insert_with(|| {
                    self.data.push(Vec::new());
                    self.last.push(None);
                    self.data.len() - 1
                })
            })
            .collect();
        let first = series.pruned_rows();
        let times = series.times_ns();
        let end = first + times.len() as u64;
        let from = (self.next_row.max(first) - first) as usize;
        self.next_row = end;
        let Some(&t_last) = times.last() else { return };
        if from >= times.len() || t_last < self.start_ns {
            return;
        }
        // Times only grow: the newest row decides the resolution.
        while ((t_last - self.start_ns) / self.bucket_ns) as usize >= MAX_COLS {
            self.halve();
        }
        let cols: Vec<Option<usize>> = times[from..]
            .iter()
            .map(|&t| (t >= self.start_ns).then(|| ((t - self.start_ns) / self.bucket_ns) as usize))
            .collect();
        for (&id, &i) in ids.iter().zip(&slots) {
            let data = &mut self.data[i];
            let mut last = self.last[i];
            for (k, col) in cols.iter().enumerate() {
                let Some(col) = *col else { continue };
                let Some(v) = series.value(id, from + k) else {
                    continue;
                };
                let t = times[from + k];
                let from_col = match last {
                    Some((pc, pt)) if t.saturating_sub(pt) <= GAP_NS && pc < col => pc + 1,
                    Some(_) => col,
                    None => {
                        let from_t = t.saturating_sub(self.first_span_ns).max(self.start_ns);
                        (((from_t - self.start_ns) / self.bucket_ns) as usize).min(col)
                    }
                };
                if data.len() <= col {
                    data.resize(col + 1, None);
                }
                for slot in &mut data[from_col..=col] {
                    *slot = Some(slot.map_or(v, |old: f32| old.max(v)));
                }
                last = Some((col, t));
            }
            self.last[i] = last;
        }
        if let Some(Some(col)) = cols.last() {
            self.cols = self.cols.max(col + 1);
        }
    }

    /// Doubles the bucket: each new column is the max of two old ones.
    fn halve(&mut self) {
        self.bucket_ns *= 2;
        for data in &mut self.data {
            let merged: Vec<Option<f32>> = data
                .chunks(2)
                .map(|pair| pair.iter().flatten().copied().reduce(f32::max))
                .collect();
            *data = merged;
        }
        for last in self.last.iter_mut().flatten() {
            last.0 /= 2;
        }
        self.cols = self.cols.div_ceil(2);
    }
}

/// The colour `t` of the way from `a` to `b`.
pub fn mix(a: Color32, b: Color32, t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

/// A bitmap spanning the accumulator's time, in seconds since the run's t0.
fn bitmap(run: &RunRecord, acc: &Accumulator, image: ColorImage, rows: Vec<String>) -> Bitmap {
    let t0 = run.t0_ns().unwrap_or(acc.start_ns) as f64;
    Bitmap {
        image,
        rows,
        t_from_s: (acc.start_ns as f64 - t0) / 1e9,
        t_to_s: (acc.end_ns() as f64 - t0) / 1e9,
    }
}

/// The columns an accumulator must read for `run`'s bitmaps.
pub fn bitmap_columns(run: &RunRecord, max_lanes: usize) -> Vec<ColumnId> {
    let mut ids: Vec<ColumnId> = run.cores().values().map(|c| c.busy).collect();
    let tracks = run.thread_tracks();
    for (_, tid) in lane_threads(run, max_lanes) {
        if let Some(t) = tracks.get(&tid) {
            ids.extend([t.columns.running, t.columns.waiting, t.columns.blocked]);
        }
    }
    ids
}

/// The GIL columns an accumulator over `run.gil().series` must read.
pub fn gil_columns(run: &RunRecord, max_lanes: usize) -> Vec<ColumnId> {
    let gil = &run.gil().threads;
    lane_threads(run, max_lanes)
        .into_iter()
        .filter_map(|(_, tid)| gil.get(&tid))
        .flat_map(|t| {
            [t.columns.hold, t.columns.wait, t.columns.run_free]
                .into_iter()
                .chain(t.columns.unsure)
        })
        .collect()
}

/// Heat map: a row per core (cpu0 on top), colour = busy fraction.
pub fn core_heat(run: &RunRecord, acc: &Accumulator, colors: StateColors) -> Bitmap {
    let width = acc.cols.max(1);
    let cores = run.cores();
    let mut image = ColorImage::filled([width, cores.len().max(1)], Color32::TRANSPARENT);
    let mut rows = Vec::with_capacity(cores.len());
    for (row, (cpu, cols)) in cores.iter().enumerate() {
        rows.push(format!("cpu{cpu}"));
        for (x, v) in acc.column(cols.busy).unwrap_or(&[]).iter().enumerate() {
            if let Some(v) = v {
                image[(x, row)] = mix(colors.cold, colors.hot, *v);
            }
        }
    }
    bitmap(run, acc, image, rows)
}

/// Which threads get a lane: main, the workers, then the others (at most
/// `max_lanes`; the rest are counted in the last label).
pub fn lane_threads(run: &RunRecord, max_lanes: usize) -> Vec<(ThreadLabel, u32)> {
    run.threads()
        .into_iter()
        .map(|(label, t)| (label, t.tid))
        .take(max_lanes.max(1))
        .collect()
}

/// Texture rows per swimlane: one blank separator row, then the bar.
pub const LANE_PX: usize = 12;

/// Swimlanes: a lane per thread; in each pixel column a small stacked bar,
/// top to bottom running, waiting for a core, blocked, in proportion to the
/// largest fraction of each seen in that column (so a thread that switches
/// between running and blocked within a column shows both, at any zoom).
pub fn thread_lanes(
    run: &RunRecord,
    acc: &Accumulator,
    gil: Option<&Accumulator>,
    max_lanes: usize,
    colors: StateColors,
) -> Bitmap {
    let width = acc.cols.max(1);
    let lanes = lane_threads(run, max_lanes);
    let mut image = ColorImage::filled([width, lanes.len().max(1) * LANE_PX], Color32::TRANSPARENT);
    let mut rows = Vec::with_capacity(lanes.len());
    let tracks = run.thread_tracks();
    let gil_threads = &run.gil().threads;
    let t_of = |a: &Accumulator, x: usize| a.start_ns + x as u64 * a.bucket_ns;
    for (lane, (label, tid)) in lanes.iter().enumerate() {
        let track = tracks.get(tid);
        // A script's or an attached process's threads by their Python
        // names (`ThreadPoolExecutor-0_1`); a workload's by its roles.
        let name = run.thread_name(*tid).unwrap_or_else(|| label.to_string());
        rows.push(format!("{name} · {tid}"));
        let Some(track) = track else {
            continue;
        };
        let col = |id| acc.column(id).unwrap_or(&[]);
        let (running, waiting, blocked) = (
            col(track.columns.running),
            col(track.columns.waiting),
            col(track.columns.blocked),
        );
        // The GIL reader's columns for this thread, if it saw it.
        let exact = gil.zip(gil_threads.get(tid)).map(|(g, t)| {
            let c = |id| g.column(id).unwrap_or(&[]);
            let unsure = t.columns.unsure.map_or(&[][..], c);
            (
                g,
                c(t.columns.hold),
                c(t.columns.wait),
                c(t.columns.run_free),
                unsure,
            )
        });
        let at = |c: &[Option<f32>], x: usize| c.get(x).copied().flatten();
        for x in 0..width {
            let (r, w, b) = (at(running, x), at(waiting, x), at(blocked, x));
            if r.is_none() && w.is_none() && b.is_none() {
                continue;
            }
            let (r, w, b) = (r.unwrap_or(0.0), w.unwrap_or(0.0), b.unwrap_or(0.0));
            // Split running into with/without the GIL and blocked into
            // waiting for the GIL / anything else, where the GIL reader
            // has a reading for this moment.
            let gil_at = exact.and_then(|(g, hold, wait, free, unsure)| {
                let t = t_of(acc, x);
                if t < g.start_ns {
                    return None;
                }
                let gx = ((t - g.start_ns) / g.bucket_ns) as usize;
                // Of running without the GIL (the /proc running time its
                // GIL holds do not cover), the share the probes proved
                // free; without such proof in this column, all of it is
                // unsure — never painted as running free on a guess.
                let (f, u) = (at(free, gx).unwrap_or(0.0), at(unsure, gx).unwrap_or(0.0));
                let unsure_share = if f + u > 0.0 { u / (f + u) } else { 1.0 };
                Some((at(hold, gx)?, at(wait, gx).unwrap_or(0.0), unsure_share))
            });
            // At most six segments, on the stack: this runs per pixel.
            let none = (0.0, Color32::TRANSPARENT);
            let segments: [(f32, Color32); 6] = match gil_at {
                Some((hold, gwait, unsure_share)) => {
                    let with = r.min(hold);
                    let without = r - with;
                    let gw = b.min(gwait);
                    [
                        (with, colors.running),
                        (without * (1.0 - unsure_share), colors.running_free),
                        (without * unsure_share, colors.unsure),
                        (w, colors.waiting),
                        (gw, colors.blocked),
                        (b - gw, colors.blocked_other),
                    ]
                }
                // The GIL reader saw this thread, but not at this moment.
                None if exact.is_some() => [
                    (r, colors.unread),
                    (w, colors.waiting),
                    (b, colors.blocked_other),
                    none,
                    none,
                    none,
                ],
                None => [
                    (r, colors.running),
                    (w, colors.waiting),
                    (b, colors.blocked),
                    none,
                    none,
                    none,
                ],
            };
            let heights = stack_n(segments.map(|s| s.0), LANE_PX - 1);
            let mut y = lane * LANE_PX + 1;
            for (n, (_, color)) in heights.into_iter().zip(&segments) {
                for _ in 0..n {
                    image[(x, y)] = if *color == colors.blocked {
                        hatch(*color, x, y)
                    } else {
                        *color
                    };
                    y += 1;
                }
            }
        }
    }
    bitmap(run, acc, image, rows)
}

/// Waiting for a GIL is hatched ([`crate::palette::lane::hatch`]), so it
/// reads without colour too.
pub fn hatch(color: Color32, x: usize, y: usize) -> Color32 {
    let [r, g, b] = crate::palette::lane::hatch([color.r(), color.g(), color.b()], x, y, 2);
    Color32::from_rgb(r, g, b)
}

pub use crate::palette::lane::stack_n;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_are_proportional_and_fill_the_bar() {
        assert_eq!(stack_n([1.0, 0.0, 0.0], 11), [11, 0, 0]);
        assert_eq!(stack_n([0.0, 0.0, 0.7], 11), [0, 0, 11]);
        assert_eq!(stack_n([0.0, 0.0, 0.0], 11), [0, 0, 0]);
        assert_eq!(stack_n([1.0, 0.0, 1.0], 10), [5, 0, 5]);
        let v = stack_n([0.5, 0.25, 0.25], 11);
        assert_eq!(v.iter().sum::<usize>(), 11);
        assert!(v[0] > v[1] && v[0] > v[2]);
        let five = stack_n([0.3, 0.2, 0.1, 0.3, 0.1], 11);
        assert_eq!(five.iter().sum::<usize>(), 11);
    }

    #[test]
    fn sparse_readings_fill_back_to_the_previous_one_but_not_across_a_gap() {
        let mut series = TimeSeries::new(crate::store::SeriesLimits::default());
        let id = series.column("x");
        let mut acc = Accumulator::new(0, 100_000_000);
        // Readings mid-column: 50, 150, 250 ms, then (a gap) 1.15 s, 1.25 s;
        // fed in two batches, as frames would.
        for (i, (t_ms, v)) in [
            (50u64, 0.2f32),
            (150, 0.5),
            (250, 1.0),
            (1150, 0.3),
            (1250, 0.4),
        ]
        .into_iter()
        .enumerate()
        {
            series.push_row(t_ms * 1_000_000).unwrap();
            series.set_last(id, v);
            if i == 2 {
                acc.feed(&series, &[id]);
            }
        }
        acc.feed(&series, &[id]);
        let cols = acc.column(id).unwrap();
        assert_eq!(acc.cols, 13);
        assert_eq!(cols[0], Some(0.2));
        assert_eq!(cols[1], Some(0.5));
        assert_eq!(cols[2], Some(1.0));
        // 250 ms → 1.15 s is longer than GAP_NS: left empty.
        assert!(cols[3..11].iter().all(Option::is_none), "{cols:?}");
        assert_eq!(cols[11], Some(0.3));
        assert_eq!(cols[12], Some(0.4));
    }

    #[test]
    fn a_long_run_halves_the_resolution_keeping_maxima() {
        let mut series = TimeSeries::new(crate::store::SeriesLimits::default());
        let id = series.column("x");
        let mut acc = Accumulator::new(0, FIRST_BUCKET_NS);
        // 60 s at 50 Hz: 0.1 everywhere except one spike of 0.9 at 30 s.
        for i in 0..3000u64 {
            series.push_row(i * 20_000_000).unwrap();
            series.set_last(id, if i == 1500 { 0.9 } else { 0.1 });
            if i % 50 == 0 {
                acc.feed(&series, &[id]);
            }
        }
        acc.feed(&series, &[id]);
        assert!(
            acc.cols <= MAX_COLS && acc.cols > MAX_COLS / 2,
            "{}",
            acc.cols
        );
        assert!(acc.bucket_ns > FIRST_BUCKET_NS);
        let cols = acc.column(id).unwrap();
        assert!(cols.iter().all(Option::is_some));
        assert_eq!(
            cols.iter().flatten().filter(|v| **v > 0.5).count(),
            1,
            "the spike survives once"
        );
        assert_eq!(acc.rows_read(), 3000);
    }

    #[test]
    fn lerp_ends() {
        let a = Color32::from_rgb(0, 0, 0);
        let b = Color32::from_rgb(200, 100, 50);
        assert_eq!(mix(a, b, 0.0), a);
        assert_eq!(mix(a, b, 1.0), b);
        assert_eq!(mix(a, b, 2.0), b);
    }
}
