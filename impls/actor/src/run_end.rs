//! [`RunEnd`]: the one-shot completion of a live run, which stoppers wait on off the owner.
//!
//! A stop is carried out by the caller (the owner never signals or waits), so the caller needs
//! to learn when the child is gone, and with which terminal snapshot. The owner publishes that
//! snapshot here when it records the exit; a blocking stopper waits on the [`ExitLatch`] (the one
//! [`procman_core::supervise::run_stop_sequence`] takes), an async one registers a `Waker`.
//! The snapshot is kept here rather than asked for again, because by the time a stopper asked,
//! a new start could already have replaced the run.
//!
//! If the owner drops a run without publishing (it panicked, or the manager is being dropped),
//! [`EndPublisher`]'s `Drop` publishes `ManagerGone`, so no stopper waits forever.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use procman_core::supervise::ExitLatch;
use procman_core::sync::{Arc, Mutex};
use procman_core::{ProcessError, ProcessSnapshot, Result as PmResult};

use crate::mailbox::Post;
use crate::messages::{Event, Msg};

/// How one live run ended, once it has.
#[derive(Debug, Default)]
pub(crate) struct RunEnd {
    /// Set once the end is published.
    latch: ExitLatch,
    /// The end, and async waiters.
    state: Mutex<EndState>,
}

#[derive(Debug, Default)]
struct EndState {
    /// The terminal snapshot, or `ManagerGone`.
    result: Option<PmResult<ProcessSnapshot>>,
    /// Async stoppers to wake.
    wakers: Vec<Waker>,
}

impl RunEnd {
    /// The latch a blocking stop sequence waits on.
    pub(crate) fn latch(&self) -> &ExitLatch {
        &self.latch
    }

    /// Blocks until the end is published and returns it.
    pub(crate) fn wait(&self) -> PmResult<ProcessSnapshot> {
        self.latch.wait();
        self.result()
    }

    /// The published end (`ManagerGone` if called before it is published, which callers only
    /// do once the latch is set).
    pub(crate) fn result(&self) -> PmResult<ProcessSnapshot> {
        self.state
            .lock()
            .result
            .clone()
            .unwrap_or(Err(ProcessError::ManagerGone))
    }

    /// Waits for the end without blocking; resolves to `None` if `deadline` passes first. The
    /// owner's timer (reached through `post`) wakes the task at the deadline.
    pub(crate) fn wait_async<'a, P: Post>(
        &'a self,
        deadline: Option<Instant>,
        post: &'a P,
    ) -> EndWait<'a, P> {
        EndWait {
            end: self,
            deadline,
            post,
            armed: None,
        }
    }

    fn poll_result(&self, waker: &Waker) -> Option<PmResult<ProcessSnapshot>> {
        let mut state = self.state.lock();
        if let Some(result) = &state.result {
            return Some(result.clone());
        }
        if !state.wakers.iter().any(|w| w.will_wake(waker)) {
            state.wakers.push(waker.clone());
        }
        None
    }

    fn publish(&self, result: PmResult<ProcessSnapshot>) {
        let wakers = {
            let mut state = self.state.lock();
            if state.result.is_some() {
                return;
            }
            state.result = Some(result);
            std::mem::take(&mut state.wakers)
        };
        // The result is stored before the latch opens: a stopper that sees the latch finds it.
        self.latch.set();
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// The owner's side of a [`RunEnd`]: publishes the end once, or `ManagerGone` when dropped.
#[derive(Debug)]
pub(crate) struct EndPublisher {
    end: Arc<RunEnd>,
}

impl EndPublisher {
    /// A publisher with an unpublished end.
    pub(crate) fn new() -> Self {
        EndPublisher {
            end: Arc::new(RunEnd::default()),
        }
    }

    /// The end stoppers wait on.
    pub(crate) fn end(&self) -> &Arc<RunEnd> {
        &self.end
    }

    /// Publishes the terminal snapshot.
    pub(crate) fn publish(self, snapshot: ProcessSnapshot) {
        self.end.publish(Ok(snapshot));
    }
}

impl Drop for EndPublisher {
    fn drop(&mut self) {
        // A no-op after `publish`.
        self.end.publish(Err(ProcessError::ManagerGone));
    }
}

/// The future of [`RunEnd::wait_async`].
pub(crate) struct EndWait<'a, P> {
    end: &'a RunEnd,
    deadline: Option<Instant>,
    post: &'a P,
    /// The waker the owner's timer will wake at the deadline, once asked.
    armed: Option<Waker>,
}

impl<P: Post> Future for EndWait<'_, P> {
    type Output = Option<PmResult<ProcessSnapshot>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(result) = this.end.poll_result(cx.waker()) {
            return Poll::Ready(Some(result));
        }
        if let Some(at) = this.deadline {
            if Instant::now() >= at {
                return Poll::Ready(None);
            }
            if !this.armed.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                let waker = cx.waker().clone();
                // If the owner is gone, so is the run's publisher, whose drop wakes us.
                let _ = this.post.post(Msg::Event(Event::WakeAt {
                    at,
                    waker: waker.clone(),
                }));
                this.armed = Some(waker);
            }
        }
        Poll::Pending
    }
}
