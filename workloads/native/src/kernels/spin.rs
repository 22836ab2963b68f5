//! The spin kernel: pure CPU work that touches no memory.

/// `n` rounds of xorshift64 from a fixed seed; returns the final state (so
/// the loop cannot be optimised away, and the result is checkable).
pub fn spin(n: u64) -> u64 {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}
