use super::*;
use crate::sampler::{LoadSample, NamedCpu};
use crate::store::fixtures::{Synth, interpreter};
use crate::store::load::LoadTrack;

/// A load of `other_cores` busy other cores and `own_cores` of gilscope's
/// own over one second on `cores` cores.
fn load_with(other_cores: f64, own_cores: f64, cores: u32) -> Load {
    let mut t = LoadTrack::default();
    let r = |machine: f64, yes: f64, own: f64| LoadSample {
        machine_busy_ns: (machine * 1e9) as u64,
        machine_all_ns: 0,
        cores_online: cores,
        cores_allowed: Some(cores),
        tree_cpu_ns: Some(0),
        own_cpu_ns: Some((own * 1e9) as u64),
        own_threads: Vec::new(),
        others: vec![NamedCpu {
            name: "yes".into(),
            cpu_ns: (yes * 1e9) as u64,
            count: 1,
        }],
        processes_scanned: 1,
        cost_ns: 0,
    };
    t.eat(0, r(0.0, 0.0, 0.0));
    t.eat(
        1_000_000_000,
        r(other_cores + own_cores, other_cores, own_cores),
    );
    t.load().expect("two readings")
}

fn load(other_cores: f64, cores: u32) -> Load {
    load_with(other_cores, 0.0, cores)
}

#[test]
fn contended_counts_only_what_the_run_needed() {
    // 2 workers on 2 cores: 0.3 cores of others is 15 % of its need.
    let v = contended(&load(0.3, 2), 2.0).expect("contended");
    assert_eq!(v.kind, VerdictKind::Contended);
    assert!(
        v.reason
            .contains("0.30 and gilscope itself 0.00 of 2 cores"),
        "{}",
        v.reason
    );
    assert!(v.reason.contains("15 %"), "{}", v.reason);
    assert!(v.reason.contains("busiest: yes 0.30"), "{}", v.reason);
    // A little background is not contention.
    assert_eq!(contended(&load(0.15, 2), 2.0), None);
    // 1 worker on 2 cores: one busy core of others leaves it its own.
    assert_eq!(contended(&load(1.0, 2), 1.0), None);
    assert!(contended(&load(1.3, 2), 1.0).is_some());
}

#[test]
fn gilscope_itself_is_contention_named_apart() {
    // The window's software rendering at 1.38 cores during a 2-worker run.
    let v = contended(&load_with(0.02, 1.38, 2), 2.0).expect("contended");
    assert!(
        v.reason.contains("gilscope itself 1.38 of 2 cores"),
        "{}",
        v.reason
    );
    // A quiet sampler (2 % of a core) is not.
    assert_eq!(contended(&load_with(0.02, 0.02, 2), 2.0), None);
}

#[test]
fn slowed_baseline_needs_waiting_for_a_core() {
    let v = slowed_baseline(1, 0.62, 0.30).expect("slowed");
    assert_eq!(v.kind, VerdictKind::Implausible);
    assert!(v.reason.contains("got 0.62 cores"), "{}", v.reason);
    // Sleeping (I/O, a lock) is not being slowed by others.
    assert_eq!(slowed_baseline(1, 0.62, 0.01), None);
    assert_eq!(slowed_baseline(1, 0.97, 0.03), None);
    assert_eq!(slowed_baseline(2, 0.5, 0.5), None);
}

#[test]
fn a_speedup_above_the_usable_cores_is_implausible() {
    let quiet = Cores {
        cores: 2,
        others: 0.0,
        own: 0.0,
    };
    // docs/truth.md's 2.13× of 4 subinterpreters on 2 cores.
    let v = beyond_cores(4, 2.13, quiet, EFFICIENCY_SLACK).expect("implausible");
    assert!(v.reason.starts_with("2.13× on 2 cores"), "{}", v.reason);
    assert!(v.reason.contains("at most 2.00 cores"), "{}", v.reason);
    assert_eq!(beyond_cores(2, 1.9, quiet, EFFICIENCY_SLACK), None);
    assert_eq!(beyond_cores(2, 2.06, quiet, EFFICIENCY_SLACK), None);
    // Within a wide spread: not flagged (noisy says the rest).
    assert_eq!(beyond_cores(2, 2.3, quiet, 0.2), None);
    assert_eq!(beyond_cores(1, 3.0, quiet, EFFICIENCY_SLACK), None);
    // What others and gilscope took is not usable: 0.5 + 0.3 of 2 cores
    // leave 1.2.
    let busy = Cores {
        cores: 2,
        others: 0.5,
        own: 0.3,
    };
    let v = beyond_cores(2, 1.7, busy, EFFICIENCY_SLACK).expect("above 1.2 cores");
    assert!(v.reason.contains("at most 1.20 cores"), "{}", v.reason);
    assert!(
        v.reason
            .contains("0.50 taken by other processes and 0.30 by gilscope"),
        "{}",
        v.reason
    );
    // On 64 cores 8 workers may reach 8.
    let big = Cores {
        cores: 64,
        others: 0.0,
        own: 0.1,
    };
    assert_eq!(beyond_cores(8, 7.9, big, EFFICIENCY_SLACK), None);
    assert!(beyond_cores(8, 9.0, big, EFFICIENCY_SLACK).is_some());
}

#[test]
fn the_gil_bound_rests_on_the_one_worker_runs_hold() {
    // Pure Python holds the GIL ~98 % of its time: 1.5× is impossible.
    let v = beyond_gil(2, 1.5, 0.98, EFFICIENCY_SLACK).expect("implausible");
    assert!(v.reason.contains("held the GIL 98 %"), "{}", v.reason);
    assert!(v.reason.contains("1.02×"), "{}", v.reason);
    // Holding it half the time, 2 workers may honestly reach 1.9×.
    assert_eq!(beyond_gil(2, 1.9, 0.5, EFFICIENCY_SLACK), None);
    // … but 4 workers not 2.5× (1/0.5 = 2).
    assert!(beyond_gil(4, 2.5, 0.5, EFFICIENCY_SLACK).is_some());
    assert!((gil_bound(8, 0.25) - 4.0).abs() < 1e-9);
    assert!((gil_bound(2, 0.1) - 2.0).abs() < 1e-9);
}

#[test]
fn noisy_needs_repeats() {
    assert!(noisy(3, 0.25).is_some());
    assert_eq!(noisy(3, 0.05), None);
    assert_eq!(noisy(1, 0.5), None);
}

fn facts(mode: Mode, workers: usize, runs: usize, speedup: f64) -> PointFacts {
    PointFacts {
        mode,
        workers,
        runs,
        load_missing: None,
        spread: (runs >= 2).then_some(0.04),
        speedup: Some(speedup),
        cores: Some(Cores {
            cores: 2,
            others: 0.0,
            own: 0.02,
        }),
        baseline: Some(BaselineFacts {
            runs,
            spread: (runs >= 2).then_some(0.04),
            gil_hold: Some(0.99),
            gil_missing: None,
            running_waiting: Some([0.99, 0.0]),
        }),
    }
}

#[test]
fn a_point_says_what_it_could_not_check() {
    // Three clean repeats of 2 subinterpreters at 1.9×: no label.
    let clean = point_verdicts(&facts(Mode::Subinterp, 2, 3, 1.9));
    assert_eq!(clean, Vec::new());
    assert_eq!(status(&clean), "no label (every check made and passed)");
    // One run: said, not a flag.
    let one = point_verdicts(&facts(Mode::Subinterp, 2, 1, 1.9));
    assert_eq!(labels(&one), "1 run");
    assert!(!flagged(&one));
    assert!(text(&one).contains("spread unknown"), "{}", text(&one));
    // No load readings: the cores bound could not be checked.
    let mut blind = facts(Mode::Subinterp, 2, 3, 1.9);
    blind.cores = None;
    blind.load_missing = Some((3, "one machine load reading only".into()));
    let v = point_verdicts(&blind);
    assert_eq!(labels(&v), "not measured", "{v:?}");
    assert!(
        text(&v).contains("3 of 3 runs: one machine load reading only"),
        "{}",
        text(&v)
    );
    // The GIL bound without the baseline's GIL share.
    let mut unread = facts(Mode::Gil, 2, 3, 1.0);
    if let Some(b) = unread.baseline.as_mut() {
        b.gil_hold = None;
        b.gil_missing = Some("CPython 3.12 has no debug offsets".into());
    }
    let v = point_verdicts(&unread);
    assert!(
        text(&v).contains("CPython 3.12 has no debug offsets"),
        "{}",
        text(&v)
    );
    // The gil pool at 1.5× on pure Python: implausible.
    let v = point_verdicts(&facts(Mode::Gil, 2, 3, 1.5));
    assert_eq!(labels(&v), "implausible", "{v:?}");
    assert!(flagged(&v));
    // 2.79× of 2 workers on 2 cores, 1 run each: flagged and said.
    let v = point_verdicts(&facts(Mode::Process, 2, 1, 2.79));
    assert_eq!(labels(&v), "implausible, 1 run", "{v:?}");
}

#[test]
fn a_synthetic_slowed_baseline_is_implausible_and_a_clean_one_is_not() {
    let interp = interpreter("3.13", "3.13.5", false);
    let mut slowed = Synth::new(Mode::Gil, 1);
    slowed.running = 0.62;
    let run = slowed.build(&interp);
    let v = run_verdicts(&run);
    // A synthetic run has no machine load readings: said, not a flag.
    assert_eq!(labels(&v), "implausible, not measured", "{v:?}");
    assert!(text(&v).contains("got 0.62 cores"), "{}", text(&v));
    let mut clean = Synth::new(Mode::Gil, 1);
    clean.running = 0.97;
    let clean = clean.build(&interp);
    let v = run_verdicts(&clean);
    assert_eq!(labels(&v), "not measured", "{v:?}");
    assert!(!flagged(&v));
}
