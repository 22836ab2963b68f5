#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test
//! `gilscope pythons …` against the real interpreters on this machine.
//!
//! The managed CPython 3.13 / 3.13t builds must exist: the README's test
//! command (`scripts/test`) installs them first.

use crate::common::gilscope;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

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
    let _beside = crate::common::beside_others();
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
    let _beside = crate::common::beside_others();
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
    let _beside = crate::common::beside_others();
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
    let _beside = crate::common::beside_others();
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

/// Config, data and cache dirs of their own, so a test's `pythons add`
/// never touches the user's (or another test's) files.
struct Isolated {
    config: tempfile::TempDir,
    data: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Isolated {
    fn new() -> Self {
        Isolated {
            config: tempfile::tempdir().unwrap(),
            data: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    fn gilscope(&self) -> Command {
        let mut cmd = gilscope();
        cmd.env("GILSCOPE_CONFIG_DIR", self.config.path())
            .env("GILSCOPE_DATA_DIR", self.data.path())
            .env("GILSCOPE_CACHE_DIR", self.cache.path())
            .env_remove("GILSCOPE_PYTHONS");
        cmd
    }
}

/// The wrapper running Debian sid's CPython 3.15 (`scripts/sid-pythons`),
/// or `None` (with the reason printed) when this machine has none and
/// `GILSCOPE_TEST_SID` does not ask for it.
fn sid_python315() -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sid-pythons");
    let out = Command::new(&script).arg("--check").output();
    let required = std::env::var("GILSCOPE_TEST_SID").is_ok_and(|v| v == "1");
    let why = match &out {
        Ok(out) if out.status.success() => {
            match String::from_utf8_lossy(&out.stdout)
                .lines()
                .find(|l| l.ends_with("/python3.15"))
            {
                Some(line) => return Some(line.trim().to_string()),
                None => format!("{} --check named no python3.15", script.display()),
            }
        }
        Ok(out) => format!(
            "{} --check: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!(
            "cannot run {}: {e} (it makes the sid root and wrappers, as root)",
            script.display()
        ),
    };
    assert!(
        !required,
        "GILSCOPE_TEST_SID=1 but there is no sid CPython 3.15: {why}"
    );
    eprintln!("skipped: {why} (with GILSCOPE_TEST_SID=1 this is a failure)");
    None
}

#[test]
fn an_added_sid_wrapper_is_listed_as_its_own_315_interpreter() {
    let _beside = crate::common::beside_others();
    let Some(wrapper) = sid_python315() else {
        return;
    };
    let iso = Isolated::new();
    let out = iso
        .gilscope()
        .args(["pythons", "add", &wrapper])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("added {wrapper}: CPython 3.15.2 (default build)")),
        "{stdout}"
    );
    // Listed twice: the second listing must not take a cached answer for the
    // wrapper (it reports /usr/bin/python3.15 of another root).
    for _ in 0..2 {
        let interps = list_json(&mut iso.gilscope(), &[]);
        let found = interps
            .iter()
            .find(|i| i["path"].as_str() == Some(wrapper.as_str()))
            .unwrap_or_else(|| panic!("{wrapper} not listed: {interps:#?}"));
        assert_eq!(found["status"], "ok", "{found}");
        assert_eq!(found["source"], "added");
        assert_eq!(found["version"], "3.15.2");
        assert_eq!(found["build"], "default");
        assert_eq!(modes(found), ["gil", "subinterp", "process"]);
        assert_eq!(found["executable"], "/usr/bin/python3.15");
        // Never merged with a host file of that name (or anything else).
        assert_eq!(found["aliases"], serde_json::json!([]), "{found}");
        let same_exe: Vec<&Value> = interps
            .iter()
            .filter(|i| i["executable"] == "/usr/bin/python3.15")
            .collect();
        assert_eq!(same_exe.len(), 1, "{same_exe:#?}");
        let cache = std::fs::read_to_string(iso.cache.path().join("probe-cache.json")).unwrap();
        assert!(!cache.contains(&wrapper), "the wrapper's probe was cached");
    }
    let out = iso
        .gilscope()
        .args(["pythons", "remove", &wrapper])
        .output()
        .unwrap();
    assert!(out.status.success());
    let interps = list_json(&mut iso.gilscope(), &[]);
    assert!(
        !interps
            .iter()
            .any(|i| i["path"].as_str() == Some(wrapper.as_str())),
        "still listed after remove"
    );
}

#[test]
fn pythons_add_refuses_what_is_not_a_python_in_one_line() {
    let _beside = crate::common::beside_others();
    let iso = Isolated::new();
    let dir = tempfile::tempdir().unwrap();
    fake_python(
        dir.path(),
        "python3.98",
        "echo 'no libpython3.98.so' >&2; exit 127",
    );
    let bad = dir.path().join("python3.98");
    for (path, expected) in [
        (
            "/bin/true".to_string(),
            "error: /bin/true is not a working Python (probe printed no answer); pass a python3.X executable, or a wrapper script that execs one with all its arguments (\"$@\")\n".to_string(),
        ),
        (
            bad.display().to_string(),
            format!("error: {} is not a working Python (exited with status 127: no libpython3.98.so); pass a python3.X executable, or a wrapper script that execs one with all its arguments (\"$@\")\n", bad.display()),
        ),
    ] {
        let out = iso
            .gilscope()
            .args(["pythons", "add", &path])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
    }
    assert!(!iso.config.path().join("pythons.json").exists());
}

#[test]
fn gilscope_pythons_lists_extra_paths_and_wrappers_stay_apart() {
    let _beside = crate::common::beside_others();
    let iso = Isolated::new();
    let dir = tempfile::tempdir().unwrap();
    // A wrapper around the machine's python3: the same binary as the
    // system's, but named by the user, so it is run as is.
    fake_python(dir.path(), "py-wrapped", "exec python3 \"$@\"");
    let wrapper = dir.path().join("py-wrapped");
    let missing = dir.path().join("python3.77");
    let list = format!("{}::{}", wrapper.display(), missing.display());
    let interps = list_json(iso.gilscope().env("GILSCOPE_PYTHONS", &list), &[]);
    let by_path = |p: &Path| {
        interps
            .iter()
            .find(|i| i["path"].as_str() == p.to_str())
            .unwrap_or_else(|| panic!("{} not listed: {interps:#?}", p.display()))
    };
    let wrapped = by_path(&wrapper);
    assert_eq!(wrapped["source"], "env");
    assert_eq!(wrapped["status"], "ok");
    assert!(modes(wrapped).contains(&"gil"), "{wrapped}");
    // The system's python3 is still listed on its own.
    let exe = wrapped["executable"].as_str().unwrap();
    assert!(
        interps
            .iter()
            .any(|i| i["path"].as_str() != wrapper.to_str() && i["executable"] == exe),
        "{exe} only listed through the wrapper"
    );
    let gone = by_path(&missing);
    assert_eq!(gone["source"], "env");
    assert_eq!(gone["status"], "broken");
    assert_eq!(
        gone["reason"],
        "cannot run it: No such file or directory (os error 2) (listed in GILSCOPE_PYTHONS)"
    );
}

#[test]
fn installing_315_from_a_tarball_that_is_not_the_release_is_refused() {
    let _beside = crate::common::beside_others();
    let iso = Isolated::new();
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("Python-3.15.2");
    std::fs::create_dir_all(top.join("Include")).unwrap();
    std::fs::write(top.join("configure"), "#!/bin/sh\nexit 1\n").unwrap();
    let tar = dir.path().join("Python-3.15.2.tar.xz");
    let ok = Command::new("tar")
        .arg("-cJf")
        .arg(&tar)
        .arg("-C")
        .arg(dir.path())
        .arg("Python-3.15.2")
        .status()
        .unwrap();
    assert!(ok.success());
    let start = Instant::now();
    let out = iso
        .gilscope()
        .args([
            "pythons",
            "install",
            "--version",
            "3.15",
            "--source-tarball",
        ])
        .arg(&tar)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: checksum mismatch for {}: expected sha256 8b5536d280142ecf6cdfe15d12a21ba1c65e300bbf7b28a8d0cdb849575797de, got ", tar.display())),
        "{stderr}"
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(
        !iso.data.path().join("pythons").exists(),
        "something was built"
    );
}
