//! Unit tests of the atomic design over the simulated launcher, each run once per registry
//! (dashmap and the append-only table), the way arc-swap runs one suite per strategy.
//!
//! The conformance suite (tests/conformance.rs) holds the design to the contract; these tests
//! pin down what is particular to this design: CAS elections, the shutdown gate against racing
//! starts, cancellation of automatic restarts by latch identity, allocation-free status reads.
//! No assertion is about time: waits poll a condition under a generous liveness bound.

mod alloc;
mod conformance_sharded;
mod lifecycle;
mod races;
mod restart;
mod shutdown;

use std::time::{Duration, Instant};

use procman_core::sync::Arc;
use procman_core::{
    ManagerConfig, ProcessManager, ProcessSnapshot, ProcessSpec, SimLauncher, Status, Target,
};

use crate::AtomicManager;

/// How long a condition may take before the test calls it a hang.
const LIVENESS: Duration = Duration::from_secs(20);

/// A manager over a simulated launcher the test scripts.
struct Fixture {
    /// The manager under test.
    manager: AtomicManager,
    /// Its launcher.
    launcher: SimLauncher,
}

/// Runs `test` once per registry form.
fn each_registry(test: impl Fn(Fixture)) {
    each_registry_with(ManagerConfig::default(), test);
}

/// Runs `test` once per registry form, with `config`.
fn each_registry_with(config: ManagerConfig, test: impl Fn(Fixture)) {
    type Make = fn(Arc<dyn procman_core::Launcher>, ManagerConfig) -> AtomicManager;
    let makers: [(&str, Make); 2] = [
        ("dashmap", AtomicManager::with_sharded_registry),
        ("table", AtomicManager::new),
    ];
    for (kind, make) in makers {
        let launcher = SimLauncher::new();
        let manager = make(Arc::new(launcher.clone()), config);
        assert_eq!(manager.registry_kind(), kind);
        test(Fixture { manager, launcher });
    }
}

/// A spec for the simulated launcher (the argv is never run).
fn spec(name: &str) -> ProcessSpec {
    ProcessSpec::new(name, ["sim"])
}

/// Polls `condition` until it holds, failing the test after [`LIVENESS`].
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let give_up = Instant::now() + LIVENESS;
    while !condition() {
        assert!(Instant::now() < give_up, "still waiting for: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The status of `name`, checked against the snapshot invariants.
fn status(manager: &AtomicManager, name: &str) -> ProcessSnapshot {
    let snapshot = manager.status(Target::Name(name)).unwrap();
    snapshot.check_invariants().unwrap();
    snapshot
}

/// Waits until `name`'s current run has `status`.
fn wait_status(manager: &AtomicManager, name: &str, want: Status) -> ProcessSnapshot {
    let mut last = None;
    wait_until(&format!("{name} to be {want}"), || {
        // Not registered yet counts as not there yet.
        let Ok(now) = manager.status(Target::Name(name)) else {
            return false;
        };
        now.check_invariants().unwrap();
        let done = now.status == want;
        last = Some(now);
        done
    });
    last.unwrap()
}
