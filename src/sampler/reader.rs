//! [`TaskReader`]: one thread's `stat` and `schedstat` kept open and re-read
//! with `pread(fd, buf, 0)`: two syscalls per thread per sample instead of
//! open + read + read-to-EOF + close for each file.

use super::error::ProcError;
use super::file::ProcFile;
use super::task::{
    Pid, SchedStat, TaskStat, parse_comm, parse_schedstat, parse_task_stat, schedstat_supported,
    task_path,
};

/// Identifies a thread: its process and its own id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId {
    pub pid: Pid,
    pub tid: Pid,
}

/// One reading of one thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskSample {
    pub id: TaskId,
    pub stat: TaskStat,
    /// `None` on a kernel without per-task schedstat.
    pub schedstat: Option<SchedStat>,
}

/// A thread's files, opened once.
#[derive(Debug)]
pub struct TaskReader {
    id: TaskId,
    stat: ProcFile,
    schedstat: Option<ProcFile>,
    name: String,
    /// The last `stat` reading, reused by [`sample_with`](Self::sample_with)
    /// when it skips the (costlier) stat read, and schedstat at that read.
    last_stat: Option<TaskStat>,
    stat_schedstat: Option<SchedStat>,
    /// `children` (processes this thread forked), opened at the first tree
    /// walk that reads it; `None` also where the kernel has no such file.
    children: Option<ProcFile>,
    /// On-CPU ns at the latest schedstat reading.
    last_on_cpu: Option<u64>,
    /// `last_on_cpu` when `children` was last read, and what it listed.
    walked_on_cpu: Option<u64>,
    walked_children: Vec<Pid>,
}

impl TaskReader {
    /// Opens the thread's `stat` and `schedstat` and reads its name.
    /// [`ProcError::Gone`] if the thread exited in the meantime.
    pub fn open(pid: Pid, tid: Pid) -> Result<Self, ProcError> {
        let stat = ProcFile::open(task_path(pid, tid, "stat"))?;
        let schedstat = match ProcFile::open(task_path(pid, tid, "schedstat")) {
            Ok(f) => Some(f),
            Err(e) if e.is_gone() && !schedstat_supported() => None,
            Err(e) => return Err(e),
        };
        let mut reader = Self {
            id: TaskId { pid, tid },
            stat,
            schedstat,
            name: String::new(),
            last_stat: None,
            stat_schedstat: None,
            children: None,
            last_on_cpu: None,
            walked_on_cpu: None,
            walked_children: Vec::new(),
        };
        reader.reload_name()?;
        Ok(reader)
    }

    /// Appends the pids this thread forked (its `children` file, kept open
    /// after the first read). [`ProcError::Gone`] when the thread exited.
    pub fn children_into(
        &mut self,
        buf: &mut Vec<u8>,
        out: &mut Vec<Pid>,
    ) -> Result<(), ProcError> {
        if self.children.is_none() {
            self.children = Some(ProcFile::open(task_path(
                self.id.pid,
                self.id.tid,
                "children",
            ))?);
        }
        let Some(file) = &self.children else {
            return Ok(());
        };
        let content = file.read(buf)?;
        let start = out.len();
        super::tree::parse_children_into(content, out).map_err(|e| {
            ProcError::malformed(&task_path(self.id.pid, self.id.tid, "children"), e)
        })?;
        self.walked_on_cpu = self.last_on_cpu;
        self.walked_children.clear();
        self.walked_children.extend_from_slice(&out[start..]);
        Ok(())
    }

    /// Whether this thread can have forked since its `children` were last
    /// read: only a thread that ran can fork, and schedstat's on-CPU ns
    /// tell whether it ran. True when unknown (never read, no schedstat).
    /// A thread that ran after its latest schedstat reading is caught at
    /// the walk after its next reading.
    pub fn may_have_forked(&self) -> bool {
        self.walked_on_cpu.is_none() || self.walked_on_cpu != self.last_on_cpu
    }

    /// What `children` listed at its last read.
    pub fn walked_children(&self) -> &[Pid] {
        &self.walked_children
    }

    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The thread name (`comm`) as of [`open`](Self::open) or the last
    /// [`reload_name`](Self::reload_name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Re-reads the thread name (threads are often named after they start).
    pub fn reload_name(&mut self) -> Result<(), ProcError> {
        let path = task_path(self.id.pid, self.id.tid, "comm");
        let content = super::file::read_once(&path)?;
        self.name = parse_comm(&content);
        Ok(())
    }

    /// A fresh reading. `buf` is scratch space reused across calls and
    /// threads. [`ProcError::Gone`] once the thread has exited (the kept fds
    /// stay bound to this thread even if its id is reused).
    pub fn sample(&self, buf: &mut Vec<u8>) -> Result<TaskSample, ProcError> {
        let schedstat = match &self.schedstat {
            Some(f) => {
                let content = f.read(buf)?;
                parse_schedstat(content).map_err(|e| ProcError::malformed(f.path(), e))?
            }
            None => None,
        };
        let content = self.stat.read(buf)?;
        let stat =
            parse_task_stat(content).map_err(|e| ProcError::malformed(self.stat.path(), e))?;
        Ok(TaskSample {
            id: self.id,
            stat,
            schedstat,
        })
    }
}

impl TaskReader {
    /// Like [`sample`](Self::sample), but reads `stat` only when `read_stat`
    /// and the thread ran or waited for a core since the last stat read (or
    /// when there is no earlier reading, or no schedstat); otherwise the
    /// state letter, last CPU and utime/stime are those of the last stat
    /// read: a thread that has not run since cannot have changed them (a
    /// thread woken but not yet on a CPU still reads as asleep then).
    /// schedstat (on-CPU and run-queue ns) is always fresh.
    pub fn sample_with(
        &mut self,
        buf: &mut Vec<u8>,
        read_stat: bool,
    ) -> Result<TaskSample, ProcError> {
        match (&self.schedstat, self.last_stat) {
            (Some(f), Some(last)) => {
                let content = f.read(buf)?;
                let schedstat =
                    parse_schedstat(content).map_err(|e| ProcError::malformed(f.path(), e))?;
                self.last_on_cpu = schedstat.map(|s| s.on_cpu_ns);
                let moved = schedstat.is_none() || schedstat != self.stat_schedstat;
                let stat = if read_stat && moved {
                    let content = self.stat.read(buf)?;
                    let fresh = parse_task_stat(content)
                        .map_err(|e| ProcError::malformed(self.stat.path(), e))?;
                    self.last_stat = Some(fresh);
                    self.stat_schedstat = schedstat;
                    fresh
                } else {
                    last
                };
                Ok(TaskSample {
                    id: self.id,
                    stat,
                    schedstat,
                })
            }
            _ => {
                let sample = self.sample(buf)?;
                self.last_stat = Some(sample.stat);
                self.stat_schedstat = sample.schedstat;
                self.last_on_cpu = sample.schedstat.map(|s| s.on_cpu_ns);
                Ok(sample)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::test_support::{BusyThread, gettid};
    use std::time::Duration;

    #[test]
    fn pread_on_the_same_fd_sees_a_busy_thread_run() {
        let busy = BusyThread::spawn();
        let reader = TaskReader::open(std::process::id(), busy.tid).unwrap();
        let mut buf = Vec::new();
        let a = reader.sample(&mut buf).unwrap();
        busy.burn_cpu(Duration::from_millis(100));
        let b = reader.sample(&mut buf).unwrap();
        let (sa, sb) = (a.schedstat.unwrap(), b.schedstat.unwrap());
        // The thread measured 100 ms of its own CPU time; schedstat may lag
        // by at most one scheduler tick.
        assert!(
            sb.on_cpu_ns >= sa.on_cpu_ns + 60_000_000,
            "on-CPU ns {} → {}",
            sa.on_cpu_ns,
            sb.on_cpu_ns
        );
        assert!(sb.timeslices >= sa.timeslices);
        let ticks = |s: &TaskSample| s.stat.utime_ticks + s.stat.stime_ticks;
        assert!(
            ticks(&b) > ticks(&a),
            "utime+stime did not move: {a:?} {b:?}"
        );
    }

    #[test]
    fn stat_is_read_again_once_the_thread_ran() {
        let busy = BusyThread::spawn();
        let mut reader = TaskReader::open(std::process::id(), busy.tid).unwrap();
        let mut buf = Vec::new();
        let a = reader.sample_with(&mut buf, true).unwrap();
        // Asleep: the kept stat is handed back (same values either way).
        let b = reader.sample_with(&mut buf, true).unwrap();
        assert_eq!(a.stat, b.stat);
        busy.burn_cpu(Duration::from_millis(100));
        // Not asked for: the old stat, fresh schedstat.
        let c = reader.sample_with(&mut buf, false).unwrap();
        assert_eq!(c.stat, a.stat);
        assert!(c.schedstat.unwrap().on_cpu_ns > a.schedstat.unwrap().on_cpu_ns);
        // Asked for after the thread ran: read again, utime+stime moved.
        let d = reader.sample_with(&mut buf, true).unwrap();
        let ticks = |s: &TaskSample| s.stat.utime_ticks + s.stat.stime_ticks;
        assert!(ticks(&d) > ticks(&a), "stat not re-read: {a:?} {d:?}");
    }

    #[test]
    fn exited_thread_reads_as_gone_on_kept_fds() {
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::Builder::new()
            .name("short-lived".into())
            .spawn(move || tx.send(gettid()).unwrap())
            .unwrap();
        let tid = rx.recv().unwrap();
        // Open while it may still be alive; if it already exited, open says gone.
        let opened = TaskReader::open(std::process::id(), tid);
        h.join().unwrap();
        match opened {
            Ok(reader) => {
                // Non-leader threads are reaped at exit; give the kernel a moment.
                let gone = crate::sampler::test_support::wait_until(|| {
                    reader.sample(&mut Vec::new()).err().filter(|e| e.is_gone())
                });
                assert!(gone.is_some(), "kept fd of an exited thread still readable");
            }
            Err(e) => assert!(e.is_gone(), "{e}"),
        }
    }

    #[test]
    fn reads_own_thread_name() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let h = std::thread::Builder::new()
            .name("worker 3".into())
            .spawn(move || {
                tx.send(gettid()).unwrap();
                let _ = done_rx.recv();
            })
            .unwrap();
        let tid = rx.recv().unwrap();
        let r = TaskReader::open(std::process::id(), tid).unwrap();
        assert_eq!(r.name(), "worker 3");
        assert_eq!(
            r.id(),
            TaskId {
                pid: std::process::id(),
                tid
            }
        );
        drop(done_tx);
        h.join().unwrap();
    }
}
