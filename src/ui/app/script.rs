//! The story (`gilscope demo`'s chapters) and the autopilot (`gui --sweep
//! … --screenshots`), stepped between frames. Both only return actions,
//! which [`App::apply`] carries out like a panel's.

use super::*;

impl App {
    pub(super) fn drive_pilot(&mut self, ctx: &egui::Context) {
        let Some(mut pilot) = self.pilot.take() else {
            return;
        };
        let inputs = PilotInputs {
            catalog_ready: self.setup.has_catalog(),
            had_error: self.status.notices().iter().any(|n| n.error),
            shots_pending: self.shots_pending,
            racing: self.compare.racing(),
            story: self.story.as_ref().map(|s| StoryInputs {
                shown: s.shown(),
                last: s.is_last(),
                shot: s.chapter().shot.clone(),
            }),
        };
        let todo = pilot.step(&self.context(), &inputs);
        let active = pilot.active();
        self.pilot = Some(pilot);
        for action in todo {
            self.apply(action, ctx);
        }
        if active {
            // The pilot steps between frames; while runs are measured it
            // waits at the measuring rate like everything else.
            ctx.request_repaint_after(Duration::from_millis(self.repaint_ms().unwrap_or(100)));
        }
    }

    /// The story's step: its first chapter starts once the catalog is in;
    /// a chapter's point is shown once its runs end.
    pub(super) fn drive_story(&mut self, ctx: &egui::Context) {
        let Some(mut story) = self.story.take() else {
            return;
        };
        let todo = story.step(&self.context(), self.setup.has_catalog());
        self.story = Some(story);
        for action in todo {
            self.apply(action, ctx);
        }
    }

    /// N (forward) or P (back) in the story ([`Action::Chapter`]).
    pub(super) fn turn_chapter(&mut self, forward: bool, ctx: &egui::Context) {
        let Some(mut story) = self.story.take() else {
            return;
        };
        let cx = self.context();
        let todo = if forward {
            story.next(&cx)
        } else {
            story.previous(&cx)
        };
        self.story = Some(story);
        match todo {
            Ok(todo) => {
                for action in todo {
                    self.apply(action, ctx);
                }
            }
            Err(e) => self.status.notify(e, false),
        }
    }

    /// A sweep given on the command line or by the story
    /// ([`Action::StartPlan`]): shown in the setup panel, then started like
    /// the Sweep button would.
    pub(super) fn start_plan(&mut self, plan: &AutoSweep, ctx: &egui::Context) {
        self.setup.show_plan(plan);
        let found = self.interpreters.clone().unwrap_or_default();
        let action = match self.setup.auto_batch(&found, plan) {
            Ok(batch) => Action::Start(Box::new(batch)),
            Err(e) => Action::error(format!("auto sweep: {e}")),
        };
        self.apply(action, ctx);
    }
}
