//! Thread ids across pid namespaces.
//!
//! CPython stores each thread's `native_thread_id` as the thread sees it:
//! `gettid()` inside its own pid namespace. For a process in a container
//! (a new pid namespace, as Docker, Kubernetes and `unshare --pid` make)
//! that is not the id gilscope reads in `/proc`: the host's
//! `/proc/PID/task/TID/status` lists both on its `NSpid:` line, outermost
//! (the namespace of this `/proc`) first, the thread's own last. [`NsTids`]
//! maps one to the other for one process; an id it cannot map is `None`,
//! and the reader then says the holder is unknown, never someone else.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::sampler::list_threads;

/// A miss re-reads the thread list at most this often.
const RESCAN: Duration = Duration::from_millis(20);

/// The ids on the `NSpid:` line of a `status` text, outermost first.
pub fn parse_nspid(status: &str) -> Option<Vec<u32>> {
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    let ids: Option<Vec<u32>> = line.split_whitespace().map(|v| v.parse().ok()).collect();
    ids.filter(|v| !v.is_empty())
}

/// `NSpid:` of task `tid` of `pid` (`tid == pid`: the process).
fn nspid(pid: u32, tid: u32) -> Option<Vec<u32>> {
    let path = if pid == tid {
        format!("/proc/{pid}/status")
    } else {
        format!("/proc/{pid}/task/{tid}/status")
    };
    parse_nspid(&std::fs::read_to_string(path).ok()?)
}

/// The process's id in its own pid namespace, when that namespace is not
/// the one of this `/proc` (`None`: the same, or unreadable).
pub fn ns_pid(pid: u32) -> Option<u32> {
    let ids = nspid(pid, pid)?;
    (ids.len() > 1).then(|| ids.last().copied()).flatten()
}

/// Thread ids of one process, its namespace's and the host's.
#[derive(Debug)]
pub struct NsTids {
    pid: u32,
    /// The process's own-namespace pid, when its namespace differs.
    ns_pid: Option<u32>,
    /// Own-namespace tid → host tid.
    to_host: HashMap<u32, u32>,
    scanned: Option<Instant>,
}

impl NsTids {
    /// Reads `pid`'s namespace; a process in this `/proc`'s namespace
    /// maps every id to itself.
    pub fn new(pid: u32) -> Self {
        Self {
            pid,
            ns_pid: ns_pid(pid),
            to_host: HashMap::new(),
            scanned: None,
        }
    }

    /// The process's pid in its own namespace, when it differs.
    pub fn ns_pid(&self) -> Option<u32> {
        self.ns_pid
    }

    /// Whether ids need mapping at all.
    pub fn nested(&self) -> bool {
        self.ns_pid.is_some()
    }

    /// Forgets the mapping (the thread list changed: ids may be reused).
    pub fn forget(&mut self) {
        self.to_host.clear();
        self.scanned = None;
    }

    /// Re-reads every thread's `NSpid:` (at most every [`RESCAN`]).
    fn scan(&mut self) {
        if self.scanned.is_some_and(|t| t.elapsed() < RESCAN) {
            return;
        }
        self.scanned = Some(Instant::now());
        let Ok(tids) = list_threads(self.pid) else {
            return;
        };
        self.to_host.clear();
        for tid in tids {
            if let Some(inner) = nspid(self.pid, tid).and_then(|ids| ids.last().copied()) {
                self.to_host.insert(inner, tid);
            }
        }
    }

    /// The host tid of the thread the process knows as `ns_tid`; `None`
    /// when no thread of the process has that id (it exited, or the id is
    /// not a thread id).
    pub fn to_host(&mut self, ns_tid: u32) -> Option<u32> {
        if !self.nested() {
            return Some(ns_tid);
        }
        if let Some(&h) = self.to_host.get(&ns_tid) {
            return Some(h);
        }
        self.scan();
        self.to_host.get(&ns_tid).copied()
    }

    /// The own-namespace tid of host thread `host_tid`.
    pub fn to_ns(&mut self, host_tid: u32) -> Option<u32> {
        if !self.nested() {
            return Some(host_tid);
        }
        let find = |m: &HashMap<u32, u32>| m.iter().find(|(_, h)| **h == host_tid).map(|(n, _)| *n);
        if let Some(n) = find(&self.to_host) {
            return Some(n);
        }
        self.scan();
        find(&self.to_host)
    }
}

/// The host's (pid, tid) of the thread a process of `root`'s tree knows
/// as (`ns_pid`, `ns_tid`) — what a harness inside a container reports
/// (`root` itself may be outside it: `unshare --pid --fork` is the parent
/// of the namespace's first process); the same ids for a process in this
/// `/proc`'s namespace.
pub fn host_ids(root: u32, ns_pid_of: u32, ns_tid: u32) -> Option<(u32, u32)> {
    let tree = crate::sampler::process_tree(root).ok()?;
    let pid = tree
        .into_iter()
        .find(|&p| nspid(p, p).and_then(|ids| ids.last().copied()) == Some(ns_pid_of))?;
    let tid = NsTids::new(pid).to_host(ns_tid)?;
    Some((pid, tid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_nspid_line() {
        let status = "Name:\tpython3.15\nTgid:\t4242\nNSpid:\t4242\t7\nPPid:\t1\n";
        assert_eq!(parse_nspid(status), Some(vec![4242, 7]));
        assert_eq!(parse_nspid("NSpid:\t12\n"), Some(vec![12]));
        assert_eq!(parse_nspid("NSpid:\tx\n"), None);
        assert_eq!(parse_nspid("Name:\ty\n"), None);
    }

    #[test]
    fn a_process_in_this_namespace_maps_to_itself() {
        let me = std::process::id();
        let mut t = NsTids::new(me);
        assert!(!t.nested());
        assert_eq!(t.to_host(me), Some(me));
        assert_eq!(t.to_ns(me), Some(me));
        assert_eq!(host_ids(me, me, me), Some((me, me)));
    }
}
