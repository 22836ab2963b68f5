//! `gilscope sweep` end to end with real interpreters.
#![allow(clippy::unwrap_used)]

use crate::common::gilscope;
use gilscope::sweep::{SweepFile, aggregate};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn script(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn sweep_records_every_run_and_the_overhead_runs() {
    let _beside = crate::common::beside_others();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let status = gilscope()
        .args([
            "sweep",
            "--workload",
            "primes",
            "--param",
            "n=150000",
            "--modes",
            "gil,process",
            "--workers",
            "1,2",
            "--repeat",
            "2",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let file = SweepFile::load(&out).unwrap();
    assert!(!file.interrupted);
    // 2 modes × 2 worker counts × 2 repeats, plus ft and ft-gil 1-worker
    // runs for the single-thread overhead (gil ×1 is already there).
    assert_eq!(
        file.plan.overhead_modes.len(),
        2,
        "{:?}",
        file.plan.overhead_modes
    );
    assert_eq!(file.runs.len(), 12);
    assert!(file.runs.iter().all(|r| r.completed), "{:?}", file.runs);
    assert!(file.command.iter().any(|a| a == "sweep"));
    assert!(file.machine.cores >= 1);
    let records = file.load_runs(&out).unwrap();
    // The app's File › Open takes the same folder: every run file, from runs/.
    let opened = gilscope::ui::jobs::open_path(&out).unwrap();
    assert_eq!(opened.len(), records.len());
    let agg = aggregate(&records);
    assert!(agg.checksums_agree);
    let gil2 = agg
        .points
        .iter()
        .find(|p| p.mode.as_str() == "gil" && p.workers == 2)
        .unwrap();
    assert_eq!(gil2.runs, 2);
    // Runs of ~0.4 s: long enough for the 50 Hz sampler to split the
    // workers' time (a run shorter than two samples leaves it unmeasured).
    assert!(gil2.speedup.is_some() && gil2.blocked.is_some(), "{gil2:?}");
    assert!(agg.overhead.ft_overhead_pct.is_some() && agg.overhead.ft_gil_overhead_pct.is_some());
    // A second sweep into the same directory is refused, the first kept.
    let again = gilscope()
        .args(["sweep", "--workload", "primes", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a sweep"));
}

#[test]
fn failing_runs_are_recorded_and_the_sweep_goes_on() {
    let _beside = crate::common::beside_others();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let status = gilscope()
        .args([
            "sweep",
            "--workload",
            &script("raise_in_chunk.py"),
            "--modes",
            "gil",
            "--workers",
            "1,2",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let file = SweepFile::load(&out).unwrap();
    let gil_runs: Vec<_> = file
        .runs
        .iter()
        .filter(|r| r.mode.as_str() == "gil")
        .collect();
    assert_eq!(gil_runs.len(), 2);
    for r in gil_runs {
        assert!(!r.completed);
        assert!(
            r.headline.contains("ValueError: chunk three is cursed"),
            "{}",
            r.headline
        );
    }
    // The failed runs' files hold the error.
    let records = file.load_runs(&out).unwrap();
    assert!(records.iter().any(|r| r.error().is_some()));
}

#[test]
fn interrupting_a_sweep_keeps_the_finished_runs() {
    let _beside = crate::common::beside_others();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let mut child = gilscope()
        .args([
            "sweep",
            "--workload",
            "sleep",
            "--param",
            "count=40",
            "--param",
            "ms=25",
            "--modes",
            "gil",
            "--workers",
            "1",
            "--repeat",
            "20",
            "--out",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until at least one run is recorded, then press Ctrl-C.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if SweepFile::load(&out).is_ok_and(|f| !f.runs.is_empty()) {
            break;
        }
        assert!(Instant::now() < deadline, "no run finished");
        std::thread::sleep(Duration::from_millis(100));
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let file = SweepFile::load(&out).unwrap();
    assert!(file.interrupted);
    assert!(!file.runs.is_empty() && file.runs.len() < 20 + 2);
    assert!(file.runs.iter().all(|r| r.completed));
    assert_eq!(file.load_runs(&out).unwrap().len(), file.runs.len());
}

/// `--until-stable P`: each point is repeated until its spread is under P
/// % or `--max-repeats` is reached; points that never settled are named
/// in the output and in sweep.json. A bound of 0.001 % cannot be met by
/// real runs: every point runs to the cap and is named.
#[test]
fn until_stable_repeats_to_the_cap_and_names_what_never_settled() {
    let _beside = crate::common::beside_others();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let status = gilscope()
        .args(["sweep", "--workload", "primes", "--param", "n=30000"])
        .args(["--modes", "gil", "--workers", "1,2"])
        .args(["--until-stable", "0.001", "--max-repeats", "3", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let file = SweepFile::load(&out).unwrap();
    assert_eq!(file.plan.until_stable_pct, Some(0.001));
    // gil ×1, gil ×2 and the ft / ft-gil overhead points, 3 runs each.
    let points = 2 + file.plan.overhead_modes.len();
    assert_eq!(file.runs.len(), 3 * points, "{:?}", file.runs);
    assert_eq!(file.unsettled.len(), points, "{:?}", file.unsettled);
    assert!(
        stdout.contains("never settled under 0.001 % spread"),
        "{stdout}"
    );
    assert!(stdout.contains("gil ×2: spread "), "{stdout}");
    // Repeats are outermost: the third round comes after both others.
    let rounds: Vec<usize> = file.runs.iter().map(|r| r.repeat).collect();
    assert!(rounds.windows(2).all(|w| w[0] <= w[1]), "{rounds:?}");
    // Every run says what else ran.
    assert!(
        file.runs.iter().all(|r| r.load.is_some()),
        "{:?}",
        file.runs
    );
}
