//! Line charts against the worker count: speedup (with the ideal line),
//! parallel efficiency and throughput. A missing value breaks the line.

use super::axis::Ticked;
use super::frame::{
    DrawResult, LegendEntry, Swatch, draw_marker, err, frame, house_builder, house_mesh, label,
};
use super::series::ChartData;
use super::style::{IDEAL, INK, LINE_PX, MARKER_PX, VALUE_PX, text, tint};
use crate::sweep::Point;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::VPos;

/// Which line chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineChart {
    Speedup,
    Efficiency,
    Throughput,
}

impl LineChart {
    fn title(self) -> &'static str {
        match self {
            LineChart::Speedup => "Speedup vs workers",
            LineChart::Efficiency => "Parallel efficiency vs workers",
            LineChart::Throughput => "Throughput vs workers",
        }
    }

    fn y_desc(self, unit: &str) -> String {
        match self {
            LineChart::Speedup => "speedup over 1 worker (×)".into(),
            LineChart::Efficiency => "parallel efficiency (%)".into(),
            LineChart::Throughput => format!("throughput ({unit}/s)"),
        }
    }

    /// The plotted value of a point (efficiency in %).
    pub fn value(self, p: &Point) -> Option<f64> {
        match self {
            LineChart::Speedup => p.speedup,
            LineChart::Efficiency => p.efficiency.map(|e| e * 100.0),
            LineChart::Throughput => p.median_items_per_sec,
        }
    }

    /// The error bar of a point: its repeats' min–max (`None` for one
    /// run).
    pub fn range(self, p: &Point) -> Option<(f64, f64)> {
        let [lo, hi] = p.speedup_range?;
        match self {
            LineChart::Speedup => Some((lo, hi)),
            LineChart::Efficiency => {
                let w = p.workers as f64 / 100.0;
                Some((lo / w, hi / w))
            }
            LineChart::Throughput => {
                let ips = p.median_items_per_sec?;
                let s = p.spread?;
                (s.min > 0.0 && s.max > 0.0)
                    .then(|| (ips * s.median / s.max, ips * s.median / s.min))
            }
        }
    }

    /// The value the ideal line reaches at `workers` on `cores` cores, if
    /// the chart has one: linear up to the cores, flat beyond (no run can
    /// beat the cores it has).
    fn ideal(self, workers: f64, cores: Option<u32>) -> Option<f64> {
        let usable = cores.map_or(workers, |c| workers.min(f64::from(c.max(1))));
        match self {
            LineChart::Speedup => Some(usable),
            LineChart::Efficiency => Some(100.0 * usable / workers.max(1.0)),
            LineChart::Throughput => None,
        }
    }

    fn y_label(self, y: f64) -> String {
        match self {
            LineChart::Speedup => format!("{y:.1}×"),
            LineChart::Efficiency => format!("{y:.0}%"),
            LineChart::Throughput => si(y),
        }
    }
}

/// 1234567 → "1.2M", for axis ticks.
pub fn si(x: f64) -> String {
    let (v, unit) = match x.abs() {
        a if a >= 1e9 => (x / 1e9, "G"),
        a if a >= 1e6 => (x / 1e6, "M"),
        a if a >= 1e3 => (x / 1e3, "k"),
        _ => (x, ""),
    };
    let s = format!("{v:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    format!("{s}{unit}")
}

/// Up to 12 of the worker counts, as tick positions.
fn ticks(workers: &[usize]) -> Vec<f64> {
    let step = workers.len().div_ceil(12).max(1);
    let mut ticks: Vec<f64> = workers.iter().step_by(step).map(|&w| w as f64).collect();
    if let Some(&last) = workers.last()
        && ticks.last() != Some(&(last as f64))
    {
        ticks.push(last as f64);
    }
    ticks
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    kind: LineChart,
) -> DrawResult<()> {
    let mut legend: Vec<LegendEntry> = data
        .series
        .iter()
        .map(|s| LegendEntry {
            label: s.label.clone(),
            swatch: Swatch::Line {
                color: s.color,
                marker: s.marker,
            },
        })
        .collect();
    if kind.ideal(1.0, None).is_some() {
        let stops = data
            .cores
            .filter(|&c| data.workers.last().is_some_and(|&w| w > c as usize));
        legend.push(LegendEntry {
            label: match stops {
                Some(c) => format!("ideal (linear up to the {c} cores)"),
                None => "ideal (linear)".into(),
            },
            swatch: Swatch::Dashed { color: IDEAL },
        });
    }
    let title = format!("{} — {}", kind.title(), data.workload);
    let plot = frame(
        root,
        &title,
        &data.subtitle,
        &legend,
        Some("mode · interpreter"),
    )?;

    let (lo, hi) = match (data.workers.first(), data.workers.last()) {
        (Some(&lo), Some(&hi)) => (lo as f64, hi as f64),
        _ => (1.0, 1.0),
    };
    let pad = ((hi - lo) * 0.05).max(0.15);
    let y_max_data = data
        .series
        .iter()
        .flat_map(|s| {
            s.points.iter().filter_map(|p| {
                let v = kind.value(p)?;
                Some(kind.range(p).map_or(v, |(_, hi)| v.max(hi)))
            })
        })
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let y_max_ideal = kind
        .ideal(hi, data.cores)
        .unwrap_or(0.0)
        .max(kind.ideal(lo, data.cores).unwrap_or(0.0));
    let y_max = match y_max_data.max(y_max_ideal) {
        m if m > 0.0 => m * 1.08,
        _ => 1.0,
    };
    let mut chart = house_builder(&plot, 10, 110)
        .build_cartesian_2d(
            Ticked::new((lo - pad)..(hi + pad), ticks(&data.workers)),
            0.0..y_max,
        )
        .map_err(err)?;
    let x_fmt = |x: &f64| format!("{}", x.round() as i64);
    let y_fmt = |y: &f64| kind.y_label(*y);
    house_mesh(&mut chart.configure_mesh(), 7)
        .x_desc("workers")
        .y_desc(kind.y_desc(&data.unit))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(err)?;

    if kind.ideal(lo, data.cores).is_some() {
        // Through every worker count and the core count (where the line
        // bends).
        let mut xs: Vec<f64> = data.workers.iter().map(|&w| w as f64).collect();
        xs.extend([lo, hi]);
        if let Some(c) = data.cores.map(f64::from).filter(|c| (lo..=hi).contains(c)) {
            xs.push(c);
        }
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let ideal: Vec<(f64, f64)> = xs
            .iter()
            .filter_map(|&x| Some((x, kind.ideal(x, data.cores)?)))
            .collect();
        chart
            .draw_series(DashedLineSeries::new(ideal, 16, 10, IDEAL.stroke_width(3)))
            .map_err(err)?;
    }
    for s in &data.series {
        let segments = s.segments(&data.workers, |p| kind.value(p));
        for seg in &segments {
            chart
                .draw_series(LineSeries::new(
                    seg.iter().copied(),
                    s.color.stroke_width(LINE_PX),
                ))
                .map_err(err)?;
        }
        let area = chart.plotting_area();
        // Error bars (min–max of the repeats): one path each, cap – stem –
        // cap, in the series' colour.
        for p in &s.points {
            let (Some(_), Some((lo, hi))) = (kind.value(p), kind.range(p)) else {
                continue;
            };
            if !(lo.is_finite() && hi.is_finite()) {
                continue;
            }
            let x = p.workers as f64;
            let (px, top) = area.map_coordinate(&(x, hi));
            let (_, bottom) = area.map_coordinate(&(x, lo));
            let c = ERROR_CAP_PX;
            root.draw(&PathElement::new(
                vec![
                    (px - c, top),
                    (px + c, top),
                    (px, top),
                    (px, bottom),
                    (px - c, bottom),
                    (px + c, bottom),
                ],
                s.color.stroke_width(ERROR_BAR_PX),
            ))
            .map_err(err)?;
        }
        for &(x, y) in segments.iter().flatten() {
            let flagged = s
                .at(x.round() as usize)
                .is_some_and(|p| crate::store::verdict::flagged(&p.verdicts));
            let at = area.map_coordinate(&(x, y));
            if flagged {
                // Dimmed and marked, never dropped.
                draw_marker(root, at, s.marker, tint(s.color, FLAGGED_TINT))?;
                label(
                    root,
                    "!",
                    (at.0 + 2 * MARKER_PX, at.1 - MARKER_PX),
                    text(VALUE_PX * 1.3, INK),
                    VPos::Center,
                )?;
            } else {
                draw_marker(root, at, s.marker, s.color)?;
            }
        }
    }
    Ok(())
}

/// Half the width of an error bar's caps, and its stroke.
const ERROR_CAP_PX: i32 = 12;
const ERROR_BAR_PX: u32 = 3;
/// A flagged point's marker is its colour this far towards white.
pub const FLAGGED_TINT: f64 = 0.55;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels() {
        assert_eq!(si(1_234_567.0), "1.2M");
        assert_eq!(si(2000.0), "2k");
        assert_eq!(si(12.0), "12");
        assert_eq!(ticks(&[1, 2, 4]), vec![1.0, 2.0, 4.0]);
        let many: Vec<usize> = (1..=64).collect();
        let t = ticks(&many);
        assert!(t.len() <= 13 && t.first() == Some(&1.0) && t.last() == Some(&64.0));
    }
}
