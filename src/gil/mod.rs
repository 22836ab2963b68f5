//! Exact GIL state of CPython 3.13+ processes, read from outside.
//!
//! CPython 3.13 keeps `_Py_DebugOffsets` (cookie `xdebugpy`) at the start
//! of `_PyRuntime` so that out-of-process tools can find interpreter and
//! thread structures without headers. gilscope uses it to read, at kHz
//! rates and with no cooperation from the workload, every interpreter's
//! GIL: locked?, held by which OS thread?, enabled? (free-threaded builds).
//!
//! * [`locate`] finds `_PyRuntime` through `/proc/PID/maps` and the ELF
//!   symbols of libpython (or of a static executable), [`offsets`] checks
//!   the table, [`GilReader`] walks the interpreters with
//!   `process_vm_readv` ([`remote`]).
//! * [`waits`] tells a thread that waits for a GIL from one blocked on
//!   anything else, from the futex it sleeps on.
//! * [`GilSampler`] samples a run's whole process tree against a deadline
//!   schedule (default 1 kHz); [`GilAggregator`] turns its ticks into
//!   per-interval fractions (hold, wait, hand-offs, enabled changes; the
//!   definitions are in [`aggregate`]).
//! * [`bench()`] measures what all this costs.
//!
//! Supported: CPython 3.13.x (checked on 3.13.0 and 3.13.5, default and
//! free-threaded builds, own-GIL subinterpreters) and 3.14.x (layout from
//! CPython's sources, not run here); x86-64 and aarch64 Linux, 64-bit
//! little-endian ELF. CPython 3.12 and older have no debug offsets and are
//! refused with [`GilError::NoDebugOffsets`]; an unknown layout (3.15+,
//! 3.13 pre-releases) with [`GilError::UnsupportedVersion`].
//!
//! Typical use: start a [`GilSampler`] on the harness pid next to the /proc
//! sampler, feed its ticks to a [`GilAggregator`] and call
//! [`GilAggregator::take`] every display interval; show
//! [`GilNotice::Refused`] to the user as "no exact GIL lanes: …".

pub mod aggregate;
pub mod bench;
mod elf;
mod error;
pub mod locate;
pub mod nspid;
pub mod offsets;
pub mod reader;
pub mod remote;
pub mod sampler;
mod sched;
pub mod waits;
mod walk;

pub use aggregate::{
    GilAggregator, GilEnabledChange, GilInterval, GilStats, HolderShare, ProcessGilStats,
    ThreadGilStats,
};
pub use bench::{GilBenchReport, bench};
pub use error::GilError;
pub use offsets::PyVersion;
pub use reader::{GilReader, GilSnapshot, InterpreterGil};
pub use sampler::{
    GilNotice, GilSampler, GilSamplerConfig, GilSamplerStats, GilTick, ProcessTick, ThreadProbe,
};
pub use waits::ThreadActivity;
pub use walk::PyThread;
