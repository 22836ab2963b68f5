//! What else ran: a low-rate reading of the whole machine beside a run.
//!
//! Each [`LoadSample`] carries cumulative counters, so any two of them
//! give the CPU used in between by the machine (/proc/stat: every core's
//! busy ticks), by the run's process tree (its processes' `utime + stime +
//! cutime + cstime`: exited threads and reaped worker processes included),
//! by gilscope itself (`/proc/self/stat`, and per thread name from
//! `/proc/self/task/*/stat`: the sampler, the GIL reader, the window) and,
//! by name, the busiest other processes since the first reading (a scan of
//! `/proc/*/stat`: utime + stime per pid, a pid's last value kept after it
//! exits). "Other processes" is the machine's busy time minus the tree
//! minus gilscope: processes too short-lived for the scan are still
//! counted there, only not named.
//!
//! Cost: one scan reads one small file per process on the machine (74
//! here: ≈ 0.3 ms, see docs/truth.md, "What else ran"); the sampler does it
//! once a second, at the first sample and at each poke.

use super::error::ParseError;
use super::parse::{fields, next_u64, parse_u32};
use super::task::{Pid, split_comm};
use super::{CpuStat, ticks_to_ns};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::time::Instant;

/// Busiest other processes kept per reading (by name).
pub const LOAD_TOP: usize = 3;
/// The scan remembers at most this many pids (older ones are dropped).
const MAX_SEEN: usize = 65_536;

/// The CPU counters of one process, from `/proc/PID/stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcCpu {
    pub pid: Pid,
    pub ppid: Pid,
    pub comm: String,
    /// utime + stime of all its threads, living and exited (clock ticks).
    pub cpu_ticks: u64,
    /// cutime + cstime: its children that it has waited for.
    pub children_ticks: u64,
    /// Start time after boot (clock ticks).
    pub start_ticks: u64,
}

/// Parses the fields of `/proc/PID/stat` the load reading needs.
pub fn parse_proc_cpu(content: &[u8]) -> Result<ProcCpu, ParseError> {
    let parts = split_comm(content)?;
    let pid = parse_u32("pid", parts.head.trim_ascii())?;
    let mut it = fields(parts.rest);
    it.next().ok_or(ParseError::MissingField("state"))?;
    let ppid = parse_u32("ppid", it.next().ok_or(ParseError::MissingField("ppid"))?)?;
    // Fields 5..13.
    for _ in 0..9 {
        it.next().ok_or(ParseError::MissingField("utime"))?;
    }
    let utime = next_u64(&mut it, "utime")?;
    let stime = next_u64(&mut it, "stime")?;
    // cutime and cstime are signed in the kernel's format (never negative
    // in practice): read them as numbers, a minus sign is an error.
    let cutime = next_u64(&mut it, "cutime")?;
    let cstime = next_u64(&mut it, "cstime")?;
    // Fields 18..21: priority nice num_threads itrealvalue.
    for _ in 0..4 {
        it.next().ok_or(ParseError::MissingField("starttime"))?;
    }
    let start_ticks = next_u64(&mut it, "starttime")?;
    Ok(ProcCpu {
        pid,
        ppid,
        comm: String::from_utf8_lossy(parts.comm).into_owned(),
        cpu_ticks: utime.saturating_add(stime),
        children_ticks: cutime.saturating_add(cstime),
        start_ticks,
    })
}

/// CPU used by the processes or threads of one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCpu {
    pub name: String,
    pub cpu_ns: u64,
    /// How many processes (or threads, for gilscope's own) had this name.
    pub count: u32,
}

/// One reading of the whole machine (cumulative counters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSample {
    /// Busy time of all cores (user, nice, system, irq, softirq; not idle,
    /// iowait or steal), from /proc/stat.
    pub machine_busy_ns: u64,
    /// All time of all cores (busy + idle + iowait + steal).
    pub machine_all_ns: u64,
    /// Cores online (`cpuN` lines of /proc/stat).
    pub cores_online: u32,
    /// Cores the run's root process may run on (its affinity); `None` if
    /// it could not be read.
    pub cores_allowed: Option<u32>,
    /// The run's process tree; `None` when the root could not be read.
    pub tree_cpu_ns: Option<u64>,
    /// gilscope's own process (every thread it ever had).
    pub own_cpu_ns: Option<u64>,
    /// gilscope's living threads by name (cumulative).
    pub own_threads: Vec<NamedCpu>,
    /// Busiest other processes by name, CPU since the first reading.
    pub others: Vec<NamedCpu>,
    /// Processes read in this scan, and what the whole reading cost.
    pub processes_scanned: u32,
    pub cost_ns: u64,
}

/// A pid the scan has seen.
#[derive(Debug, Clone)]
struct Seen {
    start_ticks: u64,
    name: String,
    base_ticks: u64,
    last_ticks: u64,
    other: bool,
}

/// Reads [`LoadSample`]s; keeps what it has seen to difference pids.
#[derive(Debug, Default)]
pub struct LoadScanner {
    /// The run's root process's start time: a process that started at or
    /// after it and is first seen later counts from 0.
    root_start_ticks: Option<u64>,
    seen: FxHashMap<Pid, Seen>,
    buf: Vec<u8>,
}

impl LoadScanner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the machine now. `cpu`: the /proc/stat just read by the
    /// sampler; `in_tree(pid)`: whether a process belongs to the run.
    pub fn read(&mut self, root: Pid, cpu: &CpuStat, in_tree: impl Fn(Pid) -> bool) -> LoadSample {
        let began = Instant::now();
        let own = std::process::id();
        let t = &cpu.total;
        let busy = [t.user, t.nice, t.system, t.irq, t.softirq]
            .iter()
            .fold(0u64, |a, &b| a.saturating_add(b));
        let mut tree_ticks: Option<u64> = None;
        let mut own_ticks: Option<u64> = None;
        let mut scanned = 0u32;
        let first = self.seen.is_empty();
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let Some(pid) = entry
                    .file_name()
                    .to_str()
                    .and_then(|s| s.parse::<Pid>().ok())
                else {
                    continue;
                };
                let Some(p) = self.read_stat(&format!("/proc/{pid}/stat")) else {
                    continue;
                };
                scanned += 1;
                if pid == root && self.root_start_ticks.is_none() {
                    self.root_start_ticks = Some(p.start_ticks);
                }
                let tree = pid != own
                    && (pid == root || in_tree(pid) || (p.ppid != own && in_tree(p.ppid)));
                if pid == own {
                    own_ticks = Some(p.cpu_ticks);
                } else if tree {
                    *tree_ticks.get_or_insert(0) += p.cpu_ticks + p.children_ticks;
                }
                self.remember(pid, &p, !tree && pid != own, first);
            }
        }
        let own_threads = self.own_threads(own);
        LoadSample {
            machine_busy_ns: ticks_to_ns(busy),
            machine_all_ns: ticks_to_ns(t.total()),
            cores_online: u32::try_from(cpu.cores.len()).unwrap_or(u32::MAX),
            cores_allowed: affinity_cores(root),
            tree_cpu_ns: tree_ticks.map(ticks_to_ns),
            own_cpu_ns: own_ticks.map(ticks_to_ns),
            own_threads,
            others: self.top_others(),
            processes_scanned: scanned,
            cost_ns: began.elapsed().as_nanos() as u64,
        }
    }

    fn read_stat(&mut self, path: &str) -> Option<ProcCpu> {
        self.buf.clear();
        let mut f = std::fs::File::open(path).ok()?;
        f.read_to_end(&mut self.buf).ok()?;
        parse_proc_cpu(&self.buf).ok()
    }

    fn remember(&mut self, pid: Pid, p: &ProcCpu, other: bool, first: bool) {
        if let Some(s) = self.seen.get_mut(&pid)
            && s.start_ticks == p.start_ticks
        {
            s.last_ticks = p.cpu_ticks;
            s.other = other;
            return;
        }
        if self.seen.len() >= MAX_SEEN {
            return;
        }
        // New since the first scan: counted from 0 if it started during
        // the run, else from now (its earlier CPU is not the run's time).
        let started_during = !first && self.root_start_ticks.is_some_and(|r| p.start_ticks >= r);
        let base_ticks = if started_during { 0 } else { p.cpu_ticks };
        self.seen.insert(
            pid,
            Seen {
                start_ticks: p.start_ticks,
                name: p.comm.clone(),
                base_ticks,
                last_ticks: p.cpu_ticks,
                other,
            },
        );
    }

    fn top_others(&self) -> Vec<NamedCpu> {
        let mut by_name: FxHashMap<&str, (u64, u32)> = FxHashMap::default();
        for s in self.seen.values().filter(|s| s.other) {
            let used = s.last_ticks.saturating_sub(s.base_ticks);
            if used == 0 {
                continue;
            }
            let e = by_name.entry(s.name.as_str()).or_default();
            e.0 += used;
            e.1 += 1;
        }
        let mut top: Vec<NamedCpu> = by_name
            .into_iter()
            .map(|(name, (ticks, count))| NamedCpu {
                name: name.to_string(),
                cpu_ns: ticks_to_ns(ticks),
                count,
            })
            .collect();
        top.sort_by(|a, b| b.cpu_ns.cmp(&a.cpu_ns).then_with(|| a.name.cmp(&b.name)));
        top.truncate(LOAD_TOP);
        top
    }

    fn own_threads(&mut self, own: Pid) -> Vec<NamedCpu> {
        let mut by_name: Vec<NamedCpu> = Vec::new();
        let Ok(dir) = std::fs::read_dir(format!("/proc/{own}/task")) else {
            return by_name;
        };
        for entry in dir.flatten() {
            let Some(tid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<Pid>().ok())
            else {
                continue;
            };
            let Some(p) = self.read_stat(&format!("/proc/{own}/task/{tid}/stat")) else {
                continue;
            };
            let ns = ticks_to_ns(p.cpu_ticks);
            match by_name.iter_mut().find(|n| n.name == p.comm) {
                Some(n) => {
                    n.cpu_ns += ns;
                    n.count += 1;
                }
                None => by_name.push(NamedCpu {
                    name: p.comm,
                    cpu_ns: ns,
                    count: 1,
                }),
            }
        }
        by_name.sort_by(|a, b| a.name.cmp(&b.name));
        by_name
    }
}

/// How many CPUs `pid` may run on.
fn affinity_cores(pid: Pid) -> Option<u32> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: sched_getaffinity writes into a local, zeroed cpu_set_t of
    // the size passed.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        u32::try_from(libc::CPU_COUNT(&set)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::test_support::fixture;
    use crate::sampler::{read_cpu_stat, read_once};

    #[test]
    fn parses_a_real_line() {
        let p = parse_proc_cpu(&fixture("task_stat")).expect("parses");
        assert!(p.pid > 0);
        assert!(!p.comm.is_empty());
    }

    #[test]
    fn parses_a_comm_with_parens_and_spaces() {
        let p = parse_proc_cpu(&fixture("task_stat_comm_parens")).expect("parses");
        assert_eq!(p.pid, 4242);
        assert_eq!(p.ppid, 4200);
        assert_eq!(p.comm, "evil) R 1 (x ) y");
        assert_eq!(p.cpu_ticks, 1234 + 56);
        assert_eq!(p.children_ticks, 0);
        assert_eq!(p.start_ticks, 777);
    }

    #[test]
    fn parses_children_time() {
        let line = b"77 (make) S 1 77 77 0 -1 0 0 0 0 0 10 20 300 400 20 0 1 0 5000 0 0";
        let p = parse_proc_cpu(line).expect("parses");
        assert_eq!(
            (p.cpu_ticks, p.children_ticks, p.start_ticks),
            (30, 700, 5000)
        );
    }

    #[test]
    fn refuses_truncated_lines() {
        assert!(parse_proc_cpu(&fixture("task_stat_truncated")).is_ok());
        assert!(parse_proc_cpu(b"12 (x) R 1 2 3").is_err());
        assert!(parse_proc_cpu(b"no comm here").is_err());
    }

    #[test]
    fn reads_this_machine_and_names_a_busy_child() {
        // A child that spins for CPU: it must show up among the others by
        // name, and the machine's busy time must cover it.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .expect("sh runs");
        let cpu0 = read_cpu_stat().expect("/proc/stat");
        let mut scanner = LoadScanner::new();
        let own = std::process::id();
        let first = scanner.read(own, &cpu0, |_| false);
        // On a loaded machine the child may need longer than 0.6 s to get
        // 0.1 s of CPU, or to rank among the busiest: up to 3 s.
        let mut last;
        let mut waited = 0;
        loop {
            std::thread::sleep(std::time::Duration::from_millis(300));
            waited += 300;
            let cpu1 = read_cpu_stat().expect("/proc/stat");
            last = scanner.read(own, &cpu1, |_| false);
            let seen = last
                .others
                .iter()
                .any(|o| o.name == "sh" && o.cpu_ns > 100_000_000);
            if seen || waited >= 3000 {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(first.processes_scanned > 1);
        assert!(last.machine_busy_ns > first.machine_busy_ns);
        assert!(last.cores_online >= 1);
        assert!(last.cores_allowed.is_some_and(|c| c >= 1));
        assert!(last.own_cpu_ns.is_some());
        assert_eq!(last.tree_cpu_ns, None, "the root is our own process here");
        assert!(
            last.others
                .iter()
                .any(|o| o.name == "sh" && o.cpu_ns > 100_000_000),
            "the spinning sh is among the busiest: {:?}",
            last.others
        );
        let _ = read_once(std::path::Path::new("/proc/self/stat"));
    }

    /// Prints what one reading costs on this machine (for docs/truth.md).
    #[test]
    fn cost_of_a_reading() {
        let cpu = read_cpu_stat().expect("/proc/stat");
        let mut scanner = LoadScanner::new();
        let mut costs: Vec<u64> = (0..50)
            .map(|_| scanner.read(1, &cpu, |_| false).cost_ns)
            .collect();
        costs.sort_unstable();
        let n = scanner.read(1, &cpu, |_| false).processes_scanned;
        eprintln!(
            "load reading over {n} processes: median {:.3} ms, max {:.3} ms",
            costs[costs.len() / 2] as f64 / 1e6,
            costs[costs.len() - 1] as f64 / 1e6
        );
    }
}
