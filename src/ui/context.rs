//! What every panel may read while it draws: the runs, interpreters and
//! the app's settings, by shared reference. Panels change nothing here;
//! they return an [`super::action::Action`].

use super::runs::{RunId, Runs};
use crate::interp::Interpreter;
use crate::interp::install::InstallEvent;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Install progress (the setup panel shows it).
#[derive(Debug, Clone, Default)]
pub struct InstallState {
    pub running: bool,
    pub line: String,
    pub fraction: f32,
    pub log: Option<PathBuf>,
}

impl InstallState {
    /// Takes in one progress event of the installer.
    pub fn on_event(&mut self, ev: InstallEvent) {
        match ev {
            InstallEvent::Log { path } => self.log = Some(path),
            InstallEvent::PhaseStarted { build, phase } => {
                self.line = format!(
                    "{}{}",
                    build.map(|b| format!("{b:?} build: ")).unwrap_or_default(),
                    phase.as_str()
                );
                self.fraction = 0.0;
            }
            InstallEvent::Progress { done, total, .. } => {
                self.fraction = if total > 0 {
                    (done as f32 / total as f32).min(1.0)
                } else {
                    0.0
                };
            }
            InstallEvent::PhaseDone { .. } => self.fraction = 1.0,
            InstallEvent::Note { text } | InstallEvent::Status { text } => self.line = text,
            InstallEvent::Kept { python, .. } | InstallEvent::Installed { python, .. } => {
                self.line = format!("ready: {}", python.display());
            }
            InstallEvent::Done { via, secs } => {
                self.line = format!("{} in {secs:.0} s", via.describe());
            }
        }
    }
}

/// How far the current Run or Sweep is.
#[derive(Debug, Clone, Copy)]
pub struct BatchProgress {
    pub finished: usize,
    pub failed: usize,
    pub total: usize,
    pub started: Instant,
}

/// Read-only state for one frame.
pub struct UiContext<'a> {
    pub runs: &'a Runs,
    /// The runs' numbers and verdicts, computed once per change.
    pub model: &'a super::model::RunsModel,
    /// The shown run: what the live view plots (and the compare view's anchor).
    pub shown: Option<RunId>,
    /// `None` while discovery runs.
    pub interpreters: Option<&'a [Interpreter]>,
    /// A run goes, or a batch has more to run.
    pub busy: bool,
    pub progress: Option<BatchProgress>,
    pub install: &'a InstallState,
    pub dark: bool,
    pub presentation: bool,
    /// gilscope's own CPU use, in cores, over the last second.
    pub self_cpu: Option<f64>,
    pub low_refresh: bool,
    pub export_dir: &'a Path,
}
