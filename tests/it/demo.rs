//! `gilscope demo` without a display: the story runs headless, sized to
//! the machine, and writes the sweep, the report and the charts.

use crate::common;
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
    assert!(stdout.contains("demo: blur size="), "{stdout}");
    let sweep = std::fs::read_to_string(out.join("sweep.json")).unwrap();
    for mode in ["\"gil\"", "\"ft\"", "\"subinterp\"", "\"process\""] {
        assert!(sweep.contains(mode), "{mode} missing from the story");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("# gilscope report: blur"), "{report}");
    assert!(out.join("charts/speedup.png").is_file());
    assert!(stdout.contains(&format!("the story is in {}", out.display())));
}

#[test]
fn demo_refuses_a_silly_run_length() {
    let output = Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args(["demo", "--seconds", "0.1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--seconds 0.1: choose 1 to 120"),
        "{stderr}"
    );
}
