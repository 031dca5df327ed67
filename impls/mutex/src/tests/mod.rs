//! Behaviour tests of [`MutexManager`] over the simulated launcher, and the scaffolding they
//! share. The shared conformance suite (tests/conformance.rs) checks the contract across
//! designs; these check this design's own protocol: readers during spawns and stops, the
//! terminal snapshot of a replaced run, restart tokens, and the shutdown flag.
//!
//! No test asserts a duration. Conditions that become true asynchronously are polled with a
//! generous liveness bound ([`eventually`]); what a test holds in a state it holds by a gate,
//! not by a delay.

mod alloc;
mod lifecycle;
mod logs;
mod races;
mod restarts;
mod shutdown;

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use procman_core::launcher::Child;
use procman_core::{
    LaunchError, Launcher, ManagerConfig, ProcessId, ProcessManager, ProcessSnapshot, ProcessSpec,
    SimLauncher, Target,
};

use crate::MutexManager;

/// How long an asynchronous condition may take before a test fails: a liveness bound, far
/// above anything a correct run needs, never a performance assertion.
const LIVENESS: Duration = Duration::from_secs(20);

/// A manager over `launcher` with the default config.
fn manager(launcher: &SimLauncher) -> MutexManager {
    MutexManager::new(Arc::new(launcher.clone()), ManagerConfig::default())
}

/// A spec the simulated launcher runs (the argv is never executed).
fn spec(name: &str) -> ProcessSpec {
    ProcessSpec::new(name, ["sim"])
}

/// Polls `condition` until it holds; fails the test after [`LIVENESS`].
fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let give_up = Instant::now() + LIVENESS;
    while !condition() {
        assert!(
            Instant::now() < give_up,
            "{what}: still not true after {LIVENESS:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The status of `name`, checked against the snapshot invariants.
fn status(m: &MutexManager, name: &str) -> ProcessSnapshot {
    let snapshot = m
        .status(Target::Name(name))
        .expect("status of a known name");
    snapshot.check_invariants().expect("snapshot invariants");
    snapshot
}

/// A launcher whose spawns block until the test opens the gate, so a run can be held in
/// `Starting` without a timed delay.
#[derive(Debug)]
struct GatedLauncher {
    /// Spawns happen here once the gate opens.
    inner: SimLauncher,
    /// Open (true) or shut.
    open: Mutex<bool>,
    /// Signalled when the gate opens.
    opened: Condvar,
    /// Spawns that have reached the gate so far.
    arrived: Mutex<usize>,
}

impl GatedLauncher {
    /// A shut gate in front of `inner`.
    fn new(inner: SimLauncher) -> Arc<Self> {
        Arc::new(GatedLauncher {
            inner,
            open: Mutex::new(false),
            opened: Condvar::new(),
            arrived: Mutex::new(0),
        })
    }

    /// Lets every waiting and later spawn through.
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    /// Spawns that have reached the gate.
    fn arrived(&self) -> usize {
        *self.arrived.lock().unwrap()
    }
}

impl Launcher for GatedLauncher {
    fn spawn(&self, id: &ProcessId, spec: &ProcessSpec) -> Result<Box<dyn Child>, LaunchError> {
        *self.arrived.lock().unwrap() += 1;
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        drop(open);
        self.inner.spawn(id, spec)
    }
}
