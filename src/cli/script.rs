//! `gilscope run --script FILE [--interp …] [--mode …] [-- ARGS…]`: a
//! plain script, unchanged, on one or more interpreter builds, each run
//! observed like a workload run; a summary with the thread table per run,
//! then a compare table (wall time, CPU, GIL, speedup against the default
//! build).

use super::run::{RunArgs, checked_common, exit_code, follow, interpreter_at, new_bar, usage};
use super::{summary, table, threads};
use crate::interp::{DiscoverOptions, Interpreter, Mode, discover};
use crate::run::{self, RunSpec, check_script_mode};
use crate::store::{CompareRow, RunRecord, compare_rows, summarize};
use crate::sweep::Spread;
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
    if args.repeat == 0 {
        return usage("--repeat must be at least 1".into());
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
    let (timeout, sampling) = match checked_common(args) {
        Ok(checked) => checked,
        Err(msg) => return usage(msg),
    };
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
    let ctrlc_rx = super::ctrlc_channel();
    let mut records: Vec<RunRecord> = Vec::new();
    let mut saved: Vec<Option<Result<PathBuf, String>>> = Vec::new();
    let order = crate::sweep::plan::repeat_outermost(&plans, args.repeat);
    let total = order.len();
    for (i, (interp, mode)) in order.iter().enumerate() {
        let repeat = (args.repeat > 1).then_some(i / plans.len() + 1);
        let spec = RunSpec::script(interp, *mode, file, &args.script_args, &cwd, timeout);
        if !args.json {
            eprintln!(
                "{}script {} · {mode} · {} ({}){}",
                repeat.map_or(String::new(), |r| format!("[round {r}/{}] ", args.repeat)),
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
        let stopped = follow(
            &handle,
            &mut record,
            &bar,
            args.json,
            &ctrlc_rx,
            Duration::from_millis(250),
            |r| bar.set_message(format!("{} threads", r.thread_tracks().len())),
        )?;
        bar.finish_and_clear();
        drop(handle);
        saved.push(args.record.as_ref().map(|path| {
            let path = record_path(path, plans.len(), interp, *mode, repeat);
            record.save(&path).map(|()| path).map_err(|e| e.to_string())
        }));
        records.push(record);
        if stopped && i + 1 < total {
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
            "points": points(&plans, &rows).iter().map(point_json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for (record, s) in records.iter().zip(&saved) {
            if args.repeat > 1 {
                println!(
                    "{} · {} · {}: {}",
                    file.display(),
                    record.spec().mode,
                    record.spec().interp_name,
                    record
                        .outcome()
                        .map_or("no outcome".into(), |o| o.headline())
                );
                if let Some(Err(e)) = s {
                    eprintln!("error: the run was not saved: {e}");
                }
                continue;
            }
            println!(
                "\n{} · {} · {}",
                file.display(),
                record.spec().mode,
                record.spec().interp_name
            );
            print!("{}", summary::summary_text(record));
            print!("{}", threads::table(record));
            match s {
                Some(Ok(path)) => println!("  run file    {}", path.display()),
                Some(Err(e)) => eprintln!("error: the run was not saved: {e}"),
                None => {}
            }
        }
        if args.repeat > 1 {
            // The thread table of each build's median run.
            for point in points(&plans, &rows) {
                if let Some(&i) = point.median_run.as_ref()
                    && let Some(record) = records.get(i)
                {
                    println!(
                        "\n{} · {} · {} (the median run)",
                        file.display(),
                        point.mode,
                        point.interpreter
                    );
                    print!("{}", threads::table(record));
                }
            }
            println!(
                "\ncompare over {} rounds (wall time median [min–max]; speedup: the default build's median / this one's, [range])",
                args.repeat
            );
            print!("{}", points_table(&points(&plans, &rows)));
        } else if records.len() > 1 {
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
        vec![interpreter_at(path)?]
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

/// `--record FILE` for run `interp`/`mode`: FILE itself for a single run,
/// else `FILE-INTERP-MODE.json[.gz]`, with `-rN` for round N of several.
fn record_path(
    path: &Path,
    runs: usize,
    interp: &Interpreter,
    mode: Mode,
    repeat: Option<usize>,
) -> PathBuf {
    if runs <= 1 && repeat.is_none() {
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
    let round = repeat.map_or(String::new(), |r| format!("-r{r}"));
    path.with_file_name(format!("{stem}-{interp}-{mode}{round}{ext}"))
}

/// One build's runs of the script (all rounds).
struct Point {
    interpreter: String,
    mode: String,
    runs: usize,
    /// Wall times of the runs that exited with status 0.
    wall: Option<Spread>,
    cpu_s: Option<f64>,
    gil_hold: Option<f64>,
    gil_wait: Option<f64>,
    /// The default build's median over this one's median, and the range
    /// from this one's slowest and fastest run.
    speedup: Option<f64>,
    speedup_range: Option<[f64; 2]>,
    /// Whether every run printed what the default build's runs printed.
    same_stdout: Option<bool>,
    peak_rss_bytes: Option<f64>,
    /// The index (in run order) of the completed run with the median time.
    median_run: Option<usize>,
}

fn median_of(values: impl Iterator<Item = f64>) -> Option<f64> {
    Spread::of(&values.collect::<Vec<_>>()).map(|s| s.median)
}

/// The runs grouped by build (in plan order), `rows` in run order.
fn points(plans: &Plans, rows: &[CompareRow]) -> Vec<Point> {
    let of = |interp: &Interpreter, mode: Mode| -> Vec<(usize, &CompareRow)> {
        rows.iter()
            .enumerate()
            .filter(|(_, r)| r.interpreter == interp.name && r.mode == mode.as_str())
            .collect()
    };
    let base = plans
        .iter()
        .find(|(i, m)| *m == Mode::Gil && i.info().is_some_and(|x| !x.free_threaded))
        .map(|(i, m)| of(i, *m));
    let base_median = base
        .as_ref()
        .and_then(|b| median_of(b.iter().filter_map(|(_, r)| r.time_s)));
    plans
        .iter()
        .map(|(interp, mode)| {
            let group = of(interp, *mode);
            let times: Vec<f64> = group.iter().filter_map(|(_, r)| r.time_s).collect();
            let wall = Spread::of(&times);
            let median_run = wall.and_then(|w| {
                group
                    .iter()
                    .filter(|(_, r)| r.time_s.is_some())
                    .min_by(|a, b| {
                        let d = |r: &CompareRow| (r.time_s.unwrap_or(f64::MAX) - w.median).abs();
                        d(a.1).total_cmp(&d(b.1))
                    })
                    .map(|(i, _)| *i)
            });
            let (speedup, speedup_range) = match (base_median, wall) {
                (Some(b), Some(w)) if w.median > 0.0 && w.min > 0.0 => {
                    (Some(b / w.median), Some([b / w.max, b / w.min]))
                }
                _ => (None, None),
            };
            let same: Vec<bool> = group.iter().filter_map(|(_, r)| r.same_result).collect();
            Point {
                interpreter: interp.name.clone(),
                mode: mode.to_string(),
                runs: group.len(),
                wall,
                cpu_s: median_of(group.iter().filter_map(|(_, r)| r.cpu_s)),
                gil_hold: median_of(group.iter().filter_map(|(_, r)| r.gil_hold)),
                gil_wait: median_of(group.iter().filter_map(|(_, r)| r.gil_wait)),
                speedup,
                speedup_range,
                same_stdout: (!same.is_empty()).then(|| same.iter().all(|&b| b)),
                peak_rss_bytes: median_of(
                    group
                        .iter()
                        .filter_map(|(_, r)| r.peak_rss_bytes.map(|b| b as f64)),
                ),
                median_run,
            }
        })
        .collect()
}

/// The points as aligned text.
fn points_table(points: &[Point]) -> String {
    let body: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            vec![
                p.interpreter.clone(),
                p.mode.clone(),
                format!("{}/{}", p.wall.map_or(0, |w| w.n), p.runs),
                p.wall.map_or("—".into(), |w| {
                    format!("{:.3} s [{:.3}–{:.3}]", w.median, w.min, w.max)
                }),
                opt(p.cpu_s, |t| format!("{t:.3} s")),
                threads::opt_pct(p.gil_hold),
                threads::opt_pct(p.gil_wait),
                match (p.speedup, p.speedup_range) {
                    (Some(s), Some([lo, hi])) => format!("{s:.2}× [{lo:.2}–{hi:.2}]"),
                    _ => "—".into(),
                },
                p.same_stdout
                    .map_or("—".into(), |b| if b { "same" } else { "differs" }.into()),
                opt(p.peak_rss_bytes, |b| format!("{:.1} MiB", b / 1048576.0)),
            ]
        })
        .collect();
    table::render(
        &[
            "INTERP", "MODE", "OK", "WALL", "CPU", "GIL HELD", "GIL WAIT", "SPEEDUP", "STDOUT",
            "PEAK RSS",
        ],
        &body,
    )
}

fn point_json(p: &Point) -> serde_json::Value {
    serde_json::json!({
        "interpreter": p.interpreter,
        "mode": p.mode,
        "runs": p.runs,
        "completed": p.wall.map_or(0, |w| w.n),
        "wall_secs": p.wall.map(|w| serde_json::json!({
            "median": w.median, "min": w.min, "max": w.max, "q1": w.q1, "q3": w.q3,
        })),
        "cpu_secs": p.cpu_s,
        "gil_hold": p.gil_hold,
        "gil_wait": p.gil_wait,
        "speedup_vs_default_build": p.speedup,
        "speedup_range": p.speedup_range,
        "same_stdout": p.same_stdout,
        "peak_rss_bytes": p.peak_rss_bytes,
    })
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
