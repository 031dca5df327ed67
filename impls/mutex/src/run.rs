//! [`Run`]: what one run of a process owns apart from its snapshot — its log ring, its log
//! counters, the latches that stops and shutdowns wait on, and its terminal snapshot — and
//! [`RunEvents`], the sink the launcher feeds that run's output and exit into.
//!
//! The ring sits behind its own lock, not the entry's, so a chatty child appending lines never
//! contends with a status read. Its counters are mirrored into atomics after every append so
//! that a status read can fill [`ProcessSnapshot::logs`] without touching the ring's lock.

use std::time::SystemTime;

use procman_core::launcher::ChildEvents;
use procman_core::supervise::ExitLatch;
use procman_core::sync::atomic::{AtomicU64, Ordering};
use procman_core::sync::{Arc, Mutex, RwLock, Weak};
use procman_core::{
    ExitInfo, LogCounters, LogRing, LogRingConfig, OutputLine, ProcessId, ProcessSnapshot,
    ProcessSpec,
};

use crate::manager::Shared;
use crate::registry::Entry;

/// One run of a named process: created by a start, never reused by the next one.
#[derive(Debug)]
pub(crate) struct Run {
    /// Which run this is.
    pub(crate) id: ProcessId,
    /// The spec it was started from (a restart starts the same spec again).
    pub(crate) spec: Arc<ProcessSpec>,
    /// Its output. Lock order: a leaf; taken with no other lock held.
    log: RwLock<LogRing>,
    /// Mirror of `log.total()`, stored after each append (Release) for lock-free status reads.
    lines: AtomicU64,
    /// Mirror of `log.dropped()`, stored after each append.
    dropped: AtomicU64,
    /// Set once the spawn has settled (the run is `Running` and attached, or `Failed`): what a
    /// shutdown waits on before it can stop a run that was still starting.
    pub(crate) settled: ExitLatch,
    /// Set once the run is terminal: what a stop waits on.
    pub(crate) ended: ExitLatch,
    /// The terminal snapshot, recorded under the entry's write lock before `ended` is set, so
    /// a stopper can read it even after a newer run has replaced this one. Lock order: a leaf.
    terminal: Mutex<Option<ProcessSnapshot>>,
}

impl Run {
    /// A run that has not produced anything yet.
    pub(crate) fn new(id: ProcessId, spec: Arc<ProcessSpec>, log: LogRingConfig) -> Self {
        Run {
            id,
            spec,
            log: RwLock::new(LogRing::new(log)),
            lines: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            settled: ExitLatch::new(),
            ended: ExitLatch::new(),
            terminal: Mutex::new(None),
        }
    }

    /// The log counters now. Monotonic, so read after the status they are never older than it.
    pub(crate) fn log_counters(&self) -> LogCounters {
        LogCounters {
            lines: self.lines.load(Ordering::Acquire),
            dropped: self.dropped.load(Ordering::Acquire),
        }
    }

    /// `snapshot` with this run's log counters filled in.
    pub(crate) fn with_logs(&self, mut snapshot: ProcessSnapshot) -> ProcessSnapshot {
        snapshot.logs = self.log_counters();
        snapshot
    }

    /// Read access to the ring, for tails and searches. Hold it only while copying lines out.
    pub(crate) fn log(&self) -> procman_core::sync::RwLockReadGuard<'_, LogRing> {
        self.log.read()
    }

    /// Appends one line and publishes the new counters.
    fn append(&self, line: OutputLine) {
        let mut ring = self.log.write();
        ring.push(line);
        self.lines.store(ring.total(), Ordering::Release);
        self.dropped.store(ring.dropped(), Ordering::Release);
    }

    /// Records the terminal snapshot. Called under the entry's write lock, in the same critical
    /// section that makes the run terminal, so no reader can see the run replaced before this.
    pub(crate) fn record_end(&self, snapshot: &ProcessSnapshot) {
        *self.terminal.lock() = Some(*snapshot);
    }

    /// The terminal snapshot with its final log counters, once the run has ended.
    pub(crate) fn final_snapshot(&self) -> Option<ProcessSnapshot> {
        let snapshot = (*self.terminal.lock())?;
        Some(self.with_logs(snapshot))
    }

    /// Marks the spawn as settled and the run as ended: for runs that never spawned.
    pub(crate) fn settle_and_end(&self) {
        self.settled.set();
        self.ended.set();
    }
}

/// The [`ChildEvents`] sink of one run.
///
/// It holds the run strongly (the ring must outlive the child's last line) but the manager and
/// the entry weakly: the child's launcher keeps the sink, the entry keeps the child, and a
/// strong edge back would make a cycle.
#[derive(Debug)]
pub(crate) struct RunEvents {
    /// The manager, for its counters, shutdown flag and restart scheduling.
    shared: Weak<Shared>,
    /// The entry whose current run this is (or was).
    entry: Weak<Entry>,
    /// The run the events belong to; its generation is what "superseded" is checked against.
    run: Arc<Run>,
}

impl RunEvents {
    /// The sink for `run`, the current run of `entry`.
    pub(crate) fn new(shared: &Arc<Shared>, entry: &Arc<Entry>, run: &Arc<Run>) -> Self {
        RunEvents {
            shared: Arc::downgrade(shared),
            entry: Arc::downgrade(entry),
            run: Arc::clone(run),
        }
    }
}

impl ChildEvents for RunEvents {
    fn on_output(&self, line: OutputLine) {
        // Only this run's own ring is touched: a superseded run's ring is unreachable (reads by
        // its id answer `Superseded`), so its late lines are ignored by construction.
        self.run.append(line);
    }

    fn on_exit(&self, exit: ExitInfo) {
        let now = SystemTime::now();
        match (self.shared.upgrade(), self.entry.upgrade()) {
            (Some(shared), Some(entry)) => shared.record_exit(&entry, &self.run, exit, now),
            // The manager is gone, so nobody can read this run; still wake anyone waiting.
            _ => self.run.ended.set(),
        }
    }
}
