//! The GIL numbers on every current CPython, checked against an
//! independent tool: py-spy 0.4.3 (`record --gil --threads`) attaches to
//! gilscope's own runs and its per-thread sample share must match each
//! worker's held fraction. Interpreters: gilscope's managed 3.13.5 and
//! 3.13t, CPython 3.14.10 and 3.15.2 from the Debian sid root that
//! `scripts/sid-pythons` makes (run through its wrappers, so gilscope reads
//! them through `/proc/PID/root`), and pyenv's 3.12.1 when present.
//!
//! `scripts/test` sets `GILSCOPE_TEST_SID=1` and `GILSCOPE_TEST_PYSPY=1`
//! after installing both, so in CI a missing sid root or py-spy fails these
//! tests; a plain `cargo test` on a machine without them says so and skips.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use crate::common::{self, PySpy, PySpyRecording, held_between};

use gilscope::interp::{DiscoverOptions, Interpreter, Mode, Source, discover};
use gilscope::run::{RunEnd, RunMessage, RunSpec};
use gilscope::sampler::SamplerConfig;
use gilscope::store::RunRecord;
use gilscope::store::metrics::worker_gil;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn required(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| v == "1")
}

/// The sid wrappers (`python3.14`, `python3.15`), or `None` with a reason.
pub(crate) fn sid_wrappers() -> Option<Vec<PathBuf>> {
    static CELL: OnceLock<Option<Vec<PathBuf>>> = OnceLock::new();
    CELL.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sid-pythons");
        let out = Command::new(&script).arg("--check").output().unwrap();
        if out.status.success() {
            let paths: Vec<PathBuf> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(PathBuf::from)
                .collect();
            return Some(paths);
        }
        let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert!(
            !required("GILSCOPE_TEST_SID"),
            "GILSCOPE_TEST_SID=1 but the sid root is missing: {why}"
        );
        eprintln!("skipped: no CPython 3.14/3.15 here ({why})");
        None
    })
    .clone()
}

/// Every interpreter, with the sid wrappers listed through
/// `GILSCOPE_PYTHONS` (set once, before the only discovery of this binary).
fn interpreters() -> &'static Vec<Interpreter> {
    static CELL: OnceLock<Vec<Interpreter>> = OnceLock::new();
    CELL.get_or_init(|| {
        if let Some(paths) = sid_wrappers() {
            let list = std::env::join_paths(paths).unwrap();
            // SAFETY: set before any other thread of this binary reads the
            // environment (the OnceLock runs first in every test).
            unsafe { std::env::set_var("GILSCOPE_PYTHONS", list) };
        }
        discover(&DiscoverOptions::default())
    })
}

pub(crate) fn interp(version: &str, free_threaded: bool) -> Option<&'static Interpreter> {
    let found = interpreters().iter().find(|i| {
        i.info().is_some_and(|x| {
            x.version.starts_with(&format!("{version}.")) && x.free_threaded == free_threaded
        }) && (version != "3.13" || i.source == Source::Managed)
    });
    if found.is_none() {
        eprintln!("skipped: no CPython {version} found");
    }
    found
}

fn spec(
    i: &Interpreter,
    mode: Mode,
    workers: usize,
    workload: &str,
    params: &[(&str, &str)],
) -> RunSpec {
    // Longer than common's default: the cross-checks run for seconds.
    RunSpec {
        timeout: Some(Duration::from_secs(180)),
        ..common::spec_on(i, mode, workers, workload, params)
    }
}

/// Runs `spec` sampled; once its workers have started, py-spy records it
/// for `secs`, then the run is stopped (the workloads are sized to outlast
/// it). Returns the record and what py-spy saw.
fn run_with_pyspy(
    spec: &RunSpec,
    interp: &Interpreter,
    pyspy: &Path,
    secs: u32,
) -> (RunRecord, PySpy) {
    let handle = gilscope::run::start_sampled(spec, Some(SamplerConfig::default())).unwrap();
    let mut record = RunRecord::new(spec.clone(), interp.clone());
    let mut spy: Option<PySpyRecording> = None;
    let mut seen: Option<PySpy> = None;
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        assert!(Instant::now() < deadline, "the run did not end");
        match handle.messages().recv_timeout(Duration::from_millis(50)) {
            Ok(msg) => {
                let done = matches!(msg, RunMessage::Finished(_));
                record.eat_message(msg);
                if done {
                    break;
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(e) => panic!("{e}"),
        }
        let started = (0..spec.workers).all(|w| record.worker_started(w).is_some());
        if spy.is_none() && seen.is_none() && started {
            // Let the GIL reader attach and the workers settle first.
            std::thread::sleep(Duration::from_millis(300));
            spy = Some(PySpyRecording::start(pyspy, handle.pid(), secs));
        }
        if spy.as_mut().is_some_and(PySpyRecording::done) {
            seen = spy.take().map(PySpyRecording::finish);
            handle.stop();
        }
    }
    (record, seen.expect("the run ended before py-spy finished"))
}

fn worker_tids(run: &RunRecord) -> Vec<u32> {
    (0..run.worker_count())
        .map(|w| u32::try_from(run.worker_started(w).unwrap().native_id).unwrap())
        .collect()
}

/// primes and hash, gil ×2, on one interpreter, against py-spy.
fn cross_check(version: &str) {
    let Some(pyspy) = common::pyspy() else { return };
    let Some(i) = interp(version, false) else {
        assert!(
            version == "3.13" || !required("GILSCOPE_TEST_SID"),
            "no CPython {version}"
        );
        return;
    };
    let _one = common::one_at_a_time();
    // Two threads taking turns: py-spy gets 8 s to read their split (see
    // common::PYSPY_RATE); the hash threads barely hold the GIL.
    let cases = [
        ("primes", &[("n", "200000000")][..], 8),
        ("hash", &[("count", "100000")][..], 5),
    ];
    for (workload, params, secs) in cases {
        let (run, spy) = run_with_pyspy(&spec(i, Mode::Gil, 2, workload, params), i, &pyspy, secs);
        assert!(
            matches!(run.outcome().unwrap().end, RunEnd::Stopped),
            "{version} {workload}: {:?}",
            run.outcome().unwrap().end
        );
        let gil = run.gil();
        assert!(gil.has_data(), "{version}: no GIL data: {:?}", gil.notices);
        let whole = worker_gil(&run);
        for tid in worker_tids(&run) {
            let ours = held_between(&run, tid, spy.from_ns, spy.to_ns);
            let theirs = spy.held.get(&tid).copied().unwrap_or(0.0);
            let w = whole.iter().find(|w| w.tid == tid).unwrap();
            eprintln!(
                "CROSS-CHECK {version} {workload} thread {tid}: held {:.1} % (gilscope, py-spy's {:.1} s) vs {:.1} % (py-spy, {} rounds); whole run: held {:.1} % · waited {:.1} % · ran without {:.1} % · unsure {:.1} %",
                100.0 * ours,
                (spy.to_ns - spy.from_ns) as f64 / 1e9,
                100.0 * theirs,
                spy.rounds,
                100.0 * w.hold.unwrap(),
                100.0 * w.wait.unwrap_or(f64::NAN),
                100.0 * w.run_free.unwrap_or(f64::NAN),
                100.0 * w.unsure.unwrap_or(f64::NAN),
            );
            let run_free = w.run_free.unwrap();
            match workload {
                "primes" => {
                    assert!(
                        (ours - theirs).abs() <= 0.05,
                        "{version} primes thread {tid}: gilscope {ours:.3} vs py-spy {theirs:.3}"
                    );
                    assert!((0.3..=0.7).contains(&ours), "{version}: held {ours:.3}");
                    // Pure Python cannot run without the GIL on a default build.
                    assert!(
                        run_free <= 0.03,
                        "{version} primes: ran without {run_free:.3}"
                    );
                }
                _ => {
                    assert!(
                        ours <= 0.10 && theirs <= 0.10,
                        "{version} hash: {ours:.3} / {theirs:.3}"
                    );
                    assert!(
                        run_free >= 0.80,
                        "{version} hash: ran without {run_free:.3}"
                    );
                }
            }
        }
    }
}

#[test]
fn cpython_313_matches_pyspy() {
    cross_check("3.13");
}

#[test]
fn cpython_314_matches_pyspy() {
    cross_check("3.14");
}

#[test]
fn cpython_315_matches_pyspy() {
    cross_check("3.15");
}

/// A short sampled run to its end (panics unless it completed).
fn sampled(
    i: &Interpreter,
    mode: Mode,
    workers: usize,
    workload: &str,
    params: &[(&str, &str)],
) -> RunRecord {
    common::sampled_record_with(&spec(i, mode, workers, workload, params), i)
}

/// gil, subinterp and process on 3.14 and 3.15: the same checksum as on
/// 3.13; one GIL per own-GIL subinterpreter, each held by its worker; every
/// worker process read.
#[test]
fn cpython_314_and_315_run_every_mode_with_exact_gils() {
    if sid_wrappers().is_none() {
        return;
    }
    let _one = common::one_at_a_time();
    // Few, long chunks: a subinterpreter worker waits for its next chunk
    // without its GIL, and on a busy machine many short ones would make
    // that wait a large share of a short run.
    let params = [("n", "1000000"), ("chunk", "25000")];
    let reference = sampled(
        interp("3.13", false).unwrap(),
        Mode::Gil,
        1,
        "primes",
        &params,
    );
    let checksum = reference.result().unwrap().checksum.clone();
    for version in ["3.14", "3.15"] {
        let i = interp(version, false).unwrap_or_else(|| panic!("no CPython {version}"));
        for mode in [Mode::Gil, Mode::Subinterp, Mode::Process] {
            let run = sampled(i, mode, 2, "primes", &params);
            assert_eq!(run.result().unwrap().checksum, checksum, "{version} {mode}");
            let gil = run.gil();
            assert!(
                gil.missing_reason().is_none(),
                "{version} {mode}: {:?}",
                gil.notices
            );
            let workers = worker_gil(&run);
            assert_eq!(workers.len(), 2, "{version} {mode}: {workers:?}");
            match mode {
                Mode::Subinterp => {
                    // One GIL per interpreter: the main one plus one each.
                    let own: Vec<_> = gil.gils.iter().filter(|g| g.interp_id != 0).collect();
                    assert_eq!(own.len(), 2, "{version}: {:?}", gil.gils);
                    for w in &workers {
                        let hold = w.hold.unwrap();
                        eprintln!("{version} subinterp worker {}: held {hold:.3}", w.worker);
                        assert!(
                            hold >= 0.80,
                            "{version} subinterp worker {}: held {hold:.3}",
                            w.worker
                        );
                        // Its own GIL held is not "unsure" (this read 100 %).
                        let unsure = w.unsure.unwrap_or(0.0);
                        assert!(
                            unsure < 0.25,
                            "{version} subinterp worker {}: unsure {unsure:.3}",
                            w.worker
                        );
                    }
                }
                Mode::Process => {
                    let pids: std::collections::BTreeSet<u32> =
                        gil.gils.iter().map(|g| g.pid).collect();
                    assert!(pids.len() >= 3, "{version}: GILs read in {pids:?}");
                    for w in &workers {
                        assert!(w.hold.unwrap() >= 0.80, "{version} process worker: {w:?}");
                    }
                }
                _ => {
                    let total: f64 = workers.iter().filter_map(|w| w.hold).sum();
                    assert!(
                        (0.6..=1.02).contains(&total),
                        "{version} gil: holds sum to {total:.3}"
                    );
                }
            }
        }
    }
}

/// 3.12 has no debug offsets: the run completes and every surface says why
/// it has no GIL numbers, in one line (the record, `run`'s summary text and
/// its `--json`).
#[test]
fn cpython_312_says_why_it_has_no_gil_numbers() {
    let Some(i) = interpreters()
        .iter()
        .find(|i| i.info().is_some_and(|x| x.version.starts_with("3.12.")))
    else {
        eprintln!("skipped: no CPython 3.12 here");
        return;
    };
    let _one = common::one_at_a_time();
    let run = sampled(i, Mode::Gil, 2, "primes", &[("n", "100000")]);
    let why = run.gil().missing_reason().expect("a reason");
    assert!(
        why.contains("3.12") && why.contains("3.13 or newer"),
        "{why}"
    );
    assert!(worker_gil(&run).is_empty());
    assert_eq!(
        gilscope::store::summarize(&run).gil_missing.as_deref(),
        Some(why.as_str())
    );
    let gilscope = env!("CARGO_BIN_EXE_gilscope");
    let args = [
        "run", "-w", "primes", "-m", "gil", "-n", "2", "-p", "n=100000", "--python",
    ];
    let text = Command::new(gilscope)
        .args(args)
        .arg(&i.path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("GIL reader"))
        .unwrap_or_else(|| panic!("no GIL reader line: {text}"));
    assert!(
        line.contains("no debug offsets") && line.contains("3.13 or newer"),
        "{line}"
    );
    let json = Command::new(gilscope)
        .args(args)
        .arg(&i.path)
        .arg("--json")
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let missing = doc["summary"]["gil_missing"].as_str().unwrap_or_default();
    assert!(missing.contains("no debug offsets"), "{doc}");
    assert!(doc["workers"][0]["gil_hold"].is_null(), "{doc}");
}
