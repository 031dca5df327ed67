//! The real-process cases of the conformance suite (procman_conformance::os), instantiated for
//! the mutex design over the OS launcher. Linux only.

procman_conformance::os_suite!(mutex, |launcher, config| {
    procman_mutex::MutexManager::new(launcher, config)
});
