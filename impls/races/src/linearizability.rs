//! A linearizability checker for process-manager histories: Wing & Gong's search with
//! memoization (Lowe's refinement), against a sequential specification of the contract.
//!
//! # The sequential specification
//!
//! Linearizability is local (Herlihy & Wing): a history is linearizable iff its restriction to
//! each object is, so the history is split by name and each name checked on its own, against a
//! plain state machine: the name is absent, or has a current run with a generation, a phase
//! (`Starting`, `Running`, `Stopping`, or ended with its end) and a restart count.
//!
//! A manager call is not one atomic step of that machine — a start is visible as `Starting`
//! while its spawn is in flight, a stop as `Stopping` while it waits — so each call is a short
//! *script* of atomic steps that must all fall, in order, inside the call's interval (a call
//! whose outcome allows several scripts tries each):
//!
//! | call and outcome | script |
//! |------------------|--------|
//! | `start` → new run `g` | `Install(g)` (only over an ended or absent run; `g` above the current generation; restarts kept) · `Spawned(g)` · `Observe(result)` |
//! | `start` → existing | `Observe(result)` (live, `ReturnExisting` only) |
//! | `start` → `AlreadyRunning(g, kind)` | `ObserveKind(g, kind)` (live) |
//! | `start` → `SpawnFailed(g)` | `Install(g)` · `SpawnFailed(g)` |
//! | `stop` → terminal `g` | `BeginStop(g)` (`Running → Stopping`, or join `Stopping`) · `AwaitEnd(result)` |
//! | `stop` → `NotRunning` / `Busy` / `NotFound` | an observation of that state |
//! | `restart` → run `g2` | `StopAny` (the current run: `Running → Stopping`, or already `Stopping` or ended; with a restart policy, `StopAnyCancelling` also cancels a pending automatic restart) · `Install(g2, restarts + 1)` · `Spawned(g2)` · `Observe(result)`; or `StopAny` · `Observe(result)` (a start won the race to the ended name) |
//! | `status`, `list` | `Observe` |
//! | `status(id)` | `Observe`, or `Superseded(current)` / `NotFound` checked against the current generation |
//! | a child's own exit | `Exit(g)`: `Running → Exited(code)`, `Stopping → Stopped`, no effect on another run or an ended one; it may take effect any time after it happened, or not yet |
//!
//! plus one internal step the checker may take at any time: a `Stopping` run's child dies of
//! the stop signal (`Stopping → Stopped`).
//!
//! ## Automatic restarts
//!
//! A name may have a restart policy ([`AutoRestart`]). Then the state also holds whether an
//! automatic restart is *pending* and how many automatic restarts the name has had (never reset,
//! as in all three designs), and:
//!
//! - `Exit(g)` that ends a `Running` run by itself arms the restart when the policy wants one
//!   (by the exit code, and fewer than `max` automatic restarts so far);
//! - a pending restart may fire at any time, as two internal steps: `AutoInstall` (a new run
//!   with `restarts + 1` over the ended run) then `AutoSpawned` (`Starting → Running`);
//! - every `Install` (a start, or a restart of the ended name) cancels it;
//! - a `stop` of an ended run with a restart pending cancels it and returns the ended snapshot;
//!   `NotRunning` is only right when none is pending.
//!
//! The automatically started run's generation is whatever the manager-wide counter gave it. The
//! search tries each generation some call saw for the name; a run nobody saw (say, a restart
//! stopped it before anyone looked) gets a *phantom* generation between its predecessor's and
//! the next one. To make room for those, the checker works on generations multiplied by
//! [`SCALE`].
//!
//! # The search
//!
//! A configuration is the specification's state plus how far each call's script has got. From
//! a configuration, the next step may come from any call that was invoked before the earliest
//! response among the calls not yet complete (real-time order: a call that returned before
//! another was invoked is wholly before it). Configurations already explored are remembered,
//! which is what keeps the search polynomial in practice for histories of a few dozen calls per
//! name. A history passes when a configuration with every returned call complete is reached;
//! calls with no response (exits) may be left undone.

use std::collections::HashSet;
use std::fmt::Write as _;

use procman_core::StatusKind;

use crate::history::{Call, End, Obs, Op, Outcome, Phase, Refusal};

/// The specification's view of one name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NameState {
    /// The current run, if the name was ever registered.
    pub run: Option<Obs>,
    /// An automatic restart is armed for the current (ended) run.
    pub pending: bool,
    /// Automatic restarts the name has had.
    pub automatic: u32,
    /// The current run was installed by an automatic restart and is still `Starting`.
    pub auto_starting: bool,
}

/// A name's restart policy, as the specification needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoRestart {
    /// `restart = on-failure` (only a nonzero exit restarts); else `always`.
    pub on_failure: bool,
    /// `max_restarts`: automatic restarts allowed over the name's life.
    pub max: u32,
}

impl AutoRestart {
    /// Whether an exit with `code` after `done` automatic restarts arms another.
    fn wants(self, code: i32, done: u32) -> bool {
        done < self.max && (!self.on_failure || code != 0)
    }
}

/// Generations are multiplied by this inside the checker, so that up to `SCALE - 1` runs
/// nobody saw fit between two that somebody did.
pub const SCALE: u64 = 8;

/// Restart count of a run being installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Restarts {
    /// As the run it replaces (0 for a new name): a start.
    Keep,
    /// One more than the run it replaces: a restart.
    PlusOne,
}

/// One atomic step of the specification.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    /// The name is exactly this (or absent).
    Observe(Option<Obs>),
    /// The current run has this generation and a phase of this kind.
    ObserveKind(u64, StatusKind),
    /// `status(id)` answered `Superseded(current)`: `asked` is older than the current run.
    ObserveSuperseded { asked: u64, current: u64 },
    /// `status(id)` answered `NotFound`: the name is absent, or `asked` is newer than its run.
    ObserveNotFound { asked: u64 },
    /// A new run `generation` replaces an ended (or no) run.
    Install { generation: u64, restarts: Restarts },
    /// `Starting -> Running`.
    Spawned(u64),
    /// `Starting -> Failed`.
    SpawnFailed(u64),
    /// `Running -> Stopping`, or a stop joins one in flight.
    BeginStop(u64),
    /// Whatever the current run: stop it if running, else leave it (a restart's first half).
    StopAny,
    /// [`Step::StopAny`] that also cancels a pending automatic restart: a restart's stop that
    /// found the run ended by itself.
    StopAnyCancelling,
    /// The run `generation` has ended as `end`.
    AwaitEnd(u64, End),
    /// The child of run `generation` exited by itself with `code`.
    Exit(u64, i32),
    /// A stop found run `generation` ended as `end` with an automatic restart pending, and
    /// cancelled it.
    CancelPending(u64, End),
    /// A stop answered `NotRunning`: the run ended as `kind` and no restart is pending.
    ObserveNotRunning(u64, StatusKind),
}

impl Step {
    /// The state after the step, or `None` if the step cannot happen in `state`.
    fn apply(&self, state: &NameState, policy: Option<AutoRestart>) -> Option<NameState> {
        let run = state.run;
        let current = |generation: u64| run.filter(|r| r.generation == generation);
        let with = |obs: Obs| {
            Some(NameState {
                run: Some(obs),
                ..*state
            })
        };
        match *self {
            Step::Observe(want) => (run == want).then_some(*state),
            Step::ObserveKind(generation, kind) => {
                let r = current(generation)?;
                let matches = match (Phase::of_kind(kind), r.phase) {
                    (Some(phase), actual) => phase == actual,
                    (None, Phase::Ended(end)) => end_kind(end) == kind,
                    (None, _) => false,
                };
                matches.then_some(*state)
            }
            Step::ObserveSuperseded { asked, current } => {
                let r = run?;
                (r.generation == current && asked < current).then_some(*state)
            }
            Step::ObserveNotFound { asked } => match run {
                None => Some(*state),
                Some(r) => (asked > r.generation).then_some(*state),
            },
            Step::Install {
                generation,
                restarts,
            } => {
                let restarts = match run {
                    None if restarts == Restarts::PlusOne => return None,
                    None => 0,
                    Some(r) if r.phase.is_live() || r.generation >= generation => return None,
                    Some(r) => match restarts {
                        Restarts::Keep => r.restarts,
                        Restarts::PlusOne => r.restarts + 1,
                    },
                };
                // Any pending automatic restart is cancelled by the new run.
                Some(NameState {
                    run: Some(Obs {
                        generation,
                        phase: Phase::Starting,
                        restarts,
                    }),
                    pending: false,
                    auto_starting: false,
                    ..*state
                })
            }
            Step::Spawned(generation) => {
                let r = current(generation).filter(|r| r.phase == Phase::Starting)?;
                with(Obs {
                    phase: Phase::Running,
                    ..r
                })
            }
            Step::SpawnFailed(generation) => {
                let r = current(generation).filter(|r| r.phase == Phase::Starting)?;
                with(Obs {
                    phase: Phase::Ended(End::Failed),
                    ..r
                })
            }
            Step::BeginStop(generation) => {
                let r = current(generation)?;
                match r.phase {
                    Phase::Running => with(Obs {
                        phase: Phase::Stopping,
                        ..r
                    }),
                    Phase::Stopping => Some(*state),
                    _ => None,
                }
            }
            Step::StopAnyCancelling => {
                let r = run?;
                match r.phase {
                    Phase::Ended(_) => Some(NameState {
                        pending: false,
                        ..*state
                    }),
                    _ => Step::StopAny.apply(state, policy),
                }
            }
            Step::StopAny => {
                let r = run?;
                match r.phase {
                    Phase::Running => with(Obs {
                        phase: Phase::Stopping,
                        ..r
                    }),
                    Phase::Stopping | Phase::Ended(_) => Some(*state),
                    Phase::Starting => None,
                }
            }
            Step::AwaitEnd(generation, end) => {
                let r = current(generation)?;
                (r.phase == Phase::Ended(end)).then_some(*state)
            }
            Step::Exit(generation, code) => match current(generation) {
                Some(r) => match r.phase {
                    // Events reach a run only after it was attached.
                    Phase::Starting => None,
                    // A natural end: it arms an automatic restart if the policy wants one.
                    Phase::Running => Some(NameState {
                        run: Some(Obs {
                            phase: Phase::Ended(End::Exited(code)),
                            ..r
                        }),
                        pending: policy.is_some_and(|p| p.wants(code, state.automatic)),
                        ..*state
                    }),
                    Phase::Stopping => with(Obs {
                        phase: Phase::Ended(End::Stopped),
                        ..r
                    }),
                    Phase::Ended(_) => Some(*state),
                },
                // The exit of a superseded run changes nothing.
                None => Some(*state),
            },
            Step::CancelPending(generation, end) => {
                let r = current(generation)?;
                (state.pending && r.phase == Phase::Ended(end)).then_some(NameState {
                    pending: false,
                    ..*state
                })
            }
            Step::ObserveNotRunning(generation, kind) => {
                if state.pending {
                    return None;
                }
                Step::ObserveKind(generation, kind).apply(state, policy)
            }
        }
    }
}

/// The internal steps the manager may take in `state` by itself: a stopping run's child dies of
/// the stop signal; a pending automatic restart installs a new run (as one of `generations`, the
/// scaled generations calls saw for the name, or a phantom one nobody saw); an automatically
/// started run finishes spawning.
fn internal_steps(state: &NameState, generations: &[u64]) -> Vec<NameState> {
    let Some(r) = state.run else {
        return Vec::new();
    };
    match r.phase {
        Phase::Stopping => vec![NameState {
            run: Some(Obs {
                phase: Phase::Ended(End::Stopped),
                ..r
            }),
            ..*state
        }],
        Phase::Starting if state.auto_starting => vec![NameState {
            run: Some(Obs {
                phase: Phase::Running,
                ..r
            }),
            auto_starting: false,
            ..*state
        }],
        Phase::Ended(_) if state.pending => {
            let phantom = r.generation + 1;
            let seen = generations.iter().copied().filter(|g| *g > r.generation);
            let unseen = (phantom % SCALE != 0).then_some(phantom);
            seen.chain(unseen)
                .map(|generation| NameState {
                    run: Some(Obs {
                        generation,
                        phase: Phase::Starting,
                        restarts: r.restarts + 1,
                    }),
                    pending: false,
                    automatic: state.automatic + 1,
                    auto_starting: true,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

fn end_kind(end: End) -> StatusKind {
    match end {
        End::Stopped => StatusKind::Stopped,
        End::Exited(_) => StatusKind::Exited,
        End::Killed(_) => StatusKind::Killed,
        End::Failed => StatusKind::Failed,
    }
}

/// The scripts an operation's outcome allows, for `name`. Empty when no script can explain the
/// outcome (an error the contract does not allow here).
fn scripts(call: &Call, outcome: &Outcome, name: &str) -> Vec<Vec<Step>> {
    use Outcome::{Effect, Listed, Refused, Snapshot};
    use Step::*;
    let live = |obs: &Obs| obs.phase.is_live();
    let install_and_observe = |obs: Obs, restarts| {
        vec![
            Install {
                generation: obs.generation,
                restarts,
            },
            Spawned(obs.generation),
            Observe(Some(obs)),
        ]
    };
    match (call, outcome) {
        (Call::List, Listed(all)) => {
            let seen = all.iter().find(|(n, _)| n == name).map(|(_, obs)| *obs);
            vec![vec![Observe(seen)]]
        }
        (
            Call::Start {
                return_existing, ..
            },
            Snapshot(obs),
        ) => {
            let mut alternatives = vec![install_and_observe(*obs, Restarts::Keep)];
            if *return_existing && live(obs) {
                alternatives.push(vec![Observe(Some(*obs))]);
            }
            alternatives
        }
        (
            Call::Start {
                return_existing: false,
                ..
            },
            Refused(Refusal::AlreadyRunning(generation, kind)),
        ) if Phase::of_kind(*kind).is_some() => vec![vec![ObserveKind(*generation, *kind)]],
        (Call::Start { .. }, Refused(Refusal::SpawnFailed(generation))) => vec![vec![
            Install {
                generation: *generation,
                restarts: Restarts::Keep,
            },
            SpawnFailed(*generation),
        ]],
        (Call::Stop { .. }, Snapshot(obs)) => match obs.phase {
            Phase::Ended(end) => vec![
                vec![BeginStop(obs.generation), AwaitEnd(obs.generation, end)],
                // An ended run with an automatic restart pending: the stop cancels it.
                vec![CancelPending(obs.generation, end)],
            ],
            _ => vec![],
        },
        (Call::Stop { .. }, Refused(Refusal::NotRunning(generation, kind)))
            if kind.is_terminal() =>
        {
            vec![vec![ObserveNotRunning(*generation, *kind)]]
        }
        (
            Call::Stop { .. } | Call::Restart { .. },
            Refused(Refusal::Busy(generation, kind @ (StatusKind::Pending | StatusKind::Starting))),
        ) => vec![vec![ObserveKind(*generation, *kind)]],
        (
            Call::Stop { .. }
            | Call::Restart { .. }
            | Call::Status { .. }
            | Call::StatusById { .. },
            Refused(Refusal::NotFound),
        ) => match call {
            Call::StatusById { generation, .. } => {
                vec![vec![ObserveNotFound { asked: *generation }]]
            }
            _ => vec![vec![Observe(None)]],
        },
        // A restart's first half may cancel a pending automatic restart (its stop found the run
        // ended by itself), or leave it for the second half's install to cancel.
        (Call::Restart { .. }, Snapshot(obs)) => {
            let mut alternatives = Vec::new();
            for first in [StopAny, StopAnyCancelling] {
                let mut installed = vec![first.clone()];
                installed.extend(install_and_observe(*obs, Restarts::PlusOne));
                alternatives.push(installed);
                if live(obs) {
                    alternatives.push(vec![first, Observe(Some(*obs))]);
                }
            }
            alternatives
        }
        (Call::Restart { .. }, Refused(Refusal::SpawnFailed(generation))) => {
            [StopAny, StopAnyCancelling]
                .into_iter()
                .map(|first| {
                    vec![
                        first,
                        Install {
                            generation: *generation,
                            restarts: Restarts::PlusOne,
                        },
                        SpawnFailed(*generation),
                    ]
                })
                .collect()
        }
        (Call::Status { .. }, Snapshot(obs)) => vec![vec![Observe(Some(*obs))]],
        (Call::StatusById { generation, .. }, Snapshot(obs)) if obs.generation == *generation => {
            vec![vec![Observe(Some(*obs))]]
        }
        (Call::StatusById { generation, .. }, Refused(Refusal::Superseded(current))) => {
            vec![vec![ObserveSuperseded {
                asked: *generation,
                current: *current,
            }]]
        }
        (
            Call::Exit {
                generation, code, ..
            },
            Effect,
        ) => vec![vec![Exit(*generation, *code)]],
        _ => vec![],
    }
}

/// One operation as the search sees it.
#[derive(Debug)]
struct Task {
    /// Index into the name's operations, for the report.
    op: usize,
    call_at: u64,
    /// `u64::MAX` for an operation whose effect may come later.
    ret_at: u64,
    scripts: Vec<Vec<Step>>,
}

/// Progress of one task: not started, or `(script, steps done)`, or done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Progress {
    Idle,
    At(u8, u8),
    Done,
}

/// A history that has no linearization.
#[derive(Debug)]
pub struct NotLinearizable {
    /// The name whose sub-history fails.
    pub name: String,
    /// The whole report: the sub-history and how far the search got.
    pub report: String,
}

/// Checks the history `ops` (every thread's operations) name by name. `names` lists every name
/// the workload used (a `list` that omits one observed it absent). No name restarts by itself.
pub fn check(ops: &[Op], names: &[&'static str]) -> Result<(), NotLinearizable> {
    check_with_policies(ops, names, |_| None)
}

/// [`check`], where `policy(name)` is the restart policy of `name`, if it has one.
pub fn check_with_policies(
    ops: &[Op],
    names: &[&'static str],
    policy: impl Fn(&str) -> Option<AutoRestart>,
) -> Result<(), NotLinearizable> {
    for name in names {
        check_name(ops, name, policy(name))?;
    }
    Ok(())
}

/// Checks the restriction of `ops` to `name`.
fn check_name(ops: &[Op], name: &str, policy: Option<AutoRestart>) -> Result<(), NotLinearizable> {
    let mut mine: Vec<&Op> = ops
        .iter()
        .filter(|op| op.call.name().is_none_or(|n| n == name))
        .collect();
    mine.sort_by_key(|op| op.call_at);
    let scaled: Vec<Op> = mine.iter().map(|op| scale(op)).collect();
    let tasks: Vec<Task> = scaled
        .iter()
        .enumerate()
        .map(|(i, op)| Task {
            op: i,
            call_at: op.call_at,
            ret_at: op.ret_at.unwrap_or(u64::MAX),
            scripts: scripts(&op.call, &op.outcome, name),
        })
        .collect();
    // The generations calls saw for this name: candidates for an automatic restart's run.
    let mut generations: Vec<u64> = if policy.is_some() {
        scaled
            .iter()
            .flat_map(|op| generations_of(op, name))
            .collect()
    } else {
        Vec::new()
    };
    generations.sort_unstable();
    generations.dedup();
    if let Some(bad) = tasks.iter().find(|t| t.scripts.is_empty()) {
        return Err(NotLinearizable {
            name: name.to_owned(),
            report: format!(
                "{name:?}: no sequential step of the contract can produce this outcome:\n  {}\n\n{}",
                mine[bad.op],
                render(&mine, None)
            ),
        });
    }
    let mut search = Search {
        tasks: &tasks,
        policy,
        generations,
        progress: vec![Progress::Idle; tasks.len()],
        seen: HashSet::new(),
        best: (0, Vec::new()),
    };
    if search.run(NameState::default()) {
        Ok(())
    } else {
        let best = std::mem::take(&mut search.best.1);
        Err(NotLinearizable {
            name: name.to_owned(),
            report: format!(
                "{name:?}: no linearization of these {} calls (explored {} configurations); \
                 the longest linearizable prefix completes {} calls, marked *:\n{}",
                tasks.len(),
                search.seen.len(),
                search.best.0,
                render(&mine, Some(&best))
            ),
        })
    }
}

/// The sub-history, one call per line, marking the calls completed in `done`.
fn render(ops: &[&Op], done: Option<&[Progress]>) -> String {
    let mut out = String::new();
    for (i, op) in ops.iter().enumerate() {
        let mark = match done.map(|d| d[i]) {
            Some(Progress::Done) => "*",
            Some(Progress::At(..)) => "~",
            _ => " ",
        };
        let _ = writeln!(out, "  {mark} {op}");
    }
    out
}

/// `op` with every generation in it multiplied by [`SCALE`].
fn scale(op: &Op) -> Op {
    let obs = |o: &Obs| Obs {
        generation: o.generation * SCALE,
        ..*o
    };
    let call = match op.call {
        Call::StatusById { name, generation } => Call::StatusById {
            name,
            generation: generation * SCALE,
        },
        Call::Exit {
            name,
            generation,
            code,
        } => Call::Exit {
            name,
            generation: generation * SCALE,
            code,
        },
        ref other => other.clone(),
    };
    let outcome = match &op.outcome {
        Outcome::Snapshot(o) => Outcome::Snapshot(obs(o)),
        Outcome::Listed(all) => {
            Outcome::Listed(all.iter().map(|(n, o)| (n.clone(), obs(o))).collect())
        }
        Outcome::Refused(r) => Outcome::Refused(match r {
            Refusal::AlreadyRunning(g, k) => Refusal::AlreadyRunning(g * SCALE, *k),
            Refusal::NotRunning(g, k) => Refusal::NotRunning(g * SCALE, *k),
            Refusal::Busy(g, k) => Refusal::Busy(g * SCALE, *k),
            Refusal::Superseded(g) => Refusal::Superseded(g * SCALE),
            Refusal::SpawnFailed(g) => Refusal::SpawnFailed(g * SCALE),
            other => other.clone(),
        }),
        Outcome::Effect => Outcome::Effect,
    };
    Op {
        call,
        outcome,
        ..*op
    }
}

/// The generations of `name` that `op` names.
fn generations_of(op: &Op, name: &str) -> Vec<u64> {
    let mut out = Vec::new();
    if let Call::Exit { generation, .. } | Call::StatusById { generation, .. } = op.call {
        out.push(generation);
    }
    match &op.outcome {
        Outcome::Snapshot(o) => out.push(o.generation),
        Outcome::Listed(all) => out.extend(
            all.iter()
                .filter(|(n, _)| n == name)
                .map(|(_, o)| o.generation),
        ),
        Outcome::Refused(
            Refusal::AlreadyRunning(g, _)
            | Refusal::NotRunning(g, _)
            | Refusal::Busy(g, _)
            | Refusal::Superseded(g)
            | Refusal::SpawnFailed(g),
        ) => out.push(*g),
        _ => {}
    }
    out
}

struct Search<'a> {
    tasks: &'a [Task],
    /// The name's restart policy.
    policy: Option<AutoRestart>,
    /// The (scaled) generations calls saw for the name.
    generations: Vec<u64>,
    progress: Vec<Progress>,
    seen: HashSet<(NameState, Vec<Progress>)>,
    /// The most completed calls reached, and that configuration's progress, for the report.
    best: (usize, Vec<Progress>),
}

impl Search<'_> {
    fn run(&mut self, state: NameState) -> bool {
        let mut complete = 0;
        let mut horizon = u64::MAX;
        for (task, progress) in self.tasks.iter().zip(&self.progress) {
            if *progress == Progress::Done {
                complete += 1;
            } else if task.ret_at != u64::MAX {
                horizon = horizon.min(task.ret_at);
            }
        }
        if horizon == u64::MAX {
            return true; // every call that returned is complete
        }
        if complete > self.best.0 || self.best.1.is_empty() {
            self.best = (complete, self.progress.clone());
        }
        if !self.seen.insert((state, self.progress.clone())) {
            return false;
        }
        for i in 0..self.tasks.len() {
            let task = &self.tasks[i];
            if task.call_at > horizon {
                break; // invoked after a pending call returned: must wait for it
            }
            let choices: Vec<(usize, usize)> = match self.progress[i] {
                Progress::Done => continue,
                Progress::Idle => (0..task.scripts.len()).map(|s| (s, 0)).collect(),
                Progress::At(s, k) => vec![(s as usize, k as usize)],
            };
            for (s, k) in choices {
                let script = &task.scripts[s];
                let Some(next) = script[k].apply(&state, self.policy) else {
                    continue;
                };
                let before = self.progress[i];
                self.progress[i] = if k + 1 == script.len() {
                    Progress::Done
                } else {
                    Progress::At(s as u8, (k + 1) as u8)
                };
                if self.run(next) {
                    return true;
                }
                self.progress[i] = before;
            }
        }
        for next in internal_steps(&state, &self.generations) {
            if self.run(next) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(generation: u64, phase: Phase, restarts: u32) -> Obs {
        Obs {
            generation,
            phase,
            restarts,
        }
    }

    fn op(thread: usize, call_at: u64, ret_at: u64, call: Call, outcome: Outcome) -> Op {
        Op {
            thread,
            call_at,
            ret_at: Some(ret_at),
            call,
            outcome,
        }
    }

    const A: &str = "a";

    fn start(existing: bool) -> Call {
        Call::Start {
            name: A,
            return_existing: existing,
        }
    }

    #[test]
    fn two_overlapping_starts_with_one_run_linearize() {
        let run = obs(1, Phase::Running, 0);
        let ops = [
            op(0, 0, 5, start(true), Outcome::Snapshot(run)),
            op(1, 1, 6, start(true), Outcome::Snapshot(run)),
        ];
        assert!(check(&ops, &[A]).is_ok());
    }

    #[test]
    fn two_runs_of_one_name_live_at_once_do_not() {
        // Both starts installed a run and both report it running at the end: the second
        // install needs the first run ended, and nothing ended it.
        let ops = [
            op(
                0,
                0,
                5,
                start(false),
                Outcome::Snapshot(obs(1, Phase::Running, 0)),
            ),
            op(
                1,
                1,
                6,
                start(false),
                Outcome::Snapshot(obs(2, Phase::Running, 0)),
            ),
            op(
                0,
                7,
                8,
                Call::Status { name: A },
                Outcome::Snapshot(obs(2, Phase::Running, 0)),
            ),
        ];
        let err = check(&ops, &[A]).unwrap_err();
        assert!(err.report.contains("no linearization"), "{}", err.report);
    }

    #[test]
    fn a_stop_racing_an_exit_has_one_end() {
        let running = obs(1, Phase::Running, 0);
        let exit = Op {
            thread: 1,
            call_at: 3,
            ret_at: None,
            call: Call::Exit {
                name: A,
                generation: 1,
                code: 3,
            },
            outcome: Outcome::Effect,
        };
        let stopped = obs(1, Phase::Ended(End::Stopped), 0);
        let exited = obs(1, Phase::Ended(End::Exited(3)), 0);
        let base = [op(0, 0, 1, start(false), Outcome::Snapshot(running)), exit];
        // The stop won: it returns Stopped and the name stays Stopped.
        let mut ok = base.to_vec();
        ok.push(op(
            0,
            2,
            6,
            Call::Stop { name: A },
            Outcome::Snapshot(stopped),
        ));
        ok.push(op(
            0,
            7,
            8,
            Call::Status { name: A },
            Outcome::Snapshot(stopped),
        ));
        assert!(check(&ok, &[A]).is_ok());
        // A lost update: the stop returns Stopped, but the name reads Exited afterwards.
        let mut lost = base.to_vec();
        lost.push(op(
            0,
            2,
            6,
            Call::Stop { name: A },
            Outcome::Snapshot(stopped),
        ));
        lost.push(op(
            0,
            7,
            8,
            Call::Status { name: A },
            Outcome::Snapshot(exited),
        ));
        assert!(check(&lost, &[A]).is_err());
    }

    #[test]
    fn a_reader_that_sees_starting_after_running_is_caught() {
        let ops = [
            op(
                0,
                0,
                3,
                start(false),
                Outcome::Snapshot(obs(1, Phase::Running, 0)),
            ),
            op(
                1,
                4,
                5,
                Call::Status { name: A },
                Outcome::Snapshot(obs(1, Phase::Starting, 0)),
            ),
        ];
        assert!(check(&ops, &[A]).is_err());
    }

    #[test]
    fn restart_counts_and_busy_and_superseded() {
        let ops = [
            op(
                0,
                0,
                1,
                start(false),
                Outcome::Snapshot(obs(1, Phase::Running, 0)),
            ),
            op(
                0,
                2,
                9,
                Call::Restart { name: A },
                Outcome::Snapshot(obs(2, Phase::Running, 1)),
            ),
            op(
                1,
                3,
                4,
                Call::Status { name: A },
                Outcome::Snapshot(obs(1, Phase::Stopping, 0)),
            ),
            op(
                1,
                5,
                6,
                Call::Stop { name: A },
                Outcome::Refused(Refusal::Busy(2, StatusKind::Starting)),
            ),
            op(
                1,
                10,
                11,
                Call::StatusById {
                    name: A,
                    generation: 1,
                },
                Outcome::Refused(Refusal::Superseded(2)),
            ),
        ];
        assert!(check(&ops, &[A]).is_ok());
        let mut wrong = ops.to_vec();
        wrong[1].outcome = Outcome::Snapshot(obs(2, Phase::Running, 0));
        assert!(check(&wrong, &[A]).is_err(), "a restart must count itself");
    }

    const ON_FAILURE: AutoRestart = AutoRestart {
        on_failure: true,
        max: 3,
    };

    fn exit(call_at: u64, generation: u64, code: i32) -> Op {
        Op {
            thread: 9,
            call_at,
            ret_at: None,
            call: Call::Exit {
                name: A,
                generation,
                code,
            },
            outcome: Outcome::Effect,
        }
    }

    fn status(call_at: u64, seen: Obs) -> Op {
        op(
            0,
            call_at,
            call_at + 1,
            Call::Status { name: A },
            Outcome::Snapshot(seen),
        )
    }

    /// `start` of a new name that made run 1 and saw it running, at time 0.
    fn first_start() -> Op {
        op(
            0,
            0,
            1,
            start(false),
            Outcome::Snapshot(obs(1, Phase::Running, 0)),
        )
    }

    fn with_policy(ops: &[Op], policy: AutoRestart) -> Result<(), NotLinearizable> {
        check_with_policies(ops, &[A], |_| Some(policy))
    }

    #[test]
    fn a_failed_exit_restarts_by_itself_under_on_failure() {
        let ops = [
            first_start(),
            exit(2, 1, 1),
            status(5, obs(2, Phase::Running, 1)),
        ];
        assert!(with_policy(&ops, ON_FAILURE).is_ok());
        // Without a policy nothing installs run 2.
        assert!(check(&ops, &[A]).is_err());
        // A clean exit does not restart under on-failure, but does under always.
        let mut clean = ops.to_vec();
        clean[1] = exit(2, 1, 0);
        assert!(with_policy(&clean, ON_FAILURE).is_err());
        let always = AutoRestart {
            on_failure: false,
            max: 3,
        };
        assert!(with_policy(&clean, always).is_ok());
    }

    #[test]
    fn automatic_restarts_stop_at_max() {
        let ops = [
            first_start(),
            exit(2, 1, 1),
            status(5, obs(2, Phase::Running, 1)),
            exit(7, 2, 1),
            status(9, obs(3, Phase::Running, 2)),
        ];
        assert!(with_policy(&ops, ON_FAILURE).is_ok());
        let one = AutoRestart {
            on_failure: true,
            max: 1,
        };
        assert!(with_policy(&ops, one).is_err());
    }

    #[test]
    fn a_stop_must_cancel_a_pending_restart_not_refuse() {
        let ended = obs(1, Phase::Ended(End::Exited(1)), 0);
        let stop = |outcome| op(0, 5, 6, Call::Stop { name: A }, outcome);
        let base = [first_start(), exit(2, 1, 1), status(3, ended)];
        // With a restart pending, NotRunning is wrong: the stop had something to cancel.
        let mut refused = base.to_vec();
        refused.push(stop(Outcome::Refused(Refusal::NotRunning(
            1,
            StatusKind::Exited,
        ))));
        assert!(with_policy(&refused, ON_FAILURE).is_err());
        assert!(
            check(&refused, &[A]).is_ok(),
            "without a policy it is right"
        );
        // The stop that cancels returns the ended run, and nothing restarts afterwards.
        let mut cancelled = base.to_vec();
        cancelled.push(stop(Outcome::Snapshot(ended)));
        cancelled.push(status(8, ended));
        assert!(with_policy(&cancelled, ON_FAILURE).is_ok());
        let mut restarted_anyway = cancelled.clone();
        restarted_anyway[4] = status(8, obs(2, Phase::Running, 1));
        assert!(with_policy(&restarted_anyway, ON_FAILURE).is_err());
    }

    #[test]
    fn an_automatic_run_nobody_saw_still_counts() {
        // Run 2 was started automatically and stopped by the restart before anyone looked: the
        // restart's run is 3 with two restarts behind it.
        let ops = [
            first_start(),
            exit(2, 1, 1),
            op(
                0,
                5,
                9,
                Call::Restart { name: A },
                Outcome::Snapshot(obs(3, Phase::Running, 2)),
            ),
        ];
        assert!(with_policy(&ops, ON_FAILURE).is_ok());
        // Two restarts need the automatic one: without a policy the count is wrong.
        assert!(check(&ops, &[A]).is_err());
    }

    #[test]
    fn an_unexplainable_error_is_reported() {
        let ops = [op(
            0,
            0,
            1,
            start(false),
            Outcome::Refused(Refusal::Other("boom".into())),
        )];
        let err = check(&ops, &[A]).unwrap_err();
        assert!(err.report.contains("no sequential step"), "{}", err.report);
    }
}
