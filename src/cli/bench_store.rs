//! `gilscope bench store`: how much memory a long attach keeps. A run
//! record is fed synthetic samples at full rate — the /proc sampler's
//! 50 Hz rows with N threads, 2 cores and memory, and the GIL reader's
//! 10 intervals a second for the same threads — as fast as it takes them,
//! and this process's RSS is printed after 1, 10 and 60 simulated
//! minutes (and whatever `--minutes` adds), with the rows each history
//! holds, what its oldest row's age is, and whether the totals are still
//! exact (Σ of every thread's CPU, counted as fed, against the record's).

use super::table;
use crate::gil::{GilInterval, GilStats, ProcessGilStats, ThreadGilStats};
use crate::run::RunMessage;
use crate::sampler::{CoreBusy, CoreSample};
use crate::store::{RunRecord, fixtures};
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct StoreBenchArgs {
    /// Threads in the synthetic process.
    #[arg(long, default_value_t = 64)]
    pub threads: u32,
    /// Simulated minutes at which RSS is printed (ascending).
    #[arg(long, value_delimiter = ',', default_value = "1,10,60")]
    pub minutes: Vec<u64>,
}

const MS: u64 = 1_000_000;
const PID: u32 = 4242;
/// When the synthetic attach starts (sampler clock).
const T0_NS: u64 = 1_000 * MS;

/// An empty record of an attach to a process of `threads` threads.
fn attach_record(threads: u32) -> RunRecord {
    let interp = fixtures::interpreter("bench-3.13", "3.13.5", false);
    let mut spec = fixtures::spec(&interp, crate::interp::Mode::Gil, threads as usize);
    // Recorded as an attach is: the last minutes exact, older ones coarser.
    spec.workload = format!("{}bench", crate::run::script::ATTACH_PREFIX);
    RunRecord::new(spec, interp)
}

/// A synthetic attach of `minutes` to `threads` threads, fed at full
/// rate (for `bench animation`'s trace size).
pub(super) fn synthetic_attach(threads: u32, minutes: u64) -> RunRecord {
    let mut record = attach_record(threads);
    let mut t_ns = T0_NS;
    feed(
        &mut record,
        threads,
        &mut t_ns,
        T0_NS + minutes * 60_000 * MS,
    );
    record
}

/// Feeds `record` rows every 20 ms (and a GIL interval every 100 ms) from
/// `t_ns` until `until_ns`; returns the CPU fed in all (ns).
fn feed(record: &mut RunRecord, threads: u32, t_ns: &mut u64, until_ns: u64) -> u64 {
    let mut fed_cpu_ns = 0;
    while *t_ns < until_ns {
        *t_ns += 20 * MS;
        let t_ns = *t_ns;
        let k = (t_ns - T0_NS) / (20 * MS);
        let mut s = fixtures::sample(t_ns);
        s.cores = (0..2)
            .map(|cpu| CoreSample {
                cpu,
                busy: Some(CoreBusy::split(0.5, 0.1, 0.4, 0.0)),
            })
            .collect();
        s.threads = (0..threads)
            .map(|i| {
                // Each thread: 10 ms of CPU per 20 ms row.
                let on_cpu = k * 10 * MS;
                fixtures::thread(PID, PID + i, Some(0.5), on_cpu)
            })
            .collect();
        fed_cpu_ns = k * 10 * MS * u64::from(threads);
        s.memory = Some(fixtures::memory(30 << 20, Some(20 << 20)));
        record.eat_message(RunMessage::Sample(Box::new(s)));
        if k.is_multiple_of(5) {
            record.eat_message(RunMessage::Gil(Box::new(interval(
                t_ns - 100 * MS,
                t_ns,
                threads,
            ))));
        }
    }
    fed_cpu_ns
}

pub fn store_bench(args: &StoreBenchArgs) -> anyhow::Result<ExitCode> {
    let mut record = attach_record(args.threads);
    let start_rss = rss_bytes();
    println!(
        "a long attach in memory: {} threads, /proc rows at 50 Hz and GIL intervals at 10 Hz fed at full rate; this process's RSS before: {:.1} MiB",
        args.threads,
        start_rss as f64 / 1048576.0
    );
    let mut rows = Vec::new();
    let mut t_ns: u64 = T0_NS;
    let mut fed_cpu_ns: u64 = 0;
    let mut minute_marks = args.minutes.clone();
    minute_marks.sort_unstable();
    let built = std::time::Instant::now();
    for &mark in &minute_marks {
        fed_cpu_ns = feed(
            &mut record,
            args.threads,
            &mut t_ns,
            T0_NS + mark * 60_000 * MS,
        )
        .max(fed_cpu_ns);
        let rss = rss_bytes();
        let series = record.series();
        let age = |t: Option<u64>| t.map_or(0.0, |f| (t_ns - f) as f64 / 60e9);
        let kept_cpu: u64 = record
            .thread_tracks()
            .values()
            .map(|t| {
                t.last_on_cpu_ns
                    .zip(t.first_on_cpu_ns)
                    .map_or(0, |(l, f)| l.saturating_sub(f))
            })
            .sum();
        // The first sample of each thread starts its count at 0.
        let exact = kept_cpu == fed_cpu_ns.saturating_sub(10 * MS * u64::from(args.threads));
        rows.push(vec![
            format!("{mark} min"),
            format!("{:.1} MiB", rss as f64 / 1048576.0),
            format!(
                "{:.1} MiB",
                rss.saturating_sub(start_rss) as f64 / 1048576.0
            ),
            format!(
                "{} ({} in all tiers)",
                series.len(),
                series.rows_in_all_tiers()
            ),
            format!(
                "{:.1} min exact, {:.1} min in all",
                age(series.first_t_ns()),
                age(series.oldest_t_ns())
            ),
            format!(
                "{} ({})",
                record.gil().series.len(),
                record.gil().series.rows_in_all_tiers()
            ),
            if exact {
                "exact".into()
            } else {
                format!("{kept_cpu} ≠ {fed_cpu_ns}")
            },
        ]);
    }
    print!(
        "{}",
        table::render(
            &[
                "SIMULATED",
                "RSS",
                "GROWTH",
                "/PROC ROWS",
                "OLDEST ROW (AGE)",
                "GIL ROWS",
                "CPU TOTALS"
            ],
            &rows
        )
    );
    println!(
        "fed {:.0} simulated minutes in {:.1} s",
        minute_marks.last().copied().unwrap_or(0) as f64,
        built.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// One GIL interval: every thread holds 1/N, waits the rest.
fn interval(start_ns: u64, end_ns: u64, threads: u32) -> GilInterval {
    let share = 1.0 / f64::from(threads.max(1));
    GilInterval {
        start_ns,
        end_ns,
        ticks: 100,
        processes: vec![ProcessGilStats {
            pid: PID,
            ticks: 100,
            gils: vec![GilStats {
                interp_id: 0,
                used_by: vec![0],
                ticks: 100,
                locked_fraction: 1.0,
                enabled_fraction: 1.0,
                enabled: true,
                holders: Vec::new(),
                unknown_holder_fraction: 0.0,
                handoffs_per_sec: Some(200.0),
                sampled_handoffs_per_sec: None,
            }],
            threads: (0..threads)
                .map(|i| ThreadGilStats {
                    tid: PID + i,
                    interp_id: Some(0),
                    hold_fraction: share,
                    probes: 2,
                    wait_fraction: Some(1.0 - share),
                    running_fraction: Some(share),
                    running_without_gil_fraction: Some(0.0),
                    unsure_fraction: Some(0.0),
                    blocked_fraction: Some(0.0),
                })
                .collect(),
        }],
        enabled_changes: Vec::new(),
    }
}

/// This process's resident set (statm), bytes.
fn rss_bytes() -> u64 {
    crate::sampler::read_statm(std::process::id()).map_or(0, |s| s.rss_bytes)
}
