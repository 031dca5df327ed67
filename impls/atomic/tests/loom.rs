//! The protocol models of procman-races, explored by loom against the atomic design, once per
//! registry (the append-only table that `AtomicManager::new` uses, and the dashmap one kept for comparison): `cargo test -p procman-atomic
//! --features loom --test loom` (`LOOM_MAX_PREEMPTIONS=3` for the deep bound). Under loom both
//! registries run on the facade's models (see `procman_core::sync`). Without the feature this
//! file is empty; `scripts/check-races.sh` fails a suite that runs zero tests.
#![cfg(feature = "loom")]

mod dashmap_registry {
    procman_races::model_suite!(atomic_sharded, |launcher, config| {
        procman_atomic::AtomicManager::with_sharded_registry(launcher, config)
    });
}

mod table_registry {
    procman_races::model_suite!(atomic, |launcher, config| {
        procman_atomic::AtomicManager::new(launcher, config)
    });
}
