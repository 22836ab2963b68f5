//! The app: the state panels share (runs, interpreters, the shown run,
//! the current batch, settings), the frame's layout, and [`App::apply`] —
//! the one place where an [`Action`] a panel returned changes that state.
//! Also the pump that moves messages from run drivers and jobs into the
//! state, never waiting, and the keys and drops.

use super::action::{Action, Batch, View};
use super::attach::AttachPanel;
use super::auto::{AutoPilot, PilotAction, PilotInputs, StoryInputs};
use super::bars::{presentation_bar_ui, top_bar_ui};
use super::browse::{Browser, Choice, Purpose};
use super::compare::CompareView;
use super::context::{BatchProgress, InstallState, UiContext};
use super::driver::{Driver, DriverMsg};
use super::jobs::{JobResult, Jobs};
use super::live::LiveView;
pub use super::options::{AutoSweep, UiOptions};
use super::runs::{RunId, Runs, run_label};
use super::settings::Settings;
use super::setup::SetupPanel;
use super::status::StatusBar;
use super::story::{Story, StoryAction};
use super::{export, style};
use crate::interp::Interpreter;
use crate::run::{RunMessage, RunOutcome};
use crate::store::RunRecord;
use crate::sweep::{Engine, runner::PlannedRun};
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
    /// The run the live view shows (and the compare view's anchor).
    live: Option<RunId>,
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
    /// A Run or Sweep's parameters are being checked.
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
            live: None,
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
                (options.auto_sweep.is_some(), !options.story.is_empty()),
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

    pub fn live(&self) -> Option<RunId> {
        self.live
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
        if self.status.quiet && self.busy() {
            Some(super::quiet::QUIET_REPAINT_MS)
        } else if self.runs.any_running() {
            Some(if let Some(ms) = self.options.measure_ms {
                ms
            } else if self.status.low_refresh {
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
        self.live = Some(id);
        id
    }

    /// Forgets cached pictures (and, with `everything`, the compare
    /// numbers) so the next frame redraws them (the benchmark).
    pub fn drop_caches(&mut self, everything: bool) {
        self.live_view.pictures.mark_stale();
        if everything {
            self.live_view.pictures.clear();
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
            self.status.low_refresh = true;
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
            live: self.live,
            interpreters: self.interpreters.as_deref(),
            busy: self.busy(),
            progress: self.progress(),
            install: &self.install,
            dark: self.dark,
            presentation: self.presentation,
            self_cpu: self.status.self_cpu(),
            low_refresh: self.status.low_refresh,
            export_dir: &self.options.export_dir,
        }
    }

    // ---- the one place actions change state ----

    /// Carries out what a panel (or a key, a drop, the auto pilot) asked.
    pub fn apply(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::Start(batch) => self.check_then_start(batch),
            Action::Stop => self.stop(),
            Action::RunOrStop => self.run_or_stop(ctx),
            Action::Show(id) => {
                if self.runs.contains(id) {
                    self.live = Some(id);
                    self.view = View::Live;
                }
            }
            Action::SetView(view) => self.view = view,
            Action::Race(a, b) => {
                if self.runs.contains(a) && self.runs.contains(b) {
                    self.compare.start_race(a, b);
                    self.view = View::Compare;
                }
            }
            Action::CloseRace => self.compare.race = None,
            Action::ClearFinished => {
                let n = self.runs.remove_finished();
                if self.live.is_some_and(|id| !self.runs.contains(id)) {
                    self.live = self.runs.last();
                }
                self.status
                    .notify(format!("cleared {n} finished run(s)"), false);
            }
            Action::Open(path) => self.jobs.open(path),
            Action::Browse(purpose) => self.browser = Some(Browser::new(purpose, None)),
            Action::Export(what) => {
                export::start(
                    what,
                    &self.runs,
                    self.live,
                    &self.options.export_dir,
                    &self.jobs,
                );
            }
            Action::Screenshot(name) => self.screenshot(ctx, name.as_deref()),
            Action::SetDark(dark) => self.dark = dark,
            Action::SetPresentation(on) => self.presentation = on,
            Action::Install => {
                if !self.install.running {
                    self.install = InstallState {
                        running: true,
                        line: "starting".into(),
                        ..InstallState::default()
                    };
                    self.jobs.install();
                }
            }
            Action::Rediscover => {
                self.interpreters = None;
                self.jobs.discover();
            }
            Action::ListProcesses => {
                self.attach.open = true;
                self.attach.processes = None;
                self.jobs.spawn("processes", |_| {
                    JobResult::Processes(crate::run::attach::python_processes())
                });
            }
            Action::Attach(pid) => self.start_attach(pid),
            Action::Notify { text, error } => self.status.notify(text, error),
            Action::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }

    fn set_interpreters(&mut self, found: Vec<Interpreter>) {
        let usable = found.iter().filter(|i| i.info().is_some()).count();
        if usable == 0 {
            self.status.notify(
                "no working Python found: use \"Install CPython 3.13 + 3.13t\" in the setup panel",
                true,
            );
        }
        if let Some(describer) = self.setup.on_interpreters(&found) {
            self.jobs.describe_workloads(describer);
        }
        self.interpreters = Some(found);
    }

    /// Checks the batch's parameters once (`harness.py --check`, on a job
    /// thread: it starts Python), then starts it; a bad one is one error
    /// naming it, and nothing starts.
    fn check_then_start(&mut self, batch: Box<Batch>) {
        if self.busy() {
            self.status
                .notify("a run is going: stop it first (Space)", true);
            return;
        }
        let plan = &batch.plan;
        let script = plan.workload.starts_with(crate::run::script::SCRIPT_PREFIX);
        let Some(python) = plan
            .interpreters
            .first()
            .map(|p| p.path.clone())
            .filter(|_| !script)
        else {
            self.start_batch(*batch);
            return;
        };
        let (workload, params) = (plan.workload.clone(), plan.params.clone());
        self.status.notify("checking the parameters…", false);
        self.checking = true;
        self.jobs.spawn("check", move |_| JobResult::Checked {
            result: crate::run::check_params(&python, &workload, &params),
            batch,
        });
    }

    /// Starts a Run or Sweep: the engine hands out one run at a time.
    fn start_batch(&mut self, batch: Batch) {
        if self.busy() {
            self.status
                .notify("a run is going: stop it first (Space)", true);
            return;
        }
        let found = self.interpreters.clone().unwrap_or_default();
        let engine = Engine::new(batch.plan, &found, batch.timeout);
        if engine.total() == 0 {
            self.status.notify(
                "nothing to run: pick at least one mode that has an interpreter",
                true,
            );
            return;
        }
        self.batch = Some(BatchState {
            engine,
            started: Instant::now(),
            current: None,
            sweep: batch.sweep,
        });
        self.next_batch_run();
    }

    /// Watches process `pid` live (read only) as a run of its own.
    fn start_attach(&mut self, pid: u32) {
        if self.busy() {
            self.status
                .notify("a run is going: stop it first (Space), then attach", true);
            return;
        }
        let target = match crate::run::attach::inspect(pid) {
            Ok(t) => t,
            Err(e) => {
                self.status.notify(format!("cannot attach: {e}"), true);
                return;
            }
        };
        let spec = crate::run::attach::spec(&target, None);
        let interp = crate::run::attach::interpreter(&target);
        let driver = Driver::attach(target, self.options.sampling, self.jobs.waker());
        let id = self
            .runs
            .add(RunRecord::new(spec, interp), Some(driver), None);
        self.live = Some(id);
        self.view = View::Live;
    }

    /// Starts the batch's next run when none goes; ends the batch when
    /// the engine has no more.
    fn next_batch_run(&mut self) {
        if self.runs.any_running() {
            return;
        }
        let Some(batch) = &mut self.batch else { return };
        match batch.engine.next_run() {
            Some(next) => {
                let driver =
                    Driver::start(next.spec.clone(), self.options.sampling, self.jobs.waker());
                let id = self.runs.add(
                    RunRecord::new(next.spec, next.interpreter),
                    Some(driver),
                    None,
                );
                batch.current = Some((id, next.planned));
                self.live = Some(id);
            }
            None => {
                let b = self.batch.take().expect("batch is set");
                let (finished, failed) = (b.engine.finished(), b.engine.failed());
                let mut text = format!(
                    "{} done: {finished} run{} ({failed} failed) in {:.1} s",
                    if b.sweep { "sweep" } else { "run" },
                    if finished == 1 { "" } else { "s" },
                    b.started.elapsed().as_secs_f64()
                );
                for u in b.engine.unsettled() {
                    text.push_str(&format!("; unsettled: {u}"));
                }
                self.status.notify(text, failed > 0);
            }
        }
    }

    /// Stops the live run and drops the rest of its batch.
    fn stop(&mut self) {
        // A check in flight: its batch will not start.
        self.checking = false;
        if let Some(b) = &mut self.batch {
            b.engine.cancel();
        }
        for entry in self.runs.iter() {
            if let Some(d) = &entry.driver {
                d.stop();
            }
        }
    }

    /// Run or stop, whichever applies (Space).
    fn run_or_stop(&mut self, ctx: &egui::Context) {
        let action = if self.busy() {
            Action::Stop
        } else {
            let cx = self.context();
            self.setup
                .run_batch(&cx)
                .map_or_else(Action::error, |b| Action::Start(Box::new(b)))
        };
        self.apply(action, ctx);
    }

    /// Moves everything the drivers and jobs reported into the state.
    pub fn pump(&mut self) {
        let mut finished = Vec::new();
        for entry in self.runs.iter_mut() {
            let Some(driver) = &entry.driver else {
                continue;
            };
            for msg in driver.drain() {
                match msg {
                    DriverMsg::Started(_) => {}
                    DriverMsg::Run(msg) => {
                        let done = matches!(msg, RunMessage::Finished(_));
                        entry.record.eat_message(msg);
                        if done {
                            finished.push(entry.id);
                        }
                    }
                    DriverMsg::StartFailed(reason) => {
                        entry.record.eat_message(RunMessage::Finished(Box::new(
                            RunOutcome::not_started(&reason),
                        )));
                        finished.push(entry.id);
                    }
                }
            }
        }
        for id in finished {
            self.runs.mark_finished(id);
            let Some(entry) = self.runs.get(id) else {
                continue;
            };
            let record = &entry.record;
            let failed = record.outcome().is_none_or(|o| o.is_failure());
            let headline = record.outcome().map(|o| o.headline()).unwrap_or_default();
            let label = run_label(record);
            if let Some(b) = &mut self.batch
                && let Some((cur, planned)) = &b.current
                && *cur == id
            {
                b.engine.ended(planned, record);
                b.current = None;
            }
            if failed {
                self.live_view.open_log();
            }
            self.status.notify(format!("{label}: {headline}"), failed);
            if let Some(dir) = &self.options.save_runs {
                let path = dir.join(format!("run-{:03}.json", id.number()));
                let saved = std::fs::create_dir_all(dir)
                    .map_err(|e| e.to_string())
                    .and_then(|()| record.save(&path).map_err(|e| e.to_string()));
                if let Err(e) = saved {
                    self.status.notify(
                        format!("could not save {}: {e} (check --save-runs)", path.display()),
                        true,
                    );
                }
            }
        }
        if self.batch.is_some() {
            self.next_batch_run();
        }
        for result in self.jobs.drain() {
            self.on_job(result);
        }
    }

    fn on_job(&mut self, result: JobResult) {
        match result {
            JobResult::Interpreters(found) => self.set_interpreters(found),
            JobResult::Workloads { python, result } => self.setup.on_catalog(python, result),
            JobResult::Install(ev) => self.install.on_event(ev),
            JobResult::InstallDone(result) => {
                self.install.running = false;
                match result {
                    Ok(paths) => {
                        self.status.notify(
                            format!(
                                "installed: {}",
                                paths
                                    .iter()
                                    .map(|p| p.display().to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            false,
                        );
                        self.interpreters = None;
                        self.jobs.discover();
                    }
                    Err(e) => self.status.notify(format!("install failed: {e}"), true),
                }
            }
            JobResult::Opened { path, result } => match result {
                Ok(records) => {
                    // A run already in the window (the same file opened
                    // twice) is not added again.
                    let (new, known): (Vec<RunRecord>, Vec<RunRecord>) = records
                        .into_iter()
                        .partition(|r| !self.runs.iter().any(|e| same_run(&e.record, r)));
                    if !known.is_empty() {
                        self.status.notify(
                            format!(
                                "{} run(s) from {} were already open",
                                known.len(),
                                path.display()
                            ),
                            false,
                        );
                    }
                    let n = new.len();
                    let mut last = None;
                    for record in new {
                        last = Some(self.runs.add(record, None, Some(path.clone())));
                    }
                    if self.live.is_none() || !self.busy() {
                        self.live = last.or(self.live);
                    }
                    if n > 1 {
                        self.view = View::Compare;
                    }
                    self.status
                        .notify(format!("opened {n} run(s) from {}", path.display()), false);
                }
                Err(e) => self.status.notify(format!("could not open: {e}"), true),
            },
            JobResult::Processes(list) => self.attach.processes = Some(list),
            JobResult::Checked { .. } if !self.checking => {
                self.status.notify("stopped before it started", false);
            }
            JobResult::Checked { batch, result } => match result {
                Ok(()) => {
                    self.checking = false;
                    self.start_batch(*batch);
                }
                Err(e) => {
                    self.checking = false;
                    self.status.notify(format!("nothing started: {e}"), true);
                }
            },
            JobResult::Wrote { what, result } => {
                self.shots_pending = self
                    .shots_pending
                    .saturating_sub(usize::from(what == "screenshot"));
                match result {
                    Ok(paths) => {
                        let shown: Vec<String> =
                            paths.iter().map(|p| p.display().to_string()).collect();
                        // The user's S (not the scripted shots, which would
                        // catch the toast in the next one).
                        let by_key = paths.iter().any(|p| {
                            p.file_name()
                                .is_some_and(|n| n.to_string_lossy().starts_with("gilscope-"))
                        });
                        if what == "screenshot" && by_key {
                            self.toast =
                                Some((format!("saved to {}", shown.join(", ")), Instant::now()));
                        }
                        self.status
                            .notify(format!("{what} written: {}", shown.join(", ")), false);
                    }
                    Err(e) => self.status.notify(format!("{what} failed: {e}"), true),
                }
            }
        }
    }

    /// Saves a screenshot of the window (PNG): `name` in the screenshot
    /// folder, or a time-stamped file in the export folder.
    fn screenshot(&mut self, ctx: &egui::Context, name: Option<&str>) {
        let path = match name {
            Some(n) => self
                .options
                .screenshot_dir
                .clone()
                .unwrap_or_else(|| self.options.export_dir.clone())
                .join(n),
            None => self
                .options
                .export_dir
                .join(format!("gilscope-{}.png", export::timestamp())),
        };
        self.shots_pending += 1;
        export::request_screenshot(ctx, path, self.jobs.sender());
    }

    fn handle_keys(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let (space, s, f11, escape) = ctx.input(|i| {
            (
                i.key_pressed(egui::Key::Space),
                i.key_pressed(egui::Key::S) && i.modifiers.is_none(),
                i.key_pressed(egui::Key::F11),
                i.key_pressed(egui::Key::Escape),
            )
        });
        let (tab, race, quiet) = ctx.input(|i| {
            (
                i.key_pressed(egui::Key::Tab),
                i.key_pressed(egui::Key::R) && i.modifiers.is_none(),
                i.key_pressed(egui::Key::Q) && i.modifiers.is_none(),
            )
        });
        if quiet {
            self.status.quiet = !self.status.quiet;
            self.status.notify(
                if self.status.quiet {
                    "measuring quietly: a progress view while runs go (Q: watch live)"
                } else {
                    "watching live while runs go (Q: measure quietly)"
                },
                false,
            );
        }
        // The story: N, → or Page Down on; P, ← or Page Up back (what
        // presentation clickers send).
        let (next, back) = ctx.input(|i| {
            let plain = i.modifiers.is_none();
            (
                plain
                    && [egui::Key::N, egui::Key::ArrowRight, egui::Key::PageDown]
                        .iter()
                        .any(|&k| i.key_pressed(k)),
                plain
                    && [egui::Key::P, egui::Key::ArrowLeft, egui::Key::PageUp]
                        .iter()
                        .any(|&k| i.key_pressed(k)),
            )
        });
        if self.story.is_some() && (next || back) {
            self.story_key(next, ctx);
        }
        if tab {
            let other = match self.view {
                View::Live => View::Compare,
                View::Compare => View::Live,
            };
            self.apply(Action::SetView(other), ctx);
        }
        if race {
            // The two ticked runs, else the best run against its GIL twin.
            let pair = match self.compare.selected.as_slice() {
                [a, b] => Some((*a, *b)),
                _ => super::auto::race_pair(&self.context()),
            };
            match pair {
                Some((a, b)) => self.apply(Action::Race(a, b), ctx),
                None => self.apply(
                    Action::error("R races two runs: finish two runs of one workload first"),
                    ctx,
                ),
            }
        }
        if space {
            self.apply(Action::RunOrStop, ctx);
        }
        if s {
            self.apply(Action::Screenshot(None), ctx);
        }
        if f11 {
            self.apply(Action::SetPresentation(!self.presentation), ctx);
        } else if escape {
            self.apply(Action::SetPresentation(false), ctx);
        }
    }

    fn handle_drops(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        for path in dropped {
            let name = path.to_string_lossy().to_lowercase();
            if name.ends_with(".py") {
                self.setup.use_file(&path);
                self.status
                    .notify(format!("workload file: {}", path.display()), false);
            } else if name.ends_with(".png") || name.ends_with(".ppm") {
                self.setup.use_image(&path);
                self.status
                    .notify(format!("blur image: {}", path.display()), false);
            } else {
                self.jobs.open(path);
            }
        }
    }

    fn drive_pilot(&mut self, ctx: &egui::Context) {
        let Some(mut pilot) = self.pilot.take() else {
            return;
        };
        let inputs = PilotInputs {
            catalog_ready: self.setup.catalog.is_some(),
            had_error: self.status.notices().iter().any(|n| n.error),
            shots_pending: self.shots_pending,
            racing: self.compare.racing(),
            story: self.story.as_ref().map(|s| StoryInputs {
                shown: s.shown(),
                last: s.is_last(),
                shot: s.chapter().shot.clone(),
            }),
        };
        let todo = pilot.step(&self.context(), &inputs);
        let active = pilot.active();
        self.pilot = Some(pilot);
        for step in todo {
            match step {
                PilotAction::Do(action) => self.apply(action, ctx),
                PilotAction::StartAutoSweep => {
                    if let Some(plan) = self.options.auto_sweep.clone() {
                        self.start_plan(&plan, ctx);
                    }
                }
                PilotAction::NextChapter => self.story_key(true, ctx),
            }
        }
        if active {
            // The pilot steps between frames; while runs are measured it
            // waits at the measuring rate like everything else.
            ctx.request_repaint_after(Duration::from_millis(self.repaint_ms().unwrap_or(100)));
        }
    }

    /// The story's step: its first chapter starts once the catalog is in;
    /// a chapter's point is shown once its runs end.
    fn drive_story(&mut self, ctx: &egui::Context) {
        let Some(mut story) = self.story.take() else {
            return;
        };
        let todo = story.step(&self.context(), self.setup.catalog.is_some());
        self.story = Some(story);
        self.apply_story(todo, ctx);
    }

    /// N (forward) or P (back) in the story.
    fn story_key(&mut self, forward: bool, ctx: &egui::Context) {
        let Some(mut story) = self.story.take() else {
            return;
        };
        let cx = self.context();
        let todo = if forward {
            story.next(&cx)
        } else {
            story.previous(&cx)
        };
        self.story = Some(story);
        match todo {
            Ok(todo) => self.apply_story(todo, ctx),
            Err(e) => self.status.notify(e, false),
        }
    }

    fn apply_story(&mut self, todo: Vec<StoryAction>, ctx: &egui::Context) {
        for step in todo {
            match step {
                StoryAction::Do(action) => self.apply(action, ctx),
                StoryAction::Start(plan) => self.start_plan(&plan, ctx),
            }
        }
    }

    /// A sweep given on the command line or by the story: shown in the
    /// setup panel, then started like the Sweep button would.
    fn start_plan(&mut self, plan: &AutoSweep, ctx: &egui::Context) {
        self.setup.show_plan(plan);
        let found = self.interpreters.clone().unwrap_or_default();
        let action = match self.setup.auto_batch(&found, plan) {
            Ok(batch) => Action::Start(Box::new(batch)),
            Err(e) => Action::error(format!("auto sweep: {e}")),
        };
        self.apply(action, ctx);
    }

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
        self.model.refresh(&self.runs, self.live);
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
                live: self.live,
                interpreters: self.interpreters.as_deref(),
                busy,
                progress,
                install: &self.install,
                dark: self.dark,
                presentation: self.presentation,
                self_cpu: self.status.self_cpu(),
                low_refresh: self.status.low_refresh,
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
            let quiet = self.status.quiet && self.busy();
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

    /// Saves the settings when they changed (at most once a second).
    fn remember(&mut self, ctx: &egui::Context) {
        let Some(path) = self.options.settings_file.clone() else {
            return;
        };
        let window = ctx
            .input(|i| i.viewport().inner_rect)
            .filter(|_| !self.presentation)
            .map(|r| [r.width(), r.height()]);
        let last = self.saved.as_ref();
        let now = Settings {
            dark: self.dark,
            workload: self.setup.workload.clone(),
            modes: self.setup.checked(),
            workers: self.setup.workers,
            repeat: self.setup.repeat,
            window_size: window
                .or(last.map(|(s, _)| s.window_size))
                .unwrap_or(self.options.window_size),
        };
        if self.interpreters.is_none()
            || last.is_some_and(|(s, at)| *s == now || at.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        if let Err(e) = now.save(&path) {
            self.status
                .notify(format!("could not remember the settings: {e}"), true);
        }
        self.saved = Some((now, Instant::now()));
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
