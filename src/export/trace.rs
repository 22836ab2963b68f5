//! A run as a Chrome trace-event JSON file (the format Perfetto and
//! `chrome://tracing` load): gilscope's thread lanes beside whatever else
//! the user traces.
//!
//! * One process per OS process of the run (named as the app names the
//!   run), one track per thread with its states — *running*, *waiting for
//!   a core*, *blocked* — and, where the exact GIL reader saw the thread, a
//!   second track `"<thread> · GIL"` right below it with *holding the GIL*,
//!   *waiting for the GIL*, *running without the GIL* and *without the GIL,
//!   unsure*. Both are complete (`"X"`) events on the run's own clock
//!   (CLOCK_MONOTONIC, µs), so they line up with other traces of the same
//!   machine.
//! * A reading is a fraction of an interval (a /proc sample, a GIL
//!   interval): each state gets its share of the interval, laid end to end
//!   in the interval (the state the track is already in first), and
//!   consecutive spans of one state merge — an hour of one state is one
//!   event. Time per state is the measured time, exactly.
//! * Counters (`"C"`): each core's use, RSS and PSS, throughput in the
//!   workload's unit (total and per worker), each written only when it
//!   changes.
//! * Instants: the start gate, the last chunk, GIL switched on or off.
//! * The run itself — interpreter, mode, workers, parameters, verdicts,
//!   its whole summary — in `otherData` and as the process's labels.

use super::readings;
use crate::store::RunRecord;
use crate::store::metrics::throughput;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// A thread's GIL track's id: its TID plus this (TIDs stay below 2²²).
pub const GIL_TID_OFFSET: u32 = 1 << 24;

/// Names of a thread's states, as the app's legend says them.
pub const THREAD_STATES: [&str; 3] = ["running", "waiting for a core", "blocked"];
/// Names of a thread's GIL states, as the app's legend says them.
pub const GIL_STATES: [&str; 4] = [
    "holding the GIL",
    "running without the GIL",
    "without the GIL, unsure",
    "waiting for the GIL",
];

/// Throughput counters are per this long.
const THROUGHPUT_BUCKET_NS: u64 = 250_000_000;

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceStats {
    /// Duration (`"X"`) events: merged spans.
    pub spans: usize,
    /// Counter (`"C"`) events.
    pub counters: usize,
    /// Every event, metadata included.
    pub events: usize,
    pub bytes: u64,
}

/// One state of a track from `start_ns` for `dur_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    state: usize,
    start_ns: u64,
    end_ns: u64,
}

/// Lays each interval's shares end to end and merges neighbours of one
/// state.
#[derive(Debug, Default)]
struct Spans {
    open: Option<Span>,
    done: Vec<Span>,
}

impl Spans {
    /// `shares[state]` of `[from, to)`, each clamped to 0..1; when they add
    /// up to more than the interval, state 0 keeps its share and the others
    /// are scaled into the rest. What is left of the interval is in no
    /// state (asleep elsewhere, or not read).
    fn interval(&mut self, from: u64, to: u64, shares: &[Option<f32>]) {
        let len = (to - from) as f64;
        let mut order: Vec<(usize, f64)> = shares
            .iter()
            .enumerate()
            .filter_map(|(k, s)| s.map(|s| (k, f64::from(s).clamp(0.0, 1.0))))
            .filter(|&(_, s)| s > 0.0)
            .collect();
        // The first state's share is kept (the GIL held, counted in ticks
        // apart from the probes' other shares); the others share the rest.
        let first = order.iter().find(|s| s.0 == 0).map_or(0.0, |s| s.1);
        let others: f64 = order.iter().filter(|s| s.0 != 0).map(|s| s.1).sum();
        if first + others > 1.0 && others > 0.0 {
            let room = (1.0 - first) / others;
            for s in order.iter_mut().filter(|s| s.0 != 0) {
                s.1 *= room;
            }
        }
        // The state the track is in goes first: it carries on.
        if let Some(open) = self.open
            && open.end_ns == from
            && let Some(i) = order.iter().position(|s| s.0 == open.state)
        {
            order[..=i].rotate_right(1);
        }
        let mut acc = 0.0;
        let mut at = from;
        for (state, share) in order {
            acc += share;
            let end = (from + (acc * len).round() as u64).min(to);
            if end > at {
                self.push(Span {
                    state,
                    start_ns: at,
                    end_ns: end,
                });
                at = end;
            }
        }
    }

    fn push(&mut self, span: Span) {
        match &mut self.open {
            Some(open) if open.state == span.state && open.end_ns == span.start_ns => {
                open.end_ns = span.end_ns;
            }
            open => {
                if let Some(done) = open.replace(span) {
                    self.done.push(done);
                }
            }
        }
    }

    fn finish(mut self) -> Vec<Span> {
        self.done.extend(self.open.take());
        self.done
    }
}

/// A timestamp in µs with ns precision.
fn us(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

/// A JSON string.
fn q(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Writes `run` as Chrome trace-event JSON.
pub fn write(run: &RunRecord, out: impl Write) -> io::Result<TraceStats> {
    let mut w = Writer {
        out: io::BufWriter::new(out),
        stats: TraceStats::default(),
        first: true,
    };
    w.raw("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n")?;
    let threads = run.threads();
    let root_pid = run
        .hello()
        .map(|h| h.pid)
        .or_else(|| threads.first().map(|(_, t)| t.pid))
        .unwrap_or(0);
    // Processes: the run's own first, named.
    let mut pids: Vec<u32> = threads.iter().map(|(_, t)| t.pid).collect();
    pids.push(root_pid);
    pids.sort_by_key(|&p| (p != root_pid, p));
    pids.dedup();
    let name = crate::store::labels::run_label(run);
    for (k, &pid) in pids.iter().enumerate() {
        let pname = if pid == root_pid {
            name.clone()
        } else {
            format!("{name} · worker process")
        };
        w.meta(pid, 0, "process_name", json!({ "name": pname }))?;
        w.meta(pid, 0, "process_sort_index", json!({ "sort_index": k }))?;
    }
    w.meta(
        root_pid,
        0,
        "process_labels",
        json!({ "labels": labels(run) }),
    )?;
    let series = run.series();
    let gil = run.gil();
    for (k, (label, track)) in threads.iter().enumerate() {
        let tname = run
            .thread_name(track.tid)
            .unwrap_or_else(|| label.to_string());
        let (pid, tid) = (track.pid, track.tid);
        w.meta(pid, tid, "thread_name", json!({ "name": tname }))?;
        w.meta(
            pid,
            tid,
            "thread_sort_index",
            json!({ "sort_index": 2 * k }),
        )?;
        let cols = [
            track.columns.running,
            track.columns.waiting,
            track.columns.blocked,
        ];
        let names: Vec<String> = cols
            .iter()
            .filter_map(|&c| series.column_name(c).map(str::to_string))
            .collect();
        let mut spans = Spans::default();
        if names.len() == cols.len() {
            readings::for_each(series, &names, |from, to, v| spans.interval(from, to, v));
        }
        w.spans(pid, tid, &THREAD_STATES, spans.finish(), "thread")?;
        let Some(g) = gil.threads.get(&tid) else {
            continue;
        };
        let gtid = tid + GIL_TID_OFFSET;
        w.meta(
            pid,
            gtid,
            "thread_name",
            json!({ "name": format!("{tname} · GIL") }),
        )?;
        w.meta(
            pid,
            gtid,
            "thread_sort_index",
            json!({ "sort_index": 2 * k + 1 }),
        )?;
        let gcols = [
            Some(g.columns.hold),
            Some(g.columns.run_free),
            g.columns.unsure,
            Some(g.columns.wait),
        ];
        let names: Vec<String> = gcols
            .iter()
            .map(|c| {
                c.and_then(|c| gil.series.column_name(c))
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        let mut spans = Spans::default();
        readings::for_each(&gil.series, &names, |from, to, v| {
            // A row where the reader did not see this thread: no span.
            if v[0].is_some() {
                spans.interval(from, to, v);
            }
        });
        w.spans(pid, gtid, &GIL_STATES, spans.finish(), "gil")?;
    }
    counters(&mut w, run, root_pid)?;
    instants(&mut w, run, root_pid)?;
    w.raw("\n],\"otherData\":")?;
    let other = json!({
        "gilscope": env!("CARGO_PKG_VERSION"),
        "run": name,
        "clock": "CLOCK_MONOTONIC; ts and dur in µs",
        "params": run.spec().params.iter().cloned().collect::<BTreeMap<_, _>>(),
        "summary": crate::store::summarize(run),
    });
    w.raw(&other.to_string())?;
    w.raw("}\n")?;
    w.out.flush()?;
    Ok(w.stats)
}

/// The process's labels: interpreter, mode, workers, parameters, verdicts.
fn labels(run: &RunRecord) -> String {
    let spec = run.spec();
    let mut out = vec![
        format!("interpreter {}", run.interpreter().name),
        format!("mode {}", spec.mode.as_str()),
        format!("workers {}", spec.workers),
    ];
    if let Some(v) = run.interpreter().info().map(|i| &i.version) {
        out.push(format!("CPython {v}"));
    }
    out.extend(spec.params.iter().map(|(k, v)| format!("{k}={v}")));
    if let Some(r) = run.result() {
        out.push(format!("time {:.3} s", r.elapsed_s));
    }
    for v in crate::store::service_verdict::run_verdicts(run) {
        out.push(format!("{}: {}", v.kind.mark(), v.reason));
    }
    out.join(", ")
}

/// Per-core use (%), RSS and PSS (MiB), throughput, each when it changes.
fn counters(w: &mut Writer<impl Write>, run: &RunRecord, pid: u32) -> io::Result<()> {
    let series = run.series();
    let cores: Vec<(u32, String)> = run
        .cores()
        .iter()
        .filter_map(|(cpu, c)| Some((*cpu, series.column_name(c.busy)?.to_string())))
        .collect();
    let names: Vec<String> = cores.iter().map(|c| c.1.clone()).collect();
    let mut last: Vec<Option<String>> = vec![None; cores.len()];
    let mut events = Vec::new();
    readings::for_each(series, &names, |from, _, v| {
        for (k, value) in v.iter().enumerate() {
            let Some(value) = value else { continue };
            let text = format!("{:.1}", f64::from(*value) * 100.0);
            if last[k].as_ref() != Some(&text) {
                events.push((from, format!("cpu{} use %", cores[k].0), text.clone()));
                last[k] = Some(text);
            }
        }
    });
    let cols = run.run_columns();
    let mem: Vec<String> = [cols.rss_bytes, cols.pss_bytes]
        .iter()
        .map(|&c| series.column_name(c).unwrap_or("").to_string())
        .collect();
    let mut last = [None, None];
    readings::for_each(series, &mem, |from, _, v| {
        for (k, (value, what)) in v.iter().zip(["RSS MiB", "PSS MiB"]).enumerate() {
            let Some(value) = value else { continue };
            let text = format!("{:.2}", f64::from(*value) / 1048576.0);
            if last[k].as_ref() != Some(&text) {
                events.push((from, what.to_string(), text.clone()));
                last[k] = Some(text);
            }
        }
    });
    for (t, name, value) in events {
        w.counter(pid, &name, t, &format!("{{\"value\":{value}}}"))?;
    }
    let Some(tp) = throughput(run, THROUGHPUT_BUCKET_NS) else {
        return Ok(());
    };
    let unit = run.unit();
    let total_name = format!("throughput {unit}/s");
    let each_name = format!("throughput per worker {unit}/s");
    let mut last: Option<(String, String)> = None;
    for (b, total) in tp.total.iter().enumerate() {
        let t = tp.t0_ns + b as u64 * tp.bucket_ns;
        let each = tp
            .per_worker
            .iter()
            .enumerate()
            .map(|(k, v)| format!("\"worker {}\":{:.1}", k + 1, v[b]))
            .collect::<Vec<_>>()
            .join(",");
        let now = (format!("{{\"total\":{total:.1}}}"), format!("{{{each}}}"));
        if last.as_ref() != Some(&now) {
            w.counter(pid, &total_name, t, &now.0)?;
            w.counter(pid, &each_name, t, &now.1)?;
            last = Some(now);
        }
    }
    // The last value holds until the end of the last bucket.
    let end = tp.t0_ns + tp.total.len() as u64 * tp.bucket_ns;
    w.counter(pid, &total_name, end, "{\"total\":0}")?;
    Ok(())
}

/// The start gate, the last chunk and GIL switches as instants.
fn instants(w: &mut Writer<impl Write>, run: &RunRecord, pid: u32) -> io::Result<()> {
    if let Some(r) = run.result() {
        if let Some(gate) = r.start_ns {
            w.instant(pid, "start gate (every worker ready)", gate)?;
        }
        w.instant(
            pid,
            &format!("last chunk: {:.3} s from the gate", r.elapsed_s),
            r.t_ns,
        )?;
    }
    for g in run.gil_changes() {
        let what = if g.enabled { "on" } else { "off" };
        let by = g
            .module
            .as_deref()
            .map_or(String::new(), |m| format!(" (import {m})"));
        w.instant(pid, &format!("GIL switched {what}{by}"), g.t_ns)?;
    }
    Ok(())
}

struct Writer<W: Write> {
    out: io::BufWriter<W>,
    stats: TraceStats,
    first: bool,
}

impl<W: Write> Writer<W> {
    fn raw(&mut self, s: &str) -> io::Result<()> {
        self.stats.bytes += s.len() as u64;
        self.out.write_all(s.as_bytes())
    }

    fn event(&mut self, body: &str) -> io::Result<()> {
        let sep = if std::mem::take(&mut self.first) {
            ""
        } else {
            ",\n"
        };
        self.stats.events += 1;
        self.raw(&format!("{sep}{{{body}}}"))
    }

    fn meta(&mut self, pid: u32, tid: u32, name: &str, args: serde_json::Value) -> io::Result<()> {
        self.event(&format!(
            "\"ph\":\"M\",\"name\":{},\"pid\":{pid},\"tid\":{tid},\"args\":{args}",
            q(name)
        ))
    }

    fn spans(
        &mut self,
        pid: u32,
        tid: u32,
        states: &[&str],
        spans: Vec<Span>,
        cat: &str,
    ) -> io::Result<()> {
        let names: Vec<String> = states.iter().map(|s| q(s)).collect();
        for s in spans {
            self.stats.spans += 1;
            self.event(&format!(
                "\"ph\":\"X\",\"cat\":\"{cat}\",\"name\":{},\"pid\":{pid},\"tid\":{tid},\"ts\":{},\"dur\":{}",
                names[s.state],
                us(s.start_ns),
                us(s.end_ns - s.start_ns)
            ))?;
        }
        Ok(())
    }

    fn counter(&mut self, pid: u32, name: &str, t_ns: u64, args: &str) -> io::Result<()> {
        self.stats.counters += 1;
        self.event(&format!(
            "\"ph\":\"C\",\"name\":{},\"pid\":{pid},\"tid\":0,\"ts\":{},\"args\":{args}",
            q(name),
            us(t_ns)
        ))
    }

    fn instant(&mut self, pid: u32, name: &str, t_ns: u64) -> io::Result<()> {
        self.event(&format!(
            "\"ph\":\"i\",\"s\":\"p\",\"name\":{},\"pid\":{pid},\"tid\":0,\"ts\":{}",
            q(name),
            us(t_ns)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Mode;
    use crate::store::fixtures::{Synth, interpreter};

    #[test]
    fn shares_lay_end_to_end_and_the_open_state_carries_on() {
        let mut s = Spans::default();
        s.interval(0, 100, &[Some(1.0), None, None]);
        s.interval(100, 200, &[Some(0.5), Some(0.0), Some(0.5)]);
        // Blocked is open now: it goes first in the next interval.
        s.interval(200, 300, &[Some(0.5), None, Some(0.5)]);
        // 40 % idle: the span ends early, nothing merges across it.
        s.interval(300, 400, &[Some(0.6), None, None]);
        s.interval(400, 500, &[Some(1.0), None, None]);
        let spans: Vec<(usize, u64, u64)> = s
            .finish()
            .iter()
            .map(|s| (s.state, s.start_ns, s.end_ns))
            .collect();
        assert_eq!(
            spans,
            vec![(0, 0, 150), (2, 150, 250), (0, 250, 360), (0, 400, 500)]
        );
    }

    #[test]
    fn shares_over_one_are_scaled_to_the_interval() {
        let mut s = Spans::default();
        s.interval(0, 100, &[Some(0.8), Some(0.4), None]);
        let spans = s.finish();
        assert_eq!(spans[0].end_ns, 80, "the first state keeps its share");
        assert_eq!(spans.last().map(|s| s.end_ns), Some(100));
    }

    #[test]
    fn a_synthetic_run_is_valid_json_with_named_tracks() {
        let py = interpreter("3.13", "3.13.5", false);
        let run = Synth::new(Mode::Gil, 2).build(&py);
        let mut out = Vec::new();
        let stats = write(&run, &mut out).expect("written");
        assert_eq!(stats.bytes, out.len() as u64);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        let events = v["traceEvents"].as_array().expect("events");
        assert_eq!(events.len(), stats.events);
        assert!(stats.spans > 0 && stats.counters > 0);
        assert!(events.iter().any(|e| e["name"] == "thread_name"));
        assert!(v["otherData"]["summary"]["mode"] == "gil");
    }
}
