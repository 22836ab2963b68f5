//! The harness's JSON-lines protocol (version 2; see `workloads/PROTOCOL.md`).
//!
//! Parsing is lenient about extra fields (a newer harness may add some) and
//! strict about the ones gilscope relies on. Version 1 lines (and run files
//! holding them) still parse: a v1 `chunk_done` is one chunk.

use serde::{Deserialize, Serialize};

/// Protocol version this gilscope speaks (and the newest it reads).
/// Version 2: one `chunk_done` may stand for several chunks of a worker
/// (`chunks`, `busy_ns`); a version-1 reader would count it as one.
pub const PROTOCOL_VERSION: u32 = 2;

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
    /// A service workload's workers are all listening (its load may start).
    Listening(Listening),
    Result(RunResult),
    Error(WorkloadError),
    /// A thread's Python name (`gilscope run --script`'s hook sends one per
    /// `threading.Thread` when it starts, and one for the main thread).
    ThreadName(ThreadName),
    /// The workload's picture: its input once, then the bands of the output
    /// as chunks finish (downscaled, coalesced; see [`Picture`]).
    Picture(Box<Picture>),
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
            Event::Listening(e) => e.t_ns,
            Event::Result(e) => e.t_ns,
            Event::Error(e) => e.t_ns,
            Event::ThreadName(e) => e.t_ns,
            Event::Picture(e) => e.t_ns,
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
    /// What the workload's items are (`"pixels"`, `"numbers"`; the
    /// workload's `ITEM_UNIT`); `None` in files from before it. Boxed:
    /// one pointer keeps `RunMessage` within clippy's variant-size bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_unit: Option<Box<String>>,
}

/// The geometry every `picture` event carries: the picture is the
/// workload's full-resolution output downscaled by the integer `scale`
/// (picture pixel (x, y) = output pixel (x·scale, y·scale)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictureGeometry {
    pub width: u32,
    pub height: u32,
    pub scale: u32,
    pub full_width: u32,
    pub full_height: u32,
}

/// One rectangle of picture pixels (picture coordinates), packed RGB,
/// base64 on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictureBand {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// The worker that computed it (`None` for the input image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<usize>,
    /// The chunk it came from (`None` for the input image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk: Option<u64>,
    /// When its chunk came back to the harness (CLOCK_MONOTONIC ns; `None`
    /// for the input image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_ns: Option<u64>,
    #[serde(with = "base64_bytes")]
    pub rgb: Vec<u8>,
}

/// The `picture` event: `kind` `"input"` (one band, the input image) or
/// `"bands"` (the output's bands finished since the last one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Picture {
    pub t_ns: u64,
    pub kind: String,
    #[serde(flatten)]
    pub geometry: PictureGeometry,
    /// `kind: "input"`: the picture itself, as one band.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub input: Option<PictureBand>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<PictureBand>,
}

/// Bytes as a standard base64 string (run files and the pipe).
pub mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("bad base64: {e}")))
    }
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

/// One or more chunks a worker finished (the harness coalesces a worker's
/// chunks to at most one event per flush interval, 50 ms by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkDone {
    /// When the last of the chunks ended.
    pub t_ns: u64,
    pub worker: usize,
    /// The index of the last of the chunks.
    pub chunk: u64,
    /// Items of all the chunks.
    pub items: u64,
    /// How many chunks this event stands for (1 in protocol v1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub chunks: u64,
    /// When the first of the chunks started (`None`: not reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ns: Option<u64>,
    /// Σ of the chunks' own run times, start to end of each `run_chunk`
    /// (`None`: not reported; for one chunk, `t_ns − start_ns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_ns: Option<u64>,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

impl ChunkDone {
    /// One chunk of `worker` that ran from `start_ns` to `t_ns`.
    pub fn single(worker: usize, chunk: u64, items: u64, start_ns: u64, t_ns: u64) -> Self {
        Self {
            t_ns,
            worker,
            chunk,
            items,
            chunks: 1,
            start_ns: Some(start_ns),
            busy_ns: Some(t_ns.saturating_sub(start_ns)),
        }
    }

    /// The mean run time of its chunks in ns, when known.
    pub fn mean_chunk_ns(&self) -> Option<f64> {
        let busy = self
            .busy_ns
            .or_else(|| (self.chunks == 1).then(|| self.t_ns.checked_sub(self.start_ns?))?)?;
        (self.chunks > 0).then(|| busy as f64 / self.chunks as f64)
    }
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

/// The Python name of OS thread `native_id` of process `pid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadName {
    pub t_ns: u64,
    pub pid: u32,
    pub native_id: u64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerDone {
    pub t_ns: u64,
    pub worker: usize,
}

/// Every worker of a service workload has bound its own `SO_REUSEPORT`
/// socket of `host:port` and serves HTTP/1.1 there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listening {
    pub t_ns: u64,
    pub host: String,
    pub port: u16,
    pub workers: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub t_ns: u64,
    pub items: u64,
    pub elapsed_s: f64,
    pub checksum: String,
    /// The start gate (every worker ready, chunks released): `elapsed_s`
    /// counts from here to the last chunk (absent in older run files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ns: Option<u64>,
    #[serde(default)]
    pub gil_enabled: Option<bool>,
}

/// How the checksum of a script run (`gilscope run --script`) starts: it
/// is the SHA-256 of what the script wrote to stdout.
pub const SCRIPT_CHECKSUM_PREFIX: &str = "stdout:sha256:";

impl RunResult {
    /// Whether this is a script's end (exit status 0; no items).
    pub fn is_script(&self) -> bool {
        self.checksum.starts_with(SCRIPT_CHECKSUM_PREFIX)
    }
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
            r#"{"event":"chunk_done","v":2,"t_ns":4,"worker":0,"chunk":0,"items":100}"#,
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
    fn chunk_done_of_v1_is_one_chunk_and_v2_may_be_several() {
        let v1 = r#"{"event":"chunk_done","v":1,"t_ns":5000,"worker":1,"chunk":7,"items":10,"start_ns":3000}"#;
        let Event::ChunkDone(c) = parse_line(v1).unwrap() else {
            panic!()
        };
        assert_eq!((c.chunks, c.start_ns, c.busy_ns), (1, Some(3000), None));
        assert_eq!(c.mean_chunk_ns(), Some(2000.0));
        let v2 = r#"{"event":"chunk_done","v":2,"t_ns":9000,"worker":1,"chunk":9,"items":30,"start_ns":3000,"chunks":3,"busy_ns":4500}"#;
        let Event::ChunkDone(c) = parse_line(v2).unwrap() else {
            panic!()
        };
        assert_eq!(c.chunks, 3);
        assert_eq!(c.mean_chunk_ns(), Some(1500.0));
        // Written back, a single chunk keeps the v1 shape (no `chunks`).
        let one = ChunkDone::single(0, 1, 5, 10, 30);
        let text = serde_json::to_string(&Event::ChunkDone(one.clone())).unwrap();
        assert!(!text.contains("\"chunks\""), "{text}");
        assert_eq!(parse_line(&text).unwrap(), Event::ChunkDone(one));
    }

    #[test]
    fn picture_events_carry_base64_pixels() {
        let input = r#"{"event":"picture","v":2,"t_ns":9,"kind":"input","width":2,"height":1,"scale":2,"full_width":4,"full_height":2,"x":0,"y":0,"w":2,"h":1,"rgb":"AQIDBAUG"}"#;
        let Event::Picture(p) = parse_line(input).unwrap() else {
            panic!()
        };
        assert_eq!((p.geometry.scale, p.geometry.full_width), (2, 4));
        let band = p.input.as_ref().unwrap();
        assert_eq!(
            (band.w, band.worker, &band.rgb[..]),
            (2, None, &[1, 2, 3, 4, 5, 6][..])
        );
        let bands = r#"{"event":"picture","v":2,"t_ns":10,"kind":"bands","width":2,"height":1,"scale":2,"full_width":4,"full_height":2,"bands":[{"x":1,"y":0,"w":1,"h":1,"worker":1,"chunk":3,"t_ns":8,"rgb":"BwgJ"}]}"#;
        let Event::Picture(p) = parse_line(bands).unwrap() else {
            panic!()
        };
        assert!(p.input.is_none());
        assert_eq!(p.bands[0].rgb, [7, 8, 9]);
        assert_eq!((p.bands[0].worker, p.bands[0].t_ns), (Some(1), Some(8)));
        let text = serde_json::to_string(&Event::Picture(p.clone())).unwrap();
        assert_eq!(parse_line(&text).unwrap(), Event::Picture(p));
        let bad = bands.replace("BwgJ", "B*gJ");
        assert!(parse_line(&bad).unwrap_err().contains("base64"));
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
            parse_line(r#"{"event":"worker_done","v":3,"t_ns":1,"worker":0}"#)
                .unwrap_err()
                .contains("newer")
        );
    }
}
