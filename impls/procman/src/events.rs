//! [`Events`]: what happened to a run that an MCP client may want pushed instead of polling
//! for it: the run ended (exit, crash, stop, kill), its spawn failed, or it printed its ready
//! line.
//!
//! [`crate::history::HistoryLauncher`] sees every run on its way to the manager and sends an
//! event *after* the manager has been told (an exit is applied to the manager first, so a client
//! that reads `scripts_status` on the notification sees the run ended; the actor design applies
//! it on its owner thread, a few microseconds later). Each MCP session that subscribed to a
//! resource listens on its own receiver ([`crate::mcp::push`]). Nothing here blocks the sender:
//! a session that falls more than [`CAPACITY`] events behind is told that everything it
//! subscribed to may have changed.

use std::time::SystemTime;

use procman_core::{ExitInfo, ProcessId};
use tokio::sync::broadcast;

/// Events buffered for a slow listener before it loses the oldest.
pub const CAPACITY: usize = 1024;

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunEventKind {
    /// The run ended, however: by itself, by a stop, or killed.
    Ended(ExitInfo),
    /// The child could not be started (the launcher's error).
    SpawnFailed(String),
    /// The run printed a line matching its script's ready pattern (the first one only).
    Ready(String),
}

/// One event of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunEvent {
    /// The run.
    pub id: ProcessId,
    /// What happened.
    pub kind: RunEventKind,
    /// When procman saw it.
    pub at: SystemTime,
}

impl RunEvent {
    /// An event of `id` now.
    pub fn now(id: ProcessId, kind: RunEventKind) -> RunEvent {
        RunEvent {
            id,
            kind,
            at: SystemTime::now(),
        }
    }

    /// The script's name.
    pub fn name(&self) -> &'static str {
        self.id.name.as_str()
    }

    /// A short word for the kind: `ended`, `spawn_failed`, `ready`.
    pub fn kind_str(&self) -> &'static str {
        match self.kind {
            RunEventKind::Ended(_) => "ended",
            RunEventKind::SpawnFailed(_) => "spawn_failed",
            RunEventKind::Ready(_) => "ready",
        }
    }

    /// One line saying what happened, e.g. `web#2 exited with code 3`.
    pub fn reason(&self) -> String {
        let id = &self.id;
        match &self.kind {
            RunEventKind::Ended(ExitInfo::Code(0)) => format!("{id} exited with code 0"),
            RunEventKind::Ended(ExitInfo::Code(code)) => format!("{id} exited with code {code}"),
            RunEventKind::Ended(ExitInfo::Signal(signal)) => {
                format!("{id} was ended by {signal}")
            }
            RunEventKind::SpawnFailed(error) => format!("{id} could not be started: {error}"),
            RunEventKind::Ready(line) => format!("{id} is ready: {line}"),
        }
    }
}

/// The channel every run event goes through.
#[derive(Debug)]
pub struct Events {
    tx: broadcast::Sender<RunEvent>,
}

impl Default for Events {
    fn default() -> Self {
        Events::new()
    }
}

impl Events {
    /// A channel with nobody listening yet.
    pub fn new() -> Events {
        let (tx, _) = broadcast::channel(CAPACITY);
        Events { tx }
    }

    /// Sends `event` to every listener (none: dropped). Never blocks.
    pub fn send(&self, event: RunEvent) {
        let _ = self.tx.send(event);
    }

    /// A receiver of every event sent from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<RunEvent> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(generation: u64) -> ProcessId {
        ProcessId::new("web", generation)
    }

    #[test]
    fn reasons_say_what_happened_in_one_line() {
        let ended = RunEvent::now(id(2), RunEventKind::Ended(ExitInfo::Code(3)));
        assert_eq!(ended.reason(), "web#2 exited with code 3");
        assert_eq!(ended.kind_str(), "ended");
        assert_eq!(ended.name(), "web");
        let killed = RunEvent::now(
            id(1),
            RunEventKind::Ended(ExitInfo::Signal(procman_core::Signal::KILL)),
        );
        assert!(
            killed.reason().starts_with("web#1 was ended by "),
            "{}",
            killed.reason()
        );
        let failed = RunEvent::now(id(4), RunEventKind::SpawnFailed("no such file".into()));
        assert_eq!(failed.reason(), "web#4 could not be started: no such file");
        let ready = RunEvent::now(id(5), RunEventKind::Ready("listening on :4000".into()));
        assert_eq!(ready.reason(), "web#5 is ready: listening on :4000");
    }

    #[test]
    fn every_listener_gets_every_event_sent_after_it_subscribed() {
        let events = Events::new();
        events.send(RunEvent::now(id(1), RunEventKind::Ready("early".into())));
        let mut a = events.subscribe();
        let mut b = events.subscribe();
        let sent = RunEvent::now(id(1), RunEventKind::Ended(ExitInfo::Code(0)));
        events.send(sent.clone());
        assert_eq!(a.try_recv().unwrap(), sent);
        assert_eq!(b.try_recv().unwrap(), sent);
        assert!(a.try_recv().is_err());
    }
}
