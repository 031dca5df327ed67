//! Starting a run: registering it (a new name, or replacing an ended run) under a lock, then
//! spawning, recording the pid and attaching the event sink with no lock held.
//!
//! A run is installed already `Starting` — `Pending -> Starting` is validated, but both steps
//! happen in the one critical section that installs it, so no reader ever waits on a `Pending`
//! run and no second acquisition is spent on it.

use std::time::SystemTime;

use procman_core::launcher::Child;
use procman_core::sync::Arc;
use procman_core::sync::atomic::Ordering;
use procman_core::{
    IfRunning, ProcessError, ProcessId, ProcessSnapshot, ProcessSpec, Result, Signal,
};

use crate::manager::Shared;
use crate::registry::{Entry, Retired, Slot, is_live};
use crate::run::{Run, RunEvents};

/// What a start found under the entry lock.
enum Claim {
    /// The name is live; the caller gets this snapshot.
    Existing(ProcessSnapshot),
    /// A new run was installed; the caller spawns it.
    Installed(Arc<Run>, Retired),
}

impl Shared {
    /// [`procman_core::ProcessManager::start`].
    pub(crate) fn start(
        self: &Arc<Self>,
        spec: ProcessSpec,
        if_running: IfRunning,
    ) -> Result<ProcessSnapshot> {
        spec.validate()?;
        // A cheap early refusal; the check that closes the race is made under a lock below.
        if self.is_shutting_down() {
            return Err(ProcessError::ShuttingDown);
        }
        let spec = Arc::new(spec);
        let existing = self.registry.read().get(&*spec.name).cloned();
        let (entry, claim) = match existing {
            Some(entry) => {
                let claim = self.claim(&entry, &spec, if_running)?;
                (entry, claim)
            }
            None => self.register(&spec, if_running)?,
        };
        match claim {
            Claim::Existing(snapshot) => Ok(snapshot),
            Claim::Installed(run, retired) => {
                retired.release();
                self.spawn_run(&entry, &run)
            }
        }
    }

    /// Adds a new name, under the registry's write lock, with its first run installed.
    fn register(
        &self,
        spec: &Arc<ProcessSpec>,
        if_running: IfRunning,
    ) -> Result<(Arc<Entry>, Claim)> {
        let mut registry = self.registry.write();
        if self.is_shutting_down() {
            return Err(ProcessError::ShuttingDown);
        }
        // SEEDED BUG `seeded-bug-check-then-insert` (procman-races catalogue): without this
        // re-check under the write lock, a start that read "absent" inserts over a racing one.
        #[cfg(not(feature = "seeded-bug-check-then-insert"))]
        if let Some(entry) = registry.get(&*spec.name).cloned() {
            // Another start registered the name since our read; treat it as an existing name.
            drop(registry);
            let claim = self.claim(&entry, spec, if_running)?;
            return Ok((entry, claim));
        }
        let limit = self.config.max_processes;
        if registry.len() >= limit {
            return Err(ProcessError::LimitReached {
                name: spec.name.to_string(),
                limit,
            });
        }
        let (run, snapshot) = self.new_run(spec, 0)?;
        let entry = Arc::new(Entry::new(Arc::clone(&run), snapshot));
        registry.insert(Arc::clone(&spec.name), Arc::clone(&entry));
        drop(registry);
        self.count_start();
        Ok((entry, Claim::Installed(run, Retired::default())))
    }

    /// Under the entry's write lock: returns the live run per `if_running`, or replaces the
    /// ended one (keeping its restart count, cancelling a pending automatic restart).
    fn claim(
        &self,
        entry: &Entry,
        spec: &Arc<ProcessSpec>,
        if_running: IfRunning,
    ) -> Result<Claim> {
        // SEEDED BUG `seeded-bug-ended-check-then-install` (procman-races catalogue): whether
        // the run is live is read under a read acquisition and acted on under a later write
        // one, so two starts of an ended name both install a run, the second over the first.
        #[cfg(feature = "seeded-bug-ended-check-then-install")]
        let live_when_read = is_live(entry.slot.read().kind());
        let mut slot = entry.slot.write();
        // SEEDED BUG `seeded-bug-lock-order` (procman-races catalogue): the registry's lock
        // taken while the entry's is held, against the documented order (registry, then entry)
        // that every reader follows.
        #[cfg(feature = "seeded-bug-lock-order")]
        let _registry = self.registry.write();
        #[cfg(not(feature = "seeded-bug-ended-check-then-install"))]
        let live_when_read = is_live(slot.kind());
        if live_when_read {
            return match if_running {
                IfRunning::ReturnExisting => Ok(Claim::Existing(slot.view())),
                IfRunning::Error => Err(ProcessError::AlreadyRunning {
                    id: slot.snapshot.id,
                    status: slot.kind(),
                }),
            };
        }
        let restarts = slot.snapshot.restarts;
        let (run, retired) = self.install(&mut slot, spec, restarts)?;
        Ok(Claim::Installed(run, retired))
    }

    /// Under the entry's write lock: replaces the slot's ended run with a new `Starting` run of
    /// `spec`. Refuses once shutdown has begun — checked here, under the entry lock, which the
    /// shutdown takes after raising its flag, so no install can slip past it.
    pub(crate) fn install(
        &self,
        slot: &mut Slot,
        spec: &Arc<ProcessSpec>,
        restarts: u32,
    ) -> Result<(Arc<Run>, Retired)> {
        // SEEDED BUG `seeded-bug-install-skips-shutdown-check` (procman-races catalogue):
        // without this check under the entry lock, a start of an ended name that passed the
        // early check installs its run after the shutdown has already stopped this entry.
        #[cfg(not(feature = "seeded-bug-install-skips-shutdown-check"))]
        if self.is_shutting_down() {
            return Err(ProcessError::ShuttingDown);
        }
        let (run, snapshot) = self.new_run(spec, restarts)?;
        let retired = slot.replace(Arc::clone(&run), snapshot);
        self.count_start();
        Ok((run, retired))
    }

    /// A new run of `spec`, taking the next generation, and its `Starting` snapshot. Called
    /// under the lock that installs it, so one name's generations only grow.
    fn new_run(
        &self,
        spec: &Arc<ProcessSpec>,
        restarts: u32,
    ) -> Result<(Arc<Run>, ProcessSnapshot)> {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let id = ProcessId::new(Arc::clone(&spec.name), generation);
        let snapshot = ProcessSnapshot::pending(id, restarts)
            .to_starting(SystemTime::now())
            .map_err(|source| ProcessError::Transition { id, source })?;
        let run = Arc::new(Run::new(id, Arc::clone(spec), self.config.log_ring));
        Ok((run, snapshot))
    }

    /// Counts a run that reached `Starting`.
    fn count_start(&self) {
        self.counters.started.fetch_add(1, Ordering::Relaxed);
        self.counters.active.fetch_add(1, Ordering::Relaxed);
    }

    /// Spawns the installed `Starting` run with no lock held, records the pid (`Running`), then
    /// attaches the sink. Returns the snapshot current after attach, which may already be
    /// terminal for a child that exits at once.
    pub(crate) fn spawn_run(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        run: &Arc<Run>,
    ) -> Result<ProcessSnapshot> {
        let child: Arc<dyn Child> = match self.launcher.spawn(&run.id, &run.spec) {
            Ok(child) => Arc::from(child),
            Err(error) => return Err(self.record_spawn_failure(entry, run, error.0)),
        };
        let recorded = {
            let mut slot = entry.slot.write();
            let recorded = slot.transition(run, |s| s.to_running(child.pid()));
            if recorded.is_ok() {
                slot.child = Some(Arc::clone(&child));
            }
            recorded
        };
        if let Err(error) = recorded {
            // Unreachable while the protocol holds (nobody replaces a `Starting` run); if it
            // ever is reached, do not leave an unsupervised child behind.
            tracing::error!(id = %run.id, %error, "could not record a spawned child; killing it");
            if let Err(e) = child.signal(Signal::KILL) {
                tracing::warn!(id = %run.id, error = %e, "SIGKILL of the unrecorded child failed");
            }
            run.settled.set();
            return Err(error);
        }
        child.attach(Arc::new(RunEvents::new(self, entry, run)));
        run.settled.set();
        Ok(self.snapshot_of(entry, run))
    }

    /// Records a failed spawn: `Starting -> Failed`, and returns the error for the caller.
    fn record_spawn_failure(&self, entry: &Entry, run: &Run, reason: String) -> ProcessError {
        let recorded = entry
            .slot
            .write()
            .transition(run, |s| s.to_failed(&reason, SystemTime::now()));
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        self.counters.active.fetch_sub(1, Ordering::Relaxed);
        run.settle_and_end();
        match recorded {
            Ok(()) => ProcessError::SpawnFailed { id: run.id, reason },
            Err(error) => error,
        }
    }

    /// `run`'s snapshot now: from the entry if it is still the current run, else its terminal
    /// snapshot (a run is only ever replaced once it has ended and recorded that snapshot).
    pub(crate) fn snapshot_of(&self, entry: &Entry, run: &Arc<Run>) -> ProcessSnapshot {
        {
            let slot = entry.slot.read();
            if Arc::ptr_eq(&slot.run, run) {
                return slot.view();
            }
        }
        run.final_snapshot()
            .expect("a replaced run has ended and recorded its terminal snapshot")
    }
}
