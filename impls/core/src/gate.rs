//! [`ShutdownGate`]: the shutdown flag and the count of starts in flight, in one atomic word.
//!
//! The atomic design's shutdown protocol. It lives here, over the sync facade, so that a race
//! model can check it on its own, over the checker's real atomics and nothing else
//! (`procman-races`' `shutdown_gate_publication`): inside the design, the registry's and the
//! cells' checker locks add happens-before edges of their own that could hide a wrong ordering.
//!
//! # The race it closes
//!
//! A shutdown must leave no live run behind, yet a start that checked "not shutting down" a
//! moment before the flag went up may still be about to register and spawn. With a flag and a
//! separate counter, "check the flag, then register" leaves a window between the two steps. Here
//! the check and the registration are ONE read-modify-write on one word:
//!
//! - bit 63 is `CLOSED`; bits 0..63 count the starts in flight;
//! - a start does `fetch_add(1)`: it is registered *and* learns whether `CLOSED` was already
//!   set, in the same atomic step. If it was, it undoes its increment and refuses;
//! - shutdown does `fetch_or(CLOSED)` and learns how many starts were in flight at that instant.
//!
//! All read-modify-writes of one atomic are totally ordered. Take any start and shutdown's
//! `fetch_or`: either the start's `fetch_add` comes first — then shutdown counted it and waits
//! until it leaves, after which its run is in the registry for shutdown to stop — or it comes
//! after — then it sees `CLOSED` and creates nothing. There is no third order, so no start slips
//! through. (Registry writes are published by the leaving `fetch_sub` with `Release` and acquired
//! by shutdown through the drained latch's mutex or its own `AcqRel` `fetch_or`.)
//!
//! Whatever may create a run later holds a pass while it does so: starts, restarts, automatic
//! restarts registering their run, and exit events arming an automatic restart.
//!
//! Shutdown sleeps on an [`ExitLatch`] rather than spinning: whoever brings the count to zero
//! while `CLOSED` is set opens it. Refused starts increment and decrement too, but they can only
//! ever open the latch when the count of real starts is already zero, which is the truth.

use crate::ProcessError;
use crate::supervise::ExitLatch;
use crate::sync::atomic::{AtomicU64, Ordering};

/// Bit set once shutdown has begun.
const CLOSED: u64 = 1 << 63;
/// Bits counting the starts in flight.
const IN_FLIGHT: u64 = CLOSED - 1;

/// The shutdown flag plus the count of starts in flight (see the module docs). Its user pads it
/// onto cache lines of its own: every start writes the word.
#[derive(Debug, Default)]
pub struct ShutdownGate {
    /// `CLOSED` bit | number of starts holding a [`StartPass`].
    word: AtomicU64,
    /// Opened when the last start in flight leaves after `CLOSED` was set.
    drained: ExitLatch,
}

/// A start in flight. Holding one keeps shutdown from collecting the runs until it is dropped.
#[derive(Debug)]
#[must_use = "the pass registers a start in flight only while it is held"]
pub struct StartPass<'a> {
    /// The gate to leave on drop.
    gate: &'a ShutdownGate,
}

impl ShutdownGate {
    /// Registers a start in flight, or refuses with [`ProcessError::ShuttingDown`].
    pub fn enter(&self) -> Result<StartPass<'_>, ProcessError> {
        // SEEDED BUG `seeded-bug-shutdown-flag-race` (procman-races catalogue): seed 004's
        // shutdown flag — check the flag, then register, in two steps. A shutdown whose
        // `fetch_or` lands in between counts no start in flight, does not wait, and returns
        // while this start goes on to register and spawn a run nobody stops.
        #[cfg(feature = "seeded-bug-shutdown-flag-race")]
        if self.is_closed() {
            return Err(ProcessError::ShuttingDown);
        }
        #[cfg(feature = "seeded-bug-shutdown-flag-race")]
        let before = self.word.fetch_add(1, Ordering::AcqRel) & !CLOSED;
        #[cfg(not(feature = "seeded-bug-shutdown-flag-race"))]
        let before = self.word.fetch_add(1, Ordering::AcqRel);
        if before & CLOSED != 0 {
            self.leave();
            return Err(ProcessError::ShuttingDown);
        }
        Ok(StartPass { gate: self })
    }

    /// True once shutdown has begun. A hint for early refusals; only [`Self::enter`] is
    /// race-free.
    pub fn is_closed(&self) -> bool {
        self.word.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Sets `CLOSED`. Returns `None` if it was already set (a second shutdown), otherwise the
    /// number of starts in flight at that instant, for [`Self::wait_drained`].
    pub fn close(&self) -> Option<u64> {
        let before = self.word.fetch_or(CLOSED, Ordering::AcqRel);
        (before & CLOSED == 0).then_some(before & IN_FLIGHT)
    }

    /// Waits until every start that was in flight when [`Self::close`] returned `in_flight` has
    /// left. Never waits when it was zero: nobody would open the latch.
    pub fn wait_drained(&self, in_flight: u64) {
        if in_flight > 0 {
            self.drained.wait();
        }
    }

    /// Unregisters a start; opens the drained latch if it was the last one after `CLOSED`.
    fn leave(&self) {
        // SEEDED BUG `seeded-bug-gate-leave-relaxed` (procman-races catalogue): the leaving
        // `fetch_sub` does not release, so a shutdown whose `fetch_or` reads it (the start left
        // before the close, nothing to wait for) is not ordered after the start's writes and
        // may miss the run it registered.
        #[cfg(feature = "seeded-bug-gate-leave-relaxed")]
        let before = self.word.fetch_sub(1, Ordering::Relaxed);
        #[cfg(not(feature = "seeded-bug-gate-leave-relaxed"))]
        let before = self.word.fetch_sub(1, Ordering::AcqRel);
        // SEEDED BUG `seeded-bug-gate-opens-on-any-drain` (procman-races catalogue): the latch
        // opens on any 1 -> 0 of the count, also before `CLOSED`, so a later shutdown finds it
        // open and stops waiting while a start is still in flight.
        #[cfg(feature = "seeded-bug-gate-opens-on-any-drain")]
        let last = before & IN_FLIGHT == 1;
        #[cfg(not(feature = "seeded-bug-gate-opens-on-any-drain"))]
        let last = before == CLOSED | 1;
        if last {
            self.drained.set();
        }
    }
}

impl Drop for StartPass<'_> {
    fn drop(&mut self) {
        self.gate.leave();
    }
}

#[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_close_and_counts_in_flight() {
        let gate = ShutdownGate::default();
        let a = gate.enter().unwrap();
        let b = gate.enter().unwrap();
        assert!(!gate.is_closed());
        assert_eq!(gate.close(), Some(2));
        assert!(gate.is_closed());
        assert_eq!(gate.close(), None, "a second close reports nothing");
        assert_eq!(gate.enter().unwrap_err(), ProcessError::ShuttingDown);
        drop(a);
        assert!(!gate.drained.is_set(), "one start still in flight");
        drop(b);
        assert!(gate.drained.is_set());
        gate.wait_drained(2);
    }

    /// The edge sequences, each deterministic (a latch opened at the wrong edge is caught on
    /// every run, not when a race happens to hit it).
    #[test]
    fn a_drain_before_close_does_not_open_the_latch() {
        let gate = ShutdownGate::default();
        drop(gate.enter().unwrap());
        assert!(!gate.drained.is_set(), "enter, leave: nobody is waiting");
        let pass = gate.enter().unwrap();
        assert_eq!(gate.close(), Some(1));
        assert!(
            !gate.drained.is_set(),
            "enter, leave, enter, close: one start is still in flight"
        );
        drop(pass);
        assert!(gate.drained.is_set(), "the last start in flight left");
    }

    #[test]
    fn a_refused_start_leaves_the_count_as_it_was() {
        let gate = ShutdownGate::default();
        let pass = gate.enter().unwrap();
        assert_eq!(gate.close(), Some(1));
        assert_eq!(gate.enter().unwrap_err(), ProcessError::ShuttingDown);
        assert!(
            !gate.drained.is_set(),
            "a refused start's undo must not open the latch while a real one is in flight"
        );
        assert_eq!(gate.word.load(Ordering::Acquire), CLOSED | 1);
        drop(pass);
        assert!(gate.drained.is_set());
        assert_eq!(gate.word.load(Ordering::Acquire), CLOSED);
    }

    #[test]
    fn close_with_nothing_in_flight_does_not_wait() {
        let gate = ShutdownGate::default();
        drop(gate.enter().unwrap());
        assert_eq!(gate.close(), Some(0));
        gate.wait_drained(0);
    }

    #[test]
    fn shutdown_waits_for_a_start_that_entered_first() {
        let gate = std::sync::Arc::new(ShutdownGate::default());
        let pass_taken = std::sync::Arc::new(ExitLatch::new());
        let release = std::sync::Arc::new(ExitLatch::new());
        let starter = {
            let (gate, pass_taken, release) = (gate.clone(), pass_taken.clone(), release.clone());
            std::thread::spawn(move || {
                let _pass = gate.enter().unwrap();
                pass_taken.set();
                release.wait();
            })
        };
        pass_taken.wait();
        let in_flight = gate.close().unwrap();
        assert_eq!(in_flight, 1);
        assert!(!gate.drained.is_set());
        release.set();
        gate.wait_drained(in_flight);
        starter.join().unwrap();
        assert_eq!(gate.word.load(Ordering::Acquire), CLOSED);
    }
}
