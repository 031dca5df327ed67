//! [`RunLog`]: one run's [`LogRing`] behind a short mutex, with its counters mirrored in atomics.
//!
//! Appends must be cheap and ordered, and a `VecDeque` of lines has no useful lock-free form, so
//! the ring sits behind the facade's `Mutex`; it is held only for one push or one page copy, never
//! across I/O. Snapshots need just the two counters, so the appender mirrors them into atomics and
//! `status` reads them without touching the lock.
//!
//! The pair is published so that a reader never sees more lines dropped than appended: the
//! appender stores `lines` before `dropped` (both `Release`) and readers load `dropped` before
//! `lines` (both `Acquire`), so the `lines` a reader sees is at least the one stored alongside
//! the `dropped` it saw.

use procman_core::sync::Mutex;
use procman_core::sync::atomic::{AtomicU64, Ordering};
use procman_core::{
    LogChunk, LogCounters, LogLine, LogMatcher, LogRing, LogRingConfig, OutputLine,
};

/// One run's log.
#[derive(Debug)]
pub(crate) struct RunLog {
    /// The ring, and whether the run has ended (later output is ignored).
    ring: Mutex<RingSlot>,
    /// Mirror of [`LogRing::total`].
    lines: AtomicU64,
    /// Mirror of [`LogRing::dropped`].
    dropped: AtomicU64,
}

/// What the log mutex guards.
#[derive(Debug)]
struct RingSlot {
    /// The lines.
    ring: LogRing,
    /// Set at the run's exit: the launcher promised no output after it, so any is ignored.
    closed: bool,
}

impl RunLog {
    /// An empty log with these bounds.
    pub(crate) fn new(config: LogRingConfig) -> Self {
        RunLog {
            ring: Mutex::new(RingSlot {
                ring: LogRing::new(config),
                closed: false,
            }),
            lines: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Appends a line unless the run has ended.
    pub(crate) fn push(&self, line: OutputLine) {
        let mut slot = self.ring.lock();
        if slot.closed {
            return;
        }
        slot.ring.push(line);
        self.lines.store(slot.ring.total(), Ordering::Release);
        self.dropped.store(slot.ring.dropped(), Ordering::Release);
    }

    /// Refuses all later output (the run has exited).
    pub(crate) fn close(&self) {
        self.ring.lock().closed = true;
    }

    /// The counters, without the lock (see the module docs for the ordering).
    #[inline]
    pub(crate) fn counters(&self) -> LogCounters {
        let dropped = self.dropped.load(Ordering::Acquire);
        let lines = self.lines.load(Ordering::Acquire);
        LogCounters { lines, dropped }
    }

    /// Holds the ring's mutex until the returned guard is dropped, so a unit test can stall
    /// the exit event of this run between its terminal compare-and-swap and opening the end
    /// latch (the event closes the log in between).
    #[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
    pub(crate) fn hold(&self) -> impl Sized + '_ {
        self.ring.lock()
    }

    /// Up to `limit` lines from `cursor` on.
    pub(crate) fn tail(&self, cursor: u64, limit: usize) -> LogChunk {
        self.ring.lock().ring.tail(cursor, limit)
    }

    /// The newest `limit` lines matching `matcher`, oldest first.
    pub(crate) fn search(&self, matcher: &LogMatcher, limit: usize) -> Vec<LogLine> {
        self.ring.lock().ring.search(matcher, limit)
    }
}

#[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
mod tests {
    use procman_core::Stream;

    use super::*;

    #[test]
    fn counters_mirror_the_ring_and_close_stops_appends() {
        let log = RunLog::new(LogRingConfig {
            max_lines: 2,
            ..LogRingConfig::default()
        });
        for i in 0..3 {
            log.push(OutputLine::new(Stream::Stdout, format!("l{i}")));
        }
        assert_eq!(
            log.counters(),
            LogCounters {
                lines: 3,
                dropped: 1
            }
        );
        log.close();
        log.push(OutputLine::new(Stream::Stdout, "late"));
        assert_eq!(log.counters().lines, 3);
        let chunk = log.tail(0, 10);
        assert_eq!(chunk.missed, 1);
        assert_eq!(chunk.lines.len(), 2);
    }
}
