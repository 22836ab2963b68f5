use super::*;
use crate::store::fixtures::*;

/// `workers` workers splitting 20 chunks of 50 ms; `slowdown` stretches
/// the chunks (the FT build's single-thread overhead).
fn run(
    interp: &crate::interp::Interpreter,
    mode: Mode,
    workers: usize,
    slowdown: u64,
) -> RunRecord {
    let mut synth = Synth::new(mode, workers);
    synth.chunks_per_worker = 20 / workers as u64;
    synth.chunk_ns = 50 * MS * slowdown / 100;
    synth.build(interp)
}

#[test]
fn speedup_and_efficiency_from_elapsed_when_items_match() {
    let py = interpreter("3.13", "3.13.5", false);
    let one = run(&py, Mode::Gil, 1, 100);
    let four = run(&py, Mode::Subinterp, 4, 100);
    let s = speedup(&four, &one).unwrap();
    assert!((s - 4.0).abs() < 1e-9, "{s}");
    let e = parallel_efficiency(&four, &one).unwrap();
    assert!((e - 1.0).abs() < 1e-9, "{e}");
    assert_eq!(checksum_matches(&four, &one), Some(true));
}

#[test]
fn speedup_from_items_per_sec_when_items_differ() {
    let py = interpreter("3.13", "3.13.5", false);
    let one = run(&py, Mode::Gil, 1, 100);
    let mut synth = Synth::new(Mode::Gil, 2);
    synth.chunks_per_worker = 5;
    let two = synth.build(&py);
    // 1000 items in 0.25 s vs 2000 items in 1 s.
    let s = speedup(&two, &one).unwrap();
    assert!((s - 2.0).abs() < 1e-9, "{s}");
}

#[test]
fn unfinished_runs_have_no_speedup() {
    let py = interpreter("3.13", "3.13.5", false);
    let one = run(&py, Mode::Gil, 1, 100);
    let unfinished = RunRecord::new(fixtures_spec(&py), py.clone());
    assert_eq!(speedup(&unfinished, &one), None);
    assert_eq!(speedup(&one, &unfinished), None);
}

fn fixtures_spec(py: &crate::interp::Interpreter) -> crate::run::RunSpec {
    spec(py, Mode::Gil, 2)
}

#[test]
fn finds_both_baselines() {
    let gil312 = interpreter("3.12", "3.12.9", false);
    let gil = interpreter("3.13", "3.13.5", false);
    let ft = interpreter("3.13t", "3.13.5", true);
    let mut other_params = run(&gil, Mode::Gil, 1, 100);
    other_params = {
        let mut spec = other_params.spec().clone();
        spec.params = vec![("n".into(), "5".into())];
        let mut r = RunRecord::new(spec, gil.clone());
        for e in other_params.events() {
            r.eat_event(e.clone());
        }
        r
    };
    let runs = vec![
        run(&gil312, Mode::Gil, 1, 90), // 0: GIL build, other version
        run(&gil, Mode::Gil, 1, 100),   // 1: GIL build, same version
        run(&ft, Mode::FtGil, 1, 140),  // 2: same interpreter, other mode
        run(&ft, Mode::Ft, 1, 140),     // 3: same interpreter, same mode
        other_params,                   // 4: other params: never a baseline
        run(&ft, Mode::Ft, 2, 140),     // 5: two workers: not a baseline
        run(&ft, Mode::Ft, 4, 140),     // 6: the run
    ];
    let the_run = &runs[6];
    let same = find_baseline(the_run, &runs, BaselineKind::SameInterpreter).unwrap();
    assert!(std::ptr::eq(same, &runs[3]));
    let gil_base = find_baseline(the_run, &runs, BaselineKind::GilBuild).unwrap();
    assert!(std::ptr::eq(gil_base, &runs[1]));

    let c = compare(the_run, &runs);
    let vs_same = c.same_interpreter.unwrap();
    assert!(std::ptr::eq(vs_same.baseline, &runs[3]));
    assert!((vs_same.speedup.unwrap() - 4.0).abs() < 1e-9);
    let vs_gil = c.gil_build.unwrap();
    assert!(std::ptr::eq(vs_gil.baseline, &runs[1]));
    // 4 workers at 1.4× the chunk time: 4 / 1.4 faster than the GIL build.
    assert!((vs_gil.speedup.unwrap() - 4.0 / 1.4).abs() < 1e-9);
    assert!((vs_gil.efficiency.unwrap() - 1.0 / 1.4).abs() < 1e-9);

    // Without its own mode's run, the plain mode of the build is next.
    let fewer: Vec<RunRecord> = [0, 1, 2, 6].iter().map(|&i| runs[i].clone()).collect();
    let same = find_baseline(&fewer[3], &fewer, BaselineKind::SameInterpreter).unwrap();
    assert_eq!(same.spec().mode, Mode::FtGil);
    // Without a same-version GIL run, another version will do.
    let fewer: Vec<RunRecord> = [0, 6].iter().map(|&i| runs[i].clone()).collect();
    let base = find_baseline(&fewer[1], &fewer, BaselineKind::GilBuild).unwrap();
    assert_eq!(base.interpreter().name, "3.12");
}

#[test]
fn a_one_worker_run_is_its_own_baseline_and_checksums_are_compared() {
    let py = interpreter("3.13", "3.13.5", false);
    let mut bad = Synth::new(Mode::Gil, 2);
    bad.chunks_per_worker = 10;
    bad.checksum = "different";
    let runs = vec![run(&py, Mode::Gil, 1, 100), bad.build(&py)];
    let c = compare(&runs[0], &runs);
    assert_eq!(c.same_interpreter.unwrap().speedup, Some(1.0));
    let c = compare(&runs[1], &runs);
    assert_eq!(c.same_interpreter.unwrap().checksum_matches, Some(false));
    assert!(std::ptr::eq(c.gil_build.unwrap().baseline, &runs[0]));
}

#[test]
fn among_repeats_the_baseline_is_the_median_run_and_a_repeat_is_its_own() {
    let py = interpreter("3.13", "3.13.5", false);
    // Three 1-worker repeats at 90, 130 and 100 % of the chunk time.
    let runs = vec![
        run(&py, Mode::Gil, 1, 90),
        run(&py, Mode::Gil, 1, 130),
        run(&py, Mode::Gil, 1, 100),
        run(&py, Mode::Gil, 2, 100),
    ];
    let base = find_baseline(&runs[3], &runs, BaselineKind::SameInterpreter).unwrap();
    assert!(
        std::ptr::eq(base, &runs[2]),
        "the 100 % repeat is the median"
    );
    for one in &runs[..3] {
        let c = compare(one, &runs);
        assert_eq!(c.same_interpreter.unwrap().speedup, Some(1.0));
    }
}

#[test]
fn runs_that_differ_only_in_where_they_write_are_the_same_workload() {
    let py = interpreter("3.13", "3.13.5", false);
    let with = |params: &[(&str, &str)]| {
        let mut spec = spec(&py, Mode::Gil, 1);
        spec.workload = "blur".into();
        spec.params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RunRecord::new(spec, py.clone())
    };
    let a = with(&[("radius", "4")]);
    let b = with(&[("radius", "4"), ("out", "/tmp/blurred.ppm")]);
    let c = with(&[("radius", "5"), ("out", "/tmp/blurred.ppm")]);
    assert!(same_workload(&a, &b), "out= names a file, not the work");
    assert!(!same_workload(&b, &c));
}

/// A finished script run of `file args` on `interp`: samples of its main
/// thread and one busy thread named by a `thread_name` event, ended after
/// `wall_secs` with `stdout` hashed as its checksum.
fn script_run(
    interp: &crate::interp::Interpreter,
    mode: Mode,
    args: &[&str],
    wall_secs: f64,
    stdout: &str,
) -> RunRecord {
    use crate::run::protocol::{Event, RunResult, ThreadName};
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let spec = crate::run::RunSpec::script(
        interp,
        mode,
        std::path::Path::new("s.py"),
        &args,
        std::path::Path::new("/w"),
        None,
    );
    let mut run = RunRecord::new(spec, interp.clone());
    run.eat_message(msg(Event::ThreadName(ThreadName {
        t_ns: MS,
        pid: 100,
        native_id: 101,
        name: "ThreadPoolExecutor-0_0".into(),
    })));
    for i in 1..=10u64 {
        let mut s = sample(i * 100 * MS);
        s.threads = vec![
            thread(100, 100, Some(0.0), 0),
            thread(100, 101, Some(0.9), i * 90 * MS),
        ];
        run.eat_message(crate::run::RunMessage::Sample(Box::new(s)));
    }
    let result = RunResult {
        t_ns: 1_000 * MS,
        items: 0,
        elapsed_s: wall_secs,
        checksum: format!("{}{stdout}", crate::run::protocol::SCRIPT_CHECKSUM_PREFIX),
        gil_enabled: None,
        start_ns: None,
    };
    let mut outcome = completed(result, wall_secs, wall_secs);
    outcome.ended_ns = Some(1_000 * MS);
    run.eat_message(crate::run::RunMessage::Finished(Box::new(outcome)));
    run
}

#[test]
fn script_runs_compare_against_the_default_build() {
    let gil = interpreter("3.13", "3.13.5", false);
    let ft = interpreter("3.13t", "3.13.5", true);
    let runs = vec![
        script_run(&gil, Mode::Gil, &["a b", "c"], 2.0, "x"),
        script_run(&ft, Mode::Ft, &["a b", "c"], 1.0, "x"),
        script_run(&ft, Mode::FtGil, &["a b", "c"], 4.0, "y"),
        // The same script with other arguments (or in another order) is
        // another workload.
        script_run(&gil, Mode::Gil, &["c", "a b"], 0.5, "x"),
    ];
    assert!(runs.iter().all(|r| r.kind().name() == "script"));
    assert!(same_workload(&runs[0], &runs[1]));
    assert!(!same_workload(&runs[0], &runs[3]));
    let ft_vs = compare(&runs[1], &runs);
    for versus in [ft_vs.same_interpreter, ft_vs.gil_build] {
        let v = versus.unwrap();
        assert!(std::ptr::eq(v.baseline, &runs[0]));
        assert!((v.speedup.unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(v.efficiency, None, "a script has no worker count");
        assert_eq!(v.checksum_matches, Some(true));
    }
    let ft_gil = compare(&runs[2], &runs).gil_build.unwrap();
    assert!((ft_gil.speedup.unwrap() - 0.5).abs() < 1e-9);
    assert_eq!(ft_gil.checksum_matches, Some(false), "other stdout");
    assert!(std::ptr::eq(
        compare(&runs[0], &runs).gil_build.unwrap().baseline,
        &runs[0]
    ));
    assert!(std::ptr::eq(
        compare(&runs[3], &runs).gil_build.unwrap().baseline,
        &runs[3]
    ));
    // No items: no items/s; the work window is the whole run.
    assert_eq!(crate::store::metrics::items_per_sec(&runs[1]), None);
    assert_eq!(runs[1].work_window_ns(), Some((100 * MS, 1_000 * MS)));
    let cores = crate::store::metrics::cpu_use(&runs[1])
        .thread_cores
        .unwrap();
    assert!((cores - 0.9).abs() < 0.05, "{cores}");
    // Threads by name: the Python name, "main", else the OS name.
    assert_eq!(
        runs[1].thread_name(101).as_deref(),
        Some("ThreadPoolExecutor-0_0")
    );
    assert_eq!(runs[1].thread_name(100).as_deref(), Some("main"));
    // The store's rows and their CSV.
    let refs: Vec<&RunRecord> = runs.iter().collect();
    let rows = crate::store::compare_rows(&refs);
    assert_eq!(rows[1].what, "s.py");
    assert_eq!(rows[1].workers, 0);
    assert_eq!(rows[1].time_s, Some(1.0));
    assert_eq!(rows[1].items_per_s, None);
    assert!((rows[1].speedup.unwrap() - 2.0).abs() < 1e-9);
    let csv = crate::store::rows_csv(&rows);
    assert!(csv.starts_with(crate::store::rows::ROWS_CSV_HEADER));
    let line = csv.lines().nth(2).unwrap();
    assert!(
        line.starts_with("script,\"s.py\",\"3.13t\",ft,0,1,,1,"),
        "{line}"
    );
    // A sweep aggregate of script runs neither panics nor divides by 0.
    let agg = crate::sweep::aggregate(&runs[..3]);
    let ft_point = agg.points.iter().find(|p| p.mode == Mode::Ft).unwrap();
    assert_eq!(ft_point.speedup_vs_gil, Some(2.0));
    assert_eq!(ft_point.efficiency, None);
    // A run file keeps all of it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    runs[1].save(&path).unwrap();
    let back = RunRecord::load(&path).unwrap();
    assert_eq!(back.kind(), runs[1].kind());
    assert_eq!(
        back.thread_name(101).as_deref(),
        Some("ThreadPoolExecutor-0_0")
    );
    assert_eq!(crate::store::summary::summarize(&back).kind, "script");
}

#[test]
fn a_workload_thread_has_no_name_and_old_summaries_are_workloads() {
    let py = interpreter("3.13", "3.13.5", false);
    let one = run(&py, Mode::Gil, 1, 100);
    let tid = *one.thread_tracks().keys().next().unwrap();
    assert_eq!(one.thread_name(tid), None, "its label names it");
    let mut json = serde_json::to_value(crate::store::summary::summarize(&one)).unwrap();
    json.as_object_mut().unwrap().remove("kind");
    let old: crate::store::RunSummary = serde_json::from_value(json).unwrap();
    assert_eq!(old.kind, "workload");
}

#[test]
fn a_mid_run_gil_import_or_a_native_fault_is_another_experiment() {
    let py = interpreter("3.13t", "3.13.5", true);
    let with = |extra: &[(&str, &str)]| {
        let mut s = spec(&py, Mode::Ft, 2);
        s.params
            .extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        RunRecord::new(s, py.clone())
    };
    let plain = with(&[]);
    // The harness leaves these out of the parameters it reports, so only
    // the run's own spec tells the runs apart.
    assert!(!same_workload(
        &plain,
        &with(&[("import_gil_module", "0.4")])
    ));
    assert!(!same_workload(
        &plain,
        &with(&[("native_fault", "clone_without_gil")])
    ));
    assert!(same_workload(
        &with(&[("import_gil_module", "0.4")]),
        &with(&[("import_gil_module", "0.4")])
    ));
    // Switched off is no import at all.
    assert!(same_workload(&plain, &with(&[("import_gil_module", "0")])));
    assert!(same_workload(&plain, &with(&[("out", "/tmp/x.ppm")])));
}
