//! The exact GIL reader beside a sampled run: a [`GilSampler`] on the
//! harness's process tree whose ticks are aggregated into ~100 ms
//! [`GilInterval`](crate::gil::GilInterval)s and sent as [`RunMessage::Gil`]; attach/refuse notices
//! become [`RunMessage::GilNotice`].

use super::RunMessage;
use crate::gil::{GilAggregator, GilNotice, GilSampler, GilSamplerConfig, GilTick};
use crossbeam_channel::Sender;
use std::sync::{Arc, Mutex, PoisonError};

/// Length of one aggregated interval.
pub const INTERVAL_NS: u64 = 100_000_000;

/// A running feed; dropping it stops the reader.
pub struct GilFeed {
    sampler: GilSampler,
    agg: Arc<Mutex<GilAggregator>>,
    tx: Sender<RunMessage>,
}

/// The words a user reads for a notice (`None`: not worth a line).
pub fn describe(notice: &GilNotice) -> Option<String> {
    match notice {
        GilNotice::Attached {
            pid,
            version,
            free_threaded,
            ns_pid,
            ..
        } => Some(format!(
            "exact GIL lanes: reading the GIL of pid {pid}{} (CPython {version}{})",
            ns_pid.map_or(String::new(), |p| format!(" (pid {p} in its container)")),
            if *free_threaded {
                ", free-threaded"
            } else {
                ""
            }
        )),
        GilNotice::HoldersUnknown { pid, reason } => Some(format!(
            "GIL holders of pid {pid} unknown, their shares missing: {reason}"
        )),
        GilNotice::Refused { pid, reason } => {
            Some(format!("no exact GIL lanes for pid {pid}: {reason}"))
        }
        GilNotice::Detached { .. } => None,
    }
}

impl GilFeed {
    /// Starts reading `pid`'s tree at `hz`; `None` when the thread cannot
    /// start (the run then simply has no GIL data, and says so).
    pub fn start(pid: u32, hz: f64, tx: &Sender<RunMessage>) -> Option<Self> {
        let agg = Arc::new(Mutex::new(GilAggregator::new()));
        let sink = {
            let agg = agg.clone();
            let tx = tx.clone();
            move |tick: GilTick| {
                for n in &tick.notices {
                    if let Some(text) = describe(n)
                        && tx.send(RunMessage::GilNotice(text)).is_err()
                    {
                        return false;
                    }
                }
                let mut agg = agg.lock().unwrap_or_else(PoisonError::into_inner);
                agg.push(&tick);
                if agg
                    .start_ns()
                    .is_some_and(|s| tick.t_ns.saturating_sub(s) >= INTERVAL_NS)
                    && let Some(interval) = agg.take()
                {
                    return tx.send(RunMessage::Gil(Box::new(interval))).is_ok();
                }
                true
            }
        };
        let config = GilSamplerConfig {
            rate_hz: hz,
            ..GilSamplerConfig::default()
        };
        match GilSampler::start_with(pid, config, sink) {
            Ok(sampler) => Some(Self {
                sampler,
                agg,
                tx: tx.clone(),
            }),
            Err(e) => {
                let _ = tx.send(RunMessage::GilNotice(format!(
                    "no exact GIL lanes: cannot start the GIL reader thread: {e}"
                )));
                None
            }
        }
    }

    /// Stops reading and sends what is left of the last interval, and a
    /// notice when the reader missed more than a tenth of its ticks.
    pub fn stop(self) {
        let stats = self.sampler.stop();
        let planned = stats.ticks + stats.missed;
        if planned > 0 && stats.missed * 10 > planned {
            let _ = self.tx.send(RunMessage::GilNotice(format!(
                "the GIL reader fell behind: it missed {} of {} ticks (at most {:.1} ms late); its fractions rest on fewer readings",
                stats.missed,
                planned,
                stats.max_late_ns as f64 / 1e6
            )));
        }
        let last = self
            .agg
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(interval) = last {
            let _ = self.tx.send(RunMessage::Gil(Box::new(interval)));
        }
    }
}
