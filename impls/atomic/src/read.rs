//! The readers: `status`, `list`, `logs_tail`, `logs_search`, `stats`.
//!
//! None of them can wait for a writer. A status read is a registry lookup and one
//! `SwapCell::load` (arc-swap: a per-thread debt slot, no lock, no shared write) and a copy of
//! the snapshot (`Copy`: no reference count touched, no allocation); see the crate docs. The log
//! counters come from atomics. Only the log pages take a lock — the run's ring mutex, held by an
//! appender for one push at a time.

use procman_core::sync::Arc;
use procman_core::{
    LogChunk, LogMatch, LogMatcher, LogQuery, ManagerStats, ProcessError, ProcessSnapshot, Result,
    Target,
};

use crate::entry::Entry;
use crate::run::Run;
use crate::shared::Shared;

impl Shared {
    /// [`procman_core::ProcessManager::status`]. Allocation-free unless it fails.
    #[inline]
    pub(crate) fn status(&self, target: Target<'_>) -> Result<ProcessSnapshot> {
        self.registry
            .get_with(target.name(), |entry| {
                // The fast path: the entry's seqlocked view, plain loads only.
                #[cfg(not(feature = "seeded-bug-torn-snapshot-two-loads"))]
                if let Some(snapshot) = entry.read_view() {
                    entry.check_target(target, &snapshot.id)?;
                    return Ok(snapshot);
                }
                // The slow path (a publish overlapped every try, or the run `Failed`): the cell.
                let current = entry.load();
                entry.check_target(target, &current.snapshot.id)?;
                // SEEDED BUG `seeded-bug-torn-snapshot-two-loads` (procman-races catalogue): the
                // status from this load, the rest of the snapshot from a second load of the
                // cell, which a writer may have replaced in between.
                #[cfg(feature = "seeded-bug-torn-snapshot-two-loads")]
                return Ok(ProcessSnapshot {
                    status: current.snapshot.status.clone(),
                    ..entry.load().view()
                });
                #[cfg(not(feature = "seeded-bug-torn-snapshot-two-loads"))]
                Ok(current.view())
            })
            .unwrap_or_else(|| Err(not_found(target)))
    }

    /// [`procman_core::ProcessManager::list`].
    pub(crate) fn list(&self) -> Vec<ProcessSnapshot> {
        self.registry
            .map_by_name(|entry| entry.read_view().unwrap_or_else(|| entry.load().view()))
    }

    /// [`procman_core::ProcessManager::logs_tail`].
    pub(crate) fn logs_tail(
        &self,
        target: Target<'_>,
        cursor: u64,
        limit: usize,
    ) -> Result<LogChunk> {
        let run = self
            .registry
            .get_with(target.name(), |entry| {
                let current = entry.load();
                entry.check_target(target, &current.snapshot.id)?;
                Ok(current.run.clone())
            })
            .unwrap_or_else(|| Err(not_found(target)))?;
        // The ring's mutex is taken outside the registry's shard lock.
        Ok(run.log.tail(cursor, limit))
    }

    /// [`procman_core::ProcessManager::logs_search`].
    pub(crate) fn logs_search(&self, query: &LogQuery) -> Result<Vec<LogMatch>> {
        let matcher = LogMatcher::new(query)?;
        let runs: Vec<Arc<Run>> = match &query.name {
            Some(name) => vec![self.lookup(Target::Name(name))?.load().run.clone()],
            None => {
                let mut runs = Vec::with_capacity(self.registry.len());
                self.registry
                    .for_each(|entry| runs.push(entry.load().run.clone()));
                runs
            }
        };
        let mut hits: Vec<LogMatch> = runs
            .iter()
            .flat_map(|run| {
                run.log
                    .search(&matcher, query.limit)
                    .into_iter()
                    .map(|line| LogMatch { id: run.id, line })
            })
            .collect();
        // Each run gave its newest `limit`; across runs, order by time and keep the newest.
        hits.sort_unstable_by(|a, b| {
            (a.line.at, &a.id, a.line.seq).cmp(&(b.line.at, &b.id, b.line.seq))
        });
        let excess = hits.len().saturating_sub(query.limit);
        hits.drain(..excess);
        Ok(hits)
    }

    /// [`procman_core::ProcessManager::stats`].
    pub(crate) fn stats(&self) -> ManagerStats {
        self.counters.stats()
    }

    /// The entry `target` names, or [`ProcessError::NotFound`].
    pub(crate) fn lookup(&self, target: Target<'_>) -> Result<Arc<Entry>> {
        self.registry
            .get(target.name())
            .ok_or_else(|| not_found(target))
    }
}

/// The error for a name nobody registered.
fn not_found(target: Target<'_>) -> ProcessError {
    ProcessError::NotFound {
        name: target.name().to_owned(),
    }
}
