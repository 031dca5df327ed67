//! [`History`]: the last runs of each script, with their output and how they ended, kept after
//! a restart replaced them.
//!
//! The process manager keeps one run per name: once a run is restarted (by hand, or by
//! `restart = "on-failure"` in a crash loop), its log is gone, and with it the crash that
//! started the loop. procman keeps its own record of every run instead, fed by
//! [`HistoryLauncher`], a launcher that hands each run's output and exit to the manager *and*
//! to the history. No design of the manager changes.
//!
//! Bounds: the last `runs` runs per name (default 5), each with at most the manager's own log
//! bounds, and all of them together within `bytes` (default 16 MiB). When the total is over,
//! the oldest lines of the run that ended first go, down to [`TAIL_FLOOR`] lines per ended
//! run, then the oldest lines of live runs (whose output the manager also holds).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use procman_core::{
    Child, ChildEvents, ExitInfo, LaunchError, Launcher, LogChunk, LogLine, LogMatcher, Name,
    OutputLine, ProcessId, ProcessSpec,
};
use regex::Regex;

use crate::events::{Events, RunEvent, RunEventKind};

/// Lines kept of every ended run however tight the byte budget: enough for an error's tail.
pub const TAIL_FLOOR: usize = 200;

/// How much history to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryConfig {
    /// Runs kept per name, the current one included.
    pub runs: usize,
    /// Bytes of output kept over all runs of all names.
    pub bytes: usize,
    /// Lines kept per run (the manager's `log_lines`).
    pub lines_per_run: usize,
    /// Bytes kept per run (the manager's `log_bytes`).
    pub bytes_per_run: usize,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            runs: 5,
            bytes: 16 << 20,
            lines_per_run: 10_000,
            bytes_per_run: 4 << 20,
        }
    }
}

/// One run as the history keeps it.
#[derive(Debug)]
pub struct RunRecord {
    /// The run.
    pub id: ProcessId,
    /// Its leader's pid.
    pub pid: u32,
    /// When it was spawned.
    pub started_at: SystemTime,
    state: Mutex<RunState>,
}

#[derive(Debug, Default)]
struct RunState {
    lines: VecDeque<LogLine>,
    bytes: usize,
    next_seq: u64,
    exit: Option<ExitInfo>,
    ended_at: Option<SystemTime>,
    /// URLs printed by the run, first seen first, at most [`crate::diag::MAX_URLS`].
    urls: Vec<String>,
}

/// A run's end, as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunEnd {
    /// How it ended.
    pub exit: ExitInfo,
    /// When the launcher reported it.
    pub at: SystemTime,
}

impl RunRecord {
    fn lock(&self) -> MutexGuard<'_, RunState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How the run ended, once it has.
    pub fn end(&self) -> Option<RunEnd> {
        let s = self.lock();
        Some(RunEnd {
            exit: s.exit?,
            at: s.ended_at?,
        })
    }

    /// The URLs the run printed (a dev server's address), first seen first.
    pub fn urls(&self) -> Vec<String> {
        self.lock().urls.clone()
    }

    /// Lines output so far (the next sequence number).
    pub fn total(&self) -> u64 {
        self.lock().next_seq
    }

    /// Lines from `cursor` on, at most `limit`, that `keep` accepts; as [`LogChunk`] reports
    /// them (`missed`: lines between the cursor and the first kept line that are gone).
    pub fn tail(&self, cursor: u64, limit: usize, keep: impl Fn(&LogLine) -> bool) -> LogChunk {
        let s = self.lock();
        let first = s.lines.front().map_or(s.next_seq, |l| l.seq);
        let missed = first.saturating_sub(cursor);
        let mut lines = Vec::new();
        let mut next_cursor = cursor.max(first);
        for line in s.lines.iter().filter(|l| l.seq >= cursor) {
            if lines.len() == limit {
                break;
            }
            next_cursor = line.seq + 1;
            if keep(line) {
                lines.push(line.clone());
            }
        }
        if lines.len() < limit {
            next_cursor = s.next_seq.max(cursor);
        }
        LogChunk {
            lines,
            next_cursor,
            missed,
        }
    }

    /// The last `limit` lines that `keep` accepts, oldest first.
    pub fn last(&self, limit: usize, keep: impl Fn(&LogLine) -> bool) -> Vec<LogLine> {
        let s = self.lock();
        let mut out: Vec<LogLine> = s
            .lines
            .iter()
            .rev()
            .filter(|l| keep(l))
            .take(limit)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// Lines that match, newest `limit` kept, oldest first.
    pub fn search(
        &self,
        matcher: &LogMatcher,
        limit: usize,
        keep: impl Fn(&LogLine) -> bool,
    ) -> Vec<LogLine> {
        self.last(limit, |l| keep(l) && matcher.is_match(&l.text))
    }
}

/// The runs of every name, newest last.
#[derive(Debug, Default)]
pub struct History {
    config: HistoryConfig,
    runs: Mutex<BTreeMap<Name, VecDeque<Arc<RunRecord>>>>,
    bytes: std::sync::atomic::AtomicUsize,
}

impl History {
    /// An empty history with these bounds.
    pub fn new(config: HistoryConfig) -> Self {
        History {
            config,
            ..History::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Name, VecDeque<Arc<RunRecord>>>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The bounds.
    pub fn config(&self) -> HistoryConfig {
        self.config
    }

    /// The run `id`, if it is still kept.
    pub fn get(&self, id: &ProcessId) -> Option<Arc<RunRecord>> {
        self.lock()
            .get(&id.name)?
            .iter()
            .find(|r| r.id == *id)
            .cloned()
    }

    /// The kept runs of `name`, oldest first.
    pub fn runs(&self, name: &str) -> Vec<Arc<RunRecord>> {
        self.lock()
            .get(name)
            .map(|runs| runs.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Bytes of output kept now, over every run.
    pub fn bytes(&self) -> usize {
        self.bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn begin(&self, id: &ProcessId, pid: u32) -> Arc<RunRecord> {
        let record = Arc::new(RunRecord {
            id: *id,
            pid,
            started_at: SystemTime::now(),
            state: Mutex::new(RunState::default()),
        });
        let mut runs = self.lock();
        let list = runs.entry(id.name).or_default();
        list.push_back(Arc::clone(&record));
        while list.len() > self.config.runs.max(1) {
            if let Some(old) = list.pop_front() {
                let freed = old.lock().bytes;
                self.bytes
                    .fetch_sub(freed, std::sync::atomic::Ordering::Relaxed);
            }
        }
        record
    }

    fn push(&self, record: &RunRecord, line: OutputLine) {
        let len = line.text.len();
        let mut freed = 0;
        let urls = crate::diag::urls_in(&line.text);
        {
            let mut s = record.lock();
            for url in urls {
                if s.urls.len() < crate::diag::MAX_URLS && !s.urls.contains(&url) {
                    s.urls.push(url);
                }
            }
            while !s.lines.is_empty()
                && (s.lines.len() >= self.config.lines_per_run
                    || s.bytes + len > self.config.bytes_per_run)
            {
                if let Some(old) = s.lines.pop_front() {
                    s.bytes -= old.text.len();
                    freed += old.text.len();
                }
            }
            let seq = s.next_seq;
            s.next_seq += 1;
            s.bytes += len;
            s.lines.push_back(LogLine {
                seq,
                stream: line.stream,
                at: line.at,
                text: Arc::from(line.text),
                partial: line.partial,
                lossy: line.lossy,
            });
        }
        use std::sync::atomic::Ordering::Relaxed;
        let total = self.bytes.fetch_add(len, Relaxed) + len - freed;
        self.bytes.fetch_sub(freed, Relaxed);
        if total > self.config.bytes {
            self.evict();
        }
    }

    fn end(&self, record: &RunRecord, exit: ExitInfo) {
        let mut s = record.lock();
        s.exit = Some(exit);
        s.ended_at = Some(SystemTime::now());
    }

    /// Drops the oldest lines until the total fits: ended runs first (oldest end first, down
    /// to [`TAIL_FLOOR`] lines each), then live runs.
    fn evict(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        let runs = self.lock();
        let mut all: Vec<&Arc<RunRecord>> = runs.values().flatten().collect();
        // Ended runs by end time, then live runs by start time.
        all.sort_by_key(|r| {
            let s = r.lock();
            (s.ended_at.is_none(), s.ended_at.unwrap_or(r.started_at))
        });
        for record in all {
            let mut s = record.lock();
            let floor = if s.exit.is_some() { TAIL_FLOOR } else { 1 };
            while self.bytes.load(Relaxed) > self.config.bytes && s.lines.len() > floor {
                if let Some(old) = s.lines.pop_front() {
                    s.bytes -= old.text.len();
                    self.bytes.fetch_sub(old.text.len(), Relaxed);
                }
            }
            if self.bytes.load(Relaxed) <= self.config.bytes {
                return;
            }
        }
    }
}

/// A launcher that records every run in a [`History`] on its way to the manager, and sends
/// its [`RunEvent`]s (ended, spawn failed, ready) to [`Events`].
#[derive(Debug)]
pub struct HistoryLauncher {
    inner: Arc<dyn Launcher>,
    history: Arc<History>,
    events: Arc<Events>,
    /// Each script's ready pattern, for the `ready` event.
    ready: Arc<HashMap<String, Regex>>,
}

impl HistoryLauncher {
    /// Wraps `inner`, recording into `history` (events go nowhere until
    /// [`HistoryLauncher::with_events`]).
    pub fn new(inner: Arc<dyn Launcher>, history: Arc<History>) -> Self {
        HistoryLauncher {
            inner,
            history,
            events: Arc::new(Events::new()),
            ready: Arc::default(),
        }
    }

    /// Sends every run's events to `events`; a run whose script has a pattern in `ready`
    /// (by name) sends `ready` at its first matching line.
    pub fn with_events(mut self, events: Arc<Events>, ready: HashMap<String, Regex>) -> Self {
        self.events = events;
        self.ready = Arc::new(ready);
        self
    }
}

impl Launcher for HistoryLauncher {
    fn spawn(&self, id: &ProcessId, spec: &ProcessSpec) -> Result<Box<dyn Child>, LaunchError> {
        let child = match self.inner.spawn(id, spec) {
            Ok(child) => child,
            Err(e) => {
                self.events
                    .send(RunEvent::now(*id, RunEventKind::SpawnFailed(e.to_string())));
                return Err(e);
            }
        };
        let record = self.history.begin(id, child.pid());
        Ok(Box::new(RecordedChild {
            inner: child,
            record,
            history: Arc::clone(&self.history),
            id: *id,
            events: Arc::clone(&self.events),
            ready: self.ready.get(id.name.as_str()).cloned(),
        }))
    }
}

#[derive(Debug)]
struct RecordedChild {
    inner: Box<dyn Child>,
    record: Arc<RunRecord>,
    history: Arc<History>,
    id: ProcessId,
    events: Arc<Events>,
    ready: Option<Regex>,
}

impl Child for RecordedChild {
    fn pid(&self) -> u32 {
        self.inner.pid()
    }

    fn attach(&self, events: Arc<dyn ChildEvents>) {
        self.inner.attach(Arc::new(Tee {
            events,
            record: Arc::clone(&self.record),
            history: Arc::clone(&self.history),
            id: self.id,
            run_events: Arc::clone(&self.events),
            ready: self.ready.clone(),
            ready_seen: AtomicBool::new(false),
        }));
    }

    fn signal(&self, signal: procman_core::Signal) -> std::io::Result<()> {
        self.inner.signal(signal)
    }
}

/// Hands each event to the manager and to the history, then to the run's listeners.
struct Tee {
    events: Arc<dyn ChildEvents>,
    record: Arc<RunRecord>,
    history: Arc<History>,
    id: ProcessId,
    run_events: Arc<Events>,
    ready: Option<Regex>,
    ready_seen: AtomicBool,
}

impl ChildEvents for Tee {
    fn on_output(&self, line: OutputLine) {
        let ready = self
            .ready
            .as_ref()
            .filter(|re| !self.ready_seen.load(Ordering::Relaxed) && re.is_match(&line.text));
        let ready_line = ready.map(|_| line.text.clone());
        self.history.push(&self.record, line.clone());
        self.events.on_output(line);
        // After the manager has the line: a listener that reads the logs finds it there.
        if let Some(text) = ready_line
            && !self.ready_seen.swap(true, Ordering::Relaxed)
        {
            self.run_events
                .send(RunEvent::now(self.id, RunEventKind::Ready(text)));
        }
    }

    fn on_exit(&self, exit: ExitInfo) {
        // Recorded first, so that once the manager shows the run ended, its end is here too.
        self.history.end(&self.record, exit);
        self.events.on_exit(exit);
        self.run_events
            .send(RunEvent::now(self.id, RunEventKind::Ended(exit)));
    }
}

#[cfg(test)]
mod tests {
    use procman_core::Stream;

    use super::*;

    fn id(name: &str, generation: u64) -> ProcessId {
        ProcessId::new(Arc::from(name), generation)
    }

    #[test]
    fn keeps_the_last_runs_per_name_and_their_ends() {
        let h = History::new(HistoryConfig {
            runs: 2,
            ..HistoryConfig::default()
        });
        for generation in 1..=3 {
            let r = h.begin(&id("a", generation), 10);
            h.push(
                &r,
                OutputLine::new(Stream::Stderr, format!("run {generation}")),
            );
            h.end(&r, ExitInfo::Code(generation as i32));
        }
        let runs = h.runs("a");
        let ids: Vec<String> = runs.iter().map(|r| r.id.to_string()).collect();
        assert_eq!(ids, ["a#2", "a#3"]);
        assert!(h.get(&id("a", 1)).is_none());
        let second = h.get(&id("a", 2)).unwrap();
        assert_eq!(second.end().unwrap().exit, ExitInfo::Code(2));
        assert_eq!(&*second.last(5, |_| true)[0].text, "run 2");
        assert_eq!(h.bytes(), "run 2".len() + "run 3".len());
    }

    #[test]
    fn the_byte_budget_takes_from_ended_runs_first_down_to_their_tail() {
        let h = History::new(HistoryConfig {
            runs: 5,
            bytes: 2000,
            ..HistoryConfig::default()
        });
        let old = h.begin(&id("a", 1), 1);
        for i in 0..400 {
            h.push(&old, OutputLine::new(Stream::Stdout, format!("{i:09}")));
        }
        h.end(&old, ExitInfo::Code(1));
        let live = h.begin(&id("b", 2), 2);
        for i in 0..100 {
            h.push(&live, OutputLine::new(Stream::Stdout, format!("{i:09}")));
        }
        // The ended run kept its tail; the live one lost its head only once that was reached.
        assert_eq!(old.last(usize::MAX, |_| true).len(), TAIL_FLOOR);
        assert_eq!(&*old.last(1, |_| true)[0].text, "000000399");
        assert!(h.bytes() <= 2000, "{}", h.bytes());
        assert!(!live.last(usize::MAX, |_| true).is_empty());
        let chunk = old.tail(0, 10, |_| true);
        assert_eq!(chunk.missed, 200);
        assert_eq!(chunk.lines[0].seq, 200);
        assert_eq!(chunk.next_cursor, 210);
    }
}
