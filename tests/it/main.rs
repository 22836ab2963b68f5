//! gilscope's integration tests: one binary (one link of eframe), one module
//! per area. Tests that run real interpreters and measure take
//! [`common::one_at_a_time`] (they run alone); other tests that start
//! interpreters take [`common::beside_others`]; see `tests/it/common.rs`
//! for the shared support.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

mod attach;
mod containers;
mod demo;
mod export;
mod faults;
mod gil_judges;
mod gil_lanes;
mod gil_runs;
mod gil_truth;
mod honest;
mod native;
mod panels;
mod picture;
mod plain_scripts;
mod portable;
mod pythons_cli;
mod report;
mod runs;
mod sampler_truth;
mod script;
mod service;
mod service_load;
mod stall;
mod store;
mod sweep;
mod truth;
mod ui;
mod uv_pythons;
mod window;
