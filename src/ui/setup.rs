//! The setup panel: interpreters (and installing CPython when no
//! free-threaded build exists), the workload and its parameters, modes,
//! workers, Run / Stop and Sweep.

use super::action::Action;
use super::action::Batch;
use super::catalog::WorkloadInfo;
use super::context::UiContext;
use super::options::AutoSweep;
use super::style::mode_color;
use crate::interp::{Interpreter, Mode};
use crate::run::pick_interpreter;
use crate::sweep::{choose_interpreters, make_plan};
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

/// Label used for "a plain script, run unchanged" in the picker.
pub const PLAIN_SCRIPT: &str = "a plain script…";

/// The setup panel: what to run. Owns its form; returns an [`Action`]
/// (Run, Sweep, Stop, Install, Open file…) for the app to carry out.
pub struct SetupPanel {
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
    /// A plain script's arguments, as typed (split like a shell would,
    /// quotes group; never run through one).
    pub script_args: String,
    pub modes: Vec<(Mode, bool)>,
    pub workers: usize,
    /// Runs per (mode, workers) for Run and Sweep, repeats outermost (as
    /// `gilscope sweep --repeat`); the compare view groups them into one
    /// point with median and spread.
    pub repeat: usize,
    pub catalog: Option<Result<Vec<WorkloadInfo>, String>>,
    pub timeout_s: u64,
    /// Modes remembered from the last launch, ticked once interpreters
    /// are known (where one can run them).
    restored_modes: Option<Vec<Mode>>,
}

/// The interpreters discovery found, or why a run cannot start yet.
fn found_interpreters<'a>(cx: &UiContext<'a>) -> Result<&'a [Interpreter], String> {
    cx.interpreters
        .ok_or_else(|| "still looking for interpreters".to_string())
}

impl Default for SetupPanel {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            workload: "primes".into(),
            file: String::new(),
            params: Vec::new(),
            defaults: Vec::new(),
            extra_params: String::new(),
            script_args: String::new(),
            modes: MODES.iter().map(|&m| (m, false)).collect(),
            workers: cores.clamp(2, 64),
            repeat: 1,
            catalog: None,
            timeout_s: 600,
            restored_modes: None,
        }
    }
}

impl SetupPanel {
    /// Interpreters are known: check the modes that can run; returns the
    /// interpreter to ask for the built-in workloads' descriptions.
    pub fn on_interpreters(&mut self, found: &[Interpreter]) -> Option<PathBuf> {
        for (mode, on) in &mut self.modes {
            let wanted = match &self.restored_modes {
                Some(modes) => modes.contains(mode),
                None => matches!(mode, Mode::Gil | Mode::Ft | Mode::Subinterp | Mode::Process),
            };
            *on = wanted && pick_interpreter(found, *mode).is_some();
        }
        let describer =
            pick_interpreter(found, Mode::Gil).or_else(|| pick_interpreter(found, Mode::Process));
        if describer.is_none() {
            self.catalog = Some(Err(
                "no working Python to describe the workloads".to_string()
            ));
        }
        describer.map(|i| i.path.clone())
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

    /// Takes the form's remembered values (before interpreters are known).
    pub fn restore(&mut self, s: &super::settings::Settings) {
        if !s.workload.is_empty() {
            self.workload = s.workload.clone();
        }
        self.workers = s.workers.clamp(1, 512);
        self.repeat = s.repeat.clamp(1, 50);
        self.restored_modes = Some(s.modes.clone());
    }

    /// The checked modes (what is remembered).
    pub fn checked(&self) -> Vec<Mode> {
        self.checked_modes()
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
        if self.workload == PLAIN_SCRIPT {
            let path = self.file.trim();
            if path.is_empty() {
                return Err("type the path of your script (or use Open file…)".into());
            }
            let p = Path::new(path);
            if !p.is_file() {
                return Err(format!("{path}: no such file; check the path"));
            }
            let abs = std::path::absolute(p).map_err(|e| format!("{path}: {e}"))?;
            return Ok(format!(
                "{}{}",
                crate::run::script::SCRIPT_PREFIX,
                abs.display()
            ));
        }
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

    /// Parameters that differ from the defaults, plus a user file's own;
    /// for a plain script its arguments and working directory.
    pub fn run_params(&self) -> Result<Vec<(String, String)>, String> {
        if self.workload == PLAIN_SCRIPT {
            let mut out: Vec<(String, String)> = split_args(&self.script_args)?
                .into_iter()
                .map(|a| ("arg".to_string(), a))
                .collect();
            let cwd = std::env::current_dir().map_err(|e| format!("the current folder: {e}"))?;
            out.push(("cwd".into(), cwd.display().to_string()));
            return Ok(out);
        }
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

    /// The plan of a Run (`sweep == false`: the checked modes at the
    /// chosen worker count) or a Sweep (1…N workers), made by the planning
    /// of `gilscope sweep` (repeats outermost).
    #[allow(clippy::too_many_arguments)]
    fn batch(
        &self,
        found: &[Interpreter],
        workload: &str,
        params: &[(String, String)],
        modes: &[Mode],
        workers: &[usize],
        repeat: usize,
        sweep: bool,
    ) -> Result<Batch, String> {
        if modes.is_empty() {
            return Err("pick at least one mode".into());
        }
        let script = workload.starts_with(crate::run::script::SCRIPT_PREFIX);
        // A script runs on builds: subinterp and process do not apply (the
        // script decides that itself); the checked builds that do are run.
        let script_modes: Vec<Mode> = modes
            .iter()
            .copied()
            .filter(|&m| crate::run::script::check_script_mode(m).is_ok())
            .collect();
        let modes: &[Mode] = if script { &script_modes } else { modes };
        if script {
            if modes.is_empty() {
                return Err(format!(
                    "tick gil, ft or ft-gil: subinterp and process {}",
                    crate::run::script::SCRIPT_MODE_REFUSED
                ));
            }
            if sweep {
                return Err(
                    "a plain script decides its own threads: use Run (on each checked build)"
                        .into(),
                );
            }
        }
        let workers: &[usize] = if script { &[0] } else { workers };
        let chosen = choose_interpreters(modes, &[], found)
            .map_err(|e| format!("{e} (or Install in the setup panel)"))?;
        let mut plan = make_plan(
            workload,
            params,
            modes,
            workers,
            repeat.max(1),
            &chosen,
            found,
        );
        // The app runs only what the panel shows (its Compare view has no
        // single-thread overhead table): no extra 1-worker runs.
        plan.overhead_modes.clear();
        plan.interpreters.retain(|p| modes.contains(&p.mode));
        Ok(Batch {
            plan,
            timeout: Some(Duration::from_secs(self.timeout_s.max(1))),
            sweep,
        })
    }

    /// Run: the checked modes at the chosen worker count.
    pub fn run_batch(&self, cx: &UiContext) -> Result<Batch, String> {
        self.batch(
            found_interpreters(cx)?,
            &self.workload_name()?,
            &self.run_params()?,
            &self.checked_modes(),
            &[self.workers],
            self.repeat,
            false,
        )
    }

    /// Sweep: the checked modes × 1…workers.
    pub fn sweep_batch(&self, cx: &UiContext) -> Result<Batch, String> {
        let workers: Vec<usize> = (1..=self.workers.max(1)).collect();
        self.batch(
            found_interpreters(cx)?,
            &self.workload_name()?,
            &self.run_params()?,
            &self.checked_modes(),
            &workers,
            self.repeat,
            true,
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

    /// The plan of a sweep given on the command line.
    pub fn auto_batch(&self, found: &[Interpreter], auto: &AutoSweep) -> Result<Batch, String> {
        self.batch(
            found,
            &auto.workload,
            &auto.params,
            &auto.modes,
            &auto.workers,
            auto.repeat,
            true,
        )
    }
}

impl SetupPanel {
    /// Draws the panel; returns what the user asked for.
    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &UiContext) -> Option<Action> {
        ui.add_space(4.0);
        let mut action = interpreters_ui(ui, cx);
        ui.separator();
        action = action.or(self.workload_ui(ui));
        ui.separator();
        self.modes_and_workers_ui(ui, cx);
        ui.separator();
        action.or(self.actions_ui(ui, cx))
    }
}

fn interpreters_ui(ui: &mut egui::Ui, cx: &UiContext) -> Option<Action> {
    let mut action = None;
    let found = cx.interpreters;
    let title = match &found {
        None => "Interpreters (looking…)".to_string(),
        Some(f) => format!("Interpreters ({} found)", f.len()),
    };
    egui::CollapsingHeader::new(title)
        .default_open(false)
        .show(ui, |ui| match found {
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
                    action = Some(Action::Rediscover);
                }
            }
        });
    let has_ft = found.is_some_and(|f| f.iter().any(|i| i.supports(Mode::Ft)));
    if found.is_some() && !has_ft {
        ui.label(egui::RichText::new("No free-threaded CPython found.").strong());
        if cx.install.running {
            ui.add(egui::ProgressBar::new(cx.install.fraction).text(cx.install.line.clone()));
            if let Some(log) = &cx.install.log {
                ui.small(format!("log: {}", log.display()));
            }
        } else if ui
            .button("Install CPython 3.13 + 3.13t")
            .on_hover_text(
                "With uv on PATH: `uv python install 3.13 3.13t` (seconds); else builds both from source into gilscope's data folder (about 10 minutes on 2 cores)",
            )
            .clicked()
        {
            action = Some(Action::Install);
        }
    }
    action
}

impl SetupPanel {
    fn workload_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let title = ui.label(egui::RichText::new("Workload").strong());
        let names: Vec<String> = match &self.catalog {
            Some(Ok(list)) => list.iter().map(|w| w.name.clone()).collect(),
            _ => vec![self.workload.clone()],
        };
        let before = self.workload.clone();
        egui::ComboBox::from_id_salt("workload")
            .selected_text(self.workload.clone())
            .show_ui(ui, |ui| {
                for name in names
                    .iter()
                    .chain([OWN_FILE.to_string(), PLAIN_SCRIPT.to_string()].iter())
                {
                    ui.selectable_value(&mut self.workload, name.clone(), name);
                }
            })
            .response
            .labelled_by(title.id);
        if self.workload != before {
            if self.workload == OWN_FILE || self.workload == PLAIN_SCRIPT {
                self.defaults.clear();
                self.params.clear();
            } else {
                self.load_defaults();
            }
        }
        match &self.catalog {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.small("asking the harness for its workloads…");
                });
            }
            Some(Err(e)) => {
                ui.colored_label(super::style::bad(), e);
            }
            Some(Ok(_)) => {
                if let Some(info) = self.info() {
                    ui.small(&info.description);
                    if let Some(err) = &info.error {
                        ui.colored_label(super::style::bad(), err);
                    }
                }
            }
        }
        if self.workload == PLAIN_SCRIPT {
            let mut browse = None;
            ui.horizontal(|ui| {
                let l = ui.label("Script");
                ui.add(
                    egui::TextEdit::singleline(&mut self.file)
                        .hint_text("/path/to/your_script.py")
                        .desired_width(170.0),
                )
                .labelled_by(l.id);
                if ui.button("Open file…").clicked() {
                    browse = Some(Action::Browse(super::browse::Purpose::Workload));
                }
            });
            let l = ui.label("Arguments");
            ui.text_edit_singleline(&mut self.script_args)
                .labelled_by(l.id);
            ui.small("Runs unchanged, as `python SCRIPT ARGS` in this folder, on each checked build: gil (default build), ft and ft-gil (free-threaded, GIL off / forced on). Its threads keep their Python names. subinterp and process do not apply: the script decides that itself.");
            if let Err(e) = self.workload_name().and_then(|_| self.run_params()) {
                ui.colored_label(super::style::bad(), e);
            }
            return browse;
        }
        if self.workload == OWN_FILE {
            let mut browse = None;
            ui.horizontal(|ui| {
                let l = ui.label("File");
                ui.add(
                    egui::TextEdit::singleline(&mut self.file)
                        .hint_text("/path/to/workload.py")
                        .desired_width(170.0),
                )
                .labelled_by(l.id);
                if ui.button("Open file…").clicked() {
                    browse = Some(Action::Browse(super::browse::Purpose::Workload));
                }
            });
            ui.small("Type a path, use Open file…, or drop a .py file on the window. It defines PARAMS, prepare(params) → chunks, run_chunk(state, chunk) → (items, partial) and finish(params, partials) → checksum (see workloads/PROTOCOL.md).");
            let l = ui.label("Parameters (key=value, comma-separated)");
            ui.text_edit_singleline(&mut self.extra_params)
                .labelled_by(l.id);
            if let Err(e) = self.workload_name() {
                ui.colored_label(super::style::bad(), e);
            }
            return browse;
        }
        let mut pick_image = false;
        if !self.params.is_empty() {
            egui::Grid::new("params").num_columns(2).show(ui, |ui| {
                for (key, value) in &mut self.params {
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
            if self.params != self.defaults && ui.small_button("Reset to defaults").clicked() {
                self.params = self.defaults.clone();
            }
        }
        pick_image.then_some(Action::Browse(super::browse::Purpose::Image))
    }

    fn modes_and_workers_ui(&mut self, ui: &mut egui::Ui, cx: &UiContext) {
        ui.label(egui::RichText::new("Modes").strong());
        let found = cx.interpreters.unwrap_or_default();
        for (mode, on) in &mut self.modes {
            let pick = pick_interpreter(found, *mode);
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
            ui.add(egui::DragValue::new(&mut self.workers).range(1..=512))
                .labelled_by(l.id);
            let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
            ui.small(format!("({cores} cores here)"));
        });
        ui.horizontal(|ui| {
        let l = ui.label("Repeats");
        ui.add(egui::DragValue::new(&mut self.repeat).range(1..=50))
            .labelled_by(l.id)
            .on_hover_text(
                "Runs of each (mode, workers), repeats outermost; Compare shows their median and spread (min–max, IQR) and error bars",
            );
    });
        ui.horizontal(|ui| {
            let l = ui.label("Timeout");
            ui.add(
                egui::DragValue::new(&mut self.timeout_s)
                    .range(1..=86_400)
                    .suffix(" s"),
            )
            .labelled_by(l.id);
        });
    }

    fn actions_ui(&self, ui: &mut egui::Ui, cx: &UiContext) -> Option<Action> {
        let mut action = None;
        ui.horizontal(|ui| {
            if cx.busy {
                if ui.button(egui::RichText::new("■ Stop").strong()).clicked() {
                    action = Some(Action::Stop);
                }
            } else {
                if ui
                    .button(egui::RichText::new("▶ Run").strong())
                    .on_hover_text(
                        "Each checked mode with this many workers, Repeats times (Space)",
                    )
                    .clicked()
                {
                    action = Some(
                        self.run_batch(cx)
                            .map_or_else(Action::error, |b| Action::Start(Box::new(b))),
                    );
                }
                if ui
                    .button("Sweep")
                    .on_hover_text("Each checked mode with 1, 2, … workers, one run after another")
                    .clicked()
                {
                    action = Some(
                        self.sweep_batch(cx)
                            .map_or_else(Action::error, |b| Action::Start(Box::new(b))),
                    );
                }
            }
        });
        if let Some(p) = cx.progress {
            let done = p.finished;
            let fraction = done as f32 / p.total.max(1) as f32;
            let elapsed = p.started.elapsed().as_secs_f64();
            let eta = if done > 0 {
                format!(
                    ", about {:.0} s left",
                    elapsed / done as f64 * p.total.saturating_sub(done) as f64
                )
            } else {
                String::new()
            };
            ui.add(egui::ProgressBar::new(fraction).text(format!(
                "run {} of {}{eta}",
                (done + 1).min(p.total),
                p.total
            )));
        }
        action
    }
}

/// Splits typed arguments like a shell would (whitespace separates, '…'
/// and "…" group, a backslash escapes the next character), without
/// running one.
pub fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("arguments: a {q} is not closed"));
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod script_args_tests {
    use super::split_args;

    #[test]
    fn splits_like_a_shell_without_one() {
        assert_eq!(
            split_args(r#"300000 "two words" 'it''s' a\ b "" $HOME"#).unwrap(),
            vec!["300000", "two words", "its", "a b", "", "$HOME"]
        );
        assert!(split_args("\"open").unwrap_err().contains("not closed"));
    }
}
