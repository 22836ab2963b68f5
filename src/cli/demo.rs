//! `gilscope demo`: the story a speaker walks through, with nothing to set
//! up. It installs CPython 3.13 + 3.13t when no free-threaded build is
//! found (with progress), sizes the blur so each run lasts about
//! `--seconds` on this machine (one short calibration run), then opens the
//! app in stage mode on a sweep of the blur in every mode that can run —
//! gil, ft, subinterp, process — at 1 and N workers, and races the fastest
//! against the GIL once it is done (R races again, Tab switches views,
//! Space runs it again). Without a display it runs the same sweep headless
//! and writes the report and charts, saying where.

use crate::interp::{DiscoverOptions, Interpreter, Mode, discover};
use crate::run::{self, RunMessage, RunSpec};
use crate::ui::{AutoSweep, UiOptions};
use clap::{Args, Parser};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// About how long each run should last, in seconds (the blur's size is
    /// chosen for it on this machine).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Workers of the parallel runs (default: the cores here, at most 8).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Do not build CPython 3.13 + 3.13t when no free-threaded build is found.
    #[arg(long)]
    pub no_install: bool,
    /// Run the story without a window (the default when there is no
    /// display) and write the sweep, report and charts into --out.
    #[arg(long)]
    pub headless: bool,
    /// Where the headless demo writes [default: ./gilscope-demo].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Save live.png, compare.png and race.png here when the story is done.
    #[arg(long, value_name = "DIR")]
    pub screenshots: Option<PathBuf>,
    /// Close the window once the story and its screenshots are done.
    #[arg(long)]
    pub quit_when_done: bool,
    /// Initial window size, WIDTHxHEIGHT [default: 1920x1080].
    #[arg(long, value_name = "WxH", value_parser = super::gui::parse_size)]
    pub size: Option<[f32; 2]>,
    /// Open in a window instead of stage mode.
    #[arg(long)]
    pub window: bool,
}

/// The modes the story shows, in order.
const STORY: [Mode; 4] = [Mode::Gil, Mode::Ft, Mode::Subinterp, Mode::Process];

/// The blur's long side for the calibration run (pixels).
const PROBE_SIZE: u64 = 96;

pub fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    if !(1.0..=120.0).contains(&args.seconds) {
        eprintln!("error: --seconds {}: choose 1 to 120", args.seconds);
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    let mut found = discover(&DiscoverOptions::default());
    if !found.iter().any(|i| i.supports(Mode::Ft)) {
        if args.no_install {
            eprintln!(
                "error: no free-threaded CPython found; drop --no-install to build 3.13 + 3.13t (about 10 minutes on 2 cores), or `gilscope pythons add PATH`"
            );
            return Ok(ExitCode::from(1));
        }
        println!(
            "demo: no free-threaded CPython here: building 3.13 and 3.13t first (once; about 10 minutes on 2 cores)"
        );
        let install = super::pythons::InstallArgsParser::try_parse_from(["install"])?;
        let code = super::pythons::install(&install.args)?;
        if code != ExitCode::SUCCESS {
            return Ok(code);
        }
        found = discover(&DiscoverOptions::default());
    }
    let modes: Vec<Mode> = STORY
        .into_iter()
        .filter(|&m| run::pick_interpreter(&found, m).is_some())
        .collect();
    let Some(gil) = run::pick_interpreter(&found, Mode::Gil)
        .or_else(|| run::pick_interpreter(&found, Mode::Process))
    else {
        eprintln!("error: no working CPython found (`gilscope pythons list` says why)");
        return Ok(ExitCode::from(1));
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = args.workers.unwrap_or(cores.clamp(2, 8)).max(1);
    println!(
        "demo: sizing the blur for ~{:.0} s runs on this machine…",
        args.seconds
    );
    let size = calibrate(gil, args.seconds)?;
    println!(
        "demo: blur size={size} in {} at 1 and {workers} workers",
        modes
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let params = vec![("size".to_string(), size.to_string())];
    let display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if args.headless || !display {
        return headless(args, &modes, workers, &params);
    }
    let options = UiOptions {
        auto_sweep: Some(AutoSweep {
            workload: "blur".into(),
            params,
            modes,
            workers: vec![1, workers],
            repeat: 1,
        }),
        screenshot_dir: args.screenshots.clone(),
        quit_when_done: args.quit_when_done,
        presentation: !args.window,
        window_size: args.size.unwrap_or([1920.0, 1080.0]),
        interpreters: Some(found),
        ..UiOptions::default()
    };
    crate::ui::run_window(options)?;
    Ok(ExitCode::SUCCESS)
}

/// The blur size whose 1-worker gil run lasts about `seconds` here, from
/// one short run (the blur's work grows with its pixels).
fn calibrate(python: &Interpreter, seconds: f64) -> anyhow::Result<u64> {
    let spec = RunSpec {
        python: python.path.clone(),
        interp_name: python.name.clone(),
        mode: Mode::Gil,
        workers: 1,
        workload: "blur".into(),
        params: vec![("size".into(), PROBE_SIZE.to_string())],
        timeout: Some(Duration::from_secs(120)),
    };
    let handle = run::start(&spec)?;
    let mut elapsed = None;
    for msg in handle.messages() {
        if let RunMessage::Finished(outcome) = msg {
            if let run::RunEnd::Completed { result } = &outcome.end {
                elapsed = Some(result.elapsed_s);
            } else {
                anyhow::bail!(
                    "the calibration run of the blur failed: {}",
                    outcome.headline()
                );
            }
            break;
        }
    }
    let elapsed = elapsed
        .filter(|e| *e > 0.0)
        .ok_or_else(|| anyhow::anyhow!("the calibration run of the blur reported no time"))?;
    // Work ∝ pixels ∝ size².
    let size = PROBE_SIZE as f64 * (seconds / elapsed).sqrt();
    Ok((size.round() as u64).clamp(64, 4096))
}

/// `gilscope sweep` and `gilscope report` of the same story.
fn headless(
    args: &DemoArgs,
    modes: &[Mode],
    workers: usize,
    params: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("gilscope-demo"));
    let out = if out.join(crate::sweep::model::SWEEP_FILE_NAME).exists() {
        out.join(format!("run-{}", crate::ui::export::timestamp()))
    } else {
        out
    };
    println!(
        "demo: no display: running the story headless into {}",
        out.display()
    );
    let modes: Vec<&str> = modes.iter().map(|m| m.as_str()).collect();
    let mut argv: Vec<String> = vec![
        "sweep".into(),
        "--workload".into(),
        "blur".into(),
        "--modes".into(),
        modes.join(","),
        "--workers".into(),
        format!("1,{workers}"),
        "--out".into(),
        out.display().to_string(),
    ];
    for (k, v) in params {
        argv.push("--param".into());
        argv.push(format!("{k}={v}"));
    }
    let sweep = super::sweep::SweepArgsParser::try_parse_from(argv)?;
    let code = super::sweep::run(&sweep.args)?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    let report = super::report::ReportArgs {
        dir: out.clone(),
        out: None,
    };
    super::report::run(&report)?;
    println!(
        "demo: the story is in {}: report.md and charts/ (open it in the app: `gilscope --open {}`)",
        out.display(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
