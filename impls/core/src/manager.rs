//! The [`ProcessManager`] trait and the types its calls take and return.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[allow(unused_imports)] // named in the docs
use crate::error::{ProcessError, Result};
use crate::id::{ProcessId, Target};
use crate::logring::{LogChunk, LogMatch, LogQuery, LogRingConfig};
use crate::snapshot::ProcessSnapshot;
use crate::spec::ProcessSpec;

/// What `start` does when the name already has a live run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IfRunning {
    /// Return the live run's snapshot, as Brummer's duplicate detection does.
    #[default]
    ReturnExisting,
    /// Fail with [`crate::ProcessError::AlreadyRunning`].
    Error,
}

/// Options of a stop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StopOptions {
    /// Send SIGKILL at once instead of the stop signal.
    pub force: bool,
}

/// Counters a manager keeps over its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerStats {
    /// Runs live now (starting, running or stopping).
    pub active: u64,
    /// Runs started (spawn attempted) over the manager's life.
    pub started: u64,
    /// Runs whose spawn failed.
    pub failed: u64,
    /// Restarts, manual and automatic.
    pub restarted: u64,
}

/// How one run ended during a shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShutdownOutcome {
    /// It ended after the stop signal.
    Graceful,
    /// It needed SIGKILL.
    Killed,
    /// It had already ended by itself before the shutdown reached it.
    AlreadyEnded,
}

/// What a shutdown did, run by run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownReport {
    /// Each run that was live when the shutdown began, and how it ended.
    pub processes: Vec<(ProcessId, ShutdownOutcome)>,
}

impl ShutdownReport {
    /// How many runs ended with `outcome`.
    pub fn count(&self, outcome: ShutdownOutcome) -> usize {
        self.processes.iter().filter(|(_, o)| *o == outcome).count()
    }
}

/// Manager-wide settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerConfig {
    /// Bounds of each run's log ring.
    pub log_ring: LogRingConfig,
    /// Most names the manager holds at once.
    pub max_processes: usize,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        ManagerConfig {
            log_ring: LogRingConfig::default(),
            max_processes: 1024,
        }
    }
}

/// A concurrent process manager. Three designs implement it: mutex, actor and atomic.
///
/// Every call may come from any thread at any time. Readers (`status`, `list`, `logs_*`,
/// `stats`) never wait for a spawn, a stop or a syscall in flight, and no lock is held across a
/// signal, a sleep, a spawn or I/O.
///
/// # Behaviour every implementation follows (the conformance suite checks it)
///
/// Each name has one *current run* at a time; a run is identified by a [`ProcessId`] whose
/// generation comes from one manager-wide counter (every start, restart and automatic restart
/// takes the next value).
///
/// **start(spec, if_running)** — `spec.validate()` first ([`ProcessError::InvalidSpec`]); after
/// `shutdown` began, [`ProcessError::ShuttingDown`]. If the name's current run is live
/// (`Pending`, `Starting`, `Running`, `Stopping`): `ReturnExisting` returns its snapshot,
/// `Error` gives [`ProcessError::AlreadyRunning`]. If it ended, a new run replaces it (keeping
/// its `restarts` count) and any pending automatic restart is cancelled. A new name beyond
/// `max_processes` gives [`ProcessError::LimitReached`]. The run goes `Pending -> Starting`
/// (`started` counter +1), the launcher spawns with no lock held, then `Running` with the pid,
/// then the child is attached; the call returns the snapshot current after attach (a child
/// that exits at once may already be terminal). A spawn error makes the run `Failed`
/// (`failed` +1) and returns [`ProcessError::SpawnFailed`].
///
/// **stop(target, options)** — `Running`: to `Stopping`, then the stop sequence
/// ([`crate::supervise::run_stop_sequence`]) with no lock held, and the terminal snapshot once
/// the child is gone. `Stopping`: joins the stop in flight (with `force`, also sends SIGKILL) and
/// returns the same terminal snapshot. `Pending`/`Starting`: [`ProcessError::Busy`]. Already
/// ended: [`ProcessError::NotRunning`] — unless an automatic restart is pending, which the stop
/// cancels, returning the ended snapshot as success.
///
/// **restart(target)** — `Running`/`Stopping`: stop as above, then start the same spec as a new
/// run with `restarts + 1`. Ended: start it again with `restarts + 1`. `Pending`/`Starting`:
/// `Busy`. `restarted` +1. Cancels a pending automatic restart.
///
/// **Automatic restarts** — when a run ends *by itself* (`Running -> Exited|Killed`, never after
/// a stop was asked for) and `spec.restart.wants_restart(exit, automatic_restarts_so_far)`, the
/// manager waits `spec.restart.backoff(automatic_restarts_so_far)` (no lock held, never on a
/// reader's path), then, if that run is still the name's current run and no shutdown began,
/// starts a new run with `restarts + 1` (`restarted` +1). Manual starts and restarts do not
/// count against `max_restarts`.
///
/// **status / logs with a [`Target`]** — by name: the current run. By id: the current run if the
/// generation matches, [`ProcessError::Superseded`] for an older run of a known name,
/// [`ProcessError::NotFound`] otherwise. Each run has its own [`crate::LogRing`] (sequence
/// numbers start at 0 per run). `logs_search` compiles the query once
/// ([`crate::LogMatcher::new`]), searches the current runs (or only `query.name`, `NotFound`
/// if unknown) and returns at most `query.limit` matches, newest kept, ordered by time.
///
/// **shutdown(deadline)** — sets the shutdown flag so that every later `start`/`restart` fails
/// with `ShuttingDown` and no start that raced the flag leaves a live run behind; cancels
/// automatic restarts; stops every live run concurrently with a stop timeout of at most
/// `deadline` (SIGKILL after); returns how each ended. Dropping a manager that was not shut
/// down shuts it down.
pub trait ProcessManager: Send + Sync {
    /// Short name of the design ("mutex", "actor", "atomic").
    fn design(&self) -> &'static str;

    /// Starts `spec.name`. A name whose last run ended starts a new run (new generation); a live
    /// name is handled per `if_running`. A failed spawn registers the run as `Failed` and returns
    /// [`crate::ProcessError::SpawnFailed`].
    fn start(&self, spec: ProcessSpec, if_running: IfRunning) -> Result<ProcessSnapshot>;

    /// Stops the live run: the stop signal to the process group, SIGKILL after the timeout (or at
    /// once with `force`). Returns the terminal snapshot once the child is gone.
    fn stop(&self, target: Target<'_>, options: StopOptions) -> Result<ProcessSnapshot>;

    /// Stops the run if it is live, then starts the same spec as a new run.
    fn restart(&self, target: Target<'_>) -> Result<ProcessSnapshot>;

    /// The current snapshot of the named run.
    fn status(&self, target: Target<'_>) -> Result<ProcessSnapshot>;

    /// A snapshot of every name's current run, sorted by name.
    fn list(&self) -> Vec<ProcessSnapshot>;

    /// Up to `limit` log lines of the run from `cursor` on.
    fn logs_tail(&self, target: Target<'_>, cursor: u64, limit: usize) -> Result<LogChunk>;

    /// Lines matching `query` across the current runs (or the one it names).
    fn logs_search(&self, query: &LogQuery) -> Result<Vec<LogMatch>>;

    /// Rejects new work, stops every live run (graceful first, SIGKILL at `deadline`'s end at the
    /// latest) and reports how each ended. Idempotent: a second call reports nothing new.
    fn shutdown(&self, deadline: Duration) -> ShutdownReport;

    /// The manager's counters.
    fn stats(&self) -> ManagerStats;
}
