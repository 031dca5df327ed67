//! procman-core: the contract that the three process-manager designs (mutex, actor, atomic)
//! implement, and everything they share.
//!
//! - [`ProcessSpec`], [`ProcessId`], the status machine ([`Status`], table in [`status`]),
//!   [`ProcessSnapshot`] with [`ProcessSnapshot::check_invariants`];
//! - the [`ProcessManager`] trait and [`ProcessError`];
//! - [`LogRing`], the bounded per-run log;
//! - [`Launcher`]: [`SimLauncher`] (scripted, in memory) and the OS launcher;
//! - [`sync`], the facade through which the designs get every primitive, so that loom and
//!   shuttle can check the shipped code.

// Seeded bugs exist only for the race checkers (see procman-races' catalogue).
#[cfg(all(
    not(any(feature = "loom", feature = "shuttle")),
    any(
        feature = "seeded-bug-intern-check-then-insert",
        feature = "seeded-bug-shutdown-flag-race",
        feature = "seeded-bug-gate-leave-relaxed",
        feature = "seeded-bug-gate-opens-on-any-drain",
        feature = "seeded-bug-seqview-no-recheck"
    )
))]
compile_error!(
    "procman-core: a `seeded-bug-*` feature is on without a model checker. Seeded bugs are for \
     the race checks only: add `--features loom` or `--features shuttle` (scripts/check-races.sh \
     does), and never ship a build with one"
);

pub mod error;
pub mod gate;
pub mod id;
pub mod launcher;
pub mod logring;
pub mod manager;
pub mod name;
pub mod seqview;
pub mod signal;
pub mod snapshot;
pub mod spec;
pub mod status;
pub mod supervise;
pub mod sync;

pub use error::{ProcessError, Result};
pub use id::{ProcessId, Target};
pub use launcher::{
    Child, ChildEvents, LaunchError, Launcher, OsLauncher, OsLauncherConfig, SimLauncher, SimScript,
};
pub use logring::{
    LogChunk, LogLine, LogMatch, LogMatcher, LogQuery, LogRing, LogRingConfig, OutputLine, Stream,
};
pub use manager::{
    IfRunning, ManagerConfig, ManagerStats, ProcessManager, ShutdownOutcome, ShutdownReport,
    StopOptions,
};
pub use name::Name;
pub use signal::Signal;
pub use snapshot::{ExitInfo, InvariantViolation, LogCounters, ProcessSnapshot};
pub use spec::{Command, EnvSpec, ProcessSpec, RestartMode, RestartPolicy};
pub use status::{InvalidTransition, Status, StatusKind};
