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
//! A runnable thread that holds no GIL is either inside `take_gil` (woken,
//! maybe queued for a CPU) or running code that released the GIL. 3.15
//! says which (`gil_requested`); 3.13 and 3.14 do not, so there it counts
//! as running free only with proof that it computed without the GIL since
//! its last probe, else as *unsure* — never guessed to be free
//! ([`WaitTracker::refine`] has the rules).
//!
//! Reading the file needs the same ptrace access as reading memory; for a
//! runnable thread (on a CPU or queued for one) the kernel answers
//! "running" without stopping it.

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
    /// On a CPU or runnable: what [`classify`] says before
    /// [`WaitTracker::refine`] tells which of the three below it is.
    Running,
    /// On a CPU or runnable, holding the GIL of interpreter `gil_of`.
    Holding { gil_of: i64 },
    /// On a CPU or runnable, holding no GIL and not inside `take_gil`:
    /// its GIL is disabled (free-threaded), 3.15's `gil_requested` is
    /// clear, or it has been computing without a GIL since its last probe.
    RunningFree,
    /// On a CPU or runnable, holding no GIL, and nothing this CPython
    /// exposes tells whether it is inside `take_gil` (3.13, 3.14): never
    /// counted as running free.
    Unsure,
    /// Inside `take_gil` (or the forced-switch hand-off) of interpreter
    /// `gil_of`'s GIL: asleep on it, or runnable after such a sleep.
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

/// A thread's on-CPU and run-queue time (ns, from its schedstat) at
/// `t_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuReading {
    pub t_ns: u64,
    pub on_cpu_ns: u64,
    pub runqueue_ns: u64,
}

/// What a probe of one runnable thread found beside its syscall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProbeFacts {
    /// Its thread state's flags, read at the probe.
    pub flags: Option<super::reader::ThreadFlags>,
    /// The GIL its interpreter uses, from its thread state.
    pub gil_of: Option<i64>,
    /// Its schedstat, read at the probe.
    pub cpu: Option<CpuReading>,
}

/// On 3.13 and 3.14 a runnable thread that holds no GIL counts as running
/// free only with evidence over the last [`FREE_WINDOW_NS`] or more: CPU
/// time it used that its GIL holds cannot explain (on-CPU time from its
/// schedstat minus the time GIL readings named it the holder) of at least
/// [`FREE_MIN_SHARE`] of the window. A thread inside `take_gil` runs for
/// microseconds per wake-up between sleeps on the GIL's condition variable
/// (one per 5 ms switch interval, or one per hand-off); it cannot gather
/// that much CPU without the GIL. The window is long because the kernel
/// adds a running thread's CPU time to its schedstat only at scheduler
/// ticks and switches (every 4 ms at `CONFIG_HZ=250`). This is evidence
/// over a window, not a flag read at the instant: docs/truth.md says so.
/// Time its process's GIL was locked by a holder the readings could not
/// identify (a thread id of a container's pid namespace that maps to no
/// thread) counts as possibly its own: the proof needs the holder named.
pub const FREE_WINDOW_NS: u64 = 40_000_000;
/// Share of the window that must be unexplained CPU time.
pub const FREE_MIN_SHARE: f64 = 0.25;
/// Readings kept per thread (a probe every few ms: ≥ the window).
const HISTORY: usize = 64;

#[derive(Debug, Clone, Copy)]
struct Reading {
    cpu: CpuReading,
    /// The thread's GIL-holding time (from the ticks) at that moment.
    held_ns: u64,
    /// Its process's time locked by an unidentified holder, then.
    unknown_ns: u64,
}

#[derive(Debug, Default)]
struct Track {
    /// The GIL it was last found waiting for, and that GIL's switch count.
    pending: Option<(i64, u64)>,
    /// Its schedstat readings, oldest first.
    history: std::collections::VecDeque<Reading>,
    /// Σ tick weights of the ticks whose GIL reading named it the holder.
    held_ns: u64,
}

impl Track {
    /// The CPU time since the newest reading at least a window old that
    /// its GIL holds do not explain, as a share of the time since.
    fn unexplained_share(&self, now: CpuReading, unknown_ns: u64) -> Option<f64> {
        let base = self
            .history
            .iter()
            .rev()
            .find(|r| r.cpu.t_ns + FREE_WINDOW_NS <= now.t_ns)?;
        let span = now.t_ns - base.cpu.t_ns;
        let on_cpu = now.on_cpu_ns.saturating_sub(base.cpu.on_cpu_ns);
        let held = self.held_ns.saturating_sub(base.held_ns);
        // Locked by someone the readings could not name: maybe this thread.
        let unknown = unknown_ns.saturating_sub(base.unknown_ns);
        Some(on_cpu.saturating_sub(held + unknown) as f64 / span as f64)
    }

    fn remember(&mut self, cpu: CpuReading, unknown_ns: u64) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(Reading {
            cpu,
            held_ns: self.held_ns,
            unknown_ns,
        });
    }
}

/// Per thread: what is needed to tell a runnable thread's state (see the
/// module docs and [`WaitTracker::refine`]).
#[derive(Debug, Default)]
pub struct WaitTracker {
    tracks: HashMap<(u32, u32), Track>,
    /// Per process: Σ tick weights of the ticks a GIL was locked by a
    /// holder whose thread id was not read or not mapped.
    unknown_ns: HashMap<u32, u64>,
}

impl WaitTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes this tick's GIL holders of process `pid`; the tick stands
    /// for `weight_ns` (the time since the previous tick).
    pub fn saw_holders(&mut self, pid: u32, weight_ns: u64, interps: &[InterpreterGil]) {
        for i in interps.iter().filter(|i| i.locked) {
            match i.holder_tid {
                Some(tid) => self.tracks.entry((pid, tid)).or_default().held_ns += weight_ns,
                None => *self.unknown_ns.entry(pid).or_default() += weight_ns,
            }
        }
    }

    /// The activity of thread `tid` of `pid`, given its probe's `activity`
    /// (from [`classify`]), what else the probe read, and the same tick's
    /// GILs of its process. In order, for a runnable thread:
    ///
    /// 1. it holds a GIL (the tick names it a GIL's holder, or the thread
    ///    state the probe read has `holds_gil`) → [`ThreadActivity::Holding`];
    /// 2. its GIL is disabled (free-threaded build) → running free;
    /// 3. `gil_requested` (3.15+) set → waiting. Clear is not proof of
    ///    running free: a thread just out of the forced-switch hand-off in
    ///    `drop_gil` (which sets no flag) is runnable on its way back into
    ///    `take_gil` — rules 4–6 decide. Both flags set at once (`take_gil`
    ///    sets `holds_gil` before it clears `gil_requested`, cpython
    ///    #142207) counts as holding: the GIL is already taken;
    /// 4. it was asleep on a GIL and that GIL has not changed hands since
    ///    → still waiting (it cannot have taken it in between);
    /// 5. over the last ≥ 40 ms, at least a quarter of the time it used a CPU
    ///    while no GIL reading named it — or an unidentified thread — the
    ///    holder → running free ([`FREE_WINDOW_NS`]);
    /// 6. otherwise → [`ThreadActivity::Unsure`].
    pub fn refine(
        &mut self,
        pid: u32,
        tid: u32,
        activity: ThreadActivity,
        facts: ProbeFacts,
        interps: &[InterpreterGil],
    ) -> ThreadActivity {
        let switches = |g: i64| {
            interps
                .iter()
                .find(|i| i.id == g && i.gil_of == Some(g))
                .and_then(|i| i.switches)
        };
        let unknown_ns = self.unknown_ns.get(&pid).copied().unwrap_or(0);
        let track = self.tracks.entry((pid, tid)).or_default();
        let unexplained = facts
            .cpu
            .and_then(|c| track.unexplained_share(c, unknown_ns));
        if let Some(c) = facts.cpu {
            track.remember(c, unknown_ns);
        }
        match activity {
            ThreadActivity::WaitingForGil { gil_of } => {
                track.pending = switches(gil_of).map(|s| (gil_of, s));
                activity
            }
            ThreadActivity::Running => {
                let held = interps
                    .iter()
                    .find(|i| i.locked && i.holder_tid == Some(tid));
                // Either says it: the flags are those of the thread state
                // the probe found, which for a subinterpreter's worker is
                // its parked one in the main interpreter (never holding),
                // while the tick names it the holder of its own GIL.
                let holds = held.is_some() || facts.flags.is_some_and(|f| f.holds_gil);
                // The GIL this thread uses: the one it holds, else from its
                // thread state, else the process's only one.
                let own = held
                    .and_then(|i| i.gil_of)
                    .or(facts.gil_of)
                    .or(track.pending.map(|(g, _)| g))
                    .or(match interps {
                        [only] => only.gil_of,
                        _ => None,
                    });
                let enabled = own
                    .and_then(|g| interps.iter().find(|i| i.id == g))
                    .map_or(interps.iter().any(|i| i.enabled), |i| i.enabled);
                if holds {
                    track.pending = None;
                    return own.map_or(ThreadActivity::Unsure, |gil_of| ThreadActivity::Holding {
                        gil_of,
                    });
                }
                if !enabled && !interps.is_empty() {
                    track.pending = None;
                    return ThreadActivity::RunningFree;
                }
                // 3.15: inside `take_gil` is exact. Outside it is not yet
                // "free": a thread that just dropped the GIL for a forced
                // switch waits in `drop_gil` for the hand-off (no flag set),
                // then is runnable — on a busy machine queued for a core for
                // a long while — on its way back into `take_gil`; rules 4–5
                // decide, as on 3.13/3.14.
                if facts.flags.and_then(|f| f.gil_requested) == Some(true)
                    && let Some(gil_of) = own
                {
                    return ThreadActivity::WaitingForGil { gil_of };
                }
                if let Some((g, s)) = track.pending
                    && switches(g) == Some(s)
                {
                    return ThreadActivity::WaitingForGil { gil_of: g };
                }
                track.pending = None;
                let computed_free = unexplained.is_some_and(|u| u >= FREE_MIN_SHARE);
                if computed_free {
                    ThreadActivity::RunningFree
                } else {
                    ThreadActivity::Unsure
                }
            }
            ThreadActivity::Blocked => {
                track.pending = None;
                activity
            }
            // Already refined (not what `classify` returns).
            other => other,
        }
    }

    /// Forgets threads not in `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(u32, u32) -> bool) {
        self.tracks.retain(|&(p, t), _| keep(p, t));
        let tracks = &self.tracks;
        self.unknown_ns
            .retain(|&p, _| tracks.keys().any(|&(q, _)| q == p));
    }
}

/// Kept-open `syscall` (and `schedstat`) files of the threads being probed.
#[derive(Debug, Default)]
pub struct WaitProbe {
    files: HashMap<(u32, u32), ProcFile>,
    schedstats: HashMap<(u32, u32), ProcFile>,
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

    /// Thread `tid`'s on-CPU and run-queue time so far (ns); `None` when
    /// it cannot be read (gone, or a kernel without schedstat).
    pub fn schedstat(&mut self, pid: u32, tid: u32) -> Option<(u64, u64)> {
        let key = (pid, tid);
        let file = match self.schedstats.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(ProcFile::open(task_path(pid, tid, "schedstat")).ok()?)
            }
        };
        match file.read(&mut self.buf) {
            Ok(content) => crate::sampler::parse_schedstat(content)
                .ok()
                .flatten()
                .map(|s| (s.on_cpu_ns, s.runqueue_wait_ns)),
            Err(_) => {
                self.schedstats.remove(&key);
                None
            }
        }
    }

    /// Forgets the files of threads not in `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(u32, u32) -> bool) {
        self.files.retain(|&(p, t), _| keep(p, t));
        self.schedstats.retain(|&(p, t), _| keep(p, t));
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

    const NONE: ProbeFacts = ProbeFacts {
        flags: None,
        gil_of: None,
        cpu: None,
    };

    #[test]
    fn a_runnable_waiter_keeps_waiting_until_the_gil_moves() {
        let mut w = WaitTracker::new();
        let waiting = ThreadActivity::WaitingForGil { gil_of: 0 };
        let run = ThreadActivity::Running;
        let holding = ThreadActivity::Holding { gil_of: 0 };
        let unsure = ThreadActivity::Unsure;
        let mut r = |a, g| w.refine(1, 7, a, NONE, &[g]);
        assert_eq!(r(waiting, gil(Some(8), 10)), waiting);
        // Woken by the timeout, queued for a CPU: the GIL has not moved.
        assert_eq!(r(run, gil(Some(8), 10)), waiting);
        assert_eq!(r(run, gil(None, 10)), waiting);
        // It took the GIL: holding, the chain ends.
        assert_eq!(r(run, gil(Some(7), 11)), holding);
        // Runnable, not holding, nothing to prove it is free: unsure, never
        // "running free".
        assert_eq!(r(run, gil(Some(8), 11)), unsure);
        // Waiting again, then the GIL moved on without it: not provable.
        r(waiting, gil(Some(8), 11));
        assert_eq!(r(run, gil(Some(9), 12)), unsure);
        // Blocked elsewhere ends the chain too.
        r(waiting, gil(Some(8), 12));
        assert_eq!(
            r(ThreadActivity::Blocked, gil(Some(8), 12)),
            ThreadActivity::Blocked
        );
        assert_eq!(r(run, gil(Some(8), 12)), unsure);
    }

    fn flags(holds: bool, requested: Option<bool>) -> ProbeFacts {
        ProbeFacts {
            flags: Some(super::super::reader::ThreadFlags {
                holds_gil: holds,
                gil_requested: requested,
            }),
            gil_of: Some(0),
            cpu: None,
        }
    }

    #[test]
    fn thread_state_flags_decide_where_the_version_has_them() {
        let mut w = WaitTracker::new();
        let run = ThreadActivity::Running;
        let g = [gil(Some(8), 10)];
        // 3.15: requested → waiting; clear alone proves nothing (a thread
        // queued on its way back from the hand-off); both → holding.
        assert_eq!(
            w.refine(1, 7, run, flags(false, Some(true)), &g),
            ThreadActivity::WaitingForGil { gil_of: 0 }
        );
        assert_eq!(
            w.refine(1, 7, run, flags(false, Some(false)), &g),
            ThreadActivity::Unsure
        );
        assert_eq!(
            w.refine(1, 7, run, flags(true, Some(true)), &g),
            ThreadActivity::Holding { gil_of: 0 }
        );
        // holds_gil beats a stale snapshot that names another holder.
        assert_eq!(
            w.refine(1, 7, run, flags(true, None), &g),
            ThreadActivity::Holding { gil_of: 0 }
        );
        // Just woken from a GIL sleep with no flag set (the hand-off in
        // drop_gil): not provably free.
        let asleep = ThreadActivity::WaitingForGil { gil_of: 0 };
        w.refine(1, 7, asleep, NONE, &[gil(Some(8), 10)]);
        assert_eq!(
            w.refine(1, 7, run, flags(false, Some(false)), &[gil(Some(8), 11)]),
            ThreadActivity::Unsure
        );
        // A disabled GIL (free-threaded build): free, whatever else.
        let mut off = gil(None, 10);
        off.enabled = false;
        assert_eq!(
            w.refine(1, 9, run, NONE, &[off]),
            ThreadActivity::RunningFree
        );
    }

    fn cpu(t_ms: u64, on_cpu_ms: u64) -> ProbeFacts {
        ProbeFacts {
            flags: Some(super::super::reader::ThreadFlags {
                holds_gil: false,
                gil_requested: None,
            }),
            gil_of: Some(0),
            cpu: Some(CpuReading {
                t_ns: t_ms * 1_000_000,
                on_cpu_ns: on_cpu_ms * 1_000_000,
                runqueue_ns: 0,
            }),
        }
    }

    #[test]
    fn cpu_its_holds_cannot_explain_proves_running_free() {
        let mut w = WaitTracker::new();
        let run = ThreadActivity::Running;
        let free = ThreadActivity::RunningFree;
        let unsure = ThreadActivity::Unsure;
        let g = [gil(Some(8), 10)];
        // Readings every 10 ms; nothing a window old yet: unsure.
        for t in 0..4 {
            assert_eq!(w.refine(1, 7, run, cpu(10 * t, 9 * t), &g), unsure);
        }
        // 40 ms on, 36 ms on a CPU, never the holder: free.
        assert_eq!(w.refine(1, 7, run, cpu(40, 36), &g), free);
        // Then GIL readings name it the holder for the next 40 ms, while
        // it computes: its CPU time is explained by its holds → unsure.
        w.saw_holders(1, 40_000_000, &[gil(Some(7), 11)]);
        assert_eq!(w.refine(1, 7, run, cpu(50, 45), &g), unsure);
        // Under load it gets 12 of the next 40 ms, never the holder: free.
        assert_eq!(w.refine(1, 7, run, cpu(90, 57), &g), free);
        // The same CPU while the GIL was locked by a holder whose id could
        // not be mapped (a container's tid): maybe its own, so never free.
        let mut w = WaitTracker::new();
        let mut hidden = gil(Some(8), 10);
        hidden.holder_tid = None;
        for t in 0..4 {
            w.saw_holders(1, 10_000_000, std::slice::from_ref(&hidden));
            assert_eq!(w.refine(1, 7, run, cpu(10 * t, 9 * t), &g), unsure);
        }
        w.saw_holders(1, 10_000_000, std::slice::from_ref(&hidden));
        assert_eq!(w.refine(1, 7, run, cpu(40, 36), &g), unsure);
        // A waiter's life: asleep, 0.1 ms of wake-ups per 10 ms.
        let mut w = WaitTracker::new();
        for t in 0..10 {
            assert_eq!(w.refine(1, 7, run, cpu(10 * t, t / 10), &g), unsure);
        }
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
