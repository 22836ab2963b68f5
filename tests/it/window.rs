//! The real window under Xvfb (glow on Mesa llvmpipe): `gilscope gui`
//! runs a short sweep on the real interpreters, saves in-app screenshots of
//! the live and compare views, and closes itself; `gilscope demo` steps
//! through its three chapters and saves each one's screenshot.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

/// How many distinct colours a PNG has (a blank or failed frame has 1–2).
fn distinct_colours(path: &std::path::Path) -> (u32, u32, usize) {
    let img = image::open(path).unwrap().to_rgba8();
    let mut seen = std::collections::HashSet::new();
    for p in img.pixels() {
        seen.insert(p.0);
        if seen.len() > 5_000 {
            break;
        }
    }
    (img.width(), img.height(), seen.len())
}

#[test]
fn window_runs_a_sweep_and_saves_screenshots_under_xvfb() {
    let _beside = common::beside_others();
    // Make sure the managed interpreters exist (the GUI discovers them itself).
    let _ = common::managed_313();
    let xvfb = Command::new("xvfb-run").arg("--help").output();
    assert!(
        xvfb.is_ok(),
        "xvfb-run is missing: run scripts/install-deps (apt-get install xvfb xauth libgl1-mesa-dri)"
    );
    let dir = tempfile::tempdir().unwrap();
    let shots = dir.path().join("shots");
    let start = Instant::now();
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1600x1000x24"])
        .arg(env!("CARGO_BIN_EXE_gilscope"))
        .args([
            "gui",
            "--sweep",
            "primes",
            "--modes",
            "gil,ft",
            "--workers",
            "1,2",
            "-p",
            "n=60000",
            "--screenshots",
        ])
        .arg(&shots)
        .arg("--export-dir")
        .arg(dir.path())
        .arg("--quit-when-done")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let limit = Duration::from_secs(300);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the window did not finish within {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        status.success(),
        "gilscope gui exited with {status}; stderr: {stderr}"
    );
    for name in ["live.png", "compare.png"] {
        let path = shots.join(name);
        assert!(path.is_file(), "{name} not written; stderr: {stderr}");
        let (w, h, colours) = distinct_colours(&path);
        assert!(w >= 800 && h >= 500, "{name} is {w}×{h}");
        assert!(colours > 50, "{name} looks blank ({colours} colours)");
    }
    eprintln!("window test took {:.1} s", start.elapsed().as_secs_f64());
}

#[test]
fn the_demo_steps_through_its_chapters_and_saves_each_screenshot() {
    let _ = common::managed_313();
    let _one = common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let shots = dir.path().join("shots");
    let start = Instant::now();
    let out = Command::new("timeout")
        .args(["300", "xvfb-run", "-a", "-s", "-screen 0 1920x1080x24"])
        .arg(env!("CARGO_BIN_EXE_gilscope"))
        .args([
            "demo",
            "--no-install",
            "--seconds",
            "1",
            "--workers",
            "2",
            "--screenshots",
        ])
        .arg(&shots)
        .arg("--quit-when-done")
        .current_dir(dir.path())
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{stdout}\n{stderr}", out.status);
    for n in 1..=3 {
        assert!(stdout.contains(&format!("demo: chapter {n}: ")), "{stdout}");
    }
    // The pilot stepped through every chapter (N) and took its picture.
    for name in ["race.png", "gil-import.png", "memory.png"] {
        let path = shots.join(name);
        assert!(path.is_file(), "{name} not written; {stdout}\n{stderr}");
        let (w, h, colours) = distinct_colours(&path);
        assert!((w, h) == (1920, 1080), "{name} is {w}×{h}");
        assert!(colours > 50, "{name} looks blank ({colours} colours)");
    }
    eprintln!(
        "demo window test took {:.1} s",
        start.elapsed().as_secs_f64()
    );
}
