//! Shutdown: reject new work, stop every live run concurrently, report how each ended.
//!
//! # Why no start can leave a live run behind
//!
//! The flag is raised under the registry's write lock, and every run is installed under a lock
//! that also reads the flag: a new name under the registry's write lock, a run replacing an
//! ended one under its entry's write lock. After raising the flag the shutdown takes every
//! entry's write lock in turn. So for each install, one of two orders holds:
//!
//! - the install's critical section came first: the shutdown, locking that entry (or, for a
//!   new name, collecting the registry) afterwards, sees the run and stops it;
//! - the shutdown's came first: the install's lock acquisition is ordered after the flag's
//!   store, so it reads the flag and refuses with `ShuttingDown`.
//!
//! Automatic restarts go through the same install, and the shutdown also takes each entry's
//! pending-restart token, so a backoff thread that fires later finds nothing to do.
//!
//! # Concurrency without a thread per run
//!
//! [`run_stop_sequence`](procman_core::supervise::run_stop_sequence) stops one child at a
//! time. A shutdown runs the same sequence for all live runs at once: it sends every stop
//! signal first, then waits on the exit latches in order of their SIGKILL deadlines (each run's
//! own stop timeout, capped by the shutdown's deadline), so waiting on one run never delays
//! another's escalation. A run whose spawn is still in flight cannot be signalled yet; it gets
//! a helper thread that waits for the spawn to settle and then stops it by the same deadline,
//! so a slow spawn delays nobody else's SIGKILL. Such runs are rare (a spawn takes
//! milliseconds), so the threads are too.

use std::time::{Duration, Instant};

use procman_core::sync::atomic::Ordering;
use procman_core::sync::{Arc, thread};
use procman_core::{ProcessId, ShutdownOutcome, ShutdownReport, StatusKind};

use crate::manager::Shared;
use crate::registry::{Entry, was_killed};
use crate::run::Run;
use crate::stop::StopPlan;

/// What the shutdown does with one entry, decided under its lock.
enum Step {
    /// The current run is being spawned: stop it once the spawn settles.
    Settle(Arc<Run>),
    /// Stop the run as planned (`None`: it had ended before the shutdown began).
    Stop(procman_core::Result<Option<StopPlan>>),
}

impl Shared {
    /// [`procman_core::ProcessManager::shutdown`]. Idempotent: only the call that raises the
    /// flag stops anything; later calls return an empty report at once.
    pub(crate) fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let began = Instant::now();
        let kill_at = |run: &Run| began + run.spec.stop_timeout.min(deadline);
        let entries: Vec<Arc<Entry>> = {
            let registry = self.registry.write();
            if self.shutting_down.swap(true, Ordering::SeqCst) {
                return ShutdownReport::default();
            }
            registry.values().cloned().collect()
        };

        let mut stopping: Vec<(StopPlan, Instant)> = Vec::new();
        let mut settling = Vec::new();
        for entry in entries {
            let mut slot = entry.slot.write();
            let retired = slot.take_pending();
            let step = match slot.kind() {
                StatusKind::Pending | StatusKind::Starting => Step::Settle(Arc::clone(&slot.run)),
                _ => Step::Stop(StopPlan::begin(&mut slot, false)),
            };
            drop(slot);
            retired.release();
            match step {
                Step::Settle(run) => {
                    let kill_at = kill_at(&run);
                    settling.push(thread::spawn(move || {
                        stop_once_settled(&entry, &run, kill_at)
                    }));
                }
                Step::Stop(Ok(Some(plan))) => {
                    plan.send_stop_signal();
                    let kill_at = kill_at(plan.run());
                    stopping.push((plan, kill_at));
                }
                Step::Stop(Ok(None)) => {}
                Step::Stop(Err(error)) => tracing::error!(%error, "shutdown could not stop a run"),
            }
        }

        stopping.sort_by_key(|(_, kill_at)| *kill_at);
        for (plan, kill_at) in &stopping {
            let left = kill_at.saturating_duration_since(Instant::now());
            if !plan.run().ended.wait_for(left) {
                plan.kill();
            }
        }
        let mut report = ShutdownReport::default();
        for (plan, _) in &stopping {
            let run = plan.run();
            run.ended.wait();
            report.processes.push((run.id, outcome(run)));
        }
        for helper in settling {
            match helper.join() {
                Ok(Some(row)) => report.processes.push(row),
                Ok(None) => {}
                Err(_) => tracing::error!("a shutdown helper thread panicked"),
            }
        }
        report.processes.sort_by_key(|a| a.0);
        report
    }
}

/// On a helper thread: waits for `run`'s spawn to settle, then stops it by `kill_at`.
fn stop_once_settled(
    entry: &Entry,
    run: &Run,
    kill_at: Instant,
) -> Option<(ProcessId, ShutdownOutcome)> {
    run.settled.wait();
    // Installs are refused once the flag is up, so `run` is still the entry's current run.
    let plan = StopPlan::begin(&mut entry.slot.write(), false);
    match plan {
        Ok(Some(plan)) => {
            let run = plan.execute_by(kill_at);
            Some((run.id, outcome(&run)))
        }
        // The spawn failed, or the child exited at once: it ended by itself.
        Ok(None) => Some((run.id, ShutdownOutcome::AlreadyEnded)),
        Err(error) => {
            tracing::error!(%error, "shutdown could not stop a run that was starting");
            None
        }
    }
}

/// How a run the shutdown stopped (or joined the stop of) ended.
fn outcome(run: &Run) -> ShutdownOutcome {
    match run.final_snapshot() {
        Some(end) if was_killed(&end.status) => ShutdownOutcome::Killed,
        _ => ShutdownOutcome::Graceful,
    }
}
