//! The sampler thread: samples a run's process tree against a deadline
//! schedule (not `sleep(interval)`), records how late each sample was and
//! how many ticks it missed, and sends owned [`Sample`]s on a channel.

use super::backend::SampleSource;
pub use super::config::{
    MAX_RATE_HZ, MIN_RATE_HZ, Poke, STEADY_SMAPS_EVERY, SamplerBackend, SamplerConfig,
};
use super::portable::Portable;
use super::sample::{CoreBusy, CoreSample, MemorySample, PssMissing, Sample, ThreadSample};
use super::{
    CpuStat, CpuStatReader, LoadScanner, MemoryPass, Pid, TaskId, ThreadPass, ThreadSet,
    core_fractions, read_smaps_rollup, ticks_to_ns,
};
use crate::pace::{Mailbox, StoppableThread, Woken, request_short_slice};
pub use crate::pace::{monotonic_ns, thread_cpu_ns};
use crossbeam_channel::Sender;
use rustc_hash::FxHashMap;
use std::time::{Duration, Instant};

/// What the sampler thread reports when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SamplerStats {
    pub samples: u64,
    /// Ticks skipped because a sample overran its slot.
    pub missed: u64,
    pub max_late_ns: u64,
    /// CPU time the sampler thread itself used.
    pub cpu_ns: u64,
    pub wall_ns: u64,
}

/// A running sampler; dropping it stops and joins the thread.
pub struct Sampler {
    thread: StoppableThread<SamplerStats, Poke>,
}

/// Asks a running sampler for an extra sample (`poke(reason)`: false if it
/// has stopped); cheap to clone and to call from any thread.
pub type Poker = crate::pace::Poker<Poke>;

impl Sampler {
    /// Starts sampling the tree rooted at `root`, sending to `out`.
    pub fn start(root: Pid, config: SamplerConfig, out: Sender<Sample>) -> std::io::Result<Self> {
        Self::start_with(root, config, move |sample| out.send(sample).is_ok())
    }

    /// Like [`Sampler::start`], handing each sample to `sink`, which returns
    /// false once nobody listens any more.
    pub fn start_with<F>(root: Pid, config: SamplerConfig, sink: F) -> std::io::Result<Self>
    where
        F: FnMut(Sample) -> bool + Send + 'static,
    {
        let thread = match config.backend {
            SamplerBackend::Proc => {
                raise_fd_limit();
                StoppableThread::spawn("gilscope-sampler", move |mailbox| {
                    run(config, sink, mailbox, || ProcTicks::new(root))
                })?
            }
            SamplerBackend::Portable => {
                let source = Portable::new(root).map_err(|e| {
                    std::io::Error::other(format!("the portable sampler cannot start: {e}"))
                })?;
                StoppableThread::spawn("gilscope-sampler", move |mailbox| {
                    run(config, sink, mailbox, || source)
                })?
            }
        };
        Ok(Self { thread })
    }

    /// Takes one extra sample now, outside the schedule (e.g. the memory
    /// baseline at `setup_done`).
    pub fn poker(&self) -> Poker {
        self.thread.poker()
    }

    /// Stops the thread and returns its statistics.
    pub fn stop(self) -> SamplerStats {
        self.thread.stop()
    }
}

/// Each thread uses two descriptors: let a run with hundreds of threads fit.
fn raise_fd_limit() {
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Cumulative counters of a thread at its previous sample.
#[derive(Clone, Copy)]
struct Prev {
    t_ns: u64,
    on_cpu_ns: u64,
    runqueue_ns: u64,
    /// Consecutive reads in which the thread neither ran nor waited for a
    /// core (asleep the whole time).
    idle_reads: u32,
}

/// A thread asleep for this many reads in a row …
pub const IDLE_AFTER_READS: u32 = 3;
/// … is read only every this many samples until it runs again (its next
/// read covers the whole span since the previous one, so no time is lost;
/// a wake-up is seen at most this many samples late). Pokes read all.
pub const IDLE_READ_EVERY: u64 = 4;
/// A thread still asleep after this many reads (~0.5 s more at every 4th
/// sample of 50 Hz) …
pub const LONG_IDLE_AFTER_READS: u32 = IDLE_AFTER_READS + 6;
/// … is read every this many samples (160 ms at 50 Hz): a pool thread
/// that sleeps for seconds costs an eighth of one that runs.
pub const LONG_IDLE_READ_EVERY: u64 = 8;

/// How often a thread asleep for `idle_reads` reads in a row is read.
pub fn read_every(idle_reads: u32) -> u64 {
    if idle_reads >= LONG_IDLE_AFTER_READS {
        LONG_IDLE_READ_EVERY
    } else if idle_reads >= IDLE_AFTER_READS {
        IDLE_READ_EVERY
    } else {
        1
    }
}

/// Whether a sample reads smaps_rollup (PSS/USS).
#[derive(Debug, Clone, Copy)]
enum Smaps {
    Read,
    /// Only if the RSS or the number of processes changed since the last
    /// read, or `or_after` samples have passed since.
    IfMoved {
        or_after: u64,
    },
    Skip,
}

/// RSS moved by this much (or this fraction) counts as a change.
const SMAPS_RSS_MOVE_BYTES: u64 = 1 << 20;
const SMAPS_RSS_MOVE_FRACTION: f64 = 0.01;

/// When smaps_rollup was last read, and what RSS and processes were then.
#[derive(Debug, Clone, Copy)]
struct LastSmaps {
    n: u64,
    rss_bytes: u64,
    processes: usize,
}

/// The /proc sampler's state between ticks.
struct ProcTicks {
    set: ThreadSet,
    cpu: Option<CpuStatReader>,
    cpu_prev: Option<CpuStat>,
    cpu_cur: CpuStat,
    threads: ThreadPass,
    memory: MemoryPass,
    prev: FxHashMap<TaskId, Prev>,
    last_smaps: Option<LastSmaps>,
    load: LoadScanner,
    /// When the last load reading was taken.
    last_load_ns: Option<u64>,
    n: u64,
}

/// The machine-wide load reading (`LoadSample`: what else ran) is taken
/// this many times a second, in the first sample and when a worker
/// finishes (see [`LOAD_POKE_MIN_GAP_NS`]).
pub const LOAD_HZ: f64 = 1.0;

/// How often every thread's name (`comm`) is read again: a thread is
/// usually named just after it starts (CPython 3.14+ names `threading`
/// threads in their first instructions), often after the walk that found
/// it read its name.
pub const NAMES_HZ: f64 = 1.0;
/// A `Poke::Now` (a worker finished) takes a load reading only if the last
/// one is at least this old (64 workers finishing together poke 64 times);
/// the baseline poke takes none.
pub const LOAD_POKE_MIN_GAP_NS: u64 = 20_000_000;

impl SampleSource for ProcTicks {
    fn sample(&mut self, config: &SamplerConfig, poke: Option<Poke>) -> Option<Sample> {
        ProcTicks::sample(self, config, poke)
    }
}

impl ProcTicks {
    fn new(root: Pid) -> Self {
        Self {
            set: ThreadSet::new(root),
            cpu: CpuStatReader::open().ok(),
            cpu_prev: None,
            cpu_cur: CpuStat::default(),
            threads: ThreadPass::default(),
            memory: MemoryPass::default(),
            prev: FxHashMap::default(),
            last_smaps: None,
            load: LoadScanner::new(),
            last_load_ns: None,
            n: 0,
        }
    }

    /// Takes one sample; `None` once the root process is gone. `poke`: an
    /// extra sample outside the schedule, which reads every thread (and
    /// smaps_rollup for the baseline).
    fn sample(&mut self, config: &SamplerConfig, poke: Option<Poke>) -> Option<Sample> {
        // The first sample does everything (a thread's first read includes
        // its stat); later the tree walks, the stat reads and the smaps
        // reads fall on different samples (phases 0, 1, 2), so no one
        // sample pays for two of them.
        let due = |every: u64, phase: u64| (self.n + phase).is_multiple_of(every);
        let full_walk = self.n == 0 || due(config.every(config.tree_hz), 0);
        let read_stat = due(config.every(config.stat_hz), 1);
        let smaps = if self.n == 0 || poke == Some(Poke::Baseline) {
            Smaps::Read
        } else if poke == Some(Poke::Now) {
            // E.g. a worker finished: PSS now unless it was read lately, so
            // a short run still ends with a reading.
            Smaps::IfMoved {
                or_after: config.every(config.smaps_hz),
            }
        } else if due(config.every(config.smaps_hz), 2) {
            Smaps::IfMoved {
                or_after: config.every(config.smaps_hz) * STEADY_SMAPS_EVERY,
            }
        } else {
            Smaps::Skip
        };
        let reload_names = self.n > 0 && due(config.every(NAMES_HZ), 3);
        let all = poke.is_some();
        let n = self.n;
        self.n += 1;
        if full_walk {
            if let Err(e) = self.set.refresh()
                && e.is_gone()
            {
                return None;
            }
        } else {
            self.set.refresh_threads();
        }
        if reload_names {
            // A thread gone since the walk is found gone by the next one.
            let _ = self.set.reload_names();
        }
        let t_ns = monotonic_ns();
        self.threads.clear();
        let prev = &self.prev;
        let read = |id: TaskId| {
            all || prev
                .get(&id)
                .is_none_or(|p| (n + u64::from(id.tid)).is_multiple_of(read_every(p.idle_reads)))
        };
        self.set
            .sample_threads_filtered(&mut self.threads, read_stat, read);
        for gone in &self.threads.gone {
            self.prev.remove(gone);
        }
        let threads = self.thread_samples(t_ns);
        let (cores, cpu_read) = self.core_samples();
        let memory = self.memory_sample(smaps, n);
        if threads.is_empty() && memory.is_none() {
            return None;
        }
        let load_due = (n + 3).is_multiple_of(config.every(LOAD_HZ));
        let poked = poke == Some(Poke::Now)
            && self
                .last_load_ns
                .is_none_or(|last| t_ns.saturating_sub(last) >= LOAD_POKE_MIN_GAP_NS);
        let load = (cpu_read && (n == 0 || poked || load_due)).then(|| {
            self.last_load_ns = Some(t_ns);
            let set = &self.set;
            let pids: Vec<Pid> = set.pids().collect();
            self.load
                .read(set.root(), &self.cpu_cur, |pid| pids.contains(&pid))
        });
        Some(Sample {
            t_ns,
            late_ns: 0,
            cost_ns: 0,
            missed: 0,
            baseline: false,
            cores,
            threads,
            memory,
            load,
            sampler: SamplerBackend::Proc,
        })
    }

    fn thread_samples(&mut self, t_ns: u64) -> Vec<ThreadSample> {
        let mut out = Vec::with_capacity(self.threads.threads.len());
        for ts in &self.threads.threads {
            let (on_cpu_ns, runqueue_ns) = match ts.schedstat {
                Some(s) => (Some(s.on_cpu_ns), Some(s.runqueue_wait_ns)),
                None => (None, None),
            };
            let (mut running, mut waiting, mut blocked) = (None, None, None);
            if let (Some(on), Some(rq)) = (on_cpu_ns, runqueue_ns) {
                let mut idle_reads = 0;
                if let Some(p) = self.prev.get(&ts.id)
                    && t_ns > p.t_ns
                {
                    idle_reads = if on == p.on_cpu_ns && rq == p.runqueue_ns {
                        p.idle_reads.saturating_add(1)
                    } else {
                        0
                    };
                    let dt = (t_ns - p.t_ns) as f64;
                    let run = (on.saturating_sub(p.on_cpu_ns) as f64 / dt).clamp(0.0, 1.0);
                    let wait = (rq.saturating_sub(p.runqueue_ns) as f64 / dt).clamp(0.0, 1.0 - run);
                    running = Some(run as f32);
                    waiting = Some(wait as f32);
                    blocked = Some((1.0 - run - wait).max(0.0) as f32);
                }
                self.prev.insert(
                    ts.id,
                    Prev {
                        t_ns,
                        on_cpu_ns: on,
                        runqueue_ns: rq,
                        idle_reads,
                    },
                );
            }
            out.push(ThreadSample {
                pid: ts.id.pid,
                tid: ts.id.tid,
                name: self.set.name(ts.id).unwrap_or("").to_string(),
                state: ts.stat.state.letter(),
                last_cpu: ts.stat.processor,
                utime_ns: ticks_to_ns(ts.stat.utime_ticks),
                stime_ns: ticks_to_ns(ts.stat.stime_ticks),
                on_cpu_ns,
                runqueue_ns,
                running,
                waiting,
                blocked,
            });
        }
        out
    }

    /// The cores' fractions, and whether /proc/stat was read.
    fn core_samples(&mut self) -> (Vec<CoreSample>, bool) {
        let Some(reader) = &mut self.cpu else {
            return (Vec::new(), false);
        };
        if reader.read_into(&mut self.cpu_cur).is_err() {
            return (Vec::new(), false);
        }
        let cores = match &self.cpu_prev {
            Some(prev) => core_fractions(prev, &self.cpu_cur)
                .into_iter()
                .map(|c| CoreSample {
                    cpu: c.cpu,
                    busy: c.fractions.map(|f| {
                        CoreBusy::split(
                            f.user as f32,
                            f.system as f32,
                            f.idle as f32,
                            f.iowait as f32,
                        )
                    }),
                })
                .collect(),
            None => self
                .cpu_cur
                .cores
                .iter()
                .map(|c| CoreSample {
                    cpu: c.cpu,
                    busy: None,
                })
                .collect(),
        };
        self.cpu_prev = Some(self.cpu_cur.clone());
        (cores, true)
    }

    fn memory_sample(&mut self, smaps: Smaps, n: u64) -> Option<MemorySample> {
        self.memory.processes.clear();
        self.memory.gone.clear();
        self.memory.errors.clear();
        self.set.sample_memory(&mut self.memory);
        if self.memory.processes.is_empty() {
            return None;
        }
        let rss_bytes: u64 = self
            .memory
            .processes
            .iter()
            .map(|p| p.statm.rss_bytes)
            .sum();
        let processes = self.memory.processes.len();
        let with_smaps = match (smaps, self.last_smaps) {
            (Smaps::Read, _) | (Smaps::IfMoved { .. }, None) => true,
            (Smaps::Skip, _) => false,
            (Smaps::IfMoved { or_after }, Some(last)) => {
                let moved = rss_bytes.abs_diff(last.rss_bytes);
                n.saturating_sub(last.n) >= or_after
                    || processes != last.processes
                    || moved >= SMAPS_RSS_MOVE_BYTES
                    || moved as f64 >= SMAPS_RSS_MOVE_FRACTION * last.rss_bytes as f64
            }
        };
        let (mut pss_bytes, mut uss_bytes, mut pss_missing) = (None, None, None);
        if with_smaps {
            self.last_smaps = Some(LastSmaps {
                n,
                rss_bytes,
                processes,
            });
            let mut pss = 0u64;
            let mut uss = 0u64;
            for p in &self.memory.processes {
                match read_smaps_rollup(p.pid) {
                    Ok(r) if r.plausible(p.statm.rss_bytes) => {
                        pss += r.pss_bytes;
                        uss += r.uss_bytes;
                    }
                    Ok(_) => pss_missing = Some(PssMissing::Exiting),
                    Err(_) => pss_missing = pss_missing.or(Some(PssMissing::Unreadable)),
                }
            }
            // A partial sum would understate: report it as not measured.
            if pss_missing.is_none() {
                pss_bytes = Some(pss);
                uss_bytes = Some(uss);
            }
        }
        Some(MemorySample {
            rss_bytes,
            pss_bytes,
            uss_bytes,
            processes: u32::try_from(self.memory.processes.len()).unwrap_or(u32::MAX),
            pss_missing,
        })
    }
}

/// The scheduler slice the sampler thread asks for: long enough for one
/// sample (0.1–0.3 ms with 64 threads), shorter than the default, so that
/// when CPU-bound workers fill every core the woken sampler runs first
/// instead of queueing behind them (64 `ft` workers on 2 cores: ticks up to
/// 60 ms late and ~10 % of them missed without it).
const SLICE: Duration = Duration::from_micros(500);

/// The sampler thread's body: the deadline schedule around any
/// [`SampleSource`] (made on this thread by `source`).
fn run<S: SampleSource>(
    config: SamplerConfig,
    mut sink: impl FnMut(Sample) -> bool,
    mailbox: &Mailbox<Poke>,
    source: impl FnOnce() -> S,
) -> SamplerStats {
    request_short_slice(SLICE);
    let cpu_start = thread_cpu_ns();
    let interval = config.interval();
    let start = Instant::now();
    let mut stats = SamplerStats::default();
    let mut state = source();
    let mut tick: u64 = 0;
    let mut extra: Option<Poke> = None;
    loop {
        let deadline = start + interval * u32::try_from(tick).unwrap_or(u32::MAX);
        let began = Instant::now();
        let late_ns = if extra.is_some() {
            0
        } else {
            began.saturating_duration_since(deadline).as_nanos() as u64
        };
        let Some(mut sample) = state.sample(&config, extra) else {
            break;
        };
        // Skip the ticks whose slots have already passed.
        let mut missed = 0u32;
        if extra.is_none() {
            let behind =
                began.saturating_duration_since(deadline).as_nanos() / interval.as_nanos().max(1);
            missed = u32::try_from(behind).unwrap_or(u32::MAX);
            tick += 1 + u64::from(missed);
        }
        sample.late_ns = late_ns;
        sample.missed = missed;
        sample.baseline = extra == Some(Poke::Baseline);
        sample.cost_ns = began.elapsed().as_nanos() as u64;
        stats.samples += 1;
        stats.missed += u64::from(missed);
        stats.max_late_ns = stats.max_late_ns.max(late_ns);
        if !sink(sample) {
            break;
        }
        let next = start + interval * u32::try_from(tick).unwrap_or(u32::MAX);
        extra = match mailbox.wait_until(next) {
            Woken::Deadline => None,
            Woken::Message(reason) => Some(reason),
            Woken::Stop => break,
        };
    }
    stats.cpu_ns = thread_cpu_ns().saturating_sub(cpu_start);
    stats.wall_ns = start.elapsed().as_nanos() as u64;
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command};

    /// Samples `child` with `config` while `during` runs (it may poke the
    /// sampler), then stops the sampler and kills the child.
    fn sample_while(
        child: &mut Child,
        config: SamplerConfig,
        during: impl FnOnce(&Sampler),
    ) -> (Vec<Sample>, SamplerStats) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let sampler = Sampler::start(child.id(), config, tx).unwrap();
        during(&sampler);
        let stats = sampler.stop();
        child.kill().unwrap();
        child.wait().unwrap();
        (rx.try_iter().collect(), stats)
    }

    #[test]
    fn samples_a_busy_child_on_schedule() {
        // Up to three tries: on a loaded machine (the lib tests run in
        // parallel) a 0.6 s window can catch a busy loop blocked on
        // nothing but the scheduler's accounting.
        let mut means = Vec::new();
        for _ in 0..3 {
            let mean = busy_child_once();
            if mean > 0.8 {
                return;
            }
            means.push(mean);
        }
        panic!("busy child read as {means:?}");
    }

    /// One sampled busy child: checks the schedule and the columns, returns
    /// the busy share read.
    fn busy_child_once() -> f32 {
        let mut child = Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        let config = SamplerConfig {
            rate_hz: 100.0,
            ..Default::default()
        };
        let (samples, stats) = sample_while(&mut child, config, |_| {
            std::thread::sleep(Duration::from_millis(600));
        });
        assert!(
            samples.len() >= 30,
            "{} samples in 0.6 s at 100 Hz",
            samples.len()
        );
        assert_eq!(stats.samples as usize, samples.len());
        // Monotonic times, about 10 ms apart on average.
        assert!(samples.windows(2).all(|w| w[1].t_ns > w[0].t_ns));
        // A thread left out of a sample was not read in it (on a loaded
        // machine even a busy loop may look asleep for a few reads).
        let thread = samples.iter().rev().find_map(|s| s.threads.first());
        assert_eq!(thread.map(|t| t.tid), Some(child.id()));
        // The busy loop runs (or waits for a core) nearly all the time.
        let busy: Vec<f32> = samples
            .iter()
            .skip(1)
            .filter_map(|s| s.threads.first())
            .filter_map(|t| t.running.zip(t.waiting))
            .map(|(r, w)| r + w)
            .collect();
        let mean = busy.iter().sum::<f32>() / busy.len() as f32;
        assert!(samples.last().unwrap().memory.unwrap().rss_bytes > 0);
        assert!(
            samples
                .iter()
                .any(|s| s.memory.unwrap().pss_bytes.is_some())
        );
        assert!(!samples.last().unwrap().cores.is_empty());
        mean
    }

    #[test]
    fn a_sleeping_thread_is_read_less_often_and_its_wake_up_is_seen() {
        // Sleeps 0.5 s, then spins 0.3 s.
        let mut child = Command::new("python3")
            .args([
                "-c",
                "import time\ntime.sleep(0.5)\nt = time.monotonic()\nwhile time.monotonic() - t < 0.3: pass\ntime.sleep(5)",
            ])
            .spawn()
            .unwrap();
        let config = SamplerConfig {
            rate_hz: 100.0,
            gil_hz: 0.0,
            ..Default::default()
        };
        let (samples, _) = sample_while(&mut child, config, |_| {
            std::thread::sleep(Duration::from_millis(1100));
        });
        let tid = child.id();
        // (index of the sample, blocked fraction) of every reading.
        let seen: Vec<(usize, Option<f32>)> = samples
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let t = s.threads.iter().find(|t| t.tid == tid)?;
                Some((i, t.blocked))
            })
            .collect();
        // Asleep most of the time: left out of many samples …
        assert!(
            seen.len() < samples.len() * 3 / 4,
            "read in {} of {} samples",
            seen.len(),
            samples.len()
        );
        // … but never for more than LONG_IDLE_READ_EVERY samples in a row, so a
        // wake-up is seen at most that late …
        for w in seen.windows(2) {
            assert!(
                w[1].0 - w[0].0 <= LONG_IDLE_READ_EVERY as usize,
                "readings {} samples apart: {seen:?}",
                w[1].0 - w[0].0
            );
        }
        // … and the spin is seen: readings where it was not blocked.
        let busy = seen
            .iter()
            .filter(|(_, b)| b.is_some_and(|b| b < 0.5))
            .count();
        assert!(busy >= 5, "awake in only {busy} readings: {seen:?}");
    }

    #[test]
    fn stops_by_itself_when_the_root_exits() {
        let mut child = Command::new("sleep").arg("0.2").spawn().unwrap();
        let (tx, rx) = crossbeam_channel::unbounded();
        let sampler = Sampler::start(child.id(), SamplerConfig::default(), tx).unwrap();
        child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        // The thread ended (the zombie was reaped): the channel is closed.
        let stats = sampler.stop();
        assert!(stats.samples >= 5);
        assert!(rx.try_iter().count() as u64 == stats.samples);
    }

    #[test]
    fn pss_is_read_less_often_while_rss_stays_put_and_after_a_poke() {
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let config = SamplerConfig {
            rate_hz: 100.0,
            smaps_hz: 10.0,
            gil_hz: 0.0,
            ..Default::default()
        };
        let mut poked_at = 0;
        let (samples, _) = sample_while(&mut child, config, |sampler| {
            std::thread::sleep(Duration::from_millis(1050));
            poked_at = monotonic_ns();
            assert!(sampler.poker().poke(Poke::Now));
            std::thread::sleep(Duration::from_millis(50));
        });
        let read = |s: &Sample| s.memory.is_some_and(|m| m.pss_bytes.is_some());
        let poke = samples
            .iter()
            .position(|s| s.t_ns >= poked_at)
            .expect("no sample after the poke");
        let before: Vec<usize> = (0..poke).filter(|&i| read(&samples[i])).collect();
        // The first sample reads it; once `sleep` has started (its RSS
        // may still grow in the first samples), its RSS stays put: every
        // 4 × 10 samples instead of every 10.
        assert_eq!(before.first(), Some(&0));
        let settled: Vec<usize> = before.iter().copied().filter(|&i| i >= 20).collect();
        assert!(
            !settled.is_empty() && settled.len() <= poke / 40 + 1,
            "PSS read at {before:?} of {poke} samples"
        );
        assert!(settled.windows(2).all(|w| w[1] - w[0] >= 40), "{before:?}");
        // The poke reads PSS unless it was read within 10 samples.
        let since = poke - before.last().copied().unwrap_or(0);
        assert_eq!(read(&samples[poke]), since >= 10, "{since} samples since");
    }

    #[test]
    fn a_poke_takes_an_extra_baseline_sample() {
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let config = SamplerConfig {
            rate_hz: 10.0,
            ..Default::default()
        };
        let (samples, _) = sample_while(&mut child, config, |sampler| {
            std::thread::sleep(Duration::from_millis(50));
            assert!(sampler.poker().poke(Poke::Baseline));
            std::thread::sleep(Duration::from_millis(20));
            assert!(sampler.poker().poke(Poke::Now));
            std::thread::sleep(Duration::from_millis(50));
        });
        let baseline: Vec<&Sample> = samples.iter().filter(|s| s.baseline).collect();
        assert_eq!(baseline.len(), 1, "{samples:?}");
        assert!(baseline[0].memory.unwrap().pss_bytes.is_some());
    }
}
