//! What every driver does once its clients have run: wait out the timed region showing
//! progress, give stuck clients a grace period, turn the join into complete/failure, and sum
//! the client records. The in-process run ([`crate::run`]) and the MCP driver ([`super::mcp`])
//! both call this; neither depends on the other.

use std::time::Duration;

use procman_core::ManagerStats;

use super::client::{ClientRecord, Timeline};
use super::threads::JoinFailure;
use crate::aggregate::{aggregate_groups, process_allocs};
use crate::contender::Design;
use crate::measure::alloc::AllocCounts;
use crate::measure::sched::ContextSwitches;
use crate::measure::timer::Clock;
use crate::measure::watchdog::WatchdogReport;
use crate::progress::{Progress, REDRAW_EVERY};
use crate::results::{BackgroundResult, GroupResult, McpFigures, RunResult};
use crate::scenario::{LauncherSpec, Scenario};

/// Waits until `deadline` (clock ticks), redrawing `progress` every [`REDRAW_EVERY`] at `base`
/// plus the time since `from`.
pub(crate) fn wait_showing(
    clock: &Clock,
    deadline: u64,
    progress: &Progress,
    base: Duration,
    from: u64,
) {
    loop {
        let now = clock.now();
        if now >= deadline {
            return;
        }
        let left = Duration::from_nanos(clock.to_ns(deadline - now));
        if left <= REDRAW_EVERY {
            clock.wait_until(deadline);
            return;
        }
        std::thread::sleep(REDRAW_EVERY);
        progress.at(base + Duration::from_nanos(clock.to_ns(clock.now().saturating_sub(from))));
    }
}

/// How long to wait for clients after the timed region before calling them stuck: long enough
/// for an honest stop or spawn to finish.
pub(crate) fn grace(s: &Scenario) -> Duration {
    let spawn = match &s.launcher {
        LauncherSpec::Sim(c) => c.spawn_delay,
        LauncherSpec::Os(_) | LauncherSpec::Mcp(_) => Duration::ZERO,
    };
    Duration::from_secs(3) + s.spec.stop_timeout + spawn
}

/// Everything a driver knows once its clients are joined, to make the run's result.
pub(crate) struct RunEnd<'a> {
    pub s: &'a Scenario,
    pub design: Design,
    pub swept: usize,
    pub total_clients: usize,
    /// The clients' join.
    pub join: Result<Vec<ClientRecord>, JoinFailure>,
    /// What a stuck client was doing ("an op", "a tools/call").
    pub in_op: &'static str,
    /// The watchdog's report; its `stuck_at_end` is named in the failure.
    pub watch: WatchdogReport,
    pub tl: &'a Timeline,
    pub clock: &'a Clock,
    /// Process-wide allocations over the timed region.
    pub allocs: AllocCounts,
    pub background: BackgroundResult,
    pub manager_stats: ManagerStats,
    pub mcp: Option<McpFigures>,
}

/// The run's result: the join read ([`joined`]), the records summed ([`summarise_records`]).
pub(crate) fn run_result(end: RunEnd<'_>) -> RunResult {
    let RunEnd {
        s,
        design,
        swept,
        total_clients,
        join,
        in_op,
        watch,
        tl,
        clock,
        allocs,
        background,
        manager_stats,
        mcp,
    } = end;
    let Joined {
        complete,
        failure,
        records,
    } = joined(s, join, in_op, &watch.stuck_at_end);
    let RecordsSummary {
        window_ns,
        groups,
        ops,
        client_context_switches,
    } = summarise_records(s, swept, &records, tl, clock);
    RunResult {
        design,
        swept_clients: (!s.sweep.is_empty()).then_some(swept),
        total_clients,
        complete,
        failure,
        window_ns,
        groups,
        process_allocs: process_allocs(allocs, ops),
        background,
        watchdog: watch,
        client_context_switches: client_context_switches.filter(|_| !records.is_empty()),
        manager_stats,
        mcp,
    }
}

/// A run's join as the result file says it: complete or not, why not, and the records (none
/// when incomplete: a partial run's figures would mislead).
struct Joined {
    complete: bool,
    failure: Option<String>,
    records: Vec<ClientRecord>,
}

/// Reads the clients' join. `in_op` names what a stuck client was doing ("an op",
/// "a tools/call"); `stuck_detail` is appended after a colon when not empty.
fn joined(
    s: &Scenario,
    join: Result<Vec<ClientRecord>, JoinFailure>,
    in_op: &str,
    stuck_detail: &[String],
) -> Joined {
    match join {
        Ok(records) => Joined {
            complete: true,
            failure: None,
            records,
        },
        Err(f) => {
            let mut why = Vec::new();
            if !f.stuck.is_empty() {
                let detail = if stuck_detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", stuck_detail.join("; "))
                };
                why.push(format!(
                    "{} client(s) still in {in_op} {} s after the end{detail}",
                    f.stuck.len(),
                    grace(s).as_secs(),
                ));
            }
            for (i, msg) in &f.panicked {
                why.push(format!("client {i} panicked: {msg}"));
            }
            Joined {
                complete: false,
                failure: Some(why.join(". ")),
                records: Vec::new(),
            }
        }
    }
}

/// What a run's client records add up to: the measured window, the groups' results, the op
/// count and the clients' context switches (`None` when a driver cannot count them).
struct RecordsSummary {
    window_ns: u64,
    groups: Vec<GroupResult>,
    ops: u64,
    client_context_switches: Option<ContextSwitches>,
}

/// Sums the client records of one run. The window runs from the start of the timed region to
/// the later of its planned end and the last recorded op's return.
fn summarise_records(
    s: &Scenario,
    swept: usize,
    records: &[ClientRecord],
    tl: &Timeline,
    clock: &Clock,
) -> RecordsSummary {
    let window_end = records
        .iter()
        .map(|r| r.last_end)
        .max()
        .unwrap_or(tl.measure_end);
    let window_ns = clock.to_ns(window_end.max(tl.measure_end) - tl.measure_start);
    let groups = aggregate_groups(s, swept, records, window_ns);
    let ops: u64 = groups.iter().map(|g| g.total.count).sum();
    let client_context_switches =
        records
            .iter()
            .try_fold(ContextSwitches::default(), |mut sum, r| {
                sum.add(r.switches?);
                Some(sum)
            });
    RecordsSummary {
        window_ns,
        groups,
        ops,
        client_context_switches,
    }
}
