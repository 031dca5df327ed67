//! The actor design under shuttle: the protocol models of procman-races (PCT), and long mixed
//! histories from 4 to 8 client threads checked for linearizability:
//! `cargo test -p procman-actor --features shuttle --test shuttle`. A failure prints its
//! schedule; replay it with `PROCMAN_SHUTTLE_REPLAY='<schedule>'` and the test's name.
#![cfg(feature = "shuttle")]

procman_races::model_suite!(actor, |launcher, config| {
    procman_actor::ActorManager::new(launcher, config)
});
procman_races::stress_suite!(actor);
