//! Everything that travels through the owner's mailbox, and the plans it sends back.
//!
//! Messages are plain enums moved by value into flume's queue: no boxed closures, no per-request
//! allocation. Keys are copied inline ([`NameKey`]) rather than borrowed (a borrow cannot cross
//! threads) or allocated (`Arc<str>`/`String` per request); an id's name is not cloned either,
//! which also keeps readers off the shared reference count of the name's `Arc`.
//!
//! The plans ([`StopPlan`], [`RestartPlan`], [`ShutdownPlan`], [`Ticket`]) are how the owner
//! hands blocking work back to the caller: the owner decides and records the transition, the
//! caller spawns, signals and waits on its own thread.

use std::task::Waker;
use std::time::{Duration, Instant};

use procman_core::spec::MAX_NAME_LEN;
use procman_core::sync::Arc;
use procman_core::{
    Child, ExitInfo, IfRunning, LogChunk, LogMatch, LogMatcher, LogRing, ManagerStats, OutputLine,
    ProcessError, ProcessId, ProcessSnapshot, ProcessSpec, Result as PmResult, ShutdownOutcome,
    Signal, Target,
};

use crate::reply::ReplyTo;
use crate::run_end::RunEnd;
use crate::stopper::kill;

/// One message for the owner.
pub(crate) enum Msg {
    /// A request; the owner answers through the [`ReplyTo`] it carries.
    Call(Call),
    /// Something that happened and needs no answer.
    Event(Event),
    /// The manager is being dropped: stop serving.
    Close,
    /// Makes the owner panic, to test that callers then get `ManagerGone`.
    #[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
    Crash,
}

/// The requests.
pub(crate) enum Call {
    /// The snapshot of a run.
    Status {
        key: Key,
        reply: ReplyTo<PmResult<ProcessSnapshot>>,
    },
    /// Every current run's snapshot.
    List {
        reply: ReplyTo<Vec<ProcessSnapshot>>,
    },
    /// A page of a run's log.
    LogsTail {
        key: Key,
        cursor: u64,
        limit: usize,
        reply: ReplyTo<PmResult<LogChunk>>,
    },
    /// Each current run's newest matches (compiled by the caller, merged by the caller).
    LogsSearch {
        name: Option<NameKey>,
        matcher: Arc<LogMatcher>,
        limit: usize,
        reply: ReplyTo<PmResult<Vec<LogMatch>>>,
    },
    /// The counters.
    Stats { reply: ReplyTo<ManagerStats> },
    /// Admit a start or the start half of a restart.
    Begin { start: StartKind, reply: BeginReply },
    /// The child of a `Starting` run was spawned: record it (`Running`) before it is attached.
    /// The answer is the run's end, which the starter needs if the run is replaced before its
    /// `Attached` arrives.
    Spawned {
        id: ProcessId,
        child: Arc<dyn Child>,
        reply: ReplyTo<PmResult<Arc<RunEnd>>>,
    },
    /// The spawn of a `Starting` run failed: record it (`Failed`).
    SpawnFailed {
        id: ProcessId,
        reason: String,
        reply: ReplyTo<ProcessError>,
    },
    /// The child was attached; its first events are already queued ahead of this message.
    Attached {
        id: ProcessId,
        reply: ReplyTo<PmResult<Attach>>,
    },
    /// Begin a stop (or join the one in flight).
    Stop {
        key: Key,
        force: bool,
        reply: ReplyTo<PmResult<StopPlan>>,
    },
    /// Begin a restart.
    Restart {
        key: Key,
        reply: ReplyTo<PmResult<RestartPlan>>,
    },
    /// Reject new work and say what must be stopped.
    Shutdown { reply: ReplyTo<ShutdownPlan> },
}

/// Things that happened, posted without waiting for an answer.
pub(crate) enum Event {
    /// A line of a run's output.
    Output { id: ProcessId, line: OutputLine },
    /// A run's child is gone (its output drained).
    Exit { id: ProcessId, exit: ExitInfo },
    /// The thread spawning this run panicked: the spawn will never be reported.
    SpawnAbandoned { id: ProcessId },
    /// Wake `waker` at `at` (an async stop's escalation deadline).
    WakeAt { at: Instant, waker: Waker },
}

/// A process name copied inline, so that a request owns its key without allocating.
#[derive(Clone, Copy)]
pub(crate) struct NameKey {
    len: u8,
    bytes: [u8; MAX_NAME_LEN],
}

const _: () = assert!(MAX_NAME_LEN <= u8::MAX as usize);

impl NameKey {
    /// The key for `name`; a name longer than any valid spec allows is no process's, so the
    /// error is the `NotFound` the owner would have answered.
    pub(crate) fn new(name: &str) -> PmResult<NameKey> {
        if name.len() > MAX_NAME_LEN {
            return Err(ProcessError::NotFound {
                name: name.to_owned(),
            });
        }
        let mut bytes = [0; MAX_NAME_LEN];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(NameKey {
            len: name.len() as u8,
            bytes,
        })
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)])
            .expect("a NameKey is copied whole from a str")
    }
}

/// What a request's [`Target`] names, owned.
#[derive(Clone, Copy)]
pub(crate) struct Key {
    /// The process name.
    pub name: NameKey,
    /// The exact run asked for, or `None` for the current one.
    pub generation: Option<u64>,
}

impl Key {
    /// The owned form of `target`.
    pub(crate) fn new(target: Target<'_>) -> PmResult<Key> {
        Ok(match target {
            Target::Name(name) => Key {
                name: NameKey::new(name)?,
                generation: None,
            },
            Target::Id(id) => Key {
                name: NameKey::new(&id.name)?,
                generation: Some(id.generation),
            },
        })
    }
}

/// Which start a `Begin` admits.
pub(crate) enum StartKind {
    /// `start(spec, if_running)`.
    Manual {
        spec: Arc<ProcessSpec>,
        if_running: IfRunning,
    },
    /// The start half of `restart`: `id` is the run it stopped or found ended.
    Restart { id: ProcessId },
}

/// Who spawns an admitted run, and where the answer goes.
pub(crate) enum BeginReply {
    /// The caller spawns on its own thread; the owner answers with the admission.
    Caller(ReplyTo<PmResult<Begun>>),
    /// The launch worker spawns (an async caller must not block its runtime); the owner or the
    /// worker answers with the final snapshot.
    Worker(ReplyTo<PmResult<ProcessSnapshot>>),
}

/// A start the owner admitted.
pub(crate) enum Begun {
    /// The name is live and the caller asked for the existing run.
    Existing(ProcessSnapshot),
    /// A new `Starting` run: spawn it.
    Launch(Ticket),
}

/// The owner's answer to `Attached`.
pub(crate) enum Attach {
    /// The run is still its name's current run: its snapshot after attach (possibly terminal).
    Current(ProcessSnapshot),
    /// The run is no longer current: it ended (its child exited during or right after attach)
    /// and another start or restart of the name replaced it before `Attached` arrived. A run is
    /// only replaced once it has ended, so its end is published: the starter answers with that
    /// terminal snapshot, from the [`RunEnd`] the `Spawned` reply handed it.
    Superseded,
}

/// Permission to spawn one `Starting` run.
pub(crate) struct Ticket {
    /// The run.
    pub id: ProcessId,
    /// What to spawn.
    pub spec: Arc<ProcessSpec>,
    /// The log of the ended run this one replaced: freed by whoever spawns, so that dropping a
    /// full ring (thousands of lines) never stalls the owner.
    pub retired: Option<LogRing>,
}

/// How the caller carries out a stop.
pub(crate) enum StopPlan {
    /// The run is now `Stopping` and this caller leads its stop.
    Lead(LeadStop),
    /// A stop is in flight: (with `force`, SIGKILL and) wait for its end.
    Join {
        child: Arc<dyn Child>,
        end: Arc<RunEnd>,
        force: bool,
    },
    /// The run had ended; the stop cancelled its pending automatic restart.
    Done(ProcessSnapshot),
}

/// A stop this caller leads: the stop sequence, then the run's end.
///
/// The owner has recorded `Stopping`, so somebody must see the stop through. If the plan is
/// dropped before the run has ended — an async stop whose future was cancelled — the child is
/// killed at once rather than left `Stopping` with nobody leading it.
pub(crate) struct LeadStop {
    /// The child to signal.
    pub child: Arc<dyn Child>,
    /// Published by the owner when the child is gone.
    pub end: Arc<RunEnd>,
    /// The spec's stop signal.
    pub signal: Signal,
    /// The spec's stop timeout, after which SIGKILL.
    pub timeout: Duration,
    /// SIGKILL at once.
    pub force: bool,
}

impl Drop for LeadStop {
    fn drop(&mut self) {
        if !self.end.latch().is_set() {
            kill(&*self.child);
        }
    }
}

/// How the caller carries out a restart.
pub(crate) enum RestartPlan {
    /// Stop the run `id` first, then begin the restart.
    StopFirst { id: ProcessId, plan: StopPlan },
    /// The run `id` has ended: begin the restart.
    Ended { id: ProcessId },
}

/// What a shutdown must stop, once every spawn in flight has been resolved.
#[derive(Default)]
pub(crate) struct ShutdownPlan {
    /// Live runs, now `Stopping`.
    pub jobs: Vec<StopJob>,
    /// Runs that were live (starting) when the shutdown began and ended before it reached them.
    pub settled: Vec<(ProcessId, ShutdownOutcome)>,
}

/// One run a shutdown stops.
pub(crate) struct StopJob {
    /// The run, for the report.
    pub id: ProcessId,
    /// The child to signal.
    pub child: Arc<dyn Child>,
    /// Published by the owner when the child is gone.
    pub end: Arc<RunEnd>,
    /// The spec's stop signal.
    pub signal: Signal,
    /// The spec's stop timeout (the shutdown caps it at its deadline).
    pub timeout: Duration,
    /// True when the shutdown moved it to `Stopping` (and so sends the stop signal); false when
    /// another stop was already in flight and the shutdown only enforces its deadline.
    pub lead: bool,
}
