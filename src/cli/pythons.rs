//! `gilscope pythons list|install|add|remove`.

use super::table;
use crate::interp::added;
use crate::interp::install::{self, InstallEvent, InstallRequest, Phase, Route, uv};
use crate::interp::{Build, DiscoverOptions, Interpreter, Status, discover};
use crate::paths;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum PythonsCommand {
    /// List every Python interpreter found, with the modes it supports.
    List(ListArgs),
    /// Install CPython (default and free-threaded): with `uv python install`
    /// when uv is on PATH (seconds), else built from source into gilscope's
    /// managed directory (minutes). Good existing ones are kept.
    Install(InstallArgs),
    /// Add an interpreter by path (an executable, or a wrapper script that
    /// runs one, e.g. inside a chroot). It is probed now and kept in
    /// gilscope's config; `pythons list`, `run --interp` and the app find it.
    Add(AddArgs),
    /// Forget an interpreter added with `pythons add`.
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The interpreter (or wrapper script) to add.
    pub path: PathBuf,
    /// Seconds its probe may take.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub probe_timeout: f64,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The path as added (`pythons list` shows it).
    pub path: PathBuf,
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

/// `--via`: which way `pythons install` may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViaChoice {
    /// uv when it is on PATH; from source when it is not, or when uv fails.
    Auto,
    /// Only `uv python install` (fails when uv is missing or cannot help).
    Uv,
    /// Only from source.
    Source,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// CPython version: a minor version or exact. Default: 3.14 with uv, 3.13
    /// from source. From source, a minor version means the newest known
    /// patch release; known releases: 3.13.5, 3.14.10, 3.15.2.
    #[arg(long)]
    pub version: Option<String>,
    /// Which way to get them.
    #[arg(long, value_enum, default_value_t = ViaChoice::Auto)]
    pub via: ViaChoice,
    /// Build from this source tarball (Python-X.Y.Z.tar.xz) instead of
    /// downloading; for a known release its SHA-256 is checked first.
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
        PythonsCommand::Add(args) => add_cmd(&args),
        PythonsCommand::Remove(args) => remove_cmd(&args),
    }
}

/// `--probe-timeout`, checked.
fn probe_timeout(secs: f64) -> Result<Duration, ExitCode> {
    if secs > 0.0 && secs.is_finite() {
        Ok(Duration::from_secs_f64(secs))
    } else {
        eprintln!("error: --probe-timeout must be a positive number of seconds, got {secs}");
        Err(ExitCode::from(super::EXIT_USAGE))
    }
}

fn add_cmd(args: &AddArgs) -> anyhow::Result<ExitCode> {
    let timeout = match probe_timeout(args.probe_timeout) {
        Ok(t) => t,
        Err(code) => return Ok(code),
    };
    let file = paths::pythons_config_file();
    let added = match added::add(&args.path, timeout, &file) {
        Ok(added) => added,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let info = &added.info;
    let what = format!(
        "{} {} ({} build)",
        if info.implementation == "cpython" {
            "CPython"
        } else {
            &info.implementation
        },
        info.version,
        info.build()
    );
    if added.already {
        println!(
            "{} is already added ({what}); nothing changed",
            added.path.display()
        );
    } else {
        println!(
            "added {}: {what}, kept in {}",
            added.path.display(),
            file.display()
        );
    }
    if crate::interp::supported_modes(info).is_empty() {
        println!("note: gilscope's harness needs Python 3.9+, so it can run no mode with it");
    }
    // Its name (for `run --interp`) depends on the others found.
    let interps = discover(&DiscoverOptions {
        probe_timeout: timeout,
        use_cache: true,
    });
    let found = interps
        .iter()
        .find(|i| i.path == added.path || i.aliases.contains(&added.path));
    match found {
        Some(i) if i.path == added.path => println!(
            "listed as '{}' with modes {}",
            i.name,
            modes_text(i.modes())
        ),
        Some(i) => println!(
            "it is the interpreter already found as '{}' ({}, {}); that path is the one gilscope runs",
            i.name,
            i.source.as_str(),
            i.path.display()
        ),
        None => println!("`gilscope pythons list` shows it"),
    }
    Ok(ExitCode::SUCCESS)
}

fn remove_cmd(args: &RemoveArgs) -> anyhow::Result<ExitCode> {
    let file = paths::pythons_config_file();
    match added::remove(&args.path, &file) {
        Ok(path) => {
            println!("removed {} from {}", path.display(), file.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn modes_text(modes: &[crate::interp::Mode]) -> String {
    if modes.is_empty() {
        "none (gilscope needs 3.9+)".to_string()
    } else {
        modes
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let opts = DiscoverOptions {
        probe_timeout: match probe_timeout(args.probe_timeout) {
            Ok(t) => t,
            Err(code) => return Ok(code),
        },
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
            println!("\nNo free-threaded build found: {}", install_offer());
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
                modes_text(modes),
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

/// What `gilscope pythons install` would do here, in one sentence.
pub fn install_offer() -> String {
    let both = [Build::Default, Build::FreeThreaded];
    match uv::find_uv() {
        Some(uv_bin) => format!(
            "`gilscope pythons install` runs `{}` (uv at {}: seconds to a minute).",
            uv::command_line(install::DEFAULT_UV_VERSION, &both),
            uv_bin.display()
        ),
        None => format!(
            "`gilscope pythons install` builds CPython {v} and {v}t from source (about 10 minutes on 2 cores; with uv on PATH it runs `{}` instead, in seconds).",
            uv::command_line(install::DEFAULT_UV_VERSION, &both),
            v = install::DEFAULT_SOURCE_VERSION,
        ),
    }
}

/// `InstallArgs` parsed on their own (the demo installs with the defaults).
#[derive(Debug, clap::Parser)]
pub struct InstallArgsParser {
    #[command(flatten)]
    pub args: InstallArgs,
}

/// `gilscope pythons install` with these arguments.
pub fn install(args: &InstallArgs) -> anyhow::Result<ExitCode> {
    install_cmd(args)
}

fn install_cmd(args: &InstallArgs) -> anyhow::Result<ExitCode> {
    let mut req = InstallRequest::new(install::DEFAULT_SOURCE_VERSION);
    if let Some(version) = &args.version {
        req = InstallRequest::new(version);
    } else {
        req.uv_version = install::DEFAULT_UV_VERSION.to_string();
    }
    req.route = match args.via {
        ViaChoice::Auto => Route::Auto,
        ViaChoice::Uv => Route::Uv,
        ViaChoice::Source => Route::Source,
    };
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
    match (build, phase) {
        (Some(b), _) => format!("{:>13} {}", b.as_str(), phase.as_str()),
        (None, Phase::Uv) => format!("{:>13} {}", "uv", "python install"),
        (None, _) => format!("{:>13} {}", "source", phase.as_str()),
    }
}

impl InstallView {
    fn show(&mut self, event: InstallEvent) {
        match event {
            InstallEvent::Log { path } => println!("Full build log: {}", path.display()),
            InstallEvent::PhaseStarted { build, phase } => {
                self.finish();
                let bar = ProgressBar::new(0);
                // uv says nothing about how far it is: a spinner and the time.
                let template = if phase == Phase::Uv {
                    "{prefix} {spinner} {elapsed} {wide_msg}"
                } else {
                    "{prefix} [{bar:40}] {percent:>3}% {elapsed}"
                };
                let style = ProgressStyle::with_template(template)
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
            InstallEvent::Status { text } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(text);
                }
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
            InstallEvent::Done { via, secs } => {
                self.finish();
                println!("\nDone: {} in {}.", via.describe(), fmt_duration(secs));
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
