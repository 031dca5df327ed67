//! The OS-thread driver: one thread per client, each calling the design directly and blocking
//! until the call returns — how a thread-per-request server or a test harness would call it.
//!
//! Threads are spawned and build their records (histograms allocated) before a start barrier;
//! the clock of the run starts when the last one is ready, so thread start-up is never timed.
//! The measured loop is the same code for every design and for the no-op target the harness
//! measures its own cost with ([`Noop`]): only the target of one dynamic call differs.

use std::hint::black_box;
use std::sync::mpsc;
use std::sync::{Arc, Barrier, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use procman_core::{ProcessManager, ProcessSpec};

use super::client::{ClientPlan, ClientRecord, ClientState, Timeline, stream_target};
use super::join::{Ask, Ended, JoinFailure, collect_records, panic_message};
use crate::call::{Call, Outcome, Workload, call_blocking};
use crate::measure::alloc;
use crate::measure::sched::ContextSwitches;
use crate::measure::timer::Clock;
use crate::measure::watchdog::{InFlight, InFlightSlot};
use crate::schedule::OpenSchedule;

/// Something a thread client can call.
pub trait BlockingTarget: Send + Sync {
    /// Makes `call` and returns when it is done; a `scripts_run` takes its spec from `staged`.
    fn call(&self, w: &Workload, call: Call, staged: &mut Option<ProcessSpec>) -> Outcome;
}

/// A design, called directly.
#[derive(Clone)]
pub struct Direct(pub Arc<dyn ProcessManager>);

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Direct({})", self.0.design())
    }
}

impl BlockingTarget for Direct {
    fn call(&self, w: &Workload, call: Call, staged: &mut Option<ProcessSpec>) -> Outcome {
        call_blocking(&*self.0, w, call, staged)
    }
}

/// A target that does nothing: what is left of a loop iteration is the harness's own cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Noop;

impl BlockingTarget for Noop {
    #[inline(never)]
    fn call(&self, _w: &Workload, call: Call, staged: &mut Option<ProcessSpec>) -> Outcome {
        black_box((call, staged.is_some()));
        Outcome::OK
    }
}

/// The measured loop of one client: warm-up (unrecorded) until the timeline's measure start,
/// then the timed region until its end. Returns the number of ops made (warm-up included).
/// The client's context switches over the timed region go into its record.
pub fn client_loop(
    state: &mut ClientState,
    target: &dyn BlockingTarget,
    clock: &Clock,
    timeline: &Timeline,
    slot: &InFlightSlot,
) -> u64 {
    state.start(clock, timeline);
    let (start, end) = (timeline.measure_start, timeline.measure_end);
    match state.schedule.take() {
        None => {
            let mut made = closed_phase::<false>(state, target, clock, start, slot);
            let s0 = ContextSwitches::of_this_thread();
            made += closed_phase::<true>(state, target, clock, end, slot);
            state.record.switches = switches_since(s0);
            made
        }
        Some(mut schedule) => {
            let mut made = open_phase::<false>(state, &mut schedule, target, clock, start, slot);
            let s0 = ContextSwitches::of_this_thread();
            made += open_phase::<true>(state, &mut schedule, target, clock, end, slot);
            state.record.switches = switches_since(s0);
            state.record.due = schedule.due_between(start, end);
            state.record.due_not_sent = schedule.unsent_before(end);
            state.schedule = Some(schedule);
            made
        }
    }
}

fn switches_since(s0: Option<ContextSwitches>) -> Option<ContextSwitches> {
    Some(ContextSwitches::of_this_thread()?.since(s0?))
}

/// Closed loop until an op returns at or after tick `until`; records when `RECORD`.
fn closed_phase<const RECORD: bool>(
    state: &mut ClientState,
    target: &dyn BlockingTarget,
    clock: &Clock,
    until: u64,
    slot: &InFlightSlot,
) -> u64 {
    if clock.now() >= until {
        return 0;
    }
    let workload = state.workload.clone();
    let mut made = 0;
    loop {
        let call = state.next_call();
        let op = call.op();
        let proc = stream_target(&call);
        let a0 = alloc::thread_counts();
        let t0 = clock.now();
        slot.begin(op, t0);
        let outcome = target.call(&workload, call, &mut state.staged);
        let t1 = clock.now();
        slot.end();
        let allocs = alloc::thread_counts().since(a0);
        made += 1;
        if RECORD {
            state.record(clock, op, t1.saturating_sub(t0), t1, allocs, &outcome);
        }
        state.absorb(proc, &outcome);
        if t1 >= until {
            return made;
        }
    }
}

/// Open loop over the ops due before tick `until` (stopping early if an op returns after
/// it); records when `RECORD`, latency counted from each op's due time.
fn open_phase<const RECORD: bool>(
    state: &mut ClientState,
    schedule: &mut OpenSchedule,
    target: &dyn BlockingTarget,
    clock: &Clock,
    until: u64,
    slot: &InFlightSlot,
) -> u64 {
    let workload = state.workload.clone();
    let mut made = 0;
    loop {
        let due = schedule.next_due();
        if due >= until {
            return made;
        }
        clock.wait_until(due);
        let call = state.next_call();
        let op = call.op();
        let proc = stream_target(&call);
        let a0 = alloc::thread_counts();
        let sent = clock.now();
        slot.begin(op, sent);
        let outcome = target.call(&workload, call, &mut state.staged);
        let t1 = clock.now();
        slot.end();
        let allocs = alloc::thread_counts().since(a0);
        schedule.advance();
        made += 1;
        if RECORD {
            state.record(clock, op, t1.saturating_sub(due), t1, allocs, &outcome);
            if let Some(lag) = state.record.send_lag.as_mut() {
                lag.record(clock.to_ns(sent.saturating_sub(due)));
            }
        }
        state.absorb(proc, &outcome);
        if t1 >= until && RECORD {
            return made;
        }
    }
}

/// The running clients of one run.
#[derive(Debug)]
pub struct ThreadClients {
    /// When the run's phases begin and end.
    pub timeline: Timeline,
    rx: mpsc::Receiver<(usize, ClientRecord)>,
    handles: Vec<Option<JoinHandle<()>>>,
}

/// Spawns one thread per plan, waits until all are ready, starts the clock and returns.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
pub fn start(
    plans: Vec<ClientPlan>,
    workload: Arc<Workload>,
    target: Arc<dyn BlockingTarget>,
    clock: Clock,
    stall_ticks: u64,
    slots: Arc<InFlight>,
    warmup: Duration,
    duration: Duration,
) -> std::io::Result<ThreadClients> {
    let n = plans.len();
    let barrier = Arc::new(Barrier::new(n + 1));
    let timeline = Arc::new(OnceLock::<Timeline>::new());
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::with_capacity(n);
    for (i, plan) in plans.into_iter().enumerate() {
        let (barrier, timeline, tx) = (barrier.clone(), timeline.clone(), tx.clone());
        let (workload, target, slots) = (workload.clone(), target.clone(), slots.clone());
        let handle = std::thread::Builder::new()
            .name(format!("client-{}", plan.label))
            .spawn(move || {
                let mut state = ClientState::new(plan, workload, stall_ticks);
                barrier.wait();
                let timeline = *timeline.get().expect("set before the barrier opens");
                client_loop(&mut state, &*target, &clock, &timeline, slots.slot(i));
                let _ = tx.send((i, state.record));
            });
        match handle {
            Ok(h) => handles.push(Some(h)),
            // The threads already spawned stay parked at the barrier; the caller reports the
            // error and gives up on this run.
            Err(e) => return Err(e),
        }
    }
    let tl = Timeline::from_now(&clock, warmup, duration);
    timeline.set(tl).expect("set once");
    barrier.wait();
    Ok(ThreadClients {
        timeline: tl,
        rx,
        handles,
    })
}

impl ThreadClients {
    /// Waits until `deadline` for every client's record. Returns the records in client order,
    /// or which clients did not deliver one (their threads, if stuck, are left running).
    pub fn join(mut self, deadline: Instant) -> Result<Vec<ClientRecord>, JoinFailure> {
        let handles = &mut self.handles;
        collect_records(&self.rx, handles.len(), deadline, |ask| match ask {
            Ask::Delivered(i) => {
                if let Some(h) = handles[i].take() {
                    let _ = h.join();
                }
                Ended::Running
            }
            Ask::Check(i) => match handles[i].take_if(|h| h.is_finished()) {
                None => Ended::Running,
                // A record sent just before the thread ended is still in the channel; only a
                // thread whose join is an error panicked.
                Some(h) => match h.join() {
                    Ok(()) => Ended::Normally,
                    Err(payload) => Ended::Panicked(panic_message(&*payload)),
                },
            },
        })
    }
}
