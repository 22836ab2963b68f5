//! `report.md`: what was run, where, how to run it again, every point's
//! numbers, the single-thread overhead, failures, and the charts.

use super::format::{MISSING, cell, grouped, or_missing, out_arg, shell_line, signed_pct};
use super::{CHARTS_DIR, Chart, Report};
use crate::interp::Mode;
use crate::kit::time::utc_minutes;
use crate::sweep::Point;
use std::fmt::Write;

/// The columns of the results table.
pub const TABLE_HEADER: [&str; 17] = [
    "mode",
    "interpreter",
    "workers",
    "runs",
    "median s ± spread",
    "items/s",
    "speedup (min–max)",
    "efficiency",
    "vs GIL 1-worker",
    "cores used",
    "overhead MiB",
    "PSS MiB",
    "running / blocked %",
    "GIL hold / wait %",
    "other cores",
    "checksum",
    "verdict",
];

const MIB: f64 = 1024.0 * 1024.0;

/// [`TABLE_HEADER`] with the throughput column in the workload's unit
/// ("pixels/s").
pub fn table_header(unit: &str) -> Vec<String> {
    TABLE_HEADER
        .iter()
        .map(|h| match *h {
            "items/s" => format!("{unit}/s"),
            other => other.to_string(),
        })
        .collect()
}

/// The checksum the sweep should agree on: the default build's 1-worker
/// `gil` point's, else the one most points have.
pub fn reference_checksum(points: &[Point]) -> Option<&str> {
    let gil = points
        .iter()
        .find(|p| p.mode == Mode::Gil && p.workers == 1 && p.free_threaded != Some(true))
        .and_then(|p| p.checksum.as_deref());
    gil.or_else(|| {
        let mut all: Vec<&str> = points
            .iter()
            .filter_map(|p| p.checksum.as_deref())
            .collect();
        all.sort_unstable();
        let mut best: Option<(&str, usize)> = None;
        for c in &all {
            let n = all.iter().filter(|x| *x == c).count();
            if best.is_none_or(|(_, m)| n > m) {
                best = Some((c, n));
            }
        }
        best.map(|(c, _)| c)
    })
}

/// One row of the results table.
pub fn point_row(p: &Point, reference: Option<&str>) -> Vec<String> {
    let runs = match p.failed {
        0 => p.runs.to_string(),
        f => format!("{} + {f} failed", p.runs),
    };
    let split = match (p.running, p.blocked) {
        (Some(r), Some(b)) => format!("{:.0} / {:.0}", r * 100.0, b * 100.0),
        _ => MISSING.to_string(),
    };
    let checksum = match (&p.checksum, p.runs) {
        (_, 0) => MISSING.to_string(),
        (Some(c), _) if reference.is_none_or(|r| r == c) => "✓".to_string(),
        _ => "✗".to_string(),
    };
    let median = or_missing(p.median_elapsed_secs, |s| match p.spread {
        Some(sp) if sp.n >= 2 => format!("{s:.4} ± {:.1} %", sp.relative() * 50.0),
        _ => format!("{s:.4}"),
    });
    let speedup = or_missing(p.speedup, |s| match p.speedup_range {
        Some([lo, hi]) => format!("{s:.3}× ({lo:.2}–{hi:.2})"),
        None => format!("{s:.3}×"),
    });
    let verdict = if p.runs == 0 {
        MISSING.to_string()
    } else if p.verdicts.is_empty() {
        "✓ checked".to_string()
    } else {
        crate::store::verdict::marks(&p.verdicts)
    };
    vec![
        p.mode.to_string(),
        cell(&p.interpreter),
        p.workers.to_string(),
        runs,
        median,
        or_missing(p.median_items_per_sec, grouped),
        speedup,
        or_missing(p.efficiency, |e| format!("{:.1} %", e * 100.0)),
        or_missing(p.speedup_vs_gil, |s| format!("{s:.3}×")),
        or_missing(p.median_thread_cores, |c| format!("{c:.2}")),
        or_missing(p.median_overhead_rss_bytes, |b| format!("{:.1}", b / MIB)),
        or_missing(p.median_overhead_pss_bytes, |b| format!("{:.1}", b / MIB)),
        split,
        match (p.gil_hold, p.gil_wait) {
            (Some(h), Some(w)) => format!("{:.0} / {:.0}", h * 100.0, w * 100.0),
            _ => MISSING.to_string(),
        },
        or_missing(p.median_other_cores, |c| format!("{c:.2}")),
        checksum,
        verdict,
    ]
}

fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let rule: Vec<&str> = header.iter().map(|_| "---").collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
}

pub fn report_md(report: &Report) -> String {
    let mut out = String::new();
    let sweep = &report.sweep;
    let plan = &sweep.plan;
    let _ = writeln!(out, "# gilscope report: {}\n", report.workload());
    let modes: Vec<&str> = plan.modes.iter().map(|m| m.as_str()).collect();
    let workers: Vec<String> = plan.workers.iter().map(|w| w.to_string()).collect();
    let _ = writeln!(
        out,
        "Sweep of `{}` in modes {} with {} workers, {} run{} per point (medians shown). \
         Recorded {} by gilscope {}; this report was computed from the {} run files in `{}`.\n",
        plan.workload,
        modes.join(", "),
        workers.join(", "),
        plan.repeat,
        if plan.repeat == 1 { "" } else { "s" },
        utc_minutes(sweep.created_unix),
        sweep.gilscope,
        report.run_files,
        report.dir.display(),
    );
    if sweep.interrupted {
        let planned = (plan.modes.len() * plan.workers.len() + plan.overhead_modes.len())
            * plan.repeat.max(1);
        let _ = writeln!(
            out,
            "> **The sweep was interrupted**: {} of {planned} planned runs were recorded; \
             missing points are left out of the table and are gaps in the charts.\n",
            sweep.runs.len()
        );
    }
    machine(&mut out, report);
    interpreters(&mut out, report);
    reproduce(&mut out, report);
    results(&mut out, report);
    verdicts(&mut out, report);
    overhead(&mut out, report);
    failures(&mut out, report);
    charts(&mut out);
    out
}

fn machine(out: &mut String, report: &Report) {
    let m = &report.sweep.machine;
    let unknown = || "unknown".to_string();
    let rows = vec![
        vec![
            "CPU".into(),
            cell(m.cpu_model.as_deref().unwrap_or("unknown")),
        ],
        vec!["cores".into(), m.cores.to_string()],
        vec![
            "memory".into(),
            m.memory_bytes
                .map_or_else(unknown, |b| format!("{:.1} GiB", b as f64 / (1024.0 * MIB))),
        ],
        vec![
            "kernel".into(),
            cell(m.kernel.as_deref().unwrap_or("unknown")),
        ],
        vec!["OS".into(), cell(m.os.as_deref().unwrap_or("unknown"))],
    ];
    out.push_str("## Machine\n\n");
    table(out, &["", ""], &rows);
}

fn interpreters(out: &mut String, report: &Report) {
    let rows: Vec<Vec<String>> = report
        .sweep
        .plan
        .interpreters
        .iter()
        .map(|i| {
            vec![
                i.mode.to_string(),
                cell(&i.name),
                cell(&i.version),
                if i.free_threaded {
                    "free-threaded".into()
                } else {
                    "default".into()
                },
                format!("`{}`", cell(&i.path.display().to_string())),
            ]
        })
        .collect();
    out.push_str("## Interpreters\n\n");
    table(out, &["mode", "name", "version", "build", "path"], &rows);
}

fn reproduce(out: &mut String, report: &Report) {
    let command = &report.sweep.command;
    out.push_str("## Reproduce\n\n```sh\n");
    let _ = writeln!(out, "{}", shell_line(command));
    let dir = out_arg(command)
        .map(str::to_string)
        .unwrap_or_else(|| report.dir.display().to_string());
    let _ = writeln!(
        out,
        "{}",
        shell_line(&["gilscope".into(), "report".into(), dir])
    );
    out.push_str("```\n\n");
}

fn results(out: &mut String, report: &Report) {
    let points = &report.aggregate.points;
    let reference = reference_checksum(points);
    let rows: Vec<Vec<String>> = points.iter().map(|p| point_row(p, reference)).collect();
    out.push_str("## Results\n\n");
    let header = table_header(&report.aggregate.unit);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(out, &header, &rows);
    out.push_str(
        "*median s ± spread*: the workload's own elapsed time, median over completed runs \
         (*runs*: how many; ± half their min–max range as a share of the median). \
         *speedup*: against the same mode's 1-worker point on the same interpreter \
         (in brackets: what the point's fastest and slowest runs give); \
         *efficiency* = speedup / workers; *vs GIL 1-worker*: against the 1-worker `gil` point \
         on the default build. *cores used*: mean cores busy with the run's threads. \
         *overhead MiB*: peak RSS minus the RSS before workers started; \
         *PSS MiB*: the same in PSS, where pages shared between processes (libpython, \
         loaded modules) are split between them instead of counted once per process — \
         the fair measure of worker processes against subinterpreters. \
         *running / blocked %*: mean share of worker thread time on a CPU / asleep \
         (GIL, locks, I/O); the rest waited for a core. \
         *GIL hold / wait %*: mean share of worker time holding a GIL / waiting for one, \
         read from the interpreter's memory (CPython 3.13+; — where it could not be read). \
         *other cores*: mean cores other processes used during its runs (median). \
         *checksum*: ✓ when the point's runs computed the sweep's reference result. \
         *verdict*: see Verdicts below.\n\n",
    );
    let missing: Vec<String> = points
        .iter()
        .filter(|p| p.gil_hold.is_none())
        .filter_map(|p| {
            let why = p.gil_missing.as_ref()?;
            Some(format!(
                "* {} {} ×{}: {why}",
                p.interpreter, p.mode, p.workers
            ))
        })
        .collect();
    if !missing.is_empty() {
        out.push_str("Why a *GIL hold / wait* is —:\n\n");
        for line in missing {
            let _ = writeln!(out, "{line}");
        }
        out.push('\n');
    }
    match (report.aggregate.checksums_agree, reference) {
        (true, Some(c)) => {
            let _ = writeln!(
                out,
                "All completed runs computed the same checksum `{}` ✓\n",
                cell(c)
            );
        }
        (true, None) => out.push_str("No run completed, so no checksum to compare.\n\n"),
        (false, _) => {
            let _ = writeln!(
                out,
                "**Checksums differ** ✗: the workload did not compute the same result everywhere \
                 (reference `{}`). Those points measured something else.\n",
                cell(reference.unwrap_or(MISSING))
            );
        }
    }
}

fn verdicts(out: &mut String, report: &Report) {
    use crate::store::verdict as v;
    out.push_str("## Verdicts\n\n");
    let _ = writeln!(
        out,
        "Every point says how sure it is. A flagged point stays in the table and the charts \
         (faded, marked `!`); read its number with the reason below.\n\n\
         * **⚠ contended**: other processes used more than the cores the run left spare plus \
         {:.0} % of the cores it needed (*other cores*: the machine's busy time minus the run's \
         process tree minus gilscope itself, in mean cores over the run).\n\
         * **✗ implausible**: a speedup beyond physics, a finding about the measurement, \
         never about Python: above the cores the run could use (min(workers, cores) less what \
         other processes and gilscope took), or — for workers sharing one GIL — above \
         min(N, 1/h₁), h₁ being the share of time the 1-worker run's worker held the GIL \
         (the GIL-held part runs one thread at a time), by more than the spread of the repeats \
         (at least {:.0} %); or a 1-worker baseline whose worker got under {:.2} of a core \
         while it waited for one (≥ {:.0} % of the time) — speedups against it are inflated.\n\
         * **≈ noisy**: the repeats' times spread (max − min) by more than {:.0} % of their \
         median. *median s ± spread*: ± is half that range; the speedup's range is what the \
         point's fastest and slowest runs give against the baseline's median.\n\
         * **① 1 run** and **? not measured** are not flags: the point rests on one run (its \
         spread is unknown), or a check could not be made (the reason says which). \
         **✓ checked**: every check was made and passed.\n",
        v::CONTENDED_SHARE * 100.0,
        v::EFFICIENCY_SLACK * 100.0,
        v::BASELINE_MIN_CORE,
        v::BASELINE_MIN_WAITING * 100.0,
        v::NOISY_SPREAD * 100.0,
    );
    let points = &report.aggregate.points;
    let flagged = points.iter().filter(|p| v::flagged(&p.verdicts)).count();
    let one_run = points
        .iter()
        .filter(|p| p.verdicts.iter().any(|x| x.kind == v::VerdictKind::OneRun))
        .count();
    let unmeasured = points
        .iter()
        .filter(|p| {
            p.verdicts
                .iter()
                .any(|x| x.kind == v::VerdictKind::NotMeasured)
        })
        .count();
    let _ = writeln!(
        out,
        "{} of {} points flagged; {one_run} rest on 1 run (spread unknown); {unmeasured} have a check that could not be made; {} checked clean.\n",
        flagged,
        points.len(),
        points.iter().filter(|p| p.verdicts.is_empty()).count()
    );
    let noted: Vec<&Point> = points.iter().filter(|p| !p.verdicts.is_empty()).collect();
    if !noted.is_empty() {
        for p in noted {
            for verdict in &p.verdicts {
                let _ = writeln!(
                    out,
                    "* `{} ×{}` ({}): **{}**: {}",
                    p.mode,
                    p.workers,
                    cell(&p.interpreter),
                    verdict.kind.label(),
                    cell(&verdict.reason)
                );
            }
        }
        out.push('\n');
    }
    if !report.sweep.unsettled.is_empty() {
        let _ = writeln!(
            out,
            "**Never settled** under {} % spread (`--until-stable`):\n",
            report.sweep.plan.until_stable_pct.unwrap_or(f64::NAN)
        );
        for u in &report.sweep.unsettled {
            let _ = writeln!(out, "* {}", cell(u));
        }
        out.push('\n');
    }
}

fn overhead(out: &mut String, report: &Report) {
    let o = &report.aggregate.overhead;
    out.push_str("## Single-thread overhead\n\n");
    out.push_str(
        "The 1-worker time of the free-threaded build against the 1-worker `gil` time on the \
         default build (+40 % = 1.4× slower).\n\n",
    );
    let secs = |s: Option<f64>| or_missing(s, |s| format!("{s:.4} s"));
    let rows = vec![
        vec![
            "gil (default build)".into(),
            secs(o.gil_secs),
            "baseline".into(),
        ],
        vec![
            "ft vs gil".into(),
            secs(o.ft_secs),
            or_missing(o.ft_overhead_pct, signed_pct),
        ],
        vec![
            "ft-gil vs gil (GIL forced on)".into(),
            secs(o.ft_gil_secs),
            or_missing(o.ft_gil_overhead_pct, signed_pct),
        ],
    ];
    table(out, &["", "1 worker", "overhead"], &rows);
}

fn failures(out: &mut String, report: &Report) {
    out.push_str("## Failed runs\n\n");
    if report.failed.is_empty() {
        out.push_str("None: every recorded run completed.\n\n");
        return;
    }
    let rows: Vec<Vec<String>> = report
        .failed
        .iter()
        .map(|f| {
            vec![
                format!("`{}`", cell(&f.file)),
                f.mode.to_string(),
                cell(&f.interpreter),
                f.workers.to_string(),
                (f.repeat + 1).to_string(),
                cell(&f.headline),
            ]
        })
        .collect();
    table(
        out,
        &[
            "run file",
            "mode",
            "interpreter",
            "workers",
            "repeat",
            "what happened",
        ],
        &rows,
    );
}

fn charts(out: &mut String) {
    out.push_str("## Charts\n\n");
    for chart in Chart::ALL {
        let stem = chart.stem();
        let _ = writeln!(
            out,
            "### {}\n\n![{}]({CHARTS_DIR}/{stem}.png)\n\n[SVG]({CHARTS_DIR}/{stem}.svg)\n",
            chart.caption(),
            chart.caption(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::series::tests::point;
    use super::*;

    #[test]
    fn rows_show_missing_values_as_dashes_not_zeros() {
        let failed = point(Mode::Ft, "3.13t", 2, None);
        let row = point_row(&failed, Some("abc"));
        assert_eq!(row.len(), TABLE_HEADER.len());
        assert_eq!(row[3], "0 + 1 failed");
        assert!(row[4..16].iter().all(|c| c == MISSING), "{row:?}");
        let ok = point(Mode::Gil, "3.13", 2, Some(0.5));
        let row = point_row(&ok, Some("abc"));
        assert_eq!(row[4], "0.5000");
        assert_eq!(row[5], "2,000");
        assert_eq!(row[6], "2.000×");
        assert_eq!(row[7], "100.0 %");
        assert_eq!(row[10], "6.0");
        assert_eq!(row[11], "4.0", "PSS");
        assert_eq!(row[12], "70 / 20");
        assert_eq!(row[13], "45 / 40");
        assert_eq!(row[15], "✓");
        assert_eq!(row[16], "✓ checked");
        assert_eq!(point_row(&ok, Some("other"))[15], "✗");
        let mut noisy = ok.clone();
        noisy.spread = crate::sweep::aggregate::Spread::of(&[0.45, 0.5, 0.55]);
        noisy.speedup_range = Some([1.8, 2.2]);
        noisy.verdicts = vec![crate::store::Verdict {
            kind: crate::store::VerdictKind::Noisy,
            reason: "spread".into(),
        }];
        let row = point_row(&noisy, Some("abc"));
        assert_eq!(row[4], "0.5000 ± 10.0 %");
        assert_eq!(row[6], "2.000× (1.80–2.20)");
        assert_eq!(row[16], "≈ noisy");
    }

    #[test]
    fn reference_prefers_gil_one_worker() {
        let mut a = point(Mode::Ft, "3.13t", 1, Some(1.0));
        a.checksum = Some("x".into());
        let b = point(Mode::Gil, "3.13", 1, Some(1.0));
        assert_eq!(reference_checksum(&[a.clone(), b]), Some("abc"));
        assert_eq!(reference_checksum(&[a]), Some("x"));
    }
}
