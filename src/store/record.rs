//! [`RunRecord`]: everything about one run — what was asked, on which
//! interpreter, every protocol event, the workload's output, the samples as
//! columns and how it ended. Its summary is not kept here: it is computed
//! where it is shown or saved ([`summarize`](super::summary::summarize);
//! run files carry it for their readers).
//!
//! The UI thread owns records and feeds them with
//! [`RunRecord::eat_message`]; nothing here blocks or does I/O.

use super::gil::GilTrack;
use super::labels::{Labeler, ThreadLabel};
use super::load::LoadTrack;
use super::memory::{MemoryBaseline, MemoryPeaks, MemoryTracker};
use super::output::{OutputLimits, OutputLog};
use super::picture::PictureTrack;
use super::progress::StallTracker;
use super::series::{SeriesLimits, TimeSeries};
use super::service::ServiceTrack;
use crate::interp::Interpreter;
use crate::run::protocol::{
    ChunkDone, Event, GilChanged, Hello, RunResult, SetupDone, WorkerDone, WorkerStarted,
    WorkloadError,
};
use crate::run::{RunEnd, RunMessage, RunOutcome, RunSpec};
use crate::sampler::{Sample, SamplerBackend};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod tracks;

pub use tracks::{CoreColumns, RunColumns, ThreadColumns, ThreadTrack};
use tracks::{new_track, update_track};

/// Worker indexes from events at or past this are not counted as workers
/// (a damaged file must not make metrics allocate per worker without bound).
pub const MAX_WORKERS: usize = 4_096;

/// An attach's /proc history at full resolution: 5 minutes at 50 Hz.
pub const ATTACH_SERIES: SeriesLimits = SeriesLimits {
    max_age_ns: None,
    max_rows: 15_000,
};

/// How much of a run is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLimits {
    pub series: SeriesLimits,
    pub output: OutputLimits,
    /// `chunk_done` events past this many are counted, not kept.
    pub max_chunk_events: usize,
    pub max_protocol_problems: usize,
}

impl Default for RecordLimits {
    fn default() -> Self {
        Self {
            series: SeriesLimits::default(),
            output: OutputLimits::default(),
            max_chunk_events: 200_000,
            max_protocol_problems: 100,
        }
    }
}

/// How the sampler kept up, from the samples themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleStats {
    pub samples: u64,
    pub missed_ticks: u64,
    pub max_late_ns: u64,
    pub total_late_ns: u64,
    pub max_cost_ns: u64,
    pub total_cost_ns: u64,
    /// Samples older than the newest one already stored (not stored).
    pub out_of_order: u64,
}

/// Chunks and items of one worker, from every `chunk_done` (kept or not;
/// one event may stand for several chunks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerTotals {
    pub chunks: u64,
    pub items: u64,
}

/// Everything about one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    spec: RunSpec,
    interpreter: Interpreter,
    limits: RecordLimits,
    /// Every protocol event in arrival order (not strictly `t_ns` order).
    events: Vec<Event>,
    kept_chunk_events: usize,
    dropped_chunk_events: u64,
    worker_totals: BTreeMap<usize, WorkerTotals>,
    protocol_problems: Vec<String>,
    output: OutputLog,
    series: TimeSeries,
    run_columns: RunColumns,
    cores: BTreeMap<u32, CoreColumns>,
    threads: BTreeMap<u32, ThreadTrack>,
    memory: MemoryTracker,
    sample_stats: SampleStats,
    outcome: Option<RunOutcome>,
    /// The exact GIL reader's data (empty for files from before it).
    #[serde(default)]
    gil: GilTrack,
    /// Progress gaps and chunk durations (rebuilt from the events for
    /// files from before it).
    #[serde(default)]
    stall: StallTracker,
    /// What else ran (absent in files from before it).
    #[serde(default)]
    load: LoadTrack,
    /// The sampler backend of the newest sample (what it could measure).
    #[serde(default)]
    sampler: SamplerBackend,
    /// The workload's picture: input and output bands (empty for files
    /// from before it and for workloads without one).
    #[serde(default, skip_serializing_if = "PictureTrack::is_empty")]
    picture: PictureTrack,
    /// A service run's load: requests/s, latency, errors (empty for batch
    /// runs and files from before it).
    #[serde(default, skip_serializing_if = "ServiceTrack::is_empty")]
    service: ServiceTrack,
    #[serde(skip)]
    labeler: Labeler,
    /// The earliest event's time (kept as events come in: `t0_ns` is read
    /// every frame).
    #[serde(skip)]
    first_event_ns: Option<u64>,
}

impl RunRecord {
    pub fn new(spec: RunSpec, interpreter: Interpreter) -> Self {
        Self::with_limits(spec, interpreter, RecordLimits::default())
    }

    pub fn with_limits(spec: RunSpec, interpreter: Interpreter, limits: RecordLimits) -> Self {
        // An attach may last days: its last minutes at full resolution,
        // older ones folded into coarser tiers (bounded memory).
        let attach = spec.workload.starts_with(crate::run::script::ATTACH_PREFIX);
        let mut series = if attach {
            TimeSeries::new(ATTACH_SERIES).with_older(super::series::older::LONG_RUN_TIERS)
        } else {
            TimeSeries::new(limits.series)
        };
        let run_columns = RunColumns {
            rss_bytes: series.column("memory/rss_bytes"),
            pss_bytes: series.column("memory/pss_bytes"),
            uss_bytes: series.column("memory/uss_bytes"),
            processes: series.column("memory/processes"),
            late_ms: series.column("sampler/late_ms"),
            cost_ms: series.column("sampler/cost_ms"),
        };
        Self {
            labeler: Labeler::new(spec.mode),
            first_event_ns: None,
            spec,
            interpreter,
            limits,
            events: Vec::new(),
            kept_chunk_events: 0,
            dropped_chunk_events: 0,
            worker_totals: BTreeMap::new(),
            protocol_problems: Vec::new(),
            output: OutputLog::new(limits.output),
            series,
            run_columns,
            cores: BTreeMap::new(),
            threads: BTreeMap::new(),
            memory: MemoryTracker::default(),
            sample_stats: SampleStats::default(),
            outcome: None,
            gil: if attach {
                GilTrack::long()
            } else {
                GilTrack::default()
            },
            stall: StallTracker::default(),
            load: LoadTrack::default(),
            sampler: SamplerBackend::default(),
            picture: PictureTrack::default(),
            service: ServiceTrack::default(),
        }
    }

    /// Rebuilds what is derived from the events (after loading a file).
    pub(crate) fn rebuild_derived(&mut self) {
        let mut labeler = Labeler::new(self.spec.mode);
        for event in &self.events {
            match event {
                Event::Hello(h) => labeler.on_hello(h),
                Event::WorkerStarted(w) => labeler.on_worker_started(w),
                Event::ThreadName(n) => labeler.on_thread_name(n),
                _ => {}
            }
        }
        self.labeler = labeler;
        self.first_event_ns = self.events.iter().map(Event::t_ns).min();
        if self.stall == StallTracker::default() {
            for event in &self.events {
                self.stall.on_event(event);
            }
        }
    }

    /// Takes in one message of the run.
    pub fn eat_message(&mut self, message: RunMessage) {
        match message {
            RunMessage::Event { event, .. } => self.eat_event(event),
            RunMessage::Output { stream, line } => {
                self.output.push(stream, line, self.events.len());
            }
            RunMessage::ProtocolProblem(problem) => {
                if self.protocol_problems.len() < self.limits.max_protocol_problems {
                    self.protocol_problems.push(problem);
                }
            }
            RunMessage::Sample(sample) => self.eat_sample(*sample),
            RunMessage::Gil(interval) => self.gil.eat(&interval),
            RunMessage::GilNotice(text) => self.gil.notice(text),
            RunMessage::Load(interval) => self.service.eat_interval(*interval),
            RunMessage::LoadDone(report) => self.service.eat_report(*report),
            RunMessage::Finished(outcome) => self.outcome = Some(*outcome),
        }
    }

    /// Takes in one protocol event.
    pub fn eat_event(&mut self, event: Event) {
        let event = match event {
            // kept in the picture track only (its pixels are the bulk)
            Event::Picture(picture) => return self.picture.eat(*picture),
            other => other,
        };
        self.stall.on_event(&event);
        match &event {
            Event::Hello(h) => self.labeler.on_hello(h),
            Event::SetupDone(s) => self.memory.on_setup_done(s.t_ns),
            Event::WorkerStarted(w) => self.labeler.on_worker_started(w),
            Event::ThreadName(n) => self.labeler.on_thread_name(n),
            Event::ChunkDone(c) => {
                let totals = self.worker_totals.entry(c.worker).or_default();
                totals.chunks += c.chunks;
                totals.items += c.items;
                if self.kept_chunk_events >= self.limits.max_chunk_events {
                    self.dropped_chunk_events += 1;
                    return;
                }
                self.kept_chunk_events += 1;
            }
            _ => {}
        }
        let t = event.t_ns();
        self.first_event_ns = Some(self.first_event_ns.map_or(t, |f| f.min(t)));
        self.events.push(event);
    }

    /// Takes in one sampler tick: one row of every column.
    pub fn eat_sample(&mut self, sample: Sample) {
        let series = &mut self.series;
        if series.push_row(sample.t_ns).is_err() {
            self.sample_stats.out_of_order += 1;
            return;
        }
        self.sampler = sample.sampler;
        let stats = &mut self.sample_stats;
        stats.samples += 1;
        stats.missed_ticks += u64::from(sample.missed);
        stats.max_late_ns = stats.max_late_ns.max(sample.late_ns);
        stats.total_late_ns = stats.total_late_ns.saturating_add(sample.late_ns);
        stats.max_cost_ns = stats.max_cost_ns.max(sample.cost_ns);
        stats.total_cost_ns = stats.total_cost_ns.saturating_add(sample.cost_ns);
        if let Some(load) = sample.load {
            self.load.eat(sample.t_ns, load);
        }
        let rc = self.run_columns;
        series.set_last(rc.late_ms, sample.late_ns as f32 / 1e6);
        series.set_last(rc.cost_ms, sample.cost_ns as f32 / 1e6);
        for core in &sample.cores {
            let cols = *self.cores.entry(core.cpu).or_insert_with(|| CoreColumns {
                busy: series.column(&format!("core/{}/busy", core.cpu)),
                user: series.column(&format!("core/{}/user", core.cpu)),
                system: series.column(&format!("core/{}/system", core.cpu)),
            });
            if let Some(busy) = core.busy {
                series.set_last(cols.busy, busy.busy);
                if let Some(user) = busy.user {
                    series.set_last(cols.user, user);
                }
                if let Some(system) = busy.system {
                    series.set_last(cols.system, system);
                }
            }
        }
        for thread in &sample.threads {
            let track = self
                .threads
                .entry(thread.tid)
                .or_insert_with(|| new_track(series, thread, sample.t_ns));
            update_track(track, thread, sample.t_ns);
            let c = track.columns;
            for (col, value) in [
                (c.running, thread.running),
                (c.waiting, thread.waiting),
                (c.blocked, thread.blocked),
            ] {
                if let Some(v) = value {
                    series.set_last(col, v);
                }
            }
            series.set_last(c.state, u32::from(thread.state) as f32);
        }
        if let Some(memory) = &sample.memory {
            series.set_last(rc.rss_bytes, memory.rss_bytes as f32);
            if let Some(pss) = memory.pss_bytes {
                series.set_last(rc.pss_bytes, pss as f32);
            }
            if let Some(uss) = memory.uss_bytes {
                series.set_last(rc.uss_bytes, uss as f32);
            }
            series.set_last(rc.processes, memory.processes as f32);
            self.memory.on_sample(sample.t_ns, memory, sample.baseline);
        }
    }

    pub fn spec(&self) -> &RunSpec {
        &self.spec
    }

    pub fn interpreter(&self) -> &Interpreter {
        &self.interpreter
    }

    pub fn limits(&self) -> &RecordLimits {
        &self.limits
    }

    /// Every kept event, in arrival order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// `chunk_done` events counted but not kept (past the limit).
    pub fn dropped_chunk_events(&self) -> u64 {
        self.dropped_chunk_events
    }

    /// Chunks done so far, all workers, from every `chunk_done`.
    pub fn chunks_done(&self) -> u64 {
        self.worker_totals.values().map(|w| w.chunks).sum()
    }

    /// Chunks and items per worker, from every `chunk_done`.
    pub fn worker_totals(&self) -> &BTreeMap<usize, WorkerTotals> {
        &self.worker_totals
    }

    pub fn protocol_problems(&self) -> &[String] {
        &self.protocol_problems
    }

    pub fn output(&self) -> &OutputLog {
        &self.output
    }

    pub fn series(&self) -> &TimeSeries {
        &self.series
    }

    pub fn run_columns(&self) -> RunColumns {
        self.run_columns
    }

    /// Columns per CPU number, ascending.
    pub fn cores(&self) -> &BTreeMap<u32, CoreColumns> {
        &self.cores
    }

    /// Every thread seen, by TID.
    pub fn thread_tracks(&self) -> &BTreeMap<u32, ThreadTrack> {
        &self.threads
    }

    /// Every thread seen with its label: main, workers, then the others.
    pub fn threads(&self) -> Vec<(ThreadLabel, &ThreadTrack)> {
        let mut threads: Vec<_> = self
            .threads
            .values()
            .map(|t| (self.labeler.label(t.pid, t.tid), t))
            .collect();
        threads.sort_by_key(|&(label, t)| (label, t.tid));
        threads
    }

    /// The label of thread `tid`, labelled with what the events said so far.
    pub fn thread_label(&self, tid: u32) -> Option<ThreadLabel> {
        self.threads
            .get(&tid)
            .map(|t| self.labeler.label(t.pid, t.tid))
    }

    /// The name a person knows thread `tid` by: its Python name when the
    /// run reported it (a script run: `ThreadPoolExecutor-0_1`), else, for
    /// a script or an attach (no harness labels its threads), "main" for a
    /// process's main thread and its OS name (`comm`, which 3.14+ sets to
    /// the first 15 bytes of the Python name); `None` for a workload's
    /// threads, which their [`ThreadLabel`] names.
    pub fn thread_name(&self, tid: u32) -> Option<String> {
        if let Some(name) = self.labeler.python_name(tid) {
            return Some(name.to_string());
        }
        if self.spec.is_workload() {
            return None;
        }
        let track = self.threads.get(&tid)?;
        Some(if track.tid == track.pid {
            "main".to_string()
        } else {
            track.name.clone()
        })
    }

    /// What this record is of: a workload, a script or an attach.
    pub fn kind(&self) -> crate::run::RunKind {
        self.spec.kind()
    }

    /// The thread of worker `worker` (its process's main thread in
    /// `process` mode), once it has started and been sampled.
    pub fn worker_thread(&self, worker: usize) -> Option<&ThreadTrack> {
        self.threads.get(&self.labeler.worker_tid(worker)?)
    }

    /// The kernel state letter of `tid` in `row`.
    pub fn state_at(&self, tid: u32, row: usize) -> Option<char> {
        let code = self
            .series
            .value(self.threads.get(&tid)?.columns.state, row)?;
        char::from_u32(code as u32)
    }

    /// Progress so far, for [`stall`](super::stall::stall).
    pub fn stall_tracker(&self) -> &StallTracker {
        &self.stall
    }

    /// What the exact GIL reader saw.
    /// The machine-wide load readings: what else ran.
    pub fn load_track(&self) -> &LoadTrack {
        &self.load
    }

    /// A service run's load generator: intervals and report.
    pub fn service(&self) -> &ServiceTrack {
        &self.service
    }

    pub fn gil(&self) -> &GilTrack {
        &self.gil
    }

    /// The workload's picture (blur, mandelbrot, …): the input, and the
    /// output's bands with their worker and arrival time.
    pub fn picture(&self) -> &PictureTrack {
        &self.picture
    }

    /// What the workload's items are, for "… /s" (`"pixels"`, `"numbers"`;
    /// the workload's `ITEM_UNIT`): `"items"` when it did not say.
    pub fn unit(&self) -> &str {
        self.hello()
            .and_then(|h| h.item_unit.as_deref())
            .map(String::as_str)
            .filter(|u| !u.trim().is_empty())
            .unwrap_or("items")
    }

    /// How the run ended, in one line, counting in the workload's unit
    /// ("completed: 407 requests in 2.023 s"); `None` while it runs.
    pub fn headline(&self) -> Option<String> {
        let outcome = self.outcome()?;
        Some(match &outcome.end {
            crate::run::RunEnd::Completed { result } if !result.is_script() => format!(
                "completed: {} {} in {:.3} s",
                result.items,
                self.unit(),
                result.elapsed_s
            ),
            _ => outcome.headline(),
        })
    }

    pub fn memory_baseline(&self) -> Option<MemoryBaseline> {
        self.memory.baseline()
    }

    pub fn memory_peaks(&self) -> MemoryPeaks {
        self.memory.peaks()
    }

    pub fn sample_stats(&self) -> SampleStats {
        self.sample_stats
    }

    /// The backend that sampled the run (`proc` for a run not sampled).
    pub fn sampler_backend(&self) -> SamplerBackend {
        self.sampler
    }

    /// Why the run has no per-thread states although it was sampled
    /// (`None` when its backend reads them, or it was not sampled).
    pub fn thread_states_missing(&self) -> Option<&'static str> {
        if self.series.is_empty() {
            return None;
        }
        self.sampler.thread_states_missing()
    }

    /// What else ran during the run, or why that is unknown.
    pub fn what_else(&self) -> Result<super::load::Load, String> {
        self.load.load().map_err(|why| {
            let portable = self
                .sampler
                .load_missing()
                .filter(|_| !self.series.is_empty());
            portable.map_or(why, str::to_string)
        })
    }

    pub fn outcome(&self) -> Option<&RunOutcome> {
        self.outcome.as_ref()
    }

    pub fn is_finished(&self) -> bool {
        self.outcome.is_some()
    }

    pub fn hello(&self) -> Option<&Hello> {
        self.events.iter().find_map(|e| match e {
            Event::Hello(h) => Some(h),
            _ => None,
        })
    }

    pub fn setup_done(&self) -> Option<&SetupDone> {
        self.events.iter().find_map(|e| match e {
            Event::SetupDone(s) => Some(s),
            _ => None,
        })
    }

    pub fn worker_started(&self, worker: usize) -> Option<&WorkerStarted> {
        self.events.iter().find_map(|e| match e {
            Event::WorkerStarted(w) if w.worker == worker => Some(w),
            _ => None,
        })
    }

    pub fn worker_done(&self, worker: usize) -> Option<&WorkerDone> {
        self.events.iter().find_map(|e| match e {
            Event::WorkerDone(w) if w.worker == worker => Some(w),
            _ => None,
        })
    }

    /// The kept `chunk_done` events, in arrival order (one may stand for
    /// several chunks: [`ChunkDone::chunks`]).
    pub fn chunks(&self) -> impl Iterator<Item = &ChunkDone> {
        self.events.iter().filter_map(|e| match e {
            Event::ChunkDone(c) => Some(c),
            _ => None,
        })
    }

    pub fn gil_changes(&self) -> impl Iterator<Item = &GilChanged> {
        self.events.iter().filter_map(|e| match e {
            Event::GilChanged(g) => Some(g),
            _ => None,
        })
    }

    /// The workload's result, from the `result` event or the outcome.
    pub fn result(&self) -> Option<&RunResult> {
        let from_events = self.events.iter().find_map(|e| match e {
            Event::Result(r) => Some(r),
            _ => None,
        });
        from_events.or(match self.outcome.as_ref().map(|o| &o.end) {
            Some(RunEnd::Completed { result }) => Some(result),
            _ => None,
        })
    }

    /// The workload's error, from the `error` event or the outcome.
    pub fn error(&self) -> Option<&WorkloadError> {
        let from_events = self.events.iter().find_map(|e| match e {
            Event::Error(r) => Some(r),
            _ => None,
        });
        from_events.or(match self.outcome.as_ref().map(|o| &o.end) {
            Some(RunEnd::WorkloadFailed { error }) => Some(error),
            _ => None,
        })
    }

    /// Workers the run was asked for or was seen to have (worker indexes
    /// past [`MAX_WORKERS`] in events are not believed).
    pub fn worker_count(&self) -> usize {
        let seen = self.events.iter().filter_map(|e| match e {
            Event::WorkerStarted(w) => Some(w.worker),
            _ => None,
        });
        seen.chain(self.worker_totals.keys().copied())
            .filter(|&k| k < MAX_WORKERS)
            .map(|k| k + 1)
            .fold(self.spec.workers, usize::max)
    }

    /// The origin for plots: the earliest event or sample.
    pub fn t0_ns(&self) -> Option<u64> {
        let first_event = self.first_event_ns;
        match (first_event, self.series.first_t_ns()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When the workers worked: from the first `worker_started` (else
    /// `setup_done`) to the last `worker_done` once all are done (else the
    /// result or error, else the newest sample or event).
    ///
    /// A script or an attach has no workers: its window is the whole time
    /// it was watched (first to last sample, or its `hello` to its end).
    pub fn work_window_ns(&self) -> Option<(u64, u64)> {
        if !self.spec.is_workload() {
            let start = self
                .hello()
                .map(|h| h.t_ns)
                .into_iter()
                .chain(self.series.first_t_ns())
                .min()?;
            let end = self
                .outcome
                .as_ref()
                .and_then(|o| o.ended_ns)
                .or(self.series.last_t_ns())?;
            return (end > start).then_some((start, end));
        }
        let started = self.events.iter().filter_map(|e| match e {
            Event::WorkerStarted(w) => Some(w.t_ns),
            _ => None,
        });
        let start = started.min().or(self.setup_done().map(|s| s.t_ns))?;
        let done: Vec<u64> = self
            .events
            .iter()
            .filter_map(|e| match e {
                Event::WorkerDone(w) => Some(w.t_ns),
                _ => None,
            })
            .collect();
        let all_done = done.len() >= self.worker_count() && !done.is_empty();
        let end = if all_done {
            done.iter().max().copied()
        } else {
            self.result()
                .map(|r| r.t_ns)
                .or(self.error().map(|e| e.t_ns))
                .or(self.series.last_t_ns())
                .or(self.events.iter().map(Event::t_ns).max())
        };
        end.filter(|&end| end >= start).map(|end| (start, end))
    }
}

impl AsRef<RunRecord> for RunRecord {
    fn as_ref(&self) -> &RunRecord {
        self
    }
}

#[cfg(test)]
mod tests;
