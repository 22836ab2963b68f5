//! The scripted user of `gilscope gui --sweep … --screenshots DIR` (and of
//! `--open FILE --screenshots DIR`): waits for interpreters and the
//! workload catalog, runs the sweep, shows the best run live, saves
//! `live.png`, switches to Compare, saves `compare.png`, races the best
//! run against its GIL twin and saves `race.png` once it is over, and
//! closes the window with `--quit-when-done`. It only returns actions.

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
    /// The race of the best run against its GIL twin, replayed to the end.
    Racing,
    SettleRace(u32),
    ShotRace,
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
    /// A race replay is still moving.
    pub racing: bool,
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
            Step::ShotCompare => match race_pair(cx).filter(|_| self.screenshots) {
                Some((a, b)) => {
                    out.push(Do(Action::Race(a, b)));
                    Step::Racing
                }
                None => self.finish(&mut out),
            },
            Step::Racing if inputs.racing => return out,
            Step::Racing => Step::SettleRace(0),
            Step::SettleRace(n) if n < 10 => Step::SettleRace(n + 1),
            Step::SettleRace(_) => {
                out.push(Do(Action::Screenshot(Some("race.png".into()))));
                Step::ShotRace
            }
            Step::ShotRace if inputs.shots_pending > 0 => return out,
            Step::ShotRace => self.finish(&mut out),
            Step::Done => return out,
        };
        self.step = next;
        out
    }

    fn finish(&self, out: &mut Vec<PilotAction>) -> Step {
        if self.quit_when_done {
            out.push(PilotAction::Do(Action::Quit));
        }
        Step::Done
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

/// Two runs worth racing: the best multi-worker run against the run of
/// the same workload and worker count in another mode (the GIL one where
/// there is one).
pub fn race_pair(cx: &UiContext) -> Option<(RunId, RunId)> {
    let best = best_run(cx)?;
    let b = &cx.runs.get(best)?.record;
    let rivals: Vec<_> = cx
        .runs
        .iter()
        .filter(|e| e.id != best && e.record.result().is_some())
        .filter(|e| crate::store::compare::same_workload(b, &e.record))
        .filter(|e| e.record.spec().workers == b.spec().workers)
        .filter(|e| e.record.spec().mode != b.spec().mode)
        .collect();
    let rival = rivals
        .iter()
        .find(|e| e.record.spec().mode == crate::interp::Mode::Gil)
        .or(rivals.first())?;
    Some((rival.id, best))
}
