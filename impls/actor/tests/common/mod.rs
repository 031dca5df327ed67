//! Helpers shared by the actor's integration tests.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use procman_actor::ActorManager;
use procman_core::{ManagerConfig, ProcessSnapshot, ProcessSpec, SimLauncher};

/// How long a poll waits for something that must happen before declaring it never will. A
/// liveness bound, far above anything a healthy run takes: no test asserts on timing.
pub const LIVENESS: Duration = Duration::from_secs(30);

/// A simulated launcher and a manager over it.
pub fn sim() -> (SimLauncher, ActorManager) {
    let launcher = SimLauncher::new();
    let manager = ActorManager::new(Arc::new(launcher.clone()), ManagerConfig::default());
    (launcher, manager)
}

/// A spec for `name` with the defaults.
pub fn spec(name: &str) -> ProcessSpec {
    ProcessSpec::new(name, ["sim"])
}

/// Polls `probe` until it returns `Some`, failing the test after [`LIVENESS`].
pub fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let began = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(began.elapsed() < LIVENESS, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `snapshot`, after checking the contract's invariants on it.
pub fn checked(snapshot: ProcessSnapshot) -> ProcessSnapshot {
    if let Err(violation) = snapshot.check_invariants() {
        panic!("{violation}");
    }
    snapshot
}
