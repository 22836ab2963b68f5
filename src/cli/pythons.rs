//! `gilscope pythons list|install`.

use super::table;
use crate::interp::install::{self, InstallEvent, InstallRequest, Phase};
use crate::interp::{Build, DiscoverOptions, Interpreter, Status, discover};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum PythonsCommand {
    /// List every Python interpreter found, with the modes it supports.
    List(ListArgs),
    /// Build CPython (default and free-threaded) from source into gilscope's
    /// managed directory. A good existing build is kept.
    Install(InstallArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Seconds one interpreter's probe may take before it is listed as broken.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub probe_timeout: f64,
    /// Probe every interpreter again instead of using cached results.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuildChoice {
    /// Both the default and the free-threaded build.
    Both,
    /// Only the default (GIL) build.
    Default,
    /// Only the free-threaded build.
    Ft,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// CPython version: a minor version (newest known patch release) or exact.
    #[arg(long, default_value = "3.13")]
    pub version: String,
    /// Build from this source tarball (Python-X.Y.Z.tar.xz) instead of downloading.
    #[arg(long, value_name = "FILE")]
    pub source_tarball: Option<PathBuf>,
    /// Which builds to install.
    #[arg(long, value_enum, default_value_t = BuildChoice::Both)]
    pub build: BuildChoice,
    /// Parallel compile jobs (default: number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Rebuild even if a good build exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(cmd: PythonsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PythonsCommand::List(args) => list(&args),
        PythonsCommand::Install(args) => install_cmd(&args),
    }
}

fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    if !(args.probe_timeout > 0.0 && args.probe_timeout.is_finite()) {
        eprintln!(
            "error: --probe-timeout must be a positive number of seconds, got {}",
            args.probe_timeout
        );
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    let opts = DiscoverOptions {
        probe_timeout: Duration::from_secs_f64(args.probe_timeout),
        use_cache: !args.no_cache,
    };
    let interps = discover(&opts);
    if args.json {
        let doc = serde_json::json!({ "version": 1, "interpreters": interps });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", render_list(&interps));
        if !interps
            .iter()
            .any(|i| i.info().is_some_and(|info| info.free_threaded))
        {
            println!(
                "\nNo free-threaded build found: `gilscope pythons install` builds CPython 3.13 and 3.13t."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn render_list(interps: &[Interpreter]) -> String {
    let rows: Vec<Vec<String>> = interps
        .iter()
        .map(|i| match &i.status {
            Status::Ok { info, modes, .. } => vec![
                i.name.clone(),
                info.version.clone(),
                info.build().to_string(),
                if info.gil_enabled_at_start {
                    "on"
                } else {
                    "off"
                }
                .to_string(),
                match (&info.subinterp_api, info.own_gil_subinterpreters) {
                    (Some(api), true) => format!("own GIL ({api})"),
                    (Some(api), false) => format!("no own GIL ({api})"),
                    (None, _) => "none".to_string(),
                },
                if modes.is_empty() {
                    "none (gilscope needs 3.9+)".to_string()
                } else {
                    modes
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                },
                i.source.as_str().to_string(),
                i.path.display().to_string(),
            ],
            Status::Broken { reason } => vec![
                i.name.clone(),
                "-".into(),
                "broken".into(),
                "-".into(),
                "-".into(),
                format!("broken: {reason}"),
                i.source.as_str().to_string(),
                i.path.display().to_string(),
            ],
        })
        .collect();
    table::render(
        &[
            "NAME",
            "VERSION",
            "BUILD",
            "GIL",
            "SUBINTERPRETERS",
            "MODES",
            "SOURCE",
            "PATH",
        ],
        &rows,
    )
}

fn install_cmd(args: &InstallArgs) -> anyhow::Result<ExitCode> {
    let mut req = InstallRequest::new(&args.version);
    req.builds = match args.build {
        BuildChoice::Both => vec![Build::Default, Build::FreeThreaded],
        BuildChoice::Default => vec![Build::Default],
        BuildChoice::Ft => vec![Build::FreeThreaded],
    };
    req.source_tarball = args.source_tarball.clone();
    req.force = args.force;
    if let Some(jobs) = args.jobs {
        req.jobs = jobs.max(1);
    }
    let (tx, rx) = crossbeam_channel::unbounded();
    let worker = std::thread::spawn(move || install::install(&req, &tx));
    let mut view = InstallView::default();
    for event in rx {
        view.show(event);
    }
    view.finish();
    let result = worker
        .join()
        .map_err(|_| anyhow::anyhow!("the install thread panicked"))?;
    let pythons = result?;
    println!("\nReady:");
    for python in pythons {
        println!("  {}", python.display());
    }
    println!("`gilscope pythons list` shows them with their modes.");
    Ok(ExitCode::SUCCESS)
}

/// Terminal rendering of install progress: one bar per phase, and a plain
/// line when each phase ends (so logs and CI output tell the story too).
#[derive(Default)]
struct InstallView {
    bar: Option<ProgressBar>,
}

fn label(build: Option<Build>, phase: Phase) -> String {
    match build {
        Some(b) => format!("{:>13} {}", b.as_str(), phase.as_str()),
        None => format!("{:>13} {}", "source", phase.as_str()),
    }
}

impl InstallView {
    fn show(&mut self, event: InstallEvent) {
        match event {
            InstallEvent::Log { path } => println!("Full build log: {}", path.display()),
            InstallEvent::PhaseStarted { build, phase } => {
                self.finish();
                let bar = ProgressBar::new(0);
                let style =
                    ProgressStyle::with_template("{prefix} [{bar:40}] {percent:>3}% {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> ");
                bar.set_style(style);
                bar.set_prefix(label(build, phase));
                bar.enable_steady_tick(Duration::from_millis(250));
                self.bar = Some(bar);
            }
            InstallEvent::Progress { done, total, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(total);
                    bar.set_position(done);
                }
            }
            InstallEvent::PhaseDone { build, phase, secs } => {
                self.finish();
                println!("{} done in {}", label(build, phase), fmt_duration(secs));
            }
            InstallEvent::Note { text } => {
                self.println(&format!("note: {text}"));
            }
            InstallEvent::Kept { build, python } => {
                self.println(&format!(
                    "{} kept: a good build exists at {}",
                    label(Some(build), Phase::Verify),
                    python.display()
                ));
            }
            InstallEvent::Installed {
                build,
                python,
                secs,
            } => {
                self.finish();
                println!(
                    "{:>13} installed {} in {}",
                    build.as_str(),
                    python.display(),
                    fmt_duration(secs)
                );
            }
        }
    }

    fn println(&self, text: &str) {
        // A hidden bar (output is not a terminal) would drop the line.
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.println(text),
            _ => println!("{text}"),
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn fmt_duration(secs: f64) -> String {
    if secs >= 60.0 {
        format!("{}m{:02}s", (secs / 60.0) as u64, (secs % 60.0) as u64)
    } else {
        format!("{secs:.1}s")
    }
}
