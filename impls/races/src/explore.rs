//! Running a body under the active checker, counting the schedules it took, and replaying a
//! failing shuttle schedule.
//!
//! One entry, [`explore`], runs a body under whichever checker this build has (githedgehog's
//! `stress(body)` shape): loom explores every interleaving within its preemption bound; shuttle
//! samples schedules with the random or the PCT scheduler. Without a checker (the default
//! backend) there is nothing to explore and [`explore`] refuses loudly: a suite that "passes"
//! by exploring nothing is the trap this crate exists to avoid.
//!
//! # Knobs (environment)
//!
//! | variable | effect | default |
//! |----------|--------|---------|
//! | `PROCMAN_RACES_DEEP=1` | the `--deep` bounds of `scripts/check-races.sh` | off |
//! | `LOOM_MAX_PREEMPTIONS` | loom's preemption bound | per design (see [`LoomBound`]) |
//! | `PROCMAN_LOOM_TIME_CAP` | seconds after which loom stops exploring one test (`0`: no cap) | per design (see [`LoomBound`]) |
//! | `LOOM_MAX_BRANCHES` | loom's branch bound per execution | 20 000 |
//! | `PROCMAN_SHUTTLE_ITERATIONS` | shuttle schedules per test | per test (see [`Budget`]) |
//! | `PROCMAN_SHUTTLE_DEPTH` | PCT depth | 3 |
//! | `SHUTTLE_RANDOM_SEED` | seed of the random and PCT schedulers | fixed per test |
//! | `PROCMAN_SHUTTLE_REPLAY` | replay this failing schedule (the string shuttle printed, or `@file`) instead of exploring | unset |
//! | `PROCMAN_RACES_REPORT` | append one line per explored test or caught bug to this file | unset |

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize, Ordering as StdOrdering};
use std::time::{Duration, Instant};

/// The checker this build runs bodies under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checker {
    /// loom: every interleaving within the preemption bound.
    Loom,
    /// shuttle: sampled schedules.
    Shuttle,
}

impl Checker {
    /// The checker of this build, if any.
    pub fn active() -> Option<Checker> {
        if cfg!(feature = "loom") {
            Some(Checker::Loom)
        } else if cfg!(feature = "shuttle") {
            Some(Checker::Shuttle)
        } else {
            None
        }
    }

    /// The Cargo feature that selects it.
    pub fn feature(self) -> &'static str {
        match self {
            Checker::Loom => "loom",
            Checker::Shuttle => "shuttle",
        }
    }
}

/// Which shuttle scheduler samples the schedules (ignored by loom, which explores them all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheduler {
    /// PCT (probabilistic concurrency testing): random priorities with `depth` change points,
    /// good at bugs that need a few specific preemptions.
    Pct,
    /// Uniformly random choice at every scheduling point: good at long mixed workloads.
    Random,
}

/// How far loom explores one test.
///
/// Exhaustive within `preemptions` unless `time_cap` stops it first; a capped run is reported
/// as such ([`Explored::capped`]), never as exhaustive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoomBound {
    /// Preemption bound in the default mode.
    pub preemptions: usize,
    /// Preemption bound with `PROCMAN_RACES_DEEP=1`.
    pub deep_preemptions: usize,
    /// Seconds after which exploration stops in the default mode (`None`: exhaustive).
    pub time_cap_s: Option<u64>,
    /// The same with `PROCMAN_RACES_DEEP=1`.
    pub deep_time_cap_s: Option<u64>,
}

impl LoomBound {
    /// Exhaustive at preemption bound 2 (3 when deep): the mutex and atomic designs, whose
    /// calls are a handful of lock or CAS steps on the callers' own threads.
    pub const EXHAUSTIVE: LoomBound = LoomBound {
        preemptions: 2,
        deep_preemptions: 3,
        time_cap_s: None,
        deep_time_cap_s: None,
    };

    /// The actor design: every call is a mailbox round trip (queue lock, doorbell, reply slot)
    /// between the caller and the owner thread, with the launch worker a fourth model thread,
    /// and loom's schedules grow accordingly: at preemption bound 1 its seven models take
    /// about 500 s here (`snapshot_consistency` alone 400 s, 513 292 schedules), at bound 2
    /// a single model runs for hours. So the default run is bound 1 with a time cap per model
    /// (reported as capped), and `--deep` runs bound 1 to exhaustion and then some of bound 2.
    /// The actor's own mailbox and reply protocols are also checked at bound 2, exhaustively,
    /// in isolation (`procman-actor`'s `src/model_tests.rs`).
    pub const ACTOR: LoomBound = LoomBound {
        preemptions: 1,
        deep_preemptions: 1,
        time_cap_s: Some(15),
        deep_time_cap_s: None,
    };

    /// The bound for a design: [`LoomBound::ACTOR`] for "actor", else [`LoomBound::EXHAUSTIVE`].
    pub fn for_design(design: &str) -> LoomBound {
        if design == "actor" {
            LoomBound::ACTOR
        } else {
            LoomBound::EXHAUSTIVE
        }
    }

    /// The preemption bound and time cap in effect (mode and environment applied).
    pub fn effective(self) -> (usize, Option<std::time::Duration>) {
        let preemptions = env_var_usize("LOOM_MAX_PREEMPTIONS").unwrap_or(if deep() {
            self.deep_preemptions
        } else {
            self.preemptions
        });
        let cap = match env_var_usize("PROCMAN_LOOM_TIME_CAP") {
            Some(0) => None,
            Some(s) => Some(s as u64),
            None if deep() => self.deep_time_cap_s,
            None => self.time_cap_s,
        };
        (preemptions, cap.map(std::time::Duration::from_secs))
    }
}

/// How much exploring one test does.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Shuttle scheduler.
    pub scheduler: Scheduler,
    /// Shuttle schedules in the default mode.
    pub iterations: usize,
    /// Shuttle schedules with `PROCMAN_RACES_DEEP=1`.
    pub deep_iterations: usize,
    /// Seed of the shuttle scheduler (fixed, so that a run is repeatable; override with
    /// `SHUTTLE_RANDOM_SEED`).
    pub seed: u64,
    /// loom's bounds.
    pub loom: LoomBound,
}

impl Budget {
    /// PCT with the given default and deep iteration counts.
    pub const fn pct(iterations: usize, deep_iterations: usize) -> Budget {
        Budget {
            scheduler: Scheduler::Pct,
            iterations,
            deep_iterations,
            seed: 0x5eed_0001,
            loom: LoomBound::EXHAUSTIVE,
        }
    }

    /// The random scheduler with the given default and deep iteration counts.
    pub const fn random(iterations: usize, deep_iterations: usize) -> Budget {
        Budget {
            scheduler: Scheduler::Random,
            iterations,
            deep_iterations,
            seed: 0x5eed_0002,
            loom: LoomBound::EXHAUSTIVE,
        }
    }

    /// The budget of the small protocol models.
    pub const MODEL: Budget = Budget::pct(1000, 10_000);

    /// This budget with loom's bounds for `design`.
    pub fn for_design(self, design: &str) -> Budget {
        Budget {
            loom: LoomBound::for_design(design),
            ..self
        }
    }
}

/// What an exploration did.
#[derive(Clone, Copy, Debug)]
pub struct Explored {
    /// The checker.
    pub checker: Checker,
    /// Executions of the body (loom: interleavings; shuttle: schedules).
    pub schedules: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// True when loom's time cap stopped the exploration before it was exhaustive.
    pub capped: bool,
}

impl Explored {
    /// "exhaustive", "time-capped", or "sampled" (shuttle), for reports.
    pub fn coverage(&self) -> &'static str {
        match (self.checker, self.capped) {
            (Checker::Loom, false) => "exhaustive",
            (Checker::Loom, true) => "time-capped",
            (Checker::Shuttle, _) => "sampled",
        }
    }
}

/// True when `PROCMAN_RACES_DEEP` asks for the deep bounds.
pub fn deep() -> bool {
    std::env::var("PROCMAN_RACES_DEEP").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The environment variable `name` as a number, if set and valid.
fn env_var_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Runs `body` under the active checker with `budget`; a failure (a panic in any model thread,
/// a deadlock, a step or branch bound exceeded) propagates as a panic after the checker printed
/// what it knows (shuttle: the failing schedule, for `PROCMAN_SHUTTLE_REPLAY`).
///
/// Panics when this build has no checker: run with `--features loom` or `--features shuttle`.
pub fn explore(budget: Budget, body: impl Fn() + Send + Sync + 'static) -> Explored {
    let count = StdArc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let checker = run_counted(budget, body, &count);
    let explored = Explored {
        checker,
        schedules: count.load(StdOrdering::Relaxed),
        elapsed: began.elapsed(),
        capped: hit_cap(checker, budget, began.elapsed()),
    };
    assert!(
        explored.schedules > 0,
        "procman-races: the checker ran the body zero times; nothing was explored"
    );
    explored
}

/// As [`explore`], but a failure is returned instead of propagated, as the schedules run up to
/// and including the failing one, and the failure's message.
pub fn explore_catching(
    budget: Budget,
    body: impl Fn() + Send + Sync + 'static,
) -> Result<Explored, (Explored, String)> {
    let count = StdArc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| run_counted(budget, body, &count)));
    let explored = |checker| Explored {
        checker,
        schedules: count.load(StdOrdering::Relaxed),
        elapsed: began.elapsed(),
        capped: hit_cap(checker, budget, began.elapsed()),
    };
    match outcome {
        Ok(checker) => Ok(explored(checker)),
        Err(payload) => Err((
            explored(Checker::active().expect("a failure means a checker ran")),
            panic_text(payload.as_ref()),
        )),
    }
}

/// True when a loom run lasted its whole time cap (loom stops silently at the cap).
fn hit_cap(checker: Checker, budget: Budget, elapsed: Duration) -> bool {
    checker == Checker::Loom && budget.loom.effective().1.is_some_and(|cap| elapsed >= cap)
}

/// Runs `body` under the checker, counting its executions in `count`.
fn run_counted(
    budget: Budget,
    body: impl Fn() + Send + Sync + 'static,
    count: &StdArc<AtomicUsize>,
) -> Checker {
    let checker = Checker::active().unwrap_or_else(|| {
        panic!(
            "procman-races: no model checker in this build; run with `--features loom` or \
             `--features shuttle` (the default backend explores nothing)"
        )
    });
    let count = StdArc::clone(count);
    run_checker(budget, move || {
        count.fetch_add(1, StdOrdering::Relaxed);
        body();
    });
    checker
}

/// The text of a panic payload.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "(a panic without a message)".to_owned()
    }
}

#[cfg(feature = "loom")]
fn run_checker(budget: Budget, body: impl Fn() + Send + Sync + 'static) {
    // loom runs each model thread on a coroutine with a 32 KiB stack, and a panic hook runs on
    // the panicking thread's stack: the default hook's backtrace (RUST_BACKTRACE=1) overflows
    // it and aborts the whole test process, hiding the finding. Under loom, panics print their
    // location and message only (the location names the failing check).
    static QUIET_PANICS: std::sync::Once = std::sync::Once::new();
    QUIET_PANICS.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = panic_text(info.payload());
            match info.location() {
                Some(at) => eprintln!("panicked at {at}:\n{message}"),
                None => eprintln!("panicked:\n{message}"),
            }
        }));
    });
    let mut builder = loom::model::Builder::new();
    let (preemptions, cap) = budget.loom.effective();
    builder.preemption_bound = Some(preemptions);
    builder.max_duration = cap;
    if cap.is_some() && std::env::var_os("LOOM_CHECKPOINT_INTERVAL").is_none() {
        // Loom looks at `max_duration` only every `checkpoint_interval` iterations (20 000 by
        // default), so a capped model ran its first 20 000 schedules whatever the cap: minutes
        // per actor model on a loaded machine. Looking every 100 makes the cap what it says
        // (the check is a clock read and a log line that is off unless LOOM_LOG is set).
        builder.checkpoint_interval = 100;
    }
    if env_var_usize("LOOM_MAX_BRANCHES").is_none() {
        // A whole manager call is a few dozen loom operations; the default bound (1 000) is
        // for single data structures.
        builder.max_branches = 20_000;
    }
    builder.check(body);
}

#[cfg(feature = "shuttle")]
fn run_checker(budget: Budget, body: impl Fn() + Send + Sync + 'static) {
    use shuttle::scheduler::{PctScheduler, RandomScheduler, ReplayScheduler};
    use shuttle::{Config, FailurePersistence, MaxSteps, Runner};

    let mut config = Config::new();
    config.failure_persistence = FailurePersistence::Print;
    // Debug builds of a whole manager need more than shuttle's default 60 KiB per task.
    config.stack_size = 1 << 20;
    config.max_steps = MaxSteps::FailAfter(200_000);
    if let Ok(schedule) = std::env::var("PROCMAN_SHUTTLE_REPLAY") {
        let scheduler = match schedule.strip_prefix('@') {
            Some(path) => ReplayScheduler::new_from_file(path.trim())
                .unwrap_or_else(|e| panic!("PROCMAN_SHUTTLE_REPLAY: cannot read {path}: {e}")),
            None => {
                // As shuttle prints it: quoted, wrapped over several lines.
                let encoded: String = schedule
                    .chars()
                    .filter(|c| !c.is_whitespace() && *c != '"')
                    .collect();
                ReplayScheduler::new_from_encoded(&encoded)
            }
        };
        eprintln!("procman-races: replaying one schedule from PROCMAN_SHUTTLE_REPLAY");
        Runner::new(scheduler, config).run(body);
        return;
    }
    let iterations = env_var_usize("PROCMAN_SHUTTLE_ITERATIONS").unwrap_or(if deep() {
        budget.deep_iterations
    } else {
        budget.iterations
    });
    let seed = std::env::var("SHUTTLE_RANDOM_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(budget.seed);
    let budget = Budget { seed, ..budget };
    match budget.scheduler {
        Scheduler::Pct => {
            let depth = env_var_usize("PROCMAN_SHUTTLE_DEPTH").unwrap_or(3);
            let scheduler = PctScheduler::new_from_seed(budget.seed, depth, iterations);
            Runner::new(scheduler, config).run(body);
        }
        Scheduler::Random => {
            let scheduler = RandomScheduler::new_from_seed(budget.seed, iterations);
            Runner::new(scheduler, config).run(body);
        }
    }
}

#[cfg(not(any(feature = "loom", feature = "shuttle")))]
fn run_checker(_budget: Budget, _body: impl Fn() + Send + Sync + 'static) {
    unreachable!("explore refuses to run without a checker")
}

/// Appends `line` to the file named by `PROCMAN_RACES_REPORT`, if set.
pub fn report(line: &str) {
    use std::io::Write;
    let Ok(path) = std::env::var("PROCMAN_RACES_REPORT") else {
        return;
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("PROCMAN_RACES_REPORT: cannot open {path}: {e}"));
    writeln!(file, "{line}").unwrap_or_else(|e| panic!("PROCMAN_RACES_REPORT: {path}: {e}"));
}
