//! Stalls: a run whose chunks stop finishing.
//!
//! The rule: a run is *stalled* while no chunk has finished for longer than
//! `max(10 × the median chunk duration, 2 s)`. Before the first chunk there
//! are no durations; the bound is then `max(10 × the setup, 10 s)`, the
//! setup being the main interpreter's `prepare()` (from `hello`, sent once
//! the workload is imported, to `setup_done`), and every `worker_started`
//! counts as progress. Once a
//! chunk has finished, the gap before it is judged by the larger of the two
//! bounds (it held the workers' `init()` and one whole chunk).
//!
//! [`StallTracker`] (in [`progress`](super::progress)) is fed every protocol
//! event by the [`RunRecord`] (O(1) per event: the longest gap of each
//! phase, a log-scale histogram of chunk durations) and [`stall()`] judges
//! it at any moment: the CLI's live line, the run summary, `--json` and the
//! app's banner all call it, so they say the same thing.
//!
//! Gaps are measured between progress events in arrival order; with the
//! harness's coalescing (one `chunk_done` per worker per 50 ms) they may
//! be off by up to one flush interval. The median is that of each event's
//! mean chunk duration, weighted by its chunks (exact when every event is
//! one chunk), read from a histogram with 16 buckets per doubling (±2.2 %).

use super::progress::Gap;
pub use super::progress::StallTracker;
use super::record::RunRecord;
use serde::{Deserialize, Serialize};

/// Stalled when no chunk finished for this many median chunk durations…
pub const MEDIAN_FACTOR: f64 = 10.0;
/// … and at least this long (ns).
pub const MIN_BOUND_NS: u64 = 2_000_000_000;
/// Before the first chunk: this many times the setup…
pub const SETUP_FACTOR: f64 = 10.0;
/// … and at least this long (ns).
pub const MIN_SETUP_BOUND_NS: u64 = 10_000_000_000;

/// What a stall bound was derived from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "kebab-case")]
pub enum StallBasis {
    /// `max(10 × median chunk, 2 s)`.
    MedianChunk { median_chunk_ms: f64 },
    /// No chunk had finished: `max(10 × setup (`prepare()`), 10 s)`.
    Setup { setup_ms: Option<f64> },
    /// Chunks finished but their durations are unknown (a run file from
    /// before chunks carried their start): the 2 s floor.
    Floor,
}

/// The gap without progress that came nearest to (or furthest past) its
/// bound, and the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stall {
    /// The longest time without progress (s): of the longest gap before the
    /// first chunk, the longest between chunks and the one still open, a
    /// stall first, else a gap between chunks, else the largest share of
    /// its bound.
    pub longest_gap_s: f64,
    /// When that gap began, in seconds after `setup_done`.
    pub gap_from_s: f64,
    /// The gap was still open when judged: no progress since (a running
    /// run, or one that ended by its timeout or a stop while stalled).
    pub ongoing: bool,
    /// The gap was longer than its bound.
    pub stalled: bool,
    /// The bound it was judged by (s).
    pub bound_s: f64,
    pub basis: StallBasis,
    /// Median chunk duration (ms), once a chunk with a known duration
    /// finished.
    pub median_chunk_ms: Option<f64>,
}

impl Stall {
    /// "no progress for 12 s (chunks usually take 1.0 ms)".
    pub fn headline(&self) -> String {
        let usual = match self.median_chunk_ms {
            Some(ms) => format!("chunks usually take {}", duration_text(ms / 1e3)),
            None => "no chunk has finished yet".to_string(),
        };
        format!(
            "no progress for {} ({usual})",
            duration_text(self.longest_gap_s)
        )
    }

    /// "bound 2.0 s = max(10 × median chunk, 2 s)".
    pub fn bound_text(&self) -> String {
        let rule = match self.basis {
            StallBasis::MedianChunk { .. } => "max(10 × median chunk, 2 s)".to_string(),
            StallBasis::Setup { setup_ms: Some(ms) } => format!(
                "max(10 × setup, 10 s) before the first chunk; setup took {}",
                duration_text(ms / 1e3)
            ),
            StallBasis::Setup { setup_ms: None } => {
                "10 s before the first chunk (setup time unknown)".to_string()
            }
            StallBasis::Floor => "2 s (chunk durations unknown)".to_string(),
        };
        format!("bound {} = {rule}", duration_text(self.bound_s))
    }
}

/// "1.0 ms", "250 ms", "3.2 s", "12 s".
pub fn duration_text(secs: f64) -> String {
    match secs {
        s if s < 0.01 => format!("{:.1} ms", s * 1e3),
        s if s < 1.0 => format!("{:.0} ms", s * 1e3),
        s if s < 10.0 => format!("{s:.1} s"),
        s => format!("{s:.0} s"),
    }
}

/// Judges `run`'s progress; `now_ns` (CLOCK_MONOTONIC, see
/// [`crate::pace::monotonic_ns`]) is the moment to judge a running
/// run at (`None`: at its newest sample or event). `None` before
/// `setup_done` (nothing was handed out yet), and for a service run once
/// its load has started (idle workers are not stalled).
pub fn stall(run: &RunRecord, now_ns: Option<u64>) -> Option<Stall> {
    // A service's workers wait for requests: a quiet spell is the load's
    // doing, and a handler that hangs shows as timeouts in its load track.
    if !run.service().is_empty() {
        return None;
    }
    let t = run.stall_tracker();
    let setup_done = t.setup_done_ns?;
    let last = t.last_progress_ns.unwrap_or(setup_done);
    let end = if t.all_done() {
        last
    } else if let Some(end) = t.end_ns {
        end
    } else if let Some(outcome) = run.outcome() {
        outcome
            .ended_ns
            .or(run.series().last_t_ns())
            .unwrap_or(last)
    } else {
        now_ns.or(run.series().last_t_ns()).unwrap_or(last)
    };
    let open = (end > last).then_some((last, end - last));
    let median = t.median_chunk_ns();
    let chunk_bound = median.map_or(MIN_BOUND_NS as f64, |m| {
        (MEDIAN_FACTOR * m).max(MIN_BOUND_NS as f64)
    });
    let setup_ms = t
        .hello_ns
        .and_then(|h| setup_done.checked_sub(h))
        .map(|ns| ns as f64 / 1e6);
    let setup_bound = setup_ms.map_or(MIN_SETUP_BOUND_NS as f64, |ms| {
        (SETUP_FACTOR * ms * 1e6).max(MIN_SETUP_BOUND_NS as f64)
    });
    let chunk_basis = match median {
        Some(m) => StallBasis::MedianChunk {
            median_chunk_ms: m / 1e6,
        },
        None => StallBasis::Floor,
    };
    let setup_basis = StallBasis::Setup { setup_ms };
    // (gap, bound ns, basis, still open)
    let mut candidates: Vec<(Gap, f64, StallBasis, bool)> = Vec::new();
    let before_first = |bound: f64| {
        // Once a chunk has finished, the gap before it held init() and a
        // whole chunk: judge it by the larger bound.
        if t.first_chunk_ns.is_some() && chunk_bound > setup_bound {
            (chunk_bound, chunk_basis)
        } else {
            (bound, setup_basis)
        }
    };
    if let Some(gap) = t.setup_gap {
        let (bound, basis) = before_first(setup_bound);
        candidates.push((gap, bound, basis, false));
    }
    if let Some(gap) = t.chunk_gap {
        candidates.push((gap, chunk_bound, chunk_basis, false));
    }
    if let Some(gap) = open {
        let (bound, basis) = if t.first_chunk_ns.is_some() {
            (chunk_bound, chunk_basis)
        } else {
            (setup_bound, setup_basis)
        };
        candidates.push((gap, bound, basis, true));
    }
    let ratio = |c: &(Gap, f64, StallBasis, bool)| c.0.1 as f64 / c.1;
    let between_chunks =
        |c: &(Gap, f64, StallBasis, bool)| !matches!(c.2, StallBasis::Setup { .. });
    // A stall first, then a gap between chunks (what "chunks usually
    // take" speaks of), then the largest share of its bound; the open gap
    // wins a tie (it is the one still growing).
    let worst = candidates.into_iter().max_by(|a, b| {
        (ratio(a) > 1.0, between_chunks(a))
            .cmp(&(ratio(b) > 1.0, between_chunks(b)))
            .then(ratio(a).total_cmp(&ratio(b)))
    });
    let median_chunk_ms = median.map(|m| m / 1e6);
    Some(match worst {
        Some(((from, len), bound, basis, ongoing)) => Stall {
            longest_gap_s: len as f64 / 1e9,
            gap_from_s: from.saturating_sub(setup_done) as f64 / 1e9,
            ongoing,
            stalled: len as f64 > bound,
            bound_s: bound / 1e9,
            basis,
            median_chunk_ms,
        },
        None => Stall {
            longest_gap_s: 0.0,
            gap_from_s: 0.0,
            ongoing: false,
            stalled: false,
            bound_s: setup_bound / 1e9,
            basis: setup_basis,
            median_chunk_ms,
        },
    })
}

#[cfg(test)]
mod tests;
