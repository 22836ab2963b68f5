//! Scheduling helpers of the GIL sampler thread: a short scheduler slice
//! so it ticks on time next to CPU-bound workers, and its own CPU time.

use std::time::Duration;

/// The scheduler slice the sampler thread asks for.
pub(super) const SHORT_SLICE: Duration = Duration::from_micros(100);

/// Asks for a short scheduler slice (shared with the /proc sampler).
pub(super) use crate::pace::request_short_slice;

/// CPU time of the calling thread, ns (the /proc sampler's clock).
pub(super) use crate::pace::thread_cpu_ns;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_slice_is_granted_where_the_kernel_has_custom_slices() {
        let (granted, sched) = std::thread::spawn(|| {
            let granted = request_short_slice(SHORT_SLICE);
            let sched = std::fs::read_to_string("/proc/thread-self/sched").unwrap_or_default();
            (granted, sched)
        })
        .join()
        .unwrap();
        // /proc/.../sched exists with CONFIG_SCHED_DEBUG; se.slice in ns.
        let slice = sched.lines().find(|l| l.starts_with("se.slice"));
        eprintln!("granted: {granted}, {slice:?}");
        if granted && let Some(line) = slice {
            assert!(line.trim_end().ends_with(" 100000"), "{line}");
        }
    }
}
