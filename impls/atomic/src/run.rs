//! A run's resources ([`Run`]) and the immutable per-name state that the entry's cell holds
//! ([`RunState`]).
//!
//! A `RunState` is never modified: every transition builds a new one (with the supervise.rs
//! helpers, which validate it) and installs it by compare-and-swap. That is what makes one
//! `SwapCell::load` a consistent view: every field of the snapshot, the run it belongs to, its
//! child and its pending automatic restart come from the same installed value.

use std::time::SystemTime;

use procman_core::supervise::ExitLatch;
use procman_core::sync::{Arc, Mutex};
use procman_core::{
    Child, InvalidTransition, LogRingConfig, ProcessError, ProcessId, ProcessSnapshot, ProcessSpec,
};

use crate::log::{LogMirror, RunLog};

/// What one run owns beyond its state: identity, spec, log and end-of-run rendezvous.
#[derive(Debug)]
pub(crate) struct Run {
    /// The run's id.
    pub(crate) id: ProcessId,
    /// The spec it was started from (a restart reuses it).
    pub(crate) spec: Arc<ProcessSpec>,
    /// Its output.
    pub(crate) log: RunLog,
    /// Opened when it reaches a terminal status.
    end: RunEnd,
}

/// Where stops wait for a run's end, and where they find its terminal snapshot.
///
/// The entry's cell cannot serve: once a run has ended, a start may replace it at any moment,
/// and a stop must still return the snapshot of the run *it* stopped.
#[derive(Debug, Default)]
struct RunEnd {
    /// Set once the terminal snapshot is stored; `run_stop_sequence` waits on it.
    latch: ExitLatch,
    /// The terminal snapshot (log counters filled on read). Written once, before `latch` opens;
    /// read only by stops and starts returning, never by status readers.
    last: Mutex<Option<ProcessSnapshot>>,
}

impl Run {
    /// A run about to start.
    pub(crate) fn new(
        id: ProcessId,
        spec: Arc<ProcessSpec>,
        log: LogRingConfig,
        mirror: Arc<LogMirror>,
    ) -> Self {
        Run {
            id,
            spec,
            log: RunLog::new(log, mirror, id.generation),
            end: RunEnd::default(),
        }
    }

    /// The latch that opens when the run ends.
    pub(crate) fn end_latch(&self) -> &ExitLatch {
        &self.end.latch
    }

    /// Records the terminal snapshot and wakes every waiter. Called exactly once per run, by the
    /// thread whose compare-and-swap installed the terminal state.
    pub(crate) fn finish(&self, terminal: ProcessSnapshot) {
        *self.end.last.lock() = Some(terminal);
        self.end.latch.set();
    }

    /// Waits for the run's end and returns its terminal snapshot.
    pub(crate) fn wait_ended(&self) -> ProcessSnapshot {
        self.end.latch.wait();
        let mut snapshot = (*self.end.last.lock())
            .expect("Run::finish stores the terminal snapshot before opening the latch");
        snapshot.logs = self.log.counters();
        snapshot
    }
}

/// One name's current run, as one immutable value.
///
/// Invariant kept by the constructors: `child` is `Some` from `Running` on.
#[derive(Debug)]
pub(crate) struct RunState {
    /// The run's snapshot; `logs` stays zero here and is filled from the log on read.
    pub(crate) snapshot: ProcessSnapshot,
    /// The run this state belongs to.
    pub(crate) run: Arc<Run>,
    /// The child, from `Running` on (kept after the end, so no event thread drops it).
    pub(crate) child: Option<Arc<dyn Child>>,
    /// Automatic restarts of this name so far, carried from run to run.
    pub(crate) auto_restarts: u32,
    /// Set while an automatic restart's backoff runs: the latch its thread sleeps on, opened to
    /// cancel it. Identity (pointer) tells one pending restart from another.
    pub(crate) restart: Option<Arc<ExitLatch>>,
    /// Which install this is, per entry: set by [`crate::entry::Entry`] to one more than the
    /// state it replaces, so the view can tell whether it holds this state yet.
    pub(crate) version: u64,
}

/// The error for a transition the status machine refused.
pub(crate) fn transition_error(id: &ProcessId, source: InvalidTransition) -> ProcessError {
    ProcessError::Transition { id: *id, source }
}

impl RunState {
    /// A new run registered directly in `Starting`: its `Pending` snapshot is built and moved
    /// on by the helpers inside the registering step, which nobody can observe in between.
    pub(crate) fn starting(
        run: Arc<Run>,
        restarts: u32,
        auto_restarts: u32,
        now: SystemTime,
    ) -> Result<Self, ProcessError> {
        let snapshot = ProcessSnapshot::pending(run.id, restarts)
            .to_starting(now)
            .map_err(|e| transition_error(&run.id, e))?;
        Ok(RunState {
            snapshot,
            run,
            child: None,
            auto_restarts,
            restart: None,
            version: 0,
        })
    }

    /// The same run with a new snapshot (`Starting -> Failed`, `Running -> Stopping`).
    pub(crate) fn with_snapshot(&self, snapshot: ProcessSnapshot) -> Self {
        RunState {
            snapshot,
            run: self.run.clone(),
            child: self.child.clone(),
            auto_restarts: self.auto_restarts,
            restart: self.restart.clone(),
            version: self.version,
        }
    }

    /// `Starting -> Running`, recording the child.
    pub(crate) fn running(&self, snapshot: ProcessSnapshot, child: Arc<dyn Child>) -> Self {
        RunState {
            child: Some(child),
            ..self.with_snapshot(snapshot)
        }
    }

    /// `Running|Stopping -> terminal`, arming an automatic restart when `restart` is given.
    pub(crate) fn ended(&self, snapshot: ProcessSnapshot, restart: Option<Arc<ExitLatch>>) -> Self {
        RunState {
            restart,
            ..self.with_snapshot(snapshot)
        }
    }

    /// The same ended run with its pending automatic restart cancelled.
    pub(crate) fn without_restart(&self) -> Self {
        RunState {
            restart: None,
            ..self.with_snapshot(self.snapshot)
        }
    }

    /// The snapshot a caller sees: this state's, with the log counters read now (after the
    /// state was loaded, so never older than it). A copy: no reference count, no allocation.
    #[inline]
    pub(crate) fn view(&self) -> ProcessSnapshot {
        let mut snapshot = self.snapshot;
        snapshot.logs = self.run.log.counters();
        snapshot
    }

    /// The child of a live run.
    pub(crate) fn live_child(&self) -> Arc<dyn Child> {
        self.child
            .clone()
            .expect("RunState invariant: a run has its child from Running on")
    }

    /// The generation of the run.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.run.id.generation
    }
}
