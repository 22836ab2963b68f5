//! The setup panel: interpreters (and installing CPython when no
//! free-threaded build exists), the workload and its parameters, modes,
//! workers, Run / Stop and Sweep.

use super::action::Action;
use super::action::Batch;
use super::context::UiContext;
use super::kit::style::mode_color;
use super::options::AutoSweep;
use crate::interp::{Interpreter, Mode};
use crate::run::catalog::WorkloadInfo;
use crate::run::pick_interpreter;
use crate::sweep::{choose_interpreters, make_plan};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod draw;

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
    workload: String,
    /// Path of the user's workload file (when `workload` is [`OWN_FILE`]).
    file: String,
    /// Current parameter values, in the workload's order.
    params: Vec<(String, String)>,
    /// The workload's defaults (from the harness).
    defaults: Vec<(String, String)>,
    /// Extra `key=value` text for a user's workload.
    extra_params: String,
    /// A plain script's arguments, as typed (split like a shell would,
    /// quotes group; never run through one).
    script_args: String,
    modes: Vec<(Mode, bool)>,
    workers: usize,
    /// Runs per (mode, workers) for Run and Sweep, repeats outermost (as
    /// `gilscope sweep --repeat`); the compare view groups them into one
    /// point with median and spread.
    repeat: usize,
    catalog: Option<Result<Vec<WorkloadInfo>, String>>,
    timeout_s: u64,
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
    /// The chosen workload: a built-in name, [`OWN_FILE`] or [`PLAIN_SCRIPT`].
    pub fn workload(&self) -> &str {
        &self.workload
    }

    /// Picks a workload as the picker would: a built-in one takes its
    /// defaults.
    pub fn set_workload(&mut self, name: &str) {
        self.workload = name.to_string();
        if name == OWN_FILE || name == PLAIN_SCRIPT {
            self.defaults.clear();
            self.params.clear();
        } else {
            self.load_defaults();
        }
    }

    /// The parameters as typed, in the workload's order.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// Types these parameter values (as a user would).
    pub fn set_params(&mut self, params: Vec<(String, String)>) {
        self.params = params;
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn set_workers(&mut self, n: usize) {
        self.workers = n.clamp(1, 512);
    }

    /// Runs per point.
    pub fn repeat(&self) -> usize {
        self.repeat
    }

    pub fn set_repeat(&mut self, n: usize) {
        self.repeat = n.clamp(1, 50);
    }

    /// A plain script to run unchanged, with its arguments as typed.
    pub fn use_script(&mut self, path: &Path, args: &str) {
        self.workload = PLAIN_SCRIPT.to_string();
        self.defaults.clear();
        self.params.clear();
        self.file = path.display().to_string();
        self.script_args = args.to_string();
    }

    /// The ticked modes, in the order shown.
    pub fn modes(&self) -> Vec<Mode> {
        self.checked_modes()
    }

    /// Ticks or unticks a mode.
    pub fn set_mode(&mut self, mode: Mode, on: bool) {
        if let Some((_, o)) = self.modes.iter_mut().find(|(m, _)| *m == mode) {
            *o = on;
        }
    }

    /// The built-in workloads as the harness described them (`None` while
    /// it is asked).
    pub fn catalog(&self) -> Option<&Result<Vec<WorkloadInfo>, String>> {
        self.catalog.as_ref()
    }

    /// The catalog arrived (or could not be had).
    pub fn has_catalog(&self) -> bool {
        self.catalog.is_some()
    }

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
            let mut out: Vec<(String, String)> = crate::kit::shell::split_args(&self.script_args)?
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
        // The app runs only what the panel shows (its Compare view has no
        // single-thread overhead table): no extra 1-worker runs.
        let plan = make_plan(
            workload,
            params,
            modes,
            workers,
            repeat.max(1),
            &chosen,
            found,
        )
        .without_overhead();
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
