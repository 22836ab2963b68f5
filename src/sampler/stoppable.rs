//! A named background thread that runs until it is told to stop (or ends
//! on its own) and hands back a result; dropping it stops and joins it.
//! The /proc sampler and the GIL sampler are both built on it.

use crossbeam_channel::{Receiver, Sender, bounded};
use std::thread::JoinHandle;

pub struct StoppableThread<T: Default> {
    stop: Sender<()>,
    thread: Option<JoinHandle<T>>,
}

impl<T: Default + Send + 'static> StoppableThread<T> {
    /// Starts `body`, which should return soon after its receiver gets a
    /// message (or is disconnected).
    pub fn spawn(
        name: &str,
        body: impl FnOnce(&Receiver<()>) -> T + Send + 'static,
    ) -> std::io::Result<Self> {
        let (stop, stop_rx) = bounded(1);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(&stop_rx))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and returns its result (the default if it panicked).
    pub fn stop(mut self) -> T {
        self.finish()
    }
}

impl<T: Default> StoppableThread<T> {
    fn finish(&mut self) -> T {
        let _ = self.stop.try_send(());
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl<T: Default> Drop for StoppableThread<T> {
    fn drop(&mut self) {
        self.finish();
    }
}
