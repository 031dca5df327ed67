//! Manual restarts, and automatic restarts: policy, limit, backoff and cancellation.

use std::time::Duration;

use procman_core::{
    IfRunning, ProcessError, ProcessManager, ProcessSpec, RestartMode, RestartPolicy, SimScript,
    Status, StopOptions, Target,
};

use super::{Fixture, each_registry, spec, status, wait_until};

/// A spec that restarts per `mode`, at most `max` times, waiting `backoff` before each.
fn restarting(name: &str, mode: RestartMode, max: u32, backoff: Duration) -> ProcessSpec {
    spec(name).with_restart(RestartPolicy {
        mode,
        initial_backoff: backoff,
        max_backoff: backoff,
        max_restarts: max,
    })
}

/// An hour: a backoff that only a cancellation or a shutdown ends within a test.
const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn restart_of_a_running_run_starts_a_new_one() {
    each_registry(|f| {
        let m = &f.manager;
        let first = m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
        let second = m.restart(Target::Id(&first.id)).unwrap();
        assert_eq!(second.status, Status::Running);
        assert!(second.id.generation > first.id.generation);
        assert_eq!(second.restarts, 1);
        assert_eq!(m.stats().restarted, 1);
        assert_eq!(f.launcher.live_count(), 1);
        assert!(matches!(
            m.restart(Target::Id(&first.id)),
            Err(ProcessError::Superseded { .. })
        ));
    });
}

#[test]
fn restart_of_an_ended_run_starts_it_again() {
    each_registry(|f| {
        f.launcher
            .script("job", SimScript::exits(2, Duration::ZERO));
        let m = &f.manager;
        let ended = m.start(spec("job"), IfRunning::ReturnExisting).unwrap();
        assert_eq!(ended.status, Status::Exited(2));
        f.launcher.script("job", SimScript::long_running());
        let again = m.restart(Target::Name("job")).unwrap();
        assert_eq!((again.status, again.restarts), (Status::Running, 1));
        let stats = m.stats();
        assert_eq!((stats.started, stats.restarted, stats.active), (2, 1, 1));
    });
}

#[test]
fn on_failure_restarts_up_to_the_limit() {
    each_registry(|f| {
        f.launcher
            .script("flaky", SimScript::exits(1, Duration::ZERO));
        let m = &f.manager;
        m.start(
            restarting("flaky", RestartMode::OnFailure, 3, Duration::ZERO),
            IfRunning::ReturnExisting,
        )
        .unwrap();
        wait_until("three automatic restarts", || {
            let s = status(m, "flaky");
            s.restarts == 3 && s.status == Status::Exited(1)
        });
        // The last run exhausted max_restarts: its terminal state arms nothing.
        let entry = m.supervisor.registry.get("flaky").unwrap();
        assert!(entry.load().restart.is_none());
        assert_eq!(entry.load().auto_restarts, 3);
        let stats = m.stats();
        assert_eq!((stats.started, stats.restarted, stats.active), (4, 3, 0));
    });
}

#[test]
fn on_failure_does_not_restart_a_clean_exit() {
    each_registry(|f| {
        f.launcher.script("ok", SimScript::exits(0, Duration::ZERO));
        let m = &f.manager;
        let ended = m
            .start(
                restarting("ok", RestartMode::OnFailure, 3, Duration::ZERO),
                IfRunning::ReturnExisting,
            )
            .unwrap();
        assert_eq!(ended.status, Status::Exited(0));
        let entry = m.supervisor.registry.get("ok").unwrap();
        assert!(entry.load().restart.is_none());
    });
}

#[test]
fn a_stopped_run_never_restarts_automatically() {
    each_registry(|f| {
        let m = &f.manager;
        m.start(
            restarting("svc", RestartMode::Always, 3, Duration::ZERO),
            IfRunning::ReturnExisting,
        )
        .unwrap();
        let stopped = m.stop(Target::Name("svc"), StopOptions::default()).unwrap();
        assert_eq!(stopped.status, Status::Stopped);
        let entry = m.supervisor.registry.get("svc").unwrap();
        assert!(entry.load().restart.is_none());
    });
}

/// Starts `name` so that it ends at once and its automatic restart sleeps for an hour; returns
/// the ended snapshot and the pending restart's latch.
fn pending_restart(
    f: &Fixture,
    name: &str,
) -> (
    procman_core::ProcessSnapshot,
    procman_core::sync::Arc<procman_core::supervise::ExitLatch>,
) {
    f.launcher.script(name, SimScript::exits(1, Duration::ZERO));
    let ended = f
        .manager
        .start(
            restarting(name, RestartMode::Always, 5, HOUR),
            IfRunning::ReturnExisting,
        )
        .unwrap();
    assert_eq!(ended.status, Status::Exited(1));
    let entry = f.manager.supervisor.registry.get(name).unwrap();
    let latch = entry.load().restart.clone().expect("a restart is pending");
    assert!(!latch.is_set());
    (ended, latch)
}

#[test]
fn stop_cancels_a_pending_restart_and_succeeds() {
    each_registry(|f| {
        let (ended, latch) = pending_restart(&f, "a");
        let m = &f.manager;
        let stopped = m.stop(Target::Name("a"), StopOptions::default()).unwrap();
        assert_eq!(stopped, ended, "the ended snapshot, as success");
        assert!(
            latch.is_set(),
            "the backoff thread is woken to see its cancellation"
        );
        assert!(matches!(
            m.stop(Target::Name("a"), StopOptions::default()),
            Err(ProcessError::NotRunning { .. })
        ));
        assert_eq!(m.stats().restarted, 0);
    });
}

#[test]
fn start_and_restart_cancel_a_pending_restart() {
    each_registry(|f| {
        let m = &f.manager;
        let (ended, latch) = pending_restart(&f, "a");
        f.launcher.script("a", SimScript::long_running());
        let started = m.start(spec("a"), IfRunning::Error).unwrap();
        assert!(latch.is_set());
        assert_eq!(started.restarts, ended.restarts);
        assert_eq!(m.stats().restarted, 0);

        let (ended, latch) = pending_restart(&f, "b");
        f.launcher.script("b", SimScript::long_running());
        let restarted = m.restart(Target::Name("b")).unwrap();
        assert!(latch.is_set());
        assert_eq!(restarted.restarts, ended.restarts + 1);
        assert_eq!(m.stats().restarted, 1, "only the manual restart");
    });
}

#[test]
fn the_backoff_elapses_then_the_run_restarts() {
    each_registry(|f| {
        f.launcher
            .script("tick", SimScript::exits(0, Duration::ZERO));
        let m = &f.manager;
        let first = m
            .start(
                restarting("tick", RestartMode::Always, 1, Duration::from_millis(5)),
                IfRunning::ReturnExisting,
            )
            .unwrap();
        wait_until("the automatic restart", || status(m, "tick").restarts == 1);
        let second = status(m, "tick");
        assert!(second.id.generation > first.id.generation);
        assert_eq!(m.stats().restarted, 1);
    });
}

/// Restarts `name` (running) on another thread and stalls the stop of its run right after the
/// run's terminal state is installed and before its end latch opens: the exit event, which the
/// simulated child delivers on the restarting thread inside the stop signal, closes the run's
/// log in between, and the test holds that log's lock. Returns the restart's thread once the
/// name is seen ended; the restart resumes when `held` is dropped.
fn restart_stalled_after_the_stop<'s>(
    s: &'s std::thread::Scope<'s, '_>,
    f: &'s Fixture,
    name: &'s str,
) -> std::thread::ScopedJoinHandle<'s, procman_core::Result<procman_core::ProcessSnapshot>> {
    let restarter = s.spawn(move || f.manager.restart(Target::Name(name)));
    wait_until("the targeted run to be stopped", || {
        status(&f.manager, name).status == Status::Stopped
    });
    restarter
}

#[test]
fn restart_returns_a_run_another_client_started_after_the_stop() {
    each_registry(|f| {
        let m = &f.manager;
        let first = m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
        let entry = m.supervisor.registry.get("a").unwrap();
        let first_run = entry.load().run.clone();
        let held = first_run.log.hold();
        std::thread::scope(|s| {
            let restarter = restart_stalled_after_the_stop(s, &f, "a");
            // Another client starts the ended name before the restart looks again.
            let other = m.start(spec("a"), IfRunning::Error).unwrap();
            assert_eq!(other.status, Status::Running);
            assert!(other.id.generation > first.id.generation);
            drop(held);
            let restarted = restarter.join().unwrap().unwrap();
            // The other client's run won the race: returned, not stopped, not replaced.
            assert_eq!(restarted.id, other.id);
            assert_eq!(restarted.status, Status::Running);
            let now = status(m, "a");
            assert_eq!((now.id, now.status), (other.id, Status::Running));
            assert_eq!(f.launcher.spawn_count(), 2);
            assert_eq!(f.launcher.live_count(), 1);
            let stats = m.stats();
            assert_eq!((stats.started, stats.restarted, stats.active), (2, 0, 1));
        });
    });
}

#[test]
fn restart_returns_a_run_another_client_is_still_spawning() {
    each_registry(|f| {
        let m = &f.manager;
        m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
        let entry = m.supervisor.registry.get("a").unwrap();
        let first_run = entry.load().run.clone();
        let held = first_run.log.hold();
        let spawns = f.launcher.hold_spawns("a");
        std::thread::scope(|s| {
            let restarter = restart_stalled_after_the_stop(s, &f, "a");
            let starter = s.spawn(|| m.start(spec("a"), IfRunning::Error));
            wait_until("the other start to be spawning", || spawns.waiting() == 1);
            let starting = status(m, "a");
            assert_eq!(starting.status, Status::Starting);
            drop(held);
            let restarted = restarter.join().unwrap();
            // Let the other start finish before asserting, so a failure cannot hang the scope.
            spawns.open();
            let started = starter.join().unwrap().unwrap();
            // Not `Busy`: the restart never targeted that run; it returns it as it is.
            let restarted = restarted.unwrap();
            assert_eq!(restarted.id, starting.id);
            assert_eq!(restarted.status, Status::Starting);
            assert_eq!((started.id, started.status), (starting.id, Status::Running));
            assert_eq!(f.launcher.spawn_count(), 2);
            assert_eq!(m.stats().restarted, 0);
        });
    });
}
