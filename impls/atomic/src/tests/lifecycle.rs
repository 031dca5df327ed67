//! Start, status, list, stop, ids and logs through one run's life.

use std::time::Duration;

use procman_core::sync::Arc;
use procman_core::{
    ChildEvents, ExitInfo, IfRunning, LogQuery, ManagerConfig, OutputLine, ProcessError, ProcessId,
    ProcessManager, SimScript, Status, StopOptions, Stream, Target,
};

use crate::events::RunEvents;

use super::{each_registry, each_registry_with, spec, status, wait_status, wait_until};

#[test]
fn start_status_list_stop() {
    each_registry(|f| {
        let m = &f.manager;
        let started = m.start(spec("web"), IfRunning::ReturnExisting).unwrap();
        assert_eq!(started.status, Status::Running);
        assert_eq!(started.id.generation, 1);
        assert!(started.pid.is_some());
        assert_eq!(status(m, "web"), started);
        assert_eq!(m.status(Target::Id(&started.id)).unwrap(), started);
        assert_eq!(m.list(), vec![started]);
        let stats = m.stats();
        assert_eq!((stats.active, stats.started, stats.failed), (1, 1, 0));

        let stopped = m.stop(Target::Name("web"), StopOptions::default()).unwrap();
        assert_eq!(stopped.status, Status::Stopped);
        assert_eq!(stopped.id, started.id);
        stopped.check_invariants().unwrap();
        assert_eq!(status(m, "web"), stopped);
        assert_eq!(m.stats().active, 0);
        assert!(matches!(
            m.stop(Target::Name("web"), StopOptions::default()),
            Err(ProcessError::NotRunning { .. })
        ));
    });
}

#[test]
fn if_running_decides_for_a_live_name() {
    each_registry(|f| {
        let m = &f.manager;
        let first = m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
        let again = m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
        assert_eq!(again.id, first.id);
        let err = m.start(spec("a"), IfRunning::Error).unwrap_err();
        assert_eq!(
            err,
            ProcessError::AlreadyRunning {
                id: first.id,
                status: Status::Running.kind()
            }
        );
        assert_eq!(f.launcher.spawn_count(), 1);
    });
}

#[test]
fn a_new_run_supersedes_the_ended_one() {
    each_registry(|f| {
        let m = &f.manager;
        let first = m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
        m.stop(Target::Id(&first.id), StopOptions::default())
            .unwrap();
        let second = m.start(spec("a"), IfRunning::Error).unwrap();
        assert!(second.id.generation > first.id.generation);
        assert_eq!(second.restarts, 0, "a start keeps the restart count");
        assert!(matches!(
            m.status(Target::Id(&first.id)),
            Err(ProcessError::Superseded { ref asked, ref current })
                if *asked == first.id && *current == second.id
        ));
        let future = ProcessId::new("a", second.id.generation + 10);
        assert!(matches!(
            m.status(Target::Id(&future)),
            Err(ProcessError::NotFound { .. })
        ));
        assert!(matches!(
            m.status(Target::Name("nope")),
            Err(ProcessError::NotFound { ref name }) if name == "nope"
        ));
    });
}

#[test]
fn a_spawn_error_registers_a_failed_run() {
    each_registry(|f| {
        f.launcher
            .script("bad", SimScript::spawn_fails("no such file: /bin/nope"));
        let m = &f.manager;
        let err = m.start(spec("bad"), IfRunning::ReturnExisting).unwrap_err();
        let ProcessError::SpawnFailed { id, reason } = err else {
            panic!("expected SpawnFailed, got {err:?}");
        };
        assert!(reason.contains("/bin/nope"), "{reason}");
        let failed = status(m, "bad");
        assert_eq!(failed.id, id);
        assert!(matches!(failed.status, Status::Failed(_)));
        let stats = m.stats();
        assert_eq!((stats.active, stats.started, stats.failed), (0, 1, 1));
    });
}

#[test]
fn a_child_that_exits_inside_attach_is_reported_ended() {
    each_registry(|f| {
        f.launcher.script(
            "quick",
            SimScript::exits(3, Duration::ZERO).with_output(["hello"]),
        );
        let m = &f.manager;
        let snapshot = m.start(spec("quick"), IfRunning::ReturnExisting).unwrap();
        snapshot.check_invariants().unwrap();
        assert_eq!(snapshot.status, Status::Exited(3));
        assert_eq!(snapshot.logs.lines, 1);
        assert_eq!(m.stats().active, 0);
    });
}

#[test]
fn the_name_limit_is_exact() {
    let config = ManagerConfig {
        max_processes: 2,
        ..ManagerConfig::default()
    };
    each_registry_with(config, |f| {
        let m = &f.manager;
        m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
        m.start(spec("b"), IfRunning::ReturnExisting).unwrap();
        assert_eq!(
            m.start(spec("c"), IfRunning::ReturnExisting).unwrap_err(),
            ProcessError::LimitReached {
                name: "c".into(),
                limit: 2
            }
        );
        m.stop(Target::Name("a"), StopOptions::default()).unwrap();
        m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
    });
}

#[test]
fn stopping_while_starting_is_busy_and_readers_see_starting() {
    each_registry(|f| {
        let held = f.launcher.hold_spawns("slow");
        std::thread::scope(|s| {
            let starter = s.spawn(|| f.manager.start(spec("slow"), IfRunning::ReturnExisting));
            wait_until("the spawn to be held", || held.waiting() == 1);
            let starting = wait_status(&f.manager, "slow", Status::Starting);
            assert!(matches!(
                f.manager.stop(Target::Name("slow"), StopOptions::default()),
                Err(ProcessError::Busy { .. })
            ));
            assert!(matches!(
                f.manager.restart(Target::Name("slow")),
                Err(ProcessError::Busy { .. })
            ));
            held.open();
            let running = starter.join().unwrap().unwrap();
            assert_eq!(running.id, starting.id);
            assert_eq!(running.status, Status::Running);
        });
    });
}

#[test]
fn a_second_stop_joins_the_one_in_flight() {
    each_registry(|f| {
        f.launcher.script("stubborn", SimScript::ignores_term());
        let m = &f.manager;
        let run = m
            .start(
                spec("stubborn").with_stop_timeout(Duration::from_secs(3600)),
                IfRunning::ReturnExisting,
            )
            .unwrap();
        std::thread::scope(|s| {
            let graceful = s.spawn(|| m.stop(Target::Id(&run.id), StopOptions::default()));
            wait_status(m, "stubborn", Status::Stopping);
            let forced = m
                .stop(Target::Name("stubborn"), StopOptions { force: true })
                .unwrap();
            let graceful = graceful.join().unwrap().unwrap();
            assert_eq!(forced.status, Status::Killed(procman_core::Signal::KILL));
            assert_eq!(graceful, forced, "both stops return the same end");
        });
    });
}

#[test]
fn logs_are_per_run_and_search_keeps_the_newest() {
    each_registry(|f| {
        let m = &f.manager;
        m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
        m.start(spec("b"), IfRunning::ReturnExisting).unwrap();
        let (a, b) = (
            f.launcher.control("a").unwrap(),
            f.launcher.control("b").unwrap(),
        );
        for i in 0..4 {
            a.emit(Stream::Stdout, &format!("a says {i}"));
            b.emit(Stream::Stderr, &format!("b says {i}"));
        }
        assert_eq!(status(m, "a").logs.lines, 4);
        let page = m.logs_tail(Target::Name("a"), 1, 2).unwrap();
        let texts: Vec<&str> = page.lines.iter().map(|l| &*l.text).collect();
        assert_eq!(texts, ["a says 1", "a says 2"]);
        assert_eq!(page.next_cursor, 3);

        let hits = m.logs_search(&LogQuery::substring("says", 3)).unwrap();
        assert_eq!(hits.len(), 3);
        assert!(hits.windows(2).all(|w| w[0].line.at <= w[1].line.at));
        assert!(
            hits.iter()
                .all(|h| h.line.text.ends_with('3') || h.line.text.ends_with('2'))
        );
        let only_b = LogQuery {
            name: Some("b".into()),
            ..LogQuery::regex("says [0-1]$", 10)
        };
        let hits = m.logs_search(&only_b).unwrap();
        assert_eq!(hits.len(), 2);
        assert!(hits.iter().all(|h| &*h.id.name == "b"));

        m.restart(Target::Name("a")).unwrap();
        assert_eq!(status(m, "a").logs.lines, 0, "a new run has a new ring");
        assert!(
            m.logs_tail(Target::Name("a"), 0, 10)
                .unwrap()
                .lines
                .is_empty()
        );
        assert!(matches!(
            m.logs_search(&LogQuery::regex("(", 1)),
            Err(ProcessError::BadPattern { .. })
        ));
    });
}

#[test]
fn events_of_a_superseded_run_are_ignored() {
    each_registry(|f| {
        let m = &f.manager;
        m.start(spec("a"), IfRunning::ReturnExisting).unwrap();
        let entry = m.supervisor.registry.get("a").unwrap();
        let old_run = entry.load().run.clone();
        let current = m.restart(Target::Name("a")).unwrap();
        // A launcher delivering late: the old run's sink gets output and a second exit.
        let late = RunEvents::new(m.supervisor.weak(), Arc::downgrade(&entry), old_run);
        late.on_output(OutputLine::new(Stream::Stdout, "late"));
        late.on_exit(ExitInfo::Code(9));
        assert_eq!(status(m, "a"), current);
        assert_eq!(m.stats().active, 1);
    });
}

/// What `{:?}` of a manager shows a maintainer: the registry form, how many names it holds, the
/// counters and whether it is shutting down.
#[test]
fn debug_shows_the_registry_and_its_counts() {
    each_registry(|f| {
        let m = &f.manager;
        for name in ["a", "b", "c"] {
            m.start(spec(name), IfRunning::ReturnExisting).unwrap();
        }
        let shown = format!("{m:?}");
        let kind = m.registry_kind();
        for part in [
            format!("registry: \"{kind}\""),
            "names: 3".to_owned(),
            "started: 3".to_owned(),
            "shutting_down: false".to_owned(),
        ] {
            assert!(shown.contains(&part), "{part} missing from {shown}");
        }
    });
}
