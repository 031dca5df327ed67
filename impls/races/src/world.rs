//! [`World`]: one manager of the design under test over its own [`SimLauncher`], built inside a
//! model execution, and the checks every model makes on what it sees.
//!
//! The simulated launcher with zero delays delivers every event synchronously (the exit inside
//! `signal`, output and an immediate exit inside `attach`) and starts no thread, so a manager
//! built over it runs entirely on the model's threads, under the checker's control. Its own
//! bookkeeping uses `parking_lot` directly, never across a call into the manager, so it adds no
//! scheduling points and cannot block a model thread.

use std::fmt::Write as _;
use std::time::Duration;

use procman_core::sync::Arc;
use procman_core::{
    Launcher, ManagerConfig, ProcessError, ProcessManager, ProcessSnapshot, ProcessSpec,
    SimLauncher, Status, StatusKind,
};

use crate::finding::{Finding, fail};

/// Builds the manager of one design over a launcher: what each design's test file hands this
/// crate (a plain function, so that model bodies stay `Fn + Send + Sync + 'static`).
pub type MakeManager = fn(Arc<dyn Launcher>, ManagerConfig) -> Box<dyn ProcessManager>;

/// The deadline models give a shutdown. Under the checkers no timed wait ever times out, so it
/// bounds nothing; simulated children die at once of the stop signal.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(1);

/// A manager under test and the simulated launcher it spawns with.
pub struct World {
    /// The launcher: counts spawns and exits, and drives children by hand.
    pub launcher: SimLauncher,
    /// The manager, shared with the model's threads.
    pub manager: Arc<dyn ProcessManager>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("design", &self.manager.design())
            .field("launcher", &self.launcher)
            .finish()
    }
}

/// A spec the simulated launcher runs (its argv is never executed).
pub fn spec(name: &str) -> ProcessSpec {
    ProcessSpec::new(name, ["sim"])
}

impl World {
    /// A fresh manager of `make`'s design with the default config.
    pub fn new(make: MakeManager) -> World {
        Self::with_launcher(make, SimLauncher::new())
    }

    /// A fresh manager over `launcher` (already scripted).
    pub fn with_launcher(make: MakeManager, launcher: SimLauncher) -> World {
        let manager: Arc<dyn ProcessManager> =
            Arc::from(make(Arc::new(launcher.clone()), ManagerConfig::default()));
        World { launcher, manager }
    }

    /// Starts `name` on this thread and expects it to be running.
    pub fn start_running(&self, name: &str) -> ProcessSnapshot {
        let snapshot = match self
            .manager
            .start(spec(name), procman_core::IfRunning::Error)
        {
            Ok(snapshot) => checked(snapshot),
            Err(e) => fail(Finding::Contract, format!("start of {name:?} failed: {e}")),
        };
        if snapshot.status != Status::Running {
            fail(
                Finding::Contract,
                format!("an uncontended start returned {snapshot:?}, not running"),
            );
        }
        snapshot
    }

    /// Shuts the manager down and checks that nothing outlived it: every run terminal, no
    /// counter left active, every child spawned also exited, and a later start refused.
    pub fn finish(self) {
        let report = self.manager.shutdown(SHUTDOWN_DEADLINE);
        let after = self.manager.list();
        for snapshot in &after {
            checked(*snapshot);
            if !snapshot.status.is_terminal() {
                fail(
                    Finding::Leak,
                    format!("{snapshot:?} is still live after shutdown returned ({report:?})"),
                );
            }
        }
        assert_quiescent(&self.launcher, &*self.manager, "after shutdown");
        match self
            .manager
            .start(spec("after-shutdown"), procman_core::IfRunning::Error)
        {
            Err(ProcessError::ShuttingDown) => {}
            other => fail(
                Finding::Contract,
                format!("a start after shutdown returned {other:?}, not ShuttingDown"),
            ),
        }
        // Dropping the last handle joins whatever threads the design runs (the actor's owner).
        drop(self);
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // A failing execution is being torn down: never run the manager's own drop (a
            // shutdown, through checker primitives) inside the unwind, where a checker call
            // could panic again and abort the process, hiding the finding. Leak it instead.
            std::mem::forget(self.manager.clone());
        }
    }
}

/// Checks that no child is alive: every spawned child exited, none is registered live, and
/// the manager counts no active run.
pub fn assert_quiescent(launcher: &SimLauncher, manager: &dyn ProcessManager, when: &str) {
    let (spawned, exited, live) = (
        launcher.spawn_count(),
        launcher.exit_count(),
        launcher.live_count(),
    );
    if spawned != exited || live != 0 {
        fail(
            Finding::Leak,
            format!(
                "{when}: {spawned} children spawned, {exited} exited, {live} still registered live \
                 (a child nobody will ever stop)"
            ),
        );
    }
    let active = manager.stats().active;
    if active != 0 {
        fail(
            Finding::Leak,
            format!("{when}: the manager still counts {active} active runs"),
        );
    }
}

/// `snapshot`, after checking every invariant the contract promises of it.
#[track_caller]
pub fn checked(snapshot: ProcessSnapshot) -> ProcessSnapshot {
    if let Err(violation) = snapshot.check_invariants() {
        fail(Finding::Invariant, violation);
    }
    snapshot
}

/// How far along its life a status is: a run never moves to a lower rank.
pub fn rank(kind: StatusKind) -> u8 {
    match kind {
        StatusKind::Pending => 0,
        StatusKind::Starting => 1,
        StatusKind::Running => 2,
        StatusKind::Stopping => 3,
        StatusKind::Stopped | StatusKind::Exited | StatusKind::Killed | StatusKind::Failed => 4,
    }
}

/// What one reader has seen of one name, to check that it never goes backwards.
#[derive(Debug, Default)]
pub struct Monotone {
    /// The last snapshot seen.
    last: Option<ProcessSnapshot>,
    /// Everything seen, for the failure message.
    seen: Vec<String>,
}

impl Monotone {
    /// Records `snapshot` (checked), failing if it is older than what this reader saw before:
    /// a lower generation, a lower status of the same run, or a different end of an ended run.
    #[track_caller]
    pub fn see(&mut self, snapshot: ProcessSnapshot) -> ProcessSnapshot {
        let snapshot = checked(snapshot);
        self.seen.push(format!("{snapshot:?}"));
        if let Some(last) = &self.last {
            let backwards = if snapshot.id.generation != last.id.generation {
                snapshot.id.generation < last.id.generation
            } else if last.status.is_terminal() {
                snapshot.status != last.status || snapshot.exit != last.exit
            } else {
                rank(snapshot.status.kind()) < rank(last.status.kind())
            };
            if backwards {
                let mut history = String::new();
                for (i, s) in self.seen.iter().enumerate() {
                    let _ = write!(history, "\n  read {i}: {s}");
                }
                fail(
                    Finding::Invariant,
                    format!("a reader saw a run go backwards:{history}"),
                );
            }
        }
        self.last = Some(snapshot);
        snapshot
    }
}
