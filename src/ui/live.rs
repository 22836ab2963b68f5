//! The live view of one run: per-core utilisation, thread-state swimlanes,
//! memory and throughput, stacked on one shared time axis, with the speedup
//! shown large and banners for a re-enabled GIL, a stall (no chunk finished
//! for far longer than chunks take), a failed run or a sampler that fell
//! behind.

use super::action::Action;
use super::context::UiContext;
use super::lanes::{self, Picture, StateColors, Window};
use super::runs::run_label;
use super::runs::{RunEntry, RunId};
use super::style::speedup_color;
use crate::run::RunEnd;
use crate::sampler::SamplerConfig;
use crate::store::metrics::{items_per_sec, throughput};
use crate::store::verdict;
use crate::store::{ColumnId, RunRecord};
use egui::{Color32, RichText, TextureHandle, TextureOptions};
use egui_plot::{HLine, Legend, Line, Plot, PlotImage, PlotPoint, PlotPoints, VLine};
use std::time::{Duration, Instant};

/// Cores drawn as lines up to this many; a heat map beyond.
pub const MAX_CORE_LINES: usize = 8;
/// Swimlanes shown at most.
pub const MAX_LANES: usize = 96;

/// The heat map and swimlane pictures of each run, kept between frames:
/// each frame feeds only the new rows, and the textures are re-uploaded at
/// most every 100 ms while a run grows (and on a theme change).
#[derive(Default)]
pub struct Pictures {
    runs: std::collections::HashMap<RunId, RunPictures>,
    /// Names the textures (the live view and the race keep their own).
    prefix: &'static str,
}

pub struct RunPictures {
    acc: Option<lanes::Accumulator>,
    gil_acc: Option<lanes::Accumulator>,
    pub heat: Option<(TextureHandle, Picture)>,
    pub lanes: Option<(TextureHandle, Picture)>,
    uploaded: Option<(Instant, u64, bool)>,
}

impl Pictures {
    /// Re-draw every picture on its next use (the benchmark's worst case
    /// for a growing run).
    pub fn mark_stale(&mut self) {
        for pics in self.runs.values_mut() {
            pics.uploaded = None;
        }
    }

    pub fn new(prefix: &'static str) -> Self {
        Self {
            runs: Default::default(),
            prefix,
        }
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.runs.clear();
    }

    /// Forget the pictures of runs that are gone.
    pub fn retain(&mut self, keep: impl Fn(RunId) -> bool) {
        self.runs.retain(|id, _| keep(*id));
    }

    /// Brings run `id`'s pictures up to date and returns them.
    pub fn get(
        &mut self,
        ctx: &egui::Context,
        id: RunId,
        run: &RunRecord,
        dark: bool,
    ) -> &RunPictures {
        let prefix = self.prefix;
        let index = id.number();
        let pics = self.runs.entry(id).or_insert(RunPictures {
            acc: None,
            gil_acc: None,
            heat: None,
            lanes: None,
            uploaded: None,
        });
        if pics.acc.is_none()
            && let Some(first) = run.series().first_t_ns()
        {
            pics.acc = Some(lanes::Accumulator::new(first, lanes::FIRST_BUCKET_NS));
        }
        let Some(acc) = &mut pics.acc else {
            return pics;
        };
        acc.feed(run.series(), &lanes::picture_columns(run, MAX_LANES));
        let gil_series = &run.gil().series;
        if pics.gil_acc.is_none()
            && let Some(first) = gil_series.first_t_ns()
        {
            // The GIL reader's rows close 100 ms intervals: start one
            // interval before the first.
            let start = first.saturating_sub(crate::run::gil_feed::INTERVAL_NS);
            pics.gil_acc = Some(
                lanes::Accumulator::new(start, lanes::FIRST_BUCKET_NS)
                    .with_first_span(crate::run::gil_feed::INTERVAL_NS),
            );
        }
        if let Some(g) = &mut pics.gil_acc {
            g.feed(gil_series, &lanes::gil_columns(run, MAX_LANES));
        }
        let rows = acc.rows_read() + pics.gil_acc.as_ref().map_or(0, |g| g.rows_read());
        let stale = match pics.uploaded {
            None => true,
            Some((at, r, d)) => {
                d != dark || (r != rows && at.elapsed() >= Duration::from_millis(100))
            }
        };
        if stale {
            let colors = StateColors::new(dark);
            let mut heat = lanes::core_heat(run, acc, colors);
            let mut lane = lanes::thread_lanes(run, acc, pics.gil_acc.as_ref(), MAX_LANES, colors);
            pics.heat = Some((
                upload(ctx, &format!("{prefix}heat{index}"), &mut heat),
                heat,
            ));
            pics.lanes = Some((
                upload(ctx, &format!("{prefix}lanes{index}"), &mut lane),
                lane,
            ));
            pics.uploaded = Some((Instant::now(), rows, dark));
        }
        pics
    }
}

/// What a frame needs to plot a run (also used by the race view).
pub struct PlotSpec<'a> {
    pub id: &'a str,
    pub run: &'a RunRecord,
    pub window: Window,
    /// Cut everything after this many seconds (race replay).
    pub until_s: Option<f64>,
    pub dark: bool,
    /// Each plot draws its own legend (the race draws one for both).
    pub legend: bool,
    /// A finish line at this many seconds (race).
    pub finish_s: Option<f64>,
}

/// The live view: the shown run's four plots. Owns the pictures of the
/// runs it showed and whether the log of a failed run is open.
pub struct LiveView {
    pub pictures: Pictures,
    /// The workload's picture (blur, mandelbrot).
    pub picture: super::picture::PictureView,
    show_log: bool,
}

impl Default for LiveView {
    fn default() -> Self {
        Self {
            pictures: Pictures::new("live"),
            picture: super::picture::PictureView::new(),
            show_log: false,
        }
    }
}

impl LiveView {
    /// Open the log of a failed run (the app does when one fails).
    pub fn open_log(&mut self) {
        self.show_log = true;
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &UiContext) -> Option<Action> {
        self.pictures.retain(|id| cx.runs.contains(id));
        let Some(entry) = cx.live.and_then(|id| cx.runs.get(id)) else {
            empty_ui(cx, ui);
            return None;
        };
        header_ui(cx, entry, ui);
        banners_ui(cx, entry, &mut self.show_log, ui);
        let run = &entry.record;
        let Some(window) = Window::whole(run) else {
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
    fn plots_ui(&mut self, ui: &mut egui::Ui, cx: &UiContext, entry: &RunEntry, window: Window) {
        let run = &entry.record;
        let dark = cx.dark;
        let ctx = ui.ctx().clone();
        let pics = self.pictures.get(&ctx, entry.id, run, dark);
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

/// Uploads a picture's pixels as a texture (moving them out of `picture`:
/// only its rows and time span are kept).
pub fn upload(ctx: &egui::Context, name: &str, picture: &mut Picture) -> TextureHandle {
    let image = std::mem::take(&mut picture.image);
    ctx.load_texture(name, image, TextureOptions::NEAREST)
}

fn header_ui(cx: &UiContext, entry: &RunEntry, ui: &mut egui::Ui) {
    let run = &entry.record;
    // Computed once per change of the runs (never in the frame).
    let row = cx.model.row(entry.id);
    let flags: Vec<&verdict::Verdict> = row
        .map(|r| r.verdicts.iter().filter(|v| v.kind.is_flag()).collect())
        .unwrap_or_default();
    let workers = run.spec().workers;
    let status = if entry.is_running() {
        format!("running… {} chunks done", run.chunks_done())
    } else {
        run.headline().unwrap_or_else(|| "no outcome".into())
    };
    if cx.presentation {
        // On stage the name gets its own line: the numbers fill the next.
        ui.horizontal_wrapped(|ui| {
            let title = ui.text_style_height(&egui::TextStyle::Heading);
            ui.label(RichText::new(run_label(run)).size(title).strong());
            ui.label(&status);
        });
    }
    ui.horizontal(|ui| {
        // Big numbers never wrap (only inside this row).
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        // The headline numbers: 30 px, 3.5× that on stage.
        let big = if cx.presentation { 105.0 } else { 30.0 };
        let stat = |ui: &mut egui::Ui, text: String, color: Color32, caption: &str| {
            ui.vertical(|ui| {
                ui.label(RichText::new(text).size(big).strong().color(color));
                ui.small(caption);
            });
            ui.add_space(big * 0.6);
        };
        // The run's name and how it stands, beside the numbers (on stage it
        // has a line of its own above them).
        let title_ui = |ui: &mut egui::Ui| {
            if !cx.presentation {
                ui.vertical(|ui| {
                    let title = ui.text_style_height(&egui::TextStyle::Heading);
                    ui.label(RichText::new(run_label(run)).size(title).strong());
                    ui.label(&status);
                });
            }
        };
        if let Some(svc) = run.service().summary() {
            // A service: what its clients saw.
            let text = ui.visuals().strong_text_color();
            stat(
                ui,
                format!("{:.0}", svc.achieved_rps),
                text,
                "requests/s answered",
            );
            stat(
                ui,
                svc.p99_all_ms()
                    .map_or("—".into(), |v| format!("{v:.1} ms")),
                text,
                if svc.closed_loop {
                    crate::loadgen::CLOSED_LOOP_NOTE
                } else {
                    "p99 latency, failures included"
                },
            );
            let failed = svc.failures.connect
                + svc.failures.io
                + svc.failures.status
                + svc.failures.wrong_body
                + svc.failures.timeouts;
            stat(
                ui,
                failed.to_string(),
                if failed > 0 {
                    super::style::bad()
                } else {
                    text
                },
                "errors and timeouts",
            );
            title_ui(ui);
            return;
        }
        if !run.spec().is_workload() {
            // A plain script or an attached process: no workers and no
            // chunks, so no speedup or throughput — its wall time, the
            // cores its threads kept busy and their GIL.
            let text = ui.visuals().strong_text_color();
            let wall = run.outcome().map(|o| o.wall_secs);
            stat(
                ui,
                wall.map_or("—".into(), |w| format!("{w:.2} s")),
                text,
                "wall time",
            );
            let cpu = crate::store::metrics::cpu_use(run);
            stat(
                ui,
                cpu.thread_cores
                    .or(cpu.rusage_cores)
                    .map_or("—".into(), |c| format!("{c:.2}")),
                text,
                "cores busy",
            );
            let wait = crate::store::metrics::busy_threads_gil(run)
                .iter()
                .filter_map(|g| g.wait)
                .fold(None, |m: Option<f64>, w| Some(m.map_or(w, |m| m.max(w))));
            stat(
                ui,
                wait.map_or("—".into(), |w| format!("{:.0} %", w * 100.0)),
                text,
                "most waiting for the GIL",
            );
            title_ui(ui);
            return;
        }
        match row.and_then(|r| r.speedup) {
            Some(s) => stat(
                ui,
                format!("{s:.2}×"),
                speedup_color(s, workers, ui.visuals().strong_text_color()),
                "speedup vs 1 worker",
            ),
            None => stat(
                ui,
                "—".into(),
                Color32::GRAY,
                if entry.is_running() {
                    "speedup: once it ends"
                } else {
                    "speedup: needs a 1-worker run"
                },
            ),
        }
        if let Some(s) = row.and_then(|r| r.speedup_vs_gil_build) {
            stat(
                ui,
                format!("{s:.2}×"),
                speedup_color(s, workers, ui.visuals().strong_text_color()),
                "vs 1 thread, GIL build",
            );
        }
        if !flags.is_empty() {
            // A flagged headline carries its flag beside it, as large.
            let mut kinds: Vec<verdict::VerdictKind> = flags.iter().map(|v| v.kind).collect();
            kinds.sort();
            kinds.dedup();
            let text = kinds.iter().map(|k| k.mark()).collect::<Vec<_>>().join(" ");
            ui.vertical(|ui| {
                ui.label(
                    RichText::new(text)
                        .size(big * 0.8)
                        .strong()
                        .color(super::style::flag()),
                );
                ui.small(
                    flags
                        .iter()
                        .map(|v| v.reason.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                );
            });
            ui.add_space(big * 0.4);
        } else if let Some(one) = row.and_then(|r| {
            r.verdicts
                .iter()
                .find(|v| v.kind == verdict::VerdictKind::OneRun)
        }) {
            ui.vertical(|ui| {
                ui.label(RichText::new("① 1 run").size(big * 0.5).strong());
                ui.small(&one.reason);
            });
            ui.add_space(big * 0.4);
        }
        let text = ui.visuals().strong_text_color();
        stat(
            ui,
            items_per_sec(run).map_or("—".into(), human),
            text,
            &format!("{}/s", run.unit()),
        );
        title_ui(ui);
    });
    ui.separator();
}

/// What else ran during the run (other processes, gilscope itself) and
/// its verdicts, in one line each: flagged numbers are marked, never
/// hidden.
fn what_else_ui(cx: &UiContext, id: RunId, run: &RunRecord, ui: &mut egui::Ui) {
    let text = match run.what_else() {
        Ok(load) => format!("What else ran: {}", load.line()),
        Err(why) => format!("What else ran: not measured yet ({why})"),
    };
    ui.small(text);
    let own;
    let verdicts: &[verdict::Verdict] = match cx.model.row(id).filter(|_| run.is_finished()) {
        Some(row) => &row.verdicts,
        None => {
            own = crate::store::service_verdict::run_verdicts(run);
            &own
        }
    };
    for v in verdicts {
        let line = RichText::new(format!("{}: {}", v.kind.mark(), v.reason));
        ui.label(if v.kind.is_flag() {
            line.color(super::style::flag())
        } else {
            line.weak()
        });
    }
}

/// gilscope's own CPU use above this (in cores) during a run is flagged in
/// the status bar on machines with few cores.
pub const SELF_CPU_WARN: f64 = 0.25;

/// The shown run's diagnostics in one short line (stage mode's status
/// line): its verdicts' marks, or that nothing was flagged.
pub fn diagnostics(cx: &UiContext) -> Option<String> {
    let id = cx.live?;
    let run = &cx.runs.get(id)?.record;
    let own;
    let verdicts: &[verdict::Verdict] = match cx.model.row(id).filter(|_| run.is_finished()) {
        Some(row) => &row.verdicts,
        None => {
            own = crate::store::service_verdict::run_verdicts(run);
            &own
        }
    };
    let mut marks: Vec<String> = verdict::kinds(verdicts)
        .iter()
        .map(|k| k.mark().to_string())
        .collect();
    if let Some(s) = run.outcome().and_then(|o| o.sampler.as_ref())
        && s.missed > 0
    {
        marks.push(format!("sampler missed {} ticks", s.missed));
    }
    (!marks.is_empty()).then(|| marks.join(" · "))
}

/// The height that names every one of `rows` lanes: a lane's name needs a
/// line of text (on stage, 24 px and more) and some air, or `row_axis`
/// names only every other lane; the time axis takes a line below.
pub fn lanes_height(ui: &egui::Ui, rows: usize) -> f32 {
    let text_h = ui.text_style_height(&egui::TextStyle::Body);
    rows as f32 * (text_h * 1.2).max(16.0) + text_h + 8.0
}

/// The banners under the headline. gilscope's own CPU use is in the status
/// bar (it never shifts the plots); on stage, the what-else line and the
/// verdicts go to the status line too ([`diagnostics`]).
fn banners_ui(cx: &UiContext, entry: &RunEntry, show_log: &mut bool, ui: &mut egui::Ui) {
    let running = entry.is_running();
    let run = &entry.record;
    let red = super::style::bad();
    stall_banner_ui(ui, run, running);
    if !cx.presentation {
        what_else_ui(cx, entry.id, run, ui);
    }
    for change in run.gil_changes() {
        if change.enabled {
            let t = (change.t_ns as f64 - run.t0_ns().unwrap_or(change.t_ns) as f64) / 1e9;
            egui::Frame::new()
                .fill(Color32::from_rgb(0x8a, 0x1c, 0x1c))
                .inner_margin(8.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.label(
                        RichText::new(format!(
                            "The GIL was re-enabled at {t:.2} s{}",
                            change
                                .module
                                .as_ref()
                                .map(|m| format!(" by importing {m}"))
                                .unwrap_or_default()
                        ))
                        .color(Color32::WHITE)
                        .strong(),
                    );
                    // On stage the headline says it; CPython's own words
                    // would take two lines from the plots.
                    if let Some(w) = change.warning.as_ref().filter(|_| !cx.presentation) {
                        ui.label(RichText::new(w).color(Color32::WHITE).small());
                    }
                });
        }
    }
    if let Some(outcome) = run.outcome() {
        if matches!(outcome.end, RunEnd::Stopped) {
            // The user's choice: said plainly, not as a failure.
            ui.label(RichText::new(format!(
                "Stopped by you after {:.1} s, with {} chunk{} done: nothing went wrong, and these numbers cover only that part.",
                outcome.wall_secs,
                run.chunks_done(),
                if run.chunks_done() == 1 { "" } else { "s" }
            )).strong());
        }
        if outcome.is_failure() {
            let traceback = match &outcome.end {
                RunEnd::WorkloadFailed { error } if !error.traceback.is_empty() => {
                    Some(error.traceback.as_str())
                }
                _ => None,
            };
            let has_log = traceback.is_some()
                || run.output().lines().next().is_some()
                || !outcome.stderr_tail.is_empty();
            egui::Frame::new()
                .stroke(egui::Stroke::new(1.5, red))
                .inner_margin(8.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.label(RichText::new(outcome.headline()).color(red).strong());
                    ui.small(&outcome.exit);
                    if !has_log {
                        ui.small("(it wrote no traceback and no output)");
                        return;
                    }
                    egui::CollapsingHeader::new("Traceback and log")
                        .open(Some(*show_log))
                        .show(ui, |ui| {
                            egui::ScrollArea::vertical()
                                .max_height(220.0)
                                .show(ui, |ui| {
                                    if let Some(tb) = traceback {
                                        ui.monospace(tb);
                                    }
                                    for line in run.output().lines() {
                                        ui.monospace(&line.line);
                                    }
                                    for line in &outcome.stderr_tail {
                                        ui.monospace(line);
                                    }
                                });
                        })
                        .header_response
                        .clicked()
                        .then(|| *show_log = !*show_log);
                });
        }
        if let Some(s) = &outcome.sampler
            && s.missed > 0
            && !cx.presentation
        {
            ui.colored_label(
                super::style::flag(),
                format!(
                    "The sampler fell behind: {} ticks missed (latest {:.1} ms late); gaps in the plots are real gaps.",
                    s.missed,
                    s.max_late_ns as f64 / 1e6
                ),
            );
        }
    }
}

/// "STALLED: no progress for 12 s (chunks usually take 1.0 ms)" while a
/// run makes no progress, or after it did (the same rule as the CLI's
/// summary: `store::stall`).
fn stall_banner_ui(ui: &mut egui::Ui, run: &RunRecord, running: bool) {
    let now = running.then(crate::pace::monotonic_ns);
    let Some(s) = crate::store::stall::stall(run, now).filter(|s| s.stalled) else {
        return;
    };
    let amber = super::style::flag();
    let (title, ends) = if running && s.ongoing {
        let ends = match run.spec().timeout {
            Some(t) => format!(
                "The run ends at its timeout ({:.0} s) or when you stop it.",
                t.as_secs_f64()
            ),
            None => "The run has no timeout: stop it to end it.".to_string(),
        };
        (format!("STALLED: {}", s.headline()), ends)
    } else {
        (
            format!(
                "This run stalled: {}, from {:.1} s after setup",
                s.headline(),
                s.gap_from_s
            ),
            String::new(),
        )
    };
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.5, amber))
        .inner_margin(8.0)
        .corner_radius(4.0)
        .show(ui, |ui| {
            ui.label(RichText::new(title).color(amber).strong());
            ui.small(format!("{}. {ends}", s.bound_text()));
        });
}

/// 1234567 → "1.23 M".
pub fn human(v: f64) -> String {
    let (d, unit) = if v >= 1e9 {
        (1e9, " G")
    } else if v >= 1e6 {
        (1e6, " M")
    } else if v >= 1e3 {
        (1e3, " k")
    } else {
        (1.0, "")
    };
    format!("{:.3}{unit}", v / d)
        .replace(".000", "")
        .trim_end_matches(' ')
        .to_string()
}

/// Width of every time plot's y axis, so their time axes line up: room
/// for a lane's name at the current text size.
pub fn y_axis_width(ui: &egui::Ui) -> f32 {
    ui.text_style_height(&egui::TextStyle::Body) * 9.0
}

/// "1.5 s": every time axis says its unit.
fn seconds_axis(mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    let v = mark.value;
    if v < 0.0 && v > -1e-9 {
        return "0 s".into();
    }
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} s")
}

/// A plot of pictures: no legend (the title line explains the colours).
fn picture_plot<'a>(id: &str, group: &str, height: f32, width: f32) -> Plot<'a> {
    // A labelled time mark every ~110 points, whatever the zoom.
    let marks = f64::from((width / 110.0).max(2.0));
    Plot::new(id.to_string())
        .height(height)
        .x_axis_formatter(seconds_axis)
        .x_grid_spacer(move |input| nice_marks(input, marks))
        .link_axis(
            egui::Id::unique(("gilscope-plot-group", group)),
            [true, false],
        )
        .link_cursor(
            egui::Id::unique(("gilscope-plot-group", group)),
            [true, false],
        )
        .allow_scroll(false)
}

fn base_plot<'a>(ui: &egui::Ui, spec: &PlotSpec, what: &str, height: f32) -> Plot<'a> {
    let plot = picture_plot(
        &format!("{}-{what}", spec.id),
        spec.id,
        height,
        ui.available_width(),
    )
    .y_axis_min_width(y_axis_width(ui));
    if !spec.legend {
        return plot;
    }
    plot.legend(
        Legend::default()
            .position(egui_plot::Corner::LeftTop)
            .text_style(egui::TextStyle::Small)
            .background_alpha(0.6)
            .follow_insertion_order(true),
    )
}

/// A time gap longer than this between two readings of a column read in
/// every sample breaks its line (the sampler fell behind or the value could
/// not be read).
pub const GAP_S: f64 = 0.5;

/// The same for PSS/USS, read at most every
/// [`SamplerConfig::steady_smaps_interval`] while memory stays put (2 s by
/// default), plus the same slack.
fn smaps_gap_s() -> f64 {
    SamplerConfig::default()
        .steady_smaps_interval()
        .as_secs_f64()
        + GAP_S
}

/// min/max envelope of a column over the window (≈2 points per pixel), in
/// segments split at gaps longer than `gap_s`: a missing reading is never
/// drawn as a value.
pub fn envelope(
    spec: &PlotSpec,
    id: ColumnId,
    scale: f64,
    width: usize,
    gap_s: f64,
) -> Vec<Vec<[f64; 2]>> {
    let w = spec.window;
    let mut segments: Vec<Vec<[f64; 2]>> = Vec::new();
    let mut current: Vec<[f64; 2]> = Vec::new();
    let mut last_x = f64::NEG_INFINITY;
    for b in spec
        .run
        .series()
        .decimated_all(id, w.from_ns, w.to_ns, width.max(1))
    {
        let x = w.secs(b.t_ns);
        if spec.until_s.is_some_and(|u| x > u) {
            break;
        }
        let Some((lo, hi)) = b.min_max else { continue };
        if x - last_x > gap_s && !current.is_empty() {
            segments.push(std::mem::take(&mut current));
        }
        last_x = x;
        current.push([x, f64::from(lo) * scale]);
        if hi != lo {
            current.push([x, f64::from(hi) * scale]);
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

/// Draws the segments of one series under one legend entry and colour.
pub fn draw_series(
    p: &mut egui_plot::PlotUi<'_>,
    name: &str,
    color: Color32,
    width: f32,
    segments: Vec<Vec<[f64; 2]>>,
) {
    for seg in segments {
        if seg.len() == 1 {
            p.points(
                egui_plot::Points::new(name.to_string(), PlotPoints::new(seg))
                    .color(color)
                    .radius(width),
            );
        } else {
            p.line(
                Line::new(name.to_string(), PlotPoints::new(seg))
                    .color(color)
                    .width(width),
            );
        }
    }
}

/// Y grid marks at a "nice" step (1, 2 or 5 × 10^k) giving about `n`
/// labelled lines, all of equal weight so each one gets its label.
pub fn nice_marks(input: egui_plot::GridInput, n: f64) -> Vec<egui_plot::GridMark> {
    let (lo, hi) = input.bounds;
    let range = (hi - lo).abs();
    if !range.is_finite() || range <= 0.0 {
        return Vec::new();
    }
    let raw = range / n.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|i| egui_plot::GridMark {
            value: i as f64 * step,
            step_size: step,
        })
        .collect()
}

fn x_bounds(spec: &PlotSpec) -> (f64, f64) {
    (0.0, spec.window.secs(spec.window.to_ns).max(0.1))
}

pub fn core_plot(
    ui: &mut egui::Ui,
    spec: &PlotSpec,
    heat: Option<&(TextureHandle, Picture)>,
    h: f32,
) {
    let run = spec.run;
    let cores = run.cores();
    let width = ui.available_width() as usize;
    if cores.len() <= MAX_CORE_LINES {
        ui.label(RichText::new(format!("CPU cores ({}): busy %", cores.len())).strong());
    } else {
        let c = StateColors::new(spec.dark);
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("CPU cores ({}): busy", cores.len())).strong());
            ui.label(RichText::new("■ 0 %").color(c.cold).strong());
            ui.label(
                RichText::new("■ 50 %")
                    .color(lanes::mix(c.cold, c.hot, 0.5))
                    .strong(),
            );
            ui.label(RichText::new("■ 100 %").color(c.hot).strong());
        });
    }
    let (x0, x1) = x_bounds(spec);
    if cores.len() <= MAX_CORE_LINES {
        let plot = base_plot(ui, spec, "cores", h).include_x(x0).include_x(x1);
        plot.include_y(0.0)
            .include_y(100.0)
            .y_grid_spacer(|input| nice_marks(input, 2.0))
            .show(ui, |p| {
                for (i, (cpu, cols)) in cores.iter().enumerate() {
                    draw_series(
                        p,
                        &format!("cpu{cpu} busy %"),
                        super::style::palette(i),
                        1.5,
                        envelope(spec, cols.busy, 100.0, width, GAP_S),
                    );
                }
            });
    } else if let Some((tex, pic)) = heat {
        picture_rows(ui, spec, "cores", "busy (heat)", tex, pic, h);
    }
}

/// A plot whose y axis names picture rows (row 0 on top), one grid mark
/// per row, thinned out when rows are many.
fn row_axis(plot: Plot<'_>, rows: Vec<String>, axis_w: f32, text_px: f32) -> Plot<'_> {
    let n = rows.len();
    let nf = n as f64;
    plot.include_y(0.0)
        .include_y(nf)
        .show_grid([true, false])
        .y_axis_min_width(axis_w)
        .y_axis_formatter(move |mark, _| {
            // Row i spans y in [n-i-1, n-i]; its mark sits in the middle.
            let i = nf - mark.value - 0.5;
            if (i - i.round()).abs() < 1e-6 && i >= 0.0 {
                rows.get(i.round() as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_grid_spacer(move |input| {
            // A label every 1, 2, 4, … rows: far enough apart to be drawn
            // (egui_plot skips a label closer to the next than its own
            // height; a base step is 8 points).
            let min_step = (input.base_step_size * f64::from(text_px) * 1.1 / 8.0).max(1.0);
            let step = (0..12)
                .map(|k| 1usize << k)
                .find(|&s| s as f64 >= min_step)
                .unwrap_or(1 << 12);
            (0..n)
                .step_by(step)
                .map(|i| egui_plot::GridMark {
                    value: nf - i as f64 - 0.5,
                    step_size: step as f64,
                })
                .collect()
        })
}

/// A picture (heat map or lanes) over the run's time axis, one named row
/// per picture row.
fn picture_rows(
    ui: &mut egui::Ui,
    spec: &PlotSpec,
    what: &str,
    name: &str,
    tex: &TextureHandle,
    pic: &Picture,
    h: f32,
) {
    let (x0, x1) = x_bounds(spec);
    let plot = picture_plot(
        &format!("{}-{what}", spec.id),
        spec.id,
        h,
        ui.available_width(),
    )
    .include_x(x0)
    .include_x(x1);
    let (finish, dark) = (spec.finish_s, spec.dark);
    let text_px = ui.text_style_height(&egui::TextStyle::Body);
    row_axis(plot, pic.rows.clone(), y_axis_width(ui), text_px).show(ui, |p| {
        p.image(image_item(name, tex, pic, spec));
        if let Some(f) = finish {
            p.vline(finish_line(f, dark));
        }
    });
}

/// The finish line of a race.
pub fn finish_line(at_s: f64, dark: bool) -> VLine {
    VLine::new("finish", at_s)
        .color(Color32::from_gray(if dark { 235 } else { 20 }))
        .width(3.0)
        .style(egui_plot::LineStyle::dashed_loose())
}

fn image_item(name: &str, tex: &TextureHandle, pic: &Picture, spec: &PlotSpec) -> PlotImage {
    // Pictures are timed from the run's start; a race's window starts
    // elsewhere (its start gate).
    let shift = spec.run.t0_ns().map_or(0.0, |t0| spec.window.secs(t0));
    let (a0, b) = (pic.t_from_s + shift, pic.t_to_s + shift);
    let full = (b - a0).max(1e-9);
    // A race shows each run from its start gate (x = 0) to its clock:
    // the picture is cut on both sides.
    let (left, a) = if spec.until_s.is_some() && a0 < 0.0 {
        (((0.0 - a0) / full).clamp(0.0, 1.0), 0.0)
    } else {
        (0.0, a0)
    };
    let n = pic.rows.len() as f32;
    let cut = spec
        .until_s
        .map_or(1.0, |u| ((u - a0) / full).clamp(left, 1.0));
    let right = a0 + full * cut;
    PlotImage::new(
        name.to_string(),
        tex.id(),
        PlotPoint::new((a + right) / 2.0, f64::from(n) / 2.0),
        egui::vec2((right - a).max(0.0) as f32, n),
    )
    .uv(egui::Rect::from_min_max(
        egui::pos2(left as f32, 0.0),
        egui::pos2(cut as f32, 1.0),
    ))
}

/// What the lanes' colours mean (the race shows it once for both runs).
/// Drawn into the caller's (wrapping) layout.
pub fn lane_legend_ui(ui: &mut egui::Ui, run: &RunRecord, dark: bool) {
    let c = StateColors::new(dark);
    let exact = run.gil().has_data();
    if exact {
        ui.label(
            RichText::new("■ running, holding the GIL")
                .color(c.running)
                .strong(),
        );
        ui.label(
            RichText::new("■ running without it")
                .color(c.running_free)
                .strong(),
        );
        ui.label(RichText::new("■ without it, unsure").color(c.unsure).strong())
            .on_hover_text("Running without holding the GIL where nothing proves it free: nothing shows whether the thread is on its way into take_gil (typically just after handing the GIL over). Never counted as running free");
        ui.label(
            RichText::new("■ waiting for a core")
                .color(c.waiting)
                .strong(),
        );
        ui.label(
            RichText::new("▨ waiting for the GIL (hatched)")
                .color(c.blocked)
                .strong(),
        );
        ui.label(
            RichText::new("■ blocked on other")
                .color(c.blocked_other)
                .strong(),
        );
        ui.label(RichText::new("■ GIL not read").color(c.unread).strong())
            .on_hover_text("Running at a moment the GIL reader has no reading for (before it attached to the process)");
    } else {
        ui.label(RichText::new("■ running").color(c.running).strong());
        ui.label(
            RichText::new("■ waiting for a core")
                .color(c.waiting)
                .strong(),
        );
        ui.label(
            RichText::new("▨ blocked (hatched)")
                .color(c.blocked)
                .strong(),
        );
        let why = run
            .gil()
            .missing_reason()
            .unwrap_or_else(|| "no exact GIL lanes for this run".into());
        // One line that never widens the view: cut to fit, whole on hover.
        ui.add(egui::Label::new(RichText::new(format!("({why})")).small()).truncate())
            .on_hover_text(why);
    }
}

pub fn lane_plot(
    ui: &mut egui::Ui,
    spec: &PlotSpec,
    lanes: Option<&(TextureHandle, Picture)>,
    h: f32,
) {
    if spec.legend {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Threads").strong());
            lane_legend_ui(ui, spec.run, spec.dark);
        });
    } else {
        ui.label(RichText::new("Threads").strong());
    }
    let Some((tex, pic)) = lanes else { return };
    picture_rows(ui, spec, "lanes", "threads", tex, pic, h);
}

pub fn memory_plot(ui: &mut egui::Ui, spec: &PlotSpec, h: f32) {
    let run = spec.run;
    let cols = run.run_columns();
    let width = ui.available_width() as usize;
    if spec.legend {
        ui.label(RichText::new("Memory (MiB)").strong());
    } else {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Memory (MiB):").strong());
            for (i, name) in ["RSS", "PSS", "USS"].into_iter().enumerate() {
                ui.label(
                    RichText::new(format!("■ {name}"))
                        .color(super::style::palette(i))
                        .strong(),
                );
            }
            ui.label("- - baseline RSS");
        });
    }
    let mib = 1.0 / (1024.0 * 1024.0);
    let (x0, x1) = x_bounds(spec);
    base_plot(ui, spec, "mem", h)
        .include_x(x0)
        .include_x(x1)
        .include_y(0.0)
        .y_grid_spacer(|input| nice_marks(input, 3.0))
        .show(ui, |p| {
            draw_series(
                p,
                "RSS",
                super::style::palette(0),
                2.0,
                envelope(spec, cols.rss_bytes, mib, width, GAP_S),
            );
            draw_series(
                p,
                "PSS",
                super::style::palette(1),
                1.5,
                envelope(spec, cols.pss_bytes, mib, width, smaps_gap_s()),
            );
            draw_series(
                p,
                "USS",
                super::style::palette(2),
                1.5,
                envelope(spec, cols.uss_bytes, mib, width, smaps_gap_s()),
            );
            if let Some(b) = run.memory_baseline() {
                p.hline(
                    HLine::new("baseline RSS (before workers)", b.rss_bytes as f64 * mib)
                        .style(egui_plot::LineStyle::dashed_dense()),
                );
            }
        });
}

/// A service run's requests per second: offered (the load generator's
/// schedule) and answered, and failures (errors and timeouts).
pub fn requests_plot(ui: &mut egui::Ui, spec: &PlotSpec, h: f32) {
    let run = spec.run;
    let w = spec.window;
    let series = run.service().series(w.t0_ns);
    let summary = run.service().summary();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Requests/s").strong());
        if let Some(s) = &summary {
            ui.small(format!(
                "{} · answered {:.0} of {:.0} offered · {}",
                s.load,
                s.achieved_rps,
                s.offered_rps,
                if s.all_correct {
                    "every answer correct".to_string()
                } else {
                    "✗ some answers wrong".to_string()
                }
            ));
        }
    });
    let pts = |v: &[f64]| -> Vec<[f64; 2]> {
        series
            .t_secs
            .iter()
            .zip(v)
            .map(|(t, y)| [*t, *y])
            .filter(|[x, _]| spec.until_s.is_none_or(|u| *x <= u))
            .collect()
    };
    let (x0, x1) = x_bounds(spec);
    base_plot(ui, spec, "rps", h)
        .include_x(x0)
        .include_x(x1)
        .include_y(0.0)
        .y_axis_formatter(|mark, _| human(mark.value))
        .y_grid_spacer(|input| nice_marks(input, 3.0))
        .show(ui, |p| {
            p.line(
                Line::new("offered", PlotPoints::new(pts(&series.offered_rps)))
                    .color(Color32::GRAY)
                    .style(egui_plot::LineStyle::dashed_loose())
                    .width(1.5),
            );
            p.line(
                Line::new("answered", PlotPoints::new(pts(&series.achieved_rps)))
                    .color(super::style::mode_color(run.spec().mode))
                    .width(2.0),
            );
            let failed: Vec<f64> = series
                .errors_per_s
                .iter()
                .zip(&series.timeouts_per_s)
                .map(|(e, t)| e + t)
                .collect();
            if failed.iter().any(|f| *f > 0.0) {
                p.line(
                    Line::new("errors + timeouts", PlotPoints::new(pts(&failed)))
                        .color(super::style::bad())
                        .width(2.0),
                );
            }
        });
}

/// A service run's latency over time: p50, p95 and p99 of each interval,
/// from each request's scheduled send time (no coordinated omission).
pub fn latency_plot(ui: &mut egui::Ui, spec: &PlotSpec, h: f32) {
    let run = spec.run;
    let w = spec.window;
    let series = run.service().series(w.t0_ns);
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Latency (ms)").strong());
        if let Some(s) = run.service().summary() {
            let ms = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.1}"));
            ui.small(format!(
                "whole run, failures included: p50 {} · p95 {} · p99 {} ms · in flight at most {}{}",
                ms(s.tail().p50_ms),
                ms(s.tail().p95_ms),
                ms(s.tail().p99_ms),
                s.max_in_flight,
                if s.closed_loop { " · closed loop: latency excludes queueing before send" } else { "" }
            ));
        }
    });
    // A missing interval (no answer in it) breaks the line: never a 0.
    let segments = |v: &[Option<f64>]| -> Vec<Vec<[f64; 2]>> {
        let mut out: Vec<Vec<[f64; 2]>> = vec![Vec::new()];
        for (t, y) in series.t_secs.iter().zip(v) {
            if spec.until_s.is_some_and(|u| *t > u) {
                break;
            }
            match y {
                Some(y) => out.last_mut().map_or((), |s| s.push([*t, *y])),
                None => out.push(Vec::new()),
            }
        }
        out.retain(|s| !s.is_empty());
        out
    };
    let (x0, x1) = x_bounds(spec);
    base_plot(ui, spec, "latency", h)
        .include_x(x0)
        .include_x(x1)
        .include_y(0.0)
        .y_grid_spacer(|input| nice_marks(input, 3.0))
        .show(ui, |p| {
            for (name, v, i) in [
                ("p50", &series.p50_ms, 0),
                ("p95", &series.p95_ms, 1),
                ("p99", &series.p99_ms, 3),
            ] {
                draw_series(p, name, super::style::palette(i), 2.0, segments(v));
            }
        });
}

/// The throughput of `run` in buckets of `bucket_ns`, kept per plot `id`
/// in egui's memory until the run's chunks change: a finished run's is
/// computed once, not every frame (it walks every chunk event).
fn cached_throughput(
    ctx: &egui::Context,
    id: &str,
    run: &RunRecord,
    bucket_ns: u64,
) -> Option<std::sync::Arc<crate::store::metrics::Throughput>> {
    type Kept = (
        u64,
        u64,
        usize,
        Option<std::sync::Arc<crate::store::metrics::Throughput>>,
    );
    let key = egui::Id::unique(("gilscope-throughput", id));
    let stamp = (bucket_ns, run.chunks_done(), run.events().len());
    if let Some((b, c, n, tp)) = ctx.memory(|m| m.data.get_temp::<Kept>(key))
        && (b, c, n) == stamp
    {
        return tp;
    }
    let tp = throughput(run, bucket_ns).map(std::sync::Arc::new);
    ctx.memory_mut(|m| {
        m.data
            .insert_temp::<Kept>(key, (stamp.0, stamp.1, stamp.2, tp.clone()))
    });
    tp
}

pub fn throughput_plot(ui: &mut egui::Ui, spec: &PlotSpec, h: f32) {
    let run = spec.run;
    let ctx = ui.ctx().clone();
    ui.label(RichText::new(format!("Throughput ({}/s)", run.unit())).strong());
    let (x0, x1) = x_bounds(spec);
    let w = spec.window;
    base_plot(ui, spec, "tput", h)
        .include_x(x0)
        .include_x(x1)
        .include_y(0.0)
        .y_axis_formatter(|mark, _| human(mark.value))
        .y_grid_spacer(|input| nice_marks(input, 3.0))
        .show(ui, |p| {
            // About 40 buckets over the run, 50 ms to 1 s each.
            let span_ns = spec.window.to_ns - spec.window.from_ns;
            let bucket_ns = (span_ns / 40).clamp(50_000_000, 1_000_000_000);
            if let Some(tp) = cached_throughput(&ctx, spec.id, run, bucket_ns) {
                let pts: Vec<[f64; 2]> = tp
                    .total
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let t = tp.t0_ns + i as u64 * tp.bucket_ns + tp.bucket_ns / 2;
                        [w.secs(t), *v]
                    })
                    .filter(|[x, _]| spec.until_s.is_none_or(|u| *x >= 0.0 && *x <= u))
                    .collect();
                p.line(
                    Line::new("all workers", PlotPoints::new(pts))
                        .color(super::style::mode_color(run.spec().mode))
                        .width(2.0)
                        .fill(0.0),
                );
            }
            if let Some(f) = spec.finish_s {
                p.vline(finish_line(f, spec.dark));
            }
            for change in run.gil_changes().filter(|c| c.enabled) {
                p.vline(
                    VLine::new("GIL re-enabled", w.secs(change.t_ns))
                        .color(super::style::bad())
                        .width(2.0),
                );
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Mode;
    use crate::store::fixtures::{MIB, MS, T0, interpreter, memory, sample, spec};

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
            window: Window::whole(&run).unwrap(),
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
