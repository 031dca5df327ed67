//! [`SimLauncher`]: an in-memory child whose output, exit and stop behaviour are scripted, so
//! benchmarks measure the concurrency design instead of fork/exec.
//!
//! Scripts are chosen by process name ([`SimLauncher::script`]) with a default for the rest.
//! A live child can also be driven by hand through [`SimChildControl`] (emit a line, exit now).
//! With zero delays every event is delivered synchronously on the calling thread: `attach`
//! delivers the scripted output (and an immediate exit), `signal` delivers the exit. Delays use
//! one shared timer thread. A [`SpawnGate`] holds the spawns of one name until the test opens
//! it, so a run can be kept in `Starting` for exactly as long as a test needs, with no sleep.
//!
//! The launcher's own bookkeeping uses `parking_lot` directly, not the sync facade: it is test
//! scaffolding, not part of any design, and it never holds a lock while calling a manager.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::{Child, ChildEvents, LaunchError, Launcher, timer};
use crate::id::ProcessId;
use crate::logring::{OutputLine, Stream};
use crate::name::Name;
use crate::signal::Signal;
use crate::snapshot::ExitInfo;
use crate::spec::ProcessSpec;

/// How a simulated child behaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimScript {
    /// Fail the spawn with this message (as a missing program would).
    pub spawn_error: Option<String>,
    /// How long `spawn` itself takes (sleeps on the caller's thread, as a slow fork/exec would),
    /// so tests can hold a run in `Starting`.
    pub spawn_delay: Duration,
    /// Lines written as soon as the child is attached.
    pub output: Vec<(Stream, String)>,
    /// End by itself this long after attach; `None` runs until signalled.
    pub exit_after: Option<Duration>,
    /// The exit code of that natural end.
    pub exit_code: i32,
    /// How long the child takes to die after a catchable signal it does not ignore.
    pub stop_delay: Duration,
    /// Signals the child ignores (SIGKILL cannot be ignored).
    pub ignore: Vec<Signal>,
    /// How the child ends when it handles a stop signal: `None` means it dies of that signal.
    pub stop_exit: Option<ExitInfo>,
}

impl SimScript {
    /// A child that runs until signalled and dies at once of the signal.
    pub fn long_running() -> Self {
        SimScript::default()
    }

    /// A child that exits by itself with `code` after `after`.
    pub fn exits(code: i32, after: Duration) -> Self {
        SimScript {
            exit_after: Some(after),
            exit_code: code,
            ..SimScript::default()
        }
    }

    /// A child that takes `delay` to stop after the stop signal.
    pub fn slow_stop(delay: Duration) -> Self {
        SimScript {
            stop_delay: delay,
            ..SimScript::default()
        }
    }

    /// A child that ignores SIGTERM (only SIGKILL ends it).
    pub fn ignores_term() -> Self {
        SimScript {
            ignore: vec![Signal::TERM],
            ..SimScript::default()
        }
    }

    /// A spawn that fails with `message`.
    pub fn spawn_fails(message: &str) -> Self {
        SimScript {
            spawn_error: Some(message.to_owned()),
            ..SimScript::default()
        }
    }

    /// A spawn that takes `delay` (the run stays `Starting` meanwhile).
    pub fn slow_spawn(delay: Duration) -> Self {
        SimScript {
            spawn_delay: delay,
            ..SimScript::default()
        }
    }

    /// Adds lines written at attach.
    pub fn with_output<I: IntoIterator<Item = S>, S: Into<String>>(mut self, lines: I) -> Self {
        self.output
            .extend(lines.into_iter().map(|l| (Stream::Stdout, l.into())));
        self
    }
}

#[derive(Default)]
struct ChildState {
    events: Option<Arc<dyn ChildEvents>>,
    buffered: Vec<OutputLine>,
    pending_exit: Option<ExitInfo>,
    exited: bool,
}

struct SimChildInner {
    id: ProcessId,
    pid: u32,
    script: SimScript,
    state: Mutex<ChildState>,
    launcher: Arc<Registry>,
}

#[derive(Default)]
struct Registry {
    live: Mutex<HashMap<Name, Arc<SimChildInner>>>,
    exits: AtomicU64,
    spawns: AtomicU64,
}

impl SimChildInner {
    fn emit(&self, line: OutputLine) {
        let mut st = self.state.lock();
        if st.exited {
            return;
        }
        match st.events.clone() {
            Some(events) => {
                drop(st);
                events.on_output(line);
            }
            None => st.buffered.push(line),
        }
    }

    fn exit(self: &Arc<Self>, exit: ExitInfo) {
        let mut st = self.state.lock();
        if st.exited {
            return;
        }
        st.exited = true;
        let events = st.events.clone();
        if events.is_none() {
            st.pending_exit = Some(exit);
        }
        drop(st);
        {
            let mut live = self.launcher.live.lock();
            if live
                .get(&self.id.name)
                .is_some_and(|c| Arc::ptr_eq(c, self))
            {
                live.remove(&self.id.name);
            }
        }
        self.launcher.exits.fetch_add(1, Ordering::Relaxed);
        if let Some(events) = events {
            events.on_exit(exit);
        }
    }
}

/// The scripted, in-memory launcher.
#[derive(Clone)]
pub struct SimLauncher {
    scripts: Arc<Mutex<HashMap<String, SimScript>>>,
    default: Arc<Mutex<SimScript>>,
    next_pid: Arc<AtomicU32>,
    registry: Arc<Registry>,
    gates: Arc<Mutex<HashMap<String, Arc<GateState>>>>,
}

impl std::fmt::Debug for SimLauncher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimLauncher")
            .field("live", &self.live_count())
            .finish_non_exhaustive()
    }
}

impl Default for SimLauncher {
    fn default() -> Self {
        Self::new()
    }
}

impl SimLauncher {
    /// A launcher whose children run until signalled.
    pub fn new() -> Self {
        SimLauncher {
            scripts: Arc::default(),
            default: Arc::new(Mutex::new(SimScript::long_running())),
            next_pid: Arc::new(AtomicU32::new(10_000)),
            registry: Arc::default(),
            gates: Arc::default(),
        }
    }

    /// Scripts every later spawn of `name`.
    pub fn script(&self, name: &str, script: SimScript) -> &Self {
        self.scripts.lock().insert(name.to_owned(), script);
        self
    }

    /// Scripts every later spawn of a name without its own script.
    pub fn default_script(&self, script: SimScript) -> &Self {
        *self.default.lock() = script;
        self
    }

    /// Control of the live child of `name`, if there is one.
    pub fn control(&self, name: &str) -> Option<SimChildControl> {
        self.registry
            .live
            .lock()
            .get(name)
            .cloned()
            .map(|inner| SimChildControl { inner })
    }

    /// Children spawned and not yet exited.
    pub fn live_count(&self) -> usize {
        self.registry.live.lock().len()
    }

    /// Children that have exited over the launcher's life.
    pub fn exit_count(&self) -> u64 {
        self.registry.exits.load(Ordering::Relaxed)
    }

    /// Children spawned (successfully) over the launcher's life.
    ///
    /// `spawn_count() - exit_count()` is the number of children alive, counting every child;
    /// [`SimLauncher::live_count`] keeps one child per name, so it cannot see a second live child
    /// of a name (the leak a check-then-insert race produces).
    pub fn spawn_count(&self) -> u64 {
        self.registry.spawns.load(Ordering::Relaxed)
    }

    /// Holds every later spawn of `name` inside [`Launcher::spawn`], on the spawning thread, until
    /// the returned gate is opened or dropped. The run stays `Starting` meanwhile, for exactly as
    /// long as the test needs.
    pub fn hold_spawns(&self, name: &str) -> SpawnGate {
        let state = Arc::new(GateState::default());
        self.gates.lock().insert(name.to_owned(), state.clone());
        SpawnGate { state }
    }
}

#[derive(Default)]
struct GateState {
    open: Mutex<bool>,
    cond: Condvar,
    waiting: AtomicUsize,
}

impl GateState {
    fn pass(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.lock();
        while !*open {
            self.cond.wait(&mut open);
        }
        drop(open);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Holds the spawns of one name (see [`SimLauncher::hold_spawns`]). Opens when dropped, so a
/// failing test never leaves a spawn stuck.
pub struct SpawnGate {
    state: Arc<GateState>,
}

impl std::fmt::Debug for SpawnGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnGate")
            .field("waiting", &self.waiting())
            .finish_non_exhaustive()
    }
}

impl SpawnGate {
    /// Spawns blocked at the gate now.
    pub fn waiting(&self) -> usize {
        self.state.waiting.load(Ordering::SeqCst)
    }

    /// Lets every held spawn, and every later one, through.
    pub fn open(&self) {
        *self.state.open.lock() = true;
        self.state.cond.notify_all();
    }
}

impl Drop for SpawnGate {
    fn drop(&mut self) {
        self.open();
    }
}

impl Launcher for SimLauncher {
    fn spawn(&self, id: &ProcessId, _spec: &ProcessSpec) -> Result<Box<dyn Child>, LaunchError> {
        let script = self
            .scripts
            .lock()
            .get(&*id.name)
            .cloned()
            .unwrap_or_else(|| self.default.lock().clone());
        if !script.spawn_delay.is_zero() {
            std::thread::sleep(script.spawn_delay);
        }
        let gate = self.gates.lock().get(&*id.name).cloned();
        if let Some(gate) = gate {
            gate.pass();
        }
        if let Some(message) = &script.spawn_error {
            return Err(LaunchError(format!("simulated spawn of {id}: {message}")));
        }
        let inner = Arc::new(SimChildInner {
            id: *id,
            pid: self.next_pid.fetch_add(1, Ordering::Relaxed),
            script,
            state: Mutex::new(ChildState::default()),
            launcher: self.registry.clone(),
        });
        self.registry.live.lock().insert(id.name, inner.clone());
        self.registry.spawns.fetch_add(1, Ordering::Relaxed);
        Ok(Box::new(SimChild { inner }))
    }
}

/// Drives a live simulated child by hand.
#[derive(Clone)]
pub struct SimChildControl {
    inner: Arc<SimChildInner>,
}

impl std::fmt::Debug for SimChildControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimChildControl")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

impl SimChildControl {
    /// The run this child belongs to.
    pub fn id(&self) -> &ProcessId {
        &self.inner.id
    }

    /// Writes a line of output.
    pub fn emit(&self, stream: Stream, text: &str) {
        self.inner.emit(OutputLine::new(stream, text));
    }

    /// Ends the child now with `exit`, as if it ended by itself.
    pub fn exit(&self, exit: ExitInfo) {
        self.inner.exit(exit);
    }
}

/// A simulated child.
struct SimChild {
    inner: Arc<SimChildInner>,
}

impl std::fmt::Debug for SimChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimChild")
            .field("id", &self.inner.id)
            .field("pid", &self.inner.pid)
            .finish()
    }
}

impl Child for SimChild {
    fn pid(&self) -> u32 {
        self.inner.pid
    }

    fn attach(&self, events: Arc<dyn ChildEvents>) {
        let (buffered, pending_exit) = {
            let mut st = self.inner.state.lock();
            st.events = Some(events.clone());
            (std::mem::take(&mut st.buffered), st.pending_exit.take())
        };
        for line in buffered {
            events.on_output(line);
        }
        for (stream, text) in &self.inner.script.output {
            self.inner.emit(OutputLine::new(*stream, text.clone()));
        }
        if let Some(exit) = pending_exit {
            events.on_exit(exit);
            return;
        }
        if let Some(after) = self.inner.script.exit_after {
            let exit = ExitInfo::Code(self.inner.script.exit_code);
            if after.is_zero() {
                self.inner.exit(exit);
            } else {
                let inner = self.inner.clone();
                timer::after(after, move || inner.exit(exit));
            }
        }
    }

    fn signal(&self, signal: Signal) -> std::io::Result<()> {
        let script = &self.inner.script;
        if signal != Signal::KILL && script.ignore.contains(&signal) {
            return Ok(());
        }
        let exit = if signal == Signal::KILL {
            ExitInfo::Signal(Signal::KILL)
        } else {
            script.stop_exit.unwrap_or(ExitInfo::Signal(signal))
        };
        if signal == Signal::KILL || script.stop_delay.is_zero() {
            self.inner.exit(exit);
        } else {
            let inner = self.inner.clone();
            timer::after(script.stop_delay, move || inner.exit(exit));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder {
        lines: Mutex<Vec<String>>,
        exits: Mutex<Vec<ExitInfo>>,
    }

    impl ChildEvents for Recorder {
        fn on_output(&self, line: OutputLine) {
            self.lines.lock().push(line.text);
        }
        fn on_exit(&self, exit: ExitInfo) {
            self.exits.lock().push(exit);
        }
    }

    fn id(name: &str) -> ProcessId {
        ProcessId::new(Arc::from(name), 1)
    }

    #[test]
    fn scripted_output_then_exit_exactly_once() {
        let l = SimLauncher::new();
        l.script(
            "a",
            SimScript::exits(3, Duration::ZERO).with_output(["one", "two"]),
        );
        let child = l.spawn(&id("a"), &ProcessSpec::new("a", ["x"])).unwrap();
        let rec = Arc::new(Recorder::default());
        child.attach(rec.clone());
        child.signal(Signal::TERM).unwrap();
        assert_eq!(*rec.lines.lock(), vec!["one", "two"]);
        assert_eq!(*rec.exits.lock(), vec![ExitInfo::Code(3)]);
        assert_eq!(l.live_count(), 0);
    }

    #[test]
    fn ignored_term_needs_kill() {
        let l = SimLauncher::new();
        l.script("a", SimScript::ignores_term());
        let child = l.spawn(&id("a"), &ProcessSpec::new("a", ["x"])).unwrap();
        let rec = Arc::new(Recorder::default());
        child.attach(rec.clone());
        child.signal(Signal::TERM).unwrap();
        assert!(rec.exits.lock().is_empty());
        child.signal(Signal::KILL).unwrap();
        assert_eq!(*rec.exits.lock(), vec![ExitInfo::Signal(Signal::KILL)]);
    }

    #[test]
    fn exit_before_attach_is_delivered_at_attach() {
        let l = SimLauncher::new();
        let child = l.spawn(&id("a"), &ProcessSpec::new("a", ["x"])).unwrap();
        l.control("a").unwrap().exit(ExitInfo::Code(0));
        let rec = Arc::new(Recorder::default());
        child.attach(rec.clone());
        assert_eq!(*rec.exits.lock(), vec![ExitInfo::Code(0)]);
    }

    #[test]
    fn gate_holds_spawns_until_opened() {
        let l = SimLauncher::new();
        let gate = l.hold_spawns("a");
        let l2 = l.clone();
        let t = std::thread::spawn(move || {
            l2.spawn(&id("a"), &ProcessSpec::new("a", ["x"]))
                .map(|c| c.pid())
        });
        while gate.waiting() == 0 {
            std::thread::yield_now();
        }
        assert_eq!(l.spawn_count(), 0);
        drop(gate);
        assert!(t.join().unwrap().is_ok());
        assert_eq!(l.spawn_count(), 1);
        // Other names never wait.
        assert!(l.spawn(&id("b"), &ProcessSpec::new("b", ["x"])).is_ok());
    }

    #[test]
    fn spawn_error_is_reported() {
        let l = SimLauncher::new();
        l.script("a", SimScript::spawn_fails("no such file: /bin/nope"));
        let err = l
            .spawn(&id("a"), &ProcessSpec::new("a", ["x"]))
            .unwrap_err();
        assert!(err.0.contains("/bin/nope"));
    }
}
