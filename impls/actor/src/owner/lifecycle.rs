//! The owner's side of a run's life: admitting starts, recording spawns, events and exits,
//! scheduling and firing automatic restarts.
//!
//! Each handler only changes state and answers; the spawns, signals and waits it implies are in
//! the plan it returns, carried out off the owner.

use std::collections::hash_map;
use std::time::{Instant, SystemTime};

use procman_core::sync::Arc;
use procman_core::{
    Child, ExitInfo, IfRunning, LogRing, Name, OutputLine, ProcessError, ProcessId,
    ProcessSnapshot, ProcessSpec, Result as PmResult, StatusKind,
};

use super::state::{Entry, Live, Run, State, current_in};
use super::timers::TimerJob;
use crate::launch::LaunchJob;
use crate::messages::{Attach, BeginReply, Begun, StartKind, Ticket};
use crate::reply::ReplyTo;
use crate::run_end::{EndPublisher, RunEnd};

impl State {
    /// `Begin`: admits the start and answers whoever spawns it.
    pub(crate) fn begin_for(&mut self, start: StartKind, reply: BeginReply) {
        let begun = self.begin(start);
        match reply {
            BeginReply::Caller(reply) => reply.send(begun),
            BeginReply::Worker(done) => match begun {
                Ok(Begun::Launch(ticket)) => self.hand_to_worker(ticket, Some(done)),
                Ok(Begun::Existing(snapshot)) => done.send(Ok(snapshot)),
                Err(e) => done.send(Err(e)),
            },
        }
    }

    fn begin(&mut self, start: StartKind) -> PmResult<Begun> {
        if self.shutdown.started() {
            return Err(ProcessError::ShuttingDown);
        }
        match start {
            StartKind::Manual { spec, if_running } => self.begin_manual(spec, if_running),
            StartKind::Restart { id } => self.begin_restart(&id),
        }
    }

    fn begin_manual(&mut self, spec: Arc<ProcessSpec>, if_running: IfRunning) -> PmResult<Begun> {
        let restarts = match self.registry.get(&*spec.name) {
            Some(entry) if entry.run.is_live() => {
                return match if_running {
                    IfRunning::ReturnExisting => Ok(Begun::Existing(entry.run.snapshot())),
                    IfRunning::Error => Err(ProcessError::AlreadyRunning {
                        id: *entry.run.id(),
                        status: entry.run.kind(),
                    }),
                };
            }
            // A new run replaces the ended one and keeps its restart count.
            Some(entry) => entry.run.snapshot.restarts,
            None if self.registry.len() >= self.config.max_processes => {
                return Err(ProcessError::LimitReached {
                    name: spec.name.to_string(),
                    limit: self.config.max_processes,
                });
            }
            None => 0,
        };
        let run = self.next_run(Name::new(&spec.name), restarts)?;
        Ok(Begun::Launch(self.install(run, Some(spec))))
    }

    /// The start half of a restart; `id` is the run the restart stopped or found ended.
    fn begin_restart(&mut self, id: &ProcessId) -> PmResult<Begun> {
        let entry = self
            .registry
            .get(&*id.name)
            .ok_or_else(|| ProcessError::NotFound {
                name: id.name.to_string(),
            })?;
        if entry.run.is_live() {
            // Another start (or a concurrent restart) got there first: that run is the restart.
            return Ok(Begun::Existing(entry.run.snapshot()));
        }
        let restarts = entry.run.snapshot.restarts + 1;
        let run = self.next_run(id.name, restarts)?;
        self.stats.restarted += 1;
        Ok(Begun::Launch(self.install(run, None)))
    }

    /// A new `Starting` run with the next generation.
    fn next_run(&mut self, name: Name, restarts: u32) -> PmResult<Run> {
        self.generation += 1;
        let id = ProcessId::new(name, self.generation);
        let snapshot = ProcessSnapshot::pending(id, restarts)
            .to_starting(SystemTime::now())
            .map_err(|source| ProcessError::Transition { id, source })?;
        self.stats.started += 1;
        self.stats.active += 1;
        Ok(Run {
            snapshot,
            log: LogRing::new(self.config.log_ring),
            live: None,
            awaited_by_shutdown: false,
        })
    }

    /// Makes `run` its name's current run (cancelling a pending automatic restart) and returns
    /// the ticket to spawn it. `spec` replaces the name's spec (a manual start).
    fn install(&mut self, run: Run, spec: Option<Arc<ProcessSpec>>) -> Ticket {
        let id = *run.id();
        let (spec, retired) = match self.registry.entry(id.name) {
            hash_map::Entry::Occupied(mut slot) => {
                let entry = slot.get_mut();
                if let Some(spec) = spec {
                    entry.spec = spec;
                }
                entry.restart_pending = false;
                let old = std::mem::replace(&mut entry.run, run);
                (entry.spec.clone(), Some(old.log))
            }
            hash_map::Entry::Vacant(slot) => {
                let spec = spec.expect("a new name comes with its spec");
                slot.insert(Entry {
                    spec: spec.clone(),
                    first_generation: id.generation,
                    run,
                    automatic_restarts: 0,
                    restart_pending: false,
                });
                (spec, None)
            }
        };
        Ticket { id, spec, retired }
    }

    /// Sends an admitted run to the launch worker.
    pub(crate) fn hand_to_worker(
        &mut self,
        ticket: Ticket,
        done: Option<ReplyTo<PmResult<ProcessSnapshot>>>,
    ) {
        if let Err(refused) = self.launches.send(LaunchJob { ticket, done }) {
            let LaunchJob { ticket, done } = refused.0;
            let error = self.spawn_failed(&ticket.id, "the launch worker thread is gone".into());
            if let Some(done) = done {
                done.send(Err(error));
            }
        }
    }

    /// `Spawned`: `Starting -> Running` with the pid, before the child is attached. Answers
    /// with the run's end, which the starter reads if the run is superseded before its
    /// `Attached` arrives (see [`State::attached`]).
    pub(crate) fn spawned(
        &mut self,
        id: &ProcessId,
        child: Arc<dyn Child>,
    ) -> PmResult<Arc<RunEnd>> {
        let entry = current_in(&mut self.registry, id).ok_or_else(|| ProcessError::NotFound {
            name: id.name.to_string(),
        })?;
        let run = &mut entry.run;
        run.snapshot = run
            .snapshot
            .to_running(child.pid())
            .map_err(|e| run.refused(e))?;
        let end = EndPublisher::new();
        let handed = end.end().clone();
        run.live = Some(Live { child, end });
        Ok(handed)
    }

    /// `SpawnFailed`: `Starting -> Failed`. Returns the error the starter reports.
    pub(crate) fn spawn_failed(&mut self, id: &ProcessId, reason: String) -> ProcessError {
        let Some(entry) = current_in(&mut self.registry, id) else {
            return ProcessError::NotFound {
                name: id.name.to_string(),
            };
        };
        let run = &mut entry.run;
        match run.snapshot.to_failed(&reason, SystemTime::now()) {
            Ok(failed) => run.snapshot = failed,
            Err(e) => return run.refused(e),
        }
        self.stats.failed += 1;
        self.stats.active -= 1;
        self.settle_for_shutdown(id);
        ProcessError::SpawnFailed { id: *id, reason }
    }

    /// `Attached`: the snapshot after attach; `ShuttingDown` if a shutdown began meanwhile (the
    /// shutdown then stops the run).
    ///
    /// The run may no longer be current: between `Spawned` and this message its child can exit
    /// and another start or restart of the name replace it (a `Running` run is only replaced
    /// once its exit is recorded). It has then ended, its end is published, and the starter
    /// answers with that terminal snapshot: `Superseded` says so. No shutdown can be waiting for
    /// such a run, since nothing replaces a run once a shutdown has begun.
    pub(crate) fn attached(&mut self, id: &ProcessId) -> PmResult<Attach> {
        let Some(entry) = current_in(&mut self.registry, id) else {
            return if self.registry.contains_key(&*id.name) {
                Ok(Attach::Superseded)
            } else {
                Err(ProcessError::NotFound {
                    name: id.name.to_string(),
                })
            };
        };
        if entry.run.awaited_by_shutdown {
            self.settle_for_shutdown(id);
            return Err(ProcessError::ShuttingDown);
        }
        Ok(Attach::Current(entry.run.snapshot()))
    }

    /// A line of output; a superseded run's lines are dropped.
    pub(crate) fn output(&mut self, id: &ProcessId, line: OutputLine) {
        if let Some(entry) = current_in(&mut self.registry, id) {
            entry.run.log.push(line);
        }
    }

    /// The child is gone: the terminal transition, the end published to stoppers, and an
    /// automatic restart scheduled if the run ended by itself and its policy wants one.
    pub(crate) fn exited(&mut self, id: &ProcessId, exit: ExitInfo) {
        let Some(entry) = current_in(&mut self.registry, id) else {
            return;
        };
        let run = &mut entry.run;
        let ended_by_itself = run.kind() == StatusKind::Running;
        match run.snapshot.to_ended(exit, SystemTime::now()) {
            Ok(ended) => run.snapshot = ended,
            Err(e) => {
                tracing::warn!(%id, error = %e, "exit event refused by the status machine");
                return;
            }
        }
        self.stats.active -= 1;
        if let Some(live) = run.live.take() {
            live.end.publish(run.snapshot());
        }
        let policy = entry.spec.restart;
        if ended_by_itself
            && !self.shutdown.started()
            && policy.wants_restart(&exit, entry.automatic_restarts)
            && let Some(at) = Instant::now().checked_add(policy.backoff(entry.automatic_restarts))
        {
            entry.restart_pending = true;
            self.timers.schedule(at, TimerJob::Restart(*id));
        }
    }

    /// An automatic restart's backoff is over: if `id` is still the current run, the restart
    /// still pending and no shutdown began, start the next run on the launch worker.
    pub(crate) fn restart_due(&mut self, id: &ProcessId) {
        let Some(entry) = current_in(&mut self.registry, id) else {
            return;
        };
        if !entry.restart_pending || self.shutdown.started() {
            return;
        }
        entry.restart_pending = false;
        entry.automatic_restarts += 1;
        let restarts = entry.run.snapshot.restarts + 1;
        match self.next_run(id.name, restarts) {
            Ok(run) => {
                self.stats.restarted += 1;
                let ticket = self.install(run, None);
                self.hand_to_worker(ticket, None);
            }
            Err(e) => tracing::warn!(%id, error = %e, "automatic restart refused"),
        }
    }
}
