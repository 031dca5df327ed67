//! [`CachePadded`] and the manager's [`Counters`]: one cache line (pair) per hot atomic.
//!
//! Every start bumps `started` and `active`, every end drops `active`, and `stats()` readers load
//! all four. Were the counters packed into one line, each bump would invalidate the line in every
//! other core's cache — false sharing between unrelated operations. Each counter therefore sits
//! alone in a 128-byte block: 128 rather than 64 because Intel's adjacent-line prefetcher pulls
//! cache lines in pairs, and because Apple's and some Arm cores have 128-byte lines; crossbeam's
//! `CachePadded` uses 128 on x86_64 and aarch64 for the same reasons.

use std::ops::Deref;

use procman_core::ManagerStats;
use procman_core::sync::atomic::{AtomicU64, Ordering};

/// `T` aligned (and so padded) to 128 bytes, so that no other hot value shares its cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CachePadded<T>(
    /// The padded value.
    pub(crate) T,
);

impl<T> CachePadded<T> {
    /// Wraps `value`.
    pub(crate) fn new(value: T) -> Self {
        CachePadded(value)
    }
}

impl<T> Deref for CachePadded<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The manager's lifetime counters ([`ManagerStats`]), each on its own cache lines.
///
/// The counters are statistics, not synchronisation: `Relaxed` suffices. `active` cannot be seen
/// to underflow because the increment for a run happens-before its decrement (the run's state cell
/// orders them), and a single atomic's modification order respects happens-before.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Runs in `Starting`, `Running` or `Stopping`.
    active: CachePadded<AtomicU64>,
    /// Runs whose spawn was attempted.
    started: CachePadded<AtomicU64>,
    /// Runs whose spawn failed.
    failed: CachePadded<AtomicU64>,
    /// Restarts, manual and automatic.
    restarted: CachePadded<AtomicU64>,
}

impl Counters {
    /// A run was registered in `Starting`: it is active and its spawn is about to be attempted.
    pub(crate) fn run_started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.active.fetch_add(1, Ordering::Relaxed);
    }

    /// A run reached a terminal status; `spawn_failed` when that status is `Failed`.
    pub(crate) fn run_ended(&self, spawn_failed: bool) {
        if spawn_failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.active.fetch_sub(1, Ordering::Relaxed);
    }

    /// A restart (manual or automatic) registered its new run.
    pub(crate) fn restarted(&self) {
        self.restarted.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now. Each is read atomically; together they are not one instant's view.
    pub(crate) fn stats(&self) -> ManagerStats {
        ManagerStats {
            active: self.active.load(Ordering::Relaxed),
            started: self.started.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            restarted: self.restarted.load(Ordering::Relaxed),
        }
    }
}
