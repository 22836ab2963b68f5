//! The desktop app (egui/eframe, glow renderer): setup, live view, compare
//! view, presentation mode and exports. `gilscope` with no arguments opens
//! it; `gilscope gui` takes options (files to open, a sweep to run at
//! start, screenshots to save).
//!
//! How it is built: each panel owns its state (private fields, methods)
//! and draws from a read-only [`context::UiContext`] (runs, interpreters,
//! the view model, settings), returning [`action::Action`]s — the one
//! enum of requests, which keys, drops, the story and the autopilot use
//! too; [`app::App::apply`] is the one place actions change shared state.
//! Runs are named by [`runs::RunId`], never by position. Every number a
//! view shows is in [`model::RunsModel`], computed when runs change, never
//! inside a frame. Nothing here spawns a process or reads /proc: jobs call
//! `run`, `interp` and `sweep` for that.
//!
//! * [`app`]: shared state and the frame, split by job (apply, pump,
//!   input, script, persist).
//! * [`action`], [`context`], [`runs`], [`model`]: what panels return,
//!   read, name, and show.
//! * [`kit`]: what every view draws with (plots, lane bitmaps and their
//!   textures, style); it owns no view.
//! * [`attach`]: *Attach…*, the running Python processes to watch.
//! * [`setup`]: interpreters, workload, modes, workers, Run/Stop/Sweep.
//! * [`live`]: the live view: the shown run's plots on one time axis.
//! * [`compare`]: the table of runs, scaling and memory charts.
//! * [`race`]: two runs replayed side by side on one clock (two racers).
//! * [`quiet`]: the progress view while runs are measured.
//! * [`bars`], [`status`]: the top bar, the presentation bar, the status bar.
//! * [`auto`]: the scripted user of `gui --sweep … --screenshots`.
//! * [`story`]: `gilscope demo`'s chapters, stepped through with N / P.
//! * [`picture`]: the workload's picture, input and output by worker.
//! * [`driver`]: a thread per run, so the UI never waits on a child.
//! * [`jobs`]: other background work (discovery, the workload catalog,
//!   install, inspecting a process, files, exports).
//! * [`export`]: CSV, run files, charts and screenshots on disk.
//! * [`browse`]: the in-app "Open file…" browser.
//! * [`options`], [`settings`]: how the window starts; what it remembers.
//!
//! The UI is a plain `App::ui(&mut egui::Ui)`, so tests drive it headless
//! with egui_kittest and the benchmark times it without a window; panels
//! are tested alone on synthetic runs (`tests/it/panels.rs`).

pub mod action;
pub mod app;
pub mod attach;
pub mod auto;
pub mod bars;
pub mod bench;
pub mod browse;
pub mod compare;
pub mod context;
pub mod driver;
pub mod export;
pub mod jobs;
pub mod kit;
pub mod live;
pub mod model;
pub mod options;
pub mod picture;
pub mod quiet;
pub mod race;
pub mod runs;
pub mod settings;
pub mod setup;
pub mod status;
pub mod story;

pub use action::{Action, View};
pub use app::{App, AutoSweep, UiOptions};

/// Opens the window and runs until it is closed.
pub fn run_window(options: UiOptions) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("gilscope")
            .with_inner_size(options.window_size)
            .with_min_inner_size([800.0, 560.0])
            .with_drag_and_drop(true)
            .with_fullscreen(options.presentation),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "gilscope",
        native,
        Box::new(move |cc| {
            let renderer = cc.gl.as_ref().map(|gl| {
                use eframe::glow::HasContext as _;
                // SAFETY: a plain glGetString on the context eframe made current.
                unsafe { gl.get_parameter_string(eframe::glow::RENDERER) }
            });
            let mut app = App::new(&cc.egui_ctx, options);
            app.on_renderer(renderer.as_deref());
            Ok(Box::new(EframeApp(app)))
        }),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "could not open the window: {e} (is DISPLAY set? under Xvfb: `xvfb-run -a gilscope`)"
        )
    })
}

struct EframeApp(App);

impl eframe::App for EframeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.0.ui(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.0.shutdown();
    }
}
