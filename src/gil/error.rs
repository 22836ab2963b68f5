//! Errors of the GIL reader.
//!
//! Each variant says what happened to which process and, where the user can
//! act, what to do next. [`GilError::is_gone`] and [`GilError::is_transient`]
//! tell a sampler whether to drop the process, retry it later, or give up
//! on it for good.

use std::path::PathBuf;

/// Why a process's GIL could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GilError {
    /// The process exited.
    #[error("process {pid} is gone")]
    Gone { pid: u32 },
    /// The kernel refused to let gilscope read the process's memory.
    #[error(
        "not allowed to read the memory of process {pid} ({source}): run gilscope as the same user as the target; where kernel.yama.ptrace_scope is 1 let gilscope start the target (or `sudo sysctl kernel.yama.ptrace_scope=0`), at 2 run gilscope with CAP_SYS_PTRACE (`sudo setcap cap_sys_ptrace+ep $(which gilscope)`), at 3 no process can be read"
    )]
    Permission {
        pid: u32,
        #[source]
        source: std::io::Error,
    },
    /// No CPython runtime (`_PyRuntime`) in any file mapped by the process.
    #[error(
        "process {pid} shows no CPython runtime: no _PyRuntime symbol or .PyRuntime section in {tried} (each opened through /proc/{pid}/map_files, checked by device and inode)"
    )]
    NotPython { pid: u32, tried: String },
    /// CPython older than 3.13: `_PyRuntime` has no `_Py_DebugOffsets`.
    #[error(
        "process {pid} runs {version}, which has no debug offsets (_Py_DebugOffsets arrived in CPython 3.13): exact GIL lanes need CPython 3.13 or newer"
    )]
    NoDebugOffsets { pid: u32, version: String },
    /// Debug offsets of a version whose layout gilscope does not know.
    #[error(
        "process {pid} runs CPython {version}, whose debug-offsets layout this gilscope does not know (it reads CPython 3.13, 3.14 and 3.15 final releases): a newer gilscope may read it"
    )]
    UnsupportedVersion { pid: u32, version: String },
    /// The debug offsets did not pass the sanity checks.
    #[error("process {pid}: implausible debug offsets ({what}); not reading this process")]
    BadLayout { pid: u32, what: String },
    /// A mapped ELF file could not be read or parsed.
    #[error("cannot read symbols of {}: {what}", path.display())]
    Elf { path: PathBuf, what: String },
    /// A /proc file of the process could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Proc {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Reading the process's memory at `addr` failed (the address is not
    /// mapped any more, e.g. an interpreter was freed while being walked).
    #[error("process {pid}: cannot read {len} bytes at {addr:#x}: {source}")]
    Read {
        pid: u32,
        addr: u64,
        len: usize,
        #[source]
        source: std::io::Error,
    },
    /// The runtime's cookie or version changed since the reader was opened:
    /// the process exec'ed another program (a multiprocessing worker right
    /// after fork). Open a new reader.
    #[error("process {pid} changed its program since it was opened (exec)")]
    Changed { pid: u32 },
}

impl GilError {
    /// The process exited: drop it.
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::Gone { .. })
    }

    /// Worth retrying later (with a freshly opened reader): the process may
    /// still be starting up, exec'ing, or was caught mid-update.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::NotPython { .. } | Self::Read { .. } | Self::Changed { .. } | Self::Proc { .. }
        )
    }

    /// A refusal that will not change for this process: do not retry.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::NoDebugOffsets { .. }
                | Self::UnsupportedVersion { .. }
                | Self::BadLayout { .. }
                | Self::Permission { .. }
                | Self::Elf { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let e = GilError::NoDebugOffsets {
            pid: 7,
            version: "CPython 3.12.1".into(),
        };
        let msg = e.to_string();
        assert!(
            msg.contains("no debug offsets") && msg.contains("3.13"),
            "{msg}"
        );
        assert!(e.is_refusal() && !e.is_transient() && !e.is_gone());
        assert!(GilError::Changed { pid: 1 }.is_transient());
        assert!(GilError::Gone { pid: 1 }.is_gone());
    }
}
