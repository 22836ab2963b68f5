//! Sweeps: a workload over modes × worker counts × repeats, each run
//! recorded to its own run file, plus `sweep.json`; and the aggregation
//! of a sweep's run files into the points a report shows.

pub mod aggregate;
pub mod model;

pub use aggregate::{Aggregate, Point, SingleThreadOverhead, Spread, aggregate};
pub use model::{MachineInfo, SweepError, SweepFile, SweepPlan, SweepRunEntry, machine_info};
pub mod runner;
pub mod service;

pub use runner::{SweepEvent, choose_interpreters, make_plan, run_sweep, runs_of};
