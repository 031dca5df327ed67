//! Stops, restarts and automatic restarts of the actor design, with the simulated launcher.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

mod common;

use std::time::Duration;

use common::{checked, eventually, sim, spec};
use procman_core::{
    ExitInfo, IfRunning, ProcessError, ProcessManager, RestartMode, RestartPolicy, Signal,
    SimScript, Status, StatusKind, StopOptions,
};

/// Long enough that a test never waits it out: the run is always ended some other way first.
const NEVER: Duration = Duration::from_secs(3600);

#[test]
fn stop_ends_the_run_as_stopped_and_a_second_stop_is_refused() {
    let (launcher, manager) = sim();
    manager.start(spec("web"), IfRunning::default()).unwrap();
    let stopped = checked(manager.stop("web".into(), StopOptions::default()).unwrap());
    assert_eq!(stopped.status, Status::Stopped);
    assert_eq!(stopped.exit, Some(ExitInfo::Signal(Signal::TERM)));
    assert_eq!(launcher.live_count(), 0);
    assert!(matches!(
        manager.stop("web".into(), StopOptions::default()),
        Err(ProcessError::NotRunning {
            status: StatusKind::Stopped,
            ..
        })
    ));
    assert_eq!(manager.stats().active, 0);
}

#[test]
fn a_child_ignoring_the_stop_signal_is_killed_after_the_timeout() {
    let (launcher, manager) = sim();
    launcher.script("stubborn", SimScript::ignores_term());
    let spec = spec("stubborn").with_stop_timeout(Duration::from_millis(20));
    manager.start(spec, IfRunning::default()).unwrap();
    let ended = checked(
        manager
            .stop("stubborn".into(), StopOptions::default())
            .unwrap(),
    );
    assert_eq!(ended.status, Status::Killed(Signal::KILL));
}

#[test]
fn a_forced_stop_kills_at_once() {
    let (launcher, manager) = sim();
    launcher.script("stubborn", SimScript::ignores_term());
    manager
        .start(
            spec("stubborn").with_stop_timeout(NEVER),
            IfRunning::default(),
        )
        .unwrap();
    let ended = manager
        .stop("stubborn".into(), StopOptions { force: true })
        .unwrap();
    assert_eq!(ended.status, Status::Killed(Signal::KILL));
}

#[test]
fn a_second_stop_joins_the_one_in_flight_and_readers_are_not_held_up() {
    let (launcher, manager) = sim();
    launcher.script("stubborn", SimScript::ignores_term());
    manager
        .start(
            spec("stubborn").with_stop_timeout(NEVER),
            IfRunning::default(),
        )
        .unwrap();
    std::thread::scope(|s| {
        let leader = s.spawn(|| manager.stop("stubborn".into(), StopOptions::default()));
        // The leader now waits out a one-hour timeout; readers must not wait with it.
        let stopping = eventually("the run is seen Stopping", || {
            manager
                .status("stubborn".into())
                .ok()
                .filter(|s| s.status == Status::Stopping)
        });
        checked(stopping);
        assert_eq!(manager.list()[0].status, Status::Stopping);
        let joined = manager
            .stop("stubborn".into(), StopOptions { force: true })
            .unwrap();
        let led = leader.join().unwrap().unwrap();
        assert_eq!(joined, led);
        assert_eq!(led.status, Status::Killed(Signal::KILL));
    });
}

#[test]
fn restart_stops_then_starts_a_new_run() {
    let (_launcher, manager) = sim();
    let first = manager.start(spec("web"), IfRunning::default()).unwrap();
    let second = checked(manager.restart("web".into()).unwrap());
    assert_eq!(second.status, Status::Running);
    assert_eq!(second.restarts, 1);
    assert!(second.id.generation > first.id.generation);
    // An ended run restarts too.
    manager.stop("web".into(), StopOptions::default()).unwrap();
    let third = manager.restart((&second.id).into()).unwrap();
    assert_eq!(third.restarts, 2);
    let stats = manager.stats();
    assert_eq!((stats.started, stats.restarted, stats.active), (3, 2, 1));
}

fn on_failure(max_restarts: u32, backoff: Duration) -> RestartPolicy {
    RestartPolicy {
        mode: RestartMode::OnFailure,
        initial_backoff: backoff,
        max_backoff: backoff,
        max_restarts,
    }
}

#[test]
fn a_failing_run_restarts_by_itself_up_to_its_limit() {
    let (launcher, manager) = sim();
    launcher.script("flaky", SimScript::exits(1, Duration::ZERO));
    let spec = spec("flaky").with_restart(on_failure(2, Duration::from_millis(1)));
    let first = manager.start(spec, IfRunning::default()).unwrap();
    assert_eq!(first.status, Status::Exited(1));
    let last = eventually("two automatic restarts, then the end", || {
        manager
            .status("flaky".into())
            .ok()
            .filter(|s| s.restarts == 2 && s.status.is_terminal())
    });
    checked(last);
    assert_eq!(last.status, Status::Exited(1));
    assert_eq!(last.id.generation, 3);
    let stats = manager.stats();
    assert_eq!((stats.started, stats.restarted, stats.active), (3, 2, 0));
}

#[test]
fn a_clean_exit_or_a_stop_is_not_restarted_on_failure() {
    let (launcher, manager) = sim();
    launcher.script("done", SimScript::exits(0, Duration::ZERO));
    let policy = on_failure(5, Duration::ZERO);
    manager
        .start(spec("done").with_restart(policy), IfRunning::default())
        .unwrap();
    manager
        .start(spec("web").with_restart(policy), IfRunning::default())
        .unwrap();
    manager.stop("web".into(), StopOptions::default()).unwrap();
    // Nothing is pending: a stop of either is refused, and nothing was restarted.
    for name in ["done", "web"] {
        assert!(matches!(
            manager.stop(name.into(), StopOptions::default()),
            Err(ProcessError::NotRunning { .. })
        ));
    }
    assert_eq!(manager.stats().restarted, 0);
}

#[test]
fn a_stop_or_a_start_cancels_a_pending_automatic_restart() {
    let (launcher, manager) = sim();
    launcher.script("flaky", SimScript::exits(1, Duration::ZERO));
    let spec = spec("flaky").with_restart(on_failure(5, NEVER));
    let ended = manager.start(spec.clone(), IfRunning::default()).unwrap();
    // The backoff is pending: the stop cancels it and returns the ended run as success.
    let stopped = manager
        .stop("flaky".into(), StopOptions::default())
        .unwrap();
    assert_eq!(stopped.id, ended.id);
    assert_eq!(stopped.status, Status::Exited(1));
    assert!(matches!(
        manager.stop("flaky".into(), StopOptions::default()),
        Err(ProcessError::NotRunning { .. })
    ));
    // It ends again with a restart pending; a manual start (this time with no restart policy)
    // replaces the ended run, keeping its restart count, and cancels that restart.
    let again = manager.start(spec, IfRunning::default()).unwrap();
    assert_eq!(again.status, Status::Exited(1));
    let replaced = manager
        .start(common::spec("flaky"), IfRunning::default())
        .unwrap();
    assert!(replaced.id.generation > again.id.generation);
    assert_eq!(replaced.restarts, again.restarts);
    assert!(matches!(
        manager.stop("flaky".into(), StopOptions::default()),
        Err(ProcessError::NotRunning { .. })
    ));
    assert_eq!(manager.stats().restarted, 0);
}
