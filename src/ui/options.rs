//! How the window starts: `gilscope gui`'s options.

use crate::interp::{Interpreter, Mode};
use crate::sampler::SamplerConfig;
use std::path::PathBuf;
use std::time::Duration;

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

/// What a story chapter shows once its runs are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// The best multi-worker run raced against its GIL twin.
    Race,
    /// The chapter's run with the most workers, live view.
    Live,
    /// The compare view (table, scaling and memory charts) anchored on the
    /// chapter's best run.
    Compare,
}

/// One step of `gilscope demo`'s story (see [`super::story`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Chapter {
    /// One line, large: what this chapter shows.
    pub title: String,
    /// One line under it: what to look at.
    pub note: String,
    pub plan: AutoSweep,
    pub show: Show,
    /// The screenshot's file name (`demo --screenshots`).
    pub shot: String,
}

/// How the window starts.
#[derive(Debug, Clone)]
pub struct UiOptions {
    /// Run files or folders to open at start.
    pub open: Vec<PathBuf>,
    pub auto_sweep: Option<AutoSweep>,
    /// Chapters to step through with N / P (`gilscope demo`); the first
    /// starts as soon as interpreters are known.
    pub story: Vec<Chapter>,
    /// After the auto sweep: save `live.png` and `compare.png` here.
    pub screenshot_dir: Option<PathBuf>,
    /// Close the window once the auto sweep (and its screenshots) are done.
    pub quit_when_done: bool,
    pub presentation: bool,
    pub dark: bool,
    /// Repaint at 1 Hz (not 10) while a run is measured.
    pub low_refresh: bool,
    /// While runs are measured, show only a quiet progress view repainted
    /// every 2.5 s (the demo's default): the window then takes almost
    /// nothing from the cores it measures; views replay afterwards.
    pub quiet: bool,
    /// Where exports go.
    pub export_dir: PathBuf,
    /// Save every finished run here as a run file (`run-NNN.json`).
    pub save_runs: Option<PathBuf>,
    /// Frame interval while a run is measured in the live view, overriding
    /// the default and low refresh (`gilscope bench observer` compares).
    pub measure_ms: Option<u64>,
    /// Use these instead of discovering (tests).
    pub interpreters: Option<Vec<Interpreter>>,
    pub sampling: SamplerConfig,
    pub timeout: Option<Duration>,
    /// Initial window size in points.
    pub window_size: [f32; 2],
    /// Remember the theme, workload, modes, workers, repeats and window
    /// size here between launches (`None`: tests, nothing remembered).
    pub settings_file: Option<PathBuf>,
    /// The settings read from `settings_file` at start.
    pub settings: Option<super::settings::Settings>,
}

impl Default for UiOptions {
    fn default() -> Self {
        Self {
            open: Vec::new(),
            auto_sweep: None,
            story: Vec::new(),
            screenshot_dir: None,
            quit_when_done: false,
            presentation: false,
            dark: true,
            low_refresh: false,
            quiet: false,
            save_runs: None,
            measure_ms: None,
            export_dir: default_export_dir(),
            interpreters: None,
            sampling: SamplerConfig::default(),
            timeout: Some(Duration::from_secs(600)),
            window_size: [1440.0, 900.0],
            settings_file: None,
            settings: None,
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
