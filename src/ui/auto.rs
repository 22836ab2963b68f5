//! The scripted user of `gilscope gui --sweep … --screenshots DIR` (and of
//! `--open FILE --screenshots DIR`): waits for interpreters and the
//! workload catalog, runs the sweep, shows the best run live, saves
//! `live.png`, switches to Compare, saves `compare.png`, races the best
//! run against its GIL twin and saves `race.png` once it is over, and
//! closes the window with `--quit-when-done`. With a story (`gilscope demo
//! --screenshots`) it waits for each chapter to be shown, saves the
//! chapter's screenshot and goes on to the next. It only returns actions.

use super::action::{Action, View};
use super::context::UiContext;
use super::options::AutoSweep;
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
    /// A story chapter: wait until it is shown (and its race is over).
    StoryWait,
    SettleStory(u32),
    ShotStory,
    Done,
}

/// Where the story stands, for the pilot.
#[derive(Debug, Clone)]
pub struct StoryInputs {
    /// The current chapter is done and shown.
    pub shown: bool,
    pub last: bool,
    /// The chapter's screenshot name.
    pub shot: String,
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
    pub story: Option<StoryInputs>,
}

pub struct AutoPilot {
    step: Step,
    /// The command line's sweep (`gui --sweep`), started once the
    /// interpreters and the workload catalog are in.
    plan: Option<AutoSweep>,
    screenshots: bool,
    quit_when_done: bool,
}

impl AutoPilot {
    /// `None` when there is nothing to script.
    pub fn new(
        (auto_sweep, story): (Option<AutoSweep>, bool),
        opened: bool,
        screenshots: bool,
        quit_when_done: bool,
    ) -> Option<Self> {
        let step = if story && (screenshots || quit_when_done) {
            Step::StoryWait
        } else if story {
            return None;
        } else if auto_sweep.is_some() {
            Step::WaitInterpreters
        } else if screenshots && opened {
            Step::WaitOpen
        } else {
            return None;
        };
        Some(Self {
            step,
            plan: auto_sweep,
            screenshots,
            quit_when_done,
        })
    }

    pub fn done(&self) -> bool {
        self.step == Step::Done
    }

    /// One frame's step (the window repaints while the pilot is [`active`](Self::active)).
    pub fn step(&mut self, cx: &UiContext, inputs: &PilotInputs) -> Vec<Action> {
        let mut out = Vec::new();
        let next = match self.step {
            Step::WaitOpen => {
                if cx.runs.is_empty() && !inputs.had_error {
                    return out;
                }
                out.push(Action::SetView(View::Live));
                Step::SettleLive(0)
            }
            Step::WaitInterpreters => {
                if cx.interpreters.is_none() || !inputs.catalog_ready {
                    return out;
                }
                if let Some(plan) = &self.plan {
                    out.push(Action::StartPlan(Box::new(plan.clone())));
                }
                Step::Sweeping
            }
            Step::Sweeping if cx.busy => return out,
            Step::Sweeping => {
                out.push(Action::SetView(View::Live));
                // Show the best multi-worker run of the sweep live.
                if let Some(best) = best_run(cx) {
                    out.push(Action::Show(best));
                }
                Step::SettleLive(0)
            }
            Step::SettleLive(n) if n < 10 => Step::SettleLive(n + 1),
            Step::SettleLive(_) => {
                if self.screenshots {
                    out.push(Action::Screenshot(Some("live.png".into())));
                }
                Step::ShotLive
            }
            Step::ShotLive if inputs.shots_pending > 0 => return out,
            Step::ShotLive => {
                out.push(Action::SetView(View::Compare));
                Step::SettleCompare(0)
            }
            Step::SettleCompare(n) if n < 10 => Step::SettleCompare(n + 1),
            Step::SettleCompare(_) => {
                if self.screenshots {
                    out.push(Action::Screenshot(Some("compare.png".into())));
                }
                Step::ShotCompare
            }
            Step::ShotCompare if inputs.shots_pending > 0 => return out,
            Step::ShotCompare => match race_pair(cx).filter(|_| self.screenshots) {
                Some((a, b)) => {
                    out.push(Action::Race(a, b));
                    Step::Racing
                }
                None => self.finish(&mut out),
            },
            Step::Racing if inputs.racing => return out,
            Step::Racing => Step::SettleRace(0),
            Step::SettleRace(n) if n < 10 => Step::SettleRace(n + 1),
            Step::SettleRace(_) => {
                out.push(Action::Screenshot(Some("race.png".into())));
                Step::ShotRace
            }
            Step::ShotRace if inputs.shots_pending > 0 => return out,
            Step::ShotRace => self.finish(&mut out),
            Step::StoryWait => match &inputs.story {
                Some(s) if s.shown && !inputs.racing => Step::SettleStory(0),
                _ => return out,
            },
            Step::SettleStory(n) if n < 10 => Step::SettleStory(n + 1),
            Step::SettleStory(_) => {
                if let Some(s) = inputs.story.as_ref().filter(|_| self.screenshots) {
                    out.push(Action::Screenshot(Some(s.shot.clone())));
                }
                Step::ShotStory
            }
            Step::ShotStory if inputs.shots_pending > 0 => return out,
            Step::ShotStory => {
                if inputs.story.as_ref().is_none_or(|s| s.last) {
                    self.finish(&mut out)
                } else {
                    out.push(Action::Chapter { forward: true });
                    Step::StoryWait
                }
            }
            Step::Done => return out,
        };
        self.step = next;
        out
    }

    fn finish(&self, out: &mut Vec<Action>) -> Step {
        if self.quit_when_done {
            out.push(Action::Quit);
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
    best_run_of(cx, &cx.runs.ids())
}

/// [`best_run`] among `ids`: the run with the median time of the
/// multi-worker point with the best median speedup (its point judged once
/// in the model).
pub fn best_run_of(cx: &UiContext, ids: &[RunId]) -> Option<RunId> {
    let best = ids
        .iter()
        .filter_map(|&id| cx.runs.get(id).map(|e| (&e.record, id)))
        .filter(|(r, _)| r.result().is_some())
        .max_by(|(a, ia), (b, ib)| {
            let key = |r: &RunRecord, id: RunId| {
                let s = cx
                    .model
                    .point(id)
                    .and_then(|p| p.speedup)
                    .or_else(|| cx.model.row(id).and_then(|row| row.speedup))
                    .unwrap_or(0.0);
                (r.spec().workers > 1, s)
            };
            let (ma, sa) = key(a, *ia);
            let (mb, sb) = key(b, *ib);
            ma.cmp(&mb).then(sa.total_cmp(&sb))
        })
        .map(|(_, id)| id)?;
    Some(median_run_of(cx, ids, best))
}

/// Among `ids`, the repeat of `id`'s point whose time is the median:
/// the race races medians (judged once, in the model).
pub fn median_run_of(cx: &UiContext, ids: &[RunId], id: RunId) -> RunId {
    cx.model.median_repeat(id, ids)
}

/// Two runs worth racing: the best multi-worker run against the run of
/// the same workload and worker count in another mode (the GIL one where
/// there is one).
pub fn race_pair(cx: &UiContext) -> Option<(RunId, RunId)> {
    race_pair_of(cx, &cx.runs.ids())
}

/// [`race_pair`] among `ids` (the rules are [`crate::sweep::race`]'s,
/// judged once in the model).
pub fn race_pair_of(cx: &UiContext, ids: &[RunId]) -> Option<(RunId, RunId)> {
    cx.model.race_pair(cx.runs, ids)
}
