//! The generator's threads: a controller (schedules open-loop arrivals,
//! closes intervals, writes the report) and one thread per connection or
//! client, all named `gs-load-*` (so the what-else reading names them).
//!
//! Order: every thread opens its connection; then the warm-up (the same
//! load, discarded); then the measured window; then requests still out get
//! their timeout, and whatever is left is counted unfinished.

use super::expect::{Expected, request_body};
use super::http::{Conn, Failure};
use super::recorder::Recorder;
use super::{Arrival, INTERVAL, LoadInterval, LoadReport, LoadSpec};
use crate::pace::{monotonic_ns, thread_cpu_ns};
use crossbeam_channel::{Receiver, unbounded};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the generator reports, in order: intervals, then one report.
#[derive(Debug, Clone)]
pub enum LoadEvent {
    Interval(LoadInterval),
    Done(Box<LoadReport>),
}

/// A running load generator. Dropping it stops it and waits for its
/// threads (the report is still sent).
pub struct Loadgen {
    stop: Arc<AtomicBool>,
    controller: Option<JoinHandle<()>>,
}

impl Loadgen {
    /// Stop sending; requests already sent are given up to their timeout.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Waits until the report was sent.
    pub fn join(mut self) {
        if let Some(c) = self.controller.take() {
            let _ = c.join();
        }
    }
}

impl Drop for Loadgen {
    fn drop(&mut self) {
        self.stop();
        if let Some(c) = self.controller.take() {
            let _ = c.join();
        }
    }
}

/// Shared between the threads.
struct Shared {
    addr: SocketAddr,
    spec: LoadSpec,
    recorder: Mutex<Recorder>,
    stop: Arc<AtomicBool>,
    cpu_ns: AtomicU64,
    connections: AtomicU64,
    /// Threads that tried to open their connection.
    ready: AtomicU64,
    /// When the warm-up began (0 until then) and the window ends.
    begin_ns: AtomicU64,
    window_end_ns: AtomicU64,
}

impl Shared {
    fn rec(&self) -> MutexGuard<'_, Recorder> {
        self.recorder.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Opens a connection, counted.
    fn open(&self) -> Result<Conn, Failure> {
        let c = Conn::open(self.addr, self.spec.timeout)?;
        self.connections.fetch_add(1, Ordering::Relaxed);
        Ok(c)
    }

    /// A thread's connection before the warm-up (a failure is retried at
    /// its first request).
    fn open_early(&self) -> Option<Conn> {
        let c = self.open().ok();
        self.ready.fetch_add(1, Ordering::SeqCst);
        c
    }

    /// Waits until the controller says go; false when stopped first.
    fn wait_for_go(&self) -> bool {
        while self.begin_ns.load(Ordering::SeqCst) == 0 {
            if self.stopped() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// One request on `conn` (opened if needed); the answer is recorded
    /// with its latency from `scheduled_ns`.
    fn one(&self, conn: &mut Option<Conn>, seq: u64, scheduled_ns: u64) {
        let key = (seq % u64::from(self.spec.keys.max(1))) as u32;
        if conn.is_none() {
            match self.open() {
                Ok(c) => *conn = Some(c),
                Err(f) => {
                    self.rec().failure(&f, scheduled_ns, monotonic_ns());
                    // do not spin on a server that is gone
                    std::thread::sleep(Duration::from_millis(2));
                    return;
                }
            }
        }
        let Some(c) = conn.as_mut() else { return };
        match c.request(&request_body(key), self.spec.timeout) {
            Ok(body) => {
                let done = monotonic_ns();
                self.rec().answer(key, &body, scheduled_ns, done);
                if c.closed {
                    *conn = None;
                }
            }
            Err(f) => {
                self.rec().failure(&f, scheduled_ns, monotonic_ns());
                // after a timeout the late answer would be read as the next one
                *conn = None;
                if matches!(f, Failure::Connect(_)) {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        }
    }

    fn add_own_cpu(&self) {
        self.cpu_ns.fetch_add(thread_cpu_ns(), Ordering::Relaxed);
    }
}

/// Starts loading `addr`; `sink` gets every interval and then the report,
/// from the controller thread.
pub fn start(
    addr: SocketAddr,
    spec: LoadSpec,
    expected: Option<Expected>,
    mut sink: impl FnMut(LoadEvent) + Send + 'static,
) -> std::io::Result<Loadgen> {
    let stop = Arc::new(AtomicBool::new(false));
    let checked_against = match &expected {
        Some(e) => format!("gilscope's own computation ({})", e.what),
        None => "the first answer of each key (an unknown handler)".to_string(),
    };
    let shared = Arc::new(Shared {
        addr,
        // the window is set when every connection is open
        recorder: Mutex::new(Recorder::new(expected, spec.keys, u64::MAX, u64::MAX)),
        spec,
        stop: stop.clone(),
        cpu_ns: AtomicU64::new(0),
        connections: AtomicU64::new(0),
        ready: AtomicU64::new(0),
        begin_ns: AtomicU64::new(0),
        window_end_ns: AtomicU64::new(u64::MAX),
    });
    let controller = std::thread::Builder::new()
        .name("gs-load".into())
        .spawn(move || {
            let report = control(&shared, checked_against, &mut sink);
            sink(LoadEvent::Done(Box::new(report)));
        })?;
    Ok(Loadgen {
        stop,
        controller: Some(controller),
    })
}

/// A small xorshift64* generator for the arrivals (reproducible by seed).
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// An exponential gap with mean `1 / rate` seconds, in ns.
    fn exp_gap_ns(&mut self, rate: f64) -> u64 {
        (-self.next_f64().ln() / rate * 1e9) as u64
    }
}

/// How long the controller waits for the connections to open.
const CONNECT_WAIT: Duration = Duration::from_secs(5);

fn control(
    shared: &Arc<Shared>,
    checked_against: String,
    sink: &mut impl FnMut(LoadEvent),
) -> LoadReport {
    let spec = shared.spec.clone();
    let (jobs_tx, jobs_rx) = unbounded::<(u64, u64)>();
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new().name(name).spawn(f).ok()
    };
    match spec.arrival {
        Arrival::Open { .. } => {
            for i in 0..spec.connections {
                let (s, rx) = (shared.clone(), jobs_rx.clone());
                workers.extend(spawn(
                    format!("gs-load-c{i}"),
                    Box::new(move || connection_thread(&s, &rx)),
                ));
            }
        }
        Arrival::Closed { clients } => {
            for i in 0..clients {
                let s = shared.clone();
                workers.extend(spawn(
                    format!("gs-load-c{i}"),
                    Box::new(move || client_thread(&s, i as u64, clients as u64)),
                ));
            }
        }
    }
    drop(jobs_rx);
    // Connections first, then the warm-up, then the window.
    let wait_from = monotonic_ns();
    while (shared.ready.load(Ordering::SeqCst) as usize) < workers.len()
        && !shared.stopped()
        && monotonic_ns() - wait_from < CONNECT_WAIT.as_nanos() as u64
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    let begin_ns = monotonic_ns();
    let start_ns = begin_ns + spec.warmup.as_nanos() as u64;
    let window_end = start_ns + spec.duration.as_nanos() as u64;
    {
        let mut rec = shared.rec();
        rec.window_start_ns = start_ns;
        rec.window_end_ns = window_end;
    }
    shared.window_end_ns.store(window_end, Ordering::SeqCst);
    shared.begin_ns.store(begin_ns, Ordering::SeqCst);
    let mut rng = Rng(spec.seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut next_arrival = begin_ns;
    let mut seq = 0u64;
    let mut jobs = Some(jobs_tx);
    let interval_ns = INTERVAL.as_nanos() as u64;
    let mut next_tick = start_ns + interval_ns;
    let mut last_tick = start_ns;
    let mut stopped_at = None;
    // Requests still out after the window get their timeout, then stop.
    let drain_deadline = window_end + spec.timeout.as_nanos() as u64 + 500_000_000;
    loop {
        let now = monotonic_ns();
        if stopped_at.is_none() && shared.stopped() {
            stopped_at = Some(now.min(window_end));
            jobs = None;
        }
        if let (Some(tx), Arrival::Open { rps }) = (&jobs, spec.arrival) {
            let mut due = 0;
            while next_arrival <= now.min(window_end) && next_arrival < window_end {
                if tx.send((seq, next_arrival)).is_err() {
                    break;
                }
                seq += 1;
                due += u64::from(next_arrival >= start_ns);
                next_arrival += rng.exp_gap_ns(rps).max(1);
            }
            if due > 0 {
                shared.rec().offered(due);
            }
        }
        if now >= window_end {
            jobs = None; // the connection threads drain the queue, then end
        }
        if now >= next_tick {
            let iv = shared
                .rec()
                .take_interval(now, (now - last_tick) as f64 / 1e9);
            sink(LoadEvent::Interval(iv));
            last_tick = now;
            next_tick += interval_ns;
            if next_tick <= now {
                next_tick = now + interval_ns;
            }
        }
        let all_done = workers.iter().all(JoinHandle::is_finished);
        if (now >= window_end || stopped_at.is_some()) && all_done {
            break;
        }
        if now >= drain_deadline {
            shared.stop.store(true, Ordering::SeqCst);
        }
        let mut wake = next_tick;
        if jobs.is_some() && matches!(spec.arrival, Arrival::Open { .. }) {
            wake = wake.min(next_arrival);
        }
        if now < window_end {
            wake = wake.min(window_end);
        }
        let wait = wake.saturating_sub(monotonic_ns()).min(20_000_000);
        std::thread::sleep(Duration::from_nanos(wait.max(50_000)));
    }
    for w in workers {
        let _ = w.join();
    }
    let end = monotonic_ns();
    if end > last_tick {
        let iv = shared
            .rec()
            .take_interval(end, (end - last_tick) as f64 / 1e9);
        if iv.offered + iv.ok + iv.errors + iv.timeouts > 0 {
            sink(LoadEvent::Interval(iv));
        }
    }
    shared.add_own_cpu();
    let mut rec = shared.rec();
    // requests lost without a trace (none expected: the threads count theirs)
    rec.failures.unfinished += rec.in_flight();
    let planned_end = window_end;
    let window_end = stopped_at.unwrap_or(window_end);
    let window_secs = window_end.saturating_sub(start_ns) as f64 / 1e9;
    let (checksum, keys_answered) = rec.checksum();
    let (latency_all, requests_all) = rec.total_latency_all();
    let cpu_secs = shared.cpu_ns.load(Ordering::Relaxed) as f64 / 1e9;
    // its CPU includes the warm-up
    let elapsed = end.saturating_sub(begin_ns) as f64 / 1e9;
    let per_sec = |n: u64| {
        if window_secs > 0.0 {
            n as f64 / window_secs
        } else {
            0.0
        }
    };
    LoadReport {
        target: shared.addr.to_string(),
        start_ns,
        end_ns: window_end,
        offered: rec.offered,
        ok: rec.ok,
        ok_in_window: rec.ok_in_window,
        failures: rec.failures,
        latency: rec.total_latency(),
        latency_all,
        requests_all,
        lateness: match spec.arrival {
            Arrival::Open { .. } => rec.lateness(),
            Arrival::Closed { .. } => None,
        },
        warmup_requests: rec.warmup_requests,
        warmup_failures: rec.warmup_failures,
        offered_rps: per_sec(rec.offered),
        achieved_rps: per_sec(rec.ok_in_window),
        checksum,
        keys_answered,
        checked_against,
        cpu_secs,
        cpu_cores: if elapsed > 0.0 {
            cpu_secs / elapsed
        } else {
            0.0
        },
        connections_opened: shared.connections.load(Ordering::Relaxed),
        stopped_early: stopped_at.is_some_and(|s| s < planned_end),
        spec,
    }
}

/// Open loop: take the next scheduled request, whatever connection this
/// is. Its lateness counts from when it was due or this connection became
/// free, whichever is later, to when this thread got it.
fn connection_thread(shared: &Shared, jobs: &Receiver<(u64, u64)>) {
    let mut conn = shared.open_early();
    let mut free_ns = monotonic_ns();
    // Blocks without a timeout: the controller drops the sender at the end
    // of the window or on a stop, which wakes every connection thread.
    while !shared.stopped() {
        match jobs.recv() {
            Ok((seq, scheduled)) => {
                let now = monotonic_ns();
                shared
                    .rec()
                    .late(scheduled, now.saturating_sub(scheduled.max(free_ns)));
                shared.one(&mut conn, seq, scheduled);
                free_ns = monotonic_ns();
            }
            Err(_) => break,
        }
    }
    // Stopped with requests still queued: never answered.
    let now = monotonic_ns();
    for (_, scheduled) in jobs.try_iter() {
        shared.rec().unfinished(scheduled, now);
    }
    shared.add_own_cpu();
}

/// Closed loop: client `i` of `n` sends requests `i, i + n, …` one after
/// another from the warm-up until the window ends.
fn client_thread(shared: &Shared, i: u64, n: u64) {
    let mut conn = shared.open_early();
    if !shared.wait_for_go() {
        shared.add_own_cpu();
        return;
    }
    let window_end = shared.window_end_ns.load(Ordering::SeqCst);
    let mut seq = i;
    while !shared.stopped() {
        let now = monotonic_ns();
        if now >= window_end {
            break;
        }
        if !shared.rec().is_warmup(now) {
            shared.rec().offered(1);
        }
        shared.one(&mut conn, seq, now);
        seq += n;
    }
    shared.add_own_cpu();
}
