//! System constants needed to turn /proc numbers into units:
//! clock ticks per second (`utime`, `stime`, /proc/stat) and the page size
//! (`statm`). Both are read once with `sysconf` and cached.

use std::sync::OnceLock;

/// Fallbacks used only if `sysconf` fails (it does not on Linux).
const FALLBACK_CLK_TCK: u64 = 100;
const FALLBACK_PAGE_SIZE: u64 = 4096;

/// `sysconf(_SC_CLK_TCK)`: the unit of /proc/stat and of `utime`/`stime`
/// (100 on practically every Linux, i.e. 10 ms ticks).
pub fn clock_ticks_per_sec() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| sysconf_positive(libc::_SC_CLK_TCK).unwrap_or(FALLBACK_CLK_TCK))
}

/// `sysconf(_SC_PAGESIZE)` in bytes: the unit of /proc/PID/statm.
pub fn page_size_bytes() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| sysconf_positive(libc::_SC_PAGESIZE).unwrap_or(FALLBACK_PAGE_SIZE))
}

/// Converts clock ticks to nanoseconds.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    let per_sec = clock_ticks_per_sec().max(1);
    // u128 so that 2^64 ticks cannot overflow the intermediate product.
    let ns = u128::from(ticks) * 1_000_000_000 / u128::from(per_sec);
    u64::try_from(ns).unwrap_or(u64::MAX)
}

fn sysconf_positive(name: libc::c_int) -> Option<u64> {
    // SAFETY: sysconf has no preconditions; it returns -1 on error.
    let v = unsafe { libc::sysconf(name) };
    u64::try_from(v).ok().filter(|&v| v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_values() {
        let t = clock_ticks_per_sec();
        assert!((10..=10_000).contains(&t), "CLK_TCK = {t}");
        let p = page_size_bytes();
        assert!(p >= 4096 && p.is_power_of_two(), "page = {p}");
        assert_eq!(ticks_to_ns(t), 1_000_000_000);
    }
}
