//! The conformance suite (procman-conformance), instantiated for the mutex design.

procman_conformance::conformance_suite!(mutex, |launcher, config| {
    procman_mutex::MutexManager::new(launcher, config)
});
