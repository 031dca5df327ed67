//! Recording a history: each call's invocation and response, stamped by one global logical
//! clock that is itself a checker atomic.
//!
//! Because the clock is a checker atomic, every stamp is a scheduling point, and the stamps'
//! order is the order in which the checker ran those steps. An operation's interval
//! `[call, ret]` is taken just before the call and just after it returns, so it contains the
//! real one: if `a.ret < b.call`, `a` really finished before `b` began. That is the real-time
//! order linearizability must respect, and the only synchronisation the recorder adds — each
//! thread keeps its own log and hands it over when joined.

use std::fmt;

use procman_core::sync::atomic::{AtomicU64, Ordering};
use procman_core::{ExitInfo, ProcessError, ProcessSnapshot, Status, StatusKind};

/// The global logical clock.
#[derive(Debug, Default)]
pub struct Clock(AtomicU64);

impl Clock {
    /// A new clock at 0.
    pub fn new() -> Self {
        Clock(AtomicU64::new(0))
    }

    /// The next instant.
    pub fn tick(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

/// How far a run got, as the sequential specification sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// `Pending` or `Starting`: registered, spawn in flight.
    Starting,
    /// `Running`.
    Running,
    /// `Stopping`.
    Stopping,
    /// A terminal status.
    Ended(End),
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum End {
    /// `Stopped`.
    Stopped,
    /// `Exited(code)`.
    Exited(i32),
    /// `Killed(signal)`.
    Killed(i32),
    /// `Failed` (never spawned).
    Failed,
}

impl Phase {
    /// The phase of `status`.
    pub fn of(status: &Status) -> Phase {
        match status {
            Status::Pending | Status::Starting => Phase::Starting,
            Status::Running => Phase::Running,
            Status::Stopping => Phase::Stopping,
            Status::Stopped => Phase::Ended(End::Stopped),
            Status::Exited(code) => Phase::Ended(End::Exited(*code)),
            Status::Killed(signal) => Phase::Ended(End::Killed(signal.0)),
            Status::Failed(_) => Phase::Ended(End::Failed),
        }
    }

    /// The phase of a status given only by kind (errors carry no payload): `None` for the
    /// terminal kinds, whose payload is unknown.
    pub fn of_kind(kind: StatusKind) -> Option<Phase> {
        match kind {
            StatusKind::Pending | StatusKind::Starting => Some(Phase::Starting),
            StatusKind::Running => Some(Phase::Running),
            StatusKind::Stopping => Some(Phase::Stopping),
            _ => None,
        }
    }

    /// True before the run ended.
    pub fn is_live(self) -> bool {
        !matches!(self, Phase::Ended(_))
    }
}

/// What a snapshot said about a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Obs {
    /// Its generation.
    pub generation: u64,
    /// Its phase.
    pub phase: Phase,
    /// Its restart count.
    pub restarts: u32,
}

impl Obs {
    /// The observation `snapshot` makes.
    pub fn of(snapshot: &ProcessSnapshot) -> Obs {
        Obs {
            generation: snapshot.id.generation,
            phase: Phase::of(&snapshot.status),
            restarts: snapshot.restarts,
        }
    }
}

impl fmt::Display for Obs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {:?} r{}",
            self.generation, self.phase, self.restarts
        )
    }
}

/// A call, with its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `start(name, IfRunning::ReturnExisting | Error)`.
    Start {
        /// The name.
        name: &'static str,
        /// True for `IfRunning::ReturnExisting`.
        return_existing: bool,
    },
    /// `stop(name)`.
    Stop {
        /// The name.
        name: &'static str,
    },
    /// `restart(name)`.
    Restart {
        /// The name.
        name: &'static str,
    },
    /// `status(name)`.
    Status {
        /// The name.
        name: &'static str,
    },
    /// `status(id)` for a generation this thread saw.
    StatusById {
        /// The name.
        name: &'static str,
        /// The generation asked for.
        generation: u64,
    },
    /// `list()`.
    List,
    /// The launcher's child of run `generation` of `name` exited by itself with `code`. The
    /// manager hears of it through an event, possibly after the call that caused it returned
    /// (the actor's mailbox), so its effect may fall anywhere after its invocation.
    Exit {
        /// The name.
        name: &'static str,
        /// The run whose child it was.
        generation: u64,
        /// The exit code.
        code: i32,
    },
}

impl Call {
    /// The name the call is about (`None` for `list`).
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Call::Start { name, .. }
            | Call::Stop { name }
            | Call::Restart { name }
            | Call::Status { name }
            | Call::StatusById { name, .. }
            | Call::Exit { name, .. } => Some(name),
            Call::List => None,
        }
    }
}

/// An error, reduced to what the specification checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `NotFound`.
    NotFound,
    /// `AlreadyRunning { id, status }`.
    AlreadyRunning(u64, StatusKind),
    /// `NotRunning { id, status }`.
    NotRunning(u64, StatusKind),
    /// `Busy { id, status }`.
    Busy(u64, StatusKind),
    /// `Superseded { current, .. }`: the current generation.
    Superseded(u64),
    /// `SpawnFailed { id, .. }`.
    SpawnFailed(u64),
    /// Any other error, which no call in these workloads may return.
    Other(String),
}

impl Refusal {
    /// The refusal `error` is.
    pub fn of(error: &ProcessError) -> Refusal {
        match error {
            ProcessError::NotFound { .. } => Refusal::NotFound,
            ProcessError::AlreadyRunning { id, status } => {
                Refusal::AlreadyRunning(id.generation, *status)
            }
            ProcessError::NotRunning { id, status } => Refusal::NotRunning(id.generation, *status),
            ProcessError::Busy { id, status } => Refusal::Busy(id.generation, *status),
            ProcessError::Superseded { current, .. } => Refusal::Superseded(current.generation),
            ProcessError::SpawnFailed { id, .. } => Refusal::SpawnFailed(id.generation),
            other => Refusal::Other(other.to_string()),
        }
    }
}

/// What a call returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A snapshot.
    Snapshot(Obs),
    /// An error.
    Refused(Refusal),
    /// `list`'s snapshots, by name.
    Listed(Vec<(String, Obs)>),
    /// An exit: nothing returned (see [`Call::Exit`]).
    Effect,
}

impl Outcome {
    /// The outcome of a call that returns a snapshot.
    pub fn of(result: &procman_core::Result<ProcessSnapshot>) -> Outcome {
        match result {
            Ok(snapshot) => Outcome::Snapshot(Obs::of(snapshot)),
            Err(error) => Outcome::Refused(Refusal::of(error)),
        }
    }
}

/// One operation of a history.
#[derive(Clone, Debug)]
pub struct Op {
    /// The thread that made it.
    pub thread: usize,
    /// The clock just before the call.
    pub call_at: u64,
    /// The clock just after it returned; `None` when its effect may come later (an exit).
    pub ret_at: Option<u64>,
    /// What was called.
    pub call: Call,
    /// What it returned.
    pub outcome: Outcome,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ret = self
            .ret_at
            .map_or_else(|| "..".to_owned(), |r| r.to_string());
        write!(
            f,
            "[{:>4}, {:>4}] t{} {:?} -> {:?}",
            self.call_at, ret, self.thread, self.call, self.outcome
        )
    }
}

/// One thread's operations, in its program order.
#[derive(Debug, Default)]
pub struct ThreadLog {
    /// The thread's index.
    pub thread: usize,
    /// Its operations.
    pub ops: Vec<Op>,
}

impl ThreadLog {
    /// An empty log for thread `thread`.
    pub fn new(thread: usize) -> Self {
        ThreadLog {
            thread,
            ops: Vec::new(),
        }
    }

    /// Calls `f`, stamping its invocation and response, and records `call` with the outcome
    /// `summarize` reads from the result.
    pub fn record<T>(
        &mut self,
        clock: &Clock,
        call: Call,
        f: impl FnOnce() -> T,
        summarize: impl FnOnce(&T) -> Outcome,
    ) -> T {
        let call_at = clock.tick();
        let result = f();
        let ret_at = clock.tick();
        self.ops.push(Op {
            thread: self.thread,
            call_at,
            ret_at: Some(ret_at),
            call,
            outcome: summarize(&result),
        });
        result
    }

    /// Records an exit of a child (see [`Call::Exit`]): stamped before `exit` runs, with no
    /// response time.
    pub fn record_exit(
        &mut self,
        clock: &Clock,
        name: &'static str,
        generation: u64,
        exit: impl FnOnce(ExitInfo),
        code: i32,
    ) {
        let call_at = clock.tick();
        exit(ExitInfo::Code(code));
        self.ops.push(Op {
            thread: self.thread,
            call_at,
            ret_at: None,
            call: Call::Exit {
                name,
                generation,
                code,
            },
            outcome: Outcome::Effect,
        });
    }
}
