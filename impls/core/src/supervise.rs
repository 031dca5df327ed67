//! Pieces of supervision every design shares: the next snapshot for each transition, the
//! exit-to-status rule, the exit latch a stop waits on, and the stop sequence itself.
//!
//! Keeping them here means the three designs differ only in how they store and synchronise
//! state, which is what the comparison is about.

use std::time::{Duration, SystemTime};

use crate::launcher::Child;
use crate::name::Name;
use crate::signal::Signal;
use crate::snapshot::{ExitInfo, ProcessSnapshot};
use crate::status::{InvalidTransition, Status};
use crate::sync::{Condvar, Mutex};

/// The terminal status for `exit`, given whether a stop had been asked for.
///
/// - after a stop request: SIGKILL means `Killed(SIGKILL)` (the stop escalated or was forced);
///   anything else means `Stopped`, what was asked for — never "failed";
/// - without one: an exit code is `Exited(code)`, a signal is `Killed(signal)`.
pub fn terminal_status(stop_requested: bool, exit: ExitInfo) -> Status {
    match (stop_requested, exit) {
        (true, ExitInfo::Signal(Signal::KILL)) => Status::Killed(Signal::KILL),
        (true, _) => Status::Stopped,
        (false, ExitInfo::Code(code)) => Status::Exited(code),
        (false, ExitInfo::Signal(sig)) => Status::Killed(sig),
    }
}

impl ProcessSnapshot {
    fn next(&self, to: Status) -> Result<ProcessSnapshot, InvalidTransition> {
        let status = self.status.transition(to)?;
        Ok(ProcessSnapshot { status, ..*self })
    }

    /// `Pending -> Starting`, stamping `started_at`.
    pub fn to_starting(&self, now: SystemTime) -> Result<ProcessSnapshot, InvalidTransition> {
        let mut s = self.next(Status::Starting)?;
        s.started_at = Some(now);
        Ok(s)
    }

    /// `Starting -> Running` with the child's pid.
    pub fn to_running(&self, pid: u32) -> Result<ProcessSnapshot, InvalidTransition> {
        let mut s = self.next(Status::Running)?;
        s.pid = Some(pid);
        Ok(s)
    }

    /// `Starting -> Failed(reason)`.
    pub fn to_failed(
        &self,
        reason: &str,
        now: SystemTime,
    ) -> Result<ProcessSnapshot, InvalidTransition> {
        let mut s = self.next(Status::Failed(Name::new(reason)))?;
        s.ended_at = Some(now.max(s.started_at.unwrap_or(now)));
        Ok(s)
    }

    /// `Running -> Stopping`.
    pub fn to_stopping(&self) -> Result<ProcessSnapshot, InvalidTransition> {
        self.next(Status::Stopping)
    }

    /// `Running|Stopping -> terminal` for `exit` (see [`terminal_status`]).
    pub fn to_ended(
        &self,
        exit: ExitInfo,
        now: SystemTime,
    ) -> Result<ProcessSnapshot, InvalidTransition> {
        let stop_requested = self.status == Status::Stopping;
        let mut s = self.next(terminal_status(stop_requested, exit))?;
        s.exit = Some(exit);
        // Wall clocks can step backwards; the contract promises ended_at >= started_at.
        s.ended_at = Some(now.max(s.started_at.unwrap_or(now)));
        Ok(s)
    }
}

/// A one-shot flag, set when a run ends, that a stop waits on.
#[derive(Debug, Default)]
pub struct ExitLatch {
    done: Mutex<bool>,
    cond: Condvar,
}

impl ExitLatch {
    /// An unset latch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the latch and wakes every waiter.
    pub fn set(&self) {
        *self.done.lock() = true;
        self.cond.notify_all();
    }

    /// True once set.
    pub fn is_set(&self) -> bool {
        *self.done.lock()
    }

    /// Waits until set or `timeout` passes; true if set. A zero `timeout` does not wait: it
    /// only reads the latch (so an automatic restart with no backoff restarts at once, also
    /// under the model checkers, whose timed waits never time out).
    pub fn wait_for(&self, timeout: Duration) -> bool {
        let mut done = self.done.lock();
        if !*done && !timeout.is_zero() {
            let _ = self.cond.wait_while_for(&mut done, |d| !*d, timeout);
        }
        *done
    }

    /// Waits until set.
    pub fn wait(&self) {
        let mut done = self.done.lock();
        while !*done {
            self.cond.wait(&mut done);
        }
    }
}

/// How a stop sequence ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopEscalation {
    /// The child ended after the stop signal.
    Graceful,
    /// SIGKILL was needed (timeout) or asked for (force).
    Killed,
}

/// Sends the stop signal, waits up to `timeout` for the latch, then SIGKILLs and waits for the
/// end. The caller must hold no lock: this signals and sleeps. Signal errors other than "already
/// gone" are logged and escalate straight to SIGKILL.
pub fn run_stop_sequence(
    child: &dyn Child,
    signal: Signal,
    timeout: Duration,
    force: bool,
    latch: &ExitLatch,
) -> StopEscalation {
    if !force && signal != Signal::KILL {
        match child.signal(signal) {
            Ok(()) => {
                if latch.wait_for(timeout) {
                    return StopEscalation::Graceful;
                }
            }
            Err(e) => {
                tracing::warn!(pid = child.pid(), %signal, error = %e, "stop signal failed; escalating to SIGKILL")
            }
        }
    }
    if let Err(e) = child.signal(Signal::KILL) {
        tracing::warn!(pid = child.pid(), error = %e, "SIGKILL failed");
    }
    latch.wait();
    StopEscalation::Killed
}

// The unit tests use real threads, which the model checkers forbid outside a model.
#[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
mod tests {
    use super::*;
    use crate::ProcessId;

    #[test]
    fn stop_requested_never_reads_as_failure() {
        assert_eq!(terminal_status(true, ExitInfo::Code(1)), Status::Stopped);
        assert_eq!(
            terminal_status(true, ExitInfo::Signal(Signal::TERM)),
            Status::Stopped
        );
        assert_eq!(
            terminal_status(true, ExitInfo::Signal(Signal::KILL)),
            Status::Killed(Signal::KILL)
        );
        assert_eq!(terminal_status(false, ExitInfo::Code(2)), Status::Exited(2));
    }

    #[test]
    fn transition_helpers_keep_invariants() {
        let now = SystemTime::now();
        let p = ProcessSnapshot::pending(ProcessId::new("a", 1), 0);
        let s = p.to_starting(now).unwrap();
        let r = s.to_running(42).unwrap();
        r.check_invariants().unwrap();
        let st = r.to_stopping().unwrap();
        let end = st.to_ended(ExitInfo::Signal(Signal::TERM), now).unwrap();
        assert_eq!(end.status, Status::Stopped);
        end.check_invariants().unwrap();
        assert!(end.to_stopping().is_err());
        assert!(p.to_running(1).is_err());
        let f = s.to_failed("no such file", now).unwrap();
        f.check_invariants().unwrap();
    }

    #[test]
    fn latch_wakes_waiters() {
        let latch = std::sync::Arc::new(ExitLatch::new());
        let l2 = latch.clone();
        let t = std::thread::spawn(move || l2.wait());
        latch.set();
        t.join().unwrap();
        assert!(latch.wait_for(Duration::ZERO));
    }
}
