//! Exports from the window: screenshots (PNG), the charts of the runs of
//! one workload (PNG + SVG, drawn by the report's plotters code), runs as
//! CSV and as run files, and File › Open. Writing happens on job threads;
//! each export says where it wrote.

use super::action::{Action, Export};
use super::context::UiContext;
use super::jobs::JobResult;
use super::jobs::Jobs;
use super::model::RunsModel;
use super::runs::{RunId, Runs};
use crate::export::animation::{AnimationOptions, Racer};
use crate::report::Chart;
use crate::report::series::ChartData;
use crate::store::{RunRecord, compare::same_workload};
use crate::sweep::aggregate;
use crate::sweep::table::{Row, rows};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `20261122-093012` in UTC, for file names.
pub fn timestamp() -> String {
    crate::kit::time::file_stamp(crate::kit::time::now_unix_secs())
}

pub fn save_color_image(image: &egui::ColorImage, path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let [w, h] = image.size;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    let buf = image::RgbaImage::from_raw(w as u32, h as u32, bytes)
        .ok_or("screenshot has the wrong number of pixels")?;
    buf.save(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Every column of a run's samples, one row per sample; gaps are empty.
pub fn run_csv(run: &RunRecord) -> String {
    let series = run.series();
    let t0 = run.t0_ns().unwrap_or(0);
    let columns: Vec<_> = series.columns().collect();
    let mut out = String::from("t_s");
    for (_, name) in &columns {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for (row, t) in series.times_ns().iter().enumerate() {
        let _ = write!(out, "{:.6}", (*t as f64 - t0 as f64) / 1e9);
        for (id, _) in &columns {
            out.push(',');
            if let Some(v) = series.value(*id, row) {
                let _ = write!(out, "{v}");
            }
        }
        out.push('\n');
    }
    out
}

/// The compare table as CSV (empty cells where a value is missing).
pub fn table_csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "interpreter,mode,workers,time_s,items_per_s,speedup,efficiency,cpu_cores,peak_rss_mib,overhead_mib,gil_wait,checksum_ok,status,verdict\n",
    );
    let f = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},\"{}\",\"{}\"",
            r.interpreter,
            r.mode,
            r.workers,
            f(r.wall_s),
            f(r.items_per_s),
            f(r.speedup),
            f(r.efficiency),
            f(r.cpu_cores),
            f(r.peak_rss_mib),
            f(r.overhead_mib),
            f(r.gil_wait),
            r.checksum_ok.map_or(String::new(), |b| b.to_string()),
            r.status.replace('"', "'"),
            crate::store::verdict::labels(&r.verdicts)
        );
    }
    out
}

fn stem(run: &RunRecord) -> String {
    let spec = run.spec();
    let workload = Path::new(&spec.workload)
        .file_stem()
        .map_or(spec.workload.clone(), |s| s.to_string_lossy().to_string());
    let safe: String = workload
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}-{}-w{}", spec.mode, spec.workers)
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Charts (PNG + SVG) of `runs` (one workload) into `dir/charts`.
pub fn write_charts(runs: &[RunRecord], dir: &Path) -> Result<Vec<PathBuf>, String> {
    let Some(first) = runs.first() else {
        return Err("no finished runs to chart".into());
    };
    let agg = aggregate(runs);
    let mut workers: Vec<usize> = runs.iter().map(|r| r.spec().workers).collect();
    workers.sort_unstable();
    workers.dedup();
    let machine = crate::sweep::model::machine_info();
    let data = ChartData::new(
        &agg,
        &workers,
        first.spec().workload.clone(),
        format!(
            "{}, {} cores · gilscope {}",
            machine.cpu_model.as_deref().unwrap_or("unknown CPU"),
            machine.cores,
            env!("CARGO_PKG_VERSION")
        ),
    );
    let charts = dir.join("charts");
    std::fs::create_dir_all(&charts).map_err(|e| format!("{}: {e}", charts.display()))?;
    let mut out = Vec::new();
    for chart in Chart::ALL {
        out.extend(
            crate::report::render::render(chart, &data, &charts).map_err(|e| e.to_string())?,
        );
    }
    Ok(out)
}

/// Writes `text` to `path` on a job thread; the status bar says where.
fn write_text_job(jobs: &Jobs, path: PathBuf, text: String) {
    jobs.spawn("csv", move |_| JobResult::Wrote {
        what: "CSV".into(),
        result: write_file(&path, &text).map(|()| vec![path]),
    });
}

/// Asks egui for the next frame's pixels and saves them as a PNG at `path`
/// on a thread of its own; the job queue hears how it went.
pub fn request_screenshot(ctx: &egui::Context, path: PathBuf, sender: super::jobs::JobSender) {
    ctx.request_screenshot(move |image| {
        std::thread::spawn(move || {
            sender.send(JobResult::Wrote {
                what: "screenshot".into(),
                result: save_color_image(&image, &path).map(|()| vec![path]),
            });
        });
    });
}

/// Carries out an export on a job thread (the app's `apply` calls this).
pub fn start(
    export: Export,
    runs: &Runs,
    model: &RunsModel,
    shown: Option<RunId>,
    dir: &Path,
    jobs: &Jobs,
) {
    let finished = |id: RunId| runs.get(id).filter(|e| !e.is_running()).map(|e| &e.record);
    match export {
        Export::RunFile(id) => {
            let Some(record) = finished(id).cloned() else {
                return;
            };
            let path = dir.join(format!("{}-{}.json.gz", stem(&record), timestamp()));
            jobs.spawn("save", move |_| JobResult::Wrote {
                what: "run file".into(),
                result: record
                    .save(&path)
                    .map(|()| vec![path])
                    .map_err(|e| e.to_string()),
            });
        }
        Export::RunCsv(id) => {
            let Some(record) = finished(id) else { return };
            let path = dir.join(format!("{}-{}.csv", stem(record), timestamp()));
            write_text_job(jobs, path, run_csv(record));
        }
        Export::TableCsv => {
            let text = table_csv(&rows(&runs.records()));
            write_text_job(jobs, dir.join(format!("runs-{}.csv", timestamp())), text);
        }
        Export::Animation(a, b) => {
            let (Some(ra), Some(rb)) = (finished(a).cloned(), finished(b).cloned()) else {
                return;
            };
            let (pa, pb) = (model.point(a).cloned(), model.point(b).cloned());
            let path = dir.join(format!(
                "race-{}-vs-{}-{}.gif",
                ra.spec().mode,
                rb.spec().mode,
                timestamp()
            ));
            jobs.spawn("animation", move |sender| {
                let mut told = 0;
                let result = crate::export::animation::render_file(
                    Racer {
                        run: &ra,
                        point: pa.as_ref(),
                    },
                    Racer {
                        run: &rb,
                        point: pb.as_ref(),
                    },
                    &AnimationOptions::default(),
                    &path,
                    |done| {
                        // A line in the status bar at each quarter.
                        let quarter = (done * 4.0) as u32;
                        if quarter > told && quarter < 4 {
                            told = quarter;
                            sender.send(JobResult::Progress(format!(
                                "rendering the race animation: {} %",
                                quarter * 25
                            )));
                        }
                    },
                );
                JobResult::Wrote {
                    what: "animation".into(),
                    result: result.map(|_| vec![path]).map_err(|e| e.to_string()),
                }
            });
        }
        Export::Charts => {
            let anchor = shown.and_then(|id| runs.get(id)).or(runs.iter().last());
            if let Some(anchor) = anchor {
                let records: Vec<RunRecord> = runs
                    .iter()
                    .filter(|e| !e.is_running() && same_workload(&anchor.record, &e.record))
                    .map(|e| e.record.clone())
                    .collect();
                let dir = dir.join(format!("charts-{}", timestamp()));
                jobs.spawn("charts", move |_| JobResult::Wrote {
                    what: "charts".into(),
                    result: write_charts(&records, &dir),
                });
            }
        }
    }
}

/// The File menu. `open_path` is the menu's own text field.
pub fn file_menu_ui(ui: &mut egui::Ui, cx: &UiContext, open_path: &mut String) -> Option<Action> {
    let mut action = None;
    let l = ui.label("Open a run file or a sweep folder:");
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(open_path)
                .hint_text("path (or drop it on the window)")
                .desired_width(260.0),
        )
        .labelled_by(l.id);
        if ui.button("Browse…").clicked() {
            action = Some(Action::Browse(super::browse::Purpose::RunOrSweep));
            ui.close();
        }
        if ui.button("Open").clicked() {
            let p = open_path.trim().to_string();
            action = Some(if p.is_empty() {
                Action::error("type the path of a run file or sweep folder first")
            } else {
                Action::Open(PathBuf::from(p))
            });
        }
    });
    ui.separator();
    ui.label(format!("Exports go to {}", cx.export_dir.display()));
    // The run the live view shows, once finished.
    let shown = cx
        .shown
        .and_then(|id| cx.runs.get(id))
        .filter(|e| !e.is_running())
        .map(|e| e.id);
    if ui
        .add_enabled(
            shown.is_some(),
            egui::Button::new("Save the shown run (run file)"),
        )
        .clicked()
        && let Some(id) = shown
    {
        action = Some(Action::Export(Export::RunFile(id)));
        ui.close();
    }
    if ui
        .add_enabled(
            shown.is_some(),
            egui::Button::new("Export the shown run as CSV (samples)"),
        )
        .clicked()
        && let Some(id) = shown
    {
        action = Some(Action::Export(Export::RunCsv(id)));
        ui.close();
    }
    if ui
        .add_enabled(
            !cx.runs.is_empty(),
            egui::Button::new("Export the compare table as CSV"),
        )
        .clicked()
    {
        action = Some(Action::Export(Export::TableCsv));
        ui.close();
    }
    if ui
        .add_enabled(
            !cx.runs.is_empty(),
            egui::Button::new("Export charts (PNG + SVG)"),
        )
        .on_hover_text(
            "Speedup, efficiency, throughput, memory and thread states of the shown run's workload",
        )
        .clicked()
    {
        action = Some(Action::Export(Export::Charts));
        ui.close();
    }
    if ui.button("Screenshot of the window (S)").clicked() {
        action = Some(Action::Screenshot(None));
        ui.close();
    }
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_csv_leaves_missing_values_empty() {
        let row = Row {
            label: "x".into(),
            workload: "primes".into(),
            params: String::new(),
            interpreter: "3.13".into(),
            mode: "gil".into(),
            workers: 2,
            wall_s: Some(1.5),
            items_per_s: None,
            speedup: None,
            speedup_vs_gil_build: None,
            efficiency: None,
            cpu_cores: Some(1.0),
            peak_rss_mib: None,
            overhead_mib: None,
            gil_wait: Some(0.5),
            gil_missing: None,
            checksum_ok: Some(true),
            status: "ok".into(),
            failed: false,
            point: None,
            verdicts: vec![crate::store::Verdict {
                kind: crate::store::VerdictKind::Noisy,
                reason: "spread".into(),
            }],
        };
        let csv = table_csv(&[row]);
        assert_eq!(
            csv.lines().nth(1),
            Some("3.13,gil,2,1.5,,,,1,,,0.5,true,\"ok\",\"noisy\"")
        );
    }
}
