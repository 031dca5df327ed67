//! Spin, then park: how the owner and a waiting caller avoid paying an OS wake-up
//! per request.
//!
//! A round trip in which both sides park costs two futex wake-ups, and on a VM each one is a
//! vCPU wake as well: tens of µs here (the bare flume request/reply floor measured 61 µs).
//! Go's scheduler spins briefly before it parks a goroutine, which is why its channel round trip
//! costs hundreds of ns. This module does the same, bounded:
//!
//! 1. **spin**: poll the condition with `spin_loop` hints, reading the clock every
//!    [`SPINS_PER_CLOCK`] polls, until the spin limit passes;
//! 2. no yield phase: an earlier version called `yield_now` four times before parking, and
//!    under load a `sched_yield` handed the core to an unrelated process for its whole time
//!    slice (round trip p50 306 µs in some runs);
//! 3. **park**: the caller's ordinary blocking wait (condvar), which costs nothing while idle.
//!
//! Both limits adapt ([`Adaptive`]): a limit doubles when what it waited for arrived while
//! spinning and halves when it had to park, between a floor and a ceiling. Limits start at their
//! ceilings (owner [`OWNER_SPIN_MAX`], caller [`CALLER_SPIN_MAX`]), so a client sending back to
//! back keeps the owner awake and finds its reply while spinning; an idle owner parks after at
//! most `OWNER_SPIN_MAX`, so an idle manager uses no CPU (`examples/idle_cpu.rs` measures it). On
//! an oversubscribed machine, where the other side is often descheduled and a spin only burns
//! the core it needs, misses shrink both limits to their floors ([`OWNER_SPIN_MIN`],
//! [`CALLER_SPIN_MIN`]: a few µs) and the design is back to parking plus a short spin. Measured
//! with every core busy (load ~11 on 2 cores), p50 round trip 7.9-8.1 µs spinning vs 5.0-5.2 µs
//! with `PROCMAN_ACTOR_SPIN=0`; with a core free for each side, 1.1-1.2 µs. Higher floors (12 and
//! 25 µs) cost 20-35 µs per round trip under that load, because every miss paid the floor.
//!
//! Spinning only ever *reads* the condition and then goes through the same slow path as before,
//! so it cannot change what is received. Under the model checkers (features `loom`, `shuttle`)
//! the spin is a single poll, so the models explore the same code without an unbounded loop.

use std::cell::Cell;
use std::time::Duration;
#[cfg(not(any(feature = "loom", feature = "shuttle")))]
use std::time::Instant;

/// Polls between two clock reads while spinning.
#[cfg_attr(any(feature = "loom", feature = "shuttle"), allow(dead_code))]
pub(crate) const SPINS_PER_CLOCK: u32 = 32;
/// Shortest owner spin.
pub(crate) const OWNER_SPIN_MIN: Duration = Duration::from_micros(2);
/// Longest owner spin: an idle owner parks at most this long after its last message.
pub(crate) const OWNER_SPIN_MAX: Duration = Duration::from_micros(200);
/// Shortest caller spin.
pub(crate) const CALLER_SPIN_MIN: Duration = Duration::from_micros(1);
/// Longest caller spin for a reply before it parks.
pub(crate) const CALLER_SPIN_MAX: Duration = Duration::from_micros(100);

/// Polls `poll` by spinning for up to `limit`. `None` when it never became ready: the caller
/// then parks.
#[inline]
pub(crate) fn spin_for<T>(limit: Duration, mut poll: impl FnMut() -> Option<T>) -> Option<T> {
    #[cfg(any(feature = "loom", feature = "shuttle"))]
    {
        let _ = limit;
        poll()
    }
    #[cfg(not(any(feature = "loom", feature = "shuttle")))]
    {
        if !enabled() {
            return None;
        }
        let start = Instant::now();
        loop {
            for _ in 0..SPINS_PER_CLOCK {
                if let Some(value) = poll() {
                    return Some(value);
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= limit {
                break;
            }
        }
        None
    }
}

/// Whether spinning is on: `PROCMAN_ACTOR_SPIN=0` in the environment turns it off (owner and
/// callers then park at once, as before the spin existed), for a machine where every core is
/// busy and for measuring what the spin buys (`examples/idle_cpu.rs`). Read once per process.
#[cfg(not(any(feature = "loom", feature = "shuttle")))]
fn enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("PROCMAN_ACTOR_SPIN").is_none_or(|v| v != "0"))
}

/// A spin limit, adapted to how what it waits for arrives (see the module docs). Owned by one
/// thread (the owner's inbox, or a caller's thread-local).
#[derive(Debug)]
pub(crate) struct Adaptive {
    limit: Cell<Duration>,
    min: Duration,
    max: Duration,
}

impl Adaptive {
    /// The owner's: between [`OWNER_SPIN_MIN`] and [`OWNER_SPIN_MAX`].
    pub(crate) const fn owner() -> Self {
        Adaptive {
            limit: Cell::new(OWNER_SPIN_MAX),
            min: OWNER_SPIN_MIN,
            max: OWNER_SPIN_MAX,
        }
    }

    /// A caller's: between [`CALLER_SPIN_MIN`] and [`CALLER_SPIN_MAX`].
    pub(crate) const fn caller() -> Self {
        Adaptive {
            limit: Cell::new(CALLER_SPIN_MAX),
            min: CALLER_SPIN_MIN,
            max: CALLER_SPIN_MAX,
        }
    }

    /// The limit for the next spin.
    #[inline]
    pub(crate) fn limit(&self) -> Duration {
        self.limit.get()
    }

    /// It arrived while spinning: spin longer next time.
    #[inline]
    pub(crate) fn hit(&self) {
        self.limit.set((self.limit.get() * 2).min(self.max));
    }

    /// The spin ran out and the thread is about to park: spin less next time.
    #[inline]
    pub(crate) fn miss(&self) {
        self.limit.set((self.limit.get() / 2).max(self.min));
    }

    /// Spins on `poll` for the current limit (see [`spin_for`]) and adapts the limit to
    /// the outcome.
    #[inline]
    pub(crate) fn spin<T>(&self, cap: Duration, poll: impl FnMut() -> Option<T>) -> Option<T> {
        let found = spin_for(self.limit().min(cap), poll);
        if found.is_some() {
            self.hit();
        } else {
            self.miss();
        }
        found
    }
}

#[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
mod tests {
    use super::*;

    #[test]
    fn the_limit_stays_within_its_bounds() {
        let spin = Adaptive::owner();
        for _ in 0..64 {
            spin.hit();
        }
        assert_eq!(spin.limit(), OWNER_SPIN_MAX);
        for _ in 0..64 {
            spin.miss();
        }
        assert_eq!(spin.limit(), OWNER_SPIN_MIN);
    }

    #[test]
    fn a_ready_poll_returns_at_once_and_a_never_ready_one_gives_up() {
        assert_eq!(spin_for(CALLER_SPIN_MAX, || Some(7)), Some(7));
        let mut polls = 0;
        assert_eq!(
            spin_for(Duration::from_micros(1), || {
                polls += 1;
                None::<()>
            }),
            None
        );
        assert!(polls >= SPINS_PER_CLOCK, "spun before giving up");
    }
}
