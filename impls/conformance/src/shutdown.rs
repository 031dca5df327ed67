//! Shutdown: new work refused, every live run stopped by the deadline, an honest report, and
//! no child left behind — including one whose spawn raced the shutdown.

use std::time::Duration;

use procman_core::{
    ExitInfo, IfRunning, LogQuery, ProcessError, ShutdownOutcome, Signal, SimScript, Status,
};

use crate::support::{Fixture, HOUR, MakeManager, bounded, eventually, spec};

/// The report lists each run that was live when the shutdown began and how it ended: a child
/// that obeys SIGTERM is `Graceful`; one that ignores it is `Killed` at the deadline (its own
/// hour-long stop timeout notwithstanding). Runs that had already ended are not in it.
pub fn shutdown_reports_graceful_and_killed(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script("stubborn", SimScript::ignores_term());
    fx.sim
        .script("broken", SimScript::spawn_fails("no such file"));
    let plain = fx.start_ok(spec("plain"));
    let stubborn = fx.start_ok(spec("stubborn").with_stop_timeout(HOUR));
    fx.start_ok(spec("done"));
    let done = fx.exit_child("done", ExitInfo::Code(0));
    assert!(fx.start(spec("broken"), IfRunning::ReturnExisting).is_err());
    let broken = fx.status_ok("broken");

    let report = fx.shutdown(Duration::from_millis(50));
    let mut got = report.processes.clone();
    got.sort_by_key(|a| a.0);
    let mut want = vec![
        (plain.id, ShutdownOutcome::Graceful),
        (stubborn.id, ShutdownOutcome::Killed),
    ];
    want.sort_by_key(|a| a.0);
    assert_eq!(got, want, "{report:?}");
    assert_eq!(report.count(ShutdownOutcome::Graceful), 1);
    assert_eq!(report.count(ShutdownOutcome::Killed), 1);

    assert_eq!(fx.status_ok("plain").status, Status::Stopped);
    assert_eq!(
        fx.status_ok("stubborn").status,
        Status::Killed(Signal::KILL)
    );
    assert_eq!(fx.status_ok("done"), done);
    assert_eq!(fx.status_ok("broken"), broken);
    assert_eq!(fx.sim.live_count(), 0);
    assert_eq!(fx.alive(), 0);
    assert_eq!(fx.stats().active, 0);
}

/// After a shutdown, start and restart fail with `ShuttingDown` and register nothing; the
/// readers keep answering.
pub fn shutdown_rejects_new_work(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("web", SimScript::long_running().with_output(["hello"]));
    fx.start_ok(spec("web"));
    eventually(|| fx.log_texts("web") == ["hello"], "web's output");
    fx.shutdown(Duration::from_millis(50));
    let started = fx.stats().started;

    let err = fx
        .start(spec("web"), IfRunning::ReturnExisting)
        .unwrap_err();
    assert_eq!(err, ProcessError::ShuttingDown);
    assert!(err.to_string().contains("shutting down"), "{err}");
    assert_eq!(
        fx.start(spec("new"), IfRunning::Error).unwrap_err(),
        ProcessError::ShuttingDown
    );
    assert_eq!(fx.restart("web").unwrap_err(), ProcessError::ShuttingDown);
    assert!(matches!(
        fx.status("new").unwrap_err(),
        ProcessError::NotFound { .. }
    ));
    assert_eq!(fx.stats().started, started);
    assert_eq!(fx.sim.spawn_count(), 1);

    assert_eq!(fx.status_ok("web").status, Status::Stopped);
    assert_eq!(fx.list().len(), 1);
    assert_eq!(fx.log_texts("web"), ["hello"]);
    assert_eq!(
        fx.search(&LogQuery::substring("hello", 5)).unwrap().len(),
        1
    );
}

/// A second shutdown reports nothing new and changes nothing.
pub fn second_shutdown_reports_nothing_new(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.start_ok(spec("a"));
    fx.start_ok(spec("b"));
    let first = fx.shutdown(Duration::from_millis(50));
    assert_eq!(first.count(ShutdownOutcome::Graceful), 2, "{first:?}");
    let after = fx.list();
    let second = fx.shutdown(Duration::from_millis(50));
    assert!(second.processes.is_empty(), "{second:?}");
    assert_eq!(fx.list(), after);
}

/// A run already `Stopping` when the shutdown begins (its own stop waiting out an hour-long
/// timeout) is killed by the shutdown's deadline; its stop call returns that end.
pub fn shutdown_kills_a_stop_in_flight_at_its_deadline(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script("stubborn", SimScript::ignores_term());
    let run = fx.start_ok(spec("stubborn").with_stop_timeout(HOUR));
    let stop = fx.stop_call("stubborn", false);
    fx.wait_for("stubborn", "stopping", |s| s.status == Status::Stopping);

    let report = fx.shutdown(Duration::from_millis(50));
    assert_eq!(report.processes, vec![(run.id, ShutdownOutcome::Killed)]);
    let end = stop.wait().expect("the stop in flight");
    assert_eq!(end.status, Status::Killed(Signal::KILL));
    assert_eq!(fx.status_ok("stubborn"), end);
}

/// A spawn in flight when the shutdown begins does not leave a child behind: once the spawn
/// completes, the run is stopped as part of the shutdown and reported.
pub fn shutdown_during_a_spawn_leaves_nothing_alive(make: &MakeManager) {
    let fx = Fixture::new(make);
    let gate = fx.sim.hold_spawns("web");
    let start = fx.start_call(spec("web"), IfRunning::ReturnExisting);
    eventually(
        || gate.waiting() == 1,
        "the spawn of web to reach the launcher",
    );
    let id = fx.status_ok("web").id;

    let pm = fx.pm.clone();
    let shutdown =
        crate::support::Call::spawn("shutdown", move || pm.shutdown(Duration::from_millis(50)));
    // The shutdown flag is up once a start is refused (a start of the live name would
    // otherwise return the starting run, spawning nothing).
    eventually(
        || {
            matches!(
                fx.start(spec("web"), IfRunning::ReturnExisting),
                Err(ProcessError::ShuttingDown)
            )
        },
        "starts to be refused",
    );
    gate.open();

    match start.wait() {
        Ok(_) | Err(ProcessError::ShuttingDown) => {}
        Err(other) => panic!("the start that raced the shutdown: {other}"),
    }
    let report = shutdown.wait();
    assert!(
        report.processes.iter().any(|(rid, _)| *rid == id),
        "a run that was starting when the shutdown began is missing from its report: {report:?}"
    );
    let end = fx.wait_ended("web");
    assert_eq!(end.id, id);
    eventually(|| fx.alive() == 0, "the raced child to be gone");
    let again = bounded("a third shutdown", {
        let pm = fx.pm.clone();
        move || pm.shutdown(Duration::from_millis(50))
    });
    assert!(again.processes.is_empty(), "{again:?}");
}
