//! Starts, spawn results, logs and lookups of the actor design, with the simulated launcher.
//! (The shared conformance suite checks the contract in full; these pin the actor's own paths.)
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{checked, eventually, sim, spec};
use procman_actor::ActorManager;
use procman_core::{
    Child, ChildEvents, ExitInfo, IfRunning, LaunchError, Launcher, LogQuery, ManagerConfig,
    OutputLine, ProcessError, ProcessId, ProcessManager, ProcessSpec, Signal, SimLauncher,
    SimScript, Status, StatusKind, StopOptions, Stream,
};

#[test]
fn start_records_the_pid_and_reads_back_by_name_and_id() {
    let (_launcher, manager) = sim();
    assert_eq!(manager.design(), "actor");
    let started = checked(manager.start(spec("web"), IfRunning::default()).unwrap());
    assert_eq!(started.status, Status::Running);
    assert!(started.pid.is_some());
    assert_eq!(started.id.generation, 1);
    assert_eq!(manager.status("web".into()).unwrap(), started);
    assert_eq!(manager.status((&started.id).into()).unwrap(), started);
    let stats = manager.stats();
    assert_eq!((stats.active, stats.started), (1, 1));
}

#[test]
fn a_live_name_returns_the_existing_run_or_refuses() {
    let (_launcher, manager) = sim();
    let first = manager.start(spec("web"), IfRunning::default()).unwrap();
    let again = manager
        .start(spec("web"), IfRunning::ReturnExisting)
        .unwrap();
    assert_eq!(again.id, first.id);
    let err = manager.start(spec("web"), IfRunning::Error).unwrap_err();
    assert!(
        matches!(err, ProcessError::AlreadyRunning { ref id, status: StatusKind::Running } if *id == first.id),
        "{err}"
    );
    assert_eq!(manager.stats().started, 1);
}

#[test]
fn a_failed_spawn_is_registered_as_failed() {
    let (launcher, manager) = sim();
    launcher.script("bad", SimScript::spawn_fails("no such file: /bin/nope"));
    let err = manager
        .start(spec("bad"), IfRunning::default())
        .unwrap_err();
    assert!(
        matches!(err, ProcessError::SpawnFailed { ref reason, .. } if reason.contains("/bin/nope")),
        "{err}"
    );
    let status = checked(manager.status("bad".into()).unwrap());
    assert_eq!(status.status.kind(), StatusKind::Failed);
    let stats = manager.stats();
    assert_eq!((stats.active, stats.started, stats.failed), (0, 1, 1));
}

#[test]
fn a_child_that_exits_inside_attach_is_already_terminal() {
    let (launcher, manager) = sim();
    launcher.script(
        "once",
        SimScript::exits(3, Duration::ZERO).with_output(["hello"]),
    );
    let started = checked(manager.start(spec("once"), IfRunning::default()).unwrap());
    assert_eq!(started.status, Status::Exited(3));
    assert_eq!(started.exit, Some(ExitInfo::Code(3)));
    assert_eq!(started.logs.lines, 1);
    assert_eq!(manager.stats().active, 0);
    // An ended name starts again as a new run.
    let again = manager.start(spec("once"), IfRunning::default()).unwrap();
    assert_eq!(again.id.generation, 2);
}

#[test]
fn readers_are_answered_while_a_spawn_is_in_flight() {
    let (launcher, manager) = sim();
    // The spawn sleeps until the test has seen what it needs: a long bound, never waited out.
    launcher.script("slow", SimScript::slow_spawn(Duration::from_millis(300)));
    std::thread::scope(|s| {
        let starter = s.spawn(|| manager.start(spec("slow"), IfRunning::default()));
        let starting = eventually("the run is seen Starting", || {
            manager
                .status("slow".into())
                .ok()
                .filter(|s| s.status == Status::Starting)
        });
        checked(starting);
        assert!(matches!(
            manager.stop("slow".into(), StopOptions::default()),
            Err(ProcessError::Busy {
                status: StatusKind::Starting,
                ..
            })
        ));
        assert!(matches!(
            manager.restart("slow".into()),
            Err(ProcessError::Busy { .. })
        ));
        assert_eq!(manager.list().len(), 1);
        let started = starter.join().unwrap().unwrap();
        assert_eq!(started.status, Status::Running);
    });
}

#[test]
fn logs_are_kept_per_run_and_searched_newest_first_kept() {
    let (launcher, manager) = sim();
    launcher.script(
        "a",
        SimScript::long_running().with_output(["a0 ok", "a1 ok", "a2 no"]),
    );
    launcher.script("b", SimScript::long_running().with_output(["b0 ok"]));
    manager.start(spec("a"), IfRunning::default()).unwrap();
    manager.start(spec("b"), IfRunning::default()).unwrap();
    launcher.control("a").unwrap().emit(Stream::Stderr, "a3 ok");

    let tail = eventually("the emitted line is logged", || {
        let chunk = manager.logs_tail("a".into(), 1, 10).unwrap();
        (chunk.lines.len() == 3).then_some(chunk)
    });
    assert_eq!(tail.lines[0].seq, 1);
    assert_eq!(tail.next_cursor, 4);
    assert_eq!(manager.status("a".into()).unwrap().logs.lines, 4);

    let texts = |query: &LogQuery| -> Vec<String> {
        manager
            .logs_search(query)
            .unwrap()
            .iter()
            .map(|m| m.line.text.to_string())
            .collect()
    };
    // b0 was written after a0..a2 and before a3: ordered by time, newest three kept.
    assert_eq!(
        texts(&LogQuery::substring("ok", 3)),
        ["a1 ok", "b0 ok", "a3 ok"]
    );
    let only_b = LogQuery {
        name: Some("b".into()),
        ..LogQuery::regex("^b[0-9]", 10)
    };
    assert_eq!(texts(&only_b), ["b0 ok"]);
    let unknown = LogQuery {
        name: Some("zzz".into()),
        ..LogQuery::substring("ok", 10)
    };
    assert!(matches!(
        manager.logs_search(&unknown),
        Err(ProcessError::NotFound { .. })
    ));
    assert!(matches!(
        manager.logs_search(&LogQuery::regex("(", 1)),
        Err(ProcessError::BadPattern { .. })
    ));
}

#[test]
fn lookups_by_id_tell_superseded_from_unknown() {
    let (_launcher, manager) = sim();
    let first = manager.start(spec("web"), IfRunning::default()).unwrap();
    let second = manager.restart("web".into()).unwrap();
    assert_eq!(second.restarts, 1);
    assert!(second.id.generation > first.id.generation);
    match manager.status((&first.id).into()) {
        Err(ProcessError::Superseded { asked, current }) => {
            assert_eq!((asked, current), (first.id, second.id));
        }
        other => panic!("expected Superseded, got {other:?}"),
    }
    let future = ProcessId::new(first.id.name, 99);
    assert!(matches!(
        manager.status((&future).into()),
        Err(ProcessError::NotFound { .. })
    ));
    assert!(matches!(
        manager.status("nope".into()),
        Err(ProcessError::NotFound { .. })
    ));
    let long = "x".repeat(500);
    assert!(matches!(
        manager.status(long.as_str().into()),
        Err(ProcessError::NotFound { .. })
    ));
    assert!(matches!(
        manager.logs_tail((&first.id).into(), 0, 1),
        Err(ProcessError::Superseded { .. })
    ));
}

#[test]
fn the_process_limit_and_invalid_specs_are_refused() {
    let launcher = SimLauncher::new();
    let config = ManagerConfig {
        max_processes: 2,
        ..ManagerConfig::default()
    };
    let manager = ActorManager::new(Arc::new(launcher), config);
    manager.start(spec("a"), IfRunning::default()).unwrap();
    manager.start(spec("b"), IfRunning::default()).unwrap();
    assert!(matches!(
        manager.start(spec("c"), IfRunning::default()),
        Err(ProcessError::LimitReached { limit: 2, .. })
    ));
    assert!(matches!(
        manager.start(ProcessSpec::new("", ["x"]), IfRunning::default()),
        Err(ProcessError::InvalidSpec { .. })
    ));
    let listed: Vec<String> = manager.list().iter().map(|s| s.name().to_owned()).collect();
    assert_eq!(listed, ["a", "b"]);
}

type Sinks = Arc<Mutex<Vec<Arc<dyn ChildEvents>>>>;

/// A launcher whose children hand their event sinks to the test, so that it can speak for a
/// run after the manager has moved on to the next one (the simulated launcher never does).
#[derive(Clone, Default)]
struct KeepsSinks {
    sinks: Sinks,
}

impl std::fmt::Debug for KeepsSinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeepsSinks")
    }
}

impl Launcher for KeepsSinks {
    fn spawn(&self, _id: &ProcessId, _spec: &ProcessSpec) -> Result<Box<dyn Child>, LaunchError> {
        Ok(Box::new(SinkChild {
            sinks: self.sinks.clone(),
            own: Mutex::new(None),
        }))
    }
}

/// Keeps its sink; dies of any signal.
struct SinkChild {
    sinks: Sinks,
    own: Mutex<Option<Arc<dyn ChildEvents>>>,
}

impl std::fmt::Debug for SinkChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SinkChild")
    }
}

impl Child for SinkChild {
    fn pid(&self) -> u32 {
        4242
    }
    fn attach(&self, events: Arc<dyn ChildEvents>) {
        self.sinks.lock().unwrap().push(events.clone());
        *self.own.lock().unwrap() = Some(events);
    }
    fn signal(&self, signal: Signal) -> std::io::Result<()> {
        let own = self.own.lock().unwrap().clone();
        if let Some(events) = own {
            events.on_exit(ExitInfo::Signal(signal));
        }
        Ok(())
    }
}

#[test]
fn events_of_a_superseded_run_are_ignored() {
    let launcher = KeepsSinks::default();
    let manager = ActorManager::new(Arc::new(launcher.clone()), ManagerConfig::default());
    let first = manager.start(spec("web"), IfRunning::default()).unwrap();
    manager.stop("web".into(), StopOptions::default()).unwrap();
    let second = manager.start(spec("web"), IfRunning::default()).unwrap();
    let (old, new) = {
        let sinks = launcher.sinks.lock().unwrap();
        (sinks[0].clone(), sinks[1].clone())
    };
    old.on_output(OutputLine::new(Stream::Stdout, "late"));
    old.on_exit(ExitInfo::Code(0));
    new.on_output(OutputLine::new(Stream::Stdout, "fresh"));
    // Events and requests from one thread reach the owner in order: no polling needed.
    let now = checked(manager.status("web".into()).unwrap());
    assert_eq!((now.id, now.status), (second.id, Status::Running));
    let lines = manager.logs_tail("web".into(), 0, 10).unwrap().lines;
    assert_eq!(
        lines.iter().map(|l| &*l.text).collect::<Vec<_>>(),
        ["fresh"]
    );
    assert_eq!(
        manager.status((&first.id).into()).unwrap_err(),
        ProcessError::Superseded {
            asked: first.id,
            current: second.id,
        }
    );
}

/// Where a held `attach` waits: `(attach reached the hold, released)` and its condvar.
type HoldGate = Arc<(Mutex<(bool, bool)>, std::sync::Condvar)>;

/// A launcher whose children behave as the test says, by spawn order: the child of spawn
/// `exits[i]` exits with code 7 inside `attach`, and the child of spawn `hold` then keeps
/// `attach` from returning until the test releases it. Every other child runs until signalled.
#[derive(Clone)]
struct ExitsThenHolds {
    spawns: Arc<Mutex<usize>>,
    exits: &'static [usize],
    hold: usize,
    gate: HoldGate,
}

impl ExitsThenHolds {
    fn new(exits: &'static [usize], hold: usize) -> Self {
        ExitsThenHolds {
            spawns: Arc::default(),
            exits,
            hold,
            gate: Arc::default(),
        }
    }

    /// Waits until the held child's `attach` has delivered its exit and is holding.
    fn wait_held(&self) {
        let (state, changed) = &*self.gate;
        let guard = state.lock().unwrap();
        let (_guard, timeout) = changed
            .wait_timeout_while(guard, common::LIVENESS, |(held, _)| !*held)
            .unwrap();
        assert!(!timeout.timed_out(), "the held attach was never reached");
    }

    /// Lets the held `attach` return.
    fn release(&self) {
        let (state, changed) = &*self.gate;
        state.lock().unwrap().1 = true;
        changed.notify_all();
    }
}

impl std::fmt::Debug for ExitsThenHolds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExitsThenHolds")
    }
}

impl Launcher for ExitsThenHolds {
    fn spawn(&self, _id: &ProcessId, _spec: &ProcessSpec) -> Result<Box<dyn Child>, LaunchError> {
        let index = {
            let mut spawns = self.spawns.lock().unwrap();
            *spawns += 1;
            *spawns - 1
        };
        Ok(Box::new(ScriptedChild {
            exits: self.exits.contains(&index),
            hold: (index == self.hold).then(|| self.gate.clone()),
            own: Mutex::new(None),
        }))
    }
}

struct ScriptedChild {
    exits: bool,
    hold: Option<HoldGate>,
    own: Mutex<Option<Arc<dyn ChildEvents>>>,
}

impl std::fmt::Debug for ScriptedChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScriptedChild")
    }
}

impl Child for ScriptedChild {
    fn pid(&self) -> u32 {
        4343
    }
    fn attach(&self, events: Arc<dyn ChildEvents>) {
        if self.exits {
            events.on_exit(ExitInfo::Code(7));
        } else {
            *self.own.lock().unwrap() = Some(events);
        }
        if let Some(gate) = &self.hold {
            let (state, changed) = &**gate;
            let mut guard = state.lock().unwrap();
            guard.0 = true;
            changed.notify_all();
            let (_guard, timeout) = changed
                .wait_timeout_while(guard, common::LIVENESS, |(_, released)| !*released)
                .unwrap();
            assert!(!timeout.timed_out(), "the held attach was never released");
        }
    }
    fn signal(&self, signal: Signal) -> std::io::Result<()> {
        let own = self.own.lock().unwrap().take();
        if let Some(events) = own {
            events.on_exit(ExitInfo::Signal(signal));
        }
        Ok(())
    }
}

/// A run that exits at once can be replaced by another start of its name before its own
/// starter's `Attached` reaches the owner: the starter still gets *its* run, as it ended.
#[test]
fn a_start_whose_run_ended_and_was_replaced_before_attached_returns_its_end() {
    let launcher = ExitsThenHolds::new(&[0], 0);
    let manager = ActorManager::new(Arc::new(launcher.clone()), ManagerConfig::default());
    std::thread::scope(|s| {
        let first = s.spawn(|| manager.start(spec("once"), IfRunning::default()));
        launcher.wait_held();
        // The exit was posted inside attach; once the owner has recorded it, the name is free.
        eventually("the first run's exit is recorded", || {
            let now = manager.status("once".into()).unwrap();
            (now.status == Status::Exited(7)).then_some(())
        });
        let second = checked(manager.start(spec("once"), IfRunning::default()).unwrap());
        assert_eq!((second.id.generation, second.status), (2, Status::Running));
        launcher.release();
        let first = checked(
            first
                .join()
                .unwrap()
                .expect("the start of a registered name"),
        );
        assert_eq!((first.id.generation, first.status), (1, Status::Exited(7)));
        assert_eq!(first.exit, Some(ExitInfo::Code(7)));
    });
    let stats = manager.stats();
    assert_eq!((stats.started, stats.active), (2, 1));
}

/// The same race through `restart`: its new run exits at once and is replaced by a start
/// before the restart's `Attached` arrives; the restart returns the run it started, ended.
#[test]
fn a_restart_whose_run_ended_and_was_replaced_before_attached_returns_its_end() {
    let launcher = ExitsThenHolds::new(&[1], 1);
    let manager = ActorManager::new(Arc::new(launcher.clone()), ManagerConfig::default());
    let original = checked(manager.start(spec("web"), IfRunning::default()).unwrap());
    assert_eq!(original.status, Status::Running);
    std::thread::scope(|s| {
        let restart = s.spawn(|| manager.restart("web".into()));
        launcher.wait_held();
        eventually("the restarted run's exit is recorded", || {
            let now = manager.status("web".into()).unwrap();
            (now.id.generation == 2 && now.status == Status::Exited(7)).then_some(())
        });
        let third = checked(manager.start(spec("web"), IfRunning::default()).unwrap());
        assert_eq!((third.id.generation, third.status), (3, Status::Running));
        launcher.release();
        let restarted = checked(
            restart
                .join()
                .unwrap()
                .expect("the restart of a registered name"),
        );
        assert_eq!(
            (
                restarted.id.generation,
                restarted.status,
                restarted.restarts
            ),
            (2, Status::Exited(7), 1)
        );
    });
}
