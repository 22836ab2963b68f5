//! The live view's header: the shown run's headline numbers and
//! verdicts, what else ran on the machine, and the banners (a failed
//! run's log, a stall, gilscope's own CPU).

use super::*;

pub(super) fn header_ui(cx: &UiContext, entry: &RunEntry, ui: &mut egui::Ui) {
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
                    crate::ui::kit::style::bad()
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
                        .color(crate::ui::kit::style::flag()),
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
            line.color(crate::ui::kit::style::flag())
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
    let id = cx.shown?;
    let run = &cx.runs.get(id)?.record;
    // Judged in the model (a running run's own verdicts 4× a second).
    let verdicts = &cx.model.row(id)?.verdicts;
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

/// The banners under the headline. gilscope's own CPU use is in the status
/// bar (it never shifts the plots); on stage, the what-else line and the
/// verdicts go to the status line too ([`diagnostics`]).
pub(super) fn banners_ui(cx: &UiContext, entry: &RunEntry, show_log: &mut bool, ui: &mut egui::Ui) {
    let running = entry.is_running();
    let run = &entry.record;
    let red = crate::ui::kit::style::bad();
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
                crate::ui::kit::style::flag(),
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
pub(super) fn stall_banner_ui(ui: &mut egui::Ui, run: &RunRecord, running: bool) {
    let now = running.then(crate::pace::monotonic_ns);
    let Some(s) = crate::store::stall::stall(run, now).filter(|s| s.stalled) else {
        return;
    };
    let amber = crate::ui::kit::style::flag();
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
