//! [`Shared`]: the state every operation shares, behind the `Arc` that [`crate::AtomicManager`]
//! holds and that event sinks and backoff threads reach through `Weak`s.
//!
//! The operations themselves are `impl Shared` blocks in their own files: start.rs, stop.rs,
//! restart.rs, events.rs, shutdown.rs and read.rs.

use std::fmt;

use procman_core::gate::ShutdownGate;
use procman_core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use procman_core::sync::{Arc, Weak};
use procman_core::{Launcher, ManagerConfig, ProcessError};

use crate::padded::{CachePadded, Counters};
use crate::registry::Registry;

/// Everything the manager's operations share.
pub(crate) struct Shared {
    /// Creates children.
    pub(crate) launcher: Arc<dyn Launcher>,
    /// Log bounds and the name limit.
    pub(crate) config: ManagerConfig,
    /// Name → entry.
    pub(crate) registry: Registry,
    /// Shutdown flag and starts in flight, in one word.
    pub(crate) gate: CachePadded<ShutdownGate>,
    /// The stats counters.
    pub(crate) counters: Counters,
    /// The last generation handed out; every run takes the next.
    generation: CachePadded<AtomicU64>,
    /// Names registered or reserved, to hold `max_processes` exactly under racing inserts.
    names: CachePadded<AtomicUsize>,
    /// This supervisor, for the sinks and threads that must not keep it alive.
    this: Weak<Shared>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("registry", &self.registry.kind())
            .field("names", &self.registry.len())
            .field("stats", &self.counters.stats())
            .field("shutting_down", &self.gate.is_closed())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// A supervisor over `registry`.
    pub(crate) fn new(
        launcher: Arc<dyn Launcher>,
        config: ManagerConfig,
        registry: Registry,
    ) -> Arc<Self> {
        Arc::new_cyclic(|this| Shared {
            launcher,
            config,
            registry,
            gate: CachePadded::default(),
            counters: Counters::default(),
            generation: CachePadded::new(AtomicU64::new(0)),
            names: CachePadded::new(AtomicUsize::new(0)),
            this: this.clone(),
        })
    }

    /// A weak handle on this supervisor.
    pub(crate) fn weak(&self) -> Weak<Shared> {
        self.this.clone()
    }

    /// The next generation (1-based). Callers take it *after* loading the state they will
    /// replace, so a name's generations only ever grow: whatever a compare-and-swap replaces
    /// took its generation before it was installed, hence before that load.
    pub(crate) fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Reserves room for one more name, or refuses with [`ProcessError::LimitReached`]. A
    /// counter rather than `registry.len()`, so that two new names racing for the last place
    /// cannot both get it.
    pub(crate) fn reserve_name(&self, name: &str) -> Result<(), ProcessError> {
        let limit = self.config.max_processes.min(self.registry.capacity());
        self.names
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            })
            .map(drop)
            .map_err(|_| ProcessError::LimitReached {
                name: name.to_owned(),
                limit,
            })
    }

    /// Gives back a reservation whose name turned out to exist already.
    pub(crate) fn release_name(&self) {
        self.names.fetch_sub(1, Ordering::Relaxed);
    }
}
