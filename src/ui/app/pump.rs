//! The pump: what run drivers and jobs reported, moved into the state
//! once per frame, never waiting.

use super::*;

impl App {
    /// Moves everything the drivers and jobs reported into the state.
    pub fn pump(&mut self) {
        let mut finished = Vec::new();
        for entry in self.runs.iter_mut() {
            let Some(driver) = &entry.driver else {
                continue;
            };
            for msg in driver.drain() {
                match msg {
                    DriverMsg::Started(_) => {}
                    DriverMsg::Run(msg) => {
                        let done = matches!(msg, RunMessage::Finished(_));
                        entry.record.eat_message(msg);
                        if done {
                            finished.push(entry.id);
                        }
                    }
                    DriverMsg::StartFailed(reason) => {
                        entry.record.eat_message(RunMessage::Finished(Box::new(
                            RunOutcome::not_started(&reason),
                        )));
                        finished.push(entry.id);
                    }
                }
            }
        }
        for id in finished {
            self.runs.mark_finished(id);
            let Some(entry) = self.runs.get(id) else {
                continue;
            };
            let record = &entry.record;
            let failed = record.outcome().is_none_or(|o| o.is_failure());
            let headline = record.outcome().map(|o| o.headline()).unwrap_or_default();
            let label = run_label(record);
            if let Some(b) = &mut self.batch
                && let Some((cur, planned)) = &b.current
                && *cur == id
            {
                b.engine.ended(planned, record);
                b.current = None;
            }
            if failed {
                self.live_view.open_log();
            }
            self.status.notify(format!("{label}: {headline}"), failed);
            if let Some(dir) = &self.options.save_runs {
                let path = dir.join(format!("run-{:03}.json", id.number()));
                let saved = std::fs::create_dir_all(dir)
                    .map_err(|e| e.to_string())
                    .and_then(|()| record.save(&path).map_err(|e| e.to_string()));
                if let Err(e) = saved {
                    self.status.notify(
                        format!("could not save {}: {e} (check --save-runs)", path.display()),
                        true,
                    );
                }
            }
        }
        if self.batch.is_some() {
            self.next_batch_run();
        }
        for result in self.jobs.drain() {
            self.on_job(result);
        }
    }

    pub(super) fn on_job(&mut self, result: JobResult) {
        match result {
            JobResult::Interpreters(found) => self.set_interpreters(found),
            JobResult::Workloads { python, result } => self.setup.on_catalog(python, result),
            JobResult::Install(ev) => self.install.on_event(ev),
            JobResult::InstallDone(result) => {
                self.install.running = false;
                match result {
                    Ok(paths) => {
                        self.status.notify(
                            format!(
                                "installed: {}",
                                paths
                                    .iter()
                                    .map(|p| p.display().to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            false,
                        );
                        self.interpreters = None;
                        self.jobs.discover();
                    }
                    Err(e) => self.status.notify(format!("install failed: {e}"), true),
                }
            }
            JobResult::Opened { path, result } => match result {
                Ok(records) => {
                    // A run already in the window (the same file opened
                    // twice) is not added again.
                    let (new, known): (Vec<RunRecord>, Vec<RunRecord>) = records
                        .into_iter()
                        .partition(|r| !self.runs.iter().any(|e| same_run(&e.record, r)));
                    if !known.is_empty() {
                        self.status.notify(
                            format!(
                                "{} run(s) from {} were already open",
                                known.len(),
                                path.display()
                            ),
                            false,
                        );
                    }
                    let n = new.len();
                    let mut last = None;
                    for record in new {
                        last = Some(self.runs.add(record, None, Some(path.clone())));
                    }
                    if self.shown.is_none() || !self.busy() {
                        self.shown = last.or(self.shown);
                    }
                    if n > 1 {
                        self.view = View::Compare;
                    }
                    self.status
                        .notify(format!("opened {n} run(s) from {}", path.display()), false);
                }
                Err(e) => self.status.notify(format!("could not open: {e}"), true),
            },
            JobResult::Progress(line) => self.status.notify(line, false),
            JobResult::Processes(list) => self.attach.on_processes(list),
            JobResult::Checked { .. } | JobResult::Inspected(_) if !self.checking => {
                self.status.notify("stopped before it started", false);
            }
            JobResult::Inspected(result) => {
                self.checking = false;
                match result {
                    Ok(target) => self.start_attached(target),
                    Err(e) => self.status.notify(format!("cannot attach: {e}"), true),
                }
            }
            JobResult::Checked { batch, result } => match result {
                Ok(()) => {
                    self.checking = false;
                    self.start_batch(*batch);
                }
                Err(e) => {
                    self.checking = false;
                    self.status.notify(format!("nothing started: {e}"), true);
                }
            },
            JobResult::Wrote { what, result } => {
                self.shots_pending = self
                    .shots_pending
                    .saturating_sub(usize::from(what == "screenshot"));
                match result {
                    Ok(paths) => {
                        let shown: Vec<String> =
                            paths.iter().map(|p| p.display().to_string()).collect();
                        // The user's S (not the scripted shots, which would
                        // catch the toast in the next one).
                        let by_key = paths.iter().any(|p| {
                            p.file_name()
                                .is_some_and(|n| n.to_string_lossy().starts_with("gilscope-"))
                        });
                        if what == "screenshot" && by_key {
                            self.toast =
                                Some((format!("saved to {}", shown.join(", ")), Instant::now()));
                        }
                        self.status
                            .notify(format!("{what} written: {}", shown.join(", ")), false);
                    }
                    Err(e) => self.status.notify(format!("{what} failed: {e}"), true),
                }
            }
        }
    }
}
