//! The monotonic clock shared with publishers (`CLOCK_MONOTONIC`, the clock behind
//! Python's `time.monotonic_ns()`), so frame age can be measured across processes.

/// Nanoseconds on the system-wide monotonic clock.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on the
    // platforms we build for.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
