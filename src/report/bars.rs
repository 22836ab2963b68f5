//! Bar charts: memory overhead per mode (grouped by worker count) and where
//! the worker threads' time went per mode (stacked, at the largest worker
//! count). A missing value is written "n/a" where its bar would be.

use super::axis::Ticked;
use super::frame::{DrawResult, LegendEntry, Swatch, err, frame, house_builder, house_mesh, label};
use super::series::{ChartData, Series};
use super::style::{INK, MUTED, TICK_PX, VALUE_PX, text, tint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::VPos;

const MIB: f64 = 1024.0 * 1024.0;

fn box_legend(series: &[Series]) -> Vec<LegendEntry> {
    series
        .iter()
        .map(|s| LegendEntry {
            label: s.label.clone(),
            swatch: Swatch::Box {
                fill: s.color,
                edge: s.color,
            },
        })
        .collect()
}

/// Memory overhead (peak PSS minus the baseline before workers started, or
/// RSS where PSS was not read: [`crate::sweep::overhead_in_pss`]), one
/// group of bars per worker count, one bar per series that ran there ("n/a"
/// where it failed or was not sampled).
pub fn memory<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> DrawResult<()> {
    let title = format!("Memory overhead per mode — {}", data.workload);
    let plot = frame(
        root,
        &title,
        &data.subtitle,
        &box_legend(&data.series),
        Some("mode · interpreter"),
    )?;
    let points: Vec<&crate::sweep::Point> = data
        .series
        .iter()
        .flat_map(|s| data.workers.iter().filter_map(|&w| s.at(w)))
        .collect();
    let pss = crate::sweep::overhead_in_pss(&points);
    let value = |s: &Series, w: usize| {
        s.at(w)
            .and_then(|p| p.overhead_bytes(pss))
            .filter(|v| v.is_finite())
            .map(|b| b / MIB)
    };
    let groups = data.workers.len().max(1);
    let y_max = data
        .workers
        .iter()
        .flat_map(|&w| data.series.iter().filter_map(move |s| value(s, w)))
        .fold(0.0_f64, f64::max);
    let y_max = if y_max > 0.0 { y_max * 1.15 } else { 1.0 };
    let keys: Vec<f64> = (0..groups).map(|g| g as f64).collect();
    let mut chart = house_builder(&plot, 10, 110)
        .build_cartesian_2d(Ticked::new(-0.5..groups as f64 - 0.5, keys), 0.0..y_max)
        .map_err(err)?;
    let workers = data.workers.clone();
    let x_fmt = move |x: &f64| {
        workers
            .get(x.round().max(0.0) as usize)
            .map(|w| w.to_string())
            .unwrap_or_default()
    };
    house_mesh(&mut chart.configure_mesh(), 7)
        .x_desc("workers")
        .y_desc(if pss {
            "memory overhead (MiB, peak PSS − baseline)"
        } else {
            "memory overhead (MiB, peak RSS − baseline)"
        })
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(err)?;
    let n = data.series.len().max(1) as f64;
    let group_width = 0.8;
    let bar = group_width / n;
    for (g, &w) in data.workers.iter().enumerate() {
        for (i, s) in data.series.iter().enumerate() {
            if s.at(w).is_none() {
                // Not run at this worker count (e.g. a 1-worker-only series).
                continue;
            }
            let x0 = g as f64 - group_width / 2.0 + i as f64 * bar;
            let (x0, x1, xc) = (x0 + bar * 0.06, x0 + bar * 0.94, x0 + bar / 2.0);
            let area = chart.plotting_area();
            match value(s, w) {
                Some(v) => {
                    area.draw(&Rectangle::new([(x0, 0.0), (x1, v)], s.color.filled()))
                        .map_err(err)?;
                    let (px, py) = area.map_coordinate(&(xc, v));
                    let text_v = if v >= 100.0 {
                        format!("{v:.0}")
                    } else {
                        format!("{v:.1}")
                    };
                    label(
                        root,
                        &text_v,
                        (px, py - 6),
                        text(VALUE_PX, INK),
                        VPos::Bottom,
                    )?;
                }
                None => {
                    let (px, py) = area.map_coordinate(&(xc, 0.0));
                    not_available(root, (px, py))?;
                }
            }
        }
    }
    Ok(())
}

/// The three states of a worker thread, bottom to top: (name, tint).
const STATES: [(&str, f64); 3] = [
    ("running", 0.0),
    ("waiting for a core", 0.5),
    ("blocked (GIL, locks, I/O)", 0.82),
];

/// Mean share of the workers' time running / waiting / blocked, one
/// stacked bar per series that ran at the sweep's largest worker count
/// ("n/a" where it failed or was not sampled).
pub fn threads<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> DrawResult<()> {
    let workers = data.max_workers().unwrap_or(1);
    let legend: Vec<LegendEntry> = STATES
        .iter()
        .map(|(name, t)| LegendEntry {
            label: (*name).to_string(),
            swatch: Swatch::Box {
                fill: tint(INK, *t),
                edge: INK,
            },
        })
        .collect();
    let title = format!(
        "Worker thread states at {workers} worker{} — {}",
        if workers == 1 { "" } else { "s" },
        data.workload
    );
    let plot = frame(
        root,
        &title,
        &data.subtitle,
        &legend,
        Some("shade in each bar"),
    )?;
    // Series that ran at this worker count (not the 1-worker-only ones).
    let series: Vec<&Series> = data
        .series
        .iter()
        .filter(|s| s.at(workers).is_some())
        .collect();
    let n = series.len().max(1);
    let mut chart = house_builder(&plot, 30, 140)
        .build_cartesian_2d(
            Ticked::new(-0.5..n as f64 - 0.5, Vec::new()),
            0.0..100.0_f64,
        )
        .map_err(err)?;
    house_mesh(&mut chart.configure_mesh(), 6)
        .y_desc("share of worker thread time (%)")
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .draw()
        .map_err(err)?;
    for (i, s) in series.iter().enumerate() {
        let xc = i as f64;
        let area = chart.plotting_area();
        let (px, py) = area.map_coordinate(&(xc, 0.0));
        label(
            root,
            &s.mode.to_string(),
            (px, py + 14),
            text(TICK_PX, s.color),
            VPos::Top,
        )?;
        label(
            root,
            &s.interpreter,
            (px, py + 54),
            text(VALUE_PX, MUTED),
            VPos::Top,
        )?;
        let point = s.at(workers);
        let split = point.and_then(|p| Some([p.running?, p.waiting?, p.blocked?]));
        let Some(split) = split else {
            not_available(root, (px, py))?;
            continue;
        };
        let (x0, x1) = (xc - 0.3, xc + 0.3);
        let mut bottom = 0.0;
        for (share, (_, t)) in split.iter().zip(STATES) {
            let top = (bottom + share * 100.0).min(100.0);
            let fill = tint(s.color, t);
            area.draw(&Rectangle::new([(x0, bottom), (x1, top)], fill.filled()))
                .map_err(err)?;
            area.draw(&Rectangle::new(
                [(x0, bottom), (x1, top)],
                s.color.stroke_width(2),
            ))
            .map_err(err)?;
            if share * 100.0 >= 6.0 {
                let ink = if t < 0.3 {
                    WHITE.to_rgba()
                } else {
                    INK.to_rgba()
                };
                let (cx, cy) = area.map_coordinate(&(xc, (bottom + top) / 2.0));
                let style = text(VALUE_PX, INK).color(&ink);
                label(
                    root,
                    &format!("{:.0}%", share * 100.0),
                    (cx, cy),
                    style,
                    VPos::Center,
                )?;
            }
            bottom = top;
        }
    }
    Ok(())
}

/// "n/a" just above the baseline where a bar would stand.
fn not_available<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (px, py): (i32, i32),
) -> DrawResult<()> {
    label(
        root,
        "n/a",
        (px, py - 8),
        text(VALUE_PX, MUTED),
        VPos::Bottom,
    )
}
