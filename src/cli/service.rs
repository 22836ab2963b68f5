//! The service lines of `gilscope run`'s summary.

use crate::store::{RunRecord, ServiceSummary};

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.1} ms"))
}

fn percentiles(l: &crate::loadgen::Latency) -> String {
    format!(
        "p50 {} · p95 {} · p99 {} · max {}",
        ms(l.p50_ms),
        ms(l.p95_ms),
        ms(l.p99_ms),
        ms(l.max_ms)
    )
}

/// Rows (name, text) about a service run's load; none for a batch run.
pub fn service_rows(run: &RunRecord) -> Vec<(String, String)> {
    let Some(s) = run.service().summary() else {
        if run.service().intervals().is_empty() {
            return Vec::new();
        }
        return vec![("load".into(), "no report from the load generator".into())];
    };
    rows(&s)
}

fn rows(s: &ServiceSummary) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut row = |k: &str, v: String| out.push((k.to_string(), v));
    row(
        "load",
        format!(
            "{}{}",
            s.load,
            if s.stopped_early {
                " (stopped early)"
            } else {
                ""
            }
        ),
    );
    let share = if s.offered_rps > 0.0 {
        format!(" ({:.1} %)", 100.0 * s.achieved_rps / s.offered_rps)
    } else {
        String::new()
    };
    row(
        "requests/s",
        format!(
            "{:.1} answered correctly of {:.1} {}{share}",
            s.achieved_rps,
            s.offered_rps,
            if s.closed_loop { "sent" } else { "offered" }
        ),
    );
    let from = if s.closed_loop {
        crate::loadgen::CLOSED_LOOP_NOTE
    } else {
        "from each request's scheduled send"
    };
    let f = &s.failures;
    row(
        "latency",
        format!(
            "p99 {} over all {} requests ({} failed: {} timeouts, {} errors, {} unfinished — at the time given up on) · p99 {} over the {} correct answers ({from})",
            ms(s.latency_all.p99_ms),
            s.requests_all,
            f.total(),
            f.timeouts,
            f.connect + f.io + f.status + f.wrong_body,
            f.unfinished,
            ms(s.latency.p99_ms),
            s.requests_ok,
        ),
    );
    row("latency, all", percentiles(&s.latency_all));
    row(
        "latency, correct",
        format!(
            "{}; worst 250 ms p99 {}",
            percentiles(&s.latency),
            ms(s.worst_interval_p99_ms)
        ),
    );
    row(
        "generator",
        match (&s.lateness, s.closed_loop) {
            (_, true) => {
                "closed loop: each client sends when its answer comes (no schedule to keep)"
                    .to_string()
            }
            (None, false) => "lateness not measured (no request in the window)".to_string(),
            (Some(l), false) => format!(
                "sent p50 {} · p99 {} · max {} behind schedule ({} requests){}",
                ms(l.p50_ms),
                ms(l.p99_ms),
                ms(l.max_ms),
                l.requests,
                match &s.generator_bound {
                    Some(why) => format!(" — GENERATOR-BOUND: {why}"),
                    None => String::new(),
                }
            ),
        },
    );
    row(
        "warm-up",
        if s.warmup_secs > 0.0 {
            format!(
                "{:.1} s before the window, connections opened first: {} requests discarded ({} failed)",
                s.warmup_secs, s.warmup_requests, s.warmup_failures
            )
        } else {
            "none (load.warmup=0); connections opened before the window".to_string()
        },
    );
    row(
        "failures",
        if f.total() == 0 {
            "none".to_string()
        } else {
            format!(
                "{} — connect {}, i/o {}, status {}, wrong body {}, timeouts {}, unfinished {}",
                f.total(),
                f.connect,
                f.io,
                f.status,
                f.wrong_body,
                f.timeouts,
                f.unfinished
            )
        },
    );
    row("in flight", format!("at most {}", s.max_in_flight));
    row(
        "answers",
        match &s.checksum {
            Some(sum) if s.all_correct => {
                format!(
                    "{} all correct (against {}); {sum}",
                    s.requests_ok, s.checked_against
                )
            }
            Some(sum) => format!("{sum}, but not every request was answered correctly"),
            None => format!(
                "no checksum: {} of {} keys got a correct answer",
                s.keys_answered, s.keys
            ),
        },
    );
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    row(
        "load gen CPU",
        format!(
            "{:.2} s, {:.2} cores of this machine's {cores} (it shares them with the server)",
            s.loadgen_cpu_secs, s.loadgen_cores
        ),
    );
    out
}
