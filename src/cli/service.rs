//! The service lines of `gilscope run`'s summary.

use crate::store::{RunRecord, ServiceSummary};

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.1} ms"))
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
            "{:.1} answered correctly of {:.1} offered{share}",
            s.achieved_rps, s.offered_rps
        ),
    );
    row(
        "latency",
        format!(
            "p50 {} · p95 {} · p99 {} · max {} (from the scheduled send); worst 250 ms p99 {}",
            ms(s.latency.p50_ms),
            ms(s.latency.p95_ms),
            ms(s.latency.p99_ms),
            ms(s.latency.max_ms),
            ms(s.worst_interval_p99_ms)
        ),
    );
    let f = &s.failures;
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
