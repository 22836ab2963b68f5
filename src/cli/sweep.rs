//! `gilscope sweep`: a workload over modes × worker counts × repeats.

use super::EXIT_USAGE;
use crate::interp::{DiscoverOptions, Mode, discover};
use crate::sweep::model::SWEEP_FILE_NAME;
use crate::sweep::{SweepEvent, aggregate, choose_interpreters, make_plan, run_sweep, runs_of};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// `SweepArgs` parsed on their own (the headless demo runs a sweep).
#[derive(Debug, clap::Parser)]
pub struct SweepArgsParser {
    #[command(flatten)]
    pub args: SweepArgs,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Built-in workload name or a path to a workload file.
    #[arg(long, short = 'w')]
    pub workload: String,
    /// Workload parameter, repeatable: --param n=200000.
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE", value_parser = super::run::parse_param)]
    pub params: Vec<(String, String)>,
    /// Modes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = super::ALL_MODES)]
    pub modes: Vec<String>,
    /// Worker counts, comma-separated (default: 1, 2, 4, … up to the number of cores).
    #[arg(long, value_delimiter = ',')]
    pub workers: Vec<usize>,
    /// Interpreters by name, comma-separated; each mode uses the first that can run it.
    #[arg(long, value_delimiter = ',')]
    pub interp: Vec<String>,
    /// Runs per point; reports take the median and show the spread.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// After --repeat rounds (at least 2), repeat each point whose times
    /// spread (max − min over the median) by more than P % until it does
    /// not or --max-repeats is reached; the points that never settled are
    /// named at the end and in sweep.json.
    #[arg(long, value_name = "P")]
    pub until_stable: Option<f64>,
    /// The most runs of one point with --until-stable.
    #[arg(long, value_name = "N", default_value_t = crate::sweep::plan::DEFAULT_MAX_REPEATS)]
    pub max_repeats: usize,
    /// Directory for the run files and sweep.json (must not hold a sweep yet).
    #[arg(long)]
    pub out: PathBuf,
    /// Kill a run after this many seconds (it is recorded as failed).
    #[arg(long, value_name = "SECS", default_value_t = 600.0)]
    pub timeout: f64,
    #[command(flatten)]
    pub sampling: super::run::SamplingArgs,
    /// Do not send the workload's picture (the same as --param picture=0).
    #[arg(long)]
    pub no_picture: bool,
    /// Print the points (medians, spreads, speedups, verdicts) as JSON
    /// instead of the table; progress goes to stderr.
    #[arg(long)]
    pub json: bool,
    /// Service sweeps (-w service): the offered rates, requests/s,
    /// comma-separated; every (mode, workers) runs at each, open loop.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "R1,R2,…",
        help_heading = "Service load"
    )]
    pub rps: Vec<f64>,
    /// Service sweeps: the latency target — a mode's knee is the highest
    /// offered rate whose p99 stays under it (e.g. 50ms, 0.2s; default 50ms).
    #[arg(long, value_name = "TIME", value_parser = parse_ms, help_heading = "Service load")]
    pub p99_target: Option<f64>,
    /// Service sweeps: seconds of load per run (default 5).
    #[arg(long, value_name = "SECS", help_heading = "Service load")]
    pub duration: Option<f64>,
    /// Service sweeps: keep-alive connections per run (default 32).
    #[arg(long, value_name = "N", help_heading = "Service load")]
    pub connections: Option<usize>,
    /// Service sweeps: seconds within which a request's whole answer must
    /// arrive, else it is given up on and counted in the tail (default 5).
    #[arg(long, value_name = "SECS", help_heading = "Service load")]
    pub request_timeout: Option<f64>,
    /// Service sweeps: seconds of warm-up per run, sent and discarded
    /// before the measured window (default 0.5).
    #[arg(long, value_name = "SECS", help_heading = "Service load")]
    pub warmup: Option<f64>,
    /// Service sweeps: after the grid, search each knee between its last
    /// good and first bad rate until the gap is within this % of the knee
    /// (default 10; 0 for no search).
    #[arg(long, value_name = "PCT", help_heading = "Service load")]
    pub knee_resolution: Option<f64>,
}

/// `50ms`, `0.2s`, `50` (ms) → milliseconds.
fn parse_ms(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (t, 1.0)
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v * scale)
        .ok_or_else(|| format!("'{s}' is not a time > 0 like 50ms or 0.2s"))
}

/// 1, 2, 4, … below `cores`, then `cores`.
pub fn default_workers(cores: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut n = 1;
    while n < cores {
        out.push(n);
        n *= 2;
    }
    out.push(cores.max(1));
    out
}

fn usage(msg: String) -> anyhow::Result<ExitCode> {
    eprintln!("error: {msg}");
    Ok(ExitCode::from(EXIT_USAGE))
}

pub fn run(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    let mut modes = Vec::new();
    for name in &args.modes {
        match Mode::parse(name.trim()) {
            Some(m) if !modes.contains(&m) => modes.push(m),
            Some(_) => {}
            None => {
                return usage(format!(
                    "unknown mode '{name}' in --modes; choose from gil, ft, ft-gil, subinterp, process"
                ));
            }
        }
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let workers = if args.workers.is_empty() {
        default_workers(cores)
    } else {
        args.workers.clone()
    };
    if workers.contains(&0) || args.repeat == 0 || args.timeout.is_nan() || args.timeout <= 0.0 {
        return usage("--workers must be ≥ 1, --repeat ≥ 1 and --timeout > 0".into());
    }
    if let Some(p) = args.until_stable
        && (!p.is_finite() || p <= 0.0 || args.max_repeats < 2)
    {
        return usage("--until-stable takes a percentage > 0 and --max-repeats must be ≥ 2".into());
    }
    // A spread needs two runs.
    let repeat = if args.until_stable.is_some() {
        args.repeat.max(2).min(args.max_repeats)
    } else {
        args.repeat
    };
    if args.out.join(SWEEP_FILE_NAME).exists() {
        return usage(format!(
            "{} already holds a sweep; choose another --out (or `gilscope report {}` to see it)",
            args.out.display(),
            args.out.display()
        ));
    }
    if let Err(msg) = super::run::check_workload(&args.workload) {
        return usage(msg);
    }
    let service = args.workload == "service" || !args.rps.is_empty();
    let mut params = args.params.clone();
    if service {
        if args.rps.is_empty() {
            return usage(
                "a service sweep needs the offered rates: --rps 100,200,400,… (requests/s)".into(),
            );
        }
        if args.rps.iter().any(|r| !r.is_finite() || *r <= 0.0) {
            return usage("--rps: every rate must be a number of requests/s > 0".into());
        }
        if args.until_stable.is_some() {
            return usage(
                "--until-stable works on batch sweeps, not on service sweeps (--rps)".into(),
            );
        }
        let load = super::run::LoadArgs {
            rps: None,
            clients: None,
            duration: args.duration,
            connections: args.connections,
            request_timeout: args.request_timeout,
            warmup: args.warmup,
        };
        if args
            .knee_resolution
            .is_some_and(|r| !r.is_finite() || r < 0.0)
        {
            return usage(
                "--knee-resolution: a % of the knee >= 0 (e.g. 10; 0 turns the search off)".into(),
            );
        }
        params.extend(load.params());
        if let Err(msg) = crate::loadgen::LoadSpec::from_params(&args.workload, &params) {
            return usage(msg);
        }
    } else if args.p99_target.is_some() || args.duration.is_some() || args.knee_resolution.is_some()
    {
        return usage(
            "--p99-target, --duration and --knee-resolution are for service sweeps (-w service --rps …)"
                .into(),
        );
    }
    let found = discover(&DiscoverOptions::default());
    let chosen = match choose_interpreters(&modes, &args.interp, &found) {
        Ok(c) => c,
        Err(msg) => return usage(msg),
    };
    // the load.* params (--duration, --connections, …) go into the plan
    let params = super::run::with_picture_switch(&params, args.no_picture);
    // Every parameter converted once, before the first run starts.
    if let Some((_, interp)) = chosen.first()
        && let Err(msg) = crate::run::check_params(
            &interp.path,
            &args.workload,
            &crate::loadgen::harness_params(&params),
        )
    {
        return usage(msg);
    }
    let mut plan = make_plan(
        &args.workload,
        &params,
        &modes,
        &workers,
        repeat,
        &chosen,
        &found,
    );
    plan.until_stable_pct = args.until_stable;
    plan.max_repeats = args.until_stable.map(|_| args.max_repeats);
    if service {
        // latency against load per mode; no single-thread overhead runs
        plan = plan.without_overhead();
        plan.rps = args.rps.clone();
        plan.p99_target_ms = Some(
            args.p99_target
                .unwrap_or(crate::sweep::service::DEFAULT_P99_TARGET_MS),
        );
        plan.knee_resolution_pct = Some(
            args.knee_resolution
                .unwrap_or(crate::sweep::knee::DEFAULT_KNEE_RESOLUTION_PCT),
        );
    }
    let total = runs_of(&plan).len();
    std::fs::create_dir_all(&args.out)?;
    // With --json, stdout carries only the JSON.
    let say = |line: String| {
        if args.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    say(format!("sweep: {} runs into {}", total, args.out.display()));
    for p in &plan.interpreters {
        say(format!(
            "  {:<9} {} ({})",
            p.mode.as_str(),
            p.name,
            p.path.display()
        ));
    }
    let stop_rx = super::ctrlc_channel();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("  [{bar:40}] {pos}/{len} runs  ETA {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    let command: Vec<String> = std::env::args().collect();
    let sampling = match args.sampling.config() {
        Ok(config) => config,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    let mut failures = 0;
    let file = run_sweep(
        plan,
        &found,
        &args.out,
        command,
        sampling,
        Some(Duration::from_secs_f64(args.timeout)),
        &stop_rx,
        |ev| match ev {
            SweepEvent::RunStarted {
                mode,
                workers,
                repeat,
                total,
                ..
            } => {
                bar.set_length(total as u64);
                bar.set_message(format!("{mode} ×{workers} (repeat {})", repeat + 1));
            }
            SweepEvent::RunFinished {
                completed,
                headline,
                ..
            } => {
                bar.inc(1);
                if !completed {
                    failures += 1;
                    bar.suspend(|| {
                        eprintln!("  run failed (recorded, sweep continues): {headline}")
                    });
                }
            }
        },
    )?;
    bar.finish_and_clear();
    let records = file.load_runs(&args.out)?;
    if service {
        print_knees(&file, &records);
        println!(
            "wrote {} and {} run files; `gilscope report {}` draws latency against load per mode",
            args.out.join(SWEEP_FILE_NAME).display(),
            file.runs.len(),
            args.out.display()
        );
        return Ok(if file.interrupted {
            ExitCode::from(super::run::EXIT_STOPPED)
        } else {
            ExitCode::SUCCESS
        });
    }
    let agg = aggregate(&records);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&agg)?);
        return Ok(if file.interrupted {
            ExitCode::from(super::run::EXIT_STOPPED)
        } else {
            ExitCode::SUCCESS
        });
    }
    let planned = if file.runs.len() > total {
        format!("{total} planned + {} until stable", file.runs.len() - total)
    } else {
        total.to_string()
    };
    println!(
        "{} of {} runs done{}{}; checksums {}",
        file.runs.len(),
        planned,
        if failures > 0 {
            format!(", {failures} failed")
        } else {
            String::new()
        },
        if file.interrupted {
            " — interrupted, the finished runs are kept"
        } else {
            ""
        },
        if agg.checksums_agree {
            "agree"
        } else {
            "DIFFER"
        }
    );
    for p in &agg.points {
        let time = p
            .spread
            .map_or("-".into(), |s| s.text(|v| format!("{v:.3} s")));
        let speedup = match (p.speedup, p.speedup_range) {
            (Some(s), Some([lo, hi])) => format!("{s:.2}x ({lo:.2}–{hi:.2})"),
            (Some(s), None) => format!("{s:.2}x"),
            (None, _) => "-".into(),
        };
        let startup = p
            .median_startup_secs
            .map_or(String::new(), |s| format!("  start-up {s:.2} s"));
        println!(
            "  {:<9} {:<7} ×{:<3} {time}  speedup {speedup}{startup}  [{}]",
            p.mode.as_str(),
            p.interpreter,
            p.workers,
            crate::store::verdict::status(&p.verdicts)
        );
        for v in &p.verdicts {
            println!("      {}: {}", v.kind.label(), v.reason);
        }
    }
    if let Some(pct) = file.plan.until_stable_pct {
        if file.unsettled.is_empty() {
            println!("  every point settled under {pct} % spread");
        } else {
            println!("  never settled under {pct} % spread:");
            for u in &file.unsettled {
                println!("    {u}");
            }
        }
    }
    if let Some(pct) = agg.overhead.ft_overhead_pct {
        println!(
            "  single-thread overhead of the free-threaded build: {pct:+.1}% (ft vs gil, 1 worker)"
        );
    }
    println!(
        "wrote {} and {} run files; `gilscope report {}` renders the charts",
        args.out.join(SWEEP_FILE_NAME).display(),
        file.runs.len(),
        args.out.display()
    );
    Ok(if file.interrupted {
        ExitCode::from(super::run::EXIT_STOPPED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The knee of each mode (found to the plan's resolution) and its ratio
/// to the gil thread pool ("≥" where a curve never saturated).
fn print_knees(file: &crate::sweep::SweepFile, records: &[crate::store::RunRecord]) {
    let target = file
        .plan
        .p99_target_ms
        .unwrap_or(crate::sweep::service::DEFAULT_P99_TARGET_MS);
    let resolution = file
        .plan
        .knee_resolution_pct
        .unwrap_or(crate::sweep::knee::DEFAULT_KNEE_RESOLUTION_PCT);
    let agg = crate::sweep::service_verdict::aggregate_service(records, target);
    println!(
        "{} runs; answers {}; knee = highest offered rate with p99 (over all requests, failures included) ≤ {target} ms, searched to {resolution} %, on {} cores shared with the load generator:",
        file.runs.len(),
        if agg.checksums_agree {
            "agree"
        } else {
            "DIFFER"
        },
        file.machine.cores
    );
    for c in &agg.curves {
        let ratio = |r: Option<crate::sweep::service::Ratio>| {
            r.map_or_else(String::new, |r| format!(" ({} gil)", r.text()))
        };
        let points: Vec<String> = c
            .points
            .iter()
            .map(|p| {
                format!(
                    "{:.0}→{:.0} p99 {}",
                    p.rps,
                    p.achieved_rps,
                    p.p99_ms.map_or("—".into(), |v| format!("{v:.1} ms"))
                )
            })
            .collect();
        let not_gil = c.mode != Mode::Gil;
        println!(
            "  {:<9} ×{:<2} {:<6} knee {}{}  max {}{:.0} req/s{}",
            c.mode.as_str(),
            c.workers,
            c.interpreter,
            c.knee_text(),
            ratio(agg.knee_ratio(c).filter(|_| not_gil)),
            if c.saturated() { "" } else { "≥ " },
            c.max_achieved_rps,
            ratio(agg.throughput_ratio(c).filter(|_| not_gil)),
        );
        if let Some(k) = c.knee_point() {
            println!(
                "      at the knee: generator p99 {} · max {} behind schedule{}",
                k.lateness_p99_ms
                    .map_or("—".into(), |v| format!("{v:.2} ms")),
                k.lateness_max_ms
                    .map_or("—".into(), |v| format!("{v:.2} ms")),
                if k.generator_bound_runs > 0 {
                    format!(" — {} run(s) GENERATOR-BOUND", k.generator_bound_runs)
                } else {
                    String::new()
                }
            );
        }
        if !c.verdicts.is_empty() {
            println!(
                "      {}: {}",
                crate::store::verdict::labels(&c.verdicts).to_uppercase(),
                crate::store::verdict::text(&c.verdicts)
            );
        }
        println!("      {}", points.join(" · "));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_in_ms() {
        assert_eq!(super::parse_ms("50ms"), Ok(50.0));
        assert_eq!(super::parse_ms("0.2s"), Ok(200.0));
        assert_eq!(super::parse_ms("7"), Ok(7.0));
        assert!(super::parse_ms("0ms").is_err());
        assert!(super::parse_ms("fast").is_err());
    }

    #[test]
    fn default_worker_counts() {
        assert_eq!(super::default_workers(1), [1]);
        assert_eq!(super::default_workers(2), [1, 2]);
        assert_eq!(super::default_workers(6), [1, 2, 4, 6]);
        assert_eq!(super::default_workers(64), [1, 2, 4, 8, 16, 32, 64]);
    }
}
