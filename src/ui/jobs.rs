//! Background work for the window other than runs: finding interpreters,
//! describing workloads, installing CPython, reading and writing files.
//! Each job runs on its own thread and sends one [`JobResult`] (an install
//! also sends its progress); the UI drains them once per frame.

use crate::interp::install::{InstallEvent, InstallRequest, install};
use crate::interp::{DiscoverOptions, Interpreter, discover};
use crate::run::catalog::{WorkloadInfo, probe_workloads};
use crate::store::RunRecord;
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What a finished (or progressing) job reports.
#[derive(Debug)]
pub enum JobResult {
    Interpreters(Vec<Interpreter>),
    Workloads {
        python: PathBuf,
        result: Result<Vec<WorkloadInfo>, String>,
    },
    Install(InstallEvent),
    InstallDone(Result<Vec<PathBuf>, String>),
    /// Run files read from disk (a file, or every run file of a folder).
    Opened {
        path: PathBuf,
        result: Result<Vec<RunRecord>, String>,
    },
    /// A Run or Sweep whose parameters were checked (`harness.py --check`).
    Checked {
        batch: Box<crate::ui::action::Batch>,
        result: Result<(), String>,
    },
    /// A process inspected before attaching (its maps and ELF files).
    Inspected(Result<crate::run::attach::Target, String>),
    /// The running Python processes (*Attach…*).
    Processes(Vec<crate::run::attach::Target>),
    /// How far a long job is (a line for the status bar).
    Progress(String),
    /// Files written by an export or a screenshot.
    Wrote {
        what: String,
        result: Result<Vec<PathBuf>, String>,
    },
}

/// The job queue of one window.
#[derive(Clone)]
pub struct Jobs {
    tx: Sender<JobResult>,
    rx: Receiver<JobResult>,
    ctx: Arc<Mutex<Option<egui::Context>>>,
}

impl Default for Jobs {
    fn default() -> Self {
        let (tx, rx) = unbounded();
        Self {
            tx,
            rx,
            ctx: Arc::new(Mutex::new(None)),
        }
    }
}

impl Jobs {
    /// Remembers the context to wake when a job reports.
    pub fn set_context(&self, ctx: &egui::Context) {
        if let Ok(mut slot) = self.ctx.lock()
            && slot.as_ref() != Some(ctx)
        {
            *slot = Some(ctx.clone());
        }
    }

    /// A function that makes the window repaint (from any thread).
    pub fn waker(&self) -> impl Fn() + Send + Sync + 'static {
        let ctx = self.ctx.clone();
        move || wake(&ctx)
    }

    /// Sends a result as if a job had finished (used by screenshot callbacks).
    pub fn sender(&self) -> JobSender {
        JobSender {
            tx: self.tx.clone(),
            ctx: self.ctx.clone(),
        }
    }

    /// Results so far, without waiting.
    pub fn drain(&self) -> Vec<JobResult> {
        self.rx.try_iter().collect()
    }

    /// Runs `work` on a new thread; its result arrives through [`Jobs::drain`].
    pub fn spawn(&self, name: &str, work: impl FnOnce(&JobSender) -> JobResult + Send + 'static) {
        let sender = self.sender();
        let spawned = std::thread::Builder::new()
            .name(format!("gilscope-ui-{name}"))
            .spawn(move || {
                let result = work(&sender);
                sender.send(result);
            });
        if let Err(e) = spawned {
            self.sender().send(JobResult::Wrote {
                what: name.to_string(),
                result: Err(format!("cannot start a thread: {e}")),
            });
        }
    }

    pub fn discover(&self) {
        self.spawn("discover", |_| {
            JobResult::Interpreters(discover(&DiscoverOptions::default()))
        });
    }

    pub fn describe_workloads(&self, python: PathBuf) {
        self.spawn("catalog", move |_| JobResult::Workloads {
            result: probe_workloads(&python),
            python,
        });
    }

    /// Installs CPython 3.13 + 3.13t (with uv: seconds; from source:
    /// minutes); progress arrives as
    /// [`JobResult::Install`], the end as [`JobResult::InstallDone`].
    pub fn install(&self) {
        self.spawn("install", |sender| {
            let (tx, rx) = unbounded();
            let forward = {
                let sender = sender.clone();
                std::thread::spawn(move || {
                    for ev in rx {
                        sender.send(JobResult::Install(ev));
                    }
                })
            };
            let result = install(&InstallRequest::new("3.13"), &tx).map_err(|e| e.to_string());
            drop(tx);
            let _ = forward.join();
            JobResult::InstallDone(result)
        });
    }

    /// Reads a run file, or every run file in a folder (a sweep's `runs/`
    /// too), sorted by name.
    pub fn open(&self, path: PathBuf) {
        self.spawn("open", move |_| JobResult::Opened {
            result: open_path(&path),
            path,
        });
    }
}

/// A job's way back to the UI.
#[derive(Clone)]
pub struct JobSender {
    tx: Sender<JobResult>,
    ctx: Arc<Mutex<Option<egui::Context>>>,
}

impl JobSender {
    pub fn send(&self, result: JobResult) {
        let _ = self.tx.send(result);
        wake(&self.ctx);
    }
}

fn wake(ctx: &Mutex<Option<egui::Context>>) {
    if let Ok(slot) = ctx.lock()
        && let Some(ctx) = slot.as_ref()
    {
        ctx.request_repaint();
    }
}

fn is_run_file(p: &std::path::Path) -> bool {
    let name = p.file_name().map(|n| n.to_string_lossy().to_string());
    name.is_some_and(|n| (n.ends_with(".json") || n.ends_with(".json.gz")) && n != "sweep.json")
}

/// The runs in `path`: one run file, or a folder of them (and its `runs/`).
pub fn open_path(path: &std::path::Path) -> Result<Vec<RunRecord>, String> {
    if !path.exists() {
        return Err(format!("{}: no such file or folder", path.display()));
    }
    if path.is_file() {
        return RunRecord::load(path)
            .map(|r| vec![r])
            .map_err(|e| e.to_string());
    }
    let mut files = Vec::new();
    for dir in [path.to_path_buf(), path.join("runs")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        files.extend(
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && is_run_file(p)),
        );
    }
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "{}: no run files (*.json, *.json.gz) in this folder or its runs/",
            path.display()
        ));
    }
    files
        .iter()
        .map(|f| RunRecord::load(f).map_err(|e| e.to_string()))
        .collect()
}
