//! The contenders: one adapter file per design (as conc-map-bench has one per map), each
//! building a fresh manager over a launcher, and [`Contender`], the one way both drivers call
//! any of them.
//!
//! All designs implement [`ProcessManager`], so the thread driver calls every one of them the
//! same way. In the tokio driver the rule of [`crate::driver::tokio`] applies: reads the
//! design's own non-blocking way (inline, or the actor's `*_async` methods), writes through
//! `spawn_blocking` for every design.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use procman_core::{Launcher, ManagerConfig, ProcessManager, ProcessSpec};
use serde::{Deserialize, Serialize};

use crate::call::{Call, ErrorKind, Outcome, Workload, call_blocking};
use crate::driver::tokio::AsyncTarget;
use crate::measure::alloc::{self, AllocCounts};

pub mod actor;
pub mod atomic;
pub mod mutex;

/// A process-manager design under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Design {
    /// `procman_mutex::MutexManager`.
    Mutex,
    /// `procman_actor::ActorManager`.
    Actor,
    /// `procman_atomic::AtomicManager` with its default, append-only table registry.
    Atomic,
    /// `procman_atomic::AtomicManager` with the DashMap registry (the earlier default).
    AtomicSharded,
}

impl Design {
    /// Every design, in the order tables list them; what `harness run` runs by default.
    pub const ALL: [Design; 4] = [
        Design::Mutex,
        Design::Actor,
        Design::Atomic,
        Design::AtomicSharded,
    ];

    /// Its name on the command line and in result files.
    pub const fn name(self) -> &'static str {
        match self {
            Design::Mutex => "mutex",
            Design::Actor => "actor",
            Design::Atomic => "atomic",
            Design::AtomicSharded => "atomic-sharded",
        }
    }

    /// Whether this build of the harness can construct it (the actor is a hook until
    /// procman-actor exports its manager; see `contender/actor.rs`).
    pub const fn is_available(self) -> bool {
        match self {
            Design::Actor => actor::AVAILABLE,
            _ => true,
        }
    }

    /// A fresh manager of this design over `launcher`.
    pub fn build(self, launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Contender {
        match self {
            Design::Mutex => mutex::build(launcher, config),
            Design::Actor => actor::build(launcher, config),
            Design::Atomic => atomic::build(launcher, config),
            Design::AtomicSharded => atomic::build_sharded(launcher, config),
        }
    }
}

impl fmt::Display for Design {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A design name this harness does not know; the message lists the ones it does.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown design {name:?}; use one of: {}", Design::ALL.map(Design::name).join(", "))]
pub struct UnknownDesign {
    /// The name as given.
    pub name: String,
}

impl FromStr for Design {
    type Err = UnknownDesign;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Design::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| UnknownDesign { name: s.into() })
    }
}

/// A manager under test, callable by both drivers.
#[derive(Clone)]
pub struct Contender {
    /// The manager, through the common contract.
    pub manager: Arc<dyn ProcessManager>,
    /// The actor's async read path, for the tokio driver (`None` for the other designs).
    actor: Option<actor::AsyncReads>,
}

impl fmt::Debug for Contender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contender")
            .field("design", &self.manager.design())
            .field("async_reads", &self.actor.is_some())
            .finish()
    }
}

impl Contender {
    /// A design whose reads never block: called inline in the tokio driver.
    pub fn blocking(manager: Arc<dyn ProcessManager>) -> Contender {
        Contender {
            manager,
            actor: None,
        }
    }
}

impl AsyncTarget for Contender {
    async fn call(
        &self,
        w: &Arc<Workload>,
        call: Call,
        mut staged: Option<ProcessSpec>,
    ) -> (Outcome, AllocCounts) {
        if call.op().is_write() {
            let (m, w) = (self.manager.clone(), w.clone());
            let blocking = tokio::task::spawn_blocking(move || {
                let a0 = alloc::thread_counts();
                let outcome = call_blocking(&*m, &w, call, &mut staged);
                (outcome, alloc::thread_counts().since(a0))
            });
            return blocking.await.unwrap_or_else(|_| {
                (
                    Outcome::failed(ErrorKind::TaskFailed),
                    AllocCounts::default(),
                )
            });
        }
        let outcome = match &self.actor {
            Some(actor) => actor.read(w, call).await,
            None => call_blocking(&*self.manager, w, call, &mut staged),
        };
        (outcome, AllocCounts::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Design::ALL {
            assert_eq!(d.name().parse::<Design>(), Ok(d));
            assert_eq!(
                serde_json::to_string(&d).unwrap(),
                format!("\"{}\"", d.name())
            );
        }
        let e = "rwlock".parse::<Design>().unwrap_err().to_string();
        assert!(e.contains("mutex, actor, atomic, atomic-sharded"), "{e}");
    }
}
