//! Start, status, list, stop and restart, one call at a time, and the errors they give.

use std::sync::Arc;
use std::time::Duration;

use procman_core::{
    ExitInfo, IfRunning, ManagerConfig, ProcessError, ProcessManager, ProcessSpec, Signal,
    SimLauncher, SimScript, Status, StatusKind, StopOptions, Target,
};

use super::{GatedLauncher, eventually, manager, spec, status};
use crate::MutexManager;

#[test]
fn start_status_stop() {
    let launcher = SimLauncher::new();
    let m = manager(&launcher);
    assert_eq!(m.design(), "mutex");
    let started = m.start(spec("web"), IfRunning::ReturnExisting).unwrap();
    assert_eq!(started.status, Status::Running);
    assert!(started.pid.is_some());
    assert_eq!(status(&m, "web"), started);

    let stopped = m.stop(Target::Name("web"), StopOptions::default()).unwrap();
    assert_eq!(
        stopped.status,
        Status::Stopped,
        "asked to stop is never failed"
    );
    assert_eq!(stopped.exit, Some(ExitInfo::Signal(Signal::TERM)));
    stopped.check_invariants().unwrap();
    assert_eq!(status(&m, "web"), stopped);
    let stats = m.stats();
    assert_eq!((stats.started, stats.active, stats.failed), (1, 0, 0));
    assert_eq!(launcher.live_count(), 0);
}

#[test]
fn a_live_name_is_returned_or_refused() {
    let launcher = SimLauncher::new();
    let m = manager(&launcher);
    let first = m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
    let again = m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
    assert_eq!(again.id, first.id);
    match m.start(spec("a"), IfRunning::Error) {
        Err(ProcessError::AlreadyRunning { id, status }) => {
            assert_eq!(id, first.id);
            assert_eq!(status, StatusKind::Running);
        }
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    assert_eq!(m.stats().started, 1);
}

#[test]
fn an_ended_name_starts_a_new_generation_and_old_ids_are_superseded() {
    let launcher = SimLauncher::new();
    let m = manager(&launcher);
    let first = m.start(spec("a"), IfRunning::Error).unwrap();
    m.stop(Target::Id(&first.id), StopOptions::default())
        .unwrap();
    let second = m.start(spec("a"), IfRunning::Error).unwrap();
    assert!(second.id.generation > first.id.generation);
    assert_eq!(second.restarts, 0, "a start keeps the restart count");

    match m.status(Target::Id(&first.id)) {
        Err(ProcessError::Superseded { asked, current }) => {
            assert_eq!(asked, first.id);
            assert_eq!(current, second.id);
        }
        other => panic!("expected Superseded, got {other:?}"),
    }
    let future = procman_core::ProcessId::new(Arc::from("a"), second.id.generation + 100);
    assert!(matches!(
        m.status(Target::Id(&future)),
        Err(ProcessError::NotFound { .. })
    ));
    assert!(matches!(
        m.status(Target::Name("nope")),
        Err(ProcessError::NotFound { .. })
    ));
    assert!(matches!(
        m.logs_tail(Target::Id(&first.id), 0, 10),
        Err(ProcessError::Superseded { .. })
    ));
}

#[test]
fn list_is_sorted_by_name() {
    let launcher = SimLauncher::new();
    let m = manager(&launcher);
    for name in ["c", "a", "b"] {
        m.start(spec(name), IfRunning::Error).unwrap();
    }
    let names: Vec<String> = m.list().iter().map(|s| s.name().to_owned()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn invalid_specs_and_the_name_limit_are_refused() {
    let launcher = SimLauncher::new();
    let config = ManagerConfig {
        max_processes: 2,
        ..ManagerConfig::default()
    };
    let m = MutexManager::new(Arc::new(launcher), config);
    assert!(matches!(
        m.start(ProcessSpec::new("", ["x"]), IfRunning::Error),
        Err(ProcessError::InvalidSpec { .. })
    ));
    m.start(spec("a"), IfRunning::Error).unwrap();
    m.start(spec("b"), IfRunning::Error).unwrap();
    match m.start(spec("c"), IfRunning::Error) {
        Err(ProcessError::LimitReached { name, limit }) => {
            assert_eq!((name.as_str(), limit), ("c", 2))
        }
        other => panic!("expected LimitReached, got {other:?}"),
    }
    // Known names are not new names: restarting one within the limit works.
    m.stop(Target::Name("a"), StopOptions::default()).unwrap();
    m.start(spec("a"), IfRunning::Error).unwrap();
}

#[test]
fn a_failed_spawn_is_recorded_and_reported() {
    let launcher = SimLauncher::new();
    launcher.script("bad", SimScript::spawn_fails("no such file: /bin/nope"));
    let m = manager(&launcher);
    match m.start(spec("bad"), IfRunning::Error) {
        Err(ProcessError::SpawnFailed { reason, .. }) => assert!(reason.contains("/bin/nope")),
        other => panic!("expected SpawnFailed, got {other:?}"),
    }
    let failed = status(&m, "bad");
    assert_eq!(failed.status.kind(), StatusKind::Failed);
    let stats = m.stats();
    assert_eq!((stats.started, stats.failed, stats.active), (1, 1, 0));
    assert!(matches!(
        m.stop(Target::Name("bad"), StopOptions::default()),
        Err(ProcessError::NotRunning { .. })
    ));
}

#[test]
fn a_child_that_exits_inside_attach_is_already_terminal() {
    let launcher = SimLauncher::new();
    launcher.script("once", SimScript::exits(3, Duration::ZERO));
    let m = manager(&launcher);
    let snapshot = m.start(spec("once"), IfRunning::Error).unwrap();
    assert_eq!(snapshot.status, Status::Exited(3));
    snapshot.check_invariants().unwrap();
    assert_eq!(m.stats().active, 0);
    match m.stop(Target::Name("once"), StopOptions::default()) {
        Err(ProcessError::NotRunning { status, .. }) => assert_eq!(status, StatusKind::Exited),
        other => panic!("expected NotRunning, got {other:?}"),
    }
}

#[test]
fn restart_stops_then_starts_a_new_run() {
    let launcher = SimLauncher::new();
    let m = manager(&launcher);
    let first = m.start(spec("a"), IfRunning::Error).unwrap();
    let second = m.restart(Target::Name("a")).unwrap();
    assert_eq!(second.status, Status::Running);
    assert!(second.id.generation > first.id.generation);
    assert_eq!(second.restarts, 1);
    m.stop(Target::Name("a"), StopOptions::default()).unwrap();
    let third = m.restart(Target::Id(&second.id)).unwrap();
    assert_eq!(third.restarts, 2, "restarting an ended run counts too");
    let stats = m.stats();
    assert_eq!((stats.started, stats.restarted, stats.active), (3, 2, 1));
}

#[test]
fn a_forced_stop_kills_and_joins_a_stop_in_flight() {
    let launcher = SimLauncher::new();
    launcher.script("stubborn", SimScript::ignores_term());
    let m = Arc::new(manager(&launcher));
    let slow = spec("stubborn").with_stop_timeout(Duration::from_secs(3600));
    m.start(slow, IfRunning::Error).unwrap();

    let graceful = std::thread::spawn({
        let m = Arc::clone(&m);
        move || m.stop(Target::Name("stubborn"), StopOptions::default())
    });
    // Readers are not held up by the stop in flight: they see it as `Stopping`.
    eventually("the stop to begin", || {
        status(&m, "stubborn").status == Status::Stopping
    });
    assert!(
        !graceful.is_finished(),
        "the child ignores SIGTERM; only the forced stop ends it"
    );
    assert_eq!(m.list()[0].status, Status::Stopping);

    let forced = m
        .stop(Target::Name("stubborn"), StopOptions { force: true })
        .unwrap();
    let joined = graceful.join().unwrap().unwrap();
    assert_eq!(forced.status, Status::Killed(Signal::KILL));
    assert_eq!(
        joined, forced,
        "both stoppers report the same terminal snapshot"
    );
}

#[test]
fn readers_do_not_wait_for_a_spawn_and_writers_get_busy() {
    let gate = GatedLauncher::new(SimLauncher::new());
    let m = Arc::new(MutexManager::new(gate.clone(), ManagerConfig::default()));
    let starter = std::thread::spawn({
        let m = Arc::clone(&m);
        move || m.start(spec("slow"), IfRunning::Error)
    });
    eventually("the spawn to reach the gate", || gate.arrived() == 1);

    let starting = status(&m, "slow");
    assert_eq!(starting.status, Status::Starting);
    assert_eq!(m.list().len(), 1);
    assert_eq!(
        m.start(spec("slow"), IfRunning::ReturnExisting).unwrap().id,
        starting.id
    );
    for result in [
        m.stop(Target::Name("slow"), StopOptions::default()),
        m.restart(Target::Name("slow")),
    ] {
        match result {
            Err(ProcessError::Busy { status, .. }) => assert_eq!(status, StatusKind::Starting),
            other => panic!("expected Busy, got {other:?}"),
        }
    }
    gate.open();
    let running = starter.join().unwrap().unwrap();
    assert_eq!(running.status, Status::Running);
    assert_eq!(running.id, starting.id);
}
