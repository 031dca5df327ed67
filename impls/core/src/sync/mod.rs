//! The sync facade: the one place the designs get their concurrency primitives from.
//!
//! The three implementations import `procman_core::sync::...` and never name `parking_lot`,
//! `arc_swap`, `dashmap`, `flume` or `std::sync::atomic` directly. Which primitives stand behind
//! these names is chosen by Cargo feature:
//!
//! | feature   | locks, condvar, atomics        | [`SwapCell`] (arc-swap)    | [`ConcurrentMap`] (dashmap) | [`channel`] (flume) |
//! |-----------|--------------------------------|----------------------------|-----------------------------|---------------------|
//! | (default) | parking_lot, std atomics       | `arc_swap::ArcSwap`        | `dashmap::DashMap`          | `flume`             |
//! | `loom`    | loom                           | loom `Mutex<Arc<T>>` slot  | loom `RwLock<HashMap>`      | loom-backed queue   |
//! | `shuttle` | shuttle                        | shuttle `Mutex<Arc<T>>`    | shuttle `RwLock<HashMap>`   | shuttle-backed queue|
//!
//! The checked code is the shipped code except for those swaps, each documented where it is made.
//! `Arc` is always `std::sync::Arc` (the designs need `Weak`, which loom does not model).

#[cfg(all(feature = "loom", feature = "shuttle"))]
compile_error!(
    "features `loom` and `shuttle` are mutually exclusive: enable one checker at a time \
     (e.g. `cargo test -p procman-core --features loom`)"
);

#[cfg(not(any(feature = "loom", feature = "shuttle")))]
mod default_backend;
#[cfg(not(any(feature = "loom", feature = "shuttle")))]
pub use default_backend::*;

#[cfg(any(feature = "loom", feature = "shuttle"))]
mod model_backend;
#[cfg(any(feature = "loom", feature = "shuttle"))]
pub use model_backend::*;

pub use std::sync::{Arc, Weak};

/// Which backend this build uses: "default", "loom" or "shuttle".
pub const BACKEND: &str = if cfg!(feature = "loom") {
    "loom"
} else if cfg!(feature = "shuttle") {
    "shuttle"
} else {
    "default"
};

#[cfg(not(any(feature = "loom", feature = "shuttle")))]
mod cell;
#[cfg(not(any(feature = "loom", feature = "shuttle")))]
mod map;
