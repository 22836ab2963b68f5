//! The portable sampler backend (`--sampler portable`, sysinfo) on a real
//! run: per-core use present and close to what the /proc backend reads
//! over the same run at the same time, memory present, no thread states —
//! and every surface says why.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{interp_for, spec};
use gilscope::interp::Mode;
use gilscope::run::RunMessage;
use gilscope::sampler::{Sampler, SamplerBackend, SamplerConfig};
use gilscope::store::metrics::{cpu_use, harness_cpu, memory_use, worker_times};
use gilscope::store::{RunRecord, summarize};
use std::process::Command;
use std::time::Duration;

const GILSCOPE: &str = env!("CARGO_BIN_EXE_gilscope");

/// One run sampled by the portable backend (through the runner) and, at
/// the same time, by a /proc sampler on the same harness pid: two records
/// with the same events.
fn both_backends(mode: Mode, workers: usize) -> (RunRecord, RunRecord) {
    let s = spec(mode, workers, "primes", &[("n", "600000")]);
    let portable_config = SamplerConfig {
        backend: SamplerBackend::Portable,
        gil_hz: 0.0,
        ..SamplerConfig::default()
    };
    let handle = gilscope::run::start_sampled(&s, Some(portable_config)).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let proc_config = SamplerConfig {
        gil_hz: 0.0,
        ..SamplerConfig::default()
    };
    let proc_sampler = Sampler::start(handle.pid(), proc_config, tx).unwrap();
    let interp = interp_for(mode).clone();
    let mut portable = RunRecord::new(s.clone(), interp.clone());
    let mut proc = RunRecord::new(s, interp);
    loop {
        let msg = handle
            .messages()
            .recv_timeout(Duration::from_secs(300))
            .unwrap();
        match &msg {
            RunMessage::Event { event, .. } => proc.eat_event(event.clone()),
            RunMessage::Finished(outcome) => {
                proc_sampler.stop();
                for sample in rx.try_iter() {
                    proc.eat_sample(sample);
                }
                proc.eat_message(RunMessage::Finished(outcome.clone()));
                portable.eat_message(msg);
                break;
            }
            _ => {}
        }
        portable.eat_message(msg);
    }
    assert!(
        portable.result().is_some(),
        "{mode}: {:?}",
        portable.outcome().map(|o| o.headline())
    );
    (portable, proc)
}

#[test]
fn portable_backend_reads_cores_and_memory_like_proc_and_says_threads_are_missing() {
    let _one = common::one_at_a_time();
    let mut last = String::new();
    // The machine is shared: the two readings cover the same window, but a
    // burst of other load at its edges (sysinfo refreshes every ≥ 200 ms)
    // can still split them; three tries.
    for attempt in 1..=3 {
        let (portable, proc) = both_backends(Mode::Ft, 2);
        assert_eq!(portable.sampler_backend(), SamplerBackend::Portable);
        assert_eq!(proc.sampler_backend(), SamplerBackend::Proc);

        // Per-core use: every core has a column, the mean is plausible.
        assert_eq!(
            portable.cores().len(),
            proc.cores().len(),
            "one column per core in both"
        );
        let ours = cpu_use(&portable).mean_busy_cores.expect("portable cores");
        let theirs = cpu_use(&proc).mean_busy_cores.expect("proc cores");
        let cores = proc.cores().len() as f64;
        assert!((0.0..=cores).contains(&ours), "{ours}");
        // sysinfo recomputes at most every 200 ms: far fewer readings
        // than samples, never a repeated value in between.
        let samples = portable.sample_stats().samples;
        let core = portable.cores().values().next().unwrap();
        let readings = portable
            .series()
            .values(core.busy)
            .unwrap()
            .flatten()
            .count() as u64;
        assert!(
            readings >= 3 && readings * 5 <= samples,
            "{readings} core readings in {samples} samples"
        );

        // Memory: the tree's RSS, with its baseline; no PSS.
        let memory = memory_use(&portable);
        assert!(memory.peaks.rss_bytes.is_some_and(|b| b > 10 << 20));
        assert!(memory.baseline.is_some(), "the setup_done poke still works");
        assert_eq!(memory.peaks.pss_bytes, None);

        // Thread states: none, and why — in the record, the summary, the
        // per-worker split and the harness line.
        assert!(portable.thread_tracks().is_empty());
        assert!(!proc.thread_tracks().is_empty());
        let why = portable.thread_states_missing().unwrap();
        assert!(why.contains("--sampler proc"), "{why}");
        assert_eq!(proc.thread_states_missing(), None);
        let summary = summarize(&portable);
        assert_eq!(summary.sampler, Some(SamplerBackend::Portable));
        assert_eq!(summary.thread_states_missing.as_deref(), Some(why));
        assert_eq!(summary.thread_cores, None, "not 0");
        assert!(worker_times(&portable).iter().all(|w| w.split.is_none()));
        let harness = harness_cpu(&portable);
        assert!(harness.missing.unwrap().contains("portable sampler"));

        last = format!(
            "attempt {attempt}: portable {ours:.2} vs proc {theirs:.2} busy cores ({readings} portable readings in {samples} samples)"
        );
        eprintln!("{last}");
        if (ours - theirs).abs() <= 0.25 {
            // The workers kept at least one core busy in both views.
            assert!(ours >= 0.7 && theirs >= 0.7, "{last}");
            return;
        }
    }
    panic!("the backends disagree on per-core use: {last}");
}

#[test]
fn cli_sampler_portable_summary_and_json_say_what_is_missing() {
    let _one = common::one_at_a_time();
    let interp = &interp_for(Mode::Gil).name;
    let args = [
        "run",
        "--workload",
        "primes",
        "--mode",
        "gil",
        "--workers",
        "1",
        "--interp",
        interp,
        "--sampler",
        "portable",
        "--gil-rate",
        "0",
    ];
    let out = Command::new(GILSCOPE).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("threads     states not measured: the portable sampler"),
        "{text}"
    );
    assert!(text.contains("(sysinfo, every ≥ 200 ms)"), "{text}");
    assert!(text.contains("thread states not measured"), "{text}");

    let out = Command::new(GILSCOPE)
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = &json["summary"];
    assert_eq!(summary["sampler"], "portable", "{summary}");
    assert!(
        summary["thread_states_missing"]
            .as_str()
            .unwrap()
            .contains("--sampler proc")
    );
    assert!(summary["mean_busy_cores"].as_f64().is_some(), "{summary}");
    assert!(summary["thread_cores"].is_null(), "{summary}");

    let err = common::usage_error(&[
        "run",
        "--workload",
        "primes",
        "--mode",
        "gil",
        "--sampler",
        "sysinfo",
    ]);
    assert!(
        err.contains("unknown sampler 'sysinfo'; choose one of proc, portable"),
        "{err}"
    );
}

/// A spinning process killed and reaped when the test ends.
struct Spinner(std::process::Child);

impl Drop for Spinner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn attach_with_the_portable_sampler_says_threads_are_not_measured() {
    let _one = common::one_at_a_time();
    let (python, _) = common::managed_313();
    let spinner = Spinner(
        Command::new(&python.path)
            .args([
                "-c",
                "import time\nt = time.time()\nwhile time.time() - t < 20: pass",
            ])
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(300));
    let pid = spinner.0.id().to_string();
    let out = Command::new(GILSCOPE)
        .args(["attach", &pid, "--duration", "1.5", "--sampler", "portable"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("threads     not measured: the portable sampler"),
        "{text}"
    );
    let out = Command::new(GILSCOPE)
        .args([
            "attach",
            &pid,
            "--duration",
            "1.5",
            "--sampler",
            "portable",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["sampler"], "portable", "{}", doc["summary"]);
    assert!(doc["summary"]["thread_states_missing"].is_string());
    assert!(
        doc["summary"]["peak_rss_bytes"]
            .as_u64()
            .is_some_and(|b| b > 0)
    );
    // The spinner is still there: attach never touches its target.
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
}
