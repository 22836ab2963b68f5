//! The report of a service sweep (`gilscope sweep -w service --rps …`):
//! latency against load per mode (p99 solid, p50 dashed, the p99 target),
//! requests/s answered against offered (with the ideal line), and
//! `report.md` with the knee of each mode and its ratio to the `gil`
//! thread pool on this machine's core count.

use super::frame::{
    DrawResult, LegendEntry, Swatch, draw_marker, err, frame, house_builder, house_mesh, ready,
};
use super::lines::si;
use super::style::{
    FONT, HEIGHT, IDEAL, LINE_PX, SVG_FONTS, WIDTH, mode_color, mode_marker, shade,
};
use super::{REPORT_FILE_NAME, ReportError};
use crate::sweep::SweepFile;
use crate::sweep::service::{LoadCurve, ServiceAggregate};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The charts of a service report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceChart {
    /// p99 (and p50) latency against the offered rate, log scale.
    LatencyVsLoad,
    /// Requests/s answered correctly against offered.
    ThroughputVsLoad,
}

impl ServiceChart {
    pub const ALL: [ServiceChart; 2] =
        [ServiceChart::LatencyVsLoad, ServiceChart::ThroughputVsLoad];

    pub fn stem(self) -> &'static str {
        match self {
            ServiceChart::LatencyVsLoad => "latency-vs-load",
            ServiceChart::ThroughputVsLoad => "throughput-vs-load",
        }
    }

    pub fn caption(self) -> &'static str {
        match self {
            ServiceChart::LatencyVsLoad => "Latency vs offered load",
            ServiceChart::ThroughputVsLoad => "Requests/s answered vs offered",
        }
    }
}

/// What the charts draw.
pub struct ServiceCharts<'a> {
    pub agg: &'a ServiceAggregate,
    pub title_suffix: String,
    pub subtitle: String,
}

fn curve_label(c: &LoadCurve) -> String {
    format!("{} ×{} · {}", c.mode, c.workers, c.interpreter)
}

fn curve_color(agg: &ServiceAggregate, c: &LoadCurve) -> RGBColor {
    let same_before = agg
        .curves
        .iter()
        .take_while(|o| !std::ptr::eq(*o, c))
        .filter(|o| o.mode == c.mode)
        .count();
    shade(mode_color(c.mode), 0.3 * same_before as f64)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ServiceCharts<'_>,
    chart: ServiceChart,
) -> DrawResult<()> {
    let agg = data.agg;
    let mut legend: Vec<LegendEntry> = agg
        .curves
        .iter()
        .map(|c| LegendEntry {
            label: curve_label(c),
            swatch: Swatch::Line {
                color: curve_color(agg, c),
                marker: mode_marker(c.mode),
            },
        })
        .collect();
    legend.push(LegendEntry {
        label: match chart {
            ServiceChart::LatencyVsLoad => format!("p99 target {} ms", agg.p99_target_ms),
            ServiceChart::ThroughputVsLoad => "ideal (all answered)".into(),
        },
        swatch: Swatch::Dashed { color: IDEAL },
    });
    let title = format!("{} — {}", chart.caption(), data.title_suffix);
    let legend_title = match chart {
        ServiceChart::LatencyVsLoad => "p99 (solid), p50 (thin)",
        ServiceChart::ThroughputVsLoad => "mode ×workers · interpreter",
    };
    let plot = frame(root, &title, &data.subtitle, &legend, Some(legend_title))?;
    let x_max = agg
        .curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.rps.max(p.offered_rps)))
        .fold(1.0, f64::max)
        * 1.05;
    let x_fmt = |x: &f64| si(*x);
    match chart {
        ServiceChart::LatencyVsLoad => {
            let values = agg.curves.iter().flat_map(|c| {
                c.points
                    .iter()
                    .flat_map(|p| [p.p50_ms, p.p99_ms, p.p99_range_ms.map(|r| r[1])])
                    .flatten()
            });
            let (lo, hi) = values
                .chain([agg.p99_target_ms])
                .filter(|v| v.is_finite() && *v > 0.0)
                .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            let (lo, hi) = ((lo * 0.7).max(0.01), hi * 1.5);
            let mut ch = house_builder(&plot, 10, 110)
                .build_cartesian_2d(0.0..x_max, (lo..hi).log_scale())
                .map_err(err)?;
            let y_fmt = |y: &f64| {
                if *y >= 10.0 {
                    format!("{y:.0} ms")
                } else {
                    format!("{y:.1} ms")
                }
            };
            house_mesh(&mut ch.configure_mesh(), 8)
                .x_desc("offered load (requests/s, Poisson arrivals)")
                .y_desc("latency from the scheduled send (ms, log)")
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&y_fmt)
                .draw()
                .map_err(err)?;
            ch.draw_series(DashedLineSeries::new(
                [(0.0, agg.p99_target_ms), (x_max, agg.p99_target_ms)],
                16,
                10,
                IDEAL.stroke_width(3),
            ))
            .map_err(err)?;
            for c in &agg.curves {
                let color = curve_color(agg, c);
                let p50: Vec<(f64, f64)> = c
                    .points
                    .iter()
                    .filter_map(|p| Some((p.rps, p.p50_ms?)))
                    .collect();
                ch.draw_series(LineSeries::new(p50, color.stroke_width(2)))
                    .map_err(err)?;
                let p99: Vec<(f64, f64)> = c
                    .points
                    .iter()
                    .filter_map(|p| Some((p.rps, p.p99_ms?)))
                    .collect();
                ch.draw_series(LineSeries::new(
                    p99.iter().copied(),
                    color.stroke_width(LINE_PX),
                ))
                .map_err(err)?;
                let area = ch.plotting_area();
                for p in &c.points {
                    if let Some([a, b]) = p.p99_range_ms {
                        let (x, top) = area.map_coordinate(&(p.rps, b));
                        let (_, bottom) = area.map_coordinate(&(p.rps, a));
                        root.draw(&PathElement::new(
                            vec![(x, top), (x, bottom)],
                            color.stroke_width(3),
                        ))
                        .map_err(err)?;
                    }
                }
                for &(x, y) in &p99 {
                    draw_marker(
                        root,
                        area.map_coordinate(&(x, y)),
                        mode_marker(c.mode),
                        color,
                    )?;
                }
            }
        }
        ServiceChart::ThroughputVsLoad => {
            let y_max = agg
                .curves
                .iter()
                .flat_map(|c| c.points.iter().map(|p| p.achieved_rps))
                .fold(x_max, f64::max)
                * 1.05;
            let mut ch = house_builder(&plot, 10, 110)
                .build_cartesian_2d(0.0..x_max, 0.0..y_max)
                .map_err(err)?;
            let y_fmt = |y: &f64| si(*y);
            house_mesh(&mut ch.configure_mesh(), 8)
                .x_desc("offered load (requests/s)")
                .y_desc("answered correctly (requests/s)")
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&y_fmt)
                .draw()
                .map_err(err)?;
            ch.draw_series(DashedLineSeries::new(
                [(0.0, 0.0), (x_max, x_max)],
                16,
                10,
                IDEAL.stroke_width(3),
            ))
            .map_err(err)?;
            for c in &agg.curves {
                let color = curve_color(agg, c);
                let pts: Vec<(f64, f64)> =
                    c.points.iter().map(|p| (p.rps, p.achieved_rps)).collect();
                ch.draw_series(LineSeries::new(
                    pts.iter().copied(),
                    color.stroke_width(LINE_PX),
                ))
                .map_err(err)?;
                let area = ch.plotting_area();
                for &(x, y) in &pts {
                    draw_marker(
                        root,
                        area.map_coordinate(&(x, y)),
                        mode_marker(c.mode),
                        color,
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Draws `chart` as `DIR/STEM.png` and `DIR/STEM.svg`.
pub fn render(
    chart: ServiceChart,
    data: &ServiceCharts<'_>,
    dir: &Path,
) -> Result<[PathBuf; 2], ReportError> {
    let png = dir.join(format!("{}.png", chart.stem()));
    let svg = dir.join(format!("{}.svg", chart.stem()));
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |reason: String| ReportError::Chart { path, reason }
    };
    ready().map_err(failed(&png))?;
    let mut pixels = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, data, chart).map_err(failed(&png))?;
        root.present().map_err(|e| failed(&png)(e.to_string()))?;
    }
    image::save_buffer_with_format(
        &png,
        &pixels,
        WIDTH,
        HEIGHT,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|e| failed(&png)(e.to_string()))?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, data, chart).map_err(failed(&svg))?;
        root.present().map_err(|e| failed(&svg)(e.to_string()))?;
    }
    let text = text.replace(
        &format!("font-family=\"{FONT}\""),
        &format!("font-family=\"{SVG_FONTS}\""),
    );
    std::fs::write(&svg, text).map_err(|source| ReportError::Write {
        path: svg.clone(),
        source,
    })?;
    Ok([png, svg])
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.1}"))
}

/// `report.md` of a service sweep.
pub fn report_md(sweep: &SweepFile, agg: &ServiceAggregate, workload: &str) -> String {
    let mut md = String::new();
    let m = &sweep.machine;
    let cores = m.cores;
    let _ = writeln!(md, "# gilscope service report — {workload}\n");
    let _ = writeln!(
        md,
        "Machine: {}, **{cores} cores**, {} · gilscope {} · command: `{}`\n",
        m.cpu_model.as_deref().unwrap_or("unknown CPU"),
        m.kernel.as_deref().unwrap_or("unknown kernel"),
        sweep.gilscope,
        sweep.command.join(" ")
    );
    let _ = writeln!(
        md,
        "Each point: open-loop load at the offered rate (Poisson arrivals) from gilscope's own threads on the same machine, \
         latency from each request's scheduled send time (no coordinated omission) over every request — timeouts and errors at the time they were given up on — median of {} run(s), after a warm-up that is not counted. \
         The load generator shares the {cores} cores with the server; its own CPU and lateness are in each run's summary.\n",
        sweep.plan.repeat
    );
    md.push_str(&super::service_table::table_md(agg));
    let _ = writeln!(md, "## Knee and throughput against the gil thread pool\n");
    let _ = writeln!(
        md,
        "Knee = the highest offered rate whose p99 stays under **{} ms** with no failed request, searched between the last good and the first bad rate to {} % (the resolution is the gap to the first rate that missed). \
         \"≥\": the curve never missed the target, so its knee and maximum are only lower bounds.\n",
        agg.p99_target_ms,
        sweep
            .plan
            .knee_resolution_pct
            .unwrap_or(crate::sweep::knee::DEFAULT_KNEE_RESOLUTION_PCT)
    );
    let _ = writeln!(
        md,
        "| mode | workers | interpreter | knee (req/s) | knee vs gil | max answered (req/s) | max vs gil |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for c in &agg.curves {
        let ratio =
            |r: Option<crate::sweep::service::Ratio>| r.map_or_else(|| "—".into(), |r| r.text());
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.0} | {} |",
            c.mode,
            c.workers,
            c.interpreter,
            c.knee_text(),
            ratio(agg.knee_ratio(c)),
            c.max_achieved_rps,
            ratio(agg.throughput_ratio(c)),
        );
    }
    let _ = writeln!(md);
    for c in &agg.curves {
        if c.mode == crate::interp::Mode::Gil || agg.gil_baseline(c).is_none() {
            continue;
        }
        let _ = match agg.throughput_ratio(c) {
            Some(r) => writeln!(
                md,
                "* {} ×{} on {}: {} the requests/s of the gil thread pool of {} on this {cores}-core machine.",
                c.mode,
                c.workers,
                c.interpreter,
                r.text(),
                c.workers
            ),
            None => writeln!(
                md,
                "* {} ×{} on {}: neither it nor the gil thread pool of {} missed the target at the rates tried, so no ratio (offer higher rates).",
                c.mode, c.workers, c.interpreter, c.workers
            ),
        };
    }
    let _ = writeln!(
        md,
        "\nAnswers: {}.\n",
        if agg.checksums_agree {
            "every run's checksum of the answers is the same"
        } else {
            "**the checksums of the answers DIFFER between runs**"
        }
    );
    for chart in ServiceChart::ALL {
        let _ = writeln!(
            md,
            "## {}\n\n![{}](charts/{}.png)\n",
            chart.caption(),
            chart.caption(),
            chart.stem()
        );
    }
    let _ = writeln!(md, "## Points\n");
    let _ = writeln!(
        md,
        "| mode | workers | interpreter | offered (req/s) | answered (req/s) | p50 ms | p95 ms | p99 ms | failures | load gen (cores) | runs |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
    for c in &agg.curves {
        for p in &c.points {
            let p99 = match p.p99_range_ms {
                Some([a, b]) => format!("{} ({a:.1}–{b:.1})", ms(p.p99_ms)),
                None => ms(p.p99_ms),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.0} | {:.1} | {} | {} | {p99} | {} | {} | {} |",
                c.mode,
                c.workers,
                c.interpreter,
                p.rps,
                p.achieved_rps,
                ms(p.p50_ms),
                ms(p.p95_ms),
                p.failures,
                p.loadgen_cores
                    .map_or_else(|| "—".into(), |c| format!("{c:.3}")),
                p.runs
            );
        }
    }
    md
}

/// Writes the service charts and `report.md` into `out`.
pub fn write(
    sweep: &SweepFile,
    agg: &ServiceAggregate,
    workload: &str,
    subtitle: &str,
    out: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let charts = out.join(super::CHARTS_DIR);
    std::fs::create_dir_all(&charts).map_err(|source| ReportError::Write {
        path: charts.clone(),
        source,
    })?;
    let data = ServiceCharts {
        agg,
        title_suffix: workload.to_string(),
        subtitle: subtitle.to_string(),
    };
    let mut written = Vec::new();
    for chart in ServiceChart::ALL {
        written.extend(render(chart, &data, &charts)?);
    }
    let md = out.join(REPORT_FILE_NAME);
    std::fs::write(&md, report_md(sweep, agg, workload)).map_err(|source| ReportError::Write {
        path: md.clone(),
        source,
    })?;
    written.push(md);
    Ok(written)
}
