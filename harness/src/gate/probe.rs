//! The cost probe: one design, one hot op, run a given number of times on the simulated
//! launcher. `harness gate` runs it under callgrind at two iteration counts and takes the
//! difference, so set-up and tear-down cancel and what is left is the instructions per op.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use procman_core::{
    IfRunning, LogQuery, ManagerConfig, ProcessManager, ProcessSpec, SimLauncher, Stream, Target,
};
use serde::{Deserialize, Serialize};

use crate::contender::Design;

/// Processes each of the probe's managers holds (the `list` op walks all of them).
pub const PROBE_PROCESSES: usize = 50;

/// The line the `log_append` op appends.
const APPENDED_LINE: &str = "GET /api/health 200 0.4ms";

/// Managers the probe spreads its iterations over, round robin. Each registry hashes names
/// with its own random seed, so `list`'s sort sees a different input order in each; averaging
/// over several registries keeps that order from moving the per-op count by more than a few
/// percent between runs.
pub const PROBE_MANAGERS: usize = 4;

/// A hot op the gate counts.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum CostOp {
    /// `status` by name.
    Status,
    /// `list` of all 50 processes.
    List,
    /// One `start` and one `stop` of a simulated process.
    StartStop,
    /// One line of output appended to a run's log ring (through the launcher's event path).
    LogAppend,
    /// `logs_tail` of 10 lines from a cursor.
    LogTail,
}

impl CostOp {
    /// Every op, in table order.
    pub const ALL: [CostOp; 5] = [
        CostOp::Status,
        CostOp::List,
        CostOp::StartStop,
        CostOp::LogAppend,
        CostOp::LogTail,
    ];

    /// How many times the base iteration counts this op is run: cheap ops run more often, so
    /// the difference of two runs is millions of instructions and the set-up's own run-to-run
    /// variation (tens of thousands: thread start-up, hash seeds) stays below 1 % of it.
    pub fn scale(self) -> u64 {
        match self {
            CostOp::Status => 20,
            CostOp::LogAppend | CostOp::LogTail => 10,
            CostOp::List | CostOp::StartStop => 1,
        }
    }

    /// Its name in tables and files.
    pub fn name(self) -> &'static str {
        match self {
            CostOp::Status => "status",
            CostOp::List => "list",
            CostOp::StartStop => "start_stop",
            CostOp::LogAppend => "log_append",
            CostOp::LogTail => "log_tail",
        }
    }
}

/// `harness cost-probe` (hidden; the gate runs it under callgrind).
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The design.
    #[arg(long)]
    pub design: Design,
    /// The op.
    #[arg(long, value_enum)]
    pub op: CostOp,
    /// How many times.
    #[arg(long)]
    pub iters: u64,
}

/// Runs the probe. Errors are set-up failures (a design that cannot be built).
pub fn run_probe(args: &ProbeArgs) -> Result<(), String> {
    let mut managers = Vec::with_capacity(PROBE_MANAGERS);
    for _ in 0..PROBE_MANAGERS {
        let launcher = SimLauncher::new();
        let manager: Arc<dyn ProcessManager> = args
            .design
            .build(Arc::new(launcher.clone()), ManagerConfig::default())?
            .manager;
        for i in 0..PROBE_PROCESSES {
            manager
                .start(
                    ProcessSpec::new(&format!("proc-{i}"), ["sim"]),
                    IfRunning::Error,
                )
                .map_err(|e| e.to_string())?;
        }
        let ctl = launcher
            .control("proc-0")
            .ok_or("the simulated child of proc-0 is not live")?;
        // A log append is measured in the steady state of a full ring (each append drops the
        // oldest line), whatever the iteration count: fill the ring first.
        let warm = match args.op {
            CostOp::LogAppend => ManagerConfig::default().log_ring.max_lines,
            _ => 20,
        };
        for i in 0..warm {
            if args.op == CostOp::LogAppend {
                // The very line measured, so the allocator is in its steady state too (each
                // dropped line frees a block of the size the next append takes).
                ctl.emit(Stream::Stdout, APPENDED_LINE);
            } else {
                ctl.emit(Stream::Stdout, &format!("warm line {i}"));
            }
        }
        managers.push((manager, ctl));
    }
    let churn = ProcessSpec::new("churn", ["sim"]);
    for i in 0..args.iters {
        let (manager, ctl) = &managers[i as usize % PROBE_MANAGERS];
        match args.op {
            CostOp::Status => {
                black_box(manager.status(Target::Name(black_box("proc-7"))).ok());
            }
            CostOp::List => {
                black_box(manager.list());
            }
            CostOp::StartStop => {
                black_box(manager.start(churn.clone(), IfRunning::Error).ok());
                black_box(manager.stop(Target::Name("churn"), Default::default()).ok());
            }
            CostOp::LogAppend => ctl.emit(Stream::Stdout, black_box(APPENDED_LINE)),
            CostOp::LogTail => {
                black_box(manager.logs_tail(Target::Name("proc-0"), 5, 10).ok());
            }
        }
    }
    for (manager, _) in &managers {
        // The actor applies log appends on its owner thread: make sure they are all applied
        // before the count ends, so every iteration's work is inside the measurement.
        black_box(
            manager
                .logs_search(&LogQuery::substring("never-matches", 1))
                .ok(),
        );
        manager.shutdown(Duration::from_secs(5));
    }
    Ok(())
}
