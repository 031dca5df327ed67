//! The conformance suite (procman-conformance), instantiated for the atomic design with each of
//! its registries: the append-only table (`AtomicManager::new`, shipped) and the dashmap one
//! (`AtomicManager::with_sharded_registry`, kept for comparison).

procman_conformance::conformance_suite!(atomic, |launcher, config| {
    procman_atomic::AtomicManager::new(launcher, config)
});

procman_conformance::conformance_suite!(atomic_sharded, |launcher, config| {
    procman_atomic::AtomicManager::with_sharded_registry(launcher, config)
});
