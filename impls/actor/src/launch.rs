//! Bringing an admitted run to life off the owner: spawn, record, attach, report.
//!
//! The owner admits a start ([`Ticket`], the run now `Starting`); then, on the caller's thread
//! (blocking API) or the launch worker (async API, automatic restarts):
//!
//! 1. `Launcher::spawn`, with nothing of the owner's held;
//! 2. `Spawned`: the owner records the pid (`Running`) — before any event can arrive;
//! 3. `Child::attach` with a [`RunEvents`] sink: from here events may arrive on any thread,
//!    including this one, synchronously, inside `attach`;
//! 4. `Attached`: queued after every event `attach` delivered, so its answer is the snapshot
//!    current after attach (possibly already terminal). If the child exited and another start
//!    or restart of the name replaced the run before `Attached` arrived, the owner answers
//!    `Superseded`, and the answer is the run's terminal snapshot, read from the [`RunEnd`] the
//!    `Spawned` reply handed back (published before the run could be replaced).
//!
//! If the owner refuses step 2 (it is gone), the orphan child is killed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use procman_core::sync::channel::Receiver;
use procman_core::sync::thread::{self, JoinHandle};
use procman_core::sync::{Arc, Weak};
use procman_core::{
    Child, ChildEvents, ExitInfo, Launcher, OutputLine, ProcessError, ProcessId, ProcessSnapshot,
    Result as PmResult,
};

use crate::mailbox::{Mailbox, Post};
use crate::messages::{Attach, Call, Event, Msg, Ticket};
use crate::reply::{ReplyTo, call, call_result};
use crate::run_end::RunEnd;
use crate::stopper::kill;

/// Where a run's child reports: the owner's mailbox, tagged with the run's id so that events
/// of a superseded run are recognised and ignored.
pub(crate) struct RunEvents {
    /// Weak: a child outliving the manager must not keep its mailbox alive.
    mailbox: Weak<Mailbox>,
    /// The run.
    id: ProcessId,
}

impl ChildEvents for RunEvents {
    fn on_output(&self, line: OutputLine) {
        let _ = self
            .mailbox
            .post(Msg::Event(Event::Output { id: self.id, line }));
    }

    fn on_exit(&self, exit: ExitInfo) {
        let _ = self
            .mailbox
            .post(Msg::Event(Event::Exit { id: self.id, exit }));
    }
}

/// Spawns, records and attaches the run of `ticket`; returns the snapshot after attach.
pub(crate) fn launch(
    post: &impl Post,
    events_to: &Weak<Mailbox>,
    launcher: &dyn Launcher,
    ticket: Ticket,
) -> PmResult<ProcessSnapshot> {
    let Ticket { id, spec, retired } = ticket;
    drop(retired);
    let spawned = {
        let _abandon = AbandonGuard { post, id: &id };
        launcher.spawn(&id, &spec)
    };
    let child: Arc<dyn Child> = match spawned {
        Ok(child) => Arc::from(child),
        Err(e) => {
            let reason = e.0;
            return Err(call(post, |reply| {
                Msg::Call(Call::SpawnFailed { id, reason, reply })
            })
            .unwrap_or(ProcessError::ManagerGone));
        }
    };
    let recorded = call_result(post, |reply: ReplyTo<PmResult<Arc<RunEnd>>>| {
        Msg::Call(Call::Spawned {
            id,
            child: child.clone(),
            reply,
        })
    });
    let end = match recorded {
        Ok(end) => end,
        Err(e) => {
            kill(&*child);
            return Err(e);
        }
    };
    child.attach(Arc::new(RunEvents {
        mailbox: events_to.clone(),
        id,
    }));
    match call_result(post, |reply| Msg::Call(Call::Attached { id, reply }))? {
        Attach::Current(snapshot) => Ok(snapshot),
        // Replaced, so ended: the owner published the end before it admitted the replacement,
        // and so before it answered `Attached`. This reads it; it never waits.
        Attach::Superseded => end.result(),
    }
}

/// Reports the spawn as abandoned if the launcher panics, so that the run does not stay
/// `Starting` forever (a shutdown waits for every `Starting` run).
struct AbandonGuard<'a, P: Post> {
    post: &'a P,
    id: &'a ProcessId,
}

impl<P: Post> Drop for AbandonGuard<'_, P> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self
                .post
                .post(Msg::Event(Event::SpawnAbandoned { id: *self.id }));
        }
    }
}

/// A run for the launch worker: an async start or restart, or an automatic restart.
pub(crate) struct LaunchJob {
    /// The admitted run.
    pub ticket: Ticket,
    /// Where the final snapshot goes (`None` for an automatic restart).
    pub done: Option<ReplyTo<PmResult<ProcessSnapshot>>>,
}

/// Starts the launch worker: one thread that runs [`launch`] for each job the owner sends it,
/// so that neither the owner nor an async runtime ever blocks on a spawn. It ends when the
/// owner drops its end of `jobs`.
pub(crate) fn spawn_worker(
    jobs: Receiver<LaunchJob>,
    mailbox: Weak<Mailbox>,
    launcher: Arc<dyn Launcher>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        while let Ok(LaunchJob { ticket, done }) = jobs.recv() {
            let id = ticket.id;
            // A panicking launcher must not take the worker (and every later launch) with it;
            // the abandon guard has already told the owner.
            let result = catch_unwind(AssertUnwindSafe(|| {
                launch(&mailbox, &mailbox, &*launcher, ticket)
            }))
            .unwrap_or_else(|_| {
                Err(ProcessError::SpawnFailed {
                    id,
                    reason: "the launcher panicked while starting the process".into(),
                })
            });
            if let Some(done) = done {
                done.send(result);
            }
        }
    })
}
