//! The status bar: the latest notice (all recent ones on hover), how long
//! the UI takes per frame, gilscope's own CPU use, and the low-refresh
//! switch. Owns the notices and those measurements.

use super::context::UiContext;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A notice in the status bar.
#[derive(Debug, Clone)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    pub at: Instant,
}

#[derive(Default)]
pub struct StatusBar {
    notices: Vec<Notice>,
    /// Frame time of the UI work of the last frames.
    frame_ms: VecDeque<f32>,
    /// gilscope's own CPU use (all its threads: UI, rendering, samplers),
    /// in cores, over the last second or so.
    self_cpu: Option<f64>,
    self_cpu_mark: Option<(Instant, f64)>,
    /// Repaint at 1 Hz instead of 10 Hz while a run is measured (less CPU
    /// taken from the workload, e.g. with software rendering on a small
    /// machine).
    low_refresh: bool,
    /// Show the quiet progress view while runs are measured (Q toggles).
    quiet: bool,
}

impl StatusBar {
    pub fn new(low_refresh: bool, quiet: bool) -> Self {
        Self {
            low_refresh,
            quiet,
            ..Self::default()
        }
    }

    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notices.push(Notice {
            text: text.into(),
            error,
            at: Instant::now(),
        });
        if self.notices.len() > 50 {
            self.notices.remove(0);
        }
    }

    /// Repainting at 1 Hz while runs are measured.
    pub fn low_refresh(&self) -> bool {
        self.low_refresh
    }

    /// Software rendering was found: low refresh goes on.
    pub fn set_low_refresh(&mut self, on: bool) {
        self.low_refresh = on;
    }

    /// The quiet progress view is shown while runs are measured.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Q: the quiet progress view on or off; says which.
    pub fn set_quiet(&mut self, on: bool) {
        self.quiet = on;
        self.notify(
            if self.quiet {
                "measuring quietly: a progress view while runs go (Q: watch live)"
            } else {
                "watching live while runs go (Q: measure quietly)"
            },
            false,
        );
    }

    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    pub fn self_cpu(&self) -> Option<f64> {
        self.self_cpu
    }

    /// Called once per frame with the time the frame's UI work took.
    pub fn end_frame(&mut self, took: Duration) {
        if self.frame_ms.len() >= 120 {
            self.frame_ms.pop_front();
        }
        self.frame_ms.push_back(took.as_secs_f32() * 1e3);
        let Some(cpu) = crate::child::self_cpu_secs() else {
            return;
        };
        let now = Instant::now();
        match self.self_cpu_mark {
            Some((at, before)) if now.duration_since(at) >= Duration::from_secs(1) => {
                self.self_cpu = Some((cpu - before) / now.duration_since(at).as_secs_f64());
                self.self_cpu_mark = Some((now, cpu));
            }
            Some(_) => {}
            None => self.self_cpu_mark = Some((now, cpu)),
        }
    }

    /// The bar. On stage it is one small line: the latest notice and the
    /// shown run's flags (the banners the live view leaves out there).
    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &UiContext) {
        ui.horizontal(|ui| {
            if cx.presentation
                && let Some(flags) = super::live::diagnostics(cx)
            {
                ui.label(egui::RichText::new(flags).color(super::kit::style::flag()));
                ui.separator();
            }
            if let Some(n) = self.notices.last() {
                let color = if n.error {
                    super::kit::style::bad()
                } else {
                    ui.visuals().text_color()
                };
                ui.label(egui::RichText::new(&n.text).color(color))
                    .on_hover_text(
                        self.notices
                            .iter()
                            .rev()
                            .take(12)
                            .map(|n| n.text.clone())
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
            } else {
                ui.label("Ready. Space runs, S takes a screenshot, F11 presents.");
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let mut sorted: Vec<f32> = self.frame_ms.iter().copied().collect();
                sorted.sort_by(f32::total_cmp);
                if let Some(median) = sorted.get(sorted.len() / 2) {
                    ui.small(format!("UI {median:.1} ms/frame"));
                }
                if let Some(cores) = self.self_cpu {
                    let machine = std::thread::available_parallelism().map_or(1, |n| n.get());
                    let text = format!("gilscope itself: {:.0} % of a core ·", cores * 100.0);
                    // Flagged (not a banner: the plots never move) when
                    // the window takes a real share of a small machine.
                    let flagged = cx.busy && cores > super::live::SELF_CPU_WARN && machine <= 8;
                    let label = if flagged {
                        ui.label(
                            egui::RichText::new(format!("⚠ {text}"))
                                .small()
                                .color(super::kit::style::flag()),
                        )
                    } else {
                        ui.small(text)
                    };
                    label.on_hover_text(format!("CPU time of gilscope's own threads (window, rendering, sampler) over the last second, on this {machine}-core machine: taken from the cores the workload runs on, and counted as contention in the verdicts. Quiet (Q) and low refresh lower it; `gilscope sweep` measures without a window."));
                }
                ui.checkbox(&mut self.quiet, "quiet")
                    .on_hover_text("While runs are measured, show only a progress view repainted every 2.5 s (Q); the views replay afterwards");
                ui.checkbox(&mut self.low_refresh, "low refresh")
                    .on_hover_text("Repaint once a second instead of 10 times while a run is measured");
            });
        });
    }
}
