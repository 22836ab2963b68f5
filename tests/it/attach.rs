//! `gilscope attach PID` against real processes gilscope did not start:
//! a 3.13 process whose two threads spin (each holds the GIL about half
//! the time, checked against py-spy over the same seconds), a 3.15 process
//! inside the Debian sid root, a process that exits while watched, an
//! unprivileged user attaching to a root process, and `gilscope bench
//! attach` (both phases and the ratio printed).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const GILSCOPE: &str = env!("CARGO_BIN_EXE_gilscope");

/// Two threads spinning for `secs`, pure Python.
const SPINNERS: &str = "import threading, time, sys
def spin():
    end = time.time() + float(sys.argv[1])
    x = 0
    while time.time() < end:
        for i in range(1000):
            x += i
ts = [threading.Thread(target=spin, name='spinner-%d' % k) for k in range(2)]
for t in ts: t.start()
for t in ts: t.join()
";

/// A target process that is killed and reaped on drop.
struct Spawned(Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(python: &Path, code: &str, secs: &str) -> Spawned {
    let child = Command::new(python)
        .args(["-c", code, secs])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Let it start its threads.
    std::thread::sleep(Duration::from_millis(500));
    Spawned(child)
}

fn attach_json(pid: u32, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(GILSCOPE)
        .args(["attach", &pid.to_string(), "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "attach failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The spinner threads of an attach document: (tid, held).
fn spinner_holds(doc: &serde_json::Value) -> Vec<(u32, f64)> {
    doc["threads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["cpu_secs"].as_f64().unwrap_or(0.0) > 0.5)
        .map(|t| {
            (
                u32::try_from(t["tid"].as_u64().unwrap()).unwrap(),
                t["gil_hold"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect()
}

#[test]
fn attach_to_two_spinning_threads_on_313_agrees_with_pyspy() {
    let _one = common::one_at_a_time();
    let Some(pyspy) = common::pyspy() else { return };
    let (python, _) = common::managed_313();
    let target = spawn(&python.path, SPINNERS, "17");
    let pid = target.0.id();
    let dir = tempfile::tempdir().unwrap();
    let run_file = dir.path().join("attach.json.gz");
    let attach = Command::new(GILSCOPE)
        .args(["attach", &pid.to_string(), "--json", "--duration", "12"])
        .arg("--record")
        .arg(&run_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // py-spy over 8 seconds inside the attach; gilscope's numbers are
    // taken from its record over exactly those seconds.
    std::thread::sleep(Duration::from_millis(1500));
    let spy = common::PySpyRecording::start(&pyspy, pid, 8).finish();
    let out = attach.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "attach failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["target"]["python"].as_str(), Some("3.13.5"), "{doc}");
    assert!(doc["summary"]["gil_missing"].is_null(), "{doc}");
    assert!(
        doc["outcome"]["end"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("duration"),
        "{}",
        doc["outcome"]
    );
    let record = gilscope::store::RunRecord::load(&run_file).unwrap();
    assert!(record.gil().has_data());
    let spinners = spinner_holds(&doc);
    assert_eq!(spinners.len(), 2, "{}", doc["threads"]);
    for (tid, whole) in spinners {
        let ours = common::held_between(&record, tid, spy.from_ns, spy.to_ns);
        let theirs = spy.held.get(&tid).copied().unwrap_or(0.0);
        eprintln!(
            "ATTACH 3.13 spinner {tid}: held {:.1} % (gilscope attach, py-spy's {:.1} s; {:.1} % over the whole attach) vs {:.1} % (py-spy, {} rounds)",
            ours * 100.0,
            (spy.to_ns - spy.from_ns) as f64 / 1e9,
            whole * 100.0,
            theirs * 100.0,
            spy.rounds
        );
        assert!(
            (0.40..=0.60).contains(&whole),
            "thread {tid} held {whole:.3}"
        );
        assert!(
            (ours - theirs).abs() <= 0.05,
            "thread {tid}: gilscope {ours:.3} vs py-spy {theirs:.3}"
        );
    }
    // The target was left running.
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn attach_reads_a_315_process_inside_the_sid_root() {
    let _one = common::one_at_a_time();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sid-pythons");
    let out = Command::new(&script).arg("--check").output().unwrap();
    if !out.status.success() {
        assert!(
            std::env::var_os("GILSCOPE_TEST_SID").is_none_or(|v| v != "1"),
            "GILSCOPE_TEST_SID=1 but the sid root is missing"
        );
        eprintln!("skipped: no sid root here");
        return;
    }
    let py315 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.ends_with("python3.15"))
        .map(PathBuf::from)
        .unwrap();
    let target = spawn(&py315, SPINNERS, "8");
    let doc = attach_json(target.0.id(), &["--duration", "3"]);
    assert_eq!(
        doc["target"]["python"].as_str().map(|v| &v[..4]),
        Some("3.15"),
        "{doc}"
    );
    assert!(doc["summary"]["gil_missing"].is_null(), "{doc}");
    let spinners = spinner_holds(&doc);
    assert_eq!(spinners.len(), 2, "{}", doc["threads"]);
    for (tid, held) in spinners {
        assert!(
            (0.3..=0.7).contains(&held),
            "3.15 thread {tid} held {held:.3}"
        );
    }
}

#[test]
fn a_process_that_exits_ends_the_attach_with_what_was_measured() {
    let _one = common::one_at_a_time();
    let (python, _) = common::managed_313();
    // Long enough that each spinner gets well over the 0.5 s of CPU that
    // picks it out, even on a busy machine.
    let target = spawn(&python.path, SPINNERS, "4");
    let started = Instant::now();
    let doc = attach_json(target.0.id(), &["--duration", "60"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(
        doc["outcome"]["end"]["reason"].as_str(),
        Some("the process exited"),
        "{}",
        doc["outcome"]
    );
    assert!(
        doc["summary"]["samples"].as_u64().unwrap() > 10,
        "{}",
        doc["summary"]
    );
    assert_eq!(spinner_holds(&doc).len(), 2, "{}", doc["threads"]);
}

#[test]
fn an_unprivileged_user_attaching_to_a_root_process_gets_the_fix() {
    let _one = common::one_at_a_time();
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to start the target and drop to nobody");
        return;
    }
    let (python, _) = common::managed_313();
    let target = spawn(&python.path, SPINNERS, "10");
    // A copy of gilscope that user nobody can run.
    let dir = tempfile::Builder::new()
        .prefix("gilscope-nobody")
        .tempdir()
        .unwrap();
    let exe = dir.path().join("gilscope");
    std::fs::copy(GILSCOPE, &exe).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .args(["attach", &target.0.id().to_string(), "--duration", "2"])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not allowed to read process")
            && err.contains("another user")
            && err.contains("CAP_SYS_PTRACE"),
        "{err}"
    );
    // Nothing left behind: no gilscope process of user nobody.
    let left = Command::new("pgrep")
        .args(["-u", "65534", "-f", "gilscope-nobody"])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&left.stdout)
    );
}

/// *Attach…* in the app: the spinning 3.13 process is listed with its
/// version read from the process, attaching shows its two spinner threads
/// holding the GIL, and its exit ends the watch cleanly.
#[test]
fn the_app_lists_a_python_process_attaches_and_sees_it_exit() {
    use gilscope::ui::{Action, App, UiOptions};
    let _one = common::one_at_a_time();
    let (py313, _) = common::managed_313();
    let target = spawn(&py313.path, SPINNERS, "3");
    let pid = target.0.id();
    let ctx = egui::Context::default();
    let options = UiOptions {
        interpreters: Some(vec![py313.clone()]),
        ..UiOptions::default()
    };
    let mut app = App::new(&ctx, options);
    app.apply(Action::ListProcesses, &ctx);
    let start = Instant::now();
    let listed = loop {
        app.pump();
        if let Some(list) = app.attach_panel().processes() {
            break list;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no listing");
        std::thread::sleep(Duration::from_millis(20));
    };
    let ours = listed.iter().find(|t| t.pid == pid).unwrap_or_else(|| {
        panic!(
            "pid {pid} not listed: {:?}",
            listed.iter().map(|t| t.pid).collect::<Vec<_>>()
        )
    });
    assert_eq!(ours.python, Some(("3.13.5".to_string(), false)));
    app.apply(Action::Attach(pid), &ctx);
    assert!(app.busy());
    let start = Instant::now();
    while app.busy() {
        app.pump();
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the watch never ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let record = &app.runs().iter().next().unwrap().record;
    assert!(
        record.spec().workload.starts_with("attach:"),
        "{:?}",
        record.spec()
    );
    let outcome = record.outcome().unwrap();
    assert!(
        matches!(outcome.end, gilscope::run::RunEnd::Detached { .. }),
        "{outcome:?}"
    );
    assert!(!outcome.is_failure());
    let holds: Vec<f64> = record
        .gil()
        .threads
        .values()
        .filter_map(|t| t.hold_fraction())
        .filter(|h| *h > 0.2)
        .collect();
    assert!(holds.len() >= 2, "two spinners holding the GIL: {holds:?}");
}

#[test]
fn bench_attach_prints_both_phases_and_the_ratio() {
    let _one = common::one_at_a_time();
    let out = Command::new(GILSCOPE)
        .args(["bench", "attach", "--threads", "1", "--rounds", "2"])
        .args(["--phase-secs", "1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let number_after = |prefix: &str| -> f64 {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no '{prefix}' line in:\n{stdout}"));
        line[prefix.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .trim_end_matches(',')
            .parse()
            .unwrap()
    };
    let ratio = number_after("attached / without: ");
    assert!(ratio > 0.2 && ratio < 5.0, "{stdout}");
    // While attached, gilscope itself reads /proc and the GIL: some CPU.
    let own = number_after("gilscope's own CPU while attached: ");
    assert!(own > 0.1 && own < 100.0, "{stdout}");
    for phase in ["without attach  2", "attached        2"] {
        assert!(stdout.contains(phase), "{phase}: {stdout}");
    }
}
