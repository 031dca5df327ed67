//! The owner's side of stops and restarts: decide, record `Stopping`, hand back the plan.
//!
//! The stop sequence itself (signal, wait, SIGKILL) runs on the caller; the owner learns of its
//! end through the exit event like any other.

use procman_core::{ProcessError, Result as PmResult, StatusKind};

use super::state::{Entry, State, entry_in};
use crate::messages::{Key, LeadStop, RestartPlan, StopPlan};

impl State {
    /// `Stop`: lead a stop of a running run, join one in flight, or cancel a pending automatic
    /// restart of an ended one.
    pub(crate) fn stop(&mut self, key: &Key, force: bool) -> PmResult<StopPlan> {
        let entry = entry_in(&mut self.registry, key)?;
        match entry.run.kind() {
            StatusKind::Running | StatusKind::Stopping => begin_stop(entry, force),
            status @ (StatusKind::Pending | StatusKind::Starting) => Err(ProcessError::Busy {
                id: *entry.run.id(),
                status,
            }),
            _ if entry.restart_pending => {
                entry.restart_pending = false;
                Ok(StopPlan::Done(entry.run.snapshot()))
            }
            status => Err(ProcessError::NotRunning {
                id: *entry.run.id(),
                status,
            }),
        }
    }

    /// `Restart`: stop the run first if it is live, or go straight to the start half.
    pub(crate) fn restart(&mut self, key: &Key) -> PmResult<RestartPlan> {
        if self.shutdown.started() {
            return Err(ProcessError::ShuttingDown);
        }
        let entry = entry_in(&mut self.registry, key)?;
        let id = *entry.run.id();
        match entry.run.kind() {
            StatusKind::Running | StatusKind::Stopping => Ok(RestartPlan::StopFirst {
                id,
                plan: begin_stop(entry, false)?,
            }),
            status @ (StatusKind::Pending | StatusKind::Starting) => {
                Err(ProcessError::Busy { id, status })
            }
            _ => Ok(RestartPlan::Ended { id }),
        }
    }
}

/// `Running -> Stopping` with a plan to lead the stop, or, if already `Stopping`, a plan to join.
fn begin_stop(entry: &mut Entry, force: bool) -> PmResult<StopPlan> {
    let run = &mut entry.run;
    let lead = run.kind() == StatusKind::Running;
    if lead {
        run.snapshot = run.snapshot.to_stopping().map_err(|e| run.refused(e))?;
    }
    let live = run
        .live
        .as_ref()
        .expect("a running or stopping run has its child");
    let child = live.child.clone();
    let end = live.end.end().clone();
    Ok(if lead {
        StopPlan::Lead(LeadStop {
            child,
            end,
            signal: entry.spec.stop_signal,
            timeout: entry.spec.stop_timeout,
            force,
        })
    } else {
        StopPlan::Join { child, end, force }
    })
}
