//! One operation as a client makes it: the [`Call`] (op plus arguments, prepared before the
//! timer starts so that building arguments is not charged to the design), the synchronous way
//! of making it on any [`ProcessManager`], and the [`Outcome`] that comes back.
//!
//! A `Call` is two words: the spec a `scripts_run` passes by value (a few hundred bytes) is
//! cloned before the timer starts into a separate *staged* slot that the call takes it from,
//! so the other ops do not move a large value around on every iteration.
//!
//! Every value a design returns goes through [`std::hint::black_box`] and is dropped inside the
//! timed region: the compiler cannot skip the work, and the caller pays for dropping what it
//! was given, as a real caller would.

use std::hint::black_box;

use procman_core::{
    IfRunning, LogQuery, ProcessError, ProcessManager, ProcessSpec, StopOptions, Target,
};
use serde::{Deserialize, Serialize};

use crate::mix::Op;
use crate::scenario::{OpArgs, Scenario};

/// Everything the calls of one run share: process names, specs and op arguments.
#[derive(Debug)]
pub struct Workload {
    /// `proc-000`, `proc-001`, ...
    pub names: Vec<String>,
    /// The spec each process is (re)started with.
    pub specs: Vec<ProcessSpec>,
    /// The `logs_search` query.
    pub query: LogQuery,
    /// Most lines per `logs_stream`.
    pub stream_limit: usize,
}

impl Workload {
    /// The workload of `scenario`.
    pub fn new(scenario: &Scenario) -> Workload {
        let OpArgs {
            logs_stream_limit,
            logs_search_pattern,
            logs_search_regex,
            logs_search_limit,
        } = scenario.args.clone();
        Workload {
            names: (0..scenario.processes)
                .map(Scenario::process_name)
                .collect(),
            specs: (0..scenario.processes)
                .map(|i| scenario.process_spec(i))
                .collect(),
            query: LogQuery {
                pattern: logs_search_pattern,
                regex: logs_search_regex,
                name: None,
                limit: logs_search_limit,
            },
            stream_limit: logs_stream_limit,
        }
    }
}

/// An op with its arguments.
#[derive(Debug)]
pub enum Call {
    /// `scripts_status` of process `.0`.
    Status(usize),
    /// `scripts_status` of every process.
    StatusAll,
    /// `scripts_run` of process `.0`, with the spec staged by the client.
    Run(usize),
    /// `scripts_stop` of process `.0`.
    Stop(usize),
    /// `scripts_restart` of process `.0`.
    Restart(usize),
    /// `logs_stream` of process `proc` from `cursor`.
    LogsStream {
        /// The process.
        proc: usize,
        /// The client's cursor for it.
        cursor: u64,
    },
    /// `logs_search` with the workload's query.
    LogsSearch,
}

impl Call {
    /// Which op this is.
    pub fn op(&self) -> Op {
        match self {
            Call::Status(_) => Op::ScriptsStatus,
            Call::StatusAll => Op::ScriptsStatusAll,
            Call::Run(_) => Op::ScriptsRun,
            Call::Stop(_) => Op::ScriptsStop,
            Call::Restart(_) => Op::ScriptsRestart,
            Call::LogsStream { .. } => Op::LogsStream,
            Call::LogsSearch => Op::LogsSearch,
        }
    }
}

/// How a call ended, as far as the client needs to know.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The error, if the call failed.
    pub error: Option<ErrorKind>,
    /// For `logs_stream`: the cursor to use next time for that process.
    pub next_cursor: Option<u64>,
}

impl Outcome {
    /// Success.
    pub const OK: Outcome = Outcome {
        error: None,
        next_cursor: None,
    };

    /// Failure of kind `kind`.
    pub fn failed(kind: ErrorKind) -> Outcome {
        Outcome {
            error: Some(kind),
            next_cursor: None,
        }
    }
}

/// The kinds of failure a call can have, counted per op in results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// [`ProcessError::InvalidSpec`].
    InvalidSpec,
    /// [`ProcessError::NotFound`].
    NotFound,
    /// [`ProcessError::Superseded`].
    Superseded,
    /// [`ProcessError::AlreadyRunning`].
    AlreadyRunning,
    /// [`ProcessError::NotRunning`] (stopping a process that has already ended).
    NotRunning,
    /// [`ProcessError::Busy`] (a spawn or a restart backoff in flight).
    Busy,
    /// [`ProcessError::SpawnFailed`].
    SpawnFailed,
    /// [`ProcessError::Transition`]: a design bug.
    Transition,
    /// [`ProcessError::ShuttingDown`].
    ShuttingDown,
    /// [`ProcessError::LimitReached`].
    LimitReached,
    /// [`ProcessError::BadPattern`].
    BadPattern,
    /// [`ProcessError::ManagerGone`].
    ManagerGone,
    /// The tokio driver's `spawn_blocking` task failed (panicked or was cancelled).
    TaskFailed,
}

impl ErrorKind {
    /// Every kind, in the order of per-kind arrays.
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::InvalidSpec,
        ErrorKind::NotFound,
        ErrorKind::Superseded,
        ErrorKind::AlreadyRunning,
        ErrorKind::NotRunning,
        ErrorKind::Busy,
        ErrorKind::SpawnFailed,
        ErrorKind::Transition,
        ErrorKind::ShuttingDown,
        ErrorKind::LimitReached,
        ErrorKind::BadPattern,
        ErrorKind::ManagerGone,
        ErrorKind::TaskFailed,
    ];

    /// How many kinds there are.
    pub const COUNT: usize = ErrorKind::ALL.len();

    /// Its position in [`ErrorKind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether it is an expected answer under churn (the process was in another state than
    /// the caller assumed) rather than a sign that something is broken.
    pub const fn is_expected(self) -> bool {
        matches!(
            self,
            ErrorKind::NotRunning
                | ErrorKind::Busy
                | ErrorKind::AlreadyRunning
                | ErrorKind::Superseded
        )
    }

    /// The kind of `e`. Exhaustive on purpose: a new [`ProcessError`] variant must be
    /// classified here.
    pub fn of(e: &ProcessError) -> ErrorKind {
        match e {
            ProcessError::InvalidSpec { .. } => ErrorKind::InvalidSpec,
            ProcessError::NotFound { .. } => ErrorKind::NotFound,
            ProcessError::Superseded { .. } => ErrorKind::Superseded,
            ProcessError::AlreadyRunning { .. } => ErrorKind::AlreadyRunning,
            ProcessError::NotRunning { .. } => ErrorKind::NotRunning,
            ProcessError::Busy { .. } => ErrorKind::Busy,
            ProcessError::SpawnFailed { .. } => ErrorKind::SpawnFailed,
            ProcessError::Transition { .. } => ErrorKind::Transition,
            ProcessError::ShuttingDown => ErrorKind::ShuttingDown,
            ProcessError::LimitReached { .. } => ErrorKind::LimitReached,
            ProcessError::BadPattern { .. } => ErrorKind::BadPattern,
            ProcessError::ManagerGone => ErrorKind::ManagerGone,
        }
    }
}

/// The outcome of a call that returned `r`; the value is black-boxed and dropped here.
#[inline]
pub fn settle<T>(r: Result<T, ProcessError>) -> Outcome {
    match r {
        Ok(v) => {
            drop(black_box(v));
            Outcome::OK
        }
        Err(e) => Outcome::failed(ErrorKind::of(black_box(&e))),
    }
}

/// The outcome of a `logs_stream` that returned `r`: the next cursor is the chunk's, or 0 when
/// the chunk was empty (a restarted run numbers its lines from 0 again, so a client whose
/// cursor ran past the end starts over).
#[inline]
pub fn settle_stream(r: Result<procman_core::LogChunk, ProcessError>) -> Outcome {
    match r {
        Ok(chunk) => {
            let next = if chunk.lines.is_empty() {
                0
            } else {
                chunk.next_cursor
            };
            drop(black_box(chunk));
            Outcome {
                error: None,
                next_cursor: Some(next),
            }
        }
        Err(e) => Outcome::failed(ErrorKind::of(black_box(&e))),
    }
}

/// The spec a `scripts_run` of process `i` starts: the staged clone, or (if none was staged)
/// a clone made now.
#[inline]
pub fn take_spec(staged: &mut Option<ProcessSpec>, w: &Workload, i: usize) -> ProcessSpec {
    staged.take().unwrap_or_else(|| w.specs[i].clone())
}

/// Makes `call` on `m`, blocking until it returns. A `scripts_run` takes its spec from
/// `staged`.
pub fn call_blocking(
    m: &dyn ProcessManager,
    w: &Workload,
    call: Call,
    staged: &mut Option<ProcessSpec>,
) -> Outcome {
    match call {
        Call::Status(i) => settle(m.status(Target::Name(&w.names[i]))),
        Call::StatusAll => {
            drop(black_box(m.list()));
            Outcome::OK
        }
        Call::Run(i) => settle(m.start(take_spec(staged, w, i), IfRunning::ReturnExisting)),
        Call::Stop(i) => settle(m.stop(Target::Name(&w.names[i]), StopOptions::default())),
        Call::Restart(i) => settle(m.restart(Target::Name(&w.names[i]))),
        Call::LogsStream { proc, cursor } => {
            settle_stream(m.logs_tail(Target::Name(&w.names[proc]), cursor, w.stream_limit))
        }
        Call::LogsSearch => settle(m.logs_search(&w.query)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_index_their_position_and_classify_errors() {
        for (i, k) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(k.index(), i);
        }
        assert_eq!(
            ErrorKind::of(&ProcessError::ShuttingDown),
            ErrorKind::ShuttingDown
        );
        assert_eq!(
            ErrorKind::of(&ProcessError::NotFound { name: "x".into() }),
            ErrorKind::NotFound
        );
        assert!(ErrorKind::Busy.is_expected());
        assert!(!ErrorKind::ManagerGone.is_expected());
    }

    #[test]
    fn call_is_two_words() {
        assert!(
            std::mem::size_of::<Call>() <= 24,
            "{}",
            std::mem::size_of::<Call>()
        );
    }

    #[test]
    fn call_knows_its_op() {
        assert_eq!(Call::Status(0).op(), Op::ScriptsStatus);
        assert_eq!(Call::LogsStream { proc: 0, cursor: 0 }.op(), Op::LogsStream);
        assert!(Call::Stop(1).op().is_write());
    }

    #[test]
    fn empty_stream_chunk_restarts_the_cursor() {
        let o = settle_stream(Ok(procman_core::LogChunk {
            lines: vec![],
            next_cursor: 40,
            missed: 0,
        }));
        assert_eq!(o.next_cursor, Some(0));
        let o = settle_stream(Err(ProcessError::NotFound { name: "x".into() }));
        assert_eq!(o.error, Some(ErrorKind::NotFound));
    }
}
