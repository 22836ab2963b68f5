//! Keys and dropped files, turned into actions.

use super::*;

impl App {
    pub(super) fn handle_keys(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let (space, s, f11, escape) = ctx.input(|i| {
            (
                i.key_pressed(egui::Key::Space),
                i.key_pressed(egui::Key::S) && i.modifiers.is_none(),
                i.key_pressed(egui::Key::F11),
                i.key_pressed(egui::Key::Escape),
            )
        });
        let (tab, race, quiet) = ctx.input(|i| {
            (
                i.key_pressed(egui::Key::Tab),
                i.key_pressed(egui::Key::R) && i.modifiers.is_none(),
                i.key_pressed(egui::Key::Q) && i.modifiers.is_none(),
            )
        });
        if quiet {
            self.apply(Action::SetQuiet(!self.status.quiet()), ctx);
        }
        // The story: N, → or Page Down on; P, ← or Page Up back (what
        // presentation clickers send).
        let (next, back) = ctx.input(|i| {
            let plain = i.modifiers.is_none();
            (
                plain
                    && [egui::Key::N, egui::Key::ArrowRight, egui::Key::PageDown]
                        .iter()
                        .any(|&k| i.key_pressed(k)),
                plain
                    && [egui::Key::P, egui::Key::ArrowLeft, egui::Key::PageUp]
                        .iter()
                        .any(|&k| i.key_pressed(k)),
            )
        });
        if self.story.is_some() && (next || back) {
            self.apply(Action::Chapter { forward: next }, ctx);
        }
        if tab {
            let other = match self.view {
                View::Live => View::Compare,
                View::Compare => View::Live,
            };
            self.apply(Action::SetView(other), ctx);
        }
        if race {
            // The two ticked runs, else the best run against its GIL twin.
            let pair = match self.compare.selected() {
                [a, b] => Some((*a, *b)),
                _ => crate::ui::auto::race_pair(&self.context()),
            };
            match pair {
                Some((a, b)) => self.apply(Action::Race(a, b), ctx),
                None => self.apply(
                    Action::error("R races two runs: finish two runs of one workload first"),
                    ctx,
                ),
            }
        }
        if space {
            self.apply(Action::RunOrStop, ctx);
        }
        if s {
            self.apply(Action::Screenshot(None), ctx);
        }
        if f11 {
            self.apply(Action::SetPresentation(!self.presentation), ctx);
        } else if escape {
            self.apply(Action::SetPresentation(false), ctx);
        }
    }

    pub(super) fn handle_drops(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        for path in dropped {
            let name = path.to_string_lossy().to_lowercase();
            if name.ends_with(".py") {
                self.setup.use_file(&path);
                self.status
                    .notify(format!("workload file: {}", path.display()), false);
            } else if name.ends_with(".png") || name.ends_with(".ppm") {
                self.setup.use_image(&path);
                self.status
                    .notify(format!("blur image: {}", path.display()), false);
            } else {
                self.jobs.open(path);
            }
        }
    }
}
