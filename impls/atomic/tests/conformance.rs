//! The conformance suite (procman-conformance), instantiated for the atomic design.

procman_conformance::conformance_suite!(atomic, |launcher, config| {
    procman_atomic::AtomicManager::new(launcher, config)
});
