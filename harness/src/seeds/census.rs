//! Allocations per operation counted directly, for the `memory_per_op_*` figures criterion
//! cannot give: criterion refuses a measurement of zero ("took zero time per iteration") and
//! writes no estimate, so a status read that allocates nothing — the figure that matters —
//! would be missing from the export. `harness seeds` counts those here instead, the way
//! `go test -benchmem` does: process-wide allocations (the actor's owner thread included) over
//! a fixed number of operations, after a warm-up, divided by the count. A count is exact; it
//! has no confidence interval, so the interval is the point.
//!
//! Needs [`crate::CountingAllocator`] as the global allocator (the `harness` binary installs
//! it); without it no figure is produced.

use std::sync::Arc;
use std::time::Duration;

use procman_core::{IfRunning, ManagerConfig, ProcessManager, ProcessSpec, SimLauncher, Target};

use crate::contender::Design;
use crate::measure::alloc;

use super::{BenchFigure, Estimate, unit_of};

/// Status reads counted per design.
pub const STATUS_OPS: u64 = 100_000;
/// Restarts counted per design.
pub const RESTART_OPS: u64 = 5_000;
/// Operations run before counting (first-use allocations: thread-locals, lazily grown maps).
pub const WARMUP_OPS: u64 = 1_000;

/// How the census figures were made, recorded in each figure's `method`.
pub const METHOD: &str = "counted by `harness seeds`: process-wide allocations over a fixed \
                          number of ops after a warm-up, divided by the ops (criterion rejects \
                          a measurement of zero)";

/// Allocations and bytes per op of `op` on `m`, process-wide.
fn count(m: &dyn ProcessManager, ops: u64, op: &dyn Fn(&dyn ProcessManager)) -> (f64, f64) {
    for _ in 0..WARMUP_OPS {
        op(m);
    }
    let before = alloc::process_counts();
    for _ in 0..ops {
        op(m);
    }
    let d = alloc::process_counts().since(before);
    (d.allocs as f64 / ops as f64, d.bytes as f64 / ops as f64)
}

fn exact(v: f64) -> Estimate {
    Estimate {
        median: v,
        median_lower: v,
        median_upper: v,
        confidence_level: 1.0,
        mean: v,
        std_dev: 0.0,
    }
}

/// The figures of every available design for `status` and `restart`, allocations and bytes;
/// empty when the counting allocator is not installed.
pub fn figures(measured_utc: &str) -> Vec<BenchFigure> {
    // One allocation makes `is_installed` true when the allocator is the global one.
    drop(std::hint::black_box(Box::new(0u8)));
    if !alloc::is_installed() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for design in Design::ALL.into_iter().filter(|d| d.is_available()) {
        let launcher = SimLauncher::new();
        let contender = design.build(Arc::new(launcher.clone()), ManagerConfig::default());
        let m = contender.manager.clone();
        if m.start(ProcessSpec::new("proc-0", ["sim"]), IfRunning::Error)
            .is_err()
        {
            continue;
        }
        let status = count(&*m, STATUS_OPS, &|m| {
            std::hint::black_box(m.status(Target::Name(std::hint::black_box("proc-0"))).ok());
        });
        let restart = count(&*m, RESTART_OPS, &|m| {
            std::hint::black_box(m.restart(Target::Name("proc-0")).ok());
        });
        m.shutdown(Duration::from_secs(5));
        for (op, (allocs, bytes)) in [("status", status), ("restart", restart)] {
            for (what, v) in [("allocs", allocs), ("bytes", bytes)] {
                let group = format!("memory_per_op_{what}");
                out.push(BenchFigure {
                    id: format!("{group}/{}/{op}", design.name()),
                    unit: unit_of(&group).into(),
                    group,
                    function: design.name().into(),
                    parameter: Some(op.into()),
                    design: Some(design.name().into()),
                    shape: String::new(),
                    threads: None,
                    threads_from: None,
                    per_thread: exact(v),
                    aggregate: None,
                    measured_utc: Some(measured_utc.to_owned()),
                    method: Some(METHOD.into()),
                });
            }
        }
    }
    out
}
