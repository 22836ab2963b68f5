//! Shared helpers for integration tests that run real interpreters.
#![allow(clippy::unwrap_used, dead_code)] // test helpers: a failed unwrap is a failed test

use gilscope::interp::Mode;
use gilscope::interp::{DiscoverOptions, Interpreter, Source, discover};
use gilscope::run::protocol::Event;
use gilscope::run::{RunMessage, RunOutcome, RunSpec, Stream};
use std::process::Command;
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

/// The lock that keeps measurements apart from every other run in this
/// test binary (cargo runs two tests at a time): on a 2-core machine two
/// spinning runs would starve each other and the samplers, and the tests
/// that check load flags or scheduling would see each other's load.
static RUNS: RwLock<()> = RwLock::new(());

/// A measuring test: it runs alone, with no other interpreter of this
/// test binary running beside it.
pub fn one_at_a_time() -> RwLockWriteGuard<'static, ()> {
    RUNS.write().unwrap_or_else(|e| e.into_inner())
}

/// A test that starts interpreters but measures nothing another run's
/// load could change (checksums, errors, files): it may run beside other
/// such tests, never beside a measuring one. Tests that only read files or
/// draw synthetic runs take neither. Not to be held while calling a helper
/// that takes [`one_at_a_time`] (the lock is not reentrant).
pub fn beside_others() -> RwLockReadGuard<'static, ()> {
    RUNS.read().unwrap_or_else(|e| e.into_inner())
}

/// gilscope's managed CPython 3.13 builds: (default, free-threaded).
pub fn managed_313() -> &'static (Interpreter, Interpreter) {
    static CELL: OnceLock<(Interpreter, Interpreter)> = OnceLock::new();
    CELL.get_or_init(|| {
        let interps = discover(&DiscoverOptions::default());
        let find = |ft: bool| {
            interps
                .iter()
                .find(|i| {
                    i.source == Source::Managed
                        && i.info().is_some_and(|x| x.version.starts_with("3.13.") && x.free_threaded == ft)
                })
                .cloned()
                .unwrap_or_else(|| panic!("no managed CPython 3.13{} build: run `gilscope pythons install` (scripts/test does)", if ft { "t" } else { "" }))
        };
        (find(false), find(true))
    })
}

/// The interpreter a mode is tested with: 3.13t for ft modes, else 3.13.
pub fn interp_for(mode: Mode) -> &'static Interpreter {
    let (default, ft) = managed_313();
    match mode {
        Mode::Ft | Mode::FtGil => ft,
        _ => default,
    }
}

pub fn spec(mode: Mode, workers: usize, workload: &str, params: &[(&str, &str)]) -> RunSpec {
    spec_on(interp_for(mode), mode, workers, workload, params)
}

/// [`spec`] on a given interpreter.
pub fn spec_on(
    interp: &Interpreter,
    mode: Mode,
    workers: usize,
    workload: &str,
    params: &[(&str, &str)],
) -> RunSpec {
    RunSpec {
        python: interp.path.clone(),
        interp_name: interp.name.clone(),
        mode,
        workers,
        workload: workload.to_string(),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        timeout: Some(Duration::from_secs(120)),
    }
}

/// Everything a finished run produced.
pub struct Finished {
    pub events: Vec<Event>,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
    pub problems: Vec<String>,
    pub samples: Vec<gilscope::sampler::Sample>,
    pub gil: Vec<gilscope::gil::GilInterval>,
    pub gil_notices: Vec<String>,
    /// A service run's load intervals and report.
    pub load: Vec<gilscope::loadgen::LoadInterval>,
    pub load_report: Option<gilscope::loadgen::LoadReport>,
    pub outcome: RunOutcome,
    pub pid: u32,
}

impl Finished {
    pub fn checksum(&self) -> String {
        match &self.outcome.end {
            gilscope::run::RunEnd::Completed { result } => result.checksum.clone(),
            other => panic!("run did not complete: {other:?}\nstderr: {:?}", self.stderr),
        }
    }
}

pub fn run_to_end(spec: &RunSpec) -> Finished {
    let handle = gilscope::run::start(spec).unwrap();
    let pid = handle.pid();
    let mut fin = Finished {
        events: vec![],
        stdout: vec![],
        stderr: vec![],
        problems: vec![],
        samples: vec![],
        gil: vec![],
        gil_notices: vec![],
        load: vec![],
        load_report: None,
        outcome: placeholder(),
        pid,
    };
    loop {
        match handle
            .messages()
            .recv_timeout(Duration::from_secs(300))
            .unwrap()
        {
            RunMessage::Event { event, .. } => fin.events.push(event),
            RunMessage::Output {
                stream: Stream::Stdout,
                line,
            } => fin.stdout.push(line),
            RunMessage::Output {
                stream: Stream::Stderr,
                line,
            } => fin.stderr.push(line),
            RunMessage::ProtocolProblem(p) => fin.problems.push(p),
            RunMessage::Sample(s) => fin.samples.push(*s),
            RunMessage::Gil(interval) => fin.gil.push(*interval),
            RunMessage::GilNotice(text) => fin.gil_notices.push(text),
            RunMessage::Load(interval) => fin.load.push(*interval),
            RunMessage::LoadDone(report) => fin.load_report = Some(*report),
            RunMessage::Finished(outcome) => {
                fin.outcome = *outcome;
                break;
            }
        }
    }
    fin
}

fn placeholder() -> RunOutcome {
    RunOutcome {
        end: gilscope::run::RunEnd::Stopped,
        wall_secs: 0.0,
        usage: None,
        exit: String::new(),
        stderr_tail: vec![],
        sampler: None,
        ended_ns: None,
    }
}

/// Runs `spec` sampled (the /proc sampler at 50 Hz and the GIL reader at
/// 1 kHz) into a record; panics unless it completed.
pub fn sampled_record(spec: &RunSpec) -> gilscope::store::RunRecord {
    sampled_record_with(spec, interp_for(spec.mode))
}

/// [`sampled_record`] on a given interpreter (`spec.python` must be it).
pub fn sampled_record_with(spec: &RunSpec, interp: &Interpreter) -> gilscope::store::RunRecord {
    let interp = interp.clone();
    let sampling = Some(gilscope::sampler::SamplerConfig::default());
    let handle = gilscope::run::start_sampled(spec, sampling).unwrap();
    let mut record = gilscope::store::RunRecord::new(spec.clone(), interp);
    loop {
        let msg = handle
            .messages()
            .recv_timeout(Duration::from_secs(300))
            .unwrap();
        let done = matches!(msg, RunMessage::Finished(_));
        record.eat_message(msg);
        if done {
            break;
        }
    }
    match &record.outcome().unwrap().end {
        gilscope::run::RunEnd::Completed { .. } => record,
        other => panic!("{} run failed: {other:?}", spec.mode),
    }
}

/// Live (non-zombie) processes in process group `pgid`.
pub fn live_in_group(pgid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(after) = stat.rsplit_once(')').map(|(_, a)| a.to_string()) else {
            continue;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        // fields[0] = state, [1] = ppid, [2] = pgrp
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            found.push(pid);
        }
    }
    found
}

/// Waits up to `limit` for process group `pgid` to be empty.
pub fn group_gone_within(pgid: u32, limit: Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if live_in_group(pgid).is_empty() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// py-spy 0.4.3 from the private venv `scripts/test` makes (or
/// `GILSCOPE_PYSPY`); `None`, saying so, when it is missing — unless
/// `GILSCOPE_TEST_PYSPY=1` (set by `scripts/test`), which makes that a failure.
pub fn pyspy() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("GILSCOPE_PYSPY")
        .map(std::path::PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|c| c.join("gilscope/pyspy-venv/bin/py-spy")))?;
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("GILSCOPE_TEST_PYSPY").is_none_or(|v| v != "1"),
        "GILSCOPE_TEST_PYSPY=1 but there is no py-spy at {}",
        path.display()
    );
    eprintln!(
        "skipped: no py-spy at {} (scripts/test installs it)",
        path.display()
    );
    None
}

/// The processes whose parent is `pid` (from /proc/*/stat).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((_, after)) = stat.rsplit_once(')') else {
            continue;
        };
        if after.split_whitespace().nth(1) == Some(&pid.to_string()) {
            out.push(child);
        }
    }
    out
}

/// py-spy's samples per second in the cross-checks. Two threads that take
/// turns hand the GIL over every ~5 ms; a rate whose period is near a
/// simple fraction of that cycle samples the same phases again and again
/// and misreads the split (measured on two spinners whose kernel CPU times
/// split 50.0/50.0: over 8 s py-spy read 46.7–53.0 at 200 and 173 Hz,
/// 49.3–50.7 at 500 Hz). py-spy keeps up at 500 Hz here (99 % of rounds).
pub const PYSPY_RATE: u64 = 500;

/// What py-spy saw: per thread id, the share of its sample rounds that
/// found that thread holding the GIL, and when it recorded (monotonic ns).
#[derive(Debug)]
pub struct PySpy {
    pub rounds: u64,
    pub held: std::collections::BTreeMap<u32, f64>,
    pub from_ns: u64,
    pub to_ns: u64,
}

/// A `py-spy record --gil` of one process, for `secs` seconds.
pub struct PySpyRecording {
    child: std::process::Child,
    raw: tempfile::NamedTempFile,
    secs: u32,
    from_ns: u64,
}

impl PySpyRecording {
    pub fn start(pyspy: &std::path::Path, pid: u32, secs: u32) -> Self {
        let raw = tempfile::NamedTempFile::new().unwrap();
        let child = std::process::Command::new(pyspy)
            .args(["record", "--gil", "--threads", "--nonblocking", "-f", "raw"])
            .args(["-r", &PYSPY_RATE.to_string(), "-d", &secs.to_string()])
            .args(["-p", &pid.to_string(), "-o"])
            .arg(raw.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        Self {
            child,
            raw,
            secs,
            from_ns: gilscope::sampler::monotonic_ns(),
        }
    }

    /// Whether py-spy has ended.
    pub fn done(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Waits for py-spy and reads what it recorded. With `--gil` it counts
    /// only the rounds that found a holder ("Samples: N"); it sampled
    /// `PYSPY_RATE` times a second, so the rounds are the larger of the two.
    pub fn finish(self) -> PySpy {
        let out = self.child.wait_with_output().unwrap();
        let to_ns = gilscope::sampler::monotonic_ns();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "py-spy failed: {text}");
        let recorded: u64 = text
            .split("Samples: ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no sample count in py-spy's output: {text}"));
        let mut counts = std::collections::BTreeMap::<u32, u64>::new();
        for line in std::fs::read_to_string(self.raw.path()).unwrap().lines() {
            let Some(rest) = line.strip_prefix("thread (") else {
                continue;
            };
            let tid: u32 = rest.split(')').next().unwrap().parse().unwrap();
            let n: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            *counts.entry(tid).or_default() += n;
        }
        let rounds = recorded.max(u64::from(self.secs) * PYSPY_RATE);
        PySpy {
            rounds,
            held: counts
                .into_iter()
                .map(|(tid, n)| (tid, n as f64 / rounds as f64))
                .collect(),
            from_ns: self.from_ns,
            to_ns,
        }
    }
}

/// gilscope's held fraction of thread `tid` over `[from, to]`: its GIL
/// intervals (~100 ms each) in that window, averaged.
pub fn held_between(run: &gilscope::store::RunRecord, tid: u32, from_ns: u64, to_ns: u64) -> f64 {
    let gil = run.gil();
    let t = gil
        .threads
        .get(&tid)
        .unwrap_or_else(|| panic!("no GIL data for thread {tid}"));
    // An interval's row sits at its end: start one interval late.
    let rows = gil.series.rows_between(from_ns + 100_000_000, to_ns);
    let vals: Vec<f64> = rows
        .filter_map(|r| gil.series.value(t.columns.hold, r))
        .map(f64::from)
        .collect();
    assert!(
        vals.len() >= 20,
        "only {} GIL intervals in the window",
        vals.len()
    );
    vals.iter().sum::<f64>() / vals.len() as f64
}

/// The ticks of the aggregate `cpu` line of /proc/stat: user nice system
/// idle iowait irq softirq steal (guest time is inside user).
pub fn proc_stat_cpu_ticks() -> [u64; 8] {
    let text = std::fs::read_to_string("/proc/stat").unwrap();
    let fields: Vec<u64> = text
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    std::array::from_fn(|i| fields[i])
}

/// Busy cores of the whole machine over one second (/proc/stat).
pub fn machine_busy_cores() -> f64 {
    let read = || {
        let f = proc_stat_cpu_ticks();
        let total: u64 = f.iter().sum();
        (total - f[3] - f[4], total)
    };
    let (b0, t0) = read();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let (b1, t1) = read();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    (b1 - b0) as f64 / (t1 - t0).max(1) as f64 * cores
}

/// Saturation numbers and "a quiet run has no label" need the cores: on
/// this shared machine other people's builds come and go, so wait (up to
/// `limit`) until the machine is nearly idle (under 0.4 busy cores over a
/// second); returns what was busy when it went on.
pub fn wait_for_quiet(limit: std::time::Duration) -> f64 {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let busy = machine_busy_cores();
        if busy < 0.4 || std::time::Instant::now() > deadline {
            return busy;
        }
    }
}

/// `gilscope ARGS` refused as a usage error: asserts exit code 2 and
/// returns its stderr.
pub fn usage_error(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "gilscope {args:?}: {stderr}");
    stderr
}

/// The gilscope binary under test.
pub fn gilscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gilscope"))
}

/// Runs `cmd` and returns its stdout; a failure shows its command, stdout
/// and stderr.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
