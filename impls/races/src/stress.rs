//! The shuttle workload: several client threads run hundreds of mixed calls against one
//! manager; every snapshot is checked as it arrives, every call is recorded, and at the end the
//! history must be linearizable ([`crate::linearizability`]) and nothing may outlive shutdown.
//!
//! The calls are drawn from the checker's random source (`shuttle::rand`), so a failing
//! schedule replays with its data. Names: `a` and `b` run until stopped; `broken`'s spawns
//! fail. A "chaos" call makes a live child exit by itself, racing whatever else is going on.
//!
//! Once the clients are done, `stats()` must agree with the counts the history implies
//! ([`check_stats`]): counters that drift from what happened are a finding too.

use procman_core::sync::{Arc, thread};
use procman_core::{
    IfRunning, ProcessSnapshot, ProcessSpec, SimLauncher, SimScript, StopOptions, Target,
};

use crate::finding::{Finding, fail};
use crate::history::{Call, Clock, Obs, Op, Outcome, ThreadLog};
use crate::linearizability;
use crate::models::Body;
use crate::world::{MakeManager, World, checked, spec};

/// The names the workload uses.
pub const NAMES: [&str; 3] = ["a", "b", "broken"];

/// The size of a workload.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Client threads (besides the model's main thread).
    pub threads: usize,
    /// Calls each client makes.
    pub calls_per_thread: usize,
}

/// The random source: shuttle's under shuttle (so replays reproduce the data); elsewhere a
/// fixed xorshift per thread (the workload is only run under shuttle).
struct Dice {
    #[cfg(not(feature = "shuttle"))]
    state: u64,
}

impl Dice {
    fn new(_thread: usize) -> Self {
        Dice {
            #[cfg(not(feature = "shuttle"))]
            state: 0x9e37_79b9_7f4a_7c15 ^ (_thread as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9),
        }
    }

    fn next(&mut self) -> u64 {
        #[cfg(feature = "shuttle")]
        {
            use shuttle::rand::RngCore;
            shuttle::rand::thread_rng().next_u64()
        }
        #[cfg(not(feature = "shuttle"))]
        {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            self.state
        }
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The stress body for `make`'s design.
pub fn stress(make: MakeManager, shape: Shape) -> Body {
    Box::new(move || {
        let launcher = SimLauncher::new();
        launcher.script(
            "broken",
            SimScript::spawn_fails("no such file: /bin/broken"),
        );
        let world = World::with_launcher(make, launcher);
        let clock = Arc::new(Clock::new());
        let clients: Vec<_> = (0..shape.threads)
            .map(|t| {
                let manager = world.manager.clone();
                let launcher = world.launcher.clone();
                let clock = clock.clone();
                thread::spawn(move || {
                    client(t + 1, shape.calls_per_thread, &*manager, &launcher, &clock)
                })
            })
            .collect();
        let mut ops: Vec<Op> = Vec::new();
        for client in clients {
            ops.extend(client.join().expect("a client panicked").ops);
        }
        // One quiescent read of everything closes the history.
        let mut last = ThreadLog::new(0);
        last.record(&clock, Call::List, || world.manager.list(), listed);
        ops.extend(last.ops);
        if std::env::var("PROCMAN_RACES_DUMP").is_ok() {
            let mut sorted: Vec<&Op> = ops.iter().collect();
            sorted.sort_by_key(|op| op.call_at);
            for op in sorted {
                eprintln!("{op}");
            }
        }
        check_generations(&ops);
        if let Err(e) = linearizability::check(&ops, &NAMES) {
            fail(Finding::Linearizability, e.report);
        }
        check_stats(&ops, &*world.manager);
        world.finish();
    })
}

/// One client's calls.
fn client(
    thread: usize,
    calls: usize,
    manager: &dyn procman_core::ProcessManager,
    launcher: &SimLauncher,
    clock: &Clock,
) -> ThreadLog {
    let mut dice = Dice::new(thread);
    let mut log = ThreadLog::new(thread);
    // Generations this client has seen, per name, for `status(id)`.
    let mut seen: Vec<(&'static str, u64)> = Vec::new();
    let snapshot = |r: &procman_core::Result<ProcessSnapshot>| Outcome::of(r);
    for _ in 0..calls {
        let name = match dice.below(100) {
            0..45 => "a",
            45..80 => "b",
            _ => "broken",
        };
        let result = match dice.below(100) {
            0..22 => {
                let return_existing = dice.below(2) == 0;
                let if_running = if return_existing {
                    IfRunning::ReturnExisting
                } else {
                    IfRunning::Error
                };
                let call = Call::Start {
                    name,
                    return_existing,
                };
                Some(log.record(
                    clock,
                    call,
                    || manager.start(workload_spec(name), if_running),
                    snapshot,
                ))
            }
            22..37 => Some(log.record(
                clock,
                Call::Stop { name },
                || manager.stop(Target::Name(name), StopOptions::default()),
                snapshot,
            )),
            37..47 => Some(log.record(
                clock,
                Call::Restart { name },
                || manager.restart(Target::Name(name)),
                snapshot,
            )),
            47..70 => Some(log.record(
                clock,
                Call::Status { name },
                || manager.status(Target::Name(name)),
                snapshot,
            )),
            70..78 => {
                let mine: Vec<u64> = seen
                    .iter()
                    .filter(|(n, _)| *n == name)
                    .map(|(_, g)| *g)
                    .collect();
                if mine.is_empty() {
                    None
                } else {
                    let generation = mine[dice.below(mine.len() as u64) as usize];
                    let id = procman_core::ProcessId::new(Arc::from(name), generation);
                    Some(log.record(
                        clock,
                        Call::StatusById { name, generation },
                        || manager.status(Target::Id(&id)),
                        snapshot,
                    ))
                }
            }
            78..88 => {
                for s in log.record(clock, Call::List, || manager.list(), listed) {
                    checked(s);
                }
                None
            }
            _ => {
                if let Some(child) = launcher.control(name) {
                    let generation = child.id().generation;
                    let code = dice.below(3) as i32;
                    log.record_exit(clock, name, generation, |exit| child.exit(exit), code);
                }
                None
            }
        };
        if let Some(Ok(s)) = result {
            let s = checked(s);
            seen.push((name, s.id.generation));
        }
    }
    log
}

/// The spec of a workload name.
fn workload_spec(name: &str) -> ProcessSpec {
    spec(name)
}

/// `list`'s outcome (takes `&Vec` because `ThreadLog::record` passes the call's own result).
#[allow(clippy::ptr_arg)]
fn listed(all: &Vec<ProcessSnapshot>) -> Outcome {
    Outcome::Listed(
        all.iter()
            .map(|s| (s.id.name.to_string(), Obs::of(s)))
            .collect(),
    )
}

/// Generations come from one manager-wide counter: no two names share one.
fn check_generations(ops: &[Op]) {
    let mut owner: std::collections::HashMap<u64, String> = std::collections::HashMap::new();
    let mut note = |generation: u64, name: &str, op: &Op| {
        let previous = owner.entry(generation).or_insert_with(|| name.to_owned());
        if previous != name {
            fail(
                Finding::Linearizability,
                format!("generation {generation} belongs to {previous:?} and to {name:?} ({op})"),
            );
        }
    };
    for op in ops {
        match (&op.outcome, op.call.name()) {
            (Outcome::Snapshot(obs), Some(name)) => note(obs.generation, name, op),
            (Outcome::Listed(all), _) => {
                for (name, obs) in all {
                    note(obs.generation, name, op);
                }
            }
            _ => {}
        }
    }
}

/// `stats()` against the history, once every client has returned (the workload has no
/// automatic restarts, so every run was made by a recorded `start` or `restart`, which returned
/// it or reported its spawn failure):
/// - `started`: the distinct runs that a `start` or `restart` returned or reported failed;
/// - `failed`: the distinct runs whose spawn failure was reported;
/// - `active`: the live runs a quiescent `list` shows now;
/// - `restarted`: the runs a `restart` made. A restart that reported a spawn failure made that
///   run; a run only restarts returned was made by one of them; a run a `start` with
///   `IfRunning::Error` returned was made by that start. A run returned both by restarts and by
///   a `start` with `ReturnExisting` may have been made by either (a restart that finds a run
///   another start made returns it and counts nothing), so `restarted` must lie between the
///   certain count and the certain count plus those.
fn check_stats(ops: &[Op], manager: &dyn procman_core::ProcessManager) {
    use crate::history::Refusal;
    use std::collections::{HashMap, HashSet};
    #[derive(Default)]
    struct Returned {
        by_restart: bool,
        by_start_error: bool,
        by_start_existing: bool,
    }
    let mut runs: HashMap<u64, Returned> = HashMap::new();
    let mut failed = HashSet::new();
    // Runs whose spawn failure a restart reported: that restart made them.
    let mut failed_by_restart = HashSet::new();
    for op in ops {
        match (&op.call, &op.outcome) {
            (Call::Start { .. } | Call::Restart { .. }, Outcome::Snapshot(obs)) => {
                let returned = runs.entry(obs.generation).or_default();
                match op.call {
                    Call::Restart { .. } => returned.by_restart = true,
                    Call::Start {
                        return_existing: false,
                        ..
                    } => returned.by_start_error = true,
                    _ => returned.by_start_existing = true,
                }
            }
            (call, Outcome::Refused(Refusal::SpawnFailed(g))) => {
                failed.insert(*g);
                if matches!(call, Call::Restart { .. }) {
                    failed_by_restart.insert(*g);
                }
            }
            _ => {}
        }
    }
    let mut certain = failed_by_restart.clone();
    let mut either = 0u64;
    for (generation, r) in &runs {
        // A run whose spawn failure was reported was made by the call that reported it.
        if failed.contains(generation) || !r.by_restart || r.by_start_error {
            continue;
        }
        if r.by_start_existing {
            either += 1;
        } else {
            certain.insert(*generation);
        }
    }
    let certain = certain.len() as u64;
    let live = manager
        .list()
        .into_iter()
        .filter(|s| !s.status.is_terminal())
        .count() as u64;
    let stats = manager.stats();
    let started = runs
        .keys()
        .chain(failed.iter())
        .collect::<HashSet<_>>()
        .len() as u64;
    let exact = (stats.active, stats.started, stats.failed) == (live, started, failed.len() as u64);
    if !exact || !(certain..=certain + either).contains(&stats.restarted) {
        fail(
            Finding::Contract,
            format!(
                "stats() reads {stats:?}, but the history implies active {live}, started \
                 {started}, failed {}, restarted {certain}..={} ({} calls)",
                failed.len(),
                certain + either,
                ops.len()
            ),
        );
    }
}
