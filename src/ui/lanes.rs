//! Pictures for the live view: the per-core heat map and the thread-state
//! swimlanes, one pixel column per time bucket and one row per core or
//! thread. They are uploaded as textures and stretched over the plot's time
//! axis, so 64 cores or 256 threads cost one quad each, not one shape per
//! reading. Missing readings stay transparent: a gap, never a zero.

use crate::store::RunRecord;
use crate::store::labels::ThreadLabel;
use crate::store::series::{Bucket, ColumnId, TimeSeries};
use egui::{Color32, ColorImage};

/// Colours of the three thread states (and the heat map's ends).
#[derive(Debug, Clone, Copy)]
pub struct StateColors {
    pub running: Color32,
    pub waiting: Color32,
    pub blocked: Color32,
    /// Heat map at 0 % busy.
    pub cold: Color32,
    /// Heat map at 100 % busy.
    pub hot: Color32,
}

impl StateColors {
    pub fn new(dark: bool) -> Self {
        Self {
            running: Color32::from_rgb(0x2e, 0xa0, 0x43),
            waiting: Color32::from_rgb(0xf2, 0xa9, 0x00),
            blocked: Color32::from_rgb(0xd6, 0x45, 0x45),
            cold: if dark {
                Color32::from_rgb(0x1d, 0x22, 0x2b)
            } else {
                Color32::from_rgb(0xee, 0xf1, 0xf5)
            },
            hot: Color32::from_rgb(0xff, 0x6b, 0x1a),
        }
    }
}

/// One picture and what its rows are.
#[derive(Debug, Clone)]
pub struct Picture {
    pub image: ColorImage,
    /// Row labels, top to bottom.
    pub rows: Vec<String>,
    /// Seconds since the run's t0 covered by the picture (left, right edge).
    pub t_from_s: f64,
    pub t_to_s: f64,
}

/// A time window of a run, in ns on the sampler's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub t0_ns: u64,
    pub from_ns: u64,
    pub to_ns: u64,
}

impl Window {
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

/// Maps decimated buckets onto `width` pixel columns.
fn column_of(bucket: &Bucket, w: Window, width: usize) -> usize {
    let span = (w.to_ns - w.from_ns).max(1) as f64;
    let x = (bucket.t_ns.saturating_sub(w.from_ns)) as f64 / span * width as f64;
    (x as usize).min(width.saturating_sub(1))
}

/// Readings further apart than this are a gap (the sampler fell behind or
/// the value could not be read), not one long interval.
pub const GAP_NS: u64 = 500_000_000;

/// For each pixel column, the largest reading of `id` in it (`None`: gap).
/// A reading describes the interval since the previous one, so when pixels
/// are finer than samples it fills the columns back to the previous
/// reading (unless that is more than [`GAP_NS`] earlier).
pub fn column_max(series: &TimeSeries, id: ColumnId, w: Window, width: usize) -> Vec<Option<f32>> {
    let mut out = vec![None; width];
    let mut prev: Option<(usize, u64)> = None;
    for bucket in series.decimated(id, w.from_ns, w.to_ns, width) {
        let Some((_, max)) = bucket.min_max else {
            prev = None;
            continue;
        };
        let col = column_of(&bucket, w, width);
        let from = match prev {
            Some((pc, pt)) if bucket.t_ns.saturating_sub(pt) <= GAP_NS && pc < col => pc + 1,
            _ => col,
        };
        for slot in &mut out[from..=col] {
            *slot = Some(slot.map_or(max, |v: f32| v.max(max)));
        }
        prev = Some((col, bucket.t_ns));
    }
    out
}

/// The colour `t` of the way from `a` to `b`.
pub fn mix(a: Color32, b: Color32, t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

/// Heat map: a row per core (cpu0 on top), colour = busy fraction.
pub fn core_heat(run: &RunRecord, w: Window, width: usize, colors: StateColors) -> Picture {
    let width = width.max(1);
    let cores = run.cores();
    let mut image = ColorImage::filled([width, cores.len().max(1)], Color32::TRANSPARENT);
    let mut rows = Vec::with_capacity(cores.len());
    for (row, (cpu, cols)) in cores.iter().enumerate() {
        rows.push(format!("cpu{cpu}"));
        for (x, v) in column_max(run.series(), cols.busy, w, width)
            .into_iter()
            .enumerate()
        {
            if let Some(v) = v {
                image[(x, row)] = mix(colors.cold, colors.hot, v);
            }
        }
    }
    Picture {
        image,
        rows,
        t_from_s: w.secs(w.from_ns),
        t_to_s: w.secs(w.to_ns),
    }
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
    w: Window,
    width: usize,
    max_lanes: usize,
    colors: StateColors,
) -> Picture {
    let width = width.max(1);
    let lanes = lane_threads(run, max_lanes);
    let mut image = ColorImage::filled([width, lanes.len().max(1) * LANE_PX], Color32::TRANSPARENT);
    let mut rows = Vec::with_capacity(lanes.len());
    let tracks = run.thread_tracks();
    for (lane, (label, tid)) in lanes.iter().enumerate() {
        rows.push(format!("{label} · {tid}"));
        let Some(track) = tracks.get(tid) else {
            continue;
        };
        let s = run.series();
        let running = column_max(s, track.columns.running, w, width);
        let waiting = column_max(s, track.columns.waiting, w, width);
        let blocked = column_max(s, track.columns.blocked, w, width);
        for x in 0..width {
            let Some(bar) = stack(running[x], waiting[x], blocked[x], LANE_PX - 1) else {
                continue;
            };
            let top = lane * LANE_PX + 1;
            let mut y = top;
            for (n, color) in [
                (bar[0], colors.running),
                (bar[1], colors.waiting),
                (bar[2], colors.blocked),
            ] {
                for _ in 0..n {
                    image[(x, y)] = color;
                    y += 1;
                }
            }
        }
    }
    Picture {
        image,
        rows,
        t_from_s: w.secs(w.from_ns),
        t_to_s: w.secs(w.to_ns),
    }
}

/// Pixels of running, waiting and blocked in a bar of `height`; `None` when
/// nothing was measured.
pub fn stack(
    running: Option<f32>,
    waiting: Option<f32>,
    blocked: Option<f32>,
    height: usize,
) -> Option<[usize; 3]> {
    if running.is_none() && waiting.is_none() && blocked.is_none() {
        return None;
    }
    let v = [running, waiting, blocked].map(|x| x.unwrap_or(0.0).max(0.0));
    let sum: f32 = v.iter().sum();
    if sum <= 1e-6 {
        return Some([0, 0, 0]);
    }
    let r = ((v[0] / sum) * height as f32).round() as usize;
    let w = (((v[0] + v[1]) / sum) * height as f32).round() as usize - r.min(height);
    let r = r.min(height);
    let w = w.min(height - r);
    let b = if v[2] > 0.0 { height - r - w } else { 0 };
    Some([r, w, b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_are_proportional_and_fill_the_bar() {
        assert_eq!(stack(Some(1.0), Some(0.0), Some(0.0), 11), Some([11, 0, 0]));
        assert_eq!(stack(Some(0.0), None, Some(0.7), 11), Some([0, 0, 11]));
        assert_eq!(stack(None, None, None, 11), None);
        assert_eq!(stack(Some(1.0), Some(0.0), Some(1.0), 10), Some([5, 0, 5]));
        let [r, w, b] = stack(Some(0.5), Some(0.25), Some(0.25), 11).unwrap();
        assert_eq!(r + w + b, 11);
        assert!(r > w && r > b);
    }

    #[test]
    fn sparse_readings_fill_back_to_the_previous_one_but_not_across_a_gap() {
        let mut series = TimeSeries::new(crate::store::SeriesLimits::default());
        let id = series.column("x");
        // Readings mid-column: 50, 150, 250 ms, then (a gap) 1.15 s, 1.25 s.
        for (t_ms, v) in [
            (50u64, 0.2f32),
            (150, 0.5),
            (250, 1.0),
            (1150, 0.3),
            (1250, 0.4),
        ] {
            series.push_row(t_ms * 1_000_000).unwrap();
            series.set_last(id, v);
        }
        let w = Window {
            t0_ns: 0,
            from_ns: 0,
            to_ns: 1_300_000_000,
        };
        let cols = column_max(&series, id, w, 13);
        // 13 columns of 100 ms: each reading fills back to the previous one.
        assert_eq!(cols[0], Some(0.2));
        assert_eq!(cols[1], Some(0.5));
        assert_eq!(cols[2], Some(1.0));
        // 250 ms → 1.15 s is longer than GAP_NS: left empty.
        assert!(cols[3..11].iter().all(Option::is_none), "{cols:?}");
        assert_eq!(cols[11], Some(0.3));
        assert_eq!(cols[12], Some(0.4));
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
