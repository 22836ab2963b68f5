//! `gilscope demo`: the story a speaker walks through, with nothing to set
//! up. It installs CPython 3.13 + 3.13t when no free-threaded build is
//! found (with progress), sizes the runs so each lasts about `--seconds`
//! on this machine (short calibration runs), then opens the app in stage
//! mode on three chapters, one key (N, →, Page Down) each:
//!
//! 1. **the race** — the blur in every mode that can run (gil, ft,
//!    subinterp, process) at 1 and N workers, then the fastest raced
//!    against the GIL;
//! 2. **one import turns the GIL back on** — the free-threaded blur imports
//!    a module that needs the GIL 40 % of the way in (its native module is
//!    built first, with progress; the chapter is left out, saying why, when
//!    it cannot be);
//! 3. **memory** — subinterpreters against processes at 2N workers, in the
//!    compare view's memory chart.
//!
//! Without a display it runs the same story headless and writes each
//! chapter's sweep, report and charts (or run file), saying where.

use crate::interp::{DiscoverOptions, Interpreter, Mode, discover};
use crate::run::{self, RunMessage, RunSpec};
use crate::ui::options::{Chapter, Show};
use crate::ui::{AutoSweep, UiOptions};
use clap::{Args, Parser};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// About how long each run should last, in seconds (the blur's size and
    /// the primes' n are chosen for it on this machine).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Workers of the parallel runs (default: the cores here, at most 8).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Do not build CPython 3.13 + 3.13t when no free-threaded build is found.
    #[arg(long)]
    pub no_install: bool,
    /// Run the story without a window (the default when there is no
    /// display) and write each chapter's sweep, report and charts into a
    /// folder of --out.
    #[arg(long)]
    pub headless: bool,
    /// Where the headless demo writes [default: ./gilscope-demo].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Save each chapter's screenshot here (race.png, gil-import.png,
    /// memory.png) as the story goes on by itself, and each chapter's race
    /// as an animation (race.gif, memory.gif) from its runs (kept in
    /// DIR/runs); headless, the animations only.
    #[arg(long, value_name = "DIR")]
    pub screenshots: Option<PathBuf>,
    /// Step through the chapters by itself and close the window at the end.
    #[arg(long)]
    pub quit_when_done: bool,
    /// Initial window size, WIDTHxHEIGHT [default: 1920x1080].
    #[arg(long, value_name = "WxH", value_parser = super::gui::parse_size)]
    pub size: Option<[f32; 2]>,
    /// Open in a window instead of stage mode.
    #[arg(long)]
    pub window: bool,
    /// Runs of each point (mode × workers), interleaved (A B C A B C …);
    /// the tables show their median ± spread and the race races medians.
    #[arg(long, default_value_t = DEFAULT_REPEAT)]
    pub repeat: usize,
    /// Watch the runs live while they are measured (the window repaints a
    /// few times a second). By default the window shows a quiet progress
    /// view while it measures, so its own drawing does not take the cores
    /// it measures; the race and the views replay afterwards.
    #[arg(long)]
    pub watch: bool,
}

/// Runs per point: one run here can move ±20 %; three show the spread.
pub const DEFAULT_REPEAT: usize = 3;

/// The modes the story shows, in order.
const STORY: [Mode; 4] = [Mode::Gil, Mode::Ft, Mode::Subinterp, Mode::Process];

/// The blur's long side for the calibration run (pixels).
const PROBE_SIZE: u64 = 96;

/// `n` of the primes calibration run.
const PROBE_PRIMES: u64 = 60_000;

/// When the GIL chapter imports the module that needs the GIL (a fraction
/// of the chunks).
const IMPORT_AT: &str = "0.4";

pub fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    if !(1.0..=120.0).contains(&args.seconds) {
        eprintln!("error: --seconds {}: choose 1 to 120", args.seconds);
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    if args.repeat < DEFAULT_REPEAT {
        eprintln!(
            "error: --repeat {}: choose at least {DEFAULT_REPEAT} (one run here can move ±20 %; the demo's tables show each point's spread)",
            args.repeat
        );
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    if args.workers == Some(0) {
        eprintln!("error: --workers 0: choose at least 1 (default: the cores here, at most 8)");
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    let mut found = discover(&DiscoverOptions::default());
    if !found.iter().any(|i| i.supports(Mode::Ft)) {
        if args.no_install {
            eprintln!(
                "error: no free-threaded CPython found; drop --no-install to install one (with uv when it is on PATH: seconds; else 3.13 + 3.13t from source: about 10 minutes on 2 cores), or `gilscope pythons add PATH`"
            );
            return Ok(ExitCode::from(1));
        }
        println!(
            "demo: no free-threaded CPython here, so one is installed first: {}",
            super::pythons::install_offer()
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
    let workers = args.workers.unwrap_or(cores.clamp(2, 8));
    println!(
        "demo: sizing the runs for ~{:.0} s each on this machine…",
        args.seconds
    );
    // The blur's work grows with its pixels (size²); trial division up to
    // n with n^1.5.
    let size = calibrate(gil, ("blur", "size"), PROBE_SIZE, 2.0, args.seconds)?.clamp(64, 4096);
    let n = calibrate(gil, ("primes", "n"), PROBE_PRIMES, 1.5, args.seconds / 2.0)?
        .clamp(20_000, 50_000_000);
    let chapters = story(&found, &modes, workers, size, n, args.repeat);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut budget_s = 0.0;
    for (i, c) in chapters.iter().enumerate() {
        let (runs, secs) = budget(&c.plan, args.seconds, cores);
        budget_s += secs;
        println!(
            "demo: chapter {}: {} ({}) — {runs} run{}, about {}",
            i + 1,
            c.title,
            describe(&c.plan),
            if runs == 1 { "" } else { "s" },
            minutes(secs)
        );
    }
    println!(
        "demo: about {} in all ({} repeats of each point, interleaved)",
        minutes(budget_s),
        args.repeat
    );
    let display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if args.headless || !display {
        return headless(args, &chapters);
    }
    // With --screenshots, every run is kept beside them (runs/) and each
    // chapter's race is rendered from them once the window closes.
    let runs_dir = args.screenshots.as_ref().map(|d| d.join("runs"));
    let options = UiOptions {
        story: chapters.clone(),
        quiet: !args.watch,
        save_runs: runs_dir.clone(),
        screenshot_dir: args.screenshots.clone(),
        quit_when_done: args.quit_when_done,
        presentation: !args.window,
        window_size: args.size.unwrap_or([1920.0, 1080.0]),
        interpreters: Some(found),
        ..UiOptions::default()
    };
    crate::ui::run_window(options)?;
    if let (Some(shots), Some(runs_dir)) = (&args.screenshots, &runs_dir) {
        let runs = load_runs(runs_dir);
        for chapter in &chapters {
            let mine: Vec<crate::store::RunRecord> = runs
                .iter()
                .filter(|r| of_chapter(r, chapter))
                .cloned()
                .collect();
            animate(chapter, &mine, shots);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every run file in `dir` that loads (none when it does not exist).
fn load_runs(dir: &std::path::Path) -> Vec<crate::store::RunRecord> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| crate::store::RunRecord::load(p).ok())
        .collect()
}

/// Whether `run` is one of `chapter`'s runs (its workload and parameters,
/// one of its modes and worker counts).
fn of_chapter(run: &crate::store::RunRecord, chapter: &Chapter) -> bool {
    let plan = &chapter.plan;
    let spec = run.spec();
    let mut want = plan.params.clone();
    let mut have = spec.params.clone();
    want.sort();
    have.sort();
    spec.workload == plan.workload
        && want == have
        && plan.modes.contains(&spec.mode)
        && plan.workers.contains(&spec.workers)
}

/// Writes `chapter`'s race animation (`race.gif` beside `race.png`) into
/// `dir` from its runs, saying where — or why there is none.
fn animate(chapter: &Chapter, runs: &[crate::store::RunRecord], dir: &std::path::Path) {
    let out = dir.join(chapter.shot.replace(".png", ".gif"));
    let options = crate::export::animation::AnimationOptions::default();
    match super::export::race_runs(runs, &options, &out, true) {
        Ok(Some(r)) => println!(
            "demo: {}: {} frames, {:.1} MiB, rendered in {:.1} s",
            out.display(),
            r.frames,
            r.bytes as f64 / 1048576.0,
            r.render_s
        ),
        Ok(None) => println!(
            "demo: no animation of \"{}\": it has no two modes to race",
            chapter.title
        ),
        Err(e) => println!("demo: no animation of \"{}\": {e:#}", chapter.title),
    }
}

/// The runs of `plan` and about how long they take: a 1-worker run lasts
/// about `seconds` (the calibration), N workers about `seconds` over the
/// cores they can use, plus a second of start-up each.
fn budget(plan: &AutoSweep, seconds: f64, cores: usize) -> (usize, f64) {
    let per_round: f64 = plan
        .modes
        .iter()
        .flat_map(|_| plan.workers.iter())
        .map(|&w| {
            // The primes are sized for half the time (see `run`).
            let one = if plan.workload == "primes" {
                seconds / 2.0
            } else {
                seconds
            };
            one / (w.min(cores.max(1)) as f64).max(1.0) + 1.0
        })
        .sum();
    let runs = plan.modes.len() * plan.workers.len() * plan.repeat.max(1);
    (runs, per_round * plan.repeat.max(1) as f64)
}

/// "about 3 min" / "about 40 s".
fn minutes(secs: f64) -> String {
    if secs >= 90.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        format!("{secs:.0} s")
    }
}

/// "blur size=310 · gil, ft at 1 and 2 workers".
fn describe(plan: &AutoSweep) -> String {
    let params: Vec<String> = plan
        .params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let workers: Vec<String> = plan.workers.iter().map(ToString::to_string).collect();
    format!(
        "{} {} · {} at {} worker{}",
        plan.workload,
        params.join(" "),
        plan.modes
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        workers.join(" and "),
        if plan.workers == [1] { "" } else { "s" }
    )
}

/// The chapters this machine can show.
fn story(
    found: &[Interpreter],
    modes: &[Mode],
    workers: usize,
    size: u64,
    n: u64,
    repeat: usize,
) -> Vec<Chapter> {
    let size_param = ("size".to_string(), size.to_string());
    let mut chapters = vec![Chapter {
        title: "One blur, four ways to run it in parallel".into(),
        note: "the same pure-Python blur on GIL threads, free-threaded threads, subinterpreters and processes".into(),
        plan: AutoSweep {
            workload: "blur".into(),
            params: vec![size_param.clone()],
            modes: modes.to_vec(),
            workers: vec![1, workers],
            repeat,
        },
        show: Show::Race,
        shot: "race.png".into(),
    }];
    match gil_import_ready(found) {
        Ok(()) => chapters.push(Chapter {
            title: "One import turns the GIL back on".into(),
            note: format!(
                "free-threaded blur; {:.0} % in, it imports a module that does not declare Py_mod_gil",
                IMPORT_AT.parse::<f64>().unwrap_or(0.0) * 100.0
            ),
            plan: AutoSweep {
                workload: "blur".into(),
                params: vec![
                    size_param,
                    (crate::native::IMPORT_PARAM.into(), IMPORT_AT.into()),
                ],
                modes: vec![Mode::Ft],
                workers: vec![workers],
                repeat: 1,
            },
            show: Show::Live,
            shot: "gil-import.png".into(),
        }),
        Err(why) => println!("demo: leaving out the GIL-import chapter: {why}"),
    }
    let apart: Vec<Mode> = [Mode::Subinterp, Mode::Process]
        .into_iter()
        .filter(|m| modes.contains(m))
        .collect();
    let many = (workers * 2).clamp(4, 16);
    if apart.is_empty() {
        println!(
            "demo: leaving out the memory chapter: no interpreter here runs subinterp or process"
        );
    } else {
        chapters.push(Chapter {
            title: "Memory: subinterpreters vs processes".into(),
            note: format!(
                "{many} workers each: {many} interpreters in one process, or {many} whole processes"
            ),
            plan: AutoSweep {
                workload: "primes".into(),
                params: vec![("n".into(), n.to_string())],
                modes: apart,
                workers: vec![1, many],
                repeat,
            },
            show: Show::Compare,
            shot: "memory.png".into(),
        });
    }
    chapters
}

/// Whether the GIL-import chapter can run: a free-threaded interpreter and
/// its `gilscope_native_gil` module (built now, once, with progress).
fn gil_import_ready(found: &[Interpreter]) -> Result<(), String> {
    let ft = run::pick_interpreter(found, Mode::Ft)
        .ok_or("no free-threaded interpreter here (`gilscope pythons install` builds 3.13t)")?;
    let params = [(
        crate::native::IMPORT_PARAM.to_string(),
        IMPORT_AT.to_string(),
    )];
    crate::native::setup_for_run(&ft.path, Mode::Ft, "blur", &params, &mut |p| {
        println!("demo: native module: {}", p.describe());
    })
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// The value of `param` whose 1-worker gil run of `workload` lasts about
/// `seconds` here, from one short run at `probe` (the work grows as
/// `param^power`).
fn calibrate(
    python: &Interpreter,
    (workload, param): (&str, &str),
    probe: u64,
    power: f64,
    seconds: f64,
) -> anyhow::Result<u64> {
    let spec = RunSpec {
        python: python.path.clone(),
        interp_name: python.name.clone(),
        mode: Mode::Gil,
        workers: 1,
        workload: workload.into(),
        params: vec![(param.into(), probe.to_string())],
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
                    "the calibration run of {workload} failed: {}",
                    outcome.headline()
                );
            }
            break;
        }
    }
    let elapsed = elapsed
        .filter(|e| *e > 0.0)
        .ok_or_else(|| anyhow::anyhow!("the calibration run of {workload} reported no time"))?;
    let value = probe as f64 * (seconds / elapsed).powf(1.0 / power);
    Ok(value.round() as u64)
}

/// Each chapter headless, into its own folder: `gilscope sweep` and
/// `gilscope report` (the GIL import: `gilscope run --record`).
fn headless(args: &DemoArgs, chapters: &[Chapter]) -> anyhow::Result<ExitCode> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("gilscope-demo"));
    let out = if out.exists() && std::fs::read_dir(&out).is_ok_and(|mut d| d.next().is_some()) {
        out.join(format!("run-{}", crate::ui::export::timestamp()))
    } else {
        out
    };
    println!(
        "demo: no display: running the story headless into {}",
        out.display()
    );
    for (i, chapter) in chapters.iter().enumerate() {
        let dir = out.join(format!(
            "{}-{}",
            i + 1,
            chapter.shot.trim_end_matches(".png")
        ));
        println!("demo: chapter {}: {}", i + 1, chapter.title);
        let plan = &chapter.plan;
        let modes: Vec<&str> = plan.modes.iter().map(|m| m.as_str()).collect();
        let workers: Vec<String> = plan.workers.iter().map(ToString::to_string).collect();
        let mut argv: Vec<String> = vec![
            "x".into(),
            "--workload".into(),
            plan.workload.clone(),
            if chapter.show == Show::Live {
                "--mode"
            } else {
                "--modes"
            }
            .into(),
            modes.join(","),
            "--workers".into(),
            workers.join(","),
        ];
        if chapter.show != Show::Live {
            argv.extend(["--repeat".into(), plan.repeat.to_string()]);
        }
        for (k, v) in &plan.params {
            argv.push("--param".into());
            argv.push(format!("{k}={v}"));
        }
        if chapter.show == Show::Live {
            std::fs::create_dir_all(&dir)?;
            let file = dir.join("run.json");
            argv.extend(["--record".into(), file.display().to_string()]);
            let run = super::run::RunArgsParser::try_parse_from(argv)?;
            let code = super::run::run(&run.args)?;
            if code != ExitCode::SUCCESS {
                return Ok(code);
            }
            println!("demo: the run is in {}", file.display());
            continue;
        }
        argv.extend(["--out".into(), dir.display().to_string()]);
        let sweep = super::sweep::SweepArgsParser::try_parse_from(argv)?;
        let code = super::sweep::run(&sweep.args)?;
        if code != ExitCode::SUCCESS {
            return Ok(code);
        }
        super::report::run(&super::report::ReportArgs {
            dir: dir.clone(),
            out: None,
        })?;
        println!("demo: report.md and charts/ are in {}", dir.display());
        if let Some(shots) = &args.screenshots {
            std::fs::create_dir_all(shots)?;
            let runs = crate::sweep::SweepFile::load(&dir)?.load_runs(&dir)?;
            animate(chapter, &runs, shots);
        }
    }
    println!(
        "demo: the story is in {} (open a chapter in the app: `gilscope --open {}`)",
        out.display(),
        out.join("1-race").display()
    );
    Ok(ExitCode::SUCCESS)
}
