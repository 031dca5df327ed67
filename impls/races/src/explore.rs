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
//! | `LOOM_MAX_PREEMPTIONS` | loom's preemption bound | 2 (3 when deep) |
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
}

impl Budget {
    /// PCT with the given default and deep iteration counts.
    pub const fn pct(iterations: usize, deep_iterations: usize) -> Budget {
        Budget {
            scheduler: Scheduler::Pct,
            iterations,
            deep_iterations,
            seed: 0x5eed_0001,
        }
    }

    /// The random scheduler with the given default and deep iteration counts.
    pub const fn random(iterations: usize, deep_iterations: usize) -> Budget {
        Budget {
            scheduler: Scheduler::Random,
            iterations,
            deep_iterations,
            seed: 0x5eed_0002,
        }
    }

    /// The budget of the small protocol models.
    pub const MODEL: Budget = Budget::pct(300, 3000);
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
}

/// True when `PROCMAN_RACES_DEEP` asks for the deep bounds.
pub fn deep() -> bool {
    std::env::var("PROCMAN_RACES_DEEP").is_ok_and(|v| !v.is_empty() && v != "0")
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
    };
    match outcome {
        Ok(checker) => Ok(explored(checker)),
        Err(payload) => Err((
            explored(Checker::active().expect("a failure means a checker ran")),
            panic_text(payload.as_ref()),
        )),
    }
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
fn run_checker(_budget: Budget, body: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(if deep() { 3 } else { 2 });
    }
    if env_usize("LOOM_MAX_BRANCHES").is_none() {
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
            None => ReplayScheduler::new_from_encoded(schedule.trim().trim_matches('"')),
        };
        eprintln!("procman-races: replaying one schedule from PROCMAN_SHUTTLE_REPLAY");
        Runner::new(scheduler, config).run(body);
        return;
    }
    let iterations = env_usize("PROCMAN_SHUTTLE_ITERATIONS").unwrap_or(if deep() {
        budget.deep_iterations
    } else {
        budget.iterations
    });
    match budget.scheduler {
        Scheduler::Pct => {
            let depth = env_usize("PROCMAN_SHUTTLE_DEPTH").unwrap_or(3);
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
