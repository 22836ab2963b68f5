//! The desktop app driven headless with egui_kittest, on the real CPython
//! 3.13 and 3.13t builds: choose a workload, run, see the plots filled and
//! a row in Compare; a failing workload shows its error; a sweep fills the
//! scaling chart.
#![allow(clippy::unwrap_used)]

use crate::common;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gilscope::interp::Mode;
use gilscope::store::RunRecord;
use gilscope::ui::{App, UiOptions, View};
use std::time::{Duration, Instant};

fn app() -> App {
    let (default, ft) = common::managed_313();
    let options = UiOptions {
        interpreters: Some(vec![default.clone(), ft.clone()]),
        export_dir: tempfile::tempdir().unwrap().keep(),
        ..UiOptions::default()
    };
    App::new(&egui::Context::default(), options)
}

fn harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .with_max_steps(10_000)
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

/// Steps frames until `done` holds (real time passes: runs are processes).
fn step_until(
    h: &mut Harness<'static, App>,
    what: &str,
    limit: Duration,
    done: impl Fn(&App) -> bool,
) {
    let start = Instant::now();
    h.step();
    while !done(h.state()) {
        assert!(
            start.elapsed() < limit,
            "timed out waiting for {what}; notices: {:?}",
            h.state()
                .status()
                .notices()
                .iter()
                .map(|n| &n.text)
                .collect::<Vec<_>>()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the layout settle: kittest clicks where a widget was last drawn.
    h.run_steps(3);
}

/// Run `i` (in the order they were added).
fn record(app: &App, i: usize) -> &RunRecord {
    &app.runs().iter().nth(i).unwrap().record
}

/// A harness whose workload catalog (from `harness.py --probe`) has loaded.
fn harness_with_catalog() -> Harness<'static, App> {
    let mut h = harness(app());
    step_until(
        &mut h,
        "the workload catalog",
        Duration::from_secs(60),
        |a| matches!(a.setup().catalog(), Some(Ok(_))),
    );
    h
}

/// Changes the state directly, then lets the layout settle.
fn set(h: &mut Harness<'static, App>, change: impl FnOnce(&mut App)) {
    change(h.state_mut());
    h.run_steps(3);
}

fn only_modes(app: &mut App, modes: &[Mode]) {
    for m in Mode::ALL {
        app.setup_mut().set_mode(m, modes.contains(&m));
    }
}

#[test]
fn choose_a_workload_run_it_and_see_plots_and_a_compare_row() {
    let _beside = common::beside_others();
    let mut h = harness_with_catalog();
    // Pick "fib" in the workload picker.
    h.get_by_label("Workload").click();
    h.run_steps(3);
    h.get_by_label("fib").click();
    h.run_steps(3);
    assert_eq!(h.state().setup().workload(), "fib");
    // Its parameters come from the harness: k and count.
    let keys: Vec<String> = h
        .state()
        .setup()
        .params()
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(keys, vec!["k", "count"]);
    set(&mut h, |a| {
        a.setup_mut().set_params(vec![
            ("k".into(), "20".into()),
            ("count".into(), "60".into()),
        ]);
        only_modes(a, &[Mode::Ft]);
        a.setup_mut().set_workers(2);
    });
    h.get_by_label("▶ Run").click();
    h.run_steps(2);
    assert!(
        h.state().busy(),
        "Run started nothing; notices: {:?}",
        h.state()
            .status()
            .notices()
            .iter()
            .map(|n| &n.text)
            .collect::<Vec<_>>()
    );
    assert!(h.query_by_label("■ Stop").is_some());
    step_until(&mut h, "the run to finish", Duration::from_secs(120), |a| {
        !a.busy()
    });
    let app = h.state();
    assert_eq!(app.runs().len(), 1);
    let run = record(app, 0);
    assert!(run.result().is_some(), "run failed: {:?}", run.outcome());
    assert_eq!(run.spec().workload, "fib");
    assert_eq!(
        run.spec().params,
        vec![
            ("k".to_string(), "20".to_string()),
            ("count".to_string(), "60".to_string())
        ]
    );
    // Plots populated: samples, two worker lanes, memory and throughput.
    assert!(
        run.series().len() > 5,
        "only {} samples",
        run.series().len()
    );
    let lanes = gilscope::ui::kit::lanes::lane_threads(run, 96);
    assert!(
        lanes.iter().filter(|(l, _)| l.worker().is_some()).count() == 2,
        "{lanes:?}"
    );
    assert!(h.query_by_label("Threads").is_some());
    assert!(h.query_by_label("Memory (MiB)").is_some());
    // In the workload's own unit (fib: its ITEM_UNIT).
    assert!(h.query_by_label("Throughput (calls/s)").is_some());
    // A row in Compare with its numbers.
    h.get_by_label("Compare").click();
    h.run_steps(3);
    assert_eq!(h.state().view(), View::Compare);
    assert!(h.query_by_label("Runs (1)").is_some());
    // "ft" in the setup panel and in the row.
    assert!(h.query_all_by_label("ft").count() >= 2);
    assert!(h.query_by_label("✓ same").is_some(), "checksum column");

    // Exports from the File menu: each writes its file and says where.
    let dir = h.state().options().export_dir.clone();
    for (item, what) in [
        ("Save the shown run (run file)", "run file written"),
        ("Export the shown run as CSV (samples)", "CSV written"),
        ("Export charts (PNG + SVG)", "charts written"),
    ] {
        h.get_by_label("File").click();
        h.run_steps(3);
        h.get_by_label(item).click();
        step_until(&mut h, what, Duration::from_secs(60), |a| {
            a.status()
                .notices()
                .iter()
                .any(|n| n.text.starts_with(what))
        });
    }
    let files: Vec<std::path::PathBuf> = walk(&dir);
    let has = |suffix: &str| files.iter().any(|f| f.to_string_lossy().ends_with(suffix));
    assert!(
        has(".json.gz") && has(".csv") && has("speedup.png") && has("speedup.svg"),
        "{files:?}"
    );
    let run_file = files
        .iter()
        .find(|f| f.to_string_lossy().ends_with(".json.gz"))
        .unwrap();
    let back = gilscope::store::RunRecord::load(run_file).unwrap();
    assert_eq!(back.result(), record(h.state(), 0).result());
    let csv_file = files
        .iter()
        .find(|f| f.to_string_lossy().ends_with(".csv"))
        .unwrap();
    let csv = std::fs::read_to_string(csv_file).unwrap();
    assert!(csv.starts_with("t_s,"), "{}", &csv[..80.min(csv.len())]);
    assert_eq!(csv.lines().count(), back.series().len() + 1);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_failing_workload_shows_its_error_and_keeps_earlier_runs() {
    let _beside = common::beside_others();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.py");
    std::fs::write(
        &bad,
        "PARAMS = {}\n\ndef prepare(params):\n    return [1, 2]\n\ndef run_chunk(state, chunk):\n    return 1, 1 // 0\n\ndef finish(params, partials):\n    return str(sum(partials))\n",
    )
    .unwrap();
    let mut h = harness(app());
    set(&mut h, |a| {
        only_modes(a, &[Mode::Gil]);
        a.setup_mut().set_workers(1);
        a.setup_mut().set_workload("sleep");
        a.setup_mut().set_params(vec![
            ("count".into(), "4".into()),
            ("ms".into(), "5".into()),
        ]);
    });
    h.get_by_label("▶ Run").click();
    step_until(&mut h, "the good run", Duration::from_secs(60), |a| {
        !a.busy()
    });
    assert!(record(h.state(), 0).result().is_some());
    set(&mut h, |a| a.setup_mut().use_file(&bad));
    h.get_by_label("▶ Run").click();
    step_until(&mut h, "the failing run", Duration::from_secs(60), |a| {
        !a.busy()
    });
    h.step();
    let app = h.state();
    assert_eq!(app.runs().len(), 2);
    assert!(record(app, 0).result().is_some(), "earlier run intact");
    assert!(record(app, 1).error().is_some());
    assert!(
        h.query_all_by_label_contains("ZeroDivisionError")
            .next()
            .is_some(),
        "error shown"
    );
    assert!(
        h.query_all_by_label_contains("Traceback").next().is_some(),
        "traceback shown"
    );
    assert!(app.status().notices().last().unwrap().error);
}

#[test]
fn sweep_fills_the_scaling_chart() {
    let _beside = common::beside_others();
    let mut h = harness_with_catalog();
    set(&mut h, |a| {
        only_modes(a, &[Mode::Gil, Mode::Process]);
        a.setup_mut().set_workers(2);
        a.setup_mut().set_params(vec![
            ("n".into(), "60000".into()),
            ("chunk".into(), "2000".into()),
        ]);
    });
    h.get_by_label("Sweep").click();
    step_until(
        &mut h,
        "the parameter check",
        Duration::from_secs(30),
        |a| a.progress().is_some() || !a.busy(),
    );
    assert_eq!(
        h.state().progress().map(|p| p.total),
        Some(4),
        "notices: {:?}",
        h.state()
            .status()
            .notices()
            .iter()
            .map(|n| &n.text)
            .collect::<Vec<_>>()
    );
    step_until(&mut h, "the sweep", Duration::from_secs(240), |a| !a.busy());
    let app = h.state();
    assert_eq!(app.runs().len(), 4);
    let records: Vec<&RunRecord> = app.runs().records();
    let agg = gilscope::sweep::aggregate(&records);
    let with_speedup = agg
        .points
        .iter()
        .filter(|p| p.workers == 2 && p.speedup.is_some())
        .count();
    assert_eq!(with_speedup, 2, "{:?}", agg.points);
    h.get_by_label("Compare").click();
    h.run_steps(3);
    assert!(h.query_by_label("Speedup vs workers").is_some());
    assert!(h.query_by_label("Runs (4)").is_some());

    // Race the two 2-worker runs side by side on one clock.
    set(&mut h, |a| {
        let ids = a.runs().ids();
        a.compare_mut().select(&[ids[1], ids[3]]);
    });
    h.get_by_label("Race the two selected").click();
    h.run_steps(3);
    assert!(h.state().compare().race().is_some());
    assert!(h.query_by_label("Race").is_some());
    assert!(
        h.query_by_label("primes · gil · 2 workers · 3.13")
            .is_some()
    );
    assert!(
        h.query_by_label("primes · process · 2 workers · 3.13")
            .is_some()
    );
    h.get_by_label("Close race").click();
    h.run_steps(3);
    assert!(h.state().compare().race().is_none());
}

/// Repeats: the setup's Repeats field runs every (mode, workers) that many
/// times, repeats outermost; Compare groups them into one point with its
/// spread, and the scaling chart draws an error bar for it.
#[test]
fn repeats_group_into_points_with_error_bars() {
    let _beside = common::beside_others();
    let mut h = harness_with_catalog();
    assert!(h.query_by_label("Repeats").is_some());
    set(&mut h, |a| {
        only_modes(a, &[Mode::Gil]);
        a.setup_mut().set_workers(2);
        a.setup_mut().set_repeat(3);
        a.setup_mut().set_params(vec![
            ("n".into(), "30000".into()),
            ("chunk".into(), "2000".into()),
        ]);
    });
    h.get_by_label("Sweep").click();
    step_until(
        &mut h,
        "the parameter check",
        Duration::from_secs(30),
        |a| a.progress().is_some() || !a.busy(),
    );
    assert_eq!(h.state().progress().map(|p| p.total), Some(6));
    step_until(&mut h, "the sweep", Duration::from_secs(240), |a| !a.busy());
    let app = h.state();
    let order: Vec<usize> = app.runs().iter().map(|e| e.record.spec().workers).collect();
    assert_eq!(order, vec![1, 2, 1, 2, 1, 2], "repeats outermost");
    h.get_by_label("Compare").click();
    h.run_steps(3);
    let app = h.state();
    let agg = app.model().agg.as_ref().unwrap();
    let series = gilscope::ui::compare::scaling_series(&agg.points);
    let two = series
        .iter()
        .flat_map(|s| &s.points)
        .find(|p| p.workers == 2)
        .unwrap();
    assert_eq!(two.runs, 3);
    let [lo, hi] = two.range.expect("an error bar from 3 repeats");
    assert!(lo <= two.speedup && two.speedup <= hi, "{two:?}");
    assert!(h.query_by_label("bars: min–max of the repeats").is_some());
    assert!(h.query_by_label("point (median ± spread)").is_some());
    let rows = &h.state().model().rows;
    assert!(
        rows.iter().all(|r| r.point_text().ends_with("(n = 3)")),
        "{:?}",
        rows.iter().map(|r| r.point_text()).collect::<Vec<_>>()
    );
}

/// A plain script from the app, on the default and the free-threaded
/// build: two runs, the same output, thread lanes named as Python names
/// them, and on 3.13t no thread holds a GIL.
#[test]
fn a_plain_script_runs_on_each_checked_build() {
    let _one = common::one_at_a_time();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/two_threads.py");
    let mut h = harness(app());
    set(&mut h, |a| {
        let s = a.setup_mut();
        s.use_script(&script, "40000");
        for m in Mode::ALL {
            // subinterp and process stay ticked: they do not apply and are
            // left out, not refused.
            s.set_mode(m, matches!(m, Mode::Gil | Mode::Ft | Mode::Subinterp));
        }
    });
    h.get_by_label("▶ Run").click();
    step_until(&mut h, "the start", Duration::from_secs(30), |a| {
        a.progress().is_some() || !a.busy()
    });
    assert_eq!(h.state().progress().map(|p| p.total), Some(2));
    step_until(&mut h, "the script runs", Duration::from_secs(120), |a| {
        !a.busy()
    });
    let app = h.state();
    let (gil, ft) = (record(app, 0), record(app, 1));
    for r in [gil, ft] {
        assert!(r.result().is_some(), "{:?}", r.outcome());
        assert!(r.spec().workload.starts_with("script:"));
        assert_eq!(r.spec().params[0], ("arg".to_string(), "40000".to_string()));
    }
    assert_eq!(
        gil.result().unwrap().checksum,
        ft.result().unwrap().checksum
    );
    let names: Vec<String> = gil
        .gil()
        .threads
        .keys()
        .filter_map(|tid| gil.thread_name(*tid))
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("ThreadPoolExecutor-0_")),
        "{names:?}"
    );
    let held: f64 = ft
        .gil()
        .threads
        .values()
        .filter_map(|t| t.hold_fraction())
        .sum();
    assert!(held < 0.01, "3.13t threads held a GIL: {held}");
}

/// A bad parameter is found once, before any run starts: one error naming
/// it, no run in the window.
#[test]
fn a_bad_parameter_stops_a_run_before_anything_starts() {
    let _beside = common::beside_others();
    let mut h = harness_with_catalog();
    set(&mut h, |a| {
        only_modes(a, &[Mode::Gil, Mode::Ft, Mode::Process]);
        a.setup_mut().set_workload("primes");
        a.setup_mut().set_params(vec![("n".into(), "4e5x".into())]);
    });
    h.get_by_label("▶ Run").click();
    step_until(&mut h, "the check", Duration::from_secs(30), |a| !a.busy());
    let app = h.state();
    assert!(app.runs().is_empty(), "a run started");
    let last = app.status().notices().last().unwrap();
    assert!(last.error, "{}", last.text);
    assert!(
        last.text.starts_with("nothing started: --param n=4e5x"),
        "{}",
        last.text
    );
}
