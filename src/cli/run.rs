//! `gilscope run`: one workload, one mode, N workers, with a live progress
//! line and a summary.

use super::{EXIT_USAGE, summary};
use crate::interp::probe::probe;
use crate::interp::{
    DiscoverOptions, Interpreter, Mode, Source, Status, discover, supported_modes,
};
use crate::run::protocol::Event;
use crate::run::{self, RunEnd, RunMessage, RunSpec, Stream, embedded};
use crate::sampler::thread::{MAX_RATE_HZ, MIN_RATE_HZ};
use crate::sampler::{SamplerBackend, SamplerConfig};
use crate::store::{RunRecord, summarize};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit codes of `gilscope run` (documented in docs/run.md).
pub const EXIT_WORKLOAD_ERROR: u8 = 3;
pub const EXIT_CRASH: u8 = 4;
pub const EXIT_TIMEOUT: u8 = 5;
pub const EXIT_STOPPED: u8 = 130;

/// `gilscope run --timeout` by default (the same as `sweep` and the app).
pub const DEFAULT_TIMEOUT_SECS: f64 = 600.0;
/// How often the live line checks for a stall.
const STALL_CHECK: Duration = Duration::from_millis(250);

/// `RunArgs` parsed on their own (the headless demo runs one).
#[derive(Debug, clap::Parser)]
pub struct RunArgsParser {
    #[command(flatten)]
    pub args: RunArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Built-in workload name (primes, blur, mandelbrot, fib, strings, hash, sleep) or a path to a workload file.
    #[arg(
        long,
        short = 'w',
        required_unless_present = "script",
        conflicts_with = "script"
    )]
    pub workload: Option<String>,
    /// gil, ft, ft-gil, subinterp or process. With --script: gil, ft and/or
    /// ft-gil (repeatable or comma-separated; the script runs on each).
    #[arg(long, short = 'm', value_parser = parse_mode, value_delimiter = ',', required_unless_present = "script")]
    pub mode: Vec<Mode>,
    /// Number of workers (threads, subinterpreters or processes) [default: 1].
    #[arg(long, short = 'n')]
    pub workers: Option<usize>,
    /// Interpreter by its name in `gilscope pythons list` (e.g. 3.13t).
    /// With --script: repeatable, the script runs on each.
    #[arg(long, conflicts_with = "python")]
    pub interp: Vec<String>,
    /// Interpreter by path.
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Workload parameter, repeatable: --param n=200000.
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Run a plain Python script unchanged (`python FILE ARGS`, in this
    /// directory, no shell) instead of a workload, observed like one; its
    /// arguments follow `--`. Without --interp/--mode it runs on the
    /// default build (gil) and, when there is one, a free-threaded build (ft).
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// With --script: run each interpreter/mode this many times, in rounds
    /// (each round runs every one once); the compare table then gives the
    /// median wall time with its range, and the speedup's range.
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub repeat: usize,
    /// The script's arguments (after `--`), passed as they are.
    #[arg(last = true, value_name = "ARGS")]
    pub script_args: Vec<String>,
    /// Kill the run after this many seconds; 0 = never. A stalled run (no
    /// chunk finished for max(10 × the median chunk, 2 s): shown live and in
    /// the summary) ends only by this timeout or Ctrl-C.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    pub timeout: f64,
    /// Print one JSON document with the result instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Do not sample the run (no per-thread split, no memory baseline).
    #[arg(long)]
    pub no_sample: bool,
    /// Do not send the workload's picture (blur, mandelbrot: the input and
    /// the output's bands as chunks finish); the same as --param picture=0.
    #[arg(long)]
    pub no_picture: bool,
    /// Save the whole run (events, samples, outcome) to this run file
    /// (`.json`, or `.json.gz` compressed). A script run on several
    /// interpreters or modes: one file per run, named FILE-INTERP-MODE.json.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// The load on a service workload (`-w service`, or a file with
/// `KIND = "service"`): gilscope's load generator sends HTTP requests to
/// the workers on loopback. Stored in the run's params as `load.*`.
#[derive(Debug, Args, Default)]
pub struct LoadArgs {
    /// Service runs: open loop at this offered rate (requests/s, Poisson
    /// arrivals); latency counts from each request's scheduled time. The
    /// default load: open loop at 200 requests/s.
    #[arg(
        long,
        value_name = "REQ_PER_S",
        conflicts_with = "clients",
        help_heading = "Service load"
    )]
    pub rps: Option<f64>,
    /// Service runs: closed loop with this many clients, each sending its
    /// next request when answered (closed loop: latency excludes queueing
    /// before send).
    #[arg(long, value_name = "N", help_heading = "Service load")]
    pub clients: Option<usize>,
    /// Service runs: seconds of load (default 5).
    #[arg(long, value_name = "SECS", help_heading = "Service load")]
    pub duration: Option<f64>,
    /// Service runs, open loop: keep-alive connections the requests are
    /// spread over (default 32).
    #[arg(long, value_name = "N", help_heading = "Service load")]
    pub connections: Option<usize>,
    /// Service runs: a request whose whole answer has not arrived this
    /// many seconds after it was sent is given up on, and counted in the
    /// tail at that time (default 5).
    #[arg(long, value_name = "SECS", help_heading = "Service load")]
    pub request_timeout: Option<f64>,
    /// Service runs: seconds of the same load sent before the measured
    /// window and not counted, after the connections are opened
    /// (default 0.5; 0 for none).
    #[arg(long, value_name = "SECS", help_heading = "Service load")]
    pub warmup: Option<f64>,
}

impl LoadArgs {
    /// The `load.*` params these flags stand for.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push((format!("load.{k}"), v));
            }
        };
        put("rps", self.rps.map(|v| v.to_string()));
        put("clients", self.clients.map(|v| v.to_string()));
        put("duration", self.duration.map(|v| v.to_string()));
        put("connections", self.connections.map(|v| v.to_string()));
        put("timeout", self.request_timeout.map(|v| v.to_string()));
        put("warmup", self.warmup.map(|v| v.to_string()));
        out
    }
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

/// The sampling flags `run`, `sweep` and `attach` share.
#[derive(Debug, Args)]
pub struct SamplingArgs {
    /// Samples per second of the /proc sampler (10–500).
    #[arg(long, value_name = "HZ", default_value_t = 50.0)]
    pub rate: f64,
    /// Reads of each interpreter's GIL per second (CPython 3.13+; exact
    /// hold/wait per thread); 0 turns the GIL reader off.
    #[arg(long, value_name = "HZ", default_value_t = 1000.0)]
    pub gil_rate: f64,
    /// What the sampler reads: `proc` (Linux /proc: per-core use, every
    /// thread's state, memory, what else ran) or `portable` (sysinfo:
    /// per-core use every ≥ 200 ms and memory; no thread states).
    #[arg(long, value_name = "BACKEND", default_value = "proc", value_parser = parse_backend)]
    pub sampler: SamplerBackend,
}

fn parse_backend(s: &str) -> Result<SamplerBackend, String> {
    SamplerBackend::parse(s).ok_or_else(|| {
        let names: Vec<&str> = SamplerBackend::ALL.iter().map(|b| b.as_str()).collect();
        format!("unknown sampler '{s}'; choose one of {}", names.join(", "))
    })
}

impl SamplingArgs {
    /// The sampler's configuration, or the usage error of a `--rate` out
    /// of range.
    pub fn config(&self) -> Result<SamplerConfig, String> {
        check_rate(self.rate)?;
        Ok(SamplerConfig {
            rate_hz: self.rate,
            gil_hz: self.gil_rate.max(0.0),
            backend: self.sampler,
            ..SamplerConfig::default()
        })
    }
}

/// A usage problem: printed, exit code 2.
/// `--rate` of the /proc sampler, checked against what it offers.
pub(super) fn check_rate(rate: f64) -> Result<(), String> {
    if (MIN_RATE_HZ..=MAX_RATE_HZ).contains(&rate) {
        Ok(())
    } else {
        Err(format!(
            "--rate must be between {MIN_RATE_HZ} and {MAX_RATE_HZ} Hz, got {rate}"
        ))
    }
}

pub(super) fn usage(msg: String) -> anyhow::Result<ExitCode> {
    eprintln!("error: {msg}");
    Ok(ExitCode::from(EXIT_USAGE))
}

/// The interpreter at `--python PATH`, probed.
pub(super) fn interpreter_at(path: &std::path::Path) -> Result<Interpreter, String> {
    let info = probe(path, Duration::from_secs(30))
        .map_err(|e| format!("--python {}: {e}", path.display()))?;
    let modes = supported_modes(&info);
    let build = info.build();
    Ok(Interpreter {
        name: info.short_name(),
        path: path.to_path_buf(),
        aliases: Vec::new(),
        source: Source::Path,
        status: Status::Ok {
            info: Box::new(info),
            build,
            modes,
        },
    })
}

/// `--timeout`, the sampling flags and `--record`'s folder, checked as
/// `run --workload` and `run --script` both take them.
pub(super) fn checked_common(args: &RunArgs) -> Result<(Option<Duration>, SamplerConfig), String> {
    let timeout = timeout_of(args.timeout)?;
    let sampling = args.sampling.config()?;
    check_record_dir(args.record.as_deref())?;
    Ok((timeout, sampling))
}

/// Finds the interpreter the arguments name (a path, a name, or the best
/// one for the mode) and checks it can run the mode.
pub(super) fn resolve_interpreter(
    python: Option<&std::path::Path>,
    name: Option<&str>,
    mode: Mode,
) -> Result<Interpreter, String> {
    let mut interps: Option<Vec<Interpreter>> = None;
    let found = match python {
        Some(path) => interpreter_at(path)?,
        None => {
            let all = interps.insert(discover(&DiscoverOptions::default()));
            match name {
                Some(name) => all.iter().find(|i| i.name == name).cloned().ok_or_else(|| {
                    let names: Vec<&str> = all.iter().filter(|i| i.info().is_some()).map(|i| i.name.as_str()).collect();
                    format!("no interpreter named '{name}'; found: {} (see `gilscope pythons list`)", names.join(", "))
                })?,
                None => run::pick_interpreter(all, mode).cloned().ok_or_else(|| {
                    format!(
                        "no interpreter found that can run mode '{mode}'; `gilscope pythons install` builds CPython 3.13 and 3.13t"
                    )
                })?,
            }
        }
    };
    run::check_mode(&found, mode).map_err(|reason| {
        let all = interps.get_or_insert_with(|| discover(&DiscoverOptions::default()));
        let can = run::interpreters_for(all, mode);
        if can.is_empty() {
            format!("{reason}; no interpreter here can — `gilscope pythons install` builds 3.13 and 3.13t")
        } else {
            format!("{reason}; interpreters that can: {}", can.join(", "))
        }
    })?;
    Ok(found)
}

/// `params` with `picture=0` added for `--no-picture` (an explicit
/// `--param picture=…` wins).
pub(super) fn with_picture_switch(
    params: &[(String, String)],
    no_picture: bool,
) -> Vec<(String, String)> {
    let mut params = params.to_vec();
    if no_picture && !params.iter().any(|(k, _)| k == "picture") {
        params.push(("picture".into(), "0".into()));
    }
    params
}

/// Checks the workload names a built-in or an existing file.
pub(super) fn check_workload(workload: &str) -> Result<(), String> {
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

/// `--timeout` as a duration (`None`: never), or the usage error.
pub(super) fn timeout_of(secs: f64) -> Result<Option<Duration>, String> {
    match secs {
        0.0 => Ok(None),
        t if t > 0.0 && t.is_finite() => Ok(Some(Duration::from_secs_f64(t))),
        t => Err(format!(
            "--timeout must be a number of seconds > 0, or 0 for none; got {t}"
        )),
    }
}

/// Checks `--record`'s directory exists.
pub(super) fn check_record_dir(record: Option<&std::path::Path>) -> Result<(), String> {
    if let Some(dir) = record
        .and_then(|p| p.parent())
        .filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(format!(
            "--record: directory {} does not exist",
            dir.display()
        ));
    }
    Ok(())
}

/// Feeds a run's messages into `record`, drawing them on `bar`, until it
/// finishes; Ctrl-C stops the run (its `Finished` still comes). `tick` runs
/// after each message and at least every `every`. Returns whether Ctrl-C
/// stopped it. `run --workload` and `run --script` both follow runs so.
pub fn follow(
    handle: &run::RunHandle,
    record: &mut RunRecord,
    bar: &ProgressBar,
    json: bool,
    ctrlc: &crossbeam_channel::Receiver<()>,
    every: Duration,
    mut tick: impl FnMut(&RunRecord),
) -> anyhow::Result<bool> {
    let mut stopped = false;
    loop {
        crossbeam_channel::select! {
            recv(handle.messages()) -> msg => match msg {
                Ok(msg) => {
                    let finished = matches!(msg, RunMessage::Finished(_));
                    show_live(&msg, bar, json);
                    record.eat_message(msg);
                    if finished {
                        return Ok(stopped);
                    }
                }
                Err(_) => anyhow::bail!("the run ended without an outcome"),
            },
            recv(ctrlc) -> _ => {
                stopped = true;
                handle.stop();
            }
            default(every) => {}
        }
        tick(record);
    }
}

/// `gilscope run --workload` (`--script` goes to [`super::script::run`]:
/// `cli::main` dispatches).
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let Some(workload) = args.workload.as_deref() else {
        return usage("give --workload NAME (or --script FILE)".into());
    };
    let mode = match args.mode.as_slice() {
        [mode] => *mode,
        _ => {
            return usage(
                "--mode: give one mode for a workload run (gilscope sweep runs several)".into(),
            );
        }
    };
    if args.interp.len() > 1 {
        return usage(
            "--interp: give one interpreter for a workload run (gilscope sweep runs several)"
                .into(),
        );
    }
    if args.repeat != 1 {
        return usage(
            "--repeat is for --script runs; `gilscope sweep --repeat K` repeats workload runs"
                .into(),
        );
    }
    if !args.script_args.is_empty() {
        return usage("arguments after `--` are a script's: use them with --script FILE".into());
    }
    let workers = args.workers.unwrap_or(1);
    if workers == 0 {
        return usage("--workers must be at least 1".into());
    }
    let (timeout, sampling) = match checked_common(args) {
        Ok(checked) => checked,
        Err(msg) => return usage(msg),
    };
    if let Err(msg) = check_workload(workload) {
        return usage(msg);
    }
    if let Some(path) = &args.python
        && !path.exists()
    {
        return usage(format!("--python {}: no such file", path.display()));
    }
    let interp = match resolve_interpreter(
        args.python.as_deref(),
        args.interp.first().map(String::as_str),
        mode,
    ) {
        Ok(i) => i,
        Err(msg) => return usage(msg),
    };
    let mut params = with_picture_switch(&args.params, args.no_picture);
    params.extend(args.load.params());
    let builtin_batch =
        !(workload.contains('/') || workload.ends_with(".py")) && workload != "service";
    match crate::loadgen::LoadSpec::from_params(workload, &params) {
        Ok(Some(_)) if builtin_batch => {
            return usage(format!(
                "--rps/--clients/--duration/--connections/--request-timeout/--warmup load a service workload (-w service); '{workload}' is not one"
            ));
        }
        Err(msg) => return usage(msg),
        Ok(_) => {}
    }
    // Every parameter converted once, before anything starts (the load's
    // own are the load generator's, never the harness's).
    if let Err(msg) = run::check_params(
        &interp.path,
        workload,
        &crate::loadgen::harness_params(&params),
    ) {
        return usage(msg);
    }
    let spec = RunSpec {
        python: interp.path.clone(),
        interp_name: interp.name.clone(),
        mode,
        workers,
        workload: workload.to_string(),
        params,
        timeout,
    };
    let ctrlc_rx = super::ctrlc_channel();
    // A native kernel is built (once per interpreter) before the run starts,
    // with its progress shown; the runner then finds it cached.
    let quiet = args.json;
    let native = crate::native::setup_for_run(
        &spec.python,
        spec.mode,
        &spec.workload,
        &spec.params,
        &mut |p| {
            if !quiet {
                eprintln!("native: {}", p.describe());
            }
        },
    );
    if let Err(e) = native {
        return usage(e.to_string());
    }
    let sampling = (!args.no_sample).then_some(sampling);
    let handle = run::start_sampled(&spec, sampling)?;
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
    let mut record = RunRecord::new(spec.clone(), interp.clone());
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        new_bar()
    };
    let mut stall_line = StallLine::new(timeout, args.json);
    follow(
        &handle,
        &mut record,
        &bar,
        args.json,
        &ctrlc_rx,
        STALL_CHECK,
        |r| stall_line.check(r, &bar),
    )?;
    bar.finish_and_clear();
    let saved = args
        .record
        .as_ref()
        .map(|path| record.save(path).map(|()| path.clone()));
    if args.json {
        let doc = serde_json::json!({
            "version": 1,
            "summary": summarize(&record),
            "workers": summary::worker_rows_json(&record),
            "outcome": record.outcome(),
            "hello": record.hello(),
            "record": saved.as_ref().map(|r| r.as_ref().map(|p| p.display().to_string()).map_err(|e| e.to_string())),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", summary::summary_text(&record));
        match &saved {
            Some(Ok(path)) => println!("  run file    {}", path.display()),
            Some(Err(e)) => eprintln!("error: the run was not saved: {e}"),
            None => {}
        }
    }
    let Some(outcome) = record.outcome() else {
        anyhow::bail!("the run ended without an outcome");
    };
    Ok(ExitCode::from(exit_code(&outcome.end)))
}

/// The exit code of `gilscope run` for a run that ended so.
pub(super) fn exit_code(end: &RunEnd) -> u8 {
    match end {
        RunEnd::Completed { .. } => 0,
        RunEnd::WorkloadFailed { .. } => EXIT_WORKLOAD_ERROR,
        RunEnd::Crashed { .. } => EXIT_CRASH,
        RunEnd::TimedOut { .. } => EXIT_TIMEOUT,
        RunEnd::Stopped => EXIT_STOPPED,
        RunEnd::Detached { .. } => 0,
    }
}

/// The live stall warning: a line when a stall begins and when progress
/// resumes, and the growing gap on the bar meanwhile.
struct StallLine {
    timeout: Option<Duration>,
    quiet: bool,
    last_check: std::time::Instant,
    shown: bool,
}

impl StallLine {
    fn new(timeout: Option<Duration>, quiet: bool) -> Self {
        Self {
            timeout,
            quiet,
            last_check: std::time::Instant::now(),
            shown: false,
        }
    }

    fn check(&mut self, record: &RunRecord, bar: &ProgressBar) {
        if self.quiet || record.is_finished() || self.last_check.elapsed() < STALL_CHECK {
            return;
        }
        self.last_check = std::time::Instant::now();
        let now = crate::pace::monotonic_ns();
        let Some(s) = crate::store::stall::stall(record, Some(now)) else {
            return;
        };
        if s.stalled && s.ongoing {
            if !self.shown {
                let ends = match self.timeout {
                    Some(t) => format!("at its timeout ({:.0} s) or on Ctrl-C", t.as_secs_f64()),
                    None => "only on Ctrl-C (--timeout 0)".to_string(),
                };
                bar.suspend(|| {
                    eprintln!(
                        "STALLED: {}; {}; the run ends {ends}",
                        s.headline(),
                        s.bound_text()
                    )
                });
                self.shown = true;
            }
            bar.set_message(format!("STALLED: {}", s.headline()));
        } else if self.shown {
            bar.set_message("");
            bar.suspend(|| eprintln!("progress resumed"));
            self.shown = false;
        }
    }
}

pub(super) fn new_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(bar_style("items"));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The live bar, counting the workload's unit ("pixels").
fn bar_style(unit: &str) -> ProgressStyle {
    // `{` and `}` would be template syntax
    let unit: String = unit.chars().filter(|c| !matches!(c, '{' | '}')).collect();
    ProgressStyle::with_template(&format!(
        "  [{{bar:40}}] {{pos}}/{{len}} {unit}  {{per_sec}}  {{elapsed}}  {{msg}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

/// Progress and the workload's own output while the run goes.
pub(super) fn show_live(msg: &RunMessage, bar: &ProgressBar, quiet: bool) {
    match msg {
        RunMessage::Event {
            event: Event::Hello(h),
            ..
        } => {
            if let Some(unit) = &h.item_unit {
                bar.set_style(bar_style(unit));
            }
        }
        RunMessage::Event {
            event: Event::SetupDone(s),
            ..
        } => bar.set_length(s.items_total.unwrap_or(s.chunks)),
        RunMessage::Event {
            event: Event::ChunkDone(c),
            ..
        } => bar.inc(c.items),
        RunMessage::Event {
            event: Event::GilChanged(g),
            ..
        } if !quiet => bar.suspend(|| {
            eprintln!(
                "GIL {} during the run{}",
                if g.enabled { "re-enabled" } else { "disabled" },
                g.module
                    .as_ref()
                    .map(|m| format!(" by importing {m}"))
                    .unwrap_or_default()
            )
        }),
        RunMessage::Load(iv) => bar.set_message(format!(
            "{:.0} req/s answered of {:.0} offered · p99 {} · in flight {}{}",
            iv.achieved_rps(),
            iv.offered_rps(),
            iv.latency
                .p99_ms
                .map_or_else(|| "—".to_string(), |v| format!("{v:.1} ms")),
            iv.in_flight,
            if iv.errors + iv.timeouts > 0 {
                format!(" · {} failed", iv.errors + iv.timeouts)
            } else {
                String::new()
            }
        )),
        RunMessage::Output { stream, line } if !quiet => {
            let mark = if *stream == Stream::Stderr {
                "│!"
            } else {
                "│ "
            };
            bar.suspend(|| eprintln!("{mark} {line}"));
        }
        _ => {}
    }
}
