//! The thread table of a script run or an attach: every thread by the
//! name a person knows it by (its Python name, else "main" or its OS
//! name), busiest first, with its /proc split and its exact GIL numbers.

use super::table;
use crate::store::RunRecord;
use crate::store::metrics::thread_split;

/// Threads shown in a summary (the busiest; `--json` has them all).
const SHOWN_THREADS: usize = 16;

/// One thread: its /proc split and its GIL numbers, busiest first.
pub struct ThreadRow {
    tid: u32,
    pid: u32,
    name: String,
    cpu_ns: u64,
    split: Option<crate::store::metrics::TimeSplit>,
    gil: Option<crate::store::gil::GilThread>,
}

pub fn thread_rows(run: &RunRecord) -> Vec<ThreadRow> {
    let gil = &run.gil().threads;
    let mut rows: Vec<ThreadRow> = run
        .thread_tracks()
        .values()
        .map(|t| ThreadRow {
            tid: t.tid,
            pid: t.pid,
            name: run.thread_name(t.tid).unwrap_or_else(|| t.name.clone()),
            cpu_ns: t
                .last_on_cpu_ns
                .zip(t.first_on_cpu_ns)
                .map_or(0, |(l, f)| l.saturating_sub(f)),
            split: thread_split(run, t.tid),
            gil: gil.get(&t.tid).copied(),
        })
        .collect();
    rows.sort_by(|a, b| b.cpu_ns.cmp(&a.cpu_ns).then(a.tid.cmp(&b.tid)));
    rows
}

pub fn opt_pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| format!("{:.0}%", x * 100.0))
}

/// The table as text (a blank line first).
pub fn table(run: &RunRecord) -> String {
    let mut out = String::new();
    let threads = thread_rows(run);
    if threads.is_empty() {
        return out;
    }
    let shown: Vec<Vec<String>> = threads
        .iter()
        .take(SHOWN_THREADS)
        .map(|t| {
            let g = t.gil.as_ref();
            vec![
                t.tid.to_string(),
                t.pid.to_string(),
                t.name.clone(),
                format!("{:.2} s", t.cpu_ns as f64 / 1e9),
                opt_pct(t.split.map(|s| s.running)),
                opt_pct(t.split.map(|s| s.waiting)),
                opt_pct(t.split.map(|s| s.blocked)),
                opt_pct(g.and_then(|g| g.hold_fraction())),
                opt_pct(g.and_then(|g| g.wait_fraction())),
                opt_pct(g.and_then(|g| g.run_free_fraction())),
                opt_pct(g.and_then(|g| g.unsure_fraction())),
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&table::render(
        &[
            "TID",
            "PID",
            "NAME",
            "CPU",
            "RUNNING",
            "WAIT CORE",
            "BLOCKED",
            "GIL HELD",
            "GIL WAITED",
            "RAN WITHOUT",
            "UNSURE",
        ],
        &shown,
    ));
    if threads.len() > SHOWN_THREADS {
        out.push_str(&format!(
            "  … and {} more threads (--json lists them all)\n",
            threads.len() - SHOWN_THREADS
        ));
    }
    out
}

pub fn json(run: &RunRecord) -> serde_json::Value {
    serde_json::Value::Array(
        thread_rows(run)
            .iter()
            .map(|t| {
                let g = t.gil.as_ref();
                serde_json::json!({
                    "tid": t.tid,
                    "pid": t.pid,
                    "name": t.name,
                    "cpu_secs": t.cpu_ns as f64 / 1e9,
                    "running": t.split.map(|s| s.running),
                    "waiting": t.split.map(|s| s.waiting),
                    "blocked": t.split.map(|s| s.blocked),
                    "gil_hold": g.and_then(|g| g.hold_fraction()),
                    "gil_wait": g.and_then(|g| g.wait_fraction()),
                    "gil_run_free": g.and_then(|g| g.run_free_fraction()),
                    "gil_unsure": g.and_then(|g| g.unsure_fraction()),
                })
            })
            .collect(),
    )
}
