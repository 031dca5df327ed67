//! [`SnapshotView`]: a seqlock over one [`ProcessSnapshot`] encoded in eight atomic words, so that
//! a reader copies a consistent snapshot with plain loads and writes nothing at all.
//!
//! The atomic design keeps each name's state in an immutable `RunState` behind an arc-swap cell
//! (the writers' compare-and-swap protocol). Reading that cell is lock-free but not free: arc-swap
//! stores the pointer into a per-thread debt slot, confirms it with a reload and pays the slot
//! back when the guard drops — about 75 instructions, a `SeqCst` swap among them. This view is a
//! second, read-only copy of the snapshot that writers publish after each compare-and-swap:
//!
//! - **Readers** ([`SnapshotView::read`]) load the sequence (`Acquire`), the eight words
//!   (`Acquire` each) and whatever the caller reads beside them (the log counters), then the
//!   sequence again; equal and even means no publish overlapped, so the words are one publish's.
//!   Every load is a plain `mov` on x86-64 and nothing is written, so readers of one name share the
//!   view's cache lines in the shared state. A reader never waits: after [`READ_TRIES`] overlapped
//!   attempts it returns `None` and the caller falls back to the arc-swap cell. A `Failed` status
//!   also returns `None`: its reason is an interned string, kept out of the words.
//! - **Writers** ([`SnapshotView::begin_write`]) take the writer bit (the sequence made odd by a
//!   compare-and-swap; concurrent writers spin, then yield), store the words (`Release` each),
//!   and release with the next even sequence (`Release`). The critical section is eight stores.
//!
//! Why the loads and stores are `Acquire`/`Release` rather than `Relaxed` plus fences: if a reader's
//! word load reads a writer's store, that store's `Release` makes the writer's odd sequence visible
//! to the reader's later sequence load, which therefore differs from the first. That is the whole
//! correctness argument, and loom checks it in exactly this form (`procman-races`'
//! `seqview_publish_races_read`, with the seeded bug `seeded-bug-seqview-no-recheck`). On x86-64
//! every one of these orderings compiles to a plain `mov`.
//!
//! *What* a writer publishes is the caller's rule; the atomic design publishes the cell's current
//! state under the writer bit, never the state it installed itself, so two publishes cannot land in
//! the wrong order (see `procman-atomic`'s `entry.rs`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::id::ProcessId;
use crate::name::Name;
use crate::signal::Signal;
use crate::snapshot::{ExitInfo, LogCounters, ProcessSnapshot};
use crate::status::Status;
use crate::sync::atomic::{AtomicU64, Ordering};

/// Attempts a reader makes before it gives up and the caller takes its slow path.
pub const READ_TRIES: usize = 3;

/// Words a snapshot (without its name and log counters) is encoded in, plus the version word.
const WORDS: usize = 9;
/// The word holding the writer's version of what it published.
const VERSION: usize = 8;

/// Status tags in word 1, bits 0..8.
mod tag {
    pub const PENDING: u64 = 0;
    pub const STARTING: u64 = 1;
    pub const RUNNING: u64 = 2;
    pub const STOPPING: u64 = 3;
    pub const STOPPED: u64 = 4;
    pub const EXITED: u64 = 5;
    pub const KILLED: u64 = 6;
    pub const FAILED: u64 = 7;
}
/// Word 1, bit 8: a pid is present (word 2, bits 0..32).
const PID_PRESENT: u64 = 1 << 8;
/// Word 3, bits 32..34: exit info absent, a code or a signal (the value in bits 0..32).
const EXIT_CODE: u64 = 1 << 32;
const EXIT_SIGNAL: u64 = 2 << 32;
/// Time words (nanoseconds word): present, and before the epoch.
const TIME_PRESENT: u64 = 1 << 32;
const TIME_BEFORE_EPOCH: u64 = 1 << 33;

/// A seqlocked copy of one run's snapshot (see the module docs).
#[derive(Debug)]
pub struct SnapshotView {
    /// Even: stable; odd: a writer holds the view.
    seq: AtomicU64,
    /// The encoded snapshot.
    words: [AtomicU64; WORDS],
}

/// The writer bit, held: [`ViewWriter::write`] stores a snapshot; dropping it releases the view.
#[derive(Debug)]
#[must_use = "the view stays locked for writers until the guard is dropped"]
pub struct ViewWriter<'a> {
    view: &'a SnapshotView,
    /// The odd sequence this writer installed.
    odd: u64,
}

impl SnapshotView {
    /// A view holding `snapshot` at `version`, already published.
    pub fn new(snapshot: &ProcessSnapshot, version: u64) -> Self {
        let encoded = encode(snapshot, version);
        SnapshotView {
            seq: AtomicU64::new(2),
            words: encoded.map(AtomicU64::new),
        }
    }

    /// Takes the writer bit: spins (then yields) while another writer holds it.
    pub fn begin_write(&self) -> ViewWriter<'_> {
        let mut spins = 0u32;
        loop {
            let seq = self.seq.load(Ordering::Relaxed);
            if seq & 1 == 0
                && self
                    .seq
                    .compare_exchange_weak(seq, seq + 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return ViewWriter {
                    view: self,
                    odd: seq + 1,
                };
            }
            // A holder is between its first and its eighth store; a spin or two covers it
            // unless it was preempted, and then the core is better given away.
            spins += 1;
            if spins < 64 && !cfg!(any(feature = "loom", feature = "shuttle")) {
                std::hint::spin_loop();
            } else {
                crate::sync::thread::yield_now();
            }
        }
    }

    /// The generation of the published snapshot (for a writer, under the writer bit).
    pub fn generation(&self) -> u64 {
        self.words[0].load(Ordering::Relaxed)
    }

    /// The version the last writer stored: the caller's numbering of what it publishes, so that
    /// a writer can tell whether the view already holds a state it has seen. Read without the
    /// writer bit it may be a publish still in progress (readers of that one retry).
    pub fn version(&self) -> u64 {
        self.words[VERSION].load(Ordering::Acquire)
    }

    /// A consistent copy of the published snapshot under `name`, with the log counters `logs`
    /// reads inside the same window for the generation it is given (`None` from `logs` counts as
    /// an overlap), or `None` when [`READ_TRIES`] attempts each overlapped a publish, or when the
    /// status is `Failed` (its reason is not in the words). Writes nothing.
    #[inline]
    pub fn read(
        &self,
        name: Name,
        logs: impl Fn(u64) -> Option<LogCounters>,
    ) -> Option<ProcessSnapshot> {
        for _ in 0..READ_TRIES {
            let before = self.seq.load(Ordering::Acquire);
            let words: [u64; WORDS] =
                std::array::from_fn(|i| self.words[i].load(Ordering::Acquire));
            let logs = logs(words[0]);
            // SEEDED BUG `seeded-bug-seqview-no-recheck` (procman-races catalogue): the words are
            // used without checking that no publish overlapped them, so a read can mix two
            // snapshots.
            #[cfg(feature = "seeded-bug-seqview-no-recheck")]
            let overlapped = {
                let _ = before;
                logs.is_none()
            };
            #[cfg(not(feature = "seeded-bug-seqview-no-recheck"))]
            let overlapped =
                logs.is_none() || before & 1 == 1 || self.seq.load(Ordering::Relaxed) != before;
            if let (false, Some(logs)) = (overlapped, logs) {
                return decode(&words, name, logs);
            }
            #[cfg(not(any(feature = "loom", feature = "shuttle")))]
            std::hint::spin_loop();
            #[cfg(any(feature = "loom", feature = "shuttle"))]
            crate::sync::thread::yield_now();
        }
        None
    }
}

impl ViewWriter<'_> {
    /// Stores `snapshot` at `version` (its name and log counters are not part of the view).
    pub fn write(&self, snapshot: &ProcessSnapshot, version: u64) {
        for (word, value) in self.view.words.iter().zip(encode(snapshot, version)) {
            word.store(value, Ordering::Release);
        }
    }
}

impl ViewWriter<'_> {
    /// Releases the writer bit without having stored anything: the sequence goes back to the
    /// even value it had, so readers that overlapped keep what they read (the words are
    /// unchanged).
    pub fn abandon(self) {
        self.view.seq.store(self.odd - 1, Ordering::Release);
        std::mem::forget(self);
    }
}

impl Drop for ViewWriter<'_> {
    fn drop(&mut self) {
        self.view.seq.store(self.odd + 1, Ordering::Release);
    }
}

/// A time as (seconds, nanoseconds word).
fn encode_time(time: Option<SystemTime>) -> (u64, u64) {
    match time {
        None => (0, 0),
        Some(t) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs(), u64::from(d.subsec_nanos()) | TIME_PRESENT),
            Err(before) => {
                let d = before.duration();
                (
                    d.as_secs(),
                    u64::from(d.subsec_nanos()) | TIME_PRESENT | TIME_BEFORE_EPOCH,
                )
            }
        },
    }
}

fn decode_time(secs: u64, nanos: u64) -> Option<SystemTime> {
    if nanos & TIME_PRESENT == 0 {
        return None;
    }
    let d = Duration::new(secs, (nanos & 0xffff_ffff) as u32);
    Some(if nanos & TIME_BEFORE_EPOCH == 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    })
}

/// The words of `s`: generation; status tag, pid flag and payload; pid and restarts; exit info;
/// started_at; ended_at; then `version`.
fn encode(s: &ProcessSnapshot, version: u64) -> [u64; WORDS] {
    let (tag, payload) = match s.status {
        Status::Pending => (tag::PENDING, 0),
        Status::Starting => (tag::STARTING, 0),
        Status::Running => (tag::RUNNING, 0),
        Status::Stopping => (tag::STOPPING, 0),
        Status::Stopped => (tag::STOPPED, 0),
        Status::Exited(code) => (tag::EXITED, code as u32),
        Status::Killed(signal) => (tag::KILLED, signal.0 as u32),
        Status::Failed(_) => (tag::FAILED, 0),
    };
    let pid_flag = if s.pid.is_some() { PID_PRESENT } else { 0 };
    let exit = match s.exit {
        None => 0,
        Some(ExitInfo::Code(code)) => EXIT_CODE | u64::from(code as u32),
        Some(ExitInfo::Signal(signal)) => EXIT_SIGNAL | u64::from(signal.0 as u32),
    };
    let (started_secs, started_nanos) = encode_time(s.started_at);
    let (ended_secs, ended_nanos) = encode_time(s.ended_at);
    [
        s.id.generation,
        tag | pid_flag | (u64::from(payload) << 32),
        u64::from(s.pid.unwrap_or(0)) | (u64::from(s.restarts) << 32),
        exit,
        started_secs,
        started_nanos,
        ended_secs,
        ended_nanos,
        version,
    ]
}

/// The snapshot `words` encode, or `None` for `Failed` (see [`SnapshotView::read`]).
#[inline]
fn decode(words: &[u64; WORDS], name: Name, logs: LogCounters) -> Option<ProcessSnapshot> {
    let payload = (words[1] >> 32) as u32 as i32;
    let status = match words[1] & 0xff {
        tag::PENDING => Status::Pending,
        tag::STARTING => Status::Starting,
        tag::RUNNING => Status::Running,
        tag::STOPPING => Status::Stopping,
        tag::STOPPED => Status::Stopped,
        tag::EXITED => Status::Exited(payload),
        tag::KILLED => Status::Killed(Signal(payload)),
        _ => return None,
    };
    let exit_value = (words[3] & 0xffff_ffff) as u32 as i32;
    let exit = match words[3] & (3 << 32) {
        EXIT_CODE => Some(ExitInfo::Code(exit_value)),
        EXIT_SIGNAL => Some(ExitInfo::Signal(Signal(exit_value))),
        _ => None,
    };
    Some(ProcessSnapshot {
        id: ProcessId {
            name,
            generation: words[0],
        },
        status,
        pid: (words[1] & PID_PRESENT != 0).then_some(words[2] as u32),
        started_at: decode_time(words[4], words[5]),
        ended_at: decode_time(words[6], words[7]),
        exit,
        restarts: (words[2] >> 32) as u32,
        logs,
    })
}

#[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
mod tests {
    use super::*;

    fn no_logs(_generation: u64) -> Option<LogCounters> {
        Some(LogCounters::default())
    }

    fn snapshots() -> Vec<ProcessSnapshot> {
        let id = ProcessId::new("web", 7);
        let t0 = UNIX_EPOCH + Duration::new(1_764_000_000, 123_456_789);
        let before_epoch = UNIX_EPOCH - Duration::new(5, 6);
        let mut out = vec![ProcessSnapshot::pending(id, 3)];
        let mut s = ProcessSnapshot::pending(id, u32::MAX);
        s.status = Status::Starting;
        s.started_at = Some(before_epoch);
        out.push(s);
        s.status = Status::Running;
        s.pid = Some(u32::MAX);
        s.started_at = Some(t0);
        out.push(s);
        s.status = Status::Stopping;
        s.pid = Some(0);
        out.push(s);
        for (status, exit) in [
            (Status::Stopped, ExitInfo::Signal(Signal::TERM)),
            (Status::Stopped, ExitInfo::Code(0)),
            (Status::Exited(-1), ExitInfo::Code(-1)),
            (Status::Exited(i32::MAX), ExitInfo::Code(i32::MAX)),
            (Status::Killed(Signal::KILL), ExitInfo::Signal(Signal::KILL)),
        ] {
            let mut e = s;
            e.status = status;
            e.exit = Some(exit);
            e.ended_at = Some(t0 + Duration::from_nanos(999_999_999));
            out.push(e);
        }
        out
    }

    #[test]
    fn every_status_but_failed_round_trips() {
        let logs = LogCounters {
            lines: 12,
            dropped: 4,
        };
        for s in snapshots() {
            let view = SnapshotView::new(&s, 1);
            let read = view
                .read(s.id.name, |_| Some(logs))
                .expect("no writer overlapped");
            assert_eq!(read, ProcessSnapshot { logs, ..s }, "{s:?}");
        }
    }

    #[test]
    fn a_failed_status_sends_the_reader_to_its_slow_path() {
        let mut s = ProcessSnapshot::pending(ProcessId::new("web", 1), 0);
        s.status = Status::Failed(Name::new("no such file"));
        s.ended_at = Some(SystemTime::now());
        let view = SnapshotView::new(&s, 1);
        assert_eq!(view.read(s.id.name, no_logs), None);
    }

    #[test]
    fn a_write_replaces_the_whole_view_and_a_held_writer_bit_turns_readers_away() {
        let all = snapshots();
        let view = SnapshotView::new(&all[0], 1);
        let name = all[0].id.name;
        let writer = view.begin_write();
        writer.write(&all[4], 2);
        // The bit is held: every attempt overlaps a publish, so the reader gives up.
        assert_eq!(view.read(name, no_logs), None);
        drop(writer);
        assert_eq!(view.read(name, no_logs), Some(all[4]));
        assert_eq!(view.generation(), 7);
        // Counters of another generation count as an overlap.
        assert_eq!(view.read(name, |_| None), None);
        // Writers follow one another: the bit is free again after the drop.
        view.begin_write().write(&all[2], 3);
        assert_eq!(view.version(), 3);
        // An abandoned write leaves the view, and the bit, as they were.
        view.begin_write().abandon();
        assert_eq!(view.read(name, no_logs), Some(all[2]));
        view.begin_write().write(&all[4], 4);
        assert_eq!(view.read(name, no_logs), Some(all[4]));
    }
}
