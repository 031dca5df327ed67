//! What every case is built from: a [`Fixture`] (a manager over a [`SimLauncher`]), checked
//! calls, the liveness helpers, and the [`RunObserver`] that concurrent cases feed.
//!
//! Three rules hold throughout the suite:
//!
//! - **Every snapshot is checked.** Each snapshot a manager returns, from any call, goes through
//!   [`check`] ([`ProcessSnapshot::check_invariants`] plus the call's own promises: the name asked
//!   for, the id asked for, a list sorted by name).
//! - **No timed assertions.** Nothing asserts that an operation was fast. Asynchronous outcomes
//!   are awaited with [`eventually`], which only fails when the outcome never comes within
//!   [`LIVENESS`]; the fixture's calls, reads included, run on other threads under that same
//!   bound ([`Call`], [`Fixture::read`]), which turns a deadlock into a failure instead of a
//!   hung test. Sleeps ([`quiet_period`]) precede only *negative* checks ("no further restart
//!   happened"), so a slow machine can make such a check weaker, never fail a correct design.
//! - **Nothing leaks.** Dropping a [`Fixture`] shuts the manager down and checks that every
//!   simulated child is gone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use procman_core::launcher::SimChildControl;
use procman_core::{
    ExitInfo, IfRunning, Launcher, LogChunk, LogMatch, LogQuery, ManagerConfig, ManagerStats,
    ProcessError, ProcessId, ProcessManager, ProcessSnapshot, ProcessSpec, RestartMode,
    RestartPolicy, Result, ShutdownReport, Signal, SimLauncher, StatusKind, StopOptions, Target,
};

/// How a design is built: from a launcher and a config, a boxed manager.
pub type MakeManager = dyn Fn(Arc<dyn Launcher>, ManagerConfig) -> Box<dyn ProcessManager>;

/// The longest the suite waits for anything that must happen. Generous: it bounds liveness, not
/// speed, and only a design that never gets there reaches it.
pub const LIVENESS: Duration = Duration::from_secs(20);

/// A stop timeout no case waits out: a stop that must not wait for it would blow [`LIVENESS`].
pub const HOUR: Duration = Duration::from_secs(3600);

/// Waits until `cond` holds, polling; fails with `what` if it never does within [`LIVENESS`].
pub fn eventually(mut cond: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + LIVENESS;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "liveness: waited {LIVENESS:?} for {what}, and it never happened"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Lets background work (timers, backoffs) run before a check that something did *not* happen.
pub fn quiet_period() {
    thread::sleep(Duration::from_millis(60));
}

/// A call running on its own thread, so that the test can watch what happens while it is in
/// flight, and wait for its result under [`LIVENESS`].
#[derive(Debug)]
pub struct Call<T> {
    what: String,
    returned: Arc<AtomicBool>,
    rx: mpsc::Receiver<T>,
}

impl<T: Send + 'static> Call<T> {
    /// Runs `f` on a new thread.
    pub fn spawn(what: impl Into<String>, f: impl FnOnce() -> T + Send + 'static) -> Self {
        let what = what.into();
        let returned = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let flag = returned.clone();
        thread::Builder::new()
            .name(what.chars().take(60).collect())
            .spawn(move || {
                let value = f();
                flag.store(true, Ordering::SeqCst);
                let _ = tx.send(value);
            })
            .expect("spawn a test thread");
        Call { what, returned, rx }
    }

    /// True once the call has returned.
    pub fn returned(&self) -> bool {
        self.returned.load(Ordering::SeqCst)
    }

    /// The flag [`Call::returned`] reads, for readers on other threads.
    pub fn returned_flag(&self) -> Arc<AtomicBool> {
        self.returned.clone()
    }

    /// The call's result; fails if it does not return within [`LIVENESS`] (a deadlock, or a
    /// wait the contract forbids) or if it panicked.
    pub fn wait(self) -> T {
        match self.rx.recv_timeout(LIVENESS) {
            Ok(value) => value,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "liveness: {} did not return within {LIVENESS:?} (deadlock, or waiting on work it must not wait for)",
                self.what
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("{} panicked (see its message above)", self.what)
            }
        }
    }
}

/// Runs `f` on its own thread and returns its result; fails if it takes longer than [`LIVENESS`].
pub fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    Call::spawn(what, f).wait()
}

/// An owned [`Target`], so a call can move to another thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedTarget {
    /// By name.
    Name(String),
    /// By id.
    Id(ProcessId),
}

impl OwnedTarget {
    /// The borrowed form the trait takes.
    pub fn as_target(&self) -> Target<'_> {
        match self {
            OwnedTarget::Name(name) => Target::Name(name),
            OwnedTarget::Id(id) => Target::Id(id),
        }
    }
}

impl From<Target<'_>> for OwnedTarget {
    fn from(target: Target<'_>) -> Self {
        match target {
            Target::Name(name) => OwnedTarget::Name(name.to_owned()),
            Target::Id(id) => OwnedTarget::Id(*id),
        }
    }
}

impl From<&str> for OwnedTarget {
    fn from(name: &str) -> Self {
        OwnedTarget::Name(name.to_owned())
    }
}

impl From<&ProcessId> for OwnedTarget {
    fn from(id: &ProcessId) -> Self {
        OwnedTarget::Id(*id)
    }
}

/// Checks a snapshot's invariants; `context` says which call returned it.
pub fn check(snapshot: ProcessSnapshot, context: &str) -> ProcessSnapshot {
    if let Err(violation) = snapshot.check_invariants() {
        panic!("{context} returned a snapshot that breaks the contract: {violation}");
    }
    snapshot
}

/// Checks a snapshot returned for `target`: its invariants, and that it is the run asked for.
pub fn check_for(snapshot: ProcessSnapshot, target: Target<'_>, call: &str) -> ProcessSnapshot {
    let snapshot = check(snapshot, &format!("{call}({target})"));
    assert_eq!(
        snapshot.name(),
        target.name(),
        "{call}({target}) returned a snapshot of another process"
    );
    if let Target::Id(id) = target {
        assert_eq!(&snapshot.id, id, "{call}({target}) returned another run");
    }
    snapshot
}

/// Checks a `list()`: every snapshot's invariants, one entry per name, sorted by name.
pub fn check_list(list: Vec<ProcessSnapshot>) -> Vec<ProcessSnapshot> {
    for pair in list.windows(2) {
        assert!(
            pair[0].name() < pair[1].name(),
            "list() is not sorted by name with one entry per name: {:?} then {:?}",
            pair[0].id,
            pair[1].id
        );
    }
    list.into_iter().map(|s| check(s, "list()")).collect()
}

/// Checks a log page read from `cursor` with `limit`: bounded, contiguous, consistent cursors.
pub fn check_chunk(chunk: LogChunk, cursor: u64, limit: usize, context: &str) -> LogChunk {
    assert!(
        chunk.lines.len() <= limit,
        "{context}: {} lines returned for limit {limit}",
        chunk.lines.len()
    );
    for pair in chunk.lines.windows(2) {
        assert_eq!(
            pair[1].seq,
            pair[0].seq + 1,
            "{context}: lines are not contiguous"
        );
    }
    if let Some(first) = chunk.lines.first() {
        assert!(first.seq >= cursor, "{context}: a line before the cursor");
        assert_eq!(
            chunk.missed,
            first.seq - cursor,
            "{context}: `missed` disagrees with the first line returned"
        );
        assert_eq!(
            chunk.next_cursor,
            chunk.lines.last().map_or(0, |l| l.seq + 1),
            "{context}: next_cursor is not past the last line"
        );
    }
    chunk
}

/// Checks search hits: at most `limit`, ordered by time.
pub fn check_matches(hits: Vec<LogMatch>, limit: usize) -> Vec<LogMatch> {
    assert!(
        hits.len() <= limit,
        "logs_search returned {} hits for limit {limit}",
        hits.len()
    );
    for pair in hits.windows(2) {
        assert!(
            pair[0].line.at <= pair[1].line.at,
            "logs_search hits are not ordered by time: {:?} then {:?}",
            pair[0],
            pair[1]
        );
    }
    hits
}

/// `start`, checked.
pub fn start(
    pm: &dyn ProcessManager,
    spec: ProcessSpec,
    if_running: IfRunning,
) -> Result<ProcessSnapshot> {
    let name = spec.name.clone();
    pm.start(spec, if_running)
        .map(|s| check_for(s, Target::Name(&name), "start"))
}

/// `stop`, checked.
pub fn stop(pm: &dyn ProcessManager, target: Target<'_>, force: bool) -> Result<ProcessSnapshot> {
    pm.stop(target, StopOptions { force })
        .map(|s| check_for(s, target, "stop"))
}

/// `restart`, checked (the new run has the same name; its id differs from an id asked for).
pub fn restart(pm: &dyn ProcessManager, target: Target<'_>) -> Result<ProcessSnapshot> {
    pm.restart(target).map(|s| {
        let s = check(s, &format!("restart({target})"));
        assert_eq!(
            s.name(),
            target.name(),
            "restart({target}) returned another process"
        );
        s
    })
}

/// `status`, checked.
pub fn status(pm: &dyn ProcessManager, target: Target<'_>) -> Result<ProcessSnapshot> {
    pm.status(target).map(|s| check_for(s, target, "status"))
}

/// `list`, checked.
pub fn list(pm: &dyn ProcessManager) -> Vec<ProcessSnapshot> {
    check_list(pm.list())
}

/// A spec for the simulated launcher (which ignores the argv), never restarted.
pub fn spec(name: &str) -> ProcessSpec {
    ProcessSpec::new(name, ["sim-child"])
}

/// A restart policy with millisecond backoffs, so that automatic restarts happen quickly.
pub fn policy(mode: RestartMode, max_restarts: u32) -> RestartPolicy {
    RestartPolicy {
        mode,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        max_restarts,
    }
}

/// A restart policy whose backoff never ends within a test: an automatic restart stays pending.
pub fn pending_policy(mode: RestartMode) -> RestartPolicy {
    RestartPolicy {
        mode,
        initial_backoff: HOUR,
        max_backoff: HOUR,
        max_restarts: 5,
    }
}

/// Asserts that `err`'s message names `name`, so a user knows which process it is about.
pub fn assert_names(err: &ProcessError, name: &str) {
    let message = err.to_string();
    assert!(
        message.contains(name),
        "the error message does not name {name:?}: {message}"
    );
}

/// One manager over one simulated launcher, with checked and bounded calls.
///
/// Dropping it shuts the manager down and checks that no simulated child is left alive; when the
/// test is already failing it only kills the children it knows and leaks the manager, so the
/// failure is reported instead of a hang in a broken design's drop.
pub struct Fixture {
    /// The simulated launcher the manager spawns through; script it before starting a name.
    pub sim: SimLauncher,
    /// The manager under test.
    pub pm: Arc<dyn ProcessManager>,
    names: Mutex<Vec<String>>,
    reader: mpsc::Sender<ReadJob>,
}

/// A read the fixture's reader thread performs.
type ReadJob = Box<dyn FnOnce(&dyn ProcessManager) + Send>;

/// The fixture's reader thread: reads run there so that a read that blocks (which the contract
/// forbids) fails its case at the liveness bound instead of hanging it.
fn spawn_reader(pm: Arc<dyn ProcessManager>) -> mpsc::Sender<ReadJob> {
    let (tx, rx) = mpsc::channel::<ReadJob>();
    thread::Builder::new()
        .name("fixture reader".into())
        .spawn(move || {
            for job in rx {
                job(&*pm);
            }
        })
        .expect("spawn the fixture's reader thread");
    tx
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("design", &self.pm.design())
            .field("sim", &self.sim)
            .finish_non_exhaustive()
    }
}

impl Fixture {
    /// A manager with the default config.
    pub fn new(make: &MakeManager) -> Self {
        Self::with_config(make, ManagerConfig::default())
    }

    /// A manager with `config`.
    pub fn with_config(make: &MakeManager, config: ManagerConfig) -> Self {
        let sim = SimLauncher::new();
        let pm: Arc<dyn ProcessManager> = Arc::from(make(Arc::new(sim.clone()), config));
        let reader = spawn_reader(pm.clone());
        Fixture {
            sim,
            pm,
            names: Mutex::new(Vec::new()),
            reader,
        }
    }

    /// Runs the read `f` on the reader thread; fails if it does not return within [`LIVENESS`].
    pub fn read<T: Send + 'static>(
        &self,
        what: &str,
        f: impl FnOnce(&dyn ProcessManager) -> T + Send + 'static,
    ) -> T {
        let (tx, rx) = mpsc::channel();
        self.reader
            .send(Box::new(move |pm| {
                let _ = tx.send(f(pm));
            }))
            .unwrap_or_else(|_| {
                panic!("{what}: the reader thread is gone (an earlier read panicked)")
            });
        match rx.recv_timeout(LIVENESS) {
            Ok(value) => value,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "liveness: {what} did not return within {LIVENESS:?}: readers must never wait"
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("{what} panicked (see its message above)")
            }
        }
    }

    fn remember(&self, name: &str) {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }

    /// Simulated children alive now, counting every child (see [`SimLauncher::spawn_count`]).
    pub fn alive(&self) -> u64 {
        // Read exits first: a child counted as exited was spawned before it.
        let exits = self.sim.exit_count();
        self.sim.spawn_count() - exits
    }

    /// `start` on its own thread, so the test can watch it in flight.
    pub fn start_call(
        &self,
        spec: ProcessSpec,
        if_running: IfRunning,
    ) -> Call<Result<ProcessSnapshot>> {
        self.remember(&spec.name);
        let pm = self.pm.clone();
        Call::spawn(format!("start({})", spec.name), move || {
            start(&*pm, spec, if_running)
        })
    }

    /// `stop` on its own thread.
    pub fn stop_call(
        &self,
        target: impl Into<OwnedTarget>,
        force: bool,
    ) -> Call<Result<ProcessSnapshot>> {
        let target = target.into();
        let pm = self.pm.clone();
        Call::spawn(format!("stop({:?}, force={force})", target), move || {
            stop(&*pm, target.as_target(), force)
        })
    }

    /// `restart` on its own thread.
    pub fn restart_call(&self, target: impl Into<OwnedTarget>) -> Call<Result<ProcessSnapshot>> {
        let target = target.into();
        let pm = self.pm.clone();
        Call::spawn(format!("restart({:?})", target), move || {
            restart(&*pm, target.as_target())
        })
    }

    /// `start`, bounded and checked.
    pub fn start(&self, spec: ProcessSpec, if_running: IfRunning) -> Result<ProcessSnapshot> {
        self.start_call(spec, if_running).wait()
    }

    /// `start` with [`IfRunning::ReturnExisting`] that must succeed.
    pub fn start_ok(&self, spec: ProcessSpec) -> ProcessSnapshot {
        let name = spec.name.clone();
        self.start(spec, IfRunning::ReturnExisting)
            .unwrap_or_else(|e| panic!("start({name:?}) failed: {e}"))
    }

    /// `stop`, bounded and checked.
    pub fn stop(&self, target: impl Into<OwnedTarget>, force: bool) -> Result<ProcessSnapshot> {
        self.stop_call(target, force).wait()
    }

    /// A graceful `stop` that must succeed.
    pub fn stop_ok(&self, target: impl Into<OwnedTarget>) -> ProcessSnapshot {
        let target = target.into();
        self.stop(target.clone(), false)
            .unwrap_or_else(|e| panic!("stop({target:?}) failed: {e}"))
    }

    /// `restart`, bounded and checked.
    pub fn restart(&self, target: impl Into<OwnedTarget>) -> Result<ProcessSnapshot> {
        self.restart_call(target).wait()
    }

    /// A `restart` that must succeed.
    pub fn restart_ok(&self, target: impl Into<OwnedTarget>) -> ProcessSnapshot {
        let target = target.into();
        self.restart(target.clone())
            .unwrap_or_else(|e| panic!("restart({target:?}) failed: {e}"))
    }

    /// `status`, checked.
    pub fn status<'a>(&self, target: impl Into<Target<'a>>) -> Result<ProcessSnapshot> {
        let target = target.into();
        let owned = OwnedTarget::from(target);
        self.read(&format!("status({target})"), move |pm| {
            pm.status(owned.as_target())
        })
        .map(|s| check_for(s, target, "status"))
    }

    /// `status` by name that must succeed.
    pub fn status_ok(&self, name: &str) -> ProcessSnapshot {
        self.status(name)
            .unwrap_or_else(|e| panic!("status({name:?}) failed: {e}"))
    }

    /// `list`, checked.
    pub fn list(&self) -> Vec<ProcessSnapshot> {
        check_list(self.read("list()", |pm| pm.list()))
    }

    /// `logs_tail`, checked.
    pub fn logs_tail<'a>(
        &self,
        target: impl Into<Target<'a>>,
        cursor: u64,
        limit: usize,
    ) -> Result<LogChunk> {
        let target = target.into();
        let owned = OwnedTarget::from(target);
        self.read(&format!("logs_tail({target})"), move |pm| {
            pm.logs_tail(owned.as_target(), cursor, limit)
        })
        .map(|c| check_chunk(c, cursor, limit, &format!("logs_tail({target}, {cursor})")))
    }

    /// The texts of the lines `logs_tail(name, 0, ..)` returns.
    pub fn log_texts(&self, name: &str) -> Vec<String> {
        self.logs_tail(name, 0, usize::MAX)
            .unwrap_or_else(|e| panic!("logs_tail({name:?}) failed: {e}"))
            .lines
            .iter()
            .map(|l| l.text.to_string())
            .collect()
    }

    /// `logs_search`, checked.
    pub fn search(&self, query: &LogQuery) -> Result<Vec<LogMatch>> {
        let owned = query.clone();
        self.read("logs_search", move |pm| pm.logs_search(&owned))
            .map(|hits| check_matches(hits, query.limit))
    }

    /// The manager's counters.
    pub fn stats(&self) -> ManagerStats {
        self.read("stats()", |pm| pm.stats())
    }

    /// `shutdown`, bounded.
    pub fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let pm = self.pm.clone();
        bounded("shutdown", move || pm.shutdown(deadline))
    }

    /// Waits until the status of `name` satisfies `pred`, and returns that snapshot.
    pub fn wait_for(
        &self,
        name: &str,
        what: &str,
        mut pred: impl FnMut(&ProcessSnapshot) -> bool,
    ) -> ProcessSnapshot {
        let mut seen = None;
        eventually(
            || match self.status(name) {
                Ok(s) if pred(&s) => {
                    seen = Some(s);
                    true
                }
                _ => false,
            },
            &format!("{name:?} to be {what}"),
        );
        seen.expect("set when the condition held")
    }

    /// Waits until the current run of `name` has ended, and returns it.
    pub fn wait_ended(&self, name: &str) -> ProcessSnapshot {
        self.wait_for(name, "ended", |s| s.status.is_terminal())
    }

    /// Control of the live simulated child of `name`; fails if there is none.
    pub fn control(&self, name: &str) -> SimChildControl {
        self.sim
            .control(name)
            .unwrap_or_else(|| panic!("no live simulated child named {name:?}"))
    }

    /// Ends the live child of `name` by itself with `exit` and waits for the manager to see it.
    pub fn exit_child(&self, name: &str, exit: ExitInfo) -> ProcessSnapshot {
        let child = self.control(name);
        let id = *child.id();
        child.exit(exit);
        self.wait_for(name, "ended by itself", |s| {
            s.id != id || s.status.is_terminal()
        })
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if thread::panicking() {
            // Unblock whatever the failed case left waiting, so the failure is reported.
            let names = self.names.lock().unwrap_or_else(|e| e.into_inner());
            for name in names.iter() {
                if let Some(child) = self.sim.control(name) {
                    child.exit(ExitInfo::Signal(Signal::KILL));
                }
            }
            // Never run the manager's own drop after a failure: a design that deadlocked would
            // hang the whole test binary instead of reporting this case.
            std::mem::forget(self.pm.clone());
            return;
        }
        let report = self.shutdown(Duration::from_millis(100));
        for (id, _) in &report.processes {
            let s = self
                .status(Target::Id(id))
                .unwrap_or_else(|e| panic!("status({id}) after shutdown failed: {e}"));
            assert!(
                s.status.is_terminal(),
                "{id} is still {} after shutdown",
                s.status
            );
        }
        eventually(
            || self.alive() == 0,
            "every simulated child to be gone after shutdown",
        );
    }
}

/// Whether `to` can follow `from` in one run: the reflexive, transitive closure of the table in
/// [`procman_core::status`].
pub fn reachable(from: StatusKind, to: StatusKind) -> bool {
    let mut seen = vec![from];
    let mut frontier = vec![from];
    while let Some(kind) = frontier.pop() {
        for next in StatusKind::ALL {
            if kind.can_become(next) && !seen.contains(&next) {
                seen.push(next);
                frontier.push(next);
            }
        }
    }
    seen.contains(&to)
}

/// What one reader saw of each name, to check that its observations never go backwards.
///
/// Within one run (generation) the status only moves forward along the status machine, a
/// terminal status never changes, and the pid, `started_at`, `restarts` and the log counters
/// stay put or (counters) grow. Across runs the generation never decreases and neither does
/// `restarts`.
#[derive(Debug, Default)]
pub struct RunObserver {
    last: HashMap<procman_core::Name, ProcessSnapshot>,
    /// Snapshots observed.
    pub observed: u64,
}

impl RunObserver {
    /// Feeds one (already checked) snapshot.
    pub fn observe(&mut self, s: &ProcessSnapshot) {
        self.observed += 1;
        if let Some(prev) = self.last.get(&s.id.name) {
            let (p, n) = (prev.id.generation, s.id.generation);
            assert!(
                n >= p,
                "generation of {:?} went backwards: saw {:?} after {:?}",
                s.name(),
                s,
                prev
            );
            if n == p {
                assert!(
                    reachable(prev.status.kind(), s.status.kind()),
                    "{} went backwards: {} after {}",
                    s.id,
                    s.status,
                    prev.status
                );
                if prev.status.is_terminal() {
                    assert_eq!(s.status, prev.status, "{}: a terminal status changed", s.id);
                    assert_eq!(s.exit, prev.exit, "{}: exit info changed", s.id);
                    assert_eq!(s.ended_at, prev.ended_at, "{}: ended_at changed", s.id);
                }
                if prev.pid.is_some() {
                    assert_eq!(s.pid, prev.pid, "{}: pid changed within a run", s.id);
                }
                if prev.started_at.is_some() {
                    assert_eq!(
                        s.started_at, prev.started_at,
                        "{}: started_at changed",
                        s.id
                    );
                }
                assert_eq!(
                    s.restarts, prev.restarts,
                    "{}: restarts changed within a run",
                    s.id
                );
                assert!(
                    s.logs.lines >= prev.logs.lines && s.logs.dropped >= prev.logs.dropped,
                    "{}: log counters went backwards: {:?} after {:?}",
                    s.id,
                    s.logs,
                    prev.logs
                );
            } else {
                assert!(
                    s.restarts >= prev.restarts,
                    "restarts of {:?} went backwards: {:?} after {:?}",
                    s.name(),
                    s,
                    prev
                );
            }
        }
        self.last.insert(s.id.name, *s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachability_follows_the_table() {
        use StatusKind::*;
        assert!(reachable(Pending, Stopped));
        assert!(reachable(Starting, Killed));
        assert!(reachable(Running, Running));
        assert!(!reachable(Running, Starting));
        assert!(!reachable(Running, Failed));
        assert!(!reachable(Stopped, Running));
        assert!(!reachable(Exited, Killed));
    }
}
