//! The tokio driver: one task per client on a multi-thread runtime, the way an MCP server
//! serves requests.
//!
//! The rule, the same for every design:
//!
//! - **reads** (`scripts_status`, `scripts_status_all`, `logs_stream`, `logs_search`) are made
//!   the design's own non-blocking way: the mutex and atomic designs inline (their reads never
//!   wait on a spawn, a stop or a syscall), the actor through its `*_async` methods (its
//!   blocking methods would park a runtime worker on a reply channel);
//! - **writes** (`scripts_run`, `scripts_stop`, `scripts_restart`) may block for as long as a
//!   spawn or a stop takes, so every design's writes go through `spawn_blocking`, the actor's
//!   included, so that no design pays or saves the thread hop that the others do not.
//!
//! A client task yields to the scheduler after each op (outside the timed region), so that
//! more clients than workers share the workers fairly instead of one task monopolising one.
//!
//! Allocations are counted around each *poll* of an op's future (and inside the blocking
//! closure of a write), so they are attributed to the op exactly even though a task can move
//! between workers and other tasks run between its polls.

use std::future::Future;
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use procman_core::ProcessSpec;

use super::client::{ClientPlan, ClientRecord, ClientState, Timeline, stream_target};
use super::join::{Ask, Ended, JoinFailure, collect_records, panic_message};
use crate::call::{Call, Outcome, Workload};
use crate::measure::alloc::{self, AllocCounts};
use crate::measure::timer::Clock;
use crate::measure::watchdog::{InFlight, InFlightSlot};

/// Something a tokio client can call.
pub trait AsyncTarget: Send + Sync + 'static {
    /// Makes `call` (a `scripts_run` starts `staged`). Returns the outcome and the allocations made off the polling thread (in a
    /// `spawn_blocking` closure); allocations made while the future is polled are counted by
    /// the driver.
    fn call(
        &self,
        w: &Arc<Workload>,
        call: Call,
        staged: Option<ProcessSpec>,
    ) -> impl Future<Output = (Outcome, AllocCounts)> + Send;
}

/// The async no-op: what is left of a loop iteration is the driver's own cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct AsyncNoop;

impl AsyncTarget for AsyncNoop {
    async fn call(
        &self,
        _w: &Arc<Workload>,
        call: Call,
        staged: Option<ProcessSpec>,
    ) -> (Outcome, AllocCounts) {
        drop(std::hint::black_box((call, staged)));
        (Outcome::OK, AllocCounts::default())
    }
}

/// Polls `fut` to completion, counting what each poll allocates on the polling thread.
async fn counted<F: Future<Output = (Outcome, AllocCounts)>>(fut: F) -> (Outcome, AllocCounts) {
    let mut fut = std::pin::pin!(fut);
    let mut polled = AllocCounts::default();
    let (outcome, off_thread) = std::future::poll_fn(|cx| {
        let a0 = alloc::thread_counts();
        let r = fut.as_mut().poll(cx);
        polled.add(alloc::thread_counts().since(a0));
        r
    })
    .await;
    polled.add(off_thread);
    (outcome, polled)
}

/// Waits until tick `deadline`: tokio's timer (1 ms resolution) for the bulk, then yielding.
async fn wait_until(clock: &Clock, deadline: u64) {
    loop {
        let now = clock.now();
        if now >= deadline {
            return;
        }
        let left = clock.to_ns(deadline - now);
        if left > 1_500_000 {
            tokio::time::sleep(Duration::from_nanos(left - 1_000_000)).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

/// The measured loop of one client task.
pub async fn client_loop<T: AsyncTarget>(
    state: &mut ClientState,
    target: &T,
    clock: &Clock,
    timeline: &Timeline,
    slot: &InFlightSlot,
) -> u64 {
    state.start(clock, timeline);
    let workload = state.workload.clone();
    let mut schedule = state.schedule.take();
    let mut made = 0;
    loop {
        let due = match &schedule {
            Some(s) => {
                let due = s.next_due();
                if due >= timeline.measure_end {
                    break;
                }
                wait_until(clock, due).await;
                Some(due)
            }
            None => None,
        };
        let call = state.next_call();
        let op = call.op();
        let proc = stream_target(&call);
        let t0 = clock.now();
        slot.begin(op, t0);
        let staged = state.staged.take();
        let (outcome, allocs) = counted(target.call(&workload, call, staged)).await;
        let t1 = clock.now();
        slot.end();
        made += 1;
        let from = due.unwrap_or(t0);
        if from >= timeline.measure_start {
            state.record(clock, op, t1.saturating_sub(from), t1, allocs, &outcome);
            if let (Some(lag), Some(due)) = (state.record.send_lag.as_mut(), due) {
                lag.record(clock.to_ns(t0.saturating_sub(due)));
            }
        }
        state.absorb(proc, &outcome);
        if let Some(s) = schedule.as_mut() {
            s.advance();
        }
        if t1 >= timeline.measure_end {
            break;
        }
        tokio::task::yield_now().await;
    }
    if let Some(s) = schedule.take() {
        state.record.due = s.due_between(timeline.measure_start, timeline.measure_end);
        state.record.due_not_sent = s.unsent_before(timeline.measure_end);
        state.schedule = Some(s);
    }
    made
}

/// A runtime with `workers` worker threads (and the default blocking pool).
pub fn runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .thread_name("harness-tokio")
        .enable_time()
        .build()
}

/// The running client tasks of one run.
#[derive(Debug)]
pub struct TokioClients {
    /// When the run's phases begin and end.
    pub timeline: Timeline,
    rx: mpsc::Receiver<(usize, ClientRecord)>,
    tasks: Vec<Option<tokio::task::JoinHandle<()>>>,
    runtime: tokio::runtime::Runtime,
}

/// Spawns one task per plan on a fresh runtime, waits until all are ready, starts the clock
/// and returns.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
pub fn start<T: AsyncTarget>(
    plans: Vec<ClientPlan>,
    workload: Arc<Workload>,
    target: Arc<T>,
    clock: Clock,
    stall_ticks: u64,
    slots: Arc<InFlight>,
    warmup: Duration,
    duration: Duration,
    workers: usize,
) -> std::io::Result<TokioClients> {
    let runtime = runtime(workers)?;
    let n = plans.len();
    let barrier = Arc::new(tokio::sync::Barrier::new(n + 1));
    let timeline = Arc::new(OnceLock::<Timeline>::new());
    let (tx, rx) = mpsc::channel();
    let mut tasks = Vec::with_capacity(n);
    for (i, plan) in plans.into_iter().enumerate() {
        let (barrier, timeline, tx) = (barrier.clone(), timeline.clone(), tx.clone());
        let (workload, target, slots) = (workload.clone(), target.clone(), slots.clone());
        tasks.push(Some(runtime.spawn(async move {
            let mut state = ClientState::new(plan, workload, stall_ticks);
            barrier.wait().await;
            let timeline = *timeline.get().expect("set before the barrier opens");
            client_loop(&mut state, &*target, &clock, &timeline, slots.slot(i)).await;
            let _ = tx.send((i, state.record));
        })));
    }
    let tl = Timeline::from_now(&clock, warmup, duration);
    timeline.set(tl).expect("set once");
    runtime.block_on(barrier.wait());
    Ok(TokioClients {
        timeline: tl,
        rx,
        tasks,
        runtime,
    })
}

impl TokioClients {
    /// Waits until `deadline` for every client's record, then shuts the runtime down (giving
    /// stuck tasks one second). Returns the records in client order, or the clients that did
    /// not deliver one.
    pub fn join(mut self, deadline: Instant) -> Result<Vec<ClientRecord>, JoinFailure> {
        let (tasks, runtime) = (&mut self.tasks, &self.runtime);
        let joined = collect_records(&self.rx, tasks.len(), deadline, |ask| match ask {
            Ask::Delivered(i) => {
                tasks[i] = None;
                Ended::Running
            }
            Ask::Check(i) => match tasks[i].take_if(|t| t.is_finished()) {
                None => Ended::Running,
                Some(t) => match runtime.block_on(t) {
                    Ok(()) => Ended::Normally,
                    Err(e) => Ended::Panicked(match e.try_into_panic() {
                        Ok(payload) => panic_message(&*payload),
                        Err(e) => e.to_string(),
                    }),
                },
            },
        });
        self.runtime.shutdown_timeout(Duration::from_secs(1));
        joined
    }
}
