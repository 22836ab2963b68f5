//! CPython 3.14 and 3.15 of the Debian sid root, started the ways chroots
//! and containers start Python (`scripts/container-python`): a plain
//! chroot whose root is outside every bound path, a new mount and pid
//! namespace with `pivot_root` (as container runtimes do), and the same on
//! an overlay root (as Docker's overlay2). Each is read by the host's pid
//! with `gilscope attach` and run by `gilscope run --python WRAPPER`: two
//! spinning threads (or primes workers) hold the GIL 50 ± 5 % each and
//! never run without it; the container-side pid is shown beside the host's,
//! and the app's *Attach…* list names each with its version and where it runs.
//! Each test first checks it made the condition it tests: the path the
//! kernel prints joined under /proc/PID/root is no file (chroot), or the
//! pid namespace differs (pivot, overlay), or the root is an overlay.
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

/// The sid root of `scripts/sid-pythons`; `None` (saying so) when it is
/// missing, unless `GILSCOPE_TEST_SID=1`, which makes that a failure.
pub fn sid_root() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sid-pythons");
    let out = Command::new(&script).arg("--check").output().unwrap();
    if !out.status.success() {
        assert!(
            std::env::var_os("GILSCOPE_TEST_SID").is_none_or(|v| v != "1"),
            "GILSCOPE_TEST_SID=1 but the sid root is missing"
        );
        eprintln!("skipped: no sid root here (scripts/sid-pythons makes it)");
        return None;
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: containers need root (unshare, mount, pivot_root)");
        return None;
    }
    let wrapper = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(PathBuf::from)
        .unwrap();
    // $cache/sid-pythons/python3.14 → $cache/sid-root
    Some(wrapper.parent().unwrap().parent().unwrap().join("sid-root"))
}

/// A one-line wrapper: `container-python MODE ROOT /usr/bin/pythonV "$@"`.
pub fn wrapper(dir: &Path, mode: &str, root: &Path, version: &str) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/container-python");
    let path = dir.join(format!("{mode}-python{version}"));
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nexec '{}' {mode} '{}' /usr/bin/python{version} \"$@\"\n",
            script.display(),
            root.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A target process (and its tree) killed and reaped on drop.
struct Spawned(Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The process of `root`'s tree whose name starts with `python` (the
/// wrapper execs into it, or forks it once into the pid namespace).
fn python_in_tree(root: u32) -> Option<u32> {
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.starts_with("python") {
            return Some(pid);
        }
        queue.extend(common::children_of(pid));
    }
    None
}

/// `NSpid:` of a process, outermost first.
fn nspid(pid: u32) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    gilscope::gil::nspid::parse_nspid(&status).unwrap()
}

/// Starts the spinners through `wrapper`; the host pid of the interpreter.
fn spawn_spinners(wrapper: &Path, secs: &str) -> (Spawned, u32) {
    let child = Command::new(wrapper)
        .args(["-c", SPINNERS, secs])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let spawned = Spawned(child);
    let start = Instant::now();
    let pid = loop {
        if let Some(pid) = python_in_tree(spawned.0.id())
            && std::fs::read_to_string(format!("/proc/{pid}/status"))
                .is_ok_and(|s| s.contains("Threads:\t3"))
        {
            break pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the spinners never started through {}",
            wrapper.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    (spawned, pid)
}

/// What makes `mode` the case it stands for, checked on the running target.
fn check_condition(mode: &str, pid: u32, root: &Path) {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let printed = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.contains("/python3.1"))
        .unwrap_or_else(|| panic!("no python mapping in:\n{maps}"));
    let joined = PathBuf::from(format!("/proc/{pid}/root")).join(&printed[1..]);
    let ns = nspid(pid);
    let mountinfo = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    let root_fs = mountinfo
        .lines()
        .find(|l| l.split_whitespace().nth(4) == Some("/"))
        .and_then(|l| l.split(" - ").nth(1))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_default()
        .to_string();
    eprintln!(
        "{mode}: maps prints {printed}; NSpid {ns:?}; root fs {root_fs}; the root's own folder {}",
        root.display()
    );
    match mode {
        "chroot" => {
            // The old reading: that path under /proc/PID/root is no file.
            assert!(!joined.exists(), "{} exists", joined.display());
            assert_eq!(ns.len(), 1, "a plain chroot keeps the pid namespace");
        }
        _ => {
            assert_eq!(ns.len(), 2, "a new pid namespace: {ns:?}");
            assert_ne!(ns[0], ns[1]);
        }
    }
    if mode == "overlay" {
        assert_eq!(root_fs, "overlay", "{mountinfo}");
    }
    // Nothing bound in shows the root's own folder to the target.
    let inside = PathBuf::from(format!("/proc/{pid}/root")).join(root.strip_prefix("/").unwrap());
    assert!(!inside.exists(), "{} is visible inside", inside.display());
}

/// `gilscope attach PID --json` for `secs`.
fn attach_json(pid: u32, secs: &str) -> serde_json::Value {
    let out = Command::new(GILSCOPE)
        .args(["attach", &pid.to_string(), "--json", "--duration", secs])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "attach failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Attach to the spinners by the host pid; then a primes run through the
/// wrapper; both with exact GIL numbers.
fn attach_and_run(mode: &str) {
    let _one = common::one_at_a_time();
    let Some(root) = sid_root() else { return };
    let dir = tempfile::tempdir().unwrap();
    for version in ["3.14", "3.15"] {
        let w = wrapper(dir.path(), mode, &root, version);
        let (target, pid) = spawn_spinners(&w, "45");
        check_condition(mode, pid, &root);
        // The app's Attach… list shows it, with its version and where it runs.
        let listed = gilscope::run::attach::python_processes();
        let ours = listed.iter().find(|t| t.pid == pid).unwrap_or_else(|| {
            panic!(
                "{pid} not listed: {:?}",
                listed.iter().map(|t| t.pid).collect::<Vec<_>>()
            )
        });
        assert_eq!(
            ours.python.as_ref().map(|p| &p.0[..4]),
            Some(version),
            "{ours:?}"
        );
        let place = ours.place();
        match mode {
            "chroot" => assert!(place.starts_with("chroot /"), "{place}"),
            _ => assert!(place.starts_with("container (pid "), "{place}"),
        }
        // Two spinners split the GIL evenly when nothing else takes the
        // cores: start on a quiet machine when there is one (up to 30 s).
        common::wait_for_quiet(Duration::from_secs(30));
        let doc = attach_json(pid, "5");
        let t = &doc["target"];
        assert_eq!(
            t["python"].as_str().map(|v| &v[..4]),
            Some(version),
            "{doc}"
        );
        assert!(doc["summary"]["gil_missing"].is_null(), "{doc}");
        let ns = nspid(pid);
        let expected_ns_pid = (ns.len() > 1).then(|| ns[ns.len() - 1]);
        assert_eq!(t["ns_pid"].as_u64(), expected_ns_pid.map(u64::from), "{t}");
        let spinners: Vec<&serde_json::Value> = doc["threads"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["cpu_secs"].as_f64().unwrap_or(0.0) > 1.0)
            .collect();
        assert_eq!(spinners.len(), 2, "{}", doc["threads"]);
        for s in spinners {
            let tid = s["tid"].as_u64().unwrap();
            // Host tids: the thread is the target's, in this /proc.
            assert!(
                Path::new(&format!("/proc/{pid}/task/{tid}")).exists(),
                "{s}"
            );
            let held = s["gil_hold"].as_f64().unwrap_or(f64::NAN);
            let free = s["gil_run_free"].as_f64().unwrap_or(f64::NAN);
            eprintln!(
                "CONTAINER {mode} {version} attach: thread {tid} ({}) held {:.1} %, ran without {:.1} %, waited {:.1} %",
                s["name"],
                held * 100.0,
                free * 100.0,
                s["gil_wait"].as_f64().unwrap_or(f64::NAN) * 100.0
            );
            assert!((0.45..=0.55).contains(&held), "{mode} {version}: {s}");
            assert!(free <= 0.03, "{mode} {version}: {s}");
        }
        drop(target);
        run_primes(mode, version, &w, dir.path());
    }
}

/// `gilscope run --python WRAPPER -w primes -m gil -n 2`: both workers
/// (named by the harness's thread ids, the container's, mapped to the
/// host's) hold the GIL about half the time.
fn run_primes(mode: &str, version: &str, wrapper: &Path, dir: &Path) {
    let record = dir.join(format!("{mode}-{version}.json.gz"));
    let out = Command::new(GILSCOPE)
        .arg("run")
        .arg("--python")
        .arg(wrapper)
        .args(["-w", "primes", "-m", "gil", "-n", "2", "-p", "n=600000"])
        .arg("--record")
        .arg(&record)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{mode} {version} run failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let run = gilscope::store::RunRecord::load(&record).unwrap();
    let gil = run.gil();
    assert!(gil.has_data(), "{:?}", gil.notices);
    let workers = gilscope::store::metrics::worker_gil(&run);
    assert_eq!(workers.len(), 2, "{workers:?} {:?}", gil.notices);
    for w in &workers {
        let hold = w.hold.unwrap_or(f64::NAN);
        eprintln!(
            "CONTAINER {mode} {version} run: worker {} held {:.1} %, ran without {:.1} %",
            w.worker,
            hold * 100.0,
            w.run_free.unwrap_or(f64::NAN) * 100.0
        );
        assert!((0.40..=0.60).contains(&hold), "{mode} {version}: {w:?}");
        assert!(w.run_free.is_some_and(|f| f <= 0.03), "{w:?}");
    }
}

#[test]
fn python_in_a_plain_chroot_outside_every_bound_path() {
    attach_and_run("chroot");
}

#[test]
fn python_in_a_pid_namespace_with_pivot_root() {
    attach_and_run("pivot");
}

#[test]
fn python_on_an_overlay_root_in_a_pid_namespace() {
    attach_and_run("overlay");
}
