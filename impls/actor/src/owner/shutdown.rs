//! The owner's side of a shutdown: close the door to new work, move every live run to
//! `Stopping`, and hand the caller one plan once every spawn in flight has been resolved.
//!
//! The flag and the check that new starts make of it are both owner state, read and written
//! only between two messages: a start is either admitted before the shutdown (and then counted
//! by it) or refused after, with nothing in between. A run still `Starting` when the shutdown
//! begins is waited for: when its spawn resolves (`Failed`, or attached) it joins the plan, and
//! its starter gets `ShuttingDown`. The plan is sent when the last one resolves.

use procman_core::{ProcessId, ShutdownOutcome, StatusKind};

use super::state::{Entry, State, current_in};
use crate::messages::{ShutdownPlan, StopJob};
use crate::reply::ReplyTo;

/// Whether, and how far, a shutdown has gone.
pub(crate) enum Shutdown {
    /// No shutdown asked for.
    Open,
    /// Begun; waiting for `awaiting` spawns in flight before answering with `plan`.
    Awaiting {
        reply: ReplyTo<ShutdownPlan>,
        plan: ShutdownPlan,
        awaiting: usize,
    },
    /// The plan has been handed to the shutdown caller.
    Planned,
}

impl Shutdown {
    /// True once a shutdown has begun: new starts and restarts are refused.
    pub(crate) fn started(&self) -> bool {
        !matches!(self, Shutdown::Open)
    }
}

impl State {
    /// `Shutdown`: the first call gets the plan (once every spawn in flight resolved); later
    /// calls get an empty one, having nothing new to report.
    pub(crate) fn begin_shutdown(&mut self, reply: ReplyTo<ShutdownPlan>) {
        if self.shutdown.started() {
            reply.send(ShutdownPlan::default());
            return;
        }
        let mut plan = ShutdownPlan::default();
        let mut awaiting = 0;
        for entry in self.registry.values_mut() {
            entry.restart_pending = false;
            match entry.run.kind() {
                StatusKind::Pending | StatusKind::Starting => {
                    entry.run.awaited_by_shutdown = true;
                    awaiting += 1;
                }
                StatusKind::Running | StatusKind::Stopping => plan.jobs.extend(stop_job(entry)),
                _ => {}
            }
        }
        self.shutdown = if awaiting == 0 {
            reply.send(plan);
            Shutdown::Planned
        } else {
            Shutdown::Awaiting {
                reply,
                plan,
                awaiting,
            }
        };
    }

    /// A run the shutdown waits for has resolved its spawn: add it to the plan (stop it if it
    /// is live) and send the plan if it was the last.
    pub(crate) fn settle_for_shutdown(&mut self, id: &ProcessId) {
        let Some(entry) = current_in(&mut self.registry, id) else {
            return;
        };
        if !std::mem::take(&mut entry.run.awaited_by_shutdown) {
            return;
        }
        let live = matches!(entry.run.kind(), StatusKind::Running | StatusKind::Stopping);
        let job = if live { stop_job(entry) } else { None };
        let Shutdown::Awaiting { plan, awaiting, .. } = &mut self.shutdown else {
            return;
        };
        match job {
            Some(job) => plan.jobs.push(job),
            None => plan.settled.push((*id, ShutdownOutcome::AlreadyEnded)),
        }
        *awaiting -= 1;
        if *awaiting == 0
            && let Shutdown::Awaiting { reply, plan, .. } =
                std::mem::replace(&mut self.shutdown, Shutdown::Planned)
        {
            reply.send(plan);
        }
    }
}

/// The job that stops a live run: leads (and records `Stopping`) if it is `Running`, only
/// enforces the deadline if another stop is already in flight.
fn stop_job(entry: &mut Entry) -> Option<StopJob> {
    let run = &mut entry.run;
    let lead = run.kind() == StatusKind::Running;
    if lead {
        match run.snapshot.to_stopping() {
            Ok(stopping) => run.snapshot = stopping,
            Err(e) => {
                tracing::warn!(id = %run.id(), error = %e, "shutdown could not stop a run");
                return None;
            }
        }
    }
    let live = run.live.as_ref()?;
    Some(StopJob {
        id: *run.id(),
        child: live.child.clone(),
        end: live.end.end().clone(),
        signal: entry.spec.stop_signal,
        timeout: entry.spec.stop_timeout,
        lead,
    })
}
