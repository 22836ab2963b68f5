//! The command line. `main.rs` calls [`main`]; each subcommand lives in its
//! own file and only renders what the library computes.

mod attach;
mod bench;
mod bench_harness;
mod gui;
mod pythons;
mod report;
mod report_cmd;
mod run;
mod service;
mod sweep;
mod table;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// gilscope — see what really happens when Python code runs in parallel.
#[derive(Debug, Parser)]
#[command(name = "gilscope", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
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
    Report(report_cmd::ReportArgs),
    /// Open the desktop app (also what a bare `gilscope` does).
    Gui(gui::GuiArgs),
    /// Benchmarks that print numbers: scaling per mode, the sampler's cost, UI frame time, the harness's own cost.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Exit code for errors in what the user asked (bad arguments, unknown names).
pub const EXIT_USAGE: u8 = 2;

/// Default `--modes` of the commands that compare modes: all four.
const ALL_MODES: &str = "gil,ft,subinterp,process";

/// Parses the arguments and runs the command; errors are printed once, here.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Pythons(cmd)) => pythons::run(cmd),
        Some(Command::Run(args)) => run::run(&args),
        Some(Command::Attach(args)) => attach::run(&args),
        Some(Command::Bench(cmd)) => bench::run(cmd),
        Some(Command::Sweep(args)) => sweep::run(&args),
        Some(Command::Report(args)) => report_cmd::run(&args),
        Some(Command::Gui(args)) => gui::run(&args),
        None => gui::run(&gui::GuiArgs::default()),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
