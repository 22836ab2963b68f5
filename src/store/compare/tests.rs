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
    assert_eq!(vs_same.baseline_index, 3);
    assert!((vs_same.speedup.unwrap() - 4.0).abs() < 1e-9);
    let vs_gil = c.gil_build.unwrap();
    assert_eq!(vs_gil.baseline_index, 1);
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
    assert_eq!(c.gil_build.unwrap().baseline_index, 0);
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
