//! The one sweep engine: steps through a [`SweepPlan`] run by run. Both
//! `gilscope sweep` ([`super::run_sweep`], which blocks and writes files)
//! and the app's Run and Sweep (which start each run on a driver thread
//! and come back when it ends) ask it for the next run and tell it how each
//! one ended, so planning, ordering, repeats and `--until-stable` rounds
//! are the same everywhere.

use super::model::{
    SWEEP_FILE_FORMAT, SWEEP_FILE_VERSION, SweepError, SweepFile, SweepPlan, SweepRunEntry,
};
use super::plan::{
    DEFAULT_MAX_REPEATS, PlannedRun, SweepEvent, file_stem, runs_of, unstable_points,
};
use crate::interp::{Interpreter, Mode};
use crate::run::RunSpec;
use crate::run::{self, RunMessage};
use crate::sampler::SamplerConfig;
use crate::store::RunRecord;
use crossbeam_channel::{Receiver, select};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::time::Duration;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The next run to start.
#[derive(Debug, Clone)]
pub struct NextRun {
    /// 0-based position among the runs started so far.
    pub index: usize,
    /// Runs planned so far (grows when `--until-stable` adds a round).
    pub total: usize,
    pub planned: PlannedRun,
    pub spec: RunSpec,
    pub interpreter: Interpreter,
}

/// Steps through a plan. Runs whose mode has no planned interpreter, or
/// whose interpreter is no longer among the found ones, are skipped.
#[derive(Debug, Clone)]
pub struct Engine {
    plan: SweepPlan,
    found: Vec<Interpreter>,
    timeout: Option<Duration>,
    todo: VecDeque<PlannedRun>,
    total: usize,
    started: usize,
    finished: usize,
    failed: usize,
    /// Elapsed seconds per point (NaN for a failed run: it counts towards
    /// the cap, not the spread).
    times: BTreeMap<(Mode, usize), Vec<f64>>,
    round: usize,
    unsettled: Vec<String>,
    /// A service sweep's search for each curve's knee after the grid.
    knees: super::knee::KneeSearch,
    cancelled: bool,
}

impl Engine {
    pub fn new(plan: SweepPlan, found: &[Interpreter], timeout: Option<Duration>) -> Self {
        let found: Vec<Interpreter> = found
            .iter()
            .filter(|i| plan.interpreters.iter().any(|p| p.path == i.path))
            .cloned()
            .collect();
        // Runs of a mode with no planned (or no longer found) interpreter
        // are left out from the start, so the total is right.
        let runnable = |mode: Mode| {
            plan.interpreters
                .iter()
                .any(|p| p.mode == mode && found.iter().any(|i| i.path == p.path))
        };
        let todo: VecDeque<PlannedRun> = runs_of(&plan)
            .into_iter()
            .filter(|r| runnable(r.mode))
            .collect();
        Self {
            total: todo.len(),
            round: plan.repeat,
            plan,
            found,
            timeout,
            todo,
            started: 0,
            finished: 0,
            failed: 0,
            times: BTreeMap::new(),
            unsettled: Vec::new(),
            knees: super::knee::KneeSearch::default(),
            cancelled: false,
        }
    }

    pub fn plan(&self) -> &SweepPlan {
        &self.plan
    }

    /// Runs planned so far.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Runs that ended (completed or not).
    pub fn finished(&self) -> usize {
        self.finished
    }

    /// Runs that went wrong (a stop by the user is not one).
    pub fn failed(&self) -> usize {
        self.failed
    }

    /// With `--until-stable`: the points that never settled, in words.
    pub fn unsettled(&self) -> &[String] {
        &self.unsettled
    }

    /// The next run, or `None` when the plan (and any `--until-stable`
    /// rounds) is done.
    pub fn next_run(&mut self) -> Option<NextRun> {
        loop {
            let Some(planned) = self.todo.pop_front() else {
                if !self.next_knee_round() && !self.next_round() {
                    return None;
                }
                continue;
            };
            let Some(pi) = self
                .plan
                .interpreters
                .iter()
                .find(|p| p.mode == planned.mode)
            else {
                self.total = self.total.saturating_sub(1);
                continue;
            };
            let Some(interp) = self.found.iter().find(|i| i.path == pi.path).cloned() else {
                self.total = self.total.saturating_sub(1);
                continue;
            };
            let index = self.started;
            self.started += 1;
            // A service sweep's rate for this run.
            let mut params = self.plan.params.clone();
            if let Some(rps) = planned.rps {
                params.retain(|(k, _)| k != "load.rps" && k != "load.clients");
                params.push(("load.rps".into(), rps.to_string()));
            }
            let spec = RunSpec {
                python: interp.path.clone(),
                interp_name: interp.name.clone(),
                mode: planned.mode,
                workers: planned.workers,
                workload: self.plan.workload.clone(),
                params,
                timeout: self.timeout,
            };
            return Some(NextRun {
                index,
                total: self.total,
                planned,
                spec,
                interpreter: interp,
            });
        }
    }

    /// A run of the plan ended: its time counts towards its point.
    pub fn ended(&mut self, planned: &PlannedRun, record: &RunRecord) {
        self.finished += 1;
        if let Some(rps) = planned.rps {
            self.knees.eat(planned.mode, planned.workers, rps, record);
        }
        let slot = self
            .times
            .entry((planned.mode, planned.workers))
            .or_default();
        match record.result() {
            Some(r) => slot.push(r.elapsed_s),
            None => {
                if record.outcome().is_none_or(|o| o.is_failure()) {
                    self.failed += 1;
                }
                slot.push(f64::NAN);
            }
        }
    }

    /// Drops every run not started yet (a stop).
    pub fn cancel(&mut self) {
        self.total -= self.todo.len();
        self.todo.clear();
        self.plan.until_stable_pct = None;
        self.cancelled = true;
    }

    /// A service sweep: queues a run (per repeat) at the middle of each
    /// curve's bracket around its knee that is still wider than the
    /// resolution; false when there is none.
    fn next_knee_round(&mut self) -> bool {
        let resolution = self
            .plan
            .knee_resolution_pct
            .unwrap_or(super::knee::DEFAULT_KNEE_RESOLUTION_PCT);
        if self.cancelled || self.plan.rps.is_empty() || resolution <= 0.0 {
            return false;
        }
        let target = self
            .plan
            .p99_target_ms
            .unwrap_or(super::service::DEFAULT_P99_TARGET_MS);
        let order: Vec<(Mode, usize)> = self
            .plan
            .modes
            .iter()
            .flat_map(|&m| self.plan.workers.iter().map(move |&w| (m, w)))
            .collect();
        let rates = self.knees.next_rates(&order, target, resolution);
        if rates.is_empty() {
            return false;
        }
        for repeat in 0..self.plan.repeat.max(1) {
            for &(mode, workers, rps) in &rates {
                self.todo.push_back(PlannedRun {
                    mode,
                    workers,
                    repeat,
                    rps: Some(rps),
                });
            }
        }
        self.total += self.todo.len();
        true
    }

    /// With `--until-stable`, queues one more run of every point whose
    /// spread is still above the bound; false when there is none.
    fn next_round(&mut self) -> bool {
        let Some(pct) = self.plan.until_stable_pct else {
            return false;
        };
        let max = self.plan.max_repeats.unwrap_or(DEFAULT_MAX_REPEATS);
        let (again, unsettled) = unstable_points(&self.times, pct, max);
        self.unsettled = unsettled;
        if again.is_empty() {
            // Asked once: the rounds are over.
            self.plan.until_stable_pct = None;
            return false;
        }
        for (mode, workers) in again {
            self.todo.push_back(PlannedRun {
                mode,
                workers,
                repeat: self.round,
                rps: None,
            });
        }
        self.round += 1;
        self.total += self.todo.len();
        true
    }
}

/// Runs the plan into `dir` with the [`Engine`] (the app's Run and Sweep
/// step through the same engine). Stops early (keeping what finished) when
/// `stop` receives; returns the sweep file as written.
#[allow(clippy::too_many_arguments)]
pub fn run_sweep(
    plan: SweepPlan,
    found: &[Interpreter],
    dir: &Path,
    command: Vec<String>,
    sampling: SamplerConfig,
    timeout: Option<Duration>,
    stop: &Receiver<()>,
    mut on_event: impl FnMut(SweepEvent),
) -> Result<SweepFile, SweepError> {
    let runs_dir = dir.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(|source| SweepError::Write {
        path: runs_dir.clone(),
        source,
    })?;
    let mut engine = Engine::new(plan.clone(), found, timeout);
    let mut file = SweepFile {
        format: SWEEP_FILE_FORMAT.to_string(),
        version: SWEEP_FILE_VERSION,
        gilscope: env!("CARGO_PKG_VERSION").to_string(),
        created_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        command,
        machine: super::model::machine_info(),
        plan,
        runs: Vec::new(),
        interrupted: false,
        unsettled: Vec::new(),
    };
    file.save(dir)?;
    let stem = file_stem(&file.plan.workload);
    while let Some(next) = engine.next_run() {
        let NextRun {
            index,
            total,
            planned,
            spec,
            interpreter,
        } = next;
        on_event(SweepEvent::RunStarted {
            index,
            total,
            mode: planned.mode,
            workers: planned.workers,
            repeat: planned.repeat,
        });
        let started = Instant::now();
        let mut record = RunRecord::new(spec.clone(), interpreter);
        let mut stopped = false;
        match run::start_sampled(&spec, Some(sampling)) {
            Ok(handle) => loop {
                select! {
                    recv(handle.messages()) -> msg => match msg {
                        Ok(msg) => {
                            let done = matches!(msg, RunMessage::Finished(_));
                            record.eat_message(msg);
                            if done { break; }
                        }
                        Err(_) => break,
                    },
                    recv(stop) -> _ => { stopped = true; handle.stop(); }
                }
            },
            Err(e) => record.eat_message(RunMessage::Finished(Box::new(
                crate::run::RunOutcome::not_started(&e.to_string()),
            ))),
        }
        if stopped {
            // A run cut short measures nothing: keep only finished ones.
            file.interrupted = true;
            file.unsettled = engine.unsettled().to_vec();
            file.save(dir)?;
            return Ok(file);
        }
        engine.ended(&planned, &record);
        let rate = planned.rps.map(|r| format!("-rps{r}")).unwrap_or_default();
        let rel = format!(
            "runs/{stem}-{}-w{}{rate}-r{}.json.gz",
            planned.mode, planned.workers, planned.repeat
        );
        record.save(&dir.join(&rel))?;
        let headline = record
            .outcome()
            .map(|o| o.headline())
            .unwrap_or_else(|| "no outcome".into());
        let completed = record.result().is_some();
        file.runs.push(SweepRunEntry {
            file: rel,
            mode: planned.mode,
            workers: planned.workers,
            repeat: planned.repeat,
            interpreter: spec.interp_name.clone(),
            completed,
            headline: headline.clone(),
            load: record.load_track().load().ok(),
            verdicts: crate::store::service_verdict::run_verdicts(&record),
            rps: planned.rps,
            service: record.service().summary(),
        });
        file.unsettled = engine.unsettled().to_vec();
        file.save(dir)?;
        on_event(SweepEvent::RunFinished {
            index,
            total: engine.total(),
            completed,
            headline,
            secs: started.elapsed().as_secs_f64(),
        });
    }
    file.unsettled = engine.unsettled().to_vec();
    file.save(dir)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::{Synth, interpreter};
    use crate::sweep::model::PlannedInterpreter;

    fn plan(interp: &Interpreter, modes: &[Mode], workers: &[usize], repeat: usize) -> SweepPlan {
        SweepPlan {
            workload: "primes".into(),
            params: vec![("n".into(), "10".into())],
            modes: modes.to_vec(),
            workers: workers.to_vec(),
            repeat,
            interpreters: vec![PlannedInterpreter {
                mode: Mode::Gil,
                name: interp.name.clone(),
                path: interp.path.clone(),
                version: "3.13.5".into(),
                free_threaded: false,
            }],
            overhead_modes: vec![],
            until_stable_pct: None,
            max_repeats: None,
            rps: vec![],
            p99_target_ms: None,
            knee_resolution_pct: None,
        }
    }

    #[test]
    fn steps_through_the_plan_repeats_outermost_and_skips_modes_without_an_interpreter() {
        let gil = interpreter("3.13", "3.13.5", false);
        let mut e = Engine::new(
            plan(&gil, &[Mode::Gil, Mode::Ft], &[1, 2], 2),
            std::slice::from_ref(&gil),
            None,
        );
        assert_eq!(e.total(), 4);
        let mut seen = Vec::new();
        while let Some(next) = e.next_run() {
            assert_eq!(next.spec.python, gil.path);
            assert_eq!(next.spec.workload, "primes");
            seen.push((
                next.planned.workers,
                next.planned.repeat,
                next.index,
                next.total,
            ));
            let record = Synth::new(Mode::Gil, next.planned.workers).build(&gil);
            e.ended(&next.planned, &record);
        }
        // ft has no interpreter: its 4 runs are left out of the total.
        assert_eq!(
            seen,
            vec![(1, 0, 0, 4), (2, 0, 1, 4), (1, 1, 2, 4), (2, 1, 3, 4)]
        );
        assert_eq!((e.total(), e.finished(), e.failed()), (4, 4, 0));
    }

    #[test]
    fn until_stable_adds_rounds_for_unsettled_points_up_to_the_cap() {
        let gil = interpreter("3.13", "3.13.5", false);
        let mut p = plan(&gil, &[Mode::Gil], &[1], 2);
        p.until_stable_pct = Some(5.0);
        p.max_repeats = Some(4);
        let mut e = Engine::new(p, std::slice::from_ref(&gil), None);
        let mut n = 0;
        while let Some(next) = e.next_run() {
            // Times alternate 0.5 s / 1.0 s: never settles.
            let mut synth = Synth::new(Mode::Gil, 1);
            synth.chunks_per_worker = if n % 2 == 0 { 10 } else { 20 };
            e.ended(&next.planned, &synth.build(&gil));
            n += 1;
        }
        assert_eq!(n, 4, "2 planned + 2 more rounds up to the cap of 4");
        assert_eq!(e.total(), 4);
        assert_eq!(e.unsettled().len(), 1, "{:?}", e.unsettled());
    }

    #[test]
    fn cancel_drops_what_did_not_start() {
        let gil = interpreter("3.13", "3.13.5", false);
        let mut e = Engine::new(
            plan(&gil, &[Mode::Gil], &[1, 2], 3),
            std::slice::from_ref(&gil),
            None,
        );
        let first = e.next_run().expect("a first run");
        e.cancel();
        e.ended(&first.planned, &Synth::new(Mode::Gil, 1).build(&gil));
        assert_eq!((e.total(), e.finished()), (1, 1));
        assert!(e.next_run().is_none());
    }
}
