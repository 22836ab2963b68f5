//! The demo's story (`gilscope demo`): chapters a speaker steps through
//! with one key — N, → or Page Down, what presentation clickers send;
//! P, ← or Page Up goes back to a chapter already shown, without running
//! it again. Each chapter runs its own Run or Sweep (watched live), then
//! shows its point: the race of the fastest run against the GIL, a run
//! live, or the compare view anchored on the chapter's runs. It only
//! returns actions; the caption strip shows where the story stands.

use super::action::{Action, View};
use super::context::UiContext;
use super::options::{Chapter, Show};
use super::runs::RunId;
use egui::RichText;

/// Where the current chapter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for interpreters and the workload catalog.
    Waiting,
    /// Its Run or Sweep is going.
    Running,
    /// Done and shown; waiting for the speaker.
    Shown,
}

pub struct Story {
    chapters: Vec<Chapter>,
    at: usize,
    phase: Phase,
    /// The runs there were before each chapter started (its own are the
    /// others), and the runs each chapter made once it is done.
    before: Vec<RunId>,
    made: Vec<Vec<RunId>>,
}

impl Story {
    /// `None` without chapters.
    pub fn new(chapters: Vec<Chapter>) -> Option<Self> {
        (!chapters.is_empty()).then(|| Self {
            made: vec![Vec::new(); chapters.len()],
            chapters,
            at: 0,
            phase: Phase::Waiting,
            before: Vec::new(),
        })
    }

    pub fn chapter(&self) -> &Chapter {
        &self.chapters[self.at]
    }

    /// (current, total), counted from 1.
    pub fn position(&self) -> (usize, usize) {
        (self.at + 1, self.chapters.len())
    }

    /// The current chapter is done and shown.
    pub fn shown(&self) -> bool {
        self.phase == Phase::Shown
    }

    pub fn is_last(&self) -> bool {
        self.at + 1 == self.chapters.len()
    }

    /// The runs the current chapter made (once shown).
    pub fn runs(&self) -> &[RunId] {
        &self.made[self.at]
    }

    /// One frame's step: starts the first chapter once interpreters and
    /// the catalog are there; shows a chapter's point once its runs end.
    pub fn step(&mut self, cx: &UiContext, ready: bool) -> Vec<Action> {
        match self.phase {
            Phase::Waiting if ready && cx.interpreters.is_some() && !cx.busy => self.start(cx),
            Phase::Running if !cx.busy => {
                self.made[self.at] = cx
                    .runs
                    .ids()
                    .into_iter()
                    .filter(|id| !self.before.contains(id))
                    .collect();
                self.phase = Phase::Shown;
                self.show(cx)
            }
            _ => Vec::new(),
        }
    }

    /// The next chapter (N, →, Page Down): runs it.
    pub fn next(&mut self, cx: &UiContext) -> Result<Vec<Action>, String> {
        self.movable(cx)?;
        if self.is_last() {
            return Err(format!(
                "that was the last of {} chapters (P or ← goes back; Space runs the setup panel's workload)",
                self.chapters.len()
            ));
        }
        self.at += 1;
        Ok(self.start(cx))
    }

    /// The chapter before (P, ←, Page Up): shown again from its runs.
    pub fn previous(&mut self, cx: &UiContext) -> Result<Vec<Action>, String> {
        self.movable(cx)?;
        if self.at == 0 {
            return Err("this is the first chapter (N or → goes on)".into());
        }
        self.at -= 1;
        if self.made[self.at].is_empty() {
            return Ok(self.start(cx));
        }
        self.phase = Phase::Shown;
        Ok(self.show(cx))
    }

    fn movable(&self, cx: &UiContext) -> Result<(), String> {
        match self.phase {
            _ if cx.busy => Err("this chapter's runs are still going (Space stops them)".into()),
            Phase::Waiting => {
                Err("the story has not started yet (looking for interpreters)".into())
            }
            _ => Ok(()),
        }
    }

    fn start(&mut self, cx: &UiContext) -> Vec<Action> {
        self.before = cx.runs.ids();
        self.phase = Phase::Running;
        vec![
            Action::SetView(View::Live),
            Action::StartPlan(Box::new(self.chapter().plan.clone())),
        ]
    }

    fn show(&self, cx: &UiContext) -> Vec<Action> {
        let mine: Vec<RunId> = self
            .runs()
            .iter()
            .copied()
            .filter(|id| cx.runs.contains(*id))
            .collect();
        let Some(best) = super::auto::best_run_of(cx, &mine) else {
            return Vec::new();
        };
        match self.chapter().show {
            Show::Race => match super::auto::race_pair_of(cx, &mine) {
                Some((a, b)) => vec![Action::Race(a, b)],
                None => vec![Action::Show(best)],
            },
            Show::Live => {
                let widest = mine
                    .iter()
                    .copied()
                    .filter_map(|id| cx.runs.get(id).map(|e| (id, e.record.spec().workers)))
                    .max_by_key(|&(id, w)| (w, id))
                    .map_or(best, |(id, _)| id);
                vec![Action::Show(widest)]
            }
            Show::Compare => vec![
                Action::Show(best),
                Action::CloseRace,
                Action::SetView(View::Compare),
            ],
        }
    }

    /// The caption strip: "2 / 3", the chapter's title and note, and the
    /// key that goes on.
    pub fn caption_ui(&self, ui: &mut egui::Ui, cx: &UiContext) {
        let (n, total) = self.position();
        let chapter = self.chapter();
        let heading = ui.style().text_styles[&egui::TextStyle::Heading].size;
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!("{n} / {total}"))
                    .size(heading)
                    .color(ui.visuals().weak_text_color()),
            );
            ui.add_space(12.0);
            ui.vertical(|ui| {
                ui.label(RichText::new(&chapter.title).size(heading).strong());
                ui.label(&chapter.note);
            });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let hint = match self.phase {
                    Phase::Waiting => "looking for interpreters…".to_string(),
                    Phase::Running if cx.busy => match cx.progress {
                        Some(p) => {
                            format!("running {} of {}…", (p.finished + 1).min(p.total), p.total)
                        }
                        None => "running…".into(),
                    },
                    _ if self.is_last() => "the end · P ← back".into(),
                    _ => "N → next chapter".into(),
                };
                ui.label(RichText::new(hint).color(ui.visuals().weak_text_color()));
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Mode;
    use crate::store::fixtures::{Synth, interpreter};
    use crate::ui::context::InstallState;
    use crate::ui::options::AutoSweep;
    use crate::ui::runs::Runs;
    use std::path::Path;

    fn chapter(title: &str, show: Show, modes: Vec<Mode>) -> Chapter {
        Chapter {
            title: title.into(),
            note: String::new(),
            plan: AutoSweep {
                workload: "primes".into(),
                params: Vec::new(),
                modes,
                workers: vec![1, 2],
                repeat: 1,
            },
            show,
            shot: format!("{title}.png"),
        }
    }

    fn with_cx<R>(runs: &Runs, busy: bool, f: impl FnOnce(&UiContext) -> R) -> R {
        let install = InstallState::default();
        let pythons = [interpreter("3.13", "3.13.5", false)];
        let mut model = crate::ui::model::RunsModel::default();
        model.refresh(runs, None);
        let cx = UiContext {
            runs,
            model: &model,
            shown: None,
            interpreters: Some(&pythons),
            busy,
            progress: None,
            install: &install,
            dark: true,
            presentation: true,
            self_cpu: None,
            low_refresh: false,
            export_dir: Path::new("/tmp"),
        };
        f(&cx)
    }

    /// 20 chunks of work split over `workers`, each chunk `chunk_ms` long.
    fn run(mode: Mode, workers: usize, chunk_ms: u64) -> crate::store::RunRecord {
        let python = interpreter("3.13t", "3.13.5", true);
        let python = match mode {
            Mode::Ft => python,
            _ => interpreter("3.13", "3.13.5", false),
        };
        Synth {
            chunks_per_worker: 20 / workers as u64,
            chunk_ns: chunk_ms * 1_000_000,
            ..Synth::new(mode, workers)
        }
        .build(&python)
    }

    #[test]
    fn chapters_start_in_turn_show_their_point_and_go_back_without_running() {
        let mut story = Story::new(vec![
            chapter("race", Show::Race, vec![Mode::Gil, Mode::Ft]),
            chapter("memory", Show::Compare, vec![Mode::Process]),
        ])
        .unwrap();
        let mut runs = Runs::default();
        // Nothing before the catalog is ready, nor while something runs.
        assert!(with_cx(&runs, false, |cx| story.step(cx, false)).is_empty());
        assert!(with_cx(&runs, true, |cx| story.step(cx, true)).is_empty());
        let first = with_cx(&runs, false, |cx| story.step(cx, true));
        assert!(matches!(&first[1], Action::StartPlan(p) if p.modes == [Mode::Gil, Mode::Ft]));
        // Keys are refused while the chapter runs.
        let err = with_cx(&runs, true, |cx| story.next(cx)).unwrap_err();
        assert!(err.contains("still going"), "{err}");
        runs.add(run(Mode::Gil, 1, 50), None, None);
        let gil = runs.add(run(Mode::Gil, 2, 90), None, None);
        runs.add(run(Mode::Ft, 1, 70), None, None);
        let ft = runs.add(run(Mode::Ft, 2, 50), None, None);
        assert!(with_cx(&runs, true, |cx| story.step(cx, true)).is_empty());
        let shown = with_cx(&runs, false, |cx| story.step(cx, true));
        assert_eq!(shown, vec![Action::Race(gil, ft)]);
        assert!(story.shown() && story.runs().len() == 4);
        // On to the memory chapter: only its own runs count.
        let next = with_cx(&runs, false, |cx| story.next(cx)).unwrap();
        assert!(matches!(&next[1], Action::StartPlan(p) if p.modes == [Mode::Process]));
        assert!(!story.shown() && story.position() == (2, 2));
        let p1 = runs.add(run(Mode::Process, 1, 50), None, None);
        let p2 = runs.add(run(Mode::Process, 2, 55), None, None);
        let shown = with_cx(&runs, false, |cx| story.step(cx, true));
        assert_eq!(
            shown,
            vec![
                Action::Show(p2),
                Action::CloseRace,
                Action::SetView(View::Compare)
            ]
        );
        assert_eq!(story.runs(), [p1, p2]);
        let err = with_cx(&runs, false, |cx| story.next(cx)).unwrap_err();
        assert!(err.contains("last of 2 chapters"), "{err}");
        // Back: the race again, from the runs already made.
        let back = with_cx(&runs, false, |cx| story.previous(cx)).unwrap();
        assert_eq!(back, vec![Action::Race(gil, ft)]);
        assert!(story.shown() && story.position() == (1, 2));
    }

    #[test]
    fn a_chapter_that_made_no_run_shows_nothing_and_still_moves_on() {
        let mut story = Story::new(vec![
            chapter("import", Show::Live, vec![Mode::Ft]),
            chapter("race", Show::Race, vec![Mode::Gil]),
        ])
        .unwrap();
        let runs = Runs::default();
        with_cx(&runs, false, |cx| story.step(cx, true));
        // Its parameters were refused: nothing ran.
        assert!(with_cx(&runs, false, |cx| story.step(cx, true)).is_empty());
        assert!(story.shown() && story.runs().is_empty());
        let next = with_cx(&runs, false, |cx| story.next(cx)).unwrap();
        assert!(matches!(&next[1], Action::StartPlan(p) if p.modes == [Mode::Gil]));
        // Going back to a chapter with no runs runs it again.
        with_cx(&runs, false, |cx| story.step(cx, true));
        let back = with_cx(&runs, false, |cx| story.previous(cx)).unwrap();
        assert!(matches!(&back[1], Action::StartPlan(p) if p.modes == [Mode::Ft]));
    }
}
