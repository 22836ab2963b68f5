use super::*;
use crate::interp::Mode;
use crate::store::fixtures::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn synth_run(mode: Mode, workers: usize) -> RunRecord {
    Synth::new(mode, workers).build(&interpreter("3.13", "3.13.5", false))
}

#[test]
fn throughput_buckets_add_up_to_the_items() {
    let run = synth_run(Mode::Gil, 2);
    let tp = throughput(&run, 100 * MS).unwrap();
    assert_eq!(tp.t0_ns, T0 + 110 * MS, "from the first worker_started");
    assert_eq!(tp.per_worker.len(), 2);
    let bucket_secs = tp.bucket_ns as f64 / 1e9;
    let items: f64 = tp.total.iter().map(|r| r * bucket_secs).sum();
    assert!(close(items, 2000.0, 1e-6), "{items}");
    // Chunks complete at 170, 220, …, 620 ms; buckets start at 110 ms.
    // A full bucket holds two 100-item chunks per worker: 2000 items/s each.
    assert!(close(tp.per_worker[0][1], 2000.0, 1e-9), "{tp:?}");
    assert!(close(tp.total[1], 4000.0, 1e-9));
    assert!(
        close(tp.per_worker[1][0], 1000.0, 1e-9),
        "one chunk in the first"
    );
    // Too-narrow buckets are widened to at most MAX_THROUGHPUT_BUCKETS.
    let fine = throughput(&run, 1).unwrap();
    assert!(fine.total.len() <= MAX_THROUGHPUT_BUCKETS);
}

#[test]
fn no_chunks_no_throughput() {
    let interp = interpreter("3.13", "3.13.5", false);
    let run = RunRecord::new(spec(&interp, Mode::Gil, 1), interp);
    assert!(throughput(&run, MS).is_none());
    assert!(items_per_sec(&run).is_none());
}

#[test]
fn items_per_sec_from_result_or_chunks_so_far() {
    let run = synth_run(Mode::Gil, 2);
    assert!(close(items_per_sec(&run).unwrap(), 4000.0, 1e-6));
    let interp = interpreter("3.13", "3.13.5", false);
    let mut live = RunRecord::new(spec(&interp, Mode::Gil, 1), interp);
    live.eat_event(started(T0, 0, 1001, HARNESS_PID));
    live.eat_event(chunk(T0 + 500 * MS, 0, 0, 100));
    live.eat_event(chunk(T0 + 1000 * MS, 0, 1, 100));
    assert!(close(items_per_sec(&live).unwrap(), 200.0, 1e-9));
}

#[test]
fn cpu_use_three_ways() {
    let run = synth_run(Mode::Ft, 2);
    let cpu = cpu_use(&run);
    // Two workers at 0.8 over the whole window, spread on two cores.
    assert!(close(cpu.thread_cores.unwrap(), 1.6, 1e-5), "{cpu:?}");
    assert!(close(cpu.mean_busy_cores.unwrap(), 1.6, 1e-5), "{cpu:?}");
    let outcome = run.outcome().unwrap();
    let expected = outcome.usage.unwrap().cpu_secs() / outcome.wall_secs;
    assert!(close(cpu.rusage_cores.unwrap(), expected, 1e-12));
}

#[test]
fn cpu_use_without_samples_is_unknown_not_zero() {
    let interp = interpreter("3.13", "3.13.5", false);
    let mut run = RunRecord::new(spec(&interp, Mode::Gil, 1), interp);
    run.eat_event(started(T0, 0, 1001, HARNESS_PID));
    run.eat_event(done(T0 + MS, 0));
    let cpu = cpu_use(&run);
    assert_eq!(cpu.mean_busy_cores, None);
    assert_eq!(cpu.thread_cores, None);
    assert_eq!(cpu.rusage_cores, None);
    let times = worker_times(&run);
    assert_eq!(times.len(), 1);
    assert_eq!(times[0].split, None);
    assert_eq!(threads_on_cpu_ns(&run), None);
    let memory = memory_use(&run);
    assert_eq!(memory.overhead_rss_bytes, None);
}

#[test]
fn memory_overhead_against_the_baseline() {
    let run = synth_run(Mode::Process, 2);
    let m = memory_use(&run);
    assert_eq!(m.baseline.map(|b| b.rss_bytes), Some(10 * MIB));
    assert_eq!(m.peaks.rss_bytes, Some(14 * MIB));
    assert_eq!(m.overhead_rss_bytes, Some(4 * MIB as i64));
    assert_eq!(m.overhead_rss_per_worker_bytes, Some(2.0 * MIB as f64));
    assert_eq!(m.overhead_pss_bytes, Some(4 * MIB as i64));
    assert_eq!(m.overhead_uss_bytes, Some(2 * MIB as i64));
    assert_eq!(m.rusage_max_rss_bytes, Some(64 * MIB));
}

#[test]
fn worker_time_split_between_start_and_done() {
    let run = synth_run(Mode::Subinterp, 3);
    let times = worker_times(&run);
    assert_eq!(times.len(), 3);
    for w in &times {
        let split = w.split.unwrap();
        assert!(close(split.running, 0.8, 1e-5), "{w:?}");
        assert!(close(split.waiting, 0.1, 1e-5), "{w:?}");
        assert!(close(split.blocked, 0.1, 1e-5), "{w:?}");
        assert!(split.measured_ns >= 480 * MS, "{w:?}");
        assert_eq!(w.tid, Some(1001 + w.worker as u32));
    }
}

#[test]
fn threads_on_cpu_matches_rusage() {
    let run = synth_run(Mode::Gil, 4);
    let on_cpu = threads_on_cpu_ns(&run).unwrap() as f64 / 1e9;
    let rusage = run.outcome().unwrap().usage.unwrap().cpu_secs();
    assert!(close(on_cpu, rusage, 1e-6), "{on_cpu} vs {rusage}");
    let ticks = threads_cpu_time_ns(&run) as f64 / 1e9;
    assert!(ticks <= on_cpu && on_cpu - ticks < 0.01 * 5.0, "{ticks}");
}

#[test]
fn sampler_lateness() {
    let run = synth_run(Mode::Gil, 1);
    let s = sampler_use(&run);
    assert_eq!(s.samples, run.series().len() as u64);
    assert_eq!(s.max_late_ns, 6_000);
    assert_eq!(s.missed_ticks, 0);
    assert!(s.mean_late_ns.unwrap() > 0.0);
    assert_eq!(s.reported, None);
}

#[test]
fn a_reading_after_skipped_rows_covers_the_whole_span_since_the_previous_one() {
    use crate::store::series::{SeriesLimits, TimeSeries};
    let mut s = TimeSeries::new(SeriesLimits::default());
    let every = s.column("every");
    let sparse = s.column("sparse");
    // 20 ms rows; `sparse` is read every 4th row (a sleeping thread).
    for row in 0..17u64 {
        s.push_row(row * 20 * MS).unwrap();
        s.set_last(every, 0.25);
        if row % 4 == 0 {
            s.set_last(sparse, 0.25);
        }
    }
    let (sum_e, w_e) = weighted_sum(&s, every, 0..17).unwrap();
    let (sum_s, w_s) = weighted_sum(&s, sparse, 0..17).unwrap();
    // Both cover rows 1..17 (320 ms), not just the rows with a value.
    assert_eq!(w_e, 320 * MS);
    assert_eq!(w_s, 320 * MS);
    assert!(close(sum_s, sum_e, 1.0));
    // A range starting mid-span reaches back no further than its start.
    let (_, w) = weighted_sum(&s, sparse, 6..17).unwrap();
    assert_eq!(w, (16 - 5) * 20 * MS);
}
