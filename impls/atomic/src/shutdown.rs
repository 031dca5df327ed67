//! Shutdown: close the gate, wait for the starts in flight, cancel pending automatic restarts,
//! then stop every live run concurrently.
//!
//! Why nothing escapes (see gate.rs for the gate's own argument): after the gate is closed and
//! drained, no thread holds a start pass and none can get one, and only pass holders create runs
//! or arm automatic restarts. So the registry walk that follows sees every run that will ever be
//! live, and stops each one, and every armed restart, and cancels it. A run that ends by itself
//! during the walk arms nothing (its exit event is refused a pass), and a backoff thread that
//! was already sleeping is woken by the cancellation.

use std::time::Duration;

use procman_core::supervise::StopEscalation;
use procman_core::sync::{Arc, thread};
use procman_core::{
    ProcessId, ShutdownOutcome, ShutdownReport, Signal, Status, StopOptions, Target,
};

use crate::entry::{Entry, Step, Updated};
use crate::shared::Shared;
use crate::stop::StopPath;

impl Shared {
    /// [`procman_core::ProcessManager::shutdown`].
    pub(crate) fn shutdown(self: &Arc<Self>, deadline: Duration) -> ShutdownReport {
        let Some(in_flight) = self.gate.close() else {
            return ShutdownReport::default();
        };
        self.gate.wait_drained(in_flight);

        let mut live = Vec::new();
        for entry in self.registry.entries() {
            if let Updated::Installed { old, .. } = entry.update(|current| match current.restart {
                Some(_) => Step::Install(current.without_restart()),
                None => Step::Leave(()),
            }) {
                old.cancel_pending_restart();
            }
            let current = entry.load();
            if current.snapshot.status.is_alive() {
                let id = current.snapshot.id;
                drop(current);
                live.push((entry, id));
            }
        }

        // One thread per run but the first, which this thread stops itself: every stop sequence
        // waits on its own child, so they must run side by side to end within one deadline.
        let mut live = live.into_iter();
        let first = live.next();
        let others: Vec<_> = live
            .map(|(entry, id)| {
                let supervisor = self.clone();
                let handle =
                    thread::spawn(move || supervisor.stop_for_shutdown(&entry, &id, deadline));
                (id, handle)
            })
            .collect();
        let mut processes = Vec::with_capacity(others.len() + 1);
        if let Some((entry, id)) = first {
            let outcome = self.stop_for_shutdown(&entry, &id, deadline);
            processes.push((id, outcome));
        }
        for (id, handle) in others {
            let outcome = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            processes.push((id, outcome));
        }
        ShutdownReport { processes }
    }

    /// Stops run `id` within `deadline` and says how it ended.
    fn stop_for_shutdown(
        &self,
        entry: &Entry,
        id: &ProcessId,
        deadline: Duration,
    ) -> ShutdownOutcome {
        match self.stop_run(
            entry,
            Target::Id(id),
            StopOptions::default(),
            Some(deadline),
        ) {
            Ok((_, StopPath::Sequence(StopEscalation::Graceful))) => ShutdownOutcome::Graceful,
            Ok((_, StopPath::Sequence(StopEscalation::Killed))) => ShutdownOutcome::Killed,
            Ok((snapshot, StopPath::Joined)) if snapshot.status == Status::Killed(Signal::KILL) => {
                ShutdownOutcome::Killed
            }
            Ok((_, StopPath::Joined)) => ShutdownOutcome::Graceful,
            // It ended by itself after the walk saw it live (NotRunning), or — impossible once
            // the gate is drained — it was replaced.
            Ok((_, StopPath::RestartCancelled)) | Err(_) => ShutdownOutcome::AlreadyEnded,
        }
    }
}
