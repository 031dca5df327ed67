//! The actor design: `procman_actor::ActorManager` (one owner thread holds all state; requests
//! and launcher events share its mailbox; callers wait on a reply).
//!
//! In the thread driver it is called through [`procman_core::ProcessManager`] like the others
//! (the caller blocks on its reply). In the tokio driver its reads go through its own async
//! methods — `status_async`, `list_async`, `logs_tail_async`, `logs_search_async` — which
//! await the reply instead of parking a runtime worker; its writes go through
//! `spawn_blocking` like every design's (see [`crate::driver::tokio`]), so its
//! `start_async`/`stop_async`/`restart_async` are not used by the comparison.

use std::hint::black_box;
use std::sync::Arc;

use procman_actor::ActorManager;
use procman_core::{Launcher, ManagerConfig, Target};

use super::Contender;
use crate::call::{Call, Outcome, Workload, settle, settle_stream};

/// Whether [`build`] can construct the actor.
pub const AVAILABLE: bool = true;

/// The actor's async reads, used by the tokio driver.
#[derive(Clone, Debug)]
pub struct AsyncReads(Arc<ActorManager>);

impl AsyncReads {
    /// Makes the read `call` through the actor's async methods. Writes never come here (the
    /// tokio driver sends them through `spawn_blocking`); one that did would be answered with
    /// the blocking call, which is correct but would park the worker.
    pub async fn read(&self, w: &Workload, call: Call) -> Outcome {
        let m = &*self.0;
        match call {
            Call::Status(i) => settle(m.status_async(Target::Name(&w.names[i])).await),
            Call::StatusAll => {
                drop(black_box(m.list_async().await));
                Outcome::OK
            }
            Call::LogsStream { proc, cursor } => settle_stream(
                m.logs_tail_async(Target::Name(&w.names[proc]), cursor, w.stream_limit)
                    .await,
            ),
            Call::LogsSearch => settle(m.logs_search_async(&w.query).await),
            write @ (Call::Run(_) | Call::Stop(_) | Call::Restart(_)) => {
                crate::call::call_blocking(m, w, write, &mut None)
            }
        }
    }
}

/// A fresh actor manager over `launcher`.
pub fn build(launcher: Arc<dyn Launcher>, config: ManagerConfig) -> Contender {
    let actor = Arc::new(ActorManager::new(launcher, config));
    Contender {
        manager: actor.clone(),
        actor: Some(AsyncReads(actor)),
    }
}
