//! The mutex design: `procman_mutex::MutexManager` (parking_lot `RwLock` registry, a lock per
//! entry, a snapshot under one acquisition).
//!
//! Its reads never block on a spawn or a stop, so the tokio driver calls them inline; its
//! writes go through `spawn_blocking` like every design's.

use std::sync::Arc;

use procman_core::{Launcher, ManagerConfig};
use procman_mutex::MutexManager;

use super::Contender;

/// A fresh mutex manager over `launcher`.
pub fn build(launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Contender {
    Contender::blocking(Arc::new(MutexManager::new(launcher, config)))
}
