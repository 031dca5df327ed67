//! Many threads at once: the same-name start race, a mixed storm with invariants checked on
//! every snapshot, and starts racing a shutdown. Each asserts counts and states, never times.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use procman_core::{
    IfRunning, ProcessError, ProcessManager, RestartMode, RestartPolicy, SimLauncher, SimScript,
    StopOptions, Target,
};

use super::{manager, spec};
use crate::MutexManager;

/// Runs `threads` copies of `body` (given its thread index) released together by a barrier.
fn together(threads: usize, body: impl Fn(usize) + Send + Sync + 'static) {
    let body = Arc::new(body);
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (body, barrier) = (Arc::clone(&body), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                body(i);
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a worker thread panicked");
    }
}

/// Fails on the errors that mean the design broke, accepts the ones that mean "lost a race"
/// (including `NotFound`: a stop may come before any start of the name).
fn expected(result: Result<procman_core::ProcessSnapshot, ProcessError>) {
    match result {
        Ok(snapshot) => snapshot.check_invariants().expect("snapshot invariants"),
        Err(
            ProcessError::Busy { .. }
            | ProcessError::NotRunning { .. }
            | ProcessError::AlreadyRunning { .. }
            | ProcessError::Superseded { .. }
            | ProcessError::NotFound { .. }
            | ProcessError::ShuttingDown,
        ) => {}
        Err(other) => panic!("unexpected error under contention: {other}"),
    }
}

#[test]
fn one_of_many_same_name_starts_wins() {
    for _ in 0..20 {
        let launcher = SimLauncher::new();
        let m = Arc::new(manager(&launcher));
        let wins = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        together(4, {
            let (m, wins) = (Arc::clone(&m), Arc::clone(&wins));
            move |_| match m.start(spec("same"), IfRunning::Error) {
                Ok(_) => {
                    wins.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Err(ProcessError::AlreadyRunning { .. }) => {}
                Err(other) => panic!("unexpected: {other}"),
            }
        });
        assert_eq!(wins.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(m.stats().started, 1);
        assert_eq!(launcher.live_count(), 1);
    }
}

#[test]
fn a_mixed_storm_keeps_every_invariant() {
    let launcher = SimLauncher::new();
    // One name that crashes at once and restarts itself, beside the long-running ones.
    launcher.script("crashy", SimScript::exits(1, Duration::ZERO));
    let m = Arc::new(manager(&launcher));
    let names = ["a", "b", "c", "crashy"];
    let policy = RestartPolicy {
        mode: RestartMode::OnFailure,
        initial_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
        max_restarts: 50,
    };
    together(4, {
        let m = Arc::clone(&m);
        move |t| {
            for i in 0..300 {
                let name = names[(t + i) % names.len()];
                let target = Target::Name(name);
                match (t * 7 + i) % 6 {
                    0 => expected(
                        m.start(spec(name).with_restart(policy), IfRunning::ReturnExisting),
                    ),
                    1 => expected(m.stop(target, StopOptions { force: i % 4 == 0 })),
                    2 => expected(m.restart(target)),
                    3 => {
                        for snapshot in m.list() {
                            snapshot.check_invariants().expect("list invariants");
                        }
                    }
                    _ => match m.status(target) {
                        Ok(s) => s.check_invariants().expect("status invariants"),
                        Err(ProcessError::NotFound { .. }) => {}
                        Err(other) => panic!("unexpected status error: {other}"),
                    },
                }
            }
        }
    });
    m.shutdown(Duration::from_secs(5));
    assert_eq!(launcher.live_count(), 0);
    assert_eq!(m.stats().active, 0);
    for snapshot in m.list() {
        assert!(snapshot.status.is_terminal(), "{snapshot:?}");
    }
}

#[test]
fn no_start_racing_a_shutdown_leaves_a_live_run() {
    for round in 0..20 {
        let launcher = SimLauncher::new();
        let m = Arc::new(manager(&launcher));
        // Half the names exist (and have ended) before the race, half are new.
        for n in 0..4 {
            let name = format!("p{n}");
            m.start(spec(&name), IfRunning::Error).unwrap();
            m.stop(Target::Name(&name), StopOptions::default()).unwrap();
        }
        together(4, {
            let m = Arc::clone(&m);
            move |t| {
                if t == 0 {
                    m.shutdown(Duration::from_secs(5));
                    return;
                }
                for n in 0..8 {
                    expected(m.start(spec(&format!("p{n}")), IfRunning::ReturnExisting));
                }
            }
        });
        assert_eq!(
            launcher.live_count(),
            0,
            "round {round}: a start outlived the shutdown"
        );
        assert_eq!(m.stats().active, 0, "round {round}");
        assert!(
            m.list().iter().all(|s| s.status.is_terminal()),
            "round {round}"
        );
    }
}

#[test]
fn racing_shutdowns_stop_each_run_once() {
    let launcher = SimLauncher::new();
    let m: Arc<MutexManager> = Arc::new(manager(&launcher));
    for n in 0..8 {
        m.start(spec(&format!("p{n}")), IfRunning::Error).unwrap();
    }
    let reported = Arc::new(std::sync::Mutex::new(Vec::new()));
    together(3, {
        let (m, reported) = (Arc::clone(&m), Arc::clone(&reported));
        move |_| {
            let report = m.shutdown(Duration::from_secs(5));
            reported.lock().unwrap().extend(report.processes);
        }
    });
    assert_eq!(
        reported.lock().unwrap().len(),
        8,
        "every run reported by exactly one call"
    );
    assert_eq!(launcher.live_count(), 0);
}
