//! Process memory: `/proc/PID/statm` (RSS, cheap: a few counters) and
//! `/proc/PID/smaps_rollup` (PSS and USS, slower: walks every mapping under
//! the mm lock; read it at a few Hz, not at the sampling rate).

use std::path::PathBuf;

use super::error::{ParseError, ProcError};
use super::file::{ProcFile, read_once};
use super::parse::{fields, next_u64, parse_u64};
use super::sys::page_size_bytes;
use super::task::Pid;

/// `/proc/PID/NAME`.
pub fn proc_path(pid: Pid, name: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{name}"))
}

/// The first three fields of `statm`, in pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatmPages {
    pub size: u64,
    pub resident: u64,
    pub shared: u64,
}

/// `statm` in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statm {
    /// Virtual size.
    pub vm_bytes: u64,
    /// Resident set size.
    pub rss_bytes: u64,
    /// Resident pages backed by a file or shared memory.
    pub shared_bytes: u64,
}

impl StatmPages {
    pub fn to_bytes(self, page_size_bytes: u64) -> Statm {
        Statm {
            vm_bytes: self.size.saturating_mul(page_size_bytes),
            rss_bytes: self.resident.saturating_mul(page_size_bytes),
            shared_bytes: self.shared.saturating_mul(page_size_bytes),
        }
    }
}

/// Parses `/proc/PID/statm` (pages).
pub fn parse_statm(content: &[u8]) -> Result<StatmPages, ParseError> {
    let mut it = fields(content);
    Ok(StatmPages {
        size: next_u64(&mut it, "size")?,
        resident: next_u64(&mut it, "resident")?,
        shared: next_u64(&mut it, "shared")?,
    })
}

/// Reads `/proc/PID/statm` once, in bytes.
pub fn read_statm(pid: Pid) -> Result<Statm, ProcError> {
    let path = proc_path(pid, "statm");
    let content = read_once(&path)?;
    parse_statm(&content)
        .map(|p| p.to_bytes(page_size_bytes()))
        .map_err(|e| ProcError::malformed(&path, e))
}

/// `/proc/PID/statm` kept open and re-read with pread.
#[derive(Debug)]
pub struct StatmReader {
    file: ProcFile,
}

impl StatmReader {
    pub fn open(pid: Pid) -> Result<Self, ProcError> {
        Ok(Self {
            file: ProcFile::open(proc_path(pid, "statm"))?,
        })
    }

    /// A fresh reading; `buf` is scratch space reused across calls.
    pub fn read(&self, buf: &mut Vec<u8>) -> Result<Statm, ProcError> {
        let content = self.file.read(buf)?;
        parse_statm(content)
            .map(|p| p.to_bytes(page_size_bytes()))
            .map_err(|e| ProcError::malformed(self.file.path(), e))
    }
}

/// Totals of `smaps_rollup`, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmapsRollup {
    pub rss_bytes: u64,
    /// Proportional set size: shared pages divided among their sharers.
    pub pss_bytes: u64,
    /// Unique set size: `Private_Clean + Private_Dirty`.
    pub uss_bytes: u64,
    /// `Swap`, when the kernel reports it.
    pub swap_bytes: Option<u64>,
}

/// Parses `/proc/PID/smaps_rollup`. Unknown fields are ignored; the four
/// needed (`Rss`, `Pss`, `Private_Clean`, `Private_Dirty`) must be present.
pub fn parse_smaps_rollup(content: &[u8]) -> Result<SmapsRollup, ParseError> {
    let (mut rss, mut pss, mut clean, mut dirty, mut swap) = (None, None, None, None, None);
    for line in content.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (key, value) = (&line[..colon], &line[colon + 1..]);
        let slot = match key {
            b"Rss" => &mut rss,
            b"Pss" => &mut pss,
            b"Private_Clean" => &mut clean,
            b"Private_Dirty" => &mut dirty,
            b"Swap" => &mut swap,
            _ => continue,
        };
        *slot = Some(parse_kb(key_name(key), value)?);
    }
    let need = |v: Option<u64>, name| v.ok_or(ParseError::MissingField(name));
    let (clean, dirty) = (need(clean, "Private_Clean")?, need(dirty, "Private_Dirty")?);
    Ok(SmapsRollup {
        rss_bytes: need(rss, "Rss")?,
        pss_bytes: need(pss, "Pss")?,
        uss_bytes: clean.saturating_add(dirty),
        swap_bytes: swap,
    })
}

fn key_name(key: &[u8]) -> &'static str {
    match key {
        b"Rss" => "Rss",
        b"Pss" => "Pss",
        b"Private_Clean" => "Private_Clean",
        b"Private_Dirty" => "Private_Dirty",
        _ => "Swap",
    }
}

/// `"   1234 kB"` → bytes.
fn parse_kb(field: &'static str, value: &[u8]) -> Result<u64, ParseError> {
    let mut it = fields(value);
    let n = parse_u64(field, it.next().ok_or(ParseError::MissingField(field))?)?;
    match it.next() {
        Some(b"kB") => Ok(n.saturating_mul(1024)),
        _ => Err(ParseError::Invalid("smaps_rollup value without `kB` unit")),
    }
}

impl SmapsRollup {
    /// Whether this reading can be a live process's whose RSS (from
    /// `statm`, read just before) was `statm_rss_bytes`: PSS counts every
    /// private page, so it is never below USS; and a rollup far below the
    /// RSS (under a tenth) is an address space being torn down (an exiting
    /// process), not a measurement. Pss and the private fields are rounded
    /// to kB each: 8 KiB of slack.
    pub fn plausible(&self, statm_rss_bytes: u64) -> bool {
        self.pss_bytes + 8 * 1024 >= self.uss_bytes
            && self.rss_bytes.saturating_mul(10) >= statm_rss_bytes
            && self.pss_bytes.saturating_mul(10) >= statm_rss_bytes.min(self.rss_bytes)
    }
}

/// Reads `/proc/PID/smaps_rollup` once. Needs ptrace-read permission on the
/// process (fine for our own children).
pub fn read_smaps_rollup(pid: Pid) -> Result<SmapsRollup, ProcError> {
    let path = proc_path(pid, "smaps_rollup");
    let content = read_once(&path)?;
    parse_smaps_rollup(&content).map_err(|e| ProcError::malformed(&path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::test_support::fixture;

    #[test]
    fn statm_fixture_and_units() {
        let p = parse_statm(&fixture("statm")).unwrap();
        assert_eq!(
            p,
            StatmPages {
                size: 1282,
                resident: 1015,
                shared: 762
            }
        );
        assert_eq!(p.to_bytes(4096).rss_bytes, 1015 * 4096);
        assert_eq!(
            parse_statm(b"1 2\n").unwrap_err(),
            ParseError::MissingField("shared")
        );
    }

    #[test]
    fn smaps_rollup_real_fixture() {
        let s = parse_smaps_rollup(&fixture("smaps_rollup")).unwrap();
        assert_eq!(s.rss_bytes, 4060 * 1024);
        assert_eq!(s.pss_bytes, 1176 * 1024);
        assert_eq!(s.uss_bytes, (32 + 280) * 1024);
        assert_eq!(s.swap_bytes, Some(0));
    }

    #[test]
    fn smaps_rollup_with_extra_and_reordered_fields() {
        let s = parse_smaps_rollup(&fixture("smaps_rollup_extra_fields")).unwrap();
        assert_eq!(s.rss_bytes, 100 * 1024);
        assert_eq!(s.pss_bytes, 60 * 1024);
        assert_eq!(s.uss_bytes, 50 * 1024);
        assert_eq!(s.swap_bytes, None);
    }

    #[test]
    fn smaps_rollup_missing_or_bad_fields() {
        let e = parse_smaps_rollup(b"Rss: 1 kB\nPss: 1 kB\nPrivate_Clean: 1 kB\n").unwrap_err();
        assert_eq!(e, ParseError::MissingField("Private_Dirty"));
        assert!(parse_smaps_rollup(b"Rss: x kB\n").is_err());
        assert!(parse_smaps_rollup(b"Rss: 12\n").is_err());
        assert!(parse_smaps_rollup(b"").is_err());
    }

    #[test]
    fn live_memory_of_this_process() {
        let pid = std::process::id();
        let st = read_statm(pid).unwrap();
        assert!(st.rss_bytes > 0 && st.vm_bytes >= st.rss_bytes);
        let r = StatmReader::open(pid).unwrap();
        let mut buf = Vec::new();
        let before = r.read(&mut buf).unwrap().rss_bytes;
        // Touch 64 MiB: the kept-open fd must see RSS grow.
        let big = vec![1u8; 64 << 20];
        std::hint::black_box(&big);
        let after = r.read(&mut buf).unwrap().rss_bytes;
        assert!(after >= before + (32 << 20), "{before} → {after}");
        drop(big);
        let sm = read_smaps_rollup(pid).unwrap();
        assert!(sm.pss_bytes > 0 && sm.uss_bytes <= sm.rss_bytes);
        assert!(sm.plausible(read_statm(pid).unwrap().rss_bytes), "{sm:?}");
    }

    #[test]
    fn implausible_rollups_are_refused() {
        let mib = 1 << 20;
        let live = SmapsRollup {
            rss_bytes: 15 * mib,
            pss_bytes: 9 * mib,
            uss_bytes: 7 * mib,
            swap_bytes: None,
        };
        assert!(live.plausible(15 * mib));
        // The reading: PSS 0.1 MiB beside an RSS of 14.9 MiB.
        let torn_down = SmapsRollup {
            rss_bytes: mib / 8,
            pss_bytes: mib / 10,
            uss_bytes: mib / 10,
            swap_bytes: None,
        };
        assert!(!torn_down.plausible(15 * mib));
        let below_uss = SmapsRollup {
            pss_bytes: 5 * mib,
            ..live
        };
        assert!(!below_uss.plausible(15 * mib));
        let tenth_of_rss = SmapsRollup {
            pss_bytes: mib,
            uss_bytes: mib / 2,
            ..live
        };
        assert!(!tenth_of_rss.plausible(15 * mib));
    }
}
