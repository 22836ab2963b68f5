//! [`ThreadSet`]: the threads of a process tree, tracked across samples.
//!
//! `refresh` finds new processes and threads and opens their files once;
//! `sample_threads` and `sample_memory` re-read every open file with pread.
//! A thread that exits is reported in [`ThreadPass::gone`] and dropped; it
//! never stops the pass. Only the root process vanishing is an error.
//!
//! Costs measured on the project machine (2 vCPUs, 65 threads): a thread
//! pass ≈ 0.3 ms (the task `stat` reads are ¾ of it), `refresh_threads` ≈
//! 30 µs, `refresh` ≈ 0.45 ms (it reads every thread's `children` file).
//! Call `refresh_threads` every pass if thread churn matters and `refresh`
//! a few times a second.

use std::collections::BTreeMap;

use super::error::ProcError;
use super::mem::{Statm, StatmReader};
use super::reader::{TaskId, TaskReader, TaskSample};
use super::task::Pid;
use super::tree::{list_threads_into, process_tree};

/// What one `refresh` changed.
#[derive(Debug, Default)]
pub struct RefreshReport {
    pub added: Vec<TaskId>,
    pub removed: Vec<TaskId>,
    /// Threads that could not be opened for a reason other than exiting
    /// (e.g. EMFILE, EACCES); they are retried on the next refresh.
    pub errors: Vec<ProcError>,
}

/// One pass over all threads. Reused across passes to avoid allocation.
#[derive(Debug, Default)]
pub struct ThreadPass {
    pub threads: Vec<TaskSample>,
    /// Threads that exited since the last pass; already dropped from the set.
    pub gone: Vec<TaskId>,
    /// Reads that failed for another reason; those threads stay in the set.
    pub errors: Vec<ProcError>,
}

impl ThreadPass {
    pub fn clear(&mut self) {
        self.threads.clear();
        self.gone.clear();
        self.errors.clear();
    }
}

/// RSS of one process of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessMemory {
    pub pid: Pid,
    pub statm: Statm,
}

/// One `statm` pass over all processes.
#[derive(Debug, Default)]
pub struct MemoryPass {
    pub processes: Vec<ProcessMemory>,
    /// Processes whose statm could not be read because they exited.
    pub gone: Vec<Pid>,
    pub errors: Vec<ProcError>,
}

#[derive(Debug)]
struct ProcessEntry {
    /// `None` if statm could not be opened (retried on refresh).
    statm: Option<StatmReader>,
    tasks: BTreeMap<Pid, TaskReader>,
    /// `/proc/PID/task`, kept open: its link count is 2 + the number of
    /// threads (procfs), so one `fstat` says whether listing it again could
    /// find anything new.
    task_dir: Option<std::fs::File>,
    /// Link count at the last listing.
    listed_nlink: Option<u64>,
    /// Tree walks since the threads were last listed.
    walks_unlisted: u32,
}

/// A tree walk lists the threads of a process whose thread count did not
/// change only every this many walks (a thread that exits while another
/// starts between two samples leaves the count unchanged; it is found at
/// the latest then). Such a walk also reads the `children` of every
/// thread, including those that have not run since their last read.
pub const RELIST_EVERY_WALKS: u32 = 5;

/// The link count of an open `/proc/PID/task` (`None` if unreadable).
fn task_dir_nlink(dir: &std::fs::File) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    dir.metadata().ok().map(|m| m.nlink())
}

/// The threads of `root` and all its descendants, with their files open.
/// Uses two file descriptors per thread plus one per process.
#[derive(Debug)]
pub struct ThreadSet {
    root: Pid,
    processes: BTreeMap<Pid, ProcessEntry>,
    buf: Vec<u8>,
    scratch: Vec<Pid>,
    /// Tree walks so far.
    walks: u32,
}

impl ThreadSet {
    /// An empty set; call [`refresh`](Self::refresh) to populate it.
    pub fn new(root: Pid) -> Self {
        Self {
            root,
            processes: BTreeMap::new(),
            buf: Vec::new(),
            scratch: Vec::new(),
            walks: 0,
        }
    }

    pub fn root(&self) -> Pid {
        self.root
    }

    /// Number of threads tracked.
    pub fn len(&self) -> usize {
        self.processes.values().map(|p| p.tasks.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Processes tracked, ascending.
    pub fn pids(&self) -> impl Iterator<Item = Pid> + '_ {
        self.processes.keys().copied()
    }

    /// Threads tracked, ascending by (pid, tid).
    pub fn task_ids(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.processes
            .values()
            .flat_map(|p| p.tasks.values().map(|t| t.id()))
    }

    pub fn contains(&self, id: TaskId) -> bool {
        self.task(id).is_some()
    }

    /// Thread name as read when the thread was first seen or at the last
    /// [`reload_names`](Self::reload_names): `exec` and
    /// `pthread_setname_np` change it later.
    pub fn name(&self, id: TaskId) -> Option<&str> {
        self.task(id).map(|t| t.name())
    }

    fn task(&self, id: TaskId) -> Option<&TaskReader> {
        self.processes.get(&id.pid)?.tasks.get(&id.tid)
    }

    /// Walks the process tree under the root and lists each process's
    /// threads: opens new ones, drops processes and threads no longer there.
    /// [`ProcError::Gone`] only when the root itself is gone.
    pub fn refresh(&mut self) -> Result<RefreshReport, ProcError> {
        let tree = self.process_tree()?;
        let mut report = RefreshReport::default();
        let stale: Vec<Pid> = self
            .processes
            .keys()
            .copied()
            .filter(|p| !tree.contains(p))
            .collect();
        for pid in stale {
            if let Some(entry) = self.processes.remove(&pid) {
                report.removed.extend(entry.tasks.values().map(|t| t.id()));
            }
        }
        for pid in tree {
            let skip = self.processes.get_mut(&pid).is_some_and(|e| {
                let unchanged = e.listed_nlink.is_some()
                    && e.task_dir.as_ref().and_then(task_dir_nlink) == e.listed_nlink;
                e.walks_unlisted += 1;
                unchanged && e.walks_unlisted < RELIST_EVERY_WALKS
            });
            if !skip {
                self.refresh_process(pid, &mut report);
            }
        }
        Ok(report)
    }

    /// `root` and its descendants, parents first. Known processes are
    /// walked through their threads' `children` files, kept open (a walk
    /// every 5th sample would otherwise open one file per thread each time);
    /// new processes through [`process_tree`]'s path. Gone if root is.
    fn process_tree(&mut self) -> Result<Vec<Pid>, ProcError> {
        if !super::tree::children_files_supported() || !self.processes.contains_key(&self.root) {
            return process_tree(self.root);
        }
        let root_dir = std::path::PathBuf::from(format!("/proc/{}", self.root));
        if !root_dir.exists() {
            return Err(ProcError::Gone { path: root_dir });
        }
        let mut out = vec![self.root];
        let mut seen = std::collections::HashSet::from([self.root]);
        let mut queue = std::collections::VecDeque::from([self.root]);
        let mut kids = Vec::new();
        let mut kept = Vec::new();
        // Every RELIST_EVERY_WALKS-th walk reads every thread's children.
        self.walks = self.walks.wrapping_add(1);
        let read_all = self.walks.is_multiple_of(RELIST_EVERY_WALKS);
        while let Some(pid) = queue.pop_front() {
            kids.clear();
            match self.processes.get_mut(&pid) {
                Some(entry) => {
                    for reader in entry.tasks.values_mut() {
                        if !read_all && !reader.may_have_forked() {
                            kept.extend_from_slice(reader.walked_children());
                            continue;
                        }
                        match reader.children_into(&mut self.buf, &mut kids) {
                            Ok(()) => {}
                            // Exited: its children were reparented.
                            Err(e) if e.is_gone() => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                None => match super::tree::children_of(pid) {
                    Ok(k) => kids.extend(k),
                    Err(e) if e.is_gone() => {}
                    Err(e) => return Err(e),
                },
            }
            // Children listed earlier by threads that have not run since:
            // only those still sampled (their kept fds prove they are the
            // same processes), never a number that may have been reused.
            kids.extend(kept.drain(..).filter(|k| self.processes.contains_key(k)));
            kids.sort_unstable();
            kids.dedup();
            for &kid in &kids {
                if seen.insert(kid) {
                    out.push(kid);
                    queue.push_back(kid);
                }
            }
        }
        Ok(out)
    }

    /// Re-lists the threads of the processes already known, without walking
    /// the tree (cheaper: one directory read per process). New child
    /// processes are only found by [`refresh`](Self::refresh).
    pub fn refresh_threads(&mut self) -> RefreshReport {
        let mut report = RefreshReport::default();
        let pids: Vec<Pid> = self.processes.keys().copied().collect();
        for pid in pids {
            // Same number of threads as at the last listing: nothing to
            // open (an exit is seen when its files fail to read; an exit
            // plus a start between two samples waits for the next walk).
            let unchanged = self.processes.get(&pid).is_some_and(|e| {
                e.listed_nlink.is_some()
                    && e.task_dir.as_ref().and_then(task_dir_nlink) == e.listed_nlink
            });
            if !unchanged {
                self.refresh_process(pid, &mut report);
            }
        }
        report
    }

    fn refresh_process(&mut self, pid: Pid, report: &mut RefreshReport) {
        // The count before listing: a thread started while we list makes
        // the next count differ, so the next sample lists again.
        let nlink_before = self
            .processes
            .get(&pid)
            .and_then(|e| e.task_dir.as_ref())
            .and_then(task_dir_nlink);
        let mut tids = std::mem::take(&mut self.scratch);
        if let Err(e) = list_threads_into(pid, &mut tids) {
            // Gone: the whole process exited since the tree walk.
            if let Some(entry) = self.processes.remove(&pid) {
                report.removed.extend(entry.tasks.values().map(|t| t.id()));
            }
            if !e.is_gone() {
                report.errors.push(e);
            }
            self.scratch = tids;
            return;
        }
        let entry = self.processes.entry(pid).or_insert_with(|| ProcessEntry {
            statm: None,
            tasks: BTreeMap::new(),
            task_dir: std::fs::File::open(format!("/proc/{pid}/task")).ok(),
            listed_nlink: None,
            walks_unlisted: 0,
        });
        entry.walks_unlisted = 0;
        // A process seen for the first time: counted just after listing (a
        // thread started in between waits for the next tree walk).
        entry.listed_nlink =
            nlink_before.or_else(|| entry.task_dir.as_ref().and_then(task_dir_nlink));
        if entry.statm.is_none() {
            match StatmReader::open(pid) {
                Ok(r) => entry.statm = Some(r),
                Err(e) if e.is_gone() => {}
                Err(e) => report.errors.push(e),
            }
        }
        entry.tasks.retain(|tid, reader| {
            let keep = tids.binary_search(tid).is_ok();
            if !keep {
                report.removed.push(reader.id());
            }
            keep
        });
        for &tid in &tids {
            if entry.tasks.contains_key(&tid) {
                continue;
            }
            match TaskReader::open(pid, tid) {
                Ok(reader) => {
                    report.added.push(reader.id());
                    entry.tasks.insert(tid, reader);
                }
                Err(e) if e.is_gone() => {}
                Err(e) => report.errors.push(e),
            }
        }
        if entry.tasks.is_empty() {
            self.processes.remove(&pid);
        }
        self.scratch = tids;
    }

    /// Reads stat and schedstat of every tracked thread into `out` (cleared
    /// first). Exited threads go to `out.gone` and are dropped from the set.
    pub fn sample_threads(&mut self, out: &mut ThreadPass) {
        self.sample_threads_with(out, true);
    }

    /// Like [`sample_threads`](Self::sample_threads), reading `stat` only
    /// when `read_stat` (schedstat is always read; see
    /// [`TaskReader::sample_with`]).
    pub fn sample_threads_with(&mut self, out: &mut ThreadPass, read_stat: bool) {
        self.sample_threads_filtered(out, read_stat, |_| true);
    }

    /// Like [`sample_threads_with`](Self::sample_threads_with), reading only
    /// the threads for which `read` says so (the others are left out of
    /// `out`, still tracked).
    pub fn sample_threads_filtered(
        &mut self,
        out: &mut ThreadPass,
        read_stat: bool,
        read: impl Fn(TaskId) -> bool,
    ) {
        out.clear();
        let buf = &mut self.buf;
        for entry in self.processes.values_mut() {
            let first_gone = out.gone.len();
            for reader in entry.tasks.values_mut() {
                if !read(reader.id()) {
                    continue;
                }
                match reader.sample_with(buf, read_stat) {
                    Ok(s) => out.threads.push(s),
                    Err(e) if e.is_gone() => out.gone.push(reader.id()),
                    Err(e) => out.errors.push(e),
                }
            }
            for gone in &out.gone[first_gone..] {
                entry.tasks.remove(&gone.tid);
            }
        }
        if !out.gone.is_empty() {
            self.processes.retain(|_, p| !p.tasks.is_empty());
        }
    }

    /// Reads statm of every tracked process into `out` (cleared first).
    pub fn sample_memory(&mut self, out: &mut MemoryPass) {
        out.processes.clear();
        out.gone.clear();
        out.errors.clear();
        for (&pid, entry) in &self.processes {
            let Some(reader) = &entry.statm else { continue };
            match reader.read(&mut self.buf) {
                // An exited, unreaped process (zombie) reads as all
                // zeros: it has no memory to report, it is gone.
                Ok(statm) if statm.vm_bytes == 0 && statm.rss_bytes == 0 => out.gone.push(pid),
                Ok(statm) => out.processes.push(ProcessMemory { pid, statm }),
                Err(e) if e.is_gone() => out.gone.push(pid),
                Err(e) => out.errors.push(e),
            }
        }
    }

    /// Re-reads every thread's name; returns the errors other than "gone".
    pub fn reload_names(&mut self) -> Vec<ProcError> {
        let mut errors = Vec::new();
        for entry in self.processes.values_mut() {
            for reader in entry.tasks.values_mut() {
                if let Err(e) = reader.reload_name()
                    && !e.is_gone()
                {
                    errors.push(e);
                }
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::test_support::{ChildGroup, gettid, wait_until};
    use std::sync::mpsc::channel;

    #[test]
    fn tracks_a_thread_until_it_exits_then_reports_it_gone() {
        let me = std::process::id();
        let (tid_tx, tid_rx) = channel();
        let (stop_tx, stop_rx) = channel::<()>();
        let h = std::thread::Builder::new()
            .name("gs-victim".into())
            .spawn(move || {
                tid_tx.send(gettid()).unwrap();
                let _ = stop_rx.recv();
            })
            .unwrap();
        let id = TaskId {
            pid: me,
            tid: tid_rx.recv().unwrap(),
        };

        let mut set = ThreadSet::new(me);
        let report = set.refresh().unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(set.contains(id) && set.contains(TaskId { pid: me, tid: me }));
        assert_eq!(set.name(id), Some("gs-victim"));

        let mut pass = ThreadPass::default();
        set.sample_threads(&mut pass);
        let s = pass.threads.iter().find(|s| s.id == id).unwrap();
        assert!(s.schedstat.is_some());
        assert!(s.stat.num_threads >= 2);

        drop(stop_tx);
        h.join().unwrap();
        let gone = wait_until(|| {
            set.sample_threads(&mut pass);
            pass.gone.contains(&id).then_some(())
        });
        assert!(gone.is_some(), "exited thread never reported gone");
        assert!(!set.contains(id), "gone thread still tracked");
        assert!(pass.errors.is_empty(), "{:?}", pass.errors);
        // The pass went on for everyone else.
        assert!(pass.threads.iter().any(|s| s.id.tid == me));
    }

    #[test]
    fn follows_child_processes_and_their_memory() {
        let group = ChildGroup::spawn("sleep 30 & wait");
        let sh = group.pid();
        let mut set = ThreadSet::new(sh);
        let sleep = wait_until(|| {
            set.refresh().unwrap();
            set.pids().find(|&p| p != sh)
        })
        .expect("sleep child never seen");
        assert_eq!(set.pids().collect::<Vec<_>>(), vec![sh, sleep]);
        assert_eq!(set.len(), 2);
        // Forked but maybe not yet exec'd: the name is "sh" until then, and
        // only reload_names picks up the change.
        let renamed = wait_until(|| {
            assert!(set.reload_names().is_empty());
            (set.name(TaskId {
                pid: sleep,
                tid: sleep,
            }) == Some("sleep"))
            .then_some(())
        });
        assert!(renamed.is_some(), "exec'd child never renamed");

        let mut mem = MemoryPass::default();
        set.sample_memory(&mut mem);
        assert_eq!(mem.processes.len(), 2);
        assert!(mem.processes.iter().all(|p| p.statm.rss_bytes > 0));

        // Kill only `sleep`; the shell reaps it and the set reports it gone.
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(libc::pid_t::try_from(sleep).unwrap(), libc::SIGKILL) };
        let mut pass = ThreadPass::default();
        let id = TaskId {
            pid: sleep,
            tid: sleep,
        };
        let gone = wait_until(|| {
            set.sample_threads(&mut pass);
            pass.gone.contains(&id).then_some(())
        });
        assert!(gone.is_some());
        assert_eq!(set.pids().collect::<Vec<_>>(), vec![sh]);
    }

    /// A walk then a pass over the threads, as the sampler does.
    fn walk_and_sample(set: &mut ThreadSet, pass: &mut ThreadPass) {
        set.refresh().unwrap();
        set.sample_threads(pass);
    }

    #[test]
    fn a_walk_keeps_the_children_of_threads_that_did_not_run() {
        let group = ChildGroup::spawn("sleep 30 & wait");
        let sh = group.pid();
        let shell = TaskId { pid: sh, tid: sh };
        let mut set = ThreadSet::new(sh);
        let mut pass = ThreadPass::default();
        // Until the shell sits in wait(): read twice with no CPU in between.
        let settled = wait_until(|| {
            walk_and_sample(&mut set, &mut pass);
            (set.pids().count() == 2 && !set.task(shell).unwrap().may_have_forked()).then_some(())
        });
        assert!(settled.is_some(), "the shell never settled");
        let tree: Vec<Pid> = set.pids().collect();
        // Walks that skip the shell's children file (and the full ones in
        // between) keep its child.
        for _ in 0..2 * RELIST_EVERY_WALKS {
            walk_and_sample(&mut set, &mut pass);
            assert_eq!(set.pids().collect::<Vec<_>>(), tree);
        }
        assert_eq!(set.task(shell).unwrap().walked_children(), &tree[1..]);
    }

    #[test]
    fn a_thread_that_slept_and_then_forked_is_walked_again() {
        // The shell forks `sleep 0.5`, sleeps in wait() (its children are
        // then not re-read), wakes to reap it and forks `sleep 30`.
        let group = ChildGroup::spawn("sleep 0.5; sleep 30 & wait");
        let sh = group.pid();
        let mut set = ThreadSet::new(sh);
        let mut pass = ThreadPass::default();
        let first = wait_until(|| {
            walk_and_sample(&mut set, &mut pass);
            set.pids().find(|&p| p != sh)
        })
        .expect("first child never seen");
        let second = wait_until(|| {
            walk_and_sample(&mut set, &mut pass);
            let kids: Vec<Pid> = set.pids().filter(|&p| p != sh).collect();
            (kids.len() == 1 && kids[0] != first).then(|| kids[0])
        })
        .expect("the child forked after the sleep was never found");
        let cmdline = std::fs::read(format!("/proc/{second}/cmdline")).unwrap_or_default();
        // Forked but maybe not yet exec'd: the shell's copy, or `sleep 30`.
        assert!(
            cmdline.windows(2).any(|w| w == b"30") || cmdline.starts_with(b"sh"),
            "{}",
            String::from_utf8_lossy(&cmdline)
        );
    }

    #[test]
    fn refresh_of_a_gone_root_is_gone() {
        let mut set = ThreadSet::new(u32::MAX - 1);
        assert!(set.refresh().unwrap_err().is_gone());
        assert!(set.is_empty());
        let mut pass = ThreadPass::default();
        set.sample_threads(&mut pass);
        assert!(pass.threads.is_empty() && pass.gone.is_empty());
    }

    #[test]
    fn refresh_threads_picks_up_new_threads_without_a_tree_walk() {
        let me = std::process::id();
        let mut set = ThreadSet::new(me);
        set.refresh().unwrap();
        let (tid_tx, tid_rx) = channel();
        let (stop_tx, stop_rx) = channel::<()>();
        let h = std::thread::spawn(move || {
            tid_tx.send(gettid()).unwrap();
            let _ = stop_rx.recv();
        });
        let id = TaskId {
            pid: me,
            tid: tid_rx.recv().unwrap(),
        };
        let report = set.refresh_threads();
        assert!(report.added.contains(&id));
        drop(stop_tx);
        h.join().unwrap();
        let removed = wait_until(|| set.refresh_threads().removed.contains(&id).then_some(()));
        assert!(removed.is_some());
    }
}
