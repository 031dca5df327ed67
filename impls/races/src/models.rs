//! The protocol models: small bodies (two racing parties, a handful of calls) that loom explores
//! exhaustively within its preemption bound and shuttle samples, written once over a
//! [`MakeManager`] and instantiated per design by [`crate::model_suite!`].
//!
//! Each model races two parties: the model's main thread and one spawned thread. The actor
//! design adds its owner and launch-worker threads, and the mutex design's shutdown a helper
//! thread for a run still starting, which keeps every model within loom's five threads.
//!
//! | model | race | what must hold afterwards |
//! |-------|------|---------------------------|
//! | [`same_name_start_race`] | two starts of one new name | one run: both callers see the same id, one child spawned and live |
//! | [`stop_races_natural_exit`] | a stop and the child's own exit | one terminal state, with its exit info, that the stop agrees with |
//! | [`snapshot_consistency`] | a start+stop of an ended name and a reader | every snapshot keeps the invariants; no reader sees a run go backwards |
//! | [`shutdown_races_start`] | a start of a new name and a shutdown | when shutdown returns nothing is live; no child outlives it |
//! | [`restart_races_status`] | a restart and a reader | the reader sees one old and one new run, in order; one child at the end |
//! | [`readers_never_wait_for_a_stop`] | a stop of a child that ignores SIGTERM, and a reader that must finish before the child may die | the read completes (a stop holding a lock the reader needs is a deadlock) |
//! | [`concurrent_stops_join`] | two stops of one run | both return the same terminal snapshot (or the later one finds it ended) |
//! | [`distinct_names_register`] | two starts of two new names (two registry publishes) | both names are found by `status` and `list`, in name order |
//! | [`intern_race`] | two threads interning one new text ([`procman_core::name::Interner`]) | both get the same pointer: one copy per text |
//! | [`shutdown_gate_publication`] | two starts (one publishing a write under its pass) and a close + wait of [`procman_core::gate::ShutdownGate`], alone over the checker's atomics | a start that entered before the close has its write visible once `wait_drained` returns |
//! | [`restart_policy_exit_races_stop`] | a stop by id and the child's own exit, under `restart = always` with no backoff | a run the stop ended is never restarted automatically; an exit that won may be, once; `stats()` agrees with the children spawned |
//! | [`ended_name_start_race`] | two starts of a name whose run has ended (the install path, not the registry's) | one new run: both callers see it, one more child spawned and live |
//! | [`shutdown_races_start_of_an_ended_name`] | a start of an ended name and a shutdown | when shutdown returns nothing is live; the start is refused or its run ended |
//! | [`seqview_publish_races_read`] | two publishes of [`procman_core::seqview::SnapshotView`] and two reads, alone over the checker's atomics | every read is `None` or exactly one published snapshot, never older than the one before |

use procman_core::sync::thread;
use procman_core::{
    ExitInfo, IfRunning, ProcessError, ProcessSnapshot, RestartMode, RestartPolicy, SimLauncher,
    SimScript, Status, StatusKind, StopOptions, Target,
};

use crate::finding::{Finding, fail};
use crate::world::{MakeManager, Monotone, World, assert_quiescent, checked, rank, spec};

/// A model body: what the checker runs once per schedule.
pub type Body = Box<dyn Fn() + Send + Sync + 'static>;

/// A named model.
#[derive(Clone, Copy, Debug)]
pub struct Model {
    /// Its name (also the test's name).
    pub name: &'static str,
    /// The body for a design.
    pub body: fn(MakeManager) -> Body,
}

/// Every protocol model, in the order of the table above.
pub const MODELS: &[Model] = &[
    Model {
        name: "same_name_start_race",
        body: same_name_start_race,
    },
    Model {
        name: "stop_races_natural_exit",
        body: stop_races_natural_exit,
    },
    Model {
        name: "snapshot_consistency",
        body: snapshot_consistency,
    },
    Model {
        name: "shutdown_races_start",
        body: shutdown_races_start,
    },
    Model {
        name: "restart_races_status",
        body: restart_races_status,
    },
    Model {
        name: "readers_never_wait_for_a_stop",
        body: readers_never_wait_for_a_stop,
    },
    Model {
        name: "concurrent_stops_join",
        body: concurrent_stops_join,
    },
    Model {
        name: "distinct_names_register",
        body: distinct_names_register,
    },
    Model {
        name: "intern_race",
        body: intern_race,
    },
    Model {
        name: "shutdown_gate_publication",
        body: shutdown_gate_publication,
    },
    Model {
        name: "restart_policy_exit_races_stop",
        body: restart_policy_exit_races_stop,
    },
    Model {
        name: "ended_name_start_race",
        body: ended_name_start_race,
    },
    Model {
        name: "shutdown_races_start_of_an_ended_name",
        body: shutdown_races_start_of_an_ended_name,
    },
    Model {
        name: "seqview_publish_races_read",
        body: seqview_publish_races_read,
    },
];

/// The model called `name`.
pub fn model(name: &str) -> Model {
    *MODELS
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no model named {name:?}"))
}

const NAME: &str = "web";

fn name() -> Target<'static> {
    Target::Name(NAME)
}

/// Unwraps a call that the contract says cannot fail here.
#[track_caller]
fn ok(what: &str, result: procman_core::Result<ProcessSnapshot>) -> ProcessSnapshot {
    match result {
        Ok(snapshot) => checked(snapshot),
        Err(e) => fail(Finding::Contract, format!("{what} failed: {e}")),
    }
}

/// Two starts of one new name, `ReturnExisting`: exactly one run exists afterwards, both
/// callers see its id, and exactly one child was spawned.
pub fn same_name_start_race(make: MakeManager) -> Body {
    Box::new(move || two_starts_race(World::new(make), None))
}

/// The race both start models run: two starts of `NAME`, `ReturnExisting`, one on a thread of
/// its own, after `ended` (the name's ended run, if the set-up made one). Exactly one new run
/// exists afterwards, both callers see its id, and exactly one more child was spawned.
fn two_starts_race(world: World, ended: Option<ProcessSnapshot>) {
    let earlier = u64::from(ended.is_some());
    let other = {
        let manager = world.manager.clone();
        thread::spawn(move || manager.start(spec(NAME), IfRunning::ReturnExisting))
    };
    let mine = ok(
        "a racing start",
        world.manager.start(spec(NAME), IfRunning::ReturnExisting),
    );
    let theirs = ok(
        "a racing start",
        other.join().expect("the other starter panicked"),
    );
    if mine.id != theirs.id || ended.is_some_and(|old| mine.id.generation <= old.id.generation) {
        fail(
            Finding::DuplicateRun,
            format!(
                "two starts of one name (its earlier run: {ended:?}) made {mine:?} and \
                 {theirs:?}, not one new run"
            ),
        );
    }
    let spawned = world.launcher.spawn_count();
    let live = world.launcher.live_count();
    if spawned != 1 + earlier || live != 1 {
        fail(
            Finding::DuplicateRun,
            format!(
                "two starts of one name spawned {} children ({live} live)",
                spawned - earlier
            ),
        );
    }
    let now = ok("status", world.manager.status(name()));
    if now.id != mine.id || now.status != Status::Running {
        fail(
            Finding::Contract,
            format!("after both starts returned the name is {now:?}, not running {mine:?}"),
        );
    }
    if world.manager.stats().started != 1 + earlier {
        fail(
            Finding::DuplicateRun,
            format!("{:?} after {} runs", world.manager.stats(), 1 + earlier),
        );
    }
    world.finish();
}

/// A stop racing the child's own exit: the run ends once, as `Stopped` (the stop got there
/// first) or `Exited(3)` (the exit did, and the stop finds it not running), with its exit info,
/// and the stop's answer agrees with the final status.
pub fn stop_races_natural_exit(make: MakeManager) -> Body {
    Box::new(move || {
        let world = World::new(make);
        let started = world.start_running(NAME);
        let child = world
            .launcher
            .control(NAME)
            .unwrap_or_else(|| fail(Finding::Contract, "a running run has no live child"));
        let stopper = {
            let manager = world.manager.clone();
            thread::spawn(move || manager.stop(name(), StopOptions::default()))
        };
        child.exit(ExitInfo::Code(3));
        let stopped = stopper.join().expect("the stopper panicked");
        let end = ok("status after both", world.manager.status(name()));
        if end.id != started.id {
            fail(Finding::DuplicateRun, format!("{end:?} is not {started:?}"));
        }
        match (&stopped, &end.status) {
            (Ok(snapshot), Status::Stopped) if checked(*snapshot) == end => {}
            (Err(ProcessError::NotRunning { id, status }), Status::Exited(3))
                if *id == started.id && *status == StatusKind::Exited => {}
            _ => fail(
                Finding::Contract,
                format!(
                    "a stop racing an exit answered {stopped:?} while the run ended as {end:?}: \
                     one terminal state, and the stop's answer must agree with it"
                ),
            ),
        }
        assert_quiescent(&world.launcher, &*world.manager, "after the run ended");
        world.finish();
    })
}

/// A writer starts an ended name (a new run replaces the old one) and stops it, while a reader
/// reads the name twice and lists: every snapshot keeps the invariants (no torn read) and the
/// reader never sees the name go backwards.
pub fn snapshot_consistency(make: MakeManager) -> Body {
    Box::new(move || {
        let world = World::new(make);
        world.start_running(NAME);
        ok(
            "setup stop",
            world.manager.stop(name(), StopOptions::default()),
        );
        let writer = {
            let manager = world.manager.clone();
            thread::spawn(move || {
                let run = ok(
                    "the writer's start",
                    manager.start(spec(NAME), IfRunning::Error),
                );
                let end = ok(
                    "the writer's stop",
                    manager.stop(Target::Id(&run.id), StopOptions::default()),
                );
                if end.id != run.id || end.status != Status::Stopped {
                    fail(
                        Finding::Contract,
                        format!("stopping {run:?} returned {end:?}"),
                    );
                }
            })
        };
        let mut reader = Monotone::default();
        reader.see(ok("a read", world.manager.status(name())));
        for snapshot in world.manager.list() {
            reader.see(snapshot);
        }
        reader.see(ok("a read", world.manager.status(name())));
        writer.join().expect("the writer panicked");
        reader.see(ok("the last read", world.manager.status(name())));
        world.finish();
    })
}

/// A start of a new name racing a shutdown: the start is refused or its run is stopped by the
/// shutdown — when `shutdown` returns nothing is live — and no child outlives the two.
pub fn shutdown_races_start(make: MakeManager) -> Body {
    Box::new(move || start_racing_shutdown(World::new(make), "a start"))
}

/// The race both shutdown models run: a start of `NAME` on a thread of its own and a shutdown
/// on this one. When `shutdown` returns nothing is live; the start succeeded (and its run was
/// stopped) or was refused with `ShuttingDown`; and no child outlives the two.
fn start_racing_shutdown(world: World, what: &str) {
    let starter = {
        let manager = world.manager.clone();
        thread::spawn(move || manager.start(spec(NAME), IfRunning::Error))
    };
    world.manager.shutdown(crate::world::SHUTDOWN_DEADLINE);
    for snapshot in world.manager.list() {
        if !checked(snapshot).status.is_terminal() {
            fail(
                Finding::Leak,
                format!("{snapshot:?} is live after shutdown returned: {what} slipped past it"),
            );
        }
    }
    match starter.join().expect("the starter panicked") {
        Ok(snapshot) => {
            checked(snapshot);
        }
        Err(ProcessError::ShuttingDown) => {}
        Err(e) => fail(
            Finding::Contract,
            format!("{what} racing shutdown failed with {e}, not ShuttingDown"),
        ),
    }
    world.finish();
}

/// A restart racing a reader: the reader sees the old run then the new one, never backwards;
/// the restart's run is the new current run with one restart, and one child is left.
pub fn restart_races_status(make: MakeManager) -> Body {
    Box::new(move || {
        let world = World::new(make);
        let first = world.start_running(NAME);
        let restarter = {
            let manager = world.manager.clone();
            thread::spawn(move || manager.restart(name()))
        };
        let mut reader = Monotone::default();
        reader.see(ok("a read", world.manager.status(name())));
        reader.see(ok("a read", world.manager.status(name())));
        let second = ok(
            "the restart",
            restarter.join().expect("the restarter panicked"),
        );
        let now = reader.see(ok("the last read", world.manager.status(name())));
        if second.id.generation <= first.id.generation || second.restarts != 1 || now != second {
            fail(
                Finding::Contract,
                format!(
                    "restarting {first:?} returned {second:?}; the name is now {now:?} \
                     (want a newer generation with one restart, still current)"
                ),
            );
        }
        let (spawned, exited, live) = (
            world.launcher.spawn_count(),
            world.launcher.exit_count(),
            world.launcher.live_count(),
        );
        if (spawned, exited, live) != (2, 1, 1) {
            fail(
                Finding::DuplicateRun,
                format!("after one restart: {spawned} spawned, {exited} exited, {live} live"),
            );
        }
        world.finish();
    })
}

/// A stop of a child that ignores SIGTERM waits for the child; a reader must finish its read
/// before the child is allowed to die (the model's main thread reads, then ends the child). If
/// the stop held anything the read needs across its wait, neither could go on: a deadlock,
/// which both checkers report. (The checkers never time out a wait, so the stop waits for the
/// child however long its stop timeout is.)
pub fn readers_never_wait_for_a_stop(make: MakeManager) -> Body {
    Box::new(move || {
        let launcher = SimLauncher::new();
        launcher.script(NAME, SimScript::ignores_term());
        let world = World::with_launcher(make, launcher);
        let started = world.start_running(NAME);
        let child = world
            .launcher
            .control(NAME)
            .unwrap_or_else(|| fail(Finding::Contract, "a running run has no live child"));
        let stopper = {
            let manager = world.manager.clone();
            thread::spawn(move || manager.stop(name(), StopOptions::default()))
        };
        let read = ok("a read during a stop", world.manager.status(name()));
        if read.id != started.id || rank(read.status.kind()) < rank(StatusKind::Running) {
            fail(
                Finding::Contract,
                format!("a read during a stop saw {read:?}"),
            );
        }
        child.exit(ExitInfo::Code(0));
        match stopper.join().expect("the stopper panicked") {
            Ok(end) if end.id == started.id && end.status == Status::Stopped => {}
            // The read and the exit ran before the stop began.
            Err(ProcessError::NotRunning { id, .. }) if id == started.id => {}
            other => fail(
                Finding::Contract,
                format!("stopping a child that ignores SIGTERM returned {other:?}"),
            ),
        }
        world.finish();
    })
}

/// Two stops of one run: the first to move it to `Stopping` leads the stop, the other joins it;
/// both return the same terminal snapshot, or the later one finds the run already ended.
pub fn concurrent_stops_join(make: MakeManager) -> Body {
    Box::new(move || {
        let world = World::new(make);
        let started = world.start_running(NAME);
        let other = {
            let manager = world.manager.clone();
            thread::spawn(move || manager.stop(name(), StopOptions::default()))
        };
        let mine = world.manager.stop(name(), StopOptions::default());
        let theirs = other.join().expect("the other stopper panicked");
        let end = ok("status after both stops", world.manager.status(name()));
        let answers_agree = |a: &procman_core::Result<ProcessSnapshot>| match a {
            Ok(snapshot) => checked(*snapshot) == end,
            Err(ProcessError::NotRunning { id, .. }) => *id == started.id,
            Err(_) => false,
        };
        let at_least_one_led = mine.is_ok() || theirs.is_ok();
        if end.status != Status::Stopped
            || end.id != started.id
            || !answers_agree(&mine)
            || !answers_agree(&theirs)
            || !at_least_one_led
        {
            fail(
                Finding::Contract,
                format!(
                    "two stops of {started:?} answered {mine:?} and {theirs:?}; the run ended \
                     as {end:?} (want both the same terminal snapshot, or one NotRunning)"
                ),
            );
        }
        world.finish();
    })
}

/// Two starts of two names the registry has never seen: each claims a table slot and publishes
/// a grown name order by compare-and-swap (the dashmap form inserts under a shard lock), and
/// neither may lose the other's name. Afterwards both are found by name and `list` returns both, in name order.
pub fn distinct_names_register(make: MakeManager) -> Body {
    Box::new(move || {
        let world = World::new(make);
        let other = {
            let manager = world.manager.clone();
            thread::spawn(move || manager.start(spec("api"), IfRunning::Error))
        };
        let web = ok("a start", world.manager.start(spec(NAME), IfRunning::Error));
        let api = ok("a start", other.join().expect("the other starter panicked"));
        for (asked, started) in [(NAME, &web), ("api", &api)] {
            let now = ok(
                "status of a started name",
                world.manager.status(Target::Name(asked)),
            );
            if now.id != started.id {
                fail(
                    Finding::Contract,
                    format!("{asked} was started as {started:?} but reads {now:?}"),
                );
            }
        }
        let listed: Vec<_> = world
            .manager
            .list()
            .into_iter()
            .map(|s| checked(s).id.name)
            .collect();
        if listed.len() != 2 || &*listed[0] != "api" || &*listed[1] != NAME {
            fail(
                Finding::Contract,
                format!("list after starting api and {NAME} gave {listed:?}"),
            );
        }
        world.finish();
    })
}

/// Two threads intern one text no one has interned, in a table over the checker's mutex (the
/// same `Interner` code the process-wide table runs): both must get the same pointer, or the
/// table holds two copies of one name and pointer equality of names is broken.
pub fn intern_race(_make: MakeManager) -> Body {
    use procman_core::name::{InternSet, Interner};
    use procman_core::sync::{Arc, Mutex};
    Box::new(move || {
        let table: Arc<Interner<Mutex<InternSet>>> = Arc::new(Interner::default());
        let other = {
            let table = table.clone();
            thread::spawn(move || table.intern("web") as *const str as *const u8 as usize)
        };
        let mine = table.intern("web") as *const str as *const u8 as usize;
        let theirs = other.join().expect("the other interner panicked");
        if mine != theirs || table.len() != 1 {
            fail(
                Finding::DuplicateRun,
                format!(
                    "one text interned as two copies ({mine:#x}, {theirs:#x}; {} in the table)",
                    table.len()
                ),
            );
        }
    })
}

/// A name whose run has ended, stopped by the set-up.
fn ended(world: &World) -> ProcessSnapshot {
    world.start_running(NAME);
    ok(
        "setup stop",
        world.manager.stop(name(), StopOptions::default()),
    )
}

/// Two starts of a name whose run has ended, `ReturnExisting`: the name is in the registry
/// already, so both go down the path that replaces an ended run (the mutex design's `install()`
/// under the entry lock, the atomic design's compare-and-swap of the entry's cell, the actor's
/// owner), not the registry publish [`same_name_start_race`] races. Exactly one new run exists
/// afterwards, both callers see its id, and exactly one more child was spawned.
pub fn ended_name_start_race(make: MakeManager) -> Body {
    Box::new(move || {
        let world = World::new(make);
        let old = ended(&world);
        two_starts_race(world, Some(old));
    })
}

/// A start of a name whose run has ended, racing a shutdown. [`shutdown_races_start`] races a
/// new name, which the mutex design refuses under the registry's write lock; an ended name is
/// installed under its entry's lock instead (`install()`), which must re-check the flag there.
/// When `shutdown` returns nothing is live, the start is refused or its run has ended, and no
/// child outlives the two.
pub fn shutdown_races_start_of_an_ended_name(make: MakeManager) -> Body {
    Box::new(move || {
        let world = World::new(make);
        ended(&world);
        start_racing_shutdown(world, "a start of an ended name");
    })
}

/// The atomic design's shutdown gate on its own, over the checker's atomics and its latch and
/// nothing else: inside the design, the registry's and the cells' checker locks add
/// happens-before edges that would hide a wrong ordering in the gate. One start enters, makes a
/// `Relaxed` write while it holds its pass (standing for the run it registers) and leaves; a
/// second start only enters and leaves (a refused or empty start, which moves the count too);
/// the main thread closes the gate, waits for the starts it counted, and reads the write. A
/// start that entered before the close must have its write visible to the shutdown: through
/// the latch when it was counted in flight, through the leaving `fetch_sub`'s release read by
/// the closing `fetch_or` when it had already left. (Shuttle runs it too, but it explores
/// interleavings only, not weak memory: an ordering bug here is loom's to find.)
pub fn shutdown_gate_publication(_make: MakeManager) -> Body {
    use procman_core::gate::ShutdownGate;
    use procman_core::sync::Arc;
    use procman_core::sync::atomic::{AtomicU64, Ordering};
    Box::new(move || {
        let gate = Arc::new(ShutdownGate::default());
        let registered = Arc::new(AtomicU64::new(0));
        let publisher = {
            let (gate, registered) = (gate.clone(), registered.clone());
            thread::spawn(move || match gate.enter() {
                Ok(_pass) => {
                    registered.store(1, Ordering::Relaxed);
                    true
                }
                Err(_) => false,
            })
        };
        let bystander = {
            let gate = gate.clone();
            thread::spawn(move || drop(gate.enter()))
        };
        let in_flight = gate
            .close()
            .unwrap_or_else(|| fail(Finding::Contract, "the first close reported it was second"));
        gate.wait_drained(in_flight);
        let seen = registered.load(Ordering::Relaxed);
        let entered = publisher.join().expect("the publishing start panicked");
        bystander.join().expect("the other start panicked");
        if entered && seen != 1 {
            fail(
                Finding::Leak,
                format!(
                    "a start entered the gate before it closed, yet its write is not visible once \
                     wait_drained({in_flight}) returned: shutdown would miss the run it registered"
                ),
            );
        }
    })
}

/// The atomic design's status view ([`procman_core::seqview::SnapshotView`]), alone over the
/// checker's atomics: a writer publishes two snapshots (each under the writer bit) while a reader
/// reads twice. Each read must be `None` (it overlapped a publish every try) or exactly one of the
/// three snapshots the view ever held, and the second read never older than the first. Inside the
/// design the cells' checker locks would add happens-before edges of their own; here only the
/// view's own orderings stand between a reader and a torn copy.
pub fn seqview_publish_races_read(_make: MakeManager) -> Body {
    use procman_core::seqview::SnapshotView;
    use procman_core::sync::Arc;
    use procman_core::{LogCounters, ProcessId};
    Box::new(move || {
        let name = procman_core::Name::from_interned(NAME);
        let mut first = ProcessSnapshot::pending(ProcessId::new(name, 1), 0);
        first.status = Status::Starting;
        first.started_at = Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(10));
        let mut second = first;
        second.status = Status::Running;
        second.pid = Some(42);
        let mut third = second;
        third.id.generation = 2;
        third.status = Status::Exited(3);
        third.exit = Some(ExitInfo::Code(3));
        third.ended_at = Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(11));
        third.restarts = 1;
        let held = [first, second, third];
        let view = Arc::new(SnapshotView::new(&first, 1));
        let writer = {
            let view = view.clone();
            thread::spawn(move || {
                for (version, next) in [(2, second), (3, third)] {
                    view.begin_write().write(&next, version);
                }
            })
        };
        let mut last = 0;
        for _ in 0..2 {
            let Some(read) = view.read(name, |_| Some(LogCounters::default())) else {
                continue;
            };
            let Some(at) = held.iter().position(|s| *s == read) else {
                fail(
                    Finding::Invariant,
                    format!("a read of the view is no snapshot it ever held (torn): {read:?}"),
                );
            };
            if at < last {
                fail(
                    Finding::Linearizability,
                    format!(
                        "a read of the view went back from {:?} to {read:?}",
                        held[last]
                    ),
                );
            }
            last = at;
        }
        writer.join().expect("the publishing thread panicked");
        if view.read(name, |_| Some(LogCounters::default())) != Some(third) {
            fail(
                Finding::Contract,
                "after both publishes the view does not read as the last one",
            );
        }
    })
}

/// A stop racing the child's own exit while the spec says `restart = always`, with no backoff
/// (so the automatic restart runs at once; the checkers' timed waits never time out) and one
/// automatic restart allowed. The stop names the run by id, so it never reaches a run the
/// restart made. Whoever wins decides the restart: an exit decides from the state it replaces
/// (`Running`: restart; `Stopping`: a stop was asked for, no restart). A decision taken from a
/// stale load arms a restart for a run that ends `Stopped`, and the name comes back.
///
/// Afterwards (checked once the world is shut down, so an armed restart had every chance to
/// run): if the stop answered `Ok` (it stopped the run, or found it exited and cancelled its
/// pending restart), no automatic restart ran; otherwise the run had `Exited` (or was already
/// replaced by its restart) and at most one restart ran. In every case `stats()` agrees with the
/// children spawned: `started` = spawned, `restarted` = spawned - 1.
pub fn restart_policy_exit_races_stop(make: MakeManager) -> Body {
    Box::new(move || {
        let world = World::new(make);
        let always = RestartPolicy {
            mode: RestartMode::Always,
            initial_backoff: std::time::Duration::ZERO,
            max_backoff: std::time::Duration::ZERO,
            max_restarts: 1,
        };
        let started = ok(
            "a start with restart = always",
            world
                .manager
                .start(spec(NAME).with_restart(always), IfRunning::Error),
        );
        let child = world
            .launcher
            .control(NAME)
            .unwrap_or_else(|| fail(Finding::Contract, "a running run has no live child"));
        let stopper = {
            let manager = world.manager.clone();
            thread::spawn(move || manager.stop(Target::Id(&started.id), StopOptions::default()))
        };
        child.exit(ExitInfo::Code(3));
        let stopped = stopper.join().expect("the stopper panicked");
        // `Ok`: the stop ended the run (`Stopped`), or found it exited with its restart pending
        // and cancelled that restart (the ended snapshot, as the contract says). Either way no
        // automatic restart may run afterwards.
        let no_restart = match &stopped {
            Ok(snapshot)
                if snapshot.id == started.id
                    && matches!(snapshot.status, Status::Stopped | Status::Exited(3)) =>
            {
                checked(*snapshot);
                true
            }
            Err(ProcessError::NotRunning { id, status })
                if *id == started.id && *status == StatusKind::Exited =>
            {
                false
            }
            // The exit won and its restart already replaced the run the stop named.
            Err(ProcessError::Superseded { asked, .. }) if *asked == started.id => false,
            _ => fail(
                Finding::Contract,
                format!(
                    "a stop by id racing an exit (restart = always) answered {stopped:?}: it \
                     must stop the run, or find it exited (or already replaced)"
                ),
            ),
        };
        let launcher = world.launcher.clone();
        let manager = world.manager.clone();
        world.finish();
        let spawned = launcher.spawn_count();
        let stats = manager.stats();
        if no_restart && spawned != 1 {
            fail(
                Finding::DuplicateRun,
                format!(
                    "the stop answered {stopped:?}, yet the name was restarted automatically \
                     ({spawned} children spawned): a restart armed from a stale state, or one \
                     the stop failed to cancel"
                ),
            );
        }
        if spawned > 2 {
            fail(
                Finding::DuplicateRun,
                format!("{spawned} children spawned with one automatic restart allowed"),
            );
        }
        if stats.started != spawned || stats.restarted != spawned - 1 || stats.active != 0 {
            fail(
                Finding::Contract,
                format!(
                    "{stats:?} after {spawned} children spawned (one manual start, the rest \
                     automatic restarts), all ended"
                ),
            );
        }
    })
}
