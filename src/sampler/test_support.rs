//! Helpers for the sampler's tests: fixtures, busy threads, child processes.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::task::Pid;

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/proc")).join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

pub fn gettid() -> Pid {
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    Pid::try_from(tid).unwrap()
}

/// Polls `f` every 10 ms for up to 5 s.
pub fn wait_until<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

use crate::pace::thread_cpu_ns;

/// A thread that burns an exact amount of its own CPU time on request and
/// sleeps otherwise. Joined on drop.
pub struct BusyThread {
    pub tid: Pid,
    cmd: Option<Sender<Duration>>,
    ack: Receiver<()>,
    handle: Option<JoinHandle<()>>,
}

impl BusyThread {
    pub fn spawn() -> Self {
        let (cmd_tx, cmd_rx) = channel::<Duration>();
        let (ack_tx, ack_rx) = channel();
        let (tid_tx, tid_rx) = channel();
        let handle = std::thread::spawn(move || {
            tid_tx.send(gettid()).unwrap();
            while let Ok(d) = cmd_rx.recv() {
                let start = thread_cpu_ns();
                let mut x = 0u64;
                while thread_cpu_ns() - start < d.as_nanos() as u64 {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                ack_tx.send(()).unwrap();
            }
        });
        Self {
            tid: tid_rx.recv().unwrap(),
            cmd: Some(cmd_tx),
            ack: ack_rx,
            handle: Some(handle),
        }
    }

    /// Returns once the thread has spent `d` of CPU time.
    pub fn burn_cpu(&self, d: Duration) {
        self.cmd.as_ref().unwrap().send(d).unwrap();
        self.ack.recv().unwrap();
    }
}

impl Drop for BusyThread {
    fn drop(&mut self) {
        self.cmd.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// `sh -c SCRIPT` in its own process group; the whole group is killed and
/// the shell reaped on drop, so no `sleep` outlives the test.
pub struct ChildGroup {
    child: Child,
}

impl ChildGroup {
    pub fn spawn(script: &str) -> Self {
        use std::os::unix::process::CommandExt;
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .process_group(0)
            .spawn()
            .unwrap();
        Self { child }
    }

    pub fn pid(&self) -> Pid {
        self.child.id()
    }
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        let pgid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}
