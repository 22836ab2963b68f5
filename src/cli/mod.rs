//! The command line. `main.rs` calls [`main`]; each subcommand lives in its
//! own file and only renders what the library computes.

mod attach;
mod bench;
mod bench_animation;
mod bench_attach;
mod bench_harness;
mod bench_judges;
mod bench_observer;
mod bench_picture;
mod bench_store;
mod demo;
#[cfg(test)]
mod docs_check;
mod export;
mod gui;
mod pythons;
mod report;
mod run;
mod script;
mod service;
mod summary;
mod sweep;
mod table;
mod threads;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// gilscope — see what really happens when Python code runs in parallel.
#[derive(Debug, Parser)]
#[command(
    name = "gilscope",
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a command: the app's options (`gilscope --size 1920x1080
    /// --presentation` is `gilscope gui --size 1920x1080 --presentation`).
    #[command(flatten)]
    pub gui: gui::GuiArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find, inspect and install Python interpreters.
    #[command(subcommand)]
    Pythons(pythons::PythonsCommand),
    /// Run one workload in one mode with N workers and print a summary.
    Run(run::RunArgs),
    /// Watch a running process gilscope did not start (read only): its threads, exact GIL, CPU and memory.
    Attach(attach::AttachArgs),
    /// Run a workload over modes × worker counts × repeats, recording every run.
    Sweep(sweep::SweepArgs),
    /// Charts and report.md from a sweep directory.
    Report(report::ReportArgs),
    /// Open the desktop app (also what a bare `gilscope` does).
    Gui(gui::GuiArgs),
    /// The story for a newcomer or a stage: installs 3.13 + 3.13t if needed, sizes the runs to this machine, opens the app in stage mode on three chapters stepped through with N (the race; one import turns the GIL back on; memory of subinterpreters vs processes); headless without a display: writes each chapter's report and charts.
    Demo(demo::DemoArgs),
    /// Exports that travel: a race as an animated GIF for a slide, a run as a trace for Perfetto.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Benchmarks that print numbers: scaling per mode, the sampler's cost, UI frame time, the harness's own cost, the picture's cost.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Exit code for errors in what the user asked (bad arguments, unknown names).
pub const EXIT_USAGE: u8 = 2;

/// A channel that gets a message on each Ctrl-C, the same one for every
/// command of this process (the demo runs sweeps and a run one after
/// another; a handler can be installed only once). When a handler cannot
/// be installed (e.g. in tests), Ctrl-C kills gilscope and
/// PR_SET_PDEATHSIG takes the run with it; the channel then never fires.
pub(crate) fn ctrlc_channel() -> crossbeam_channel::Receiver<()> {
    static CHANNEL: std::sync::OnceLock<(
        crossbeam_channel::Sender<()>,
        crossbeam_channel::Receiver<()>,
    )> = std::sync::OnceLock::new();
    let (_, rx) = CHANNEL.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let handler_tx = tx.clone();
        let _ = ctrlc::set_handler(move || {
            let _ = handler_tx.try_send(());
        });
        // Kept here, so a channel without a handler is empty, not closed.
        (tx, rx)
    });
    rx.clone()
}

/// Default `--modes` of the commands that compare modes: all four.
const ALL_MODES: &str = "gil,ft,subinterp,process";

/// Parses the arguments and runs the command; errors are printed once, here.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Pythons(cmd)) => pythons::run(cmd),
        Some(Command::Run(args)) => match &args.script {
            Some(script) => script::run(&args, script),
            None => run::run(&args),
        },
        Some(Command::Attach(args)) => attach::run(&args),
        Some(Command::Bench(cmd)) => bench::run(cmd),
        Some(Command::Export(cmd)) => export::run(cmd),
        Some(Command::Sweep(args)) => sweep::run(&args),
        Some(Command::Report(args)) => report::run(&args),
        Some(Command::Gui(args)) => gui::run(&args),
        Some(Command::Demo(args)) => demo::run(&args),
        None => gui::run(&cli.gui),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
