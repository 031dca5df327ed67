//! Bad input and unknown targets: the right error variant, a message that names the process,
//! and nothing registered or spawned. Also the process limit and the manager's counters.

use std::sync::Arc;
use std::time::Duration;

use procman_core::{
    IfRunning, ManagerConfig, ManagerStats, ProcessError, ProcessId, ProcessSpec, RestartPolicy,
    SimScript, Status, Target,
};

use crate::support::{Fixture, MakeManager, assert_names, eventually, spec};

/// A spec that fails `validate()` is rejected with exactly that `InvalidSpec` error, before
/// anything else (even when the name is live), and nothing is registered or spawned.
pub fn invalid_specs_are_rejected(make: &MakeManager) {
    let fx = Fixture::new(make);
    let inverted_backoff = RestartPolicy {
        initial_backoff: Duration::from_secs(10),
        max_backoff: Duration::from_secs(1),
        ..RestartPolicy::default()
    };
    let bad = [
        (spec(""), "name is empty"),
        (spec("   "), "name is empty"),
        (spec(&"x".repeat(200)), "bytes long"),
        (spec("we\nb"), "control characters"),
        (
            ProcessSpec::new("web", Vec::<String>::new()),
            "argv is empty",
        ),
        (ProcessSpec::new("web", [""]), "argv[0] is empty"),
        (ProcessSpec::shell("web", "  "), "shell line is empty"),
        (
            spec("web").with_restart(inverted_backoff),
            "initial_backoff",
        ),
    ];
    for (spec, why) in bad {
        let expected = spec.validate().unwrap_err();
        let name = spec.name.to_string();
        let err = fx.start(spec, IfRunning::ReturnExisting).unwrap_err();
        assert_eq!(err, expected, "start of an invalid spec ({why})");
        assert!(err.to_string().contains(why), "{err}");
        if !name.trim().is_empty() && !name.contains('\n') {
            assert_names(&err, &name);
        }
    }
    assert!(fx.list().is_empty(), "an invalid spec was registered");
    assert_eq!(fx.stats(), ManagerStats::default());
    assert_eq!(fx.sim.spawn_count(), 0);

    // Validation comes first, even for a live name and ReturnExisting.
    fx.start_ok(spec("web"));
    let err = fx
        .start(
            ProcessSpec::new("web", Vec::<String>::new()),
            IfRunning::ReturnExisting,
        )
        .unwrap_err();
    assert!(matches!(err, ProcessError::InvalidSpec { .. }), "{err:?}");
}

/// Every call that names an unknown process is `NotFound`, naming it — by name or by id.
/// (For an id, the error's `name` may hold the name or the id's text; either names it.)
pub fn unknown_targets_are_not_found(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.start_ok(spec("web"));
    let ghost_id = ProcessId::new(Arc::from("ghost"), 1);
    for target in [Target::Name("ghost"), Target::Id(&ghost_id)] {
        let check = |call: &str, err: ProcessError| {
            assert!(
                matches!(err, ProcessError::NotFound { .. }),
                "{call}({target}): {err:?}"
            );
            assert_names(&err, "ghost");
        };
        check("status", fx.status(target).unwrap_err());
        check("stop", fx.stop(target, false).unwrap_err());
        check("force stop", fx.stop(target, true).unwrap_err());
        check("restart", fx.restart(target).unwrap_err());
        check("logs_tail", fx.logs_tail(target, 0, 10).unwrap_err());
    }
    assert_eq!(fx.list().len(), 1, "a lookup registered a name");
    assert_eq!(fx.stats().started, 1);
}

/// A new name beyond `max_processes` is `LimitReached`, naming it; names already held (live or
/// ended) can still be started, restarted and stopped at the limit.
pub fn max_processes_is_enforced(make: &MakeManager) {
    let config = ManagerConfig {
        max_processes: 2,
        ..ManagerConfig::default()
    };
    let fx = Fixture::with_config(make, config);
    fx.start_ok(spec("alpha"));
    fx.start_ok(spec("beta"));
    fx.exit_child("beta", procman_core::ExitInfo::Code(0));

    let err = fx
        .start(spec("gamma"), IfRunning::ReturnExisting)
        .unwrap_err();
    assert_eq!(
        err,
        ProcessError::LimitReached {
            name: "gamma".into(),
            limit: 2
        }
    );
    assert_names(&err, "gamma");
    assert!(matches!(
        fx.status("gamma").unwrap_err(),
        ProcessError::NotFound { .. }
    ));
    assert_eq!(fx.stats().started, 2);

    assert_eq!(fx.start_ok(spec("beta")).status, Status::Running);
    assert_eq!(fx.restart_ok("alpha").status, Status::Running);
    fx.stop_ok("alpha");
    assert_eq!(fx.start_ok(spec("alpha")).status, Status::Running);
    assert_eq!(fx.list().len(), 2);
}

/// The counters follow every run: `started` counts spawn attempts (starts, restarts, failed
/// spawns; not a start that returned the live run), `failed` failed spawns, `restarted`
/// restarts, `active` runs live now.
pub fn counters_follow_every_run(make: &MakeManager) {
    let fx = Fixture::new(make);
    let stats = |started, failed, restarted, active| ManagerStats {
        active,
        started,
        failed,
        restarted,
    };
    fx.sim
        .script("broken", SimScript::spawn_fails("no such file"));
    fx.sim
        .script("job", SimScript::exits(0, Duration::from_millis(1)));
    assert_eq!(fx.stats(), stats(0, 0, 0, 0));

    fx.start_ok(spec("web"));
    assert_eq!(fx.stats(), stats(1, 0, 0, 1));
    fx.start_ok(spec("web"));
    assert_eq!(fx.stats(), stats(1, 0, 0, 1), "returning the live run");
    assert!(fx.start(spec("web"), IfRunning::Error).is_err());
    assert_eq!(fx.stats(), stats(1, 0, 0, 1), "refusing a live name");

    assert!(fx.start(spec("broken"), IfRunning::ReturnExisting).is_err());
    assert_eq!(fx.stats(), stats(2, 1, 0, 1));

    fx.start_ok(spec("job"));
    fx.wait_ended("job");
    eventually(
        || fx.stats() == stats(3, 1, 0, 1),
        "job to be counted ended",
    );

    fx.restart_ok("web");
    assert_eq!(fx.stats(), stats(4, 1, 1, 1));
    fx.restart_ok("job");
    eventually(|| fx.stats() == stats(5, 1, 2, 1), "job to end again");

    fx.stop_ok("web");
    assert_eq!(fx.stats(), stats(5, 1, 2, 0));
}
