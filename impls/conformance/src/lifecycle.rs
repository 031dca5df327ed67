//! Starting processes: `IfRunning`, generations and ids, status by name and id, list, drop.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use procman_core::{
    ExitInfo, IfRunning, ProcessError, ProcessId, SimLauncher, SimScript, Status, Target,
};

use crate::support::{Fixture, MakeManager, assert_names, bounded, eventually, spec, start};

/// A start spawns one child and returns it `Running` with a pid; status by name and by id and
/// list all show the same run; the launcher was asked to spawn exactly that id.
pub fn start_runs_the_process(make: &MakeManager) {
    let fx = Fixture::new(make);
    let snap = fx.start_ok(spec("web"));
    assert_eq!(snap.status, Status::Running, "{snap:?}");
    assert_eq!(snap.name(), "web");
    assert!(snap.id.generation >= 1, "generations are 1-based: {snap:?}");
    assert!(snap.pid.is_some() && snap.started_at.is_some(), "{snap:?}");
    assert!(snap.ended_at.is_none() && snap.exit.is_none(), "{snap:?}");
    assert_eq!(snap.restarts, 0);
    assert_eq!(
        fx.control("web").id(),
        &snap.id,
        "the launcher spawned another id"
    );

    let by_name = fx.status_ok("web");
    assert_eq!(by_name.id, snap.id);
    assert_eq!(by_name.pid, snap.pid);
    assert_eq!(by_name.started_at, snap.started_at);
    let by_id = fx
        .status(Target::Id(&snap.id))
        .expect("status by current id");
    assert_eq!(by_id, by_name);
    assert_eq!(fx.list(), vec![by_name]);
    assert_eq!(fx.alive(), 1);
    let stats = fx.stats();
    assert_eq!((stats.started, stats.active), (1, 1), "{stats:?}");
    assert_eq!((stats.failed, stats.restarted), (0, 0), "{stats:?}");
}

/// `Pending -> Starting` happens before the spawn: while the launcher holds the spawn, the run
/// is visible as `Starting` (stamped, no pid yet, counted as started and active), and the start
/// returns `Running` once the spawn completes.
pub fn starting_is_visible_during_a_held_spawn(make: &MakeManager) {
    let fx = Fixture::new(make);
    let gate = fx.sim.hold_spawns("web");
    let start = fx.start_call(spec("web"), IfRunning::ReturnExisting);
    eventually(
        || gate.waiting() == 1,
        "the spawn of web to reach the launcher",
    );

    let starting = fx.status_ok("web");
    assert_eq!(starting.status, Status::Starting, "{starting:?}");
    assert!(starting.started_at.is_some(), "Starting stamps started_at");
    assert!(starting.pid.is_none(), "no pid before the spawn returned");
    assert_eq!(fx.list(), vec![starting]);
    let stats = fx.stats();
    assert_eq!((stats.started, stats.active), (1, 1), "{stats:?}");
    assert!(!start.returned(), "start returned while its spawn is held");

    gate.open();
    let running = start.wait().expect("start once the spawn completes");
    assert_eq!(running.id, starting.id);
    assert_eq!(running.status, Status::Running);
    assert_eq!(running.started_at, starting.started_at);
}

/// `IfRunning::ReturnExisting` on a live name returns the live run and spawns nothing.
pub fn start_of_a_running_name_returns_it(make: &MakeManager) {
    let fx = Fixture::new(make);
    let first = fx.start_ok(spec("web"));
    let again = fx.start_ok(spec("web"));
    assert_eq!(again.id, first.id);
    assert_eq!(again.status, Status::Running);
    assert_eq!(again.pid, first.pid);
    assert_eq!(fx.sim.spawn_count(), 1, "a second child was spawned");
    assert_eq!(
        fx.stats().started,
        1,
        "returning the live run is not a start"
    );
}

/// `IfRunning::Error` on a live name is `AlreadyRunning`, naming the live run and the process.
pub fn start_of_a_running_name_can_refuse(make: &MakeManager) {
    let fx = Fixture::new(make);
    let first = fx.start_ok(spec("web"));
    let err = fx.start(spec("web"), IfRunning::Error).unwrap_err();
    assert_eq!(
        err,
        ProcessError::AlreadyRunning {
            id: first.id,
            status: procman_core::StatusKind::Running
        }
    );
    assert_names(&err, "web");
    assert_eq!(fx.sim.spawn_count(), 1);
    assert_eq!(fx.status_ok("web").id, first.id);
}

/// A run whose spawn is in flight is live: a second start returns it (without waiting for the
/// spawn) or refuses with `AlreadyRunning { status: Starting }`, and never spawns again.
pub fn start_of_a_starting_name_is_already_running(make: &MakeManager) {
    let fx = Fixture::new(make);
    let gate = fx.sim.hold_spawns("web");
    let first = fx.start_call(spec("web"), IfRunning::ReturnExisting);
    eventually(
        || gate.waiting() == 1,
        "the spawn of web to reach the launcher",
    );
    let starting = fx.status_ok("web");

    let existing = fx.start_ok(spec("web"));
    assert_eq!(existing.id, starting.id);
    assert_eq!(existing.status, Status::Starting, "{existing:?}");
    let err = fx.start(spec("web"), IfRunning::Error).unwrap_err();
    assert_eq!(
        err,
        ProcessError::AlreadyRunning {
            id: starting.id,
            status: procman_core::StatusKind::Starting
        }
    );
    assert_eq!(fx.stats().started, 1);

    gate.open();
    assert_eq!(first.wait().expect("the first start").id, starting.id);
    assert_eq!(fx.sim.spawn_count(), 1);
}

/// Starting a name whose run ended makes a new run: a higher generation, the `restarts` count
/// kept (a start is not a restart), and the old id reported as superseded.
pub fn start_after_exit_is_a_new_generation(make: &MakeManager) {
    let fx = Fixture::new(make);
    let first = fx.start_ok(spec("web"));
    let ended = fx.exit_child("web", ExitInfo::Code(0));
    assert_eq!(ended.status, Status::Exited(0));
    assert_eq!(ended.id, first.id);

    let second = fx.start_ok(spec("web"));
    assert_eq!(second.status, Status::Running);
    assert!(
        second.id.generation > first.id.generation,
        "{second:?} after {first:?}"
    );
    assert_eq!(second.restarts, first.restarts);
    assert_ne!(second.pid, first.pid);
    assert_eq!(
        fx.status(Target::Id(&first.id)).unwrap_err(),
        ProcessError::Superseded {
            asked: first.id,
            current: second.id
        }
    );
    let stats = fx.stats();
    assert_eq!((stats.started, stats.restarted), (2, 0), "{stats:?}");
}

/// A child that exits during its own start (before or while it is attached) is recorded, not
/// lost: start returns it running or already ended, and it ends `Exited(0)` with its output.
pub fn a_child_that_exits_at_once(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script(
        "blip",
        SimScript::exits(0, Duration::ZERO).with_output(["hello"]),
    );
    let snap = fx.start_ok(spec("blip"));
    assert!(
        matches!(snap.status, Status::Running | Status::Exited(0)),
        "{snap:?}"
    );
    let ended = fx.wait_ended("blip");
    assert_eq!(ended.status, Status::Exited(0));
    assert_eq!(ended.exit, Some(ExitInfo::Code(0)));
    assert_eq!(ended.id, snap.id);
    eventually(|| fx.log_texts("blip") == ["hello"], "the output of blip");
    eventually(|| fx.stats().active == 0, "no active run");
}

/// Every start, restart and failed spawn takes the next value of one manager-wide counter:
/// generations strictly increase in call order, across names.
pub fn generations_increase_with_every_start(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("broken", SimScript::spawn_fails("no such file"));
    let mut generations = Vec::new();
    for round in 0..5 {
        for name in ["a", "b", "c"] {
            let s = fx.start_ok(spec(name));
            assert_eq!(s.status, Status::Running, "round {round}: {s:?}");
            generations.push(s.id.generation);
        }
        generations.push(fx.restart_ok("a").id.generation);
        match fx.start(spec("broken"), IfRunning::ReturnExisting) {
            Err(ProcessError::SpawnFailed { id, .. }) => generations.push(id.generation),
            other => panic!("start of a failing spawn: {other:?}"),
        }
        for name in ["a", "b", "c"] {
            fx.stop_ok(name);
        }
    }
    assert!(
        generations.windows(2).all(|w| w[0] < w[1]),
        "generations not strictly increasing: {generations:?}"
    );
}

/// `list` returns one snapshot per name, current runs only, sorted by name, whatever the state.
pub fn list_is_sorted_by_name(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("bravo", SimScript::spawn_fails("no such file"));
    fx.start_ok(spec("charlie"));
    fx.start_ok(spec("alpha"));
    fx.exit_child("alpha", ExitInfo::Code(4));
    let restarted = fx.restart_ok("alpha");
    assert!(fx.start(spec("bravo"), IfRunning::ReturnExisting).is_err());
    fx.start_ok(spec("delta"));
    fx.stop_ok("delta");

    let list = fx.list();
    let names: Vec<&str> = list.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["alpha", "bravo", "charlie", "delta"]);
    assert_eq!(list[0].id, restarted.id, "list shows the current run");
    assert!(matches!(list[1].status, Status::Failed(_)), "{:?}", list[1]);
    assert_eq!(list[2].status, Status::Running);
    assert_eq!(list[3].status, Status::Stopped);
}

/// Status by id: the current run answers; an older run of the name is `Superseded` (naming the
/// current run); an id of an unknown name, or a generation the name never had, is `NotFound`.
pub fn status_by_id(make: &MakeManager) {
    let fx = Fixture::new(make);
    let old = fx.start_ok(spec("web"));
    let current = fx.restart_ok("web");
    assert_eq!(fx.status(Target::Id(&current.id)).unwrap().id, current.id);

    let err = fx.status(Target::Id(&old.id)).unwrap_err();
    assert_eq!(
        err,
        ProcessError::Superseded {
            asked: old.id,
            current: current.id
        }
    );
    assert_names(&err, "web");

    let ghost = ProcessId::new(Arc::from("ghost"), current.id.generation);
    let err = fx.status(Target::Id(&ghost)).unwrap_err();
    assert!(matches!(err, ProcessError::NotFound { .. }), "{err:?}");
    assert_names(&err, "ghost");

    // A generation this name never had. (`name` may hold the name or the id asked for.)
    let future = ProcessId::new(Arc::from("web"), current.id.generation + 1000);
    let err = fx.status(Target::Id(&future)).unwrap_err();
    assert!(matches!(err, ProcessError::NotFound { .. }), "{err:?}");
    assert_names(&err, "web");
}

/// Generations are manager-wide, so a name's first run need not be generation 1: an id pairing
/// the name with a generation below its first run (another name's run) is `NotFound`, naming the
/// id, never `Superseded` — for `status`, `stop` and `restart` alike — while the name's own older
/// run stays `Superseded`.
pub fn id_below_a_names_first_generation(make: &MakeManager) {
    let fx = Fixture::new(make);
    let other = fx.start_ok(spec("api"));
    let first = fx.start_ok(spec("web"));
    assert!(
        first.id.generation > other.id.generation,
        "generations increase with every start: {} then {}",
        other.id,
        first.id
    );
    let current = fx.restart_ok("web");
    let foreign = ProcessId::new(Arc::from("web"), other.id.generation);
    for (call, err) in [
        ("status", fx.status(Target::Id(&foreign)).unwrap_err()),
        ("stop", fx.stop(Target::Id(&foreign), false).unwrap_err()),
        ("restart", fx.restart(Target::Id(&foreign)).unwrap_err()),
    ] {
        assert!(
            matches!(err, ProcessError::NotFound { .. }),
            "{call}({foreign}): {err:?}"
        );
        assert_names(&err, &foreign.to_string());
    }
    assert_eq!(
        fx.status(Target::Id(&first.id)).unwrap_err(),
        ProcessError::Superseded {
            asked: first.id,
            current: current.id
        }
    );
    assert_eq!(
        fx.status_ok("web").id,
        current.id,
        "the failed calls changed nothing"
    );
}

/// Dropping a manager that was not shut down shuts it down: every child is gone.
pub fn drop_shuts_down(make: &MakeManager) {
    let sim = SimLauncher::new();
    sim.script("slow", SimScript::slow_stop(Duration::from_millis(5)));
    sim.script("stubborn", SimScript::ignores_term());
    let pm = make(Arc::new(sim.clone()), Default::default());
    let mut ids = HashSet::new();
    for name in ["plain", "slow", "stubborn"] {
        let s = start(
            &*pm,
            spec(name).with_stop_timeout(Duration::from_millis(5)),
            IfRunning::ReturnExisting,
        )
        .unwrap();
        ids.insert(s.id);
    }
    assert_eq!(ids.len(), 3);
    assert_eq!(sim.spawn_count(), 3);
    bounded("dropping the manager", move || drop(pm));
    eventually(
        || sim.spawn_count() == sim.exit_count(),
        "every child to be gone after the manager was dropped",
    );
}
