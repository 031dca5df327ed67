//! The registry and its entries: the two levels of locking this design is named after.
//!
//! - [`Registry`]: `RwLock<HashMap<name, Arc<Entry>>>`. Read-locked by every lookup;
//!   write-locked only to add a name and by shutdown to raise its flag. Per-process
//!   transitions never take it for writing.
//! - [`Entry`]: one `RwLock<Slot>` per name. A snapshot is one read acquisition of it; every
//!   transition is one write acquisition, held for the few instructions that check the status
//!   machine and store the result — never across a spawn, a signal, a wait or I/O.
//!
//! Lock order: registry, then entry, then the leaf locks (a run's ring and terminal slot, the
//! latches' own mutexes). Nothing takes a lock earlier in the order while holding a later one.

use std::collections::HashMap;

use procman_core::launcher::Child;
use procman_core::supervise::ExitLatch;
use procman_core::sync::{Arc, RwLock};
use procman_core::{
    InvalidTransition, ProcessError, ProcessSnapshot, Result, Status, StatusKind, Target,
};

use crate::run::Run;

/// Hasher of the registry: names are short and chosen by the operator, not by an attacker, so
/// a fast (still randomly seeded) hash beats SipHash on the status path.
type NameHasher = foldhash::fast::RandomState;

/// Every name the manager has seen, with its entry. Names are never removed.
pub(crate) type Registry = HashMap<Arc<str>, Arc<Entry>, NameHasher>;

/// An empty registry.
pub(crate) fn new_registry() -> Registry {
    Registry::with_hasher(NameHasher::default())
}

/// One name: its current run and what outlives runs (restart counts, a pending restart).
#[derive(Debug)]
pub(crate) struct Entry {
    /// The per-entry lock. See the module docs for what may happen under it.
    pub(crate) slot: RwLock<Slot>,
}

impl Entry {
    /// An entry whose first run is `run`, described by `snapshot`.
    pub(crate) fn new(run: Arc<Run>, snapshot: ProcessSnapshot) -> Self {
        Entry {
            slot: RwLock::new(Slot {
                first_generation: snapshot.id.generation,
                run,
                snapshot,
                child: None,
                auto_restarts: 0,
                pending_restart: None,
            }),
        }
    }
}

/// An automatic restart waiting out its backoff on its own thread.
#[derive(Debug)]
pub(crate) struct PendingRestart {
    /// The generation of the ended run it would replace.
    pub(crate) after: u64,
    /// Set to cancel; the waiting thread wakes and gives up.
    pub(crate) cancel: Arc<ExitLatch>,
}

/// What an entry's lock guards.
#[derive(Debug)]
pub(crate) struct Slot {
    /// The generation of the name's first run: older ids were other names' runs.
    pub(crate) first_generation: u64,
    /// The current run.
    pub(crate) run: Arc<Run>,
    /// The current run's snapshot. Its `logs` stay zero here; reads fill them from the run.
    pub(crate) snapshot: ProcessSnapshot,
    /// The current run's child, from spawn until it ends.
    pub(crate) child: Option<Arc<dyn Child>>,
    /// Automatic restarts of this name so far (manual ones do not count against the cap).
    pub(crate) auto_restarts: u32,
    /// The automatic restart pending for the current (ended) run, if any.
    pub(crate) pending_restart: Option<PendingRestart>,
}

impl Slot {
    /// The current snapshot, log counters included: the whole status read.
    #[inline]
    pub(crate) fn view(&self) -> ProcessSnapshot {
        self.run.with_logs(self.snapshot)
    }

    /// The status kind of the current run.
    #[inline]
    pub(crate) fn kind(&self) -> StatusKind {
        self.snapshot.status.kind()
    }

    /// Checks that `target` names the current run: the contract's rule,
    /// [`Target::check_run`], with this name's first generation.
    #[inline]
    pub(crate) fn check(&self, target: Target<'_>) -> Result<()> {
        target.check_run(self.first_generation, &self.snapshot.id)
    }

    /// Applies a status-machine transition to `run`, which must still be the current run.
    /// A refused transition is returned as an error and leaves the slot untouched.
    pub(crate) fn transition(
        &mut self,
        run: &Run,
        step: impl FnOnce(&ProcessSnapshot) -> Result<ProcessSnapshot, InvalidTransition>,
    ) -> Result<()> {
        if !std::ptr::eq(Arc::as_ptr(&self.run), run) {
            return Err(ProcessError::Superseded {
                asked: run.id,
                current: self.snapshot.id,
            });
        }
        let next = step(&self.snapshot)
            .map_err(|source| ProcessError::Transition { id: run.id, source })?;
        if next.status.is_terminal() {
            run.record_end(&next);
        }
        self.snapshot = next;
        Ok(())
    }

    /// Replaces the ended current run with `run` (already `Starting`, described by
    /// `snapshot`). Returns what was displaced, for the caller to release after unlocking.
    pub(crate) fn replace(&mut self, run: Arc<Run>, snapshot: ProcessSnapshot) -> Retired {
        debug_assert!(
            self.snapshot.status.is_terminal(),
            "only ended runs are replaced"
        );
        Retired {
            _run: Some(std::mem::replace(&mut self.run, run)),
            _snapshot: Some(std::mem::replace(&mut self.snapshot, snapshot)),
            _child: self.child.take(),
            pending: self.pending_restart.take(),
        }
    }

    /// Takes the pending automatic restart, for the caller to cancel after unlocking.
    pub(crate) fn take_pending(&mut self) -> Retired {
        Retired {
            pending: self.pending_restart.take(),
            ..Retired::default()
        }
    }
}

/// What a critical section displaced: dropped, and its restart cancelled, only once the entry
/// lock is released, because freeing a full log ring (thousands of lines) or waking a thread
/// under the lock would stall the readers queued behind it.
#[derive(Debug, Default)]
#[must_use = "release it after the entry lock is dropped"]
pub(crate) struct Retired {
    /// The replaced run (its ring may be large).
    _run: Option<Arc<Run>>,
    /// The replaced snapshot.
    _snapshot: Option<ProcessSnapshot>,
    /// The replaced run's child handle.
    _child: Option<Arc<dyn Child>>,
    /// A cancelled automatic restart whose thread must be woken.
    pending: Option<PendingRestart>,
}

impl Retired {
    /// True if an automatic restart was cancelled.
    pub(crate) fn cancelled_restart(&self) -> bool {
        self.pending.is_some()
    }

    /// Wakes the cancelled restart's thread and frees what was displaced. Call with no lock held.
    pub(crate) fn release(self) {
        if let Some(pending) = &self.pending {
            pending.cancel.set();
        }
    }
}

/// True for the statuses during which a run holds its name (`Pending` to `Stopping`).
pub(crate) fn is_live(kind: StatusKind) -> bool {
    !kind.is_terminal()
}

/// The error for a name the registry does not hold.
pub(crate) fn not_found(name: &str) -> ProcessError {
    ProcessError::NotFound {
        name: name.to_owned(),
    }
}

/// The error for a stop or restart of a run whose spawn is in flight.
pub(crate) fn busy(snapshot: &ProcessSnapshot) -> ProcessError {
    ProcessError::Busy {
        id: snapshot.id,
        status: snapshot.status.kind(),
    }
}

/// True when `status` is the end of a stop that needed SIGKILL.
pub(crate) fn was_killed(status: &Status) -> bool {
    matches!(status, Status::Killed(sig) if *sig == procman_core::Signal::KILL)
}
