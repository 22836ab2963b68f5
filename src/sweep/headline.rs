//! The race's headline — who won, by how much, and how sure that is — from
//! two points (their medians, spreads and verdicts), so the window, the
//! stage, the demo and exports say the same thing. A margin inside the
//! spread is "no clear winner"; a flagged point's flag goes beside the
//! number; start-up is shown beside the work time, with the end-to-end
//! ratio next to the work-time ratio.

use super::aggregate::Point;
use crate::store::verdict::{self, Verdict, VerdictKind};

/// One side of a race.
#[derive(Debug, Clone, Copy)]
pub struct Racer<'a> {
    /// What the headline calls it ("subinterp").
    pub name: &'a str,
    /// Its point (repeats), when it has one.
    pub point: Option<&'a Point>,
    /// The raced run's own work time and start-up, used when there is no
    /// point.
    pub work_s: f64,
    pub startup_s: Option<f64>,
}

impl Racer<'_> {
    fn work(&self) -> f64 {
        self.point
            .and_then(|p| p.median_elapsed_secs)
            .unwrap_or(self.work_s)
    }

    fn startup(&self) -> Option<f64> {
        self.point
            .and_then(|p| p.median_startup_secs)
            .or(self.startup_s)
    }

    fn runs(&self) -> usize {
        self.point.map_or(1, |p| p.runs)
    }

    /// min–max of its repeats (n ≥ 2).
    fn range(&self) -> Option<[f64; 2]> {
        self.point
            .and_then(|p| p.spread)
            .filter(|s| s.n >= 2)
            .map(|s| [s.min, s.max])
    }
}

/// What the race says once both finished.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    /// "subinterp wins by 0.250 s (1.16× faster)", "no clear winner: …",
    /// "a tie at 1.234 s".
    pub text: String,
    /// Whether the margin is outside both points' spreads (false with 1 run
    /// each: nobody knows).
    pub clear: bool,
    /// The two points' flags (contended, implausible, noisy): shown beside
    /// the headline at its size.
    pub flags: Vec<Verdict>,
    /// What could not be checked (1 run, not measured).
    pub unsure: Vec<Verdict>,
    /// "work 1.23 vs 2.50 s (2.03×) · start-up 0.10 vs 0.40 s · end to end
    /// 1.33 vs 2.90 s (2.18×)".
    pub detail: String,
}

impl Headline {
    /// The flags' marks ("✗ implausible ⚠ contended"), empty for none.
    pub fn flag_marks(&self) -> String {
        verdict::kinds(&self.flags)
            .iter()
            .map(|k| k.mark())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The headline of `a` against `b`.
pub fn race(a: Racer, b: Racer) -> Headline {
    let (win, lose) = if a.work() <= b.work() { (a, b) } else { (b, a) };
    let (tw, tl) = (win.work(), lose.work());
    let ratio = tl / tw.max(1e-9);
    let mut flags = Vec::new();
    let mut unsure = Vec::new();
    for p in [a.point, b.point].into_iter().flatten() {
        for v in &p.verdicts {
            let named = Verdict::new(v.kind, format!("{} ×{}: {}", p.mode, p.workers, v.reason));
            if v.kind.is_flag() {
                verdict::push(&mut flags, Some(named));
            } else {
                verdict::push(&mut unsure, Some(named));
            }
        }
    }
    if a.point.is_none() || b.point.is_none() {
        verdict::push(
            &mut unsure,
            Some(Verdict::new(
                VerdictKind::OneRun,
                "a raced run has no point (no repeats): its spread is unknown".into(),
            )),
        );
    }
    let overlap = match (win.range(), lose.range()) {
        (Some([_, wmax]), Some([lmin, _])) => Some(lmin <= wmax),
        _ => None,
    };
    let (text, clear) = if (tl - tw).abs() < 1e-3 {
        (format!("a tie at {tw:.3} s"), false)
    } else if overlap == Some(true) {
        let r = |x: &Racer| {
            x.range()
                .map_or(String::new(), |[lo, hi]| format!(" ({lo:.2}–{hi:.2})"))
        };
        (
            format!(
                "no clear winner: {} {tw:.2} s{} vs {} {tl:.2} s{} overlap",
                win.name,
                r(&win),
                lose.name,
                r(&lose)
            ),
            false,
        )
    } else {
        (
            format!(
                "{} wins by {:.3} s ({ratio:.2}× faster{})",
                win.name,
                tl - tw,
                if overlap.is_none() {
                    format!(
                        "; {} run{}: spread unknown",
                        win.runs().min(lose.runs()),
                        if win.runs().min(lose.runs()) == 1 {
                            ""
                        } else {
                            "s"
                        }
                    )
                } else {
                    String::new()
                }
            ),
            overlap == Some(false),
        )
    };
    let mut detail = format!(
        "work {tw:.2} vs {tl:.2} s ({ratio:.2}×, median of {} and {} runs)",
        win.runs(),
        lose.runs()
    );
    if let (Some(sw), Some(sl)) = (win.startup(), lose.startup()) {
        let (ew, el) = (tw + sw, tl + sl);
        detail.push_str(&format!(
            " · start-up {sw:.2} vs {sl:.2} s · end to end {ew:.2} vs {el:.2} s ({:.2}×)",
            el / ew.max(1e-9)
        ));
    }
    Headline {
        text,
        clear,
        flags,
        unsure,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Mode;
    use crate::sweep::Spread;

    fn point(mode: Mode, times: &[f64], verdicts: Vec<Verdict>) -> Point {
        let spread = Spread::of(times);
        Point {
            mode,
            interpreter: "3.13".into(),
            python_version: None,
            free_threaded: None,
            workers: 2,
            runs: times.len(),
            failed: 0,
            median_elapsed_secs: spread.map(|s| s.median),
            median_items_per_sec: None,
            speedup: None,
            efficiency: None,
            speedup_vs_gil: None,
            median_thread_cores: None,
            median_overhead_rss_bytes: None,
            median_overhead_pss_bytes: None,
            median_peak_rss_bytes: None,
            running: None,
            waiting: None,
            blocked: None,
            gil_hold: None,
            gil_wait: None,
            gil_missing: None,
            checksum: None,
            checksums: Vec::new(),
            spread,
            speedup_range: None,
            median_other_cores: None,
            median_own_cores: None,
            cores: Some(2),
            median_startup_secs: Some(0.1),
            contended_runs: 0,
            verdicts,
            worker_running_waiting: None,
            load_missing: None,
        }
    }

    fn racer<'a>(name: &'a str, p: &'a Point) -> Racer<'a> {
        Racer {
            name,
            point: Some(p),
            work_s: 0.0,
            startup_s: None,
        }
    }

    #[test]
    fn a_margin_outside_the_spreads_is_a_clear_win() {
        let gil = point(Mode::Gil, &[2.0, 2.1, 2.2], Vec::new());
        let sub = point(Mode::Subinterp, &[1.0, 1.05, 1.1], Vec::new());
        let h = race(racer("gil", &gil), racer("subinterp", &sub));
        assert!(h.clear, "{h:?}");
        assert_eq!(h.text, "subinterp wins by 1.050 s (2.00× faster)");
        assert!(
            h.detail.contains("end to end 1.15 vs 2.20 s (1.91×)"),
            "{}",
            h.detail
        );
        assert!(h.flags.is_empty());
    }

    #[test]
    fn overlapping_spreads_have_no_clear_winner() {
        let gil = point(Mode::Gil, &[1.0, 1.2, 1.5], Vec::new());
        let ft = point(Mode::Ft, &[1.1, 1.15, 1.3], Vec::new());
        let h = race(racer("gil", &gil), racer("ft", &ft));
        assert!(!h.clear);
        assert!(
            h.text.starts_with("no clear winner: ft 1.15 s"),
            "{}",
            h.text
        );
    }

    #[test]
    fn one_run_and_flags_are_said() {
        let flag = Verdict::new(VerdictKind::Implausible, "2.78× on 2 cores".into());
        let gil = point(Mode::Gil, &[8.0], Vec::new());
        let sub = point(Mode::Subinterp, &[3.0], vec![flag]);
        let h = race(racer("gil", &gil), racer("subinterp", &sub));
        assert!(!h.clear);
        assert!(
            h.text.ends_with("(2.67× faster; 1 run: spread unknown)"),
            "{}",
            h.text
        );
        assert_eq!(h.flag_marks(), "✗ implausible");
        assert!(
            h.flags[0].reason.starts_with("subinterp ×2: 2.78×"),
            "{:?}",
            h.flags
        );
    }
}
