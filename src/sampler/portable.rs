//! The portable [`SampleSource`]: per-core use and the process tree's
//! memory through the sysinfo crate, which also runs on macOS and Windows.
//! What it cannot read is `None` — thread states, PSS/USS, the machine's
//! other load — and [`SamplerBackend::thread_states_missing`] says why.
//!
//! sysinfo recomputes per-core use at most every
//! `sysinfo::MINIMUM_CPU_UPDATE_INTERVAL` (200 ms on Linux and macOS); a
//! sample between two refreshes carries each core with `busy: None` (not
//! measured in it), so the record's per-core columns hold one reading per
//! refresh, weighted by its span, never a repeated value. The tree (the
//! root and its descendants, by parent links) is rebuilt from a scan of
//! every process `tree_hz` times a second and in poked samples; in between
//! only the tree's processes are refreshed.

use super::backend::SampleSource;
use super::config::{Poke, SamplerBackend, SamplerConfig};
use super::sample::{CoreBusy, CoreSample, MemorySample, Sample};
use super::task::Pid;
use crate::pace::monotonic_ns;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;
use sysinfo::{CpuRefreshKind, ProcessRefreshKind, ProcessesToUpdate, System};

pub(super) struct Portable {
    sys: System,
    root: sysinfo::Pid,
    /// The root and its descendants as last walked.
    tree: Vec<sysinfo::Pid>,
    /// When sysinfo last recomputed per-core use (taken after the call,
    /// so sysinfo's own clock is never later than this).
    cpu_refreshed: Option<Instant>,
    n: u64,
}

impl Portable {
    /// A source for the tree rooted at `root`, or why sysinfo cannot
    /// read this system.
    pub(super) fn new(root: Pid) -> Result<Self, String> {
        let mut sys = System::new().map_err(|e| e.to_string())?;
        sys.refresh_cpu_list(CpuRefreshKind::nothing().with_usage());
        let cpu_refreshed = Some(Instant::now());
        Ok(Self {
            sys,
            root: sysinfo::Pid::from_u32(root),
            tree: Vec::new(),
            cpu_refreshed,
            n: 0,
        })
    }

    /// Rebuilds the tree from a scan of every process.
    fn walk(&mut self) {
        self.sys.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().with_memory(),
        );
        let mut children: HashMap<sysinfo::Pid, Vec<sysinfo::Pid>> = HashMap::new();
        for (pid, p) in self.sys.processes() {
            if let Some(parent) = p.parent() {
                children.entry(parent).or_default().push(*pid);
            }
        }
        self.tree.clear();
        if self.sys.process(self.root).is_none() {
            return;
        }
        let mut seen = HashSet::from([self.root]);
        let mut queue = VecDeque::from([self.root]);
        while let Some(pid) = queue.pop_front() {
            self.tree.push(pid);
            for &kid in children.get(&pid).map_or(&[][..], Vec::as_slice) {
                if seen.insert(kid) {
                    queue.push_back(kid);
                }
            }
        }
    }

    /// Each core's use since sysinfo's previous refresh, when it refreshed
    /// now; every core `None` otherwise.
    fn cores(&mut self) -> Vec<CoreSample> {
        let due = self
            .cpu_refreshed
            .is_none_or(|t| t.elapsed() >= sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        if due {
            self.sys.refresh_cpu_usage();
            self.cpu_refreshed = Some(Instant::now());
        }
        self.sys
            .cpus()
            .iter()
            .enumerate()
            .map(|(cpu, c)| CoreSample {
                cpu: u32::try_from(cpu).unwrap_or(u32::MAX),
                busy: due.then(|| CoreBusy::total((c.usage() / 100.0).clamp(0.0, 1.0))),
            })
            .collect()
    }
}

impl SampleSource for Portable {
    fn sample(&mut self, config: &SamplerConfig, poke: Option<Poke>) -> Option<Sample> {
        let n = self.n;
        self.n += 1;
        if n == 0 || poke.is_some() || n.is_multiple_of(config.every(config.tree_hz)) {
            self.walk();
        } else {
            self.sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&self.tree),
                true,
                ProcessRefreshKind::nothing().with_memory(),
            );
        }
        let present: Vec<u64> = self
            .tree
            .iter()
            .filter_map(|pid| self.sys.process(*pid).map(sysinfo::Process::memory))
            .collect();
        if self.sys.process(self.root).is_none() || present.is_empty() {
            return None;
        }
        let t_ns = monotonic_ns();
        let cores = self.cores();
        Some(Sample {
            t_ns,
            late_ns: 0,
            cost_ns: 0,
            missed: 0,
            baseline: false,
            cores,
            threads: Vec::new(),
            memory: Some(MemorySample {
                rss_bytes: present.iter().sum(),
                pss_bytes: None,
                pss_missing: None,
                uss_bytes: None,
                processes: u32::try_from(present.len()).unwrap_or(u32::MAX),
            }),
            load: None,
            sampler: SamplerBackend::Portable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::Duration;

    #[test]
    fn a_process_tree_is_sampled_and_its_end_seen() {
        // sh → sleep: a tree of two processes.
        let mut child = Command::new("sh")
            .args(["-c", "sleep 30 & echo $!; wait"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let sleep_pid: i32 = line.trim().parse().unwrap();
        let config = SamplerConfig::default();
        let mut src = Portable::new(child.id()).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let mut processes = 0;
        let mut core_readings = 0;
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(700) {
            let s = src.sample(&config, None).expect("the tree is alive");
            assert!(s.threads.is_empty(), "no thread states");
            assert_eq!(s.sampler, SamplerBackend::Portable);
            let m = s.memory.expect("memory");
            assert!(m.rss_bytes > 0 && m.pss_bytes.is_none());
            processes = processes.max(m.processes);
            assert!(!s.cores.is_empty());
            if s.cores.iter().all(|c| c.busy.is_some()) {
                core_readings += 1;
                for c in &s.cores {
                    let b = c.busy.expect("read");
                    assert!((0.0..=1.0).contains(&b.busy), "{b:?}");
                    assert_eq!(b.user, None, "the split is not measured");
                }
            } else {
                assert!(s.cores.iter().all(|c| c.busy.is_none()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(processes, 2, "sh and its sleep");
        // 700 ms at one refresh per ≥ 200 ms: 2 or 3 readings, not 30.
        assert!((1..=4).contains(&core_readings), "{core_readings}");
        // SAFETY: kill(2) on the sleep this test started.
        unsafe { libc::kill(sleep_pid, libc::SIGKILL) };
        let _ = child.kill();
        child.wait().unwrap();
        assert!(src.sample(&config, Some(Poke::Now)).is_none(), "gone");
    }
}
