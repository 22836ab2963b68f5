//! Sweeps: a workload over modes × worker counts × repeats, each run
//! recorded to its own run file, plus `sweep.json`; and the aggregation
//! of a sweep's run files into the points a report shows; [`judged`]
//! and [`table`] give every run its point, verdicts and compare row.

pub mod aggregate;
pub mod engine;
pub mod headline;
pub mod judged;
pub mod knee;
pub mod model;

pub use aggregate::{Aggregate, Point, SingleThreadOverhead, Spread, aggregate, overhead_in_pss};
pub use model::{MachineInfo, SweepError, SweepFile, SweepPlan, SweepRunEntry, machine_info};
pub mod plan;
pub mod race;
pub mod service;
pub mod service_verdict;
pub mod table;

pub use engine::{Engine, NextRun, run_sweep};
pub use judged::Judged;
pub use plan::{SweepEvent, choose_interpreters, make_plan, runs_of};
