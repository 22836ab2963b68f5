//! The UI's kit: what every view draws with and no view owns — the plots
//! of a run on one time axis (`plot`: the shared frame, axes and series;
//! `run_plots`: cores, thread lanes, memory, requests, latency,
//! throughput), the lane bitmaps (`lanes`) and their textures kept between
//! frames (`textures`), and the style (`style`: colours, fonts, stage
//! sizes). Numbers are written by [`crate::kit::number`], the one
//! formatter the CLI, the report and the app share.

pub mod lanes;
pub mod plot;
pub mod run_plots;
pub mod style;
pub mod textures;

pub use crate::kit::number::human;
