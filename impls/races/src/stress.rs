//! The shuttle workload: several client threads run hundreds of mixed calls against one
//! manager; every snapshot is checked as it arrives, every call is recorded, and at the end the
//! history must be linearizable ([`crate::linearizability`]) and nothing may outlive shutdown.
//!
//! The calls are drawn from the checker's random source (`shuttle::rand`), so a failing
//! schedule replays with its data. Names: `a` and `b` run until stopped; `broken`'s spawns
//! fail. A "chaos" call makes a live child exit by itself, racing whatever else is going on.
//!
//! With [`Shape::restart_policy`], `b` restarts by itself (`restart = on-failure`, no backoff,
//! [`POLICY_MAX`] automatic restarts): a chaos exit with a nonzero code arms a restart that
//! races every stop, restart and start of the name, and the sequential specification has
//! automatic restarts too ([`linearizability::AutoRestart`]).
//!
//! Once the clients are done and the manager is shut down, `stats()` must agree with what
//! happened ([`check_stats`]): counters that drift from it are a finding too.

use procman_core::sync::{Arc, thread};
use procman_core::{
    IfRunning, ProcessSnapshot, ProcessSpec, RestartMode, RestartPolicy, SimLauncher, SimScript,
    StopOptions, Target,
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
    /// Whether `b` has a restart policy (`on-failure`, no backoff, [`POLICY_MAX`] restarts).
    pub restart_policy: bool,
}

/// The automatic restarts `b` may have over its life when [`Shape::restart_policy`] is on.
pub const POLICY_MAX: u32 = 3;

/// The name with the restart policy, in a workload with one.
const POLICY_NAME: &str = "b";

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
                thread::spawn(move || client(t + 1, shape, &*manager, &launcher, &clock))
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
        let policy = |name: &str| {
            (shape.restart_policy && name == POLICY_NAME).then_some(linearizability::AutoRestart {
                on_failure: true,
                max: POLICY_MAX,
            })
        };
        if let Err(e) = linearizability::check_with_policies(&ops, &NAMES, policy) {
            fail(Finding::Linearizability, e.report);
        }
        // The counters are read once the manager is shut down: an automatic restart may still be
        // pending when the clients are done, and the shutdown cancels it or waits for it.
        let (manager, launcher) = (world.manager.clone(), world.launcher.clone());
        world.finish();
        check_stats(&ops, &*manager, &launcher);
    })
}

/// One client's calls.
fn client(
    thread: usize,
    shape: Shape,
    manager: &dyn procman_core::ProcessManager,
    launcher: &SimLauncher,
    clock: &Clock,
) -> ThreadLog {
    let mut dice = Dice::new(thread);
    let mut log = ThreadLog::new(thread);
    // Generations this client has seen, per name, for `status(id)`.
    let mut seen: Vec<(&'static str, u64)> = Vec::new();
    let snapshot = |r: &procman_core::Result<ProcessSnapshot>| Outcome::of(r);
    for _ in 0..shape.calls_per_thread {
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
                    || manager.start(workload_spec(name, shape), if_running),
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
fn workload_spec(name: &str, shape: Shape) -> ProcessSpec {
    if shape.restart_policy && name == POLICY_NAME {
        spec(name).with_restart(RestartPolicy {
            mode: RestartMode::OnFailure,
            initial_backoff: std::time::Duration::ZERO,
            max_backoff: std::time::Duration::ZERO,
            max_restarts: POLICY_MAX,
        })
    } else {
        spec(name)
    }
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

/// `stats()` once the manager is shut down, against what happened:
/// - `failed`: the spawn failures calls reported (only `broken` fails, and it never restarts by
///   itself, so every failed spawn was some call's);
/// - `started`: every run registered, i.e. the children the launcher spawned plus the spawns
///   that failed;
/// - `restarted`: the sum of every name's restart count now. A run's count is its
///   predecessor's, plus one when a restart (manual or automatic) made it, and a start keeps it,
///   so the last run of each name carries every restart the name had; a restart that found a
///   run another start made returns it and counts nothing, in both places;
/// - `active`: 0, as after any shutdown.
fn check_stats(ops: &[Op], manager: &dyn procman_core::ProcessManager, launcher: &SimLauncher) {
    use crate::history::Refusal;
    let failed: std::collections::HashSet<u64> = ops
        .iter()
        .filter_map(|op| match op.outcome {
            Outcome::Refused(Refusal::SpawnFailed(g)) => Some(g),
            _ => None,
        })
        .collect();
    let failed = failed.len() as u64;
    let started = launcher.spawn_count() + failed;
    let restarted: u64 = manager.list().iter().map(|s| u64::from(s.restarts)).sum();
    let stats = manager.stats();
    if (stats.started, stats.restarted, stats.failed, stats.active)
        != (started, restarted, failed, 0)
    {
        fail(
            Finding::Contract,
            format!(
                "stats() reads {stats:?} after shutdown, but {} children were spawned and {failed} \
                 spawns failed (started {started}), the names' restart counts add up to \
                 {restarted}, and nothing is active ({} calls)",
                launcher.spawn_count(),
                ops.len()
            ),
        );
    }
}
