//! Stop and manual restart.
//!
//! Both decide under one write acquisition of the entry lock (`Running -> Stopping`, or join
//! the stop in flight) and then signal and wait with no lock held, on the run's exit latch.
//! Readers meanwhile see `Stopping`, without waiting for the stop to finish.

use std::time::Instant;

use procman_core::launcher::Child;
use procman_core::supervise::run_stop_sequence;
use procman_core::sync::Arc;
use procman_core::sync::atomic::Ordering;
use procman_core::{
    ProcessError, ProcessSnapshot, Result, Signal, StatusKind, StopOptions, Target,
};

use crate::manager::Shared;
use crate::registry::{Slot, busy, is_live};
use crate::run::Run;

/// A stop decided under the entry lock, to be carried out after it is released.
#[derive(Debug)]
pub(crate) struct StopPlan {
    /// The run being stopped.
    run: Arc<Run>,
    /// Its child, to signal.
    child: Arc<dyn Child>,
    /// True if this caller moved the run to `Stopping` and so runs the stop sequence; false if
    /// it joins a stop already in flight.
    initiated: bool,
    /// SIGKILL at once.
    force: bool,
}

impl StopPlan {
    /// Under the entry's write lock: plans the stop of the slot's current run. `Busy` while its
    /// spawn is in flight; `None` if it has already ended.
    pub(crate) fn begin(slot: &mut Slot, force: bool) -> Result<Option<StopPlan>> {
        let initiated = match slot.kind() {
            StatusKind::Pending | StatusKind::Starting => return Err(busy(&slot.snapshot)),
            StatusKind::Running => true,
            StatusKind::Stopping => false,
            _ => return Ok(None),
        };
        let run = Arc::clone(&slot.run);
        if initiated {
            slot.transition(&run, |s| s.to_stopping())?;
        }
        let child = slot
            .child
            .clone()
            .expect("a Running or Stopping run keeps its child: it is stored with the pid");
        Ok(Some(StopPlan {
            run,
            child,
            initiated,
            force,
        }))
    }

    /// The run being stopped.
    pub(crate) fn run(&self) -> &Arc<Run> {
        &self.run
    }

    /// The first step of the stop sequence without its wait, for the shutdown, which signals
    /// every run before waiting on any: the stop signal, or SIGKILL at once when forced, when
    /// the stop signal is SIGKILL, or when sending the stop signal failed (as
    /// [`run_stop_sequence`] does). A joined stop sends nothing; its initiator already did.
    pub(crate) fn send_stop_signal(&self) {
        if !self.initiated {
            return;
        }
        let signal = self.run.spec.stop_signal;
        if !self.force && signal != Signal::KILL {
            match self.child.signal(signal) {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(id = %self.run.id, %signal, error = %e, "stop signal failed; escalating to SIGKILL")
                }
            }
        }
        self.kill();
    }

    /// Sends SIGKILL to the run's process group.
    pub(crate) fn kill(&self) {
        if let Err(e) = self.child.signal(Signal::KILL) {
            tracing::warn!(id = %self.run.id, error = %e, "SIGKILL failed");
        }
    }

    /// Signals and waits until the run has ended. Call with no lock held: this sleeps.
    pub(crate) fn execute(self) -> Arc<Run> {
        let spec = &self.run.spec;
        if self.initiated {
            run_stop_sequence(
                &*self.child,
                spec.stop_signal,
                spec.stop_timeout,
                self.force,
                &self.run.ended,
            );
        } else {
            if self.force {
                self.kill();
            }
            self.run.ended.wait();
        }
        self.run
    }

    /// As [`StopPlan::execute`], but escalating to SIGKILL by `kill_at` at the latest, whether
    /// this caller initiated the stop or joined it: a shutdown's deadline binds every run.
    pub(crate) fn execute_by(self, kill_at: Instant) -> Arc<Run> {
        let left = kill_at.saturating_duration_since(Instant::now());
        if self.initiated {
            let signal = self.run.spec.stop_signal;
            run_stop_sequence(&*self.child, signal, left, self.force, &self.run.ended);
        } else {
            if self.force || !self.run.ended.wait_for(left) {
                self.kill();
            }
            self.run.ended.wait();
        }
        self.run
    }
}

impl Shared {
    /// [`procman_core::ProcessManager::stop`].
    pub(crate) fn stop(&self, target: Target<'_>, options: StopOptions) -> Result<ProcessSnapshot> {
        let entry = self.entry(target.name())?;
        let plan = {
            let mut slot = entry.slot.write();
            slot.check(target)?;
            match StopPlan::begin(&mut slot, options.force)? {
                Some(plan) => plan,
                None => {
                    // Ended: a pending automatic restart is what there is left to stop.
                    let retired = slot.take_pending();
                    if !retired.cancelled_restart() {
                        return Err(ProcessError::NotRunning {
                            id: slot.snapshot.id,
                            status: slot.kind(),
                        });
                    }
                    let ended = slot.view();
                    drop(slot);
                    retired.release();
                    return Ok(ended);
                }
            }
        };
        // SEEDED BUG `seeded-bug-lock-across-stop` (procman-races catalogue): the entry's lock
        // held across the stop sequence, so readers wait for the stop (Brummer's lockup).
        #[cfg(feature = "seeded-bug-lock-across-stop")]
        let _held = entry.slot.write();
        let run = plan.execute();
        // Only a manager torn down under a waiting stop leaves no terminal snapshot.
        run.final_snapshot().ok_or(ProcessError::ManagerGone)
    }

    /// [`procman_core::ProcessManager::restart`].
    pub(crate) fn restart(self: &Arc<Self>, target: Target<'_>) -> Result<ProcessSnapshot> {
        if self.is_shutting_down() {
            return Err(ProcessError::ShuttingDown);
        }
        let entry = self.entry(target.name())?;
        let (spec, plan) = {
            let mut slot = entry.slot.write();
            slot.check(target)?;
            let plan = StopPlan::begin(&mut slot, false)?;
            (Arc::clone(&slot.run.spec), plan)
        };
        if let Some(plan) = plan {
            plan.execute();
        }
        let (run, retired) = {
            let mut slot = entry.slot.write();
            if is_live(slot.kind()) {
                // A start won the race to the ended name: that run is the restart asked for.
                return Ok(slot.view());
            }
            let restarts = slot.snapshot.restarts + 1;
            self.install(&mut slot, &spec, restarts)?
        };
        self.counters.restarted.fetch_add(1, Ordering::Relaxed);
        retired.release();
        self.spawn_run(&entry, &run)
    }
}
