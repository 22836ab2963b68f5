//! What panels — and keys, drops, the story and the autopilot — ask the
//! app to do: one enum, [`Action`]. A panel draws from a read-only
//! [`super::context::UiContext`] and returns actions; only `App::apply`
//! changes shared state (runs, the shown run, views, jobs).

use super::browse::Purpose;
use super::options::AutoSweep;
use super::runs::RunId;
use crate::sweep::SweepPlan;
use std::path::PathBuf;
use std::time::Duration;

/// Runs to start one after another: a Run (the checked modes at one worker
/// count) or a Sweep (1…N workers, with the overhead runs), as a plan the
/// shared sweep engine steps through.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub plan: SweepPlan,
    pub timeout: Option<Duration>,
    /// A Sweep (else a Run).
    pub sweep: bool,
}

/// Something to write into the export folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// The shown run's samples as CSV.
    RunCsv(RunId),
    /// The shown run as a run file.
    RunFile(RunId),
    /// The compare table as CSV.
    TableCsv,
    /// The report's charts of the shown run's workload.
    Charts,
    /// Two finished runs' race as an animated GIF (`export::animation`).
    Animation(RunId, RunId),
}

/// Which view fills the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Live,
    Compare,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Start(Box<Batch>),
    /// Show this sweep in the setup panel and start it as the Sweep button
    /// would (the command line's `--sweep`, a story chapter's).
    StartPlan(Box<AutoSweep>),
    /// The story's next chapter (N, →, Page Down) or the previous one.
    Chapter {
        forward: bool,
    },
    /// Stop the running run and drop the rest of its batch.
    Stop,
    /// Run what the setup panel says, or stop (Space).
    RunOrStop,
    /// Show this run in the live view.
    Show(RunId),
    SetView(View),
    /// Replay two runs side by side on one clock.
    Race(RunId, RunId),
    /// End the race: the compare view shows its table and charts again.
    CloseRace,
    /// Forget every finished run.
    ClearFinished,
    /// Open a run file or sweep folder.
    Open(PathBuf),
    /// Open the file browser for this purpose.
    Browse(Purpose),
    Export(Export),
    /// Save the window as a PNG: under this name in the screenshot folder,
    /// or time-stamped in the export folder.
    Screenshot(Option<String>),
    SetDark(bool),
    SetPresentation(bool),
    /// The quiet progress view while runs are measured (Q), or the views.
    SetQuiet(bool),
    /// Build CPython 3.13 + 3.13t.
    Install,
    /// Look for interpreters again.
    Rediscover,
    /// Open *Attach…* (and list the running Python processes).
    ListProcesses,
    /// Watch this process live (read only), like a run.
    Attach(u32),
    /// A line for the status bar (an error in red).
    Notify {
        text: String,
        error: bool,
    },
    /// Close the window.
    Quit,
}

impl Action {
    /// An error for the status bar.
    pub fn error(text: impl Into<String>) -> Self {
        Self::Notify {
            text: text.into(),
            error: true,
        }
    }
}
