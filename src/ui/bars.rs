//! The top bar (views, File menu, theme, presentation, screenshot) and
//! the one bar presentation mode keeps. They return actions.

use super::action::{Action, View};
use super::context::UiContext;
use super::export;

/// The top bar: views, File menu, theme, presentation, screenshot.
pub fn top_bar_ui(
    ui: &mut egui::Ui,
    cx: &UiContext,
    view: View,
    open_path: &mut String,
) -> Option<Action> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.heading(egui::RichText::new("gilscope").strong());
        ui.separator();
        action = view_switch_ui(ui, view);
        ui.separator();
        ui.menu_button("File", |ui| {
            if let Some(a) = export::file_menu_ui(ui, cx, open_path) {
                action = Some(a);
            }
        });
        ui.separator();
        if ui
            .button(if cx.dark { "Light theme" } else { "Dark theme" })
            .clicked()
        {
            action = Some(Action::SetDark(!cx.dark));
        }
        if ui
            .button("Attach…")
            .on_hover_text("Watch a Python process gilscope did not start")
            .clicked()
        {
            action = Some(Action::ListProcesses);
        }
        if ui.button("Presentation (F11)").clicked() {
            action = Some(Action::SetPresentation(true));
        }
        if ui.button("Screenshot (S)").clicked() {
            action = Some(Action::Screenshot(None));
        }
    });
    action
}

/// Live | Compare.
fn view_switch_ui(ui: &mut egui::Ui, view: View) -> Option<Action> {
    let mut chosen = view;
    ui.selectable_value(&mut chosen, View::Live, "Live");
    ui.selectable_value(&mut chosen, View::Compare, "Compare");
    (chosen != view).then_some(Action::SetView(chosen))
}

/// The one bar presentation mode keeps: views, Run/Stop, the batch's
/// progress, the keys, exit.
pub fn presentation_bar_ui(ui: &mut egui::Ui, cx: &UiContext, view: View) -> Option<Action> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.heading(egui::RichText::new("gilscope").strong());
        action = view_switch_ui(ui, view);
        if let Some(p) = cx.progress {
            ui.add(
                egui::ProgressBar::new(p.finished as f32 / p.total.max(1) as f32)
                    .desired_width(260.0)
                    .text(format!(
                        "run {} of {}",
                        (p.finished + 1).min(p.total),
                        p.total
                    )),
            );
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Exit (Esc)").clicked() {
                action = Some(Action::SetPresentation(false));
            }
            let label = if cx.busy {
                "■ Stop (Space)"
            } else {
                "▶ Run (Space)"
            };
            if ui.button(label).clicked() {
                action = Some(Action::RunOrStop);
            }
            ui.small("Tab: view · R: race · S: screenshot");
        });
    });
    action
}
