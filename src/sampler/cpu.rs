//! `/proc/stat`: per-core time counters (in clock ticks) and the fractions
//! of time between two snapshots.
//!
//! Resolution: counters move in `1 / clock_ticks_per_sec()` steps (10 ms at
//! CLK_TCK=100), so over a 20 ms interval one core can only read 0, 50 or
//! 100 %. Callers should difference over a sliding window, not sample to
//! sample.

use std::path::Path;

use super::error::{ParseError, ProcError};
use super::file::ProcFile;
use super::parse::{fields, next_u64, parse_u32};

pub const PROC_STAT: &str = "/proc/stat";

/// The eight time counters of one `cpu` line, in clock ticks. Guest time is
/// already included in `user`/`nice` by the kernel and is not read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
}

impl CpuTicks {
    pub fn total(&self) -> u64 {
        [
            self.user,
            self.nice,
            self.system,
            self.idle,
            self.iowait,
            self.irq,
            self.softirq,
            self.steal,
        ]
        .iter()
        .fold(0u64, |a, &b| a.saturating_add(b))
    }
}

/// One `cpuN` line. `cpu` is N: offline CPUs are absent from /proc/stat, so
/// the position in [`CpuStat::cores`] is not the CPU number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreTicks {
    pub cpu: u32,
    pub ticks: CpuTicks,
}

/// The `cpu` lines of one /proc/stat snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuStat {
    /// The aggregate `cpu` line (sum over all CPUs).
    pub total: CpuTicks,
    /// The `cpuN` lines, in file order (ascending N).
    pub cores: Vec<CoreTicks>,
}

/// Share of an interval spent in each state; the five fields sum to 1.
/// `user` includes nice, `system` includes irq and softirq.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuFractions {
    pub user: f64,
    pub system: f64,
    pub idle: f64,
    pub iowait: f64,
    pub steal: f64,
}

impl CpuFractions {
    /// Fractions between two snapshots of the same counters.
    ///
    /// A counter that went backwards (iowait can, and CPU hotplug resets all)
    /// contributes 0. `None` when no tick elapsed: there is nothing to
    /// divide, and "0 % busy" would be a made-up reading.
    pub fn between(prev: &CpuTicks, cur: &CpuTicks) -> Option<Self> {
        let d = |a: u64, b: u64| b.saturating_sub(a) as f64;
        let user = d(prev.user, cur.user) + d(prev.nice, cur.nice);
        let system =
            d(prev.system, cur.system) + d(prev.irq, cur.irq) + d(prev.softirq, cur.softirq);
        let idle = d(prev.idle, cur.idle);
        let iowait = d(prev.iowait, cur.iowait);
        let steal = d(prev.steal, cur.steal);
        let total = user + system + idle + iowait + steal;
        if total <= 0.0 {
            return None;
        }
        Some(Self {
            user: user / total,
            system: system / total,
            idle: idle / total,
            iowait: iowait / total,
            steal: steal / total,
        })
    }

    /// user + system. Steal is not counted: it is time this (virtual) CPU
    /// wanted to run but the hypervisor ran something else.
    pub fn busy(&self) -> f64 {
        self.user + self.system
    }
}

/// Fractions of one core between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoreFractions {
    pub cpu: u32,
    /// `None`: the core was absent from the earlier snapshot, or no tick elapsed.
    pub fractions: Option<CpuFractions>,
}

/// Per-core fractions between two snapshots, matched by CPU number, in the
/// order of `cur.cores`.
pub fn core_fractions(prev: &CpuStat, cur: &CpuStat) -> Vec<CoreFractions> {
    cur.cores
        .iter()
        .enumerate()
        .map(|(i, c)| CoreFractions {
            cpu: c.cpu,
            // Same position in the common case (no CPU went offline or came
            // online in between); a search otherwise.
            fractions: prev
                .cores
                .get(i)
                .filter(|p| p.cpu == c.cpu)
                .or_else(|| prev.cores.iter().find(|p| p.cpu == c.cpu))
                .and_then(|p| CpuFractions::between(&p.ticks, &c.ticks)),
        })
        .collect()
}

/// Parses the `cpu` lines of /proc/stat into `out`, reusing its allocation.
/// Stops at the first line after them (the `intr` line can be many KiB).
pub fn parse_cpu_stat_into(content: &[u8], out: &mut CpuStat) -> Result<(), ParseError> {
    out.cores.clear();
    let mut saw_total = false;
    for line in content.split(|&b| b == b'\n') {
        let Some(rest) = line.strip_prefix(b"cpu") else {
            if saw_total {
                break;
            }
            continue;
        };
        let mut it = fields(rest);
        if rest.first().is_some_and(|b| b.is_ascii_whitespace()) {
            out.total = parse_ticks(&mut it)?;
            saw_total = true;
        } else {
            let label = it.next().ok_or(ParseError::MissingField("cpu number"))?;
            let cpu = parse_u32("cpu number", label)?;
            let ticks = parse_ticks(&mut it)?;
            out.cores.push(CoreTicks { cpu, ticks });
        }
    }
    if !saw_total {
        return Err(ParseError::Invalid("no aggregate `cpu` line"));
    }
    Ok(())
}

/// Parses the `cpu` lines of /proc/stat.
pub fn parse_cpu_stat(content: &[u8]) -> Result<CpuStat, ParseError> {
    let mut out = CpuStat::default();
    parse_cpu_stat_into(content, &mut out)?;
    Ok(out)
}

fn parse_ticks<'a>(it: &mut impl Iterator<Item = &'a [u8]>) -> Result<CpuTicks, ParseError> {
    Ok(CpuTicks {
        user: next_u64(it, "user")?,
        nice: next_u64(it, "nice")?,
        system: next_u64(it, "system")?,
        idle: next_u64(it, "idle")?,
        iowait: next_u64(it, "iowait")?,
        irq: next_u64(it, "irq")?,
        softirq: next_u64(it, "softirq")?,
        steal: next_u64(it, "steal")?,
    })
}

/// Reads /proc/stat once (open, read, close).
pub fn read_cpu_stat() -> Result<CpuStat, ProcError> {
    CpuStatReader::open()?.read()
}

/// /proc/stat kept open and re-read with pread into a reused buffer.
#[derive(Debug)]
pub struct CpuStatReader {
    file: ProcFile,
    buf: Vec<u8>,
}

impl CpuStatReader {
    pub fn open() -> Result<Self, ProcError> {
        Self::open_path(Path::new(PROC_STAT))
    }

    /// Opens another file with /proc/stat's format (fixtures in tests).
    pub fn open_path(path: &Path) -> Result<Self, ProcError> {
        Ok(Self {
            file: ProcFile::open(path)?,
            buf: Vec::new(),
        })
    }

    /// Reads a fresh snapshot into `out`, reusing its allocation.
    pub fn read_into(&mut self, out: &mut CpuStat) -> Result<(), ProcError> {
        let content = self.file.read(&mut self.buf)?;
        parse_cpu_stat_into(content, out).map_err(|e| ProcError::malformed(self.file.path(), e))
    }

    pub fn read(&mut self) -> Result<CpuStat, ProcError> {
        let mut out = CpuStat::default();
        self.read_into(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::test_support::fixture;

    #[test]
    fn parses_real_fixture() {
        let s = parse_cpu_stat(&fixture("stat")).unwrap();
        assert_eq!(s.cores.len(), 2);
        assert_eq!(s.cores[1].cpu, 1);
        // The aggregate is the sum of the cores, up to one tick of rounding
        // per core (the kernel converts each sum from ns separately).
        let sum: u64 = s.cores.iter().map(|c| c.ticks.user).sum();
        assert!(s.total.user.abs_diff(sum) <= s.cores.len() as u64);
    }

    #[test]
    fn keeps_cpu_numbers_when_a_core_is_offline() {
        let s = parse_cpu_stat(&fixture("stat_offline_cpu")).unwrap();
        let cpus: Vec<u32> = s.cores.iter().map(|c| c.cpu).collect();
        assert_eq!(cpus, vec![0, 2, 3]);
    }

    #[test]
    fn short_cpu_line_is_an_error() {
        let e = parse_cpu_stat(b"cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 2 3 4\n").unwrap_err();
        assert_eq!(e, ParseError::MissingField("iowait"));
        assert!(parse_cpu_stat(b"intr 1 2 3\n").is_err());
        assert!(parse_cpu_stat(b"").is_err());
    }

    #[test]
    fn malformed_fixture_error_names_the_file() {
        let path = crate::sampler::test_support::fixture_path("stat_truncated_cpu");
        let err = CpuStatReader::open_path(&path).unwrap().read().unwrap_err();
        assert!(matches!(err, ProcError::Malformed { .. }));
        assert!(err.to_string().contains("stat_truncated_cpu"), "{err}");
    }

    #[test]
    fn fractions_sum_to_one_and_guard_zero_and_negative_deltas() {
        let a = CpuTicks {
            user: 10,
            nice: 0,
            system: 5,
            idle: 80,
            iowait: 5,
            irq: 0,
            softirq: 0,
            steal: 0,
        };
        let b = CpuTicks {
            user: 40,
            nice: 10,
            system: 15,
            idle: 120,
            iowait: 3,
            irq: 0,
            softirq: 0,
            steal: 0,
        };
        let f = CpuFractions::between(&a, &b).unwrap();
        // iowait went backwards → counts 0, not negative.
        assert_eq!(f.iowait, 0.0);
        // Deltas: user 30 + nice 10, system 10, idle 40, iowait 0 → 90 ticks.
        assert!((f.user - 40.0 / 90.0).abs() < 1e-12);
        assert!((f.user + f.system + f.idle + f.iowait + f.steal - 1.0).abs() < 1e-12);
        assert_eq!(CpuFractions::between(&a, &a), None);
        // Everything went backwards (hotplug reset) → no reading, not 0 %.
        assert_eq!(CpuFractions::between(&b, &CpuTicks::default()), None);
    }

    #[test]
    fn core_fractions_match_by_cpu_number() {
        let t = |u: u64, i: u64| CpuTicks {
            user: u,
            idle: i,
            ..CpuTicks::default()
        };
        let prev = CpuStat {
            total: t(0, 0),
            cores: vec![
                CoreTicks {
                    cpu: 0,
                    ticks: t(0, 0),
                },
                CoreTicks {
                    cpu: 2,
                    ticks: t(0, 0),
                },
            ],
        };
        let cur = CpuStat {
            total: t(0, 0),
            cores: vec![
                CoreTicks {
                    cpu: 0,
                    ticks: t(1, 1),
                },
                CoreTicks {
                    cpu: 1,
                    ticks: t(5, 5),
                },
                CoreTicks {
                    cpu: 2,
                    ticks: t(3, 1),
                },
            ],
        };
        let f = core_fractions(&prev, &cur);
        assert_eq!(f[0].fractions.unwrap().user, 0.5);
        assert_eq!(f[1].fractions, None);
        assert_eq!(f[2].fractions.unwrap().user, 0.75);
    }

    #[test]
    fn live_proc_stat_moves_forward() {
        let mut r = CpuStatReader::open().unwrap();
        let a = r.read().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(60));
        let b = r.read().unwrap();
        assert!(
            b.total.total() > a.total.total(),
            "pread returned stale /proc/stat"
        );
        let f = CpuFractions::between(&a.total, &b.total).unwrap();
        assert!((f.user + f.system + f.idle + f.iowait + f.steal - 1.0).abs() < 1e-9);
        assert_eq!(core_fractions(&a, &b).len(), b.cores.len());
    }
}
