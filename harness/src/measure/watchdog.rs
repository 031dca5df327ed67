//! The lockup detector. Each client publishes the op it is in and when it began in its own
//! cache-padded [`InFlightSlot`]; a [`Watchdog`] thread looks at every slot every 2 ms and
//! notes ops that have been in flight longer than the stall bound — including ops that never
//! return, which a histogram (filled only when an op completes) can never show.
//!
//! Completed slow ops are counted exactly by the clients themselves (`stalls` per op); the
//! watchdog adds what is still in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::timer::Clock;
use crate::mix::Op;

/// How often the watchdog looks.
pub const WATCHDOG_PERIOD: Duration = Duration::from_millis(2);
/// An op in flight for this long is reported by name as a suspected lockup.
pub const LOCKUP_AFTER: Duration = Duration::from_secs(1);

/// One client's published state: the op in flight and its start tick (0 when idle).
#[derive(Debug)]
#[repr(align(128))]
pub struct InFlightSlot {
    /// Start tick of the op in flight; 0 when none.
    started: AtomicU64,
    /// [`Op::index`] of the op in flight.
    op: AtomicU8,
}

impl InFlightSlot {
    fn new() -> Self {
        InFlightSlot {
            started: AtomicU64::new(0),
            op: AtomicU8::new(0),
        }
    }

    /// The client is about to call `op`, at tick `now` (never 0).
    #[inline(always)]
    pub fn begin(&self, op: Op, now: u64) {
        self.op.store(op.index() as u8, Ordering::Relaxed);
        self.started.store(now.max(1), Ordering::Release);
    }

    /// The op returned.
    #[inline(always)]
    pub fn end(&self) {
        self.started.store(0, Ordering::Relaxed);
    }
}

/// The slots of every client of a run, and who each client is.
#[derive(Debug)]
pub struct InFlight {
    /// One per client.
    slots: Box<[InFlightSlot]>,
    /// `group/client-index` labels, for reports.
    labels: Vec<String>,
}

impl InFlight {
    /// Slots for clients labelled `labels`.
    pub fn new(labels: Vec<String>) -> Self {
        InFlight {
            slots: labels.iter().map(|_| InFlightSlot::new()).collect(),
            labels,
        }
    }

    /// Client `i`'s slot.
    pub fn slot(&self, i: usize) -> &InFlightSlot {
        &self.slots[i]
    }

    /// Ops in flight for longer than `bound_ticks` at tick `now`: `(label, op, age in ticks)`.
    pub fn older_than(&self, clock: &Clock, bound_ticks: u64) -> Vec<(String, Op, u64)> {
        let now = clock.now();
        self.slots
            .iter()
            .zip(&self.labels)
            .filter_map(|(slot, label)| {
                let started = slot.started.load(Ordering::Acquire);
                let age = now.saturating_sub(started);
                (started != 0 && age > bound_ticks).then(|| {
                    let op = Op::ALL[usize::from(slot.op.load(Ordering::Relaxed)) % Op::COUNT];
                    (label.clone(), op, age)
                })
            })
            .collect()
    }
}

/// What the watchdog saw over a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WatchdogReport {
    /// The stall bound, nanoseconds.
    pub stall_bound_ns: u64,
    /// Ops seen in flight past the stall bound (each counted once; completed or not).
    pub in_flight_stalls: u64,
    /// The longest time any op was seen in flight, nanoseconds (to within the 2 ms period).
    pub longest_in_flight_ns: u64,
    /// Ops seen in flight for more than a second: `client: op for N ms`.
    pub suspected_lockups: Vec<String>,
    /// Ops still in flight when the run gave up waiting for its clients.
    pub stuck_at_end: Vec<String>,
}

/// A thread watching a run's [`InFlight`] slots until stopped.
#[derive(Debug)]
pub struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<WatchdogReport>,
}

impl Watchdog {
    /// Starts watching `slots` for ops older than `stall_bound`.
    pub fn start(clock: Clock, slots: Arc<InFlight>, stall_bound: Duration) -> Watchdog {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("harness-watchdog".into())
            .spawn(move || watch(&clock, &slots, stall_bound, &flag))
            .expect("the watchdog thread starts");
        Watchdog { stop, thread }
    }

    /// Stops watching and returns what was seen.
    pub fn finish(self) -> WatchdogReport {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the watchdog does not panic")
    }
}

fn watch(
    clock: &Clock,
    slots: &InFlight,
    stall_bound: Duration,
    stop: &AtomicBool,
) -> WatchdogReport {
    let mut scan = Scan::new(clock, slots.slots.len(), stall_bound);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(WATCHDOG_PERIOD);
        scan.look(clock, slots, clock.now());
    }
    scan.report
}

/// The watchdog's memory between looks.
struct Scan {
    bound: u64,
    lockup: u64,
    /// Per slot, the start tick of the op last counted as a stall / as a lockup, so that each
    /// op is counted once however many times it is seen.
    stalled: Vec<u64>,
    locked: Vec<u64>,
    report: WatchdogReport,
}

impl Scan {
    fn new(clock: &Clock, slots: usize, stall_bound: Duration) -> Scan {
        Scan {
            bound: clock.ticks_of(stall_bound),
            lockup: clock.ticks_of(LOCKUP_AFTER),
            stalled: vec![0; slots],
            locked: vec![0; slots],
            report: WatchdogReport {
                stall_bound_ns: stall_bound.as_nanos() as u64,
                ..WatchdogReport::default()
            },
        }
    }

    /// One look at every slot at tick `now`.
    fn look(&mut self, clock: &Clock, slots: &InFlight, now: u64) {
        for (i, slot) in slots.slots.iter().enumerate() {
            let started = slot.started.load(Ordering::Acquire);
            if started == 0 || started > now {
                continue;
            }
            let age = now - started;
            let report = &mut self.report;
            report.longest_in_flight_ns = report.longest_in_flight_ns.max(clock.to_ns(age));
            if age > self.bound && self.stalled[i] != started {
                self.stalled[i] = started;
                report.in_flight_stalls += 1;
            }
            if age > self.lockup && self.locked[i] != started {
                self.locked[i] = started;
                let op = Op::ALL[usize::from(slot.op.load(Ordering::Relaxed)) % Op::COUNT];
                report.suspected_lockups.push(format!(
                    "{}: {op} in flight for more than {} ms",
                    slots.labels[i],
                    LOCKUP_AFTER.as_millis()
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_slow_op_is_counted_once_and_idle_slots_never() {
        // Looks at made-up instants: no thread, no sleeping, nothing timing-dependent.
        let clock = Clock::monotonic();
        let ms = |n: u64| n * 1_000_000;
        let slots = InFlight::new(vec!["agents/0".into(), "agents/1".into()]);
        let mut scan = Scan::new(&clock, 2, Duration::from_millis(10));
        slots.slot(0).begin(Op::ScriptsStop, ms(100));
        scan.look(&clock, &slots, ms(105));
        assert_eq!(scan.report.in_flight_stalls, 0);
        scan.look(&clock, &slots, ms(120));
        scan.look(&clock, &slots, ms(130));
        assert_eq!(
            scan.report.in_flight_stalls, 1,
            "one op, seen twice, counted once"
        );
        assert_eq!(scan.report.longest_in_flight_ns, ms(30));
        scan.look(&clock, &slots, ms(1_200));
        assert_eq!(scan.report.suspected_lockups.len(), 1);
        assert!(scan.report.suspected_lockups[0].starts_with("agents/0: scripts_stop"));
        slots.slot(0).end();
        slots.slot(0).begin(Op::ScriptsStatus, ms(1_300));
        scan.look(&clock, &slots, ms(1_400));
        assert_eq!(scan.report.in_flight_stalls, 2, "a new op is a new stall");
        slots.slot(0).end();
        scan.look(&clock, &slots, ms(9_000));
        assert_eq!(scan.report.in_flight_stalls, 2);
    }

    #[test]
    fn older_than_names_the_client_and_op() {
        let clock = Clock::calibrate();
        let slots = InFlight::new(vec!["a/0".into(), "a/1".into()]);
        slots.slot(1).begin(Op::LogsSearch, 1);
        let stuck = slots.older_than(&clock, 0);
        assert_eq!(stuck.len(), 1);
        assert_eq!((stuck[0].0.as_str(), stuck[0].1), ("a/1", Op::LogsSearch));
        slots.slot(1).end();
        assert!(slots.older_than(&clock, 0).is_empty());
    }

    #[test]
    fn watchdog_thread_starts_and_stops() {
        let slots = Arc::new(InFlight::new(vec!["a/0".into()]));
        let dog = Watchdog::start(Clock::calibrate(), slots, Duration::from_millis(10));
        assert_eq!(dog.finish().stall_bound_ns, 10_000_000);
    }
}
