//! The sweep file (`sweep.json` in a sweep's directory): what was asked,
//! on which machine, and which run files it produced.

use crate::interp::Mode;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `format` field of a sweep file.
pub const SWEEP_FILE_FORMAT: &str = "gilscope-sweep";
/// Version this gilscope writes and the newest it reads.
pub const SWEEP_FILE_VERSION: u32 = 1;
/// The sweep file's name inside its directory.
pub const SWEEP_FILE_NAME: &str = "sweep.json";

/// What a sweep runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPlan {
    pub workload: String,
    pub params: Vec<(String, String)>,
    pub modes: Vec<Mode>,
    pub workers: Vec<usize>,
    pub repeat: usize,
    /// Per mode, the interpreter used (name and path).
    pub interpreters: Vec<PlannedInterpreter>,
    /// Extra 1-worker runs for the single-thread overhead (`gil`, `ft`,
    /// `ft-gil` on 1 worker) that the modes above do not already include.
    pub overhead_modes: Vec<Mode>,
    /// `--until-stable P`: after `repeat` rounds, repeat each point whose
    /// times spread (max − min over median) by more than P % …
    #[serde(default)]
    pub until_stable_pct: Option<f64>,
    /// … until it has this many runs (`--max-repeats`).
    #[serde(default)]
    pub max_repeats: Option<usize>,
    /// A service sweep: the offered rates (requests/s, open loop), each run
    /// at every (mode, workers); empty for a batch sweep.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rps: Vec<f64>,
    /// A service sweep's latency target: the knee of a mode is the highest
    /// offered rate whose p99 stays under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_target_ms: Option<f64>,
    /// A service sweep searches each knee between its last good and first
    /// bad rate until the gap is within this % of the knee (`None`: the
    /// default, 10 %; 0: no search).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knee_resolution_pct: Option<f64>,
}

impl SweepPlan {
    /// Only the asked modes: no single-thread overhead runs, and no
    /// interpreter planned for them (the app's Run and Sweep, a service
    /// sweep).
    pub fn without_overhead(mut self) -> Self {
        self.overhead_modes.clear();
        let modes = self.modes.clone();
        self.interpreters.retain(|p| modes.contains(&p.mode));
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedInterpreter {
    pub mode: Mode,
    pub name: String,
    pub path: PathBuf,
    pub version: String,
    pub free_threaded: bool,
}

/// The machine a sweep ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    pub cpu_model: Option<String>,
    pub cores: usize,
    pub kernel: Option<String>,
    pub os: Option<String>,
    pub memory_bytes: Option<u64>,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRunEntry {
    /// The run file, relative to the sweep directory.
    pub file: String,
    pub mode: Mode,
    pub workers: usize,
    /// 0-based repetition.
    pub repeat: usize,
    pub interpreter: String,
    pub completed: bool,
    /// How it ended, in one line.
    pub headline: String,
    /// What else ran during it (absent in older sweeps or when it could
    /// not be measured).
    #[serde(default)]
    pub load: Option<crate::store::Load>,
    /// Its own verdicts (contended; implausible as a slowed baseline).
    #[serde(default)]
    pub verdicts: Vec<crate::store::Verdict>,
    /// A service sweep's offered rate for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps: Option<f64>,
    /// A service run's load: requests/s, latency, errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<crate::store::ServiceSummary>,
}

/// `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepFile {
    pub format: String,
    pub version: u32,
    /// gilscope's version that wrote it.
    pub gilscope: String,
    pub created_unix: u64,
    /// The command line that reproduces the sweep.
    pub command: Vec<String>,
    pub machine: MachineInfo,
    pub plan: SweepPlan,
    pub runs: Vec<SweepRunEntry>,
    /// True when the sweep was stopped before every run was done.
    pub interrupted: bool,
    /// With `--until-stable`: the points whose spread never went under
    /// the bound, in words.
    #[serde(default)]
    pub unsettled: Vec<String>,
}

/// Why a sweep directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{path}: cannot read it: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot write it: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a gilscope sweep file ({reason})")]
    NotASweep { path: PathBuf, reason: String },
    #[error(
        "{path}: written by a newer gilscope (sweep file version {found}, this one reads up to {SWEEP_FILE_VERSION}); update gilscope"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error(transparent)]
    Run(#[from] crate::store::RunFileError),
}

impl SweepFile {
    /// Reads `DIR/sweep.json`.
    pub fn load(dir: &Path) -> Result<Self, SweepError> {
        let path = dir.join(SWEEP_FILE_NAME);
        let bytes = std::fs::read(&path).map_err(|source| SweepError::Read {
            path: path.clone(),
            source,
        })?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| SweepError::NotASweep {
                path: path.clone(),
                reason: format!("not JSON: {e}"),
            })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(SWEEP_FILE_FORMAT) {
            return Err(SweepError::NotASweep {
                path,
                reason: format!("its format is not \"{SWEEP_FILE_FORMAT}\""),
            });
        }
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version > u64::from(SWEEP_FILE_VERSION) {
            return Err(SweepError::TooNew {
                path,
                found: u32::try_from(version).unwrap_or(u32::MAX),
            });
        }
        serde_json::from_value(value).map_err(|e| SweepError::NotASweep {
            path,
            reason: e.to_string(),
        })
    }

    /// Writes `DIR/sweep.json` (via a temporary file).
    pub fn save(&self, dir: &Path) -> Result<(), SweepError> {
        let path = dir.join(SWEEP_FILE_NAME);
        let json = serde_json::to_vec_pretty(self).map_err(|e| SweepError::Write {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(|source| SweepError::Write {
            path: tmp.clone(),
            source,
        })?;
        std::fs::rename(&tmp, &path).map_err(|source| SweepError::Write { path, source })
    }

    /// The run files of the completed and failed runs, loaded.
    pub fn load_runs(&self, dir: &Path) -> Result<Vec<crate::store::RunRecord>, SweepError> {
        self.runs
            .iter()
            .map(|r| Ok(crate::store::RunRecord::load(&dir.join(&r.file))?))
            .collect()
    }
}

/// Reads what describes this machine (CPU model, cores, kernel, OS,
/// memory) through sysinfo, so it reads the same on every platform;
/// `cores` is what this process may run on (its CPU affinity).
pub fn machine_info() -> MachineInfo {
    use sysinfo::{CpuRefreshKind, System};
    let sys = System::new().ok().map(|mut sys| {
        sys.refresh_cpu_list(CpuRefreshKind::nothing());
        sys.refresh_memory();
        sys
    });
    let cpu_model = sys
        .as_ref()
        .and_then(|s| s.cpus().first())
        .map(|c| c.brand().trim().to_string())
        .filter(|b| !b.is_empty());
    MachineInfo {
        cpu_model,
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        kernel: System::kernel_version().ok(),
        os: System::long_os_version().ok(),
        memory_bytes: sys.map(|s| s.total_memory()).filter(|&b| b > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sysinfo reads what /proc says on Linux.
    #[test]
    #[cfg(target_os = "linux")]
    fn machine_facts_agree_with_proc() {
        let m = machine_info();
        eprintln!("{m:?}");
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo.lines().find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        });
        if model.is_some() {
            assert_eq!(m.cpu_model, model);
        }
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok();
        assert_eq!(m.kernel.as_deref(), kernel.as_deref().map(str::trim));
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let total_kib: Option<u64> = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
        assert_eq!(m.memory_bytes, total_kib.map(|k| k * 1024));
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        if let Some(name) = os_release.lines().find_map(|l| l.strip_prefix("NAME=")) {
            let name = name.trim_matches('"');
            assert!(m.os.as_deref().is_some_and(|os| os.contains(name)), "{m:?}");
        }
        assert!(m.cores >= 1);
    }
}
