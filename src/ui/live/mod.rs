//! The live view of one run: per-core utilisation, thread-state swimlanes,
//! memory and throughput, stacked on one shared time axis, with the speedup
//! shown large and banners for a re-enabled GIL, a stall (no chunk finished
//! for far longer than chunks take), a failed run or a sampler that fell
//! behind.

use super::action::Action;
use super::context::UiContext;
use super::kit::lanes::Span;
use super::kit::plot::PlotSpec;
use super::kit::run_plots::*;
use super::kit::textures::LaneTextures;

mod header;
use super::kit::human;
use super::kit::style::speedup_color;
use super::runs::run_label;
use super::runs::{RunEntry, RunId};
use crate::run::RunEnd;
use crate::store::RunRecord;
use crate::store::metrics::items_per_sec;
use crate::store::verdict;
use egui::{Color32, RichText};
pub use header::{SELF_CPU_WARN, diagnostics};
use header::{banners_ui, header_ui};

/// The live view: the shown run's four plots. Owns the lane textures of the
/// runs it showed and whether the log of a failed run is open.
pub struct LiveView {
    textures: LaneTextures,
    /// The workload's picture (blur, mandelbrot).
    picture: super::picture::PictureView,
    show_log: bool,
}

impl Default for LiveView {
    fn default() -> Self {
        Self {
            textures: LaneTextures::new("live"),
            picture: super::picture::PictureView::new(),
            show_log: false,
        }
    }
}

impl LiveView {
    /// Forgets the cached lane textures (`everything`) or marks them stale
    /// so the next frame redraws them (the benchmark's worst case).
    pub fn drop_caches(&mut self, everything: bool) {
        self.textures.mark_stale();
        if everything {
            self.textures.clear();
        }
    }

    /// Open the log of a failed run (the app does when one fails).
    pub fn open_log(&mut self) {
        self.show_log = true;
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &UiContext) -> Option<Action> {
        self.textures.retain(|id| cx.runs.contains(id));
        let Some(entry) = cx.shown.and_then(|id| cx.runs.get(id)) else {
            empty_ui(cx, ui);
            return None;
        };
        header_ui(cx, entry, ui);
        banners_ui(cx, entry, &mut self.show_log, ui);
        let run = &entry.record;
        let Some(window) = Span::whole(run) else {
            ui.add_space(20.0);
            ui.horizontal(|ui| {
                if entry.is_running() {
                    ui.spinner();
                    ui.label("starting the interpreter…");
                } else {
                    ui.label("This run has no samples.");
                }
            });
            return None;
        };
        if run.picture().is_empty() {
            self.plots_ui(ui, cx, entry, window);
            return None;
        }
        // A picture workload: the plots on the left, the picture (input,
        // and the output filling in) on the right.
        let full = ui.available_rect_before_wrap();
        let pic_w = (full.width() * 0.34).min(full.height() * 0.75).max(120.0);
        let gap = 12.0;
        let plots =
            egui::Rect::from_min_max(full.min, egui::pos2(full.max.x - pic_w - gap, full.max.y));
        let picture =
            egui::Rect::from_min_max(egui::pos2(full.max.x - pic_w, full.min.y), full.max);
        let mut left = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(plots)
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        self.plots_ui(&mut left, cx, entry, window);
        let mut right = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(picture)
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        self.picture.retain(|id| cx.runs.contains(id));
        self.picture
            .ui(&mut right, entry.id, run, None, "live", true);
        ui.allocate_rect(full, egui::Sense::hover());
        None
    }

    /// The four plots of `entry` over `window`.
    fn plots_ui(&mut self, ui: &mut egui::Ui, cx: &UiContext, entry: &RunEntry, window: Span) {
        let run = &entry.record;
        let dark = cx.dark;
        let ctx = ui.ctx().clone();
        let pics = self.textures.get(&ctx, entry.id, run, dark);
        let id = format!("live{}", entry.id.number());
        let spec = PlotSpec {
            id: &id,
            run,
            window,
            until_s: None,
            dark,
            // On stage the titles say what the lines are: legends inside
            // short plots would cover them.
            legend: !cx.presentation,
            finish_s: None,
        };
        // Four titles of one text line each, plus spacing, come off the top.
        let title_h =
            ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y * 2.0;
        // A service has five plots (requests and latency for throughput).
        let titles = if run.service().is_empty() { 4.0 } else { 5.0 };
        let plots_h = (ui.available_height() - titles * title_h - 10.0).max(240.0);
        let cores = run.cores().len();
        let lanes_n = pics.lanes.as_ref().map_or(1, |(_, p)| p.rows.len());
        // Cores and lanes get more room with more rows (up to a limit);
        // memory and throughput share the rest.
        let h_core = if cores > MAX_CORE_LINES {
            (cores as f32 * 6.0).clamp(plots_h * 0.22, plots_h * 0.34)
        } else {
            plots_h * 0.22
        };
        let h_lanes = lanes_height(ui, lanes_n).clamp(plots_h * 0.26, plots_h * 0.5);
        let rest = ((plots_h - h_core - h_lanes) / 2.0).max(60.0);
        core_plot(ui, &spec, pics.heat.as_ref(), h_core);
        lane_plot(ui, &spec, pics.lanes.as_ref(), h_lanes);
        if !run.service().is_empty() {
            // A service: requests (offered vs answered) and latency take
            // the place of throughput.
            memory_plot(ui, &spec, rest * 0.6);
            requests_plot(ui, &spec, rest * 0.7);
            latency_plot(ui, &spec, rest * 0.7);
        } else if run.spec().is_workload() {
            memory_plot(ui, &spec, rest);
            throughput_plot(ui, &spec, rest);
        } else {
            // No chunks, no throughput: memory takes its room.
            memory_plot(ui, &spec, rest * 2.0 + 4.0);
        }
    }
}

fn empty_ui(cx: &UiContext, ui: &mut egui::Ui) {
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() * 0.3);
        ui.heading("Pick a workload and modes, then press Run (or Space).");
        ui.label("Sweep runs each mode with 1, 2, … workers; Compare shows them side by side.");
        if cx.interpreters.is_none() {
            ui.add_space(10.0);
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("looking for Python interpreters…");
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::header::stall_banner_ui;
    use super::*;
    use crate::interp::Mode;
    use crate::store::fixtures::{MIB, MS, T0, interpreter, memory, sample, spec};
    use crate::ui::kit::plot::{GAP_S, envelope, smaps_gap_s};

    #[test]
    fn sparse_pss_stays_one_line_but_a_missed_rss_reading_breaks_it() {
        let interp = interpreter("3.13", "3.13.5", false);
        let mut run = RunRecord::new(spec(&interp, Mode::Gil, 1), interp);
        // 6 s at 50 Hz; PSS every 2 s (a run whose memory stays put); RSS
        // not read for 1 s from 3 s on.
        for i in 0..300u64 {
            let t_ms = i * 20;
            if (3000..4000).contains(&t_ms) {
                continue;
            }
            let mut s = sample(T0 + t_ms * MS);
            s.memory = Some(memory(20 * MIB, (i % 100 == 0).then_some(10 * MIB)));
            run.eat_sample(s);
        }
        let plot = PlotSpec {
            id: "test",
            run: &run,
            window: Span::whole(&run).unwrap(),
            until_s: None,
            dark: true,
            legend: true,
            finish_s: None,
        };
        let cols = run.run_columns();
        let pss = envelope(&plot, cols.pss_bytes, 1.0, 400, smaps_gap_s());
        assert_eq!(pss.len(), 1, "{pss:?}");
        assert_eq!(pss[0].len(), 3);
        // With the every-sample bound each reading would stand alone.
        assert_eq!(envelope(&plot, cols.pss_bytes, 1.0, 400, GAP_S).len(), 3);
        let rss = envelope(&plot, cols.rss_bytes, 1.0, 400, GAP_S);
        assert_eq!(rss.len(), 2);
    }

    #[test]
    fn a_stalled_run_gets_a_banner_in_words() {
        use crate::run::protocol::{ChunkDone, Event, SetupDone};
        use crate::store::fixtures::{completed, hello, result};
        let interp = interpreter("3.13", "3.13.5", false);
        let mut run = RunRecord::new(spec(&interp, Mode::Gil, 1), interp);
        run.eat_event(hello(T0, Mode::Gil, 1));
        run.eat_event(Event::SetupDone(SetupDone {
            t_ns: T0 + 10 * MS,
            chunks: 100,
            items_total: None,
        }));
        for k in 0..50 {
            let start = T0 + 20 * MS + k * MS;
            run.eat_event(Event::ChunkDone(ChunkDone::single(
                0,
                k,
                1,
                start,
                start + MS,
            )));
        }
        let mut outcome = completed(result(0, 0, 0.0, ""), 9.0, 0.1);
        outcome.end = RunEnd::TimedOut { after_secs: 9.0 };
        outcome.ended_ns = Some(T0 + 70 * MS + 8_000 * MS);
        run.eat_message(crate::run::RunMessage::Finished(Box::new(outcome)));
        use egui_kittest::kittest::Queryable;
        let mut h = egui_kittest::Harness::new_ui(|ui| stall_banner_ui(ui, &run, false));
        h.run();
        assert!(
            h.query_by_label_contains(
                "This run stalled: no progress for 8.0 s (chunks usually take 1.0 ms)"
            )
            .is_some()
        );
        assert!(
            h.query_by_label_contains("bound 2.0 s = max(10 × median chunk, 2 s)")
                .is_some()
        );
    }
}
