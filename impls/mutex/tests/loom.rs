//! The protocol models of procman-races, explored by loom against the mutex design:
//! `cargo test -p procman-mutex --features loom --test loom` (`LOOM_MAX_PREEMPTIONS=3` for the
//! deep bound). Without the feature this file is empty; `scripts/check-races.sh` fails a suite
//! that runs zero tests.
#![cfg(feature = "loom")]

procman_races::model_suite!(mutex, |launcher, config| {
    procman_mutex::MutexManager::new(launcher, config)
});
