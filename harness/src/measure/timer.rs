//! The clock every latency is read from, and what reading it costs.
//!
//! On x86_64 with an invariant TSC (`constant_tsc` and `nonstop_tsc` in /proc/cpuinfo) the clock
//! is the time-stamp counter: one `rdtsc` costs a few nanoseconds where a `clock_gettime`
//! through `Instant::now()` costs 15–40, which matters when the ops measured take tens of
//! nanoseconds and the harness's own cost per op must stay under 25 ns. The counter is
//! calibrated against `Instant` at start-up. Elsewhere the clock is `Instant` itself.
//!
//! `rdtsc` is not serialising: the CPU may start it a few instructions early or late, an error
//! of a few nanoseconds per reading, the same for every design. The invariant TSC is
//! synchronised across cores by the kernel (`tsc_adjust`), so an op that migrates between
//! cores (a tokio task) still reads a consistent clock.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Which counter stands behind a [`Clock`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    /// The x86_64 time-stamp counter, calibrated against `Instant`.
    Tsc,
    /// `std::time::Instant` (CLOCK_MONOTONIC on Linux); one tick is one nanosecond.
    Instant,
}

/// A monotonic clock read in ticks, converted to nanoseconds off the hot path.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// The counter.
    source: ClockSource,
    /// Ticks per second (1e9 for `Instant`).
    hz: f64,
    /// Nanoseconds per tick in 32.32 fixed point.
    ns_per_tick_fp: u64,
    /// Ticks per nanosecond in 32.32 fixed point.
    ticks_per_ns_fp: u64,
}

/// Where `Instant`-based ticks count from.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

impl Clock {
    /// The best clock this machine offers: the TSC when it is invariant, else `Instant`.
    /// Calibration sleeps about 60 ms.
    pub fn calibrate() -> Clock {
        if tsc_is_invariant() {
            Clock::tsc()
        } else {
            Clock::monotonic()
        }
    }

    /// `Instant`, one tick per nanosecond.
    pub fn monotonic() -> Clock {
        origin();
        Clock::with(ClockSource::Instant, 1e9)
    }

    fn with(source: ClockSource, hz: f64) -> Clock {
        let fp = (1u64 << 32) as f64;
        Clock {
            source,
            hz,
            ns_per_tick_fp: (1e9 / hz * fp).round() as u64,
            ticks_per_ns_fp: (hz / 1e9 * fp).round() as u64,
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn tsc() -> Clock {
        // Two 30 ms windows; the longer-is-better estimate is the second, the first warms up
        // the frequency governor.
        let mut hz = 0.0;
        for _ in 0..2 {
            let (i0, c0) = (Instant::now(), rdtsc());
            std::thread::sleep(Duration::from_millis(30));
            let (i1, c1) = (Instant::now(), rdtsc());
            hz = (c1 - c0) as f64 / (i1 - i0).as_secs_f64();
        }
        Clock::with(ClockSource::Tsc, hz)
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn tsc() -> Clock {
        Clock::monotonic()
    }

    /// The counter behind it.
    pub fn source(&self) -> ClockSource {
        self.source
    }

    /// Ticks per second.
    pub fn hz(&self) -> f64 {
        self.hz
    }

    /// Now, in ticks.
    #[inline(always)]
    pub fn now(&self) -> u64 {
        match self.source {
            #[cfg(target_arch = "x86_64")]
            ClockSource::Tsc => rdtsc(),
            _ => origin().elapsed().as_nanos() as u64,
        }
    }

    /// `ticks` in nanoseconds.
    #[inline(always)]
    pub fn to_ns(&self, ticks: u64) -> u64 {
        ((u128::from(ticks) * u128::from(self.ns_per_tick_fp)) >> 32) as u64
    }

    /// `ns` nanoseconds in ticks.
    #[inline(always)]
    pub fn ticks(&self, ns: u64) -> u64 {
        ((u128::from(ns) * u128::from(self.ticks_per_ns_fp)) >> 32) as u64
    }

    /// `d` in ticks.
    pub fn ticks_of(&self, d: Duration) -> u64 {
        self.ticks(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// Blocks until the clock reads at least `deadline`: sleeps while more than `SPIN_BELOW`
    /// remains, then yields in a loop. Returns at once if `deadline` has passed.
    pub fn wait_until(&self, deadline: u64) {
        /// Below this, `thread::sleep` overshoots by more than the wait itself.
        const SPIN_BELOW_NS: u64 = 150_000;
        loop {
            let now = self.now();
            if now >= deadline {
                return;
            }
            let left = self.to_ns(deadline - now);
            if left > SPIN_BELOW_NS {
                std::thread::sleep(Duration::from_nanos(left - SPIN_BELOW_NS / 2));
            } else {
                std::thread::yield_now();
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` has no preconditions and exists on every x86_64 CPU; it only reads the
    // time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Whether /proc/cpuinfo reports an invariant TSC (constant rate, runs in deep C-states).
fn tsc_is_invariant() -> bool {
    if !cfg!(target_arch = "x86_64") {
        return false;
    }
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
        return false;
    };
    info.lines()
        .find(|l| l.starts_with("flags"))
        .is_some_and(|flags| {
            let has = |f: &str| flags.split_whitespace().any(|w| w == f);
            has("constant_tsc") && has("nonstop_tsc")
        })
}

/// CPU time consumed by the calling thread so far, nanoseconds (`None` if the OS will not
/// say). Unlike wall time it does not grow while the thread waits for a CPU, so costs measured
/// with it hold on a busy machine.
pub fn thread_cpu_ns() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` through the valid, exclusive pointer given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// What reading the clocks costs, measured on this machine at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerCost {
    /// The clock latencies are read from.
    pub source: ClockSource,
    /// Its rate, ticks per second.
    pub hz: f64,
    /// Mean CPU time of two back-to-back readings of that clock, in nanoseconds.
    pub clock_pair_ns: f64,
    /// Mean CPU time of two back-to-back `Instant::now()` calls, in nanoseconds.
    pub instant_pair_ns: f64,
}

/// Mean CPU time (wall time if unavailable) of `f` over `n` calls, nanoseconds.
fn mean_cost(n: u32, mut f: impl FnMut()) -> f64 {
    let (cpu0, wall0) = (thread_cpu_ns(), Instant::now());
    for _ in 0..n {
        f();
    }
    let total = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64,
        _ => wall0.elapsed().as_nanos() as f64,
    };
    total / f64::from(n)
}

impl TimerCost {
    /// Measures both pair costs over `iterations` pairs each.
    pub fn measure(clock: &Clock, iterations: u32) -> TimerCost {
        let n = iterations.max(1);
        let instant_pair_ns = mean_cost(n, || {
            let a = Instant::now();
            let b = Instant::now();
            std::hint::black_box((a, b));
        });
        let clock_pair_ns = mean_cost(n, || {
            let a = clock.now();
            let b = clock.now();
            std::hint::black_box((a, b));
        });
        TimerCost {
            source: clock.source(),
            hz: clock.hz(),
            clock_pair_ns,
            instant_pair_ns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip_for_both_sources() {
        for clock in [Clock::monotonic(), Clock::with(ClockSource::Tsc, 2.5e9)] {
            for ns in [0u64, 1_000, 1_000_000_000, 3_600_000_000_000] {
                let back = clock.to_ns(clock.ticks(ns));
                assert!(
                    back.abs_diff(ns) <= 1 + ns / 1_000_000_000,
                    "{ns} -> {back}"
                );
            }
        }
        let c = Clock::with(ClockSource::Tsc, 2e9);
        assert_eq!(c.ticks(1_000), 2_000);
        assert_eq!(c.to_ns(2_000), 1_000);
        assert_eq!(c.ticks_of(Duration::from_micros(1)), 2_000);
    }

    #[test]
    fn clock_is_monotonic() {
        let clock = Clock::calibrate();
        let mut last = clock.now();
        for _ in 0..10_000 {
            let now = clock.now();
            assert!(now >= last);
            last = now;
        }
    }

    #[test]
    fn wait_until_returns_after_the_deadline() {
        let clock = Clock::calibrate();
        let deadline = clock.now() + clock.ticks(200_000);
        clock.wait_until(deadline);
        assert!(clock.now() >= deadline);
        // A deadline in the past returns at once.
        clock.wait_until(0);
    }
}
