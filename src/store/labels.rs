//! Names for OS threads: "main", "worker 3", "interp 3", "worker 3/other",
//! "other", from the harness's `hello` and `worker_started` events.
//!
//! Samples may arrive before the event that names their thread, so threads
//! are stored by TID and labelled when asked.

use crate::interp::Mode;
use crate::run::protocol::{Hello, ThreadName, WorkerStarted};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// What a thread is, in the order a thread list shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "worker")]
pub enum ThreadLabel {
    /// The harness's main thread (TID = the harness's pid).
    Main,
    /// Worker k's thread (thread modes), or worker process k's main thread.
    Worker(usize),
    /// The thread driving subinterpreter k.
    Interp(usize),
    /// Any other thread of worker process k (`process` mode).
    WorkerOther(usize),
    /// Everything else: feeder threads, the resource tracker, helpers.
    Other,
}

impl ThreadLabel {
    /// The worker index, for a worker's own thread.
    pub fn worker(self) -> Option<usize> {
        match self {
            ThreadLabel::Worker(k) | ThreadLabel::Interp(k) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for ThreadLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadLabel::Main => f.write_str("main"),
            ThreadLabel::Worker(k) => write!(f, "worker {k}"),
            ThreadLabel::Interp(k) => write!(f, "interp {k}"),
            ThreadLabel::WorkerOther(k) => write!(f, "worker {k}/other"),
            ThreadLabel::Other => f.write_str("other"),
        }
    }
}

/// What the events said about who is who.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labeler {
    mode: Option<Mode>,
    harness_pid: Option<u32>,
    /// Worker by the TID of its thread (`native_id`).
    worker_by_tid: HashMap<u32, usize>,
    /// Worker by its process (`process` mode only).
    worker_by_pid: HashMap<u32, usize>,
    /// Python thread names by TID (`thread_name` events of a script run).
    names: HashMap<u32, String>,
}

impl Labeler {
    pub fn new(mode: Mode) -> Self {
        Self {
            mode: Some(mode),
            ..Self::default()
        }
    }

    pub fn on_hello(&mut self, hello: &Hello) {
        self.harness_pid = Some(hello.pid);
    }

    pub fn on_worker_started(&mut self, started: &WorkerStarted) {
        let Ok(tid) = u32::try_from(started.native_id) else {
            return;
        };
        self.worker_by_tid.insert(tid, started.worker);
        if self.mode == Some(Mode::Process) {
            self.worker_by_pid.insert(started.pid, started.worker);
        }
    }

    pub fn on_thread_name(&mut self, named: &ThreadName) {
        if let Ok(tid) = u32::try_from(named.native_id) {
            self.names.insert(tid, named.name.clone());
        }
    }

    /// The Python name of thread `tid`, when an event gave it.
    pub fn python_name(&self, tid: u32) -> Option<&str> {
        self.names.get(&tid).map(String::as_str)
    }

    /// The TID of worker `worker`'s thread, once it has started.
    pub fn worker_tid(&self, worker: usize) -> Option<u32> {
        self.worker_by_tid
            .iter()
            .filter(|&(_, &w)| w == worker)
            .map(|(&tid, _)| tid)
            .min()
    }

    /// The label of thread `tid` of process `pid`.
    pub fn label(&self, pid: u32, tid: u32) -> ThreadLabel {
        if let Some(&k) = self.worker_by_tid.get(&tid) {
            return match self.mode {
                Some(Mode::Subinterp) => ThreadLabel::Interp(k),
                _ => ThreadLabel::Worker(k),
            };
        }
        if Some(tid) == self.harness_pid {
            return ThreadLabel::Main;
        }
        match self.worker_by_pid.get(&pid) {
            Some(&k) => ThreadLabel::WorkerOther(k),
            None => ThreadLabel::Other,
        }
    }
}

/// "primes · ft · 2 workers · 3.13t".
pub fn run_label(record: &super::RunRecord) -> String {
    let spec = record.spec();
    if !spec.is_workload() {
        // "attach:python3 · gil · pid 2506", "script:two_threads.py · ft · 3.13t".
        let what = match spec.workload.split_once(':') {
            Some((kind, path)) => format!(
                "{kind}:{}",
                std::path::Path::new(path)
                    .file_name()
                    .map_or(path.to_string(), |n| n.to_string_lossy().into_owned())
            ),
            None => spec.workload.clone(),
        };
        return format!("{what} · {} · {}", spec.mode, spec.interp_name);
    }
    let workload = std::path::Path::new(&spec.workload)
        .file_stem()
        .map_or(spec.workload.clone(), |s| s.to_string_lossy().to_string());
    format!(
        "{workload} · {} · {} worker{} · {}",
        spec.mode,
        spec.workers,
        if spec.workers == 1 { "" } else { "s" },
        spec.interp_name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(pid: u32) -> Hello {
        serde_json::from_value(serde_json::json!({
            "v": 1, "t_ns": 1, "pid": pid, "python": "3.13.5", "ft_build": false,
            "gil_enabled": true, "mode": "gil", "workers": 2, "workload": "primes"
        }))
        .unwrap()
    }

    fn started(worker: usize, native_id: u64, pid: u32) -> WorkerStarted {
        WorkerStarted {
            t_ns: 2,
            worker,
            native_id,
            interp_id: None,
            pid,
        }
    }

    #[test]
    fn thread_modes_label_workers_by_tid() {
        for mode in [Mode::Gil, Mode::Ft, Mode::FtGil] {
            let mut l = Labeler::new(mode);
            assert_eq!(l.label(100, 101), ThreadLabel::Other, "before any event");
            l.on_hello(&hello(100));
            l.on_worker_started(&started(0, 101, 100));
            l.on_worker_started(&started(1, 102, 100));
            assert_eq!(l.label(100, 100), ThreadLabel::Main);
            assert_eq!(l.label(100, 101).to_string(), "worker 0");
            assert_eq!(l.label(100, 102).to_string(), "worker 1");
            assert_eq!(l.label(100, 103), ThreadLabel::Other);
            assert_eq!(l.worker_tid(1), Some(102));
            assert_eq!(l.worker_tid(2), None);
        }
    }

    #[test]
    fn subinterp_mode_labels_interps_and_feeders_are_other() {
        let mut l = Labeler::new(Mode::Subinterp);
        l.on_hello(&hello(100));
        l.on_worker_started(&WorkerStarted {
            interp_id: Some(1),
            ..started(0, 105, 100)
        });
        assert_eq!(l.label(100, 105).to_string(), "interp 0");
        assert_eq!(l.label(100, 106).to_string(), "other");
        assert_eq!(l.label(100, 100).to_string(), "main");
    }

    #[test]
    fn process_mode_labels_worker_processes_and_their_threads() {
        let mut l = Labeler::new(Mode::Process);
        l.on_hello(&hello(100));
        l.on_worker_started(&started(0, 200, 200));
        l.on_worker_started(&started(1, 300, 300));
        assert_eq!(l.label(200, 200).to_string(), "worker 0");
        assert_eq!(l.label(300, 300).to_string(), "worker 1");
        assert_eq!(l.label(300, 301).to_string(), "worker 1/other");
        assert_eq!(l.label(100, 100).to_string(), "main");
        assert_eq!(l.label(100, 104).to_string(), "other", "queue feeder");
        assert_eq!(l.label(400, 400).to_string(), "other", "resource tracker");
    }

    #[test]
    fn labels_sort_main_workers_other() {
        let mut labels = vec![
            ThreadLabel::Other,
            ThreadLabel::WorkerOther(0),
            ThreadLabel::Worker(1),
            ThreadLabel::Main,
            ThreadLabel::Worker(0),
        ];
        labels.sort();
        assert_eq!(
            labels,
            [
                ThreadLabel::Main,
                ThreadLabel::Worker(0),
                ThreadLabel::Worker(1),
                ThreadLabel::WorkerOther(0),
                ThreadLabel::Other
            ]
        );
    }
}
