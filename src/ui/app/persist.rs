//! What the app writes besides exports: screenshots of the window and the
//! remembered settings.

use super::*;

impl App {
    /// Saves a screenshot of the window (PNG): `name` in the screenshot
    /// folder, or a time-stamped file in the export folder.
    pub(super) fn screenshot(&mut self, ctx: &egui::Context, name: Option<&str>) {
        let path = match name {
            Some(n) => self
                .options
                .screenshot_dir
                .clone()
                .unwrap_or_else(|| self.options.export_dir.clone())
                .join(n),
            None => self
                .options
                .export_dir
                .join(format!("gilscope-{}.png", export::timestamp())),
        };
        self.shots_pending += 1;
        export::request_screenshot(ctx, path, self.jobs.sender());
    }

    /// Saves the settings when they changed (at most once a second).
    pub(super) fn remember(&mut self, ctx: &egui::Context) {
        let Some(path) = self.options.settings_file.clone() else {
            return;
        };
        let window = ctx
            .input(|i| i.viewport().inner_rect)
            .filter(|_| !self.presentation)
            .map(|r| [r.width(), r.height()]);
        let last = self.saved.as_ref();
        let now = Settings {
            dark: self.dark,
            workload: self.setup.workload().to_string(),
            modes: self.setup.checked(),
            workers: self.setup.workers(),
            repeat: self.setup.repeat(),
            window_size: window
                .or(last.map(|(s, _)| s.window_size))
                .unwrap_or(self.options.window_size),
        };
        if self.interpreters.is_none()
            || last.is_some_and(|(s, at)| *s == now || at.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        if let Err(e) = now.save(&path) {
            self.status
                .notify(format!("could not remember the settings: {e}"), true);
        }
        self.saved = Some((now, Instant::now()));
    }
}
