//! Workloads that fail in every way we know: each gives a clear message and
//! leaves no process behind.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{group_gone_within, live_in_group, run_to_end, spec};
use gilscope::interp::Mode;
use gilscope::run::RunEnd;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn script(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts")
        .join(name)
        .display()
        .to_string()
}

fn assert_no_survivors(pgid: u32) {
    assert!(
        group_gone_within(pgid, Duration::from_secs(5)),
        "processes survived in group {pgid}: {:?}",
        live_in_group(pgid)
    );
}

#[test]
fn exception_at_import_names_file_and_line() {
    let _beside = common::beside_others();
    for mode in [Mode::Gil, Mode::Subinterp, Mode::Process] {
        let fin = run_to_end(&spec(mode, 2, &script("raise_at_import.py"), &[]));
        let RunEnd::WorkloadFailed { error } = &fin.outcome.end else {
            panic!("{mode}: {:?}", fin.outcome)
        };
        assert_eq!(error.kind, "RuntimeError", "{mode}");
        assert_eq!(error.message, "broken at import");
        assert!(
            error
                .filename
                .as_deref()
                .unwrap()
                .ends_with("raise_at_import.py"),
            "{error:?}"
        );
        assert_eq!(error.lineno, Some(5));
        assert_eq!(error.phase.as_deref(), Some("import"));
        assert!(error.traceback.contains("RuntimeError: broken at import"));
        assert_no_survivors(fin.pid);
    }
}

#[test]
fn exception_in_a_chunk_is_carried_back_from_every_mode() {
    let _beside = common::beside_others();
    for mode in [Mode::Gil, Mode::Ft, Mode::Subinterp, Mode::Process] {
        let fin = run_to_end(&spec(mode, 2, &script("raise_in_chunk.py"), &[]));
        let RunEnd::WorkloadFailed { error } = &fin.outcome.end else {
            panic!("{mode}: {:?}", fin.outcome)
        };
        assert_eq!(error.kind, "ValueError", "{mode}");
        assert_eq!(error.message, "chunk three is cursed", "{mode}");
        assert!(
            error
                .filename
                .as_deref()
                .unwrap()
                .ends_with("raise_in_chunk.py"),
            "{mode}: {error:?}"
        );
        assert_eq!(error.lineno, Some(12), "{mode}");
        assert_eq!(error.phase.as_deref(), Some("chunk"), "{mode}");
        assert_eq!(error.chunk, Some(3), "{mode}");
        assert!(
            error
                .headline()
                .contains("raise_in_chunk.py:12, in chunk 3 on worker"),
            "{}",
            error.headline()
        );
        assert_no_survivors(fin.pid);
    }
}

#[test]
fn syntax_error_names_file_and_line() {
    let _beside = common::beside_others();
    let fin = run_to_end(&spec(Mode::Gil, 1, &script("syntax_error.py"), &[]));
    let RunEnd::WorkloadFailed { error } = &fin.outcome.end else {
        panic!("{:?}", fin.outcome)
    };
    assert_eq!(error.kind, "SyntaxError");
    assert!(
        error
            .filename
            .as_deref()
            .unwrap()
            .ends_with("syntax_error.py"),
        "{error:?}"
    );
    assert_eq!(error.lineno, Some(6));
    assert_no_survivors(fin.pid);
}

#[test]
fn interpreter_exit_mid_run_is_a_crash_with_its_status() {
    let _beside = common::beside_others();
    let fin = run_to_end(&spec(Mode::Gil, 2, &script("exits.py"), &[]));
    let RunEnd::Crashed { reason } = &fin.outcome.end else {
        panic!("{:?}", fin.outcome)
    };
    assert!(reason.contains("exited with status 5"), "{reason}");
    assert_no_survivors(fin.pid);
}

#[test]
fn worker_process_exit_is_reported() {
    let _beside = common::beside_others();
    let fin = run_to_end(&spec(Mode::Process, 2, &script("exits.py"), &[]));
    let text = format!("{:?}", fin.outcome.end);
    assert!(
        !matches!(fin.outcome.end, RunEnd::Completed { .. }),
        "{text}"
    );
    assert!(
        text.contains('5'),
        "the worker's exit status should be named: {text}"
    );
    assert_no_survivors(fin.pid);
}

#[test]
fn segfault_is_a_crash_naming_the_signal() {
    let _beside = common::beside_others();
    for mode in [Mode::Gil, Mode::Process] {
        let fin = run_to_end(&spec(mode, 2, &script("segfault.py"), &[]));
        let text = fin.outcome.headline();
        assert!(
            !matches!(fin.outcome.end, RunEnd::Completed { .. }),
            "{mode}: {text}"
        );
        assert!(
            text.contains("SIGSEGV") || text.contains("signal 11"),
            "{mode}: {text}"
        );
        assert_no_survivors(fin.pid);
    }
}

#[test]
fn hang_past_the_timeout_is_killed() {
    let _beside = common::beside_others();
    for mode in [Mode::Gil, Mode::Subinterp, Mode::Process] {
        let mut s = spec(mode, 2, &script("hangs.py"), &[]);
        s.timeout = Some(Duration::from_secs(2));
        let start = Instant::now();
        let fin = run_to_end(&s);
        assert!(
            matches!(fin.outcome.end, RunEnd::TimedOut { after_secs } if after_secs == 2.0),
            "{mode}: {:?}",
            fin.outcome
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{mode}: took {:?}",
            start.elapsed()
        );
        assert!(
            fin.stdout
                .iter()
                .any(|l| l.contains("starts and never ends")),
            "{mode}: workload output captured"
        );
        assert_no_survivors(fin.pid);
    }
}

#[test]
fn stopping_a_run_kills_it() {
    let _beside = common::beside_others();
    let handle = gilscope::run::start(&spec(Mode::Process, 2, &script("hangs.py"), &[])).unwrap();
    let pid = handle.pid();
    // Wait (up to 30 s on a busy machine) for the harness and its workers.
    let deadline = Instant::now() + Duration::from_secs(30);
    while live_in_group(pid).len() < 3 {
        assert!(
            Instant::now() < deadline,
            "harness + 2 workers expected: {:?}",
            live_in_group(pid)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(handle);
    assert_no_survivors(pid);
}

#[test]
fn killing_gilscope_leaves_no_python_behind() {
    let _beside = common::beside_others();
    let python = common::interp_for(Mode::Process).path.clone();
    let mut cli = Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args([
            "run",
            "--mode",
            "process",
            "--workers",
            "2",
            "--json",
            "--workload",
            &script("hangs.py"),
            "--python",
        ])
        .arg(&python)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the harness and its two workers.
    let deadline = Instant::now() + Duration::from_secs(30);
    let harness = loop {
        if let Some(&h) = common::children_of(cli.id()).first()
            && live_in_group(h).len() >= 3
        {
            break h;
        }
        assert!(Instant::now() < deadline, "the run did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    cli.kill().unwrap();
    cli.wait().unwrap();
    assert_no_survivors(harness);
}

#[test]
fn cli_exit_codes_and_messages() {
    let _beside = common::beside_others();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_gilscope"))
            .arg("run")
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = run(&["--mode", "gil", "--workload", &script("raise_in_chunk.py")]);
    assert_eq!(code, Some(3));
    assert!(out.contains("ValueError: chunk three is cursed"), "{out}");
    assert!(out.contains("raise_in_chunk.py:12"), "{out}");

    let (code, out, _) = run(&[
        "--mode",
        "gil",
        "--timeout",
        "1",
        "--workload",
        &script("hangs.py"),
    ]);
    assert_eq!(code, Some(5));
    assert!(out.contains("timed out after 1.0 s"), "{out}");

    let (code, out, _) = run(&["--mode", "gil", "--workload", &script("segfault.py")]);
    assert_eq!(code, Some(4));
    assert!(out.contains("killed by signal 11 (SIGSEGV)"), "{out}");

    let (code, _, err) = run(&["--mode", "gil", "--workload", "no_such_workload"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("unknown workload 'no_such_workload'; built-in workloads: blur, fib"),
        "{err}"
    );
}

#[test]
fn modes_an_interpreter_cannot_do_are_refused_up_front() {
    let _beside = common::beside_others();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_gilscope"))
            .arg("run")
            .args(["--workload", "primes"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let default = &common::managed_313().0;
    let (code, err) = run(&["--mode", "ft", "--python", default.path.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("mode 'ft' needs a free-threaded build (3.13t or newer)"),
        "{err}"
    );
    assert!(err.contains("interpreters that can: "), "{err}");
    assert!(err.contains("3.13t"), "{err}");

    let py311 = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let py311 = String::from_utf8(py311.stdout).unwrap().trim().to_string();
    let (code, err) = run(&["--mode", "subinterp", "--python", &py311]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("mode 'subinterp' needs CPython 3.12+ with own-GIL subinterpreters"),
        "{err}"
    );
    assert!(err.contains("interpreters that can: "), "{err}");
}
