//! A service run's load: what gilscope's load generator sent and got back,
//! per 250 ms interval and for the whole run ([`ServiceTrack`]), and the
//! few numbers a summary shows ([`ServiceSummary`]).
//!
//! For drawing, [`ServiceTrack::series`] gives columns over one time axis
//! (seconds since a run's `t0`): offered and achieved requests/s, p50 / p95
//! / p99 latency (a gap, `None`, where no request completed), errors and
//! timeouts per second, requests in flight.

use crate::loadgen::{Failures, Latency, Lateness, LoadInterval, LoadReport, LoadSpec};
use serde::{Deserialize, Serialize};

/// Intervals past this many are counted, not kept (7 hours at 4/s).
pub const MAX_INTERVALS: usize = 100_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceTrack {
    intervals: Vec<LoadInterval>,
    #[serde(default)]
    dropped_intervals: u64,
    report: Option<LoadReport>,
}

/// Columns over one time axis, for plots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceSeries {
    /// End of each interval, seconds since the run's `t0`.
    pub t_secs: Vec<f64>,
    pub offered_rps: Vec<f64>,
    pub achieved_rps: Vec<f64>,
    pub p50_ms: Vec<Option<f64>>,
    pub p95_ms: Vec<Option<f64>>,
    pub p99_ms: Vec<Option<f64>>,
    pub errors_per_s: Vec<f64>,
    pub timeouts_per_s: Vec<f64>,
    pub in_flight: Vec<u64>,
}

/// A service run in a few numbers (summary, `--json`, sweep points).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// "open loop, 500 req/s offered …" / "closed loop, 8 clients …".
    pub load: String,
    pub spec: LoadSpec,
    pub offered_rps: f64,
    pub achieved_rps: f64,
    pub requests_ok: u64,
    pub failures: Failures,
    /// Over the correct answers.
    pub latency: Latency,
    /// Over every request of the window, failures at the time they were
    /// given up on (see [`LoadReport::latency_all`]), and how many.
    #[serde(default)]
    pub latency_all: Latency,
    #[serde(default)]
    pub requests_all: u64,
    /// A closed loop: its latency excludes queueing before send.
    #[serde(default)]
    pub closed_loop: bool,
    /// The generator's own lateness (open loop).
    #[serde(default)]
    pub lateness: Option<Lateness>,
    /// Why the run is *generator-bound*, when it is.
    #[serde(default)]
    pub generator_bound: Option<String>,
    #[serde(default)]
    pub warmup_secs: f64,
    #[serde(default)]
    pub warmup_requests: u64,
    #[serde(default)]
    pub warmup_failures: u64,
    /// The worst interval's p99 (ms), when any completed.
    pub worst_interval_p99_ms: Option<f64>,
    pub max_in_flight: u64,
    pub checksum: Option<String>,
    pub keys_answered: u32,
    pub keys: u32,
    pub checked_against: String,
    pub all_correct: bool,
    /// The generator's own CPU: seconds, and cores over its run.
    pub loadgen_cpu_secs: f64,
    pub loadgen_cores: f64,
    pub stopped_early: bool,
}

impl ServiceSummary {
    /// The p99 over every request, failures included; over the correct
    /// answers for a run file written before that was recorded.
    pub fn p99_all_ms(&self) -> Option<f64> {
        self.tail().p99_ms
    }

    /// The latency over every request (failures at the time they were
    /// given up on); over the correct answers for an older run file.
    pub fn tail(&self) -> &Latency {
        if self.requests_all == 0 {
            &self.latency
        } else {
            &self.latency_all
        }
    }
}

impl ServiceTrack {
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty() && self.report.is_none()
    }

    pub fn eat_interval(&mut self, interval: LoadInterval) {
        if self.intervals.len() >= MAX_INTERVALS {
            self.dropped_intervals += 1;
        } else {
            self.intervals.push(interval);
        }
    }

    pub fn eat_report(&mut self, report: LoadReport) {
        self.report = Some(report);
    }

    pub fn intervals(&self) -> &[LoadInterval] {
        &self.intervals
    }

    pub fn report(&self) -> Option<&LoadReport> {
        self.report.as_ref()
    }

    /// Every interval as columns; `t0_ns` is the run's origin.
    pub fn series(&self, t0_ns: u64) -> ServiceSeries {
        let mut s = ServiceSeries::default();
        for iv in &self.intervals {
            let per_s = |n: u64| {
                if iv.secs > 0.0 {
                    n as f64 / iv.secs
                } else {
                    0.0
                }
            };
            s.t_secs.push(iv.t_ns.saturating_sub(t0_ns) as f64 / 1e9);
            s.offered_rps.push(iv.offered_rps());
            s.achieved_rps.push(iv.achieved_rps());
            s.p50_ms.push(iv.latency.p50_ms);
            s.p95_ms.push(iv.latency.p95_ms);
            s.p99_ms.push(iv.latency.p99_ms);
            s.errors_per_s.push(per_s(iv.errors));
            s.timeouts_per_s.push(per_s(iv.timeouts));
            s.in_flight.push(iv.in_flight);
        }
        s
    }

    /// `None` until the report came (a batch run never has one).
    pub fn summary(&self) -> Option<ServiceSummary> {
        let r = self.report.as_ref()?;
        let worst = self
            .intervals
            .iter()
            .filter_map(|iv| iv.latency.p99_ms)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        Some(ServiceSummary {
            load: r.spec.describe(),
            spec: r.spec.clone(),
            offered_rps: r.offered_rps,
            achieved_rps: r.achieved_rps,
            requests_ok: r.ok,
            failures: r.failures,
            latency: r.latency,
            latency_all: r.latency_all,
            requests_all: r.requests_all,
            closed_loop: r.spec.is_closed(),
            lateness: r.lateness,
            generator_bound: r.generator_bound(),
            warmup_secs: r.spec.warmup.as_secs_f64(),
            warmup_requests: r.warmup_requests,
            warmup_failures: r.warmup_failures,
            worst_interval_p99_ms: worst,
            max_in_flight: self
                .intervals
                .iter()
                .map(|iv| iv.in_flight)
                .max()
                .unwrap_or(0),
            checksum: r.checksum.clone(),
            keys_answered: r.keys_answered,
            keys: r.spec.keys,
            checked_against: r.checked_against.clone(),
            all_correct: r.all_correct(),
            loadgen_cpu_secs: r.cpu_secs,
            loadgen_cores: r.cpu_cores,
            stopped_early: r.stopped_early,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::LoadInterval;

    fn iv(t_s: u64, offered: u64, ok: u64, p99: Option<f64>, in_flight: u64) -> LoadInterval {
        LoadInterval {
            t_ns: 1_000_000_000 + t_s * 250_000_000,
            secs: 0.25,
            offered,
            ok,
            errors: 1,
            timeouts: 0,
            in_flight,
            latency: Latency {
                p50_ms: p99.map(|v| v / 2.0),
                p95_ms: p99,
                p99_ms: p99,
                max_ms: p99,
            },
            latency_all: Latency::default(),
        }
    }

    #[test]
    fn series_are_columns_with_gaps_where_nothing_completed() {
        let mut t = ServiceTrack::default();
        assert!(t.is_empty() && t.summary().is_none());
        t.eat_interval(iv(1, 50, 40, Some(3.0), 2));
        t.eat_interval(iv(2, 50, 0, None, 12));
        let s = t.series(1_000_000_000);
        assert_eq!(s.t_secs, [0.25, 0.5]);
        assert_eq!(s.offered_rps, [200.0, 200.0]);
        assert_eq!(s.achieved_rps, [160.0, 0.0]);
        assert_eq!(s.p99_ms, [Some(3.0), None]);
        assert_eq!(s.errors_per_s, [4.0, 4.0]);
        assert_eq!(s.in_flight, [2, 12]);
        assert!(!t.is_empty());
        // round trip through JSON (run files)
        let back: ServiceTrack =
            serde_json::from_str(&serde_json::to_string(&t).unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(back, t);
    }
}
