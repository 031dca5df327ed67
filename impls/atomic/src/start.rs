//! Starting a run: registration (one compare-and-swap, or one insert for a new name), then the
//! spawn with nothing held, then `Running` with the pid, then attach.
//!
//! ```text
//!  start ─ gate.enter ─┬─ new name:  reserve a place, insert Entry{Starting}  ─┐
//!                      └─ known name: CAS ended state -> Starting (new run)  ──┴─ launch
//!  launch: launcher.spawn (no lock, no guard) ─┬─ Err: CAS Starting -> Failed
//!                                              └─ Ok:  CAS Starting -> Running(pid), attach
//! ```
//!
//! A run is registered directly in `Starting`: its `Pending` snapshot exists only inside the
//! registering step, where the helpers validate `Pending -> Starting`; nobody can observe it, so
//! publishing it would cost a compare-and-swap and an allocation for nothing. Between
//! registration and `Running`, only the registering thread may move the run on: stops and
//! restarts answer `Busy`, starts see a live run, and events cannot arrive before attach.

use std::time::SystemTime;

use procman_core::supervise::ExitLatch;
use procman_core::sync::Arc;
use procman_core::{
    Child, IfRunning, ProcessError, ProcessId, ProcessSnapshot, ProcessSpec, Result, Signal,
};

use crate::entry::{Entry, Step, Updated};
use crate::events::RunEvents;
use crate::log::LogMirror;
use crate::run::{Run, RunState, transition_error};
use crate::shared::Shared;

/// How a first start of a name ended up.
enum Registered {
    /// This call inserted the name, with its run in `Starting`.
    New(Arc<Entry>, Arc<Run>),
    /// Another start inserted it first; continue as for a known name.
    Existing(Arc<Entry>),
}

impl Shared {
    /// [`procman_core::ProcessManager::start`].
    pub(crate) fn start(
        &self,
        spec: ProcessSpec,
        if_running: IfRunning,
    ) -> Result<ProcessSnapshot> {
        spec.validate()?;
        let _pass = self.gate.enter()?;
        let spec = Arc::new(spec);
        let entry = match self.registry.get(&spec.name) {
            Some(entry) => entry,
            None => match self.register_name(&spec)? {
                Registered::New(entry, run) => return self.launch(&entry, &run),
                Registered::Existing(entry) => entry,
            },
        };
        let registered = entry.update(|current| {
            if !current.snapshot.status.is_terminal() {
                return Step::Leave(match if_running {
                    IfRunning::ReturnExisting => Ok(current.view()),
                    IfRunning::Error => Err(ProcessError::AlreadyRunning {
                        id: current.snapshot.id,
                        status: current.snapshot.status.kind(),
                    }),
                });
            }
            let restarts = current.snapshot.restarts;
            match self.next_run(
                spec.clone(),
                restarts,
                current.auto_restarts,
                current.run.log.mirror(),
            ) {
                Ok(next) => Step::Install(next),
                Err(e) => Step::Leave(Err(e)),
            }
        });
        match registered {
            Updated::Left(result) => result,
            Updated::Installed { old, new } => {
                old.cancel_pending_restart();
                let run = new.run.clone();
                drop((old, new));
                self.launch(&entry, &run)
            }
        }
    }

    /// A new run of `spec` in `Starting`, with the next generation. Call it after loading the
    /// state it will replace (see [`Shared::next_generation`]).
    pub(crate) fn next_run(
        &self,
        spec: Arc<ProcessSpec>,
        restarts: u32,
        auto_restarts: u32,
        logs: &Arc<LogMirror>,
    ) -> Result<RunState> {
        let id = ProcessId::new(&spec.name, self.next_generation());
        let run = Arc::new(Run::new(id, spec, self.config.log_ring, logs.clone()));
        RunState::starting(run, restarts, auto_restarts, SystemTime::now())
    }

    /// Inserts a name not seen before, its first run in `Starting`.
    fn register_name(&self, spec: &Arc<ProcessSpec>) -> Result<Registered> {
        if let Err(limit) = self.reserve_name(&spec.name) {
            // A racing start may have inserted the name meanwhile; then it is no new name.
            return self
                .registry
                .get(&spec.name)
                .map(Registered::Existing)
                .ok_or(limit);
        }
        let first = match self.next_run(spec.clone(), 0, 0, &Arc::new(LogMirror::default())) {
            Ok(first) => first,
            Err(e) => {
                self.release_name();
                return Err(e);
            }
        };
        let run = first.run.clone();
        let entry = Arc::new(Entry::new(first));
        match self.registry.insert_if_absent(entry.name(), entry.clone()) {
            Ok(()) => Ok(Registered::New(entry, run)),
            Err(existing) => {
                self.release_name();
                Ok(Registered::Existing(existing))
            }
        }
    }

    /// Spawns a registered (`Starting`) run, records its pid, attaches it, and returns its
    /// snapshot as it is after attach. Called once per registered run, with a start pass held.
    pub(crate) fn launch(&self, entry: &Arc<Entry>, run: &Arc<Run>) -> Result<ProcessSnapshot> {
        self.counters.run_started();
        // No lock and no guard is held here: a spawn can take as long as fork/exec takes.
        let child: Arc<dyn Child> = match self.launcher.spawn(&run.id, &run.spec) {
            Ok(child) => Arc::from(child),
            Err(e) => return Err(self.spawn_failed(entry, run, e.0)),
        };
        let recorded = entry.update(|current| {
            if let Err(e) = owns(current, run) {
                return Step::Leave(e);
            }
            match current.snapshot.to_running(child.pid()) {
                Ok(snapshot) => Step::Install(current.running(snapshot, child.clone())),
                Err(e) => Step::Leave(transition_error(&run.id, e)),
            }
        });
        if let Updated::Left(e) = recorded {
            // Unreachable by the protocol (module docs); never leave a child nobody supervises.
            tracing::error!(id = %run.id, error = %e, "could not record a spawned child; killing it");
            if let Err(kill) = child.signal(Signal::KILL) {
                tracing::warn!(id = %run.id, error = %kill, "SIGKILL of the unrecorded child failed");
            }
            return Err(e);
        }
        child.attach(Arc::new(RunEvents::new(
            self.weak(),
            Arc::downgrade(entry),
            run.clone(),
        )));
        Ok(self.run_view(entry, run))
    }

    /// `Starting -> Failed`, after the launcher refused.
    fn spawn_failed(&self, entry: &Entry, run: &Run, reason: String) -> ProcessError {
        let now = SystemTime::now();
        let failed = entry.update(|current| {
            if let Err(e) = owns(current, run) {
                return Step::Leave(e);
            }
            match current.snapshot.to_failed(&reason, now) {
                Ok(snapshot) => Step::Install(current.with_snapshot(snapshot)),
                Err(e) => Step::Leave(transition_error(&run.id, e)),
            }
        });
        match failed {
            Updated::Installed { new, .. } => {
                self.counters.run_ended(true);
                run.log.close();
                run.finish(new.snapshot);
                ProcessError::SpawnFailed { id: run.id, reason }
            }
            Updated::Left(e) => e,
        }
    }

    /// The snapshot of `run`: the entry's if it is still the current run, else its terminal one
    /// (a run is only ever replaced after it ended).
    pub(crate) fn run_view(&self, entry: &Entry, run: &Run) -> ProcessSnapshot {
        let current = entry.load();
        if current.generation() == run.id.generation {
            current.view()
        } else {
            drop(current);
            run.wait_ended()
        }
    }
}

/// `Ok` if `state` is `run`'s; the registering thread's transitions check this, although by the
/// protocol a `Starting` run cannot be replaced under it.
fn owns(state: &RunState, run: &Run) -> Result<(), ProcessError> {
    if state.generation() == run.id.generation {
        Ok(())
    } else {
        Err(ProcessError::Superseded {
            asked: run.id,
            current: state.snapshot.id,
        })
    }
}

impl RunState {
    /// Cancels this state's pending automatic restart, if any: wakes its backoff thread, which
    /// then finds its latch no longer installed and does nothing.
    pub(crate) fn cancel_pending_restart(&self) {
        if let Some(latch) = &self.restart {
            ExitLatch::set(latch);
        }
    }
}

#[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
mod tests {
    use procman_core::{IfRunning, ManagerConfig, ProcessManager, SimLauncher};

    use super::*;
    use crate::AtomicManager;

    /// Two starts of a new name both miss the lookup; the one whose insert finds the name taken
    /// gives its place under `max_processes` back, so the limit counts names, not attempts.
    #[test]
    fn a_start_that_finds_its_new_name_taken_gives_its_place_back() {
        let config = ManagerConfig {
            max_processes: 2,
            ..ManagerConfig::default()
        };
        let m = AtomicManager::new(Arc::new(SimLauncher::new()), config);
        let spec = Arc::new(ProcessSpec::new("a", ["sim"]));
        let first = m.supervisor.register_name(&spec).unwrap();
        let Registered::New(_, run) = first else {
            panic!("the first insert is new")
        };
        // The loser of the race, as if it had looked the name up before the first inserted it.
        assert!(matches!(
            m.supervisor.register_name(&spec).unwrap(),
            Registered::Existing(_)
        ));
        // The winner launches its run; a second name still fits under the limit of 2.
        let entry = m.supervisor.registry.get("a").unwrap();
        m.supervisor.launch(&entry, &run).unwrap();
        m.start(ProcessSpec::new("b", ["sim"]), IfRunning::Error)
            .expect("the loser's reservation was given back");
    }
}
