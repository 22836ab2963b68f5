//! The look: light/dark themes, presentation mode (large type, high
//! contrast, no chrome) and one colour per mode, shared by every plot.

use crate::interp::Mode;
use egui::{Color32, FontId, TextStyle};

/// A palette colour as egui's.
pub fn rgb(c: crate::palette::Rgb) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

/// One colour per mode ([`crate::palette::mode`]: the same as the report's charts).
pub fn mode_color(mode: Mode) -> Color32 {
    rgb(crate::palette::mode(mode))
}

/// Errors and bad news.
pub fn bad() -> Color32 {
    rgb(crate::palette::BAD)
}

/// Good news.
pub fn good() -> Color32 {
    rgb(crate::palette::GOOD)
}

/// Flags on numbers (contended, implausible, noisy) and warnings.
pub fn flag() -> Color32 {
    rgb(crate::palette::FLAG)
}

/// Adds DejaVu Sans (the report's embedded font) behind egui's fonts, for
/// the symbols they lack (✓ ✗ ▶ ■ ⚠ …).
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        "dejavu".into(),
        std::sync::Arc::new(egui::FontData::from_static(
            crate::report::style::FONT_BYTES,
        )),
    );
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .push("dejavu".into());
    }
    ctx.set_fonts(fonts);
}

/// The smallest text in stage mode, in points (at 1920×1080 and a scale
/// of 1, pixels).
pub const STAGE_MIN_PX: f32 = 24.0;

/// Applies the theme and the presentation settings to every style.
pub fn apply(ctx: &egui::Context, dark: bool, presentation: bool) {
    ctx.set_theme(if dark {
        egui::Theme::Dark
    } else {
        egui::Theme::Light
    });
    // Stage mode (a projector, the back of a hall): nothing under
    // STAGE_MIN_PX, headings twice that.
    let sizes: [f32; 5] = if presentation {
        [44.0, 28.0, 28.0, STAGE_MIN_PX, STAGE_MIN_PX]
    } else {
        [22.0, 14.5, 14.5, 11.5, 13.0]
    };
    let scale = sizes[1] / 14.5;
    ctx.all_styles_mut(|style| {
        style.text_styles = [
            (TextStyle::Heading, FontId::proportional(sizes[0])),
            (TextStyle::Body, FontId::proportional(sizes[1])),
            (TextStyle::Button, FontId::proportional(sizes[2])),
            (TextStyle::Small, FontId::proportional(sizes[3])),
            (TextStyle::Monospace, FontId::monospace(sizes[4])),
        ]
        .into();
        // egui's debug builds mark sub-pixel rects: not on a slide. (Only
        // debug builds have `style.debug`.)
        #[cfg(debug_assertions)]
        {
            style.debug.show_unaligned = false;
        }
        style.spacing.item_spacing = egui::vec2(8.0, 6.0) * scale.sqrt();
        if presentation {
            // High contrast: text at full strength.
            style.visuals.override_text_color = Some(if style.visuals.dark_mode {
                Color32::WHITE
            } else {
                Color32::BLACK
            });
        } else {
            style.visuals.override_text_color = None;
        }
    });
}

/// The big number's colour ([`crate::palette::speedup`]): good scaling
/// bluish green, a slowdown vermillion, anything else the text colour.
pub fn speedup_color(speedup: f64, workers: usize, text: Color32) -> Color32 {
    crate::palette::speedup(speedup, workers).map_or(text, rgb)
}

/// Colours for series that have no mode colour (cores, memory kinds): the
/// palette's eight, the darkest last.
pub fn palette(i: usize) -> Color32 {
    rgb(crate::palette::series(i))
}
