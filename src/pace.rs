//! The shell both samplers (the /proc one in [`crate::sampler`], the GIL one
//! in [`crate::gil`]) run in, kept apart from either:
//!
//! * [`StoppableThread`]: a named background thread that runs until it is
//!   told to stop (or ends on its own) and hands back a result; dropping it
//!   stops and joins it.
//! * [`Mailbox`]: where it sleeps between ticks and receives pokes
//!   ([`Poker`]) and the stop.
//! * [`request_short_slice`]: the EEVDF slice request that lets a woken
//!   sampler run before CPU-bound workers.
//! * [`monotonic_ns`] (the clock of samples and protocol events) and
//!   [`thread_cpu_ns`] (a sampler's own CPU time).
//!
//! The thread sleeps between ticks in [`Mailbox::wait_until`], a mutex and
//! condition variable: one futex wait per tick. A crossbeam channel's timed
//! receive spins and calls `sched_yield` several times before it parks; at
//! 50–1000 wake-ups a second those yields were 15 % of the /proc sampler's
//! own CPU time on a 2-core VM.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Messages that wake a sleeping thread early, and its stop flag.
#[derive(Debug)]
pub struct Mailbox<M> {
    inbox: Mutex<Inbox<M>>,
    wake: Condvar,
}

#[derive(Debug)]
struct Inbox<M> {
    stopped: bool,
    messages: VecDeque<M>,
}

/// Why [`Mailbox::wait_until`] returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Woken<M> {
    /// The deadline passed.
    Deadline,
    /// A message arrived.
    Message(M),
    /// The thread was told to stop.
    Stop,
}

/// Messages beyond this many, not yet taken, are dropped.
const MAX_WAITING: usize = 64;

impl<M> Default for Mailbox<M> {
    fn default() -> Self {
        Self {
            inbox: Mutex::new(Inbox {
                stopped: false,
                messages: VecDeque::new(),
            }),
            wake: Condvar::new(),
        }
    }
}

impl<M> Mailbox<M> {
    fn lock(&self) -> MutexGuard<'_, Inbox<M>> {
        // The inbox holds no invariant a panic could break.
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Leaves a message and wakes the thread; false if it was dropped
    /// (the thread stopped, or too many are waiting).
    pub fn send(&self, message: M) -> bool {
        let mut inbox = self.lock();
        if inbox.stopped || inbox.messages.len() >= MAX_WAITING {
            return false;
        }
        inbox.messages.push_back(message);
        drop(inbox);
        self.wake.notify_one();
        true
    }

    /// Tells the thread to stop and wakes it.
    pub fn stop(&self) {
        self.lock().stopped = true;
        self.wake.notify_all();
    }

    /// Sleeps until `deadline`, a message or stop, whichever comes first
    /// (stop before messages, messages before the deadline).
    pub fn wait_until(&self, deadline: Instant) -> Woken<M> {
        let mut inbox = self.lock();
        loop {
            if inbox.stopped {
                return Woken::Stop;
            }
            if let Some(m) = inbox.messages.pop_front() {
                return Woken::Message(m);
            }
            let now = Instant::now();
            if now >= deadline {
                return Woken::Deadline;
            }
            inbox = self
                .wake
                .wait_timeout(inbox, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// Asks for a short scheduler slice (EEVDF custom slice, `sched_runtime`
/// of SCHED_OTHER, Linux 6.12+; unprivileged): a thread that sleeps between
/// ticks then preempts a CPU-bound one when it wakes, instead of waiting
/// up to a whole default slice (~3 ms) — on a machine whose cores the
/// workload keeps busy that is the difference between ticking at 1 kHz
/// and at a few hundred Hz. Best effort: older kernels ignore the value
/// or refuse; returns whether the call succeeded.
pub fn request_short_slice(slice: Duration) -> bool {
    // SAFETY: getpriority/syscall on the calling thread with a zeroed,
    // fully initialised sched_attr of the size the kernel is told.
    unsafe {
        let mut attr: libc::sched_attr = std::mem::zeroed();
        attr.size = std::mem::size_of::<libc::sched_attr>() as u32;
        attr.sched_policy = libc::SCHED_OTHER as u32;
        // Keep the thread's nice value (getpriority: -1 is also a value).
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, 0);
        if nice == -1 && *libc::__errno_location() != 0 {
            return false;
        }
        attr.sched_nice = nice;
        attr.sched_runtime = u64::try_from(slice.as_nanos()).unwrap_or(u64::MAX);
        libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &attr as *const libc::sched_attr,
            0,
        ) == 0
    }
}

/// Sends messages to a running thread's [`Mailbox`]; cheap to clone and to
/// call from any thread.
#[derive(Debug)]
pub struct Poker<M>(Arc<Mailbox<M>>);

impl<M> Clone for Poker<M> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<M> Poker<M> {
    /// Wakes the thread with `message`; false if it has stopped.
    pub fn poke(&self, message: M) -> bool {
        self.0.send(message)
    }
}

/// CLOCK_MONOTONIC in ns (Python's `time.monotonic_ns()` clock).
pub fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// CPU time of the calling thread in ns.
pub fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    // SAFETY: clock_gettime writes into a local timespec.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe {
        libc::clock_gettime(clock, &mut ts);
    }
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}

pub struct StoppableThread<T: Default, M = ()> {
    mailbox: Arc<Mailbox<M>>,
    thread: Option<JoinHandle<T>>,
}

impl<T: Default + Send + 'static, M: Send + 'static> StoppableThread<T, M> {
    /// Starts `body`, which should return soon after its mailbox says
    /// [`Woken::Stop`].
    pub fn spawn(
        name: &str,
        body: impl FnOnce(&Mailbox<M>) -> T + Send + 'static,
    ) -> std::io::Result<Self> {
        let mailbox = Arc::new(Mailbox::default());
        let theirs = Arc::clone(&mailbox);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(&theirs))?;
        Ok(Self {
            mailbox,
            thread: Some(thread),
        })
    }

    /// The thread's mailbox, to send it messages from anywhere.
    pub fn mailbox(&self) -> Arc<Mailbox<M>> {
        Arc::clone(&self.mailbox)
    }

    /// A [`Poker`] for the thread's mailbox.
    pub fn poker(&self) -> Poker<M> {
        Poker(self.mailbox())
    }

    /// Stops the thread and returns its result (the default if it panicked).
    pub fn stop(mut self) -> T {
        self.finish()
    }
}

impl<T: Default, M> StoppableThread<T, M> {
    fn finish(&mut self) -> T {
        self.mailbox.stop();
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl<T: Default, M> Drop for StoppableThread<T, M> {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn wait_returns_at_the_deadline_a_message_or_stop() {
        let mailbox = Mailbox::<u32>::default();
        let t = Instant::now();
        assert_eq!(
            mailbox.wait_until(t + Duration::from_millis(30)),
            Woken::Deadline
        );
        assert!(t.elapsed() >= Duration::from_millis(30));
        assert!(mailbox.send(7));
        assert_eq!(
            mailbox.wait_until(Instant::now() + Duration::from_secs(10)),
            Woken::Message(7)
        );
        mailbox.stop();
        assert!(!mailbox.send(8), "a stopped mailbox takes no messages");
        assert_eq!(
            mailbox.wait_until(Instant::now() + Duration::from_secs(10)),
            Woken::Stop
        );
    }

    #[test]
    fn a_message_wakes_a_sleeping_thread_at_once() {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = StoppableThread::spawn("mailbox-test", move |mailbox: &Mailbox<u32>| {
            let t = Instant::now();
            let woken = mailbox.wait_until(t + Duration::from_secs(30));
            let _ = tx.send((woken, t.elapsed()));
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(thread.mailbox().send(3));
        let (woken, waited) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(woken, Woken::Message(3));
        assert!(waited < Duration::from_secs(10), "woke after {waited:?}");
        thread.stop();
    }

    #[test]
    fn stop_wakes_a_sleeping_thread_at_once() {
        let t = Instant::now();
        let thread = StoppableThread::spawn("mailbox-test", |mailbox: &Mailbox<()>| {
            mailbox.wait_until(Instant::now() + Duration::from_secs(30)) == Woken::Stop
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert!(thread.stop());
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}
