//! The runs in the window, each with a [`RunId`] that stays its name for
//! as long as the window is open (a counter, never a position), so panels'
//! selections and caches survive any removal.

use super::driver::Driver;
use crate::store::RunRecord;
use std::path::PathBuf;

/// A run's name in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(u64);

impl RunId {
    /// The number shown in the compare table's "#" column.
    pub fn number(self) -> u64 {
        self.0
    }
}

/// One run in the window: live (with its driver), finished, or opened.
pub struct RunEntry {
    pub id: RunId,
    pub record: RunRecord,
    pub driver: Option<Driver>,
    /// Opened from this file (not run in this window).
    pub file: Option<PathBuf>,
}

impl RunEntry {
    pub fn is_running(&self) -> bool {
        self.driver.is_some()
    }
}

/// The runs in the order they were added.
#[derive(Default)]
pub struct Runs {
    entries: Vec<RunEntry>,
    next: u64,
    /// Bumped on every addition, removal and finish: caches compare it.
    version: u64,
}

impl Runs {
    /// Adds a run; returns its id.
    pub fn add(
        &mut self,
        record: RunRecord,
        driver: Option<Driver>,
        file: Option<PathBuf>,
    ) -> RunId {
        self.next += 1;
        let id = RunId(self.next);
        self.entries.push(RunEntry {
            id,
            record,
            driver,
            file,
        });
        self.version += 1;
        id
    }

    pub fn get(&self, id: RunId) -> Option<&RunEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    pub fn get_mut(&mut self, id: RunId) -> Option<&mut RunEntry> {
        self.entries.iter_mut().find(|e| e.id == id)
    }

    pub fn contains(&self, id: RunId) -> bool {
        self.get(id).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &RunEntry> {
        self.entries.iter()
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut RunEntry> {
        self.entries.iter_mut()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every record, in order (what `store::compare` and the aggregate take).
    pub fn records(&self) -> Vec<&RunRecord> {
        self.entries.iter().map(|e| &e.record).collect()
    }

    /// Every id, in the order of [`Runs::records`].
    pub fn ids(&self) -> Vec<RunId> {
        self.entries.iter().map(|e| e.id).collect()
    }

    pub fn last(&self) -> Option<RunId> {
        self.entries.last().map(|e| e.id)
    }

    pub fn any_running(&self) -> bool {
        self.entries.iter().any(RunEntry::is_running)
    }

    /// How many runs ended (or were opened).
    pub fn finished(&self) -> usize {
        self.entries.iter().filter(|e| !e.is_running()).count()
    }

    /// Changes whenever a run is added, removed or finishes.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// A run ended: it has no driver any more.
    pub(super) fn mark_finished(&mut self, id: RunId) {
        if let Some(e) = self.get_mut(id) {
            e.driver = None;
        }
        self.version += 1;
    }

    /// Forgets every finished run; returns how many.
    pub fn remove_finished(&mut self) -> usize {
        let before = self.entries.len();
        self.entries.retain(RunEntry::is_running);
        self.version += 1;
        before - self.entries.len()
    }
}

pub use crate::store::labels::run_label;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Mode;
    use crate::store::fixtures::{Synth, interpreter};

    #[test]
    fn ids_survive_removal_and_are_never_reused() {
        let py = interpreter("3.13", "3.13.5", false);
        let mut runs = Runs::default();
        let a = runs.add(Synth::new(Mode::Gil, 1).build(&py), None, None);
        let b = runs.add(Synth::new(Mode::Gil, 2).build(&py), None, None);
        assert_ne!(a, b);
        let v = runs.version();
        assert_eq!(runs.remove_finished(), 2);
        assert!(runs.version() > v);
        assert!(!runs.contains(a) && runs.is_empty());
        let c = runs.add(Synth::new(Mode::Gil, 1).build(&py), None, None);
        assert!(c > b, "a removed id is never given again");
        assert_eq!(runs.ids(), vec![c]);
    }
}
