//! [`Supervisor`]: the process manager and the catalog it runs scripts from, shared by every
//! front end (the MCP server, `procman up`) and by every client of the MCP server.

use std::sync::Arc;
use std::time::Duration;

use procman_core::{OsLauncher, ProcessManager, ShutdownOutcome, ShutdownReport};

use crate::catalog::Catalog;
use crate::events::Events;
use crate::history::History;

/// The time procman allows itself to stop every child when it is told to exit (stdin EOF,
/// SIGTERM, SIGINT): MCP clients escalate to SIGKILL after about 2 s.
pub const EXIT_BUDGET: Duration = Duration::from_secs(2);

/// The stop timeout each child gets during that exit: the rest of the budget is for SIGKILL,
/// reaping and draining output.
pub const EXIT_STOP_TIMEOUT: Duration = Duration::from_millis(1000);

/// How long procman waits for the children to be gone before exiting anyway; the remainder of
/// [`EXIT_BUDGET`] covers tearing down the runtime and the process.
pub const EXIT_WAIT: Duration = Duration::from_millis(1800);

/// The manager plus the scripts it may run.
pub struct Supervisor {
    manager: Arc<dyn ProcessManager>,
    catalog: Catalog,
    /// The launcher of real children, swept for adopted orphans at shutdown.
    launcher: Option<Arc<OsLauncher>>,
    /// Why the configuration could not be loaded, when it could not (the catalog is empty).
    config_error: Option<String>,
    /// The last runs of each script (empty unless the manager's launcher feeds it).
    history: Arc<History>,
    /// Runs ending, failing to spawn or getting ready (silent unless the manager's launcher
    /// feeds it).
    events: Arc<Events>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("design", &self.manager.design())
            .field("scripts", &self.catalog.len())
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// Wraps a manager and a catalog.
    pub fn new(manager: Arc<dyn ProcessManager>, catalog: Catalog) -> Self {
        Supervisor {
            manager,
            catalog,
            launcher: None,
            config_error: None,
            history: Arc::default(),
            events: Arc::default(),
        }
    }

    /// Uses `events`, which the manager's launcher feeds
    /// ([`crate::history::HistoryLauncher::with_events`]).
    pub fn with_events(mut self, events: Arc<Events>) -> Self {
        self.events = events;
        self
    }

    /// Runs ending, failing to spawn or getting ready, for MCP subscribers.
    pub fn events(&self) -> &Arc<Events> {
        &self.events
    }

    /// Uses `history`, which the manager's launcher feeds ([`crate::history::HistoryLauncher`]).
    pub fn with_history(mut self, history: Arc<History>) -> Self {
        self.history = history;
        self
    }

    /// The last runs of each script.
    pub fn history(&self) -> &Arc<History> {
        &self.history
    }

    /// Records that the configuration could not be loaded: every tool reports `error`.
    pub fn with_config_error(mut self, error: Option<String>) -> Self {
        self.config_error = error;
        self
    }

    /// Why the configuration could not be loaded, if it could not.
    pub fn config_error(&self) -> Option<&str> {
        self.config_error.as_deref()
    }

    /// Sweeps `launcher` at shutdown: once every run has ended, any child of procman that is
    /// left (an orphan adopted as a subreaper that no run's mechanism could claim) is killed.
    pub fn with_os_launcher(mut self, launcher: Arc<OsLauncher>) -> Self {
        self.launcher = Some(launcher);
        self
    }

    /// The process manager.
    pub fn manager(&self) -> &Arc<dyn ProcessManager> {
        &self.manager
    }

    /// The scripts.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Stops every child (stop signal, SIGKILL after `stop_timeout`) on a worker thread and
    /// waits at most `budget` for that to finish. `None` when the budget ran out first; the
    /// worker carries on, and the caller may exit anyway (every child has had SIGKILL by then
    /// unless the manager itself is stuck).
    pub async fn shutdown(
        self: &Arc<Self>,
        stop_timeout: Duration,
        budget: Duration,
    ) -> Option<ShutdownReport> {
        let this = Arc::clone(self);
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("procman-shutdown".into())
            .spawn(move || {
                let report = this.manager.shutdown(stop_timeout);
                if let Some(launcher) = &this.launcher {
                    match launcher.kill_adopted() {
                        Ok(0) => {}
                        Ok(n) => tracing::warn!(
                            orphans = n,
                            "killed adopted processes that outlived every run"
                        ),
                        Err(e) => tracing::warn!(error = %e, "cannot sweep adopted processes"),
                    }
                }
                let _ = tx.send(report);
            })
            .ok()?;
        match tokio::time::timeout(budget, rx).await {
            Ok(Ok(report)) => {
                log_report(&report);
                Some(report)
            }
            Ok(Err(_)) => {
                tracing::error!("the shutdown worker panicked; children may be left running");
                None
            }
            Err(_) => {
                tracing::error!(
                    budget_ms = budget.as_millis() as u64,
                    "stopping the children took longer than the exit budget; exiting anyway"
                );
                None
            }
        }
    }
}

fn log_report(report: &ShutdownReport) {
    if report.processes.is_empty() {
        return;
    }
    tracing::info!(
        graceful = report.count(ShutdownOutcome::Graceful),
        killed = report.count(ShutdownOutcome::Killed),
        already_ended = report.count(ShutdownOutcome::AlreadyEnded),
        "stopped every child"
    );
}
