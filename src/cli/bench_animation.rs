//! `gilscope bench animation`: how long rendering a race animation takes
//! (median and range of a few renders at 1920×1080 and 1280×720, against
//! the race's own length), the file sizes, and the size of the raced runs'
//! traces and of a synthetic 10-minute attach's.
//!
//! The race is two real runs: the files given, or the blur on 2 workers
//! in gil and in ft recorded here first.

use super::table;
use crate::export::animation::{self, AnimationOptions, Racer};
use crate::interp::{DiscoverOptions, Mode, discover};
use crate::kit::stats::median_or_nan as median;
use crate::run::{self, RunMessage, RunSpec};
use crate::store::RunRecord;
use crate::sweep::judged::Judged;
use anyhow::bail;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct AnimationBenchArgs {
    /// Race these two run files instead of recording two blur runs.
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    pub race: Vec<PathBuf>,
    /// The blur's size when recording (its long side, pixels).
    #[arg(long, default_value_t = 700)]
    pub blur_size: u64,
    /// Renders per size; the median and range are printed.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Frames per second of the animation.
    #[arg(long, default_value_t = 15.0)]
    pub fps: f64,
    /// Threads of the synthetic attach whose trace is sized.
    #[arg(long, default_value_t = 8)]
    pub attach_threads: u32,
    /// Minutes of the synthetic attach whose trace is sized.
    #[arg(long, default_value_t = 10)]
    pub attach_minutes: u64,
}

/// One sampled run of the blur on 2 workers in `mode`.
fn record(mode: Mode, size: u64) -> anyhow::Result<RunRecord> {
    let found = discover(&DiscoverOptions::default());
    let Some(interp) = run::pick_interpreter(&found, mode) else {
        bail!("no interpreter here runs {mode} (`gilscope pythons install` builds 3.13 and 3.13t)");
    };
    let spec = RunSpec {
        python: interp.path.clone(),
        interp_name: interp.name.clone(),
        mode,
        workers: 2,
        workload: "blur".into(),
        params: vec![("size".into(), size.to_string())],
        timeout: Some(Duration::from_secs(300)),
    };
    let handle = run::start_sampled(&spec, Some(crate::sampler::SamplerConfig::default()))?;
    let mut record = RunRecord::new(spec, interp.clone());
    for msg in handle.messages() {
        let done = matches!(msg, RunMessage::Finished(_));
        record.eat_message(msg);
        if done {
            break;
        }
    }
    if record.result().is_none() {
        bail!(
            "the {mode} blur run did not complete: {}",
            record
                .outcome()
                .map_or("no outcome".into(), |o| o.headline())
        );
    }
    Ok(record)
}

pub fn animation_bench(args: &AnimationBenchArgs) -> anyhow::Result<ExitCode> {
    let runs = if args.race.is_empty() {
        println!(
            "recording the blur (size={}) on 2 workers in gil and ft…",
            args.blur_size
        );
        vec![
            record(Mode::Gil, args.blur_size)?,
            record(Mode::Ft, args.blur_size)?,
        ]
    } else {
        args.race
            .iter()
            .map(|p| RunRecord::load(p))
            .collect::<Result<Vec<_>, _>>()?
    };
    let refs: Vec<&RunRecord> = runs.iter().collect();
    let judged = Judged::of(&refs);
    let racer = |i: usize| Racer {
        run: refs[i],
        point: judged.point(i),
    };
    let race_s = animation::race_seconds(refs[0], refs[1])?;
    println!(
        "race: {} vs {}, {race_s:.2} s; {} fps, real time, {} renders per size",
        crate::store::labels::run_label(refs[0]),
        crate::store::labels::run_label(refs[1]),
        args.fps,
        args.repeat
    );
    let dir = tempfile_dir()?;
    let mut rows = Vec::new();
    for size in [(1920, 1080), (1280, 720)] {
        let options = AnimationOptions {
            size,
            fps: args.fps,
            ..AnimationOptions::default()
        };
        let out = dir.join(format!("race-{}x{}.gif", size.0, size.1));
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..args.repeat.max(1) {
            let started = Instant::now();
            let r = animation::render_file(racer(0), racer(1), &options, &out, |_| {})?;
            times.push(started.elapsed().as_secs_f64());
            last = Some(r);
        }
        let Some(r) = last else { continue };
        let (lo, hi) = times.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &t| {
            (lo.min(t), hi.max(t))
        });
        let med = median(&times);
        rows.push(vec![
            format!("{}x{}", size.0, size.1),
            r.frames.to_string(),
            format!("{med:.2} s"),
            format!("{lo:.2}–{hi:.2} s"),
            format!("{:.0} %", med / race_s * 100.0),
            format!("{:.2} MiB", r.bytes as f64 / 1048576.0),
        ]);
    }
    print!(
        "{}",
        table::render(
            &["SIZE", "FRAMES", "RENDER", "RANGE", "OF THE RACE", "GIF"],
            &rows
        )
    );
    let mut rows = Vec::new();
    for run in &refs {
        rows.push(trace_row(&crate::store::labels::run_label(run), run)?);
    }
    println!(
        "feeding a synthetic {}-minute attach ({} threads, /proc at 50 Hz, GIL at 10 Hz)…",
        args.attach_minutes, args.attach_threads
    );
    let attach = super::bench_store::synthetic_attach(args.attach_threads, args.attach_minutes);
    rows.push(trace_row(
        &format!(
            "attach, {} threads, {} min (synthetic)",
            args.attach_threads, args.attach_minutes
        ),
        &attach,
    )?);
    print!(
        "{}",
        table::render(
            &["TRACE OF", "SPANS", "COUNTERS", "SIZE", "WRITTEN IN"],
            &rows
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

fn trace_row(name: &str, run: &RunRecord) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let stats = crate::export::trace::write(run, std::io::sink())?;
    Ok(vec![
        name.to_string(),
        stats.spans.to_string(),
        stats.counters.to_string(),
        format!("{:.2} MiB", stats.bytes as f64 / 1048576.0),
        format!("{:.2} s", started.elapsed().as_secs_f64()),
    ])
}

/// A fresh folder for the renders.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("gilscope-bench-animation-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
