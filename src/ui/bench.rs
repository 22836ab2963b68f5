//! `gilscope bench ui`: the UI work of one frame of the live and compare
//! views over a long synthetic run (no window, no GPU): egui layout plus
//! gilscope's own per-frame work, and egui's tessellation separately.

use super::app::{App, UiOptions};
use crate::interp::Mode;
use crate::store::fixtures::{MS, Synth, interpreter};
use std::time::Instant;

/// What each timed frame redoes from scratch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuild {
    /// Nothing: a finished run on screen.
    Never,
    /// The heat map and lanes textures (what a growing run costs, at most
    /// every 100 ms).
    Textures,
    /// Also re-reading every sample into the pictures and recomputing
    /// the compare numbers (opening a run).
    Everything,
}

/// What one benchmark case measured, in milliseconds per frame.
#[derive(Debug, Clone)]
pub struct FrameTimes {
    pub case: String,
    pub frames: usize,
    pub ui_ms: Vec<f64>,
    pub tessellate_ms: Vec<f64>,
}

/// One case of `gilscope bench ui`.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub name: &'static str,
    pub view: super::View,
    pub rebuild: Rebuild,
    /// The screen in logical px.
    pub size: [f32; 2],
    /// Stage (presentation) mode.
    pub stage: bool,
    /// The two runs raced.
    pub race: bool,
    /// A shown view's frame (held to the target), not opening or growing
    /// a run.
    pub steady: bool,
}

impl Case {
    pub fn new(name: &'static str, view: super::View, rebuild: Rebuild, size: [f32; 2]) -> Self {
        Self {
            name,
            view,
            rebuild,
            size,
            stage: false,
            race: false,
            steady: true,
        }
    }

    pub fn stage(self) -> Self {
        Self {
            stage: true,
            ..self
        }
    }

    pub fn race(self) -> Self {
        Self { race: true, ..self }
    }

    pub fn unsteady(self) -> Self {
        Self {
            steady: false,
            ..self
        }
    }
}

/// Adds a second finished run to race against the first: the same work
/// under the GIL. Returns its id.
pub fn add_racer(app: &mut App, threads: usize, cores: u32, secs: u64) -> super::runs::RunId {
    let interp = interpreter("3.13", "3.13.5", false);
    let mut synth = Synth::new(Mode::Gil, threads);
    synth.chunk_ns = 600 * MS;
    synth.chunks_per_worker = secs * 2;
    synth.cores = cores;
    app.add_finished(synth.build(&interp))
}

/// A finished run of `threads` workers × `secs` seconds at 50 Hz on `cores` CPUs.
pub fn synthetic_app(ctx: &egui::Context, threads: usize, cores: u32, secs: u64) -> App {
    let interp = interpreter("3.13t", "3.13.5", true);
    let mut synth = Synth::new(Mode::Ft, threads);
    synth.chunk_ns = 500 * MS;
    synth.chunks_per_worker = secs * 2;
    synth.cores = cores;
    let record = synth.build(&interp);
    let options = UiOptions {
        interpreters: Some(vec![interp]),
        ..UiOptions::default()
    };
    let mut app = App::new(ctx, options);
    app.add_finished(record);
    app
}

/// Times `frames` frames drawn by `frame` (the app's `ui`, its view set
/// by the caller), which is told before each what to redo.
pub fn time_frames(
    ctx: &egui::Context,
    rebuild: Rebuild,
    frames: usize,
    size: [f32; 2],
    case: &str,
    mut frame: impl FnMut(&mut egui::Ui, Rebuild),
) -> FrameTimes {
    let mut out = FrameTimes {
        case: case.to_string(),
        frames,
        ui_ms: Vec::new(),
        tessellate_ms: Vec::new(),
    };
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(size[0], size[1]),
        )),
        ..Default::default()
    };
    // Warm up: fonts, first layout, first textures.
    for _ in 0..3 {
        let mut output = ctx.run_ui(input(), |ui| frame(ui, Rebuild::Never));
        // No renderer here: drop the texture uploads on purpose.
        output.textures_delta.clear();
    }
    for _ in 0..frames {
        let t = Instant::now();
        let mut output = ctx.run_ui(input(), |ui| frame(ui, rebuild));
        out.ui_ms.push(t.elapsed().as_secs_f64() * 1e3);
        output.textures_delta.clear();
        let t = Instant::now();
        let _ = ctx.tessellate(output.shapes, output.pixels_per_point);
        out.tessellate_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    out
}
