//! procman-actor: the actor (channel) design of the procman process manager, in the best form
//! we could give it.
//!
//! # The design
//!
//! One owner thread holds every piece of state: the registry of names, each name's current run
//! (its snapshot, its child, its [`procman_core::LogRing`]), the counters, the automatic-restart
//! timers and the shutdown's progress. Nothing in it is shared, so nothing in it is locked: a
//! snapshot is consistent because the owner builds it between two messages. Requests *and*
//! launcher events (output lines, exits) go through the owner's one mailbox, a flume queue, so
//! the owner sees them in the order they were sent; callers wait for a reply.
//!
//! [`ActorManager`] is the handle. Its [`procman_core::ProcessManager`] methods block the
//! calling thread; its `*_async` twins ([`ActorManager::status_async`] and the rest) await the
//! same replies without blocking an async runtime's worker.
//!
//! # The protocol
//!
//! | call | messages | off the owner, on the caller |
//! |------|----------|------------------------------|
//! | `status`, `list`, `logs_tail`, `stats` | one request, one reply | `list` sorted by name |
//! | `logs_search` | one request (the pattern compiled by the caller), one reply | the runs' hits merged by time, newest `limit` kept |
//! | `start` | `Begin` (admit: shutdown check, limit, generation, `Starting`) → `Spawned` (`Running`, pid; answers with the run's end) → `Attached` (the snapshot after attach, or `Superseded`) | `Launcher::spawn` between `Begin` and `Spawned`, `Child::attach` between `Spawned` and `Attached` |
//! | `stop` | `Stop` (`Running -> Stopping`; hands back the child and the run's end) | `run_stop_sequence`, then the wait for the end the owner publishes |
//! | `restart` | `Restart` (stop first, or the run has ended) → `Begin` | as `stop`, then as `start` |
//! | `shutdown` | `Shutdown` (flag; every live run to `Stopping`; the answer waits until every spawn in flight has resolved) | every stop signal at once, SIGKILL at each run's deadline |
//! | automatic restart | exit event → owner timer (backoff) → admission if still current, pending and no shutdown | the spawn, on the launch worker thread |
//!
//! Because events and requests share the queue, `Attached` — posted after `attach` returned —
//! is answered after every event `attach` delivered, so `start` returns the snapshot current
//! after attach, terminal if the child died at once. Events carry their run's [`ProcessId`];
//! the owner drops those of a superseded run.
//!
//! A run that died at once can even be replaced — by another caller's start or restart of the
//! name — before its starter's `Attached` arrives. The owner then answers `Superseded`, and
//! `start` returns the run's own terminal snapshot, read from the run's end that the `Spawned`
//! reply handed back: a run is replaced only after its exit is recorded, and the owner publishes
//! the end when it records the exit, so the read never waits.
//!
//! [`ProcessId`]: procman_core::ProcessId
//!
//! # Why readers never wait
//!
//! The owner never spawns, signals, sleeps on a timer or waits for anyone: each message is
//! short state work, and its only wait is for its next message, with the earliest timer as the
//! timeout (a restart backoff or an async stop's deadline is a delayed message to itself, never
//! a sleep). Everything slow happens elsewhere: spawns on the caller's thread (or the launch
//! worker for async calls and automatic restarts), stop sequences on the stopper's thread or
//! task, waiting on the run's `RunEnd` (`run_end.rs`) that the owner publishes when the exit event arrives. A
//! two-second stop is a caller asleep on a latch; a `status` queued meanwhile is answered after
//! whatever is ahead of it in the mailbox, nothing more.
//!
//! The one exception is inherent to the design: the logs are owner state, so `logs_search`
//! scans the rings on the owner, and requests queued behind a large search wait for it.
//!
//! # Costs, and what was done about them
//!
//! The seed measured Go channels at 144 B and 3 allocations per op. Here, per request (run
//! `cargo test -p procman-actor --test allocations -- --nocapture` to see the figures; the test
//! asserts them):
//!
//! | request | allocations, whole process (caller + owner) |
//! |---------|---------------------------------------------|
//! | `status`, `stats` | 0 |
//! | `list`, `logs_tail` | 1: the `Vec` the answer is |
//! | `status_async` | 1 (192 B): the call's reply slot |
//!
//! - **Messages by value.** A request is an enum moved into the queue: no boxed closure, no
//!   per-request channel. A name is copied inline into the message (`NameKey`, `messages.rs`):
//!   a borrow cannot cross threads, and an `Arc<str>` or `String` would allocate (an id's name
//!   is not cloned either, which keeps readers off its shared reference count). The price is
//!   size: a message is 176 bytes, copied in and out of the queue.
//! - **One reply slot per thread.** A blocking caller reuses a thread-local slot (a mutex,
//!   an `Option<Reply>`, a condvar) instead of a oneshot channel per request; a reply handle
//!   fills it exactly once, with the answer or — if dropped unanswered — `Gone`. Async calls
//!   cannot reuse one (tasks move between threads and interleave on one): one slot per call.
//! - **A doorbell instead of flume's blocking `recv`.** flume allocates a wait hook each time a
//!   receiver blocks, which an owner serving one caller does once per request. The owner only
//!   `try_recv`s and sleeps on a condvar; a sender reads one flag, and only the first sender to
//!   find the owner asleep takes the lock and wakes it (`mailbox.rs` shows why no wake-up is
//!   lost; a loom model checks it).
//! - **Batching.** The owner drains everything queued before it sleeps: a burst of requests
//!   costs it one wake-up, however many callers sent them.
//! - **Work moved off the owner:** sorting `list`, merging search hits, compiling the pattern
//!   (and freeing it: the owner drops its reference first), freeing a replaced run's log ring
//!   (whoever spawns the new run drops it).
//!
//! - **Spin before parking** (`spin.rs`). A parked owner and a parked caller cost two OS
//!   wake-ups per request, tens of µs each on a quiet VM; Go's scheduler spins briefly before it
//!   parks, which is why its channel round trip costs hundreds of ns. Here the owner polls its
//!   queue, and a waiting caller its reply slot's `ready` flag, for a bounded, adaptive time
//!   (owner up to 200 µs, caller up to 100 µs; doubled after a wait that ended while spinning,
//!   halved after one that had to park, floors 2 and 1 µs), then parks as before (no yield
//!   phase: under load a yield gave the core away for a whole time slice).
//!   `cargo run --release -p procman-actor --example idle_cpu -- 10` measures it. Here, with
//!   other engineers' builds running (load 11-18 on 2 cores): back-to-back `status` p50
//!   7.9-8.3 µs spinning vs 5.0-5.2 µs with `PROCMAN_ACTOR_SPIN=0` (spinning costs when no core
//!   is free), 1.1-1.2 µs in the runs where each side had a core (59 µs before, quiet machine);
//!   31 µs of CPU over 10 idle seconds; 35-138 µs for the first request after a 1-100 ms pause
//!   (both sides parked: up to two wake-ups).
//!
//! What remains is what the design is. A request the owner answers within the spin costs a
//! round trip of cache lines through the queue and the slot; one that arrives at a parked owner
//! costs up to two thread wake-ups. Every request is served by one thread, so reads do not
//! scale with cores. The spin spends CPU the other designs are not charged, bounded by the
//! limits above; `PROCMAN_ACTOR_SPIN=0` turns it off. Each manager runs two threads: the owner and the launch worker.
//!
//! # When the owner is gone
//!
//! If a handler panics, the owner drops its state — every reply handle and run end it held
//! answers `Gone` — and then answers `Gone` to every message until the manager is dropped: calls
//! fail with [`ProcessError::ManagerGone`](procman_core::ProcessError::ManagerGone) instead of
//! hanging (`list`, `stats` and `shutdown`, which cannot fail, return empty values). A stop whose
//! async caller is cancelled kills the child rather than leave the run `Stopping` with nobody
//! leading it. Dropping the manager shuts it down (SIGKILL after [`DROP_SHUTDOWN_DEADLINE`]) and
//! joins both threads.
//!
//! # Under the model checkers
//!
//! With `--features loom` or `shuttle` every primitive comes from the checker (through
//! `procman_core::sync`), with two differences from production: the per-thread reply slot
//! becomes one slot per request (the checkers run all model threads on one OS thread, so a
//! `thread_local!` would be shared), and an owner panic is not caught, so the checker reports
//! it. The model tests (`model_tests.rs`) check the doorbell and the reply handles, and, under
//! shuttle, racing clients of the whole manager.

// Seeded bugs exist only for the race checkers: one compiled into a build without a checker would
// be a known-bad manager that nothing checks.
#[cfg(all(
    not(any(feature = "loom", feature = "shuttle")),
    any(
        feature = "seeded-bug-dropped-reply",
        feature = "seeded-bug-lost-wakeup"
    )
))]
compile_error!(
    "procman-actor: a `seeded-bug-*` feature is on without a model checker. Seeded bugs are for \
     the race checks only: add `--features loom` or `--features shuttle` (scripts/check-races.sh \
     does), and never ship a build with one"
);

mod async_api;
mod launch;
mod mailbox;
mod manager;
mod messages;
mod owner;
mod reply;
mod run_end;
mod spin;
mod stopper;

pub use manager::{ActorManager, DROP_SHUTDOWN_DEADLINE};

// Real threads: not under the model checkers.
#[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
mod tests;

#[cfg(all(test, any(feature = "loom", feature = "shuttle")))]
mod model_tests;
