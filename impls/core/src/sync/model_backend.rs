//! The model-checking primitives: loom's (feature `loom`) or shuttle's (feature `shuttle`).
//!
//! Both checkers expose `std`-shaped APIs (poisoning `LockResult`s, condvars that take the guard
//! by value). The wrappers here give them the production (`parking_lot`) shape, so the designs
//! compile unchanged. Libraries that cannot run under a checker are replaced by faithful models,
//! each documented where it is defined:
//!
//! - `arc_swap::ArcSwap` → [`SwapCell`]: a checker `Mutex<Arc<T>>` slot. Loads and CAS are
//!   linearizable in both; the model adds blocking the real one does not have, so it can only
//!   hide lock-free progress bugs, never invent data races.
//! - `dashmap::DashMap` → [`ConcurrentMap`]: a checker `RwLock<HashMap>` (one shard). Per-key
//!   operations keep DashMap's atomicity (each runs under the lock); `for_each` is *more*
//!   consistent than DashMap's shard-by-shard walk — the gap is listed here so nobody relies on it.
//! - `flume` → [`channel`]: an MPMC queue on a checker `Mutex<VecDeque>` + `Condvar`, with
//!   flume's disconnect semantics (send fails when every receiver is gone; recv fails when the
//!   queue is empty and every sender is gone). Async methods are not modelled.
//!
//! - `AtomicBool::swap` → one compare-and-swap (a loom bug; see [`atomic::AtomicBool`]).
//!
//! Gaps every model shares: loom's `Condvar::wait_timeout` never times out (loom has no clock),
//! so protocols that need a timeout (a SIGTERM-ignoring child) are checked with shuttle or with
//! forced stops under loom.

#[cfg(feature = "loom")]
use loom as checker;
// With both features on (`--all-features`), `sync/mod.rs`'s `compile_error!` is the one error:
// loom is taken here so that nothing else fails to resolve.
#[cfg(all(feature = "shuttle", not(feature = "loom")))]
use shuttle as checker;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

/// Atomics: the checker's, except [`atomic::AtomicBool`] (see there).
pub mod atomic {
    pub use super::checker::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize};
    pub use std::sync::atomic::Ordering;

    /// The checker's `AtomicBool` with `swap` done as one compare-and-swap.
    ///
    /// Model swap, for a checker bug: loom 0.7 can let a `swap` (or another read-modify-write
    /// that is not a compare-and-swap) read a value that a concurrent plain `store` has already
    /// overwritten in modification order, breaking the atomicity of the read-modify-write
    /// (tokio-rs/loom#254, #389). The actor's doorbell (a `store(true)` racing a ringer's
    /// `swap(false)`) then deadlocks in executions no real machine can produce. On a bool,
    /// `swap(new)` is exactly `compare_exchange(!new, new)`: the same result and the same value
    /// left behind, and loom models compare-and-swap correctly. Shuttle, which is sequentially
    /// consistent, gets the same wrapper so that both checkers run the same code.
    #[derive(Debug, Default)]
    pub struct AtomicBool {
        inner: super::checker::sync::atomic::AtomicBool,
    }

    impl AtomicBool {
        /// A new atomic holding `value`.
        pub fn new(value: bool) -> Self {
            AtomicBool {
                inner: super::checker::sync::atomic::AtomicBool::new(value),
            }
        }

        /// Loads the value.
        pub fn load(&self, order: Ordering) -> bool {
            self.inner.load(order)
        }

        /// Stores `value`.
        pub fn store(&self, value: bool, order: Ordering) {
            self.inner.store(value, order);
        }

        /// Stores `value`, returning the previous value (as one compare-and-swap; see the type).
        pub fn swap(&self, value: bool, order: Ordering) -> bool {
            let failure = match order {
                Ordering::Release | Ordering::Relaxed => Ordering::Relaxed,
                Ordering::AcqRel => Ordering::Acquire,
                other => other,
            };
            match self.inner.compare_exchange(!value, value, order, failure) {
                Ok(previous) | Err(previous) => previous,
            }
        }

        /// Stores `new` if the value is `current`.
        pub fn compare_exchange(
            &self,
            current: bool,
            new: bool,
            success: Ordering,
            failure: Ordering,
        ) -> Result<bool, bool> {
            self.inner.compare_exchange(current, new, success, failure)
        }
    }
}

/// Threads: the checker's.
pub mod thread {
    pub use super::checker::thread::{JoinHandle, spawn, yield_now};
}

/// A mutex with `parking_lot`'s shape over the checker's mutex.
#[derive(Default)]
pub struct Mutex<T> {
    inner: checker::sync::Mutex<T>,
}

/// Guard of [`Mutex`].
pub struct MutexGuard<'a, T> {
    // `None` only while a condvar wait has taken the inner guard.
    inner: Option<checker::sync::MutexGuard<'a, T>>,
}

impl<T> Mutex<T> {
    /// A mutex holding `value`.
    pub fn new(value: T) -> Self {
        Mutex {
            inner: checker::sync::Mutex::new(value),
        }
    }

    /// Locks; a poisoned lock (a panicking model thread) is taken over, as parking_lot does.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            inner: Some(self.inner.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mutex { .. }")
    }
}

impl<T> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MutexGuard { .. }")
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_ref().expect("guard present outside a wait")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("guard present outside a wait")
    }
}

/// A reader-writer lock with `parking_lot`'s shape.
#[derive(Default)]
pub struct RwLock<T> {
    inner: checker::sync::RwLock<T>,
}

/// Read guard of [`RwLock`] (see [`RwLockWriteGuard`] for why it wraps the checker's).
pub struct RwLockReadGuard<'a, T> {
    // `None` only after a drop during a panic (see `release`).
    inner: Option<checker::sync::RwLockReadGuard<'a, T>>,
}

/// Write guard of [`RwLock`].
///
/// It wraps the checker's guard for one reason: when a model thread unwinds — a failing
/// assertion, or the checker's own deadlock panic raised on the stack of the last thread to
/// block — the guard is *leaked*, not released. Loom's `RwLock` (unlike its `Mutex`) releases
/// through the execution's active thread, and a deadlocked execution has none: releasing would
/// panic inside the unwind and abort the whole test process, hiding the finding. The execution
/// is being torn down either way, so nothing observes the leaked lock.
pub struct RwLockWriteGuard<'a, T> {
    // `None` only after a drop during a panic (see `release`).
    inner: Option<checker::sync::RwLockWriteGuard<'a, T>>,
}

/// Drops `guard`, or leaks it while the thread panics (see [`RwLockWriteGuard`]).
fn release<G>(guard: &mut Option<G>) {
    if std::thread::panicking() {
        std::mem::forget(guard.take());
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        release(&mut self.inner);
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        release(&mut self.inner);
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_ref().expect("guard present until dropped")
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_ref().expect("guard present until dropped")
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("guard present until dropped")
    }
}

impl<T> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RwLockReadGuard { .. }")
    }
}

impl<T> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RwLockWriteGuard { .. }")
    }
}

impl<T> RwLock<T> {
    /// A lock holding `value`.
    pub fn new(value: T) -> Self {
        RwLock {
            inner: checker::sync::RwLock::new(value),
        }
    }

    /// Shared access.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            inner: Some(self.inner.read().unwrap_or_else(|e| e.into_inner())),
        }
    }

    /// Exclusive access.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            inner: Some(self.inner.write().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RwLock { .. }")
    }
}

/// Whether a timed wait ended by timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// True if the wait timed out.
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

/// A condition variable with `parking_lot`'s shape.
#[derive(Default)]
pub struct Condvar {
    inner: checker::sync::Condvar,
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar { .. }")
    }
}

impl Condvar {
    /// A new condvar.
    pub fn new() -> Self {
        Condvar {
            inner: checker::sync::Condvar::new(),
        }
    }

    /// Waits for a notification.
    pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
        let g = guard.inner.take().expect("guard present");
        guard.inner = Some(self.inner.wait(g).unwrap_or_else(|e| e.into_inner()));
    }

    /// Waits for a notification or `timeout` (under loom: never times out).
    pub fn wait_for<T>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        let g = guard.inner.take().expect("guard present");
        let (g, res) = self
            .inner
            .wait_timeout(g, timeout)
            .unwrap_or_else(|e| e.into_inner());
        guard.inner = Some(g);
        WaitTimeoutResult(res.timed_out())
    }

    /// Waits while `condition` holds, up to `timeout` in all.
    pub fn wait_while_for<T>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        mut condition: impl FnMut(&mut T) -> bool,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        while condition(&mut *guard) {
            if self.wait_for(guard, timeout).timed_out() {
                return WaitTimeoutResult(condition(&mut *guard));
            }
        }
        WaitTimeoutResult(false)
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) -> bool {
        self.inner.notify_one();
        true
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) -> usize {
        self.inner.notify_all();
        0
    }
}

/// Model of `arc_swap::ArcSwap`: a checker `Mutex<Arc<T>>` slot (see the module docs).
pub struct SwapCell<T> {
    slot: Mutex<Arc<T>>,
}

/// A loaded value of the model [`SwapCell`].
pub struct CellGuard<T> {
    inner: Arc<T>,
}

impl<T> Deref for CellGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for CellGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

impl<T> CellGuard<T> {
    /// The loaded value as an owned `Arc`.
    pub fn to_arc(&self) -> Arc<T> {
        Arc::clone(&self.inner)
    }

    /// The loaded value as an owned `Arc`.
    pub fn into_arc(self) -> Arc<T> {
        self.inner
    }
}

impl<T> SwapCell<T> {
    /// A cell holding `value`.
    pub fn new(value: T) -> Self {
        Self::from_arc(Arc::new(value))
    }

    /// A cell holding `value`.
    pub fn from_arc(value: Arc<T>) -> Self {
        SwapCell {
            slot: Mutex::new(value),
        }
    }

    /// The current value.
    pub fn load(&self) -> CellGuard<T> {
        CellGuard {
            inner: self.slot.lock().clone(),
        }
    }

    /// The current value as an owned `Arc`.
    pub fn load_full(&self) -> Arc<T> {
        self.slot.lock().clone()
    }

    /// Replaces the value.
    pub fn store(&self, value: Arc<T>) {
        *self.slot.lock() = value;
    }

    /// Replaces the value only if it is still `current` (by pointer).
    pub fn compare_and_swap(
        &self,
        current: &CellGuard<T>,
        new: Arc<T>,
    ) -> Result<(), CellGuard<T>> {
        let mut slot = self.slot.lock();
        if Arc::ptr_eq(&slot, &current.inner) {
            *slot = new;
            Ok(())
        } else {
            Err(CellGuard {
                inner: slot.clone(),
            })
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for SwapCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SwapCell").field(&*self.load()).finish()
    }
}

/// What [`ConcurrentMap::upsert`] decided.
#[derive(Debug)]
pub enum Upsert<V, R> {
    /// Insert (or replace with) this value, and return `R`.
    Put(V, R),
    /// Leave the map as it is, and return `R`.
    Keep(R),
}

/// Model of `dashmap::DashMap`: one checker `RwLock<HashMap>` (see the module docs).
pub struct ConcurrentMap<K, V> {
    inner: RwLock<HashMap<K, V>>,
}

impl<K: Eq + Hash, V> Default for ConcurrentMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Eq + Hash, V> ConcurrentMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        ConcurrentMap {
            inner: RwLock::new(HashMap::new()),
        }
    }

    /// Runs `f` on the value of `key`, if any, under the read lock.
    pub fn get_with<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.read().get(key).map(f)
    }

    /// A clone of the value of `key`.
    pub fn get_cloned<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.get_with(key, V::clone)
    }

    /// Inserts or replaces; returns the old value.
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        self.inner.write().insert(key, value)
    }

    /// Decides under the write lock whether to put a new value, seeing the current one.
    pub fn upsert<R>(&self, key: K, decide: impl FnOnce(Option<&V>) -> Upsert<V, R>) -> R {
        let mut map = self.inner.write();
        match decide(map.get(&key)) {
            Upsert::Put(v, r) => {
                map.insert(key, v);
                r
            }
            Upsert::Keep(r) => r,
        }
    }

    /// Removes `key` if `pred` holds for its value.
    pub fn remove_if<Q>(&self, key: &Q, pred: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut map = self.inner.write();
        if map.get(key).is_some_and(pred) {
            map.remove(key)
        } else {
            None
        }
    }

    /// Calls `f` on every entry under the read lock.
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        for (k, v) in self.inner.read().iter() {
            f(k, v);
        }
    }

    /// Entries now.
    pub fn len(&self) -> usize {
        self.inner.read().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K, V> fmt::Debug for ConcurrentMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConcurrentMap { .. }")
    }
}

/// Model of `flume` (see the module docs).
pub mod channel {
    use super::{Arc, Condvar, Mutex, VecDeque, fmt};

    struct Shared<T> {
        state: Mutex<State<T>>,
        changed: Condvar,
    }

    struct State<T> {
        queue: VecDeque<T>,
        cap: Option<usize>,
        senders: usize,
        receivers: usize,
        /// Receivers waiting in `recv`, and senders waiting for room: a change is notified
        /// only when someone waits for it, as flume does. A notification nobody waits for is
        /// a no-op, but each is a scheduling point the checker would explore for nothing.
        waiting_receivers: usize,
        waiting_senders: usize,
    }

    /// The sending half.
    pub struct Sender<T> {
        shared: Arc<Shared<T>>,
    }

    /// The receiving half.
    pub struct Receiver<T> {
        shared: Arc<Shared<T>>,
    }

    /// Every receiver is gone; the message comes back.
    #[derive(Debug, PartialEq, Eq)]
    pub struct SendError<T>(pub T);

    /// Every sender is gone and the queue is empty.
    #[derive(Debug, PartialEq, Eq)]
    pub struct RecvError;

    /// Why a non-blocking receive returned nothing.
    #[derive(Debug, PartialEq, Eq)]
    pub enum TryRecvError {
        /// Nothing queued now.
        Empty,
        /// Nothing queued and every sender is gone.
        Disconnected,
    }

    fn new<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                cap,
                senders: 1,
                receivers: 1,
                waiting_receivers: 0,
                waiting_senders: 0,
            }),
            changed: Condvar::new(),
        });
        (
            Sender {
                shared: shared.clone(),
            },
            Receiver { shared },
        )
    }

    /// An unbounded channel.
    pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
        new(None)
    }

    /// A channel holding at most `cap` messages (senders wait when full).
    pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
        new(Some(cap.max(1)))
    }

    impl<T> Shared<T> {
        /// Wakes the waiters if `wake`, after the lock is released.
        fn notify_if(&self, wake: bool) {
            if wake {
                self.changed.notify_all();
            }
        }
    }

    impl<T> Sender<T> {
        /// Sends, waiting for room on a full bounded channel.
        pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
            let mut st = self.shared.state.lock();
            loop {
                if st.receivers == 0 {
                    return Err(SendError(msg));
                }
                if st.cap.is_none_or(|c| st.queue.len() < c) {
                    st.queue.push_back(msg);
                    let wake = st.waiting_receivers > 0;
                    drop(st);
                    self.shared.notify_if(wake);
                    return Ok(());
                }
                st.waiting_senders += 1;
                self.shared.changed.wait(&mut st);
                st.waiting_senders -= 1;
            }
        }
    }

    impl<T> Receiver<T> {
        /// Receives, waiting for a message.
        pub fn recv(&self) -> Result<T, RecvError> {
            let mut st = self.shared.state.lock();
            loop {
                if let Some(msg) = st.queue.pop_front() {
                    let wake = st.waiting_senders > 0;
                    drop(st);
                    self.shared.notify_if(wake);
                    return Ok(msg);
                }
                if st.senders == 0 {
                    return Err(RecvError);
                }
                st.waiting_receivers += 1;
                self.shared.changed.wait(&mut st);
                st.waiting_receivers -= 1;
            }
        }

        /// Receives without waiting.
        pub fn try_recv(&self) -> Result<T, TryRecvError> {
            let mut st = self.shared.state.lock();
            match st.queue.pop_front() {
                Some(msg) => {
                    let wake = st.waiting_senders > 0;
                    drop(st);
                    self.shared.notify_if(wake);
                    Ok(msg)
                }
                None if st.senders == 0 => Err(TryRecvError::Disconnected),
                None => Err(TryRecvError::Empty),
            }
        }
    }

    impl<T> Clone for Sender<T> {
        fn clone(&self) -> Self {
            self.shared.state.lock().senders += 1;
            Sender {
                shared: self.shared.clone(),
            }
        }
    }

    impl<T> Clone for Receiver<T> {
        fn clone(&self) -> Self {
            self.shared.state.lock().receivers += 1;
            Receiver {
                shared: self.shared.clone(),
            }
        }
    }

    impl<T> Drop for Sender<T> {
        fn drop(&mut self) {
            let mut st = self.shared.state.lock();
            st.senders -= 1;
            let wake = st.senders == 0 && st.waiting_receivers > 0;
            drop(st);
            self.shared.notify_if(wake);
        }
    }

    impl<T> Drop for Receiver<T> {
        fn drop(&mut self) {
            let mut st = self.shared.state.lock();
            st.receivers -= 1;
            let wake = st.receivers == 0 && st.waiting_senders > 0;
            drop(st);
            self.shared.notify_if(wake);
        }
    }

    impl<T> fmt::Debug for Sender<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Sender { .. }")
        }
    }

    impl<T> fmt::Debug for Receiver<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Receiver { .. }")
        }
    }
}

/// Runs `body` under the active checker: every interleaving within loom's preemption bound
/// (`LOOM_MAX_PREEMPTIONS`, default 2 here), or shuttle's PCT scheduler for
/// `PROCMAN_SHUTTLE_ITERATIONS` runs (default 1000) at depth `PROCMAN_SHUTTLE_DEPTH` (default 3).
/// A shuttle failure prints the failing schedule for replay (see the README).
pub fn check(body: impl Fn() + Send + Sync + 'static) {
    #[cfg(feature = "loom")]
    {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(2);
        }
        builder.check(body);
    }
    #[cfg(all(feature = "shuttle", not(feature = "loom")))]
    {
        let env = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        shuttle::check_pct(
            body,
            env("PROCMAN_SHUTTLE_ITERATIONS", 1000),
            env("PROCMAN_SHUTTLE_DEPTH", 3),
        );
    }
}
