//! [`ProcessSnapshot`]: one immutable, consistent view of one run, and its invariants.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::id::ProcessId;
use crate::signal::Signal;
use crate::status::Status;

/// How a child ended, as the OS reported it.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitInfo {
    /// It called `exit(code)`.
    Code(i32),
    /// A signal terminated it.
    Signal(Signal),
}

impl ExitInfo {
    /// True only for exit code 0.
    pub fn success(&self) -> bool {
        matches!(self, ExitInfo::Code(0))
    }
}

impl fmt::Debug for ExitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitInfo::Code(c) => write!(f, "code {c}"),
            ExitInfo::Signal(s) => write!(f, "{s}"),
        }
    }
}

/// Counters of one run's log ring, read when the snapshot was taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogCounters {
    /// Lines appended over the run.
    pub lines: u64,
    /// Lines dropped (oldest first) to keep the ring within its bound.
    pub dropped: u64,
}

/// One consistent view of one run of a process.
///
/// Every field comes from the same moment: implementations build it under one lock acquisition,
/// from one owner, or as one immutable value swapped atomically. The log counters are the one
/// exception: they are monotonic and read beside the status, never older than it.
///
/// `Copy`: the name and a failure reason are interned ([`crate::Name`]), so a snapshot is plain
/// data and copying one out of shared state writes nothing that other threads read.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSnapshot {
    /// Which run this is.
    pub id: ProcessId,
    /// Where it is in the status machine.
    pub status: Status,
    /// The child's pid (the leader of its process group) once spawned.
    pub pid: Option<u32>,
    /// When the spawn began.
    pub started_at: Option<SystemTime>,
    /// When it reached a terminal status.
    pub ended_at: Option<SystemTime>,
    /// How it ended, for the statuses that ran.
    pub exit: Option<ExitInfo>,
    /// Restarts of this name before this run (manual and automatic).
    pub restarts: u32,
    /// Log counters.
    pub logs: LogCounters,
}

impl fmt::Debug for ProcessSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessSnapshot")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("pid", &self.pid)
            .field("exit", &self.exit)
            .field("restarts", &self.restarts)
            .field("logs", &self.logs)
            .finish_non_exhaustive()
    }
}

/// A snapshot that breaks the contract: a torn read or a bad transition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("snapshot of {id} violates the contract: {what} (snapshot: {snapshot})")]
pub struct InvariantViolation {
    /// The run concerned.
    pub id: ProcessId,
    /// Which invariant failed.
    pub what: &'static str,
    /// The whole snapshot, for the failure message.
    pub snapshot: String,
}

impl ProcessSnapshot {
    /// A fresh `Pending` snapshot.
    pub fn pending(id: ProcessId, restarts: u32) -> Self {
        ProcessSnapshot {
            id,
            status: Status::Pending,
            pid: None,
            started_at: None,
            ended_at: None,
            exit: None,
            restarts,
            logs: LogCounters::default(),
        }
    }

    /// The process name.
    pub fn name(&self) -> &str {
        &self.id.name
    }

    /// Checks every invariant the contract promises. Tests and race checks call this on each read.
    ///
    /// - a terminal status has `ended_at`; one that ran also has its exit info, matching the status;
    /// - `Running` and `Stopping` have a pid and `started_at`, and no end;
    /// - `Pending` and `Starting` have no end and no exit info;
    /// - `ended_at >= started_at`.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        let fail = |what: &'static str| {
            Err(InvariantViolation {
                id: self.id,
                what,
                snapshot: format!("{self:?}"),
            })
        };
        match &self.status {
            Status::Pending | Status::Starting => {
                if self.ended_at.is_some() || self.exit.is_some() {
                    return fail("a run that has not started has an end or exit info");
                }
                if self.status == Status::Pending && self.pid.is_some() {
                    return fail("a pending run has a pid");
                }
            }
            Status::Running | Status::Stopping => {
                if self.pid.is_none() {
                    return fail("a live run has no pid");
                }
                if self.started_at.is_none() {
                    return fail("a live run has no started_at");
                }
                if self.ended_at.is_some() || self.exit.is_some() {
                    return fail("a live run has an end or exit info");
                }
            }
            Status::Failed(_) => {
                if self.ended_at.is_none() {
                    return fail("a failed run has no ended_at");
                }
                if self.exit.is_some() {
                    return fail("a failed run (never spawned) has exit info");
                }
            }
            Status::Stopped | Status::Exited(_) | Status::Killed(_) => {
                if self.ended_at.is_none() {
                    return fail("a terminal run has no ended_at");
                }
                if self.started_at.is_none() {
                    return fail("a terminal run that ran has no started_at");
                }
                match (&self.status, self.exit) {
                    (_, None) => return fail("a terminal run has no exit info"),
                    (Status::Exited(code), Some(ExitInfo::Code(c))) if *code == c => {}
                    (Status::Exited(_), _) => {
                        return fail("exited status disagrees with exit info");
                    }
                    (Status::Killed(sig), Some(ExitInfo::Signal(s))) if *sig == s => {}
                    (Status::Killed(_), _) => {
                        return fail("killed status disagrees with exit info");
                    }
                    _ => {}
                }
            }
        }
        if let (Some(start), Some(end)) = (self.started_at, self.ended_at)
            && end < start
        {
            return fail("ended_at is before started_at");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn snap(status: Status) -> ProcessSnapshot {
        let mut s = ProcessSnapshot::pending(ProcessId::new("a", 1), 0);
        s.status = status;
        s
    }

    #[test]
    fn invariants_catch_torn_views() {
        assert!(snap(Status::Pending).check_invariants().is_ok());
        assert!(snap(Status::Running).check_invariants().is_err(), "no pid");

        let now = SystemTime::now();
        let mut s = snap(Status::Running);
        s.pid = Some(7);
        s.started_at = Some(now);
        assert!(s.check_invariants().is_ok());

        let mut t = s;
        t.status = Status::Exited(3);
        assert!(t.check_invariants().is_err(), "terminal without end");
        t.ended_at = Some(now + Duration::from_millis(1));
        t.exit = Some(ExitInfo::Code(4));
        assert!(t.check_invariants().is_err(), "code mismatch");
        t.exit = Some(ExitInfo::Code(3));
        assert!(t.check_invariants().is_ok());
        t.ended_at = Some(now - Duration::from_secs(1));
        assert!(t.check_invariants().is_err(), "end before start");

        let mut f = snap(Status::Failed("no such file".into()));
        assert!(f.check_invariants().is_err());
        f.ended_at = Some(now);
        assert!(f.check_invariants().is_ok());
    }
}
