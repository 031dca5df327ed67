//! Restarts: manual (of a running, an ended and a stopping run) and automatic (each policy, its
//! cap, its backoff, and what cancels it).
//!
//! Automatic restarts are checked by counts and order — `restarts`, generations, the
//! `restarted` counter — never by how long the backoff took.

use std::time::Duration;

use procman_core::{
    ExitInfo, ProcessError, RestartMode, RestartPolicy, Signal, SimScript, Status, Target,
};

use crate::support::{Fixture, HOUR, MakeManager, pending_policy, policy, quiet_period, spec};

/// A restart of a running process stops it and starts a new run: a higher generation,
/// `restarts + 1`, a new child; the old id is superseded for status, stop and restart alike.
pub fn restart_of_a_running_process(make: &MakeManager) {
    let fx = Fixture::new(make);
    let first = fx.start_ok(spec("web"));
    let second = fx.restart_ok("web");
    assert_eq!(second.status, Status::Running, "{second:?}");
    assert!(second.id.generation > first.id.generation);
    assert_eq!(second.restarts, first.restarts + 1);
    assert_ne!(second.pid, first.pid);
    assert_eq!(fx.status_ok("web").id, second.id);

    let superseded = ProcessError::Superseded {
        asked: first.id,
        current: second.id,
    };
    assert_eq!(fx.status(Target::Id(&first.id)).unwrap_err(), superseded);
    assert_eq!(fx.stop(&first.id, false).unwrap_err(), superseded);
    assert_eq!(fx.restart(&first.id).unwrap_err(), superseded);

    assert_eq!(
        fx.alive(),
        1,
        "the old child must be gone, the new one alive"
    );
    assert_eq!(fx.sim.exit_count(), 1);
    let stats = fx.stats();
    assert_eq!(
        (stats.started, stats.restarted, stats.active),
        (2, 1, 1),
        "{stats:?}"
    );

    let third = fx.restart_ok(&second.id);
    assert_eq!(third.restarts, 2);
    assert!(third.id.generation > second.id.generation);
}

/// A restart of an ended run (exited or stopped) starts it again with `restarts + 1`.
pub fn restart_of_an_ended_process(make: &MakeManager) {
    let fx = Fixture::new(make);
    let first = fx.start_ok(spec("web"));
    fx.exit_child("web", ExitInfo::Code(3));
    let second = fx.restart_ok("web");
    assert_eq!(second.status, Status::Running);
    assert_eq!(second.restarts, 1);
    assert!(second.id.generation > first.id.generation);

    fx.stop_ok("web");
    let third = fx.restart_ok("web");
    assert_eq!(third.restarts, 2);
    assert_eq!(fx.stats().restarted, 2);
    assert_eq!(fx.alive(), 1);
}

/// A restart while a stop is in flight waits for that stop, then starts one new run.
pub fn restart_joins_a_stop_in_flight(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script("web", SimScript::ignores_term());
    let first = fx.start_ok(spec("web").with_stop_timeout(HOUR));
    let stop = fx.stop_call("web", false);
    fx.wait_for("web", "stopping", |s| s.status == Status::Stopping);
    let restart = fx.restart_call("web");
    // Give the restart time to arrive while the stop is in flight (either order must work).
    quiet_period();
    fx.control("web").exit(ExitInfo::Code(0));

    let stopped = stop.wait().expect("the stop");
    assert_eq!((stopped.id, stopped.status), (first.id, Status::Stopped));
    let second = restart.wait().expect("the restart");
    assert_eq!(second.status, Status::Running, "{second:?}");
    assert_eq!(second.restarts, 1);
    assert!(second.id.generation > first.id.generation);
    assert_eq!(fx.sim.spawn_count(), 2, "exactly one new child");
    assert_eq!(fx.alive(), 1);
}

/// Policy `never`: a failing exit stays ended.
pub fn never_policy_does_not_restart(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("job", SimScript::exits(1, Duration::from_millis(1)));
    let run = fx.start_ok(spec("job").with_restart(RestartPolicy::never()));
    let end = fx.wait_ended("job");
    quiet_period();
    let now = fx.status_ok("job");
    assert_eq!((now.id, now.status), (run.id, Status::Exited(1)));
    assert_eq!(end.restarts, 0);
    assert_eq!(fx.stats().restarted, 0);
}

/// Policy `on-failure`: exit code 0 is not a failure.
pub fn on_failure_ignores_a_clean_exit(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("job", SimScript::exits(0, Duration::from_millis(1)));
    let run = fx.start_ok(spec("job").with_restart(policy(RestartMode::OnFailure, 5)));
    fx.wait_ended("job");
    quiet_period();
    let now = fx.status_ok("job");
    assert_eq!((now.id, now.status), (run.id, Status::Exited(0)));
    assert_eq!(fx.stats().restarted, 0);
}

/// Policy `on-failure`: a non-zero exit is restarted, each restart a new generation with
/// `restarts + 1`, until `max_restarts`; then the last run stays ended.
pub fn on_failure_restarts_up_to_max_restarts(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("job", SimScript::exits(3, Duration::from_millis(1)));
    let first = fx.start_ok(spec("job").with_restart(policy(RestartMode::OnFailure, 3)));
    let last = fx.wait_for("job", "ended after its restarts", |s| {
        s.restarts >= 3 && s.status.is_terminal()
    });
    assert_eq!(last.restarts, 3, "{last:?}");
    assert_eq!(last.status, Status::Exited(3));
    assert!(last.id.generation >= first.id.generation + 3);
    quiet_period();
    assert_eq!(fx.status_ok("job"), last, "a restart beyond max_restarts");
    let stats = fx.stats();
    assert_eq!((stats.started, stats.restarted), (4, 3), "{stats:?}");
    assert_eq!(fx.sim.spawn_count(), 4);
}

/// Policy `on-failure`: death by a signal nobody sent through the manager is a failure.
pub fn on_failure_restarts_after_death_by_signal(make: &MakeManager) {
    let fx = Fixture::new(make);
    let first = fx.start_ok(spec("web").with_restart(policy(RestartMode::OnFailure, 1)));
    fx.control("web").exit(ExitInfo::Signal(Signal::HUP));
    let second = fx.wait_for("web", "restarted", |s| {
        s.id != first.id && s.status == Status::Running
    });
    assert_eq!(second.restarts, 1);

    // max_restarts reached: the next death stays.
    let end = fx.exit_child("web", ExitInfo::Signal(Signal::HUP));
    assert_eq!(end.id, second.id);
    assert_eq!(end.status, Status::Killed(Signal::HUP));
    quiet_period();
    assert_eq!(fx.status_ok("web"), end);
    assert_eq!(fx.stats().restarted, 1);
}

/// Policy `always`: even a clean exit is restarted, up to `max_restarts`.
pub fn always_restarts_clean_exits_up_to_max_restarts(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("job", SimScript::exits(0, Duration::from_millis(1)));
    fx.start_ok(spec("job").with_restart(policy(RestartMode::Always, 2)));
    let last = fx.wait_for("job", "ended after its restarts", |s| {
        s.restarts >= 2 && s.status.is_terminal()
    });
    assert_eq!((last.restarts, last.status), (2, Status::Exited(0)));
    quiet_period();
    assert_eq!(fx.status_ok("job"), last, "a restart beyond max_restarts");
    assert_eq!(fx.stats().restarted, 2);
}

/// A run that ended because a stop was asked for is never restarted automatically, however it
/// ended: graceful, forced, or escalated to SIGKILL.
pub fn a_stop_is_never_restarted(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script("stubborn", SimScript::ignores_term());
    let always = policy(RestartMode::Always, 5);
    let graceful = fx.start_ok(spec("graceful").with_restart(always));
    let forced = fx.start_ok(spec("forced").with_restart(always));
    let stubborn = fx.start_ok(
        spec("stubborn")
            .with_restart(always)
            .with_stop_timeout(Duration::from_millis(5)),
    );
    assert_eq!(fx.stop_ok("graceful").status, Status::Stopped);
    assert_eq!(
        fx.stop("forced", true).unwrap().status,
        Status::Killed(Signal::KILL)
    );
    assert_eq!(fx.stop_ok("stubborn").status, Status::Killed(Signal::KILL));
    quiet_period();
    for run in [graceful, forced, stubborn] {
        let now = fx.status_ok(run.name());
        assert_eq!(now.id, run.id, "a stopped run was restarted: {now:?}");
    }
    assert_eq!(fx.stats().restarted, 0);
    assert_eq!(fx.alive(), 0);
}

/// An automatic restart waits for its backoff (an hour here): meanwhile the ended run stays
/// current. A stop cancels the pending restart and returns the ended snapshot as success; with
/// nothing left to cancel, the next stop is `NotRunning`.
pub fn backoff_delays_the_restart_and_stop_cancels_it(make: &MakeManager) {
    let fx = Fixture::new(make);
    let run = fx.start_ok(spec("web").with_restart(pending_policy(RestartMode::OnFailure)));
    let ended = fx.exit_child("web", ExitInfo::Code(1));
    assert_eq!((ended.id, ended.status), (run.id, Status::Exited(1)));
    quiet_period();
    assert_eq!(fx.status_ok("web"), ended, "restarted before its backoff");
    assert_eq!((fx.stats().started, fx.stats().restarted), (1, 0));

    let cancelled = fx
        .stop("web", false)
        .expect("a stop cancels a pending automatic restart");
    assert_eq!(cancelled, ended);
    assert!(matches!(
        fx.stop("web", false).unwrap_err(),
        ProcessError::NotRunning { .. }
    ));
    assert_eq!(fx.status_ok("web"), ended);
    assert_eq!(fx.stats().restarted, 0);
}

/// Manual restarts do not count against `max_restarts`: after a manual restart, a policy with
/// `max_restarts = 1` still restarts one natural failure, and only one.
pub fn manual_restarts_do_not_count_against_max_restarts(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.start_ok(spec("web").with_restart(policy(RestartMode::OnFailure, 1)));
    let manual = fx.restart_ok("web");
    assert_eq!(manual.restarts, 1);

    fx.control("web").exit(ExitInfo::Code(1));
    let automatic = fx.wait_for("web", "restarted automatically", |s| {
        s.id != manual.id && s.status == Status::Running
    });
    assert_eq!(automatic.restarts, 2);

    let end = fx.exit_child("web", ExitInfo::Code(1));
    assert_eq!(end.id, automatic.id, "restarted beyond max_restarts");
    quiet_period();
    assert_eq!(fx.status_ok("web"), end, "restarted beyond max_restarts");
    assert_eq!(fx.stats().restarted, 2);
}

/// A shutdown cancels a pending automatic restart: nothing starts after it returned.
pub fn shutdown_cancels_a_pending_restart(make: &MakeManager) {
    let fx = Fixture::new(make);
    let backoff = Duration::from_millis(20);
    let restart = RestartPolicy {
        mode: RestartMode::OnFailure,
        initial_backoff: backoff,
        max_backoff: backoff,
        max_restarts: 5,
    };
    let run = fx.start_ok(spec("web").with_restart(restart));
    fx.control("web").exit(ExitInfo::Code(1));
    let report = fx.shutdown(Duration::from_millis(50));
    let started = fx.stats().started;
    if started == 1 {
        // The restart had not fired: the run had ended before the shutdown, so it is not in the
        // report.
        assert!(report.processes.is_empty(), "{report:?}");
    }
    quiet_period();
    assert_eq!(fx.stats().started, started, "a run started after shutdown");
    assert_eq!(fx.alive(), 0);
    let now = fx.status_ok("web");
    assert!(now.status.is_terminal(), "{now:?}");
    assert!(now.id.generation >= run.id.generation);
}
