//! [`MutexManager`], the public handle, and [`Shared`], the state every thread reaches through
//! it: the registry, the shutdown flag, the generation counter and the statistics.
//!
//! The handle owns the only strong reference to `Shared` that lives long; event sinks and
//! restart threads hold weak ones, so dropping the handle ends the manager (after shutting it
//! down) instead of leaking it through a child that never exits.

use std::fmt;
use std::time::Duration;

use procman_core::launcher::Launcher;
use procman_core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use procman_core::sync::{Arc, RwLock};
use procman_core::{
    IfRunning, LogChunk, LogMatch, LogQuery, ManagerConfig, ManagerStats, ProcessManager,
    ProcessSnapshot, ProcessSpec, Result, ShutdownReport, StopOptions, Target,
};

use crate::registry::{Entry, Registry, Slot, new_registry, not_found};

/// How long dropping a manager that was never shut down gives its children to stop (each still
/// gets at most its own stop timeout) before SIGKILL.
pub const DROP_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(2);

/// The mutex design of [`ProcessManager`]: a read-write-locked registry of per-name entries,
/// each behind its own lock. See the crate docs for the locking protocol.
pub struct MutexManager {
    /// Everything the manager's threads share.
    shared: Arc<Shared>,
}

impl MutexManager {
    /// A manager that spawns its children with `launcher`.
    pub fn new(launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Self {
        MutexManager {
            shared: Arc::new(Shared {
                launcher,
                config,
                registry: RwLock::new(new_registry()),
                shutting_down: AtomicBool::new(false),
                generation: AtomicU64::new(0),
                counters: Counters::default(),
            }),
        }
    }
}

impl fmt::Debug for MutexManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexManager")
            .field("processes", &self.shared.registry.read().len())
            .field("shutting_down", &self.shared.is_shutting_down())
            .field("stats", &self.shared.stats())
            .finish_non_exhaustive()
    }
}

impl Drop for MutexManager {
    fn drop(&mut self) {
        // A no-op (an empty report) when the owner already shut the manager down.
        self.shared.shutdown(DROP_SHUTDOWN_DEADLINE);
    }
}

impl ProcessManager for MutexManager {
    fn design(&self) -> &'static str {
        "mutex"
    }

    fn start(&self, spec: ProcessSpec, if_running: IfRunning) -> Result<ProcessSnapshot> {
        self.shared.start(spec, if_running)
    }

    fn stop(&self, target: Target<'_>, options: StopOptions) -> Result<ProcessSnapshot> {
        self.shared.stop(target, options)
    }

    fn restart(&self, target: Target<'_>) -> Result<ProcessSnapshot> {
        self.shared.restart(target)
    }

    fn status(&self, target: Target<'_>) -> Result<ProcessSnapshot> {
        // SEEDED BUG `seeded-bug-torn-snapshot-two-locks` (procman-races catalogue): the status
        // under one acquisition of the entry lock, the rest of the snapshot under another.
        #[cfg(feature = "seeded-bug-torn-snapshot-two-locks")]
        return self
            .shared
            .with_slot(target, |slot| slot.snapshot.status.clone())
            .and_then(|status| {
                let rest = self.shared.with_slot(target, Slot::view)?;
                Ok(ProcessSnapshot { status, ..rest })
            });
        #[cfg(not(feature = "seeded-bug-torn-snapshot-two-locks"))]
        self.shared.with_slot(target, Slot::view)
    }

    fn list(&self) -> Vec<ProcessSnapshot> {
        self.shared.list()
    }

    fn logs_tail(&self, target: Target<'_>, cursor: u64, limit: usize) -> Result<LogChunk> {
        self.shared.logs_tail(target, cursor, limit)
    }

    fn logs_search(&self, query: &LogQuery) -> Result<Vec<LogMatch>> {
        self.shared.logs_search(query)
    }

    fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        self.shared.shutdown(deadline)
    }

    fn stats(&self) -> ManagerStats {
        self.shared.stats()
    }
}

/// The manager's counters, on a cache line of their own so that bumping them on a transition
/// does not invalidate the line holding the registry lock that every reader touches.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Counters {
    /// Runs now `Starting`, `Running` or `Stopping`.
    pub(crate) active: AtomicU64,
    /// Spawns attempted.
    pub(crate) started: AtomicU64,
    /// Spawns that failed.
    pub(crate) failed: AtomicU64,
    /// Restarts, manual and automatic.
    pub(crate) restarted: AtomicU64,
}

/// The state shared by the handle, the event sinks and the restart threads.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Spawns children; called with no lock held.
    pub(crate) launcher: Arc<dyn Launcher>,
    /// Ring bounds and the name limit.
    pub(crate) config: ManagerConfig,
    /// Every name and its entry.
    pub(crate) registry: RwLock<Registry>,
    /// Raised once by shutdown, under the registry's write lock; read under an entry or the
    /// registry lock wherever a run is installed (see `shutdown.rs` for why that closes the race).
    pub(crate) shutting_down: AtomicBool,
    /// The manager-wide generation counter; incremented under the entry lock of the name that
    /// takes the value, so one name's generations only grow.
    pub(crate) generation: AtomicU64,
    /// Statistics.
    pub(crate) counters: Counters,
}

impl Shared {
    /// True once shutdown has begun.
    #[inline]
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Runs `read` on the slot that `target` names, under one read acquisition of its entry.
    /// The registry's read lock is held too (registry before entry), which saves the reference
    /// count traffic of cloning the entry's `Arc` on the hottest path.
    #[inline]
    pub(crate) fn with_slot<R>(
        &self,
        target: Target<'_>,
        read: impl FnOnce(&Slot) -> R,
    ) -> Result<R> {
        let registry = self.registry.read();
        let entry = registry
            .get(target.name())
            .ok_or_else(|| not_found(target.name()))?;
        let slot = entry.slot.read();
        slot.check(target)?;
        Ok(read(&slot))
    }

    /// The entry of `name`, for operations that must outlive the registry's read lock.
    pub(crate) fn entry(&self, name: &str) -> Result<Arc<Entry>> {
        self.registry
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| not_found(name))
    }

    /// A snapshot of every name's current run, sorted by name; each one consistent on its own.
    pub(crate) fn list(&self) -> Vec<ProcessSnapshot> {
        let mut all: Vec<ProcessSnapshot> = {
            let registry = self.registry.read();
            registry
                .values()
                .map(|entry| entry.slot.read().view())
                .collect()
        };
        all.sort_unstable_by_key(|a| a.id.name);
        all
    }

    /// The counters now (each exact; together not one instant).
    pub(crate) fn stats(&self) -> ManagerStats {
        let c = &self.counters;
        ManagerStats {
            active: c.active.load(Ordering::Relaxed),
            started: c.started.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            restarted: c.restarted.load(Ordering::Relaxed),
        }
    }
}
