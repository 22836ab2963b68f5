//! The app: the state panels share (runs, interpreters, the shown run,
//! the current batch, settings) and the frame's layout. Split by job:
//!
//! * `apply`: [`App::apply`], the one place where an
//!   [`Action`] — from a panel, a key, a drop, the story or the autopilot —
//!   changes that state; starting, stopping and attaching.
//! * `pump`: moves what run drivers and jobs report into the
//!   state, never waiting.
//! * `input`: keys and dropped files, turned into actions.
//! * `script`: the story's chapters and the autopilot,
//!   stepped between frames; both only return actions.
//! * `persist`: screenshots and the remembered settings.
//!
//! Panels' fields are their own: the app calls their methods or sends
//! them what arrived, and reads them through getters.

mod apply;
mod input;
mod persist;
mod pump;
mod script;

use super::action::{Action, Batch, View};
use super::attach::AttachPanel;
use super::auto::{AutoPilot, PilotInputs, StoryInputs};
use super::bars::{presentation_bar_ui, top_bar_ui};
use super::browse::{Browser, Choice, Purpose};
use super::compare::CompareView;
use super::context::{BatchProgress, InstallState, UiContext};
use super::driver::{Driver, DriverMsg};
use super::export;
use super::jobs::{JobResult, Jobs};
use super::kit::style;
use super::live::LiveView;
pub use super::options::{AutoSweep, UiOptions};
use super::runs::{RunId, Runs, run_label};
use super::settings::Settings;
use super::setup::SetupPanel;
use super::status::StatusBar;
use super::story::Story;
use crate::interp::Interpreter;
use crate::run::{RunMessage, RunOutcome};
use crate::store::RunRecord;
use crate::sweep::{Engine, plan::PlannedRun};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A Run or Sweep in progress: the shared sweep engine and the run of it
/// that goes now.
struct BatchState {
    engine: Engine,
    started: Instant,
    current: Option<(RunId, PlannedRun)>,
    sweep: bool,
}

pub struct App {
    options: UiOptions,
    jobs: Jobs,
    interpreters: Option<Vec<Interpreter>>,
    runs: Runs,
    /// The runs' numbers and verdicts, refreshed before each frame.
    model: super::model::RunsModel,
    /// The shown run: what the live view plots (and the compare view's anchor).
    shown: Option<RunId>,
    view: View,
    batch: Option<BatchState>,
    install: InstallState,
    dark: bool,
    presentation: bool,
    setup: SetupPanel,
    live_view: LiveView,
    compare: CompareView,
    attach: AttachPanel,
    status: StatusBar,
    /// The File menu's path field.
    open_path: String,
    /// The "Open file…" browser, when open.
    browser: Option<Browser>,
    pilot: Option<AutoPilot>,
    /// `gilscope demo`'s chapters.
    story: Option<Story>,
    shots_pending: usize,
    style_applied: Option<(bool, bool)>,
    /// "saved to …" for a few seconds after a screenshot (S).
    toast: Option<(String, Instant)>,
    /// What was last written to the settings file, and when.
    saved: Option<(Settings, Instant)>,
    /// A Run or Sweep's parameters, or a process to attach to, are being
    /// checked on a job thread.
    checking: bool,
}

impl App {
    pub fn new(ctx: &egui::Context, options: UiOptions) -> Self {
        let jobs = Jobs::default();
        jobs.set_context(ctx);
        let mut app = Self {
            interpreters: None,
            runs: Runs::default(),
            model: super::model::RunsModel::default(),
            shown: None,
            view: View::Live,
            batch: None,
            install: InstallState::default(),
            dark: options.dark,
            presentation: options.presentation,
            setup: SetupPanel::default(),
            live_view: LiveView::default(),
            compare: CompareView::default(),
            attach: AttachPanel::default(),
            status: StatusBar::new(options.low_refresh, options.quiet),
            open_path: String::new(),
            browser: None,
            pilot: AutoPilot::new(
                (options.auto_sweep.clone(), !options.story.is_empty()),
                !options.open.is_empty(),
                options.screenshot_dir.is_some(),
                options.quit_when_done,
            ),
            story: Story::new(options.story.clone()),
            shots_pending: 0,
            style_applied: None,
            toast: None,
            saved: None,
            checking: false,
            jobs,
            options,
        };
        if let Some(settings) = app.options.settings.clone() {
            app.setup.restore(&settings);
            app.saved = Some((settings, Instant::now()));
        }
        if let Some(found) = app.options.interpreters.clone() {
            app.set_interpreters(found);
        } else {
            app.jobs.discover();
        }
        for path in app.options.open.clone() {
            app.jobs.open(path);
        }
        app
    }

    // ---- read access (tests, the benchmark) ----

    pub fn runs(&self) -> &Runs {
        &self.runs
    }

    pub fn view(&self) -> View {
        self.view
    }

    pub fn shown(&self) -> Option<RunId> {
        self.shown
    }

    pub fn setup(&self) -> &SetupPanel {
        &self.setup
    }

    /// The setup panel's form, as a user would fill it (tests).
    pub fn setup_mut(&mut self) -> &mut SetupPanel {
        &mut self.setup
    }

    pub fn compare(&self) -> &CompareView {
        &self.compare
    }

    /// The runs' numbers and verdicts, as the views read them.
    pub fn model(&self) -> &super::model::RunsModel {
        &self.model
    }

    /// The compare view's own state (ticks), as a user would set it (tests).
    pub fn compare_mut(&mut self) -> &mut CompareView {
        &mut self.compare
    }

    pub fn attach_panel(&self) -> &AttachPanel {
        &self.attach
    }

    pub fn status(&self) -> &StatusBar {
        &self.status
    }

    pub fn options(&self) -> &UiOptions {
        &self.options
    }

    /// How far the current Run or Sweep is.
    pub fn progress(&self) -> Option<BatchProgress> {
        self.batch.as_ref().map(|b| BatchProgress {
            finished: b.engine.finished(),
            failed: b.engine.failed(),
            total: b.engine.total(),
            started: b.started,
        })
    }

    /// Whether a run is going (or a batch has more to run).
    pub fn busy(&self) -> bool {
        self.runs.any_running() || self.batch.is_some() || self.checking
    }

    /// How soon the next frame is needed, if anything moves. While runs are
    /// measured the window is quiet: every 2.5 s in the quiet view, else
    /// at the data's own rate (10 Hz; 1 Hz in low refresh, e.g. software
    /// rendering) — measure quietly. A replay (the race) or a batch
    /// between runs repaints at 25 Hz — replay loudly.
    pub fn repaint_ms(&self) -> Option<u64> {
        if self.status.quiet() && self.busy() {
            Some(super::quiet::QUIET_REPAINT_MS)
        } else if self.runs.any_running() {
            Some(if let Some(ms) = self.options.measure_ms {
                ms
            } else if self.status.low_refresh() {
                MEASURING_LOW_MS
            } else {
                MEASURING_MS
            })
        } else if self.busy() || self.compare.racing() {
            Some(40)
        } else {
            None
        }
    }

    /// Whether the auto sweep (and its screenshots) finished.
    pub fn auto_done(&self) -> bool {
        self.pilot.as_ref().is_none_or(AutoPilot::done)
    }

    /// Adds a finished run (the benchmark's synthetic one) and shows it.
    pub fn add_finished(&mut self, record: RunRecord) -> RunId {
        let id = self.runs.add(record, None, None);
        self.shown = Some(id);
        id
    }

    /// Forgets cached pictures (and, with `everything`, the compare
    /// numbers) so the next frame redraws them (the benchmark).
    pub fn drop_caches(&mut self, everything: bool) {
        self.live_view.drop_caches(everything);
        if everything {
            self.model.clear();
        }
    }

    /// The OpenGL renderer is known: software rendering (llvmpipe,
    /// softpipe, swrast) costs most of a core at 25 Hz, taken from the
    /// workload, so low refresh is switched on and the user is told.
    pub fn on_renderer(&mut self, renderer: Option<&str>) {
        let Some(name) = renderer else { return };
        let lower = name.to_lowercase();
        if ["llvmpipe", "softpipe", "swrast", "software"]
            .iter()
            .any(|s| lower.contains(s))
        {
            self.status.set_low_refresh(true);
            self.status.notify(
                format!("software rendering ({name}): repainting once a second while runs are measured so the window takes less CPU from the workload (untick \"low refresh\" for 10; Q for the quiet view)"),
                false,
            );
        }
    }

    /// Stops every run (the window is closing).
    pub fn shutdown(&mut self) {
        self.stop();
    }

    fn context(&self) -> UiContext<'_> {
        UiContext {
            runs: &self.runs,
            model: &self.model,
            shown: self.shown,
            interpreters: self.interpreters.as_deref(),
            busy: self.busy(),
            progress: self.progress(),
            install: &self.install,
            dark: self.dark,
            presentation: self.presentation,
            self_cpu: self.status.self_cpu(),
            low_refresh: self.status.low_refresh(),
            export_dir: &self.options.export_dir,
        }
    }

    // ---- the one place actions change state ----

    /// The whole frame.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let frame_start = Instant::now();
        let ctx = ui.ctx().clone();
        self.jobs.set_context(&ctx);
        if self.style_applied != Some((self.dark, self.presentation)) {
            if self.style_applied.is_none() {
                style::install_fonts(&ctx);
            }
            // Presentation fills the screen (a projector), leaving it
            // restores the window; nothing to do at start in window mode.
            let was = self.style_applied.is_some_and(|(_, p)| p);
            if was != self.presentation {
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(self.presentation));
            }
            style::apply(&ctx, self.dark, self.presentation);
            self.style_applied = Some((self.dark, self.presentation));
        }
        self.pump();
        self.model.refresh(&self.runs, self.shown);
        self.handle_keys(&ctx);
        self.handle_drops(&ctx);
        self.drive_story(&ctx);
        self.drive_pilot(&ctx);

        let mut actions: Vec<Action> = Vec::new();
        {
            // Built field by field (not `self.context()`): the panels below
            // borrow other fields of `self` mutably while it lives.
            let (busy, progress) = (self.busy(), self.progress());
            let cx = UiContext {
                runs: &self.runs,
                model: &self.model,
                shown: self.shown,
                interpreters: self.interpreters.as_deref(),
                busy,
                progress,
                install: &self.install,
                dark: self.dark,
                presentation: self.presentation,
                self_cpu: self.status.self_cpu(),
                low_refresh: self.status.low_refresh(),
                export_dir: &self.options.export_dir,
            };
            if !self.presentation {
                egui::Panel::top("top").show(ui, |ui| {
                    actions.extend(top_bar_ui(ui, &cx, self.view, &mut self.open_path));
                });
                egui::Panel::bottom("status").show(ui, |ui| self.status.ui(ui, &cx));
                egui::Panel::left("setup")
                    .resizable(true)
                    .default_size(320.0)
                    .show(ui, |ui| {
                        egui::ScrollArea::vertical()
                            .show(ui, |ui| actions.extend(self.setup.ui(ui, &cx)));
                    });
            } else {
                egui::Panel::top("top-presentation").show(ui, |ui| {
                    actions.extend(presentation_bar_ui(ui, &cx, self.view));
                });
                egui::Panel::bottom("status-presentation").show(ui, |ui| self.status.ui(ui, &cx));
            }
            if let Some(story) = &self.story {
                egui::Panel::top("story").show(ui, |ui| story.caption_ui(ui, &cx));
            }
            actions.extend(self.attach.ui(&ctx));
            if let Some(browser) = &mut self.browser
                && let Some(choice) = browser.show(&ctx)
            {
                let purpose = browser.purpose;
                self.browser = None;
                if let Choice::Picked(path) = choice {
                    match purpose {
                        Purpose::Workload => self.setup.use_file(&path),
                        Purpose::Image => self.setup.use_image(&path),
                        Purpose::RunOrSweep => actions.push(Action::Open(path)),
                    }
                }
            }
            // Quiet for the whole batch (not a flash of the views between
            // its runs).
            let quiet = self.status.quiet() && self.busy();
            egui::CentralPanel::default().show(ui, |ui| {
                if quiet {
                    super::quiet::quiet_ui(ui, &cx);
                    return;
                }
                actions.extend(match self.view {
                    View::Live => self.live_view.ui(ui, &cx),
                    View::Compare => self.compare.ui(ui, &cx),
                });
            });
        }
        for action in actions {
            self.apply(action, &ctx);
        }
        if let Some((text, at)) = &self.toast {
            if at.elapsed() < Duration::from_secs(3) {
                egui::Area::new(egui::Id::unique("toast"))
                    .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 60.0))
                    .show(&ctx, |ui| {
                        egui::Frame::popup(ui.style()).show(ui, |ui| {
                            ui.label(egui::RichText::new(text.clone()).strong());
                        });
                    });
                ctx.request_repaint_after(Duration::from_millis(200));
            } else {
                self.toast = None;
            }
        }
        if let Some(ms) = self.repaint_ms() {
            ctx.request_repaint_after(Duration::from_millis(ms));
        }
        self.remember(&ctx);
        self.status.end_frame(frame_start.elapsed());
    }
}

/// Frame interval while a run is measured, live view (the sampler's
/// thread states come at 5 Hz, the GIL shares at 10 Hz).
pub const MEASURING_MS: u64 = 100;
/// The same in low refresh (software rendering).
pub const MEASURING_LOW_MS: u64 = 1000;

/// The same recorded run (opened twice): same spec, start and result.
fn same_run(a: &RunRecord, b: &RunRecord) -> bool {
    a.spec() == b.spec() && a.t0_ns() == b.t0_ns() && a.result() == b.result()
}
