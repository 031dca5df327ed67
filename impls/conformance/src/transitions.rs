//! Every status a run can reach, and every transition the machine refuses, as seen through the
//! manager: `Starting` and `Stopping` held open by the simulated launcher, the terminal statuses
//! by each road that leads to them, `Busy` and `NotRunning` for the stops that cannot happen.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use procman_core::{
    ExitInfo, IfRunning, ProcessError, Signal, SimScript, Status, StatusKind, Target,
};

use crate::support::{Call, Fixture, HOUR, MakeManager, assert_names, eventually, spec, stop};

/// `Running -> Stopping -> Stopped`: a graceful stop sends the spec's stop signal and returns the
/// terminal snapshot once the child is gone; by name or by current id.
pub fn stop_running_is_stopped(make: &MakeManager) {
    let fx = Fixture::new(make);
    let run = fx.start_ok(spec("web"));
    let end = fx.stop_ok("web");
    assert_eq!(end.id, run.id);
    assert_eq!(end.status, Status::Stopped, "{end:?}");
    assert_eq!(end.exit, Some(ExitInfo::Signal(Signal::TERM)), "{end:?}");
    assert_eq!(end.started_at, run.started_at);
    assert_eq!(fx.status_ok("web"), end);
    assert_eq!(fx.alive(), 0);
    assert_eq!(fx.stats().active, 0);

    // The spec's stop signal is the one sent; a stop by current id works too.
    let run = fx.start_ok(spec("web").with_stop_signal(Signal::INT));
    let end = fx.stop(Target::Id(&run.id), false).expect("stop by id");
    assert_eq!(end.status, Status::Stopped);
    assert_eq!(end.exit, Some(ExitInfo::Signal(Signal::INT)), "{end:?}");
}

/// While the child takes its time to die, the run is visible as `Stopping` (pid kept, no end);
/// it becomes `Stopped` when the child ends, whatever exit status the child chose.
pub fn stopping_is_visible_during_a_slow_stop(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script("web", SimScript::ignores_term());
    let run = fx.start_ok(spec("web").with_stop_timeout(HOUR));
    let stop = fx.stop_call("web", false);

    let stopping = fx.wait_for("web", "no longer running", |s| s.status != Status::Running);
    assert_eq!(stopping.status, Status::Stopping, "{stopping:?}");
    assert_eq!(stopping.id, run.id);
    assert_eq!(stopping.pid, run.pid);
    assert_eq!(fx.list(), vec![stopping]);
    assert_eq!(fx.stats().active, 1, "a stopping run is active");
    assert!(!stop.returned(), "stop returned while the child is alive");

    // The child handles the stop its own way: exit code 0.
    fx.control("web").exit(ExitInfo::Code(0));
    let end = stop.wait().expect("the stop");
    assert_eq!(end.status, Status::Stopped, "{end:?}");
    assert_eq!(end.exit, Some(ExitInfo::Code(0)));
    assert_eq!(fx.status_ok("web"), end);
}

/// "Stopped because asked" is never a failure: a child that exits 1 on SIGTERM is `Stopped`
/// (not `Exited(1)`, not `Failed`) and an on-failure policy does not restart it.
pub fn a_stopped_process_is_never_failed(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script(
        "web",
        SimScript {
            stop_exit: Some(ExitInfo::Code(1)),
            ..SimScript::default()
        },
    );
    let run = fx.start_ok(spec("web").with_restart(crate::support::policy(
        procman_core::RestartMode::OnFailure,
        5,
    )));
    let end = fx.stop_ok("web");
    assert_eq!(end.status, Status::Stopped, "{end:?}");
    assert_eq!(end.exit, Some(ExitInfo::Code(1)));
    crate::support::quiet_period();
    let now = fx.status_ok("web");
    assert_eq!(now.id, run.id, "a stopped run was restarted: {now:?}");
    assert_eq!(now.status, Status::Stopped);
    assert_eq!((fx.stats().failed, fx.stats().restarted), (0, 0));
}

/// `Running -> Exited(code)` when the child ends by itself, scripted or by hand; stopping it
/// afterwards is `NotRunning`.
pub fn natural_exit_is_exited_with_its_code(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("job", SimScript::exits(3, Duration::from_millis(2)));
    let run = fx.start_ok(spec("job"));
    let end = fx.wait_ended("job");
    assert_eq!(end.id, run.id);
    assert_eq!(end.status, Status::Exited(3), "{end:?}");
    assert_eq!(end.exit, Some(ExitInfo::Code(3)));
    assert!(end.ended_at.is_some());

    fx.start_ok(spec("web"));
    let end = fx.exit_child("web", ExitInfo::Code(0));
    assert_eq!(end.status, Status::Exited(0), "{end:?}");
    eventually(|| fx.stats().active == 0, "no active run");
    assert_eq!(fx.alive(), 0);
}

/// `Running -> Killed(signal)` when a signal nobody sent through the manager ends the child,
/// SIGKILL included (the OOM killer).
pub fn natural_death_by_signal_is_killed(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.start_ok(spec("web"));
    let end = fx.exit_child("web", ExitInfo::Signal(Signal::HUP));
    assert_eq!(end.status, Status::Killed(Signal::HUP), "{end:?}");
    assert_eq!(end.exit, Some(ExitInfo::Signal(Signal::HUP)));

    fx.start_ok(spec("web"));
    let end = fx.exit_child("web", ExitInfo::Signal(Signal::KILL));
    assert_eq!(end.status, Status::Killed(Signal::KILL), "{end:?}");
}

/// `Stopping -> Killed(SIGKILL)`: a child that ignores SIGTERM is killed once the stop timeout
/// runs out.
pub fn stop_timeout_escalates_to_sigkill(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script("stubborn", SimScript::ignores_term());
    fx.start_ok(spec("stubborn").with_stop_timeout(Duration::from_millis(20)));
    let end = fx.stop_ok("stubborn");
    assert_eq!(end.status, Status::Killed(Signal::KILL), "{end:?}");
    assert_eq!(end.exit, Some(ExitInfo::Signal(Signal::KILL)));
    assert_eq!(fx.alive(), 0);
}

/// A forced stop sends SIGKILL at once, without waiting out the stop timeout (an hour here: a
/// design that waits fails the liveness bound).
pub fn force_stop_kills_at_once(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script("stubborn", SimScript::ignores_term());
    fx.start_ok(spec("stubborn").with_stop_timeout(HOUR));
    let end = fx.stop("stubborn", true).expect("forced stop");
    assert_eq!(end.status, Status::Killed(Signal::KILL), "{end:?}");

    fx.start_ok(spec("web").with_stop_timeout(HOUR));
    let end = fx.stop("web", true).expect("forced stop");
    assert_eq!(end.exit, Some(ExitInfo::Signal(Signal::KILL)), "{end:?}");
    assert_eq!(end.status, Status::Killed(Signal::KILL));
}

/// `Starting -> Failed(reason)`: a spawn error returns `SpawnFailed` naming the run and the OS
/// reason, and the run stays registered as `Failed` (ended, no pid, no exit info). It cannot be
/// stopped; it can be started again.
pub fn spawn_error_is_failed(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script(
        "web",
        SimScript::spawn_fails("no such file: /opt/missing/bin/web"),
    );
    let err = fx
        .start(spec("web"), IfRunning::ReturnExisting)
        .unwrap_err();
    let ProcessError::SpawnFailed { id, reason } = &err else {
        panic!("expected SpawnFailed, got {err:?}");
    };
    assert!(reason.contains("/opt/missing/bin/web"), "{reason}");
    assert_names(&err, "web");

    let failed = fx.status_ok("web");
    assert_eq!(&failed.id, id);
    match &failed.status {
        Status::Failed(why) => assert!(why.contains("/opt/missing/bin/web"), "{why}"),
        other => panic!("expected Failed, got {other}"),
    }
    assert!(failed.pid.is_none() && failed.exit.is_none(), "{failed:?}");
    let stats = fx.stats();
    assert_eq!(
        (stats.started, stats.failed, stats.active),
        (1, 1, 0),
        "{stats:?}"
    );

    assert_eq!(
        fx.stop("web", false).unwrap_err(),
        ProcessError::NotRunning {
            id: *id,
            status: StatusKind::Failed
        }
    );

    fx.sim.script("web", SimScript::long_running());
    let fixed = fx.start_ok(spec("web"));
    assert_eq!(fixed.status, Status::Running);
    assert!(fixed.id.generation > id.generation);
}

/// A stop of a run that ended (exited, stopped, killed) is `NotRunning`, naming the run and its
/// terminal status; the run is left as it was.
pub fn stop_of_an_ended_run_is_not_running(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.start_ok(spec("web"));
    let exited = fx.exit_child("web", ExitInfo::Code(2));
    let err = fx.stop("web", false).unwrap_err();
    assert_eq!(
        err,
        ProcessError::NotRunning {
            id: exited.id,
            status: StatusKind::Exited
        }
    );
    assert_names(&err, "web");
    assert_eq!(fx.status_ok("web"), exited);

    fx.start_ok(spec("web"));
    let stopped = fx.stop_ok("web");
    assert_eq!(
        fx.stop("web", true).unwrap_err(),
        ProcessError::NotRunning {
            id: stopped.id,
            status: StatusKind::Stopped
        }
    );
    assert_eq!(fx.status_ok("web"), stopped);

    fx.start_ok(spec("web"));
    let killed = fx.stop("web", true).unwrap();
    assert_eq!(
        fx.stop(Target::Id(&killed.id), false).unwrap_err(),
        ProcessError::NotRunning {
            id: killed.id,
            status: StatusKind::Killed
        }
    );
}

/// A stop or restart while the spawn is in flight is `Busy` (forced or not); it neither waits
/// for the spawn nor disturbs it, and the run is stoppable once `Running`.
pub fn stop_while_starting_is_busy(make: &MakeManager) {
    let fx = Fixture::new(make);
    let gate = fx.sim.hold_spawns("web");
    let start = fx.start_call(spec("web"), IfRunning::ReturnExisting);
    eventually(
        || gate.waiting() == 1,
        "the spawn of web to reach the launcher",
    );
    let id = fx.status_ok("web").id;

    let busy = ProcessError::Busy {
        id,
        status: StatusKind::Starting,
    };
    let err = fx.stop("web", false).unwrap_err();
    assert_eq!(err, busy);
    assert_names(&err, "web");
    assert_eq!(fx.stop(Target::Id(&id), true).unwrap_err(), busy);
    assert_eq!(fx.restart("web").unwrap_err(), busy);
    assert_eq!(fx.status_ok("web").status, Status::Starting);

    gate.open();
    let running = start.wait().expect("the start");
    assert_eq!((running.id, running.status), (id, Status::Running));
    assert_eq!(fx.stop_ok("web").status, Status::Stopped);
    assert_eq!(fx.stats().restarted, 0);
}

/// Two stops of one run at once: one drives the stop, the other joins it, and both return the
/// same terminal snapshot.
pub fn concurrent_stops_return_the_same_snapshot(make: &MakeManager) {
    let fx = Fixture::new(make);
    // The child takes a second to die, so the second stop almost always arrives while the
    // first is in flight. A round where it did not (it found the run ended: `NotRunning`)
    // proves nothing and is run again; a design that never lets a stop join fails every round.
    fx.sim
        .script("web", SimScript::slow_stop(Duration::from_secs(1)));
    for attempt in 1..=5 {
        let run = fx.start_ok(spec("web"));
        let barrier = Arc::new(Barrier::new(2));
        let calls: Vec<_> = (0..2)
            .map(|i| {
                let pm = fx.pm.clone();
                let barrier = barrier.clone();
                Call::spawn(format!("stop #{i}"), move || {
                    barrier.wait();
                    stop(&*pm, Target::Name("web"), false)
                })
            })
            .collect();
        let results: Vec<_> = calls.into_iter().map(Call::wait).collect();
        match (&results[0], &results[1]) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "the two stops returned different snapshots");
                assert_eq!((&a.id, &a.status), (&run.id, &Status::Stopped));
                return;
            }
            (Ok(end), Err(ProcessError::NotRunning { id, .. }))
            | (Err(ProcessError::NotRunning { id, .. }), Ok(end)) => {
                assert_eq!((id, &end.id), (&run.id, &run.id), "attempt {attempt}");
            }
            other => panic!("attempt {attempt}: two stops of one run: {other:?}"),
        }
    }
    panic!("in 5 attempts, a stop never joined the stop in flight of the same run");
}

/// A forced stop while a graceful one waits on a child that ignores SIGTERM: it sends SIGKILL,
/// and both calls return the same `Killed(SIGKILL)` snapshot.
pub fn force_stop_joins_a_stop_in_flight(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script("web", SimScript::ignores_term());
    fx.start_ok(spec("web").with_stop_timeout(HOUR));
    let graceful = fx.stop_call("web", false);
    fx.wait_for("web", "stopping", |s| s.status == Status::Stopping);

    let forced = fx.stop("web", true).expect("forced stop");
    assert_eq!(forced.status, Status::Killed(Signal::KILL), "{forced:?}");
    let joined = graceful.wait().expect("the graceful stop");
    assert_eq!(joined, forced);
}
