//! The conformance suite (procman-conformance), instantiated for the atomic design with each of
//! its registries: the append-only table (`AtomicManager::new`, shipped) and the dashmap one
//! (`AtomicManager::with_sharded_registry`, kept for comparison).

procman_conformance::conformance_suite!(atomic, |launcher, config| {
    procman_atomic::AtomicManager::new(launcher, config)
});

procman_conformance::conformance_suite!(atomic_sharded, |launcher, config| {
    procman_atomic::AtomicManager::with_sharded_registry(launcher, config)
});

/// What the harness, the gate and `procman` print to say which design they measured.
#[test]
fn names_itself() {
    use std::sync::Arc;

    use procman_core::{ManagerConfig, ProcessManager, SimLauncher};

    let make = |sharded: bool| {
        let launcher = Arc::new(SimLauncher::new());
        if sharded {
            procman_atomic::AtomicManager::with_sharded_registry(launcher, ManagerConfig::default())
        } else {
            procman_atomic::AtomicManager::new(launcher, ManagerConfig::default())
        }
    };
    for sharded in [false, true] {
        let m = make(sharded);
        assert_eq!(m.design(), "atomic");
        assert!(format!("{m:?}").starts_with("AtomicManager("), "{m:?}");
        m.shutdown(std::time::Duration::from_secs(5));
    }
}
