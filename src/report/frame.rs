//! What surrounds every chart: white page, title and subtitle at the top
//! left, a legend in its own column at the right (never over the data),
//! and the markers lines and legends share.

use super::style::{
    self, AXIS_TITLE_PX, GRID, INK, LEGEND_PX, LINE_PX, MARKER_PX, MUTED, Marker, SUBTITLE_PX,
    TICK_PX, TITLE_PX, text,
};
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Chart drawing errors, as text (the backend's error type differs).
pub type DrawResult<T> = Result<T, String>;

pub fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// How a legend entry looks.
#[derive(Debug, Clone)]
pub enum Swatch {
    /// A line with the series' marker.
    Line { color: RGBColor, marker: Marker },
    /// A dashed grey line.
    Dashed { color: RGBColor },
    /// A filled box (bars).
    Box { fill: RGBColor, edge: RGBColor },
}

#[derive(Debug, Clone)]
pub struct LegendEntry {
    pub label: String,
    pub swatch: Swatch,
}

const TITLE_BAND_PX: i32 = 140;
const SWATCH_PX: i32 = 64;
const LEGEND_ROW_PX: i32 = 54;

/// Fills the page, draws title, subtitle and legend, and returns the area
/// left for the plot.
pub fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    legend: &[LegendEntry],
    legend_title: Option<&str>,
) -> DrawResult<DrawingArea<DB, Shift>> {
    root.fill(&WHITE).map_err(err)?;
    let left = 40;
    root.draw(&Text::new(
        title.to_string(),
        (left, 30),
        text(TITLE_PX, INK),
    ))
    .map_err(err)?;
    root.draw(&Text::new(
        subtitle.to_string(),
        (left, 30 + TITLE_PX as i32 + 18),
        text(SUBTITLE_PX, MUTED),
    ))
    .map_err(err)?;
    let (width, _) = root.dim_in_pixel();
    let label_px = legend
        .iter()
        .map(|e| e.label.as_str())
        .chain(legend_title)
        .map(|l| {
            root.estimate_text_size(l, &text(LEGEND_PX, INK))
                .map(|(w, _)| w as i32)
        })
        .try_fold(0, |max, w| w.map(|w| max.max(w)))
        .map_err(err)?;
    let legend_px = if legend.is_empty() {
        0
    } else {
        (label_px + SWATCH_PX + 70).min(width as i32 * 2 / 5)
    };
    let (_, below) = root.split_vertically(TITLE_BAND_PX);
    let (plot, legend_area) = below.split_horizontally(width as i32 - legend_px);
    draw_legend(&legend_area, legend, legend_title)?;
    Ok(plot)
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    legend: &[LegendEntry],
    legend_title: Option<&str>,
) -> DrawResult<()> {
    let x = 10;
    let mut y = 60;
    if let Some(t) = legend_title {
        area.draw(&Text::new(
            t.to_string(),
            (x, y - 20),
            text(LEGEND_PX, MUTED),
        ))
        .map_err(err)?;
        y += LEGEND_ROW_PX;
    }
    let middle = Pos::new(HPos::Left, VPos::Center);
    for entry in legend {
        let (x0, x1) = (x, x + SWATCH_PX - 12);
        match &entry.swatch {
            Swatch::Line { color, marker } => {
                area.draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    color.stroke_width(LINE_PX),
                ))
                .map_err(err)?;
                draw_marker(area, ((x0 + x1) / 2, y), *marker, *color)?;
            }
            Swatch::Dashed { color } => {
                for (a, b) in [(x0, x0 + 14), (x0 + 22, x0 + 36), (x1 - 8, x1)] {
                    area.draw(&PathElement::new(
                        vec![(a, y), (b, y)],
                        color.stroke_width(3),
                    ))
                    .map_err(err)?;
                }
            }
            Swatch::Box { fill, edge } => {
                area.draw(&Rectangle::new(
                    [(x0 + 6, y - 16), (x1 - 6, y + 16)],
                    fill.filled(),
                ))
                .map_err(err)?;
                area.draw(&Rectangle::new(
                    [(x0 + 6, y - 16), (x1 - 6, y + 16)],
                    edge.stroke_width(2),
                ))
                .map_err(err)?;
            }
        }
        area.draw(&Text::new(
            entry.label.clone(),
            (x + SWATCH_PX, y),
            text(LEGEND_PX, INK).pos(middle),
        ))
        .map_err(err)?;
        y += LEGEND_ROW_PX;
    }
    Ok(())
}

/// A marker centred on `at` (pixels of `area`), white-edged so that
/// overlapping points stay readable.
pub fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    marker: Marker,
    color: RGBColor,
) -> DrawResult<()> {
    let r = MARKER_PX;
    let (x, y) = at;
    let poly = |pts: &[(i32, i32)], style: ShapeStyle| {
        let pts: Vec<(i32, i32)> = pts.iter().map(|(dx, dy)| (x + dx, y + dy)).collect();
        area.draw(&Polygon::new(pts, style)).map_err(err)
    };
    for (grow, style) in [(3, WHITE.filled()), (0, color.filled())] {
        let r = r + grow;
        match marker {
            Marker::Circle => area.draw(&Circle::new((x, y), r, style)).map_err(err)?,
            Marker::Triangle => poly(&[(0, -r - 3), (r + 2, r - 1), (-r - 2, r - 1)], style)?,
            Marker::Square => poly(
                &[
                    (-r + 1, -r + 1),
                    (r - 1, -r + 1),
                    (r - 1, r - 1),
                    (-r + 1, r - 1),
                ],
                style,
            )?,
            Marker::Diamond => poly(&[(0, -r - 2), (r + 2, 0), (0, r + 2), (-r - 2, 0)], style)?,
            Marker::Cross => {
                let w = 4 + grow;
                let t = r;
                for (a, b) in [((-t, -t), (t, t)), ((-t, t), (t, -t))] {
                    area.draw(&PathElement::new(
                        vec![(x + a.0, y + a.1), (x + b.0, y + b.1)],
                        ShapeStyle {
                            stroke_width: w as u32 + 2,
                            ..style
                        },
                    ))
                    .map_err(err)?;
                }
            }
        }
    }
    Ok(())
}

/// Centred text at `at` (pixels of `area`).
pub fn label<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    at: (i32, i32),
    style: TextStyle<'_>,
    v: VPos,
) -> DrawResult<()> {
    area.draw(&Text::new(
        s.to_string(),
        at,
        style.pos(Pos::new(HPos::Center, v)),
    ))
    .map_err(err)
}

/// Keeps the font registered before the first text is drawn.
pub fn ready() -> DrawResult<()> {
    if style::register_font() {
        Ok(())
    } else {
        Err("the embedded font could not be loaded".to_string())
    }
}

/// The house plot area: fixed side margins and room for the tick labels;
/// `margin_top` and `x_label_area` vary with what the chart puts there.
pub fn house_builder<'a, 'b, DB: DrawingBackend>(
    plot: &'a DrawingArea<DB, Shift>,
    margin_top: u32,
    x_label_area: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(plot);
    builder
        .margin_left(20)
        .margin_right(30)
        .margin_top(margin_top)
        .margin_bottom(20)
        .x_label_area_size(x_label_area)
        .y_label_area_size(150);
    builder
}

/// The house grid and axes every chart shares: horizontal grid lines only,
/// no minor lines, bold axes, the tick and axis-title fonts. Callers add
/// their descriptions and label formatters, then draw.
pub fn house_mesh<'m, 'a, 'b, X, Y, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    y_labels: usize,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    mesh.disable_x_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID.stroke_width(2))
        .axis_style(INK.stroke_width(2))
        .y_labels(y_labels)
        .label_style(text(TICK_PX, INK))
        .axis_desc_style(text(AXIS_TITLE_PX, INK))
}
