//! The state only the owner thread touches: the registry of names, each name's current run with
//! its log ring, the counters, and the readers' answers built from them.
//!
//! Nothing here is shared, so nothing here is synchronised: every snapshot is consistent
//! because the owner builds it between two messages.

use std::collections::HashMap;

use procman_core::sync::Arc;
use procman_core::sync::channel::Sender;
use procman_core::{
    Child, InvalidTransition, LogChunk, LogCounters, LogMatch, LogMatcher, LogRing, ManagerConfig,
    ManagerStats, Name, ProcessError, ProcessId, ProcessSnapshot, ProcessSpec, Result as PmResult,
    StatusKind,
};

use super::shutdown::Shutdown;
use super::timers::Timers;
use crate::launch::LaunchJob;
use crate::messages::{Key, NameKey};
use crate::run_end::EndPublisher;

/// Every name ever started, by name.
pub(crate) type Registry = HashMap<Name, Entry, foldhash::fast::RandomState>;

/// One name: its spec and its current run.
pub(crate) struct Entry {
    /// What a restart of this name spawns (the spec of its last manual start).
    pub spec: Arc<ProcessSpec>,
    /// The generation of the name's first run: older ids were other names' runs.
    pub first_generation: u64,
    /// The current run.
    pub run: Run,
    /// Automatic restarts over the name's life (what `max_restarts` limits).
    pub automatic_restarts: u32,
    /// An automatic restart of the current (ended) run is waiting for its backoff.
    pub restart_pending: bool,
}

/// One run of a name.
pub(crate) struct Run {
    /// The run's state, its `logs` counters filled in only when it is read.
    pub snapshot: ProcessSnapshot,
    /// The run's output.
    pub log: LogRing,
    /// The child and the end stoppers wait on; `Some` exactly while `Running` or `Stopping`.
    pub live: Option<Live>,
    /// The run was `Starting` when a shutdown began, which waits for its spawn to resolve.
    pub awaited_by_shutdown: bool,
}

/// What a live run has that a stopper needs.
pub(crate) struct Live {
    /// The spawned child.
    pub child: Arc<dyn Child>,
    /// Published when the run ends.
    pub end: EndPublisher,
}

impl Run {
    /// The run's id.
    pub(crate) fn id(&self) -> &ProcessId {
        &self.snapshot.id
    }

    /// Where it is in the status machine.
    pub(crate) fn kind(&self) -> StatusKind {
        self.snapshot.status.kind()
    }

    /// `Pending`, `Starting`, `Running` or `Stopping`.
    pub(crate) fn is_live(&self) -> bool {
        !self.kind().is_terminal()
    }

    /// Its snapshot, with the log counters of this moment.
    pub(crate) fn snapshot(&self) -> ProcessSnapshot {
        ProcessSnapshot {
            logs: LogCounters {
                lines: self.log.total(),
                dropped: self.log.dropped(),
            },
            ..self.snapshot
        }
    }

    /// The `Transition` error of this run.
    pub(crate) fn refused(&self, source: InvalidTransition) -> ProcessError {
        ProcessError::Transition {
            id: *self.id(),
            source,
        }
    }
}

/// Everything the owner holds.
pub(crate) struct State {
    /// Bounds of the manager.
    pub config: ManagerConfig,
    /// Every name ever started.
    pub registry: Registry,
    /// The counters (`active` kept up to date at each transition).
    pub stats: ManagerStats,
    /// The last generation handed out (manager-wide).
    pub generation: u64,
    /// Automatic-restart backoffs and async stop deadlines.
    pub timers: Timers,
    /// Whether, and how far, a shutdown has gone.
    pub shutdown: Shutdown,
    /// Runs for the launch worker.
    pub launches: Sender<LaunchJob>,
}

impl State {
    /// A fresh state.
    pub(crate) fn new(config: ManagerConfig, launches: Sender<LaunchJob>) -> Self {
        State {
            config,
            registry: Registry::default(),
            stats: ManagerStats::default(),
            generation: 0,
            timers: Timers::default(),
            shutdown: Shutdown::Open,
            launches,
        }
    }

    /// The entry `key` names, checking the generation when it names one.
    pub(crate) fn entry(&self, key: &Key) -> PmResult<&Entry> {
        let entry = self.named(&key.name)?;
        check_generation(entry, key)?;
        Ok(entry)
    }

    fn named(&self, name: &NameKey) -> PmResult<&Entry> {
        let name = name.as_str();
        self.registry.get(name).ok_or_else(|| not_found(name))
    }

    /// `status`.
    pub(crate) fn status(&self, key: &Key) -> PmResult<ProcessSnapshot> {
        self.entry(key).map(|entry| entry.run.snapshot())
    }

    /// `list`, in no order (the caller sorts, off the owner).
    pub(crate) fn list(&self) -> Vec<ProcessSnapshot> {
        self.registry
            .values()
            .map(|entry| entry.run.snapshot())
            .collect()
    }

    /// `logs_tail`.
    pub(crate) fn logs_tail(&self, key: &Key, cursor: u64, limit: usize) -> PmResult<LogChunk> {
        self.entry(key)
            .map(|entry| entry.run.log.tail(cursor, limit))
    }

    /// `logs_search`: up to `limit` newest matches of each run searched, per run in order; the
    /// caller merges them by time and keeps the newest `limit`.
    pub(crate) fn logs_search(
        &self,
        name: Option<&NameKey>,
        matcher: &LogMatcher,
        limit: usize,
    ) -> PmResult<Vec<LogMatch>> {
        let mut hits = Vec::new();
        let mut search = |entry: &Entry| {
            let id = entry.run.id();
            hits.extend(
                entry
                    .run
                    .log
                    .search(matcher, limit)
                    .into_iter()
                    .map(|line| LogMatch { id: *id, line }),
            );
        };
        match name {
            Some(name) => search(self.named(name)?),
            None => self.registry.values().for_each(search),
        }
        Ok(hits)
    }

    /// `stats`.
    pub(crate) fn stats(&self) -> ManagerStats {
        self.stats
    }
}

/// [`State::entry`], mutably. A function of the registry alone, so that a handler can hold the
/// entry and still update the counters and timers beside it.
pub(crate) fn entry_in<'a>(registry: &'a mut Registry, key: &Key) -> PmResult<&'a mut Entry> {
    let name = key.name.as_str();
    let entry = registry.get_mut(name).ok_or_else(|| not_found(name))?;
    check_generation(entry, key)?;
    Ok(entry)
}

/// The entry whose current run is `id` (events and spawn reports of older runs are stale).
pub(crate) fn current_in<'a>(registry: &'a mut Registry, id: &ProcessId) -> Option<&'a mut Entry> {
    registry
        .get_mut(&*id.name)
        .filter(|entry| entry.run.id().generation == id.generation)
}

/// By id: the contract's rule, [`procman_core::Target::check_run`], with this name's first
/// generation.
fn check_generation(entry: &Entry, key: &Key) -> PmResult<()> {
    let Some(generation) = key.generation else {
        return Ok(());
    };
    let current = entry.run.id();
    let asked = ProcessId::new(current.name, generation);
    procman_core::Target::Id(&asked).check_run(entry.first_generation, current)
}

fn not_found(name: &str) -> ProcessError {
    ProcessError::NotFound {
        name: name.to_owned(),
    }
}
