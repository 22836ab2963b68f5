//! `gilscope demo` without a display: the story's three chapters run
//! headless, sized to the machine, each writing its sweep, report and
//! charts (the GIL import: its run file).

use crate::common;
use gilscope::interp::Mode;
use gilscope::store::RunRecord;
use std::process::Command;

#[test]
fn the_headless_demo_writes_the_report_and_charts() {
    let _one = common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("story");
    let output = Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args([
            "demo",
            "--headless",
            "--no-install",
            "--seconds",
            "1",
            "--workers",
            "2",
            "--out",
        ])
        .arg(&out)
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("demo: chapter 1: One blur, four ways to run it in parallel (blur size="),
        "{stdout}"
    );
    // 1: the race, every mode.
    let race = out.join("1-race");
    let sweep = std::fs::read_to_string(race.join("sweep.json")).unwrap();
    for mode in ["\"gil\"", "\"ft\"", "\"subinterp\"", "\"process\""] {
        assert!(sweep.contains(mode), "{mode} missing from the race");
    }
    let report = std::fs::read_to_string(race.join("report.md")).unwrap();
    assert!(report.contains("# gilscope report: blur"), "{report}");
    // Each point at least 3 times, printed with its spread and n, and no
    // point above the cores left unflagged.
    assert!(
        stdout.contains("repeats of each point, interleaved"),
        "{stdout}"
    );
    assert!(stdout.contains("(n = 3, min–max"), "{stdout}");
    let file = gilscope::sweep::SweepFile::load(&race).unwrap();
    let records = file.load_runs(&race).unwrap();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as f64;
    for p in gilscope::sweep::aggregate(&records).points {
        if p.workers > 1 {
            assert!(p.runs >= 3, "{} ×{}: {} runs", p.mode, p.workers, p.runs);
        }
        if p.speedup.is_some_and(|s| s > cores * 1.05) {
            assert!(
                gilscope::store::verdict::flagged(&p.verdicts),
                "{} ×{} at {:?} on {cores} cores is unflagged: {:?}",
                p.mode,
                p.workers,
                p.speedup,
                p.verdicts
            );
        }
    }
    assert!(race.join("charts/speedup.png").is_file());
    // 2: the free-threaded run whose import turned the GIL on.
    let run = RunRecord::load(&out.join("2-gil-import/run.json")).unwrap();
    assert_eq!(run.spec().mode, Mode::Ft);
    assert!(run.result().is_some(), "{:?}", run.outcome());
    assert!(
        run.gil_changes().any(|g| g.enabled),
        "no GIL change recorded: {:?}",
        run.gil_changes().collect::<Vec<_>>()
    );
    // 3: memory, subinterpreters against processes at 4 workers; the
    // processes cost more.
    let memory = out.join("3-memory");
    let sweep = std::fs::read_to_string(memory.join("sweep.json")).unwrap();
    assert!(sweep.contains("\"primes\""), "{sweep}");
    let report = std::fs::read_to_string(memory.join("report.md")).unwrap();
    assert!(memory.join("charts/memory.png").is_file());
    // Columns: overhead MiB (RSS) is the 11th cell, PSS MiB the 12th.
    let overhead = |mode: &str, cell: usize| -> f64 {
        let row = report
            .lines()
            .find(|l| l.starts_with(&format!("| {mode} |")) && l.split('|').nth(3) == Some(" 4 "))
            .unwrap_or_else(|| panic!("no {mode} ×4 row in {report}"));
        row.split('|').nth(cell).unwrap().trim().parse().unwrap()
    };
    for (cell, what) in [(11, "RSS"), (12, "PSS")] {
        let (sub, proc) = (overhead("subinterp", cell), overhead("process", cell));
        assert!(
            proc > sub,
            "{what}: 4 processes took {proc} MiB, 4 subinterpreters {sub} MiB"
        );
    }
    // RSS counts the pages the processes share once per process; PSS
    // splits them, so it is the smaller for processes.
    assert!(
        overhead("process", 12) < overhead("process", 11),
        "{report}"
    );
    assert!(stdout.contains(&format!("the story is in {}", out.display())));
}

#[test]
fn demo_refuses_zero_workers() {
    let stderr = common::usage_error(&["demo", "--workers", "0"]);
    assert!(
        stderr.contains("--workers 0: choose at least 1"),
        "{stderr}"
    );
}

#[test]
fn demo_refuses_a_silly_run_length() {
    let stderr = common::usage_error(&["demo", "--seconds", "0.1"]);
    assert!(
        stderr.contains("--seconds 0.1: choose 1 to 120"),
        "{stderr}"
    );
}
