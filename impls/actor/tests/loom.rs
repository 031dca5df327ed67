//! The protocol models of procman-races, explored by loom against the actor design (its owner
//! thread and launch worker run as model threads): `cargo test -p procman-actor --features loom
//! --test loom` (`LOOM_MAX_PREEMPTIONS=3` for the deep bound). Without the feature this file is
//! empty; `scripts/check-races.sh` fails a suite that runs zero tests.
#![cfg(feature = "loom")]

procman_races::model_suite!(actor, |launcher, config| {
    procman_actor::ActorManager::new(launcher, config)
});
