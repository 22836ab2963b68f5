//! Stalls and the harness's own cost, on the real interpreters: a workload
//! whose chunk never returns is reported as stalled within the bound, ends
//! by its timeout with no process left, and loses none of the chunks that
//! finished before; coalesced chunk events keep every count.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{group_gone_within, interp_for, live_in_group, run_to_end, spec};
use gilscope::interp::Mode;
use gilscope::pace::monotonic_ns;
use gilscope::run::protocol::Event;
use gilscope::run::{RunEnd, RunMessage};
use gilscope::sampler::SamplerConfig;
use gilscope::store::metrics::harness_cpu;
use gilscope::store::{RunRecord, stall};
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

/// Slack on top of the stall bound for noticing it: the check runs every
/// 100 ms here, and a loaded 2-core machine may delay any thread.
const NOTICE_SLACK_S: f64 = 1.5;

/// A sampled run of `stalls.py` (400 chunks of 1 ms; chunk 200 never
/// returns), judged live every 100 ms as the CLI and the app do.
/// Returns the record and when (s after the gap began) the stall was seen.
fn stalled_run(mode: Mode, timeout_s: u64) -> (RunRecord, f64, u32) {
    let _one = crate::common::one_at_a_time();
    let mut s = spec(mode, 2, &script("stalls.py"), &[]);
    s.timeout = Some(Duration::from_secs(timeout_s));
    let sampling = SamplerConfig {
        gil_hz: 0.0,
        ..SamplerConfig::default()
    };
    let handle = gilscope::run::start_sampled(&s, Some(sampling)).unwrap();
    let pid = handle.pid();
    let mut record = RunRecord::new(s.clone(), interp_for(mode).clone());
    let mut seen_after_s = None;
    loop {
        match handle.messages().recv_timeout(Duration::from_millis(100)) {
            Ok(msg) => {
                let done = matches!(msg, RunMessage::Finished(_));
                record.eat_message(msg);
                if done {
                    break;
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(e) => panic!("{mode}: {e}"),
        }
        if seen_after_s.is_none()
            && !record.is_finished()
            && let Some(st) = stall(&record, Some(monotonic_ns()))
            && st.stalled
            && st.ongoing
        {
            seen_after_s = Some(st.longest_gap_s);
        }
    }
    (
        record,
        seen_after_s.expect("the stall was never seen live"),
        pid,
    )
}

#[test]
fn a_chunk_that_never_returns_is_a_stall_seen_within_the_bound_then_the_timeout_ends_it() {
    for mode in [Mode::Gil, Mode::Subinterp, Mode::Process] {
        let started = Instant::now();
        let (record, seen_after_s, pid) = stalled_run(mode, 7);
        let st = stall(&record, None).unwrap();
        eprintln!("{mode}: seen after {seen_after_s:.2} s; {st:?}");
        // 1 ms chunks: the 2 s floor of the bound.
        assert_eq!(st.bound_s, 2.0, "{mode}: {st:?}");
        let median = st.median_chunk_ms.unwrap();
        assert!((0.9..50.0).contains(&median), "{mode}: median {median} ms");
        assert!(
            seen_after_s >= st.bound_s && seen_after_s <= st.bound_s + NOTICE_SLACK_S,
            "{mode}: seen {seen_after_s} s into the gap, bound {} s",
            st.bound_s
        );
        // The run then ends by its timeout, still stalled.
        assert!(
            matches!(record.outcome().unwrap().end, RunEnd::TimedOut { after_secs } if after_secs == 7.0),
            "{mode}: {:?}",
            record.outcome()
        );
        assert!(st.stalled && st.ongoing, "{mode}: {st:?}");
        assert!(st.longest_gap_s > 3.0, "{mode}: {st:?}");
        assert!(started.elapsed() < Duration::from_secs(40), "{mode}");
        // Every chunk that finished was reported, including those the
        // blocked worker finished just before (held for coalescing): the
        // workload prints a line per finished chunk. (In `subinterp` mode
        // one more chunk may wait queued behind the blocked one.)
        let finished = record
            .output()
            .lines()
            .filter(|l| l.line.starts_with("done "))
            .count() as u64;
        assert_eq!(record.chunks_done(), finished, "{mode}");
        assert!((398..=399).contains(&finished), "{mode}: {finished}");
        let summary = gilscope::store::summarize(&record);
        assert_eq!(summary.stall, Some(st), "{mode}: the summary says the same");
        assert!(
            group_gone_within(pid, Duration::from_secs(5)),
            "{mode}: processes survived: {:?}",
            live_in_group(pid)
        );
    }
}

#[test]
fn the_cli_reports_the_stall_live_in_the_summary_and_in_json() {
    let _beside = common::beside_others();
    let python = interp_for(Mode::Gil).path.clone();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_gilscope"))
            .args(["run", "--mode", "gil", "--workers", "2", "--timeout", "6"])
            .args(["--workload", &script("stalls.py"), "--python"])
            .arg(&python)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&[]);
    assert_eq!(code, Some(5), "timed out: {out}\n{err}");
    assert!(
        err.contains("STALLED: no progress for") && err.contains("at its timeout (6 s)"),
        "live line: {err}"
    );
    assert!(
        out.contains("STALLED: no progress for") && out.contains("(chunks usually take"),
        "{out}"
    );
    assert!(
        out.contains("bound 2.0 s = max(10 × median chunk, 2 s)"),
        "{out}"
    );
    assert!(out.contains("harness     main thread"), "{out}");

    let (code, out, _) = run(&["--json"]);
    assert_eq!(code, Some(5));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let st = &doc["summary"]["stall"];
    assert_eq!(st["stalled"], true, "{st}");
    assert_eq!(st["ongoing"], true, "{st}");
    assert_eq!(st["bound_s"], 2.0, "{st}");
    assert_eq!(st["basis"]["basis"], "median-chunk", "{st}");
    assert!(st["longest_gap_s"].as_f64().unwrap() > 3.0, "{st}");
    let h = &doc["summary"]["harness_cpu"];
    assert!(h["core_share"].as_f64().unwrap() >= 0.0, "{h}");
    assert!(h["missing"].is_null(), "{h}");

    // Unsampled: the harness's CPU is missing, with the reason.
    let (_, out, _) = run(&["--json", "--no-sample"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let h = &doc["summary"]["harness_cpu"];
    assert!(h["core_share"].is_null(), "{h}");
    assert_eq!(h["missing"], "the run was not sampled", "{h}");
}

#[test]
fn a_steady_run_is_no_stall() {
    let _beside = common::beside_others();
    let record = common::sampled_record(&spec(Mode::Gil, 2, "primes", &[("n", "100000")]));
    let st = stall(&record, None).unwrap();
    assert!(!st.stalled, "{st:?}");
    assert!(!st.ongoing, "{st:?}");
    let cpu = harness_cpu(&record);
    let share = cpu.core_share.unwrap();
    assert!((0.0..0.5).contains(&share), "{cpu:?}");
}

/// The chunk events of a run: (events, chunks they stand for, items).
fn chunk_events(events: &[Event]) -> (usize, u64, u64) {
    events.iter().fold((0, 0, 0), |(n, c, i), e| match e {
        Event::ChunkDone(d) => (n + 1, c + d.chunks, i + d.items),
        _ => (n, c, i),
    })
}

#[test]
fn coalesced_chunk_events_keep_every_count_and_the_checksum() {
    let _beside = common::beside_others();
    for mode in [Mode::Gil, Mode::Ft, Mode::Subinterp, Mode::Process] {
        let s = spec(mode, 4, "sleep", &[("ms", "1"), ("count", "2000")]);
        let fin = run_to_end(&s);
        let (events, chunks, items) = chunk_events(&fin.events);
        assert_eq!((chunks, items), (2000, 2000), "{mode}");
        // 4 workers × ~1 ms chunks for ≥ 0.5 s, in 50 ms batches: far
        // fewer events than chunks.
        assert!(events < 1000, "{mode}: {events} events for 2000 chunks");
        let busy_ns: u64 = fin
            .events
            .iter()
            .filter_map(|e| match e {
                Event::ChunkDone(d) => Some(d.busy_ns.unwrap()),
                _ => None,
            })
            .sum();
        // Σ busy time ≈ 2000 × (1 ms sleep + overhead).
        assert!(
            (1.9e9..20e9).contains(&(busy_ns as f64)),
            "{mode}: busy {busy_ns} ns"
        );
        assert_eq!(
            fin.checksum(),
            "count=2000 weighted=3998667668000",
            "{mode}"
        );
    }
}
