//! The caller's half of a stop: signals and waits, on the caller's thread or task, never on the
//! owner.
//!
//! The owner has already recorded `Stopping` and handed over a [`StopPlan`]; what is left is
//! [`run_stop_sequence`] (stop signal, wait up to the stop timeout, SIGKILL) and the wait for the
//! run's [`RunEnd`]. The async form does the same with an awaited end and a
//! deadline the owner's timer wakes; the shutdown form does it for many runs at once from one
//! thread.

use std::time::{Duration, Instant};

use procman_core::supervise::run_stop_sequence;
use procman_core::{
    Child, ProcessError, ProcessSnapshot, Result as PmResult, ShutdownOutcome, ShutdownReport,
    Signal, Status,
};

use crate::mailbox::Post;
use crate::messages::{ShutdownPlan, StopJob, StopPlan};
use crate::run_end::RunEnd;

/// Carries out `plan`, blocking this thread, and returns the run's terminal snapshot.
pub(crate) fn stop_blocking(plan: StopPlan) -> PmResult<ProcessSnapshot> {
    match plan {
        StopPlan::Lead(lead) => {
            run_stop_sequence(
                &*lead.child,
                lead.signal,
                lead.timeout,
                lead.force,
                lead.end.latch(),
            );
            lead.end.result()
        }
        StopPlan::Join { child, end, force } => {
            if force {
                kill(&*child);
            }
            end.wait()
        }
        StopPlan::Done(snapshot) => Ok(snapshot),
    }
}

/// Carries out `plan` without blocking the thread: the signals are sent from the task (a signal
/// is a non-blocking syscall), the waits are awaited.
pub(crate) async fn stop_async(plan: StopPlan, post: &impl Post) -> PmResult<ProcessSnapshot> {
    match plan {
        StopPlan::Lead(lead) => {
            // The same escalation as `run_stop_sequence`.
            if !lead.force && lead.signal != Signal::KILL {
                match lead.child.signal(lead.signal) {
                    Ok(()) => {
                        let deadline = Instant::now().checked_add(lead.timeout);
                        if let Some(result) = lead.end.wait_async(deadline, post).await {
                            return result;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(pid = lead.child.pid(), signal = %lead.signal, error = %e, "stop signal failed; escalating to SIGKILL");
                    }
                }
            }
            kill(&*lead.child);
            wait_end_async(&lead.end, post).await
        }
        StopPlan::Join { child, end, force } => {
            if force {
                kill(&*child);
            }
            wait_end_async(&end, post).await
        }
        StopPlan::Done(snapshot) => Ok(snapshot),
    }
}

async fn wait_end_async(end: &RunEnd, post: &impl Post) -> PmResult<ProcessSnapshot> {
    // With no deadline the wait only ends with the run.
    end.wait_async(None, post)
        .await
        .unwrap_or(Err(ProcessError::ManagerGone))
}

/// Stops every run of a shutdown at once from this thread: every stop signal first, then each
/// run's SIGKILL at its own deadline (`min(spec.stop_timeout, deadline)` after the start), then
/// the wait for every end. Escalates like [`run_stop_sequence`]: a stop signal that cannot be
/// sent means SIGKILL at once.
pub(crate) fn stop_all(plan: ShutdownPlan, deadline: Duration) -> ShutdownReport {
    let ShutdownPlan { jobs, settled } = plan;
    let began = Instant::now();
    let mut pending: Vec<(Option<Instant>, StopJob)> = jobs
        .into_iter()
        .map(|job| {
            let timeout = job.timeout.min(deadline);
            let graceful = job.lead && job.signal != Signal::KILL && !timeout.is_zero();
            if job.lead && !graceful {
                kill(&*job.child);
            } else if job.lead && let Err(e) = job.child.signal(job.signal) {
                tracing::warn!(pid = job.child.pid(), signal = %job.signal, error = %e, "stop signal failed; escalating to SIGKILL");
                kill(&*job.child);
            }
            // A run another stop is leading gets the shutdown's deadline, not its own timeout.
            let kill_at = if job.lead { timeout } else { deadline };
            (began.checked_add(kill_at), job)
        })
        .collect();
    // Earliest deadline first, so that each wait is only as long as that run's own deadline.
    // A deadline too far to represent sorts last and is never waited on by time.
    pending.sort_by_key(|(kill_at, _)| (kill_at.is_none(), *kill_at));
    for (kill_at, job) in &pending {
        if let Some(at) = kill_at
            && !job
                .end
                .latch()
                .wait_for(at.saturating_duration_since(Instant::now()))
        {
            kill(&*job.child);
        }
    }
    let mut processes = settled;
    for (_, job) in pending {
        match job.end.wait() {
            Ok(snapshot) => processes.push((job.id, outcome(&snapshot.status))),
            Err(e) => {
                tracing::warn!(id = %job.id, error = %e, "cannot tell how a run ended: the owner is gone")
            }
        }
    }
    // By name, then generation.
    processes.sort_by_key(|a| a.0);
    ShutdownReport { processes }
}

/// How a run the shutdown reached ended, from its terminal status.
fn outcome(status: &Status) -> ShutdownOutcome {
    match status {
        Status::Stopped => ShutdownOutcome::Graceful,
        Status::Killed(Signal::KILL) => ShutdownOutcome::Killed,
        // Only a launcher that can tell a natural exit raced the stop reports anything else.
        _ => ShutdownOutcome::AlreadyEnded,
    }
}

/// SIGKILL; a failure is logged, as [`run_stop_sequence`] does.
pub(crate) fn kill(child: &dyn Child) {
    if let Err(e) = child.signal(Signal::KILL) {
        tracing::warn!(pid = child.pid(), error = %e, "SIGKILL failed");
    }
}
