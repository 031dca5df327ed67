//! Automatic restarts: policy, cap, counters, and cancellation by the calls that take the token.

use std::time::Duration;

use procman_core::{
    ExitInfo, IfRunning, ProcessError, ProcessManager, ProcessSpec, RestartMode, RestartPolicy,
    SimLauncher, SimScript, Status, StopOptions, Target,
};

use super::{eventually, manager, spec, status};

/// A spec restarted on failure, with `backoff` before each restart, at most `max` times.
fn on_failure(name: &str, backoff: Duration, max: u32) -> ProcessSpec {
    spec(name).with_restart(RestartPolicy {
        mode: RestartMode::OnFailure,
        initial_backoff: backoff,
        max_backoff: backoff,
        max_restarts: max,
    })
}

/// A backoff no test waits out: whatever happens to such a restart is a cancellation.
const NEVER: Duration = Duration::from_secs(3600);

#[test]
fn a_failing_child_is_restarted_up_to_the_cap() {
    let launcher = SimLauncher::new();
    launcher.script("crashy", SimScript::exits(1, Duration::ZERO));
    let m = manager(&launcher);
    let first = m
        .start(
            on_failure("crashy", Duration::from_millis(1), 3),
            IfRunning::Error,
        )
        .unwrap();
    assert_eq!(first.status, Status::Exited(1));
    eventually("three automatic restarts", || {
        status(&m, "crashy").restarts == 3
    });
    let last = status(&m, "crashy");
    assert_eq!(last.status, Status::Exited(1));
    assert!(last.id.generation > first.id.generation);
    let stats = m.stats();
    assert_eq!((stats.started, stats.restarted, stats.active), (4, 3, 0));
    // The cap is reached: no restart is pending, so a stop has nothing left to stop.
    assert!(matches!(
        m.stop(Target::Name("crashy"), StopOptions::default()),
        Err(ProcessError::NotRunning { .. })
    ));
}

#[test]
fn success_is_not_restarted_on_failure_and_a_stop_never_is() {
    let launcher = SimLauncher::new();
    launcher.script("ok", SimScript::exits(0, Duration::ZERO));
    let m = manager(&launcher);
    m.start(on_failure("ok", Duration::ZERO, 5), IfRunning::Error)
        .unwrap();
    m.start(on_failure("svc", Duration::ZERO, 5), IfRunning::Error)
        .unwrap();
    let stopped = m.stop(Target::Name("svc"), StopOptions::default()).unwrap();
    assert_eq!(stopped.status, Status::Stopped);
    for name in ["ok", "svc"] {
        assert!(matches!(
            m.stop(Target::Name(name), StopOptions::default()),
            Err(ProcessError::NotRunning { .. })
        ));
    }
    assert_eq!(m.stats().restarted, 0);
}

#[test]
fn a_stop_cancels_a_pending_restart_and_returns_the_ended_run() {
    let launcher = SimLauncher::new();
    launcher.script("crashy", SimScript::exits(2, Duration::ZERO));
    let m = manager(&launcher);
    let ended = m
        .start(on_failure("crashy", NEVER, 5), IfRunning::Error)
        .unwrap();
    let stopped = m
        .stop(Target::Name("crashy"), StopOptions::default())
        .unwrap();
    assert_eq!(stopped, ended, "the ended snapshot, as success");
    assert!(matches!(
        m.stop(Target::Name("crashy"), StopOptions::default()),
        Err(ProcessError::NotRunning { .. })
    ));
    assert_eq!(status(&m, "crashy").id, ended.id);
    assert_eq!(m.stats().restarted, 0);
}

#[test]
fn a_start_or_restart_replaces_a_pending_restart() {
    let launcher = SimLauncher::new();
    launcher.script("crashy", SimScript::exits(2, Duration::ZERO));
    let m = manager(&launcher);
    let ended = m
        .start(on_failure("crashy", NEVER, 5), IfRunning::Error)
        .unwrap();

    let started = m
        .start(on_failure("crashy", NEVER, 5), IfRunning::Error)
        .unwrap();
    assert!(started.id.generation > ended.id.generation);
    assert_eq!(started.restarts, 0, "a manual start keeps the count");
    let restarted = m.restart(Target::Name("crashy")).unwrap();
    assert_eq!(restarted.restarts, 1);
    assert_eq!(m.stats().restarted, 1, "only the manual restart counted");
    assert_eq!(restarted.exit, Some(ExitInfo::Code(2)));
}
