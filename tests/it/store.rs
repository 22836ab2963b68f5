//! The run store through its public API: a synthetic process-mode run fed
//! as `RunMessage`s, saved and loaded, measured and compared; and the cost
//! of decimated queries at the size of a long, wide run.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use gilscope::child::Usage;
use gilscope::interp::{Interpreter, Mode, ProbeInfo, Source, Status, supported_modes};
use gilscope::run::protocol::{
    ChunkDone, Event, Hello, RunResult, SetupDone, WorkerDone, WorkerStarted,
};
use gilscope::run::{RunEnd, RunMessage, RunOutcome, RunSpec, Stream};
use gilscope::sampler::{MemorySample, Sample, ThreadSample};
use gilscope::store::metrics::{cpu_use, memory_use, throughput, worker_times};
use gilscope::store::{
    BaselineKind, RunRecord, SeriesLimits, ThreadLabel, TimeSeries, compare, find_baseline,
};
use std::path::PathBuf;
use std::time::Instant;

const MS: u64 = 1_000_000;
const MIB: u64 = 1 << 20;

fn interpreter(name: &str, free_threaded: bool) -> Interpreter {
    let info = ProbeInfo {
        implementation: "cpython".into(),
        version: "3.13.5".into(),
        release_level: "final".into(),
        version_string: "3.13.5 (main)".into(),
        executable: None,
        free_threaded,
        gil_enabled_at_start: !free_threaded,
        ext_suffix: None,
        subinterp_api: None,
        own_gil_subinterpreters: false,
        own_gil_error: None,
        multiprocessing: true,
    };
    Interpreter {
        name: name.into(),
        path: PathBuf::from(format!("/py/{name}")),
        aliases: Vec::new(),
        source: Source::System,
        status: Status::Ok {
            build: info.build(),
            modes: supported_modes(&info),
            info: Box::new(info),
        },
    }
}

fn event(event: Event) -> RunMessage {
    RunMessage::Event {
        event,
        received: Instant::now(),
    }
}

fn thread(pid: u32, tid: u32, running: f32, on_cpu_ns: u64) -> ThreadSample {
    ThreadSample {
        pid,
        tid,
        name: "python".into(),
        state: 'R',
        last_cpu: 0,
        utime_ns: 0,
        stime_ns: 0,
        on_cpu_ns: Some(on_cpu_ns),
        runqueue_ns: Some(0),
        running: Some(running),
        waiting: Some(0.0),
        blocked: Some(1.0 - running),
    }
}

/// A process-mode run of `workers` workers, each doing 10 chunks of 100
/// items in 50 ms while running 90 % of the time; samples every 20 ms.
fn process_run(interp: &Interpreter, workers: usize) -> RunRecord {
    let spec = RunSpec {
        python: interp.path.clone(),
        interp_name: interp.name.clone(),
        mode: Mode::Process,
        workers,
        workload: "primes".into(),
        params: vec![("n".into(), "1000".into())],
        timeout: None,
    };
    let mut run = RunRecord::new(spec, interp.clone());
    let (t0, harness) = (10_000 * MS, 500u32);
    let hello: Hello = serde_json::from_value(serde_json::json!({
        "v": 1, "t_ns": t0, "pid": harness, "python": "3.13.5", "ft_build": false,
        "gil_enabled": true, "mode": "process", "workers": workers, "workload": "primes"
    }))
    .unwrap();
    run.eat_message(event(Event::Hello(hello)));
    run.eat_message(RunMessage::Output {
        stream: Stream::Stdout,
        line: "hello from the workload".into(),
    });
    let mut on_cpu = vec![0u64; workers];
    let start = t0 + 100 * MS;
    let end = start + 500 * MS;
    let mut t = t0;
    while t <= end + 40 * MS {
        if t == start {
            let setup = SetupDone {
                t_ns: t - MS,
                chunks: 10 * workers as u64,
                items_total: None,
            };
            run.eat_message(event(Event::SetupDone(setup)));
        }
        let mut threads = vec![thread(harness, harness, 0.0, 0)];
        for (k, cpu) in on_cpu.iter_mut().enumerate() {
            let pid = 600 + k as u32;
            let working = t > start && t <= end;
            *cpu += if working { 18 * MS } else { 0 };
            threads.push(thread(pid, pid, if working { 0.9 } else { 0.0 }, *cpu));
            threads.push(thread(pid, pid + 50, 0.0, 0));
        }
        let sample = Sample {
            t_ns: t,
            late_ns: 1_000,
            cost_ns: 200_000,
            missed: u32::from(t == start + 200 * MS),
            baseline: false,
            cores: Vec::new(),
            threads,
            memory: Some(MemorySample {
                rss_bytes: if t < start {
                    20 * MIB
                } else {
                    (20 + 9 * workers as u64) * MIB
                },
                pss_bytes: None,
                uss_bytes: None,
                processes: 1 + workers as u32,
                pss_missing: None,
            }),
            load: None,
            sampler: Default::default(),
        };
        run.eat_message(RunMessage::Sample(Box::new(sample)));
        // Events of this instant arrive after the sample that saw them.
        if t == start {
            for k in 0..workers {
                let pid = 600 + k as u32;
                let started = WorkerStarted {
                    t_ns: start,
                    worker: k,
                    native_id: pid.into(),
                    interp_id: None,
                    pid,
                };
                run.eat_message(event(Event::WorkerStarted(started)));
            }
        }
        if t > start && t <= end && (t - start).is_multiple_of(50 * MS) {
            for k in 0..workers {
                let done = ChunkDone {
                    t_ns: t,
                    worker: k,
                    chunk: 0,
                    items: 100,
                    chunks: 1,
                    start_ns: None,
                    busy_ns: None,
                };
                run.eat_message(event(Event::ChunkDone(done)));
            }
        }
        t += 10 * MS;
    }
    for k in 0..workers {
        let done = WorkerDone {
            t_ns: end,
            worker: k,
        };
        run.eat_message(event(Event::WorkerDone(done)));
    }
    let result = RunResult {
        t_ns: end + MS,
        items: 1000 * workers as u64,
        elapsed_s: 0.5,
        checksum: "count=168".into(),
        gil_enabled: Some(true),
        start_ns: None,
    };
    run.eat_message(event(Event::Result(result.clone())));
    let cpu_secs = on_cpu.iter().sum::<u64>() as f64 / 1e9;
    run.eat_message(RunMessage::Finished(Box::new(RunOutcome {
        end: RunEnd::Completed { result },
        wall_secs: 0.7,
        usage: Some(Usage {
            user_secs: cpu_secs,
            system_secs: 0.0,
            max_rss_bytes: 12 * MIB,
        }),
        exit: "exited with status 0".into(),
        stderr_tail: Vec::new(),
        sampler: None,
        ended_ns: None,
    })));
    run
}

#[test]
fn a_process_run_from_messages_to_file_to_metrics() {
    let interp = interpreter("3.13", false);
    let run = process_run(&interp, 2);

    let labels: Vec<String> = run.threads().iter().map(|(l, _)| l.to_string()).collect();
    assert_eq!(
        labels,
        [
            "main",
            "worker 0",
            "worker 1",
            "worker 0/other",
            "worker 1/other"
        ]
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("primes-process-2.json.gz");
    run.save(&path).unwrap();
    let back = RunRecord::load(&path).unwrap();
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&run).unwrap()
    );
    assert_eq!(back.thread_label(650), Some(ThreadLabel::WorkerOther(0)));
    assert_eq!(back.output().lines().count(), 1);

    let summary = gilscope::store::summarize(&back);
    assert_eq!(summary.items_per_sec, Some(4000.0));
    assert_eq!(summary.missed_ticks, 1);
    assert_eq!(summary.baseline_rss_bytes, Some(20 * MIB));
    assert_eq!(summary.overhead_rss_bytes, Some(18 * MIB as i64));

    let memory = memory_use(&back);
    assert_eq!(memory.overhead_rss_per_worker_bytes, Some(9.0 * MIB as f64));
    let cpu = cpu_use(&back);
    assert!((cpu.thread_cores.unwrap() - 1.8).abs() < 1e-4, "{cpu:?}");
    assert_eq!(cpu.mean_busy_cores, None, "no core readings");
    for w in worker_times(&back) {
        let split = w.split.unwrap();
        assert!((split.running - 0.9).abs() < 1e-4, "{w:?}");
    }
    let tp = throughput(&back, 100 * MS).unwrap();
    let items: f64 = tp.total.iter().sum::<f64>() * 0.1;
    assert!((items - 2000.0).abs() < 1e-6);
}

#[test]
fn comparison_across_saved_runs() {
    let interp = interpreter("3.13", false);
    let runs = vec![process_run(&interp, 1), process_run(&interp, 4)];
    let base = find_baseline(&runs[1], &runs, BaselineKind::GilBuild);
    assert!(base.is_none(), "no gil-mode run among them");
    let same = compare(&runs[1], &runs).same_interpreter.unwrap();
    assert!(std::ptr::eq(same.baseline, &runs[0]));
    // Same elapsed, four times the items.
    assert_eq!(same.speedup, Some(4.0));
    assert_eq!(same.efficiency, Some(1.0));
    assert_eq!(same.checksum_matches, Some(true));
}

/// 32 threads × 10 minutes × 50 Hz: 30k rows of ~100 columns. Run with
/// `cargo test --release --test store -- --nocapture decimation_cost`.
#[test]
fn decimation_cost_at_30k_rows_by_100_columns() {
    const ROWS: usize = 30_000;
    const COLUMNS: usize = 100;
    let mut series = TimeSeries::new(SeriesLimits {
        max_age_ns: None,
        max_rows: ROWS,
    });
    let ids: Vec<_> = (0..COLUMNS)
        .map(|c| series.column(&format!("thread/{c}/running")))
        .collect();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let fill = Instant::now();
    for row in 0..ROWS {
        series.push_row(row as u64 * 20 * MS).unwrap();
        for &id in &ids {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if !x.is_multiple_of(50) {
                series.set_last(id, (x >> 40) as f32 / (1u64 << 24) as f32);
            }
        }
    }
    let fill = fill.elapsed();
    let (first, last) = (series.first_t_ns().unwrap(), series.last_t_ns().unwrap());

    // The best of five, so that a busy machine does not blur the numbers.
    let time = |label: &str, from: u64, to: u64, buckets: usize| {
        let mut best = f64::INFINITY;
        let mut points = 0;
        for _ in 0..5 {
            let start = Instant::now();
            points = 0;
            for &id in &ids {
                points += series.decimated(id, from, to, buckets).len();
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "{label}: {buckets} buckets × {COLUMNS} columns: {:.3} ms ({:.1} µs/column, {points} buckets)",
            best * 1e3,
            best * 1e6 / COLUMNS as f64
        );
    };
    println!(
        "fill {ROWS} rows × {COLUMNS} columns: {:.1} ms",
        fill.as_secs_f64() * 1e3
    );
    time("whole run ", first, last, 2_000);
    time("whole run ", first, last, 400);
    time("last minute", last - 60_000 * MS, last, 2_000);

    time("whole run ", first, last, 100);
    time("whole run ", first, last, 1);

    // Reference: the same 2000-bucket view by brute force, visiting every
    // row (one division per row to find its bucket).
    let start = Instant::now();
    let mut points = 0;
    for &id in &ids {
        let span = u128::from(last - first) + 1;
        let mut current = None;
        let mut lo = f32::INFINITY;
        for (t, v) in series.times_ns().iter().zip(series.values(id).unwrap()) {
            let bucket = u128::from(t - first) * 2_000 / span;
            if current != Some(bucket) {
                current = Some(bucket);
                points += 1;
            }
            lo = lo.min(v.unwrap_or(lo));
        }
        assert!(lo >= 0.0);
    }
    println!(
        "reference: brute force over every row, 2000 buckets × {COLUMNS} columns: {:.3} ms ({points} buckets)",
        start.elapsed().as_secs_f64() * 1e3
    );
    // Correctness at this size: one bucket is the whole column's min/max.
    for &id in &ids {
        let whole = series.decimated(id, first, last, 1);
        assert_eq!(whole.len(), 1);
        assert_eq!(whole[0].min_max, series.min_max(id, 0..series.len()));
    }
}
