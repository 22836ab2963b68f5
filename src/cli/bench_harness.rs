//! `gilscope bench harness`: what the harness's main thread costs while it
//! forwards the workers' chunk reports, with chunk coalescing off (one event
//! per chunk, `GILSCOPE_CHUNK_FLUSH_MS=0`) and on (the default), at several
//! worker counts, with 1 ms chunks (the built-in `sleep` workload, `ms=1`:
//! the workers wait, so the chunks come as fast as the harness takes them).

use super::table;
use crate::interp::{DiscoverOptions, Interpreter, Mode, discover};
use crate::kit::stats::median_or_nan as median;
use crate::run::{self, RunEnd, RunMessage, RunSpec};
use crate::sampler::SamplerConfig;
use crate::store::RunRecord;
use crate::store::metrics::harness_cpu;
use anyhow::{Context, bail};
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct HarnessArgs {
    /// Worker counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "2,16,64")]
    pub workers: Vec<usize>,
    /// 1 ms chunks per worker in each run.
    #[arg(long, default_value_t = 500)]
    pub chunks_per_worker: u64,
    /// Runs per case (off and on alternate); the median is reported with
    /// the range.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// gil, ft, subinterp or process.
    #[arg(long, short = 'm', default_value = "gil")]
    pub mode: String,
    /// Interpreter by its name in `gilscope pythons list` [default: the
    /// best one for the mode].
    #[arg(long)]
    pub interp: Option<String>,
}

/// What one run measured.
struct Measured {
    share: f64,
    secs: f64,
    events_per_sec: f64,
    chunks_per_sec: f64,
}

/// The harness's environment for coalescing off / on.
const CASES: [(&str, &str); 2] = [("off (every chunk)", "0"), ("on (50 ms)", "50")];

pub fn harness(args: &HarnessArgs) -> anyhow::Result<ExitCode> {
    if args.workers.is_empty() || args.workers.contains(&0) || args.repeat == 0 {
        bail!("--workers needs counts ≥ 1 and --repeat ≥ 1");
    }
    if args.chunks_per_worker == 0 {
        bail!("--chunks-per-worker must be ≥ 1");
    }
    let mode = Mode::parse(&args.mode).with_context(|| {
        format!(
            "unknown mode '{}'; choose gil, ft, ft-gil, subinterp or process",
            args.mode
        )
    })?;
    let interps = discover(&DiscoverOptions::default());
    let interp = match &args.interp {
        Some(name) => interps.iter().find(|i| &i.name == name).with_context(|| {
            format!("no interpreter named '{name}' (see `gilscope pythons list`)")
        })?,
        None => run::pick_interpreter(&interps, mode).with_context(|| {
            format!("no interpreter can run mode '{mode}'; `gilscope pythons install` builds 3.13 and 3.13t")
        })?,
    };
    run::check_mode(interp, mode).map_err(anyhow::Error::msg)?;
    println!(
        "bench harness: sleep ms=1, {} chunks per worker, mode {mode} on {} ({}), {} repeats; \
         the harness main thread's on-CPU time during the work (schedstat, /proc sampler at 50 Hz, GIL reader off); {} cores",
        args.chunks_per_worker,
        interp.name,
        interp.path.display(),
        args.repeat,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let mut rows = Vec::new();
    for &workers in &args.workers {
        let spec = RunSpec {
            python: interp.path.clone(),
            interp_name: interp.name.clone(),
            mode,
            workers,
            workload: "sleep".into(),
            params: vec![
                ("ms".into(), "1".into()),
                (
                    "count".into(),
                    (args.chunks_per_worker * workers as u64).to_string(),
                ),
            ],
            timeout: Some(Duration::from_secs(600)),
        };
        let mut results: [Vec<Measured>; 2] = [Vec::new(), Vec::new()];
        // Alternate off and on so drift on a shared machine hits both alike.
        for _ in 0..args.repeat {
            for (case, (_, flush_ms)) in CASES.iter().enumerate() {
                results[case].push(measure(interp, &spec, flush_ms)?);
            }
        }
        for (case, (label, _)) in CASES.iter().enumerate() {
            let r = &results[case];
            let shares: Vec<f64> = r.iter().map(|m| m.share * 100.0).collect();
            let secs: Vec<f64> = r.iter().map(|m| m.secs).collect();
            let events: Vec<f64> = r.iter().map(|m| m.events_per_sec).collect();
            let chunks: Vec<f64> = r.iter().map(|m| m.chunks_per_sec).collect();
            rows.push(vec![
                workers.to_string(),
                label.to_string(),
                format!(
                    "{:.1}% [{:.1}–{:.1}]",
                    median(&shares),
                    min(&shares),
                    max(&shares)
                ),
                format!("{:.3}", median(&secs)),
                format!("{:.0}", median(&events)),
                format!("{:.0}", median(&chunks)),
            ]);
        }
    }
    print!(
        "{}",
        table::render(
            &[
                "WORKERS",
                "COALESCING",
                "MAIN THREAD % OF A CORE (median [range])",
                "MAIN CPU S",
                "CHUNK EVENTS/S",
                "CHUNKS/S",
            ],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// One sampled run with `GILSCOPE_CHUNK_FLUSH_MS=flush_ms`.
fn measure(interp: &Interpreter, spec: &RunSpec, flush_ms: &str) -> anyhow::Result<Measured> {
    let sampling = SamplerConfig {
        gil_hz: 0.0,
        ..SamplerConfig::default()
    };
    let handle = run::start_with_env(
        spec,
        Some(sampling),
        &[("GILSCOPE_CHUNK_FLUSH_MS", flush_ms)],
    )?;
    let mut record = RunRecord::new(spec.clone(), interp.clone());
    loop {
        let msg = handle
            .messages()
            .recv()
            .context("the run ended without an outcome")?;
        let done = matches!(msg, RunMessage::Finished(_));
        record.eat_message(msg);
        if done {
            break;
        }
    }
    let case = format!(
        "{} ×{} GILSCOPE_CHUNK_FLUSH_MS={flush_ms}",
        spec.mode, spec.workers
    );
    match record.outcome().map(|o| &o.end) {
        Some(RunEnd::Completed { .. }) => {}
        Some(_) | None => bail!(
            "{case}: {}",
            record
                .outcome()
                .map_or("no outcome".into(), |o| o.headline())
        ),
    }
    let cpu = harness_cpu(&record);
    let (Some(share), Some(secs)) = (cpu.core_share, cpu.on_cpu_secs) else {
        bail!(
            "{case}: the main thread's CPU was not measured: {}",
            cpu.missing.as_deref().unwrap_or("unknown reason")
        );
    };
    let window_s = record
        .work_window_ns()
        .map(|(a, b)| (b - a) as f64 / 1e9)
        .filter(|&w| w > 0.0)
        .with_context(|| format!("{case}: no work window"))?;
    let events = record.chunks().count() as u64 + record.dropped_chunk_events();
    Ok(Measured {
        share,
        secs,
        events_per_sec: events as f64 / window_s,
        chunks_per_sec: record.chunks_done() as f64 / window_s,
    })
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}
