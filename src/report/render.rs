//! Each chart drawn twice from the same code: into a pixel buffer saved as
//! PNG, and into an SVG document.

use super::frame::{DrawResult, err, ready};
use super::lines::{self, LineChart};
use super::series::ChartData;
use super::style::{FONT, HEIGHT, SVG_FONTS, WIDTH};
use super::{ReportError, bars};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// The charts of a report, in the order `report.md` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    Speedup,
    Efficiency,
    Throughput,
    Memory,
    Threads,
}

impl Chart {
    pub const ALL: [Chart; 5] = [
        Chart::Speedup,
        Chart::Efficiency,
        Chart::Throughput,
        Chart::Memory,
        Chart::Threads,
    ];

    /// File name without extension.
    pub fn stem(self) -> &'static str {
        match self {
            Chart::Speedup => "speedup",
            Chart::Efficiency => "efficiency",
            Chart::Throughput => "throughput",
            Chart::Memory => "memory",
            Chart::Threads => "threads",
        }
    }

    /// What `report.md` calls it.
    pub fn caption(self) -> &'static str {
        match self {
            Chart::Speedup => "Speedup vs workers",
            Chart::Efficiency => "Parallel efficiency",
            Chart::Throughput => "Throughput",
            Chart::Memory => "Memory overhead per mode",
            Chart::Threads => "Worker thread states",
        }
    }

    fn draw<DB: DrawingBackend>(
        self,
        root: &DrawingArea<DB, Shift>,
        data: &ChartData,
    ) -> DrawResult<()> {
        match self {
            Chart::Speedup => lines::draw(root, data, LineChart::Speedup),
            Chart::Efficiency => lines::draw(root, data, LineChart::Efficiency),
            Chart::Throughput => lines::draw(root, data, LineChart::Throughput),
            Chart::Memory => bars::memory(root, data),
            Chart::Threads => bars::threads(root, data),
        }
    }
}

/// Draws `chart` as `DIR/STEM.png` and `DIR/STEM.svg`; returns both paths.
pub fn render(chart: Chart, data: &ChartData, dir: &Path) -> Result<[PathBuf; 2], ReportError> {
    let png = dir.join(format!("{}.png", chart.stem()));
    let svg = dir.join(format!("{}.svg", chart.stem()));
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |reason: String| ReportError::Chart { path, reason }
    };
    let pixels = png_pixels(chart, data).map_err(failed(&png))?;
    image::save_buffer_with_format(
        &png,
        &pixels,
        WIDTH,
        HEIGHT,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|e| failed(&png)(e.to_string()))?;
    let text = svg_text(chart, data).map_err(failed(&svg))?;
    std::fs::write(&svg, text).map_err(|source| ReportError::Write {
        path: svg.clone(),
        source,
    })?;
    Ok([png, svg])
}

fn png_pixels(chart: Chart, data: &ChartData) -> DrawResult<Vec<u8>> {
    ready()?;
    let mut pixels = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        chart.draw(&root, data)?;
        root.present().map_err(err)?;
    }
    Ok(pixels)
}

fn svg_text(chart: Chart, data: &ChartData) -> DrawResult<String> {
    ready()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        chart.draw(&root, data)?;
        root.present().map_err(err)?;
    }
    Ok(text.replace(
        &format!("font-family=\"{FONT}\""),
        &format!("font-family=\"{SVG_FONTS}\""),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::interp::Mode;
    use crate::report::series::tests::{aggregate, point};

    /// Every `<text>` of an SVG, trimmed.
    fn svg_texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or("").trim().to_string())
            .collect()
    }

    #[test]
    fn every_chart_draws_gaps_and_all_series() {
        let agg = aggregate(vec![
            point(Mode::Gil, "3.13", 1, Some(1.0)),
            point(Mode::Gil, "3.13", 2, Some(0.9)),
            point(Mode::Gil, "3.13", 4, Some(0.95)),
            point(Mode::Ft, "3.13t", 1, Some(1.4)),
            point(Mode::Ft, "3.13t", 2, None),
            point(Mode::Ft, "3.13t", 4, Some(0.4)),
            point(Mode::Subinterp, "3.13", 1, Some(1.0)),
            point(Mode::Subinterp, "3.13", 4, None),
            point(Mode::Process, "3.13", 1, Some(1.0)),
        ]);
        let data = ChartData::new(&agg, &[1, 2, 4], "primes (n=1)".into(), "test".into());
        let dir = tempfile::tempdir().unwrap();
        for chart in Chart::ALL {
            let [png, svg] = render(chart, &data, dir.path()).unwrap();
            let img = image::open(&png).unwrap().to_rgb8();
            assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
            let ink = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
            assert!(ink > 10_000, "{chart:?}: only {ink} non-white pixels");
            let texts = svg_texts(&std::fs::read_to_string(&svg).unwrap());
            match chart {
                Chart::Threads => {
                    for mode in ["gil", "ft", "subinterp", "running", "n/a"] {
                        assert!(
                            texts.iter().any(|t| t == mode),
                            "{chart:?}: {mode} in {texts:?}"
                        );
                    }
                    // Only ran on 1 worker: no bar at 4.
                    assert!(!texts.iter().any(|t| t == "process"), "{texts:?}");
                }
                _ => {
                    for label in ["gil · 3.13", "ft · 3.13t", "process · 3.13", "workers"] {
                        assert!(
                            texts.iter().any(|t| t == label),
                            "{chart:?}: {label} in {texts:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn an_empty_sweep_still_draws() {
        let data = ChartData::new(&aggregate(vec![]), &[], "w".into(), "s".into());
        let dir = tempfile::tempdir().unwrap();
        for chart in Chart::ALL {
            render(chart, &data, dir.path()).unwrap();
        }
    }
}
