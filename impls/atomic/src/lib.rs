//! The atomic design of the procman process manager: immutable per-name states swapped by
//! compare-and-swap, a concurrent registry, padded atomic counters, and a shutdown gate whose
//! check-then-register race is closed by construction.
//!
//! This is the design the seed documents (shared/seeds/) argued for in Go — atomic pointer
//! swaps of immutable state, `sync.Map`, CAS retry loops — built so that the claims hold:
//! the CAS compares the installed value's address held alive by a guard (seed 000 compared the
//! address of a local copy, which never matches), every transition is validated, and shutdown
//! cannot lose a racing start.
//!
//! # Structure
//!
//! ```text
//! AtomicManager ── Arc<Shared>
//!   registry: Registry            name -> Entry   (append-only AtomicPtr table, or dashmap)
//!   gate:     ShutdownGate        one AtomicU64: CLOSED bit | starts in flight
//!   counters: Counters            active / started / failed / restarted, 128-byte padded
//!   generation, names             padded AtomicU64 / AtomicUsize
//! Entry ── SwapCell<RunState>     the name's current run, replaced whole (the writers' cell)
//!          SnapshotView           a seqlocked copy of its snapshot (what `status` reads)
//!          Arc<LogMirror>         the current run's log counters, tagged by generation
//! RunState (immutable)            snapshot + Arc<Run> + child + auto-restart count + pending restart
//! Run                             id, spec, RunLog (Mutex<LogRing> + atomic counters), end latch
//! ```
//!
//! # Synchronisation protocol
//!
//! - **One word per name.** Everything a reader may see about a name — status, pid, times, exit,
//!   which run is current, whether an automatic restart is pending — is one immutable
//!   [`run::RunState`] behind one `SwapCell`. Every writer runs the same loop
//!   ([`entry::Entry::update`]): load, build the next state with the supervise.rs helpers
//!   (which validate the transition; a refusal ends the loop with `ProcessError::Transition`),
//!   compare-and-swap against the loaded value, retry with the winner on a lost race.
//! - **Elections by CAS.** Contended decisions are settled by which CAS wins: of two starts of an
//!   ended name, one installs the new run and the other then sees it live; of two stops, one moves
//!   `Running -> Stopping` and runs the stop sequence, the other joins it on the run's end latch;
//!   of an exit event and a stop, whichever CAS lands first decides `Exited` vs `Stopping`, and
//!   the status machine keeps the result consistent (`Stopping` then ends as `Stopped`).
//! - **Exclusive phases without locks.** A run in `Starting` is moved on only by the thread that
//!   registered it: stops and restarts answer `Busy`, starts see it live, and the launcher cannot
//!   send events before `attach`. So the spawn needs no lock, yet nobody can interfere with it.
//! - **Events** arrive on any thread, even inside `attach` or `signal`; no path holds a lock or a
//!   guard across those calls, so a synchronous event simply runs its own CAS. Events of a run
//!   that is no longer current fail the generation check and are ignored; output goes to the
//!   run's own ring.
//! - **Shutdown** ([`gate`]): a start registers itself and checks the flag in one `fetch_add`;
//!   shutdown sets the flag with `fetch_or` and waits for the registered starts to leave. Either
//!   a start precedes the flag in that word's modification order (and shutdown waits for, then
//!   stops, its run) or it follows it (and refuses). Automatic restarts pass the same gate, both
//!   when an exit event arms one and when its backoff ends and it registers the new run.
//! - **Manual restarts** ([`restart`]) stop only the run that was current when they began (by
//!   id, so a run that ended or was replaced meanwhile is left alone), then register the new run
//!   with one CAS loop over whatever ended state is current. If another client's start
//!   registered a live run of the name in between, that start won the election: the restart
//!   returns its snapshot, as `start` of a running name does, and never stops it.
//! - **Automatic restarts** sleep on their own latch in a thread holding only `Weak`s; the latch
//!   sits in the terminal state, so cancelling (start, restart, stop, shutdown) is a CAS that
//!   removes it plus a wake-up, and the restart's own CAS succeeds only if its latch is still there.
//!
//! # What a `status` read writes: nothing at all
//!
//! `status(name)` is, in order:
//!
//! 1. a hash of the name (foldhash) and a probe of the registry's append-only table
//!    ([`registry`]): `Acquire` loads of `AtomicPtr` slots until the name's entry, one string
//!    comparison, and one load of the entry's `listed` flag. No guard: entries are never removed
//!    or moved while the manager lives;
//! 2. a read of the entry's [`procman_core::seqview::SnapshotView`]: the sequence, nine words,
//!    the two tagged log-counter words ([`log`]), the sequence again (every load `Acquire`, a
//!    plain `mov` on x86-64), then decoding the words into a [`procman_core::ProcessSnapshot`]
//!    (`Copy`: the name is interned, [`procman_core::Name`]).
//!
//! Nothing is stored and nothing allocates: readers of one name keep the entry's lines in the
//! shared state. Only when a publish overlaps every one of three tries, or the run `Failed` (its
//! reason is an interned string, not in the words), does the read fall back to the writers' cell
//! (`SwapCell::load`, arc-swap: a store into this thread's own debt slot).
//!
//! The view is kept by the writers ([`entry`]): after each compare-and-swap the writer copies the
//! cell's *current* state into the view under its writer bit (a CAS on the sequence; writers of
//! one name serialise there for nine stores), and every writer that looks at the cell first helps
//! a lagging view, so nothing can learn of a state before `status` can. Loom checks the view alone
//! over its atomics (`procman-races`' `seqview_publish_races_read`) and the manager's models and
//! shuttle's linearizability histories check it inside the design; seeded bugs for the reader
//! (`seeded-bug-seqview-no-recheck`), the publish (`seeded-bug-publish-installed-state`), the
//! help (`seeded-bug-cell-read-ahead-of-view`) and the table (`seeded-bug-table-slot-store-not-cas`)
//! are each caught.
//!
//! The designs before this one: a dashmap shard read lock plus two `Arc` refcount increments
//! (9.7x the one-reader cost at 2 readers), then a copy-on-write index and the cell read through
//! two arc-swap guards (about 400 instructions; no shared writes, but two `SeqCst` swaps into debt
//! slots). The README's "The three designs" has the figures.
//!
//! `list` loads the registry's name-ordered `Vec` once (one arc-swap guard) and reads each
//! entry's view: one allocation (the result), no sort. `stats` loads four atomics. Only `logs_tail`/`logs_search` take the run's ring mutex,
//! which an appender holds for one push.
//!
//! Readers never wait for a writer: writers never hold anything across a spawn, a signal or a
//! sleep, and a reader holds nothing a writer waits for (a debt slot is paid back by the writer
//! itself if it needs the old value freed).
//!
//! # Costs
//!
//! - Every transition installs a new `RunState` and may retry under contention; a start makes
//!   about three CASes (register, `Running`, and the exit later). The state is written into the
//!   entry's spare allocation, the state its last transition replaced once nobody else holds it
//!   (see `entry.rs`, "Recycling"), so a restart allocates 5 times (648 B), as the mutex design
//!   does (5, 640 B): the new run, its log ring, and the child with its event sink.
//! - A new name claims a table slot by CAS and copies the name-ordered `Vec`: O(names) per new
//!   name. Names are configured scripts, added rarely and never removed, which is the case this
//!   trade favours. The table is sized once, for `min(max_processes, 65 536)` names at two slots
//!   each (16 KiB at the default 1024), and never grows, so a manager holds at most 65 536 names.
//! - Every install also publishes: a CAS on the view's sequence and nine stores. Writers of one
//!   name wait for each other there (spinning, then yielding), for nine stores at a time; a
//!   reader never waits for them.
//! - A lost start race spends a generation: generations are unique and increase per name, but
//!   may have gaps.
//! - arc-swap readers pay a thread-local debt slot; a guard held long or many guards per thread
//!   fall back to reference counting. Guards here live for one snapshot copy.
//! - Interned names and failure reasons are never freed (one copy per distinct text; see
//!   [`procman_core::name`]).
//! - Waiting is inherent in a stop — for the child to die — and uses a mutex/condvar latch.
//! - [`AtomicManager::with_sharded_registry`] keeps the dashmap registry for comparison: its
//!   lookups write the shard's lock word.
//!
//! Primitives come only from [`procman_core::sync`], so loom and shuttle check this code.

// Seeded bugs exist only for the race checkers: one compiled into a build without a checker would
// be a known-bad manager that nothing checks.
#[cfg(all(
    not(any(feature = "loom", feature = "shuttle")),
    any(
        feature = "seeded-bug-lost-update",
        feature = "seeded-bug-cas-against-copy",
        feature = "seeded-bug-shutdown-flag-race",
        feature = "seeded-bug-gate-leave-relaxed",
        feature = "seeded-bug-gate-opens-on-any-drain",
        feature = "seeded-bug-torn-snapshot-two-loads",
        feature = "seeded-bug-registry-store-not-cas",
        feature = "seeded-bug-seqview-no-recheck",
        feature = "seeded-bug-publish-installed-state",
        feature = "seeded-bug-cell-read-ahead-of-view",
        feature = "seeded-bug-table-slot-store-not-cas",
        feature = "seeded-bug-restart-decided-from-stale-load",
        feature = "seeded-bug-stats-count-a-joined-restart",
        feature = "seeded-bug-intern-check-then-insert",
        feature = "seeded-bug-auto-restart-ignores-cancel",
        feature = "seeded-bug-recycle-a-shared-state"
    )
))]
compile_error!(
    "procman-atomic: a `seeded-bug-*` feature is on without a model checker. Seeded bugs are for \
     the race checks only: add `--features loom` or `--features shuttle` (scripts/check-races.sh \
     does), and never ship a build with one"
);

mod entry;
mod events;
#[cfg(any(
    feature = "gate-inject-status-instructions",
    feature = "gate-inject-status-latency"
))]
mod gate_injection;
mod log;
mod padded;
mod read;
mod registry;
mod restart;
mod run;
mod shared;
mod shutdown;
mod start;
mod stop;

#[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
mod tests;

use std::fmt;
use std::time::Duration;

use procman_core::sync::Arc;
use procman_core::{
    IfRunning, Launcher, LogChunk, LogMatch, LogQuery, ManagerConfig, ManagerStats, ProcessManager,
    ProcessSnapshot, ProcessSpec, Result, ShutdownReport, StopOptions, Target,
};

use crate::registry::Registry;
use crate::shared::Shared;

/// How long dropping a manager that was not shut down lets each run stop gracefully before
/// SIGKILL (MCP clients escalate to SIGKILL about 2 s after closing stdin).
pub const DROP_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(2);

/// The atomic process manager (see the crate docs for its protocol).
pub struct AtomicManager {
    /// The shared state; event sinks and backoff threads hold it weakly.
    supervisor: Arc<Shared>,
}

impl AtomicManager {
    /// A manager over `launcher` with the copy-on-write registry (the shipped form: a `status`
    /// writes no memory that another reader touches; see the crate docs).
    pub fn new(launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Self {
        Self::with_registry(launcher, config, Registry::table(config.max_processes))
    }

    /// A manager over `launcher` with the dashmap registry, kept for comparison: each lookup
    /// takes a shard read lock, an atomic read-modify-write on a word every reader of that
    /// shard shares.
    pub fn with_sharded_registry(launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Self {
        Self::with_registry(launcher, config, Registry::sharded())
    }

    fn with_registry(
        launcher: Arc<dyn Launcher>,
        config: ManagerConfig,
        registry: Registry,
    ) -> Self {
        AtomicManager {
            supervisor: Shared::new(launcher, config, registry),
        }
    }

    /// Which registry this manager uses: "dashmap" or "table".
    pub fn registry_kind(&self) -> &'static str {
        self.supervisor.registry.kind()
    }
}

impl fmt::Debug for AtomicManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AtomicManager")
            .field(&self.supervisor)
            .finish()
    }
}

impl ProcessManager for AtomicManager {
    fn design(&self) -> &'static str {
        "atomic"
    }

    fn start(&self, spec: ProcessSpec, if_running: IfRunning) -> Result<ProcessSnapshot> {
        self.supervisor.start(spec, if_running)
    }

    fn stop(&self, target: Target<'_>, options: StopOptions) -> Result<ProcessSnapshot> {
        self.supervisor.stop(target, options)
    }

    fn restart(&self, target: Target<'_>) -> Result<ProcessSnapshot> {
        self.supervisor.restart(target)
    }

    #[inline]
    fn status(&self, target: Target<'_>) -> Result<ProcessSnapshot> {
        #[cfg(any(
            feature = "gate-inject-status-instructions",
            feature = "gate-inject-status-latency"
        ))]
        gate_injection::before_status();
        self.supervisor.status(target)
    }

    fn list(&self) -> Vec<ProcessSnapshot> {
        self.supervisor.list()
    }

    fn logs_tail(&self, target: Target<'_>, cursor: u64, limit: usize) -> Result<LogChunk> {
        self.supervisor.logs_tail(target, cursor, limit)
    }

    fn logs_search(&self, query: &LogQuery) -> Result<Vec<LogMatch>> {
        self.supervisor.logs_search(query)
    }

    fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        self.supervisor.shutdown(deadline)
    }

    fn stats(&self) -> ManagerStats {
        self.supervisor.stats()
    }
}

impl Drop for AtomicManager {
    fn drop(&mut self) {
        // Idempotent: after an explicit shutdown this returns at once.
        self.supervisor.shutdown(DROP_SHUTDOWN_DEADLINE);
    }
}
