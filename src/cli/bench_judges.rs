//! `gilscope bench judges`: what it costs to read the GIL of the same
//! target, CPython 3.15's own sampler (`profiling.sampling`, "Tachyon",
//! `--mode gil`) against gilscope's GIL reader, at the same rate, at the
//! same time. The target is two pure-Python spinning threads started by
//! the 3.15 sampler itself (`profiling.sampling run`: the mode that works
//! wherever the interpreter lives, a chroot included); gilscope's reader
//! attaches to that script's process. Over the same window each one's CPU
//! is read: the sampler process's `utime + stime` from `/proc`, the
//! reader thread's own clock. Rounds, medians, ranges; and the held share
//! each judge gave each spinner.

use super::table;
use crate::gil::{GilAggregator, GilSampler, GilSamplerConfig};
use crate::kit::stats::median_or_nan as median;
use anyhow::{Context, bail};
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct JudgesArgs {
    /// A CPython 3.15 (e.g. the sid root's wrapper that `scripts/sid-pythons`
    /// prints); its `profiling.sampling` is the other judge.
    #[arg(long)]
    pub python: PathBuf,
    /// Samples per second, both judges.
    #[arg(long, default_value_t = 1000)]
    pub rate: u32,
    /// Rounds (each a fresh target and sampler).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Seconds both read the target in each round.
    #[arg(long, default_value_t = 4.0)]
    pub secs: f64,
}

/// Two spinning threads for `argv[1]` seconds.
const SPINNERS: &str = "import threading, time, sys
def spin():
    end = time.time() + float(sys.argv[1])
    x = 0
    while time.time() < end:
        for i in range(1000):
            x += i
ts = [threading.Thread(target=spin, name='spinner-%d' % k) for k in range(2)]
for t in ts: t.start()
for t in ts: t.join()
";

/// One round's numbers.
struct Round {
    /// The 3.15 sampler's CPU over the window, in cores.
    tachyon_cores: f64,
    /// gilscope's GIL reader thread's CPU over the window, in cores.
    reader_cores: f64,
    /// Held share per spinner tid: (gilscope, CPython's sampler).
    held: BTreeMap<u32, (f64, Option<f64>)>,
}

pub fn judges_bench(args: &JudgesArgs) -> anyhow::Result<ExitCode> {
    if args.rounds == 0 || args.secs.is_nan() || args.secs < 1.0 || args.rate == 0 {
        bail!("--rounds must be ≥ 1, --secs ≥ 1 and --rate ≥ 1");
    }
    let dir = TempDir::new()?;
    let script = dir.0.join("spin.py");
    std::fs::write(&script, SPINNERS).context("cannot write the target script")?;
    println!(
        "GIL readers on one target (two spinning threads, {}): CPython 3.15's profiling.sampling --mode gil vs gilscope's GIL reader, both at {} Hz, {} rounds of {:.1} s read at the same time",
        args.python.display(),
        args.rate,
        args.rounds,
        args.secs
    );
    let mut rounds = Vec::new();
    for k in 0..args.rounds {
        let out = dir.0.join(format!("collapsed-{k}.txt"));
        rounds.push(round(args, &script, &out)?);
    }
    let row = |name: &str, v: Vec<f64>| {
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        vec![
            name.to_string(),
            v.len().to_string(),
            format!("{:.1} %", median(&v) * 100.0),
            format!(
                "{:.1} – {:.1} %",
                s.first().copied().unwrap_or(f64::NAN) * 100.0,
                s.last().copied().unwrap_or(f64::NAN) * 100.0
            ),
        ]
    };
    print!(
        "{}",
        table::render(
            &["READER", "N", "MEDIAN CPU (of a core)", "MIN – MAX"],
            &[
                row(
                    "CPython 3.15 profiling.sampling",
                    rounds.iter().map(|r| r.tachyon_cores).collect()
                ),
                row(
                    "gilscope GIL reader",
                    rounds.iter().map(|r| r.reader_cores).collect()
                ),
            ],
        )
    );
    for (k, r) in rounds.iter().enumerate() {
        for (tid, (ours, theirs)) in &r.held {
            println!(
                "round {k} thread {tid}: held {:.1} % (gilscope) vs {} (CPython's sampler)",
                ours * 100.0,
                theirs.map_or("— (no samples)".to_string(), |t| format!(
                    "{:.1} %",
                    t * 100.0
                ))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One round: the sampler runs the spinners; gilscope attaches to them.
fn round(
    args: &JudgesArgs,
    script: &std::path::Path,
    out: &std::path::Path,
) -> anyhow::Result<Round> {
    // The spinners outlast the window: start-up, settle, window, margin.
    let run_secs = args.secs + 3.0;
    let mut cmd = Command::new(&args.python);
    cmd.args(["-m", "profiling.sampling", "run", "-a", "--mode", "gil"])
        .args(["-r", &args.rate.to_string(), "--collapsed", "-o"])
        .arg(out)
        .arg(script)
        .arg(format!("{run_secs}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = crate::child::ChildGuard::spawn(&mut cmd)
        .with_context(|| format!("cannot start {}", args.python.display()))?;
    let sampler_pid = child.pid();
    let start = Instant::now();
    let target = loop {
        if let Some(pid) = spinning_child(sampler_pid) {
            break pid;
        }
        if start.elapsed() > Duration::from_secs(20) || child.try_wait().ok().flatten().is_some() {
            bail!(
                "{} -m profiling.sampling run did not start the spinners (is it CPython 3.15?)",
                args.python.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // The sampler process: the one whose child the script is (a wrapper
    // execs into it, or forks it once).
    let tachyon = parent_of(target).unwrap_or(sampler_pid);
    std::thread::sleep(Duration::from_millis(500));
    let agg = std::sync::Arc::new(std::sync::Mutex::new(GilAggregator::new()));
    let sink = {
        let agg = agg.clone();
        move |tick| {
            agg.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(&tick);
            true
        }
    };
    let config = GilSamplerConfig {
        rate_hz: f64::from(args.rate),
        ..GilSamplerConfig::default()
    };
    let t0 = Instant::now();
    let ticks0 = cpu_ticks(tachyon).context("cannot read the sampler's CPU time")?;
    let reader = GilSampler::start_with(target, config, sink)?;
    std::thread::sleep(Duration::from_secs_f64(args.secs));
    let stats = reader.stop();
    let ticks1 = cpu_ticks(tachyon).context("the sampler exited during the window")?;
    let wall = t0.elapsed().as_secs_f64();
    let hz = crate::sampler::clock_ticks_per_sec() as f64;
    let tachyon_cores = (ticks1 - ticks0) as f64 / hz / wall;
    let reader_cores = stats.cpu_ns as f64 / 1e9 / (stats.wall_ns as f64 / 1e9).max(1e-9);
    let interval = agg
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    // Let the sampler finish and write its file.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stdout = String::new();
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if let Some(mut o) = child.child_mut().stdout.take() {
        use std::io::Read;
        let _ = o.read_to_string(&mut stdout);
    }
    let theirs = std::fs::read_to_string(out)
        .ok()
        .and_then(|text| collapsed_shares(&text, &stdout));
    let mut held = BTreeMap::new();
    if let Some(p) = interval.as_ref().and_then(|i| i.process(target)) {
        for t in p.threads.iter().filter(|t| t.hold_fraction > 0.2) {
            let other = theirs.as_ref().and_then(|m| m.get(&t.tid).copied());
            held.insert(t.tid, (t.hold_fraction, other));
        }
    }
    Ok(Round {
        tachyon_cores,
        reader_cores,
        held,
    })
}

/// A folder under the system's temporary folder (which the sid wrappers
/// bind in), removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("gilscope-judges-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Per thread id, the share of all samples that found it holding the GIL:
/// lines `tid:N;frame;… COUNT` of `--collapsed` output over the total of
/// its "Captured N samples" line.
pub fn collapsed_shares(collapsed: &str, stdout: &str) -> Option<BTreeMap<u32, f64>> {
    let total: u64 = stdout
        .split("Captured ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .replace(',', "")
        .parse()
        .ok()?;
    let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
    for line in collapsed.lines() {
        let Some((stack, n)) = line.rsplit_once(' ') else {
            continue;
        };
        let Some(tid) = stack
            .split(';')
            .find_map(|f| f.strip_prefix("tid:"))
            .and_then(|t| t.parse().ok())
        else {
            continue;
        };
        *counts.entry(tid).or_default() += n.trim().parse::<u64>().unwrap_or(0);
    }
    (total > 0).then(|| {
        counts
            .into_iter()
            .map(|(tid, n)| (tid, n as f64 / total as f64))
            .collect()
    })
}

/// A process under `root` running the spinners (three threads).
fn spinning_child(root: u32) -> Option<u32> {
    let tree = crate::sampler::process_tree(root).ok()?;
    tree.into_iter().find(|&p| {
        std::fs::read_to_string(format!("/proc/{p}/status"))
            .is_ok_and(|s| s.lines().any(|l| l == "Threads:\t3"))
            && std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c.windows(7).any(|w| w == b"spin.py"))
    })
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `utime + stime` of a whole process, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapsed_output_gives_shares_of_all_samples() {
        let collapsed =
            "tid:101;<module>;spin 480\ntid:102;<module>;spin 470\ntid:102;other 20\nnoise\n";
        let stdout = "Captured 1,000 samples in 1.00 seconds\n";
        let s = collapsed_shares(collapsed, stdout).unwrap();
        assert_eq!(s.get(&101), Some(&0.48));
        assert_eq!(s.get(&102), Some(&0.49));
        assert_eq!(collapsed_shares(collapsed, "nothing"), None);
    }
}
