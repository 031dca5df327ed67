//! The conformance suite through [`crate::AtomicManager::with_cow_registry`], the constructor the
//! harness's `atomic-cow` contender names (the same copy-on-write registry as `new`).

procman_conformance::conformance_suite!(atomic_cow, |launcher, config| {
    crate::AtomicManager::with_cow_registry(launcher, config)
});
