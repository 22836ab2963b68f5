//! Exports that travel: a race as an animation for a slide
//! ([`animation`]), rendered without a window, and a run as a Chrome
//! trace-event file for Perfetto or `chrome://tracing` ([`trace`]).
//!
//! Both read runs from [`store`](crate::store) (and the race's headline
//! from [`sweep`](crate::sweep)), draw with [`palette`](crate::palette)'s
//! colours and never the app's code: the CLI (`gilscope export …`), the
//! demo and the app's buttons call the same functions.
//!
//! * [`animation`]: the race's frames — clocks, progress, lanes, pictures,
//!   finish lines, the headline — drawn on a [`canvas`] and written by
//!   [`encode`] (GIF on a fixed palette, or APNG) where they changed;
//!   [`lanes`] draws a run's lanes once; the laps and which two runs of a
//!   sweep race are [`crate::sweep::race`]'s, the app's too.
//! * [`trace`]: thread states and GIL spans as merged duration events,
//!   counters for cores, memory and throughput, the run as metadata.
//! * [`readings`]: a series' rows (older tiers included) as the
//!   intervals they describe.

pub mod animation;
pub mod canvas;
pub mod encode;
pub mod lanes;
pub mod readings;
pub mod trace;
