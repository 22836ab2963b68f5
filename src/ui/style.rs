//! The look: light/dark themes, presentation mode (large type, high
//! contrast, no chrome) and one colour per mode, shared by every plot.

use crate::interp::Mode;
use egui::{Color32, FontId, TextStyle};

/// One colour per mode (the same hues as the report's charts).
pub fn mode_color(mode: Mode) -> Color32 {
    match mode {
        Mode::Gil => Color32::from_rgb(0xd6, 0x45, 0x45),
        Mode::Ft => Color32::from_rgb(0x2e, 0x86, 0xde),
        Mode::FtGil => Color32::from_rgb(0x9b, 0x59, 0xb6),
        Mode::Subinterp => Color32::from_rgb(0x27, 0xae, 0x60),
        Mode::Process => Color32::from_rgb(0xe6, 0x7e, 0x22),
    }
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

/// Applies the theme and the presentation settings to every style.
pub fn apply(ctx: &egui::Context, dark: bool, presentation: bool) {
    ctx.set_theme(if dark {
        egui::Theme::Dark
    } else {
        egui::Theme::Light
    });
    let scale = if presentation { 1.45 } else { 1.0 };
    ctx.all_styles_mut(|style| {
        let size = |s: f32| FontId::proportional(s * scale);
        style.text_styles = [
            (TextStyle::Heading, size(22.0)),
            (TextStyle::Body, size(14.5)),
            (TextStyle::Button, size(14.5)),
            (TextStyle::Small, size(11.5)),
            (TextStyle::Monospace, FontId::monospace(13.0 * scale)),
        ]
        .into();
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

/// The big number's colour: good scaling green, none red.
pub fn speedup_color(speedup: f64, workers: usize) -> Color32 {
    let ideal = workers.max(1) as f64;
    if workers <= 1 {
        Color32::GRAY
    } else if speedup >= 0.75 * ideal {
        Color32::from_rgb(0x2e, 0xa0, 0x43)
    } else if speedup >= 1.2 {
        Color32::from_rgb(0xf2, 0xa9, 0x00)
    } else {
        Color32::from_rgb(0xd6, 0x45, 0x45)
    }
}
