//! A run's thread lanes as one image, drawn once at the animation's
//! size: a lane per thread (main, the workers, then the others), one
//! pixel column per time step from the start gate, each column a stacked
//! bar of the largest share of each state seen in it — the app's rules
//! ([`crate::palette::lane`]), hatching for "waiting for the GIL" included.
//! The animation reveals it column by column.

use super::readings;
use crate::palette::{Rgb, lane, state};
use crate::store::RunRecord;

/// Per column, the largest value of each of `N` columns read in it.
type Maxima<const N: usize> = Vec<[Option<f32>; N]>;

/// A lane image: `width` × `height`, `None` where nothing is drawn.
#[derive(Debug, Clone)]
pub struct LaneImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<Option<Rgb>>,
    /// Lane labels, top to bottom, and each lane's top row.
    pub rows: Vec<(String, usize)>,
    pub lane_px: usize,
}

/// The threads that get a lane, with their names as the app shows them.
pub fn lane_threads(run: &RunRecord, max_lanes: usize) -> Vec<(String, u32)> {
    run.threads()
        .into_iter()
        .take(max_lanes.max(1))
        .map(|(label, t)| {
            let name = run.thread_name(t.tid).unwrap_or_else(|| label.to_string());
            (name, t.tid)
        })
        .collect()
}

/// Fills `out[col]` with the maxima of the readings of `names` in
/// `series` over `[start, start + cols × step)`.
fn maxima<const N: usize>(
    series: &crate::store::TimeSeries,
    names: [String; N],
    start_ns: u64,
    step_ns: f64,
    out: &mut Maxima<N>,
) {
    let cols = out.len();
    readings::for_each(series, &names, |from, to, v| {
        if to <= start_ns {
            return;
        }
        let col = |t: u64| ((t.saturating_sub(start_ns)) as f64 / step_ns) as usize;
        let (c0, c1) = (
            col(from.max(start_ns)),
            col(to - 1).min(cols.saturating_sub(1)),
        );
        for slot in out.iter_mut().take(c1 + 1).skip(c0) {
            for (m, x) in slot.iter_mut().zip(v) {
                if let Some(x) = *x {
                    *m = Some(m.map_or(x, |m: f32| m.max(x)));
                }
            }
        }
    });
}

/// `run`'s lanes over `span_s` seconds from `start_ns` in a `width` ×
/// `height` image, at most `max_lanes` lanes; `stripe`: the hatch's
/// stripe width.
pub fn lane_image(
    run: &RunRecord,
    start_ns: u64,
    span_s: f64,
    (width, height): (usize, usize),
    max_lanes: usize,
    stripe: usize,
) -> LaneImage {
    let threads = lane_threads(run, max_lanes);
    let n = threads.len().max(1);
    let lane_px = (height / n).max(3);
    let gap = (lane_px / 6).clamp(1, 6);
    let bar = lane_px - gap;
    let mut pixels = vec![None; width * height];
    let step_ns = (span_s * 1e9 / width.max(1) as f64).max(1.0);
    let series = run.series();
    let gil = run.gil();
    let tracks = run.thread_tracks();
    let name = |s: &crate::store::TimeSeries, id| s.column_name(id).unwrap_or("").to_string();
    let mut rows = Vec::with_capacity(threads.len());
    for (lane, (label, tid)) in threads.iter().enumerate() {
        let top = lane * lane_px;
        rows.push((label.clone(), top));
        let Some(track) = tracks.get(tid) else {
            continue;
        };
        let mut proc: Maxima<3> = vec![[None; 3]; width];
        let c = track.columns;
        maxima(
            series,
            [
                name(series, c.running),
                name(series, c.waiting),
                name(series, c.blocked),
            ],
            start_ns,
            step_ns,
            &mut proc,
        );
        let exact = gil.threads.get(tid).map(|g| {
            let mut cols: Maxima<4> = vec![[None; 4]; width];
            let gs = &gil.series;
            maxima(
                gs,
                [
                    name(gs, g.columns.hold),
                    name(gs, g.columns.wait),
                    name(gs, g.columns.run_free),
                    g.columns.unsure.map_or(String::new(), |u| name(gs, u)),
                ],
                start_ns,
                step_ns,
                &mut cols,
            );
            cols
        });
        for (x, [r, w, b]) in proc.iter().enumerate() {
            if r.is_none() && w.is_none() && b.is_none() {
                continue;
            }
            let rwb = (r.unwrap_or(0.0), w.unwrap_or(0.0), b.unwrap_or(0.0));
            let shares = exact
                .as_ref()
                .and_then(|g| lane::GilShares::of(g[x][0], g[x][1], g[x][2], g[x][3]));
            let segments = lane::segments(rwb, shares, exact.is_some(), true);
            let heights = lane::stack_n(segments.map(|s| s.0), bar);
            let mut y = top + gap;
            for (h, (_, colour)) in heights.into_iter().zip(segments) {
                for _ in 0..h {
                    if y < height {
                        pixels[y * width + x] = Some(if colour == state::WAITING_FOR_GIL {
                            lane::hatch(colour, x, y, stripe)
                        } else {
                            colour
                        });
                    }
                    y += 1;
                }
            }
        }
    }
    LaneImage {
        width,
        height,
        pixels,
        rows,
        lane_px,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Mode;
    use crate::store::fixtures::{Synth, interpreter};

    #[test]
    fn a_synthetic_runs_lanes_fill_where_it_ran() {
        let py = interpreter("3.13", "3.13.5", false);
        let synth = Synth::new(Mode::Gil, 2);
        let run = synth.build(&py);
        let img = lane_image(&run, synth.work_start_ns(), 0.6, (120, 60), 16, 2);
        assert!(img.rows.len() >= 2, "{:?}", img.rows);
        let drawn = img.pixels.iter().filter(|p| p.is_some()).count();
        assert!(drawn > 120, "{drawn}");
        // Nothing after the run's last sample.
        let last_col = (0..img.width)
            .rev()
            .find(|&x| (0..img.height).any(|y| img.pixels[y * img.width + x].is_some()));
        assert!(last_col.is_some_and(|x| x < img.width));
    }
}
