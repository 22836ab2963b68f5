//! [`GilSampler`]: a thread that reads the GIL of every CPython process in
//! a run's process tree (the harness, process-mode workers, …) at a fixed
//! rate (default 1 kHz), scheduled against deadlines like the /proc
//! sampler: each tick records how late it started and how many slots it
//! skipped, and its own cost.
//!
//! Per tick: every attached process's [`GilSnapshot`] and, round-robin
//! within a budget, what a few of its threads are doing ([`ThreadProbe`]:
//! running, waiting for a GIL, blocked elsewhere). The process tree is
//! re-walked every `tree_every` ticks; a new process is attached when it
//! is CPython 3.13+, refused once (with a [`GilNotice`]) when it is an
//! older or unknown CPython, and retried at the next walk when it is not
//! (yet) Python — a multiprocessing child between fork and exec.

use crate::pace::{Mailbox, StoppableThread, Woken, monotonic_ns};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use serde::{Deserialize, Serialize};

use super::error::GilError;
use super::locate::ElfCache;
use super::reader::{GilReader, GilSnapshot, InterpreterGil};
use super::sched::{SHORT_SLICE, request_short_slice, thread_cpu_ns};
use super::waits::{
    CpuReading, GilSpan, ProbeFacts, ThreadActivity, WaitProbe, WaitTracker, classify,
};
use super::walk::PyThread;
use crate::sampler::{list_threads, process_tree};

/// Lowest and highest rates offered.
pub const MIN_RATE_HZ: f64 = 10.0;
pub const MAX_RATE_HZ: f64 = 5000.0;
/// Consecutive failed reads after which a process is detached (and
/// re-attached at the next tree walk if it is still there).
const MAX_READ_FAILURES: u32 = 3;
/// Tree walks a process may stay unreadable before a notice says why.
const UNREADABLE_WALKS: u32 = 10;

/// How the GIL sampler runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GilSamplerConfig {
    /// Ticks per second (10–5000; default 1000).
    pub rate_hz: f64,
    /// Walk the process tree for new processes every this many ticks.
    pub tree_every: u32,
    /// Re-list each process's threads every this many ticks.
    pub threads_every: u32,
    /// Probe threads for GIL waits (`/proc/.../syscall`).
    pub probe_waits: bool,
    /// At most this many thread probes per tick, round-robin over all
    /// threads (default 1: each probe costs about as much as a whole GIL
    /// read; at 1 kHz with 3 threads each is probed every 3 ms).
    pub max_probes_per_tick: usize,
}

impl Default for GilSamplerConfig {
    fn default() -> Self {
        Self {
            rate_hz: 1000.0,
            tree_every: 100,
            threads_every: 50,
            probe_waits: true,
            max_probes_per_tick: 1,
        }
    }
}

impl GilSamplerConfig {
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.rate_hz.clamp(MIN_RATE_HZ, MAX_RATE_HZ))
    }
}

/// What one thread was doing at one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadProbe {
    pub tid: u32,
    pub activity: ThreadActivity,
}

/// One process at one tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessTick {
    pub pid: u32,
    /// Ascending by interpreter id.
    pub interpreters: Vec<InterpreterGil>,
    /// The threads probed this tick (a round-robin subset).
    pub probes: Vec<ThreadProbe>,
}

/// Attach/refuse/detach events, each sent once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum GilNotice {
    /// Reading this process's GILs from now on.
    Attached {
        pid: u32,
        version: String,
        free_threaded: bool,
        runtime_file: String,
        /// Its pid inside its own pid namespace (a container), where that
        /// differs from `pid`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ns_pid: Option<u32>,
    },
    /// GIL holders of this process could not be identified: its thread
    /// ids (its pid namespace's) matched none of its threads. Their GIL
    /// shares are missing, not given to anyone.
    HoldersUnknown { pid: u32, reason: String },
    /// This process's GILs cannot be read (user-facing reason).
    Refused { pid: u32, reason: String },
    /// Stopped reading this process (it exited or exec'ed).
    Detached { pid: u32, reason: String },
}

/// One tick of the GIL sampler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GilTick {
    /// CLOCK_MONOTONIC ns (the protocol events' clock), before the reads.
    pub t_ns: u64,
    /// How late this tick started after its deadline.
    pub late_ns: u64,
    /// Ticks skipped before this one because the previous overran.
    pub missed: u32,
    /// Time spent reading GILs (snapshots only).
    pub read_ns: u64,
    /// Time of the whole tick (snapshots, probes, tree walks).
    pub cost_ns: u64,
    pub processes: Vec<ProcessTick>,
    pub notices: Vec<GilNotice>,
}

/// What the sampler thread reports when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GilSamplerStats {
    pub ticks: u64,
    pub missed: u64,
    pub max_late_ns: u64,
    /// Reads that failed and were retried or led to a detach.
    pub read_errors: u64,
    /// CPU time of the sampler thread.
    pub cpu_ns: u64,
    pub wall_ns: u64,
}

/// A running GIL sampler; dropping it stops and joins the thread.
pub struct GilSampler {
    thread: StoppableThread<GilSamplerStats>,
}

impl GilSampler {
    /// Samples the tree rooted at `root`, sending ticks to `out`.
    pub fn start(
        root: u32,
        config: GilSamplerConfig,
        out: Sender<GilTick>,
    ) -> std::io::Result<Self> {
        Self::start_with(root, config, move |t| out.send(t).is_ok())
    }

    /// Like [`GilSampler::start`], handing each tick to `sink`, which
    /// returns false once nobody listens. The thread also ends when the
    /// root process is gone.
    pub fn start_with<F>(root: u32, config: GilSamplerConfig, sink: F) -> std::io::Result<Self>
    where
        F: FnMut(GilTick) -> bool + Send + 'static,
    {
        let thread = StoppableThread::spawn("gilscope-gil", move |mailbox| {
            run(root, config, sink, mailbox)
        })?;
        Ok(Self { thread })
    }

    /// Stops the thread and returns its statistics.
    pub fn stop(self) -> GilSamplerStats {
        self.thread.stop()
    }
}

struct Target {
    reader: GilReader,
    threads: Vec<u32>,
    /// Python thread states by OS thread id (walked when the thread list
    /// changes or a probe finds one missing or reused).
    tstates: HashMap<u32, PyThread>,
    tstates_stale: bool,
    /// Threads with no thread state at the last walk (not Python threads,
    /// or not yet): one more walk each, not one per probe.
    without_tstate: HashSet<u32>,
    failures: u32,
    snap: GilSnapshot,
    /// A [`GilNotice::HoldersUnknown`] was sent.
    told_unmapped: bool,
}

impl Target {
    fn new(reader: GilReader, threads: Vec<u32>) -> Self {
        Self {
            reader,
            threads,
            tstates: HashMap::new(),
            tstates_stale: true,
            without_tstate: HashSet::new(),
            failures: 0,
            snap: GilSnapshot::default(),
            told_unmapped: false,
        }
    }

    /// Walks the thread states again if the last walk is stale.
    fn refresh_tstates(&mut self) {
        if !self.tstates_stale {
            return;
        }
        if let Ok(threads) = self.reader.read_threads() {
            self.tstates = threads.into_iter().map(|t| (t.tid, t)).collect();
            self.tstates_stale = false;
        }
    }
}

/// The GIL sampler's state between ticks.
pub(super) struct GilTicks {
    root: u32,
    config: GilSamplerConfig,
    targets: BTreeMap<u32, Target>,
    refused: HashSet<u32>,
    /// Processes not (yet) readable, with how many walks found them so.
    unreadable: HashMap<u32, u32>,
    cache: ElfCache,
    probe: WaitProbe,
    waits: WaitTracker,
    cursor: usize,
    n: u64,
    /// When the previous tick read the GILs.
    last_t_ns: Option<u64>,
    pub(super) read_errors: u64,
}

impl GilTicks {
    pub(super) fn new(root: u32, config: GilSamplerConfig) -> Self {
        Self {
            root,
            config,
            targets: BTreeMap::new(),
            refused: HashSet::new(),
            unreadable: HashMap::new(),
            cache: ElfCache::new(),
            probe: WaitProbe::new(),
            waits: WaitTracker::new(),
            cursor: 0,
            n: 0,
            last_t_ns: None,
            read_errors: 0,
        }
    }

    /// One tick; `None` once the root process is gone.
    pub(super) fn tick(&mut self) -> Option<GilTick> {
        let began = Instant::now();
        let mut notices = Vec::new();
        if self
            .n
            .is_multiple_of(u64::from(self.config.tree_every.max(1)))
        {
            let tree = process_tree(self.root).ok()?;
            self.attach_new(&tree, &mut notices);
            self.detach_missing(&tree, &mut notices);
        }
        if self
            .n
            .is_multiple_of(u64::from(self.config.threads_every.max(1)))
        {
            self.refresh_threads();
        }
        self.n += 1;
        let t_ns = monotonic_ns();
        let read_start = Instant::now();
        self.read_all(&mut notices);
        let read_ns = read_start.elapsed().as_nanos() as u64;
        let weight_ns = self.last_t_ns.map_or(0, |prev| t_ns.saturating_sub(prev));
        self.last_t_ns = Some(t_ns);
        for (&pid, t) in &self.targets {
            self.waits.saw_holders(pid, weight_ns, &t.snap.interpreters);
        }
        // A process whose read failed this tick is missing, not empty.
        let mut processes: Vec<ProcessTick> = self
            .targets
            .iter()
            .filter(|(_, t)| t.failures == 0)
            .map(|(&pid, t)| ProcessTick {
                pid,
                interpreters: t.snap.interpreters.clone(),
                probes: Vec::new(),
            })
            .collect();
        if self.config.probe_waits {
            self.probe_some(&mut processes);
        }
        Some(GilTick {
            t_ns,
            late_ns: 0,
            missed: 0,
            read_ns,
            cost_ns: began.elapsed().as_nanos() as u64,
            processes,
            notices,
        })
    }

    fn attach_new(&mut self, tree: &[u32], notices: &mut Vec<GilNotice>) {
        for &pid in tree {
            if self.targets.contains_key(&pid) || self.refused.contains(&pid) {
                continue;
            }
            match GilReader::open_cached(pid, &mut self.cache) {
                Ok(reader) => {
                    notices.push(GilNotice::Attached {
                        pid,
                        version: reader.version().to_string(),
                        free_threaded: reader.free_threaded(),
                        runtime_file: reader.runtime_file().display().to_string(),
                        ns_pid: reader.ns_pid(),
                    });
                    let threads = list_threads(pid).unwrap_or_default();
                    self.targets.insert(pid, Target::new(reader, threads));
                }
                Err(e) if e.is_refusal() => {
                    self.refused.insert(pid);
                    notices.push(GilNotice::Refused {
                        pid,
                        reason: e.to_string(),
                    });
                }
                // Not Python (yet), or gone: look again at the next walk,
                // and say why once it has lasted (a multiprocessing child
                // is not Python between fork and exec; a process that
                // stays so is worth a line where the run has no GIL data).
                Err(e) if !e.is_gone() => {
                    let walks = self.unreadable.entry(pid).or_default();
                    *walks += 1;
                    if *walks == UNREADABLE_WALKS {
                        notices.push(GilNotice::Refused {
                            pid,
                            reason: e.to_string(),
                        });
                    }
                }
                Err(_) => {}
            }
        }
    }

    fn detach_missing(&mut self, tree: &[u32], notices: &mut Vec<GilNotice>) {
        let gone: Vec<u32> = self
            .targets
            .keys()
            .copied()
            .filter(|p| !tree.contains(p))
            .collect();
        for pid in gone {
            self.detach(pid, "left the process tree".into(), notices);
        }
        self.refused.retain(|p| tree.contains(p));
        self.unreadable.retain(|p, _| tree.contains(p));
    }

    fn detach(&mut self, pid: u32, reason: String, notices: &mut Vec<GilNotice>) {
        if self.targets.remove(&pid).is_some() {
            notices.push(GilNotice::Detached { pid, reason });
        }
        self.probe.retain(|p, _| p != pid);
        self.waits.retain(|p, _| p != pid);
    }

    fn refresh_threads(&mut self) {
        for (&pid, t) in self.targets.iter_mut() {
            if let Ok(threads) = list_threads(pid) {
                if threads != t.threads {
                    t.tstates_stale = true;
                    t.without_tstate.clear();
                    t.reader.threads_changed();
                }
                t.threads = threads;
            }
            if self.config.probe_waits {
                t.refresh_tstates();
            }
        }
        let targets = &self.targets;
        let known = |p: u32, tid: u32| targets.get(&p).is_some_and(|t| t.threads.contains(&tid));
        self.probe.retain(known);
        self.waits.retain(known);
    }

    fn read_all(&mut self, notices: &mut Vec<GilNotice>) {
        let mut drop_now: Vec<(u32, String)> = Vec::new();
        for (&pid, t) in self.targets.iter_mut() {
            match t.reader.read_into(&mut t.snap) {
                Ok(()) => t.failures = 0,
                Err(e) => {
                    self.read_errors += 1;
                    t.snap.interpreters.clear();
                    t.failures += 1;
                    if e.is_gone()
                        || matches!(e, GilError::Changed { .. })
                        || t.failures >= MAX_READ_FAILURES
                    {
                        drop_now.push((pid, e.to_string()));
                    }
                }
            }
        }
        for (pid, reason) in drop_now {
            self.detach(pid, reason, notices);
        }
        for (&pid, t) in self.targets.iter_mut() {
            let unmapped = t.reader.unmapped_holders();
            if unmapped >= 10 && !t.told_unmapped {
                t.told_unmapped = true;
                notices.push(GilNotice::HoldersUnknown {
                    pid,
                    reason: format!(
                        "{unmapped} readings found the GIL held by a thread id of the process's pid namespace (its pid there: {}) that matches none of its threads in /proc/{pid}/task/*/status NSpid; those readings count for no thread",
                        t.reader
                            .ns_pid()
                            .map_or("the same".to_string(), |p| p.to_string())
                    ),
                });
            }
        }
    }

    /// Probes up to `max_probes_per_tick` threads, continuing round-robin
    /// where the previous tick stopped.
    fn probe_some(&mut self, processes: &mut [ProcessTick]) {
        let total: usize = self.targets.values().map(|t| t.threads.len()).sum();
        let budget = self.config.max_probes_per_tick.min(total);
        if budget == 0 {
            return;
        }
        let mut spans: Vec<GilSpan> = Vec::new();
        for k in 0..budget {
            let mut idx = (self.cursor + k) % total;
            for (&pid, t) in self.targets.iter_mut() {
                if idx >= t.threads.len() {
                    idx -= t.threads.len();
                    continue;
                }
                let tid = t.threads[idx];
                // Probes only mean something next to this tick's GILs.
                let Some(out) = processes.iter_mut().find(|p| p.pid == pid) else {
                    break;
                };
                spans.clear();
                if let Some(len) = t.reader.wait_span() {
                    spans.extend(t.snap.interpreters.iter().filter_map(|i| {
                        Some(GilSpan {
                            addr: i.gil_addr,
                            len,
                            gil_of: i.gil_of?,
                        })
                    }));
                }
                if let Ok(sc) = self.probe.probe(pid, tid) {
                    let seen = classify(sc, &spans);
                    let mut facts = ProbeFacts::default();
                    if seen == ThreadActivity::Running {
                        let py = t.tstates.get(&tid).copied();
                        facts.gil_of = py.and_then(|p| {
                            t.snap
                                .interpreters
                                .iter()
                                .find(|i| i.id == p.interp_id)
                                .and_then(|i| i.gil_of)
                        });
                        facts.flags = py.and_then(|p| t.reader.read_flags(p.tstate, tid).ok()?);
                        // Its thread state moved (reused memory), or it has
                        // none yet: walk again at the next refresh, once.
                        if facts.flags.is_none() && t.without_tstate.insert(tid) {
                            t.tstates_stale = true;
                        }
                        facts.cpu =
                            self.probe
                                .schedstat(pid, tid)
                                .map(|(on_cpu_ns, rq)| CpuReading {
                                    t_ns: monotonic_ns(),
                                    on_cpu_ns,
                                    runqueue_ns: rq,
                                });
                    }
                    let activity = self
                        .waits
                        .refine(pid, tid, seen, facts, &t.snap.interpreters);
                    out.probes.push(ThreadProbe { tid, activity });
                }
                break;
            }
        }
        self.cursor = (self.cursor + budget) % total.max(1);
    }
}

/// The sampler thread's body.
fn run(
    root: u32,
    config: GilSamplerConfig,
    mut sink: impl FnMut(GilTick) -> bool,
    mailbox: &Mailbox<()>,
) -> GilSamplerStats {
    request_short_slice(SHORT_SLICE);
    let cpu_start = thread_cpu_ns();
    let interval = config.interval();
    let start = Instant::now();
    let mut stats = GilSamplerStats::default();
    let mut state = GilTicks::new(root, config);
    let mut tick: u64 = 0;
    loop {
        let deadline = start + interval.mul_f64(tick as f64);
        let began = Instant::now();
        let late = began.saturating_duration_since(deadline);
        let Some(mut t) = state.tick() else {
            break;
        };
        let missed =
            u32::try_from(late.as_nanos() / interval.as_nanos().max(1)).unwrap_or(u32::MAX);
        tick += 1 + u64::from(missed);
        t.late_ns = late.as_nanos() as u64;
        t.missed = missed;
        stats.ticks += 1;
        stats.missed += u64::from(missed);
        stats.max_late_ns = stats.max_late_ns.max(t.late_ns);
        if !sink(t) {
            break;
        }
        let next = start + interval.mul_f64(tick as f64);
        if mailbox.wait_until(next) == Woken::Stop {
            break;
        }
    }
    stats.read_errors = state.read_errors;
    stats.cpu_ns = thread_cpu_ns().saturating_sub(cpu_start);
    stats.wall_ns = start.elapsed().as_nanos() as u64;
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_interval_is_clamped() {
        let c = GilSamplerConfig {
            rate_hz: 1e9,
            ..GilSamplerConfig::default()
        };
        assert_eq!(c.interval(), Duration::from_secs_f64(1.0 / MAX_RATE_HZ));
        assert_eq!(
            GilSamplerConfig::default().interval(),
            Duration::from_millis(1)
        );
    }
}
