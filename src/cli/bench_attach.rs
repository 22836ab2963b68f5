//! `gilscope bench attach`: what `gilscope attach` costs the process it
//! watches. One target process spins in N pure-Python threads and prints
//! its loop count every 100 ms; gilscope alternates phases without and
//! with an attach (the /proc sampler and the exact GIL reader, as
//! `gilscope attach` runs them) on that same process, and compares the
//! target's throughput in the two kinds of phase: medians, ranges, ratio.

use super::table;
use crate::interp::{DiscoverOptions, Mode, discover};
use crate::run::{self, RunMessage, attach};
use crate::sampler::monotonic_ns;
use anyhow::{Context, bail};
use clap::Args;
use std::io::BufRead;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct AttachBenchArgs {
    /// Spinning threads in the target.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Rounds of one phase without and one with the attach.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 2.0)]
    pub phase_secs: f64,
    /// Interpreter of the target by its name in `gilscope pythons list`
    /// [default: the best default build].
    #[arg(long)]
    pub interp: Option<String>,
    #[command(flatten)]
    pub sampling: super::run::SamplingArgs,
}

/// The target: N threads adding to their counters, the main thread
/// printing `monotonic_ns total` every 100 ms.
const TARGET: &str = "import sys, threading, time
n = int(sys.argv[1])
counts = [0] * n
def spin(i):
    while True:
        for _ in range(1000):
            pass
        counts[i] += 1
for i in range(n):
    threading.Thread(target=spin, args=(i,), daemon=True).start()
print('ready', flush=True)
while True:
    time.sleep(0.1)
    print(time.monotonic_ns(), sum(counts), flush=True)
";

/// The first part of each phase is left out (the attach starting, the
/// target settling after it ends).
const SETTLE_NS: u64 = 300_000_000;

pub fn attach_bench(args: &AttachBenchArgs) -> anyhow::Result<ExitCode> {
    if args.threads == 0 || args.rounds == 0 || args.phase_secs.is_nan() || args.phase_secs < 0.5 {
        bail!("--threads and --rounds must be ≥ 1 and --phase-secs ≥ 0.5");
    }
    let sampling = args.sampling.config().map_err(anyhow::Error::msg)?;
    let interps = discover(&DiscoverOptions::default());
    let interp = match &args.interp {
        Some(name) => interps.iter().find(|i| &i.name == name).with_context(|| {
            format!("no interpreter named '{name}' (see `gilscope pythons list`)")
        })?,
        None => run::pick_interpreter(&interps, Mode::Gil).context(
            "no default-build interpreter found; `gilscope pythons install` builds 3.13",
        )?,
    };
    let mut cmd = Command::new(&interp.path);
    cmd.args(["-c", TARGET, &args.threads.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = crate::child::ChildGuard::spawn(&mut cmd)
        .with_context(|| format!("cannot start {}", interp.path.display()))?;
    let out = child.child_mut().stdout.take().context("no stdout")?;
    let (tx, readings) = crossbeam_channel::unbounded::<(u64, u64)>();
    let (ready_tx, ready) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if line == "ready" {
                let _ = ready_tx.send(());
                continue;
            }
            let mut parts = line.split_whitespace().map(str::parse::<u64>);
            if let (Some(Ok(t)), Some(Ok(n))) = (parts.next(), parts.next()) {
                let _ = tx.send((t, n));
            }
        }
    });
    ready
        .recv_timeout(Duration::from_secs(30))
        .context("the target process did not start")?;
    let target = attach::inspect(child.pid())?;
    println!(
        "attach's cost on its target: {} spinning threads in {} ({}), {} rounds of {:.1} s without and {:.1} s attached (/proc {} Hz, GIL reader {} Hz), same process",
        args.threads,
        interp.name,
        target
            .python
            .as_ref()
            .map_or("GIL unreadable".to_string(), |p| format!("CPython {}", p.0)),
        args.rounds,
        args.phase_secs,
        args.phase_secs,
        sampling.rate_hz,
        sampling.gil_hz
    );
    let phase = Duration::from_secs_f64(args.phase_secs);
    // (attached, start_ns, end_ns) per phase, gilscope's CPU while
    // attached, and the other processes' cores in each kind of phase.
    let mut phases: Vec<(bool, u64, u64)> = Vec::new();
    let mut own_cpu = Vec::new();
    let mut others: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let pid = child.pid();
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..args.rounds {
        let load = Load::now(pid);
        let start = monotonic_ns();
        std::thread::sleep(phase);
        phases.push((false, start, monotonic_ns()));
        others[0].extend(load.and_then(|l| l.others_cores(pid)));
        let load = Load::now(pid);
        let cpu0 = crate::child::self_cpu_secs();
        let t0 = Instant::now();
        let start = monotonic_ns();
        let handle = attach::attach(&target, sampling, None)?;
        let drain = {
            let messages = handle.messages().clone();
            std::thread::spawn(move || {
                while let Ok(msg) = messages.recv() {
                    if matches!(msg, RunMessage::Finished(_)) {
                        break;
                    }
                }
            })
        };
        std::thread::sleep(phase);
        let end = monotonic_ns();
        drop(handle);
        let _ = drain.join();
        phases.push((true, start, end));
        others[1].extend(load.and_then(|l| l.others_cores(pid)));
        if let (Some(a), Some(b)) = (cpu0, crate::child::self_cpu_secs()) {
            own_cpu.push((b - a) / t0.elapsed().as_secs_f64());
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    drop(child);
    let readings: Vec<(u64, u64)> = readings.try_iter().collect();
    // Each phase's throughput: loop counts over the readings inside it.
    let rate_in = |start: u64, end: u64| -> Option<f64> {
        let inside: Vec<&(u64, u64)> = readings
            .iter()
            .filter(|(t, _)| *t >= start + SETTLE_NS && *t <= end)
            .collect();
        let (first, last) = (inside.first()?, inside.last()?);
        (last.0 > first.0).then(|| (last.1 - first.1) as f64 * 1e9 / (last.0 - first.0) as f64)
    };
    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut paired = Vec::new();
    for pair in phases.chunks(2) {
        let [(_, s0, e0), (_, s1, e1)] = pair else {
            continue;
        };
        let (off, on) = (rate_in(*s0, *e0), rate_in(*s1, *e1));
        without.extend(off);
        with.extend(on);
        if let (Some(off), Some(on)) = (off, on)
            && off > 0.0
        {
            paired.push(on / off);
        }
    }
    if without.is_empty() || with.is_empty() {
        bail!("the target reported too little to compare (phases too short?)");
    }
    let row = |name: &str, v: &[f64]| {
        let s = stats(v);
        vec![
            name.to_string(),
            v.len().to_string(),
            format!("{:.0}k", s.1 / 1e3),
            format!("{:.0}k – {:.0}k", s.0 / 1e3, s.2 / 1e3),
        ]
    };
    print!(
        "{}",
        table::render(
            &[
                "PHASE",
                "N",
                "MEDIAN LOOPS/S (×1000 iterations)",
                "MIN – MAX"
            ],
            &[row("without attach", &without), row("attached", &with)],
        )
    );
    let (lo, med, hi) = stats(&paired);
    println!(
        "attached / without: {:.3} (median of the medians), per round {med:.3} (range {lo:.3} – {hi:.3}, n = {})",
        stats(&with).1 / stats(&without).1,
        paired.len()
    );
    for (name, v) in [("without", &others[0]), ("attached", &others[1])] {
        if !v.is_empty() {
            let (lo, med, hi) = stats(v);
            println!(
                "other processes ({name}): {med:.2} cores busy (range {lo:.2} – {hi:.2}; the machine's /proc/stat less the target and gilscope)"
            );
        }
    }
    if !own_cpu.is_empty() {
        let (lo, med, hi) = stats(&own_cpu);
        println!(
            "gilscope's own CPU while attached: {:.1} % of a core (range {:.1} – {:.1} %)",
            med * 100.0,
            lo * 100.0,
            hi * 100.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// CPU readings at one moment: the machine's busy ticks, the target's,
/// gilscope's own seconds.
struct Load {
    at: Instant,
    machine_ticks: u64,
    target_ticks: u64,
    own_secs: f64,
}

impl Load {
    fn now(pid: u32) -> Option<Load> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal: busy = all − idle − iowait.
        let machine_ticks = cpu.iter().take(8).sum::<u64>() - cpu.get(3)? - cpu.get(4)?;
        let own = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields: Vec<&str> = own.rsplit_once(')')?.1.split_whitespace().collect();
        // utime, stime: fields 14 and 15 (index 11 and 12 after the name).
        let target_ticks =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(Load {
            at: Instant::now(),
            machine_ticks,
            target_ticks,
            own_secs: crate::child::self_cpu_secs()?,
        })
    }

    /// Cores the other processes kept busy since this reading.
    fn others_cores(self, pid: u32) -> Option<f64> {
        let now = Load::now(pid)?;
        let hz = crate::sampler::clock_ticks_per_sec() as f64;
        let secs = now.at.duration_since(self.at).as_secs_f64();
        let machine = now.machine_ticks.saturating_sub(self.machine_ticks) as f64 / hz;
        let target = now.target_ticks.saturating_sub(self.target_ticks) as f64 / hz;
        let own = now.own_secs - self.own_secs;
        (secs > 0.0).then(|| ((machine - target - own) / secs).max(0.0))
    }
}

/// (min, median, max).
fn stats(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (v[0], median, v[n - 1])
}
