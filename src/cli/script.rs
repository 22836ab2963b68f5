//! `gilscope run --script FILE [--interp …] [--mode …] [-- ARGS…]`: a
//! plain script, unchanged, on one or more interpreter builds, each run
//! observed like a workload run; a summary with the thread table per run,
//! then a compare table (wall time, CPU, GIL, speedup against the default
//! build).

use super::run::{
    RunArgs, check_record_dir, ctrlc_channel, exit_code, new_bar, show_live, timeout_of, usage,
};
use super::{report, table, threads};
use crate::interp::probe::probe;
use crate::interp::{
    DiscoverOptions, Interpreter, Mode, Source, Status, discover, supported_modes,
};
use crate::run::{self, RunMessage, RunSpec, check_script_mode};
use crate::store::{CompareRow, RunRecord, compare_rows, summarize};
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

pub fn run(args: &RunArgs, file: &Path) -> anyhow::Result<ExitCode> {
    if args.workers.is_some() {
        return usage(
            "--workers does not apply to --script: the script starts its own threads".into(),
        );
    }
    if !args.params.is_empty() {
        return usage(
            "--param does not apply to --script: give the script's arguments after `--`".into(),
        );
    }
    for &mode in &args.mode {
        if let Err(msg) = check_script_mode(mode) {
            return usage(msg);
        }
    }
    if !file.exists() {
        return usage(format!("script file '{}' does not exist", file.display()));
    }
    if !file.is_file() {
        return usage(format!("--script {}: not a file", file.display()));
    }
    let timeout = match timeout_of(args.timeout) {
        Ok(t) => t,
        Err(msg) => return usage(msg),
    };
    let sampling = match args.sampling.config() {
        Ok(config) => config,
        Err(msg) => return usage(msg),
    };
    if let Err(msg) = check_record_dir(args.record.as_deref()) {
        return usage(msg);
    }
    if let Some(path) = &args.python
        && !path.exists()
    {
        return usage(format!("--python {}: no such file", path.display()));
    }
    let (plans, notes) = match plans(args) {
        Ok(p) => p,
        Err(msg) => return usage(msg),
    };
    if !args.json {
        for note in &notes {
            eprintln!("note: {note}");
        }
    }
    let cwd = std::env::current_dir()?;
    let sampling = (!args.no_sample).then_some(sampling);
    let ctrlc_rx = ctrlc_channel();
    let mut records: Vec<RunRecord> = Vec::new();
    let mut saved: Vec<Option<Result<PathBuf, String>>> = Vec::new();
    for (i, (interp, mode)) in plans.iter().enumerate() {
        let spec = RunSpec::script(interp, *mode, file, &args.script_args, &cwd, timeout);
        if !args.json {
            eprintln!(
                "script {} · {mode} · {} ({}){}",
                file.display(),
                interp.name,
                interp.path.display(),
                if args.script_args.is_empty() {
                    String::new()
                } else {
                    format!(" · args {:?}", args.script_args)
                }
            );
        }
        let handle = match run::start_sampled(&spec, sampling) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        };
        let mut record = RunRecord::new(spec, interp.clone());
        let bar = if args.json {
            ProgressBar::hidden()
        } else {
            let bar = new_bar();
            bar.set_style(
                indicatif::ProgressStyle::with_template("  {spinner} {elapsed}  {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar
        };
        let mut stopped = false;
        loop {
            crossbeam_channel::select! {
                recv(handle.messages()) -> msg => match msg {
                    Ok(msg) => {
                        let finished = matches!(msg, RunMessage::Finished(_));
                        show_live(&msg, &bar, args.json);
                        record.eat_message(msg);
                        if finished {
                            break;
                        }
                    }
                    Err(_) => anyhow::bail!("the run ended without an outcome"),
                },
                recv(ctrlc_rx) -> _ => {
                    stopped = true;
                    handle.stop();
                }
                default(Duration::from_millis(250)) => {
                    bar.set_message(format!("{} threads", record.thread_tracks().len()));
                }
            }
        }
        bar.finish_and_clear();
        drop(handle);
        saved.push(args.record.as_ref().map(|path| {
            let path = record_path(path, plans.len(), interp, *mode);
            record.save(&path).map(|()| path).map_err(|e| e.to_string())
        }));
        records.push(record);
        if stopped && i + 1 < plans.len() {
            if !args.json {
                eprintln!("stopped: the remaining runs were not started");
            }
            break;
        }
    }
    let refs: Vec<&RunRecord> = records.iter().collect();
    let rows = compare_rows(&refs);
    if args.json {
        let runs: Vec<serde_json::Value> = records
            .iter()
            .zip(&saved)
            .map(|(r, s)| {
                serde_json::json!({
                    "summary": summarize(r),
                    "threads": threads::json(r),
                    "outcome": r.outcome(),
                    "record": s.as_ref().map(|s| s.as_ref().map(|p| p.display().to_string())),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "version": 1,
            "script": {
                "file": file,
                "args": args.script_args,
                "cwd": cwd,
            },
            "runs": runs,
            "compare": rows.iter().map(row_json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for (record, s) in records.iter().zip(&saved) {
            println!(
                "\n{} · {} · {}",
                file.display(),
                record.spec().mode,
                record.spec().interp_name
            );
            print!("{}", report::summary_text(record));
            print!("{}", threads::table(record));
            match s {
                Some(Ok(path)) => println!("  run file    {}", path.display()),
                Some(Err(e)) => eprintln!("error: the run was not saved: {e}"),
                None => {}
            }
        }
        if records.len() > 1 {
            println!("\ncompare (speedup: the default build's wall time / this run's)");
            print!("{}", compare_table(&rows));
        }
    }
    let code = records
        .iter()
        .filter_map(|r| r.outcome().map(|o| exit_code(&o.end)))
        .find(|&c| c != 0)
        .unwrap_or(0);
    if code == 0 && saved.iter().flatten().any(|s| s.is_err()) {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::from(code))
}

/// The runs of a script: which interpreter, in which mode, in order.
type Plans = Vec<(Interpreter, Mode)>;

/// Which interpreter runs the script in which mode, in order, and notes
/// about what was left out.
fn plans(args: &RunArgs) -> Result<(Plans, Vec<String>), String> {
    let mut notes = Vec::new();
    let found = std::cell::OnceCell::new();
    let all =
        || -> &Vec<Interpreter> { found.get_or_init(|| discover(&DiscoverOptions::default())) };
    let natural = |i: &Interpreter| {
        if i.info().is_some_and(|x| x.free_threaded) {
            Mode::Ft
        } else {
            Mode::Gil
        }
    };
    let named: Vec<Interpreter> = if let Some(path) = &args.python {
        vec![by_path(path)?]
    } else {
        args.interp
            .iter()
            .map(|name| {
                let all = all();
                all.iter().find(|i| &i.name == name).cloned().ok_or_else(|| {
                    let names: Vec<&str> = all
                        .iter()
                        .filter(|i| i.info().is_some())
                        .map(|i| i.name.as_str())
                        .collect();
                    format!(
                        "no interpreter named '{name}'; found: {} (see `gilscope pythons list`)",
                        names.join(", ")
                    )
                })
            })
            .collect::<Result<_, _>>()?
    };
    let mut plans = Vec::new();
    if named.is_empty() {
        let (modes, optional_ft) = if args.mode.is_empty() {
            (vec![Mode::Gil, Mode::Ft], true)
        } else {
            (args.mode.clone(), false)
        };
        for mode in modes {
            match run::pick_interpreter(all(), mode) {
                Some(i) => plans.push((i.clone(), mode)),
                None if optional_ft && mode == Mode::Ft => notes.push(
                    "no free-threaded build here, so the script runs on the default build only; `gilscope pythons install` builds 3.13t".into(),
                ),
                None => {
                    return Err(format!(
                        "no interpreter found that can run mode '{mode}'; `gilscope pythons install` builds CPython 3.13 and 3.13t"
                    ));
                }
            }
        }
    } else {
        for interp in named {
            let modes = if args.mode.is_empty() {
                vec![natural(&interp)]
            } else {
                args.mode.clone()
            };
            for mode in modes {
                run::script::check_script_interp(&interp, mode)?;
                plans.push((interp.clone(), mode));
            }
        }
    }
    Ok((plans, notes))
}

/// The interpreter at `path`, probed.
fn by_path(path: &Path) -> Result<Interpreter, String> {
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

/// `--record FILE` for run `interp`/`mode`: FILE itself for a single run,
/// else `FILE-INTERP-MODE.json[.gz]`.
fn record_path(path: &Path, runs: usize, interp: &Interpreter, mode: Mode) -> PathBuf {
    if runs <= 1 {
        return path.to_path_buf();
    }
    let name = path
        .file_name()
        .map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned());
    let (stem, ext) = match name.find(".json") {
        Some(i) => name.split_at(i),
        None => (name.as_str(), ".json"),
    };
    let interp: String = interp
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    path.with_file_name(format!("{stem}-{interp}-{mode}{ext}"))
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or("—".into(), f)
}

/// The compare table as aligned text.
fn compare_table(rows: &[CompareRow]) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.interpreter.clone(),
                r.mode.clone(),
                r.exit.as_deref().map_or("—".into(), |e| {
                    e.replace("exited with status ", "status ")
                }),
                opt(r.time_s, |t| format!("{t:.3} s")),
                opt(r.cpu_s, |t| format!("{t:.3} s")),
                opt(r.cpu_cores, |c| format!("{c:.2}")),
                threads::opt_pct(r.gil_hold),
                threads::opt_pct(r.gil_wait),
                opt(r.speedup, |s| format!("{s:.2}×")),
                r.same_result
                    .map_or("—".into(), |b| if b { "same" } else { "differs" }.into()),
                opt(r.peak_rss_bytes.map(|b| b as f64), |b| {
                    format!("{:.1} MiB", b / 1048576.0)
                }),
            ]
        })
        .collect();
    table::render(
        &[
            "INTERP", "MODE", "EXIT", "WALL", "CPU", "CORES", "GIL HELD", "GIL WAIT", "SPEEDUP",
            "STDOUT", "PEAK RSS",
        ],
        &body,
    )
}

fn row_json(r: &CompareRow) -> serde_json::Value {
    serde_json::json!({
        "interpreter": r.interpreter,
        "mode": r.mode,
        "exit": r.exit,
        "status": r.status,
        "wall_secs": r.time_s,
        "cpu_secs": r.cpu_s,
        "cpu_cores": r.cpu_cores,
        "gil_hold": r.gil_hold,
        "gil_wait": r.gil_wait,
        "gil_missing": r.gil_missing,
        "speedup_vs_default_build": r.speedup,
        "same_stdout": r.same_result,
        "peak_rss_bytes": r.peak_rss_bytes,
    })
}
