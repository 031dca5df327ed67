//! Regressions of a known size, for the latency gate's self-test only
//! (`scripts/gate-selftest.sh`). Each feature adds work in front of every `status` call, so the
//! gate's A/B comparison must report this design's `status` as REGRESSED. Never enabled in a
//! build that ships or is measured for the report.

/// Loop iterations added by `gate-inject-status-instructions`. Each costs a handful of
/// instructions; the self-test prints the increase the gate measured (about +5 % of the atomic
/// design's `status` at the time of writing).
#[cfg(feature = "gate-inject-status-instructions")]
const EXTRA_ITERATIONS: u64 = 6;

/// Busy time added by `gate-inject-status-latency`, in nanoseconds: about 0.3x the p99 the
/// gate's storm probe measured for the atomic design's `status` on the project's 2-core machine,
/// so its p99 rises by about 1.3x there (the self-test prints the ratio the gate measured).
#[cfg(feature = "gate-inject-status-latency")]
const EXTRA_NANOS: u64 = 60;

/// The injected work.
#[inline(never)]
pub(crate) fn before_status() {
    #[cfg(feature = "gate-inject-status-instructions")]
    for i in 0..EXTRA_ITERATIONS {
        std::hint::black_box(i);
    }
    #[cfg(feature = "gate-inject-status-latency")]
    {
        let start = std::time::Instant::now();
        while start.elapsed().as_nanos() < u128::from(EXTRA_NANOS) {
            std::hint::spin_loop();
        }
    }
}
