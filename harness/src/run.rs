//! [`run_scenario`]: one scenario, every design asked for, every sweep point — each run on a
//! fresh launcher and a fresh manager — returning a typed [`ScenarioResult`].
//!
//! One run, in order: build the launcher and the manager; start every process (untimed); start
//! the watchdog and the background load; spawn the clients, which build their records and wait
//! at a barrier; open the barrier (the clock starts); warm-up; timed region (process-wide
//! allocation and background counters read at both ends); collect the clients' records; stop
//! the load; shut the manager down (untimed); aggregate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use procman_core::launcher::OsLauncher;
use procman_core::{IfRunning, Launcher, ManagerConfig, ProcessManager, SimLauncher, SimScript};
use serde::{Deserialize, Serialize};

use crate::background::{BackgroundCounts, BackgroundLoad};
use crate::call::Workload;
use crate::contender::{Contender, Design};
use crate::driver::client::{ClientPlan, ClientRecord, Timeline};
use crate::driver::join::JoinFailure;
use crate::driver::join::{self, RunEnd, grace, wait_showing};
use crate::driver::mcp as mcp_driver;
use crate::driver::threads::{self, Direct};
use crate::driver::tokio as tokio_driver;
use crate::error::HarnessError;
use crate::measure::alloc;
use crate::measure::overhead::calibrate;
use crate::measure::timer::Clock;
use crate::measure::watchdog::{InFlight, Watchdog};
use crate::progress::Progress;
use crate::results::{
    BackgroundRates, BackgroundResult, Driver, RunResult, ScenarioInfo, ScenarioResult,
};
use crate::scenario::{GroupClients, LauncherSpec, Scenario, SimChildren};

/// How a scenario is run: which designs, which driver, and overrides of the file's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    /// The designs, in order.
    pub designs: Vec<Design>,
    /// OS threads or tokio tasks.
    pub driver: Driver,
    /// Replaces the scenario's sweep.
    pub clients: Option<Vec<usize>>,
    /// Replaces the scenario's duration.
    pub duration: Option<Duration>,
    /// Replaces the scenario's warm-up.
    pub warmup: Option<Duration>,
    /// Replaces the scenario's stall bound.
    pub stall_bound: Option<Duration>,
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
    /// Worker threads of the tokio runtime (tokio driver); default: the logical CPUs.
    pub tokio_workers: Option<usize>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            designs: Design::ALL.to_vec(),
            driver: Driver::Threads,
            clients: None,
            duration: None,
            warmup: None,
            stall_bound: None,
            seed: None,
            tokio_workers: None,
        }
    }
}

impl RunOptions {
    /// `scenario` with these overrides applied; an override the scenario cannot take is an
    /// error that says why.
    pub fn apply(&self, scenario: &Scenario) -> Result<Scenario, HarnessError> {
        let mut s = scenario.clone();
        if let Some(clients) = &self.clients {
            if !s.groups.iter().any(|g| g.clients == GroupClients::Sweep) {
                return Err(HarnessError::Options(format!(
                    "--clients: scenario {} has no group with clients = \"sweep\"; its client \
                     counts are fixed in {}",
                    s.name,
                    s.path.display()
                )));
            }
            if clients.is_empty() || clients.contains(&0) {
                return Err(HarnessError::Options(
                    "--clients: give positive counts, e.g. --clients 1,2,4,8".into(),
                ));
            }
            s.sweep.clone_from(clients);
        }
        if let Some(d) = self.duration {
            if d.is_zero() {
                return Err(HarnessError::Options(
                    "--duration: must be more than zero, e.g. --duration 1s".into(),
                ));
            }
            s.duration = d;
        }
        if let Some(w) = self.warmup {
            s.warmup = w;
        }
        if let Some(b) = self.stall_bound {
            s.stall_bound = b;
        }
        if let Some(seed) = self.seed {
            s.seed = seed;
        }
        if matches!(s.launcher, LauncherSpec::Mcp(_)) && self.driver == Driver::Tokio {
            return Err(HarnessError::Options(format!(
                "--driver tokio: scenario {} drives the procman binary over MCP on stdio, and its \
                 clients are OS threads; leave --driver out (or pass --driver threads)",
                s.name
            )));
        }
        if self.designs.is_empty() {
            return Err(HarnessError::Options(
                "--impl: name at least one design (mutex, actor, atomic, atomic-sharded)".into(),
            ));
        }
        Ok(s)
    }

    /// The tokio worker count to use.
    pub fn workers(&self) -> usize {
        self.tokio_workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
    }
}

/// The time one scenario is planned to take: warm-up plus duration per run.
pub fn planned_time(scenario: &Scenario, designs: usize) -> Duration {
    (scenario.warmup + scenario.duration) * (designs * scenario.sweep_points().len()) as u32
}

/// Runs `scenario` (with `options` applied) and returns its result. Progress and watchdog
/// warnings go to `progress`.
pub fn run_scenario(
    scenario: &Scenario,
    options: &RunOptions,
    progress: &Progress,
) -> Result<ScenarioResult, HarnessError> {
    let s = options.apply(scenario)?;
    let clock = Clock::calibrate();
    let calibration = calibrate(&clock, options.driver == Driver::Tokio);
    let mut runs = Vec::new();
    let per_run = s.warmup + s.duration;
    let mut done = Duration::ZERO;
    for &design in &options.designs {
        if let LauncherSpec::Mcp(_) = &s.launcher
            && mcp_driver::procman_impl(design).is_none()
        {
            progress.note(&format!(
                "note: {}: procman has no --impl {design}; skipping it",
                s.name
            ));
            continue;
        }
        for swept in s.sweep_points() {
            let who = if s.sweep.is_empty() {
                String::new()
            } else {
                format!(", {swept} clients")
            };
            progress.message(format!("{design}{who}"));
            let run = match &s.launcher {
                LauncherSpec::Mcp(mcp) => {
                    mcp_driver::run_one(&s, mcp, design, swept, &clock, progress, done)?
                }
                _ => run_one(&s, design, swept, options, &clock, progress, done)?,
            };
            for lockup in &run.watchdog.suspected_lockups {
                progress.note(&format!("watchdog: {} {design}: {lockup}", s.name));
            }
            runs.push(run);
            done += per_run;
            progress.at(done);
        }
    }
    Ok(ScenarioResult {
        scenario: ScenarioInfo {
            name: s.name.clone(),
            file: s.path.display().to_string(),
            description: s.description.clone(),
            toml: s.source.clone(),
            launcher: s.launcher.kind().into(),
            processes: s.processes,
            duration_ns: s.duration.as_nanos() as u64,
            warmup_ns: s.warmup.as_nanos() as u64,
            stall_bound_ns: s.stall_bound.as_nanos() as u64,
            seed: s.seed,
            sweep: s.sweep.clone(),
            background_target: BackgroundRates {
                churn_per_sec: s.background.churn_per_sec,
                log_lines_per_sec: s.background.log_lines_per_sec,
                exits_per_sec: s.background.exits_per_sec,
            },
        },
        driver: options.driver,
        tokio_workers: (options.driver == Driver::Tokio).then(|| options.workers()),
        calibration,
        runs,
    })
}

/// The simulated children's script.
fn sim_script(c: &SimChildren) -> SimScript {
    SimScript {
        spawn_delay: c.spawn_delay,
        stop_delay: c.stop_delay,
        ..SimScript::long_running()
    }
    .with_output((0..c.output_lines).map(|i| format!("starting up: step {i}")))
}

/// The launcher of a run, and the simulated one again when it is simulated (for control).
fn launcher(s: &Scenario) -> (Arc<dyn Launcher>, Option<SimLauncher>) {
    match &s.launcher {
        LauncherSpec::Sim(children) => {
            let sim = SimLauncher::new();
            sim.default_script(sim_script(children));
            (Arc::new(sim.clone()), Some(sim))
        }
        LauncherSpec::Os(_) | LauncherSpec::Mcp(_) => (Arc::new(OsLauncher::new()), None),
    }
}

/// The running clients of either driver.
enum Clients {
    Threads(threads::ThreadClients),
    Tokio(tokio_driver::TokioClients),
}

impl Clients {
    fn timeline(&self) -> Timeline {
        match self {
            Clients::Threads(c) => c.timeline,
            Clients::Tokio(c) => c.timeline,
        }
    }

    fn join(self, deadline: Instant) -> Result<Vec<ClientRecord>, JoinFailure> {
        match self {
            Clients::Threads(c) => c.join(deadline),
            Clients::Tokio(c) => c.join(deadline),
        }
    }
}

#[allow(clippy::too_many_arguments)] // private; one call site
fn run_one(
    s: &Scenario,
    design: Design,
    swept: usize,
    options: &RunOptions,
    clock: &Clock,
    progress: &Progress,
    base: Duration,
) -> Result<RunResult, HarnessError> {
    let fail = HarnessError::run_failure(&s.name, design);
    let (launcher, sim) = launcher(s);
    let config = ManagerConfig {
        max_processes: s.processes.max(ManagerConfig::default().max_processes),
        ..ManagerConfig::default()
    };
    let contender: Contender = design.build(launcher, config);
    let manager = contender.manager.clone();
    let workload = Arc::new(Workload::new(s));
    for spec in &workload.specs {
        manager
            .start(spec.clone(), IfRunning::Error)
            .map_err(|e| fail(format!("could not start the scenario's processes: {e}")))?;
    }

    let plans = ClientPlan::for_groups(&s.groups, swept, s.seed);
    let total_clients = plans.len();
    let slots = Arc::new(InFlight::new(
        plans.iter().map(|p| p.label.clone()).collect(),
    ));
    let watchdog = Watchdog::start(*clock, slots.clone(), s.stall_bound);
    let background = BackgroundLoad::start(&s.background, manager.clone(), sim, workload.clone())
        .map_err(|e| fail(format!("could not start the background load: {e}")))?;
    let stall_ticks = clock.ticks_of(s.stall_bound);
    let clients = match options.driver {
        Driver::Threads => threads::start(
            plans,
            workload.clone(),
            Arc::new(Direct(manager.clone())),
            *clock,
            stall_ticks,
            slots.clone(),
            s.warmup,
            s.duration,
        )
        .map(Clients::Threads),
        Driver::Tokio => tokio_driver::start(
            plans,
            workload.clone(),
            Arc::new(contender.clone()),
            *clock,
            stall_ticks,
            slots.clone(),
            s.warmup,
            s.duration,
            options.workers(),
        )
        .map(Clients::Tokio),
    }
    .map_err(|e| fail(format!("could not start the clients: {e}")))?;

    let tl = clients.timeline();
    wait_showing(clock, tl.measure_start, progress, base, tl.warm_start);
    let (alloc0, bg0) = (alloc::process_counts(), background.counts());
    wait_showing(clock, tl.measure_end, progress, base, tl.warm_start);
    let (alloc1, bg1) = (alloc::process_counts(), background.counts());

    let joined = clients.join(Instant::now() + grace(s));
    let mut watch = match &joined {
        Ok(_) => {
            background.stop();
            watchdog.finish()
        }
        Err(_) => {
            // Stuck clients may hold what the background needs; do not wait for it.
            background.abandon();
            let mut report = watchdog.finish();
            report.stuck_at_end = slots
                .older_than(clock, 0)
                .into_iter()
                .map(|(who, op, age)| {
                    format!(
                        "{who}: {op} in flight for {} ms",
                        clock.to_ns(age) / 1_000_000
                    )
                })
                .collect();
            report
        }
    };
    watch.suspected_lockups.dedup();
    let manager_stats = manager.stats();
    shutdown(manager, joined.is_ok());

    Ok(join::run_result(RunEnd {
        s,
        design,
        swept,
        total_clients,
        join: joined,
        in_op: "an op",
        watch,
        tl: &tl,
        clock,
        allocs: alloc1.since(alloc0),
        background: background_result(bg1.since(bg0), s.duration),
        manager_stats,
        mcp: None,
    }))
}

fn background_result(counts: BackgroundCounts, duration: Duration) -> BackgroundResult {
    let secs = duration.as_secs_f64().max(f64::MIN_POSITIVE);
    BackgroundResult {
        counts,
        achieved: BackgroundRates {
            churn_per_sec: counts.churn_begun as f64 / secs,
            log_lines_per_sec: counts.log_lines as f64 / secs,
            exits_per_sec: counts.exits as f64 / secs,
        },
    }
}

/// Shuts the manager down (SIGKILL after 100 ms) on a helper thread; a manager that does not
/// come back within 10 s is left behind (and its run is already marked incomplete if its
/// clients were stuck).
fn shutdown(manager: Arc<dyn ProcessManager>, wait: bool) {
    let done = std::thread::Builder::new()
        .name("harness-shutdown".into())
        .spawn(move || {
            manager.shutdown(Duration::from_millis(100));
        });
    if let (Ok(handle), true) = (done, wait) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !handle.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if handle.is_finished() {
            let _ = handle.join();
        }
    }
}
