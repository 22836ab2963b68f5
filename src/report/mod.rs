//! `gilscope report DIR`: a sweep directory turned into charts (PNG and SVG)
//! and `report.md`. Every number comes from the run files through
//! [`crate::sweep::aggregate()`]; `sweep.json` only says which files, the
//! machine, the interpreters and the command.
//!
//! * [`series`]: the aggregate as chart series (colour, marker per mode).
//! * [`style`], [`frame`]: the shared look (embedded font, palette, title,
//!   legend, markers).
//! * [`lines`], [`bars`]: the charts; [`render`]: PNG and SVG files.
//! * [`markdown`], [`format`](mod@format): `report.md`.

pub mod axis;
pub mod bars;
pub mod format;
pub mod frame;
pub mod lines;
pub mod markdown;
pub mod render;
pub mod series;
pub mod service;
pub mod service_table;
pub mod style;

pub use render::Chart;

use crate::interp::Mode;
use crate::store::RunRecord;
use crate::sweep::{Aggregate, SweepError, SweepFile, aggregate, model::SWEEP_FILE_NAME};
use series::ChartData;
use std::path::{Path, PathBuf};

/// The report's file name inside the output directory.
pub const REPORT_FILE_NAME: &str = "report.md";
/// The charts' folder inside the output directory.
pub const CHARTS_DIR: &str = "charts";

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "{} has no {SWEEP_FILE_NAME}: give the directory a `gilscope sweep --out DIR` wrote",
        dir.display()
    )]
    NoSweep { dir: PathBuf },
    /// Its message names the file; it is not chained as a source so that
    /// `{:#}` does not print the same cause twice.
    #[error("{0}")]
    Sweep(SweepError),
    #[error("{}: cannot draw the chart: {reason}", path.display())]
    Chart { path: PathBuf, reason: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<SweepError> for ReportError {
    fn from(e: SweepError) -> Self {
        ReportError::Sweep(e)
    }
}

/// A run that did not complete, as its run file tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedRun {
    /// Relative to the sweep directory.
    pub file: String,
    pub mode: Mode,
    pub interpreter: String,
    pub workers: usize,
    pub repeat: usize,
    pub headline: String,
}

/// A sweep directory, read and aggregated.
#[derive(Debug, Clone)]
pub struct Report {
    pub dir: PathBuf,
    pub sweep: SweepFile,
    /// Computed from the run files (never from `sweep.json`).
    pub aggregate: Aggregate,
    pub failed: Vec<FailedRun>,
    /// Run files loaded (completed and failed).
    pub run_files: usize,
    /// A service sweep (`sweep.json` has offered rates): latency against
    /// load per mode, knees, ratios.
    pub service: Option<crate::sweep::service::ServiceAggregate>,
}

impl Report {
    /// Reads `DIR/sweep.json` and every run file it lists.
    pub fn load(dir: &Path) -> Result<Self, ReportError> {
        if !dir.join(SWEEP_FILE_NAME).is_file() {
            return Err(ReportError::NoSweep {
                dir: dir.to_path_buf(),
            });
        }
        let sweep = SweepFile::load(dir)?;
        let runs = sweep.load_runs(dir)?;
        Ok(Self::from_runs(dir, sweep, &runs))
    }

    /// The report of `runs`, which must be `sweep`'s run files in order.
    pub fn from_runs(dir: &Path, sweep: SweepFile, runs: &[RunRecord]) -> Self {
        let failed = sweep
            .runs
            .iter()
            .zip(runs)
            .filter(|(_, run)| run.result().is_none())
            .map(|(entry, run)| FailedRun {
                file: entry.file.clone(),
                mode: run.spec().mode,
                interpreter: run.interpreter().name.clone(),
                workers: run.spec().workers,
                repeat: entry.repeat,
                headline: run.outcome().map_or_else(
                    || "did not finish (the run file has no outcome)".to_string(),
                    |o| o.headline(),
                ),
            })
            .collect();
        let service = (!sweep.plan.rps.is_empty()).then(|| {
            crate::sweep::service_verdict::aggregate_service(
                runs,
                sweep
                    .plan
                    .p99_target_ms
                    .unwrap_or(crate::sweep::service::DEFAULT_P99_TARGET_MS),
            )
        });
        Self {
            service,
            dir: dir.to_path_buf(),
            aggregate: aggregate(runs),
            failed,
            run_files: runs.len(),
            sweep,
        }
    }

    /// "primes (n=200000)".
    pub fn workload(&self) -> String {
        let plan = &self.sweep.plan;
        if plan.params.is_empty() {
            return plan.workload.clone();
        }
        let params: Vec<String> = plan
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{} ({})", plan.workload, params.join(", "))
    }

    /// The line under every chart title.
    pub fn subtitle(&self) -> String {
        let m = &self.sweep.machine;
        let cpu = m.cpu_model.as_deref().unwrap_or("unknown CPU");
        let repeat = self.sweep.plan.repeat;
        let max_runs = self
            .aggregate
            .points
            .iter()
            .map(|p| p.runs)
            .max()
            .unwrap_or(0);
        let median = if repeat > 1 || max_runs > 1 {
            format!(
                "median of {repeat}–{} runs, bars: min–max",
                max_runs.max(repeat)
            )
        } else {
            "1 run each".to_string()
        };
        let flagged = if self
            .aggregate
            .points
            .iter()
            .any(|p| crate::store::verdict::flagged(&p.verdicts))
        {
            " · faded ! = flagged (report.md: Verdicts)"
        } else {
            ""
        };
        format!(
            "{cpu}, {} cores · {median}{flagged} · gilscope {}",
            m.cores, self.sweep.gilscope
        )
    }

    pub fn chart_data(&self) -> ChartData {
        ChartData::new(
            &self.aggregate,
            &self.sweep.plan.workers,
            self.workload(),
            self.subtitle(),
        )
    }

    /// Writes the charts into `OUT/charts/` and `OUT/report.md`; returns
    /// every file written.
    pub fn write(&self, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
        if let Some(agg) = &self.service {
            let m = &self.sweep.machine;
            let subtitle = format!(
                "{}, {} cores (shared with the load generator) · median of {} run(s) · gilscope {}",
                m.cpu_model.as_deref().unwrap_or("unknown CPU"),
                m.cores,
                self.sweep.plan.repeat,
                self.sweep.gilscope
            );
            return service::write(&self.sweep, agg, &self.workload(), &subtitle, out);
        }
        let charts = out.join(CHARTS_DIR);
        std::fs::create_dir_all(&charts).map_err(|source| ReportError::Write {
            path: charts.clone(),
            source,
        })?;
        let data = self.chart_data();
        let mut written = Vec::new();
        for chart in Chart::ALL {
            written.extend(render::render(chart, &data, &charts)?);
        }
        let md = out.join(REPORT_FILE_NAME);
        std::fs::write(&md, markdown::report_md(self)).map_err(|source| ReportError::Write {
            path: md.clone(),
            source,
        })?;
        written.push(md);
        Ok(written)
    }
}
