//! The mutex design under shuttle: the protocol models of procman-races (PCT), and long mixed
//! histories from 4 to 8 client threads checked for linearizability:
//! `cargo test -p procman-mutex --features shuttle --test shuttle`. A failure prints its
//! schedule; replay it with `PROCMAN_SHUTTLE_REPLAY='<schedule>'` and the test's name.
#![cfg(feature = "shuttle")]

procman_races::model_suite!(mutex, |launcher, config| {
    procman_mutex::MutexManager::new(launcher, config)
});
procman_races::stress_suite!(mutex);
