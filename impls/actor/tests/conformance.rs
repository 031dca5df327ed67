//! The conformance suite (procman-conformance), instantiated for the actor design.

procman_conformance::conformance_suite!(actor, |launcher, config| {
    procman_actor::ActorManager::new(launcher, config)
});
