//! Background load: what the processes and other tools do while the measured clients call —
//! start/stop churn through the manager, children writing log lines, children exiting by
//! themselves. Each kind runs on its own harness thread(s), paced in 1 ms ticks; the result
//! file reports the rate achieved during the timed region next to the rate asked for.
//!
//! Log lines and natural exits are driven through `SimLauncher::control` (simulated children
//! only); churn works with any launcher.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use procman_core::{ExitInfo, IfRunning, ProcessManager, SimLauncher, StopOptions, Stream, Target};
use serde::{Deserialize, Serialize};

use crate::call::Workload;
use crate::scenario::Background;

/// The pacing tick of every background thread.
const TICK: Duration = Duration::from_millis(1);
/// After a stall, at most this much backlog is made up in one go (the rest is dropped and
/// shows as a lower achieved rate).
const MAX_CATCH_UP: Duration = Duration::from_millis(50);

/// Events done so far, by kind.
#[derive(Debug, Default)]
struct Counters {
    churn_begun: AtomicU64,
    churn_cycles: AtomicU64,
    churn_errors: AtomicU64,
    log_lines: AtomicU64,
    exits: AtomicU64,
    exit_misses: AtomicU64,
}

/// The background counters at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackgroundCounts {
    /// Stop-then-start cycles begun (the stop was issued).
    pub churn_begun: u64,
    /// Stop-then-start cycles completed (the start returned).
    pub churn_cycles: u64,
    /// Stops or starts of those cycles that returned an error (e.g. already stopped).
    pub churn_errors: u64,
    /// Log lines written by children.
    pub log_lines: u64,
    /// Natural exits caused.
    pub exits: u64,
    /// Natural exits skipped because the chosen process had no live child.
    pub exit_misses: u64,
}

impl BackgroundCounts {
    /// `self - earlier`.
    pub fn since(self, earlier: BackgroundCounts) -> BackgroundCounts {
        BackgroundCounts {
            churn_begun: self.churn_begun - earlier.churn_begun,
            churn_cycles: self.churn_cycles - earlier.churn_cycles,
            churn_errors: self.churn_errors - earlier.churn_errors,
            log_lines: self.log_lines - earlier.log_lines,
            exits: self.exits - earlier.exits,
            exit_misses: self.exit_misses - earlier.exit_misses,
        }
    }
}

/// The running background threads of one run.
#[derive(Debug)]
pub struct BackgroundLoad {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    threads: Vec<JoinHandle<()>>,
}

impl BackgroundLoad {
    /// Starts the load `bg` asks for against `manager`. `sim` is the simulated launcher, for
    /// log lines and exits (the scenario was validated: those rates are zero without it).
    pub fn start(
        bg: &Background,
        manager: Arc<dyn ProcessManager>,
        sim: Option<SimLauncher>,
        workload: Arc<Workload>,
    ) -> std::io::Result<BackgroundLoad> {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let mut threads = Vec::new();
        let mut spawn =
            |name: String, rate: f64, phase: f64, mut body: Box<dyn FnMut(u64) + Send>| {
                let stop = stop.clone();
                std::thread::Builder::new()
                    .name(name)
                    .spawn(move || paced(rate, phase, &stop, &mut *body))
                    .map(|h| threads.push(h))
            };
        if bg.churn_per_sec > 0.0 {
            let n = bg.churn_threads;
            for t in 0..n {
                let (m, w, c) = (manager.clone(), workload.clone(), counters.clone());
                let procs: Vec<usize> = (t..w.names.len()).step_by(n).collect();
                spawn(
                    format!("bg-churn-{t}"),
                    bg.churn_per_sec / n as f64,
                    t as f64 / n as f64,
                    Box::new(move |k| {
                        if procs.is_empty() {
                            return;
                        }
                        churn_cycle(&*m, &w, procs[k as usize % procs.len()], &c);
                    }),
                )?;
            }
        }
        if let Some(sim) = sim.as_ref().filter(|_| bg.log_lines_per_sec > 0.0) {
            let (sim, w, c) = (sim.clone(), workload.clone(), counters.clone());
            let every = bg.error_line_every.max(1);
            spawn(
                "bg-logs".into(),
                bg.log_lines_per_sec,
                0.0,
                Box::new(move |k| {
                    let name = &w.names[k as usize % w.names.len()];
                    if let Some(child) = sim.control(name) {
                        if k % every == every - 1 {
                            child.emit(
                                Stream::Stderr,
                                &format!("{name} ERROR upstream timed out (line {k})"),
                            );
                        } else {
                            child.emit(
                                Stream::Stdout,
                                &format!("{name} GET /api/items 200 3ms (line {k})"),
                            );
                        }
                        c.log_lines.fetch_add(1, Ordering::Relaxed);
                    }
                }),
            )?;
        }
        if let Some(sim) = sim.filter(|_| bg.exits_per_sec > 0.0) {
            let (w, c) = (workload.clone(), counters.clone());
            spawn(
                "bg-exits".into(),
                bg.exits_per_sec,
                0.0,
                Box::new(move |k| {
                    // A stride coprime with most process counts spreads exits around.
                    let i = (k as usize).wrapping_mul(7) % w.names.len();
                    match sim.control(&w.names[i]) {
                        Some(child) => {
                            child.exit(ExitInfo::Code(1));
                            c.exits.fetch_add(1, Ordering::Relaxed);
                        }
                        None => {
                            c.exit_misses.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }),
            )?;
        }
        Ok(BackgroundLoad {
            stop,
            counters,
            threads,
        })
    }

    /// The counters now.
    pub fn counts(&self) -> BackgroundCounts {
        let c = &self.counters;
        BackgroundCounts {
            churn_begun: c.churn_begun.load(Ordering::Relaxed),
            churn_cycles: c.churn_cycles.load(Ordering::Relaxed),
            churn_errors: c.churn_errors.load(Ordering::Relaxed),
            log_lines: c.log_lines.load(Ordering::Relaxed),
            exits: c.exits.load(Ordering::Relaxed),
            exit_misses: c.exit_misses.load(Ordering::Relaxed),
        }
    }

    /// Tells every thread to stop without waiting for them (used when a run is abandoned
    /// because its clients are stuck: a churn thread may be stuck in the same manager).
    pub fn abandon(self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Stops every thread and waits for them (a churn thread finishes its cycle first, which
    /// can take as long as a stop).
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Calls `event(k)` for k = 0, 1, 2, ... at `rate` per second until `stop`, event `k` due at
/// `(k + phase) / rate` seconds from the start (`phase` in `[0, 1)` staggers threads).
fn paced(rate: f64, phase: f64, stop: &AtomicBool, event: &mut dyn FnMut(u64)) {
    let start = Instant::now();
    let max_batch = (rate * MAX_CATCH_UP.as_secs_f64()).ceil().max(1.0) as u64;
    let mut done = 0u64;
    while !stop.load(Ordering::Relaxed) {
        // Events due by now: those with (k + phase) / rate <= elapsed.
        let due = (start.elapsed().as_secs_f64() * rate - phase).floor() as i64 + 1;
        let due = due.max(0) as u64;
        if due > done + max_batch {
            done = due - max_batch;
        }
        while done < due && !stop.load(Ordering::Relaxed) {
            event(done);
            done += 1;
        }
        std::thread::sleep(TICK);
    }
}

/// Stops process `i`, then starts it again.
fn churn_cycle(m: &dyn ProcessManager, w: &Workload, i: usize, c: &Counters) {
    c.churn_begun.fetch_add(1, Ordering::Relaxed);
    if m.stop(Target::Name(&w.names[i]), StopOptions::default())
        .is_err()
    {
        c.churn_errors.fetch_add(1, Ordering::Relaxed);
    }
    if m.start(w.specs[i].clone(), IfRunning::ReturnExisting)
        .is_err()
    {
        c.churn_errors.fetch_add(1, Ordering::Relaxed);
    }
    c.churn_cycles.fetch_add(1, Ordering::Relaxed);
}
