//! The load generator as a server engineer would check it: a paused server
//! shows in the open-loop tail and hides in the closed loop, timeouts enter
//! the tail, a two-rate sweep finds a knee between its rates, and wrk — an
//! independent HTTP load tool — agrees with the closed-loop throughput.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use crate::common::{self, one_at_a_time};
use crate::service::{service_spec, summary};
use gilscope::interp::{Interpreter, Mode};
use gilscope::loadgen::CLOSED_LOOP_NOTE;
use gilscope::run::protocol::Event;
use gilscope::run::{RunEnd, RunMessage};
use gilscope::store::{RunRecord, ServiceSummary};
use std::time::{Duration, Instant};

/// Runs the echo service (gil ×1) for 4 s under `load` and, 1 s into the
/// measured window, stops the server with SIGSTOP for 1 s. Returns the
/// summary and how long the server really was stopped.
fn paused_run(interp: &Interpreter, load: (&str, &str)) -> (ServiceSummary, Duration) {
    let spec = service_spec(
        interp,
        Mode::Gil,
        1,
        &[
            ("handler", "echo"),
            ("load.duration", "4"),
            ("load.warmup", "0.5"),
            load,
        ],
    );
    let handle = gilscope::run::start(&spec).unwrap();
    let pid = handle.pid() as libc::pid_t;
    let mut record = RunRecord::new(spec.clone(), interp.clone());
    let mut intervals = 0;
    let mut pauser = None;
    loop {
        let msg = handle
            .messages()
            .recv_timeout(Duration::from_secs(60))
            .unwrap();
        if matches!(msg, RunMessage::Load(_)) {
            intervals += 1;
            // intervals are 250 ms of the measured window
            if intervals == 4 && pauser.is_none() {
                pauser = Some(std::thread::spawn(move || {
                    let t0 = Instant::now();
                    // SAFETY: signals to the run's own harness process.
                    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
                    std::thread::sleep(Duration::from_secs(1));
                    let stopped = t0.elapsed();
                    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
                    stopped
                }));
            }
        }
        let done = matches!(msg, RunMessage::Finished(_));
        record.eat_message(msg);
        if done {
            break;
        }
    }
    let stopped = pauser.expect("the window began").join().unwrap();
    assert!(
        matches!(record.outcome().unwrap().end, RunEnd::Completed { .. }),
        "{:?}",
        record.outcome()
    );
    (summary(&record), stopped)
}

#[test]
fn a_paused_server_shows_in_the_open_loop_tail_and_the_closed_loop_hides_it() {
    let _one = one_at_a_time();
    let interp = &common::managed_313().0;
    let (open, stopped) = paused_run(interp, ("load.rps", "100"));
    assert!(stopped >= Duration::from_secs(1), "{stopped:?}");
    assert!(
        !open.closed_loop && !open.load.contains("closed loop"),
        "{open:?}"
    );
    assert_eq!(open.failures.total(), 0, "{open:?}");
    // ~100 of ~400 requests were due while it was stopped, waiting up to 1 s
    let p99 = open.p99_all_ms().unwrap();
    assert!(
        p99 >= 500.0,
        "open loop p99 {p99:.1} ms hides a 1 s pause: {open:?}"
    );
    assert!(open.lateness.is_some_and(|l| l.requests > 300), "{open:?}");

    let (closed, stopped) = paused_run(interp, ("load.clients", "8"));
    assert!(stopped >= Duration::from_secs(1), "{stopped:?}");
    // the pause happened to it too: 8 requests waited through it …
    let max = closed.latency_all.max_ms.unwrap();
    assert!(max >= 900.0, "closed loop max {max:.1} ms: {closed:?}");
    // … but with no one sending meanwhile, its p99 does not show it
    let p99 = closed.p99_all_ms().unwrap();
    assert!(p99 < 500.0, "closed loop p99 {p99:.1} ms: {closed:?}");
    // and it says what its latency leaves out
    assert!(closed.closed_loop, "{closed:?}");
    assert!(closed.load.contains(CLOSED_LOOP_NOTE), "{}", closed.load);
    assert_eq!(closed.lateness, None, "a closed loop keeps no schedule");
}

#[test]
fn an_overloaded_server_puts_its_timeouts_in_the_tail() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("overload.json.gz");
    let interp = &common::managed_313().0;
    // ~25 ms a request on one worker: ~40 req/s against 150 offered, 32
    // connections deep — an answer waits longer than the 0.3 s timeout
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args([
            "run",
            "-w",
            "service",
            "-m",
            "gil",
            "-n",
            "1",
            "--no-sample",
        ])
        .args(["--python", interp.path.to_str().unwrap()])
        .args(["-p", "handler=python", "-p", "rounds=40"])
        .args([
            "--rps",
            "150",
            "--duration",
            "2",
            "--request-timeout",
            "0.3",
        ])
        .args(["--warmup", "0.2", "--record"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let s = RunRecord::load(&file)
        .unwrap()
        .service()
        .summary()
        .unwrap_or_else(|| panic!("no load report: {text}"));
    assert!(
        s.failures.timeouts > 0,
        "not overloaded past its timeout: {s:?}"
    );
    // every request of the window is in the tail, the failed ones included
    assert_eq!(s.requests_all, s.requests_ok + s.failures.total(), "{s:?}");
    let all = s.p99_all_ms().unwrap();
    assert!(
        all >= 300.0,
        "p99 over all {all:.1} ms under the timeout: {s:?}"
    );
    // the summary line says so, with the counts
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("latency ") && l.contains("over all"))
        .unwrap_or_else(|| panic!("no latency line in:\n{text}"));
    for want in [
        format!("over all {} requests", s.requests_all),
        format!("{} timeouts", s.failures.timeouts),
        format!("over the {} correct answers", s.requests_ok),
        "at the time given up on".to_string(),
    ] {
        assert!(line.contains(&want), "no {want:?} in {line:?}");
    }
    assert!(text.contains("whole-answer timeout 0.3 s"), "{text}");
}

#[test]
fn a_two_rate_sweep_finds_a_knee_between_its_rates() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("knee");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args(["sweep", "-w", "service", "--modes", "gil", "--workers", "1"])
        .args(["--interp", "3.13", "--rps", "20,3000"])
        .args(["-p", "handler=python", "-p", "rounds=4"])
        .args(["--duration", "1", "--warmup", "0.2", "--p99-target", "50ms"])
        .args(["--knee-resolution", "20", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        run.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let file = gilscope::sweep::SweepFile::load(&out).unwrap();
    let records = file.load_runs(&out).unwrap();
    let agg = gilscope::sweep::service_verdict::aggregate_service(&records, 50.0);
    let curve = &agg.curves[0];
    let (knee, upper) = (curve.knee_rps.unwrap(), curve.knee_upper_rps.unwrap());
    // the grid's two rates bracketed it; the search ran between them
    assert!(records.len() > 2, "{text}");
    assert!(
        knee > 20.0 && upper < 3000.0,
        "knee {knee} .. {upper}: {text}"
    );
    assert!(
        (upper - knee) / knee <= 0.20 || records.len() >= 2 + gilscope::sweep::knee::MAX_KNEE_STEPS,
        "knee {knee} .. {upper} wider than 20 %: {text}"
    );
    let line = text
        .lines()
        .find(|l| l.contains("req/s (resolution"))
        .unwrap_or_else(|| panic!("no knee with its resolution in:\n{text}"));
    assert!(
        line.contains(&format!(
            "knee {knee:.0} req/s (resolution {:.0} req/s",
            upper - knee
        )),
        "{line}"
    );
}

/// `wrk`'s requests/s against `port` (8 connections, 2 threads, 3 s), with
/// the same request as gilscope's key 7.
fn wrk_rps(wrk: &str, port: u16, dir: &std::path::Path) -> f64 {
    let script = dir.join("post.lua");
    std::fs::write(
        &script,
        "wrk.method = \"POST\"\nwrk.body = \"gilscope request 7\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(wrk)
        .args(["-t2", "-c8", "-d3s", "-s"])
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("Non-2xx"), "wrk got errors: {text}");
    assert!(!text.contains("Socket errors"), "wrk got errors: {text}");
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output: {text}"))
}

/// The same server as [`saturated`], loaded by wrk: gilscope serves it at
/// 1 request/s (its load is negligible) while wrk runs.
fn wrk_against_gilscope_server(interp: &Interpreter, wrk: &str, dir: &std::path::Path) -> f64 {
    let spec = service_spec(
        interp,
        Mode::Gil,
        2,
        &[
            ("handler", "python"),
            ("rounds", "8"),
            ("load.rps", "1"),
            ("load.duration", "60"),
            ("load.warmup", "0"),
        ],
    );
    let handle = gilscope::run::start(&spec).unwrap();
    let mut port = None;
    let rps = loop {
        match handle
            .messages()
            .recv_timeout(Duration::from_secs(60))
            .unwrap()
        {
            RunMessage::Event {
                event: Event::Listening(l),
                ..
            } => port = Some(l.port),
            RunMessage::Load(_) => break wrk_rps(wrk, port.unwrap(), dir),
            RunMessage::Finished(o) => panic!("the server ended first: {o:?}"),
            _ => {}
        }
    };
    handle.stop();
    rps
}

/// gilscope's closed loop, 8 clients, 3 s, on the same server.
fn gilscope_closed_rps(interp: &Interpreter) -> f64 {
    let spec = service_spec(
        interp,
        Mode::Gil,
        2,
        &[
            ("handler", "python"),
            ("rounds", "8"),
            ("load.clients", "8"),
            ("load.duration", "3"),
        ],
    );
    let record = crate::service::service_record(&spec, interp);
    let s = summary(&record);
    assert!(s.all_correct, "{s:?}");
    s.achieved_rps
}

/// wrk's throughput may differ from gilscope's closed loop by this share.
const WRK_TOLERANCE: f64 = 0.25;

#[test]
fn wrk_agrees_with_the_closed_loop_throughput() {
    let _one = one_at_a_time();
    let Some(wrk) = ["/usr/bin/wrk", "/usr/local/bin/wrk"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        eprintln!(
            "SKIPPED: wrk is not installed, so the independent check cannot run (scripts/install-deps installs Debian's wrk)"
        );
        return;
    };
    let interp = &common::managed_313().0;
    let dir = tempfile::tempdir().unwrap();
    let mut ratios = Vec::new();
    let mut tries = Vec::new();
    for _ in 0..3 {
        common::wait_for_quiet(Duration::from_secs(30));
        let ours = gilscope_closed_rps(interp);
        let theirs = wrk_against_gilscope_server(interp, wrk, dir.path());
        ratios.push(theirs / ours);
        tries.push(format!("wrk {theirs:.1} req/s vs gilscope {ours:.1} req/s"));
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[1];
    assert!(
        (median - 1.0).abs() <= WRK_TOLERANCE,
        "wrk / gilscope closed loop = {median:.2} (median of 3), over ±{:.0} %: {tries:#?}",
        WRK_TOLERANCE * 100.0
    );
    eprintln!("wrk / gilscope: {ratios:.2?} — {tries:?}");
}
