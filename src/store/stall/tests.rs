use super::*;
use crate::interp::Mode;
use crate::run::protocol::{ChunkDone, Event, SetupDone, WorkloadError};
use crate::store::fixtures::*;

const S: u64 = 1_000 * MS;

fn run_with(chunks_total: u64) -> RunRecord {
    let interp = interpreter("3.13", "3.13.5", false);
    let mut run = RunRecord::new(spec(&interp, Mode::Gil, 2), interp);
    run.eat_event(hello(T0, Mode::Gil, 2));
    run.eat_event(Event::SetupDone(SetupDone {
        t_ns: T0 + 40 * MS,
        chunks: chunks_total,
        items_total: None,
    }));
    run.eat_event(started(T0 + 50 * MS, 0, 1001, HARNESS_PID));
    run.eat_event(started(T0 + 60 * MS, 1, 1002, HARNESS_PID));
    run
}

/// `n` 1 ms chunks per worker from `from`, reported in 50 ms batches.
fn chunks(run: &mut RunRecord, from: u64, n: u64) -> u64 {
    let mut t = from;
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(50);
        for worker in 0..2 {
            run.eat_event(Event::ChunkDone(ChunkDone {
                t_ns: t + batch * MS,
                worker,
                chunk: done + batch,
                items: batch,
                chunks: batch,
                start_ns: Some(t),
                busy_ns: Some(batch * MS),
            }));
        }
        done += batch;
        t += batch * MS;
    }
    t
}

#[test]
fn a_steady_run_is_not_stalled_and_knows_its_chunks() {
    let mut run = run_with(400);
    let end = chunks(&mut run, T0 + 100 * MS, 200);
    let s = stall(&run, Some(end)).unwrap();
    assert!(!s.stalled, "{s:?}");
    let median = s.median_chunk_ms.unwrap();
    assert!((median - 1.0).abs() < 0.03, "{median}");
    assert_eq!(s.bound_s, 2.0, "the 2 s floor: 10 × 1 ms is less");
    assert!(matches!(s.basis, StallBasis::MedianChunk { .. }));
}

#[test]
fn no_chunk_for_longer_than_the_bound_is_a_stall_until_progress_resumes() {
    let mut run = run_with(400);
    let end = chunks(&mut run, T0 + 100 * MS, 100);
    // 1.9 s later: not yet; 2.5 s later: stalled, and still open.
    assert!(!stall(&run, Some(end + 1_900 * MS)).unwrap().stalled);
    let s = stall(&run, Some(end + 2_500 * MS)).unwrap();
    assert!(s.stalled && s.ongoing, "{s:?}");
    assert!((s.longest_gap_s - 2.5).abs() < 1e-9);
    assert_eq!(
        s.headline(),
        "no progress for 2.5 s (chunks usually take 1.0 ms)"
    );
    assert!(s.bound_text().contains("max(10 × median chunk, 2 s)"));
    // Progress resumes: the gap is over but the run did stall.
    let later = chunks(&mut run, end + 3 * S, 100);
    let s = stall(&run, Some(later + 10 * MS)).unwrap();
    assert!(s.stalled && !s.ongoing, "{s:?}");
    // from the last chunk to the end of the next batch (50 ms later)
    assert!((s.longest_gap_s - 3.05).abs() < 1e-9, "{s:?}");
}

#[test]
fn the_bound_grows_with_long_chunks() {
    let mut run = run_with(10);
    for (i, t) in [1u64, 2, 3].iter().enumerate() {
        run.eat_event(Event::ChunkDone(ChunkDone::single(
            0,
            i as u64,
            1,
            T0 + t * S,
            T0 + (t + 1) * S,
        )));
    }
    // Chunks take 1 s: 5 s without progress is fine, 11 s is not.
    let s = stall(&run, Some(T0 + 9 * S)).unwrap();
    assert!(!s.stalled, "{s:?}");
    assert!((s.bound_s - 10.0).abs() < 0.5, "{s:?}");
    assert!(stall(&run, Some(T0 + 16 * S)).unwrap().stalled);
}

#[test]
fn before_the_first_chunk_the_bound_comes_from_setup() {
    let run = run_with(10);
    let s = stall(&run, Some(T0 + 5 * S)).unwrap();
    assert!(!s.stalled, "{s:?}");
    assert_eq!(
        s.basis,
        StallBasis::Setup {
            setup_ms: Some(40.0)
        }
    );
    assert_eq!(s.bound_s, 10.0);
    let s = stall(&run, Some(T0 + 11 * S)).unwrap();
    assert!(s.stalled && s.ongoing, "{s:?}");
    assert!(
        s.headline().contains("no chunk has finished yet"),
        "{}",
        s.headline()
    );
    assert!(
        s.bound_text().contains("setup took 40 ms"),
        "{}",
        s.bound_text()
    );
}

#[test]
fn a_slow_first_chunk_is_judged_by_the_chunks_once_they_are_known() {
    let mut run = run_with(4);
    // init + the first chunk take 12 s, and so does every chunk.
    for k in 0..4u64 {
        run.eat_event(Event::ChunkDone(ChunkDone::single(
            0,
            k,
            1,
            T0 + k * 12 * S,
            T0 + (k + 1) * 12 * S,
        )));
    }
    let s = stall(&run, None).unwrap();
    assert!(!s.stalled, "{s:?}");
}

#[test]
fn the_gap_after_all_chunks_and_after_an_error_is_no_stall() {
    let mut run = run_with(200);
    let end = chunks(&mut run, T0 + 100 * MS, 100);
    // finish() may take long: the work is over.
    assert!(!stall(&run, Some(end + 60 * S)).unwrap().stalled);
    let mut run = run_with(400);
    let end = chunks(&mut run, T0 + 100 * MS, 100);
    run.eat_event(Event::Error(WorkloadError {
        t_ns: end + 10 * MS,
        kind: "ValueError".into(),
        message: "bad".into(),
        traceback: String::new(),
        filename: None,
        lineno: None,
        phase: Some("chunk".into()),
        worker: Some(0),
        chunk: Some(3),
    }));
    assert!(!stall(&run, Some(end + 60 * S)).unwrap().stalled);
}

#[test]
fn a_finished_run_is_judged_at_its_end_and_a_loaded_file_says_the_same() {
    let mut run = run_with(400);
    let end = chunks(&mut run, T0 + 100 * MS, 100);
    let mut outcome = completed(result(0, 0, 0.0, ""), 10.0, 1.0);
    outcome.end = crate::run::RunEnd::TimedOut { after_secs: 10.0 };
    outcome.ended_ns = Some(end + 8 * S);
    run.eat_message(crate::run::RunMessage::Finished(Box::new(outcome)));
    let s = stall(&run, Some(end + 100 * S)).unwrap();
    assert!(s.stalled && s.ongoing, "{s:?}");
    assert!((s.longest_gap_s - 8.0).abs() < 1e-9, "{s:?}");
    let dir = std::env::temp_dir().join(format!("gilscope-stall-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.json");
    run.save(&path).unwrap();
    let loaded = RunRecord::load(&path).unwrap();
    assert_eq!(stall(&loaded, None), Some(s));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn events_without_durations_use_each_workers_pace() {
    let mut run = run_with(100);
    for k in 0..20u64 {
        run.eat_event(chunk(T0 + S + k * 300 * MS, 0, k, 1));
    }
    let median = stall(&run, None).unwrap().median_chunk_ms.unwrap();
    assert!((median - 300.0).abs() < 10.0, "{median}");
}

#[test]
fn durations_text() {
    assert_eq!(duration_text(0.001), "1.0 ms");
    assert_eq!(duration_text(0.25), "250 ms");
    assert_eq!(duration_text(3.21), "3.2 s");
    assert_eq!(duration_text(12.4), "12 s");
}
