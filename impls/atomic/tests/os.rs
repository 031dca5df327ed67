//! The real-process cases of the conformance suite (procman_conformance::os), instantiated for
//! the atomic design over the OS launcher. Linux only.

procman_conformance::os_suite!(atomic, |launcher, config| {
    procman_atomic::AtomicManager::new(launcher, config)
});
