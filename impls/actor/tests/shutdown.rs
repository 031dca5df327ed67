//! Shutdown and drop of the actor design, with the simulated launcher.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

mod common;

use std::time::Duration;

use common::{eventually, sim, spec};
use procman_core::{
    IfRunning, ProcessError, ProcessManager, ShutdownOutcome, SimScript, Status, StopOptions,
};

const NEVER: Duration = Duration::from_secs(3600);

#[test]
fn shutdown_stops_everything_and_refuses_new_work() {
    let (launcher, manager) = sim();
    launcher.script("stubborn", SimScript::ignores_term());
    launcher.script("once", SimScript::exits(0, Duration::ZERO));
    manager.start(spec("a"), IfRunning::default()).unwrap();
    manager.start(spec("b"), IfRunning::default()).unwrap();
    manager.start(spec("once"), IfRunning::default()).unwrap();
    manager
        .start(
            spec("stubborn").with_stop_timeout(NEVER),
            IfRunning::default(),
        )
        .unwrap();

    // The deadline caps the one-hour stop timeout.
    let report = manager.shutdown(Duration::from_millis(20));
    let names: Vec<&str> = report.processes.iter().map(|(id, _)| &*id.name).collect();
    assert_eq!(
        names,
        ["a", "b", "stubborn"],
        "the run that had ended is not reported"
    );
    assert_eq!(report.count(ShutdownOutcome::Graceful), 2);
    assert_eq!(report.count(ShutdownOutcome::Killed), 1);
    assert_eq!(launcher.live_count(), 0);
    assert_eq!(manager.stats().active, 0);

    assert_eq!(
        manager.start(spec("c"), IfRunning::default()),
        Err(ProcessError::ShuttingDown)
    );
    assert_eq!(manager.restart("a".into()), Err(ProcessError::ShuttingDown));
    assert!(
        manager.shutdown(NEVER).processes.is_empty(),
        "nothing new to report"
    );
    // Readers still work after a shutdown.
    assert_eq!(manager.status("a".into()).unwrap().status, Status::Stopped);
}

#[test]
fn a_start_racing_the_shutdown_leaves_no_live_run() {
    let (launcher, manager) = sim();
    launcher.script("slow", SimScript::slow_spawn(Duration::from_millis(200)));
    std::thread::scope(|s| {
        let starter = s.spawn(|| manager.start(spec("slow"), IfRunning::default()));
        eventually("the run is seen Starting", || {
            manager
                .status("slow".into())
                .ok()
                .filter(|s| s.status == Status::Starting)
        });
        // Admitted before the flag: the shutdown waits for the spawn, then stops the run.
        let report = manager.shutdown(NEVER);
        assert_eq!(report.processes.len(), 1);
        assert_eq!(report.count(ShutdownOutcome::Graceful), 1);
        assert_eq!(starter.join().unwrap(), Err(ProcessError::ShuttingDown));
    });
    assert_eq!(launcher.live_count(), 0);
    assert_eq!(
        manager.status("slow".into()).unwrap().status,
        Status::Stopped
    );
}

#[test]
fn shutdown_enforces_its_deadline_on_a_stop_already_in_flight() {
    let (launcher, manager) = sim();
    launcher.script("stubborn", SimScript::ignores_term());
    manager
        .start(
            spec("stubborn").with_stop_timeout(NEVER),
            IfRunning::default(),
        )
        .unwrap();
    std::thread::scope(|s| {
        let stopper = s.spawn(|| manager.stop("stubborn".into(), StopOptions::default()));
        eventually("the run is seen Stopping", || {
            manager
                .status("stubborn".into())
                .ok()
                .filter(|s| s.status == Status::Stopping)
        });
        let report = manager.shutdown(Duration::from_millis(20));
        assert_eq!(report.count(ShutdownOutcome::Killed), 1);
        assert_eq!(
            stopper.join().unwrap().unwrap().status,
            Status::Killed(procman_core::Signal::KILL)
        );
    });
}

#[test]
fn dropping_the_manager_shuts_it_down() {
    let (launcher, manager) = sim();
    for name in ["a", "b", "c"] {
        manager.start(spec(name), IfRunning::default()).unwrap();
    }
    assert_eq!(launcher.live_count(), 3);
    drop(manager);
    assert_eq!(launcher.live_count(), 0);
}
