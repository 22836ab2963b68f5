//! The harness's JSON-lines protocol (version 1; see `workloads/PROTOCOL.md`).
//!
//! Parsing is lenient about extra fields (a newer harness may add some) and
//! strict about the ones gilscope relies on.

use serde::{Deserialize, Serialize};

/// Protocol version this gilscope speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// One event from the harness. `t_ns` is `time.monotonic_ns()`
/// (CLOCK_MONOTONIC, the clock of Rust's `Instant`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Hello(Hello),
    SetupDone(SetupDone),
    WorkerStarted(WorkerStarted),
    ChunkDone(ChunkDone),
    GilChanged(GilChanged),
    WorkerDone(WorkerDone),
    Result(RunResult),
    Error(WorkloadError),
    /// An event this gilscope does not know (a newer harness of the same
    /// protocol version may add some): ignored.
    #[serde(other)]
    Other,
}

impl Event {
    /// When the harness sent it (CLOCK_MONOTONIC ns).
    pub fn t_ns(&self) -> u64 {
        match self {
            Event::Hello(e) => e.t_ns,
            Event::SetupDone(e) => e.t_ns,
            Event::WorkerStarted(e) => e.t_ns,
            Event::ChunkDone(e) => e.t_ns,
            Event::GilChanged(e) => e.t_ns,
            Event::WorkerDone(e) => e.t_ns,
            Event::Result(e) => e.t_ns,
            Event::Error(e) => e.t_ns,
            Event::Other => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub v: u32,
    pub t_ns: u64,
    pub pid: u32,
    pub python: String,
    #[serde(default)]
    pub implementation: String,
    #[serde(default)]
    pub executable: Option<String>,
    pub ft_build: bool,
    pub gil_enabled: bool,
    pub mode: String,
    pub workers: usize,
    pub workload: String,
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub subinterp_api: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupDone {
    pub t_ns: u64,
    pub chunks: u64,
    #[serde(default)]
    pub items_total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerStarted {
    pub t_ns: u64,
    pub worker: usize,
    pub native_id: u64,
    #[serde(default)]
    pub interp_id: Option<i64>,
    pub pid: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkDone {
    pub t_ns: u64,
    pub worker: usize,
    pub chunk: u64,
    pub items: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GilChanged {
    pub t_ns: u64,
    pub enabled: bool,
    #[serde(default)]
    pub module: Option<String>,
    #[serde(default)]
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerDone {
    pub t_ns: u64,
    pub worker: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub t_ns: u64,
    pub items: u64,
    pub elapsed_s: f64,
    pub checksum: String,
    #[serde(default)]
    pub gil_enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadError {
    pub t_ns: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    #[serde(default)]
    pub traceback: String,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub lineno: Option<u64>,
    #[serde(default)]
    pub phase: Option<String>,
    #[serde(default)]
    pub worker: Option<usize>,
    #[serde(default)]
    pub chunk: Option<u64>,
}

impl WorkloadError {
    /// `ValueError: bad value (primes.py:12, in chunk 3 on worker 1)`.
    pub fn headline(&self) -> String {
        let mut place = Vec::new();
        if let Some(file) = &self.filename {
            match self.lineno {
                Some(line) => place.push(format!("{file}:{line}")),
                None => place.push(file.clone()),
            }
        }
        if let Some(phase) = &self.phase {
            let mut what = match (phase.as_str(), self.chunk) {
                ("chunk", Some(chunk)) => format!("in chunk {chunk}"),
                _ => format!("during {phase}"),
            };
            if let Some(worker) = self.worker {
                what.push_str(&format!(" on worker {worker}"));
            }
            place.push(what);
        }
        if place.is_empty() {
            format!("{}: {}", self.kind, self.message)
        } else {
            format!("{}: {} ({})", self.kind, self.message, place.join(", "))
        }
    }
}

/// Parses one line; `Err` says why (for the run log), never panics.
pub fn parse_line(line: &str) -> Result<Event, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(v) = value.get("v").and_then(|v| v.as_u64())
        && v > u64::from(PROTOCOL_VERSION)
    {
        return Err(format!(
            "protocol version {v} is newer than this gilscope's ({PROTOCOL_VERSION}); update gilscope"
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("unexpected event: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_event() {
        let lines = [
            r#"{"event":"hello","v":1,"t_ns":1,"pid":42,"python":"3.13.5","implementation":"cpython","executable":"/x/python3.13t","ft_build":true,"gil_enabled":false,"mode":"ft","workers":2,"workload":"primes","params":{"n":1000},"subinterp_api":null}"#,
            r#"{"event":"setup_done","v":1,"t_ns":2,"chunks":10,"items_total":1000}"#,
            r#"{"event":"worker_started","v":1,"t_ns":3,"worker":0,"native_id":4242,"interp_id":null,"pid":42}"#,
            r#"{"event":"chunk_done","v":1,"t_ns":4,"worker":0,"chunk":0,"items":100}"#,
            r#"{"event":"gil_changed","v":1,"t_ns":5,"enabled":true,"module":"gilmod","warning":"The global interpreter lock (GIL) has been enabled"}"#,
            r#"{"event":"worker_done","v":1,"t_ns":6,"worker":0}"#,
            r#"{"event":"result","v":1,"t_ns":7,"items":1000,"elapsed_s":0.5,"checksum":"168","gil_enabled":true}"#,
            r#"{"event":"error","v":1,"t_ns":8,"type":"ZeroDivisionError","message":"division by zero","traceback":"Traceback...","filename":"/w/bad.py","lineno":7,"phase":"chunk","worker":1,"chunk":3}"#,
        ];
        let events: Vec<Event> = lines.iter().map(|l| parse_line(l).unwrap()).collect();
        assert!(
            matches!(&events[0], Event::Hello(h) if h.ft_build && !h.gil_enabled && h.workers == 2)
        );
        assert!(matches!(&events[2], Event::WorkerStarted(w) if w.native_id == 4242));
        assert!(
            matches!(&events[4], Event::GilChanged(g) if g.enabled && g.module.as_deref() == Some("gilmod"))
        );
        assert_eq!(
            events.iter().map(Event::t_ns).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
        let Event::Error(err) = &events[7] else {
            panic!()
        };
        assert_eq!(
            err.headline(),
            "ZeroDivisionError: division by zero (/w/bad.py:7, in chunk 3 on worker 1)"
        );
    }

    #[test]
    fn rejects_garbage_and_newer_versions() {
        assert!(parse_line("hello").unwrap_err().starts_with("not JSON"));
        assert_eq!(
            parse_line(r#"{"event":"teleport","v":1,"t_ns":1}"#).unwrap(),
            Event::Other
        );
        assert!(
            parse_line(r#"{"event":"chunk_done","v":1,"t_ns":1}"#)
                .unwrap_err()
                .starts_with("unexpected event")
        );
        assert!(
            parse_line(r#"{"event":"worker_done","v":2,"t_ns":1,"worker":0}"#)
                .unwrap_err()
                .contains("newer")
        );
    }
}
