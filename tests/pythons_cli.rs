#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test
//! `gilscope pythons …` against the real interpreters on this machine.
//!
//! The managed CPython 3.13 / 3.13t builds must exist: the README's test
//! command (`scripts/test`) installs them first.

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn gilscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gilscope"))
}

fn list_json(cmd: &mut Command, extra: &[&str]) -> Vec<Value> {
    let out = cmd
        .args(["pythons", "list", "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    doc["interpreters"].as_array().unwrap().clone()
}

fn modes(interp: &Value) -> Vec<&str> {
    interp["modes"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn finds_the_machines_python3_as_a_gil_interpreter() {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, os; print(os.path.realpath(sys.executable))",
        ])
        .output()
        .unwrap();
    let real = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let interps = list_json(&mut gilscope(), &[]);
    let found = interps
        .iter()
        .find(|i| i["executable"].as_str() == Some(real.as_str()))
        .unwrap_or_else(|| panic!("python3 ({real}) not found in {interps:#?}"));
    assert_eq!(found["status"], "ok");
    assert_eq!(found["build"], "default");
    assert_eq!(found["free_threaded"], false);
    let m = modes(found);
    assert!(m.contains(&"gil") && m.contains(&"process"), "{m:?}");
    assert!(!m.contains(&"ft"), "{m:?}");
}

#[test]
fn managed_313_builds_are_listed_with_their_modes() {
    let interps = list_json(&mut gilscope(), &[]);
    let managed: Vec<&Value> = interps
        .iter()
        .filter(|i| {
            i["source"] == "managed"
                && i["version"]
                    .as_str()
                    .is_some_and(|v| v.starts_with("3.13."))
        })
        .collect();
    let default = managed.iter().find(|i| i["free_threaded"] == false).expect(
        "no managed CPython 3.13 default build: run `gilscope pythons install` (scripts/test does)",
    );
    let ft = managed.iter().find(|i| i["free_threaded"] == true).expect(
        "no managed CPython 3.13t build: run `gilscope pythons install` (scripts/test does)",
    );
    assert_eq!(default["build"], "default");
    assert_eq!(ft["build"], "free-threaded");
    assert_eq!(modes(default), ["gil", "subinterp", "process"]);
    assert_eq!(default["gil_enabled_at_start"], true);
    assert_eq!(default["subinterp_api"], "_interpreters");
    assert_eq!(modes(ft), ["ft", "ft-gil", "subinterp", "process"]);
    assert_eq!(ft["gil_enabled_at_start"], false);
    assert!(
        ft["path"].as_str().unwrap().ends_with("/bin/python3.13t"),
        "{ft}"
    );
    assert!(ft["ext_suffix"].as_str().unwrap().contains("313t"), "{ft}");
}

#[test]
fn second_install_keeps_the_existing_builds() {
    let start = Instant::now();
    let out = gilscope().args(["pythons", "install"]).output().unwrap();
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("default verify kept: a good build exists at"),
        "{stdout}"
    );
    assert!(
        stdout.contains("free-threaded verify kept: a good build exists at"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("Full build log"),
        "a no-op install must not start a build: {stdout}"
    );
    eprintln!("second install took {elapsed:?}");
}

fn fake_python(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(needle) {
                found.push(text);
            }
        }
    }
    found
}

#[test]
fn broken_and_hanging_interpreters_are_listed_as_broken_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    fake_python(
        dir.path(),
        "python3.98",
        "echo 'cannot load libpython3.98.so' >&2; exit 1",
    );
    // A unique sleep length, so the test can look for survivors.
    fake_python(dir.path(), "python3.97", "sleep 7357");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let start = Instant::now();
    let interps = list_json(
        gilscope()
            .env("PATH", path)
            .env("GILSCOPE_CACHE_DIR", cache.path()),
        &["--probe-timeout", "2"],
    );
    let elapsed = start.elapsed();
    let by_path = |name: &str| {
        let p = dir.path().join(name);
        interps
            .iter()
            .find(|i| i["path"].as_str() == Some(p.to_str().unwrap()))
            .cloned()
            .unwrap_or_else(|| panic!("{name} not listed"))
    };
    let failing = by_path("python3.98");
    assert_eq!(failing["status"], "broken");
    assert_eq!(
        failing["reason"],
        "exited with status 1: cannot load libpython3.98.so"
    );
    let hanging = by_path("python3.97");
    assert_eq!(hanging["status"], "broken");
    assert_eq!(hanging["reason"], "probe timed out after 2 s");
    // Probes run in parallel: the whole listing waits for one timeout, not
    // one per interpreter.
    assert!(
        elapsed < Duration::from_secs(8),
        "discovery took {elapsed:?}"
    );
    assert!(
        processes_with("sleep 7357").is_empty(),
        "the hanging probe survived"
    );
    // Working interpreters are still found beside the broken ones.
    assert!(interps.iter().any(|i| i["status"] == "ok"));
}
