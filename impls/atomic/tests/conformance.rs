//! The conformance suite (procman-conformance), instantiated for the atomic design with each of
//! its registries: the dashmap one (`AtomicManager::new`) and the copy-on-write one
//! (`AtomicManager::with_cow_registry`, the harness's `atomic-cow` contender).

procman_conformance::conformance_suite!(atomic, |launcher, config| {
    procman_atomic::AtomicManager::new(launcher, config)
});

procman_conformance::conformance_suite!(atomic_cow, |launcher, config| {
    procman_atomic::AtomicManager::with_cow_registry(launcher, config)
});
