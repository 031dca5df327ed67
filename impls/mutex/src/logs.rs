//! Log reads: tail from a cursor and search.
//!
//! Each takes the run out of its entry under a read acquisition of the entry lock (cloning one
//! `Arc`), releases it, and only then reads the run's ring under the ring's own read lock, so a
//! long read never holds up a transition and a status read never waits for a log read.

use procman_core::sync::Arc;
use procman_core::{LogChunk, LogMatch, LogMatcher, LogQuery, Result, Target};

use crate::manager::Shared;
use crate::run::Run;

impl Shared {
    /// [`procman_core::ProcessManager::logs_tail`].
    pub(crate) fn logs_tail(
        &self,
        target: Target<'_>,
        cursor: u64,
        limit: usize,
    ) -> Result<LogChunk> {
        let run = self.with_slot(target, |slot| Arc::clone(&slot.run))?;
        let chunk = run.log().tail(cursor, limit);
        Ok(chunk)
    }

    /// [`procman_core::ProcessManager::logs_search`]: at most `query.limit` matches over the
    /// current runs (or the named one), the newest kept, ordered by time.
    pub(crate) fn logs_search(&self, query: &LogQuery) -> Result<Vec<LogMatch>> {
        let matcher = LogMatcher::new(query)?;
        let runs: Vec<Arc<Run>> = match &query.name {
            Some(name) => vec![self.with_slot(Target::Name(name), |slot| Arc::clone(&slot.run))?],
            None => {
                let registry = self.registry.read();
                registry
                    .values()
                    .map(|entry| Arc::clone(&entry.slot.read().run))
                    .collect()
            }
        };
        let mut hits: Vec<LogMatch> = Vec::new();
        for run in &runs {
            // Each ring keeps its own newest `limit`; the merge below keeps the newest overall.
            let lines = run.log().search(&matcher, query.limit);
            hits.extend(lines.into_iter().map(|line| LogMatch { id: run.id, line }));
        }
        hits.sort_unstable_by(|a, b| {
            (a.line.at, &a.id, a.line.seq).cmp(&(b.line.at, &b.id, b.line.seq))
        });
        let excess = hits.len().saturating_sub(query.limit);
        hits.drain(..excess);
        Ok(hits)
    }
}
