//! Progress events of a run, kept up to date one by one for the stall rule
//! ([`stall`](mod@super::stall)): the longest gap without progress before the
//! first chunk and between chunks, and a log-scale histogram of chunk
//! durations (16 buckets per doubling, ±2.2 %). The
//! [`RunRecord`](super::RunRecord) feeds it; it knows nothing of the record.

use crate::run::protocol::Event;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Histogram buckets per doubling of the duration.
const BUCKETS_PER_DOUBLING: f64 = 16.0;
/// Durations are clamped to 2^0 ns … 2^48 ns (78 h).
const MAX_BUCKET: usize = 48 * 16;

/// A gap without progress: (start ns, length ns).
pub(super) type Gap = (u64, u64);

/// What [`stall`](super::stall::stall) needs, kept up to date event by event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StallTracker {
    pub(super) hello_ns: Option<u64>,
    pub(super) setup_done_ns: Option<u64>,
    chunks_total: Option<u64>,
    chunks_done: u64,
    pub(super) first_chunk_ns: Option<u64>,
    pub(super) last_progress_ns: Option<u64>,
    /// The longest gap ended before or by the first chunk.
    pub(super) setup_gap: Option<Gap>,
    /// The longest gap between chunks.
    pub(super) chunk_gap: Option<Gap>,
    /// `result` or `error`: the work is over.
    pub(super) end_ns: Option<u64>,
    /// Chunk weight per log-scale duration bucket.
    durations: BTreeMap<u16, u64>,
    /// Each worker's last chunk end, for events without a duration.
    last_by_worker: BTreeMap<usize, u64>,
}

impl StallTracker {
    /// Takes in one protocol event.
    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::Hello(h) => {
                self.hello_ns.get_or_insert(h.t_ns);
            }
            Event::SetupDone(s) => {
                self.setup_done_ns.get_or_insert(s.t_ns);
                self.chunks_total.get_or_insert(s.chunks);
                self.progress(s.t_ns);
            }
            Event::WorkerStarted(w) if self.first_chunk_ns.is_none() => self.progress(w.t_ns),
            Event::ChunkDone(c) => {
                let previous = self.last_by_worker.insert(c.worker, c.t_ns);
                let mean = c.mean_chunk_ns().or_else(|| {
                    // No duration (an old run file): a busy worker's chunks
                    // follow each other, so the time since its previous one.
                    let since = c.t_ns.checked_sub(previous?)?;
                    Some(since as f64 / c.chunks.max(1) as f64)
                });
                if let Some(ns) = mean {
                    *self.durations.entry(bucket(ns)).or_default() += c.chunks;
                }
                self.progress(c.t_ns);
                self.first_chunk_ns.get_or_insert(c.t_ns);
                self.chunks_done += c.chunks;
            }
            Event::Result(r) => {
                self.end_ns.get_or_insert(r.t_ns);
            }
            Event::Error(e) => {
                self.end_ns.get_or_insert(e.t_ns);
            }
            _ => {}
        }
    }

    fn progress(&mut self, t_ns: u64) {
        let Some(last) = self.last_progress_ns else {
            self.last_progress_ns = Some(t_ns);
            return;
        };
        if t_ns <= last {
            return; // arrived out of order: inside a gap already counted
        }
        let gap = (last, t_ns - last);
        let slot = if self.first_chunk_ns.is_none() {
            &mut self.setup_gap
        } else {
            &mut self.chunk_gap
        };
        if slot.is_none_or(|(_, len)| gap.1 > len) {
            *slot = Some(gap);
        }
        self.last_progress_ns = Some(t_ns);
    }

    /// The median chunk duration (ns) from the histogram.
    pub fn median_chunk_ns(&self) -> Option<f64> {
        let total: u64 = self.durations.values().sum();
        if total == 0 {
            return None;
        }
        let mut seen = 0;
        for (&b, &w) in &self.durations {
            seen += w;
            if 2 * seen >= total {
                return Some(bucket_mid_ns(b));
            }
        }
        None
    }

    /// Every chunk of the run has finished.
    pub(super) fn all_done(&self) -> bool {
        self.chunks_total.is_some_and(|t| self.chunks_done >= t)
    }
}

fn bucket(ns: f64) -> u16 {
    let b = (ns.max(1.0).log2() * BUCKETS_PER_DOUBLING).floor();
    b.clamp(0.0, MAX_BUCKET as f64) as u16
}

/// The geometric middle of a bucket.
fn bucket_mid_ns(b: u16) -> f64 {
    ((f64::from(b) + 0.5) / BUCKETS_PER_DOUBLING).exp2()
}
