//! The look every chart shares: size, the embedded font, text sizes, the
//! colour and marker of each mode.

use crate::interp::Mode;
use plotters::style::{Color, FontStyle, IntoFont, RGBColor, TextStyle};
use std::sync::OnceLock;

/// Chart size in pixels (PNG) and in SVG user units.
pub const WIDTH: u32 = 1600;
pub const HEIGHT: u32 = 1000;

/// The family the embedded font is registered under; SVGs name it too,
/// with fallbacks (see [`SVG_FONTS`]).
pub const FONT: &str = "DejaVu Sans";
/// What SVG text asks for instead of the bare [`FONT`].
pub const SVG_FONTS: &str = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif";
/// DejaVu Sans (licence: `assets/fonts/DejaVuSans-LICENSE.txt`).
pub static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

pub const TITLE_PX: f64 = 46.0;
pub const SUBTITLE_PX: f64 = 28.0;
pub const AXIS_TITLE_PX: f64 = 34.0;
pub const TICK_PX: f64 = 30.0;
pub const LEGEND_PX: f64 = 30.0;
pub const VALUE_PX: f64 = 26.0;

pub const INK: RGBColor = RGBColor(33, 33, 33);
pub const MUTED: RGBColor = RGBColor(110, 110, 110);
pub const GRID: RGBColor = RGBColor(226, 226, 226);
pub const IDEAL: RGBColor = RGBColor(120, 120, 120);

pub const LINE_PX: u32 = 5;
pub const MARKER_PX: i32 = 11;

/// Registers the embedded font with plotters once; `false` if it could
/// not be (the text would be missing from PNGs).
pub fn register_font() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| {
        [FontStyle::Normal, FontStyle::Bold]
            .into_iter()
            .all(|style| plotters::style::register_font(FONT, style, FONT_BYTES).is_ok())
    })
}

pub fn text(px: f64, color: RGBColor) -> TextStyle<'static> {
    let mut style = TextStyle::from((FONT, px).into_font());
    style.color = color.to_backend_color();
    style
}

/// Okabe–Ito colours (safe for the common colour-vision deficiencies),
/// one per mode, the same in every chart and in the app ([`crate::palette`]).
pub fn mode_color(mode: Mode) -> RGBColor {
    let [r, g, b] = crate::palette::mode(mode);
    RGBColor(r, g, b)
}

/// A marker shape per mode, so that lines stay apart in greyscale too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
    Cross,
}

pub fn mode_marker(mode: Mode) -> Marker {
    match mode {
        Mode::Gil => Marker::Circle,
        Mode::Ft => Marker::Triangle,
        Mode::FtGil => Marker::Square,
        Mode::Subinterp => Marker::Diamond,
        Mode::Process => Marker::Cross,
    }
}

/// `color` blended towards white by `amount` (0 = unchanged, 1 = white).
pub fn tint(color: RGBColor, amount: f64) -> RGBColor {
    let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * amount).round() as u8;
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

/// `color` blended towards black by `amount`.
pub fn shade(color: RGBColor, amount: f64) -> RGBColor {
    let mix = |c: u8| (f64::from(c) * (1.0 - amount)).round() as u8;
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_registers_and_modes_have_distinct_colours() {
        assert!(register_font());
        let colours: std::collections::HashSet<_> = Mode::ALL
            .iter()
            .map(|m| {
                let c = mode_color(*m);
                (c.0, c.1, c.2)
            })
            .collect();
        assert_eq!(colours.len(), Mode::ALL.len());
        assert_eq!(tint(RGBColor(0, 100, 200), 1.0), RGBColor(255, 255, 255));
        assert_eq!(shade(RGBColor(0, 100, 200), 1.0), RGBColor(0, 0, 0));
    }
}
