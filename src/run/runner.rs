//! Spawning the harness and watching it until it ends.
//!
//! One owner thread per run spawns the child (so `PR_SET_PDEATHSIG` stays
//! armed for the whole run), waits for it against the timeout and the stop
//! signal, and sends the outcome last. Reader threads forward the event pipe
//! and the workload's stdout/stderr.

use super::embedded;
use super::protocol::{self, Event, RunResult, WorkloadError};
use super::script::{self, OutputHash};
use super::{RunEnd, RunKind, RunMessage, RunOutcome, RunSpec, Stream};
use crate::child::{ChildGuard, describe_status};
use crate::interp::Mode;
use crate::sampler::{Poke, Poker, Sampler, SamplerConfig};
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Environment variable naming the event pipe's fd in the child.
pub const EVENT_FD_ENV: &str = "GILSCOPE_EVENT_FD";
/// How often the owner checks whether the child has exited.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// stderr lines kept for the outcome.
const STDERR_TAIL_LINES: usize = 40;

/// A run in progress. Dropping it stops the run and waits for the owner.
pub struct RunHandle {
    messages: Receiver<RunMessage>,
    stop: Sender<()>,
    pid: u32,
    started: Instant,
    owner: Option<JoinHandle<()>>,
}

impl RunHandle {
    /// A handle over an owner thread that sends `messages` and ends on `stop`.
    pub(super) fn from_parts(
        messages: Receiver<RunMessage>,
        stop: Sender<()>,
        pid: u32,
        started: Instant,
        owner: JoinHandle<()>,
    ) -> Self {
        Self {
            messages,
            stop,
            pid,
            started,
            owner: Some(owner),
        }
    }

    /// Everything the run reports; ends with [`RunMessage::Finished`].
    pub fn messages(&self) -> &Receiver<RunMessage> {
        &self.messages
    }

    /// Asks the run to stop (kills its process group). Idempotent.
    pub fn stop(&self) {
        let _ = self.stop.try_send(());
    }

    /// The harness process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// When the child was spawned.
    pub fn started(&self) -> Instant {
        self.started
    }
}

impl Drop for RunHandle {
    fn drop(&mut self) {
        self.stop();
        if let Some(owner) = self.owner.take() {
            let _ = owner.join();
        }
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot set up the harness: {0}")]
    Runtime(String),
    #[error("cannot create the event pipe: {0}")]
    Pipe(std::io::Error),
    #[error("cannot start {python}: {source}")]
    Spawn {
        python: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    /// The run needs a native module that is refused or cannot be built.
    #[error(transparent)]
    Native(#[from] crate::native::NativeError),
}

/// The command line for `spec`: the harness, or a plain script.
fn command(spec: &RunSpec) -> Result<Command, StartError> {
    match spec.kind() {
        RunKind::Workload => {}
        RunKind::Script { file, args, cwd } => {
            let mut cmd = super::script::command(spec, &file, &args, cwd.as_deref())
                .map_err(StartError::Usage)?;
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            return Ok(cmd);
        }
        RunKind::Attach { .. } => {
            return Err(StartError::Usage(
                "an attach is started with run::attach::attach, not run::start".into(),
            ));
        }
    }
    let rt = embedded::runtime().map_err(StartError::Runtime)?;
    if spec.workers == 0 {
        return Err(StartError::Usage("--workers must be at least 1".into()));
    }
    let mut cmd = Command::new(&spec.python);
    cmd.arg(rt.harness()).args([
        "--mode",
        spec.mode.as_str(),
        "--workers",
        &spec.workers.to_string(),
        "--workload",
        &spec.workload,
    ]);
    // load.* params are the load generator's, never the harness's
    let params = harness_params(
        rt,
        &spec.workload,
        &crate::loadgen::harness_params(&spec.params),
    );
    for (key, value) in &params {
        cmd.arg("--param").arg(format!("{key}={value}"));
    }
    cmd.env("PYTHONUNBUFFERED", "1").env_remove("PYTHONSTARTUP");
    // blur kernel=native / import_gil_module: build or find the extension
    // (call native::setup_for_run first to show a first build's progress).
    let native = crate::native::setup_for_run(
        &spec.python,
        spec.mode,
        &spec.workload,
        &params,
        &mut |_| {},
    )?;
    if let Some(native) = &native {
        cmd.env(
            "PYTHONPATH",
            native.pythonpath(std::env::var_os("PYTHONPATH"))?,
        );
    }
    match spec.mode {
        // With PYTHON_GIL=0 the import could not switch the GIL back on.
        Mode::Ft if native.as_ref().is_some_and(|n| n.leave_python_gil_unset) => {
            cmd.env_remove("PYTHON_GIL")
        }
        Mode::Ft => cmd.env("PYTHON_GIL", "0"),
        Mode::FtGil => cmd.env("PYTHON_GIL", "1"),
        _ => cmd.env_remove("PYTHON_GIL"),
    };
    // A service run stops when gilscope closes its stdin (after the load).
    let service = crate::loadgen::LoadSpec::from_params(&spec.workload, &spec.params)
        .map_err(StartError::Usage)?
        .is_some();
    cmd.stdin(if service {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    Ok(cmd)
}

/// The `--param`s the harness gets for `params`: blur without an `image`
/// gets the shipped photo.
pub(super) fn harness_params(
    rt: &embedded::Runtime,
    workload: &str,
    params: &[(String, String)],
) -> Vec<(String, String)> {
    let mut params = params.to_vec();
    if workload == "blur" && !params.iter().any(|(k, _)| k == "image") {
        params.push((
            "image".into(),
            rt.asset("astronaut.png").display().to_string(),
        ));
    }
    params
}

/// Starts a run without sampling. Returns once the child is spawned.
pub fn start(spec: &RunSpec) -> Result<RunHandle, StartError> {
    start_sampled(spec, None)
}

/// Starts a run; with `sampling`, a sampler thread watches its process tree
/// and its samples arrive as [`RunMessage::Sample`]. Returns once the child
/// is spawned.
pub fn start_sampled(
    spec: &RunSpec,
    sampling: Option<SamplerConfig>,
) -> Result<RunHandle, StartError> {
    start_with_env(spec, sampling, &[])
}

/// [`start_sampled`] with extra environment variables for the harness
/// (benchmarks: `GILSCOPE_CHUNK_FLUSH_MS=0` turns chunk coalescing off).
pub fn start_with_env(
    spec: &RunSpec,
    sampling: Option<SamplerConfig>,
    env: &[(&str, &str)],
) -> Result<RunHandle, StartError> {
    let mut cmd = command(spec)?;
    for (key, value) in env {
        cmd.env(key, value);
    }
    let (tx, rx) = unbounded();
    let (stop_tx, stop_rx) = bounded(1);
    let (spawned_tx, spawned_rx) = bounded(1);
    let spec = spec.clone();
    let owner = std::thread::Builder::new()
        .name("gilscope-run".into())
        .spawn(move || {
            let (reader, writer) = match std::io::pipe() {
                Ok(p) => p,
                Err(e) => {
                    let _ = spawned_tx.send(Err(StartError::Pipe(e)));
                    return;
                }
            };
            let fd = writer.as_raw_fd();
            cmd.env(EVENT_FD_ENV, fd.to_string());
            // SAFETY: fcntl is async-signal-safe; it only clears FD_CLOEXEC
            // on the pipe's write end so the child inherits it.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let spawned = ChildGuard::spawn(&mut cmd);
            // Our copies of the write end must go, or EOF never arrives.
            drop(cmd);
            drop(writer);
            let mut child = match spawned {
                Ok(child) => child,
                Err(source) => {
                    let python = spec.python.display().to_string();
                    let _ = spawned_tx.send(Err(StartError::Spawn { python, source }));
                    return;
                }
            };
            let started = Instant::now();
            let _ = spawned_tx.send(Ok((child.pid(), started)));
            let sampler = sampling.and_then(|config| {
                let tx = tx.clone();
                let sink = move |sample| tx.send(RunMessage::Sample(Box::new(sample))).is_ok();
                // A sampler that cannot start leaves the run unsampled: the
                // outcome then says so (`sampler: None`).
                Sampler::start_with(child.pid(), config, sink).ok()
            });
            let gil = sampling
                .filter(|c| c.gil_hz > 0.0)
                .and_then(|c| super::gil_feed::GilFeed::start(child.pid(), c.gil_hz, &tx));
            watch(
                &mut child,
                reader,
                &spec,
                started,
                &tx,
                &stop_rx,
                (sampler, gil),
            );
        })
        .map_err(|e| StartError::Runtime(format!("cannot start a thread: {e}")))?;
    match spawned_rx.recv() {
        Ok(Ok((pid, started))) => Ok(RunHandle {
            messages: rx,
            stop: stop_tx,
            pid,
            started,
            owner: Some(owner),
        }),
        Ok(Err(e)) => {
            let _ = owner.join();
            Err(e)
        }
        Err(_) => {
            let _ = owner.join();
            Err(StartError::Runtime(
                "the run thread ended before starting the child".into(),
            ))
        }
    }
}

/// What the event reader saw that decides the outcome.
#[derive(Default)]
struct Seen {
    result: Option<RunResult>,
    error: Option<WorkloadError>,
    /// A service run's load generator (started at `listening`).
    load: Option<crate::loadgen::Loadgen>,
}

/// A service run's load: what to send, and the harness's stdin, closed
/// when the load is over (the harness then stops its workers).
struct ServiceLoad {
    spec: crate::loadgen::LoadSpec,
    workload: String,
    stdin: Option<std::process::ChildStdin>,
    params: serde_json::Map<String, serde_json::Value>,
}

impl ServiceLoad {
    /// Starts the generator at the address the harness listens on.
    fn start(
        &mut self,
        l: &protocol::Listening,
        tx: &Sender<RunMessage>,
    ) -> Option<crate::loadgen::Loadgen> {
        use crate::loadgen::{Expected, LoadEvent};
        let addr: std::net::SocketAddr = match format!("{}:{}", l.host, l.port).parse() {
            Ok(a) => a,
            Err(e) => {
                let _ = tx.send(RunMessage::ProtocolProblem(format!(
                    "listening: bad address {}:{} ({e}); no load was sent",
                    l.host, l.port
                )));
                return None;
            }
        };
        let expected = Expected::for_run(&self.workload, &self.params, self.spec.keys);
        let mut stdin = self.stdin.take();
        let out = tx.clone();
        let sink = move |event| match event {
            LoadEvent::Interval(iv) => {
                let _ = out.send(RunMessage::Load(Box::new(iv)));
            }
            LoadEvent::Done(report) => {
                let _ = out.send(RunMessage::LoadDone(report));
                // EOF on its stdin: the harness stops its workers
                drop(stdin.take());
            }
        };
        match crate::loadgen::start(addr, self.spec.clone(), expected, sink) {
            Ok(g) => Some(g),
            Err(e) => {
                let _ = tx.send(RunMessage::ProtocolProblem(format!(
                    "cannot start the load generator: {e}"
                )));
                None
            }
        }
    }
}

fn spawn_event_reader(
    pipe: std::io::PipeReader,
    root: u32,
    tx: Sender<RunMessage>,
    poke: Option<Poker>,
    mut service: Option<ServiceLoad>,
) -> JoinHandle<Seen> {
    std::thread::spawn(move || {
        let mut seen = Seen::default();
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            match protocol::parse_line(&line) {
                Ok(mut event) => {
                    to_host_ids(&mut event, root);
                    match &event {
                        // The memory baseline: sample now, before workers start.
                        Event::SetupDone(_) => {
                            if let Some(poke) = &poke {
                                poke.poke(Poke::Baseline);
                            }
                        }
                        // Read the counters while the worker's thread still
                        // exists: its last CPU time would be lost otherwise.
                        Event::WorkerDone(_) => {
                            if let Some(poke) = &poke {
                                poke.poke(Poke::Now);
                            }
                        }
                        Event::Hello(h) => {
                            if let Some(service) = service.as_mut() {
                                service.params = h.params.clone();
                            }
                        }
                        Event::Listening(l) => match service.as_mut() {
                            Some(service) if seen.load.is_none() => {
                                seen.load = service.start(l, &tx);
                            }
                            Some(_) => {}
                            // A user's service file run without load
                            // params: its stdin is /dev/null, so it stops
                            // at once; say how to load it.
                            None => {
                                let _ = tx.send(RunMessage::Output {
                                    stream: Stream::Stderr,
                                    line: format!(
                                        "gilscope: the workload is a service (listening on {}:{}) but this run has no load; give --rps R or --clients C (params load.rps / load.clients)",
                                        l.host, l.port
                                    ),
                                });
                            }
                        },
                        Event::Result(r) => seen.result = Some(r.clone()),
                        Event::Error(e) if seen.error.is_none() => seen.error = Some(e.clone()),
                        _ => {}
                    }
                    let _ = tx.send(RunMessage::Event {
                        event,
                        received: Instant::now(),
                    });
                }
                Err(problem) => {
                    let _ = tx.send(RunMessage::ProtocolProblem(format!("{problem}: {line}")));
                }
            }
        }
        seen
    })
}

/// The harness reports its pid and thread ids as its own pid namespace
/// sees them; inside a container (`unshare --pid`, a runtime) those are
/// not the host's that the samplers read. Maps them through `NSpid:`
/// (identity for a harness in gilscope's namespace); an id that cannot be
/// mapped is left as reported.
fn to_host_ids(event: &mut Event, root: u32) {
    use crate::gil::nspid::host_ids;
    let (pid, tid) = match event {
        Event::WorkerStarted(w) => (&mut w.pid, &mut w.native_id),
        Event::ThreadName(n) => (&mut n.pid, &mut n.native_id),
        _ => return,
    };
    let Ok(ns_tid) = u32::try_from(*tid) else {
        return;
    };
    if let Some((host_pid, host_tid)) = host_ids(root, *pid, ns_tid) {
        *pid = host_pid;
        *tid = u64::from(host_tid);
    }
}

fn spawn_output_reader(
    pipe: Option<impl Read + Send + 'static>,
    stream: Stream,
    tx: Sender<RunMessage>,
) -> JoinHandle<(VecDeque<String>, OutputHash)> {
    std::thread::spawn(move || {
        let mut tail = VecDeque::new();
        let mut hash = OutputHash::default();
        let Some(pipe) = pipe else {
            return (tail, hash);
        };
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        // Lines may not be UTF-8; read bytes and convert lossily.
        while reader.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
            let line = String::from_utf8_lossy(&buf)
                .trim_end_matches(['\n', '\r'])
                .to_string();
            buf.clear();
            if stream == Stream::Stderr {
                if tail.len() == STDERR_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line.clone());
            }
            hash.line(&line);
            let _ = tx.send(RunMessage::Output { stream, line });
        }
        (tail, hash)
    })
}

/// Runs until the child exits, times out or is stopped; sends the outcome.
fn watch(
    child: &mut ChildGuard,
    events: std::io::PipeReader,
    spec: &RunSpec,
    started: Instant,
    tx: &Sender<RunMessage>,
    stop: &Receiver<()>,
    (sampler, gil): (Option<Sampler>, Option<super::gil_feed::GilFeed>),
) {
    let service = crate::loadgen::LoadSpec::from_params(&spec.workload, &spec.params)
        .ok()
        .flatten()
        .map(|load| ServiceLoad {
            spec: load,
            workload: spec.workload.clone(),
            stdin: child.child_mut().stdin.take(),
            params: serde_json::Map::new(),
        });
    let event_reader = spawn_event_reader(
        events,
        child.pid(),
        tx.clone(),
        sampler.as_ref().map(Sampler::poker),
        service,
    );
    let stdout = spawn_output_reader(child.child_mut().stdout.take(), Stream::Stdout, tx.clone());
    let stderr = spawn_output_reader(child.child_mut().stderr.take(), Stream::Stderr, tx.clone());
    let deadline = spec.timeout.map(|t| started + t);
    let mut forced: Option<RunEnd> = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(_) => break None,
        }
        let now = Instant::now();
        if let Some(deadline) = deadline
            && now >= deadline
        {
            forced = Some(RunEnd::TimedOut {
                after_secs: spec.timeout.map_or(0.0, |t| t.as_secs_f64()),
            });
            break child.kill().ok();
        }
        let wait = deadline.map_or(POLL_INTERVAL, |d| POLL_INTERVAL.min(d - now));
        match stop.recv_timeout(wait) {
            Ok(()) | Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                forced = Some(RunEnd::Stopped);
                break child.kill().ok();
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
        }
    };
    let wall_secs = started.elapsed().as_secs_f64();
    let ended_ns = crate::pace::monotonic_ns();
    // Samples come before the outcome, which is always the last message.
    let sampler = sampler.map(Sampler::stop);
    if let Some(gil) = gil {
        gil.stop();
    }
    // The child is gone; kill leftovers of its group (worker processes) so
    // the pipes close and the readers finish.
    child.signal_group(libc::SIGKILL);
    let mut seen = event_reader.join().unwrap_or_default();
    // The harness is gone: a load still running only meets closed ports.
    // Its report comes before the outcome.
    if let Some(load) = seen.load.take() {
        load.stop();
        load.join();
    }
    let stdout_hash = stdout.join().map(|(_, hash)| hash).unwrap_or_default();
    let stderr_tail: Vec<String> = stderr.join().map(|(t, _)| t).unwrap_or_default().into();
    let exit = status.map_or_else(
        || "unknown (could not wait for it)".to_string(),
        describe_status,
    );
    let end = forced.unwrap_or_else(|| match (spec.kind(), status) {
        (RunKind::Script { .. }, Some(status)) => script::classify(
            status,
            seen.error,
            stdout_hash.hex(),
            &stderr_tail,
            wall_secs,
            ended_ns,
        ),
        _ => classify(status, seen, &stderr_tail),
    });
    let outcome = RunOutcome {
        end,
        wall_secs,
        usage: child.usage(),
        exit,
        stderr_tail,
        sampler,
        ended_ns: Some(ended_ns),
    };
    let _ = tx.send(RunMessage::Finished(Box::new(outcome)));
}

/// Decides how a run that ended on its own went.
fn classify(
    status: Option<std::process::ExitStatus>,
    seen: Seen,
    stderr_tail: &[String],
) -> RunEnd {
    if let Some(error) = seen.error {
        return RunEnd::WorkloadFailed { error };
    }
    let Some(status) = status else {
        return RunEnd::Crashed {
            reason: "could not wait for the interpreter".into(),
        };
    };
    if let Some(result) = seen.result
        && status.success()
    {
        return RunEnd::Completed { result };
    }
    let last = stderr_tail.iter().rev().find(|l| !l.trim().is_empty());
    if let Some(cause) = super::native_gil_fault(stderr_tail) {
        return RunEnd::Crashed {
            reason: format!("{cause}; the interpreter was {}", describe_status(status)),
        };
    }
    let reason = match (status.signal(), last) {
        (Some(_), _) => format!("the interpreter was {}", describe_status(status)),
        (None, Some(line)) => format!(
            "the interpreter {} without a result; last stderr line: {line}",
            describe_status(status)
        ),
        (None, None) => format!(
            "the interpreter {} without a result",
            describe_status(status)
        ),
    };
    RunEnd::Crashed { reason }
}
