//! The end of a run and the automatic restart it may lead to.
//!
//! An exit is one write acquisition of the entry lock: the terminal transition, the terminal
//! snapshot recorded for stoppers, and — when the run ended by itself and its policy wants it —
//! a [`PendingRestart`] token. The backoff is waited out on a thread of its own that holds only
//! a `Weak` to the manager and the token's cancel latch; when it fires it restarts only if its
//! token is still the entry's, so a stop, start, restart or shutdown cancels it just by taking
//! the token (and wakes the thread early by setting the latch).

use std::time::{Duration, SystemTime};

use procman_core::supervise::ExitLatch;
use procman_core::sync::atomic::Ordering;
use procman_core::sync::{Arc, thread};
use procman_core::{ExitInfo, ProcessError, ProcessId, RestartMode, Status};

use crate::manager::Shared;
use crate::registry::{Entry, PendingRestart};
use crate::run::Run;

impl Shared {
    /// Records that `run`'s child is gone (`on_exit`): the terminal status, the wake-up of
    /// stoppers, and the automatic restart if one is due.
    pub(crate) fn record_exit(
        self: &Arc<Self>,
        entry: &Entry,
        run: &Arc<Run>,
        exit: ExitInfo,
        now: SystemTime,
    ) {
        let policy = run.spec.restart;
        // Allocated before locking, so the critical section allocates nothing.
        let cancel = (policy.mode != RestartMode::Never).then(|| Arc::new(ExitLatch::new()));
        let mut slot = entry.slot.write();
        if !Arc::ptr_eq(&slot.run, run) {
            // Only ended runs are replaced, so this is a second exit of a superseded run.
            drop(slot);
            tracing::warn!(id = %run.id, ?exit, "exit event of a superseded run ignored");
            return;
        }
        let ended_by_itself = slot.snapshot.status == Status::Running;
        if let Err(error) = slot.transition(run, |s| s.to_ended(exit, now)) {
            drop(slot);
            tracing::error!(id = %run.id, %error, "exit event refused by the status machine; ignored");
            return;
        }
        let child = slot.child.take();
        let done = slot.auto_restarts;
        let restart = match cancel {
            Some(cancel)
                if ended_by_itself
                    && !self.is_shutting_down()
                    && policy.wants_restart(&exit, done) =>
            {
                slot.pending_restart = Some(PendingRestart {
                    after: run.id.generation,
                    cancel: Arc::clone(&cancel),
                });
                Some((cancel, policy.backoff(done)))
            }
            _ => None,
        };
        drop(slot);
        drop(child);
        self.counters.active.fetch_sub(1, Ordering::Relaxed);
        run.ended.set();
        if let Some((cancel, backoff)) = restart {
            self.schedule_restart(run.id, cancel, backoff);
        }
    }

    /// Waits out `backoff` on a new thread, then restarts the name of `ended` if the restart
    /// is still pending. The thread holds no strong reference to the manager while it waits.
    fn schedule_restart(
        self: &Arc<Self>,
        ended: ProcessId,
        cancel: Arc<ExitLatch>,
        backoff: Duration,
    ) {
        let manager = Arc::downgrade(self);
        thread::spawn(move || {
            if cancel.wait_for(backoff) {
                return; // cancelled
            }
            if let Some(shared) = manager.upgrade() {
                shared.fire_restart(&ended, &cancel);
            }
        });
    }

    /// The backoff of `ended`'s automatic restart is over: start the next run if the token is
    /// still the entry's and no shutdown began.
    fn fire_restart(self: &Arc<Self>, ended: &ProcessId, cancel: &Arc<ExitLatch>) {
        let Ok(entry) = self.entry(&ended.name) else {
            return;
        };
        let (run, retired) = {
            let mut slot = entry.slot.write();
            let ours = slot
                .pending_restart
                .as_ref()
                .is_some_and(|p| p.after == ended.generation && Arc::ptr_eq(&p.cancel, cancel));
            if !ours {
                return; // cancelled by a stop, start or restart that took the token
            }
            let spec = Arc::clone(&slot.run.spec);
            let restarts = slot.snapshot.restarts + 1;
            match self.install(&mut slot, &spec, restarts) {
                Ok(installed) => {
                    slot.auto_restarts += 1;
                    installed
                }
                // The shutdown takes and cancels the token itself.
                Err(ProcessError::ShuttingDown) => return,
                Err(error) => {
                    drop(slot);
                    tracing::error!(%error, "automatic restart could not be installed");
                    return;
                }
            }
        };
        self.counters.restarted.fetch_add(1, Ordering::Relaxed);
        retired.release();
        if let Err(error) = self.spawn_run(&entry, &run) {
            // The run is recorded as `Failed`; readers see why.
            tracing::warn!(%error, "automatic restart failed");
        }
    }
}
