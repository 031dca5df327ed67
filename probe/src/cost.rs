//! `gate-probe cost`: one design, one hot op, run on the simulated launcher in two measured
//! loops of `n1` and `n2` iterations. The gate runs it under callgrind with
//! `--dump-after=gate_probe_checkpoint`, so each loop's instructions (on every thread) land in a
//! dump of their own; `(I(n2) - I(n1)) / (n2 - n1)` is the instructions per op, with the set-up,
//! the tear-down and each loop's fixed cost (the final flush) cancelled out. One valgrind run per
//! count, where two runs of the whole program used to be needed.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use procman_core::launcher::SimChildControl;
use procman_core::{
    IfRunning, LogQuery, ManagerConfig, ProcessManager, ProcessSpec, SimLauncher, Stream, Target,
};

use procman_gate_probe::CostOp;

use crate::design::Design;

/// Processes each of the probe's managers holds (the `list` op walks all of them).
const PROBE_PROCESSES: usize = 50;

/// The line the `log_append` op appends.
const APPENDED_LINE: &str = "GET /api/health 200 0.4ms";

/// Managers the probe spreads its iterations over, round robin. Each registry hashes names
/// with its own random seed, so an op whose work depends on the hash order (`list`'s sort) is
/// averaged over several orders.
const PROBE_MANAGERS: usize = 4;

/// Managers for `list`, whose count moves with the hash order: with 4 managers it moved by
/// ±2.5 % run to run (6 runs, atomic design), enough for 3 repetitions to look steady and still
/// differ by 3 % between base and head; averaging over 16 orders halves that.
const LIST_MANAGERS: usize = 16;

/// The boundary between counted regions: callgrind dumps (and zeroes) its counters each time
/// this returns. Its symbol is not mangled so the gate can name it.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn gate_probe_checkpoint() {
    std::hint::black_box(());
}

/// Runs `op` in a loop of `n1`, then of `n2` iterations, a checkpoint before and after each.
/// Errors are set-up failures.
pub fn run(design: Design, op: CostOp, n1: u64, n2: u64) -> Result<(), String> {
    let count = if op == CostOp::List {
        LIST_MANAGERS
    } else {
        PROBE_MANAGERS
    };
    let mut managers: Vec<(Arc<dyn ProcessManager>, SimChildControl)> = Vec::with_capacity(count);
    for _ in 0..count {
        let launcher = SimLauncher::new();
        let manager = design.build(Arc::new(launcher.clone()));
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
        let warm = match op {
            CostOp::LogAppend => ManagerConfig::default().log_ring.max_lines,
            _ => 20,
        };
        for i in 0..warm {
            if op == CostOp::LogAppend {
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
    gate_probe_checkpoint();
    for iters in [n1, n2] {
        measured_loop(&managers, &churn, op, iters);
        gate_probe_checkpoint();
    }
    for (manager, _) in &managers {
        manager.shutdown(Duration::from_secs(5));
    }
    Ok(())
}

fn measured_loop(
    managers: &[(Arc<dyn ProcessManager>, SimChildControl)],
    churn: &ProcessSpec,
    op: CostOp,
    iters: u64,
) {
    for i in 0..iters {
        let (manager, ctl) = &managers[i as usize % managers.len()];
        match op {
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
    for (manager, _) in managers {
        // The actor applies log appends on its owner thread: make sure they are all applied
        // before the loop's count ends, so every iteration's work is inside it (the flush's
        // own cost is the same in both loops and cancels).
        black_box(
            manager
                .logs_search(&LogQuery::substring("never-matches", 1))
                .ok(),
        );
    }
}
