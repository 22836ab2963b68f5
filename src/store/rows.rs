//! One compare row per run, computed from the records alone — what the
//! CLI's compare table and a CSV export show, for workload, script and
//! attach runs alike — and the CSV of such rows.

use super::compare::compare;
use super::metrics::{cpu_use, items_per_sec, memory_use, worker_gil};
use super::record::RunRecord;
use std::fmt::Write as _;

/// A run in one row.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    /// "workload", "script" or "attach".
    pub kind: &'static str,
    /// The workload's name, the script's file name, or `attach:NAME`.
    pub what: String,
    pub interpreter: String,
    pub mode: String,
    /// 0 for a script or an attach (no workers).
    pub workers: usize,
    /// The workers' time (a workload), the process's wall time from start
    /// to exit (a script), `None` without a result.
    pub time_s: Option<f64>,
    pub items_per_s: Option<f64>,
    /// CPU time of the process tree (rusage).
    pub cpu_s: Option<f64>,
    /// Cores busy with the run's threads on average (schedstat), else
    /// from rusage.
    pub cpu_cores: Option<f64>,
    /// Sum over the workers (a script: its busy threads) of the share of
    /// time each held a GIL, at most 1 (each thread's share rests on its
    /// own readings, so the sum can overshoot a shared GIL's 100 %).
    pub gil_hold: Option<f64>,
    /// Mean over the same threads of the share of time waiting for a GIL.
    pub gil_wait: Option<f64>,
    /// Why the two are missing.
    pub gil_missing: Option<String>,
    /// Against the 1-worker run on the same interpreter (a workload), the
    /// run on the default build (a script).
    pub speedup: Option<f64>,
    /// Against the 1-worker `gil` run on a default build (a workload).
    pub speedup_vs_gil_build: Option<f64>,
    pub efficiency: Option<f64>,
    /// Same checksum (a script: same stdout) as that baseline.
    pub same_result: Option<bool>,
    pub peak_rss_bytes: Option<u64>,
    /// "exited with status 0", "killed by signal 9 (SIGKILL)", ….
    pub exit: Option<String>,
    /// How it ended, in one line.
    pub status: String,
}

/// A row per run; baselines are looked for among `records`.
pub fn compare_rows(records: &[&RunRecord]) -> Vec<CompareRow> {
    records
        .iter()
        .map(|run| compare_row(run, records))
        .collect()
}

/// The row of `run`; its baselines are looked for among `records`.
pub fn compare_row(run: &RunRecord, records: &[&RunRecord]) -> CompareRow {
    {
        {
            let both = compare(run, records);
            let versus = both.same_interpreter;
            let cpu = cpu_use(run);
            let gil = worker_gil(run);
            let holds: Vec<f64> = gil.iter().filter_map(|g| g.hold).collect();
            let waits: Vec<f64> = gil.iter().filter_map(|g| g.wait).collect();
            let outcome = run.outcome();
            let kind = run.kind();
            let what = match kind.name() {
                "script" => run
                    .spec()
                    .script_path()
                    .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
                    .unwrap_or_else(|| run.spec().workload.clone()),
                _ => run.spec().workload.clone(),
            };
            CompareRow {
                kind: kind.name(),
                what,
                interpreter: run.spec().interp_name.clone(),
                mode: run.spec().mode.to_string(),
                workers: run.spec().workers,
                time_s: run.result().map(|r| r.elapsed_s),
                items_per_s: items_per_sec(run).filter(|_| run.result().is_some()),
                cpu_s: outcome.and_then(|o| o.usage).map(|u| u.cpu_secs()),
                cpu_cores: cpu.thread_cores.or(cpu.rusage_cores),
                gil_hold: (!holds.is_empty()).then(|| holds.iter().sum::<f64>().min(1.0)),
                gil_wait: (!waits.is_empty())
                    .then(|| waits.iter().sum::<f64>() / waits.len() as f64),
                gil_missing: run.gil().missing_reason(),
                speedup: versus.and_then(|v| v.speedup),
                speedup_vs_gil_build: both.gil_build.and_then(|v| v.speedup),
                efficiency: versus.and_then(|v| v.efficiency),
                same_result: versus.and_then(|v| v.checksum_matches),
                peak_rss_bytes: memory_use(run)
                    .peaks
                    .rss_bytes
                    .or(outcome.and_then(|o| o.usage).map(|u| u.max_rss_bytes)),
                exit: outcome.map(|o| o.exit.clone()),
                status: run.headline().unwrap_or_else(|| "running".to_string()),
            }
        }
    }
}

/// The CSV header of [`rows_csv`].
pub const ROWS_CSV_HEADER: &str = "kind,what,interpreter,mode,workers,time_s,items_per_s,cpu_s,cpu_cores,gil_hold,gil_wait,speedup,efficiency,same_result,peak_rss_bytes,exit,status";

/// Rows as CSV: a header, one line per row, empty cells where a value is
/// missing, text fields quoted.
pub fn rows_csv(rows: &[CompareRow]) -> String {
    let f = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = format!("{ROWS_CSV_HEADER}\n");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.kind,
            q(&r.what),
            q(&r.interpreter),
            r.mode,
            r.workers,
            f(r.time_s),
            f(r.items_per_s),
            f(r.cpu_s),
            f(r.cpu_cores),
            f(r.gil_hold),
            f(r.gil_wait),
            f(r.speedup),
            f(r.efficiency),
            r.same_result.map_or(String::new(), |b| b.to_string()),
            r.peak_rss_bytes.map_or(String::new(), |b| b.to_string()),
            q(r.exit.as_deref().unwrap_or("")),
            q(&r.status),
        );
    }
    out
}
