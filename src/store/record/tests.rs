use super::*;
use crate::interp::Mode;
use crate::run::Stream;
use crate::sampler::{CoreBusy, CoreSample};
use crate::store::fixtures::*;

fn fresh(mode: Mode, workers: usize) -> RunRecord {
    let interp = interpreter("3.13", "3.13.5", false);
    RunRecord::new(spec(&interp, mode, workers), interp)
}

#[test]
fn threads_sampled_before_worker_started_are_labelled_later() {
    let mut run = fresh(Mode::Gil, 2);
    run.eat_event(hello(T0, Mode::Gil, 2));
    let mut s = sample(T0 + 20 * MS);
    s.threads = vec![
        thread(HARNESS_PID, HARNESS_PID, None, 0),
        thread(HARNESS_PID, 1001, None, 0),
        thread(HARNESS_PID, 1002, None, 0),
        thread(HARNESS_PID, 1003, None, 0),
    ];
    run.eat_sample(s);
    assert_eq!(run.thread_label(1001), Some(ThreadLabel::Other));
    run.eat_event(started(T0 + 30 * MS, 1, 1001, HARNESS_PID));
    run.eat_event(started(T0 + 30 * MS, 0, 1002, HARNESS_PID));
    let labels: Vec<(String, u32)> = run
        .threads()
        .iter()
        .map(|(label, t)| (label.to_string(), t.tid))
        .collect();
    assert_eq!(
        labels,
        [
            ("main".to_string(), HARNESS_PID),
            ("worker 0".to_string(), 1002),
            ("worker 1".to_string(), 1001),
            ("other".to_string(), 1003),
        ]
    );
    assert_eq!(run.worker_thread(0).map(|t| t.tid), Some(1002));
    assert_eq!(run.thread_label(4242), None);
}

#[test]
fn process_mode_labels_worker_processes() {
    let run = Synth::new(Mode::Process, 2).build(&interpreter("3.13", "3.13.5", false));
    let labels: Vec<String> = run.threads().iter().map(|(l, _)| l.to_string()).collect();
    assert_eq!(labels, ["main", "worker 0", "worker 1"]);
    assert_eq!(run.worker_thread(1).map(|t| t.pid), Some(2001));
}

#[test]
fn samples_become_columns_with_gaps() {
    let mut run = fresh(Mode::Gil, 1);
    let mut s = sample(T0);
    s.threads = vec![thread(HARNESS_PID, HARNESS_PID, None, 0)];
    s.cores = vec![CoreSample { cpu: 0, busy: None }];
    run.eat_sample(s);
    let mut s = sample(T0 + 20 * MS);
    s.threads = vec![
        thread(HARNESS_PID, HARNESS_PID, Some(0.25), 5 * MS),
        thread(HARNESS_PID, 1001, Some(1.0), 0),
    ];
    s.cores = vec![CoreSample {
        cpu: 0,
        busy: Some(CoreBusy::split(0.5, 0.25, 0.25, 0.0)),
    }];
    s.memory = Some(memory(10 * MIB, None));
    run.eat_sample(s);

    let series = run.series();
    assert_eq!(series.len(), 2);
    let main = run.thread_tracks()[&HARNESS_PID].columns;
    assert_eq!(
        series.value(main.running, 0),
        None,
        "first sample: no fraction"
    );
    assert_eq!(series.value(main.running, 1), Some(0.25));
    assert_eq!(series.value(main.waiting, 1), Some(0.375));
    let late = run.thread_tracks()[&1001].columns;
    assert_eq!(series.value(late.running, 0), None, "thread not there yet");
    assert_eq!(series.value(late.running, 1), Some(1.0));
    assert_eq!(run.state_at(1001, 1), Some('R'));
    assert_eq!(run.state_at(1001, 0), None);
    let core = run.cores()[&0];
    assert_eq!(series.value(core.busy, 0), None, "no tick elapsed is a gap");
    assert_eq!(series.value(core.busy, 1), Some(0.75));
    let rc = run.run_columns();
    assert_eq!(series.value(rc.rss_bytes, 0), None, "no memory reading");
    assert_eq!(series.value(rc.rss_bytes, 1), Some((10 * MIB) as f32));
    assert_eq!(series.value(rc.pss_bytes, 1), None);
    assert_eq!(series.column_name(core.user), Some("core/0/user"));
    assert_eq!(series.column_name(late.state), Some("thread/1001/state"));
}

#[test]
fn out_of_order_samples_are_counted_not_stored() {
    let mut run = fresh(Mode::Gil, 1);
    run.eat_sample(sample(T0 + 20 * MS));
    run.eat_sample(sample(T0));
    assert_eq!(run.series().len(), 1);
    assert_eq!(run.sample_stats().out_of_order, 1);
    assert_eq!(run.sample_stats().samples, 1);
}

#[test]
fn memory_baseline_is_taken_at_setup_done() {
    let run = Synth::new(Mode::Gil, 2).build(&interpreter("3.13", "3.13.5", false));
    let b = run.memory_baseline().unwrap();
    assert_eq!(b.t_ns, T0 + 100 * MS);
    assert_eq!(b.rss_bytes, 10 * MIB);
    assert_eq!(b.pss_bytes, Some(9 * MIB));
    assert!(!b.from_baseline_sample);
    assert_eq!(run.memory_peaks().rss_bytes, Some(14 * MIB));
}

#[test]
fn baseline_sample_from_the_sampler_wins() {
    let mut run = fresh(Mode::Gil, 1);
    let mut s = sample(T0);
    s.memory = Some(memory(10 * MIB, None));
    run.eat_sample(s);
    run.eat_event(setup_done(T0 + 5 * MS));
    let mut s = sample(T0 + 6 * MS);
    s.baseline = true;
    s.memory = Some(memory(11 * MIB, Some(10 * MIB)));
    run.eat_sample(s);
    let b = run.memory_baseline().unwrap();
    assert!(b.from_baseline_sample);
    assert_eq!((b.rss_bytes, b.pss_bytes), (11 * MIB, Some(10 * MIB)));
}

#[test]
fn keeps_every_event_output_and_outcome() {
    let mut run = Synth::new(Mode::Gil, 2).build(&interpreter("3.13", "3.13.5", false));
    run.eat_message(RunMessage::Output {
        stream: Stream::Stderr,
        line: "late line".into(),
    });
    run.eat_message(RunMessage::ProtocolProblem("not JSON".into()));
    // hello, setup_done, 2 started, 20 chunks, 2 done, result.
    assert_eq!(run.events().len(), 27);
    assert_eq!(run.chunks().count(), 20);
    assert_eq!(run.worker_totals()[&1].items, 1000);
    assert_eq!(run.worker_count(), 2);
    assert_eq!(run.hello().map(|h| h.pid), Some(HARNESS_PID));
    assert_eq!(run.result().map(|r| r.items), Some(2000));
    assert!(run.error().is_none());
    assert!(run.is_finished());
    assert_eq!(run.output().lines().next().unwrap().after_events, 27);
    assert_eq!(run.protocol_problems(), ["not JSON"]);
    assert_eq!(run.t0_ns(), Some(T0));
    assert_eq!(run.work_window_ns(), Some((T0 + 110 * MS, T0 + 620 * MS)));
    let summary = crate::store::summarize(&run);
    assert!(summary.completed);
    assert_eq!(summary.items, Some(2000));
    assert_eq!(summary.headline, "completed: 2000 items in 0.500 s");
}

#[test]
fn chunk_events_past_the_limit_are_counted() {
    let interp = interpreter("3.13", "3.13.5", false);
    let limits = RecordLimits {
        max_chunk_events: 3,
        max_protocol_problems: 1,
        ..RecordLimits::default()
    };
    let mut run = RunRecord::with_limits(spec(&interp, Mode::Gil, 1), interp, limits);
    for i in 0..10 {
        run.eat_event(chunk(T0 + i, 0, i, 5));
        run.eat_message(RunMessage::ProtocolProblem(format!("bad {i}")));
    }
    run.eat_event(chunk(T0 + 99, usize::MAX, 99, 1));
    assert_eq!(
        run.worker_count(),
        1,
        "an absurd worker index is not believed"
    );
    assert_eq!(run.chunks().count(), 3);
    assert_eq!(run.dropped_chunk_events(), 8);
    assert_eq!(run.worker_totals()[&0].items, 50);
    assert_eq!(run.protocol_problems().len(), 1);
}

#[test]
fn unfinished_run_has_a_window_up_to_the_newest_sample() {
    let mut run = fresh(Mode::Gil, 2);
    run.eat_event(setup_done(T0));
    run.eat_event(started(T0 + MS, 0, 1001, HARNESS_PID));
    run.eat_sample(sample(T0 + 40 * MS));
    assert_eq!(run.work_window_ns(), Some((T0 + MS, T0 + 40 * MS)));
    let summary = crate::store::summarize(&run);
    assert_eq!(summary.headline, "running");
    assert!(!summary.completed);
    assert_eq!(run.worker_count(), 2);
}
