//! [`ActorManager`]: the handle callers hold, and the blocking [`ProcessManager`] API.
//!
//! Each method turns its arguments into one owned message, posts it, and waits on the calling
//! thread's reply slot. What the answer asks for next — spawning a run, running a stop
//! sequence — happens here, on the caller's thread, before the method returns.

use std::time::Duration;

use procman_core::sync::channel;
use procman_core::sync::thread::JoinHandle;
use procman_core::sync::{Arc, Weak};
use procman_core::{
    IfRunning, Launcher, LogChunk, LogMatch, LogMatcher, LogQuery, ManagerConfig, ManagerStats,
    ProcessManager, ProcessSnapshot, ProcessSpec, Result as PmResult, ShutdownReport, StopOptions,
    Target,
};

use crate::launch::{self, launch};
use crate::mailbox::{self, Mailbox, Post};
use crate::messages::{BeginReply, Begun, Call, Key, Msg, NameKey, RestartPlan, StartKind};
use crate::owner;
use crate::reply::{call, call_result};
use crate::stopper::{stop_all, stop_blocking};

/// How long dropping a manager that was never shut down gives its children to stop (each still
/// gets at most its own stop timeout) before SIGKILL: the bound the other designs use, and what
/// MCP clients allow before they escalate.
pub const DROP_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(2);

/// The actor design of [`ProcessManager`]: one owner thread holds every piece of state, and
/// callers talk to it through its mailbox (see the crate docs for the protocol and its costs).
///
/// Besides the blocking trait methods it has `*_async` twins for async callers, which await the
/// owner's answer instead of blocking a runtime worker. Dropping it shuts it down (with
/// [`DROP_SHUTDOWN_DEADLINE`]) and joins its threads.
pub struct ActorManager {
    /// Where requests go. Declared before `worker`, so that it is dropped first: see `Drop`.
    mailbox: Arc<Mailbox>,
    /// Spawns children, on callers' threads or the launch worker.
    launcher: Arc<dyn Launcher>,
    /// The owner thread; taken when joined.
    owner: Option<JoinHandle<()>>,
    /// The launch worker thread, joined when this field is dropped.
    #[expect(dead_code, reason = "held only to be joined when dropped")]
    worker: JoinOnDrop,
}

impl std::fmt::Debug for ActorManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorManager")
            .field("launcher", &self.launcher)
            .finish_non_exhaustive()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ActorManager>();
};

impl ActorManager {
    /// A manager that spawns children with `launcher`. Starts its owner thread and its launch
    /// worker thread.
    pub fn new(launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Self {
        let (mailbox, inbox) = mailbox::mailbox();
        let mailbox = Arc::new(mailbox);
        let (launches, jobs) = channel::unbounded();
        let worker = launch::spawn_worker(jobs, Arc::downgrade(&mailbox), launcher.clone());
        let owner = owner::spawn(inbox, config, launches);
        ActorManager {
            mailbox,
            launcher,
            owner: Some(owner),
            worker: JoinOnDrop(Some(worker)),
        }
    }

    /// The mailbox, for the async API.
    pub(crate) fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    /// Spawns an admitted run on this thread, or returns the existing one.
    fn finish_begin(&self, begun: Begun) -> PmResult<ProcessSnapshot> {
        match begun {
            Begun::Existing(snapshot) => Ok(snapshot),
            Begun::Launch(ticket) => {
                let events_to: Weak<Mailbox> = Arc::downgrade(&self.mailbox);
                launch(&*self.mailbox, &events_to, &*self.launcher, ticket)
            }
        }
    }

    fn begin(&self, start: StartKind) -> PmResult<ProcessSnapshot> {
        let begun = call_result(&*self.mailbox, |reply| {
            Msg::Call(Call::Begin {
                start,
                reply: BeginReply::Caller(reply),
            })
        })?;
        self.finish_begin(begun)
    }

    /// Asks the owner to make the owner thread panic (tests of `ManagerGone`).
    #[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
    pub(crate) fn crash_owner(&self) {
        let _ = self.mailbox.post(Msg::Crash);
    }
}

impl ProcessManager for ActorManager {
    fn design(&self) -> &'static str {
        "actor"
    }

    fn start(&self, spec: ProcessSpec, if_running: IfRunning) -> PmResult<ProcessSnapshot> {
        spec.validate()?;
        self.begin(StartKind::Manual {
            spec: Arc::new(spec),
            if_running,
        })
    }

    fn stop(&self, target: Target<'_>, options: StopOptions) -> PmResult<ProcessSnapshot> {
        let key = Key::new(target)?;
        let plan = call_result(&*self.mailbox, |reply| {
            Msg::Call(Call::Stop {
                key,
                force: options.force,
                reply,
            })
        })?;
        stop_blocking(plan)
    }

    fn restart(&self, target: Target<'_>) -> PmResult<ProcessSnapshot> {
        let key = Key::new(target)?;
        let plan = call_result(&*self.mailbox, |reply| {
            Msg::Call(Call::Restart { key, reply })
        })?;
        let id = match plan {
            RestartPlan::StopFirst { id, plan } => {
                stop_blocking(plan)?;
                id
            }
            RestartPlan::Ended { id } => id,
        };
        self.begin(StartKind::Restart { id })
    }

    fn status(&self, target: Target<'_>) -> PmResult<ProcessSnapshot> {
        let key = Key::new(target)?;
        call_result(&*self.mailbox, |reply| {
            Msg::Call(Call::Status { key, reply })
        })
    }

    /// Empty if the owner is gone (the signature has no room for the error).
    fn list(&self) -> Vec<ProcessSnapshot> {
        let all = call(&*self.mailbox, |reply| Msg::Call(Call::List { reply }));
        sorted_by_name(all.unwrap_or_default())
    }

    fn logs_tail(&self, target: Target<'_>, cursor: u64, limit: usize) -> PmResult<LogChunk> {
        let key = Key::new(target)?;
        call_result(&*self.mailbox, |reply| {
            Msg::Call(Call::LogsTail {
                key,
                cursor,
                limit,
                reply,
            })
        })
    }

    fn logs_search(&self, query: &LogQuery) -> PmResult<Vec<LogMatch>> {
        let (matcher, name) = search_args(query)?;
        let limit = query.limit;
        let hits = call_result(&*self.mailbox, |reply| {
            Msg::Call(Call::LogsSearch {
                name,
                matcher: matcher.clone(),
                limit,
                reply,
            })
        })?;
        Ok(newest_by_time(hits, limit))
    }

    /// Empty if the owner is gone: nothing can be stopped through it any more.
    fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        match call(&*self.mailbox, |reply| Msg::Call(Call::Shutdown { reply })) {
            Ok(plan) => stop_all(plan, deadline),
            Err(_) => ShutdownReport::default(),
        }
    }

    /// All zero if the owner is gone.
    fn stats(&self) -> ManagerStats {
        call(&*self.mailbox, |reply| Msg::Call(Call::Stats { reply })).unwrap_or_default()
    }
}

impl Drop for ActorManager {
    fn drop(&mut self) {
        let _ = self.shutdown(DROP_SHUTDOWN_DEADLINE);
        let _ = self.mailbox.post(Msg::Close);
        if let Some(owner) = self.owner.take() {
            let _ = owner.join();
        }
        // Then the fields drop in order: `mailbox` first — with the owner gone, that frees the
        // channel and answers `Gone` to any message stranded in it — then `worker`, whose join
        // can therefore not wait on an answer that will never come.
    }
}

/// Joins a thread when dropped.
struct JoinOnDrop(Option<JoinHandle<()>>);

impl Drop for JoinOnDrop {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

/// The compiled pattern (shared with the owner, freed here) and the owned name filter.
pub(crate) fn search_args(query: &LogQuery) -> PmResult<(Arc<LogMatcher>, Option<NameKey>)> {
    let matcher = Arc::new(LogMatcher::new(query)?);
    let name = query.name.as_deref().map(NameKey::new).transpose()?;
    Ok((matcher, name))
}

/// `list`'s order, sorted here rather than on the owner.
pub(crate) fn sorted_by_name(mut all: Vec<ProcessSnapshot>) -> Vec<ProcessSnapshot> {
    all.sort_unstable_by_key(|a| a.id.name);
    all
}

/// Merges every run's newest matches: ordered by time (ties by run, then line), newest `limit`
/// kept.
pub(crate) fn newest_by_time(mut hits: Vec<LogMatch>, limit: usize) -> Vec<LogMatch> {
    hits.sort_unstable_by(|a, b| {
        (a.line.at, &a.id, a.line.seq).cmp(&(b.line.at, &b.id, b.line.seq))
    });
    let excess = hits.len().saturating_sub(limit);
    hits.drain(..excess);
    hits
}
