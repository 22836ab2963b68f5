//! The scripted user of `gilscope gui --sweep … --screenshots DIR` (and of
//! `--open FILE --screenshots DIR`): waits for interpreters and the
//! workload catalog, runs the sweep, shows the best run live, saves
//! `live.png`, switches to Compare, saves `compare.png`, and closes the
//! window with `--quit-when-done`. It only returns actions.

use super::action::{Action, View};
use super::context::UiContext;
use super::runs::RunId;
use crate::store::RunRecord;

/// Where the auto sweep's screenshots stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
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

/// What the pilot needs to know besides the [`UiContext`].
pub struct PilotInputs {
    /// The workload catalog arrived (its probe is a python process that
    /// would compete with the first run).
    pub catalog_ready: bool,
    /// An error was shown (a file that would not open).
    pub had_error: bool,
    /// Screenshots asked for and not written yet.
    pub shots_pending: usize,
}

/// What the pilot asks for, beyond ordinary actions.
#[derive(Debug, Clone, PartialEq)]
pub enum PilotAction {
    Do(Action),
    /// Show the command line's sweep in the setup panel and start it.
    StartAutoSweep,
}

pub struct AutoPilot {
    step: Step,
    screenshots: bool,
    quit_when_done: bool,
}

impl AutoPilot {
    /// `None` when there is nothing to script.
    pub fn new(
        auto_sweep: bool,
        opened: bool,
        screenshots: bool,
        quit_when_done: bool,
    ) -> Option<Self> {
        let step = if auto_sweep {
            Step::WaitInterpreters
        } else if screenshots && opened {
            Step::WaitOpen
        } else {
            return None;
        };
        Some(Self {
            step,
            screenshots,
            quit_when_done,
        })
    }

    pub fn done(&self) -> bool {
        self.step == Step::Done
    }

    /// One frame's step (the window repaints while the pilot is [`active`](Self::active)).
    pub fn step(&mut self, cx: &UiContext, inputs: &PilotInputs) -> Vec<PilotAction> {
        use PilotAction::Do;
        let mut out = Vec::new();
        let next = match self.step {
            Step::WaitOpen => {
                if cx.runs.is_empty() && !inputs.had_error {
                    return out;
                }
                out.push(Do(Action::SetView(View::Live)));
                Step::SettleLive(0)
            }
            Step::WaitInterpreters => {
                if cx.interpreters.is_none() || !inputs.catalog_ready {
                    return out;
                }
                out.push(PilotAction::StartAutoSweep);
                Step::Sweeping
            }
            Step::Sweeping if cx.busy => return out,
            Step::Sweeping => {
                out.push(Do(Action::SetView(View::Live)));
                // Show the best multi-worker run of the sweep live.
                if let Some(best) = best_run(cx) {
                    out.push(Do(Action::Show(best)));
                }
                Step::SettleLive(0)
            }
            Step::SettleLive(n) if n < 10 => Step::SettleLive(n + 1),
            Step::SettleLive(_) => {
                if self.screenshots {
                    out.push(Do(Action::Screenshot(Some("live.png".into()))));
                }
                Step::ShotLive
            }
            Step::ShotLive if inputs.shots_pending > 0 => return out,
            Step::ShotLive => {
                out.push(Do(Action::SetView(View::Compare)));
                Step::SettleCompare(0)
            }
            Step::SettleCompare(n) if n < 10 => Step::SettleCompare(n + 1),
            Step::SettleCompare(_) => {
                if self.screenshots {
                    out.push(Do(Action::Screenshot(Some("compare.png".into()))));
                }
                Step::ShotCompare
            }
            Step::ShotCompare if inputs.shots_pending > 0 => return out,
            Step::ShotCompare => {
                if self.quit_when_done {
                    out.push(Do(Action::Quit));
                }
                Step::Done
            }
            Step::Done => return out,
        };
        self.step = next;
        out
    }

    /// Whether the pilot is still working (the window keeps repainting).
    pub fn active(&self) -> bool {
        self.step != Step::Done
    }
}

/// The completed multi-worker run that scaled best (else any completed run).
pub fn best_run(cx: &UiContext) -> Option<RunId> {
    let records = cx.runs.records();
    let ids = cx.runs.ids();
    records
        .iter()
        .zip(ids)
        .filter(|(r, _)| r.result().is_some())
        .max_by(|(a, _), (b, _)| {
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
        .map(|(_, id)| id)
}
