//! Scheduling helpers of the GIL sampler thread: a short scheduler slice
//! so it ticks on time next to CPU-bound workers, and its own CPU time.

use std::time::Duration;

/// The scheduler slice the sampler thread asks for.
pub(super) const SHORT_SLICE: Duration = Duration::from_micros(100);

/// Asks for a short scheduler slice (EEVDF custom slice, `sched_runtime`
/// of SCHED_OTHER, Linux 6.12+; unprivileged): a thread that sleeps between
/// ticks then preempts a CPU-bound one when it wakes, instead of waiting
/// up to a whole default slice (~3 ms) — on a machine whose cores the
/// workload keeps busy that is the difference between ticking at 1 kHz
/// and at a few hundred Hz. Best effort: older kernels ignore the value
/// or refuse; returns whether the call succeeded.
pub(super) fn request_short_slice(slice: Duration) -> bool {
    // SAFETY: getpriority/syscall on the calling thread with a zeroed,
    // fully initialised sched_attr of the size the kernel is told.
    unsafe {
        let mut attr: libc::sched_attr = std::mem::zeroed();
        attr.size = std::mem::size_of::<libc::sched_attr>() as u32;
        attr.sched_policy = libc::SCHED_OTHER as u32;
        // Keep the thread's nice value (getpriority: -1 is also a value).
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, 0);
        if nice == -1 && *libc::__errno_location() != 0 {
            return false;
        }
        attr.sched_nice = nice;
        attr.sched_runtime = u64::try_from(slice.as_nanos()).unwrap_or(u64::MAX);
        libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &attr as *const libc::sched_attr,
            0,
        ) == 0
    }
}

/// CPU time of the calling thread, ns (the /proc sampler's clock).
pub(super) use crate::sampler::thread_cpu_ns;

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
