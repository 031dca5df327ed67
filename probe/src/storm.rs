//! `gate-probe storm`: `scripts_status` latency under load, the shape of `status_storm` — agents
//! polling status by name (and now and then the whole list) while processes churn and children
//! write output — cut down to what the gate needs: one p99 per design from a short run.
//!
//! The gate runs this for the base and the head revision in alternating rounds and judges the
//! paired ratios, so what matters is that both revisions run exactly the same load, not that the
//! load is the full scenario.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use procman_core::{
    IfRunning, ProcessManager, ProcessSpec, SimLauncher, StopOptions, Stream, Target,
};
use procman_gate_probe::StormLine;

use crate::design::Design;

/// Processes in the manager (as in `scenarios/status_storm.toml`).
const PROCESSES: usize = 50;
/// One client op in this many is a `list` (`scripts_status_all`); the rest are status by name.
const LIST_EVERY: u64 = 20;
/// Background churn: one stop-then-start every this long.
const CHURN_EVERY: Duration = Duration::from_millis(20);
/// Background output: one line every this long.
const LINE_EVERY: Duration = Duration::from_millis(2);

/// How long and how wide one storm is.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Client threads polling status.
    pub clients: usize,
    /// Measured time, milliseconds.
    pub millis: u64,
    /// Unmeasured time before it, milliseconds.
    pub warmup_millis: u64,
}

/// Runs one storm against a fresh manager of `design`.
pub fn run(design: Design, plan: &Plan) -> Result<StormLine, String> {
    let launcher = SimLauncher::new();
    let manager = design.build(Arc::new(launcher.clone()));
    let names: Arc<Vec<String>> = Arc::new((0..PROCESSES).map(|i| format!("proc-{i}")).collect());
    for name in names.iter() {
        manager
            .start(ProcessSpec::new(name, ["sim"]), IfRunning::Error)
            .map_err(|e| format!("{}: starting {name}: {e}", design.name()))?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let recording = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(plan.clients + 1));
    let background = {
        let (manager, names, stop, launcher) = (
            manager.clone(),
            names.clone(),
            stop.clone(),
            launcher.clone(),
        );
        std::thread::spawn(move || background_load(&*manager, &names, &launcher, &stop))
    };
    let clients: Vec<_> = (0..plan.clients)
        .map(|c| {
            let (manager, names, stop, recording, barrier) = (
                manager.clone(),
                names.clone(),
                stop.clone(),
                recording.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                poll_status(&*manager, &names, c as u64, &stop, &recording, &barrier)
            })
        })
        .collect();
    barrier.wait();
    std::thread::sleep(Duration::from_millis(plan.warmup_millis));
    recording.store(true, Ordering::Release);
    std::thread::sleep(Duration::from_millis(plan.millis));
    stop.store(true, Ordering::Release);
    let mut total = new_histogram();
    for c in clients {
        let h = c.join().map_err(|_| "a client thread panicked")?;
        total.add(&h).map_err(|e| e.to_string())?;
    }
    background
        .join()
        .map_err(|_| "the background thread panicked")?;
    manager.shutdown(Duration::from_secs(5));
    if total.is_empty() {
        return Err(format!(
            "{}: no status call completed in {} ms",
            design.name(),
            plan.millis
        ));
    }
    Ok(StormLine {
        design: design.name().into(),
        clients: plan.clients,
        ops: total.len(),
        p50_ns: total.value_at_quantile(0.50),
        p99_ns: total.value_at_quantile(0.99),
        max_ns: total.max(),
    })
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// One client: status by name over every process in a pseudo-random order, a list now and then.
fn poll_status(
    manager: &dyn ProcessManager,
    names: &[String],
    seed: u64,
    stop: &AtomicBool,
    recording: &AtomicBool,
    barrier: &Barrier,
) -> Histogram<u64> {
    let mut histogram = new_histogram();
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (seed + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    barrier.wait();
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        if i.is_multiple_of(LIST_EVERY) {
            std::hint::black_box(manager.list());
            continue;
        }
        // xorshift64: a cheap, fixed sequence per client.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let name = &names[(x % names.len() as u64) as usize];
        let t0 = Instant::now();
        let snapshot = std::hint::black_box(manager.status(Target::Name(name)));
        let ns = t0.elapsed().as_nanos() as u64;
        drop(snapshot);
        if recording.load(Ordering::Relaxed) {
            histogram.saturating_record(ns.max(1));
        }
    }
    histogram
}

/// Processes churning and children writing output while the clients poll.
fn background_load(
    manager: &dyn ProcessManager,
    names: &[String],
    launcher: &SimLauncher,
    stop: &AtomicBool,
) {
    let mut next_churn = Instant::now() + CHURN_EVERY;
    let (mut churned, mut line) = (0usize, 0usize);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(LINE_EVERY);
        line += 1;
        if let Some(ctl) = launcher.control(&names[line % names.len()]) {
            ctl.emit(Stream::Stdout, "GET /api/health 200 0.4ms");
        }
        if Instant::now() >= next_churn {
            next_churn += CHURN_EVERY;
            let name = &names[churned % names.len()];
            churned += 1;
            // Errors (a stop racing nothing, say) are part of the load, not failures of it.
            let _ = manager.stop(Target::Name(name), StopOptions::default());
            let _ = manager.start(ProcessSpec::new(name, ["sim"]), IfRunning::ReturnExisting);
        }
    }
}
