//! Shared by the `os_*` tests: a recording [`ChildEvents`] and polling helpers.
//!
//! Nothing here asserts that something happened *fast*: every wait polls a condition with a
//! generous liveness bound ([`LIVENESS`]) and fails only if it never happens.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use procman_core::launcher::os::procfs::{self, ProcStat};
use procman_core::supervise::ExitLatch;
use procman_core::{Child, ChildEvents, ExitInfo, Launcher, OutputLine, ProcessId, ProcessSpec};

/// How long a test waits for something that must happen before calling it a failure.
pub const LIVENESS: Duration = Duration::from_secs(30);

/// What a [`Recorder`] saw.
#[derive(Debug, Default)]
pub struct Recorded {
    /// Lines, in order (empty for a counting recorder).
    pub lines: Vec<OutputLine>,
    /// Lines seen.
    pub line_count: u64,
    /// Bytes of text seen.
    pub bytes: u64,
    /// Every `on_exit`, in order: exactly one is the contract.
    pub exits: Vec<ExitInfo>,
    /// True if a line came after `on_exit`.
    pub output_after_exit: bool,
}

/// A [`ChildEvents`] that records everything (or, for floods, only counts lines and bytes).
#[derive(Debug)]
pub struct Recorder {
    state: Mutex<Recorded>,
    changed: Condvar,
    keep_lines: bool,
    /// Set at `on_exit`, for [`procman_core::supervise::run_stop_sequence`].
    pub latch: ExitLatch,
}

impl Recorder {
    /// A recorder that keeps every line.
    pub fn new() -> Arc<Self> {
        Self::with(true)
    }

    /// A recorder that only counts, for children that write a lot.
    pub fn counting() -> Arc<Self> {
        Self::with(false)
    }

    fn with(keep_lines: bool) -> Arc<Self> {
        Arc::new(Recorder {
            state: Mutex::new(Recorded::default()),
            changed: Condvar::new(),
            keep_lines,
            latch: ExitLatch::new(),
        })
    }

    /// Runs `f` on what was recorded.
    pub fn with_recorded<T>(&self, f: impl FnOnce(&Recorded) -> T) -> T {
        f(&self.state.lock().unwrap())
    }

    /// The text of every line, in order.
    pub fn texts(&self) -> Vec<String> {
        self.with_recorded(|r| r.lines.iter().map(|l| l.text.clone()).collect())
    }

    /// Waits until `cond` holds on what was recorded; panics after [`LIVENESS`].
    pub fn wait_until(&self, what: &str, cond: impl Fn(&Recorded) -> bool) {
        let deadline = Instant::now() + LIVENESS;
        let mut state = self.state.lock().unwrap();
        while !cond(&state) {
            let now = Instant::now();
            assert!(
                now < deadline,
                "never happened within {LIVENESS:?}: {what}; recorded {state:?}"
            );
            state = self.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
    }

    /// Waits for a line with exactly this text.
    pub fn wait_line(&self, text: &str) {
        self.wait_until(&format!("a line {text:?}"), |r| {
            r.lines.iter().any(|l| l.text == text)
        });
    }

    /// Waits for the exit and returns it, checking it came exactly once and after all output.
    pub fn wait_exit(&self) -> ExitInfo {
        self.wait_until("the child's exit", |r| !r.exits.is_empty());
        self.with_recorded(|r| {
            assert_eq!(
                r.exits.len(),
                1,
                "on_exit must come exactly once: {:?}",
                r.exits
            );
            assert!(!r.output_after_exit, "output arrived after on_exit");
            r.exits[0]
        })
    }
}

impl ChildEvents for Recorder {
    fn on_output(&self, line: OutputLine) {
        let mut state = self.state.lock().unwrap();
        state.output_after_exit |= !state.exits.is_empty();
        state.line_count += 1;
        state.bytes += line.text.len() as u64;
        if self.keep_lines {
            state.lines.push(line);
        }
        drop(state);
        self.changed.notify_all();
    }

    fn on_exit(&self, exit: ExitInfo) {
        self.state.lock().unwrap().exits.push(exit);
        self.latch.set();
        self.changed.notify_all();
    }
}

/// A run id for tests.
pub fn id(name: &str) -> ProcessId {
    ProcessId::new(Arc::from(name), 1)
}

/// Spawns `spec` and attaches a fresh recorder.
pub fn start(launcher: &dyn Launcher, spec: &ProcessSpec) -> (Box<dyn Child>, Arc<Recorder>) {
    start_with(launcher, spec, Recorder::new())
}

/// Spawns `spec` and attaches `recorder`.
pub fn start_with(
    launcher: &dyn Launcher,
    spec: &ProcessSpec,
    recorder: Arc<Recorder>,
) -> (Box<dyn Child>, Arc<Recorder>) {
    let child = launcher
        .spawn(&id(&spec.name), spec)
        .unwrap_or_else(|e| panic!("spawning {spec:?} failed: {e}"));
    child.attach(recorder.clone());
    (child, recorder)
}

/// A shell-line spec.
pub fn sh(line: &str) -> ProcessSpec {
    ProcessSpec::shell("t", line)
}

/// Polls `cond` every 10 ms until it holds; panics after [`LIVENESS`].
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIVENESS;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "never happened within {LIVENESS:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Live processes (not zombies) of process group `pgid`.
pub fn live_members(pgid: u32) -> Vec<ProcStat> {
    procfs::group_members(pgid as i32)
        .expect("read /proc")
        .into_iter()
        .filter(ProcStat::is_live)
        .collect()
}

/// Zombie children of this process: children nobody reaped.
pub fn our_zombies() -> Vec<ProcStat> {
    procfs::zombie_children(std::process::id() as i32).expect("read /proc")
}

/// Whether `pid` is a live process.
pub fn is_live(pid: u32) -> bool {
    procfs::is_live(pid as i32).expect("read /proc")
}
