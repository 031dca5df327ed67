//! Context switches of a client thread over the timed region, from `getrusage(RUSAGE_THREAD)`:
//!
//! - **voluntary**: the thread blocked (a futex wait on a contended lock, a wait for an actor's
//!   reply, a sleep) — how often the *design* made the caller wait;
//! - **involuntary**: the scheduler took the CPU away (more runnable threads than cores) — a
//!   stall seen while these are high can be the machine's doing rather than the design's.
//!
//! Read twice per client per run (never per op), so it costs nothing in the measured loop.

use serde::{Deserialize, Serialize};

/// Context switches of one thread (or summed over several).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextSwitches {
    /// The thread gave up the CPU (blocked or slept).
    pub voluntary: u64,
    /// The scheduler preempted the thread.
    pub involuntary: u64,
}

impl ContextSwitches {
    /// The calling thread's switches so far (`None` where the OS will not say).
    pub fn of_this_thread() -> Option<ContextSwitches> {
        // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `getrusage` writes one `rusage` through the valid, exclusive pointer given.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
        (rc == 0).then_some(ContextSwitches {
            voluntary: usage.ru_nvcsw as u64,
            involuntary: usage.ru_nivcsw as u64,
        })
    }

    /// `self - earlier`.
    pub fn since(self, earlier: ContextSwitches) -> ContextSwitches {
        ContextSwitches {
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }

    /// Adds `other` in place.
    pub fn add(&mut self, other: ContextSwitches) {
        self.voluntary += other.voluntary;
        self.involuntary += other.involuntary;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeping_is_a_voluntary_switch() {
        let before = ContextSwitches::of_this_thread().expect("Linux reports thread rusage");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let after = ContextSwitches::of_this_thread().unwrap().since(before);
        assert!(after.voluntary >= 1, "{after:?}");
        let mut sum = after;
        sum.add(after);
        assert_eq!(sum.voluntary, 2 * after.voluntary);
    }
}
