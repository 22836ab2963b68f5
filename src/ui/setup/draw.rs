//! Drawing the setup panel: the interpreters (and installing CPython),
//! the workload picker and its parameters, modes and workers, and the
//! Run / Stop / Sweep buttons. Returns what the user asked for.

use super::*;

impl SetupPanel {
    /// Draws the panel; returns what the user asked for.
    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &UiContext) -> Option<Action> {
        ui.add_space(4.0);
        let mut action = interpreters_ui(ui, cx);
        ui.separator();
        action = action.or(self.workload_ui(ui));
        ui.separator();
        self.modes_and_workers_ui(ui, cx);
        ui.separator();
        action.or(self.actions_ui(ui, cx))
    }
}

fn interpreters_ui(ui: &mut egui::Ui, cx: &UiContext) -> Option<Action> {
    let mut action = None;
    let found = cx.interpreters;
    let title = match &found {
        None => "Interpreters (looking…)".to_string(),
        Some(f) => format!("Interpreters ({} found)", f.len()),
    };
    egui::CollapsingHeader::new(title)
        .default_open(false)
        .show(ui, |ui| match found {
            None => {
                ui.spinner();
            }
            Some(found) => {
                egui::Grid::new("interps").striped(true).show(ui, |ui| {
                    for i in found {
                        ui.label(&i.name);
                        match i.info() {
                            Some(info) => {
                                ui.label(format!(
                                    "{}{}",
                                    info.version,
                                    if info.free_threaded {
                                        " free-threaded"
                                    } else {
                                        ""
                                    }
                                ));
                                let modes: Vec<&str> =
                                    i.modes().iter().map(|m| m.as_str()).collect();
                                ui.small(modes.join(" "));
                            }
                            None => {
                                ui.label("broken");
                                ui.small(match &i.status {
                                    crate::interp::Status::Broken { reason } => reason.as_str(),
                                    _ => "",
                                });
                            }
                        }
                        ui.end_row();
                    }
                });
                if ui.small_button("Look again").clicked() {
                    action = Some(Action::Rediscover);
                }
            }
        });
    let has_ft = found.is_some_and(|f| f.iter().any(|i| i.supports(Mode::Ft)));
    if found.is_some() && !has_ft {
        ui.label(egui::RichText::new("No free-threaded CPython found.").strong());
        if cx.install.running {
            ui.add(egui::ProgressBar::new(cx.install.fraction).text(cx.install.line.clone()));
            if let Some(log) = &cx.install.log {
                ui.small(format!("log: {}", log.display()));
            }
        } else if ui
            .button("Install CPython 3.13 + 3.13t")
            .on_hover_text(
                "With uv on PATH: `uv python install 3.13 3.13t` (seconds); else builds both from source into gilscope's data folder (about 10 minutes on 2 cores)",
            )
            .clicked()
        {
            action = Some(Action::Install);
        }
    }
    action
}

impl SetupPanel {
    fn workload_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let title = ui.label(egui::RichText::new("Workload").strong());
        let names: Vec<String> = match &self.catalog {
            Some(Ok(list)) => list.iter().map(|w| w.name.clone()).collect(),
            _ => vec![self.workload.clone()],
        };
        let before = self.workload.clone();
        egui::ComboBox::from_id_salt("workload")
            .selected_text(self.workload.clone())
            .show_ui(ui, |ui| {
                for name in names
                    .iter()
                    .chain([OWN_FILE.to_string(), PLAIN_SCRIPT.to_string()].iter())
                {
                    ui.selectable_value(&mut self.workload, name.clone(), name);
                }
            })
            .response
            .labelled_by(title.id);
        if self.workload != before {
            if self.workload == OWN_FILE || self.workload == PLAIN_SCRIPT {
                self.defaults.clear();
                self.params.clear();
            } else {
                self.load_defaults();
            }
        }
        match &self.catalog {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.small("asking the harness for its workloads…");
                });
            }
            Some(Err(e)) => {
                ui.colored_label(crate::ui::kit::style::bad(), e);
            }
            Some(Ok(_)) => {
                if let Some(info) = self.info() {
                    ui.small(&info.description);
                    if let Some(err) = &info.error {
                        ui.colored_label(crate::ui::kit::style::bad(), err);
                    }
                }
            }
        }
        if self.workload == PLAIN_SCRIPT {
            let mut browse = None;
            ui.horizontal(|ui| {
                let l = ui.label("Script");
                ui.add(
                    egui::TextEdit::singleline(&mut self.file)
                        .hint_text("/path/to/your_script.py")
                        .desired_width(170.0),
                )
                .labelled_by(l.id);
                if ui.button("Open file…").clicked() {
                    browse = Some(Action::Browse(crate::ui::browse::Purpose::Workload));
                }
            });
            let l = ui.label("Arguments");
            ui.text_edit_singleline(&mut self.script_args)
                .labelled_by(l.id);
            ui.small("Runs unchanged, as `python SCRIPT ARGS` in this folder, on each checked build: gil (default build), ft and ft-gil (free-threaded, GIL off / forced on). Its threads keep their Python names. subinterp and process do not apply: the script decides that itself.");
            if let Err(e) = self.workload_name().and_then(|_| self.run_params()) {
                ui.colored_label(crate::ui::kit::style::bad(), e);
            }
            return browse;
        }
        if self.workload == OWN_FILE {
            let mut browse = None;
            ui.horizontal(|ui| {
                let l = ui.label("File");
                ui.add(
                    egui::TextEdit::singleline(&mut self.file)
                        .hint_text("/path/to/workload.py")
                        .desired_width(170.0),
                )
                .labelled_by(l.id);
                if ui.button("Open file…").clicked() {
                    browse = Some(Action::Browse(crate::ui::browse::Purpose::Workload));
                }
            });
            ui.small("Type a path, use Open file…, or drop a .py file on the window. It defines PARAMS, prepare(params) → chunks, run_chunk(state, chunk) → (items, partial) and finish(params, partials) → checksum (see workloads/PROTOCOL.md).");
            let l = ui.label("Parameters (key=value, comma-separated)");
            ui.text_edit_singleline(&mut self.extra_params)
                .labelled_by(l.id);
            if let Err(e) = self.workload_name() {
                ui.colored_label(crate::ui::kit::style::bad(), e);
            }
            return browse;
        }
        let mut pick_image = false;
        if !self.params.is_empty() {
            egui::Grid::new("params").num_columns(2).show(ui, |ui| {
                for (key, value) in &mut self.params {
                    let l = ui.label(key.as_str());
                    let hint = if key == "image" {
                        "PNG/PPM path (or drop one)"
                    } else {
                        ""
                    };
                    let is_image = key == "image";
                    ui.horizontal(|ui| {
                        ui.add(
                            egui::TextEdit::singleline(value)
                                .hint_text(hint)
                                .desired_width(if is_image { 130.0 } else { 170.0 }),
                        )
                        .labelled_by(l.id);
                        if is_image && ui.button("Open…").clicked() {
                            pick_image = true;
                        }
                    });
                    ui.end_row();
                }
            });
            if self.params != self.defaults && ui.small_button("Reset to defaults").clicked() {
                self.params = self.defaults.clone();
            }
        }
        pick_image.then_some(Action::Browse(crate::ui::browse::Purpose::Image))
    }

    fn modes_and_workers_ui(&mut self, ui: &mut egui::Ui, cx: &UiContext) {
        ui.label(egui::RichText::new("Modes").strong());
        let found = cx.interpreters.unwrap_or_default();
        for (mode, on) in &mut self.modes {
            let pick = pick_interpreter(found, *mode);
            ui.horizontal(|ui| {
                let text = egui::RichText::new(mode.as_str())
                    .color(mode_color(*mode))
                    .strong();
                ui.add_enabled(pick.is_some(), egui::Checkbox::new(on, text));
                match pick {
                    Some(i) => ui.small(format!("on {}", i.name)),
                    None => ui.small("no interpreter"),
                };
            });
        }
        ui.horizontal(|ui| {
            let l = ui.label("Workers");
            ui.add(egui::DragValue::new(&mut self.workers).range(1..=512))
                .labelled_by(l.id);
            let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
            ui.small(format!("({cores} cores here)"));
        });
        ui.horizontal(|ui| {
        let l = ui.label("Repeats");
        ui.add(egui::DragValue::new(&mut self.repeat).range(1..=50))
            .labelled_by(l.id)
            .on_hover_text(
                "Runs of each (mode, workers), repeats outermost; Compare shows their median and spread (min–max, IQR) and error bars",
            );
    });
        ui.horizontal(|ui| {
            let l = ui.label("Timeout");
            ui.add(
                egui::DragValue::new(&mut self.timeout_s)
                    .range(1..=86_400)
                    .suffix(" s"),
            )
            .labelled_by(l.id);
        });
    }

    fn actions_ui(&self, ui: &mut egui::Ui, cx: &UiContext) -> Option<Action> {
        let mut action = None;
        ui.horizontal(|ui| {
            if cx.busy {
                if ui.button(egui::RichText::new("■ Stop").strong()).clicked() {
                    action = Some(Action::Stop);
                }
            } else {
                if ui
                    .button(egui::RichText::new("▶ Run").strong())
                    .on_hover_text(
                        "Each checked mode with this many workers, Repeats times (Space)",
                    )
                    .clicked()
                {
                    action = Some(
                        self.run_batch(cx)
                            .map_or_else(Action::error, |b| Action::Start(Box::new(b))),
                    );
                }
                if ui
                    .button("Sweep")
                    .on_hover_text("Each checked mode with 1, 2, … workers, one run after another")
                    .clicked()
                {
                    action = Some(
                        self.sweep_batch(cx)
                            .map_or_else(Action::error, |b| Action::Start(Box::new(b))),
                    );
                }
            }
        });
        if let Some(p) = cx.progress {
            let done = p.finished;
            let fraction = done as f32 / p.total.max(1) as f32;
            let elapsed = p.started.elapsed().as_secs_f64();
            let eta = if done > 0 {
                format!(
                    ", about {:.0} s left",
                    elapsed / done as f64 * p.total.saturating_sub(done) as f64
                )
            } else {
                String::new()
            };
            ui.add(egui::ProgressBar::new(fraction).text(format!(
                "run {} of {}{eta}",
                (done + 1).min(p.total),
                p.total
            )));
        }
        action
    }
}
