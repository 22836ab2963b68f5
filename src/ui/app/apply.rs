//! [`App::apply`]: the one place an action changes shared state, and what
//! it starts or stops (batches, attaches, installs).

use super::*;

impl App {
    /// Carries out what a panel (or a key, a drop, the auto pilot) asked.
    pub fn apply(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::Start(batch) => self.check_then_start(batch),
            Action::Stop => self.stop(),
            Action::RunOrStop => self.run_or_stop(ctx),
            Action::Show(id) => {
                if self.runs.contains(id) {
                    self.shown = Some(id);
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
            Action::CloseRace => self.compare.close_race(),
            Action::ClearFinished => {
                let n = self.runs.remove_finished();
                if self.shown.is_some_and(|id| !self.runs.contains(id)) {
                    self.shown = self.runs.last();
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
                    &self.model,
                    self.shown,
                    &self.options.export_dir,
                    &self.jobs,
                );
            }
            Action::Screenshot(name) => self.screenshot(ctx, name.as_deref()),
            Action::SetDark(dark) => self.dark = dark,
            Action::SetPresentation(on) => self.presentation = on,
            Action::SetQuiet(on) => self.status.set_quiet(on),
            Action::StartPlan(plan) => self.start_plan(&plan, ctx),
            Action::Chapter { forward } => self.turn_chapter(forward, ctx),
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
                self.attach.open_listing();
                self.jobs.spawn("processes", |_| {
                    JobResult::Processes(crate::run::attach::python_processes())
                });
            }
            Action::Attach(pid) => self.start_attach(pid),
            Action::Notify { text, error } => self.status.notify(text, error),
            Action::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }

    pub(super) fn set_interpreters(&mut self, found: Vec<Interpreter>) {
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
    pub(super) fn check_then_start(&mut self, batch: Box<Batch>) {
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
    pub(super) fn start_batch(&mut self, batch: Batch) {
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

    /// Watches process `pid` live (read only) as a run of its own, once a
    /// job has inspected it (its maps and ELF files are read off the UI
    /// thread; [`Self::start_attached`] follows).
    pub(super) fn start_attach(&mut self, pid: u32) {
        if self.busy() {
            self.status
                .notify("a run is going: stop it first (Space), then attach", true);
            return;
        }
        self.checking = true;
        self.status
            .notify(format!("inspecting process {pid}…"), false);
        self.jobs.spawn("inspect", move |_| {
            JobResult::Inspected(crate::run::attach::inspect(pid).map_err(|e| e.to_string()))
        });
    }

    /// The inspected process is watched.
    pub(super) fn start_attached(&mut self, target: crate::run::attach::Target) {
        let spec = crate::run::attach::spec(&target, None);
        let interp = crate::run::attach::interpreter(&target);
        let driver = Driver::attach(target, self.options.sampling, self.jobs.waker());
        let id = self
            .runs
            .add(RunRecord::new(spec, interp), Some(driver), None);
        self.shown = Some(id);
        self.view = View::Live;
    }

    /// Starts the batch's next run when none goes; ends the batch when
    /// the engine has no more.
    pub(super) fn next_batch_run(&mut self) {
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
                self.shown = Some(id);
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
    pub(super) fn stop(&mut self) {
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
    pub(super) fn run_or_stop(&mut self, ctx: &egui::Context) {
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
}
