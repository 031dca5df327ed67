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
//!
//! The appender also stores the pair into its name's [`LogMirror`], which belongs to the entry
//! rather than the run, so that a `status` read through the entry's seqlocked view
//! ([`procman_core::seqview`]) reaches the counters without loading the run. Each mirror word
//! carries a tag, the low 24 bits of the generation whose counts it holds, beside a 40-bit count:
//!
//! - the first publish that sees a new run resets both words to the new tag and the run's counts,
//!   under the view's writer bit;
//! - an appender updates a word by compare-and-swap only while the word carries its own run's
//!   tag, so an append of a replaced run that races the reset fails its CAS and stops;
//! - a reader accepts the words only if both tags match the generation it read from the view,
//!   in the same seqlock window; anything else sends it to the slow path.
//!
//! A count past 2^40 - 1 (a trillion lines) sets a tag no generation has, so readers of that run
//! take the slow path from then on.

use procman_core::sync::atomic::{AtomicU64, Ordering};
use procman_core::sync::{Arc, Mutex};
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
    /// The name's counters, which this run's appends keep equal to its own while it is current.
    mirror: Arc<LogMirror>,
    /// The run's generation (the mirror's tag for it).
    generation: u64,
}

/// The log counters of a name's current run, kept by the entry (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct LogMirror {
    /// Tag and `lines`.
    lines: AtomicU64,
    /// Tag and `dropped`.
    dropped: AtomicU64,
}

/// Bits of a mirror word that hold the count.
const COUNT_BITS: u32 = 40;
/// The count's mask.
const COUNT: u64 = (1 << COUNT_BITS) - 1;
/// The tag no generation has: a count overflowed.
const OVERFLOWED: u64 = 1 << 24;

/// The tag of `generation`.
#[inline]
fn tag(generation: u64) -> u64 {
    generation & 0xff_ffff
}

impl LogMirror {
    /// Starts the words over for the run `generation` with its `counters` (under the view's
    /// writer bit, so no reader sees the reset half done).
    pub(crate) fn reset(&self, generation: u64, counters: LogCounters) {
        self.lines
            .store(pack(tag(generation), counters.lines), Ordering::Release);
        self.dropped
            .store(pack(tag(generation), counters.dropped), Ordering::Release);
    }

    /// Stores the run `generation`'s counters, unless the words belong to another run by now:
    /// `lines` first, as [`RunLog`] does.
    fn store(&self, generation: u64, counters: LogCounters) {
        let tag = tag(generation);
        if advance(&self.lines, tag, counters.lines) {
            advance(&self.dropped, tag, counters.dropped);
        }
    }

    /// The counters of the run `generation`, or `None` if the words hold another run's (`dropped`
    /// loaded first).
    #[inline]
    pub(crate) fn counters(&self, generation: u64) -> Option<LogCounters> {
        let dropped = self.dropped.load(Ordering::Acquire);
        let lines = self.lines.load(Ordering::Acquire);
        let tag = tag(generation) << COUNT_BITS;
        (lines & !COUNT == tag && dropped & !COUNT == tag).then_some(LogCounters {
            lines: lines & COUNT,
            dropped: dropped & COUNT,
        })
    }
}

/// A mirror word: `tag` above the count, or the overflow tag.
fn pack(tag: u64, count: u64) -> u64 {
    if count > COUNT {
        OVERFLOWED << COUNT_BITS
    } else {
        (tag << COUNT_BITS) | count
    }
}

/// Moves `word` to `count` while it carries `tag`; false once it carries another.
fn advance(word: &AtomicU64, tag: u64, count: u64) -> bool {
    let mut current = word.load(Ordering::Relaxed);
    loop {
        if current >> COUNT_BITS != tag {
            return false;
        }
        match word.compare_exchange_weak(
            current,
            pack(tag, count),
            Ordering::Release,
            Ordering::Relaxed,
        ) {
            Ok(_) => return true,
            Err(found) => current = found,
        }
    }
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
    pub(crate) fn new(config: LogRingConfig, mirror: Arc<LogMirror>, generation: u64) -> Self {
        RunLog {
            ring: Mutex::new(RingSlot {
                ring: LogRing::new(config),
                closed: false,
            }),
            lines: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            mirror,
            generation,
        }
    }

    /// Appends a line unless the run has ended.
    pub(crate) fn push(&self, line: OutputLine) {
        let mut slot = self.ring.lock();
        if slot.closed {
            return;
        }
        slot.ring.push(line);
        let counters = LogCounters {
            lines: slot.ring.total(),
            dropped: slot.ring.dropped(),
        };
        self.lines.store(counters.lines, Ordering::Release);
        self.dropped.store(counters.dropped, Ordering::Release);
        self.mirror.store(self.generation, counters);
    }

    /// Refuses all later output (the run has exited).
    /// The name's counters this log mirrors into.
    pub(crate) fn mirror(&self) -> &Arc<LogMirror> {
        &self.mirror
    }

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
    fn an_append_of_a_replaced_run_leaves_the_mirror_alone() {
        let mirror = Arc::new(LogMirror::default());
        mirror.reset(1, LogCounters::default());
        let old = RunLog::new(LogRingConfig::default(), mirror.clone(), 1);
        old.push(OutputLine::new(Stream::Stdout, "old"));
        // Run 2 replaces run 1; run 1's late line must not count for run 2.
        mirror.reset(2, LogCounters::default());
        old.push(OutputLine::new(Stream::Stdout, "late"));
        assert_eq!(mirror.counters(2), Some(LogCounters::default()));
        let new = RunLog::new(LogRingConfig::default(), mirror.clone(), 2);
        new.push(OutputLine::new(Stream::Stdout, "new"));
        assert_eq!(mirror.counters(2).map(|c| c.lines), Some(1));
    }

    #[test]
    fn an_overflowed_count_sends_readers_to_the_slow_path() {
        let mirror = LogMirror::default();
        mirror.reset(
            3,
            LogCounters {
                lines: COUNT + 1,
                dropped: 0,
            },
        );
        assert_eq!(mirror.counters(3), None);
        mirror.store(
            3,
            LogCounters {
                lines: 1,
                dropped: 0,
            },
        );
        assert_eq!(
            mirror.counters(3),
            None,
            "an overflowed word stays overflowed"
        );
    }

    #[test]
    fn counters_mirror_the_ring_and_close_stops_appends() {
        let mirror = Arc::new(LogMirror::default());
        mirror.reset(7, LogCounters::default());
        let log = RunLog::new(
            LogRingConfig {
                max_lines: 2,
                ..LogRingConfig::default()
            },
            mirror.clone(),
            7,
        );
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
        assert_eq!(mirror.counters(7), Some(log.counters()));
        assert_eq!(mirror.counters(8), None, "the words are run 7's");
        log.close();
        log.push(OutputLine::new(Stream::Stdout, "late"));
        assert_eq!(log.counters().lines, 3);
        let chunk = log.tail(0, 10);
        assert_eq!(chunk.missed, 1);
        assert_eq!(chunk.lines.len(), 2);
    }
}
