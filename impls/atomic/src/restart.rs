//! Restarts: the manual `restart` call, and automatic restarts after a backoff.
//!
//! A manual restart has two phases, like the mutex design's. First it loads the name's current
//! run once — the run it targets — and answers `Busy` if that run is `Pending`/`Starting`, or
//! stops it by id if it is `Running`/`Stopping` (joining a stop in flight); a run that ended
//! meanwhile, by itself or replaced, is simply not stopped. It never stops any other run.
//! Then, through the shutdown gate, one [`Entry::update`] loop: if the current state is ended,
//! it installs the new run (the targeted run's spec, `restarts + 1`, any pending automatic
//! restart cancelled) and launches it; if another client's start registered a live run of the
//! name in between, that run won the race and the restart returns its snapshot, as `start`
//! with the name already running would, and counts no restart.
//!
//! An automatic restart is armed by the exit event in the same compare-and-swap that records the
//! end: the terminal state carries the latch its backoff thread sleeps on. The thread holds only
//! `Weak`s, so it never keeps a dropped manager alive. It is cancelled by whatever replaces that
//! state or clears the latch from it — a start, a restart, a stop, a shutdown — each of which also
//! opens the latch so the thread wakes at once. When the backoff ends the thread restarts the name
//! only if the state still carries *its* latch (pointer identity, checked in the compare-and-swap
//! that installs the new run) and the shutdown gate lets it in.

use std::time::Duration;

use procman_core::supervise::ExitLatch;
use procman_core::sync::{Arc, thread};
use procman_core::{ProcessError, ProcessSnapshot, Result, StopOptions, Target};

use crate::entry::{Entry, Step, Updated};
use crate::shared::Shared;

impl Shared {
    /// [`procman_core::ProcessManager::restart`]: stop the run current when the call began
    /// (see the module docs), then register a new run unless another start won the name.
    pub(crate) fn restart(&self, target: Target<'_>) -> Result<ProcessSnapshot> {
        // An early refusal so that a restart after shutdown stops nothing; the start below
        // goes through the gate properly.
        if self.gate.is_closed() {
            return Err(ProcessError::ShuttingDown);
        }
        let entry = self.lookup(target)?;
        // Phase 1: the targeted run, looked at once. Only this run is ever stopped.
        let targeted = entry.load();
        entry.check_target(target, &targeted.snapshot.id)?;
        let status = &targeted.snapshot.status;
        if !status.is_alive() && !status.is_terminal() {
            return Err(ProcessError::Busy {
                id: targeted.snapshot.id,
                status: status.kind(),
            });
        }
        let spec = targeted.run.spec.clone();
        if status.is_alive() {
            let id = targeted.snapshot.id;
            drop(targeted);
            // By id: if the run ended by itself or was replaced meanwhile, this stops nothing
            // else — in particular not a run another client started since.
            match self.stop_run(&entry, Target::Id(&id), StopOptions::default(), None) {
                Ok(_) | Err(ProcessError::NotRunning { .. } | ProcessError::Superseded { .. }) => {}
                Err(e) => return Err(e),
            }
        } else {
            drop(targeted);
        }
        // Phase 2: replace whatever ended state is current now. A live run found here was
        // started by someone else after the targeted run ended: that run won the race and is
        // what this restart returns, as a start of a running name would.
        let _pass = self.gate.enter()?;
        let registered = entry.update(|current| {
            if !current.snapshot.status.is_terminal() {
                return Step::Leave(Ok(current.view()));
            }
            match self.next_run(
                spec.clone(),
                current.snapshot.restarts + 1,
                current.auto_restarts,
                current.run.log.mirror(),
            ) {
                Ok(next) => Step::Install(next),
                Err(e) => Step::Leave(Err(e)),
            }
        });
        match registered {
            // SEEDED BUG `seeded-bug-stats-count-a-joined-restart` (procman-races catalogue):
            // a restart that found a run another start made, and returns it, counts a restart
            // it did not make, so `stats().restarted` drifts from what happened.
            #[cfg(feature = "seeded-bug-stats-count-a-joined-restart")]
            Updated::Left(Ok(joined)) => {
                self.counters.restarted();
                Ok(joined)
            }
            Updated::Left(result) => result,
            Updated::Installed { old, new } => {
                old.cancel_pending_restart();
                self.counters.restarted();
                let run = new.run.clone();
                drop((old, new));
                self.launch(&entry, &run)
            }
        }
    }

    /// Starts the backoff thread of an automatic restart armed with `latch` for run
    /// `generation` of `entry`.
    pub(crate) fn schedule_restart(
        &self,
        entry: &Arc<Entry>,
        generation: u64,
        latch: Arc<ExitLatch>,
        delay: Duration,
    ) {
        let supervisor = self.weak();
        let entry = Arc::downgrade(entry);
        // Detached: it ends when the backoff ends or the latch opens (cancel or shutdown).
        drop(thread::spawn(move || {
            if latch.wait_for(delay) {
                return; // cancelled
            }
            if let (Some(supervisor), Some(entry)) = (supervisor.upgrade(), entry.upgrade()) {
                supervisor.restart_automatically(&entry, generation, &latch);
            }
        }));
    }

    /// The end of a backoff: registers and launches the next run if the restart is still
    /// pending and no shutdown began.
    fn restart_automatically(&self, entry: &Arc<Entry>, generation: u64, latch: &Arc<ExitLatch>) {
        let Ok(_pass) = self.gate.enter() else {
            return;
        };
        let registered = entry.update(|current| {
            #[cfg(not(feature = "seeded-bug-auto-restart-ignores-cancel"))]
            let still_pending = current.generation() == generation
                && current
                    .restart
                    .as_ref()
                    .is_some_and(|l| Arc::ptr_eq(l, latch));
            // SEEDED BUG `seeded-bug-auto-restart-ignores-cancel` (procman-races catalogue):
            // the backoff's end checks only that the run is still the one that armed it, not
            // that its restart is still armed, so a stop that cancelled the restart after the
            // backoff ended (and returned the ended run) is overridden and the name comes back.
            #[cfg(feature = "seeded-bug-auto-restart-ignores-cancel")]
            let still_pending = {
                let _ = latch;
                current.generation() == generation
            };
            if !still_pending {
                return Step::Leave(None);
            }
            match self.next_run(
                current.run.spec.clone(),
                current.snapshot.restarts + 1,
                current.auto_restarts + 1,
                current.run.log.mirror(),
            ) {
                Ok(next) => Step::Install(next),
                Err(e) => Step::Leave(Some(e)),
            }
        });
        match registered {
            Updated::Installed { new, .. } => {
                self.counters.restarted();
                let run = new.run.clone();
                drop(new);
                if let Err(e) = self.launch(entry, &run) {
                    tracing::warn!(id = %run.id, error = %e, "automatic restart failed");
                }
            }
            Updated::Left(Some(e)) => {
                tracing::error!(error = %e, "automatic restart refused by the status machine");
            }
            Updated::Left(None) => {}
        }
    }
}
