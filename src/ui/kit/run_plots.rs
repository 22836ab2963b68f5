//! The plots of one run on its time axis, shared by the live view and the
//! race: cores (lines, or a heat map past [`MAX_CORE_LINES`]), thread
//! lanes, memory, a service's requests and latency, and throughput.

use super::lanes::{self, Bitmap, StateColors};
use super::plot::*;
use crate::kit::number::human;
use crate::store::RunRecord;
use crate::store::metrics::throughput;
use egui::{Color32, RichText, TextureHandle};
use egui_plot::{HLine, Line, Plot, PlotImage, PlotPoint, PlotPoints, VLine};

/// Cores drawn as lines up to this many; a heat map beyond.
pub const MAX_CORE_LINES: usize = 8;

/// The height that names every one of `rows` lanes: a lane's name needs a
/// line of text (on stage, 24 px and more) and some air, or `row_axis`
/// names only every other lane; the time axis takes a line below.
pub fn lanes_height(ui: &egui::Ui, rows: usize) -> f32 {
    let text_h = ui.text_style_height(&egui::TextStyle::Body);
    rows as f32 * (text_h * 1.2).max(16.0) + text_h + 8.0
}

pub fn core_plot(
    ui: &mut egui::Ui,
    spec: &PlotSpec,
    heat: Option<&(TextureHandle, Bitmap)>,
    h: f32,
) {
    let run = spec.run;
    let cores = run.cores();
    let width = ui.available_width() as usize;
    if cores.len() <= MAX_CORE_LINES {
        ui.label(RichText::new(format!("CPU cores ({}): busy %", cores.len())).strong());
    } else {
        let c = StateColors::new(spec.dark);
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("CPU cores ({}): busy", cores.len())).strong());
            ui.label(RichText::new("■ 0 %").color(c.cold).strong());
            ui.label(
                RichText::new("■ 50 %")
                    .color(lanes::mix(c.cold, c.hot, 0.5))
                    .strong(),
            );
            ui.label(RichText::new("■ 100 %").color(c.hot).strong());
        });
    }
    let (x0, x1) = x_bounds(spec);
    if cores.len() <= MAX_CORE_LINES {
        let plot = base_plot(ui, spec, "cores", h).include_x(x0).include_x(x1);
        plot.include_y(0.0)
            .include_y(100.0)
            .y_grid_spacer(|input| nice_marks(input, 2.0))
            .show(ui, |p| {
                for (i, (cpu, cols)) in cores.iter().enumerate() {
                    draw_series(
                        p,
                        &format!("cpu{cpu} busy %"),
                        super::style::palette(i),
                        1.5,
                        envelope(spec, cols.busy, 100.0, width, GAP_S),
                    );
                }
            });
    } else if let Some((tex, pic)) = heat {
        bitmap_rows(ui, spec, "cores", "busy (heat)", tex, pic, h);
    }
}

/// A plot whose y axis names bitmap rows (row 0 on top), one grid mark
/// per row, thinned out when rows are many.
fn row_axis(plot: Plot<'_>, rows: Vec<String>, axis_w: f32, text_px: f32) -> Plot<'_> {
    let n = rows.len();
    let nf = n as f64;
    plot.include_y(0.0)
        .include_y(nf)
        .show_grid([true, false])
        .y_axis_min_width(axis_w)
        .y_axis_formatter(move |mark, _| {
            // Row i spans y in [n-i-1, n-i]; its mark sits in the middle.
            let i = nf - mark.value - 0.5;
            if (i - i.round()).abs() < 1e-6 && i >= 0.0 {
                rows.get(i.round() as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_grid_spacer(move |input| {
            // A label every 1, 2, 4, … rows: far enough apart to be drawn
            // (egui_plot skips a label closer to the next than its own
            // height; a base step is 8 points).
            let min_step = (input.base_step_size * f64::from(text_px) * 1.1 / 8.0).max(1.0);
            let step = (0..12)
                .map(|k| 1usize << k)
                .find(|&s| s as f64 >= min_step)
                .unwrap_or(1 << 12);
            (0..n)
                .step_by(step)
                .map(|i| egui_plot::GridMark {
                    value: nf - i as f64 - 0.5,
                    step_size: step as f64,
                })
                .collect()
        })
}

/// A bitmap (heat map or lanes) over the run's time axis, one named row
/// per bitmap row.
fn bitmap_rows(
    ui: &mut egui::Ui,
    spec: &PlotSpec,
    what: &str,
    name: &str,
    tex: &TextureHandle,
    pic: &Bitmap,
    h: f32,
) {
    let (x0, x1) = x_bounds(spec);
    let plot = time_plot(
        &format!("{}-{what}", spec.id),
        spec.id,
        h,
        ui.available_width(),
    )
    .include_x(x0)
    .include_x(x1);
    let (finish, dark) = (spec.finish_s, spec.dark);
    let text_px = ui.text_style_height(&egui::TextStyle::Body);
    row_axis(plot, pic.rows.clone(), y_axis_width(ui), text_px).show(ui, |p| {
        p.image(image_item(name, tex, pic, spec));
        if let Some(f) = finish {
            p.vline(finish_line(f, dark));
        }
    });
}

/// The finish line of a race.
pub fn finish_line(at_s: f64, dark: bool) -> VLine {
    VLine::new("finish", at_s)
        .color(Color32::from_gray(if dark { 235 } else { 20 }))
        .width(3.0)
        .style(egui_plot::LineStyle::dashed_loose())
}

fn image_item(name: &str, tex: &TextureHandle, pic: &Bitmap, spec: &PlotSpec) -> PlotImage {
    // LaneTextures are timed from the run's start; a race's window starts
    // elsewhere (its start gate).
    let shift = spec.run.t0_ns().map_or(0.0, |t0| spec.window.secs(t0));
    let (a0, b) = (pic.t_from_s + shift, pic.t_to_s + shift);
    let full = (b - a0).max(1e-9);
    // A race shows each run from its start gate (x = 0) to its clock:
    // the bitmap is cut on both sides.
    let (left, a) = if spec.until_s.is_some() && a0 < 0.0 {
        (((0.0 - a0) / full).clamp(0.0, 1.0), 0.0)
    } else {
        (0.0, a0)
    };
    let n = pic.rows.len() as f32;
    let cut = spec
        .until_s
        .map_or(1.0, |u| ((u - a0) / full).clamp(left, 1.0));
    let right = a0 + full * cut;
    PlotImage::new(
        name.to_string(),
        tex.id(),
        PlotPoint::new((a + right) / 2.0, f64::from(n) / 2.0),
        egui::vec2((right - a).max(0.0) as f32, n),
    )
    .uv(egui::Rect::from_min_max(
        egui::pos2(left as f32, 0.0),
        egui::pos2(cut as f32, 1.0),
    ))
}

/// What the lanes' colours mean (the race shows it once for both runs).
/// Drawn into the caller's (wrapping) layout.
pub fn lane_legend_ui(ui: &mut egui::Ui, run: &RunRecord, dark: bool) {
    let c = StateColors::new(dark);
    let exact = run.gil().has_data();
    if exact {
        ui.label(
            RichText::new("■ running, holding the GIL")
                .color(c.running)
                .strong(),
        );
        ui.label(
            RichText::new("■ running without it")
                .color(c.running_free)
                .strong(),
        );
        ui.label(RichText::new("■ without it, unsure").color(c.unsure).strong())
            .on_hover_text("Running without holding the GIL where nothing proves it free: nothing shows whether the thread is on its way into take_gil (typically just after handing the GIL over). Never counted as running free");
        ui.label(
            RichText::new("■ waiting for a core")
                .color(c.waiting)
                .strong(),
        );
        ui.label(
            RichText::new("▨ waiting for the GIL (hatched)")
                .color(c.blocked)
                .strong(),
        );
        ui.label(
            RichText::new("■ blocked on other")
                .color(c.blocked_other)
                .strong(),
        );
        ui.label(RichText::new("■ GIL not read").color(c.unread).strong())
            .on_hover_text("Running at a moment the GIL reader has no reading for (before it attached to the process)");
    } else {
        ui.label(RichText::new("■ running").color(c.running).strong());
        ui.label(
            RichText::new("■ waiting for a core")
                .color(c.waiting)
                .strong(),
        );
        ui.label(
            RichText::new("▨ blocked (hatched)")
                .color(c.blocked)
                .strong(),
        );
        let why = run
            .gil()
            .missing_reason()
            .unwrap_or_else(|| "no exact GIL lanes for this run".into());
        // One line that never widens the view: cut to fit, whole on hover.
        ui.add(egui::Label::new(RichText::new(format!("({why})")).small()).truncate())
            .on_hover_text(why);
    }
}

pub fn lane_plot(
    ui: &mut egui::Ui,
    spec: &PlotSpec,
    lanes: Option<&(TextureHandle, Bitmap)>,
    h: f32,
) {
    if spec.legend {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Threads").strong());
            lane_legend_ui(ui, spec.run, spec.dark);
        });
    } else {
        ui.label(RichText::new("Threads").strong());
    }
    let Some((tex, pic)) = lanes else { return };
    bitmap_rows(ui, spec, "lanes", "threads", tex, pic, h);
}

pub fn memory_plot(ui: &mut egui::Ui, spec: &PlotSpec, h: f32) {
    let run = spec.run;
    let cols = run.run_columns();
    let width = ui.available_width() as usize;
    if spec.legend {
        ui.label(RichText::new("Memory (MiB)").strong());
    } else {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Memory (MiB):").strong());
            for (i, name) in ["RSS", "PSS", "USS"].into_iter().enumerate() {
                ui.label(
                    RichText::new(format!("■ {name}"))
                        .color(super::style::palette(i))
                        .strong(),
                );
            }
            ui.label("- - baseline RSS");
        });
    }
    let mib = 1.0 / (1024.0 * 1024.0);
    let (x0, x1) = x_bounds(spec);
    base_plot(ui, spec, "mem", h)
        .include_x(x0)
        .include_x(x1)
        .include_y(0.0)
        .y_grid_spacer(|input| nice_marks(input, 3.0))
        .show(ui, |p| {
            draw_series(
                p,
                "RSS",
                super::style::palette(0),
                2.0,
                envelope(spec, cols.rss_bytes, mib, width, GAP_S),
            );
            draw_series(
                p,
                "PSS",
                super::style::palette(1),
                1.5,
                envelope(spec, cols.pss_bytes, mib, width, smaps_gap_s()),
            );
            draw_series(
                p,
                "USS",
                super::style::palette(2),
                1.5,
                envelope(spec, cols.uss_bytes, mib, width, smaps_gap_s()),
            );
            if let Some(b) = run.memory_baseline() {
                p.hline(
                    HLine::new("baseline RSS (before workers)", b.rss_bytes as f64 * mib)
                        .style(egui_plot::LineStyle::dashed_dense()),
                );
            }
        });
}

/// A service run's requests per second: offered (the load generator's
/// schedule) and answered, and failures (errors and timeouts).
pub fn requests_plot(ui: &mut egui::Ui, spec: &PlotSpec, h: f32) {
    let run = spec.run;
    let w = spec.window;
    let series = run.service().series(w.t0_ns);
    let summary = run.service().summary();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Requests/s").strong());
        if let Some(s) = &summary {
            ui.small(format!(
                "{} · answered {:.0} of {:.0} offered · {}",
                s.load,
                s.achieved_rps,
                s.offered_rps,
                if s.all_correct {
                    "every answer correct".to_string()
                } else {
                    "✗ some answers wrong".to_string()
                }
            ));
        }
    });
    let pts = |v: &[f64]| -> Vec<[f64; 2]> {
        series
            .t_secs
            .iter()
            .zip(v)
            .map(|(t, y)| [*t, *y])
            .filter(|[x, _]| spec.until_s.is_none_or(|u| *x <= u))
            .collect()
    };
    let (x0, x1) = x_bounds(spec);
    base_plot(ui, spec, "rps", h)
        .include_x(x0)
        .include_x(x1)
        .include_y(0.0)
        .y_axis_formatter(|mark, _| human(mark.value))
        .y_grid_spacer(|input| nice_marks(input, 3.0))
        .show(ui, |p| {
            p.line(
                Line::new("offered", PlotPoints::new(pts(&series.offered_rps)))
                    .color(Color32::GRAY)
                    .style(egui_plot::LineStyle::dashed_loose())
                    .width(1.5),
            );
            p.line(
                Line::new("answered", PlotPoints::new(pts(&series.achieved_rps)))
                    .color(super::style::mode_color(run.spec().mode))
                    .width(2.0),
            );
            let failed: Vec<f64> = series
                .errors_per_s
                .iter()
                .zip(&series.timeouts_per_s)
                .map(|(e, t)| e + t)
                .collect();
            if failed.iter().any(|f| *f > 0.0) {
                p.line(
                    Line::new("errors + timeouts", PlotPoints::new(pts(&failed)))
                        .color(super::style::bad())
                        .width(2.0),
                );
            }
        });
}

/// A service run's latency over time: p50, p95 and p99 of each interval,
/// from each request's scheduled send time (no coordinated omission).
pub fn latency_plot(ui: &mut egui::Ui, spec: &PlotSpec, h: f32) {
    let run = spec.run;
    let w = spec.window;
    let series = run.service().series(w.t0_ns);
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Latency (ms)").strong());
        if let Some(s) = run.service().summary() {
            let ms = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.1}"));
            ui.small(format!(
                "whole run, failures included: p50 {} · p95 {} · p99 {} ms · in flight at most {}{}",
                ms(s.tail().p50_ms),
                ms(s.tail().p95_ms),
                ms(s.tail().p99_ms),
                s.max_in_flight,
                if s.closed_loop { " · closed loop: latency excludes queueing before send" } else { "" }
            ));
        }
    });
    // A missing interval (no answer in it) breaks the line: never a 0.
    let segments = |v: &[Option<f64>]| -> Vec<Vec<[f64; 2]>> {
        let mut out: Vec<Vec<[f64; 2]>> = vec![Vec::new()];
        for (t, y) in series.t_secs.iter().zip(v) {
            if spec.until_s.is_some_and(|u| *t > u) {
                break;
            }
            match y {
                Some(y) => out.last_mut().map_or((), |s| s.push([*t, *y])),
                None => out.push(Vec::new()),
            }
        }
        out.retain(|s| !s.is_empty());
        out
    };
    let (x0, x1) = x_bounds(spec);
    base_plot(ui, spec, "latency", h)
        .include_x(x0)
        .include_x(x1)
        .include_y(0.0)
        .y_grid_spacer(|input| nice_marks(input, 3.0))
        .show(ui, |p| {
            for (name, v, i) in [
                ("p50", &series.p50_ms, 0),
                ("p95", &series.p95_ms, 1),
                ("p99", &series.p99_ms, 3),
            ] {
                draw_series(p, name, super::style::palette(i), 2.0, segments(v));
            }
        });
}

/// The throughput of `run` in buckets of `bucket_ns`, kept per plot `id`
/// in egui's memory until the run's chunks change: a finished run's is
/// computed once, not every frame (it walks every chunk event).
fn cached_throughput(
    ctx: &egui::Context,
    id: &str,
    run: &RunRecord,
    bucket_ns: u64,
) -> Option<std::sync::Arc<crate::store::metrics::Throughput>> {
    type Kept = (
        u64,
        u64,
        usize,
        Option<std::sync::Arc<crate::store::metrics::Throughput>>,
    );
    let key = egui::Id::unique(("gilscope-throughput", id));
    let stamp = (bucket_ns, run.chunks_done(), run.events().len());
    if let Some((b, c, n, tp)) = ctx.memory(|m| m.data.get_temp::<Kept>(key))
        && (b, c, n) == stamp
    {
        return tp;
    }
    let tp = throughput(run, bucket_ns).map(std::sync::Arc::new);
    ctx.memory_mut(|m| {
        m.data
            .insert_temp::<Kept>(key, (stamp.0, stamp.1, stamp.2, tp.clone()))
    });
    tp
}

pub fn throughput_plot(ui: &mut egui::Ui, spec: &PlotSpec, h: f32) {
    let run = spec.run;
    let ctx = ui.ctx().clone();
    ui.label(RichText::new(format!("Throughput ({}/s)", run.unit())).strong());
    let (x0, x1) = x_bounds(spec);
    let w = spec.window;
    base_plot(ui, spec, "tput", h)
        .include_x(x0)
        .include_x(x1)
        .include_y(0.0)
        .y_axis_formatter(|mark, _| human(mark.value))
        .y_grid_spacer(|input| nice_marks(input, 3.0))
        .show(ui, |p| {
            // About 40 buckets over the run, 50 ms to 1 s each.
            let span_ns = spec.window.to_ns - spec.window.from_ns;
            let bucket_ns = (span_ns / 40).clamp(50_000_000, 1_000_000_000);
            if let Some(tp) = cached_throughput(&ctx, spec.id, run, bucket_ns) {
                let pts: Vec<[f64; 2]> = tp
                    .total
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let t = tp.t0_ns + i as u64 * tp.bucket_ns + tp.bucket_ns / 2;
                        [w.secs(t), *v]
                    })
                    .filter(|[x, _]| spec.until_s.is_none_or(|u| *x >= 0.0 && *x <= u))
                    .collect();
                p.line(
                    Line::new("all workers", PlotPoints::new(pts))
                        .color(super::style::mode_color(run.spec().mode))
                        .width(2.0)
                        .fill(0.0),
                );
            }
            if let Some(f) = spec.finish_s {
                p.vline(finish_line(f, spec.dark));
            }
            for change in run.gil_changes().filter(|c| c.enabled) {
                p.vline(
                    VLine::new("GIL re-enabled", w.secs(change.t_ns))
                        .color(super::style::bad())
                        .width(2.0),
                );
            }
        });
}
