//! Regressions of a known size, for the latency gate's self-test only
//! (`scripts/gate-selftest.sh`). Each feature adds work in front of every `status` call, so the
//! gate's A/B comparison must report this design's `status` as REGRESSED. Never enabled in a
//! build that ships or is measured for the report.

/// Loop iterations added by `gate-inject-status-instructions`. Each costs a handful of
/// instructions; the self-test prints the increase the gate measured (about +5 % of the atomic
/// design's `status` at the time of writing).
#[cfg(feature = "gate-inject-status-instructions")]
const EXTRA_ITERATIONS: u64 = 12;

/// Dependent multiply-adds added by `gate-inject-status-latency`: a fixed amount of work (no
/// clock read, whose own cost would dominate), sized to about 0.3x the p99 the gate's storm
/// measured for the atomic design's `status` on the project's 2-core machine, so its p99 rises
/// by about 1.3x there (the self-test prints the change the gate measured).
#[cfg(feature = "gate-inject-status-latency")]
const EXTRA_STEPS: u64 = 60;

/// The injected work.
#[inline(never)]
pub(crate) fn before_status() {
    #[cfg(feature = "gate-inject-status-instructions")]
    for i in 0..EXTRA_ITERATIONS {
        std::hint::black_box(i);
    }
    #[cfg(feature = "gate-inject-status-latency")]
    {
        let mut x = 1u64;
        for i in 0..EXTRA_STEPS {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
    }
}
