//! `gilscope export …`: a race as an animation for a slide, a run as a
//! trace for Perfetto or `chrome://tracing`. Only arguments and progress
//! here; the work is in [`crate::export`].

use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// A run as Chrome trace-event JSON (Perfetto, chrome://tracing): a track per thread with its states and GIL spans, counters for cores, memory and throughput, the run as metadata.
    Trace(TraceArgs),
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
        ExportCommand::Trace(args) => trace(&args),
    }
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
    let file = std::fs::File::create(&out)
        .with_context(|| format!("cannot write {} (check the folder exists and is writable)", out.display()))?;
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
