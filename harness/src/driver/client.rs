//! What both drivers share: a client's plan, its state between ops (generator, log cursors,
//! schedule) and its record (per-op histograms, errors, allocations, stalls).
//!
//! Everything a client records into is allocated when the client is built, before the start
//! barrier, so recording never allocates inside the timed region.

use std::sync::Arc;

use procman_core::ProcessSpec;

use crate::call::{Call, ErrorKind, Outcome, Workload};
use crate::measure::alloc::AllocCounts;
use crate::measure::histogram::LatencyHistogram;
use crate::measure::sched::ContextSwitches;
use crate::measure::timer::Clock;
use crate::mix::{Mix, Op, XorShift64, scale};
use crate::scenario::{Group, Pacing};
use crate::schedule::OpenSchedule;

/// The instants that frame a run, in clock ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// Clients start (untimed warm-up).
    pub warm_start: u64,
    /// The timed region starts: ops started (closed loop) or due (open loop) from here on are
    /// recorded.
    pub measure_start: u64,
    /// No op starts (closed) or falls due (open) from here on.
    pub measure_end: u64,
}

impl Timeline {
    /// Warm-up from now for `warmup`, then a timed region of `duration`.
    pub fn from_now(
        clock: &Clock,
        warmup: std::time::Duration,
        duration: std::time::Duration,
    ) -> Self {
        let warm_start = clock.now();
        let measure_start = warm_start + clock.ticks_of(warmup);
        Timeline {
            warm_start,
            measure_start,
            measure_end: measure_start + clock.ticks_of(duration),
        }
    }
}

/// Who one client is and how it behaves.
#[derive(Clone, Debug)]
pub struct ClientPlan {
    /// `group/index`, e.g. `agents/3`.
    pub label: String,
    /// Index of its group in the scenario.
    pub group: usize,
    /// Its position within the group, and the group's size (to spread open-loop phases).
    pub index_in_group: usize,
    /// Clients in the group.
    pub group_size: usize,
    /// What it calls.
    pub mix: Mix,
    /// How it paces.
    pub pacing: Pacing,
    /// Seed of its generator.
    pub seed: u64,
}

impl ClientPlan {
    /// One plan per client of `groups` at sweep point `swept`, seeded from `seed`.
    pub fn for_groups(groups: &[Group], swept: usize, seed: u64) -> Vec<ClientPlan> {
        let mut plans = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            let n = group.count_at(swept);
            for i in 0..n {
                plans.push(ClientPlan {
                    label: format!("{}/{i}", group.name),
                    group: g,
                    index_in_group: i,
                    group_size: n,
                    mix: group.mix.clone(),
                    pacing: group.pacing,
                    seed: seed
                        .wrapping_mul(0x9E37_79B9)
                        .wrapping_add((g as u64) << 32 | i as u64),
                });
            }
        }
        plans
    }
}

/// What one client recorded for one op during the timed region.
#[derive(Clone, Debug, Default)]
pub struct OpRecord {
    /// Latencies, nanoseconds (closed loop: call to return; open loop: due time to return).
    pub latency: LatencyHistogram,
    /// Failures by [`ErrorKind::index`].
    pub errors: [u64; ErrorKind::COUNT],
    /// Allocations made on the calling side.
    pub allocs: AllocCounts,
    /// Ops slower than the stall bound.
    pub stalls: u64,
}

impl OpRecord {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &OpRecord) {
        self.latency.merge(&other.latency);
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        self.allocs.add(other.allocs);
        self.stalls += other.stalls;
    }
}

/// Everything one client recorded.
#[derive(Clone, Debug)]
pub struct ClientRecord {
    /// Index of its group.
    pub group: usize,
    /// Per op (by [`Op::index`]); `None` for ops outside the client's mix.
    pub ops: Vec<Option<OpRecord>>,
    /// Open loop only: how late each op was *sent* after its due time (the client's own
    /// scheduling error plus any backlog), nanoseconds.
    pub send_lag: Option<LatencyHistogram>,
    /// Open loop only: ops due in the timed region, and those of them never sent.
    pub due: u64,
    /// Open loop only: ops due before the end but not sent by then.
    pub due_not_sent: u64,
    /// Tick at which its last recorded op returned (0 if none).
    pub last_end: u64,
    /// Its context switches over the timed region (thread driver only).
    pub switches: Option<ContextSwitches>,
}

/// A client between two ops.
#[derive(Debug)]
pub struct ClientState {
    /// The plan it follows.
    pub plan: ClientPlan,
    /// Picks ops and targets.
    rng: XorShift64,
    /// Its `logs_stream` cursor per process.
    cursors: Vec<u64>,
    /// Open loop only.
    pub schedule: Option<OpenSchedule>,
    /// The spec the next `scripts_run` takes (cloned before the timer starts).
    pub staged: Option<ProcessSpec>,
    /// The stall bound, ticks.
    stall_ticks: u64,
    /// What it recorded.
    pub record: ClientRecord,
    /// The workload it calls into.
    pub workload: Arc<Workload>,
}

impl ClientState {
    /// A client following `plan` over `workload`, with its record allocated.
    pub fn new(plan: ClientPlan, workload: Arc<Workload>, stall_ticks: u64) -> Self {
        let mut ops = vec![None; Op::COUNT];
        for &(op, _) in plan.mix.shares() {
            ops[op.index()] = Some(OpRecord::default());
        }
        let open = matches!(plan.pacing, Pacing::Open { .. });
        ClientState {
            rng: XorShift64::new(plan.seed),
            cursors: vec![0; workload.names.len()],
            schedule: None,
            staged: None,
            stall_ticks,
            record: ClientRecord {
                group: plan.group,
                ops,
                send_lag: open.then(LatencyHistogram::new),
                due: 0,
                due_not_sent: 0,
                last_end: 0,
                switches: None,
            },
            workload,
            plan,
        }
    }

    /// Sets up the open-loop schedule (if the client is paced) from `timeline`.
    pub fn start(&mut self, clock: &Clock, timeline: &Timeline) {
        if let Pacing::Open { rate_per_client } = self.plan.pacing {
            self.schedule = Some(OpenSchedule::new(
                timeline.warm_start,
                clock.hz(),
                rate_per_client,
                self.plan.index_in_group,
                self.plan.group_size,
            ));
        }
    }

    /// Draws the next call and prepares its arguments: one 64-bit draw picks the op (high
    /// half) and the process (low half).
    #[inline(always)]
    pub fn next_call(&mut self) -> Call {
        let x = self.rng.next_u64();
        let op = self.plan.mix.pick(x >> 32);
        let proc = scale(x, self.cursors.len() as u32) as usize;
        match op {
            Op::ScriptsStatus => Call::Status(proc),
            Op::ScriptsStatusAll => Call::StatusAll,
            Op::ScriptsRun => self.stage_run(proc),
            Op::ScriptsStop => Call::Stop(proc),
            Op::ScriptsRestart => Call::Restart(proc),
            Op::LogsStream => Call::LogsStream {
                proc,
                cursor: self.cursors[proc],
            },
            Op::LogsSearch => Call::LogsSearch,
        }
    }

    /// Clones the spec of process `proc` into the staged slot (out of line: it allocates, and
    /// the other ops should not carry its code in their path).
    #[cold]
    #[inline(never)]
    fn stage_run(&mut self, proc: usize) -> Call {
        self.staged = Some(self.workload.specs[proc].clone());
        Call::Run(proc)
    }

    /// Takes in what `call` (already consumed) told the client: the next log cursor.
    #[inline]
    pub fn absorb(&mut self, proc: Option<usize>, outcome: &Outcome) {
        if let (Some(p), Some(c)) = (proc, outcome.next_cursor) {
            self.cursors[p] = c;
        }
    }

    /// Records one op of the timed region: `ticks` long, ended at tick `end`.
    #[inline(always)]
    pub fn record(
        &mut self,
        clock: &Clock,
        op: Op,
        ticks: u64,
        end: u64,
        allocs: AllocCounts,
        outcome: &Outcome,
    ) {
        if let Some(r) = self.record.ops[op.index()].as_mut() {
            r.latency.record(clock.to_ns(ticks));
            r.allocs.add(allocs);
            if ticks > self.stall_ticks {
                r.stalls += 1;
            }
            if let Some(kind) = outcome.error {
                r.errors[kind.index()] += 1;
            }
        }
        self.record.last_end = end;
    }
}

/// The process a call reads a log cursor for, if any.
#[inline]
pub fn stream_target(call: &Call) -> Option<usize> {
    match call {
        Call::LogsStream { proc, .. } => Some(*proc),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::GroupClients;

    fn group(name: &str, clients: GroupClients, mix: &[(Op, f64)]) -> Group {
        Group {
            name: name.into(),
            clients,
            pacing: Pacing::Closed,
            mix: Mix::new(mix),
        }
    }

    #[test]
    fn plans_cover_each_group_with_distinct_seeds() {
        let groups = [
            group("agents", GroupClients::Sweep, &[(Op::ScriptsStatus, 100.0)]),
            group(
                "tui",
                GroupClients::Fixed(1),
                &[(Op::ScriptsStatusAll, 100.0)],
            ),
        ];
        let plans = ClientPlan::for_groups(&groups, 3, 1);
        let labels: Vec<&str> = plans.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["agents/0", "agents/1", "agents/2", "tui/0"]);
        let mut seeds: Vec<u64> = plans.iter().map(|p| p.seed).collect();
        seeds.dedup();
        assert_eq!(seeds.len(), 4);
        assert!(
            plans
                .iter()
                .all(|p| p.group_size == if p.group == 0 { 3 } else { 1 })
        );
    }

    #[test]
    fn records_only_the_ops_of_its_mix_and_counts_stalls_and_errors() {
        let scenario_text = r#"
            description = "t"
            processes = 3
            launcher = "sim"
            duration = "1s"
            [[group]]
            name = "a"
            clients = 1
            mix = { scripts_status = 50, logs_stream = 50 }
        "#;
        let s = crate::scenario::Scenario::parse(std::path::Path::new("t.toml"), scenario_text)
            .unwrap();
        let clock = Clock::monotonic();
        let plans = ClientPlan::for_groups(&s.groups, 0, 7);
        let mut c = ClientState::new(plans[0].clone(), Arc::new(Workload::new(&s)), 1_000);
        assert!(c.record.ops[Op::ScriptsStop.index()].is_none());
        for _ in 0..100 {
            let call = c.next_call();
            assert!(matches!(call, Call::Status(i) | Call::LogsStream { proc: i, .. } if i < 3));
        }
        let err = Outcome::failed(ErrorKind::NotFound);
        c.record(
            &clock,
            Op::ScriptsStatus,
            500,
            10,
            AllocCounts::default(),
            &Outcome::OK,
        );
        c.record(
            &clock,
            Op::ScriptsStatus,
            5_000,
            20,
            AllocCounts::default(),
            &err,
        );
        let r = c.record.ops[Op::ScriptsStatus.index()].as_ref().unwrap();
        assert_eq!(r.latency.count(), 2);
        assert_eq!(r.stalls, 1);
        assert_eq!(r.errors[ErrorKind::NotFound.index()], 1);
        assert_eq!(c.record.last_end, 20);
        c.absorb(
            Some(2),
            &Outcome {
                error: None,
                next_cursor: Some(9),
            },
        );
        assert!(matches!(
            (0..1000)
                .map(|_| c.next_call())
                .find(|call| matches!(call, Call::LogsStream { proc: 2, .. })),
            Some(Call::LogsStream { cursor: 9, .. })
        ));
    }
}
