//! The load generator of service runs: HTTP/1.1 keep-alive requests to the
//! harness's workers on loopback, from gilscope's own threads.
//!
//! * Open loop ([`Arrival::Open`], the default): requests are scheduled at
//!   Poisson arrivals of the offered rate and handed to whichever
//!   connection is free; a request's latency counts from its *scheduled*
//!   time, so time spent queued behind a slow server is measured (no
//!   coordinated omission).
//! * Closed loop ([`Arrival::Closed`]): C clients, each with its own
//!   connection, send the next request when the previous one is answered;
//!   its latency excludes queueing before send ([`CLOSED_LOOP_NOTE`]).
//!
//! Connections are opened and a warm-up ([`LoadSpec::warmup`]) is sent and
//! discarded before the measured window. A request not fully answered
//! within [`LoadSpec::timeout`] of its send is given up on; timeouts,
//! errors and requests never answered enter the latency record over all
//! requests at the time they were given up on ([`LoadReport::latency_all`]),
//! next to the latency of the correct answers ([`LoadReport::latency`]).
//! The generator records how late it handed each request to an idle
//! connection ([`Lateness`]); a run where that is a large part of the
//! latency is *generator-bound* ([`LoadReport::generator_bound`]).
//!
//! Every response is checked (against a Rust reference of the built-in
//! handlers, else against the first response for the same key), and
//! summed up per 250 ms interval ([`LoadInterval`]) and for the run
//! ([`LoadReport`]), with the generator's own CPU time.
//!
//! The parameters travel in the run's `params` as `load.*` keys
//! ([`LoadSpec::from_params`]), so a run file says how it was loaded and the
//! harness never sees them.

pub mod expect;
mod http;
mod recorder;
mod threads;

pub use expect::Expected;
pub use threads::{LoadEvent, Loadgen, start};

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Prefix of the run params that belong to the load generator.
pub const PARAM_PREFIX: &str = "load.";
/// Length of one [`LoadInterval`].
pub const INTERVAL: Duration = Duration::from_millis(250);
/// Offered rate above which gilscope refuses (a typo guard, not a limit of
/// the machine).
pub const MAX_RPS: f64 = 1_000_000.0;
/// The offered rate of a service run given neither `--rps` nor `--clients`.
pub const DEFAULT_RPS: f64 = 200.0;
/// What a closed-loop number must say wherever it is shown.
pub const CLOSED_LOOP_NOTE: &str = "closed loop: latency excludes queueing before send";
/// A run is *generator-bound* when the generator's p99 lateness is above
/// this share of the p99 latency over all requests …
pub const GENERATOR_BOUND_SHARE: f64 = 0.25;
/// … and above this many ms (sub-millisecond lateness is timer noise).
pub const GENERATOR_BOUND_MIN_MS: f64 = 1.0;

/// How requests arrive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// Poisson arrivals at `rps` requests per second.
    Open { rps: f64 },
    /// `clients` clients, each sending its next request when answered.
    Closed { clients: usize },
}

/// What load to put on a service run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSpec {
    pub arrival: Arrival,
    /// How long requests are sent.
    pub duration: Duration,
    /// Open loop: keep-alive connections requests are spread over (a
    /// request waits for a free one).
    pub connections: usize,
    /// A request whose whole answer has not arrived this long after it was
    /// sent is given up on (a timeout).
    pub timeout: Duration,
    /// Before the measured window: the same load, its answers checked but
    /// not counted (connections are opened before it).
    #[serde(default)]
    pub warmup: Duration,
    /// Distinct request keys (`gilscope request K`, K = sequence mod keys);
    /// the checksum covers one response per key.
    pub keys: u32,
    /// Seed of the Poisson arrivals.
    pub seed: u64,
}

impl Default for LoadSpec {
    fn default() -> Self {
        Self {
            arrival: Arrival::Open { rps: DEFAULT_RPS },
            duration: Duration::from_secs(5),
            connections: 32,
            timeout: Duration::from_secs(5),
            warmup: Duration::from_millis(500),
            keys: 64,
            seed: 42,
        }
    }
}

impl LoadSpec {
    /// The load of a run: `Some` for the built-in `service` workload or
    /// when any `load.*` param is given; `Err` names a bad param and the fix.
    pub fn from_params(
        workload: &str,
        params: &[(String, String)],
    ) -> Result<Option<LoadSpec>, String> {
        let ours: Vec<&(String, String)> = params
            .iter()
            .filter(|(k, _)| k.starts_with(PARAM_PREFIX))
            .collect();
        if ours.is_empty() && workload != "service" {
            return Ok(None);
        }
        let mut spec = LoadSpec::default();
        let mut rps = None;
        let mut clients = None;
        for (key, value) in ours {
            let name = &key[PARAM_PREFIX.len()..];
            let num = |what: &str| -> Result<f64, String> {
                value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .ok_or_else(|| format!("{key}={value}: expected {what} > 0"))
            };
            match name {
                "rps" => {
                    let v = num("requests per second")?;
                    if v > MAX_RPS {
                        return Err(format!(
                            "{key}={value}: at most {MAX_RPS} requests per second"
                        ));
                    }
                    rps = Some(v);
                }
                "clients" => clients = Some(whole(key, value)?),
                "duration" => spec.duration = Duration::from_secs_f64(num("seconds")?),
                "connections" => spec.connections = whole(key, value)?,
                "timeout" => spec.timeout = Duration::from_secs_f64(num("seconds")?),
                "warmup" => {
                    spec.warmup = value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .map(Duration::from_secs_f64)
                        .ok_or_else(|| format!("{key}={value}: expected seconds >= 0"))?
                }
                "keys" => {
                    spec.keys = u32::try_from(whole(key, value)?)
                        .map_err(|_| format!("{key}={value}: too many keys"))?
                }
                "seed" => {
                    spec.seed = value
                        .trim()
                        .parse()
                        .map_err(|_| format!("{key}={value}: expected a whole number"))?
                }
                _ => {
                    return Err(format!(
                        "unknown load parameter '{key}' (known: load.rps, load.clients, load.duration, load.connections, load.timeout, load.warmup, load.keys, load.seed)"
                    ));
                }
            }
        }
        spec.arrival = match (rps, clients) {
            (Some(_), Some(_)) => {
                return Err(
                    "give either an offered rate (--rps, open loop) or a number of clients (--clients, closed loop), not both"
                        .into(),
                );
            }
            (Some(rps), None) => Arrival::Open { rps },
            (None, Some(clients)) => Arrival::Closed { clients },
            (None, None) => spec.arrival,
        };
        Ok(Some(spec))
    }

    /// The `load.*` params that say this spec.
    pub fn to_params(&self) -> Vec<(String, String)> {
        let mut out = vec![match self.arrival {
            Arrival::Open { rps } => ("load.rps".to_string(), format!("{rps}")),
            Arrival::Closed { clients } => ("load.clients".to_string(), clients.to_string()),
        }];
        out.push((
            "load.duration".into(),
            format!("{}", self.duration.as_secs_f64()),
        ));
        out.push(("load.connections".into(), self.connections.to_string()));
        out.push((
            "load.timeout".into(),
            format!("{}", self.timeout.as_secs_f64()),
        ));
        out.push((
            "load.warmup".into(),
            format!("{}", self.warmup.as_secs_f64()),
        ));
        out.push(("load.keys".into(), self.keys.to_string()));
        out.push(("load.seed".into(), self.seed.to_string()));
        out
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.arrival, Arrival::Closed { .. })
    }

    /// `open loop, 500 req/s offered …` / `closed loop, 8 clients …
    /// (closed loop: latency excludes queueing before send)`.
    pub fn describe(&self) -> String {
        let warmup = if self.warmup.is_zero() {
            "no warm-up".to_string()
        } else {
            format!("after a {:.1} s warm-up", self.warmup.as_secs_f64())
        };
        let timeout = self.timeout.as_secs_f64();
        match self.arrival {
            Arrival::Open { rps } => format!(
                "open loop, {rps} req/s offered (Poisson) for {:.1} s over up to {} connections, {warmup}; whole-answer timeout {timeout} s",
                self.duration.as_secs_f64(),
                self.connections
            ),
            Arrival::Closed { clients } => format!(
                "closed loop, {clients} client{} for {:.1} s, {warmup}; whole-answer timeout {timeout} s ({CLOSED_LOOP_NOTE})",
                if clients == 1 { "" } else { "s" },
                self.duration.as_secs_f64()
            ),
        }
    }
}

fn whole(key: &str, value: &str) -> Result<usize, String> {
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("{key}={value}: expected a whole number > 0"))
}

/// The run params the harness gets: all but the `load.*` ones.
pub fn harness_params(params: &[(String, String)]) -> Vec<(String, String)> {
    params
        .iter()
        .filter(|(k, _)| !k.starts_with(PARAM_PREFIX))
        .cloned()
        .collect()
}

/// Latency percentiles in ms (`None`: no request completed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// One interval (250 ms) of the load generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadInterval {
    /// End of the interval (CLOCK_MONOTONIC ns, the events' clock).
    pub t_ns: u64,
    /// Its length in seconds.
    pub secs: f64,
    /// Requests scheduled (open loop) or sent (closed loop) in it.
    pub offered: u64,
    /// Requests answered correctly in it.
    pub ok: u64,
    /// Requests that failed in it (connection errors, bad status, wrong
    /// body), timeouts not included.
    pub errors: u64,
    pub timeouts: u64,
    /// Requests scheduled but not yet answered at its end (queued for a
    /// connection or waiting for the server).
    pub in_flight: u64,
    /// Of the requests answered in it, from scheduled time to the last byte.
    pub latency: Latency,
    /// Of every request answered or given up on in it (timeouts and errors
    /// at the time they were given up on).
    #[serde(default)]
    pub latency_all: Latency,
}

impl LoadInterval {
    pub fn offered_rps(&self) -> f64 {
        rate(self.offered, self.secs)
    }
    pub fn achieved_rps(&self) -> f64 {
        rate(self.ok, self.secs)
    }
}

fn rate(n: u64, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// Failures by cause, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    pub connect: u64,
    /// Reset, closed early, a malformed response.
    pub io: u64,
    /// A status other than 200.
    pub status: u64,
    /// A body that differs from the reference (or the key's first answer).
    pub wrong_body: u64,
    pub timeouts: u64,
    /// Scheduled but never answered when the generator stopped.
    pub unfinished: u64,
}

impl Failures {
    pub fn total(&self) -> u64 {
        self.connect + self.io + self.status + self.wrong_body + self.timeouts + self.unfinished
    }
}

/// How late the generator handed requests to an idle connection: from
/// the later of the request's scheduled time and the moment the connection
/// became free, to the moment the connection took it (ms). Open loop only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Lateness {
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Requests measured (those of the window).
    pub requests: u64,
}

/// The whole load of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    pub spec: LoadSpec,
    /// `host:port` it loaded.
    pub target: String,
    /// When the first request was scheduled and the load window ended
    /// (start + duration, or when it was stopped).
    pub start_ns: u64,
    pub end_ns: u64,
    /// Requests scheduled/sent in the window.
    pub offered: u64,
    /// Answered correctly, in all and within the window.
    pub ok: u64,
    pub ok_in_window: u64,
    pub failures: Failures,
    /// Over every correct answer, from scheduled time.
    pub latency: Latency,
    /// Over every request of the window: correct answers, errors and
    /// timeouts at the time they were given up on, and requests never
    /// answered at the time the generator stopped waiting.
    #[serde(default)]
    pub latency_all: Latency,
    /// Requests in `latency_all` (answered or given up on).
    #[serde(default)]
    pub requests_all: u64,
    /// The generator's own lateness; `None` in a closed loop (it sends when
    /// an answer comes) or in a run file written before it was measured.
    #[serde(default)]
    pub lateness: Option<Lateness>,
    /// Warm-up requests sent before the window and not counted, and how
    /// many of them failed.
    #[serde(default)]
    pub warmup_requests: u64,
    #[serde(default)]
    pub warmup_failures: u64,
    /// Requests per second: offered and answered correctly, within the
    /// window.
    pub offered_rps: f64,
    pub achieved_rps: f64,
    /// `sha256:…` over the first answer of each key in key order, when
    /// every key got a correct one; else `None` (see `keys_answered`).
    pub checksum: Option<String>,
    pub keys_answered: u32,
    /// Whether answers were checked against gilscope's own computation of
    /// the handler (built-in handlers) or only against each other.
    pub checked_against: String,
    /// CPU time of the generator's threads, and its share of one core over
    /// the window (1.0 = a whole core).
    pub cpu_secs: f64,
    pub cpu_cores: f64,
    /// Connections opened (more than planned: reconnects after errors).
    pub connections_opened: u64,
    /// It was stopped before its duration was over.
    pub stopped_early: bool,
}

impl LoadReport {
    pub fn window_secs(&self) -> f64 {
        self.end_ns.saturating_sub(self.start_ns) as f64 / 1e9
    }

    /// Every request answered correctly and every key with its answer.
    pub fn all_correct(&self) -> bool {
        self.failures.total() == 0 && self.checksum.is_some()
    }

    /// Why the generator, not the server, may have set the latency: its p99
    /// lateness is above [`GENERATOR_BOUND_SHARE`] of the p99 over all
    /// requests and above [`GENERATOR_BOUND_MIN_MS`]; `None` when it kept
    /// its schedule (or was not measured).
    pub fn generator_bound(&self) -> Option<String> {
        generator_bound(self.lateness.as_ref()?, self.latency_all.p99_ms?)
    }
}

/// See [`LoadReport::generator_bound`].
pub fn generator_bound(lateness: &Lateness, p99_all_ms: f64) -> Option<String> {
    let late = lateness.p99_ms?;
    (late > GENERATOR_BOUND_MIN_MS && late > GENERATOR_BOUND_SHARE * p99_all_ms).then(|| {
        format!(
            "the load generator sent its requests late (p99 {late:.1} ms behind schedule, max {:.1} ms) — {:.0} % of the p99 latency {p99_all_ms:.1} ms, over {:.0} %: the latency is partly the generator's, on cores it shares with the server",
            lateness.max_ms.unwrap_or(late),
            100.0 * late / p99_all_ms.max(1e-9),
            GENERATOR_BOUND_SHARE * 100.0
        )
    })
}

#[cfg(test)]
mod tests;
