//! The atomic design: `procman_atomic::AtomicManager` (arc-swap state cells, transitions by
//! compare-and-swap), in its two registry variants:
//!
//! - `atomic`: the append-only name table and each entry's seqlocked status view
//!   ([`AtomicManager::new`]): lookups and `list` without a lock word, a `status` that writes
//!   nothing;
//! - `atomic-sharded`: the DashMap registry ([`AtomicManager::with_sharded_registry`]), whose
//!   readers take a shard's read lock: the earlier default, kept for comparison.
//!
//! Its reads never block, so the tokio driver calls them inline; its writes go through
//! `spawn_blocking` like every design's.

use std::sync::Arc;

use procman_atomic::AtomicManager;
use procman_core::{Launcher, ManagerConfig};

use super::Contender;

/// A fresh atomic manager with the append-only table registry.
pub fn build(launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Contender {
    Contender::blocking(Arc::new(AtomicManager::new(launcher, config)))
}

/// A fresh atomic manager with the DashMap registry.
pub fn build_sharded(launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Contender {
    Contender::blocking(Arc::new(AtomicManager::with_sharded_registry(
        launcher, config,
    )))
}
