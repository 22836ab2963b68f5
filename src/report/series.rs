//! What the charts draw, taken from an [`Aggregate`]: one series per
//! (mode, interpreter), each with its colour, marker and points.

use super::style::{Marker, mode_color, mode_marker, shade};
use crate::interp::Mode;
use crate::sweep::{Aggregate, Point};
use plotters::style::RGBColor;

/// The points of one mode on one interpreter, by worker count.
#[derive(Debug, Clone)]
pub struct Series {
    pub mode: Mode,
    pub interpreter: String,
    /// "gil · 3.13": what legends show.
    pub label: String,
    pub color: RGBColor,
    pub marker: Marker,
    /// Sorted by workers.
    pub points: Vec<Point>,
}

/// Everything a chart needs besides its kind.
#[derive(Debug, Clone)]
pub struct ChartData {
    pub series: Vec<Series>,
    /// Every worker count of the sweep (planned or measured), sorted.
    pub workers: Vec<usize>,
    /// "primes (n=200000)".
    pub workload: String,
    /// One line under each title: machine and what the numbers are.
    pub subtitle: String,
    /// What the items are ("pixels"), for the throughput axis.
    pub unit: String,
    /// The cores the runs could have had (the most any point saw): the
    /// ideal line stops there.
    pub cores: Option<u32>,
}

impl ChartData {
    pub fn new(
        aggregate: &Aggregate,
        planned_workers: &[usize],
        workload: String,
        subtitle: String,
    ) -> Self {
        let mut series: Vec<Series> = Vec::new();
        for p in &aggregate.points {
            match series
                .iter_mut()
                .find(|s| s.mode == p.mode && s.interpreter == p.interpreter)
            {
                Some(s) => s.points.push(p.clone()),
                None => {
                    // A second interpreter in the same mode gets a darker shade.
                    let same_mode = series.iter().filter(|s| s.mode == p.mode).count();
                    series.push(Series {
                        mode: p.mode,
                        interpreter: p.interpreter.clone(),
                        label: format!("{} · {}", p.mode, p.interpreter),
                        color: shade(mode_color(p.mode), 0.3 * same_mode as f64),
                        marker: mode_marker(p.mode),
                        points: vec![p.clone()],
                    });
                }
            }
        }
        series.sort_by(|a, b| (a.mode, &a.interpreter).cmp(&(b.mode, &b.interpreter)));
        for s in &mut series {
            s.points.sort_by_key(|p| p.workers);
        }
        let mut workers: Vec<usize> = planned_workers
            .iter()
            .copied()
            .chain(aggregate.points.iter().map(|p| p.workers))
            .collect();
        workers.sort_unstable();
        workers.dedup();
        Self {
            series,
            workers,
            workload,
            subtitle,
            unit: aggregate.unit.clone(),
            cores: aggregate.points.iter().filter_map(|p| p.cores).max(),
        }
    }

    /// The largest worker count of the sweep.
    pub fn max_workers(&self) -> Option<usize> {
        self.workers.last().copied()
    }
}

impl Series {
    pub fn at(&self, workers: usize) -> Option<&Point> {
        self.points.iter().find(|p| p.workers == workers)
    }

    /// Runs of consecutive worker counts (of `axis`) where `value` is
    /// known: a missing point or value breaks the line (a gap, never 0).
    pub fn segments(
        &self,
        axis: &[usize],
        value: impl Fn(&Point) -> Option<f64>,
    ) -> Vec<Vec<(f64, f64)>> {
        let mut segments = Vec::new();
        let mut current: Vec<(f64, f64)> = Vec::new();
        for &w in axis {
            match self.at(w).and_then(&value).filter(|v| v.is_finite()) {
                Some(v) => current.push((w as f64, v)),
                None => {
                    if !current.is_empty() {
                        segments.push(std::mem::take(&mut current));
                    }
                }
            }
        }
        if !current.is_empty() {
            segments.push(current);
        }
        segments
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sweep::SingleThreadOverhead;

    /// A point with a time and the given split; everything else missing.
    pub fn point(mode: Mode, interpreter: &str, workers: usize, secs: Option<f64>) -> Point {
        Point {
            mode,
            interpreter: interpreter.into(),
            python_version: Some("3.13.5".into()),
            free_threaded: Some(matches!(mode, Mode::Ft | Mode::FtGil)),
            workers,
            runs: usize::from(secs.is_some()),
            failed: usize::from(secs.is_none()),
            median_elapsed_secs: secs,
            median_items_per_sec: secs.map(|s| 1000.0 / s),
            speedup: secs.map(|s| 1.0 / s),
            efficiency: secs.map(|s| 1.0 / s / workers as f64),
            speedup_vs_gil: secs.map(|s| 1.0 / s),
            median_thread_cores: secs.map(|_| workers as f64 * 0.9),
            median_overhead_rss_bytes: secs.map(|_| workers as f64 * 3.0 * 1048576.0),
            median_overhead_pss_bytes: secs.map(|_| workers as f64 * 2.0 * 1048576.0),
            median_peak_rss_bytes: secs.map(|_| 20.0 * 1048576.0),
            running: secs.map(|_| 0.7),
            waiting: secs.map(|_| 0.1),
            blocked: secs.map(|_| 0.2),
            gil_hold: secs.map(|_| 0.45),
            gil_wait: secs.map(|_| 0.4),
            gil_missing: None,
            checksum: secs.map(|_| "abc".into()),
            checksums: secs.map(|_| "abc".into()).into_iter().collect(),
            spread: None,
            speedup_range: None,
            median_other_cores: None,
            median_own_cores: None,
            cores: None,
            median_startup_secs: None,
            contended_runs: 0,
            verdicts: Vec::new(),
            worker_running_waiting: None,
            load_missing: None,
        }
    }

    pub fn aggregate(points: Vec<Point>) -> Aggregate {
        Aggregate {
            points,
            overhead: SingleThreadOverhead {
                gil_secs: Some(1.0),
                ft_secs: Some(1.4),
                ft_gil_secs: None,
                ft_overhead_pct: Some(40.0),
                ft_gil_overhead_pct: None,
            },
            checksums_agree: true,
            unit: "items".into(),
        }
    }

    #[test]
    fn series_per_mode_and_interpreter_with_gaps() {
        let agg = aggregate(vec![
            point(Mode::Ft, "3.13t", 4, Some(0.3)),
            point(Mode::Gil, "3.13", 1, Some(1.0)),
            point(Mode::Ft, "3.13t", 1, Some(1.0)),
            point(Mode::Ft, "3.13t", 2, None),
            point(Mode::Ft, "3.14t", 1, Some(0.9)),
        ]);
        let data = ChartData::new(&agg, &[1, 2, 4, 8], "w".into(), "s".into());
        assert_eq!(data.workers, vec![1, 2, 4, 8]);
        let labels: Vec<_> = data.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["gil · 3.13", "ft · 3.13t", "ft · 3.14t"]);
        assert_ne!(data.series[1].color, data.series[2].color);
        // ft on 3.13t: 1 worker, a failed 2-worker point, 4 workers.
        let segs = data.series[1].segments(&data.workers, |p| p.median_elapsed_secs);
        assert_eq!(segs, vec![vec![(1.0, 1.0)], vec![(4.0, 0.3)]]);
        assert_eq!(data.max_workers(), Some(8));
    }
}
