//! The compare table's rows: one [`Row`] per run — the shared
//! [`crate::store::compare_rows`] (what the CLI prints and exports) plus
//! the run's label, parameters, memory overhead, checksum agreement, its
//! point's spread and the verdicts it shows ([`super::Judged`]). The
//! app's view model and the CLI's tables read these; nothing else builds
//! a row.

use super::{Judged, Spread};
use crate::store::labels::run_label;
use crate::store::metrics::memory_use;
use crate::store::verdict::Verdict;
use crate::store::{CompareRow, RunRecord, compare::same_workload};

/// One table row's numbers, computed from the run and its point.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub label: String,
    /// The workload's name (a file's stem).
    pub workload: String,
    /// The parameters given, `k=v, …` (empty: the defaults).
    pub params: String,
    pub interpreter: String,
    pub mode: String,
    pub workers: usize,
    pub wall_s: Option<f64>,
    pub items_per_s: Option<f64>,
    /// Against the 1-worker run on the same interpreter.
    pub speedup: Option<f64>,
    /// Against the 1-worker `gil` run on a default build.
    pub speedup_vs_gil_build: Option<f64>,
    pub efficiency: Option<f64>,
    pub cpu_cores: Option<f64>,
    pub peak_rss_mib: Option<f64>,
    pub overhead_mib: Option<f64>,
    /// Mean over workers of the share of time waiting for a GIL (exact GIL
    /// reader; `None` where it could not read the GIL).
    pub gil_wait: Option<f64>,
    /// Why there is no GIL figure (shown on hover over "—").
    pub gil_missing: Option<String>,
    /// Same checksum as the baseline run (`None`: nothing to compare).
    pub checksum_ok: Option<bool>,
    pub status: String,
    /// It went wrong (a stop by the user is not: shown neutrally).
    pub failed: bool,
    /// Its point: the completed repeats of the same (interpreter, mode,
    /// workers, workload, params) — their times' spread (`None` while
    /// none completed).
    pub point: Option<Spread>,
    /// Its own verdicts and its point's (see [`crate::sweep::Judged`]).
    pub verdicts: Vec<Verdict>,
}

impl Row {
    /// "0.101 s ± 16 % (n = 4)" for the row's point.
    pub fn point_text(&self) -> String {
        match self.point {
            Some(sp) if sp.n >= 2 => format!(
                "{:.3} ± {:.0} % (n = {})",
                sp.median,
                sp.relative() * 50.0,
                sp.n
            ),
            Some(sp) => format!("{:.3} (1 run: spread unknown)", sp.median),
            None => "—".into(),
        }
    }
}

/// What a run computed, to compare across runs: a service's checksum over
/// its answers (its harness result only counts requests), else the
/// result's checksum.
pub fn answer_checksum(run: &RunRecord) -> Option<String> {
    match run.service().summary() {
        Some(s) => s.checksum,
        None => run.result().map(|r| r.checksum.clone()),
    }
}

/// The table's rows: the shared [`crate::store::compare_rows`] (what the
/// CLI prints and exports) plus what the window adds — label, params,
/// memory overhead, checksum agreement, the point and the verdicts.
pub fn rows(records: &[&RunRecord]) -> Vec<Row> {
    rows_judged(records, &Judged::of(records))
}

/// [`rows`] with the runs' judgement already made (`judged` is
/// `Judged::of(records)`).
pub fn rows_judged(records: &[&RunRecord], judged: &Judged) -> Vec<Row> {
    let base = crate::store::compare_rows(records);
    records
        .iter()
        .zip(base)
        .enumerate()
        .map(|(i, (run, b))| row(run, b, records, judged, i))
        .collect()
}

/// Row `i` from its shared row `b` and the runs' judgement.
pub fn row(
    run: &RunRecord,
    b: CompareRow,
    records: &[&RunRecord],
    judged: &Judged,
    i: usize,
) -> Row {
    let mib = 1.0 / (1024.0 * 1024.0);
    let mem = memory_use(run);
    // A checksum is checked against every other completed run of the
    // same workload: all must agree.
    let checksum_ok = answer_checksum(run).map(|mine| {
        records
            .iter()
            .filter(|o| same_workload(run, o))
            .filter_map(|o| answer_checksum(o))
            .all(|theirs| theirs == mine)
    });
    Row {
        label: run_label(run),
        workload: std::path::Path::new(&run.spec().workload)
            .file_stem()
            .map_or(run.spec().workload.clone(), |s| {
                s.to_string_lossy().into_owned()
            }),
        params: run
            .spec()
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        interpreter: b.interpreter,
        mode: b.mode,
        workers: b.workers,
        wall_s: b.time_s,
        items_per_s: b.items_per_s,
        speedup: b.speedup,
        speedup_vs_gil_build: b.speedup_vs_gil_build,
        efficiency: b.efficiency,
        cpu_cores: b.cpu_cores,
        // The sampled process tree's peak (never one process's rusage
        // maximum: a different quantity).
        peak_rss_mib: mem.peaks.rss_bytes.map(|b| b as f64 * mib),
        overhead_mib: mem.overhead_rss_bytes.map(|b| b as f64 * mib),
        gil_wait: b.gil_wait,
        gil_missing: b.gil_missing,
        checksum_ok,
        status: if run.result().is_some() {
            "ok".into()
        } else {
            b.status
        },
        failed: run.outcome().is_some_and(|o| o.is_failure()),
        point: judged.point(i).and_then(|p| p.spread),
        verdicts: judged.verdicts.get(i).cloned().unwrap_or_default(),
    }
}
