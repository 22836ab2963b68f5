//! The workload's picture (blur, mandelbrot, or a workload that opts in):
//! the input and the output filling in as chunks complete — the pixels
//! the workload computed, downscaled by the harness — each band tinted by
//! the worker that computed it (a toggle removes the tint). Textures are
//! re-made only when more bands arrived or the tint changed.

use super::runs::RunId;
use crate::store::RunRecord;
use egui::{Color32, ColorImage, RichText, TextureHandle, TextureOptions};
use std::collections::HashMap;

/// How strongly a band takes its worker's colour.
const TINT: f32 = 0.38;

/// A texture and what it shows: (bands painted, tinted).
type Shown = ((usize, bool), TextureHandle);

#[derive(Default)]
pub struct PictureView {
    /// Tint each band by its worker.
    pub tint: bool,
    /// (run, which) → what it shows and the texture.
    textures: HashMap<(RunId, &'static str), Shown>,
}

impl PictureView {
    pub fn new() -> Self {
        Self {
            tint: true,
            textures: HashMap::new(),
        }
    }

    /// Forget the textures of runs that are gone.
    pub fn retain(&mut self, keep: impl Fn(RunId) -> bool) {
        self.textures.retain(|(id, _), _| keep(*id));
    }

    /// The output at `until_ns` (`None`: all of it), as a texture.
    fn output(
        &mut self,
        ctx: &egui::Context,
        id: RunId,
        run: &RunRecord,
        until_ns: Option<u64>,
        what: &'static str,
    ) -> Option<TextureHandle> {
        let pic = run.picture();
        let g = pic.geometry()?;
        let painted = pic.bands_until(until_ns).count();
        let key = (painted, self.tint);
        if let Some((k, tex)) = self.textures.get(&(id, what))
            && *k == key
        {
            return Some(tex.clone());
        }
        let img = pic.composed(until_ns)?;
        let owners = if self.tint {
            pic.workers_at(until_ns)
        } else {
            None
        };
        let mut pixels = Vec::with_capacity((g.width * g.height) as usize);
        for (i, p) in img.pixels().enumerate() {
            let c = Color32::from_rgb(p[0], p[1], p[2]);
            pixels.push(match owners.as_ref().and_then(|o| o[i]) {
                Some(w) => super::kit::lanes::mix(c, super::kit::style::palette(w), TINT),
                None => c,
            });
        }
        let image = ColorImage {
            size: [g.width as usize, g.height as usize],
            pixels,
            source_size: egui::vec2(g.width as f32, g.height as f32),
        };
        let name = format!("{what}-picture-{}", id.number());
        let tex = ctx.load_texture(name, image, TextureOptions::NEAREST);
        self.textures.insert((id, what), (key, tex.clone()));
        Some(tex)
    }

    fn input(&mut self, ctx: &egui::Context, id: RunId, run: &RunRecord) -> Option<TextureHandle> {
        if let Some((_, tex)) = self.textures.get(&(id, "input")) {
            return Some(tex.clone());
        }
        let img = run.picture().input()?;
        let (w, h) = img.dimensions();
        let image = ColorImage::from_rgb([w as usize, h as usize], img.as_raw());
        let tex = ctx.load_texture(
            format!("input-picture-{}", id.number()),
            image,
            TextureOptions::NEAREST,
        );
        self.textures
            .insert((id, "input"), ((0, false), tex.clone()));
        Some(tex)
    }

    /// Input and output, one above the other, filling `ui`'s width; the
    /// output as it stood at `until_ns`. Nothing when the run sent no
    /// picture.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        id: RunId,
        run: &RunRecord,
        until_ns: Option<u64>,
        what: &'static str,
        with_input: bool,
    ) {
        let pic = run.picture();
        let Some(g) = pic.geometry() else { return };
        let ctx = ui.ctx().clone();
        let coverage = pic.coverage(until_ns).unwrap_or(0.0);
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Picture").strong());
            ui.label(format!("{:.0} % computed", coverage * 100.0));
            ui.checkbox(&mut self.tint, "tint by worker");
        });
        let width = ui.available_width().max(40.0);
        let aspect = g.height as f32 / g.width.max(1) as f32;
        let inputs = usize::from(with_input && pic.input().is_some());
        // Both fit the height left, side by side when that is wider.
        let h_left = (ui.available_height() - 8.0).max(60.0);
        let per =
            (h_left / (1 + inputs) as f32 - ui.text_style_height(&egui::TextStyle::Small) - 6.0)
                .max(40.0);
        let w = width.min(per / aspect);
        let size = egui::vec2(w, w * aspect);
        if inputs == 1
            && let Some(tex) = self.input(&ctx, id, run)
        {
            ui.small("input");
            ui.image((tex.id(), size));
        }
        if let Some(tex) = self.output(&ctx, id, run, until_ns, what) {
            ui.small(if coverage >= 0.999 {
                "output (done)"
            } else {
                "output, filling in as chunks finish"
            });
            ui.image((tex.id(), size));
        }
    }
}
