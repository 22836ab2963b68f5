//! `gilscope gui` (and bare `gilscope`): the desktop app.

use crate::interp::Mode;
use crate::ui::{AutoSweep, UiOptions};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args, Default)]
pub struct GuiArgs {
    /// Run files or sweep folders to open, repeatable.
    #[arg(long, value_name = "PATH")]
    pub open: Vec<PathBuf>,
    /// Start a sweep of this workload as soon as the window is up.
    #[arg(long, value_name = "WORKLOAD")]
    pub sweep: Option<String>,
    /// Modes of that sweep, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = super::ALL_MODES)]
    pub modes: Vec<String>,
    /// Worker counts of that sweep, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub workers: Vec<usize>,
    /// With --sweep: runs per (mode, workers), repeats outermost; the
    /// compare view shows their median and spread.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Workload parameter of that sweep, repeatable: --param n=200000.
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE", value_parser = super::run::parse_param)]
    pub params: Vec<(String, String)>,
    /// After the sweep (or once --open files are loaded), save screenshots
    /// of the live and compare views (live.png, compare.png) into this folder.
    #[arg(long, value_name = "DIR")]
    pub screenshots: Option<PathBuf>,
    /// Close the window when the sweep (or the opened files) and the
    /// screenshots are done.
    #[arg(long)]
    pub quit_when_done: bool,
    /// Start in presentation mode (large type, no chrome; F11 toggles).
    #[arg(long)]
    pub presentation: bool,
    /// Repaint once a second instead of 10 times while a run is measured (less
    /// CPU taken from the workload; see the status bar's "gilscope itself").
    #[arg(long)]
    pub low_refresh: bool,
    /// While runs are measured, show only a quiet progress view repainted
    /// every 2.5 s (Q toggles); the views replay the runs afterwards.
    #[arg(long)]
    pub quiet: bool,
    /// Save every finished run into this folder as a run file
    /// (run-NNN.json), as it ends.
    #[arg(long, value_name = "DIR")]
    pub save_runs: Option<PathBuf>,
    /// Repaints a second while a run is measured in the live view, 0.2–120
    /// (default 10, 1 with --low-refresh); `gilscope bench observer` compares
    /// rates.
    #[arg(long, value_name = "HZ", value_parser = parse_hz)]
    pub measure_hz: Option<f64>,
    /// Initial window size, WIDTHxHEIGHT (e.g. 1920x1080 for a projector;
    /// presentation mode also asks the window manager for full screen).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    pub size: Option<[f32; 2]>,
    /// Light theme (default dark).
    #[arg(long)]
    pub light: bool,
    /// Folder for exports and screenshots [default: ./gilscope-exports].
    #[arg(long, value_name = "DIR")]
    pub export_dir: Option<PathBuf>,
}

fn parse_hz(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(hz) if (0.2..=120.0).contains(&hz) => Ok(hz),
        _ => Err(format!(
            "'{s}' is not a rate from 0.2 to 120 (repaints a second)"
        )),
    }
}

pub fn parse_size(s: &str) -> Result<[f32; 2], String> {
    let bad = || format!("'{s}' is not WIDTHxHEIGHT (e.g. 1920x1080)");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: f32 = w.trim().parse().map_err(|_| bad())?;
    let h: f32 = h.trim().parse().map_err(|_| bad())?;
    if !(640.0..=10_000.0).contains(&w) || !(400.0..=10_000.0).contains(&h) {
        return Err(format!(
            "window size {s}: width 640–10000 and height 400–10000"
        ));
    }
    Ok([w, h])
}

pub fn run(args: &GuiArgs) -> anyhow::Result<ExitCode> {
    // What the app remembered; a scripted run (screenshots) starts clean.
    let scripted = args.screenshots.is_some() || args.quit_when_done;
    let settings_file = (!scripted).then(crate::ui::settings::default_file);
    let settings = match settings_file
        .as_deref()
        .map(crate::ui::settings::Settings::load)
    {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            eprintln!("gilscope: {e}");
            None
        }
        None => None,
    };
    let mut options = UiOptions {
        open: args.open.clone(),
        screenshot_dir: args.screenshots.clone(),
        quit_when_done: args.quit_when_done,
        presentation: args.presentation,
        dark: !args.light && settings.as_ref().is_none_or(|s| s.dark),
        low_refresh: args.low_refresh,
        quiet: args.quiet,
        save_runs: args.save_runs.clone(),
        measure_ms: args.measure_hz.map(|hz| (1000.0 / hz).round() as u64),
        window_size: args
            .size
            .or(settings
                .as_ref()
                .map(|s| s.window_size)
                .filter(|[w, h]| (640.0..=10_000.0).contains(w) && (400.0..=10_000.0).contains(h)))
            .unwrap_or(UiOptions::default().window_size),
        settings_file,
        settings,
        ..UiOptions::default()
    };
    if let Some(dir) = &args.export_dir {
        options.export_dir = dir.clone();
    }
    if let Some(workload) = &args.sweep {
        let mut modes = Vec::new();
        for m in &args.modes {
            modes.push(Mode::parse(m.trim()).ok_or_else(|| {
                anyhow::anyhow!("unknown mode '{m}' (known: gil, ft, ft-gil, subinterp, process)")
            })?);
        }
        if args.workers.contains(&0) {
            anyhow::bail!("--workers: worker counts start at 1");
        }
        if args.repeat == 0 {
            anyhow::bail!("--repeat: at least 1 run per point");
        }
        options.auto_sweep = Some(AutoSweep {
            workload: workload.clone(),
            params: args.params.clone(),
            modes,
            workers: args.workers.clone(),
            repeat: args.repeat,
        });
    } else if (args.screenshots.is_some() || args.quit_when_done) && args.open.is_empty() {
        anyhow::bail!("--screenshots and --quit-when-done need --sweep WORKLOAD or --open PATH");
    }
    crate::ui::run_window(options)?;
    Ok(ExitCode::SUCCESS)
}
