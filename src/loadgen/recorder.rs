//! What the generator's threads record: counts, latency histograms (HDR,
//! µs, 3 significant digits) per interval and for the run — of correct
//! answers, and of every request with failures at the time they were given
//! up on — the generator's own lateness, and the check of every answer.
//! Requests scheduled before the window are warm-up: checked, not counted.

use super::expect::Expected;
use super::http::Failure;
use super::{Failures, Latency, Lateness, LoadInterval};
use hdrhistogram::Histogram;
use sha2::{Digest, Sha256};

/// Latencies above this (1 hour) are recorded as this.
const MAX_LATENCY_US: u64 = 3_600_000_000;

fn histogram() -> Histogram<u64> {
    // Bounds and precision are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant, valid histogram bounds")
}

fn latency(h: &Histogram<u64>) -> Latency {
    if h.is_empty() {
        return Latency::default();
    }
    let ms = |q: f64| Some(h.value_at_quantile(q) as f64 / 1e3);
    Latency {
        p50_ms: ms(0.50),
        p95_ms: ms(0.95),
        p99_ms: ms(0.99),
        max_ms: Some(h.max() as f64 / 1e3),
    }
}

#[derive(Default)]
struct Counts {
    offered: u64,
    ok: u64,
    errors: u64,
    timeouts: u64,
}

pub struct Recorder {
    expected: Option<Expected>,
    first: Vec<Option<Vec<u8>>>,
    interval_hist: Histogram<u64>,
    interval_all: Histogram<u64>,
    total_hist: Histogram<u64>,
    total_all: Histogram<u64>,
    lateness: Histogram<u64>,
    interval: Counts,
    pub offered: u64,
    pub ok: u64,
    pub ok_in_window: u64,
    pub failures: Failures,
    /// Requests scheduled before this are warm-up.
    pub window_start_ns: u64,
    /// Answers before this count toward `ok_in_window`.
    pub window_end_ns: u64,
    pub warmup_requests: u64,
    pub warmup_failures: u64,
}

impl Recorder {
    pub fn new(
        expected: Option<Expected>,
        keys: u32,
        window_start_ns: u64,
        window_end_ns: u64,
    ) -> Self {
        Self {
            expected,
            first: vec![None; keys as usize],
            interval_hist: histogram(),
            interval_all: histogram(),
            total_hist: histogram(),
            total_all: histogram(),
            lateness: histogram(),
            interval: Counts::default(),
            offered: 0,
            ok: 0,
            ok_in_window: 0,
            failures: Failures::default(),
            window_start_ns,
            window_end_ns,
            warmup_requests: 0,
            warmup_failures: 0,
        }
    }

    /// A request scheduled at `scheduled_ns` is part of the warm-up.
    pub fn is_warmup(&self, scheduled_ns: u64) -> bool {
        scheduled_ns < self.window_start_ns
    }

    /// A failed (or never answered) request of the window, in the record
    /// over all requests at the time it was given up on.
    fn record_all(&mut self, scheduled_ns: u64, at_ns: u64) {
        let us = (at_ns.saturating_sub(scheduled_ns) / 1_000).clamp(1, MAX_LATENCY_US);
        self.interval_all.saturating_record(us);
        self.total_all.saturating_record(us);
    }

    /// The generator handed a request of the window to a connection
    /// `late_ns` after it could have.
    pub fn late(&mut self, scheduled_ns: u64, late_ns: u64) {
        if !self.is_warmup(scheduled_ns) {
            self.lateness
                .saturating_record((late_ns / 1_000).clamp(1, MAX_LATENCY_US));
        }
    }

    /// The generator's lateness over the window; `None` if nothing was
    /// handed out.
    pub fn lateness(&self) -> Option<Lateness> {
        let h = &self.lateness;
        (!h.is_empty()).then(|| Lateness {
            p50_ms: Some(h.value_at_quantile(0.50) as f64 / 1e3),
            p99_ms: Some(h.value_at_quantile(0.99) as f64 / 1e3),
            max_ms: Some(h.max() as f64 / 1e3),
            requests: h.len(),
        })
    }

    /// A request of the window still queued or unanswered when the
    /// generator stopped waiting at `at_ns`.
    pub fn unfinished(&mut self, scheduled_ns: u64, at_ns: u64) {
        if self.is_warmup(scheduled_ns) {
            self.warmup_requests += 1;
            self.warmup_failures += 1;
            return;
        }
        self.failures.unfinished += 1;
        self.interval.errors += 1;
        self.record_all(scheduled_ns, at_ns);
    }

    pub fn offered(&mut self, n: u64) {
        self.offered += n;
        self.interval.offered += n;
    }

    /// Requests of the window scheduled and not yet answered or failed.
    pub fn in_flight(&self) -> u64 {
        let done = self.ok + self.failures.total();
        self.offered.saturating_sub(done)
    }

    /// An answer arrived: check it, and count it with its latency.
    pub fn answer(&mut self, key: u32, body: &[u8], scheduled_ns: u64, done_ns: u64) {
        let warmup = self.is_warmup(scheduled_ns);
        let slot = self.first.get_mut(key as usize);
        let correct = match (&self.expected, slot) {
            (Some(e), slot) => {
                let ok = e.answer(key) == Some(body);
                if let (true, Some(slot @ None)) = (ok, slot) {
                    *slot = Some(body.to_vec());
                }
                ok
            }
            (None, Some(Some(first))) => first.as_slice() == body,
            (None, Some(slot)) => {
                *slot = Some(body.to_vec());
                true
            }
            (None, None) => true,
        };
        if warmup {
            self.warmup_requests += 1;
            self.warmup_failures += u64::from(!correct);
            return;
        }
        if !correct {
            self.failures.wrong_body += 1;
            self.interval.errors += 1;
            self.record_all(scheduled_ns, done_ns);
            return;
        }
        let us = (done_ns.saturating_sub(scheduled_ns) / 1_000).clamp(1, MAX_LATENCY_US);
        self.interval_hist.saturating_record(us);
        self.total_hist.saturating_record(us);
        self.interval_all.saturating_record(us);
        self.total_all.saturating_record(us);
        self.ok += 1;
        self.interval.ok += 1;
        if done_ns <= self.window_end_ns {
            self.ok_in_window += 1;
        }
    }

    /// A request scheduled at `scheduled_ns` failed at `at_ns`.
    pub fn failure(&mut self, failure: &Failure, scheduled_ns: u64, at_ns: u64) {
        if self.is_warmup(scheduled_ns) {
            self.warmup_requests += 1;
            self.warmup_failures += 1;
            return;
        }
        self.record_all(scheduled_ns, at_ns);
        match failure {
            Failure::Connect(_) => self.failures.connect += 1,
            Failure::Io(_) => self.failures.io += 1,
            Failure::Status(_) => self.failures.status += 1,
            Failure::Timeout => {
                self.failures.timeouts += 1;
                self.interval.timeouts += 1;
                return;
            }
        }
        self.interval.errors += 1;
    }

    /// The interval that ends now, and a fresh one.
    pub fn take_interval(&mut self, t_ns: u64, secs: f64) -> LoadInterval {
        let iv = std::mem::take(&mut self.interval);
        let out = LoadInterval {
            t_ns,
            secs,
            offered: iv.offered,
            ok: iv.ok,
            errors: iv.errors,
            timeouts: iv.timeouts,
            in_flight: self.in_flight(),
            latency: latency(&self.interval_hist),
            latency_all: latency(&self.interval_all),
        };
        self.interval_hist.reset();
        self.interval_all.reset();
        out
    }

    /// Over the correct answers.
    pub fn total_latency(&self) -> Latency {
        latency(&self.total_hist)
    }

    /// Over every request answered or given up on, and how many.
    pub fn total_latency_all(&self) -> (Latency, u64) {
        (latency(&self.total_all), self.total_all.len())
    }

    /// `sha256:` over the first answer of each key in key order, when every
    /// key has a correct one; and how many keys have one.
    pub fn checksum(&self) -> (Option<String>, u32) {
        let answered = self
            .first
            .iter()
            .enumerate()
            .filter(|(k, a)| match (a, &self.expected) {
                (Some(a), Some(e)) => e.answer(*k as u32) == Some(a.as_slice()),
                (Some(_), None) => true,
                (None, _) => false,
            })
            .count();
        let answered = u32::try_from(answered).unwrap_or(u32::MAX);
        if answered as usize != self.first.len() || self.first.is_empty() {
            return (None, answered);
        }
        let mut h = Sha256::new();
        for answer in self.first.iter().flatten() {
            h.update((answer.len() as u64).to_le_bytes());
            h.update(answer);
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        (
            Some(format!("sha256:{hex} keys={}", self.first.len())),
            answered,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::expect::request_body;

    fn echo_expected(keys: u32) -> Option<Expected> {
        let params: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"handler":"echo","rounds":1,"size":1}"#).unwrap_or_default();
        Expected::for_run("service", &params, keys)
    }

    #[test]
    fn answers_are_checked_counted_and_summed() {
        let mut r = Recorder::new(echo_expected(2), 2, 0, 10_000_000);
        r.offered(4);
        r.answer(0, &request_body(0), 0, 2_000_000);
        assert_eq!(r.checksum(), (None, 1), "key 1 has no answer yet");
        r.answer(1, b"wrong", 0, 3_000_000);
        r.answer(1, &request_body(1), 0, 20_000_000); // after the window
        assert_eq!(r.in_flight(), 1);
        let iv = r.take_interval(20_000_000, 0.25);
        assert_eq!((iv.offered, iv.ok, iv.errors, iv.in_flight), (4, 2, 1, 1));
        assert_eq!(iv.latency.p50_ms, Some(2.0));
        assert_eq!(r.failures.wrong_body, 1);
        assert_eq!((r.ok, r.ok_in_window), (2, 1));
        let (sum, answered) = r.checksum();
        assert_eq!(answered, 2);
        assert!(sum.is_some_and(|s| s.starts_with("sha256:") && s.ends_with(" keys=2")));
        // the next interval starts empty
        let iv = r.take_interval(30_000_000, 0.25);
        assert_eq!((iv.ok, iv.latency.p99_ms), (0, None));
        r.failure(&Failure::Timeout, 0, 30_000_000);
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn failures_enter_the_tail_and_the_warmup_does_not_count() {
        let ms = 1_000_000;
        let mut r = Recorder::new(echo_expected(1), 1, 100 * ms, u64::MAX);
        // warm-up: answered and failed, neither counted
        r.answer(0, &request_body(0), 10 * ms, 11 * ms);
        r.failure(&Failure::Timeout, 20 * ms, 90 * ms);
        r.late(20 * ms, 50 * ms);
        assert_eq!((r.warmup_requests, r.warmup_failures), (2, 1));
        assert_eq!((r.ok, r.failures.total(), r.lateness()), (0, 0, None));
        // the window: 98 fast answers, one timeout after 1 s, one unfinished
        r.offered(100);
        for i in 0..98 {
            r.answer(0, &request_body(0), (100 + i) * ms, (102 + i) * ms);
            r.late((100 + i) * ms, 10_000);
        }
        r.failure(&Failure::Timeout, 200 * ms, 1_200 * ms);
        r.unfinished(300 * ms, 2_300 * ms);
        assert_eq!(r.in_flight(), 0);
        assert_eq!((r.failures.timeouts, r.failures.unfinished), (1, 1));
        let ok = r.total_latency();
        let (all, n) = r.total_latency_all();
        assert_eq!(n, 100);
        assert_eq!((ok.p99_ms, ok.max_ms), (Some(2.0), Some(2.0)));
        // p99 over 100 requests is the 99th: the timeout at 1 s
        assert!(
            all.p99_ms.is_some_and(|v| (999.0..1001.0).contains(&v)),
            "{all:?}"
        );
        assert!(
            all.max_ms.is_some_and(|v| (1999.0..2001.0).contains(&v)),
            "{all:?}"
        );
        let late = r.lateness().unwrap_or_default();
        assert_eq!((late.requests, late.p99_ms), (98, Some(0.01)));
        let iv = r.take_interval(3_000 * ms, 0.25);
        assert_eq!(iv.latency.p99_ms, Some(2.0));
        assert!(iv.latency_all.max_ms.is_some_and(|v| v > 1999.0));
    }

    #[test]
    fn without_a_reference_answers_must_agree_with_the_first() {
        let mut r = Recorder::new(None, 1, 0, u64::MAX);
        r.offered(2);
        r.answer(0, b"x", 0, 1_000);
        r.answer(0, b"y", 0, 1_000);
        assert_eq!((r.ok, r.failures.wrong_body), (1, 1));
    }
}
