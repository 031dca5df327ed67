//! The mutex design of the procman process manager: [`MutexManager`].
//!
//! This is the baseline the actor and atomic designs are measured against, so it is written
//! in its best honest form: locks, but fine-grained ones, held only for the few instructions
//! that read or write state.
//!
//! # State
//!
//! - The **registry**, `RwLock<HashMap<name, Arc<Entry>>>` (parking_lot, through the
//!   `procman_core::sync` facade). Every lookup read-locks it; only adding a name and raising
//!   the shutdown flag write-lock it. Per-process transitions never do.
//! - One **entry** per name, `RwLock<Slot>`: the current run, its
//!   [`ProcessSnapshot`](procman_core::ProcessSnapshot), its
//!   child handle, the name's automatic-restart count and any pending restart token. A status
//!   read is one read acquisition of this lock — the snapshot cannot be torn — and every
//!   transition is one write acquisition through the status-machine helpers of
//!   `procman_core::supervise`; a refused transition is an error, never an overwrite.
//! - One **run** per start, `Arc<Run>`: its [`LogRing`](procman_core::LogRing) behind a lock of
//!   its own, the ring's counters mirrored into atomics, an exit latch that stops wait on, a
//!   settle latch that shutdown waits on, and its terminal snapshot. Output appends touch only
//!   the run, so a chatty child does not contend with status reads.
//! - Counters and the shutdown flag are atomics; the counters sit on their own cache line.
//!
//! # Synchronisation protocol
//!
//! Lock order: registry, then entry, then leaf locks (a run's ring, its terminal slot, the
//! latches' mutexes); nothing acquires an earlier lock while holding a later one. No lock is
//! held across [`Launcher::spawn`](procman_core::Launcher::spawn),
//! [`Child::attach`](procman_core::Child::attach), [`Child::signal`](procman_core::Child::signal),
//! a wait, a thread spawn or I/O — which matters because launchers deliver events on any
//! thread, including synchronously inside `attach` and `signal`, and an event takes the entry
//! lock. What each operation holds:
//!
//! | operation            | locks, in order, each released before the slow part |
//! |----------------------|------------------------------------------------------|
//! | status               | registry read + entry read, together, for a clone    |
//! | list                 | registry read, then each entry read in turn          |
//! | logs tail / search   | registry read + entry read to clone the run; then the ring's read lock |
//! | start (new name)     | registry write: check flag and limit, insert the entry with a `Starting` run |
//! | start (known name)   | entry write: check flag, replace the ended run       |
//! | spawn                | none; then entry write to record `Running` + pid (or `Failed`); then attach with none |
//! | stop                 | entry write: `Running -> Stopping`; then the stop sequence with none |
//! | output event         | the run's ring write lock                            |
//! | exit event           | entry write: terminal transition, restart token; then wake stoppers with none |
//! | automatic restart    | none while backing off (own thread, `Weak` to the manager); entry write to install |
//! | shutdown             | registry write to raise the flag; each entry write in turn; signals and waits with none |
//!
//! Runs are identified by generation, taken under the lock that installs the run, and a run is
//! only ever replaced once it has ended. A stop that waits holds its run (`Arc<Run>`), not the
//! entry, and reads the terminal snapshot the run recorded under the entry lock, so it gets the
//! right answer even if a newer run has replaced it meanwhile. Events carry their run: output
//! goes to that run's ring (unreachable once superseded) and an exit that does not find its run
//! current is ignored. Why the shutdown flag cannot be raced is argued in `shutdown.rs`.
//!
//! # Why readers never wait
//!
//! Readers wait only for writers' critical sections, and those are short and bounded: a status
//! check and a snapshot clone, never a syscall. The stop sequence, the spawn, the backoff and
//! the shutdown's waits all run with no lock held; readers meanwhile see `Starting` or
//! `Stopping`. What a critical section displaces — a replaced run with a full ring, a child
//! handle, a cancelled restart's thread to wake — is dropped or woken after the lock is
//! released. The status-by-name path allocates nothing: it hashes the name, takes two read
//! locks and clones the snapshot (reference-count increments for its `Arc<str>`s).
//!
//! # Known costs
//!
//! - Every read writes shared memory: a read acquisition is an atomic read-modify-write on the
//!   registry's lock word and on the entry's, so under many readers those cache lines bounce
//!   between cores even though nobody waits. This is what the atomic design removes.
//! - parking_lot's `RwLock` is fair to writers: a reader arriving while a writer waits queues
//!   behind it, so a burst of transitions on one name briefly delays reads of that name.
//! - Adding a name write-locks the whole registry, stalling all lookups for an insert.
//! - A log search holds a ring's read lock while it matches, delaying that run's appends.
//! - Each pending automatic restart owns a sleeping thread (woken early when cancelled).
//! - Starting a run allocates it under the entry's write lock (its generation must be taken
//!   there, so that one name's generations only grow).

// Seeded bugs exist only for the race checkers: one compiled into a build without a checker would
// be a known-bad manager that nothing checks.
#[cfg(all(
    not(any(feature = "loom", feature = "shuttle")),
    any(
        feature = "seeded-bug-check-then-insert",
        feature = "seeded-bug-lock-order",
        feature = "seeded-bug-lock-across-stop",
        feature = "seeded-bug-torn-snapshot-two-locks",
        feature = "seeded-bug-ended-check-then-install",
        feature = "seeded-bug-install-skips-shutdown-check"
    )
))]
compile_error!(
    "procman-mutex: a `seeded-bug-*` feature is on without a model checker. Seeded bugs are for \
     the race checks only: add `--features loom` or `--features shuttle` (scripts/check-races.sh \
     does), and never ship a build with one"
);

mod exit;
mod logs;
mod manager;
mod registry;
mod run;
mod shutdown;
mod start;
mod stop;

pub use manager::{DROP_SHUTDOWN_DEADLINE, MutexManager};

#[cfg(test)]
mod tests;
