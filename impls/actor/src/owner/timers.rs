//! The owner's timers: a heap of deadlines the owner's receive loop sleeps towards.
//!
//! The owner never sleeps *for* a timer; it waits for its next message with the earliest
//! deadline as a timeout (Erlang's `receive ... after`), so a due timer never delays a request
//! and a request never delays a timer by more than the handling of one message.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::task::Waker;
use std::time::Instant;

use procman_core::ProcessId;

/// What a timer does when it fires.
pub(crate) enum TimerJob {
    /// The backoff of an automatic restart of this (ended) run is over.
    Restart(ProcessId),
    /// An async stop's escalation deadline: wake its task.
    Wake(Waker),
}

/// The pending timers.
#[derive(Default)]
pub(crate) struct Timers {
    /// Earliest first.
    heap: BinaryHeap<Reverse<Timer>>,
    /// Breaks ties in scheduling order.
    seq: u64,
}

struct Timer {
    at: Instant,
    seq: u64,
    job: TimerJob,
}

impl Timers {
    /// Runs `job` at `at`.
    pub(crate) fn schedule(&mut self, at: Instant, job: TimerJob) {
        self.seq += 1;
        self.heap.push(Reverse(Timer {
            at,
            seq: self.seq,
            job,
        }));
    }

    /// When the earliest timer is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(t)| t.at)
    }

    /// The earliest timer if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<TimerJob> {
        if self.next_due()? <= now {
            self.heap.pop().map(|Reverse(t)| t.job)
        } else {
            None
        }
    }
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timer {}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timer {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}
