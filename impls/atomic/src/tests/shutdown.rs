//! Shutdown: the report, refusal of new work, idempotence, drop, and the gate against starts
//! racing the flag.

use std::time::Duration;

use procman_core::sync::Arc;
use procman_core::{
    IfRunning, ManagerConfig, ProcessError, ProcessManager, RestartMode, RestartPolicy,
    ShutdownOutcome, Signal, SimLauncher, SimScript, Status, StopOptions, Target,
};

use super::{each_registry, spec, wait_until};
use crate::AtomicManager;

#[test]
fn shutdown_stops_every_live_run_and_refuses_new_work() {
    each_registry(|f| {
        f.launcher
            .script("done", SimScript::exits(0, Duration::ZERO));
        f.launcher.script("stubborn", SimScript::ignores_term());
        let m = &f.manager;
        let mut live = Vec::new();
        for name in ["a", "b", "stubborn"] {
            live.push(m.start(spec(name), IfRunning::ReturnExisting).unwrap().id);
        }
        m.start(spec("done"), IfRunning::ReturnExisting).unwrap();

        let report = m.shutdown(Duration::from_millis(20));
        let mut reported: Vec<_> = report.processes.iter().map(|(id, _)| *id).collect();
        reported.sort();
        assert_eq!(reported, live, "exactly the live runs");
        assert_eq!(report.count(ShutdownOutcome::Graceful), 2);
        assert_eq!(report.count(ShutdownOutcome::Killed), 1);
        assert!(
            report
                .processes
                .iter()
                .any(|(id, o)| &*id.name == "stubborn" && *o == ShutdownOutcome::Killed)
        );
        assert_eq!(f.launcher.live_count(), 0);
        assert_eq!(m.stats().active, 0);

        assert_eq!(
            m.start(spec("late"), IfRunning::ReturnExisting)
                .unwrap_err(),
            ProcessError::ShuttingDown
        );
        assert_eq!(
            m.restart(Target::Name("a")).unwrap_err(),
            ProcessError::ShuttingDown
        );
        assert!(
            m.shutdown(Duration::ZERO).processes.is_empty(),
            "idempotent"
        );
        assert!(m.status(Target::Name("a")).unwrap().status.is_terminal());
    });
}

#[test]
fn shutdown_cancels_pending_restarts() {
    each_registry(|f| {
        f.launcher
            .script("flaky", SimScript::exits(1, Duration::ZERO));
        let m = &f.manager;
        m.start(
            spec("flaky").with_restart(RestartPolicy {
                mode: RestartMode::Always,
                initial_backoff: Duration::from_secs(3600),
                max_backoff: Duration::from_secs(3600),
                max_restarts: 5,
            }),
            IfRunning::ReturnExisting,
        )
        .unwrap();
        let entry = m.supervisor.registry.get("flaky").unwrap();
        let latch = entry.load().restart.clone().unwrap();
        let report = m.shutdown(Duration::ZERO);
        assert!(report.processes.is_empty(), "nothing was live");
        assert!(latch.is_set(), "the sleeping backoff thread is woken");
        assert!(entry.load().restart.is_none());
        assert_eq!(m.stats().restarted, 0);
    });
}

#[test]
fn dropping_the_manager_shuts_it_down() {
    let launcher = SimLauncher::new();
    let manager = AtomicManager::new(Arc::new(launcher.clone()), ManagerConfig::default());
    for name in ["a", "b", "c"] {
        manager
            .start(spec(name), IfRunning::ReturnExisting)
            .unwrap();
    }
    let weak = Arc::downgrade(&manager.supervisor);
    drop(manager);
    assert_eq!(launcher.live_count(), 0);
    assert!(
        weak.upgrade().is_none(),
        "no event sink or thread keeps the manager alive"
    );
}

#[test]
fn shutdown_waits_for_a_start_in_flight_and_stops_its_run() {
    each_registry(|f| {
        let held = f.launcher.hold_spawns("slow");
        let m = &f.manager;
        std::thread::scope(|s| {
            let starter = s.spawn(|| m.start(spec("slow"), IfRunning::ReturnExisting));
            wait_until("the spawn to be held", || held.waiting() == 1);
            let stopper = s.spawn(|| m.shutdown(Duration::from_secs(5)));
            wait_until("the gate to close", || m.supervisor.gate.is_closed());
            held.open();
            let started = starter.join().unwrap().unwrap();
            let report = stopper.join().unwrap();
            assert_eq!(
                report.processes,
                vec![(started.id, ShutdownOutcome::Graceful)],
                "the start that entered before the flag had its run stopped"
            );
        });
        assert_eq!(f.launcher.live_count(), 0);
        assert_eq!(
            f.launcher.spawn_count(),
            f.launcher.exit_count(),
            "no child outlives the shutdown"
        );
    });
}

#[test]
fn starts_racing_shutdown_leave_no_live_child() {
    each_registry(|f| {
        let m = &f.manager;
        let barrier = std::sync::Barrier::new(5);
        std::thread::scope(|s| {
            let starters: Vec<_> = (0..4)
                .map(|t| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        let mut refused = false;
                        for i in 0..200 {
                            match m.start(spec(&format!("p{t}-{i}")), IfRunning::ReturnExisting) {
                                Ok(snapshot) => assert_eq!(snapshot.status, Status::Running),
                                Err(ProcessError::ShuttingDown) => refused = true,
                                Err(e) => panic!("unexpected error {e}"),
                            }
                            if refused {
                                break;
                            }
                        }
                    })
                })
                .collect();
            barrier.wait();
            let report = m.shutdown(Duration::from_secs(5));
            for starter in starters {
                starter.join().unwrap();
            }
            assert!(
                report
                    .processes
                    .iter()
                    .all(|(_, o)| *o == ShutdownOutcome::Graceful)
            );
            assert_eq!(report.processes.len() as u64, m.stats().started);
        });
        assert_eq!(f.launcher.spawn_count(), f.launcher.exit_count());
        assert_eq!(m.stats().active, 0);
    });
}

/// A shutdown that finds a stop already under way joins it and reports how the run ended: a
/// child that obeyed the stop signal ended gracefully, even though the shutdown did not send it.
#[test]
fn a_shutdown_that_joins_a_stop_reports_a_graceful_end() {
    each_registry(|f| {
        f.launcher
            .script("slow", SimScript::slow_stop(Duration::from_millis(200)));
        let m = &f.manager;
        m.start(spec("slow"), IfRunning::ReturnExisting).unwrap();
        std::thread::scope(|s| {
            let stop = s.spawn(|| m.stop(Target::Name("slow"), StopOptions::default()));
            wait_until("the stop to begin", || {
                m.status(Target::Name("slow")).unwrap().status == Status::Stopping
            });
            // A deadline far beyond the child's 200 ms, so nothing is killed.
            let report = m.shutdown(Duration::from_secs(60));
            assert_eq!(report.processes.len(), 1, "{report:?}");
            assert_eq!(report.count(ShutdownOutcome::Graceful), 1, "{report:?}");
            let stopped = stop.join().unwrap().unwrap();
            assert_ne!(stopped.status, Status::Killed(Signal::KILL));
        });
    });
}
