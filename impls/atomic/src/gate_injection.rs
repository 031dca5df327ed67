//! Regressions of a known size, for the latency gate's self-test only
//! (`scripts/gate-selftest.sh`). Each feature adds work in front of every `status` call, so the
//! gate's A/B comparison must report this design's `status` as REGRESSED. Never enabled in a
//! build that ships or is measured for the report.

/// Loop iterations added by `gate-inject-status-instructions`, sized so the atomic design's
/// `status` (402 instructions per op when this was written) grows by at least the issue's +5 %;
/// 12 iterations measured +16 instructions (+4.0 %), 16 measured +20 (+4.96 %), 17 measured +21
/// (+5.2 %). The self-test prints the increase the gate measured.
#[cfg(feature = "gate-inject-status-instructions")]
const EXTRA_ITERATIONS: u64 = 17;

/// Dependent multiply-adds added by `gate-inject-status-latency`: a fixed amount of work (no
/// clock read, whose own cost would dominate), sized so that the gate itself measures the
/// atomic design's `status` p99 about 1.3x higher on the project's 2-core machine (p99 140-170
/// ns there). Paired `gate-probe storm` runs put 36 steps at about 1.2x, 40 at 1.3x and 44 at
/// 1.45x, but the gate's own median over a quick run measured 40 steps at +20 % to +28 % (five
/// quiet runs), so the injection is 44. The self-test prints the change the gate measured.
#[cfg(feature = "gate-inject-status-latency")]
const EXTRA_STEPS: u64 = 44;

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
