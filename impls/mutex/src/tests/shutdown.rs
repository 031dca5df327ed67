//! Shutdown: the report, the flag, idempotence, drop, and runs whose spawn is in flight.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use procman_core::{
    IfRunning, ManagerConfig, ProcessError, ProcessManager, RestartMode, RestartPolicy,
    ShutdownOutcome, Signal, SimLauncher, SimScript, Status, Target,
};

use super::{GatedLauncher, eventually, manager, spec, status};
use crate::MutexManager;

#[test]
fn shutdown_stops_everything_and_reports_how() {
    let launcher = SimLauncher::new();
    launcher.script("stubborn", SimScript::ignores_term());
    launcher.script("done", SimScript::exits(0, Duration::ZERO));
    let m = manager(&launcher);
    let web = m.start(spec("web"), IfRunning::Error).unwrap();
    let stubborn = m.start(spec("stubborn"), IfRunning::Error).unwrap();
    m.start(spec("done"), IfRunning::Error).unwrap();

    let report = m.shutdown(Duration::from_millis(20));
    let outcomes: HashMap<_, _> = report.processes.iter().cloned().collect();
    assert_eq!(
        outcomes.len(),
        2,
        "only runs live at shutdown are reported: {report:?}"
    );
    assert_eq!(outcomes[&web.id], ShutdownOutcome::Graceful);
    assert_eq!(outcomes[&stubborn.id], ShutdownOutcome::Killed);
    assert_eq!(status(&m, "web").status, Status::Stopped);
    assert_eq!(status(&m, "stubborn").status, Status::Killed(Signal::KILL));
    assert_eq!(launcher.live_count(), 0);
    assert_eq!(m.stats().active, 0);

    assert_eq!(
        m.start(spec("late"), IfRunning::Error),
        Err(ProcessError::ShuttingDown)
    );
    assert_eq!(
        m.start(spec("web"), IfRunning::Error),
        Err(ProcessError::ShuttingDown)
    );
    assert_eq!(
        m.restart(Target::Name("web")),
        Err(ProcessError::ShuttingDown)
    );
    assert!(
        m.shutdown(Duration::ZERO).processes.is_empty(),
        "idempotent"
    );
    assert_eq!(m.list().len(), 3, "reads still work after shutdown");
}

#[test]
fn shutdown_cancels_pending_restarts() {
    let launcher = SimLauncher::new();
    launcher.script("crashy", SimScript::exits(1, Duration::ZERO));
    let m = manager(&launcher);
    let policy = RestartPolicy {
        mode: RestartMode::Always,
        initial_backoff: Duration::from_secs(3600),
        max_backoff: Duration::from_secs(3600),
        max_restarts: 5,
    };
    let ended = m
        .start(spec("crashy").with_restart(policy), IfRunning::Error)
        .unwrap();
    assert!(m.shutdown(Duration::ZERO).processes.is_empty());
    assert_eq!(status(&m, "crashy").id, ended.id);
    assert_eq!(m.stats().restarted, 0);
}

#[test]
fn shutdown_waits_for_a_spawn_in_flight_and_stops_it() {
    let gate = GatedLauncher::new(SimLauncher::new());
    let m = Arc::new(MutexManager::new(gate.clone(), ManagerConfig::default()));
    let starter = std::thread::spawn({
        let m = Arc::clone(&m);
        move || m.start(spec("slow"), IfRunning::Error)
    });
    eventually("the spawn to reach the gate", || gate.arrived() == 1);
    let shutdown = std::thread::spawn({
        let m = Arc::clone(&m);
        move || m.shutdown(Duration::from_secs(5))
    });
    // Before the flag a restart of the starting run is `Busy`; after it, `ShuttingDown`.
    eventually("the flag to be raised", || {
        m.restart(Target::Name("slow")) == Err(ProcessError::ShuttingDown)
    });
    gate.open();
    let started = starter.join().unwrap().unwrap();
    let report = shutdown.join().unwrap();
    assert_eq!(
        report.processes,
        vec![(started.id, ShutdownOutcome::Graceful)]
    );
    assert_eq!(status(&m, "slow").status, Status::Stopped);
    assert_eq!(gate.inner.live_count(), 0);
}

#[test]
fn dropping_a_manager_shuts_it_down() {
    let launcher = SimLauncher::new();
    let m = manager(&launcher);
    for name in ["a", "b", "c"] {
        m.start(spec(name), IfRunning::Error).unwrap();
    }
    assert_eq!(launcher.live_count(), 3);
    drop(m);
    assert_eq!(launcher.live_count(), 0);
}
