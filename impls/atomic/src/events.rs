//! [`RunEvents`]: where a child's output and exit arrive, on whatever thread the launcher uses —
//! including synchronously inside `attach` or `signal`, which is why no path holds anything while
//! calling those.
//!
//! The sink holds its run strongly (the log lives there) but the entry and the supervisor only
//! weakly: the entry's state holds the child, the child holds this sink, and a strong edge back
//! would be a cycle that leaks every name's last run.

use std::time::SystemTime;

use procman_core::supervise::ExitLatch;
use procman_core::sync::{Arc, Weak};
use procman_core::{ChildEvents, ExitInfo, OutputLine, Status};

use crate::entry::{Entry, Step, Updated};
use crate::run::{Run, transition_error};
use crate::shared::Shared;

/// The event sink of one run.
pub(crate) struct RunEvents {
    /// The manager (counters, automatic restarts); gone once the manager is dropped.
    supervisor: Weak<Shared>,
    /// The name's entry.
    entry: Weak<Entry>,
    /// The run whose events these are.
    run: Arc<Run>,
}

impl RunEvents {
    /// The sink for `run`.
    pub(crate) fn new(supervisor: Weak<Shared>, entry: Weak<Entry>, run: Arc<Run>) -> Self {
        RunEvents {
            supervisor,
            entry,
            run,
        }
    }
}

impl ChildEvents for RunEvents {
    fn on_output(&self, line: OutputLine) {
        // The ring is the run's own: output of a run that is no longer current lands where no
        // reader of the current run looks, and after the exit it is refused outright.
        self.run.log.push(line);
    }

    fn on_exit(&self, exit: ExitInfo) {
        let Some(entry) = self.entry.upgrade() else {
            return;
        };
        let supervisor = self.supervisor.upgrade();
        // Arming an automatic restart creates a future run, so it needs a start pass like any
        // start: then either shutdown's walk (after the gate drains) sees the armed restart and
        // cancels it, or the gate refuses the pass and nothing is armed. The pass is held only
        // for the compare-and-swap loop below, which never blocks.
        let pass = supervisor.as_ref().and_then(|s| s.gate.enter().ok());
        let run = &self.run;
        let now = SystemTime::now();
        // SEEDED BUG `seeded-bug-restart-decided-from-stale-load` (procman-races catalogue):
        // whether the run ended by itself is read once, before the compare-and-swap loop, and
        // kept across its retries; a stop that moved the run to `Stopping` in between makes the
        // retry end it `Stopped` with an automatic restart armed from the stale `Running`.
        #[cfg(feature = "seeded-bug-restart-decided-from-stale-load")]
        let ran_by_itself = entry.load_unseen().snapshot.status == Status::Running;
        let ended = entry.update(|current| {
            if current.generation() != run.id.generation || current.snapshot.status.is_terminal() {
                // A superseded run, or a second exit for the same run: nothing to record.
                return Step::Leave(None);
            }
            let snapshot = match current.snapshot.to_ended(exit, now) {
                Ok(snapshot) => snapshot,
                Err(e) => return Step::Leave(Some(transition_error(&run.id, e))),
            };
            // Only a run that ended by itself (no stop asked for) restarts automatically.
            #[cfg(not(feature = "seeded-bug-restart-decided-from-stale-load"))]
            let ran_by_itself = current.snapshot.status == Status::Running;
            let restart = (ran_by_itself
                && pass.is_some()
                && run.spec.restart.wants_restart(&exit, current.auto_restarts))
            .then(|| Arc::new(ExitLatch::new()));
            Step::Install(current.ended(snapshot, restart))
        });
        drop(pass);
        match ended {
            Updated::Installed { new, .. } => {
                run.log.close();
                if let Some(supervisor) = &supervisor {
                    supervisor.counters.run_ended(false);
                }
                run.finish(new.snapshot);
                if let (Some(latch), Some(supervisor)) = (&new.restart, &supervisor) {
                    let delay = run.spec.restart.backoff(new.auto_restarts);
                    supervisor.schedule_restart(&entry, run.id.generation, latch.clone(), delay);
                }
            }
            Updated::Left(Some(e)) => {
                tracing::error!(id = %run.id, error = %e, "exit event refused by the status machine");
            }
            Updated::Left(None) => {}
        }
    }
}
