//! Helpers of the GIL-lane tests: sampled harness runs and bare target
//! processes.

use crate::common;
use gilscope::gil::{
    GilAggregator, GilError, GilInterval, GilNotice, GilReader, GilSampler, GilSamplerConfig,
    GilTick,
};
use gilscope::interp::Mode;
use gilscope::run::protocol::Event;
use gilscope::run::{RunEnd, RunMessage};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub use crate::common::one_at_a_time;

pub fn spin_script() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts/gil_spin.py")
        .display()
        .to_string()
}

/// A worker as the harness reported it.
#[derive(Debug, Clone, Copy)]
pub struct Worker {
    pub tid: u32,
    pub pid: u32,
    pub interp_id: Option<i64>,
}

/// A run sampled by the GIL sampler from spawn to exit.
pub struct SampledRun {
    pub harness: u32,
    pub workers: Vec<Worker>,
    pub ticks: Vec<GilTick>,
    /// From the last `worker_started` to the first `worker_done`.
    pub window: (u64, u64),
}

impl SampledRun {
    /// The ticks of the window (all workers busy), 50 ms trimmed at the start.
    pub fn interval(&self) -> GilInterval {
        let mut agg = GilAggregator::new();
        let (from, to) = (self.window.0 + 50_000_000, self.window.1);
        for t in self.ticks.iter().filter(|t| t.t_ns >= from && t.t_ns <= to) {
            agg.push(t);
        }
        let iv = agg.take().expect("no GIL tick while the workers ran");
        assert!(iv.ticks >= 50, "only {} ticks in the window", iv.ticks);
        iv
    }

    pub fn notices(&self) -> Vec<&GilNotice> {
        self.ticks.iter().flat_map(|t| &t.notices).collect()
    }
}

pub fn sampled_run(mode: Mode, workers: usize, chunks: usize) -> SampledRun {
    sampled_run_with(mode, workers, chunks, "0")
}

pub fn sampled_run_with(mode: Mode, workers: usize, chunks: usize, switch_ms: &str) -> SampledRun {
    let _guard = one_at_a_time();
    // Wait and hand-off fractions move when other work takes the cores:
    // start on a quiet machine when there is one (up to 30 s).
    let busy = common::wait_for_quiet(Duration::from_secs(30));
    eprintln!("{mode} ×{workers}: {busy:.2} cores busy before");
    let chunks = chunks.to_string();
    let spec = common::spec(
        mode,
        workers,
        &spin_script(),
        &[("chunks", &chunks), ("ms", "25"), ("switch_ms", switch_ms)],
    );
    let handle = gilscope::run::start(&spec).unwrap();
    let harness = handle.pid();
    let (tx, rx) = crossbeam_channel::unbounded();
    // Every thread of the harness each tick (3 to 5 of them): more probes,
    // steadier wait fractions.
    let config = GilSamplerConfig {
        max_probes_per_tick: 4,
        ..GilSamplerConfig::default()
    };
    let sampler = GilSampler::start(harness, config, tx).unwrap();
    let mut found = Vec::new();
    let (mut started, mut done) = (0u64, u64::MAX);
    loop {
        match handle
            .messages()
            .recv_timeout(Duration::from_secs(120))
            .unwrap()
        {
            RunMessage::Event { event, .. } => match event {
                Event::WorkerStarted(w) => {
                    started = started.max(w.t_ns);
                    found.push(Worker {
                        tid: u32::try_from(w.native_id).unwrap(),
                        pid: w.pid,
                        interp_id: w.interp_id,
                    });
                }
                Event::WorkerDone(w) => done = done.min(w.t_ns),
                _ => {}
            },
            RunMessage::Finished(outcome) => {
                assert!(
                    matches!(outcome.end, RunEnd::Completed { .. }),
                    "{mode} run failed: {outcome:?}"
                );
                break;
            }
            _ => {}
        }
    }
    let stats = sampler.stop();
    let ticks: Vec<GilTick> = rx.try_iter().collect();
    assert_eq!(found.len(), workers);
    assert!(done > started, "no window where all workers ran");
    eprintln!(
        "{mode}: {} ticks, {} missed, max late {:.1} ms, window {:.0} ms",
        stats.ticks,
        stats.missed,
        stats.max_late_ns as f64 / 1e6,
        (done - started) as f64 / 1e6
    );
    SampledRun {
        harness,
        workers: found,
        ticks,
        window: (started, done),
    }
}

/// Spawns `python` running `code`; killed on drop.
pub struct Target(Child);

impl Target {
    pub fn spawn(python: &Path, code: &str) -> Self {
        Self(Command::new(python).args(["-c", code]).spawn().unwrap())
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Opens a reader once the interpreter is initialised (a main
    /// interpreter in the list).
    pub fn open_initialized(&self) -> GilReader {
        let mut reader = self.open().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while reader.read().unwrap().interpreters.is_empty() {
            assert!(
                Instant::now() < deadline,
                "the interpreter never initialised"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        reader
    }

    /// Opens a reader once the interpreter has mapped its runtime.
    pub fn open(&self) -> Result<GilReader, GilError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match GilReader::open(self.pid()) {
                Err(GilError::NotPython { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                other => return other,
            }
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub const TWO_SPINNERS: &str = "import threading, time\n\
def spin():\n    end = time.time() + 30\n    while time.time() < end: pass\n\
ts = [threading.Thread(target=spin) for _ in range(2)]\n\
[t.start() for t in ts]\n[t.join() for t in ts]\n";

pub const SLEEPER: &str = "import time; time.sleep(30)";

pub const TWO_SUBINTERPRETERS: &str = "import _interpreters, threading\n\
ids = [_interpreters.create('isolated') for _ in range(2)]\n\
code = 'import time\\nend = time.time() + 30\\nwhile time.time() < end: pass'\n\
ts = [threading.Thread(target=_interpreters.exec, args=(i, code)) for i in ids]\n\
[t.start() for t in ts]\n[t.join() for t in ts]\n";

pub fn pyenv(version: &str, exe: &str) -> Option<PathBuf> {
    let p = PathBuf::from(format!("/root/.pyenv/versions/{version}/bin/{exe}"));
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} not installed", p.display());
        None
    }
}
