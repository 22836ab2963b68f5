//! The compare view's charts: speedup against workers per mode (with
//! each point's range and flags, the ideal line stopping at the cores)
//! and memory per mode.

use super::*;

pub(super) fn scaling_chart_ui(model: &RunsModel, ui: &mut egui::Ui, h: f32) {
    let Some(agg) = &model.agg else {
        return;
    };
    let cores = agg.points.iter().filter_map(|p| p.cores).max();
    let series = &model.scaling;
    let bars = series
        .iter()
        .flat_map(|s| &s.points)
        .any(|p| p.range.is_some());
    let flagged = series
        .iter()
        .flat_map(|s| &s.points)
        .any(|p| verdict::flagged(&p.verdicts));
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Speedup vs workers").strong());
        if !agg.points.iter().any(|p| p.speedup.is_some()) {
            ui.small(
                "(a mode's line needs a completed 1-worker run of this workload: Sweep runs one)",
            );
        }
        if bars {
            ui.small("bars: min–max of the repeats");
        }
        if flagged {
            ui.small("faded ! = flagged (see the verdict column)");
        }
    });
    let max_w = agg
        .points
        .iter()
        .map(|p| p.workers)
        .max()
        .unwrap_or(2)
        .max(2) as f64;
    // The ideal line stops at the cores: no run can beat them.
    let ideal_top = cores.map_or(max_w, |c| max_w.min(f64::from(c.max(1))));
    Plot::new("scaling")
        .height(h)
        .legend(Legend::default().position(egui_plot::Corner::LeftTop))
        .x_axis_label("workers")
        .y_axis_label("speedup (×)")
        .include_x(0.0)
        .include_y(0.0)
        .include_x(max_w + 0.3)
        .include_y(max_w)
        .allow_scroll(false)
        .show(ui, |p| {
            let mut ideal = vec![[1.0, 1.0], [ideal_top, ideal_top]];
            if ideal_top < max_w {
                ideal.push([max_w, ideal_top]);
            }
            p.line(
                Line::new(
                    if ideal_top < max_w {
                        format!("ideal (linear up to {ideal_top:.0} cores)")
                    } else {
                        "ideal".to_string()
                    },
                    PlotPoints::new(ideal),
                )
                .color(Color32::GRAY)
                .style(egui_plot::LineStyle::dashed_loose()),
            );
            for s in series {
                let color = mode_color(s.mode);
                let pts: Vec<[f64; 2]> = s
                    .points
                    .iter()
                    .map(|q| [q.workers as f64, q.speedup])
                    .collect();
                p.line(
                    Line::new(s.name.clone(), PlotPoints::new(pts))
                        .color(color)
                        .width(2.5),
                );
                // Error bars: unnamed (kept out of the legend), cap – stem – cap.
                for q in &s.points {
                    let Some([lo, hi]) = q.range else { continue };
                    let x = q.workers as f64;
                    let c = 0.06;
                    p.line(
                        Line::new(
                            "",
                            PlotPoints::new(vec![
                                [x - c, hi],
                                [x + c, hi],
                                [x, hi],
                                [x, lo],
                                [x - c, lo],
                                [x + c, lo],
                            ]),
                        )
                        .color(color)
                        .width(1.5)
                        .allow_hover(false),
                    );
                }
                let (ok, bad): (Vec<&ScalingPoint>, Vec<&ScalingPoint>) = s
                    .points
                    .iter()
                    .partition(|q| !verdict::flagged(&q.verdicts));
                let xy = |v: &[&ScalingPoint]| -> Vec<[f64; 2]> {
                    v.iter().map(|q| [q.workers as f64, q.speedup]).collect()
                };
                p.points(
                    Points::new(s.name.clone(), PlotPoints::new(xy(&ok)))
                        .color(color)
                        .radius(4.5)
                        .shape(MarkerShape::Circle),
                );
                if !bad.is_empty() {
                    // Flagged: still drawn, faded and marked; unnamed, so
                    // the legend keeps the series' own colour (two colours
                    // under one name made its swatch grey).
                    p.points(
                        Points::new("", PlotPoints::new(xy(&bad)))
                            .color(color.gamma_multiply(0.4))
                            .radius(4.5)
                            .shape(MarkerShape::Circle),
                    );
                    for q in bad {
                        p.text(
                            egui_plot::Text::new(
                                "",
                                egui_plot::PlotPoint::new(q.workers as f64 + 0.08, q.speedup),
                                RichText::new("!").strong(),
                            )
                            .anchor(egui::Align2::LEFT_BOTTOM),
                        );
                    }
                }
            }
        });
}

pub(super) fn memory_chart_ui(model: &RunsModel, ui: &mut egui::Ui, h: f32) {
    let Some(agg) = &model.agg else {
        return;
    };
    let mib = 1.0 / (1024.0 * 1024.0);
    // The largest worker count of each mode.
    let mut best: Vec<&crate::sweep::Point> = Vec::new();
    for pt in &agg.points {
        match best
            .iter_mut()
            .find(|b| b.mode == pt.mode && b.interpreter == pt.interpreter)
        {
            Some(b) if b.workers < pt.workers => *b = pt,
            Some(_) => {}
            None => best.push(pt),
        }
    }
    // PSS where every bar has it: RSS counts the pages worker processes
    // share once per process.
    let pss = crate::sweep::overhead_in_pss(&best);
    ui.label(
        RichText::new(if pss {
            "Memory overhead per mode (peak PSS − baseline, MiB)"
        } else {
            "Memory overhead per mode (peak RSS − baseline, MiB)"
        })
        .strong(),
    )
    .on_hover_text(
        "PSS splits the pages worker processes share (libpython, loaded modules) between them; \
         RSS counts them once per process. PSS is shown when every bar has it.",
    );
    let names: Vec<String> = best
        .iter()
        .map(|p| format!("{} ×{}", p.mode, p.workers))
        .collect();
    // Room above the tallest bar for its number.
    let top = best
        .iter()
        .filter_map(|p| p.overhead_bytes(pss))
        .fold(0.0, f64::max)
        * mib
        * 1.15;
    Plot::new("memory-modes")
        .height(h)
        .include_y(0.0)
        .include_y(top)
        .allow_scroll(false)
        .allow_drag(false)
        .show_grid([false, true])
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_grid_spacer(|input| {
            let (a, b) = input.bounds;
            (a.ceil().max(0.0) as usize..=b.floor().max(0.0) as usize)
                .map(|i| egui_plot::GridMark {
                    value: i as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .show(ui, |p| {
            for (i, pt) in best.iter().enumerate() {
                if let Some(v) = pt.overhead_bytes(pss) {
                    let name = format!("{} ({})", pt.mode, pt.interpreter);
                    p.bar_chart(
                        BarChart::new(name.clone(), vec![Bar::new(i as f64, v * mib).width(0.6)])
                            .color(mode_color(pt.mode)),
                    );
                    // The number on the bar: read from the back of a hall.
                    p.text(
                        egui_plot::Text::new(
                            name,
                            egui_plot::PlotPoint::new(i as f64, v * mib),
                            RichText::new(format!("{:.1} MiB", v * mib)).strong(),
                        )
                        .anchor(egui::Align2::CENTER_BOTTOM),
                    );
                }
            }
        });
}
