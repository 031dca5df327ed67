//! The async API: the same requests, awaited instead of blocked on.
//!
//! An async caller must not block its runtime's worker thread, so nothing here waits on a
//! condvar or does blocking work on the task:
//!
//! - each call posts its message (an unbounded send never blocks) and awaits a reply slot of
//!   its own (one allocation per call: a task cannot reuse a per-thread slot);
//! - a start is spawned by the manager's launch worker thread, not on the task;
//! - a stop sends its signals from the task (a non-blocking syscall) and awaits the run's end,
//!   with the escalation deadline woken by the owner's timer — no runtime timer is needed, so
//!   these methods work on any executor.
//!
//! No `spawn_blocking`: the owner's answers arrive by `Waker`.

use procman_core::sync::Arc;
use procman_core::{
    IfRunning, LogChunk, LogMatch, LogQuery, ManagerStats, ProcessSnapshot, ProcessSpec,
    Result as PmResult, StopOptions, Target,
};

use crate::manager::{ActorManager, newest_by_time, search_args, sorted_by_name};
use crate::messages::{BeginReply, Call, Key, Msg, RestartPlan, StartKind};
use crate::reply::{call_async, call_result_async};
use crate::stopper::stop_async;

impl ActorManager {
    /// [`procman_core::ProcessManager::status`], awaited.
    pub async fn status_async(&self, target: Target<'_>) -> PmResult<ProcessSnapshot> {
        let key = Key::new(target)?;
        call_result_async(self.mailbox(), |reply| {
            Msg::Call(Call::Status { key, reply })
        })
        .await
    }

    /// [`procman_core::ProcessManager::list`], awaited.
    pub async fn list_async(&self) -> Vec<ProcessSnapshot> {
        let all = call_async(self.mailbox(), |reply| Msg::Call(Call::List { reply })).await;
        sorted_by_name(all.unwrap_or_default())
    }

    /// [`procman_core::ProcessManager::logs_tail`], awaited.
    pub async fn logs_tail_async(
        &self,
        target: Target<'_>,
        cursor: u64,
        limit: usize,
    ) -> PmResult<LogChunk> {
        let key = Key::new(target)?;
        call_result_async(self.mailbox(), |reply| {
            Msg::Call(Call::LogsTail {
                key,
                cursor,
                limit,
                reply,
            })
        })
        .await
    }

    /// [`procman_core::ProcessManager::logs_search`], awaited. The pattern is compiled on the
    /// task before the request is sent.
    pub async fn logs_search_async(&self, query: &LogQuery) -> PmResult<Vec<LogMatch>> {
        let (matcher, name) = search_args(query)?;
        let limit = query.limit;
        let hits = call_result_async(self.mailbox(), |reply| {
            Msg::Call(Call::LogsSearch {
                name,
                matcher: matcher.clone(),
                limit,
                reply,
            })
        })
        .await?;
        Ok(newest_by_time(hits, limit))
    }

    /// [`procman_core::ProcessManager::stats`], awaited.
    pub async fn stats_async(&self) -> ManagerStats {
        call_async(self.mailbox(), |reply| Msg::Call(Call::Stats { reply }))
            .await
            .unwrap_or_default()
    }

    /// [`procman_core::ProcessManager::start`], awaited; the spawn runs on the launch worker.
    pub async fn start_async(
        &self,
        spec: ProcessSpec,
        if_running: IfRunning,
    ) -> PmResult<ProcessSnapshot> {
        spec.validate()?;
        let start = StartKind::Manual {
            spec: Arc::new(spec),
            if_running,
        };
        self.begin_async(start).await
    }

    /// [`procman_core::ProcessManager::stop`], awaited; the stop sequence's waits are awaited.
    pub async fn stop_async(
        &self,
        target: Target<'_>,
        options: StopOptions,
    ) -> PmResult<ProcessSnapshot> {
        let key = Key::new(target)?;
        let plan = call_result_async(self.mailbox(), |reply| {
            Msg::Call(Call::Stop {
                key,
                force: options.force,
                reply,
            })
        })
        .await?;
        stop_async(plan, self.mailbox()).await
    }

    /// [`procman_core::ProcessManager::restart`], awaited.
    pub async fn restart_async(&self, target: Target<'_>) -> PmResult<ProcessSnapshot> {
        let key = Key::new(target)?;
        let plan = call_result_async(self.mailbox(), |reply| {
            Msg::Call(Call::Restart { key, reply })
        })
        .await?;
        let id = match plan {
            RestartPlan::StopFirst { id, plan } => {
                stop_async(plan, self.mailbox()).await?;
                id
            }
            RestartPlan::Ended { id } => id,
        };
        self.begin_async(StartKind::Restart { id }).await
    }

    async fn begin_async(&self, start: StartKind) -> PmResult<ProcessSnapshot> {
        call_result_async(self.mailbox(), |reply| {
            Msg::Call(Call::Begin {
                start,
                reply: BeginReply::Worker(reply),
            })
        })
        .await
    }
}
