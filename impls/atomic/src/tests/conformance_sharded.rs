//! The conformance suite through [`crate::AtomicManager::with_sharded_registry`], the harness's
//! `atomic-sharded` contender (`tests/conformance.rs` runs it through `new`, the table registry).

procman_conformance::conformance_suite!(atomic_sharded, |launcher, config| {
    crate::AtomicManager::with_sharded_registry(launcher, config)
});
