//! The atomic design: `procman_atomic::AtomicManager` (arc-swap state cells, transitions by
//! compare-and-swap), in its two registry variants:
//!
//! - `atomic`: the DashMap registry ([`AtomicManager::new`]);
//! - `atomic-cow`: one copy-on-write map behind an `ArcSwap`
//!   ([`AtomicManager::with_cow_registry`]): lock-free lookups, a copy of the map per new name.
//!
//! Its reads never block, so the tokio driver calls them inline; its writes go through
//! `spawn_blocking` like every design's.

use std::sync::Arc;

use procman_atomic::AtomicManager;
use procman_core::{Launcher, ManagerConfig};

use super::Contender;

/// A fresh atomic manager with the DashMap registry.
pub fn build(launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Contender {
    Contender::blocking(Arc::new(AtomicManager::new(launcher, config)))
}

/// A fresh atomic manager with the copy-on-write registry.
pub fn build_cow(launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Contender {
    Contender::blocking(Arc::new(AtomicManager::with_cow_registry(launcher, config)))
}
