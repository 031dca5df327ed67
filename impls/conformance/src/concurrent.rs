//! Concurrency: readers never wait for slow work, writers of other names neither, races on one
//! name resolve to one outcome, and under churn every reader's observations are consistent
//! snapshots that never go backwards.
//!
//! "Never waits" is asserted by counting and ordering, never by timing. The slow call (a spawn
//! held in the launcher, a child that takes its time to die) lasts until the test releases it,
//! and the test releases it only after the readers completed their rounds — each round counted
//! only if the slow call's "returned" flag, read *after* the round completed, was still false.
//! A design whose readers wait for the slow call never completes them, and fails the liveness
//! bound; no clock decides anything.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use procman_core::{
    ExitInfo, IfRunning, LogQuery, ProcessError, ProcessManager, RestartMode, Signal, SimScript,
    Status, StatusKind, Target,
};

use crate::support::{
    self, Call, Fixture, HOUR, MakeManager, RunObserver, eventually, policy, spec,
};

/// How many complete rounds of reads each reader must finish while the slow call is in flight.
const READS_IN_FLIGHT: u64 = 100;

/// One round of every kind of read, each checked: `slow` may be in any state, `other` runs.
/// Returns the status of `slow`.
fn read_round(pm: &dyn ProcessManager, slow: &str, other: &str) -> Status {
    let s = support::status(pm, Target::Name(slow)).expect("status of the slow process");
    let o = support::status(pm, Target::Name(other)).expect("status of another process");
    assert_eq!(o.status, Status::Running);
    support::status(pm, Target::Id(&o.id)).expect("status by id of another process");
    assert_eq!(support::list(pm).len(), 2);
    let _ = pm.stats();
    pm.logs_tail(Target::Name(slow), 0, 10)
        .expect("logs of the slow process");
    pm.logs_tail(Target::Name(other), 0, 10)
        .expect("logs of another process");
    pm.logs_search(&LogQuery::substring("ready", 10))
        .expect("search");
    s.status
}

/// Two readers that each complete [`READS_IN_FLIGHT`] rounds of reads, counting only rounds
/// after which the slow call (`returned`) had still not returned; each returns its count and
/// whether it saw `slow` in status `during` in such a round.
///
/// The slow call is held by the test until the readers are done, so no clock is involved: a
/// reader that waits for the slow call never completes its rounds, and fails the liveness bound.
fn readers_while(
    fx: &Fixture,
    returned: &Arc<AtomicBool>,
    slow: &'static str,
    during: Status,
) -> Vec<Call<(u64, bool)>> {
    (0..2)
        .map(|i| {
            let (pm, returned, during) = (fx.pm.clone(), returned.clone(), during);
            Call::spawn(format!("reader #{i}"), move || {
                let (mut rounds, mut saw) = (0, false);
                while rounds < READS_IN_FLIGHT {
                    let status = read_round(&*pm, slow, "other");
                    // Read after the round completed: the round finished while in flight.
                    if returned.load(Ordering::SeqCst) {
                        break;
                    }
                    rounds += 1;
                    saw |= status == during;
                }
                (rounds, saw)
            })
        })
        .collect()
}

fn assert_readers(readers: Vec<Call<(u64, bool)>>, during: &str) {
    for reader in readers {
        let (rounds, saw) = reader.wait();
        assert_eq!(
            rounds, READS_IN_FLIGHT,
            "the slow call returned before it was released"
        );
        assert!(
            saw,
            "readers never saw {during} while the slow call was in flight"
        );
    }
}

/// A stop whose child takes its time to die (`SimScript::slow_stop`, here until the test ends
/// it) blocks no reader: status (by name and id) of that process and of another, list, stats,
/// logs and search complete round after round, and see `Stopping`, while the stop has not
/// returned.
pub fn readers_never_wait_for_a_slow_stop(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script("slow", SimScript::slow_stop(HOUR));
    fx.sim
        .script("other", SimScript::long_running().with_output(["ready"]));
    fx.start_ok(spec("slow").with_stop_timeout(HOUR));
    fx.start_ok(spec("other"));

    let stop = fx.stop_call("slow", false);
    fx.wait_for("slow", "stopping", |s| s.status == Status::Stopping);
    let readers = readers_while(&fx, &stop.returned_flag(), "slow", Status::Stopping);
    assert_readers(readers, "Stopping");
    assert!(
        !stop.returned(),
        "the stop returned while its child was alive"
    );

    // The child finally dies of the SIGTERM it was sent.
    fx.control("slow").exit(ExitInfo::Signal(Signal::TERM));
    assert_eq!(stop.wait().expect("the slow stop").status, Status::Stopped);
}

/// A spawn that takes long (held in the launcher until the test lets it go) blocks no reader:
/// the starting process is visible as `Starting`, and everything else keeps answering, round
/// after round, while the spawn has not returned.
pub fn readers_never_wait_for_a_slow_spawn(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("other", SimScript::long_running().with_output(["ready"]));
    fx.start_ok(spec("other"));
    let gate = fx.sim.hold_spawns("slow");

    let start = fx.start_call(spec("slow"), IfRunning::ReturnExisting);
    eventually(
        || gate.waiting() == 1,
        "the spawn of slow to reach the launcher",
    );
    let readers = readers_while(&fx, &start.returned_flag(), "slow", Status::Starting);
    assert_readers(readers, "Starting");
    assert!(!start.returned(), "the start returned before its spawn");

    gate.open();
    assert_eq!(
        start.wait().expect("the slow start").status,
        Status::Running
    );
}

/// While one name's spawn is held, every call on other names completes: start, stop, restart,
/// logs. (No lock, and no owner thread, is held across a spawn.)
pub fn other_names_never_wait_for_a_held_spawn(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("b", SimScript::long_running().with_output(["b up"]));
    fx.start_ok(spec("a"));
    let gate = fx.sim.hold_spawns("held");
    let held = fx.start_call(spec("held"), IfRunning::ReturnExisting);
    eventually(
        || gate.waiting() == 1,
        "the spawn of held to reach the launcher",
    );

    assert_eq!(fx.start_ok(spec("b")).status, Status::Running);
    eventually(|| fx.log_texts("b") == ["b up"], "b's output");
    assert_eq!(fx.restart_ok("a").restarts, 1);
    assert_eq!(fx.stop_ok("b").status, Status::Stopped);
    assert_eq!(
        fx.stop("a", true).unwrap().status.kind(),
        procman_core::StatusKind::Killed
    );
    assert!(!held.returned(), "the held start returned");
    assert_eq!(fx.status_ok("held").status, Status::Starting);

    gate.open();
    assert_eq!(held.wait().unwrap().status, Status::Running);
}

/// While one name's stop waits on a child that ignores SIGTERM, every call on other names
/// completes. (No lock, and no owner thread, is held across a stop.)
pub fn other_names_never_wait_for_a_stop_in_flight(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script("stubborn", SimScript::ignores_term());
    fx.start_ok(spec("stubborn").with_stop_timeout(HOUR));
    fx.start_ok(spec("a"));
    let stop = fx.stop_call("stubborn", false);
    fx.wait_for("stubborn", "stopping", |s| s.status == Status::Stopping);

    assert_eq!(fx.start_ok(spec("b")).status, Status::Running);
    assert_eq!(fx.restart_ok("a").restarts, 1);
    assert_eq!(fx.stop_ok("b").status, Status::Stopped);
    assert_eq!(fx.stop_ok("a").status, Status::Stopped);
    assert!(
        !stop.returned(),
        "the stop returned while its child is alive"
    );

    fx.control("stubborn").exit(ExitInfo::Code(0));
    assert_eq!(stop.wait().unwrap().status, Status::Stopped);
}

/// Eight threads start one name at once, round after round, both for a name never seen (the
/// registration race) and for a known name whose run ended (the replacement race): exactly one
/// run is spawned each time. With `ReturnExisting` every caller gets that run; with `Error`
/// exactly one succeeds and the others are told which run is live. (The check-then-insert race.)
pub fn same_name_start_race_makes_one_run(make: &MakeManager) {
    const THREADS: usize = 8;
    const ROUNDS: u64 = 10;
    let fx = Fixture::new(make);
    let race = |name: &str, if_running: IfRunning| {
        let spawns = fx.sim.spawn_count();
        let barrier = Arc::new(Barrier::new(THREADS));
        let calls: Vec<_> = (0..THREADS)
            .map(|i| {
                let (pm, barrier, name) = (fx.pm.clone(), barrier.clone(), name.to_owned());
                Call::spawn(format!("racer #{i} for {name}"), move || {
                    barrier.wait();
                    support::start(&*pm, spec(&name), if_running)
                })
            })
            .collect();
        let results: Vec<_> = calls.into_iter().map(Call::wait).collect();
        let winners: HashSet<_> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().map(|s| s.id))
            .collect();
        assert_eq!(winners.len(), 1, "{name}: not exactly one run: {results:?}");
        let winner = winners.into_iter().next().unwrap();
        for r in &results {
            match (if_running, r) {
                (_, Ok(s)) => assert_eq!(s.id, winner),
                (IfRunning::Error, Err(ProcessError::AlreadyRunning { id, .. })) => {
                    assert_eq!(id, &winner)
                }
                (_, Err(e)) => panic!("{name}, {if_running:?}: unexpected error {e:?}"),
            }
        }
        if if_running == IfRunning::Error {
            let ok = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(ok, 1, "{name}: several starts succeeded: {results:?}");
        }
        assert_eq!(
            fx.sim.spawn_count() - spawns,
            1,
            "{name}: children spawned for one run"
        );
        fx.stop_ok(&*winner.name);
    };

    let mut runs = 0;
    for round in 1..=ROUNDS {
        for if_running in [IfRunning::ReturnExisting, IfRunning::Error] {
            race(&format!("fresh-{round}-{if_running:?}"), if_running);
            race("known", if_running);
            runs += 2;
        }
    }
    assert_eq!(fx.sim.spawn_count(), runs);
    assert_eq!(fx.stats().started, runs);
}

/// Starts and restarts from several threads at once never produce the same id twice, and each
/// thread sees its own generations increase.
pub fn concurrent_starts_never_collide(make: &MakeManager) {
    let fx = Fixture::new(make);
    let calls: Vec<_> = (0..4)
        .map(|t| {
            let pm = fx.pm.clone();
            Call::spawn(format!("starter #{t}"), move || {
                let mut ids = Vec::new();
                for i in 0..25 {
                    let name = format!("t{t}-{}", i % 3);
                    let s = support::start(&*pm, spec(&name), IfRunning::Error)
                        .expect("start of a stopped name");
                    ids.push(s.id);
                    let r = support::restart(&*pm, Target::Name(&name)).expect("restart");
                    ids.push(r.id);
                    support::stop(&*pm, Target::Name(&name), false).expect("stop");
                }
                ids
            })
        })
        .collect();
    let mut all = HashSet::new();
    let mut generations = HashSet::new();
    for call in calls {
        let ids = call.wait();
        assert!(
            ids.windows(2).all(|w| w[0].generation < w[1].generation),
            "one thread's generations do not increase: {ids:?}"
        );
        for id in ids {
            assert!(generations.insert(id.generation), "generation reused: {id}");
            assert!(all.insert(id), "id reused: {id}");
        }
    }
    assert_eq!(all.len(), 4 * 25 * 2);
}

/// A stop racing the child's own exit, many times: the stop either wins (it answers the run
/// `Stopped`, and `Stopped` is how the run ended) or finds the run ended (`NotRunning`, and the
/// run `Exited`). A stop that answers `Ok` with any other status (an `Exited` run it did not
/// stop) breaks the contract, as in the `stop_races_natural_exit` race model this mirrors. The
/// run always ends exactly once and nothing leaks.
pub fn stop_racing_a_natural_exit(make: &MakeManager) {
    let fx = Fixture::new(make);
    for round in 0..30 {
        let run = fx.start_ok(spec("web"));
        let child = fx.control("web");
        let barrier = Arc::new(Barrier::new(2));
        let stop = {
            let (pm, barrier) = (fx.pm.clone(), barrier.clone());
            Call::spawn("stop", move || {
                barrier.wait();
                support::stop(&*pm, Target::Name("web"), false)
            })
        };
        let exit = Call::spawn("natural exit", move || {
            barrier.wait();
            child.exit(ExitInfo::Code(0));
        });
        exit.wait();
        let end = fx.wait_ended("web");
        assert_eq!(end.id, run.id, "round {round}");
        match stop.wait() {
            Ok(s) => {
                assert_eq!(s, end, "round {round}: stop and status disagree");
                assert_eq!(
                    s.status,
                    Status::Stopped,
                    "round {round}: a stop answered Ok for a run it did not stop: {s:?}"
                );
            }
            Err(ProcessError::NotRunning { id, status }) => {
                assert_eq!((id, status), (run.id, StatusKind::Exited), "round {round}");
                assert_eq!(end.status, Status::Exited(0), "round {round}");
            }
            Err(e) => panic!("round {round}: unexpected error {e:?}"),
        }
        assert_eq!(fx.alive(), 0, "round {round}");
    }
    assert_eq!(fx.stats().active, 0);
}

/// Starts from several threads race a shutdown, on fresh managers, round after round: every
/// start either succeeds (before the flag) or is refused (after it, and from then on always),
/// and once everything returned no child is left alive and every run has ended. (A start that
/// checks the flag and then installs its run without re-checking under the lock the shutdown
/// takes leaks a live child here, when the race is hit.)
pub fn shutdown_racing_starts_leaves_nothing_alive(make: &MakeManager) {
    const ROUNDS: usize = 20;
    const STARTERS: usize = 4;
    for round in 0..ROUNDS {
        let fx = Fixture::new(make);
        let barrier = Arc::new(Barrier::new(STARTERS + 1));
        let starters: Vec<_> = (0..STARTERS)
            .map(|t| {
                let (pm, barrier) = (fx.pm.clone(), barrier.clone());
                Call::spawn(format!("starter #{t}"), move || {
                    barrier.wait();
                    let mut refused = false;
                    for i in 0.. {
                        // New names and ended names: both ways a run is installed.
                        let name = format!("t{t}-{}", i % 8);
                        match support::start(&*pm, spec(&name), IfRunning::ReturnExisting) {
                            Ok(_) => assert!(!refused, "a start succeeded after one was refused"),
                            Err(ProcessError::ShuttingDown) if refused => return,
                            Err(ProcessError::ShuttingDown) => {
                                refused = true;
                                continue;
                            }
                            Err(e) => panic!("unexpected start error: {e:?}"),
                        }
                        match support::stop(&*pm, Target::Name(&name), false) {
                            Ok(_)
                            | Err(ProcessError::NotRunning { .. } | ProcessError::Busy { .. }) => {}
                            Err(e) => panic!("unexpected stop error: {e:?}"),
                        }
                    }
                })
            })
            .collect();
        barrier.wait();
        let wanted = (round % 4 * 4) as u64;
        eventually(|| fx.stats().started >= wanted, "the starters to get going");
        fx.shutdown(Duration::from_millis(50));
        for starter in starters {
            starter.wait();
        }
        eventually(
            || fx.alive() == 0,
            &format!("round {round}: no child left alive after the shutdown"),
        );
        eventually(
            || fx.list().iter().all(|s| s.status.is_terminal()),
            &format!("round {round}: every run to have ended"),
        );
        assert_eq!(fx.stats().active, 0, "round {round}");
    }
}

/// Writers churn six names through every operation while readers poll `status` (by name and
/// by id), `list`, `logs_tail` and `stats`: every snapshot read is consistent
/// (`check_invariants`), each reader's observations of a run only move forward along the status
/// machine, and generations never decrease. No call fails with an error the contract does not
/// allow for the race it lost.
pub fn readers_see_consistent_monotone_runs_under_churn(make: &MakeManager) {
    const NAMES: [&str; 6] = ["n0", "n1", "n2", "n3", "n4", "n5"];
    const OPS_PER_WRITER: u64 = 150;
    let fx = Fixture::new(make);
    let sim = &fx.sim;
    sim.script("n0", SimScript::long_running().with_output(["n0 up"]));
    sim.script("n1", SimScript::exits(0, Duration::from_millis(1)));
    sim.script("n2", SimScript::slow_spawn(Duration::from_millis(1)));
    sim.script("n3", SimScript::slow_stop(Duration::from_millis(1)));
    sim.script("n4", SimScript::spawn_fails("no such file"));
    sim.script(
        "n5",
        SimScript::exits(1, Duration::from_millis(2)).with_output(["n5 up"]),
    );
    let spec_of = |name: &str| {
        let s = spec(name).with_stop_timeout(Duration::from_millis(20));
        if name == "n5" {
            s.with_restart(policy(RestartMode::Always, 1_000))
        } else {
            s
        }
    };
    for name in NAMES {
        let _ = fx.start(spec_of(name), IfRunning::ReturnExisting);
    }

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let (pm, done) = (fx.pm.clone(), done.clone());
            Call::spawn(format!("reader #{r}"), move || {
                let mut seen = RunObserver::default();
                while !done.load(Ordering::SeqCst) {
                    for s in support::list(&*pm) {
                        seen.observe(&s);
                    }
                    for name in NAMES {
                        let s = support::status(&*pm, Target::Name(name)).expect("status");
                        seen.observe(&s);
                        match support::status(&*pm, Target::Id(&s.id)) {
                            Ok(again) => seen.observe(&again),
                            Err(ProcessError::Superseded { asked, current }) => {
                                assert_eq!(asked, s.id);
                                assert!(current.generation > asked.generation);
                            }
                            Err(e) => panic!("status by a just-read id: {e:?}"),
                        }
                        pm.logs_tail(Target::Name(name), 0, 50).expect("logs_tail");
                    }
                    let stats = pm.stats();
                    assert!(stats.failed <= stats.started, "{stats:?}");
                }
                seen.observed
            })
        })
        .collect();

    let writers: Vec<_> = (0..3u64)
        .map(|w| {
            let pm = fx.pm.clone();
            Call::spawn(format!("writer #{w}"), move || {
                let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (w + 1);
                for _ in 0..OPS_PER_WRITER {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let name = NAMES[(rng % 6) as usize];
                    let result = match (rng >> 8) % 5 {
                        0 => support::start(&*pm, spec_of(name), IfRunning::ReturnExisting),
                        1 => support::start(&*pm, spec_of(name), IfRunning::Error),
                        2 => support::stop(&*pm, Target::Name(name), false),
                        3 => support::stop(&*pm, Target::Name(name), (rng >> 16).is_multiple_of(2)),
                        _ => support::restart(&*pm, Target::Name(name)),
                    };
                    if let Err(e) = result {
                        assert!(
                            matches!(
                                e,
                                ProcessError::AlreadyRunning { .. }
                                    | ProcessError::NotRunning { .. }
                                    | ProcessError::Busy { .. }
                                    | ProcessError::SpawnFailed { .. }
                            ),
                            "writer got an error no race explains: {e:?}"
                        );
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.wait();
    }
    done.store(true, Ordering::SeqCst);
    for reader in readers {
        assert!(reader.wait() > 0, "a reader observed nothing");
    }
    let stats = fx.stats();
    assert!(stats.failed >= 1, "{stats:?}");
    assert!(stats.started >= stats.failed + 5, "{stats:?}");
}
