//! The compare view: a table of every run in the window, the scaling chart
//! (speedup vs workers per mode, with the ideal line), memory overhead per
//! mode, and a race: two runs replayed side by side on one clock.

use super::action::Action;
use super::context::UiContext;
use super::kit::human;
use super::kit::style::mode_color;
use super::model::RunsModel;
use super::race::Race;
use super::runs::RunId;
use crate::store::verdict;
use crate::sweep::table::Row;
use egui::{Color32, RichText};
mod charts;
pub use super::model::{ScalingPoint, ScalingSeries, scaling_series};
use charts::{memory_chart_ui, scaling_chart_ui};
use egui_plot::{Bar, BarChart, Legend, Line, MarkerShape, Plot, PlotPoints, Points};

/// The compare view: owns its sorting, the ticked runs and the race; its
/// numbers come from the app's [`RunsModel`].
pub struct CompareView {
    /// Sorted by this heading (index into the headings), descending?
    sort: Option<(usize, bool)>,
    /// Ticked rows (at most two: what Race takes).
    selected: Vec<RunId>,
    race: Option<Race>,
    race_textures: super::kit::textures::LaneTextures,
    race_picture: super::picture::PictureView,
    /// The anchor run the table last scrolled to.
    scrolled_to: Option<RunId>,
}

impl Default for CompareView {
    fn default() -> Self {
        Self {
            sort: None,
            selected: Vec::new(),
            race: None,
            race_textures: super::kit::textures::LaneTextures::new("race"),
            race_picture: super::picture::PictureView::new(),
            scrolled_to: None,
        }
    }
}

impl CompareView {
    /// Starts the replay of two runs.
    pub fn start_race(&mut self, a: RunId, b: RunId) {
        self.race = Some(Race::new(a, b));
    }

    /// Ends the race: the table and charts come back.
    pub fn close_race(&mut self) {
        self.race = None;
    }

    /// The race, if one is shown.
    pub fn race(&self) -> Option<&Race> {
        self.race.as_ref()
    }

    /// The race's clock and speed, as a user would set them (tests).
    pub fn race_mut(&mut self) -> Option<&mut Race> {
        self.race.as_mut()
    }

    /// The ticked runs (at most two: what Race takes).
    pub fn selected(&self) -> &[RunId] {
        &self.selected
    }

    /// Ticks these runs, as a user would (tests; at most two are kept).
    pub fn select(&mut self, ids: &[RunId]) {
        self.selected = ids.iter().copied().take(2).collect();
    }

    /// The table's sort: heading index and descending.
    pub fn sort(&self) -> Option<(usize, bool)> {
        self.sort
    }

    /// Whether a replay is moving (the window repaints for it).
    pub fn racing(&self) -> bool {
        self.race
            .as_ref()
            .is_some_and(|r| r.playing_since.is_some())
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &UiContext) -> Option<Action> {
        self.selected.retain(|id| cx.runs.contains(*id));
        self.race_textures.retain(|id| cx.runs.contains(id));
        if self
            .race
            .as_ref()
            .is_some_and(|r| !cx.runs.contains(r.a) || !cx.runs.contains(r.b))
        {
            self.race = None;
        }
        if cx.runs.is_empty() {
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() * 0.3);
                ui.heading("No runs yet.");
                ui.label(
                    "Run or Sweep from the setup panel, or File › Open a run file or sweep folder.",
                );
            });
            return None;
        }
        if let Some(race) = &mut self.race {
            self.race_picture.retain(|id| cx.runs.contains(id));
            return super::race::race_ui(
                race,
                ui,
                cx,
                &mut self.race_textures,
                &mut self.race_picture,
            );
        }
        let total_h = ui.available_height();
        let action = self.table_ui(ui, (total_h * 0.42).max(140.0), cx);
        ui.separator();
        let h = (ui.available_height() - 30.0).max(160.0);
        ui.columns(2, |cols| {
            scaling_chart_ui(cx.model, &mut cols[0], h);
            memory_chart_ui(cx.model, &mut cols[1], h);
        });
        action
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or("—".into(), f)
}

impl CompareView {
    /// The table; when the anchor run changed, scrolled so its workload's
    /// rows are in view (the runs the charts below are about).
    fn table_ui(&mut self, ui: &mut egui::Ui, height: f32, cx: &UiContext) -> Option<Action> {
        use egui_extras::{Column, TableBuilder};
        let anchor = cx.shown;
        let mut action = None;
        let mut rows: Vec<(RunId, &Row)> = cx.model.rows_with_ids().collect();
        if let Some((col, descending)) = self.sort {
            rows.sort_by(|(ia, a), (ib, b)| {
                let o = order_by(a, b, col).then(ia.number().cmp(&ib.number()));
                if descending { o.reverse() } else { o }
            });
        }
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("Runs ({})", rows.len())).strong());
            ui.small("speedup and efficiency: against the 1-worker run of the same workload on the same interpreter · click a heading to sort");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let two = self.selected.len() == 2;
                if ui
                    .add_enabled(two, egui::Button::new("Race the two selected"))
                    .on_disabled_hover_text("tick exactly two runs")
                    .clicked()
                {
                    action = Some(Action::Race(self.selected[0], self.selected[1]));
                }
                if ui
                    .button("Clear finished")
                    .on_hover_text("Forget every finished run")
                    .clicked()
                {
                    action = Some(Action::ClearFinished);
                }
            });
        });
        let text_h = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        // The middle of the anchor's workload's rows, centred.
        let scroll_to = (anchor != self.scrolled_to)
            .then(|| {
                let (_, a) = rows.iter().find(|(id, _)| Some(*id) == anchor)?;
                let same =
                    |(_, r): &(RunId, &Row)| r.workload == a.workload && r.params == a.params;
                let first = rows.iter().position(&same)?;
                let last = rows.iter().rposition(&same)?;
                Some(usize::midpoint(first, last))
            })
            .flatten();
        self.scrolled_to = anchor;
        let selected = &mut self.selected;
        let sort = &mut self.sort;
        egui::ScrollArea::horizontal()
            .id_salt("runs-table-h")
            .show(ui, |ui| {
                // Cells never wrap: a column is as wide as its widest cell
                // (the table scrolls sideways when the window is narrow).
                ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
                let mut table = TableBuilder::new(ui)
                    .id_salt("runs-table")
                    .striped(true)
                    .max_scroll_height(height);
                if let Some(i) = scroll_to {
                    table = table.scroll_to_row(i, Some(egui::Align::Center));
                }
                table
                    .columns(Column::auto().at_least(24.0), HEADINGS.len())
                    .header(text_h, |mut header| {
                        for (i, h) in HEADINGS.iter().enumerate() {
                            header.col(|ui| {
                                if h.is_empty() {
                                    return;
                                }
                                let arrow = match *sort {
                                    Some((c, true)) if c == i => " ▼",
                                    Some((c, false)) if c == i => " ▲",
                                    _ => "",
                                };
                                let clicked = ui
                                    .add(
                                        egui::Label::new(
                                            RichText::new(format!("{h}{arrow}")).strong(),
                                        )
                                        .sense(egui::Sense::click()),
                                    )
                                    .on_hover_text("sort by this column (again: the other way)")
                                    .clicked();
                                if clicked {
                                    *sort = match *sort {
                                        Some((c, false)) if c == i => Some((i, true)),
                                        Some((c, true)) if c == i => None,
                                        _ => Some((i, false)),
                                    };
                                }
                            });
                        }
                    })
                    .body(|mut body| {
                        for (id, row) in rows.iter().copied() {
                            body.row(text_h, |mut cells| {
                                if let Some(a) = row_ui(&mut cells, row, id, selected) {
                                    action = Some(a);
                                }
                            });
                        }
                    });
            });
        action
    }
}

/// The compare table's headings, in order (the first is the tick box).
const HEADINGS: [&str; 21] = [
    "",
    "#",
    "workload",
    "params",
    "interpreter",
    "mode",
    "workers",
    "time s",
    "items/s",
    "speedup",
    "efficiency",
    "verdict",
    "point (median ± spread)",
    "CPU cores",
    "peak RSS MiB",
    "overhead MiB",
    "GIL wait",
    "checksum",
    "status",
    "",
    "",
];

/// Orders two rows by heading `col` (numbers numerically, missing last).
fn order_by(a: &Row, b: &Row, col: usize) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let num = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    match HEADINGS.get(col).copied().unwrap_or("") {
        "workload" => a.workload.cmp(&b.workload),
        "params" => a.params.cmp(&b.params),
        "interpreter" => a.interpreter.cmp(&b.interpreter),
        "mode" => a.mode.cmp(&b.mode),
        "workers" => a.workers.cmp(&b.workers),
        "time s" => num(a.wall_s, b.wall_s),
        "items/s" => num(a.items_per_s, b.items_per_s),
        "speedup" => num(a.speedup, b.speedup),
        "efficiency" => num(a.efficiency, b.efficiency),
        "verdict" => verdict::flagged(&a.verdicts)
            .cmp(&verdict::flagged(&b.verdicts))
            .then(a.verdicts.len().cmp(&b.verdicts.len())),
        "point (median ± spread)" => num(a.point.map(|p| p.median), b.point.map(|p| p.median)),
        "CPU cores" => num(a.cpu_cores, b.cpu_cores),
        "peak RSS MiB" => num(a.peak_rss_mib, b.peak_rss_mib),
        "overhead MiB" => num(a.overhead_mib, b.overhead_mib),
        "GIL wait" => num(a.gil_wait, b.gil_wait),
        "status" => a.status.cmp(&b.status),
        _ => Ordering::Equal,
    }
}

/// One row's cells; returns "show" when clicked.
fn row_ui(
    cells: &mut egui_extras::TableRow<'_, '_>,
    row: &Row,
    id: RunId,
    selected: &mut Vec<RunId>,
) -> Option<Action> {
    let mut action = None;
    cells.col(|ui| {
        let mut ticked = selected.contains(&id);
        let tick = ui.checkbox(&mut ticked, "");
        // Its name for screen readers (and tests): the row's run.
        tick.widget_info(|| {
            egui::WidgetInfo::selected(
                egui::accesskit::Role::CheckBox,
                true,
                ticked,
                format!("select run {}", id.number()),
            )
        });
        if tick.changed() {
            if ticked {
                selected.push(id);
                if selected.len() > 2 {
                    selected.remove(0);
                }
            } else {
                selected.retain(|&s| s != id);
            }
        }
    });
    // A flagged row is dimmed (and marked in its verdict column), never
    // hidden.
    let dim = verdict::flagged(&row.verdicts);
    let t = |s: String| {
        if dim {
            RichText::new(s).weak()
        } else {
            RichText::new(s)
        }
    };
    let mut cell = |text: RichText| {
        cells.col(|ui| {
            ui.label(text);
        });
    };
    cell(t(id.number().to_string()));
    cell(t(row.workload.clone()));
    cell(t(row.params.clone()));
    cell(t(row.interpreter.clone()));
    let mode = crate::interp::Mode::parse(&row.mode);
    let colour = mode.map_or(Color32::GRAY, mode_color);
    // The mode keeps its colour (its name says it too) even when dimmed.
    cell(RichText::new(&row.mode).color(colour).strong());
    cell(t(row.workers.to_string()));
    cell(t(opt(row.wall_s, |v| format!("{v:.3}"))));
    cell(t(opt(row.items_per_s, human)));
    cell(t(opt(row.speedup, |v| format!("{v:.2}×"))));
    cell(t(opt(row.efficiency, |v| format!("{:.0} %", v * 100.0))));
    cells.col(|ui| {
        // Flags in the flag colour; what could not be checked (1 run, not
        // measured) in the weak text colour: said, never left blank.
        if row.verdicts.is_empty() {
            if row.speedup.is_some() || row.wall_s.is_some() {
                ui.label(RichText::new("✓ checked").weak())
                    .on_hover_text("every check was made and passed");
            }
        } else {
            let marks = verdict::marks(&row.verdicts);
            let text = if dim {
                RichText::new(marks).color(super::kit::style::flag())
            } else {
                RichText::new(marks).weak()
            };
            ui.label(text).on_hover_text(verdict::text(&row.verdicts));
        }
    });
    cells.col(|ui| {
        let point = ui.label(t(row.point_text()));
        if let Some(sp) = row.point {
            point.on_hover_text(format!(
                "time of the completed repeats of this interpreter, mode, workers, workload and params: {}",
                sp.text(|v| format!("{v:.3} s"))
            ));
        }
    });
    let mut cell = |text: RichText| {
        cells.col(|ui| {
            ui.label(text);
        });
    };
    cell(t(opt(row.cpu_cores, |v| format!("{v:.2}"))));
    cell(t(opt(row.peak_rss_mib, |v| format!("{v:.1}"))));
    cell(t(opt(row.overhead_mib, |v| format!("{v:+.1}"))));
    cells.col(|ui| {
        let wait = ui.label(t(opt(row.gil_wait, |v| format!("{:.0} %", v * 100.0))));
        if let (None, Some(why)) = (row.gil_wait, &row.gil_missing) {
            wait.on_hover_text(why);
        }
    });
    cells.col(|ui| {
        ui.label(match row.checksum_ok {
            Some(true) => RichText::new("✓ same").color(super::kit::style::good()),
            Some(false) => RichText::new("✗ differs").color(super::kit::style::bad()),
            None => RichText::new("—"),
        });
    });
    cells.col(|ui| {
        ui.label(if row.failed {
            RichText::new(&row.status).color(super::kit::style::bad())
        } else {
            RichText::new(&row.status)
        });
    });
    cells.col(|ui| {
        if ui.small_button("show").clicked() {
            action = Some(Action::Show(id));
        }
    });
    cells.col(|_| {});
    action
}
