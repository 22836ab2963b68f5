//! `gilscope run`: one workload, one mode, N workers, with a live progress
//! line and a summary.

use super::{EXIT_USAGE, table};
use crate::interp::probe::probe;
use crate::interp::{
    DiscoverOptions, Interpreter, Mode, Source, Status, discover, supported_modes,
};
use crate::run::protocol::Event;
use crate::run::{self, RunEnd, RunMessage, RunOutcome, RunSpec, Stream, embedded};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit codes of `gilscope run` (documented in the README).
pub const EXIT_WORKLOAD_ERROR: u8 = 3;
pub const EXIT_CRASH: u8 = 4;
pub const EXIT_TIMEOUT: u8 = 5;
pub const EXIT_STOPPED: u8 = 130;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Built-in workload name (primes, blur, mandelbrot, fib, strings, hash, sleep) or a path to a workload file.
    #[arg(long, short = 'w')]
    pub workload: String,
    /// gil, ft, ft-gil, subinterp or process.
    #[arg(long, short = 'm', value_parser = parse_mode)]
    pub mode: Mode,
    /// Number of workers (threads, subinterpreters or processes).
    #[arg(long, short = 'n', default_value_t = 1)]
    pub workers: usize,
    /// Interpreter by its name in `gilscope pythons list` (e.g. 3.13t).
    #[arg(long, conflicts_with = "python")]
    pub interp: Option<String>,
    /// Interpreter by path.
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Workload parameter, repeatable: --param n=200000.
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Kill the run after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Print one JSON document with the result instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    Mode::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
        format!("unknown mode '{s}'; choose one of {}", names.join(", "))
    })
}

pub(super) fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("'{s}' is not KEY=VALUE")),
    }
}

/// A usage problem: printed, exit code 2.
fn usage(msg: String) -> anyhow::Result<ExitCode> {
    eprintln!("error: {msg}");
    Ok(ExitCode::from(EXIT_USAGE))
}

/// Finds the interpreter the arguments name (or the best one for the mode)
/// and checks it can run the mode.
fn resolve_interpreter(args: &RunArgs) -> Result<Interpreter, String> {
    let mut interps: Option<Vec<Interpreter>> = None;
    let found = match &args.python {
        Some(path) => {
            let info = probe(path, Duration::from_secs(30))
                .map_err(|e| format!("--python {}: {e}", path.display()))?;
            let modes = supported_modes(&info);
            let build = info.build();
            Interpreter {
                name: info.short_name(),
                path: path.clone(),
                aliases: Vec::new(),
                source: Source::Path,
                status: Status::Ok {
                    info: Box::new(info),
                    build,
                    modes,
                },
            }
        }
        None => {
            let all = interps.insert(discover(&DiscoverOptions::default()));
            match &args.interp {
                Some(name) => all.iter().find(|i| &i.name == name).cloned().ok_or_else(|| {
                    let names: Vec<&str> = all.iter().filter(|i| i.info().is_some()).map(|i| i.name.as_str()).collect();
                    format!("no interpreter named '{name}'; found: {} (see `gilscope pythons list`)", names.join(", "))
                })?,
                None => run::pick_interpreter(all, args.mode).cloned().ok_or_else(|| {
                    format!(
                        "no interpreter found that can run mode '{}'; `gilscope pythons install` builds CPython 3.13 and 3.13t",
                        args.mode
                    )
                })?,
            }
        }
    };
    run::check_mode(&found, args.mode).map_err(|reason| {
        let all = interps.get_or_insert_with(|| discover(&DiscoverOptions::default()));
        let can = run::interpreters_for(all, args.mode);
        if can.is_empty() {
            format!("{reason}; no interpreter here can — `gilscope pythons install` builds 3.13 and 3.13t")
        } else {
            format!("{reason}; interpreters that can: {}", can.join(", "))
        }
    })?;
    Ok(found)
}

/// Checks the workload names a built-in or an existing file.
fn check_workload(workload: &str) -> Result<(), String> {
    let looks_like_path = workload.contains('/') || workload.ends_with(".py");
    if looks_like_path {
        return if PathBuf::from(workload).is_file() {
            Ok(())
        } else {
            Err(format!("workload file '{workload}' does not exist"))
        };
    }
    let rt = embedded::runtime()?;
    if rt.builtin_workload(workload).is_some() {
        Ok(())
    } else {
        Err(format!(
            "unknown workload '{workload}'; built-in workloads: {} (or give a path to a .py file)",
            rt.builtin_names().join(", ")
        ))
    }
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    if args.workers == 0 {
        return usage("--workers must be at least 1".into());
    }
    let timeout = match args.timeout {
        Some(t) if !(t > 0.0 && t.is_finite()) => {
            return usage(format!(
                "--timeout must be a positive number of seconds, got {t}"
            ));
        }
        Some(t) => Some(Duration::from_secs_f64(t)),
        None => None,
    };
    if let Err(msg) = check_workload(&args.workload) {
        return usage(msg);
    }
    if let Some(path) = &args.python
        && !path.exists()
    {
        return usage(format!("--python {}: no such file", path.display()));
    }
    let interp = match resolve_interpreter(args) {
        Ok(i) => i,
        Err(msg) => return usage(msg),
    };
    let spec = RunSpec {
        python: interp.path.clone(),
        interp_name: interp.name.clone(),
        mode: args.mode,
        workers: args.workers,
        workload: args.workload.clone(),
        params: args.params.clone(),
        timeout,
    };
    let (ctrlc_tx, ctrlc_rx) = crossbeam_channel::bounded(1);
    // A second handler cannot be installed (e.g. in tests); then Ctrl-C
    // kills gilscope and PR_SET_PDEATHSIG takes the run with it.
    let _ = ctrlc::set_handler(move || {
        let _ = ctrlc_tx.try_send(());
    });
    let handle = run::start(&spec)?;
    if !args.json {
        eprintln!(
            "{} · {} · {} worker{} · {} ({})",
            spec.workload,
            spec.mode,
            spec.workers,
            if spec.workers == 1 { "" } else { "s" },
            interp.name,
            interp.path.display()
        );
    }
    let mut report = Report::default();
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        new_bar()
    };
    let outcome = loop {
        crossbeam_channel::select! {
            recv(handle.messages()) -> msg => match msg {
                Ok(RunMessage::Finished(outcome)) => break *outcome,
                Ok(msg) => report.take(msg, &bar, args.json),
                Err(_) => anyhow::bail!("the run ended without an outcome"),
            },
            recv(ctrlc_rx) -> _ => handle.stop(),
        }
    };
    bar.finish_and_clear();
    if args.json {
        let doc = report.json(&spec, &interp, &outcome);
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", report.summary(&outcome));
    }
    Ok(ExitCode::from(match &outcome.end {
        RunEnd::Completed { .. } => 0,
        RunEnd::WorkloadFailed { .. } => EXIT_WORKLOAD_ERROR,
        RunEnd::Crashed { .. } => EXIT_CRASH,
        RunEnd::TimedOut { .. } => EXIT_TIMEOUT,
        RunEnd::Stopped => EXIT_STOPPED,
    }))
}

fn new_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("  [{bar:40}] {pos}/{len} items  {per_sec}  {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// What the terminal report collects from the messages.
#[derive(Default)]
struct Report {
    hello: Option<crate::run::protocol::Hello>,
    /// worker → (chunks, items)
    workers: BTreeMap<usize, (u64, u64)>,
    native_ids: BTreeMap<usize, u64>,
    gil_changes: Vec<crate::run::protocol::GilChanged>,
    protocol_problems: Vec<String>,
}

impl Report {
    fn take(&mut self, msg: RunMessage, bar: &ProgressBar, quiet: bool) {
        match msg {
            RunMessage::Event { event, .. } => match event {
                Event::Hello(h) => self.hello = Some(h),
                Event::SetupDone(s) => bar.set_length(s.items_total.unwrap_or(s.chunks)),
                Event::WorkerStarted(w) => {
                    self.native_ids.insert(w.worker, w.native_id);
                    self.workers.entry(w.worker).or_default();
                }
                Event::ChunkDone(c) => {
                    let entry = self.workers.entry(c.worker).or_default();
                    entry.0 += 1;
                    entry.1 += c.items;
                    bar.inc(c.items);
                }
                Event::GilChanged(g) => {
                    if !quiet {
                        bar.suspend(|| {
                            eprintln!(
                                "GIL {} during the run{}",
                                if g.enabled { "re-enabled" } else { "disabled" },
                                g.module
                                    .as_ref()
                                    .map(|m| format!(" by importing {m}"))
                                    .unwrap_or_default()
                            )
                        });
                    }
                    self.gil_changes.push(g);
                }
                Event::WorkerDone(_) | Event::Result(_) | Event::Error(_) | Event::Other => {}
            },
            RunMessage::Output { stream, line } => {
                if !quiet {
                    let mark = if stream == Stream::Stderr {
                        "│!"
                    } else {
                        "│ "
                    };
                    bar.suspend(|| eprintln!("{mark} {line}"));
                }
            }
            RunMessage::ProtocolProblem(p) => self.protocol_problems.push(p),
            RunMessage::Sample(_) => {}
            RunMessage::Finished(_) => {}
        }
    }

    fn summary(&self, outcome: &RunOutcome) -> String {
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut row = |k: &str, v: String| rows.push(vec![k.to_string(), v]);
        row("result", outcome.headline());
        if let RunEnd::Completed { result } = &outcome.end {
            row(
                "wall time",
                format!(
                    "{:.3} s in the workers, {:.3} s in all",
                    result.elapsed_s, outcome.wall_secs
                ),
            );
            if result.elapsed_s > 0.0 {
                row(
                    "throughput",
                    format!("{} items/s", human(result.items as f64 / result.elapsed_s)),
                );
            }
            row("checksum", result.checksum.clone());
        } else {
            row("wall time", format!("{:.3} s", outcome.wall_secs));
        }
        match &outcome.usage {
            Some(u) => {
                let cores = if outcome.wall_secs > 0.0 {
                    u.cpu_secs() / outcome.wall_secs
                } else {
                    0.0
                };
                row(
                    "CPU time",
                    format!(
                        "{:.3} s user + {:.3} s system ({cores:.2} cores busy on average)",
                        u.user_secs, u.system_secs
                    ),
                );
                row(
                    "peak RSS",
                    format!(
                        "{:.1} MiB (largest single process)",
                        u.max_rss_bytes as f64 / 1048576.0
                    ),
                );
            }
            None => row("CPU time", "not measured".into()),
        }
        if let Some(h) = &self.hello {
            let end = match &outcome.end {
                RunEnd::Completed { result } => result
                    .gil_enabled
                    .map(|g| if g { "on" } else { "off" })
                    .unwrap_or("not reported"),
                _ => "not reported",
            };
            row(
                "GIL",
                format!(
                    "{} at start, {end} at end ({} build)",
                    if h.gil_enabled { "on" } else { "off" },
                    if h.ft_build {
                        "free-threaded"
                    } else {
                        "default"
                    }
                ),
            );
        }
        for g in &self.gil_changes {
            row(
                "GIL change",
                format!(
                    "{}{}",
                    if g.enabled { "re-enabled" } else { "disabled" },
                    g.warning
                        .as_ref()
                        .map(|w| format!(": {w}"))
                        .unwrap_or_default()
                ),
            );
        }
        for (w, (chunks, items)) in &self.workers {
            let tid = self
                .native_ids
                .get(w)
                .map(|t| format!(", thread {t}"))
                .unwrap_or_default();
            row(
                &format!("worker {w}"),
                format!("{chunks} chunks, {items} items{tid}"),
            );
        }
        if !self.protocol_problems.is_empty() {
            row(
                "protocol",
                format!(
                    "{} bad lines on the event pipe, first: {}",
                    self.protocol_problems.len(),
                    self.protocol_problems[0]
                ),
            );
        }
        let mut out = table::render(&["", ""], &rows)
            .lines()
            .skip(1)
            .map(|l| format!("  {l}\n"))
            .collect::<String>();
        match &outcome.end {
            RunEnd::WorkloadFailed { error } if !error.traceback.is_empty() => {
                out.push('\n');
                out.push_str(error.traceback.trim_end());
                out.push('\n');
            }
            RunEnd::Crashed { .. } if !outcome.stderr_tail.is_empty() => {
                out.push_str("\nlast lines on stderr:\n");
                for l in &outcome.stderr_tail {
                    out.push_str(&format!("  {l}\n"));
                }
            }
            _ => {}
        }
        out
    }

    fn json(
        &self,
        spec: &RunSpec,
        interp: &Interpreter,
        outcome: &RunOutcome,
    ) -> serde_json::Value {
        let workers: Vec<serde_json::Value> = self
            .workers
            .iter()
            .map(|(w, (chunks, items))| serde_json::json!({"worker": w, "chunks": chunks, "items": items, "native_id": self.native_ids.get(w)}))
            .collect();
        serde_json::json!({
            "version": 1,
            "spec": spec,
            "interpreter": interp,
            "hello": self.hello,
            "outcome": outcome,
            "workers": workers,
            "gil_changes": self.gil_changes,
            "protocol_problems": self.protocol_problems,
        })
    }
}

/// 1234567 → "1.23M".
fn human(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2}G", x / 1e9),
        x if x >= 1e6 => format!("{:.2}M", x / 1e6),
        x if x >= 1e3 => format!("{:.1}k", x / 1e3),
        x => format!("{x:.1}"),
    }
}
