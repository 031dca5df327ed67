//! What every driver does once its clients have run: wait out the timed region showing
//! progress, give stuck clients a grace period, turn the join into complete/failure, and sum
//! the client records. The in-process run ([`crate::run`]) and the MCP driver ([`super::mcp`])
//! both call this; neither depends on the other.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use procman_core::ManagerStats;

use super::client::{ClientRecord, Timeline};
use crate::aggregate::{aggregate_groups, process_allocs};
use crate::contender::Design;
use crate::measure::alloc::AllocCounts;
use crate::measure::sched::ContextSwitches;
use crate::measure::timer::Clock;
use crate::measure::watchdog::WatchdogReport;
use crate::progress::{Progress, REDRAW_EVERY};
use crate::results::{BackgroundResult, GroupResult, McpFigures, RunResult};
use crate::scenario::{LauncherSpec, Scenario};

/// Clients that did not deliver a record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JoinFailure {
    /// Still in an op when the run stopped waiting.
    pub stuck: Vec<usize>,
    /// Panicked, with the panic message.
    pub panicked: Vec<(usize, String)>,
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".into())
}

/// What [`collect_records`] tells or asks a driver about one client.
pub(crate) enum Ask {
    /// Client `i` delivered its record: the driver may reap it (the answer is ignored).
    Delivered(usize),
    /// Client `i` has not delivered a record yet: has it ended?
    Check(usize),
}

/// A driver's answer to [`Ask::Check`].
pub(crate) enum Ended {
    /// Still running (or already reaped).
    Running,
    /// Ended without panicking: a record it sent just before is still in the channel.
    Normally,
    /// Panicked with this message: it will never deliver.
    Panicked(String),
}

/// Receives the records of `n` clients (each sends `(index, record)` once) until `deadline`,
/// asking `client` about the ones that have not delivered whenever the channel is quiet for
/// 100 ms. Returns the records in client order, or which clients were stuck and which panicked.
/// The thread and tokio drivers differ only in how they reap a client, which is `client`.
pub(crate) fn collect_records(
    rx: &mpsc::Receiver<(usize, ClientRecord)>,
    n: usize,
    deadline: Instant,
    mut client: impl FnMut(Ask) -> Ended,
) -> Result<Vec<ClientRecord>, JoinFailure> {
    let mut records: Vec<Option<ClientRecord>> = vec![None; n];
    let mut panicked = Vec::new();
    let mut left = n;
    while left > 0 {
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(100));
        match rx.recv_timeout(wait) {
            Ok((i, record)) => {
                records[i] = Some(record);
                left -= 1;
                client(Ask::Delivered(i));
            }
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                for (i, record) in records.iter().enumerate() {
                    if record.is_none()
                        && !panicked.iter().any(|(p, _)| *p == i)
                        && let Ended::Panicked(msg) = client(Ask::Check(i))
                    {
                        panicked.push((i, msg));
                        left -= 1;
                    }
                }
            }
            Err(_) => break,
        }
    }
    if records.iter().all(Option::is_some) {
        return Ok(records.into_iter().map(|r| r.expect("checked")).collect());
    }
    let stuck = (0..n)
        .filter(|&i| records[i].is_none() && !panicked.iter().any(|(p, _)| *p == i))
        .collect();
    Err(JoinFailure { stuck, panicked })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(group: usize) -> ClientRecord {
        ClientRecord {
            group,
            ops: Vec::new(),
            send_lag: None,
            due: 0,
            due_not_sent: 0,
            last_end: 0,
            switches: None,
        }
    }

    #[test]
    fn records_come_back_in_client_order() {
        let (tx, rx) = mpsc::channel();
        for i in [2, 0, 1] {
            tx.send((i, record(10 + i))).unwrap();
        }
        let mut delivered = Vec::new();
        let got = collect_records(&rx, 3, Instant::now() + Duration::from_secs(60), |ask| {
            if let Ask::Delivered(i) = ask {
                delivered.push(i);
            }
            Ended::Running
        })
        .unwrap();
        assert_eq!(
            got.iter().map(|r| r.group).collect::<Vec<_>>(),
            [10, 11, 12]
        );
        assert_eq!(delivered, [2, 0, 1]);
    }

    #[test]
    fn a_panicked_client_and_a_stuck_one_are_told_apart() {
        // Client 0 delivers, 1 panicked without a record, 2 never ends: the collector gives up
        // on 2 only at the deadline (which is what makes it "stuck"), and names both.
        let (tx, rx) = mpsc::channel();
        tx.send((0, record(0))).unwrap();
        let mut asked_after_panic = 0;
        let failure =
            collect_records(
                &rx,
                3,
                Instant::now() + Duration::from_millis(300),
                |ask| match ask {
                    Ask::Check(1) => {
                        asked_after_panic += 1;
                        Ended::Panicked("boom".into())
                    }
                    _ => Ended::Running,
                },
            )
            .unwrap_err();
        assert_eq!(failure.stuck, [2]);
        assert_eq!(failure.panicked, [(1, "boom".to_owned())]);
        assert_eq!(asked_after_panic, 1, "a panicked client is reaped once");
        drop(tx);
    }

    #[test]
    fn a_client_that_ended_normally_still_delivers_from_the_channel() {
        // A record sent just before the client ended is received, not reported as a failure.
        let (tx, rx) = mpsc::channel();
        let mut checks = 0;
        let got = collect_records(&rx, 1, Instant::now() + Duration::from_secs(60), |ask| {
            if let Ask::Check(0) = ask {
                checks += 1;
                if checks == 1 {
                    tx.send((0, record(7))).unwrap();
                }
                return Ended::Normally;
            }
            Ended::Running
        })
        .unwrap();
        assert_eq!(got[0].group, 7);
    }

    #[test]
    fn panic_messages_from_str_and_string_payloads() {
        let from_str = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(&*from_str), "static");
        let from_string = std::panic::catch_unwind(|| panic!("{}", 42)).unwrap_err();
        assert_eq!(panic_message(&*from_string), "42");
    }
}
