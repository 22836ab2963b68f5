//! The quiet progress view: while runs are measured (the demo's default,
//! `--quiet`, Q), the window shows only which run goes and how far, and
//! repaints every 2.5 s — so its own drawing takes almost nothing from
//! the cores it measures. The live view, the race and the compare view
//! replay the recorded runs at full fidelity once they end.

use super::context::UiContext;
use super::runs::run_label;
use egui::RichText;

/// How often the quiet view repaints while runs are measured.
pub const QUIET_REPAINT_MS: u64 = 2500;

/// The view: the running run, the batch's progress, and why it is quiet.
pub fn quiet_ui(ui: &mut egui::Ui, cx: &UiContext) {
    let big = ui.text_style_height(&egui::TextStyle::Heading);
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() * 0.25);
        ui.label(RichText::new("Measuring quietly").size(big * 1.6).strong());
        ui.add_space(big * 0.5);
        for e in cx.runs.iter().filter(|e| e.is_running()) {
            let run = &e.record;
            let chunks = run.chunks_done();
            ui.label(RichText::new(format!("{} · {chunks} chunks done", run_label(run))).size(big));
        }
        if let Some(p) = cx.progress {
            let done = p.finished as f32 / p.total.max(1) as f32;
            ui.add(
                egui::ProgressBar::new(done.min(1.0))
                    .desired_width(ui.available_width() * 0.5)
                    .text(format!(
                        "run {} of {} · {:.0} s",
                        (p.finished + 1).min(p.total),
                        p.total,
                        p.started.elapsed().as_secs_f64()
                    )),
            );
        }
        ui.add_space(big * 0.5);
        ui.label(
            "The window stays still while it measures, so its own drawing does not take the \
             cores it measures. The views replay the recorded runs when they end. \
             Q watches live instead.",
        );
        if let Some(cores) = cx.self_cpu {
            ui.small(format!("gilscope itself: {:.1} % of a core", cores * 100.0));
        }
    });
}
