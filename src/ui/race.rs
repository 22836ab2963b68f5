//! The race: two runs replayed side by side on one clock, each in exactly
//! half the window (top and bottom when the window is narrow), one legend
//! for both, a large clock, each run's progress, a finish line, and the
//! winner with the margin once both are done.
//!
//! What it compares is said on screen: each run's clock starts at its
//! start gate (every worker ready, the chunks released) and stops at its
//! last chunk — exactly the Compare table's "time s". Start-up before the
//! gate (interpreter, spawning workers) is shown beside it, labelled.

use super::action::{Action, Export};
use super::context::UiContext;
use super::kit::lanes::Span;
use super::kit::plot::PlotSpec;
use super::kit::run_plots as plots;
use super::kit::style::mode_color;
use super::kit::textures::{LaneTextures, RunTextures};
use super::picture::PictureView;
use super::runs::run_label;
use super::runs::{RunEntry, RunId};
use crate::sweep::headline::{self, Racer};
use crate::sweep::race::{ChunkClock, Lap};
use egui::RichText;
use std::time::Instant;

/// The replay of two runs on one clock.
#[derive(Debug, Clone)]
pub struct Race {
    pub a: RunId,
    pub b: RunId,
    /// When the replay started (None: paused at `t_s`).
    pub playing_since: Option<Instant>,
    pub t_s: f64,
    pub speed: f64,
    /// Both racers' laps and chunk clocks, once both runs have ended
    /// (they no longer change): a frame then reads, never scans.
    finished: Option<[(Option<Lap>, ChunkClock); 2]>,
}

impl Race {
    pub fn new(a: RunId, b: RunId) -> Self {
        Self {
            a,
            b,
            playing_since: Some(Instant::now()),
            t_s: 0.0,
            speed: 1.0,
            finished: None,
        }
    }

    /// The replay clock now, in seconds since the start gates.
    pub fn now_s(&self) -> f64 {
        self.t_s
            + self
                .playing_since
                .map_or(0.0, |s| s.elapsed().as_secs_f64() * self.speed)
    }
}

/// Draws the race; returns what the user asked for (close it, export it
/// as an animation). A race whose run is gone asks to be closed.
pub fn race_ui(
    race: &mut Race,
    ui: &mut egui::Ui,
    cx: &UiContext,
    textures: &mut LaneTextures,
    picture: &mut PictureView,
) -> Option<Action> {
    let (Some(a), Some(b)) = (cx.runs.get(race.a), cx.runs.get(race.b)) else {
        return Some(Action::CloseRace);
    };
    if race.finished.is_none() && a.record.is_finished() && b.record.is_finished() {
        race.finished = Some([
            (Lap::of(&a.record), ChunkClock::of(&a.record)),
            (Lap::of(&b.record), ChunkClock::of(&b.record)),
        ]);
    }
    let live_clocks;
    let [(lap_a, clock_a), (lap_b, clock_b)] = match &race.finished {
        Some(f) => f,
        None => {
            live_clocks = [
                (Lap::of(&a.record), ChunkClock::of(&a.record)),
                (Lap::of(&b.record), ChunkClock::of(&b.record)),
            ];
            &live_clocks
        }
    };
    let laps = (*lap_a, *lap_b);
    let clocks = [clock_a, clock_b];
    let end_s = [laps.0, laps.1]
        .iter()
        .flatten()
        .filter_map(|l| l.finish_s)
        .fold(0.1, f64::max);
    let mut now_s = race.now_s();
    if now_s >= end_s && race.playing_since.is_some() {
        race.t_s = end_s;
        race.playing_since = None;
        now_s = end_s;
    }
    let now_s = now_s.min(end_s);
    let big = ui.text_style_height(&egui::TextStyle::Heading);
    let mut action = None;
    ui.horizontal_wrapped(|ui| {
        ui.heading(RichText::new("Race").strong());
        let playing = race.playing_since.is_some();
        if ui.button(if playing { "Pause" } else { "Play" }).clicked() {
            if playing {
                race.t_s = now_s;
                race.playing_since = None;
            } else {
                if race.t_s >= end_s {
                    race.t_s = 0.0;
                }
                race.playing_since = Some(Instant::now());
            }
        }
        if ui.button("Restart").clicked() {
            race.t_s = 0.0;
            race.playing_since = Some(Instant::now());
        }
        ui.add(
            egui::Slider::new(&mut race.speed, 0.1..=4.0)
                .logarithmic(true)
                .suffix("×")
                .text("speed"),
        );
        let done = a.record.is_finished() && b.record.is_finished();
        if ui
            .add_enabled(done, egui::Button::new("Export animation…"))
            .on_hover_text("The race as an animated GIF for a slide (1920×1080, real time; `gilscope export animation` for other sizes and speeds), written to the export folder")
            .on_disabled_hover_text("once both runs have finished")
            .clicked()
        {
            action = Some(Action::Export(Export::Animation(race.a, race.b)));
        }
        if ui.button("Close race").clicked() {
            action = Some(Action::CloseRace);
        }
        ui.small("Each clock starts at its run's start gate (every worker ready) and stops at its last chunk: the Compare table's \"time s\". Start-up before the gate is shown apart.");
    });
    // The clock and, once both finished, the winner — from the two
    // points (medians, spreads, verdicts), judged once in the model.
    let finished = |lap: Option<Lap>| lap.and_then(|l| l.finish_s).filter(|f| now_s >= *f);
    let both = finished(laps.0).zip(finished(laps.1));
    let names = (
        a.record.spec().mode.to_string(),
        b.record.spec().mode.to_string(),
    );
    let head = both.map(|(fa, fb)| {
        let racer = |name, id, work_s, lap: Option<Lap>| Racer {
            name,
            point: cx.model.point(id),
            work_s,
            startup_s: lap.and_then(|l| l.startup_s),
        };
        headline::race(
            racer(&names.0, race.a, fa, laps.0),
            racer(&names.1, race.b, fb, laps.1),
        )
    });
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(format!("{now_s:.2} s"))
                .size(big * 2.6)
                .strong(),
        );
        ui.add_space(big);
        if let Some(h) = &head {
            ui.vertical(|ui| {
                // Wrapped within what the clock leaves: never past the
                // window's edge.
                ui.set_max_width(ui.available_width());
                ui.horizontal_wrapped(|ui| {
                    ui.add(
                        egui::Label::new(RichText::new(&h.text).size(big * 1.3).strong()).wrap(),
                    );
                    if !h.flags.is_empty() {
                        // The flag beside the number, as large.
                        ui.label(
                            RichText::new(h.flag_marks())
                                .size(big * 1.3)
                                .strong()
                                .color(super::kit::style::flag()),
                        )
                        .on_hover_text(crate::store::verdict::text(&h.flags));
                    }
                });
                ui.add(egui::Label::new(RichText::new(&h.detail).size(big * 0.75)).wrap());
                let all: Vec<crate::store::verdict::Verdict> =
                    h.flags.iter().chain(&h.unsure).cloned().collect();
                if !all.is_empty() {
                    // The marks in a line, the reasons on hover.
                    ui.add(
                        egui::Label::new(
                            RichText::new(crate::store::verdict::marks(&all)).size(big * 0.75),
                        )
                        .wrap(),
                    )
                    .on_hover_text(crate::store::verdict::text(&all));
                }
            });
        }
    });
    ui.horizontal_wrapped(|ui| plots::lane_legend_ui(ui, &a.record, cx.dark));
    ui.add_space(4.0);
    // Exactly half each: side by side, or one above the other when narrow.
    let area = ui.available_rect_before_wrap();
    let gap = 16.0;
    let side_by_side = area.width() >= 900.0;
    let halves = if side_by_side {
        let w = (area.width() - gap) / 2.0;
        [
            egui::Rect::from_min_size(area.min, egui::vec2(w, area.height())),
            egui::Rect::from_min_size(
                egui::pos2(area.min.x + w + gap, area.min.y),
                egui::vec2(w, area.height()),
            ),
        ]
    } else {
        let h = (area.height() - gap) / 2.0;
        [
            egui::Rect::from_min_size(area.min, egui::vec2(area.width(), h)),
            egui::Rect::from_min_size(
                egui::pos2(area.min.x, area.min.y + h + gap),
                egui::vec2(area.width(), h),
            ),
        ]
    };
    for ((rect, (entry, lap)), clock) in halves
        .into_iter()
        .zip([(a, laps.0), (b, laps.1)])
        .zip(clocks)
    {
        let mut child = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(rect)
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        child.set_clip_rect(rect.intersect(ui.clip_rect()));
        let done = lap.map_or(0, |l| clock.by(l.zero_ns + (now_s.max(0.0) * 1e9) as u64));
        runner_ui(
            &mut child,
            cx,
            entry,
            (lap, done),
            now_s,
            end_s,
            textures,
            picture,
        );
    }
    ui.allocate_rect(area, egui::Sense::hover());
    action
}

/// One racer: name, progress, finish, lanes and throughput.
#[allow(clippy::too_many_arguments)]
fn runner_ui(
    ui: &mut egui::Ui,
    cx: &UiContext,
    entry: &RunEntry,
    (lap, done): (Option<Lap>, u64),
    now_s: f64,
    end_s: f64,
    textures: &mut LaneTextures,
    picture: &mut PictureView,
) {
    let run = &entry.record;
    let colour = mode_color(run.spec().mode);
    let big = ui.text_style_height(&egui::TextStyle::Heading);
    ui.add(
        egui::Label::new(
            RichText::new(run_label(run))
                .strong()
                .size(big)
                .color(colour),
        )
        .truncate(),
    );
    let Some(lap) = lap else {
        ui.label("no start gate recorded: nothing to race");
        return;
    };
    let fraction = lap
        .total_chunks
        .filter(|&t| t > 0)
        .map_or(0.0, |t| done as f32 / t as f32);
    let finished = lap.finish_s.filter(|f| now_s >= *f);
    // The bar carries no text (half of it would sit on the dark track);
    // the count is on the line below.
    ui.add(
        egui::ProgressBar::new(fraction.min(1.0))
            .fill(colour)
            .desired_height(ui.text_style_height(&egui::TextStyle::Body) * 0.8),
    );
    let chunks = match lap.total_chunks {
        Some(t) => format!("{done} of {t} chunks"),
        None => format!("{done} chunks"),
    };
    let mut line = match finished {
        Some(f) => format!("⚑ finished at {f:.3} s · {chunks}"),
        None if lap.finish_s.is_none() => format!("did not finish · {chunks}"),
        None => format!("running… {chunks}"),
    };
    if let Some(s) = lap.startup_s {
        line.push_str(&format!("  ·  start-up before the gate {s:.2} s"));
    }
    ui.label(RichText::new(line).strong());
    let Some(whole) = Span::whole(run) else {
        ui.label("no samples");
        return;
    };
    // Both racers share one time axis from their gates: the longer run's.
    let window = Span {
        t0_ns: lap.zero_ns,
        from_ns: whole.from_ns.max(lap.zero_ns),
        to_ns: lap.zero_ns + (end_s * 1e9) as u64,
    };
    let ctx = ui.ctx().clone();
    let pics = textures.get(&ctx, entry.id, run, cx.dark);
    let id = format!("race{}", entry.id.number());
    let spec = PlotSpec {
        id: &id,
        run,
        window,
        until_s: Some(now_s),
        dark: cx.dark,
        legend: false,
        finish_s: finished,
    };
    let until_ns = lap.zero_ns + (now_s.max(0.0) * 1e9) as u64;
    if run.picture().is_empty() {
        let h =
            (ui.available_height() - 3.0 * ui.text_style_height(&egui::TextStyle::Body)).max(120.0);
        let h_lanes = lanes_share(ui, pics, h);
        plots::lane_plot(ui, &spec, pics.lanes.as_ref(), h_lanes);
        plots::throughput_plot(ui, &spec, h - h_lanes);
        return;
    }
    // A picture workload: the output filling in beside the lanes.
    let full = ui.available_rect_before_wrap();
    let pic_w = (full.width() * 0.36).min(full.height() * 0.9);
    let plots =
        egui::Rect::from_min_max(full.min, egui::pos2(full.max.x - pic_w - 10.0, full.max.y));
    let right = egui::Rect::from_min_max(egui::pos2(full.max.x - pic_w, full.min.y), full.max);
    let mut left = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(plots)
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    let h =
        (left.available_height() - 3.0 * left.text_style_height(&egui::TextStyle::Body)).max(120.0);
    let h_lanes = lanes_share(&left, pics, h);
    plots::lane_plot(&mut left, &spec, pics.lanes.as_ref(), h_lanes);
    plots::throughput_plot(&mut left, &spec, h - h_lanes);
    let mut pic = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(right)
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    // A finished racer shows its whole picture: a band is stamped when the
    // harness took its chunk in, a little after the worker's last chunk
    // stopped the clock.
    let until = finished.is_none().then_some(until_ns);
    picture.ui(&mut pic, entry.id, run, until, "race", false);
    ui.allocate_rect(full, egui::Sense::hover());
}

/// The lanes' part of `h` (the throughput gets the rest): 60 %, or up to
/// 80 % when every thread's name needs more.
fn lanes_share(ui: &egui::Ui, pics: &RunTextures, h: f32) -> f32 {
    let rows = pics.lanes.as_ref().map_or(1, |(_, p)| p.rows.len());
    plots::lanes_height(ui, rows).clamp(h * 0.6, h * 0.8)
}
