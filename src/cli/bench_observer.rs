//! `gilscope bench observer`: what gilscope itself takes from the cores it
//! measures — its own CPU (window, rendering, samplers) during each
//! measured run, as the run file records it (`Load::own_cores`), for the
//! window at several repaint rates, the quiet progress view and no window
//! at all (`gilscope sweep`), side by side in one invocation. The window
//! runs under Xvfb with software rendering, as on a machine without a GPU.

use super::table;
use crate::kit::stats::median_or_nan as median;
use crate::store::RunRecord;
use anyhow::{Context, bail};
use clap::Args;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

#[derive(Debug, Args)]
pub struct ObserverArgs {
    /// Workload of the measured runs.
    #[arg(long, short = 'w', default_value = "primes")]
    pub workload: String,
    /// Workload parameter, repeatable.
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE", value_parser = super::run::parse_param)]
    pub params: Vec<(String, String)>,
    /// Workers of each measured run (mode gil).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Measured runs per case.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// The window's size in stage mode.
    #[arg(long, default_value = "1920x1080")]
    pub size: String,
}

/// One way of watching the runs: extra `gilscope gui` flags, or no window.
struct Watch {
    name: &'static str,
    gui: Option<&'static [&'static str]>,
}

const WATCHES: [Watch; 5] = [
    Watch {
        name: "no window (gilscope sweep)",
        gui: None,
    },
    Watch {
        name: "window, live at 25 Hz (the old rate)",
        gui: Some(&["--measure-hz", "25"]),
    },
    Watch {
        name: "window, live at 10 Hz",
        gui: Some(&["--measure-hz", "10"]),
    },
    Watch {
        name: "window, live at 1 Hz (low refresh)",
        gui: Some(&["--measure-hz", "1"]),
    },
    Watch {
        name: "window, quiet progress view",
        gui: Some(&["--quiet"]),
    },
];

pub fn observer(args: &ObserverArgs) -> anyhow::Result<ExitCode> {
    if Command::new("xvfb-run")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        bail!(
            "xvfb-run is not installed: `apt-get install xvfb xauth` (scripts/install-deps does)"
        );
    }
    let exe = std::env::current_exe().context("gilscope's own path")?;
    let dir = std::env::temp_dir().join(format!("gilscope-observer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("making {}", dir.display()))?;
    let result = cases(args, &exe, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn cases(args: &ObserverArgs, exe: &Path, dir: &Path) -> anyhow::Result<ExitCode> {
    let mut params: Vec<String> = Vec::new();
    for (k, v) in &args.params {
        params.push("-p".into());
        params.push(format!("{k}={v}"));
    }
    if args.params.is_empty() {
        params.extend(["-p".into(), "n=600000".into()]);
    }
    println!(
        "gilscope's own CPU during measured runs: {} gil ×{} {}, {} runs per case, stage mode {} under Xvfb with software rendering",
        args.workload,
        args.workers,
        params.join(" "),
        args.repeat,
        args.size
    );
    let mut rows = Vec::new();
    for (i, watch) in WATCHES.iter().enumerate() {
        let out = dir.join(format!("case-{i}"));
        let status = match watch.gui {
            None => Command::new(exe)
                .args(["sweep", "-w", &args.workload, "--modes", "gil"])
                .args(["--workers", &args.workers.to_string()])
                .args(["--repeat", &args.repeat.to_string(), "--out"])
                .arg(&out)
                .args(&params)
                .stdout(Stdio::null())
                .status()?,
            Some(flags) => Command::new("xvfb-run")
                .args(["-a", "-s", &format!("-screen 0 {}x24", args.size)])
                .arg(exe)
                .args(["gui", "--sweep", &args.workload, "--modes", "gil"])
                .args(["--workers", &args.workers.to_string()])
                .args(["--repeat", &args.repeat.to_string()])
                .args(["--quit-when-done", "--presentation", "--size", &args.size])
                .arg("--save-runs")
                .arg(out.join("runs"))
                .args(flags)
                .args(&params)
                .env("LIBGL_ALWAYS_SOFTWARE", "1")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()?,
        };
        if !status.success() {
            bail!("{}: gilscope exited with {status}", watch.name);
        }
        let runs = read_runs(&out.join("runs"))?;
        let own: Vec<f64> = runs
            .iter()
            .filter(|r| r.spec().workers == args.workers)
            .filter_map(|r| r.what_else().ok()?.own_cores())
            .collect();
        let others: Vec<f64> = runs
            .iter()
            .filter(|r| r.spec().workers == args.workers)
            .filter_map(|r| r.what_else().ok()?.other_cores())
            .collect();
        let (lo, hi) = own
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        rows.push(vec![
            watch.name.to_string(),
            own.len().to_string(),
            format!("{:.1} %", median(&own) * 100.0),
            if own.is_empty() {
                "—".into()
            } else {
                format!("{:.1}–{:.1} %", lo * 100.0, hi * 100.0)
            },
            format!("{:.2}", median(&others)),
        ]);
        eprintln!("  {} done", watch.name);
    }
    print!(
        "{}",
        table::render(
            &[
                "case",
                "runs",
                "gilscope, median",
                "min–max",
                "others, cores"
            ],
            &rows
        )
    );
    println!(
        "target: ≤ 10 % of a core in a live window at 1920×1080, ≤ 2 % quiet (CPU of gilscope's own threads during each measured run, from the run file)"
    );
    Ok(ExitCode::SUCCESS)
}

/// Every run file in `dir` (a sweep's `runs/` or `--save-runs`).
fn read_runs(dir: &Path) -> anyhow::Result<Vec<RunRecord>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("no runs in {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json" || e == "gz") {
            out.push(
                RunRecord::load(&path).with_context(|| format!("reading {}", path.display()))?,
            );
        }
    }
    Ok(out)
}
