//! Stopping a run: one compare-and-swap `Running -> Stopping` elects the thread that runs the stop
//! sequence; everyone else who asks meanwhile joins it by waiting on the run's end latch.
//!
//! The sequence ([`run_stop_sequence`]) signals and sleeps, so it runs with nothing held: no lock,
//! no shard guard, no `SwapCell` guard — only `Arc`s to the run and its child. The exit event,
//! which may arrive on this very thread inside `child.signal`, installs the terminal state and
//! opens the latch.

use std::time::Duration;

use procman_core::supervise::{StopEscalation, run_stop_sequence};
use procman_core::{
    Child, ProcessError, ProcessSnapshot, Result, Signal, Status, StopOptions, Target,
};

use crate::entry::Entry;
use crate::run::{Run, transition_error};
use crate::shared::Shared;

/// How a stop reached its end, for shutdown's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StopPath {
    /// This call moved the run to `Stopping` and ran the stop sequence.
    Sequence(StopEscalation),
    /// A stop was already in flight; this call waited for it.
    Joined,
    /// The run had ended by itself; this call cancelled its pending automatic restart.
    RestartCancelled,
}

impl Shared {
    /// [`procman_core::ProcessManager::stop`].
    pub(crate) fn stop(&self, target: Target<'_>, options: StopOptions) -> Result<ProcessSnapshot> {
        let entry = self.lookup(target)?;
        self.stop_run(&entry, target, options, None)
            .map(|(snapshot, _)| snapshot)
    }

    /// Stops `target`'s run; with `deadline`, no wait for a graceful end lasts longer than it.
    pub(crate) fn stop_run(
        &self,
        entry: &Entry,
        target: Target<'_>,
        options: StopOptions,
        deadline: Option<Duration>,
    ) -> Result<(ProcessSnapshot, StopPath)> {
        let mut current = entry.load();
        loop {
            entry.check_target(target, &current.snapshot.id)?;
            let status = &current.snapshot.status;
            match status {
                Status::Pending | Status::Starting => {
                    return Err(ProcessError::Busy {
                        id: current.snapshot.id,
                        status: status.kind(),
                    });
                }
                Status::Running => {
                    let stopping = current
                        .snapshot
                        .to_stopping()
                        .map_err(|e| transition_error(&current.snapshot.id, e))?;
                    match entry.compare_and_swap(&current, current.with_snapshot(stopping)) {
                        Ok(installed) => {
                            // Held by nobody here, so that the exit event can recycle it.
                            drop(installed);
                            let (run, child) = (current.run.clone(), current.live_child());
                            entry.recycle(current);
                            let spec = &run.spec;
                            let timeout =
                                deadline.map_or(spec.stop_timeout, |d| d.min(spec.stop_timeout));
                            let how = run_stop_sequence(
                                &*child,
                                spec.stop_signal,
                                timeout,
                                options.force,
                                run.end_latch(),
                            );
                            return Ok((run.wait_ended(), StopPath::Sequence(how)));
                        }
                        Err(found) => current = found,
                    }
                }
                Status::Stopping => {
                    let (run, child) = (current.run.clone(), current.live_child());
                    drop(current);
                    join_stop(&*child, &run, options.force, deadline);
                    return Ok((run.wait_ended(), StopPath::Joined));
                }
                Status::Stopped | Status::Exited(_) | Status::Killed(_) | Status::Failed(_) => {
                    if current.restart.is_none() {
                        return Err(ProcessError::NotRunning {
                            id: current.snapshot.id,
                            status: status.kind(),
                        });
                    }
                    match entry.compare_and_swap(&current, current.without_restart()) {
                        Ok(_) => {
                            current.cancel_pending_restart();
                            let ended = current.view();
                            entry.recycle(current);
                            return Ok((ended, StopPath::RestartCancelled));
                        }
                        Err(found) => current = found,
                    }
                }
            }
        }
    }
}

/// Joins a stop in flight: with `force`, SIGKILL now; with a `deadline`, SIGKILL if the run has
/// not ended by then. The caller then waits for the end.
fn join_stop(child: &dyn Child, run: &Run, force: bool, deadline: Option<Duration>) {
    let kill_now = force || deadline.is_some_and(|d| !run.end_latch().wait_for(d));
    if kill_now && let Err(e) = child.signal(Signal::KILL) {
        tracing::warn!(id = %run.id, error = %e, "SIGKILL while joining a stop failed");
    }
}
