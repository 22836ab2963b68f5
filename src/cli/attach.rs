//! `gilscope attach PID`: watch a process gilscope did not start — its
//! whole process tree, per-core use, every thread's state with the exact
//! GIL (CPython 3.13–3.15), memory — read only, until it exits, the
//! duration ends or Ctrl-C; then a summary, and a run file with `--record`.

use super::EXIT_USAGE;
use super::threads::{self, opt_pct};
use crate::run::attach::{self, Target};
use crate::run::{RunEnd, RunMessage};
use crate::store::metrics::{cpu_use, memory_use};
use crate::store::{RunRecord, summarize};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The process to watch (its child processes are watched too).
    pub pid: u32,
    /// Stop watching after this many seconds (default: until it exits or Ctrl-C).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Save what was measured as a run file (`.json` or `.json.gz`), which
    /// `gilscope gui --open FILE` shows and compares like a run.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub sampling: super::run::SamplingArgs,
}

pub fn run(args: &AttachArgs) -> anyhow::Result<ExitCode> {
    let sampling = match args.sampling.config() {
        Ok(config) => config,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let duration = match args.duration {
        None => None,
        Some(d) if d > 0.0 && d.is_finite() => Some(Duration::from_secs_f64(d)),
        Some(d) => {
            eprintln!("error: --duration must be a positive number of seconds, got {d}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let target = match attach::inspect(args.pid) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if !args.json {
        eprintln!("{}", header(&target, duration));
    }
    let ctrlc_rx = super::ctrlc_channel();
    let handle = match attach::attach(&target, sampling, duration) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut record = RunRecord::new(
        attach::spec(&target, duration),
        attach::interpreter(&target),
    );
    let started = Instant::now();
    let mut last_line = Instant::now();
    loop {
        crossbeam_channel::select! {
            recv(handle.messages()) -> msg => match msg {
                Ok(msg) => {
                    let finished = matches!(msg, RunMessage::Finished(_));
                    record.eat_message(msg);
                    if finished {
                        break;
                    }
                }
                Err(_) => anyhow::bail!("the attach ended without an outcome"),
            },
            recv(ctrlc_rx) -> _ => handle.stop(),
            default(Duration::from_millis(250)) => {}
        }
        if !args.json && last_line.elapsed() >= Duration::from_secs(5) {
            last_line = Instant::now();
            eprintln!(
                "  … {:.0} s, {} threads seen (Ctrl-C stops watching; the process goes on)",
                started.elapsed().as_secs_f64(),
                record.thread_tracks().len()
            );
        }
    }
    let saved = args
        .record
        .as_ref()
        .map(|path| record.save(path).map(|()| path.clone()));
    if args.json {
        let doc = serde_json::json!({
            "version": 1,
            "target": {
                "pid": target.pid,
                "ns_pid": target.ns_pid,
                "exe": target.exe,
                "name": target.name,
                "cmdline": target.cmdline,
                "python": target.python.as_ref().map(|p| &p.0),
                "free_threaded": target.python.as_ref().map(|p| p.1),
            },
            "summary": summarize(&record),
            "threads": threads::json(&record),
            "outcome": record.outcome(),
            "record": saved.as_ref().map(|r| r.as_ref().map(|p| p.display().to_string()).map_err(|e| e.to_string())),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", summary_text(&record));
        match &saved {
            Some(Ok(path)) => println!("  run file    {}", path.display()),
            Some(Err(e)) => eprintln!("error: the attach was not saved: {e}"),
            None => {}
        }
    }
    Ok(match (record.outcome().map(|o| &o.end), &saved) {
        (_, Some(Err(_))) => ExitCode::FAILURE,
        (Some(RunEnd::Detached { .. }), _) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

fn header(target: &Target, duration: Option<Duration>) -> String {
    let python = match (&target.python, &target.python_unread) {
        (Some((v, ft)), _) => {
            format!("CPython {v}{}", if *ft { ", free-threaded" } else { "" })
        }
        (None, Some(why)) => format!("no exact GIL lanes: {why}"),
        (None, None) => String::new(),
    };
    format!(
        "attached to pid {}{} ({}: {}) · {python} · {}",
        target.pid,
        target
            .ns_pid
            .map_or(String::new(), |p| format!(" (pid {p} in its container)")),
        target.name,
        target.exe.display(),
        duration.map_or("until it exits or Ctrl-C".to_string(), |d| {
            format!("for {:.0} s", d.as_secs_f64())
        })
    )
}

fn summary_text(run: &RunRecord) -> String {
    let mut out = String::new();
    let outcome = run.outcome();
    let cpu = cpu_use(run);
    let memory = memory_use(run);
    let mut rows: Vec<Vec<String>> = vec![vec![
        "watched".into(),
        format!(
            "{:.1} s, {}",
            outcome.map_or(0.0, |o| o.wall_secs),
            outcome.map_or("running".into(), |o| o.headline())
        ),
    ]];
    if let Some(c) = cpu.thread_cores {
        rows.push(vec![
            "CPU".into(),
            format!("{c:.2} cores busy on average (its threads' schedstat)"),
        ]);
    }
    if let Some(peak) = memory.peaks.rss_bytes {
        rows.push(vec![
            "memory".into(),
            format!(
                "RSS peak {:.1} MiB, whole process tree",
                peak as f64 / 1048576.0
            ),
        ]);
    }
    let gil = run.gil();
    for t in &gil.gils {
        rows.push(vec![
            "GIL".into(),
            format!(
                "pid {} interpreter {}: locked {} of the time, {} hand-offs/s",
                t.pid,
                t.interp_id,
                opt_pct(t.locked_fraction()),
                t.handoffs_per_sec()
                    .map_or("—".into(), |h| format!("{h:.0}"))
            ),
        ]);
    }
    if let Some(why) = gil.missing_reason() {
        rows.push(vec!["GIL".into(), why]);
    }
    if let Some(load) = summarize(run).load {
        rows.push(vec!["what else".into(), load.line()]);
    }
    if let Some(why) = run.thread_states_missing() {
        rows.push(vec!["threads".into(), format!("not measured: {why}")]);
    }
    for row in &rows {
        out.push_str(&format!("  {:<11} {}\n", row[0], row[1]));
    }
    out.push_str(&threads::table(run));
    out
}
