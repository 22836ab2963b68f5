//! What a race replays, by the app's rules (the app's race view and
//! `gilscope export animation` both read this): each racer's lap (its clock
//! starts at the start gate — every worker ready — and stops at its last
//! chunk, the Compare table's "time s"), the chunks done by any moment, and
//! which two runs of a sweep race (the best multi-worker point against the
//! same workload and workers in another mode, the GIL where there is one;
//! each point raced by its median run).

use crate::run::protocol::Event;
use crate::store::RunRecord;
use crate::store::compare::same_workload;
use crate::sweep::judged::Judged;

/// One racer's clock, on the sampler's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lap {
    /// The start gate (`result.start_ns`; else when work started).
    pub zero_ns: u64,
    /// Seconds from the gate to the last chunk, when it finished.
    pub finish_s: Option<f64>,
    /// Seconds from the run's start to its gate (start-up).
    pub startup_s: Option<f64>,
    /// Chunks in the whole run, once it ended.
    pub total_chunks: Option<u64>,
}

impl Lap {
    /// `None` when the run has no start gate (it never started work).
    pub fn of(run: &RunRecord) -> Option<Self> {
        let result = run.result();
        let zero_ns = result
            .and_then(|r| r.start_ns)
            .or(run.work_window_ns().map(|(start, _)| start))?;
        Some(Self {
            zero_ns,
            finish_s: result.map(|r| r.elapsed_s),
            startup_s: run
                .t0_ns()
                .filter(|&t0| t0 <= zero_ns)
                .map(|t0| (zero_ns - t0) as f64 / 1e9),
            total_chunks: run.outcome().is_some().then(|| run.chunks_done()),
        })
    }

    /// The sampler's clock `t_s` seconds after the gate.
    pub fn at_ns(&self, t_s: f64) -> u64 {
        self.zero_ns + (t_s.max(0.0) * 1e9) as u64
    }
}

/// When each chunk finished with the running count, sorted by time:
/// "chunks done by t" is a binary search.
#[derive(Debug, Clone, Default)]
pub struct ChunkClock(Vec<(u64, u64)>);

impl ChunkClock {
    pub fn of(run: &RunRecord) -> Self {
        let mut at: Vec<(u64, u64)> = run
            .events()
            .iter()
            .filter_map(|e| match e {
                Event::ChunkDone(c) => Some((c.t_ns, c.chunks)),
                _ => None,
            })
            .collect();
        at.sort_by_key(|&(t, _)| t);
        let mut total = 0;
        for x in &mut at {
            total += x.1;
            x.1 = total;
        }
        Self(at)
    }

    /// Chunks finished by `t_ns`.
    pub fn by(&self, t_ns: u64) -> u64 {
        let n = self.0.partition_point(|&(t, _)| t <= t_ns);
        n.checked_sub(1).map_or(0, |i| self.0[i].1)
    }
}

/// The two runs the app would race among `runs` (judged as `judged`,
/// from the same slice): (the rival, the best), each its point's median
/// repeat ([`Judged::median_repeat`]); `None` without two completed runs of one workload and worker
/// count in two modes.
pub fn race_pair(runs: &[&RunRecord], judged: &Judged) -> Option<(usize, usize)> {
    race_pair_among(runs, judged, |_| true)
}

/// [`race_pair`] among the runs `keep` accepts (a story chapter's own).
pub fn race_pair_among(
    runs: &[&RunRecord],
    judged: &Judged,
    keep: impl Fn(usize) -> bool,
) -> Option<(usize, usize)> {
    let keep = &keep;
    let key = |i: usize| {
        let speedup = judged.point(i).and_then(|p| p.speedup).unwrap_or(0.0);
        (runs[i].spec().workers > 1, speedup)
    };
    let best = (0..runs.len())
        .filter(|&i| keep(i) && runs[i].result().is_some())
        .max_by(|&a, &b| {
            let ((ma, sa), (mb, sb)) = (key(a), key(b));
            ma.cmp(&mb).then(sa.total_cmp(&sb))
        })?;
    let best = judged.median_repeat(best, keep);
    let b = runs[best];
    let rivals: Vec<usize> = (0..runs.len())
        .filter(|&i| i != best && keep(i) && runs[i].result().is_some())
        .filter(|&i| same_workload(b, runs[i]))
        .filter(|&i| runs[i].spec().workers == b.spec().workers)
        .filter(|&i| runs[i].spec().mode != b.spec().mode)
        .collect();
    let rival = rivals
        .iter()
        .find(|&&i| runs[i].spec().mode == crate::interp::Mode::Gil)
        .or(rivals.first())?;
    Some((judged.median_repeat(*rival, keep), best))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Mode;
    use crate::store::fixtures::{MS, Synth, interpreter};

    #[test]
    fn laps_start_at_the_gate_and_the_clock_counts_chunks() {
        let py = interpreter("3.13", "3.13.5", false);
        let synth = Synth::new(Mode::Gil, 2);
        let run = synth.build(&py);
        let lap = Lap::of(&run).expect("a lap");
        assert_eq!(lap.zero_ns, synth.work_start_ns());
        assert_eq!(lap.finish_s, run.result().map(|r| r.elapsed_s));
        assert_eq!(lap.total_chunks, Some(20));
        let clock = ChunkClock::of(&run);
        assert_eq!(clock.by(lap.at_ns(0.0)), 0);
        assert_eq!(clock.by(lap.at_ns(0.105)), 4);
        assert_eq!(clock.by(lap.at_ns(10.0)), 20);
        assert!(
            lap.startup_s
                .is_some_and(|s| (s - 120.0 * MS as f64 / 1e9).abs() < 1e-9)
        );
    }

    #[test]
    fn the_pair_is_the_best_multi_worker_run_against_the_gil() {
        let gil = interpreter("3.13", "3.13.5", false);
        let ft = interpreter("3.13t", "3.13.5", true);
        let runs = [
            Synth::new(Mode::Gil, 1).build(&gil),
            Synth::new(Mode::Gil, 2).build(&gil),
            Synth::new(Mode::Ft, 1).build(&ft),
            Synth::new(Mode::Ft, 2).build(&ft),
        ];
        let refs: Vec<&RunRecord> = runs.iter().collect();
        let judged = Judged::of(&refs);
        let (a, b) = race_pair(&refs, &judged).expect("a pair");
        assert_eq!(refs[a].spec().mode, Mode::Gil);
        assert_ne!(refs[b].spec().mode, Mode::Gil);
        assert_eq!(refs[a].spec().workers, refs[b].spec().workers);
    }
}
