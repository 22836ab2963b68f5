//! The setup panel: interpreters (and installing CPython when no
//! free-threaded build exists), the workload and its parameters, modes,
//! workers, Run / Stop and Sweep.

use super::app::{App, AutoSweep};
use super::catalog::WorkloadInfo;
use super::jobs::Jobs;
use super::style::mode_color;
use crate::interp::{Interpreter, Mode};
use crate::run::{RunSpec, pick_interpreter};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Modes offered, in the order shown.
pub const MODES: [Mode; 5] = [
    Mode::Gil,
    Mode::Ft,
    Mode::FtGil,
    Mode::Subinterp,
    Mode::Process,
];

/// Label used for "a workload file of your own" in the picker.
pub const OWN_FILE: &str = "your file…";

pub struct Setup {
    /// A built-in name, or [`OWN_FILE`].
    pub workload: String,
    /// Path of the user's workload file (when `workload` is [`OWN_FILE`]).
    pub file: String,
    /// Current parameter values, in the workload's order.
    pub params: Vec<(String, String)>,
    /// The workload's defaults (from the harness).
    pub defaults: Vec<(String, String)>,
    /// Extra `key=value` text for a user's workload.
    pub extra_params: String,
    pub modes: Vec<(Mode, bool)>,
    pub workers: usize,
    /// Runs per (mode, workers) for Run and Sweep, repeats outermost (as
    /// `gilscope sweep --repeat`); the compare view groups them into one
    /// point with median and spread.
    pub repeat: usize,
    pub catalog: Option<Result<Vec<WorkloadInfo>, String>>,
    pub timeout_s: u64,
}

/// The interpreters discovery found, or why a run cannot start yet.
fn found_interpreters(app: &App) -> Result<&[Interpreter], String> {
    app.interpreters
        .as_deref()
        .ok_or_else(|| "still looking for interpreters".to_string())
}

impl Default for Setup {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            workload: "primes".into(),
            file: String::new(),
            params: Vec::new(),
            defaults: Vec::new(),
            extra_params: String::new(),
            modes: MODES.iter().map(|&m| (m, false)).collect(),
            workers: cores.clamp(2, 64),
            repeat: 1,
            catalog: None,
            timeout_s: 600,
        }
    }
}

impl Setup {
    /// Interpreters are known: check the modes that can run and ask one
    /// interpreter to describe the built-in workloads.
    pub fn on_interpreters(&mut self, found: &[Interpreter], jobs: &Jobs) {
        for (mode, on) in &mut self.modes {
            *on = matches!(mode, Mode::Gil | Mode::Ft | Mode::Subinterp | Mode::Process)
                && pick_interpreter(found, *mode).is_some();
        }
        let describer =
            pick_interpreter(found, Mode::Gil).or_else(|| pick_interpreter(found, Mode::Process));
        match describer {
            Some(i) => jobs.describe_workloads(i.path.clone()),
            None => {
                self.catalog = Some(Err(
                    "no working Python to describe the workloads".to_string()
                ))
            }
        }
    }

    pub fn on_catalog(&mut self, _python: PathBuf, result: Result<Vec<WorkloadInfo>, String>) {
        self.catalog = Some(result);
        // Values set before the catalog came (a sweep from the command
        // line) are kept; the rest take the defaults.
        let set = std::mem::take(&mut self.params);
        self.load_defaults();
        for (k, v) in set {
            match self.params.iter_mut().find(|(pk, _)| *pk == k) {
                Some((_, pv)) => *pv = v,
                None => self.params.push((k, v)),
            }
        }
    }

    fn info(&self) -> Option<&WorkloadInfo> {
        self.catalog
            .as_ref()?
            .as_ref()
            .ok()?
            .iter()
            .find(|w| w.name == self.workload)
    }

    /// Resets the parameters to the chosen workload's defaults.
    pub fn load_defaults(&mut self) {
        self.defaults = self
            .info()
            .map(WorkloadInfo::param_defaults)
            .unwrap_or_default();
        self.params = self.defaults.clone();
    }

    pub fn use_file(&mut self, path: &Path) {
        self.workload = OWN_FILE.into();
        self.file = path.display().to_string();
        self.defaults.clear();
        self.params.clear();
    }

    pub fn use_image(&mut self, path: &Path) {
        if self.workload != "blur" {
            self.workload = "blur".into();
            self.load_defaults();
        }
        let text = path.display().to_string();
        match self.params.iter_mut().find(|(k, _)| k == "image") {
            Some((_, v)) => *v = text,
            None => self.params.push(("image".into(), text)),
        }
    }

    /// The workload as a run names it.
    pub fn workload_name(&self) -> Result<String, String> {
        if self.workload != OWN_FILE {
            return Ok(self.workload.clone());
        }
        let path = self.file.trim();
        if path.is_empty() {
            return Err("type the path of your workload file (or drop a .py on the window)".into());
        }
        let p = Path::new(path);
        if !p.is_file() {
            return Err(format!("{path}: no such file; check the path"));
        }
        if p.extension().is_none_or(|e| e != "py") {
            return Err(format!(
                "{path}: a workload file is a Python file ending in .py"
            ));
        }
        Ok(p.display().to_string())
    }

    /// Parameters that differ from the defaults, plus a user file's own.
    pub fn run_params(&self) -> Result<Vec<(String, String)>, String> {
        let mut out: Vec<(String, String)> = self
            .params
            .iter()
            .filter(|(k, v)| {
                self.defaults
                    .iter()
                    .find(|(dk, _)| dk == k)
                    .is_none_or(|(_, dv)| dv != v)
            })
            .map(|(k, v)| (k.clone(), v.trim().to_string()))
            .collect();
        for item in self
            .extra_params
            .split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let Some((k, v)) = item.split_once('=') else {
                return Err(format!("parameter '{item}' is not key=value"));
            };
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
        Ok(out)
    }

    fn checked_modes(&self) -> Vec<Mode> {
        self.modes
            .iter()
            .filter(|(_, on)| *on)
            .map(|(m, _)| *m)
            .collect()
    }

    /// Every (mode, workers) pair as a spec, modes outermost, the whole
    /// list `repeat` times over (repeats outermost, as `gilscope sweep`).
    pub fn specs(
        &self,
        found: &[Interpreter],
        workload: &str,
        params: &[(String, String)],
        modes: &[Mode],
        workers: &[usize],
        repeat: usize,
    ) -> Result<Vec<RunSpec>, String> {
        if modes.is_empty() {
            return Err("pick at least one mode".into());
        }
        let mut specs = Vec::new();
        for &mode in modes {
            let Some(interp) = pick_interpreter(found, mode) else {
                return Err(format!(
                    "no interpreter can run mode {mode}; install CPython 3.13 + 3.13t from the setup panel"
                ));
            };
            for &n in workers {
                specs.push(RunSpec {
                    python: interp.path.clone(),
                    interp_name: interp.name.clone(),
                    mode,
                    workers: n,
                    workload: workload.to_string(),
                    params: params.to_vec(),
                    timeout: Some(Duration::from_secs(self.timeout_s.max(1))),
                });
            }
        }
        Ok(crate::sweep::runner::repeat_outermost(
            &specs,
            repeat.max(1),
        ))
    }

    /// Run: the checked modes at the chosen worker count.
    pub fn run_specs(&self, app: &App) -> Result<Vec<RunSpec>, String> {
        let found = found_interpreters(app)?;
        self.specs(
            found,
            &self.workload_name()?,
            &self.run_params()?,
            &self.checked_modes(),
            &[self.workers],
            self.repeat,
        )
    }

    /// Sweep: the checked modes × 1…workers.
    pub fn sweep_specs(&self, app: &App) -> Result<Vec<RunSpec>, String> {
        let found = found_interpreters(app)?;
        let workers: Vec<usize> = (1..=self.workers.max(1)).collect();
        self.specs(
            found,
            &self.workload_name()?,
            &self.run_params()?,
            &self.checked_modes(),
            &workers,
            self.repeat,
        )
    }

    /// Shows a sweep given on the command line in the panel's fields.
    pub fn show_plan(&mut self, plan: &AutoSweep) {
        if Path::new(&plan.workload).is_file() {
            self.use_file(Path::new(&plan.workload));
        } else {
            self.workload = plan.workload.clone();
            self.load_defaults();
        }
        for (k, v) in &plan.params {
            match self.params.iter_mut().find(|(pk, _)| pk == k) {
                Some((_, pv)) => pv.clone_from(v),
                None => self.params.push((k.clone(), v.clone())),
            }
        }
        for (mode, on) in &mut self.modes {
            *on = plan.modes.contains(mode);
        }
        self.workers = plan.workers.iter().copied().max().unwrap_or(1);
        self.repeat = plan.repeat.max(1);
    }

    /// The specs of a sweep given on the command line.
    pub fn sweep_specs_for(&self, app: &App, auto: &AutoSweep) -> Result<Vec<RunSpec>, String> {
        let found = found_interpreters(app)?;
        self.specs(
            found,
            &auto.workload,
            &auto.params,
            &auto.modes,
            &auto.workers,
            auto.repeat,
        )
    }
}

/// Draws the panel.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.add_space(4.0);
    interpreters(app, ui);
    ui.separator();
    workload(app, ui);
    ui.separator();
    modes_and_workers(app, ui);
    ui.separator();
    actions(app, ui);
}

fn interpreters(app: &mut App, ui: &mut egui::Ui) {
    let found = app.interpreters.clone();
    let title = match &found {
        None => "Interpreters (looking…)".to_string(),
        Some(f) => format!("Interpreters ({} found)", f.len()),
    };
    egui::CollapsingHeader::new(title)
        .default_open(false)
        .show(ui, |ui| match &found {
            None => {
                ui.spinner();
            }
            Some(found) => {
                egui::Grid::new("interps").striped(true).show(ui, |ui| {
                    for i in found {
                        ui.label(&i.name);
                        match i.info() {
                            Some(info) => {
                                ui.label(format!(
                                    "{}{}",
                                    info.version,
                                    if info.free_threaded {
                                        " free-threaded"
                                    } else {
                                        ""
                                    }
                                ));
                                let modes: Vec<&str> =
                                    i.modes().iter().map(|m| m.as_str()).collect();
                                ui.small(modes.join(" "));
                            }
                            None => {
                                ui.label("broken");
                                ui.small(match &i.status {
                                    crate::interp::Status::Broken { reason } => reason.as_str(),
                                    _ => "",
                                });
                            }
                        }
                        ui.end_row();
                    }
                });
                if ui.small_button("Look again").clicked() {
                    app.interpreters = None;
                    app.jobs.discover();
                }
            }
        });
    let has_ft = found
        .as_ref()
        .is_some_and(|f| f.iter().any(|i| i.supports(Mode::Ft)));
    if found.is_some() && !has_ft {
        ui.label(egui::RichText::new("No free-threaded CPython found.").strong());
        if app.install.running {
            ui.add(egui::ProgressBar::new(app.install.fraction).text(app.install.line.clone()));
            if let Some(log) = &app.install.log {
                ui.small(format!("log: {}", log.display()));
            }
        } else if ui
            .button("Install CPython 3.13 + 3.13t")
            .on_hover_text(
                "Builds both from source into gilscope's data folder (about 10 minutes on 2 cores)",
            )
            .clicked()
        {
            app.install.running = true;
            app.install.line = "starting".into();
            app.jobs.install();
        }
    }
}

fn workload(app: &mut App, ui: &mut egui::Ui) {
    let title = ui.label(egui::RichText::new("Workload").strong());
    let names: Vec<String> = match &app.setup.catalog {
        Some(Ok(list)) => list.iter().map(|w| w.name.clone()).collect(),
        _ => vec![app.setup.workload.clone()],
    };
    let before = app.setup.workload.clone();
    egui::ComboBox::from_id_salt("workload")
        .selected_text(app.setup.workload.clone())
        .show_ui(ui, |ui| {
            for name in names.iter().chain(std::iter::once(&OWN_FILE.to_string())) {
                ui.selectable_value(&mut app.setup.workload, name.clone(), name);
            }
        })
        .response
        .labelled_by(title.id);
    if app.setup.workload != before {
        if app.setup.workload == OWN_FILE {
            app.setup.defaults.clear();
            app.setup.params.clear();
        } else {
            app.setup.load_defaults();
        }
    }
    match &app.setup.catalog {
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.small("asking the harness for its workloads…");
            });
        }
        Some(Err(e)) => {
            ui.colored_label(egui::Color32::from_rgb(0xd6, 0x45, 0x45), e);
        }
        Some(Ok(_)) => {
            if let Some(info) = app.setup.info() {
                ui.small(&info.description);
                if let Some(err) = &info.error {
                    ui.colored_label(egui::Color32::from_rgb(0xd6, 0x45, 0x45), err);
                }
            }
        }
    }
    if app.setup.workload == OWN_FILE {
        ui.horizontal(|ui| {
            let l = ui.label("File");
            ui.add(
                egui::TextEdit::singleline(&mut app.setup.file)
                    .hint_text("/path/to/workload.py")
                    .desired_width(170.0),
            )
            .labelled_by(l.id);
            if ui.button("Open file…").clicked() {
                app.browse(super::browse::Purpose::Workload);
            }
        });
        ui.small("Type a path, use Open file…, or drop a .py file on the window. It defines PARAMS, prepare(params) → chunks, run_chunk(state, chunk) → (items, partial) and finish(params, partials) → checksum (see workloads/PROTOCOL.md).");
        let l = ui.label("Parameters (key=value, comma-separated)");
        ui.text_edit_singleline(&mut app.setup.extra_params)
            .labelled_by(l.id);
        if let Err(e) = app.setup.workload_name() {
            ui.colored_label(egui::Color32::from_rgb(0xd6, 0x45, 0x45), e);
        }
        return;
    }
    let mut pick_image = false;
    if !app.setup.params.is_empty() {
        egui::Grid::new("params").num_columns(2).show(ui, |ui| {
            for (key, value) in &mut app.setup.params {
                let l = ui.label(key.as_str());
                let hint = if key == "image" {
                    "PNG/PPM path (or drop one)"
                } else {
                    ""
                };
                let is_image = key == "image";
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(value)
                            .hint_text(hint)
                            .desired_width(if is_image { 130.0 } else { 170.0 }),
                    )
                    .labelled_by(l.id);
                    if is_image && ui.button("Open…").clicked() {
                        pick_image = true;
                    }
                });
                ui.end_row();
            }
        });
        if app.setup.params != app.setup.defaults && ui.small_button("Reset to defaults").clicked()
        {
            app.setup.params = app.setup.defaults.clone();
        }
    }
    if pick_image {
        app.browse(super::browse::Purpose::Image);
    }
}

fn modes_and_workers(app: &mut App, ui: &mut egui::Ui) {
    ui.label(egui::RichText::new("Modes").strong());
    let found = app.interpreters.clone().unwrap_or_default();
    for (mode, on) in &mut app.setup.modes {
        let pick = pick_interpreter(&found, *mode);
        ui.horizontal(|ui| {
            let text = egui::RichText::new(mode.as_str())
                .color(mode_color(*mode))
                .strong();
            ui.add_enabled(pick.is_some(), egui::Checkbox::new(on, text));
            match pick {
                Some(i) => ui.small(format!("on {}", i.name)),
                None => ui.small("no interpreter"),
            };
        });
    }
    ui.horizontal(|ui| {
        let l = ui.label("Workers");
        ui.add(egui::DragValue::new(&mut app.setup.workers).range(1..=512))
            .labelled_by(l.id);
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        ui.small(format!("({cores} cores here)"));
    });
    ui.horizontal(|ui| {
        let l = ui.label("Repeats");
        ui.add(egui::DragValue::new(&mut app.setup.repeat).range(1..=50))
            .labelled_by(l.id)
            .on_hover_text(
                "Runs of each (mode, workers), repeats outermost; Compare shows their median and spread (min–max, IQR) and error bars",
            );
    });
    ui.horizontal(|ui| {
        let l = ui.label("Timeout");
        ui.add(
            egui::DragValue::new(&mut app.setup.timeout_s)
                .range(1..=86_400)
                .suffix(" s"),
        )
        .labelled_by(l.id);
    });
}

fn actions(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        if app.busy() {
            if ui.button(egui::RichText::new("■ Stop").strong()).clicked() {
                app.stop();
            }
        } else {
            if ui
                .button(egui::RichText::new("▶ Run").strong())
                .on_hover_text("Each checked mode with this many workers, Repeats times (Space)")
                .clicked()
            {
                match app.setup.run_specs(app) {
                    Ok(specs) => app.start_sweep(specs),
                    Err(e) => app.notify(e, true),
                }
            }
            if ui
                .button("Sweep")
                .on_hover_text("Each checked mode with 1, 2, … workers, one run after another")
                .clicked()
            {
                match app.setup.sweep_specs(app) {
                    Ok(specs) => app.start_sweep(specs),
                    Err(e) => app.notify(e, true),
                }
            }
        }
    });
    if let Some(s) = &app.sweep {
        let done = s.finished;
        let fraction = done as f32 / s.total.max(1) as f32;
        let elapsed = s.started.elapsed().as_secs_f64();
        let eta = if done > 0 {
            format!(
                ", about {:.0} s left",
                elapsed / done as f64 * (s.total - done) as f64
            )
        } else {
            String::new()
        };
        ui.add(egui::ProgressBar::new(fraction).text(format!(
            "run {} of {}{eta}",
            (done + 1).min(s.total),
            s.total
        )));
    }
}
