//! Replies: the slot a caller waits on, and the typed handle the owner answers through.
//!
//! Every request carries a [`ReplyTo<T>`]. The owner answers with [`ReplyTo::send`]; a handle
//! dropped unanswered — the owner panicked, or the request never reached it — answers
//! [`Reply::Gone`] from its `Drop`. Each handle therefore fills its slot exactly once, and a
//! caller never waits forever.
//!
//! Why not a oneshot channel per request: each one allocates its shared state, and flume also
//! allocates a wait hook every time a receiver blocks. A blocking caller instead reuses one
//! [`ReplySlot`] per thread — a mutex-guarded `Option<Reply>` and a condvar, allocated on the
//! thread's first request. Reuse is safe because the caller waits for the one fill its request
//! makes (the answer, or `Gone`) before it sends the next request, and no other handle to the
//! slot exists by then. An async caller cannot reuse it (tasks hop between threads and
//! interleave on one), so it allocates one slot per request and waits with a `Waker`.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use procman_core::sync::atomic::{AtomicBool, Ordering};
use procman_core::sync::{Arc, Condvar, Mutex};
use procman_core::{
    LogChunk, LogMatch, ManagerStats, ProcessError, ProcessSnapshot, Result as PmResult,
};

use crate::mailbox::Post;
use crate::messages::{Attach, Begun, Msg, RestartPlan, ShutdownPlan, StopPlan};
use crate::run_end::RunEnd;
use crate::spin::Adaptive;

/// The owner could not answer: it is gone (or was never reached).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gone;

impl From<Gone> for ProcessError {
    fn from(_: Gone) -> Self {
        ProcessError::ManagerGone
    }
}

/// A value the owner can send back: one variant of [`Reply`].
pub(crate) trait Payload: Sized {
    /// Wraps the value.
    fn into_reply(self) -> Reply;
    /// Unwraps it; `Gone` when the request was dropped unanswered.
    fn from_reply(reply: Reply) -> Result<Self, Gone>;
}

macro_rules! replies {
    ($($(#[$doc:meta])* $variant:ident($ty:ty),)*) => {
        /// Every answer a slot can hold. One enum keeps one slot per thread for every request.
        pub(crate) enum Reply {
            $($(#[$doc])* $variant($ty),)*
            /// The request was dropped unanswered: the owner is gone.
            Gone,
        }

        $(
            impl Payload for $ty {
                fn into_reply(self) -> Reply {
                    Reply::$variant(self)
                }

                fn from_reply(reply: Reply) -> Result<Self, Gone> {
                    match reply {
                        Reply::$variant(value) => Ok(value),
                        Reply::Gone => Err(Gone),
                        // A `ReplyTo<T>` only ever fills its slot with `T` or `Gone`, and a
                        // slot is waited on by the one request that made the handle.
                        _ => unreachable!(concat!("a slot awaiting ", stringify!($variant), " held another reply")),
                    }
                }
            }
        )*
    };
}

replies! {
    /// `status`, and the end of an async start or restart.
    Snapshot(PmResult<ProcessSnapshot>),
    /// `list`, unsorted (the caller sorts).
    List(Vec<ProcessSnapshot>),
    /// `logs_tail`.
    Chunk(PmResult<LogChunk>),
    /// `logs_search`: every run's newest matches (the caller merges).
    Matches(PmResult<Vec<LogMatch>>),
    /// `stats`.
    Stats(ManagerStats),
    /// A start or restart was admitted, or refused.
    Begun(PmResult<Begun>),
    /// The owner recorded a spawned child, answering with the run's end (or refused it).
    Accepted(PmResult<Arc<RunEnd>>),
    /// `attached`: the run's snapshot after attach, or word that it ended and was replaced.
    Attached(PmResult<Attach>),
    /// The owner recorded a failed spawn; the error to return.
    Failed(ProcessError),
    /// How to carry out a stop.
    Stop(PmResult<StopPlan>),
    /// How to carry out a restart.
    Restart(PmResult<RestartPlan>),
    /// What a shutdown must stop.
    Shutdown(ShutdownPlan),
}

/// Where one reply lands: filled once per request by the owner, emptied by the caller.
pub(crate) struct ReplySlot {
    /// The reply, and the waker of an async caller waiting for it.
    state: Mutex<SlotState>,
    /// Wakes a blocking caller.
    filled: Condvar,
    /// Set once the reply is in `state` (after it is stored, under the lock), cleared when the
    /// caller takes it: what a waiting caller spins on before it parks (see [`crate::spin`]).
    ready: AtomicBool,
}

#[derive(Default)]
struct SlotState {
    /// The reply, until the caller takes it.
    reply: Option<Reply>,
    /// An async caller's waker, woken when the reply lands.
    waker: Option<Waker>,
}

impl ReplySlot {
    /// An empty slot.
    pub(crate) fn new() -> Self {
        ReplySlot {
            state: Mutex::new(SlotState::default()),
            filled: Condvar::new(),
            ready: AtomicBool::new(false),
        }
    }

    fn fill(&self, reply: Reply) {
        let waker = {
            let mut state = self.state.lock();
            debug_assert!(state.reply.is_none(), "a slot holds one reply at a time");
            state.reply = Some(reply);
            self.ready.store(true, Ordering::Release);
            // Notified under the lock: a late notify could otherwise wake the caller's *next*
            // wait on this reused slot (harmless, but a wasted wake-up).
            self.filled.notify_one();
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Blocks until the reply lands and takes it: spins briefly first, so that an owner that
    /// answers within µs costs no wake-up (see [`crate::spin`]).
    pub(crate) fn wait(&self) -> Reply {
        // Only a hint: the reply is taken under the lock below either way.
        caller_spin(|| self.ready.load(Ordering::Acquire).then_some(()));
        let mut state = self.state.lock();
        loop {
            if let Some(reply) = state.reply.take() {
                self.ready.store(false, Ordering::Relaxed);
                return reply;
            }
            self.filled.wait(&mut state);
        }
    }

    fn poll_reply(&self, cx: &mut Context<'_>) -> Poll<Reply> {
        let mut state = self.state.lock();
        if let Some(reply) = state.reply.take() {
            self.ready.store(false, Ordering::Relaxed);
            return Poll::Ready(reply);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// The owner's handle for answering one request with a `T`.
pub(crate) struct ReplyTo<T: Payload> {
    /// `None` once answered.
    slot: Option<Arc<ReplySlot>>,
    kind: PhantomData<fn(T)>,
}

impl<T: Payload> ReplyTo<T> {
    fn new(slot: Arc<ReplySlot>) -> Self {
        ReplyTo {
            slot: Some(slot),
            kind: PhantomData,
        }
    }

    /// Answers the request.
    pub(crate) fn send(mut self, value: T) {
        if let Some(slot) = self.slot.take() {
            slot.fill(value.into_reply());
        }
    }
}

impl<T: Payload> Drop for ReplyTo<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.fill(Reply::Gone);
        }
    }
}

/// Sends the request `make` builds and blocks the calling thread until it is answered.
pub(crate) fn call<T: Payload>(
    post: &impl Post,
    make: impl FnOnce(ReplyTo<T>) -> Msg,
) -> Result<T, Gone> {
    with_thread_slot(|slot| {
        // A refused message was dropped, and its handle answered `Gone` into the slot.
        let _ = post.post(make(ReplyTo::new(slot.clone())));
        T::from_reply(slot.wait())
    })
}

/// Sends the request `make` builds and awaits the answer without blocking the thread.
pub(crate) async fn call_async<T: Payload>(
    post: &impl Post,
    make: impl FnOnce(ReplyTo<T>) -> Msg,
) -> Result<T, Gone> {
    let slot = Arc::new(ReplySlot::new());
    let _ = post.post(make(ReplyTo::new(slot.clone())));
    T::from_reply(AwaitReply { slot: &slot }.await)
}

/// [`call`] for requests whose answer is itself a manager result.
pub(crate) fn call_result<T>(
    post: &impl Post,
    make: impl FnOnce(ReplyTo<PmResult<T>>) -> Msg,
) -> PmResult<T>
where
    PmResult<T>: Payload,
{
    call(post, make)?
}

/// [`call_async`] for requests whose answer is itself a manager result.
pub(crate) async fn call_result_async<T>(
    post: &impl Post,
    make: impl FnOnce(ReplyTo<PmResult<T>>) -> Msg,
) -> PmResult<T>
where
    PmResult<T>: Payload,
{
    call_async(post, make).await?
}

/// The future of an async caller's reply.
struct AwaitReply<'a> {
    slot: &'a ReplySlot,
}

impl Future for AwaitReply<'_> {
    type Output = Reply;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        self.slot.poll_reply(cx)
    }
}

/// Spins on `poll` with this thread's adaptive caller limit (see [`crate::spin`]).
#[cfg(not(any(feature = "loom", feature = "shuttle")))]
fn caller_spin(poll: impl FnMut() -> Option<()>) {
    std::thread_local! {
        static SPIN: Adaptive = const { Adaptive::caller() };
    }
    // `try_with` fails only while this thread's locals are being destroyed: then no spin.
    let _ = SPIN.try_with(|spin| spin.spin(std::time::Duration::MAX, poll));
}

/// Under the model checkers, one look (model threads share the OS thread's locals).
#[cfg(any(feature = "loom", feature = "shuttle"))]
fn caller_spin(poll: impl FnMut() -> Option<()>) {
    let _ = Adaptive::caller().spin(std::time::Duration::MAX, poll);
}

/// Runs `f` with this thread's reusable slot.
#[cfg(not(any(feature = "loom", feature = "shuttle")))]
fn with_thread_slot<R>(f: impl FnOnce(&Arc<ReplySlot>) -> R) -> R {
    std::thread_local! {
        static SLOT: Arc<ReplySlot> = Arc::new(ReplySlot::new());
    }
    // `try_with` fails only while this thread's locals are being destroyed (a request made
    // from another thread-local's destructor): such a request gets a slot of its own.
    let slot = SLOT
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::new(ReplySlot::new()));
    f(&slot)
}

/// Under the model checkers every model thread runs on one OS thread, so a `thread_local!`
/// would be shared between them: each request gets a slot of its own instead.
#[cfg(any(feature = "loom", feature = "shuttle"))]
fn with_thread_slot<R>(f: impl FnOnce(&Arc<ReplySlot>) -> R) -> R {
    f(&Arc::new(ReplySlot::new()))
}
