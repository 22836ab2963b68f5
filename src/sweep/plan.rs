//! Planning a sweep: interpreters per mode, the overhead runs, every
//! (repeat, mode, workers) in order, the `--until-stable` rounds. The
//! [`super::engine`] steps through a plan (and `run_sweep` runs one into
//! files).

use super::model::{PlannedInterpreter, SweepPlan};
use crate::interp::{Build, Interpreter, Mode};
use crate::run;
use crate::sweep::aggregate::Spread;
use std::collections::BTreeMap;
use std::path::Path;

/// What a sweep reports while it works.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepEvent {
    RunStarted {
        index: usize,
        total: usize,
        mode: Mode,
        workers: usize,
        repeat: usize,
    },
    RunFinished {
        index: usize,
        total: usize,
        completed: bool,
        headline: String,
        secs: f64,
    },
}

/// One run of the sweep, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    pub mode: Mode,
    pub workers: usize,
    pub repeat: usize,
    /// A service sweep's offered rate (requests/s).
    pub rps: Option<f64>,
}

/// Chooses an interpreter per mode: the first of `named` that can run it,
/// else gilscope's default pick. Modes nothing can run are an error naming
/// them.
pub fn choose_interpreters(
    modes: &[Mode],
    named: &[String],
    found: &[Interpreter],
) -> Result<Vec<(Mode, Interpreter)>, String> {
    let mut chosen = Vec::new();
    let mut missing = Vec::new();
    for &mode in modes {
        let pick = if named.is_empty() {
            run::pick_interpreter(found, mode)
        } else {
            named
                .iter()
                .filter_map(|n| found.iter().find(|i| &i.name == n))
                .find(|i| i.supports(mode))
        };
        match pick {
            Some(i) => chosen.push((mode, i.clone())),
            None => missing.push(mode.to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "no interpreter{} can run mode {}; `gilscope pythons list` shows what each can do, `gilscope pythons install` builds 3.13 and 3.13t",
            if named.is_empty() {
                String::new()
            } else {
                format!(" among {}", named.join(", "))
            },
            missing.join(", ")
        ));
    }
    Ok(chosen)
}

/// The plan: the asked modes plus the 1-worker runs the single-thread
/// overhead needs (`gil` on a default build, `ft` and `ft-gil` on a
/// free-threaded one) when interpreters for them exist.
pub fn make_plan(
    workload: &str,
    params: &[(String, String)],
    modes: &[Mode],
    workers: &[usize],
    repeat: usize,
    chosen: &[(Mode, Interpreter)],
    found: &[Interpreter],
) -> SweepPlan {
    let mut interpreters: Vec<PlannedInterpreter> =
        chosen.iter().map(|(m, i)| planned(*m, i)).collect();
    let mut overhead_modes = Vec::new();
    let has_one_worker = workers.contains(&1);
    for mode in [Mode::Gil, Mode::Ft, Mode::FtGil] {
        if modes.contains(&mode) && has_one_worker {
            continue;
        }
        // Same minor version as the chosen FT / default build where possible.
        let pick = run::pick_interpreter(found, mode);
        if let Some(i) = pick {
            if !interpreters.iter().any(|p| p.mode == mode) {
                interpreters.push(planned(mode, i));
            }
            overhead_modes.push(mode);
        }
    }
    SweepPlan {
        workload: workload.to_string(),
        params: params.to_vec(),
        modes: modes.to_vec(),
        workers: workers.to_vec(),
        repeat,
        interpreters,
        overhead_modes,
        until_stable_pct: None,
        max_repeats: None,
        rps: Vec::new(),
        p99_target_ms: None,
        knee_resolution_pct: None,
    }
}

/// `items` `repeat` times over, repeats outermost (every item once, then
/// every item again, …) so drift hits all points alike. The CLI's sweep
/// and the app's Run and Sweep both order their runs this way.
pub fn repeat_outermost<T: Clone>(items: &[T], repeat: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len() * repeat);
    for _ in 0..repeat {
        out.extend_from_slice(items);
    }
    out
}

/// The default cap of `--until-stable` when `--max-repeats` is not given.
pub const DEFAULT_MAX_REPEATS: usize = 10;

/// With `--until-stable P`: the points (mode, workers) of `times` whose
/// spread is above P % and that have fewer than `max` runs.
pub fn unstable_points(
    times: &BTreeMap<(Mode, usize), Vec<f64>>,
    pct: f64,
    max: usize,
) -> (Vec<(Mode, usize)>, Vec<String>) {
    let mut again = Vec::new();
    let mut unsettled = Vec::new();
    for (&(mode, workers), t) in times {
        let Some(sp) = Spread::of(t) else { continue };
        let spread_pct = sp.relative() * 100.0;
        if sp.n >= 2 && spread_pct <= pct {
            continue;
        }
        if t.len() < max {
            again.push((mode, workers));
        } else {
            unsettled.push(format!(
                "{mode} ×{workers}: spread {spread_pct:.0} % after {} runs (bound {pct} %)",
                t.len()
            ));
        }
    }
    (again, unsettled)
}

fn planned(mode: Mode, interp: &Interpreter) -> PlannedInterpreter {
    let info = interp.info();
    PlannedInterpreter {
        mode,
        name: interp.name.clone(),
        path: interp.path.clone(),
        version: info.map(|i| i.version.clone()).unwrap_or_default(),
        free_threaded: info.is_some_and(|i| i.build() == Build::FreeThreaded),
    }
}

/// Every run of the plan, repeats outermost so drift hits all points alike
/// (`--until-stable` may add more rounds of the points that did not settle).
pub fn runs_of(plan: &SweepPlan) -> Vec<PlannedRun> {
    let mut round = Vec::new();
    for &mode in &plan.overhead_modes {
        round.push((mode, 1, None));
    }
    // a service sweep: every rate at every (mode, workers), rates inner so
    // that drift hits every mode alike
    let rates: Vec<Option<f64>> = if plan.rps.is_empty() {
        vec![None]
    } else {
        plan.rps.iter().copied().map(Some).collect()
    };
    for &rps in &rates {
        for &mode in &plan.modes {
            for &workers in &plan.workers {
                round.push((mode, workers, rps));
            }
        }
    }
    let n = round.len().max(1);
    repeat_outermost(&round, plan.repeat)
        .into_iter()
        .enumerate()
        .map(|(i, (mode, workers, rps))| PlannedRun {
            mode,
            workers,
            repeat: i / n,
            rps,
        })
        .collect()
}

pub(super) fn file_stem(workload: &str) -> String {
    let name = Path::new(workload)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_interleave_repeats_and_put_overhead_runs_first() {
        let plan = SweepPlan {
            workload: "primes".into(),
            params: vec![],
            modes: vec![Mode::Gil, Mode::Process],
            workers: vec![1, 2],
            repeat: 2,
            interpreters: vec![],
            overhead_modes: vec![Mode::Ft],
            until_stable_pct: None,
            max_repeats: None,
            rps: vec![],
            p99_target_ms: None,
            knee_resolution_pct: None,
        };
        let runs = runs_of(&plan);
        assert_eq!(runs.len(), 10);
        assert_eq!(
            runs[0],
            PlannedRun {
                mode: Mode::Ft,
                workers: 1,
                repeat: 0,
                rps: None,
            }
        );
        assert_eq!(
            runs[4],
            PlannedRun {
                mode: Mode::Process,
                workers: 2,
                repeat: 0,
                rps: None,
            }
        );
        assert_eq!(
            runs[5],
            PlannedRun {
                mode: Mode::Ft,
                workers: 1,
                repeat: 1,
                rps: None,
            }
        );
    }

    #[test]
    fn a_service_sweep_runs_every_rate_at_every_mode() {
        let plan = SweepPlan {
            workload: "service".into(),
            params: vec![],
            modes: vec![Mode::Gil, Mode::Subinterp],
            workers: vec![2],
            repeat: 1,
            interpreters: vec![],
            overhead_modes: vec![],
            until_stable_pct: None,
            max_repeats: None,
            rps: vec![100.0, 200.0],
            p99_target_ms: Some(50.0),
            knee_resolution_pct: None,
        };
        let runs: Vec<(Mode, Option<f64>)> =
            runs_of(&plan).iter().map(|r| (r.mode, r.rps)).collect();
        assert_eq!(
            runs,
            [
                (Mode::Gil, Some(100.0)),
                (Mode::Subinterp, Some(100.0)),
                (Mode::Gil, Some(200.0)),
                (Mode::Subinterp, Some(200.0)),
            ]
        );
    }

    #[test]
    fn unstable_points_repeat_until_the_cap() {
        let mut times = BTreeMap::new();
        times.insert((Mode::Gil, 1), vec![1.0, 1.02]);
        times.insert((Mode::Ft, 2), vec![1.0, 1.5]);
        times.insert((Mode::Ft, 1), vec![1.0, 1.5, 1.2]);
        times.insert((Mode::Process, 2), vec![1.0]);
        let (again, unsettled) = unstable_points(&times, 5.0, 3);
        assert_eq!(again, vec![(Mode::Ft, 2), (Mode::Process, 2)]);
        assert_eq!(unsettled.len(), 1);
        assert!(
            unsettled[0].starts_with("ft ×1: spread 42 % after 3 runs"),
            "{unsettled:?}"
        );
        assert_eq!(repeat_outermost(&[1, 2], 2), vec![1, 2, 1, 2]);
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("primes"), "primes");
        assert_eq!(file_stem("/tmp/my work load.py"), "my_work_load");
    }
}
