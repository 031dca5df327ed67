//! The conformance suite for the copy-on-write registry variant. tests/conformance.rs runs it for
//! [`crate::AtomicManager::new`] (dashmap); both registries must pass the same cases.

procman_conformance::conformance_suite!(atomic_cow, |launcher, config| {
    crate::AtomicManager::with_cow_registry(launcher, config)
});
