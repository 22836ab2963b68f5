//! The exact GIL reader inside sampled runs (CPython 3.13 and 3.13t): its
//! intervals reach the run record, per-worker hold/wait fractions come out
//! of it, and a sweep's aggregate carries "GIL wait" per mode.
#![allow(clippy::unwrap_used)]

use crate::common;

use gilscope::interp::Mode;
use gilscope::store::RunRecord;
use gilscope::store::metrics::worker_gil;

fn sampled(mode: Mode, workers: usize) -> RunRecord {
    let _one = common::one_at_a_time();
    // Wait fractions move when other work takes the cores: start on a
    // quiet machine when there is one (up to 30 s).
    common::wait_for_quiet(std::time::Duration::from_secs(30));
    common::sampled_record(&common::spec(mode, workers, "primes", &[("n", "250000")]))
}

#[test]
fn gil_workers_take_turns_on_the_default_build() {
    let run = sampled(Mode::Gil, 2);
    let gil = run.gil();
    assert!(gil.has_data(), "no GIL data; notices: {:?}", gil.notices);
    assert!(
        gil.notices.iter().any(|n| n.contains("reading the GIL")),
        "{:?}",
        gil.notices
    );
    let workers = worker_gil(&run);
    assert_eq!(workers.len(), 2, "{workers:?}");
    for w in &workers {
        let (hold, wait) = (w.hold.unwrap(), w.wait.unwrap());
        assert!(
            (0.25..=0.75).contains(&hold),
            "worker {}: holds {hold:.2}",
            w.worker
        );
        assert!(wait >= 0.2, "worker {}: waits only {wait:.2}", w.worker);
    }
    // One interpreter, one GIL; the workers' holds cannot add up past it.
    let total: f64 = workers.iter().filter_map(|w| w.hold).sum();
    assert!(total <= 1.02, "holds add up to {total:.2}");
    assert!(gil.gils.iter().any(|g| g.locked_fraction().unwrap() > 0.5));
    // Saved and loaded, the GIL data is still there.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gil.json.gz");
    run.save(&path).unwrap();
    let back = RunRecord::load(&path).unwrap();
    assert_eq!(worker_gil(&back), workers);
}

#[test]
fn free_threaded_workers_never_hold_a_gil() {
    let run = sampled(Mode::Ft, 2);
    let gil = run.gil();
    assert!(gil.has_data(), "no GIL data; notices: {:?}", gil.notices);
    for w in worker_gil(&run) {
        assert!(
            w.hold.unwrap() <= 0.02,
            "worker {} holds {:?}",
            w.worker,
            w.hold
        );
        assert!(
            w.wait.unwrap() <= 0.05,
            "worker {} waits {:?}",
            w.worker,
            w.wait
        );
    }
    for g in &gil.gils {
        assert!(g.enabled_fraction().unwrap() < 0.01, "{g:?}");
        assert!(g.locked_fraction().unwrap() < 0.01, "{g:?}");
    }
}

#[test]
fn sweep_aggregate_reports_gil_wait_per_mode() {
    let runs = [sampled(Mode::Gil, 2), sampled(Mode::Ft, 2)];
    let agg = gilscope::sweep::aggregate(&runs);
    let wait = |m: Mode| agg.points.iter().find(|p| p.mode == m).unwrap().gil_wait;
    assert!(wait(Mode::Gil).unwrap() >= 0.2, "{:?}", agg.points);
    assert!(wait(Mode::Ft).unwrap() <= 0.05, "{:?}", agg.points);
}
