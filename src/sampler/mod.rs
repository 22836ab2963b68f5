//! Reading /proc: per-core counters, per-thread scheduler state, memory and
//! the process tree of a run, cheaply enough to sample at 50–500 Hz.
//!
//! * Parsers are pure functions over `&[u8]` returning [`ParseError`];
//!   readers add the path and return [`ProcError`].
//! * [`ProcFile`] keeps a /proc file open and re-reads it with
//!   `pread(fd, buf, 0)`; [`TaskReader`] and [`ThreadSet`] build on it.
//! * A task that exits is [`ProcError::Gone`], which samplers treat as an
//!   event, not a failure. A reading the kernel cannot give (schedstat on a
//!   kernel without it) is `None`, never 0.

mod backend;
mod config;
mod cpu;
mod error;
mod file;
mod load;
mod mem;
mod parse;
mod portable;
mod reader;
mod sample;
mod sys;
mod task;
pub mod thread;
mod thread_set;
mod tree;

#[cfg(test)]
mod test_support;

pub use backend::SampleSource;
pub use config::{MAX_RATE_HZ, MIN_RATE_HZ, Poke, SamplerBackend, SamplerConfig};
pub use cpu::{
    CoreFractions, CoreTicks, CpuFractions, CpuStat, CpuStatReader, CpuTicks, PROC_STAT,
    core_fractions, parse_cpu_stat, parse_cpu_stat_into, read_cpu_stat,
};
pub use error::{ParseError, ProcError};
pub use file::{ProcFile, read_once};
pub use load::{LOAD_TOP, LoadSample, LoadScanner, NamedCpu, ProcCpu, parse_proc_cpu};
pub use mem::{
    SmapsRollup, Statm, StatmPages, StatmReader, parse_smaps_rollup, parse_statm, proc_path,
    read_smaps_rollup, read_statm,
};
pub use reader::{TaskId, TaskReader, TaskSample};
pub use sample::{CoreBusy, CoreSample, MemorySample, PssMissing, Sample, ThreadSample};
pub use sys::{clock_ticks_per_sec, page_size_bytes, ticks_to_ns};
pub use task::{
    Pid, SchedStat, TaskStat, TaskState, parse_comm, parse_schedstat, parse_stat_comm,
    parse_task_stat, read_comm, read_schedstat, read_task_stat, schedstat_supported, task_path,
};
pub use thread::{Poker, Sampler, SamplerStats, monotonic_ns, thread_cpu_ns};
pub use thread_set::{MemoryPass, ProcessMemory, RefreshReport, ThreadPass, ThreadSet};
pub use tree::{
    children_files_supported, children_of, descendants, descendants_by_children,
    descendants_by_scan, list_threads, list_threads_into, parse_children_into, process_tree,
};
