//! Restarts: the manual `restart` call, and automatic restarts after a backoff.
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
use crate::supervisor::Supervisor;

impl Supervisor {
    /// [`procman_core::ProcessManager::restart`].
    pub(crate) fn restart(&self, target: Target<'_>) -> Result<ProcessSnapshot> {
        // An early refusal so that a restart after shutdown stops nothing; the start below
        // goes through the gate properly.
        if self.gate.is_closed() {
            return Err(ProcessError::ShuttingDown);
        }
        let entry = self.lookup(target)?;
        loop {
            let current = entry.load();
            entry.check_target(target, &current)?;
            let status = &current.snapshot.status;
            if status.is_alive() {
                let id = current.snapshot.id.clone();
                drop(current);
                match self.stop_run(&entry, Target::Id(&id), StopOptions::default(), None) {
                    // Ended (by the stop or by itself), or replaced meanwhile: look again.
                    Ok(_)
                    | Err(ProcessError::NotRunning { .. } | ProcessError::Superseded { .. }) => {
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !status.is_terminal() {
                return Err(ProcessError::Busy {
                    id: current.snapshot.id.clone(),
                    status: status.kind(),
                });
            }
            let _pass = self.gate.enter()?;
            let next = self.next_run(
                current.run.spec.clone(),
                current.snapshot.restarts + 1,
                current.auto_restarts,
            )?;
            // Exactly the ended state looked at: if anyone replaced it meanwhile, look again.
            if let Ok(new) = entry.compare_and_swap(&current, next) {
                current.cancel_pending_restart();
                self.counters.restarted();
                let run = new.run.clone();
                drop((current, new));
                return self.launch(&entry, &run);
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
            let still_pending = current.generation() == generation
                && current
                    .restart
                    .as_ref()
                    .is_some_and(|l| Arc::ptr_eq(l, latch));
            if !still_pending {
                return Step::Leave(None);
            }
            match self.next_run(
                current.run.spec.clone(),
                current.snapshot.restarts + 1,
                current.auto_restarts + 1,
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
