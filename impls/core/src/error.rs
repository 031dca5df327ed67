//! [`ProcessError`]: every way a manager call can fail, each naming the process and the fix.

use crate::id::ProcessId;
use crate::status::{InvalidTransition, StatusKind};

/// Errors returned by [`crate::ProcessManager`] calls.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// The spec was rejected before anything was spawned.
    #[error("process {name:?}: invalid spec: {reason}")]
    InvalidSpec {
        /// The name as given.
        name: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// No process has this name.
    #[error("no process named {name:?}; list the processes to see the names that exist")]
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// The id names an older run of a process that has since been restarted.
    #[error("process id {asked} is an older run of {:?}; the current run is {current}", asked.name)]
    Superseded {
        /// The id asked for.
        asked: ProcessId,
        /// The current run's id.
        current: ProcessId,
    },
    /// A start was asked for with `IfRunning::Error` and the name is already live.
    #[error("process {:?} is already {status} as {id}; stop it first or start with IfRunning::ReturnExisting", id.name)]
    AlreadyRunning {
        /// The live run.
        id: ProcessId,
        /// Its status.
        status: StatusKind,
    },
    /// A stop was asked for but the run has already ended.
    #[error("process {id} is not running (it is {status}); start it again or ask for its logs")]
    NotRunning {
        /// The run.
        id: ProcessId,
        /// Its (terminal) status.
        status: StatusKind,
    },
    /// Another operation on this process is in flight (a spawn, or an automatic restart's backoff).
    #[error("process {id} is busy ({status}); retry once the operation in flight completes")]
    Busy {
        /// The run.
        id: ProcessId,
        /// Its status.
        status: StatusKind,
    },
    /// The launcher could not spawn the child. The process is registered as `Failed`.
    #[error("process {id} failed to start: {reason}")]
    SpawnFailed {
        /// The run that failed.
        id: ProcessId,
        /// The OS error, naming the path concerned.
        reason: String,
    },
    /// An implementation tried a transition that the status machine forbids.
    #[error("process {id}: {source}")]
    Transition {
        /// The run.
        id: ProcessId,
        /// The refused transition.
        source: InvalidTransition,
    },
    /// The manager is shutting down and takes no new work.
    #[error("the process manager is shutting down and accepts no new work; start a new manager")]
    ShuttingDown,
    /// The manager's process limit is reached.
    #[error(
        "cannot start {name:?}: the manager already holds its limit of {limit} processes; stop or remove some first"
    )]
    LimitReached {
        /// The name that was refused.
        name: String,
        /// The configured limit.
        limit: usize,
    },
    /// A log search pattern could not be compiled.
    #[error("bad log search pattern {pattern:?}: {reason}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The manager's owner (the actor's thread) is gone; no call can succeed.
    #[error("the process manager has stopped running; create a new one")]
    ManagerGone,
}

/// Shorthand for manager results.
pub type Result<T, E = ProcessError> = std::result::Result<T, E>;
