//! The owner thread: the one place the manager's state lives, and the loop that serves it.
//!
//! The loop takes one message at a time from the mailbox — requests and events alike, in the
//! order they were sent — and answers or applies it. It drains everything queued before it
//! sleeps, so a burst costs one wake-up. It never spawns, signals, sleeps on a timer or waits
//! for anyone: its only wait is for its next message, with the earliest timer as the timeout.
//!
//! If a handler panics the owner does not leave: it drops the state (which answers `Gone` to
//! every reply it held and ends every stopper's wait) and then answers `Gone` to every message
//! until the manager is dropped, so callers get `ManagerGone` instead of hanging.

mod lifecycle;
mod shutdown;
mod state;
mod stopping;
mod timers;

use std::time::Instant;

use procman_core::sync::thread::{self, JoinHandle};
use procman_core::{ManagerConfig, sync::channel::Sender};

use self::state::State;
use self::timers::TimerJob;
use crate::launch::LaunchJob;
use crate::mailbox::Inbox;
use crate::messages::{Call, Event, Msg};

/// Starts the owner thread with a fresh state.
pub(crate) fn spawn(
    inbox: Inbox,
    config: ManagerConfig,
    launches: Sender<LaunchJob>,
) -> JoinHandle<()> {
    let state = State::new(config, launches);
    thread::spawn(move || run(inbox, state))
}

/// Serves until `Close`; after a panic, answers `Gone` until `Close`.
#[cfg(not(any(feature = "loom", feature = "shuttle")))]
fn run(inbox: Inbox, state: State) {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    let mut state = Some(state);
    // The state is never looked at again after a panic, only dropped: no broken invariant can
    // be observed, which is what unwind safety asks.
    let served = catch_unwind(AssertUnwindSafe(|| {
        serve(&inbox, state.as_mut().expect("state present"));
    }));
    if served.is_ok() {
        return;
    }
    tracing::error!(
        "the actor manager's owner thread panicked; every call now fails with ManagerGone"
    );
    let _ = catch_unwind(AssertUnwindSafe(|| drop(state.take())));
    while let Some(msg) = inbox.next(None) {
        if matches!(msg, Msg::Close) {
            break;
        }
        // Dropping a request drops its reply handle, which answers `Gone`.
    }
}

/// Under the model checkers a panic is a finding: let it reach the checker.
#[cfg(any(feature = "loom", feature = "shuttle"))]
fn run(inbox: Inbox, mut state: State) {
    serve(&inbox, &mut state);
}

fn serve(inbox: &Inbox, state: &mut State) {
    loop {
        if state.timers.next_due().is_some() {
            let now = Instant::now();
            while let Some(job) = state.timers.pop_due(now) {
                state.fire(job);
            }
        }
        match inbox.next(state.timers.next_due()) {
            Some(Msg::Close) => return,
            Some(msg) => state.handle(msg),
            // A timer is due.
            None => {}
        }
    }
}

impl State {
    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Call(call) => self.answer(call),
            Msg::Event(event) => self.apply(event),
            Msg::Close => {}
            #[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
            Msg::Crash => panic!("owner crash requested by a test"),
        }
    }

    fn answer(&mut self, call: Call) {
        match call {
            Call::Status { key, reply } => reply.send(self.status(&key)),
            Call::List { reply } => reply.send(self.list()),
            Call::LogsTail {
                key,
                cursor,
                limit,
                reply,
            } => reply.send(self.logs_tail(&key, cursor, limit)),
            Call::LogsSearch {
                name,
                matcher,
                limit,
                reply,
            } => {
                let hits = self.logs_search(name.as_ref(), &matcher, limit);
                // Dropped before answering, so that the caller's clone is the last and the
                // compiled pattern is freed on the caller's thread, not here.
                drop(matcher);
                reply.send(hits);
            }
            Call::Stats { reply } => reply.send(self.stats()),
            Call::Begin { start, reply } => self.begin_for(start, reply),
            Call::Spawned { id, child, reply } => reply.send(self.spawned(&id, child)),
            Call::SpawnFailed { id, reason, reply } => reply.send(self.spawn_failed(&id, reason)),
            Call::Attached { id, reply } => reply.send(self.attached(&id)),
            #[cfg(not(feature = "seeded-bug-dropped-reply"))]
            Call::Stop { key, force, reply } => reply.send(self.stop(&key, force)),
            // SEEDED BUG `seeded-bug-dropped-reply` (procman-races catalogue): the reply of a
            // stop that joins a stop in flight is dropped unanswered, so its caller gets
            // `ManagerGone` where the run's terminal snapshot was due.
            #[cfg(feature = "seeded-bug-dropped-reply")]
            Call::Stop { key, force, reply } => match self.stop(&key, force) {
                Ok(crate::messages::StopPlan::Join { .. }) => drop(reply),
                plan => reply.send(plan),
            },
            Call::Restart { key, reply } => reply.send(self.restart(&key)),
            Call::Shutdown { reply } => self.begin_shutdown(reply),
        }
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Output { id, line } => self.output(&id, line),
            Event::Exit { id, exit } => self.exited(&id, exit),
            Event::SpawnAbandoned { id } => {
                let _ =
                    self.spawn_failed(&id, "the spawn was abandoned: the launcher panicked".into());
            }
            Event::WakeAt { at, waker } => self.timers.schedule(at, TimerJob::Wake(waker)),
        }
    }

    fn fire(&mut self, job: TimerJob) {
        match job {
            TimerJob::Restart(id) => self.restart_due(&id),
            TimerJob::Wake(waker) => waker.wake(),
        }
    }
}
