//! *Attach…*: the running Python processes this user may read, each with
//! its version and build as read from the process itself, and a pid field
//! for any other; choosing one watches it live like a run (read only: the
//! process is never stopped or slowed beyond the sampling).

use super::action::Action;
use crate::run::attach::Target;

#[derive(Default)]
pub struct AttachPanel {
    open: bool,
    /// The processes found by the last listing (`None`: listing).
    processes: Option<Vec<Target>>,
    pid_text: String,
}

impl AttachPanel {
    /// Opens the panel on a fresh listing (its processes arrive later).
    pub fn open_listing(&mut self) {
        self.open = true;
        self.processes = None;
    }

    /// The listing arrived.
    pub fn on_processes(&mut self, list: Vec<Target>) {
        self.processes = Some(list);
    }

    /// The processes of the last listing (`None` while listing).
    pub fn processes(&self) -> Option<&[Target]> {
        self.processes.as_deref()
    }

    /// A window over the app; returns what the user chose.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<Action> {
        if !self.open {
            return None;
        }
        let mut action = None;
        let mut open = true;
        egui::Window::new("Attach to a running Python process")
            .open(&mut open)
            .collapsible(false)
            .default_width(760.0)
            .show(ctx, |ui| {
                ui.label("Watch a process gilscope did not start: every thread with its GIL state (CPython 3.13+), per-core use and memory, until it exits or you stop. Read only.");
                ui.horizontal(|ui| {
                    if ui.button("Refresh").clicked() {
                        action = Some(Action::ListProcesses);
                    }
                    let l = ui.label("pid");
                    ui.add(egui::TextEdit::singleline(&mut self.pid_text).desired_width(90.0))
                        .labelled_by(l.id);
                    if ui.button("Attach to pid").clicked() {
                        action = Some(match self.pid_text.trim().parse::<u32>() {
                            Ok(pid) => Action::Attach(pid),
                            Err(_) => Action::error(format!(
                                "'{}' is not a process id (a number, as `pgrep -a python` shows)",
                                self.pid_text.trim()
                            )),
                        });
                    }
                });
                ui.separator();
                match &self.processes {
                    None => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("looking for Python processes…");
                        });
                    }
                    Some(list) if list.is_empty() => {
                        ui.label("No Python process that this user may read is running.");
                    }
                    Some(list) => {
                        egui::ScrollArea::vertical().max_height(420.0).show(ui, |ui| {
                            egui::Grid::new("processes").striped(true).show(ui, |ui| {
                                for h in ["pid", "where", "name", "Python", "command", ""] {
                                    ui.label(egui::RichText::new(h).strong());
                                }
                                ui.end_row();
                                for t in list {
                                    ui.label(t.pid.to_string());
                                    ui.label(t.place());
                                    ui.label(&t.name);
                                    match (&t.python, &t.python_unread) {
                                        (Some((version, ft)), _) => ui.label(format!(
                                            "{version}{}",
                                            if *ft { " free-threaded" } else { "" }
                                        )),
                                        (None, why) => {
                                            let why = why.clone().unwrap_or_default();
                                            ui.add(
                                                egui::Label::new(format!("no GIL view: {why}"))
                                                    .truncate(),
                                            )
                                            .on_hover_text(why)
                                        }
                                    };
                                    ui.add(egui::Label::new(&t.cmdline).truncate())
                                        .on_hover_text(&t.cmdline);
                                    if ui.button("Attach").clicked() {
                                        action = Some(Action::Attach(t.pid));
                                    }
                                    ui.end_row();
                                }
                            });
                        });
                    }
                }
            });
        if !open {
            self.open = false;
        }
        if matches!(action, Some(Action::Attach(_))) {
            self.open = false;
        }
        action
    }
}
