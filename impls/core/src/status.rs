//! The status machine every implementation follows.
//!
//! ```text
//!  Pending ──► Starting ──► Running ──► Stopping ──► Stopped
//!                 │            │            ├──────► Exited(code)
//!                 ▼            │            └──────► Killed(signal)
//!          Failed(reason)      ├──────────────────► Exited(code)    (ended by itself)
//!                              └──────────────────► Killed(signal)  (died of a signal)
//! ```
//!
//! | from       | to                                   | when |
//! |------------|--------------------------------------|------|
//! | `Pending`  | `Starting`                           | the manager begins the spawn |
//! | `Starting` | `Running`                            | the launcher spawned the child (pid known) |
//! | `Starting` | `Failed`                             | the spawn failed (the OS error names the path) |
//! | `Running`  | `Stopping`                           | a stop was asked for; the stop signal is about to be sent |
//! | `Running`  | `Exited`, `Killed`                   | the child ended by itself (no stop was asked for) |
//! | `Stopping` | `Stopped`                            | the child ended after the stop signal: what was asked for |
//! | `Stopping` | `Killed`                             | the stop escalated to SIGKILL (timeout or force) |
//! | `Stopping` | `Exited`                             | allowed for launchers that can tell a natural exit raced the stop |
//!
//! Every other pair is invalid and [`Status::transition`] returns an error: no implementation may
//! overwrite a status silently. Terminal statuses (`Stopped`, `Exited`, `Killed`, `Failed`) have no
//! successors; a restart creates a new run with a new [`crate::ProcessId`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::name::Name;
use crate::signal::Signal;

/// Where one run of a process is in its life.
///
/// `Copy`: the failure reason is interned ([`Name`]), kept out of line.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Status {
    /// Registered; the spawn has not begun.
    Pending,
    /// The spawn is in progress.
    Starting,
    /// The child is alive.
    Running,
    /// A stop was asked for and is in flight.
    Stopping,
    /// Ended because it was asked to stop (gracefully).
    Stopped,
    /// Ended by itself with this exit code.
    Exited(i32),
    /// Ended by this signal (SIGKILL after a stop timeout, or a signal from outside).
    Killed(Signal),
    /// Never ran: the spawn failed for this reason.
    Failed(Name),
}

/// The tag of a [`Status`] without its payload, for tables and counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    /// See [`Status::Pending`].
    Pending,
    /// See [`Status::Starting`].
    Starting,
    /// See [`Status::Running`].
    Running,
    /// See [`Status::Stopping`].
    Stopping,
    /// See [`Status::Stopped`].
    Stopped,
    /// See [`Status::Exited`].
    Exited,
    /// See [`Status::Killed`].
    Killed,
    /// See [`Status::Failed`].
    Failed,
}

/// An attempted transition that the status machine does not allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid status transition {from:?} -> {to:?}")]
pub struct InvalidTransition {
    /// The status the process was in.
    pub from: StatusKind,
    /// The status that was asked for.
    pub to: StatusKind,
}

impl Status {
    /// The payload-free tag.
    pub fn kind(&self) -> StatusKind {
        match self {
            Status::Pending => StatusKind::Pending,
            Status::Starting => StatusKind::Starting,
            Status::Running => StatusKind::Running,
            Status::Stopping => StatusKind::Stopping,
            Status::Stopped => StatusKind::Stopped,
            Status::Exited(_) => StatusKind::Exited,
            Status::Killed(_) => StatusKind::Killed,
            Status::Failed(_) => StatusKind::Failed,
        }
    }

    /// True for `Stopped`, `Exited`, `Killed` and `Failed`: nothing follows them.
    pub fn is_terminal(&self) -> bool {
        self.kind().is_terminal()
    }

    /// True while a child may be alive (`Running` or `Stopping`).
    pub fn is_alive(&self) -> bool {
        matches!(self, Status::Running | Status::Stopping)
    }

    /// Validates `self -> to`, returning `to` when the table allows it.
    pub fn transition(&self, to: Status) -> Result<Status, InvalidTransition> {
        if self.kind().can_become(to.kind()) {
            Ok(to)
        } else {
            Err(InvalidTransition {
                from: self.kind(),
                to: to.kind(),
            })
        }
    }
}

impl StatusKind {
    /// Every kind, in machine order.
    pub const ALL: [StatusKind; 8] = [
        StatusKind::Pending,
        StatusKind::Starting,
        StatusKind::Running,
        StatusKind::Stopping,
        StatusKind::Stopped,
        StatusKind::Exited,
        StatusKind::Killed,
        StatusKind::Failed,
    ];

    /// True for the kinds with no successor.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            StatusKind::Stopped | StatusKind::Exited | StatusKind::Killed | StatusKind::Failed
        )
    }

    /// The transition table (see the module docs).
    pub fn can_become(self, to: StatusKind) -> bool {
        use StatusKind::*;
        matches!(
            (self, to),
            (Pending, Starting)
                | (Starting, Running)
                | (Starting, Failed)
                | (Running, Stopping)
                | (Running, Exited)
                | (Running, Killed)
                | (Stopping, Stopped)
                | (Stopping, Exited)
                | (Stopping, Killed)
        )
    }

    /// The lower-case name used on the wire and in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Pending => "pending",
            StatusKind::Starting => "starting",
            StatusKind::Running => "running",
            StatusKind::Stopping => "stopping",
            StatusKind::Stopped => "stopped",
            StatusKind::Exited => "exited",
            StatusKind::Killed => "killed",
            StatusKind::Failed => "failed",
        }
    }
}

impl fmt::Display for StatusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(code) => write!(f, "exited({code})"),
            Status::Killed(sig) => write!(f, "killed({sig})"),
            Status::Failed(reason) => write!(f, "failed({reason})"),
            other => f.write_str(other.kind().as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_nine_transitions_are_valid() {
        let valid: usize = StatusKind::ALL
            .iter()
            .flat_map(|a| StatusKind::ALL.iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.can_become(**b))
            .count();
        assert_eq!(valid, 9);
        for kind in StatusKind::ALL.iter().filter(|k| k.is_terminal()) {
            assert!(StatusKind::ALL.iter().all(|to| !kind.can_become(*to)));
        }
    }

    #[test]
    fn names_on_the_wire() {
        // The names MCP clients and the harness's tables read: one per kind, as documented.
        let names: Vec<&str> = StatusKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "pending", "starting", "running", "stopping", "stopped", "exited", "killed",
                "failed"
            ]
        );
        for kind in StatusKind::ALL {
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(Status::Running.to_string(), "running");
        assert_eq!(Status::Exited(3).to_string(), "exited(3)");
        assert_eq!(Status::Killed(Signal(9)).to_string(), "killed(SIGKILL)");
        assert_eq!(
            Status::Failed("spawn: no such file".into()).to_string(),
            "failed(spawn: no such file)"
        );
        assert_eq!(format!("{:?}", Status::Exited(1)), "exited(1)");
    }

    #[test]
    fn transition_reports_both_ends() {
        let err = Status::Running.transition(Status::Starting).unwrap_err();
        assert_eq!(err.from, StatusKind::Running);
        assert_eq!(err.to, StatusKind::Starting);
        assert_eq!(
            Status::Stopping.transition(Status::Stopped).unwrap(),
            Status::Stopped
        );
    }
}
