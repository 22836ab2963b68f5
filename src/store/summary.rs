//! A run in one flat struct: what a table row, a CLI line or a reader of
//! the run file wants without recomputing anything.

use super::load::Load;
use super::metrics::{HarnessCpu, cpu_use, harness_cpu, items_per_sec, memory_use, sampler_use};
use super::record::RunRecord;
use super::stall::{Stall, stall};
use super::verdict::Verdict;
use crate::interp::Mode;
use crate::sampler::SamplerBackend;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// "workload", "script" or "attach" (absent in older files: a workload).
    #[serde(default = "workload_kind")]
    pub kind: String,
    pub workload: String,
    pub mode: Mode,
    pub workers: usize,
    /// The interpreter's name (`3.13t`).
    pub interpreter: String,
    pub python_version: Option<String>,
    pub free_threaded: Option<bool>,
    /// How the run ended, in one line ("running" before it has).
    pub headline: String,
    pub completed: bool,
    pub items: Option<u64>,
    pub elapsed_secs: Option<f64>,
    pub items_per_sec: Option<f64>,
    /// What the items are ("pixels", "numbers"): `items_per_sec` is in
    /// this unit per second ("items" in older files).
    #[serde(default = "items_unit")]
    pub unit: String,
    pub checksum: Option<String>,
    /// The GIL's state at the end (from the result, else the last change,
    /// else at start-up).
    pub gil_enabled_at_end: Option<bool>,
    pub gil_changes: usize,
    /// Why the run has no exact GIL numbers (one line); `None` when it has.
    #[serde(default)]
    pub gil_missing: Option<String>,
    pub wall_secs: Option<f64>,
    pub cpu_secs: Option<f64>,
    pub mean_busy_cores: Option<f64>,
    pub thread_cores: Option<f64>,
    pub rusage_cores: Option<f64>,
    pub baseline_rss_bytes: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    pub overhead_rss_bytes: Option<i64>,
    pub peak_pss_bytes: Option<u64>,
    pub overhead_pss_bytes: Option<i64>,
    /// The largest USS read (absent in older files).
    #[serde(default)]
    pub peak_uss_bytes: Option<u64>,
    /// Why there is no PSS peak ("missing: …"), when there is none.
    #[serde(default)]
    pub pss_missing: Option<String>,
    pub samples: u64,
    pub missed_ticks: u64,
    pub max_late_ns: u64,
    /// The longest time without progress and whether it was a stall
    /// (`None` before `setup_done`; absent in older files).
    #[serde(default)]
    pub stall: Option<Stall>,
    /// The harness's main thread's CPU during the work (absent in older
    /// files).
    #[serde(default)]
    pub harness_cpu: Option<HarnessCpu>,
    /// What else ran: the run's tree, gilscope, other processes (absent in
    /// older files).
    #[serde(default)]
    pub load: Option<Load>,
    /// Why `load` is missing.
    #[serde(default)]
    pub load_missing: Option<String>,
    /// Contended / implausible (as a baseline) — see `store::verdict`.
    #[serde(default)]
    pub verdicts: Vec<Verdict>,
    /// The sampler backend (`proc`, `portable`); `None` when the run was
    /// not sampled (absent in older files).
    #[serde(default)]
    pub sampler: Option<SamplerBackend>,
    /// Why the run has no per-thread states although it was sampled.
    #[serde(default)]
    pub thread_states_missing: Option<String>,
    /// A service run's load: requests/s, latency, errors, the answers'
    /// checksum, the generator's own CPU (absent for batch runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<super::service::ServiceSummary>,
}

fn workload_kind() -> String {
    "workload".into()
}

fn items_unit() -> String {
    "items".into()
}

/// The summary of `run` as it stands.
pub fn summarize(run: &RunRecord) -> RunSummary {
    let spec = run.spec();
    let info = run.interpreter().info();
    let result = run.result();
    let outcome = run.outcome();
    let cpu = cpu_use(run);
    let memory = memory_use(run);
    let sampler = sampler_use(run);
    let load = run.what_else();
    let gil_enabled_at_end = result
        .and_then(|r| r.gil_enabled)
        .or(run.gil_changes().last().map(|g| g.enabled))
        .or(run.hello().map(|h| h.gil_enabled));
    RunSummary {
        kind: spec.kind().name().to_string(),
        workload: spec.workload.clone(),
        mode: spec.mode,
        workers: spec.workers,
        interpreter: run.interpreter().name.clone(),
        python_version: info.map(|i| i.version.clone()),
        free_threaded: info.map(|i| i.free_threaded),
        headline: outcome.map_or_else(|| "running".to_string(), |o| o.headline()),
        completed: result.is_some(),
        items: result.map(|r| r.items),
        elapsed_secs: result.map(|r| r.elapsed_s),
        items_per_sec: items_per_sec(run),
        unit: run.unit().to_string(),
        checksum: result.map(|r| r.checksum.clone()),
        gil_enabled_at_end,
        gil_changes: run.gil_changes().count(),
        gil_missing: run.gil().missing_reason(),
        wall_secs: outcome.map(|o| o.wall_secs),
        cpu_secs: outcome.and_then(|o| o.usage).map(|u| u.cpu_secs()),
        mean_busy_cores: cpu.mean_busy_cores,
        thread_cores: cpu.thread_cores,
        rusage_cores: cpu.rusage_cores,
        baseline_rss_bytes: memory.baseline.map(|b| b.rss_bytes),
        peak_rss_bytes: memory.peaks.rss_bytes,
        overhead_rss_bytes: memory.overhead_rss_bytes,
        peak_pss_bytes: memory.peaks.pss_peak(),
        overhead_pss_bytes: memory.overhead_pss_bytes,
        peak_uss_bytes: memory.peaks.uss_bytes,
        pss_missing: memory.peaks.pss_missing_reason(),
        samples: sampler.samples,
        missed_ticks: sampler.missed_ticks,
        max_late_ns: sampler.max_late_ns,
        stall: stall(run, None),
        harness_cpu: Some(harness_cpu(run)),
        load: load.as_ref().ok().cloned(),
        load_missing: load.err(),
        verdicts: super::service_verdict::run_verdicts(run),
        sampler: (!run.series().is_empty()).then(|| run.sampler_backend()),
        thread_states_missing: run.thread_states_missing().map(str::to_string),
        service: run.service().summary(),
    }
}
