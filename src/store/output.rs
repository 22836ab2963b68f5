//! The workload's own output (stdout/stderr lines), bounded: the first
//! lines and the last lines are kept, the middle is counted.

use crate::run::Stream;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How much output a run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputLimits {
    /// The first lines are kept (banners, warnings at import).
    pub head_lines: usize,
    /// And the last ones (the traceback of a crash).
    pub tail_lines: usize,
    /// Longer lines are cut (at a character boundary) and marked with `…`.
    pub max_line_bytes: usize,
}

impl Default for OutputLimits {
    fn default() -> Self {
        Self {
            head_lines: 1_000,
            tail_lines: 4_000,
            max_line_bytes: 4_096,
        }
    }
}

/// One line the workload printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputLine {
    pub stream: Stream,
    pub line: String,
    /// How many protocol events had arrived before this line: places it
    /// among the events (output lines carry no timestamp).
    pub after_events: usize,
}

/// The kept output lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputLog {
    limits: OutputLimits,
    head: Vec<OutputLine>,
    tail: VecDeque<OutputLine>,
    /// Lines dropped between `head` and `tail`.
    dropped: u64,
}

impl OutputLog {
    pub fn new(limits: OutputLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    pub fn push(&mut self, stream: Stream, mut line: String, after_events: usize) {
        if line.len() > self.limits.max_line_bytes {
            let mut cut = self.limits.max_line_bytes;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            line.push('…');
        }
        let line = OutputLine {
            stream,
            line,
            after_events,
        };
        if self.head.len() < self.limits.head_lines {
            self.head.push(line);
            return;
        }
        if self.tail.len() >= self.limits.tail_lines {
            if self.tail.pop_front().is_none() {
                // No tail kept at all.
                self.dropped += 1;
                return;
            }
            self.dropped += 1;
        }
        self.tail.push_back(line);
    }

    /// The kept lines in order; the `dropped` ones were between the head and
    /// the tail.
    pub fn lines(&self) -> impl Iterator<Item = &OutputLine> {
        self.head.iter().chain(self.tail.iter())
    }

    pub fn kept(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// Lines not kept (they were in the middle).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Index in [`lines`](Self::lines) where the dropped lines were, if any.
    pub fn gap_at(&self) -> Option<usize> {
        (self.dropped > 0).then_some(self.head.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_head_and_tail_and_counts_the_middle() {
        let mut log = OutputLog::new(OutputLimits {
            head_lines: 2,
            tail_lines: 3,
            max_line_bytes: 100,
        });
        for i in 0..10 {
            log.push(Stream::Stdout, format!("line {i}"), i);
        }
        let lines: Vec<_> = log.lines().map(|l| l.line.as_str()).collect();
        assert_eq!(lines, ["line 0", "line 1", "line 7", "line 8", "line 9"]);
        assert_eq!(log.dropped(), 5);
        assert_eq!(log.gap_at(), Some(2));
        assert_eq!(log.kept(), 5);
    }

    #[test]
    fn cuts_long_lines_at_a_char_boundary() {
        let mut log = OutputLog::new(OutputLimits {
            head_lines: 10,
            tail_lines: 0,
            max_line_bytes: 5,
        });
        log.push(Stream::Stderr, "aaaaéééé".to_string(), 0);
        assert_eq!(log.lines().next().unwrap().line, "aaaa…");
        for _ in 0..20 {
            log.push(Stream::Stderr, "x".to_string(), 0);
        }
        assert_eq!(log.kept(), 10);
        assert_eq!(log.dropped(), 11);
    }
}
