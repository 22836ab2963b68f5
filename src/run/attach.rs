//! Attaching to a process gilscope did not start: the same /proc sampler
//! and exact GIL reader as a run, on the target's whole process tree, read
//! only — the target is never stopped, signalled or written to. The
//! attach ends when the target exits, the duration is over, or the user
//! stops it, and reports like a run ([`RunMessage`]s ending with
//! [`RunMessage::Finished`], whose end is [`RunEnd::Detached`]), so it is
//! recorded, saved and compared like one.

use super::gil_feed::GilFeed;
use super::runner::RunHandle;
use super::{RunEnd, RunMessage, RunOutcome, RunSpec};
use crate::interp::{Build, Interpreter, Mode, ProbeInfo, Source, Status, supported_modes};
use crate::sampler::{Sampler, SamplerConfig, monotonic_ns};
use crossbeam_channel::{Receiver, bounded, unbounded};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often the owner thread checks that the target still runs.
const POLL: Duration = Duration::from_millis(50);

/// A process to attach to, as `/proc` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub pid: u32,
    /// `/proc/PID/exe` (as the target sees it: inside its root).
    pub exe: PathBuf,
    /// `comm`.
    pub name: String,
    /// The command line, arguments joined by spaces.
    pub cmdline: String,
    /// Its start time (clock ticks since boot): a reused pid differs.
    start_ticks: u64,
    /// The CPython it runs, when its runtime can be read (3.13+).
    pub python: Option<(String, bool)>,
    /// Why its runtime could not be read, when it could not.
    pub python_unread: Option<String>,
    /// Its pid in its own pid namespace (a container), where that differs.
    pub ns_pid: Option<u32>,
    /// Its root directory as this process sees it, where it is not `/`
    /// (a chroot; a container's root reads as `/` relative to itself when
    /// it cannot be reached from here).
    pub root: Option<PathBuf>,
}

impl Target {
    /// Where it runs, in words: "container (pid 7 inside)", "chroot ROOT",
    /// or "" on the host.
    pub fn place(&self) -> String {
        match (self.ns_pid, &self.root) {
            (Some(p), _) => format!("container (pid {p} inside)"),
            (None, Some(root)) => format!("chroot {}", root.display()),
            (None, None) => String::new(),
        }
    }
}

/// Why an attach could not start.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("no process {pid} is running (check the pid with `ps` or `pgrep -a python`)")]
    NoSuchProcess { pid: u32 },
    #[error(
        "process {pid} is this gilscope itself: attach to the Python process you want to watch"
    )]
    Myself { pid: u32 },
    #[error(
        "not allowed to read process {pid} ({what}): it belongs to another user (uid {owner}, you are uid {me}); run gilscope as that user, or as root, or give it CAP_SYS_PTRACE (`sudo setcap cap_sys_ptrace+ep $(which gilscope)`){yama}"
    )]
    NotAllowed {
        pid: u32,
        what: String,
        owner: u32,
        me: u32,
        /// The Yama setting, when it is there and restrictive.
        yama: String,
    },
    #[error("cannot read /proc/{pid}: {what}")]
    Proc { pid: u32, what: String },
    #[error("cannot start the attach thread: {0}")]
    Runtime(String),
}

/// Reads what `/proc` says about `pid`; refuses gilscope itself and
/// processes the kernel will not let this user read.
pub fn inspect(pid: u32) -> Result<Target, AttachError> {
    if pid == std::process::id() {
        return Err(AttachError::Myself { pid });
    }
    let stat =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AttachError::NoSuchProcess { pid },
            _ => AttachError::Proc {
                pid,
                what: e.to_string(),
            },
        })?;
    let (name, start_ticks) = parse_stat(&stat).ok_or_else(|| AttachError::Proc {
        pid,
        what: "unreadable stat".into(),
    })?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).map_err(|e| {
        if matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM)) {
            not_allowed(pid, format!("/proc/{pid}/exe: {e}"))
        } else if e.kind() == std::io::ErrorKind::NotFound {
            AttachError::NoSuchProcess { pid }
        } else {
            AttachError::Proc {
                pid,
                what: format!("exe: {e}"),
            }
        }
    })?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let (python, python_unread) = match crate::gil::GilReader::open(pid) {
        Ok(r) => (Some((r.version().to_string(), r.free_threaded())), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(Target {
        pid,
        exe,
        name,
        cmdline,
        start_ticks,
        python,
        python_unread,
        ns_pid: crate::gil::nspid::ns_pid(pid),
        root: std::fs::read_link(format!("/proc/{pid}/root"))
            .ok()
            .filter(|r| r.as_os_str() != "/"),
    })
}

/// The Python processes running now that this user may read, newest
/// first: a process whose executable's name starts with `python` or that
/// maps a `libpython`. Each is [`inspect`]ed (its version and build read
/// from the process itself where its runtime can be read, 3.13+).
/// gilscope itself is left out.
pub fn python_processes() -> Vec<Target> {
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<Target> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|&pid| looks_like_python(pid))
        .filter_map(|pid| inspect(pid).ok())
        .collect();
    found.sort_by_key(|t| std::cmp::Reverse(t.start_ticks));
    found
}

fn looks_like_python(pid: u32) -> bool {
    let exe_named = std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .and_then(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().starts_with("python"))
        })
        .unwrap_or(false);
    exe_named
        || std::fs::read_to_string(format!("/proc/{pid}/maps"))
            .is_ok_and(|m| m.contains("libpython"))
}

fn not_allowed(pid: u32, what: String) -> AttachError {
    let owner = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(u32::MAX);
    // SAFETY: getuid cannot fail.
    let me = unsafe { libc::getuid() };
    let yama = match std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse::<u8>().ok())
    {
        Some(1) => "; kernel.yama.ptrace_scope is 1: only a parent may read a process (`sudo sysctl kernel.yama.ptrace_scope=0`)".to_string(),
        Some(2) => "; kernel.yama.ptrace_scope is 2: only CAP_SYS_PTRACE may read a process".to_string(),
        Some(3) => "; kernel.yama.ptrace_scope is 3: no process can be read until reboot".to_string(),
        _ => String::new(),
    };
    AttachError::NotAllowed {
        pid,
        what,
        owner,
        me,
        yama,
    }
}

/// `comm` and the start time (field 22) of a `/proc/PID/stat` line.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // rest[0] is field 3 (state): field 22 is rest[19].
    let start = rest.get(19)?.parse().ok()?;
    Some((name, start))
}

/// Whether `target` (the same process, not a reused pid) still runs: a
/// zombie (exited, not yet reaped by its parent) does not.
fn alive(target: &Target) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", target.pid))
        .ok()
        .is_some_and(|s| {
            let state = s.rfind(')').and_then(|i| s.get(i + 2..i + 3));
            !matches!(state, Some("Z") | Some("X"))
                && parse_stat(&s).is_some_and(|(_, start)| start == target.start_ticks)
        })
}

/// The run spec an attach is recorded under: `attach:NAME`, mode `gil` or
/// `ft` by the target's build, no workers.
pub fn spec(target: &Target, duration: Option<Duration>) -> RunSpec {
    let free_threaded = target.python.as_ref().is_some_and(|p| p.1);
    RunSpec {
        python: target.exe.clone(),
        interp_name: format!("pid {}", target.pid),
        mode: if free_threaded { Mode::Ft } else { Mode::Gil },
        workers: 0,
        workload: format!("attach:{}", target.name),
        params: vec![
            ("pid".into(), target.pid.to_string()),
            ("cmdline".into(), target.cmdline.clone()),
        ],
        timeout: duration,
    }
}

/// The interpreter an attach is recorded with: what its runtime said
/// (version, build), or a broken entry saying why it could not be read.
pub fn interpreter(target: &Target) -> Interpreter {
    let status = match &target.python {
        Some((version, free_threaded)) => {
            let info = ProbeInfo {
                implementation: "cpython".into(),
                version: version
                    .split(['a', 'b', 'r'])
                    .next()
                    .unwrap_or(version)
                    .into(),
                release_level: "final".into(),
                version_string: format!("CPython {version} (attached, pid {})", target.pid),
                executable: Some(target.exe.clone()),
                free_threaded: *free_threaded,
                gil_enabled_at_start: !free_threaded,
                ext_suffix: None,
                subinterp_api: None,
                own_gil_subinterpreters: false,
                own_gil_error: None,
                multiprocessing: true,
            };
            let build = if *free_threaded {
                Build::FreeThreaded
            } else {
                Build::Default
            };
            let modes = supported_modes(&info);
            Status::Ok {
                info: Box::new(info),
                build,
                modes,
            }
        }
        None => Status::Broken {
            reason: target
                .python_unread
                .clone()
                .unwrap_or_else(|| "not a CPython 3.13+ runtime".into()),
        },
    };
    Interpreter {
        name: format!("pid {}", target.pid),
        path: target.exe.clone(),
        aliases: Vec::new(),
        source: Source::System,
        status,
    }
}

/// Starts watching `target`; returns at once. Stop it with
/// [`RunHandle::stop`] (the target itself is never touched).
pub fn attach(
    target: &Target,
    sampling: SamplerConfig,
    duration: Option<Duration>,
) -> Result<RunHandle, AttachError> {
    let (tx, rx) = unbounded();
    let (stop_tx, stop_rx) = bounded(1);
    let target = target.clone();
    let pid = target.pid;
    let started = Instant::now();
    let owner = std::thread::Builder::new()
        .name("gilscope-attach".into())
        .spawn(move || {
            let sampler = {
                let tx = tx.clone();
                let sink = move |s| tx.send(RunMessage::Sample(Box::new(s))).is_ok();
                Sampler::start_with(target.pid, sampling, sink).ok()
            };
            let gil = (sampling.gil_hz > 0.0)
                .then(|| GilFeed::start(target.pid, sampling.gil_hz, &tx))
                .flatten();
            let reason = watch(&target, started, duration, &stop_rx);
            let wall_secs = started.elapsed().as_secs_f64();
            let ended_ns = monotonic_ns();
            let sampler = sampler.map(Sampler::stop);
            if let Some(gil) = gil {
                gil.stop();
            }
            let outcome = RunOutcome {
                end: RunEnd::Detached { reason },
                wall_secs,
                usage: None,
                exit: if alive(&target) {
                    "still running (gilscope only watched it)".into()
                } else {
                    "exited while watched".into()
                },
                stderr_tail: Vec::new(),
                sampler,
                ended_ns: Some(ended_ns),
            };
            let _ = tx.send(RunMessage::Finished(Box::new(outcome)));
        })
        .map_err(|e| AttachError::Runtime(e.to_string()))?;
    Ok(RunHandle::from_parts(rx, stop_tx, pid, started, owner))
}

/// Waits until the target exits, the duration is over or a stop comes;
/// says which.
fn watch(
    target: &Target,
    started: Instant,
    duration: Option<Duration>,
    stop: &Receiver<()>,
) -> String {
    loop {
        if !alive(target) {
            return "the process exited".into();
        }
        if let Some(d) = duration
            && started.elapsed() >= d
        {
            return format!("the duration ({:.0} s) ended", d.as_secs_f64());
        }
        match stop.recv_timeout(POLL) {
            Ok(()) | Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return "stopped by the user".into();
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names() {
        let line = "1234 (py (worker) 1) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 3 0 987654 1000 100";
        assert_eq!(
            parse_stat(line),
            Some(("py (worker) 1".to_string(), 987_654))
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn refuses_itself_and_missing_processes() {
        assert!(matches!(
            inspect(std::process::id()),
            Err(AttachError::Myself { .. })
        ));
        assert!(matches!(
            inspect(u32::MAX - 7),
            Err(AttachError::NoSuchProcess { .. })
        ));
    }

    #[test]
    fn a_child_that_exits_ends_the_attach() {
        let mut child = std::process::Command::new("sleep")
            .arg("0.4")
            .spawn()
            .unwrap();
        let target = inspect(child.id()).unwrap();
        assert!(target.python.is_none() && target.python_unread.is_some());
        let config = SamplerConfig {
            gil_hz: 0.0,
            ..SamplerConfig::default()
        };
        let handle = attach(&target, config, Some(Duration::from_secs(30))).unwrap();
        let reaper = std::thread::spawn(move || child.wait());
        let mut samples = 0;
        let outcome = loop {
            match handle
                .messages()
                .recv_timeout(Duration::from_secs(10))
                .unwrap()
            {
                RunMessage::Sample(_) => samples += 1,
                RunMessage::Finished(o) => break o,
                _ => {}
            }
        };
        let _ = reaper.join();
        assert!(
            matches!(&outcome.end, RunEnd::Detached { reason } if reason == "the process exited"),
            "{outcome:?}"
        );
        assert!(samples > 3, "{samples} samples");
        assert!(outcome.wall_secs < 5.0);
    }
}
