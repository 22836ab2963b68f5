//! `gilscope bench picture`: what sending the workload's picture (the
//! input once, the output's bands as chunks finish) costs the workload's
//! throughput. Per mode, runs with the picture on and off alternate (the
//! order flips every round, so drift on a shared machine hits both alike);
//! each side's median throughput with its range and spread, the ratio of
//! the medians and the range of the per-round ratios. On a busy shared
//! machine the wall-clock throughput swings by tens of percent between
//! identical runs, so the bench also reports CPU time, which contention
//! barely moves: the harness main thread's (where the picture is made)
//! and the whole run's (rusage), and the main thread's extra CPU with the
//! picture as a share of the run's CPU — the throughput a CPU-bound run
//! gives up for it.

use super::table;
use crate::interp::{DiscoverOptions, Interpreter, Mode, discover};
use crate::kit::number::human;
use crate::run::protocol::Event;
use crate::run::{self, RunEnd, RunMessage, RunSpec};
use crate::sampler::SamplerConfig;
use crate::store::RunRecord;
use crate::store::metrics::harness_cpu;
use anyhow::{Context, bail};
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct PictureArgs {
    /// Built-in workload name or a path to a workload file with the
    /// picture hooks.
    #[arg(long, short = 'w', default_value = "blur")]
    pub workload: String,
    /// Workload parameter, repeatable.
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE", value_parser = super::run::parse_param)]
    pub params: Vec<(String, String)>,
    /// Modes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "gil,ft,process")]
    pub modes: Vec<String>,
    /// Workers in every run.
    #[arg(long, short = 'n', default_value_t = 2)]
    pub workers: usize,
    /// Rounds per mode; a round is one run with the picture and one
    /// without.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
}

/// One run's numbers.
struct Measured {
    items_per_sec: f64,
    picture_events: u64,
    picture_bytes: u64,
    /// The harness main thread's on-CPU seconds during the work.
    main_cpu_s: f64,
    /// The whole run's CPU seconds (rusage, worker processes included).
    run_cpu_s: f64,
}

pub fn picture(args: &PictureArgs) -> anyhow::Result<ExitCode> {
    if args.workers == 0 || args.repeat == 0 {
        bail!("--workers and --repeat must be ≥ 1");
    }
    let interps = discover(&DiscoverOptions::default());
    let mut plan: Vec<(Mode, &Interpreter)> = Vec::new();
    for name in &args.modes {
        let mode = Mode::parse(name.trim())
            .with_context(|| format!("unknown mode '{name}' in --modes"))?;
        let interp = run::pick_interpreter(&interps, mode).with_context(|| {
            format!("no interpreter can run mode '{mode}'; `gilscope pythons install` builds 3.13 and 3.13t")
        })?;
        plan.push((mode, interp));
    }
    let Some((_, first)) = plan.first() else {
        bail!("--modes names no mode");
    };
    run::check_params(&first.path, &args.workload, &args.params).map_err(anyhow::Error::msg)?;
    println!(
        "bench picture: {} {}, {} workers, {} rounds per mode (picture on and off alternating, order flipped each round), \
         sampled at 50 Hz (GIL reader off); throughput = items / elapsed_s (the parallel phase); {} cores; load average at start {}",
        args.workload,
        args.params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
        args.workers,
        args.repeat,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        loadavg()
    );
    let mut rows = Vec::new();
    let mut unit = "items".to_string();
    for (mode, interp) in &plan {
        let spec = RunSpec {
            python: interp.path.clone(),
            interp_name: interp.name.clone(),
            mode: *mode,
            workers: args.workers,
            workload: args.workload.clone(),
            params: args.params.clone(),
            timeout: Some(Duration::from_secs(600)),
        };
        let mut on: Vec<Measured> = Vec::new();
        let mut off: Vec<Measured> = Vec::new();
        for round in 0..args.repeat {
            for picture_on in if round % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            } {
                let (m, u) = measure(interp, &spec, picture_on)?;
                unit = u;
                if picture_on { &mut on } else { &mut off }.push(m);
            }
        }
        if on.iter().any(|m| m.picture_events == 0) {
            bail!(
                "{mode}: a run with the picture on sent none (does workload '{}' have the picture hooks?)",
                args.workload
            );
        }
        if off.iter().any(|m| m.picture_events > 0) {
            bail!("{mode}: a run with the picture off sent picture events");
        }
        for (label, runs) in [("on", &on), ("off", &off)] {
            let rates: Vec<f64> = runs.iter().map(|m| m.items_per_sec).collect();
            let events: Vec<f64> = runs.iter().map(|m| m.picture_events as f64).collect();
            let kib: Vec<f64> = runs
                .iter()
                .map(|m| m.picture_bytes as f64 / 1024.0)
                .collect();
            let main_ms: Vec<f64> = runs.iter().map(|m| m.main_cpu_s * 1e3).collect();
            let run_cpu: Vec<f64> = runs.iter().map(|m| m.run_cpu_s).collect();
            rows.push(vec![
                format!("{mode} · {}", interp.name),
                label.to_string(),
                format!(
                    "{} [{}–{}]",
                    human(median(&rates)),
                    human(min(&rates)),
                    human(max(&rates))
                ),
                format!("{:.1} %", spread_pct(&rates)),
                format!("{:.0}", median(&events)),
                format!("{:.0}", median(&kib)),
                format!(
                    "{:.1} [{:.1}–{:.1}]",
                    median(&main_ms),
                    min(&main_ms),
                    max(&main_ms)
                ),
                format!("{:.2}", median(&run_cpu)),
                String::new(),
                String::new(),
            ]);
        }
        let rates = |v: &[Measured]| v.iter().map(|m| m.items_per_sec).collect::<Vec<f64>>();
        let ratio = median(&rates(&on)) / median(&rates(&off));
        let paired: Vec<f64> = on
            .iter()
            .zip(&off)
            .map(|(a, b)| a.items_per_sec / b.items_per_sec)
            .collect();
        let main = |v: &[Measured]| median(&v.iter().map(|m| m.main_cpu_s).collect::<Vec<_>>());
        let run_cpu = median(&on.iter().map(|m| m.run_cpu_s).collect::<Vec<_>>());
        let extra = main(&on) - main(&off);
        if let Some(last) = rows.last_mut() {
            last[9] = format!(
                "{:+.1} ms = {:+.2} % of the run's CPU",
                extra * 1e3,
                extra / run_cpu * 100.0
            );
            last[8] = format!(
                "{:+.1} % (rounds {:+.1} … {:+.1} %)",
                (ratio - 1.0) * 100.0,
                (min(&paired) - 1.0) * 100.0,
                (max(&paired) - 1.0) * 100.0
            );
        }
    }
    print!(
        "{}",
        table::render(
            &[
                "MODE",
                "PICTURE",
                &format!("{unit}/S median [min–max]"),
                "SPREAD",
                "PICTURE EVENTS / RUN",
                "PICTURE KiB",
                "MAIN THREAD CPU MS median [range]",
                "RUN CPU S",
                "THROUGHPUT ON VS OFF (medians; per round)",
                "MAIN THREAD EXTRA CPU (medians)",
            ],
            &rows
        )
    );
    println!(
        "spread = (max − min) / median over the rounds; load average at the end {}",
        loadavg()
    );
    Ok(ExitCode::SUCCESS)
}

/// One sampled run with the picture on or off; its numbers and unit.
fn measure(
    interp: &Interpreter,
    spec: &RunSpec,
    picture_on: bool,
) -> anyhow::Result<(Measured, String)> {
    let switch = if picture_on { "1" } else { "0" };
    let sampling = SamplerConfig {
        gil_hz: 0.0,
        ..SamplerConfig::default()
    };
    let handle = run::start_with_env(spec, Some(sampling), &[("GILSCOPE_PICTURE", switch)])?;
    let mut picture_events = 0;
    let mut picture_bytes = 0;
    let mut unit = "items".to_string();
    let mut record = RunRecord::new(spec.clone(), interp.clone());
    let case = format!("{} ×{} GILSCOPE_PICTURE={switch}", spec.mode, spec.workers);
    loop {
        let msg = handle
            .messages()
            .recv()
            .context("the run ended without an outcome")?;
        match &msg {
            RunMessage::Event {
                event: Event::Picture(p),
                ..
            } => {
                picture_events += 1;
                picture_bytes += p.input.as_ref().map_or(0, |b| b.rgb.len() as u64);
                picture_bytes += p.bands.iter().map(|b| b.rgb.len() as u64).sum::<u64>();
            }
            RunMessage::Event {
                event: Event::Hello(h),
                ..
            } => {
                if let Some(u) = &h.item_unit {
                    unit = u.to_string();
                }
            }
            _ => {}
        }
        let done = matches!(msg, RunMessage::Finished(_));
        record.eat_message(msg);
        if done {
            break;
        }
    }
    let Some(outcome) = record.outcome() else {
        bail!("{case}: no outcome");
    };
    let RunEnd::Completed { result } = &outcome.end else {
        bail!("{case}: {}", outcome.headline());
    };
    let main_cpu_s = harness_cpu(&record)
        .on_cpu_secs
        .with_context(|| format!("{case}: the harness main thread's CPU was not measured"))?;
    let run_cpu_s = outcome
        .usage
        .map(|u| u.cpu_secs())
        .with_context(|| format!("{case}: no rusage"))?;
    if result.elapsed_s <= 0.0 {
        bail!("{case}: elapsed_s is {}", result.elapsed_s);
    }
    Ok((
        Measured {
            items_per_sec: result.items as f64 / result.elapsed_s,
            picture_events,
            picture_bytes,
            main_cpu_s,
            run_cpu_s,
        },
        unit,
    ))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| {
            let parts: Vec<&str> = s.split_whitespace().take(3).collect();
            (parts.len() == 3).then(|| parts.join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn spread_pct(values: &[f64]) -> f64 {
    let m = median(values);
    if m > 0.0 {
        (max(values) - min(values)) / m * 100.0
    } else {
        f64::NAN
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}
