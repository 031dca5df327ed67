//! How a child comes to life: the [`Launcher`] trait and its two implementations.
//!
//! A launch is two steps so that no event can reach a manager before it has recorded the child:
//! [`Launcher::spawn`] creates the child (fork/exec, or the simulated equivalent) and returns a
//! [`Child`]; the manager records the pid, then calls [`Child::attach`] with its [`ChildEvents`]
//! sink, and only then does output start flowing and can the exit be reported.
//!
//! A launcher reports each line of output with [`ChildEvents::on_output`] and the end of the
//! child, exactly once, with [`ChildEvents::on_exit`] — after all output has been drained to EOF
//! and, for real children, after the whole process group is gone.

use std::fmt;
use std::sync::Arc;

use crate::id::ProcessId;
use crate::logring::OutputLine;
use crate::signal::Signal;
use crate::snapshot::ExitInfo;
use crate::spec::ProcessSpec;

pub mod os;
pub mod sim;
mod timer;

pub use os::{OsLauncher, OsLauncherConfig};
pub use sim::{SimChildControl, SimLauncher, SimScript};

/// Where a child's events go. Implemented by each manager design.
pub trait ChildEvents: Send + Sync {
    /// One line of output. Called from a launcher thread; must not block for long.
    fn on_output(&self, line: OutputLine);
    /// The child is gone (and its output drained). Called exactly once.
    fn on_exit(&self, exit: ExitInfo);
}

/// A spawned child.
pub trait Child: Send + Sync + fmt::Debug {
    /// The pid of the child, the leader of its own process group.
    fn pid(&self) -> u32;
    /// Starts delivering events to `events`. Called once, after the manager recorded the child.
    fn attach(&self, events: Arc<dyn ChildEvents>);
    /// Sends `signal` to the child's whole process group. A child that is already gone is not an
    /// error; a recycled pid or group is never signalled.
    fn signal(&self, signal: Signal) -> std::io::Result<()>;
}

/// A spawn that did not happen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LaunchError(pub String);

/// Creates children.
pub trait Launcher: Send + Sync + fmt::Debug {
    /// Spawns the child for run `id`. The error names the path and the OS error.
    fn spawn(&self, id: &ProcessId, spec: &ProcessSpec) -> Result<Box<dyn Child>, LaunchError>;
}
