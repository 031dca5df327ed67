//! The atomic design under shuttle, once per registry: the protocol models of procman-races
//! (PCT), and long mixed histories from 4 to 8 client threads checked for linearizability:
//! `cargo test -p procman-atomic --features shuttle --test shuttle`. A failure prints its
//! schedule; replay it with `PROCMAN_SHUTTLE_REPLAY='<schedule>'` and the test's name.
#![cfg(feature = "shuttle")]

mod dashmap_registry {
    procman_races::model_suite!(atomic_sharded, |launcher, config| {
        procman_atomic::AtomicManager::with_sharded_registry(launcher, config)
    });
    procman_races::stress_suite!(atomic_sharded);
}

mod table_registry {
    procman_races::model_suite!(atomic, |launcher, config| {
        procman_atomic::AtomicManager::new(launcher, config)
    });
    procman_races::stress_suite!(atomic);
}
