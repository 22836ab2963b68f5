//! The run store: everything gilscope keeps about runs. The UI thread owns
//! it; background threads only send (`RunMessage`s, samples).
//!
//! * [`series`]: bounded columns of readings beside one time axis, with a
//!   min/max level for decimated plots.
//! * [`record`]: [`RunRecord`], one run: spec, interpreter, events, output,
//!   samples as columns, outcome.
//! * [`labels`]: "main", "worker 3", "interp 3", … for OS threads.
//! * [`memory`]: exact memory peaks and the baseline before workers start.
//! * [`output`]: the workload's output lines, bounded.
//! * [`file`](mod@file): run files (versioned JSON, optionally gzip).
//! * [`metrics`]: throughput, CPU use, memory overhead, per-worker time.
//! * [`compare`](mod@compare): speedup and efficiency against a baseline run.
//! * [`stall`](mod@stall): no chunk finished for far longer than chunks
//!   take (the rule, and the tracker the record feeds).
//! * [`progress`]: gaps between progress events and chunk durations, fed
//!   by the record for the stall rule.
//! * [`picture`]: the workload's picture (input, output bands by worker).
//! * [`load`]: what else ran — the run's tree, gilscope, other processes.
//! * [`service`]: a service run's load — requests/s, latency, errors.
//! * [`verdict`]: contended / implausible / noisy, with the reason.
//! * [`summary`]: a run in one flat struct, computed where it is shown or
//!   saved (run files carry it for their readers).
//! * [`rows`]: a compare row per run (workload, script, attach) and their CSV.
//!
//! Column names in a record's series: `core/{cpu}/{busy,user,system}`,
//! `thread/{tid}/{running,waiting,blocked,state}`,
//! `memory/{rss,pss,uss}_bytes`, `memory/processes`,
//! `sampler/{late,cost}_ms`.

pub mod compare;
pub mod file;
pub mod gil;
pub mod labels;
pub mod load;
pub mod memory;
pub mod metrics;
pub mod output;
pub mod picture;
pub mod progress;
pub mod record;
pub mod rows;
pub mod series;
pub mod service;
pub mod service_verdict;
pub mod stall;
pub mod summary;
pub mod verdict;

/// Synthetic runs (no processes): for unit tests and the UI benchmark.
#[doc(hidden)]
pub mod fixtures;

pub use compare::{BaselineKind, Comparison, Versus, compare, find_baseline, speedup};
pub use file::{RUN_FILE_FORMAT, RUN_FILE_VERSION, RunFileError};
pub use labels::ThreadLabel;
pub use load::{Load, LoadTrack, NamedLoad};
pub use memory::{MemoryBaseline, MemoryPeaks};
pub use picture::PictureTrack;
pub use record::{RecordLimits, RunRecord, ThreadTrack};
pub use rows::{CompareRow, compare_rows, rows_csv};
pub use series::{Bucket, ColumnId, SeriesLimits, TimeSeries};
pub use service::{ServiceSeries, ServiceSummary, ServiceTrack};
pub use stall::{Stall, StallBasis, stall};
pub use summary::{RunSummary, summarize};
pub use verdict::{Verdict, VerdictKind};
