//! The real-process cases of the conformance suite (procman_conformance::os), instantiated for
//! the actor design over the OS launcher. Linux only.

procman_conformance::os_suite!(actor, |launcher, config| {
    procman_actor::ActorManager::new(launcher, config)
});
