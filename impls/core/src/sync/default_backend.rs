//! The production primitives.

pub use parking_lot::{
    Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, WaitTimeoutResult,
};

/// Atomics: `std::sync::atomic` in production.
pub mod atomic {
    pub use std::sync::atomic::{
        AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
}

/// Threads: `std::thread` in production.
pub mod thread {
    pub use std::thread::{JoinHandle, spawn, yield_now};
}

pub use super::cell::{CellGuard, SwapCell};
pub use super::map::{ConcurrentMap, Upsert};

/// Channels: flume in production.
pub mod channel {
    pub use flume::{Receiver, RecvError, SendError, Sender, TryRecvError, bounded, unbounded};
}
