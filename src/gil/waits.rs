//! Is a thread waiting for the GIL? Asked the kernel, not guessed.
//!
//! A thread that waits for a GIL sleeps in `futex()` on the GIL's condition
//! variable or mutex, which live inside `struct _gil_runtime_state`.
//! `/proc/PID/task/TID/syscall` names the syscall a blocked thread is in
//! and its first argument, the futex address: when that address lies in
//! `[gil_addr, gil_addr + wait_span)` the thread waits for that GIL —
//! whether in `take_gil` or, just after dropping it, in the forced-switch
//! hand-off. A thread blocked on anything else (a queue, `time.sleep`,
//! I/O) is not waiting for the GIL even while another thread holds it.
//!
//! A waiter is not always asleep: `take_gil` waits with a timeout (the
//! switch interval, 5 ms), and a waiter woken by it — or by the hand-off
//! signal — is runnable, maybe queued for a CPU, still inside `take_gil`.
//! [`WaitTracker`] keeps counting such a thread as waiting, exactly: a
//! thread found asleep on GIL G at switch count S that is later runnable,
//! not holding, while G's `switch_number` is still S, cannot have taken G
//! in between (taking it from another holder bumps the counter), and
//! `take_gil` only returns with the GIL. Once the counter moves, or the
//! thread holds a GIL or blocks elsewhere, the chain ends.
//!
//! Reading the file needs the same ptrace access as reading memory; for a
//! running thread the kernel answers "running" without stopping it.

use std::collections::HashMap;

use super::reader::InterpreterGil;
use crate::sampler::{ProcError, ProcFile, task_path};
use serde::{Deserialize, Serialize};

/// The futex syscall number of this architecture.
#[cfg(target_arch = "x86_64")]
pub const SYS_FUTEX: i64 = 202;
#[cfg(target_arch = "aarch64")]
pub const SYS_FUTEX: i64 = 98;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub const SYS_FUTEX: i64 = -2; // never matches: waits read as "blocked elsewhere"

/// What `/proc/PID/task/TID/syscall` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syscall {
    /// On a CPU (or runnable).
    Running,
    /// Blocked outside a syscall (page fault, stopped).
    NotInSyscall,
    /// Blocked in syscall `nr` with first argument `arg0`.
    In { nr: i64, arg0: u64 },
}

/// Parses the content of a `syscall` file.
pub fn parse_syscall(content: &[u8]) -> Option<Syscall> {
    let text = std::str::from_utf8(content).ok()?;
    let mut it = text.split_ascii_whitespace();
    let first = it.next()?;
    if first == "running" {
        return Some(Syscall::Running);
    }
    let nr: i64 = first.parse().ok()?;
    if nr < 0 {
        return Some(Syscall::NotInSyscall);
    }
    let arg0 = it.next().and_then(parse_hex)?;
    Some(Syscall::In { nr, arg0 })
}

fn parse_hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x").unwrap_or(s), 16).ok()
}

/// What a probed thread was doing, with respect to the GILs of its process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ThreadActivity {
    /// On a CPU or runnable (whether it holds a GIL is in the snapshot).
    Running,
    /// Blocked in a futex on the GIL of interpreter `gil_of`.
    WaitingForGil { gil_of: i64 },
    /// Blocked on something else (I/O, sleep, a lock, a queue).
    Blocked,
}

/// Where a GIL is and which interpreter owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GilSpan {
    pub addr: u64,
    pub len: u64,
    pub gil_of: i64,
}

/// Classifies a syscall against the GILs of the thread's process.
pub fn classify(sc: Syscall, gils: &[GilSpan]) -> ThreadActivity {
    match sc {
        Syscall::Running => ThreadActivity::Running,
        Syscall::NotInSyscall => ThreadActivity::Blocked,
        Syscall::In { nr, arg0 } if nr == SYS_FUTEX => gils
            .iter()
            .find(|g| arg0 >= g.addr && arg0 < g.addr.saturating_add(g.len))
            .map_or(ThreadActivity::Blocked, |g| ThreadActivity::WaitingForGil {
                gil_of: g.gil_of,
            }),
        Syscall::In { .. } => ThreadActivity::Blocked,
    }
}

/// Per thread: the GIL it was last found waiting for, and that GIL's
/// switch count then (see the module docs).
#[derive(Debug, Default)]
pub struct WaitTracker {
    pending: HashMap<(u32, u32), (i64, u64)>,
}

impl WaitTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The activity of thread `tid` of `pid`, given its probe's `activity`
    /// and the same tick's GILs of its process.
    pub fn refine(
        &mut self,
        pid: u32,
        tid: u32,
        activity: ThreadActivity,
        interps: &[InterpreterGil],
    ) -> ThreadActivity {
        let switches = |g: i64| {
            interps
                .iter()
                .find(|i| i.id == g && i.gil_of == Some(g))
                .and_then(|i| i.switches)
        };
        let key = (pid, tid);
        match activity {
            ThreadActivity::WaitingForGil { gil_of } => {
                match switches(gil_of) {
                    Some(s) => self.pending.insert(key, (gil_of, s)),
                    None => self.pending.remove(&key),
                };
                activity
            }
            ThreadActivity::Running => {
                let holds = interps
                    .iter()
                    .any(|i| i.locked && i.holder_tid == Some(tid));
                if !holds
                    && let Some(&(g, s)) = self.pending.get(&key)
                    && switches(g) == Some(s)
                {
                    return ThreadActivity::WaitingForGil { gil_of: g };
                }
                self.pending.remove(&key);
                activity
            }
            ThreadActivity::Blocked => {
                self.pending.remove(&key);
                activity
            }
        }
    }

    /// Forgets threads not in `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(u32, u32) -> bool) {
        self.pending.retain(|&(p, t), _| keep(p, t));
    }
}

/// Kept-open `syscall` files of the threads being probed.
#[derive(Debug, Default)]
pub struct WaitProbe {
    files: HashMap<(u32, u32), ProcFile>,
    buf: Vec<u8>,
}

impl WaitProbe {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads what thread `tid` of `pid` is doing. [`ProcError::Gone`] once
    /// it exited (its file is then forgotten).
    pub fn probe(&mut self, pid: u32, tid: u32) -> Result<Syscall, ProcError> {
        let key = (pid, tid);
        let file = match self.files.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(ProcFile::open(task_path(pid, tid, "syscall"))?)
            }
        };
        match file.read(&mut self.buf).map(parse_syscall) {
            Ok(Some(sc)) => Ok(sc),
            Ok(None) => Ok(Syscall::NotInSyscall),
            Err(e) => {
                self.files.remove(&key);
                Err(e)
            }
        }
    }

    /// Forgets the files of threads not in `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(u32, u32) -> bool) {
        self.files.retain(|&(p, t), _| keep(p, t));
    }

    /// Threads with an open file.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(parse_syscall(b"running\n"), Some(Syscall::Running));
        assert_eq!(
            parse_syscall(b"-1 0x7ffd1 0x7f00\n"),
            Some(Syscall::NotInSyscall)
        );
        assert_eq!(
            parse_syscall(b"202 0x7f8866b41e68 0x189 0x0 0x0 0x0 0xffffffff 0x7ffd 0x7f00\n"),
            Some(Syscall::In {
                nr: 202,
                arg0: 0x7f88_66b4_1e68
            })
        );
        assert_eq!(parse_syscall(b"x"), None);
    }

    #[test]
    fn a_futex_inside_a_gil_is_a_gil_wait() {
        let gils = [
            GilSpan {
                addr: 0x1000,
                len: 0xd0,
                gil_of: 0,
            },
            GilSpan {
                addr: 0x9000,
                len: 0xd0,
                gil_of: 2,
            },
        ];
        let fx = |a| Syscall::In {
            nr: SYS_FUTEX,
            arg0: a,
        };
        if SYS_FUTEX > 0 {
            assert_eq!(
                classify(fx(0x1030), &gils),
                ThreadActivity::WaitingForGil { gil_of: 0 }
            );
            assert_eq!(
                classify(fx(0x9000), &gils),
                ThreadActivity::WaitingForGil { gil_of: 2 }
            );
        }
        assert_eq!(classify(fx(0x10d0), &gils), ThreadActivity::Blocked);
        assert_eq!(
            classify(
                Syscall::In {
                    nr: 0,
                    arg0: 0x1030
                },
                &gils
            ),
            ThreadActivity::Blocked
        );
        assert_eq!(classify(Syscall::Running, &gils), ThreadActivity::Running);
    }

    fn gil(holder: Option<u32>, switches: u64) -> InterpreterGil {
        InterpreterGil {
            id: 0,
            gil_of: Some(0),
            locked: holder.is_some(),
            holder_tid: holder,
            enabled: true,
            enabled_raw: None,
            switches: Some(switches),
            gil_addr: 0x1000,
        }
    }

    #[test]
    fn a_runnable_waiter_keeps_waiting_until_the_gil_moves() {
        let mut w = WaitTracker::new();
        let waiting = ThreadActivity::WaitingForGil { gil_of: 0 };
        let run = ThreadActivity::Running;
        assert_eq!(w.refine(1, 7, waiting, &[gil(Some(8), 10)]), waiting);
        // Woken by the timeout, queued for a CPU: the GIL has not moved.
        assert_eq!(w.refine(1, 7, run, &[gil(Some(8), 10)]), waiting);
        assert_eq!(w.refine(1, 7, run, &[gil(None, 10)]), waiting);
        // It took the GIL: holding, the chain ends.
        assert_eq!(w.refine(1, 7, run, &[gil(Some(7), 11)]), run);
        assert_eq!(w.refine(1, 7, run, &[gil(Some(8), 11)]), run);
        // Waiting again, then the GIL moved on without it: not provable.
        w.refine(1, 7, waiting, &[gil(Some(8), 11)]);
        assert_eq!(w.refine(1, 7, run, &[gil(Some(9), 12)]), run);
        // Blocked elsewhere ends the chain too.
        w.refine(1, 7, waiting, &[gil(Some(8), 12)]);
        assert_eq!(
            w.refine(1, 7, ThreadActivity::Blocked, &[gil(Some(8), 12)]),
            ThreadActivity::Blocked
        );
        assert_eq!(w.refine(1, 7, run, &[gil(Some(8), 12)]), run);
    }

    #[test]
    fn probes_a_sleeping_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut probe = WaitProbe::new();
        let mut seen = None;
        for _ in 0..100 {
            seen = Some(probe.probe(pid, pid).unwrap());
            if matches!(seen, Some(Syscall::In { .. })) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(
            matches!(seen, Some(Syscall::In { nr, .. }) if nr != SYS_FUTEX),
            "{seen:?}"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(probe.probe(pid, pid).unwrap_err().is_gone());
        assert!(probe.is_empty());
    }
}
