//! `gilscope report DIR [--out OUTDIR]`: charts and `report.md` from a
//! sweep directory.

use crate::report::Report;
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The sweep directory (`gilscope sweep --out DIR`): sweep.json and its run files
    pub dir: PathBuf,
    /// Where to write report.md and charts/ (default: DIR)
    #[arg(long, value_name = "OUTDIR")]
    pub out: Option<PathBuf>,
}

/// Reads the sweep, writes the report, prints each file written.
pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let report = Report::load(&args.dir)?;
    let out = args.out.as_ref().unwrap_or(&args.dir);
    let written = report
        .write(out)
        .with_context(|| format!("writing the report of {}", args.dir.display()))?;
    // The files exist whatever happens to stdout: a closed pipe (`| head`)
    // only ends the listing.
    let mut stdout = std::io::stdout().lock();
    for path in &written {
        if writeln!(stdout, "{}", path.display()).is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}
