//! A small in-app file browser ("Open file…"): folders and the files of
//! the kinds asked for, one click to enter a folder, one to pick a file.
//! Listing a folder is one `read_dir` of at most a few thousand entries,
//! done when the folder changes, never per frame.

use std::path::{Path, PathBuf};

/// What the picked path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A workload file (`.py`).
    Workload,
    /// An image for blur (`.png`, `.ppm`).
    Image,
    /// A run file (`.json`, `.json.gz`) or a sweep folder.
    RunOrSweep,
}

impl Purpose {
    fn title(self) -> &'static str {
        match self {
            Purpose::Workload => "Open a workload file (.py)",
            Purpose::Image => "Open an image to blur (.png, .ppm)",
            Purpose::RunOrSweep => "Open a run file (.json, .json.gz) or a sweep folder",
        }
    }

    fn accepts(self, name: &str) -> bool {
        let n = name.to_lowercase();
        match self {
            Purpose::Workload => n.ends_with(".py"),
            Purpose::Image => n.ends_with(".png") || n.ends_with(".ppm"),
            Purpose::RunOrSweep => n.ends_with(".json") || n.ends_with(".json.gz"),
        }
    }
}

/// An open browser.
#[derive(Debug, Clone)]
pub struct Browser {
    pub purpose: Purpose,
    pub dir: PathBuf,
    entries: Vec<(String, bool)>,
    error: Option<String>,
}

/// What the user did this frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    Picked(PathBuf),
    Cancelled,
}

impl Browser {
    pub fn new(purpose: Purpose, start: Option<&Path>) -> Self {
        let dir = start
            .map(Path::to_path_buf)
            .filter(|d| d.is_dir())
            .or_else(|| std::env::current_dir().ok())
            .or_else(dirs::home_dir)
            .unwrap_or_else(|| PathBuf::from("/"));
        let mut b = Self {
            purpose,
            dir,
            entries: Vec::new(),
            error: None,
        };
        b.list();
        b
    }

    fn list(&mut self) {
        self.entries.clear();
        self.error = None;
        match std::fs::read_dir(&self.dir) {
            Ok(rd) => {
                for e in rd.flatten().take(5_000) {
                    let name = e.file_name().to_string_lossy().to_string();
                    if name.starts_with('.') {
                        continue;
                    }
                    let is_dir = e.path().is_dir();
                    if is_dir || self.purpose.accepts(&name) {
                        self.entries.push((name, is_dir));
                    }
                }
                self.entries.sort_by(|a, b| {
                    b.1.cmp(&a.1)
                        .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
                });
            }
            Err(e) => self.error = Some(format!("{}: {e}", self.dir.display())),
        }
    }

    fn enter(&mut self, dir: PathBuf) {
        self.dir = dir;
        self.list();
    }

    /// Draws the browser window; `Some` once the user picked or cancelled.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<Choice> {
        let mut choice = None;
        let mut open = true;
        egui::Window::new(self.purpose.title())
            .id(egui::Id::unique("gilscope-browser"))
            .open(&mut open)
            .collapsible(false)
            .default_size([560.0, 420.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui.button("Up").clicked()
                        && let Some(parent) = self.dir.parent()
                    {
                        let parent = parent.to_path_buf();
                        self.enter(parent);
                    }
                    if ui.button("Home").clicked()
                        && let Some(home) = dirs::home_dir()
                    {
                        self.enter(home);
                    }
                    ui.label(self.dir.display().to_string());
                });
                if self.purpose == Purpose::RunOrSweep
                    && ui.button("Open this folder (a sweep)").clicked()
                {
                    choice = Some(Choice::Picked(self.dir.clone()));
                }
                if let Some(e) = &self.error {
                    ui.colored_label(super::kit::style::bad(), e);
                }
                ui.separator();
                let mut enter = None;
                egui::ScrollArea::vertical()
                    .max_height(320.0)
                    .show(ui, |ui| {
                        if self.entries.is_empty() && self.error.is_none() {
                            ui.label("(no folders or matching files here)");
                        }
                        for (name, is_dir) in &self.entries {
                            let label = if *is_dir {
                                format!("{name}/")
                            } else {
                                name.clone()
                            };
                            if ui.selectable_label(false, label).clicked() {
                                let path = self.dir.join(name);
                                if *is_dir {
                                    enter = Some(path);
                                } else {
                                    choice = Some(Choice::Picked(path));
                                }
                            }
                        }
                    });
                if let Some(dir) = enter {
                    self.enter(dir);
                }
                ui.separator();
                if ui.button("Cancel").clicked() {
                    choice = Some(Choice::Cancelled);
                }
            });
        if !open {
            choice = Some(Choice::Cancelled);
        }
        choice
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_folders_first_then_matching_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for f in ["b.py", "a.py", "notes.txt", "x.png", ".hidden.py"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let b = Browser::new(Purpose::Workload, Some(dir.path()));
        let names: Vec<&str> = b.entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["sub", "a.py", "b.py"]);
        let img = Browser::new(Purpose::Image, Some(dir.path()));
        assert_eq!(img.entries.len(), 2, "{:?}", img.entries);
    }
}
