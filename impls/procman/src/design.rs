//! `--impl`: which process-manager design runs behind the same CLI and MCP layer.

use std::sync::Arc;

use procman_core::{Launcher, ManagerConfig, OsLauncher, OsLauncherConfig, ProcessManager};

/// A process-manager design. All three implement the same contract and pass the same
/// conformance suite; atomic is the one procman ships with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Design {
    /// parking_lot locks: a registry lock plus a lock per process.
    Mutex,
    /// One owner thread holds all state; callers send requests and wait for replies.
    Actor,
    /// Lock-free reads: arc-swap state cells, a concurrent registry, atomic counters.
    #[default]
    Atomic,
}

impl Design {
    /// The design's short name, as `ProcessManager::design` reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Design::Mutex => "mutex",
            Design::Actor => "actor",
            Design::Atomic => "atomic",
        }
    }

    /// A manager of this design over `launcher`.
    pub fn build(
        self,
        launcher: Arc<dyn Launcher>,
        config: ManagerConfig,
    ) -> Arc<dyn ProcessManager> {
        match self {
            Design::Mutex => Arc::new(procman_mutex::MutexManager::new(launcher, config)),
            Design::Actor => Arc::new(procman_actor::ActorManager::new(launcher, config)),
            Design::Atomic => Arc::new(procman_atomic::AtomicManager::new(launcher, config)),
        }
    }
}

/// The launcher of real children for procman: lines cut at the log ring's line bound, procman
/// made a child subreaper (orphaned grandchildren of a run come here, not to init), and each
/// run in a cgroup of its own where procman may create one. The mechanism that holds a run's
/// descendants is logged once, here.
pub fn os_launcher(config: &ManagerConfig) -> Arc<OsLauncher> {
    let wanted = OsLauncherConfig {
        max_line_bytes: config.log_ring.max_line_bytes,
        adopt_orphans: true,
        cgroups: true,
    };
    let launcher = match OsLauncher::with_config(wanted) {
        Ok(launcher) => launcher,
        Err(e) => {
            tracing::warn!(error = %e, "cannot become a child subreaper; orphaned grandchildren go to init");
            OsLauncher::with_config(OsLauncherConfig {
                adopt_orphans: false,
                ..wanted
            })
            .unwrap_or_default()
        }
    };
    tracing::info!(mechanism = %launcher.mechanism(), "how a run's descendants are held");
    Arc::new(launcher)
}
