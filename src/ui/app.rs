//! The window's state and its frame: top bar, setup panel, the live or
//! compare view, the status bar; keys; and the pump that moves messages
//! from run drivers and jobs into the state, never waiting.

use super::driver::{Driver, DriverMsg};
use super::jobs::{JobResult, Jobs};
use super::setup::Setup;
use super::{compare, export, live, setup, style};
use crate::interp::install::InstallEvent;
use crate::interp::{Interpreter, Mode};
use crate::run::{RunEnd, RunMessage, RunOutcome, RunSpec};
use crate::sampler::SamplerConfig;
use crate::store::RunRecord;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A sweep to start as soon as interpreters are known (`gilscope gui
/// --sweep`), e.g. for screenshots.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoSweep {
    pub workload: String,
    pub params: Vec<(String, String)>,
    pub modes: Vec<Mode>,
    pub workers: Vec<usize>,
    /// Runs per (mode, workers), repeats outermost.
    pub repeat: usize,
}

/// How the window starts.
#[derive(Debug, Clone)]
pub struct UiOptions {
    /// Run files or folders to open at start.
    pub open: Vec<PathBuf>,
    pub auto_sweep: Option<AutoSweep>,
    /// After the auto sweep: save `live.png` and `compare.png` here.
    pub screenshot_dir: Option<PathBuf>,
    /// Close the window once the auto sweep (and its screenshots) are done.
    pub quit_when_done: bool,
    pub presentation: bool,
    pub dark: bool,
    /// Repaint at 5 Hz while a run goes.
    pub low_refresh: bool,
    /// Where exports go.
    pub export_dir: PathBuf,
    /// Use these instead of discovering (tests).
    pub interpreters: Option<Vec<Interpreter>>,
    pub sampling: SamplerConfig,
    pub timeout: Option<Duration>,
    /// Initial window size in points.
    pub window_size: [f32; 2],
}

impl Default for UiOptions {
    fn default() -> Self {
        Self {
            open: Vec::new(),
            auto_sweep: None,
            screenshot_dir: None,
            quit_when_done: false,
            presentation: false,
            dark: true,
            low_refresh: false,
            export_dir: default_export_dir(),
            interpreters: None,
            sampling: SamplerConfig::default(),
            timeout: Some(Duration::from_secs(600)),
            window_size: [1440.0, 900.0],
        }
    }
}

/// `./gilscope-exports` when the current folder is writable, else under
/// the data dir.
pub fn default_export_dir() -> PathBuf {
    let here = PathBuf::from("gilscope-exports");
    match std::env::current_dir() {
        Ok(cwd)
            if !cwd.starts_with("/proc")
                && std::fs::metadata(&cwd).is_ok_and(|m| !m.permissions().readonly()) =>
        {
            cwd.join(here)
        }
        _ => crate::paths::data_dir().join("exports"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Live,
    Compare,
}

/// One run in the window: live (with its driver) or finished or opened.
pub struct RunEntry {
    pub record: RunRecord,
    pub driver: Option<Driver>,
    /// Opened from this file (not run in this window).
    pub file: Option<PathBuf>,
}

impl RunEntry {
    pub fn is_running(&self) -> bool {
        self.driver.is_some()
    }
}

/// A notice in the status bar.
#[derive(Debug, Clone)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    pub at: Instant,
}

/// A sweep's progress.
#[derive(Debug, Clone)]
pub struct SweepState {
    pub total: usize,
    pub started: Instant,
    pub queue: VecDeque<RunSpec>,
    pub finished: usize,
    pub failed: usize,
}

/// Install progress for the setup panel.
#[derive(Debug, Clone, Default)]
pub struct InstallState {
    pub running: bool,
    pub line: String,
    pub fraction: f32,
    pub log: Option<PathBuf>,
}

/// The replay of two runs on one clock.
#[derive(Debug, Clone)]
pub struct Race {
    pub a: usize,
    pub b: usize,
    /// When the replay started (None: paused at `t_s`).
    pub playing_since: Option<Instant>,
    pub t_s: f64,
    pub speed: f64,
}

/// Where the auto sweep's screenshots stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AutoStep {
    /// Screenshots of opened files: wait for them to load.
    WaitOpen,
    WaitInterpreters,
    Sweeping,
    SettleLive(u32),
    ShotLive,
    SettleCompare(u32),
    ShotCompare,
    Done,
}

pub struct App {
    pub options: UiOptions,
    pub jobs: Jobs,
    pub interpreters: Option<Vec<Interpreter>>,
    pub setup: Setup,
    pub runs: Vec<RunEntry>,
    /// Index of the run the live view shows.
    pub live: Option<usize>,
    pub view: View,
    pub sweep: Option<SweepState>,
    pub install: InstallState,
    pub notices: Vec<Notice>,
    pub presentation: bool,
    pub dark: bool,
    pub race: Option<Race>,
    /// Compare table selection (for race and exports).
    pub selected: Vec<usize>,
    pub show_log: bool,
    pub open_path: String,
    /// The "Open file…" browser, when open.
    pub browser: Option<super::browse::Browser>,
    pub pictures: live::Pictures,
    pub compare_cache: compare::CompareCache,
    style_applied: Option<(bool, bool)>,
    auto: Option<AutoStep>,
    shots_pending: usize,
    /// Frame time of the UI work of the last frames (for the status bar).
    pub frame_ms: VecDeque<f32>,
    /// gilscope's own CPU use (all its threads: UI, rendering, samplers),
    /// in cores, over the last second or so.
    pub self_cpu: Option<f64>,
    self_cpu_mark: Option<(Instant, f64)>,
    /// Repaint at 5 Hz instead of 25 Hz while a run goes (less CPU taken
    /// from the workload, e.g. with software rendering on a small machine).
    pub low_refresh: bool,
}

impl App {
    pub fn new(ctx: &egui::Context, options: UiOptions) -> Self {
        let jobs = Jobs::default();
        jobs.set_context(ctx);
        let mut app = Self {
            interpreters: None,
            setup: Setup::default(),
            runs: Vec::new(),
            live: None,
            view: View::Live,
            sweep: None,
            install: InstallState::default(),
            notices: Vec::new(),
            presentation: options.presentation,
            dark: options.dark,
            race: None,
            selected: Vec::new(),
            show_log: false,
            open_path: String::new(),
            browser: None,
            pictures: live::Pictures::default(),
            compare_cache: compare::CompareCache::default(),
            style_applied: None,
            auto: if options.auto_sweep.is_some() {
                Some(AutoStep::WaitInterpreters)
            } else if options.screenshot_dir.is_some() && !options.open.is_empty() {
                Some(AutoStep::WaitOpen)
            } else {
                None
            },
            shots_pending: 0,
            frame_ms: VecDeque::new(),
            self_cpu: None,
            self_cpu_mark: None,
            low_refresh: options.low_refresh,
            jobs,
            options,
        };
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
            self.low_refresh = true;
            self.notify(
                format!("software rendering ({name}): repainting 5 times a second during runs so the window takes less CPU from the workload (untick \"low refresh\" for 25)"),
                false,
            );
        }
    }

    /// Opens the file browser for `purpose`.
    pub fn browse(&mut self, purpose: super::browse::Purpose) {
        self.browser = Some(super::browse::Browser::new(purpose, None));
    }

    /// Stops every run (the window is closing).
    pub fn shutdown(&mut self) {
        if let Some(s) = &mut self.sweep {
            s.queue.clear();
        }
        for entry in &self.runs {
            if let Some(d) = &entry.driver {
                d.stop();
            }
        }
    }

    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notices.push(Notice {
            text: text.into(),
            error,
            at: Instant::now(),
        });
        if self.notices.len() > 50 {
            self.notices.remove(0);
        }
    }

    fn set_interpreters(&mut self, found: Vec<Interpreter>) {
        let usable = found.iter().filter(|i| i.info().is_some()).count();
        if usable == 0 {
            self.notify(
                "no working Python found: use \"Install CPython 3.13 + 3.13t\" in the setup panel",
                true,
            );
        }
        self.interpreters = Some(found);
        self.setup
            .on_interpreters(self.interpreters.as_deref().unwrap_or(&[]), &self.jobs);
    }

    /// Whether a run is going (or a sweep has more to run).
    pub fn busy(&self) -> bool {
        self.runs.iter().any(RunEntry::is_running) || self.sweep.is_some()
    }

    /// Starts one run of `spec`; the live view follows it.
    pub fn start_run(&mut self, spec: RunSpec) {
        let Some(interp) = self
            .interpreters
            .as_ref()
            .and_then(|all| all.iter().find(|i| i.path == spec.python))
            .cloned()
        else {
            self.notify(
                format!("{}: interpreter not found", spec.python.display()),
                true,
            );
            return;
        };
        let driver = Driver::start(spec.clone(), self.options.sampling, self.jobs.waker());
        self.runs.push(RunEntry {
            record: RunRecord::new(spec, interp),
            driver: Some(driver),
            file: None,
        });
        self.live = Some(self.runs.len() - 1);
    }

    /// Starts the runs of a sweep one after another.
    pub fn start_sweep(&mut self, specs: Vec<RunSpec>) {
        if specs.is_empty() {
            self.notify("nothing to sweep: pick at least one mode", true);
            return;
        }
        self.sweep = Some(SweepState {
            total: specs.len(),
            started: Instant::now(),
            queue: specs.into(),
            finished: 0,
            failed: 0,
        });
        self.next_sweep_run();
    }

    fn next_sweep_run(&mut self) {
        if self.runs.iter().any(RunEntry::is_running) {
            return;
        }
        let next = self.sweep.as_mut().and_then(|s| s.queue.pop_front());
        match next {
            Some(spec) => self.start_run(spec),
            None => {
                if let Some(s) = self.sweep.take() {
                    self.notify(
                        format!(
                            "sweep done: {} runs ({} failed) in {:.1} s",
                            s.finished,
                            s.failed,
                            s.started.elapsed().as_secs_f64()
                        ),
                        s.failed > 0,
                    );
                }
            }
        }
    }

    /// Stops the live run and drops the rest of a sweep.
    pub fn stop(&mut self) {
        if let Some(s) = &mut self.sweep {
            s.queue.clear();
        }
        for entry in &self.runs {
            if let Some(d) = &entry.driver {
                d.stop();
            }
        }
    }

    /// Run or stop, whichever applies (Space).
    pub fn run_or_stop(&mut self) {
        if self.busy() {
            self.stop();
        } else {
            match self.setup.run_specs(self) {
                Ok(specs) => self.start_sweep(specs),
                Err(e) => self.notify(e, true),
            }
        }
    }

    /// Moves everything the drivers and jobs reported into the state.
    pub fn pump(&mut self) {
        let mut finished = Vec::new();
        for (index, entry) in self.runs.iter_mut().enumerate() {
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
                            finished.push(index);
                        }
                    }
                    DriverMsg::StartFailed(reason) => {
                        entry
                            .record
                            .eat_message(RunMessage::Finished(Box::new(RunOutcome {
                                end: RunEnd::Crashed {
                                    reason: format!("could not start: {reason}"),
                                },
                                wall_secs: 0.0,
                                usage: None,
                                exit: "not started".into(),
                                stderr_tail: Vec::new(),
                                sampler: None,
                                ended_ns: None,
                            })));
                        finished.push(index);
                    }
                }
            }
        }
        for index in finished {
            self.runs[index].driver = None;
            let record = &self.runs[index].record;
            let completed = record.result().is_some();
            let headline = record.outcome().map(|o| o.headline()).unwrap_or_default();
            let label = run_label(record);
            if !completed {
                self.show_log = true;
            }
            self.notify(format!("{label}: {headline}"), !completed);
            if let Some(s) = &mut self.sweep {
                s.finished += 1;
                if !completed {
                    s.failed += 1;
                }
            }
        }
        if self.sweep.is_some() {
            self.next_sweep_run();
        }
        for result in self.jobs.drain() {
            self.on_job(result);
        }
    }

    fn on_job(&mut self, result: JobResult) {
        match result {
            JobResult::Interpreters(found) => self.set_interpreters(found),
            JobResult::Workloads { python, result } => self.setup.on_catalog(python, result),
            JobResult::Install(ev) => self.on_install_event(ev),
            JobResult::InstallDone(result) => {
                self.install.running = false;
                match result {
                    Ok(paths) => {
                        self.notify(
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
                    Err(e) => self.notify(format!("install failed: {e}"), true),
                }
            }
            JobResult::Opened { path, result } => match result {
                Ok(records) => {
                    let n = records.len();
                    for record in records {
                        self.runs.push(RunEntry {
                            record,
                            driver: None,
                            file: Some(path.clone()),
                        });
                    }
                    if self.live.is_none() || !self.busy() {
                        self.live = Some(self.runs.len() - 1);
                    }
                    if n > 1 {
                        self.view = View::Compare;
                    }
                    self.notify(format!("opened {n} run(s) from {}", path.display()), false);
                }
                Err(e) => self.notify(format!("could not open: {e}"), true),
            },
            JobResult::Wrote { what, result } => {
                self.shots_pending = self
                    .shots_pending
                    .saturating_sub(usize::from(what == "screenshot"));
                match result {
                    Ok(paths) => {
                        let shown: Vec<String> =
                            paths.iter().map(|p| p.display().to_string()).collect();
                        self.notify(format!("{what} written: {}", shown.join(", ")), false);
                    }
                    Err(e) => self.notify(format!("{what} failed: {e}"), true),
                }
            }
        }
    }

    fn on_install_event(&mut self, ev: InstallEvent) {
        let i = &mut self.install;
        match ev {
            InstallEvent::Log { path } => i.log = Some(path),
            InstallEvent::PhaseStarted { build, phase } => {
                i.line = format!(
                    "{}{}",
                    build.map(|b| format!("{b:?} build: ")).unwrap_or_default(),
                    phase.as_str()
                );
                i.fraction = 0.0;
            }
            InstallEvent::Progress { done, total, .. } => {
                i.fraction = if total > 0 {
                    (done as f32 / total as f32).min(1.0)
                } else {
                    0.0
                };
            }
            InstallEvent::PhaseDone { .. } => i.fraction = 1.0,
            InstallEvent::Note { text } => i.line = text,
            InstallEvent::Kept { python, .. } | InstallEvent::Installed { python, .. } => {
                i.line = format!("ready: {}", python.display());
            }
        }
    }

    /// Saves a screenshot of the window (PNG) into the export folder.
    pub fn screenshot(&mut self, ctx: &egui::Context, name: Option<&str>) {
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
        let sender = self.jobs.sender();
        ctx.request_screenshot(move |image| {
            std::thread::spawn(move || {
                sender.send(JobResult::Wrote {
                    what: "screenshot".into(),
                    result: export::save_color_image(&image, &path).map(|()| vec![path]),
                });
            });
        });
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
        if space {
            self.run_or_stop();
        }
        if s {
            self.screenshot(ctx, None);
        }
        if f11 {
            self.presentation = !self.presentation;
        } else if escape {
            self.presentation = false;
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
                self.notify(format!("workload file: {}", path.display()), false);
            } else if name.ends_with(".png") || name.ends_with(".ppm") {
                self.setup.use_image(&path);
                self.notify(format!("blur image: {}", path.display()), false);
            } else {
                self.jobs.open(path);
            }
        }
    }

    fn drive_auto(&mut self, ctx: &egui::Context) {
        let Some(step) = self.auto else { return };
        let next = match step {
            AutoStep::WaitOpen => {
                let loading = self.runs.is_empty() && !self.notices.iter().any(|n| n.error);
                if loading {
                    return;
                }
                self.view = View::Live;
                AutoStep::SettleLive(0)
            }
            AutoStep::WaitInterpreters => {
                // Also wait for the workload catalog: its probe is a python
                // process that would compete with the first run.
                if self.interpreters.is_none() || self.setup.catalog.is_none() {
                    return;
                }
                let plan = self.options.auto_sweep.clone();
                if let Some(p) = &plan {
                    self.setup.show_plan(p);
                }
                match plan.map(|p| self.setup.sweep_specs_for(self, &p)) {
                    Some(Ok(specs)) => {
                        self.start_sweep(specs);
                        AutoStep::Sweeping
                    }
                    Some(Err(e)) => {
                        self.notify(format!("auto sweep: {e}"), true);
                        AutoStep::Done
                    }
                    None => AutoStep::Done,
                }
            }
            AutoStep::Sweeping if self.busy() => return,
            AutoStep::Sweeping => {
                self.view = View::Live;
                // Show the best multi-worker run of the sweep live.
                self.live = best_run(&self.runs).or(self.live);

                AutoStep::SettleLive(0)
            }
            AutoStep::SettleLive(n) if n < 10 => AutoStep::SettleLive(n + 1),
            AutoStep::SettleLive(_) => {
                if self.options.screenshot_dir.is_some() {
                    self.screenshot(ctx, Some("live.png"));
                }
                AutoStep::ShotLive
            }
            AutoStep::ShotLive if self.shots_pending > 0 => return,
            AutoStep::ShotLive => {
                self.view = View::Compare;
                AutoStep::SettleCompare(0)
            }
            AutoStep::SettleCompare(n) if n < 10 => AutoStep::SettleCompare(n + 1),
            AutoStep::SettleCompare(_) => {
                if self.options.screenshot_dir.is_some() {
                    self.screenshot(ctx, Some("compare.png"));
                }
                AutoStep::ShotCompare
            }
            AutoStep::ShotCompare if self.shots_pending > 0 => return,
            AutoStep::ShotCompare => {
                if self.options.quit_when_done {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                AutoStep::Done
            }
            AutoStep::Done => return,
        };
        self.auto = Some(next);
        ctx.request_repaint();
    }

    /// Whether the auto sweep (and its screenshots) finished.
    pub fn auto_done(&self) -> bool {
        matches!(self.auto, None | Some(AutoStep::Done))
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
        self.handle_keys(&ctx);
        self.handle_drops(&ctx);
        self.drive_auto(&ctx);

        if !self.presentation {
            egui::Panel::top("top").show(ui, |ui| self.top_bar(ui));
            egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
            egui::Panel::left("setup")
                .resizable(true)
                .default_size(320.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| setup::show(self, ui));
                });
        } else {
            egui::Panel::top("top-presentation").show(ui, |ui| self.presentation_bar(ui));
        }
        if let Some(browser) = &mut self.browser
            && let Some(choice) = browser.show(&ctx)
        {
            let purpose = browser.purpose;
            self.browser = None;
            if let super::browse::Choice::Picked(path) = choice {
                match purpose {
                    super::browse::Purpose::Workload => self.setup.use_file(&path),
                    super::browse::Purpose::Image => self.setup.use_image(&path),
                    super::browse::Purpose::RunOrSweep => self.jobs.open(path),
                }
            }
        }
        egui::CentralPanel::default().show(ui, |ui| match self.view {
            View::Live => live::show(self, ui),
            View::Compare => compare::show(self, ui),
        });

        if self.busy()
            || self
                .race
                .as_ref()
                .is_some_and(|r| r.playing_since.is_some())
        {
            // 25 updates per second while something moves (5 in low refresh).
            let ms = if self.low_refresh && self.busy() {
                200
            } else {
                40
            };
            ctx.request_repaint_after(Duration::from_millis(ms));
        }
        self.measure_self_cpu();
        if self.frame_ms.len() >= 120 {
            self.frame_ms.pop_front();
        }
        self.frame_ms
            .push_back(frame_start.elapsed().as_secs_f32() * 1e3);
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading(egui::RichText::new("gilscope").strong());
            ui.separator();
            ui.selectable_value(&mut self.view, View::Live, "Live");
            ui.selectable_value(&mut self.view, View::Compare, "Compare");
            ui.separator();
            ui.menu_button("File", |ui| export::file_menu(self, ui));
            ui.separator();
            if ui
                .button(if self.dark {
                    "Light theme"
                } else {
                    "Dark theme"
                })
                .clicked()
            {
                self.dark = !self.dark;
            }
            if ui.button("Presentation (F11)").clicked() {
                self.presentation = true;
            }
            if ui.button("Screenshot (S)").clicked() {
                let ctx = ui.ctx().clone();
                self.screenshot(&ctx, None);
            }
        });
    }

    fn presentation_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading(egui::RichText::new("gilscope").strong());
            ui.selectable_value(&mut self.view, View::Live, "Live");
            ui.selectable_value(&mut self.view, View::Compare, "Compare");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Exit presentation (Esc)").clicked() {
                    self.presentation = false;
                }
                let label = if self.busy() {
                    "■ Stop (Space)"
                } else {
                    "▶ Run (Space)"
                };
                if ui.button(label).clicked() {
                    self.run_or_stop();
                }
            });
        });
    }

    fn measure_self_cpu(&mut self) {
        let Some(cpu) = crate::child::self_cpu_secs() else {
            return;
        };
        let now = Instant::now();
        match self.self_cpu_mark {
            Some((at, before)) if now.duration_since(at) >= Duration::from_secs(1) => {
                self.self_cpu = Some((cpu - before) / now.duration_since(at).as_secs_f64());
                self.self_cpu_mark = Some((now, cpu));
            }
            Some(_) => {}
            None => self.self_cpu_mark = Some((now, cpu)),
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(n) = self.notices.last() {
                let color = if n.error {
                    egui::Color32::from_rgb(0xd6, 0x45, 0x45)
                } else {
                    ui.visuals().text_color()
                };
                ui.label(egui::RichText::new(&n.text).color(color))
                    .on_hover_text(
                        self.notices
                            .iter()
                            .rev()
                            .take(12)
                            .map(|n| n.text.clone())
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
            } else {
                ui.label("Ready. Space runs, S takes a screenshot, F11 presents.");
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let mut sorted: Vec<f32> = self.frame_ms.iter().copied().collect();
                sorted.sort_by(f32::total_cmp);
                if let Some(median) = sorted.get(sorted.len() / 2) {
                    ui.small(format!("UI {median:.1} ms/frame"));
                }
                if let Some(cores) = self.self_cpu {
                    ui.small(format!("gilscope itself: {:.0} % of a core ·", cores * 100.0))
                        .on_hover_text("CPU time of gilscope's own threads (window, rendering, sampler) over the last second: taken from the cores the workload runs on. Low refresh lowers it.");
                }
                ui.checkbox(&mut self.low_refresh, "low refresh")
                    .on_hover_text("Repaint 5 times a second instead of 25 while a run goes");
            });
        });
    }
}

/// "primes · ft · 2 workers · 3.13t".
pub fn run_label(record: &RunRecord) -> String {
    let spec = record.spec();
    let workload = std::path::Path::new(&spec.workload)
        .file_stem()
        .map_or(spec.workload.clone(), |s| s.to_string_lossy().to_string());
    format!(
        "{workload} · {} · {} worker{} · {}",
        spec.mode,
        spec.workers,
        if spec.workers == 1 { "" } else { "s" },
        spec.interp_name
    )
}

/// The completed multi-worker run that scaled best (else any completed run).
fn best_run(runs: &[RunEntry]) -> Option<usize> {
    let records: Vec<&RunRecord> = runs.iter().map(|e| &e.record).collect();
    records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.result().is_some())
        .max_by(|(_, a), (_, b)| {
            let key = |r: &RunRecord| {
                let s = crate::store::compare(r, &records)
                    .same_interpreter
                    .and_then(|v| v.speedup)
                    .unwrap_or(0.0);
                (r.spec().workers > 1, s)
            };
            let (ma, sa) = key(a);
            let (mb, sb) = key(b);
            ma.cmp(&mb).then(sa.total_cmp(&sb))
        })
        .map(|(i, _)| i)
}
