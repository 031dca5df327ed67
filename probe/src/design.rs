//! The designs the probe can build, by the names the harness uses.

use std::str::FromStr;
use std::sync::Arc;

use procman_core::{Launcher, ManagerConfig, ProcessManager};

/// A design under measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    Mutex,
    Actor,
    Atomic,
}

impl Design {
    const ALL: [Design; 3] = [Design::Mutex, Design::Actor, Design::Atomic];

    pub fn name(self) -> &'static str {
        match self {
            Design::Mutex => "mutex",
            Design::Actor => "actor",
            Design::Atomic => "atomic",
        }
    }

    /// A fresh manager of this design.
    pub fn build(self, launcher: Arc<dyn Launcher>) -> Arc<dyn ProcessManager> {
        let config = ManagerConfig::default();
        match self {
            Design::Mutex => Arc::new(procman_mutex::MutexManager::new(launcher, config)),
            Design::Actor => Arc::new(procman_actor::ActorManager::new(launcher, config)),
            Design::Atomic => Arc::new(procman_atomic::AtomicManager::new(launcher, config)),
        }
    }
}

impl FromStr for Design {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Design::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("unknown design {s:?}; use one of: mutex, actor, atomic"))
    }
}
