//! The native kernels against gilscope's managed CPython 3.13 and 3.13t:
//! the pyo3 extension builds for both from a clean cache (both variants),
//! the native blur gives the pure-Python checksum, releasing the GIL scales
//! on the default build (the speedup is printed, never asserted; what is
//! asserted is that native workers do not sit blocked on the GIL), and
//! importing the `gil_used = true` variant mid-run turns the GIL back on in
//! a FT run (`gil_changed`, and the workers' blocked fraction rises).
//!
//! The tests here share the machine's two cores (builds, timed runs), so
//! they take turns.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common;

use common::{managed_313, run_to_end, spec};
use gilscope::interp::Mode;
use gilscope::native::{NativeCache, NativeError, Progress, Source, Variant};
use gilscope::run::protocol::Event;
use gilscope::run::{self, RunEnd, RunMessage, RunSpec};
use gilscope::sampler::{Sample, SamplerConfig};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn with_params(mut spec: RunSpec, extra: &[(&str, &str)]) -> RunSpec {
    spec.params.extend(params(extra));
    spec
}

fn completed(fin: &common::Finished) -> &gilscope::run::protocol::RunResult {
    match &fin.outcome.end {
        RunEnd::Completed { result } => result,
        other => panic!(
            "run did not complete: {other:?}\nstderr: {}",
            fin.stderr.join("\n")
        ),
    }
}

/// `import <module>` in `python` with `dir` on sys.path: (GIL_USED, GIL on).
fn import_in(python: &Path, dir: &Path, module: &str) -> (bool, bool) {
    let code = format!(
        "import sys, warnings\nwarnings.simplefilter('ignore')\nsys.path.insert(0, {dir:?})\n\
         import {module} as m\nprint(m.GIL_USED, getattr(sys, '_is_gil_enabled', lambda: True)())\n\
         assert len(m.blur_band(bytes(range(48)), 4, 4, 1, 0, 4)) == 48\nassert m.spin(1000, False) == m.spin(1000)\n",
        dir = dir.display().to_string()
    );
    let out = Command::new(python)
        .args(["-I", "-c", &code])
        .env_remove("PYTHON_GIL")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{module} in {}: {}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let words: Vec<&str> = text.split_whitespace().collect();
    (words[0] == "True", words[1] == "True")
}

#[test]
fn extension_builds_for_313_and_313t_from_a_clean_cache() {
    let _turn = common::one_at_a_time();
    let root = tempfile::tempdir().unwrap();
    let cache = NativeCache::at(root.path());
    let (default, ft) = managed_313();
    let mut report = Vec::new();
    for interp in [default, ft] {
        let info = interp.info().unwrap();
        let suffix = info.ext_suffix.clone().unwrap();
        for variant in Variant::ALL {
            let mut seen: Vec<Progress> = Vec::new();
            let built = cache
                .ensure(&interp.path, variant, &mut |p| {
                    eprintln!("  {}", p.describe());
                    seen.push(p.clone());
                })
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(!built.cached);
            assert!(
                matches!(seen.first(), Some(Progress::Building { .. })),
                "{seen:?}"
            );
            assert!(
                matches!(seen.last(), Some(Progress::Built { .. })),
                "{seen:?}"
            );
            let compiled: Vec<&str> = seen
                .iter()
                .filter_map(|p| match p {
                    Progress::Compiling { krate, .. } => Some(krate.as_str()),
                    _ => None,
                })
                .collect();
            assert!(compiled.contains(&"gilscope-native"), "{compiled:?}");
            if variant == Variant::GilFree {
                // the first build for an interpreter compiles pyo3 too
                assert!(compiled.contains(&"pyo3"), "{compiled:?}");
            }
            let name = format!("{}{suffix}", variant.module_name());
            assert_eq!(built.file.file_name().unwrap().to_string_lossy(), name);
            let (gil_used, gil_on) = import_in(&interp.path, &built.dir, variant.module_name());
            assert_eq!(gil_used, variant.gil_used(), "{name}");
            // on 3.13t only the gil_used = true module switches the GIL on
            let expect_on = !info.free_threaded || variant.gil_used();
            assert_eq!(gil_on, expect_on, "{name} in {}", interp.name);
            // found in the cache the second time, without a build
            let again = cache.ensure(&interp.path, variant, &mut |_| {}).unwrap();
            assert!(again.cached);
            assert_eq!(again.file, built.file);
            report.push(format!(
                "{:>6} {:<20} {:>5.1} s  compiled {} crates",
                interp.name,
                variant.module_name(),
                built.build_secs.unwrap(),
                compiled.len()
            ));
        }
    }
    println!("native build from a clean cache:\n{}", report.join("\n"));

    // A build error says which module, for which interpreter, what cargo
    // said, and where the full log is.
    let broken = root.path().join("broken-src");
    copy_crate(&broken);
    let lib = broken.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        text.replace("Ok(PyBytes::new(py, &band))", "Ok(PyBytes::new(py, &bnad))"),
    )
    .unwrap();
    let err = NativeCache::at(root.path())
        .with_source(Source::Dir(broken))
        .ensure(&default.path, Variant::GilFree, &mut |_| {})
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, NativeError::Build { .. }), "{message}");
    assert!(
        message.starts_with("building gilscope_native for "),
        "{message}"
    );
    assert!(message.contains("bnad"), "{message}");
    assert!(message.contains("full cargo output: "), "{message}");
    println!("a broken build reports:\n{message}");
}

/// `workloads/native` (sources only) into `dest`.
fn copy_crate(dest: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/native");
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        std::fs::create_dir_all(dest.join(&rel)).unwrap();
        for entry in std::fs::read_dir(src.join(&rel)).unwrap().flatten() {
            let name = entry.file_name();
            let path = rel.join(&name);
            if entry.path().is_dir() {
                if name != "target" {
                    stack.push(path);
                }
            } else {
                std::fs::copy(entry.path(), dest.join(&path)).unwrap();
            }
        }
    }
}

#[test]
fn native_blur_gives_the_pure_python_checksum() {
    let _turn = common::one_at_a_time();
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/astronaut.png");
    // (16, 20): a radius past the image edges, where every tap clamps
    for (size, radius) in [(0u32, 4u32), (200, 7), (16, 20)] {
        let (size_s, radius_s) = (size.to_string(), radius.to_string());
        let shape = [("size", size_s.as_str()), ("radius", radius_s.as_str())];
        let reference = gilscope::blur::reference_checksum(&image, size, radius).unwrap();
        let python = run_to_end(&spec(Mode::Gil, 1, "blur", &shape));
        assert_eq!(
            completed(&python).checksum,
            reference,
            "pure Python, size {size} radius {radius}"
        );
        for (mode, workers) in [
            (Mode::Gil, 1),
            (Mode::Gil, 2),
            (Mode::Ft, 2),
            (Mode::Process, 2),
        ] {
            let native = run_to_end(&with_params(
                spec(mode, workers, "blur", &shape),
                &[("kernel", "native")],
            ));
            assert_eq!(
                completed(&native).checksum,
                reference,
                "native in {mode} x{workers}, size {size} radius {radius}"
            );
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Benchmark output, not an assertion: the speedup depends on the machine
/// (and on what else runs on it). 1- and 2-worker runs alternate, so drift
/// hits both; the speedup is the median of the pairs' ratios.
#[test]
fn native_blur_scaling_on_the_default_build() {
    let _turn = common::one_at_a_time();
    let shape = [("kernel", "native"), ("radius", "96"), ("rows", "8")];
    // build (or find) the module before timing anything
    let _ = run_to_end(&spec(Mode::Gil, 1, "blur", &[("kernel", "native")]));
    let elapsed =
        |workers| completed(&run_to_end(&spec(Mode::Gil, workers, "blur", &shape))).elapsed_s;
    let pairs: Vec<(f64, f64)> = (0..7).map(|_| (elapsed(1), elapsed(2))).collect();
    let one = median(pairs.iter().map(|p| p.0).collect());
    let two = median(pairs.iter().map(|p| p.1).collect());
    let speedup = median(pairs.iter().map(|p| p.0 / p.1).collect());
    println!(
        "native blur (GIL released), CPython 3.13 default build, radius 96, 7 pairs: \
         1 worker {one:.3} s, 2 workers {two:.3} s (medians), speedup {speedup:.2}x \
         (median of the pairs' ratios; {} cores online)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}

/// Runs `spec` sampled to the end: events, samples, outcome.
fn run_sampled(spec: &RunSpec) -> (Vec<Event>, Vec<Sample>, RunEnd) {
    let handle = run::start_sampled(spec, Some(SamplerConfig::default())).unwrap();
    let (mut events, mut samples) = (Vec::new(), Vec::new());
    loop {
        match handle
            .messages()
            .recv_timeout(Duration::from_secs(300))
            .unwrap()
        {
            RunMessage::Event { event, .. } => events.push(event),
            RunMessage::Sample(s) => samples.push(*s),
            RunMessage::Finished(outcome) => return (events, samples, outcome.end),
            _ => {}
        }
    }
}

/// Mean `blocked` fraction of the threads `tids` over samples in
/// `from..to` (ns), and how many values it averages.
fn mean_blocked(samples: &[Sample], tids: &[u32], from: u64, to: u64) -> (f64, usize) {
    let values: Vec<f64> = samples
        .iter()
        .filter(|s| s.t_ns > from && s.t_ns <= to)
        .flat_map(|s| s.threads.iter())
        .filter(|t| tids.contains(&t.tid))
        .filter_map(|t| t.blocked.map(f64::from))
        .collect();
    let n = values.len();
    (values.iter().sum::<f64>() / n.max(1) as f64, n)
}

/// The OS thread ids of the workers.
fn worker_tids(events: &[Event]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::WorkerStarted(w) => u32::try_from(w.native_id).ok(),
            _ => None,
        })
        .collect()
}

/// From the first chunk's start to the first `worker_done` (ns): the part
/// of the run where every worker has work. (A `chunk_done` now reports a
/// batch of chunks, ending ~50 ms in: its `start_ns` is when the first of
/// them started.)
fn parallel_phase(events: &[Event]) -> (u64, u64) {
    let first_chunk = events
        .iter()
        .filter_map(|e| match e {
            Event::ChunkDone(c) => Some(c.start_ns.unwrap_or(c.t_ns)),
            _ => None,
        })
        .min()
        .unwrap();
    let first_done = events
        .iter()
        .filter_map(|e| match e {
            Event::WorkerDone(d) => Some(d.t_ns),
            _ => None,
        })
        .min()
        .unwrap();
    (first_chunk, first_done)
}

/// Not timed: a thread waiting for the GIL sleeps (blocked), a thread that
/// released it computes or waits for a core, however busy the machine is.
#[test]
fn with_the_gil_released_workers_do_not_block() {
    let _turn = common::one_at_a_time();
    let mut blocked = Vec::new();
    for (kernel, shape) in [
        ("native", [("radius", "160"), ("size", "0")]),
        ("python", [("radius", "4"), ("size", "256")]),
    ] {
        let mut params = vec![("kernel", kernel)];
        params.extend(shape);
        let (events, samples, end) = run_sampled(&spec(Mode::Gil, 2, "blur", &params));
        assert!(matches!(end, RunEnd::Completed { .. }), "{end:?}");
        let (from, to) = parallel_phase(&events);
        let (mean, n) = mean_blocked(&samples, &worker_tids(&events), from, to);
        println!(
            "3.13 gil x2 blur kernel={kernel}: workers blocked {:.0} % of the time ({n} values)",
            mean * 100.0
        );
        assert!(n >= 5, "too few samples for kernel={kernel}: {n}");
        blocked.push(mean);
    }
    assert!(
        blocked[0] + 0.1 < blocked[1],
        "native workers should block far less than pure-Python ones: {blocked:?}"
    );
}

#[test]
fn importing_a_gil_module_mid_run_turns_the_gil_on_and_workers_block() {
    let _turn = common::one_at_a_time();
    let (_, ft) = managed_313();
    let spec = spec(
        Mode::Ft,
        2,
        "primes",
        &[("n", "800000"), ("import_gil_module", "0.5")],
    );
    let (events, samples, end) = run_sampled(&spec);
    let RunEnd::Completed { result } = &end else {
        panic!("{} run did not complete: {end:?}", ft.name);
    };
    let hello = events
        .iter()
        .find_map(|e| match e {
            Event::Hello(h) => Some(h),
            _ => None,
        })
        .unwrap();
    assert!(!hello.gil_enabled, "the FT run must start without the GIL");
    let flips: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::GilChanged(g) => Some(g),
            _ => None,
        })
        .collect();
    assert_eq!(flips.len(), 1, "{flips:?}");
    let flip = flips[0];
    assert!(flip.enabled);
    assert_eq!(flip.module.as_deref(), Some("gilscope_native_gil"));
    assert!(
        flip.warning.as_deref().unwrap_or("").contains("GIL"),
        "{flip:?}"
    );
    assert_eq!(result.gil_enabled, Some(true));
    assert_eq!(result.checksum, "count=63951 sum=24465663438");

    let tids = worker_tids(&events);
    let (first_chunk, end_ns) = parallel_phase(&events);
    // Let the switch settle for 100 ms.
    let settle = 100_000_000;
    let (before, n_before) = mean_blocked(&samples, &tids, first_chunk, flip.t_ns);
    let (after, n_after) = mean_blocked(&samples, &tids, flip.t_ns + settle, end_ns);
    println!(
        "{} ft x2 primes, gilscope_native_gil imported half-way: workers blocked {:.0} % before \
         ({n_before} values), {:.0} % after ({n_after} values)",
        ft.name,
        before * 100.0,
        after * 100.0
    );
    assert!(
        n_before >= 5 && n_after >= 5,
        "too few samples: {n_before}, {n_after}"
    );
    assert!(
        after > before + 0.2,
        "blocked fraction did not rise: {before:.2} -> {after:.2}"
    );
}

#[test]
fn native_blur_is_refused_up_front_in_subinterp_mode() {
    let _beside = common::beside_others();
    let spec = spec(Mode::Subinterp, 2, "blur", &[("kernel", "native")]);
    let Err(err) = run::start(&spec) else {
        panic!("a subinterp run with the native kernel started");
    };
    let text = err.to_string();
    assert!(
        text.contains("does not support loading in subinterpreters"),
        "{text}"
    );
    assert!(
        matches!(
            err,
            run::runner::StartError::Native(NativeError::Refused(_))
        ),
        "{text}"
    );
}

#[test]
fn import_gil_module_outside_thread_modes_is_a_usage_error() {
    let _beside = common::beside_others();
    let fin = run_to_end(&spec(
        Mode::Process,
        2,
        "primes",
        &[("n", "10000"), ("import_gil_module", "1")],
    ));
    let RunEnd::WorkloadFailed { error } = &fin.outcome.end else {
        panic!("{:?}", fin.outcome.end);
    };
    assert_eq!(error.phase.as_deref(), Some("usage"));
    assert!(
        error.message.contains("import_gil_module"),
        "{}",
        error.message
    );
}

/// "Forgot the GIL" (`--param native_fault=clone_without_gil`): a Rust
/// thread of the native extension copies a Python object handle without
/// the GIL, pyo3 panics, the extension aborts — as Perspective 3.4.0 did.
/// In a thread mode and in process mode, the run ends as a crash that
/// names the cause in words and quotes the panic, and nothing is left in
/// its process group.
#[test]
fn a_native_extension_that_forgets_the_gil_is_a_named_crash() {
    let _turn = common::one_at_a_time();
    for mode in [Mode::Gil, Mode::Process] {
        let fin = run_to_end(&spec(
            mode,
            2,
            "primes",
            &[("n", "200000"), ("native_fault", "clone_without_gil")],
        ));
        let RunEnd::Crashed { reason } = &fin.outcome.end else {
            panic!("{mode}: {:?}\nstderr: {:?}", fin.outcome.end, fin.stderr);
        };
        assert!(
            reason.contains("a native extension touched a Python object without holding the GIL"),
            "{mode}: {reason}"
        );
        assert!(
            reason.contains("Cannot clone pointer into Python heap"),
            "{mode}: {reason}"
        );
        assert!(reason.contains("SIGABRT"), "{mode}: {reason}");
        // Some chunks ran before the fault, which comes half-way.
        let chunks = fin
            .events
            .iter()
            .filter(|e| matches!(e, Event::ChunkDone(_)))
            .count();
        assert!(chunks > 0, "{mode}: the fault came before any chunk");
        assert!(
            common::group_gone_within(fin.pid, Duration::from_secs(5)),
            "{mode}: processes left: {:?}",
            common::live_in_group(fin.pid)
        );
    }
    // A fault gilscope does not know is a usage error, before any work.
    let fin = run_to_end(&spec(
        Mode::Gil,
        2,
        "primes",
        &[("n", "10000"), ("native_fault", "segfault_please")],
    ));
    let RunEnd::WorkloadFailed { error } = &fin.outcome.end else {
        panic!("{:?}", fin.outcome.end);
    };
    assert_eq!(error.phase.as_deref(), Some("usage"));
    assert!(
        error.message.contains("clone_without_gil"),
        "{}",
        error.message
    );
}
