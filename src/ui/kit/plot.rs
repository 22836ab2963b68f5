//! The frame every time plot shares: what a frame needs to plot a run
//! ([`PlotSpec`]), the seconds axis, linked axes and cursors, the y axis
//! width that lines the plots up, and the min/max envelope of a column
//! split at gaps (a missing reading is never drawn as a value).

use super::lanes::Span;
use crate::sampler::SamplerConfig;
use crate::store::ColumnId;
use crate::store::RunRecord;
use egui::Color32;
use egui_plot::{Legend, Line, Plot, PlotPoints};

/// What a frame needs to plot a run (also used by the race view).
pub struct PlotSpec<'a> {
    pub id: &'a str,
    pub run: &'a RunRecord,
    pub window: Span,
    /// Cut everything after this many seconds (race replay).
    pub until_s: Option<f64>,
    pub dark: bool,
    /// Each plot draws its own legend (the race draws one for both).
    pub legend: bool,
    /// A finish line at this many seconds (race).
    pub finish_s: Option<f64>,
}

/// Width of every time plot's y axis, so their time axes line up: room
/// for a lane's name at the current text size.
pub fn y_axis_width(ui: &egui::Ui) -> f32 {
    ui.text_style_height(&egui::TextStyle::Body) * 9.0
}

/// "1.5 s": every time axis says its unit.
pub fn seconds_axis(mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    let v = mark.value;
    if v < 0.0 && v > -1e-9 {
        return "0 s".into();
    }
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} s")
}

/// A plot of bitmaps: no legend (the title line explains the colours).
pub fn time_plot<'a>(id: &str, group: &str, height: f32, width: f32) -> Plot<'a> {
    // A labelled time mark every ~110 points, whatever the zoom.
    let marks = f64::from((width / 110.0).max(2.0));
    Plot::new(id.to_string())
        .height(height)
        .x_axis_formatter(seconds_axis)
        .x_grid_spacer(move |input| nice_marks(input, marks))
        .link_axis(
            egui::Id::unique(("gilscope-plot-group", group)),
            [true, false],
        )
        .link_cursor(
            egui::Id::unique(("gilscope-plot-group", group)),
            [true, false],
        )
        .allow_scroll(false)
}

pub fn base_plot<'a>(ui: &egui::Ui, spec: &PlotSpec, what: &str, height: f32) -> Plot<'a> {
    let plot = time_plot(
        &format!("{}-{what}", spec.id),
        spec.id,
        height,
        ui.available_width(),
    )
    .y_axis_min_width(y_axis_width(ui));
    if !spec.legend {
        return plot;
    }
    plot.legend(
        Legend::default()
            .position(egui_plot::Corner::LeftTop)
            .text_style(egui::TextStyle::Small)
            .background_alpha(0.6)
            .follow_insertion_order(true),
    )
}

/// A time gap longer than this between two readings of a column read in
/// every sample breaks its line (the sampler fell behind or the value could
/// not be read).
pub const GAP_S: f64 = 0.5;

/// The same for PSS/USS, read at most every
/// [`SamplerConfig::steady_smaps_interval`] while memory stays put (2 s by
/// default), plus the same slack.
pub fn smaps_gap_s() -> f64 {
    SamplerConfig::default()
        .steady_smaps_interval()
        .as_secs_f64()
        + GAP_S
}

/// min/max envelope of a column over the window (≈2 points per pixel), in
/// segments split at gaps longer than `gap_s`: a missing reading is never
/// drawn as a value.
pub fn envelope(
    spec: &PlotSpec,
    id: ColumnId,
    scale: f64,
    width: usize,
    gap_s: f64,
) -> Vec<Vec<[f64; 2]>> {
    let w = spec.window;
    let mut segments: Vec<Vec<[f64; 2]>> = Vec::new();
    let mut current: Vec<[f64; 2]> = Vec::new();
    let mut last_x = f64::NEG_INFINITY;
    for b in spec
        .run
        .series()
        .decimated_all(id, w.from_ns, w.to_ns, width.max(1))
    {
        let x = w.secs(b.t_ns);
        if spec.until_s.is_some_and(|u| x > u) {
            break;
        }
        let Some((lo, hi)) = b.min_max else { continue };
        if x - last_x > gap_s && !current.is_empty() {
            segments.push(std::mem::take(&mut current));
        }
        last_x = x;
        current.push([x, f64::from(lo) * scale]);
        if hi != lo {
            current.push([x, f64::from(hi) * scale]);
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

/// Draws the segments of one series under one legend entry and colour.
pub fn draw_series(
    p: &mut egui_plot::PlotUi<'_>,
    name: &str,
    color: Color32,
    width: f32,
    segments: Vec<Vec<[f64; 2]>>,
) {
    for seg in segments {
        if seg.len() == 1 {
            p.points(
                egui_plot::Points::new(name.to_string(), PlotPoints::new(seg))
                    .color(color)
                    .radius(width),
            );
        } else {
            p.line(
                Line::new(name.to_string(), PlotPoints::new(seg))
                    .color(color)
                    .width(width),
            );
        }
    }
}

/// Y grid marks at a "nice" step (1, 2 or 5 × 10^k) giving about `n`
/// labelled lines, all of equal weight so each one gets its label.
pub fn nice_marks(input: egui_plot::GridInput, n: f64) -> Vec<egui_plot::GridMark> {
    let (lo, hi) = input.bounds;
    let range = (hi - lo).abs();
    if !range.is_finite() || range <= 0.0 {
        return Vec::new();
    }
    let raw = range / n.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|i| egui_plot::GridMark {
            value: i as f64 * step,
            step_size: step,
        })
        .collect()
}

pub fn x_bounds(spec: &PlotSpec) -> (f64, f64) {
    (0.0, spec.window.secs(spec.window.to_ns).max(0.1))
}
