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

use procman_core::sync::{Arc, CellGuard, SwapCell};
use procman_core::{Name, ProcessError, Target};

use crate::run::RunState;

/// One name's current run.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The current run's state; replaced whole by compare-and-swap.
    state: SwapCell<RunState>,
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
pub(crate) enum Updated<T> {
    /// `new` replaced `old`.
    #[cfg_attr(feature = "seeded-bug-cas-against-copy", allow(dead_code))]
    Installed {
        /// The state that was replaced (kept alive by the guard).
        old: CellGuard<RunState>,
        /// The state now installed (unless someone has replaced it since).
        new: Arc<RunState>,
    },
    /// The step chose to leave the state as it was.
    Left(T),
}

impl Entry {
    /// An entry whose first run is in `first`.
    pub(crate) fn new(first: RunState) -> Self {
        Entry {
            first_generation: first.generation(),
            name: first.run.id.name,
            state: SwapCell::new(first),
        }
    }

    /// The name.
    #[inline]
    pub(crate) fn name(&self) -> Name {
        self.name
    }

    /// The current state, without locking or allocating.
    #[inline]
    pub(crate) fn load(&self) -> CellGuard<RunState> {
        self.state.load()
    }

    /// Installs `next` if the cell still holds `current`; otherwise returns what it holds.
    pub(crate) fn compare_and_swap(
        &self,
        current: &CellGuard<RunState>,
        next: RunState,
    ) -> Result<Arc<RunState>, CellGuard<RunState>> {
        let next = Arc::new(next);
        self.state
            .compare_and_swap(current, next.clone())
            .map(|()| next)
    }

    /// The compare-and-swap loop every transition uses: `decide` sees the current state and
    /// returns the next one or a result; it is called again, on the state that won, whenever
    /// another writer got in first. `decide` must not block: it may run several times.
    pub(crate) fn update<T>(&self, mut decide: impl FnMut(&RunState) -> Step<T>) -> Updated<T> {
        let mut current = self.state.load();
        loop {
            match decide(&current) {
                Step::Leave(result) => return Updated::Left(result),
                // SEEDED BUG `seeded-bug-lost-update` (procman-races catalogue): the new state
                // is stored over whatever the cell holds now, not compared-and-swapped against
                // the state `decide` looked at, so a racing transition is silently overwritten.
                #[cfg(feature = "seeded-bug-lost-update")]
                Step::Install(next) => {
                    let new = Arc::new(next);
                    self.state.store(new.clone());
                    return Updated::Installed { old: current, new };
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
                    });
                    match self.state.compare_and_swap(&copy.load(), Arc::new(next)) {
                        Ok(()) => unreachable!("a CAS against a copy's address cannot succeed"),
                        Err(found) => current = found,
                    }
                }
                #[cfg(not(any(
                    feature = "seeded-bug-lost-update",
                    feature = "seeded-bug-cas-against-copy"
                )))]
                Step::Install(next) => match self.compare_and_swap(&current, next) {
                    Ok(new) => return Updated::Installed { old: current, new },
                    Err(found) => current = found,
                },
            }
        }
    }

    /// Whether `target` names the run in `state`: the contract's rule,
    /// [`Target::check_run`], with this name's first generation.
    #[inline]
    pub(crate) fn check_target(
        &self,
        target: Target<'_>,
        state: &RunState,
    ) -> Result<(), ProcessError> {
        target.check_run(self.first_generation, &state.snapshot.id)
    }
}
