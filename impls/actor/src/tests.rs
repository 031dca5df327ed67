//! Tests that need the crate's insides: an owner made to panic on purpose.

use std::time::Duration;

use procman_core::sync::Arc;
use procman_core::{
    IfRunning, ManagerConfig, ProcessError, ProcessManager, ProcessSpec, SimLauncher, SimScript,
    Status, StopOptions,
};

use crate::ActorManager;

fn manager() -> (SimLauncher, ActorManager) {
    let launcher = SimLauncher::new();
    let manager = ActorManager::new(Arc::new(launcher.clone()), ManagerConfig::default());
    (launcher, manager)
}

#[test]
fn every_call_fails_with_manager_gone_once_the_owner_panicked() {
    let (launcher, manager) = manager();
    launcher.script("stubborn", SimScript::ignores_term());
    let spec = ProcessSpec::new("stubborn", ["x"]).with_stop_timeout(Duration::from_secs(3600));
    manager.start(spec, IfRunning::default()).unwrap();
    std::thread::scope(|s| {
        // A stopper waiting out a one-hour timeout must be released, not left hanging.
        let stopper = s.spawn(|| manager.stop("stubborn".into(), StopOptions::default()));
        while manager.status("stubborn".into()).unwrap().status != Status::Stopping {
            std::thread::yield_now();
        }
        manager.crash_owner();
        assert_eq!(stopper.join().unwrap(), Err(ProcessError::ManagerGone));
    });
    assert_eq!(
        manager.status("stubborn".into()),
        Err(ProcessError::ManagerGone)
    );
    assert_eq!(
        manager.start(ProcessSpec::new("b", ["x"]), IfRunning::default()),
        Err(ProcessError::ManagerGone)
    );
    assert!(manager.list().is_empty());
    assert_eq!(manager.stats(), Default::default());
    assert!(manager.shutdown(Duration::ZERO).processes.is_empty());
    // And the drop that follows still joins everything.
}

#[test]
fn async_calls_fail_with_manager_gone_too() {
    let (_launcher, manager) = manager();
    manager.crash_owner();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        assert_eq!(
            manager.status_async("x".into()).await,
            Err(ProcessError::ManagerGone)
        );
        assert_eq!(
            manager
                .start_async(ProcessSpec::new("b", ["x"]), IfRunning::default())
                .await,
            Err(ProcessError::ManagerGone)
        );
    });
}

/// Every message is copied into and out of the mailbox's queue by value, and every reply
/// through a slot: keep them within a few cache lines (they are 176 and 144 bytes today, the
/// inline name key being most of a request).
#[test]
fn messages_and_replies_stay_small() {
    assert!(std::mem::size_of::<crate::messages::Msg>() <= 192);
    assert!(std::mem::size_of::<crate::reply::Reply>() <= 160);
}
