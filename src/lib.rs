//! gilscope: run the same Python workload under the GIL, free-threaded,
//! in subinterpreters and in processes, and measure what really happens.

pub mod blur;
pub mod child;
pub mod cli;
pub mod export;
pub mod gil;
pub mod interp;
pub mod kit;
pub mod loadgen;
pub mod native;
pub mod pace;
pub mod palette;
pub mod paths;
pub mod report;
pub mod run;
pub mod sampler;
pub mod store;
pub mod sweep;
pub mod ui;
