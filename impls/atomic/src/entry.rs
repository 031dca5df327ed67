//! [`Entry`]: one name's slot in the registry — a [`SwapCell`] holding its current [`RunState`],
//! changed only by compare-and-swap.
//!
//! Every writer follows the same loop ([`Entry::update`]): look at the loaded state, decide (with
//! the supervise.rs helpers, which validate the transition) what the next state is, and install it
//! only if the cell still holds exactly the state that was looked at. The comparison is by the
//! address of the installed `Arc`, held alive by the guard — not of a local copy, which is the bug
//! in seed 000's Go sample — so ABA is impossible: the address cannot be reused while the guard
//! keeps the old value alive. A lost race retries with the value that won; a refused transition
//! ends the loop with an error.
//!
//! Every successful compare-and-swap is followed by a **publish** ([`Entry::publish`]): under the
//! view's writer bit, the cell's *current* state — not the one this writer installed — is copied
//! into the entry's [`SnapshotView`], which is what `status` reads. Publishing the current state
//! is what keeps the view from going back in time: writers A and B install in that order, and
//! whichever publishes last copies B's state or a later one.
//!
//! Between a writer's compare-and-swap and its publish, the cell is ahead of the view. Another
//! writer that reads the cell then (a stop answering `NotRunning` from a `Failed` it found) must
//! not return before the view has caught up, or a `status` issued after that answer could still
//! read the older state. So every observation of the cell — [`Entry::load`], each state the
//! update loop looks at, a lost compare-and-swap's winner — compares the state's version (one more
//! per install) with the view's, and publishes first if the view is behind. Nothing learns of a
//! state from this entry before the view holds it or something newer.
//! A new run replacing an ended one also resets the name's [`LogMirror`] to the new run's tag in
//! that publish (see `log.rs`).
//!
//! **Recycling.** Every transition installs a new `Arc<RunState>`, and a restart makes four
//! (`Stopping`, `Stopped`, `Starting`, `Running`). The state a transition replaced is usually
//! owned by nobody but the writer that replaced it once the cell has moved on, so the entry keeps
//! one such allocation as a *spare* and the next transition writes its state into it instead of
//! allocating. The spare is an `AtomicPtr` slot: a writer takes it with a swap to null
//! (`Acquire`) and gives one back by compare-and-swap from null (`Release`); a give that finds
//! the slot full drops its state. Only a state that `Arc::get_mut` proves unowned is ever given,
//! so the address comparison of the compare-and-swap loop stays ABA-free: an address is reused
//! only after every guard that could compare against it is gone. Readers never touch the slot.

use std::ops::Deref;
use std::ptr;

use procman_core::seqview::SnapshotView;
use procman_core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use procman_core::sync::{Arc, CellGuard, SwapCell};
use procman_core::{Name, ProcessError, ProcessId, ProcessSnapshot, Target};

use crate::log::LogMirror;
use crate::run::RunState;

/// One name's current run. Aligned to 128 bytes so that the lines `status` reads (the view and
/// the listed flag) share nothing with other allocations.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Entry {
    /// The published copy of the current run's snapshot: what `status` reads.
    view: SnapshotView,
    /// Set once the registry's name order holds this entry (see `registry.rs`).
    listed: AtomicBool,
    /// The current run's log counters.
    logs: Arc<LogMirror>,
    /// The current run's state; replaced whole by compare-and-swap.
    state: SwapCell<RunState>,
    /// A replaced state's allocation, for the next transition to reuse (module docs,
    /// "Recycling"): null, or an `Arc::into_raw` pointer whose count this slot owns.
    spare: AtomicPtr<RunState>,
    /// The generation of the name's first run: older ids never belonged to this name.
    first_generation: u64,
    /// The name (fixed for the entry's life; the registry keeps its order by it).
    name: Name,
}

/// What an [`Entry::update`] step decided, seeing the current state.
pub(crate) enum Step<T> {
    /// Install this state if the cell still holds the one looked at; retry otherwise.
    Install(RunState),
    /// Leave the cell alone and return `T`.
    Leave(T),
}

/// How an [`Entry::update`] ended.
pub(crate) enum Updated<'a, T> {
    /// `new` replaced `old`.
    #[cfg_attr(feature = "seeded-bug-cas-against-copy", allow(dead_code))]
    Installed {
        /// The state that was replaced (kept alive by the guard; recycled when dropped).
        old: Replaced<'a>,
        /// The state now installed (unless someone has replaced it since).
        new: Arc<RunState>,
    },
    /// The step chose to leave the state as it was.
    Left(T),
}

/// A state the cell no longer holds, as [`Entry::update`] returns it: readable until dropped,
/// then offered to the entry as its spare ([`Entry::recycle`]).
pub(crate) struct Replaced<'a> {
    /// `Some` until dropped.
    state: Option<CellGuard<RunState>>,
    entry: &'a Entry,
}

impl Deref for Replaced<'_> {
    type Target = RunState;
    #[inline]
    fn deref(&self) -> &RunState {
        self.state.as_ref().expect("taken only in drop")
    }
}

impl Drop for Replaced<'_> {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            self.entry.recycle(state);
        }
    }
}

impl Entry {
    /// An entry whose first run is in `first`.
    pub(crate) fn new(mut first: RunState) -> Self {
        first.version = 1;
        let logs = first.run.log.mirror().clone();
        logs.reset(first.generation(), first.run.log.counters());
        Entry {
            view: SnapshotView::new(&first.snapshot, first.version),
            listed: AtomicBool::new(false),
            logs,
            first_generation: first.generation(),
            name: first.run.id.name,
            state: SwapCell::new(first),
            spare: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// `state` in the spare allocation if there is one (module docs, "Recycling"), else in a
    /// new one.
    fn allocate(&self, state: RunState) -> Arc<RunState> {
        let raw = self.spare.swap(ptr::null_mut(), Ordering::Acquire);
        if !raw.is_null() {
            // SAFETY: a non-null spare came from `Arc::into_raw` in `keep`, which left its count
            // to the slot; the swap took it out, so this is the one owner of that count.
            #[cfg_attr(feature = "seeded-bug-recycle-a-shared-state", allow(unused_mut))]
            let mut spare = unsafe { Arc::from_raw(raw.cast_const()) };
            // SEEDED BUG `seeded-bug-recycle-a-shared-state` (procman-races catalogue): the spare
            // is overwritten in place without proving it unowned (and `keep` below gives any
            // replaced state), so a writer still holding a guard on that address compares
            // against a state that is no longer the one it decided from: the ABA the
            // compare-and-swap loop is otherwise free of. Writing through a shared `Arc` is
            // undefined behaviour on real threads; the bug is compiled only under a checker,
            // whose tasks take turns on one thread.
            #[cfg(feature = "seeded-bug-recycle-a-shared-state")]
            {
                // SAFETY: none; this is the seeded bug (see above).
                unsafe { *Arc::as_ptr(&spare).cast_mut() = state };
                return spare;
            }
            #[cfg(not(feature = "seeded-bug-recycle-a-shared-state"))]
            if let Some(slot) = Arc::get_mut(&mut spare) {
                *slot = state;
                return spare;
            }
        }
        Arc::new(state)
    }

    /// Offers a state the cell no longer holds as the spare. Kept only if this thread owns it
    /// alone by then (no other writer's guard, no reader's fallback guard); dropped otherwise.
    pub(crate) fn recycle(&self, state: CellGuard<RunState>) {
        self.keep(state.into_arc());
    }

    fn keep(&self, mut state: Arc<RunState>) {
        #[cfg(not(feature = "seeded-bug-recycle-a-shared-state"))]
        if Arc::get_mut(&mut state).is_none() {
            return;
        }
        #[cfg(feature = "seeded-bug-recycle-a-shared-state")]
        let _ = &mut state;
        let raw = Arc::into_raw(state).cast_mut();
        if self
            .spare
            .compare_exchange(ptr::null_mut(), raw, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            // SAFETY: `raw` came from `Arc::into_raw` just above and was never published.
            drop(unsafe { Arc::from_raw(raw.cast_const()) });
        }
    }

    /// Whether the registry's name order holds this entry.
    #[inline]
    pub(crate) fn is_listed(&self) -> bool {
        self.listed.load(Ordering::Acquire)
    }

    /// Records that the registry's name order holds this entry.
    pub(crate) fn mark_listed(&self) {
        self.listed.store(true, Ordering::Release);
    }

    /// The current snapshot from the view, if a reader gets a clean copy (see
    /// [`SnapshotView::read`]): plain loads, nothing written.
    #[inline]
    pub(crate) fn read_view(&self) -> Option<ProcessSnapshot> {
        self.view
            .read(self.name, |generation| self.logs.counters(generation))
    }

    /// Makes the view hold the cell's current state or a newer one (see the module docs). The
    /// state is loaded before the writer bit is taken, so the bit covers only the nine stores;
    /// under the bit it is written only if it is newer than what the view holds, so the view's
    /// version never goes back, and a writer that finds the view already as new returns at once.
    /// A new generation also starts the log mirror over.
    pub(crate) fn publish(&self) {
        let current = self.state.load();
        if self.view.version() >= current.version {
            return;
        }
        let writer = self.view.begin_write();
        if self.view.version() >= current.version {
            writer.abandon();
            return;
        }
        if current.generation() != self.view.generation() {
            self.logs
                .reset(current.generation(), current.run.log.counters());
        }
        writer.write(&current.snapshot, current.version);
    }

    /// [`Entry::publish`], with the seeded bug that publishes `installed` instead.
    fn publish_after_install(&self, installed: &RunState) {
        // SEEDED BUG `seeded-bug-publish-installed-state` (procman-races catalogue): the writer
        // publishes the state it installed rather than the cell's current one, so a writer that
        // installed first but publishes last puts an older state back in the view.
        #[cfg(feature = "seeded-bug-publish-installed-state")]
        {
            let writer = self.view.begin_write();
            if installed.generation() != self.view.generation() {
                self.logs
                    .reset(installed.generation(), installed.run.log.counters());
            }
            writer.write(&installed.snapshot, installed.version);
        }
        #[cfg(not(feature = "seeded-bug-publish-installed-state"))]
        {
            let _ = installed;
            self.publish();
        }
    }

    /// The name.
    #[inline]
    pub(crate) fn name(&self) -> Name {
        self.name
    }

    /// The current state, without locking or allocating; the view holds it (or a newer one)
    /// by the time this returns (see the module docs).
    #[inline]
    pub(crate) fn load(&self) -> CellGuard<RunState> {
        self.seen(self.state.load())
    }

    /// The cell as it is, without helping the view (only the seeded bug in `events.rs` reads
    /// it so: a stale load needs no publish to be wrong).
    #[cfg(feature = "seeded-bug-restart-decided-from-stale-load")]
    pub(crate) fn load_unseen(&self) -> CellGuard<RunState> {
        self.state.load()
    }

    /// `state`, once the view holds it or a newer one: publishes first if the view is behind.
    #[inline]
    fn seen(&self, state: CellGuard<RunState>) -> CellGuard<RunState> {
        // SEEDED BUG `seeded-bug-cell-read-ahead-of-view` (procman-races catalogue): a writer
        // acts on a state that another writer installed but has not published yet, so its answer
        // can be newer than what a later `status` reads.
        #[cfg(not(feature = "seeded-bug-cell-read-ahead-of-view"))]
        if self.view.version() < state.version {
            self.publish();
        }
        state
    }

    /// Installs `next` if the cell still holds `current`; otherwise returns what it holds.
    pub(crate) fn compare_and_swap(
        &self,
        current: &CellGuard<RunState>,
        next: RunState,
    ) -> Result<Arc<RunState>, CellGuard<RunState>> {
        let next = self.allocate(RunState {
            version: current.version + 1,
            ..next
        });
        if let Err(found) = self.state.compare_and_swap(current, next.clone()) {
            // The cell dropped its copy of `next`: nobody else has seen it.
            self.keep(next);
            return Err(self.seen(found));
        }
        self.publish_after_install(&next);
        Ok(next)
    }

    /// The compare-and-swap loop every transition uses: `decide` sees the current state and
    /// returns the next one or a result; it is called again, on the state that won, whenever
    /// another writer got in first. `decide` must not block: it may run several times.
    pub(crate) fn update<T>(&self, mut decide: impl FnMut(&RunState) -> Step<T>) -> Updated<'_, T> {
        let mut current = self.load();
        loop {
            match decide(&current) {
                Step::Leave(result) => return Updated::Left(result),
                // SEEDED BUG `seeded-bug-lost-update` (procman-races catalogue): the new state
                // is stored over whatever the cell holds now, not compared-and-swapped against
                // the state `decide` looked at, so a racing transition is silently overwritten.
                #[cfg(feature = "seeded-bug-lost-update")]
                Step::Install(next) => {
                    let new = Arc::new(RunState {
                        version: current.version + 1,
                        ..next
                    });
                    self.state.store(new.clone());
                    self.publish();
                    return Updated::Installed {
                        old: self.replaced(current),
                        new,
                    };
                }
                // SEEDED BUG `seeded-bug-cas-against-copy` (procman-races catalogue): seed 000's
                // loop, which compares against the address of a fresh copy of the loaded state.
                // The copy is never the installed value, so the CAS never succeeds and the loop
                // retries forever.
                #[cfg(feature = "seeded-bug-cas-against-copy")]
                Step::Install(next) => {
                    let copy = SwapCell::new(RunState {
                        snapshot: current.snapshot.clone(),
                        run: current.run.clone(),
                        child: current.child.clone(),
                        auto_restarts: current.auto_restarts,
                        restart: current.restart.clone(),
                        version: current.version,
                    });
                    match self.state.compare_and_swap(&copy.load(), Arc::new(next)) {
                        Ok(()) => unreachable!("a CAS against a copy's address cannot succeed"),
                        Err(found) => current = self.seen(found),
                    }
                }
                #[cfg(not(any(
                    feature = "seeded-bug-lost-update",
                    feature = "seeded-bug-cas-against-copy"
                )))]
                Step::Install(next) => match self.compare_and_swap(&current, next) {
                    Ok(new) => {
                        return Updated::Installed {
                            old: self.replaced(current),
                            new,
                        };
                    }
                    Err(found) => current = found,
                },
            }
        }
    }

    fn replaced(&self, state: CellGuard<RunState>) -> Replaced<'_> {
        Replaced {
            state: Some(state),
            entry: self,
        }
    }

    /// Whether `target` names the run in `state`: the contract's rule,
    /// [`Target::check_run`], with this name's first generation.
    #[inline]
    pub(crate) fn check_target(
        &self,
        target: Target<'_>,
        current: &ProcessId,
    ) -> Result<(), ProcessError> {
        target.check_run(self.first_generation, current)
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let raw = self.spare.swap(ptr::null_mut(), Ordering::Acquire);
        if !raw.is_null() {
            // SAFETY: as in `allocate`: the slot owned this count, and now nobody else can reach it.
            drop(unsafe { Arc::from_raw(raw.cast_const()) });
        }
    }
}

#[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
pub(crate) mod tests {
    use std::time::SystemTime;

    use procman_core::{LogRingConfig, ProcessId, ProcessSpec};

    use super::*;
    use crate::run::Run;

    /// An entry whose first run is `name`'s generation 1, in `Starting`.
    pub(crate) fn entry(name: &str) -> Arc<Entry> {
        let spec = Arc::new(ProcessSpec::new(name, ["sim"]));
        let run = Run::new(
            ProcessId::new(name, 1),
            spec,
            LogRingConfig::default(),
            Arc::new(LogMirror::default()),
        );
        let first = RunState::starting(Arc::new(run), 0, 0, SystemTime::now()).expect("starting");
        Arc::new(Entry::new(first))
    }

    /// Installs a copy of the current state, recycling the one it replaced.
    fn transition(entry: &Entry) -> *const RunState {
        let current = entry.load();
        let next = current.with_snapshot(current.snapshot);
        let installed = entry.compare_and_swap(&current, next).expect("uncontended");
        entry.recycle(current);
        Arc::as_ptr(&installed)
    }

    #[test]
    fn a_transition_writes_into_the_state_the_last_one_replaced() {
        let entry = entry("a");
        let first = Arc::as_ptr(&entry.load().to_arc());
        assert!(entry.spare.load(Ordering::Relaxed).is_null());
        let second = transition(&entry);
        assert_eq!(entry.spare.load(Ordering::Relaxed).cast_const(), first);
        // The next transition takes the spare: no allocation, the first state's address.
        let third = transition(&entry);
        assert_eq!(third, first);
        assert_eq!(entry.spare.load(Ordering::Relaxed).cast_const(), second);
        assert_eq!(entry.load().version, 3);
    }

    #[test]
    fn a_state_someone_still_holds_is_not_kept() {
        let entry = entry("a");
        let current = entry.load();
        let held = current.to_arc();
        let next = current.with_snapshot(current.snapshot);
        entry.compare_and_swap(&current, next).expect("uncontended");
        entry.recycle(current);
        assert!(
            entry.spare.load(Ordering::Relaxed).is_null(),
            "held elsewhere"
        );
        drop(held);
    }

    #[test]
    fn dropping_an_entry_frees_its_spare() {
        let entry = entry("a");
        let run = entry.load().run.clone();
        transition(&entry);
        assert!(!entry.spare.load(Ordering::Relaxed).is_null());
        // The cell's state and the spare both hold the run.
        assert_eq!(Arc::strong_count(&run), 3);
        drop(entry);
        assert_eq!(
            Arc::strong_count(&run),
            1,
            "the spare's state was freed with the entry"
        );
    }
}
