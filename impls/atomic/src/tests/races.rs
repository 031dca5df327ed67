//! CAS elections under real contention: same-name starts, concurrent stops, stop against a
//! natural exit, and a churn whose readers check every snapshot they see.

use std::collections::HashMap;
use std::sync::Barrier;
use std::time::Duration;

use procman_core::{
    ExitInfo, IfRunning, ProcessError, ProcessManager, SimScript, Status, StopOptions, Target,
};

use super::{each_registry, spec, status};

const THREADS: usize = 8;

#[test]
fn racing_starts_of_one_name_spawn_once() {
    each_registry(|f| {
        let m = &f.manager;
        let barrier = Barrier::new(THREADS);
        let ids: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        m.start(spec("one"), IfRunning::ReturnExisting).unwrap().id
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
        assert_eq!(f.launcher.spawn_count(), 1);
        assert_eq!(m.stats().started, 1);
    });
}

#[test]
fn racing_starts_of_an_ended_name_replace_it_once() {
    each_registry(|f| {
        let m = &f.manager;
        let first = m.start(spec("one"), IfRunning::ReturnExisting).unwrap();
        m.stop(Target::Name("one"), StopOptions::default()).unwrap();
        let barrier = Barrier::new(THREADS);
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        m.start(spec("one"), IfRunning::Error)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        assert!(winners[0].id.generation > first.id.generation);
        for loser in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(loser, ProcessError::AlreadyRunning { id, .. } if *id == winners[0].id),
                "{loser}"
            );
        }
        assert_eq!(f.launcher.spawn_count(), 2);
    });
}

#[test]
fn racing_stops_elect_one_sequence_and_agree_on_the_end() {
    each_registry(|f| {
        f.launcher
            .script("slow", SimScript::slow_stop(Duration::from_millis(20)));
        let m = &f.manager;
        m.start(spec("slow"), IfRunning::ReturnExisting).unwrap();
        let barrier = Barrier::new(THREADS);
        let ends: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        m.stop(Target::Name("slow"), StopOptions::default())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Every stop that found the run live joined the one sequence; a stop that came after the
        // end (possible if the others finished first) is told NotRunning.
        let ok: Vec<_> = ends.iter().filter_map(|e| e.as_ref().ok()).collect();
        assert!(!ok.is_empty());
        assert!(
            ok.iter()
                .all(|s| **s == *ok[0] && s.status == Status::Stopped)
        );
        assert!(
            ends.iter()
                .all(|e| matches!(e, Ok(_) | Err(ProcessError::NotRunning { .. })))
        );
        assert_eq!(f.launcher.exit_count(), 1);
    });
}

#[test]
fn stop_racing_a_natural_exit_ends_consistently() {
    each_registry(|f| {
        let m = &f.manager;
        for round in 0..200 {
            let run = m.start(spec("racer"), IfRunning::Error).unwrap();
            let child = f.launcher.control("racer").unwrap();
            let barrier = Barrier::new(2);
            let stopped = std::thread::scope(|s| {
                let exit = s.spawn(|| {
                    barrier.wait();
                    child.exit(ExitInfo::Code(7));
                });
                barrier.wait();
                let stopped = m.stop(Target::Id(&run.id), StopOptions::default());
                exit.join().unwrap();
                stopped
            });
            let end = status(m, "racer");
            assert_eq!(end.id, run.id, "round {round}");
            match stopped {
                // The stop won the CAS: whatever the child says next, the end is a stop.
                Ok(snapshot) => {
                    assert_eq!(snapshot, end);
                    assert_eq!(end.status, Status::Stopped, "round {round}");
                }
                // The exit won: the stop found it ended.
                Err(ProcessError::NotRunning { .. }) => {
                    assert_eq!(end.status, Status::Exited(7), "round {round}")
                }
                Err(e) => panic!("round {round}: {e}"),
            }
            assert_eq!(m.stats().active, 0);
        }
    });
}

#[test]
fn a_churn_never_shows_a_torn_or_backward_snapshot() {
    each_registry(|f| {
        let m = &f.manager;
        let names = ["n0", "n1", "n2"];
        for name in names {
            m.start(spec(name), IfRunning::ReturnExisting).unwrap();
        }
        std::thread::scope(|s| {
            for t in 0..3 {
                s.spawn(move || {
                    for i in 0..300 {
                        let name = names[(t + i) % names.len()];
                        let result = match i % 3 {
                            0 => m.restart(Target::Name(name)),
                            1 => m.stop(Target::Name(name), StopOptions::default()),
                            _ => m.start(spec(name), IfRunning::ReturnExisting),
                        };
                        match result {
                            Ok(snapshot) => snapshot.check_invariants().unwrap(),
                            Err(
                                ProcessError::Busy { .. }
                                | ProcessError::NotRunning { .. }
                                | ProcessError::Superseded { .. },
                            ) => {}
                            Err(e) => panic!("unexpected {e}"),
                        }
                    }
                });
            }
            for _ in 0..3 {
                s.spawn(|| {
                    let mut seen: HashMap<String, u64> = HashMap::new();
                    for _ in 0..3000 {
                        for snapshot in m.list() {
                            snapshot.check_invariants().unwrap();
                            let last = seen.entry(snapshot.id.name.to_string()).or_default();
                            assert!(
                                snapshot.id.generation >= *last,
                                "a reader went back in time"
                            );
                            *last = snapshot.id.generation;
                        }
                    }
                });
            }
        });
        assert_eq!(
            m.stats().active,
            m.list().iter().filter(|s| !s.status.is_terminal()).count() as u64
        );
    });
}
