//! `gilscope export …`: a race as an animation for a slide, a run as a
//! trace for Perfetto or `chrome://tracing`. Only arguments and progress
//! here; the work is in [`crate::export`].

use crate::export::animation::{self, AnimationOptions, Racer, Rendered};
use crate::store::RunRecord;
use crate::sweep::{SweepFile, judged::Judged};
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The race as an animated GIF (or APNG, .png) for a slide, rendered without a window: two run files, or the pair the app races from a sweep folder.
    Animation(AnimationArgs),
    /// A run as Chrome trace-event JSON (Perfetto, chrome://tracing): a track per thread with its states and GIL spans, counters for cores, memory and throughput, the run as metadata.
    Trace(TraceArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("runs").required(true).args(["race", "sweep"])))]
pub struct AnimationArgs {
    /// The two run files to race (`gilscope run --record FILE`, a sweep's runs)
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    pub race: Vec<PathBuf>,
    /// A sweep folder: race the pair the app races (the best multi-worker point against the GIL, each by its median run), with the points' medians and spreads in the headline
    #[arg(long, value_name = "DIR", conflicts_with = "race")]
    pub sweep: Option<PathBuf>,
    /// The animation: .gif, or .png for an animated PNG
    #[arg(long, value_name = "FILE", default_value = "race.gif")]
    pub out: PathBuf,
    /// Replay speed: 1 is real time, 2 twice as fast, 0.5 half
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Size in pixels, WIDTHxHEIGHT (1920x1080, 1280x720, …)
    #[arg(long, value_name = "WxH", default_value = "1920x1080", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Frames per second (1–50)
    #[arg(long, default_value_t = 15.0)]
    pub fps: f64,
    /// Seconds the last frame is held
    #[arg(long, default_value_t = 3.0)]
    pub hold: f64,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("'{s}' is not WIDTHxHEIGHT (e.g. 1920x1080)");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    Ok((w, h))
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The run file (`gilscope run --record FILE`, a sweep's run, the app's "Save run")
    pub run: PathBuf,
    /// Where to write the trace [default: RUN with .trace.json]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(cmd: ExportCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ExportCommand::Animation(args) => animation_cmd(&args),
        ExportCommand::Trace(args) => trace(&args),
    }
}

fn animation_cmd(args: &AnimationArgs) -> anyhow::Result<ExitCode> {
    let options = AnimationOptions {
        size: args.size,
        fps: args.fps,
        speed: args.speed,
        hold_s: args.hold,
    };
    // Arguments first: nothing is loaded for a file that cannot be written.
    if let Err(e) = animation::format_of(&args.out).and_then(|_| options.check()) {
        eprintln!("error: {e}");
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    let rendered = if let Some(dir) = &args.sweep {
        let sweep = SweepFile::load(dir)?;
        let runs = sweep.load_runs(dir)?;
        race_runs(&runs, &options, &args.out, true)?.ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no two completed runs of one workload and worker count in two modes to race (sweep at least two modes)",
                dir.display()
            )
        })?
    } else {
        let runs = args
            .race
            .iter()
            .map(|p| RunRecord::load(p))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&RunRecord> = runs.iter().collect();
        let judged = Judged::of(&refs);
        render(&refs, &judged, (0, 1), &options, &args.out, true)?
    };
    println!(
        "{}: {} frames, {:.1} MiB, plays {:.1} s (the race {:.2} s at {}×, the last frame held {} s); rendered in {:.1} s",
        args.out.display(),
        rendered.frames,
        rendered.bytes as f64 / 1048576.0,
        rendered.plays_s,
        rendered.race_s,
        args.speed,
        args.hold,
        rendered.render_s
    );
    Ok(ExitCode::SUCCESS)
}

/// Races the pair the app would race among `runs` into `out`; `None`
/// when no two runs can race.
pub(super) fn race_runs(
    runs: &[RunRecord],
    options: &AnimationOptions,
    out: &Path,
    bar: bool,
) -> anyhow::Result<Option<Rendered>> {
    let refs: Vec<&RunRecord> = runs.iter().collect();
    let judged = Judged::of(&refs);
    let Some(pair) = crate::sweep::race::race_pair(&refs, &judged) else {
        return Ok(None);
    };
    render(&refs, &judged, pair, options, out, bar).map(Some)
}

fn render(
    runs: &[&RunRecord],
    judged: &Judged,
    (a, b): (usize, usize),
    options: &AnimationOptions,
    out: &Path,
    bar: bool,
) -> anyhow::Result<Rendered> {
    let progress = if bar {
        let p = ProgressBar::new(1000);
        p.set_style(
            ProgressStyle::with_template("  [{bar:40}] {percent:>3}%  rendering {msg}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        p.set_message(out.display().to_string());
        p
    } else {
        ProgressBar::hidden()
    };
    let racer = |i: usize| Racer {
        run: runs[i],
        point: judged.point(i),
    };
    let rendered = animation::render_file(racer(a), racer(b), options, out, |f| {
        progress.set_position((f * 1000.0) as u64);
    });
    progress.finish_and_clear();
    Ok(rendered?)
}

/// `run.json` → `run.trace.json` (`run.json.gz` too).
fn trace_path(run: &std::path::Path) -> PathBuf {
    let name = run
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    let stem = name
        .trim_end_matches(".gz")
        .trim_end_matches(".json")
        .to_string();
    run.with_file_name(format!("{stem}.trace.json"))
}

fn trace(args: &TraceArgs) -> anyhow::Result<ExitCode> {
    let record = crate::store::RunRecord::load(&args.run)?;
    let out = args.out.clone().unwrap_or_else(|| trace_path(&args.run));
    let file = std::fs::File::create(&out).with_context(|| {
        format!(
            "cannot write {} (check the folder exists and is writable)",
            out.display()
        )
    })?;
    let stats = crate::export::trace::write(&record, file)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{}: {} spans, {} counter values, {:.1} MiB — open it in https://ui.perfetto.dev or chrome://tracing",
        out.display(),
        stats.spans,
        stats.counters,
        stats.bytes as f64 / 1048576.0
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_goes_beside_the_run() {
        assert_eq!(
            trace_path(std::path::Path::new("a/run-001.json")),
            PathBuf::from("a/run-001.trace.json")
        );
        assert_eq!(
            trace_path(std::path::Path::new("x.json.gz")),
            PathBuf::from("x.trace.json")
        );
    }
}
