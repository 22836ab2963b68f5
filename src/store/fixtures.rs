//! Synthetic interpreters, events, samples and whole runs for the store's
//! unit tests (no processes).

use super::record::RunRecord;
use crate::child::Usage;
use crate::interp::{Interpreter, Mode, ProbeInfo, Source, Status, supported_modes};
use crate::run::protocol::{
    ChunkDone, Event, Hello, RunResult, SetupDone, WorkerDone, WorkerStarted,
};
use crate::run::{RunEnd, RunMessage, RunOutcome, RunSpec};
use crate::sampler::{CoreBusy, CoreSample, MemorySample, Sample, SamplerBackend, ThreadSample};
use std::path::PathBuf;
use std::time::Instant;

pub const MS: u64 = 1_000_000;
/// Start of every synthetic run.
pub const T0: u64 = 1_000 * MS;
pub const HARNESS_PID: u32 = 1000;
pub const MIB: u64 = 1 << 20;

pub fn interpreter(name: &str, version: &str, free_threaded: bool) -> Interpreter {
    let path = PathBuf::from(format!("/opt/py/{name}/bin/python"));
    let info = ProbeInfo {
        implementation: "cpython".into(),
        version: version.into(),
        release_level: "final".into(),
        version_string: format!("{version} (main, synthetic)"),
        executable: Some(path.clone()),
        free_threaded,
        gil_enabled_at_start: !free_threaded,
        ext_suffix: None,
        subinterp_api: Some("_interpreters".into()),
        own_gil_subinterpreters: true,
        own_gil_error: None,
        multiprocessing: true,
    };
    Interpreter {
        name: name.into(),
        path,
        aliases: Vec::new(),
        source: Source::Managed,
        status: Status::Ok {
            build: info.build(),
            modes: supported_modes(&info),
            info: Box::new(info),
        },
    }
}

pub fn spec(interp: &Interpreter, mode: Mode, workers: usize) -> RunSpec {
    RunSpec {
        python: interp.path.clone(),
        interp_name: interp.name.clone(),
        mode,
        workers,
        workload: "primes".into(),
        params: vec![("n".into(), "1000".into())],
        timeout: None,
    }
}

pub fn msg(event: Event) -> RunMessage {
    RunMessage::Event {
        event,
        received: Instant::now(),
    }
}

pub fn hello(t_ns: u64, mode: Mode, workers: usize) -> Event {
    Event::Hello(Hello {
        v: 1,
        t_ns,
        pid: HARNESS_PID,
        python: "3.13.5".into(),
        implementation: "cpython".into(),
        executable: None,
        ft_build: false,
        gil_enabled: true,
        mode: mode.as_str().into(),
        workers,
        workload: "primes".into(),
        params: serde_json::Map::new(),
        subinterp_api: None,
        item_unit: None,
    })
}

pub fn setup_done(t_ns: u64) -> Event {
    Event::SetupDone(SetupDone {
        t_ns,
        chunks: 0,
        items_total: None,
    })
}

pub fn started(t_ns: u64, worker: usize, native_id: u32, pid: u32) -> Event {
    Event::WorkerStarted(WorkerStarted {
        t_ns,
        worker,
        native_id: native_id.into(),
        interp_id: None,
        pid,
    })
}

pub fn chunk(t_ns: u64, worker: usize, chunk: u64, items: u64) -> Event {
    Event::ChunkDone(ChunkDone {
        t_ns,
        worker,
        chunk,
        items,
        chunks: 1,
        start_ns: None,
        busy_ns: None,
    })
}

pub fn done(t_ns: u64, worker: usize) -> Event {
    Event::WorkerDone(WorkerDone { t_ns, worker })
}

pub fn result(t_ns: u64, items: u64, elapsed_s: f64, checksum: &str) -> RunResult {
    RunResult {
        t_ns,
        items,
        elapsed_s,
        checksum: checksum.into(),
        gil_enabled: Some(true),
        start_ns: None,
    }
}

pub fn sample(t_ns: u64) -> Sample {
    Sample {
        t_ns,
        late_ns: 0,
        cost_ns: 0,
        missed: 0,
        baseline: false,
        cores: Vec::new(),
        threads: Vec::new(),
        memory: None,
        load: None,
        sampler: SamplerBackend::Proc,
    }
}

/// A thread sample; `running` splits the rest evenly into waiting/blocked.
pub fn thread(pid: u32, tid: u32, running: Option<f32>, on_cpu_ns: u64) -> ThreadSample {
    ThreadSample {
        pid,
        tid,
        name: format!("t{tid}"),
        state: if running.unwrap_or(0.0) > 0.5 {
            'R'
        } else {
            'S'
        },
        last_cpu: 0,
        utime_ns: on_cpu_ns / (10 * MS) * (10 * MS),
        stime_ns: 0,
        on_cpu_ns: Some(on_cpu_ns),
        runqueue_ns: Some(0),
        running,
        waiting: running.map(|r| (1.0 - r) / 2.0),
        blocked: running.map(|r| (1.0 - r) / 2.0),
    }
}

pub fn memory(rss_bytes: u64, pss_bytes: Option<u64>) -> MemorySample {
    MemorySample {
        rss_bytes,
        pss_bytes,
        uss_bytes: pss_bytes.map(|p| p / 2),
        pss_missing: None,
        processes: 1,
    }
}

pub fn completed(result: RunResult, wall_secs: f64, cpu_secs: f64) -> RunOutcome {
    RunOutcome {
        end: RunEnd::Completed { result },
        wall_secs,
        usage: Some(Usage {
            user_secs: cpu_secs,
            system_secs: 0.0,
            max_rss_bytes: 64 * MIB,
        }),
        exit: "exited with status 0".into(),
        stderr_tail: Vec::new(),
        sampler: None,
        ended_ns: None,
    }
}

/// A whole run, fed message by message in time order.
#[derive(Debug, Clone)]
pub struct Synth {
    pub mode: Mode,
    pub workers: usize,
    /// Each worker runs this many chunks back to back.
    pub chunks_per_worker: u64,
    pub chunk_ns: u64,
    pub items_per_chunk: u64,
    /// Each worker's running fraction while it works.
    pub running: f32,
    pub checksum: &'static str,
    /// CPUs in each sample's per-core list.
    pub cores: u32,
}

impl Synth {
    pub fn new(mode: Mode, workers: usize) -> Self {
        Self {
            mode,
            workers,
            chunks_per_worker: 10,
            chunk_ns: 50 * MS,
            items_per_chunk: 100,
            running: 0.8,
            checksum: "ok",
            cores: 2,
        }
    }

    pub fn setup_ns(&self) -> u64 {
        T0 + 100 * MS
    }

    pub fn started_ns(&self, worker: usize) -> u64 {
        T0 + 110 * MS + worker as u64 * MS
    }

    pub fn work_start_ns(&self) -> u64 {
        T0 + 120 * MS
    }

    pub fn work_end_ns(&self) -> u64 {
        self.work_start_ns() + self.chunks_per_worker * self.chunk_ns
    }

    /// (pid, tid) of worker `k`'s thread.
    pub fn worker_ids(&self, k: usize) -> (u32, u32) {
        match self.mode {
            Mode::Process => (2000 + k as u32, 2000 + k as u32),
            _ => (HARNESS_PID, 1001 + k as u32),
        }
    }

    fn events(&self) -> Vec<Event> {
        let mut events = vec![
            hello(T0, self.mode, self.workers),
            setup_done(self.setup_ns()),
        ];
        for k in 0..self.workers {
            let (pid, tid) = self.worker_ids(k);
            events.push(started(self.started_ns(k), k, tid, pid));
        }
        for j in 0..self.chunks_per_worker {
            for k in 0..self.workers {
                let t = self.work_start_ns() + (j + 1) * self.chunk_ns;
                let index = j * self.workers as u64 + k as u64;
                events.push(chunk(t, k, index, self.items_per_chunk));
            }
        }
        for k in 0..self.workers {
            events.push(done(self.work_end_ns(), k));
        }
        events.push(Event::Result(self.result()));
        events
    }

    pub fn result(&self) -> RunResult {
        let items = self.items_per_chunk * self.chunks_per_worker * self.workers as u64;
        let elapsed_s = (self.work_end_ns() - self.work_start_ns()) as f64 / 1e9;
        RunResult {
            start_ns: Some(self.work_start_ns()),
            ..result(self.work_end_ns() + MS, items, elapsed_s, self.checksum)
        }
    }

    fn sample_at(&self, t: u64, prev: u64, on_cpu: &mut [u64]) -> Sample {
        let mut s = sample(t);
        s.late_ns = t % 7 * 1_000;
        let mut threads = vec![thread(HARNESS_PID, HARNESS_PID, Some(0.0), on_cpu[0])];
        let mut busy = 0.0;
        for k in 0..self.workers {
            // A worker's thread exists (and is sampled) a little before its
            // worker_started event.
            if t + 5 * MS < self.started_ns(k) {
                continue;
            }
            let working = t > self.started_ns(k) && t <= self.work_end_ns();
            let running = if working { self.running } else { 0.0 };
            on_cpu[k + 1] += (f64::from(running) * (t - prev) as f64) as u64;
            busy += running;
            let (pid, tid) = self.worker_ids(k);
            threads.push(thread(pid, tid, Some(running), on_cpu[k + 1]));
        }
        s.threads = threads;
        let per_core = (busy / self.cores.max(1) as f32).min(1.0);
        s.cores = (0..self.cores)
            .map(|cpu| CoreSample {
                cpu,
                busy: Some(CoreBusy::split(
                    per_core * 0.75,
                    per_core * 0.25,
                    1.0 - per_core,
                    0.0,
                )),
            })
            .collect();
        let rss = if t < self.setup_ns() + 5 * MS {
            10 * MIB
        } else {
            (10 + 2 * self.workers as u64) * MIB
        };
        let pss = (t / (20 * MS)).is_multiple_of(5).then_some(rss - MIB);
        s.memory = Some(memory(rss, pss));
        s
    }

    /// The run, with a sample every 20 ms from T0 to after the result.
    pub fn build(&self, interp: &Interpreter) -> RunRecord {
        let mut run = RunRecord::new(spec(interp, self.mode, self.workers), interp.clone());
        let mut events = self.events().into_iter().peekable();
        let mut on_cpu = vec![0u64; self.workers + 1];
        let end = self.work_end_ns() + 40 * MS;
        let mut prev = T0;
        let mut t = T0;
        while t <= end {
            while let Some(e) = events.next_if(|e| e.t_ns() <= t) {
                run.eat_message(msg(e));
            }
            let s = self.sample_at(t, prev, &mut on_cpu);
            run.eat_message(RunMessage::Sample(Box::new(s)));
            prev = t;
            t += 20 * MS;
        }
        for e in events {
            run.eat_message(msg(e));
        }
        let cpu_secs = on_cpu.iter().sum::<u64>() as f64 / 1e9;
        let wall_secs = (end - T0) as f64 / 1e9;
        let outcome = completed(self.result(), wall_secs, cpu_secs);
        run.eat_message(RunMessage::Finished(Box::new(outcome)));
        run
    }
}
