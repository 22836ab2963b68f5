//! Runs for the window: each run is started and watched by its own driver
//! thread, so the UI thread never waits on a child, a native build or a
//! pipe. The UI drains [`DriverMsg`]s once per frame.

use crate::run::{self, RunMessage, RunSpec};
use crate::sampler::SamplerConfig;
use crossbeam_channel::{Receiver, Sender, select, unbounded};

/// What a driver reports to the UI.
#[derive(Debug)]
pub enum DriverMsg {
    /// The child is running (its pid).
    Started(u32),
    /// A message of the run, in order; `Finished` is the last.
    Run(RunMessage),
    /// The run could not start (bad interpreter, native build failed, …).
    StartFailed(String),
}

/// The UI's end of one run's driver thread.
pub struct Driver {
    messages: Receiver<DriverMsg>,
    stop: Sender<()>,
}

impl Driver {
    /// Starts a driver thread for `spec`; `wake` is called after each
    /// message so the window repaints.
    pub fn start(spec: RunSpec, sampling: SamplerConfig, wake: impl Fn() + Send + 'static) -> Self {
        // A first run with the native kernel builds the extension on the
        // driver thread: slow, but never on the UI's.
        Self::spawn(
            move || run::start_sampled(&spec, Some(sampling)).map_err(|e| e.to_string()),
            wake,
        )
    }

    /// Watches a process gilscope did not start (`gilscope attach`).
    pub fn attach(
        target: run::attach::Target,
        sampling: SamplerConfig,
        wake: impl Fn() + Send + 'static,
    ) -> Self {
        Self::spawn(
            move || run::attach::attach(&target, sampling, None).map_err(|e| e.to_string()),
            wake,
        )
    }

    /// A driver thread that calls `start` and forwards the run's messages.
    fn spawn(
        start: impl FnOnce() -> Result<run::RunHandle, String> + Send + 'static,
        wake: impl Fn() + Send + 'static,
    ) -> Self {
        let (tx, rx) = unbounded();
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
        let spawned = std::thread::Builder::new()
            .name("gilscope-ui-run".into())
            .spawn(move || drive(start, &tx, &stop_rx, &wake));
        if let Err(e) = spawned {
            // No thread: report it through a channel the UI already reads.
            let (tx, rx) = unbounded();
            let _ = tx.send(DriverMsg::StartFailed(format!(
                "cannot start a thread for the run: {e}"
            )));
            return Self {
                messages: rx,
                stop: stop_tx,
            };
        }
        Self {
            messages: rx,
            stop: stop_tx,
        }
    }

    /// Messages so far, without waiting.
    pub fn drain(&self) -> Vec<DriverMsg> {
        self.messages.try_iter().collect()
    }

    /// Asks the run to stop (its group is killed; `Finished` follows).
    pub fn stop(&self) {
        let _ = self.stop.try_send(());
    }
}

fn drive(
    start: impl FnOnce() -> Result<run::RunHandle, String>,
    tx: &Sender<DriverMsg>,
    stop: &Receiver<()>,
    wake: &dyn Fn(),
) {
    let handle = match start() {
        Ok(h) => h,
        Err(e) => {
            let _ = tx.send(DriverMsg::StartFailed(e));
            wake();
            return;
        }
    };
    let _ = tx.send(DriverMsg::Started(handle.pid()));
    wake();
    loop {
        select! {
            recv(handle.messages()) -> msg => match msg {
                Ok(msg) => {
                    let done = matches!(msg, RunMessage::Finished(_));
                    let _ = tx.send(DriverMsg::Run(msg));
                    // Only the end wakes the window: while a run goes, the
                    // window repaints on its own clock (25 or 5 Hz) and
                    // picks up what arrived; waking it per message would
                    // repaint at the sampler's rate and take CPU from the
                    // workload.
                    if done {
                        wake();
                        return;
                    }
                }
                Err(_) => {
                    wake();
                    return;
                }
            },
            recv(stop) -> _ => handle.stop(),
        }
    }
}
