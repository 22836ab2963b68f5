//! The text summary of a finished run for `gilscope run`.

use super::table;
use crate::kit::number::human;
use crate::run::RunEnd;
use crate::store::RunRecord;
use crate::store::metrics::{
    cpu_use, harness_cpu, items_per_sec, memory_use, sampler_use, worker_gil, worker_times,
};
use crate::store::stall::stall;

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / 1048576.0)
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// One line per worker: chunks, items, and where its thread's time went.
fn worker_rows(run: &RunRecord) -> Vec<Vec<String>> {
    let times = worker_times(run);
    let gil = worker_gil(run);
    run.worker_totals()
        .iter()
        .map(|(w, totals)| {
            let time = times.iter().find(|t| t.worker == *w);
            let split = match time.and_then(|t| t.split) {
                Some(s) => format!(
                    " · running {} · waiting for a core {} · blocked {}",
                    pct(s.running),
                    pct(s.waiting),
                    pct(s.blocked)
                ),
                None => " · thread states not measured".to_string(),
            };
            let tid = time
                .and_then(|t| t.tid)
                .map(|t| format!(" (thread {t})"))
                .unwrap_or_default();
            let gil = gil
                .iter()
                .find(|g| g.worker == *w)
                .map(|g| {
                    let p = |v: Option<f64>| v.map_or("—".to_string(), pct);
                    let unsure = match g.unsure {
                        Some(u) if u >= 0.005 => format!(" · unsure {}", pct(u)),
                        _ => String::new(),
                    };
                    format!(
                        " · GIL: held {} · waited for {} · ran without {}{unsure}",
                        p(g.hold),
                        p(g.wait),
                        p(g.run_free)
                    )
                })
                .unwrap_or_default();
            vec![
                format!("worker {w}"),
                // A service's chunks are its requests: one count.
                if run.service().is_empty() {
                    format!(
                        "{} chunks, {} {}{split}{gil}{tid}",
                        totals.chunks,
                        totals.items,
                        run.unit()
                    )
                } else {
                    format!("{} {}{split}{gil}{tid}", totals.items, run.unit())
                },
            ]
        })
        .collect()
}

/// Per-worker data for `--json`.
pub fn worker_rows_json(run: &RunRecord) -> serde_json::Value {
    let times = worker_times(run);
    let gil = worker_gil(run);
    let rows: Vec<serde_json::Value> = run
        .worker_totals()
        .iter()
        .map(|(w, totals)| {
            let time = times.iter().find(|t| t.worker == *w);
            let split = time.and_then(|t| t.split);
            let g = gil.iter().find(|g| g.worker == *w);
            serde_json::json!({
                "gil_hold": g.and_then(|g| g.hold),
                "gil_wait": g.and_then(|g| g.wait),
                "gil_run_free": g.and_then(|g| g.run_free),
                "gil_unsure": g.and_then(|g| g.unsure),
                "worker": w,
                "chunks": totals.chunks,
                "items": totals.items,
                "tid": time.and_then(|t| t.tid),
                "running": split.map(|s| s.running),
                "waiting": split.map(|s| s.waiting),
                "blocked": split.map(|s| s.blocked),
            })
        })
        .collect();
    serde_json::Value::Array(rows)
}

/// The whole summary, as aligned text, followed by the traceback or the
/// stderr tail when the run failed.
pub fn summary_text(run: &RunRecord) -> String {
    let Some(outcome) = run.outcome() else {
        return "  the run has not ended\n".to_string();
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row = |k: &str, v: String| rows.push(vec![k.to_string(), v]);
    row(
        "result",
        run.headline().unwrap_or_else(|| outcome.headline()),
    );
    let script = run.spec().is_script();
    if script {
        row("exit", outcome.exit.clone());
    }
    match run.result() {
        Some(result) if script => {
            row(
                "wall time",
                format!("{:.3} s from start to exit", result.elapsed_s),
            );
            row(
                "stdout",
                result
                    .checksum
                    .replace(crate::run::protocol::SCRIPT_CHECKSUM_PREFIX, "sha256 "),
            );
        }
        Some(result) => {
            row(
                "wall time",
                format!(
                    "{:.3} s in the workers, {:.3} s in all",
                    result.elapsed_s, outcome.wall_secs
                ),
            );
            if let Some(rate) = items_per_sec(run) {
                row("throughput", format!("{} {}/s", human(rate), run.unit()));
            }
            // A service's harness result only counts requests; its real
            // checksum, over the answers, is on the "answers" row.
            if run.service().is_empty() {
                row("checksum", result.checksum.clone());
            }
        }
        None => row("wall time", format!("{:.3} s", outcome.wall_secs)),
    }
    for (k, v) in super::service::service_rows(run) {
        row(&k, v);
    }
    match &outcome.usage {
        Some(u) => {
            let cores = if outcome.wall_secs > 0.0 {
                u.cpu_secs() / outcome.wall_secs
            } else {
                0.0
            };
            row(
                "CPU time",
                format!(
                    "{:.3} s user + {:.3} s system ({cores:.2} cores busy on average)",
                    u.user_secs, u.system_secs
                ),
            );
        }
        None => row("CPU time", "not measured".into()),
    }
    let cpu = cpu_use(run);
    if let Some(busy) = cpu.mean_busy_cores {
        row(
            "machine",
            format!(
                "{busy:.2} cores busy on average, all processes ({})",
                run.sampler_backend().core_source()
            ),
        );
    }
    if let Some(why) = run.thread_states_missing() {
        row("threads", format!("states not measured: {why}"));
    }
    let memory = memory_use(run);
    match (memory.baseline, memory.peaks.rss_bytes) {
        (Some(base), Some(peak)) => {
            let overhead = peak as f64 - base.rss_bytes as f64;
            let per_worker = memory
                .overhead_rss_per_worker_bytes
                .map(|b| format!(", {} per worker", mib(b)))
                .unwrap_or_default();
            row(
                "memory",
                format!(
                    "RSS {} before workers, peak {} (+{}{per_worker}), whole process tree",
                    mib(base.rss_bytes as f64),
                    mib(peak as f64),
                    mib(overhead)
                ),
            );
        }
        (None, Some(peak)) => row(
            "memory",
            format!(
                "peak RSS {} (no baseline sample before workers started)",
                mib(peak as f64)
            ),
        ),
        _ => {
            if let Some(u) = &outcome.usage {
                row(
                    "memory",
                    format!(
                        "peak RSS {} (largest single process; not sampled)",
                        mib(u.max_rss_bytes as f64)
                    ),
                );
            }
        }
    }
    if let Some(pss) = memory.peaks.pss_peak() {
        row("PSS peak", mib(pss as f64));
    } else if memory.peaks.pss_missing.is_some() || memory.peaks.pss_bytes.is_some() {
        row(
            "PSS peak",
            memory.peaks.pss_missing_reason().unwrap_or_default(),
        );
    }
    if let Some(h) = run.hello() {
        let end = run
            .result()
            .and_then(|r| r.gil_enabled)
            .or(script.then(|| {
                run.gil_changes()
                    .last()
                    .map_or(h.gil_enabled, |g| g.enabled)
            }))
            .map_or("not reported", |g| if g { "on" } else { "off" });
        row(
            "GIL",
            format!(
                "{} at start, {end} at end ({} build)",
                if h.gil_enabled { "on" } else { "off" },
                if h.ft_build {
                    "free-threaded"
                } else {
                    "default"
                }
            ),
        );
    }
    for g in run.gil_changes() {
        let what = if g.enabled { "re-enabled" } else { "disabled" };
        row(
            "GIL change",
            format!(
                "{what}{}",
                g.warning
                    .as_ref()
                    .map(|w| format!(": {w}"))
                    .unwrap_or_default()
            ),
        );
    }
    for worker in worker_rows(run) {
        row(&worker[0], worker[1].clone());
    }
    let gil = run.gil();
    for t in &gil.gils {
        row(
            "GIL reader",
            format!(
                "pid {} interpreter {}: locked {} of the time, {} hand-offs/s{}",
                t.pid,
                t.interp_id,
                t.locked_fraction().map_or("—".to_string(), pct),
                t.handoffs_per_sec()
                    .map_or("—".to_string(), |h| format!("{h:.0}")),
                match t.enabled_fraction() {
                    Some(e) if e < 1.0 => format!(", enabled {}", pct(e)),
                    _ => String::new(),
                }
            ),
        );
    }
    if let Some(why) = gil.missing_reason() {
        row("GIL reader", why);
    } else if gil.threads.values().any(|t| t.unsure_probes > 0.0) {
        row(
            "GIL reader",
            "unsure = runnable without the GIL where nothing shows whether the thread is on its way into take_gil (typically just after handing the GIL over); never counted as running free".into(),
        );
    }
    for n in gil
        .notices
        .iter()
        .filter(|n| n.starts_with("the GIL reader fell behind"))
    {
        row("GIL reader", n.clone());
    }
    if let Some(s) = stall(run, None) {
        let text = if s.stalled {
            format!(
                "STALLED: {}, from {:.1} s after setup{}; {}",
                s.headline(),
                s.gap_from_s,
                if s.ongoing {
                    " until the run ended"
                } else {
                    ", then it went on"
                },
                s.bound_text()
            )
        } else {
            format!(
                "no stall: longest pause {} ({})",
                crate::store::stall::duration_text(s.longest_gap_s),
                s.bound_text()
            )
        };
        row("progress", text);
    }
    let harness = harness_cpu(run);
    if !script {
        row(
            "harness",
            match (harness.on_cpu_secs, harness.core_share) {
                (Some(secs), Some(share)) => format!(
                    "main thread {secs:.3} s on a core, {:.1}% of one core during the work (forwarding the workers' reports)",
                    share * 100.0
                ),
                _ => format!(
                    "main thread's CPU not measured: {}",
                    harness.missing.as_deref().unwrap_or("unknown reason")
                ),
            },
        );
    }
    row(
        "what else",
        match run.what_else() {
            Ok(load) => load.line(),
            Err(why) => format!("not measured: {why}"),
        },
    );
    let verdicts = crate::store::service_verdict::run_verdicts(run);
    row(
        "verdict",
        if verdicts.is_empty() {
            if script {
                "no label: not contended (what else ran was measured)".to_string()
            } else {
                "no label: not contended, and a 1-worker run was not slowed".to_string()
            }
        } else {
            crate::store::verdict::text(&verdicts)
        },
    );
    let sampler = sampler_use(run);
    if sampler.samples > 0 {
        let behind = if sampler.missed_ticks > 0 {
            format!(", FELL BEHIND: {} ticks missed", sampler.missed_ticks)
        } else {
            String::new()
        };
        row(
            "sampler",
            format!(
                "{} samples, at most {:.1} ms late{behind}",
                sampler.samples,
                sampler.max_late_ns as f64 / 1e6
            ),
        );
    }
    if !run.protocol_problems().is_empty() {
        row(
            "protocol",
            format!(
                "{} bad lines on the event pipe, first: {}",
                run.protocol_problems().len(),
                run.protocol_problems()[0]
            ),
        );
    }
    let mut out: String = table::render(&["", ""], &rows)
        .lines()
        .skip(1)
        .map(|l| format!("  {l}\n"))
        .collect();
    match &outcome.end {
        RunEnd::WorkloadFailed { error } if !error.traceback.is_empty() => {
            out.push('\n');
            out.push_str(error.traceback.trim_end());
            out.push('\n');
        }
        RunEnd::Crashed { .. } | RunEnd::WorkloadFailed { .. }
            if !outcome.stderr_tail.is_empty() =>
        {
            out.push_str("\nlast lines on stderr:\n");
            for l in &outcome.stderr_tail {
                out.push_str(&format!("  {l}\n"));
            }
        }
        _ => {}
    }
    out
}
