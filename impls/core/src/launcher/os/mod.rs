//! [`OsLauncher`]: real children, supervised to the end (Linux).
//!
//! # What a child gets
//!
//! argv as given (or `sh -c LINE` for an explicit shell line), the spec's working directory and
//! environment, stdin from `/dev/null`, stdout and stderr into pipes, and a process group of its
//! own that it leads (`setpgid(0, 0)`), so that a stop reaches everything it started.
//!
//! # How it is supervised
//!
//! Each child has one supervisor thread (`procman-os-<pid>`, 256 KiB of stack) that polls its two
//! pipes and a pidfd, splits output into lines for [`ChildEvents::on_output`], and reports the
//! end with [`ChildEvents::on_exit`] exactly once — after the leader exited, the rest of its
//! process group is gone, and both pipes were drained to EOF. The steps, and the policy for a
//! group that outlives its leader (stop signal, then SIGKILL after the spec's `stop_timeout`),
//! are in the docs of `os/supervisor.rs`. A signal never reaches a recycled group: the leader stays
//! unreaped until the end; the argument is in the docs of `os/group.rs`.
//!
//! The exit reported is the leader's: its exit code, or the signal that ended it. (If the host
//! program reaps the leader behind the launcher's back, the status is lost and reported as exit
//! code -1, and the group is no longer signalled.)
//!
//! **Why a thread per child rather than one epoll loop.** `on_output` runs the manager's code
//! (a log-ring push under its lock, a mailbox send); with one thread for all children, one slow
//! sink would stall every child's pipes, and the children would block on full pipes. A thread
//! per child confines back-pressure to the child whose sink is slow, keeps each supervisor a
//! straight-line state machine, and needs no shared registry. The cost is a mostly idle thread
//! per live child: 200 children are 200 threads, and took this process's VmRSS from 3 MiB to
//! 10 MiB (about 36 KiB each, stack pages and the 32 KiB read buffer included; debug build).
//! Thousands of children would call for a shared epoll loop handing lines to a pool.
//!
//! # Linux-specific
//!
//! `pidfd_open` (Linux 5.3; without it the exit is polled every 50 ms), `/proc` for the group
//! census, `PR_SET_CHILD_SUBREAPER` for [`OsLauncherConfig::adopt_orphans`]. Process groups,
//! `killpg` and `waitid(WNOWAIT)` are POSIX.
//!
//! The launcher's own bookkeeping uses `parking_lot` and std threads directly, not the sync
//! facade: it is not part of any design and cannot run under a model checker.

mod group;
mod output;
pub mod procfs;
mod spawn;
mod supervisor;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender};

use parking_lot::Mutex;

use self::group::Leader;
use self::supervisor::Supervisor;
use crate::id::ProcessId;
use crate::launcher::{Child, ChildEvents, LaunchError, Launcher};
use crate::logring::LogRingConfig;
use crate::signal::Signal;
use crate::spec::ProcessSpec;

/// Stack of each supervisor thread: it runs the manager's `on_output`/`on_exit`, which push to
/// a log ring or a mailbox, and needs little.
const SUPERVISOR_STACK: usize = 256 << 10;

/// Settings of an [`OsLauncher`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OsLauncherConfig {
    /// Output lines longer than this many bytes are split into pieces of at most this size
    /// (each marked partial), so a child that writes without newlines never makes the launcher
    /// buffer more. Defaults to [`LogRingConfig::default`]'s `max_line_bytes`, so the ring keeps
    /// every piece whole.
    pub max_line_bytes: usize,
    /// Makes this whole process a child subreaper (`PR_SET_CHILD_SUBREAPER`), so that a run's
    /// orphaned grandchildren are re-parented here instead of to init, and the launcher reaps
    /// them when they die. Off by default, because it changes the host process: orphans of any
    /// other child it spawns come here too, and stay zombies unless their owner reaps them. Turn
    /// it on in a supervisor binary, or where init does not reap (some containers), so that a
    /// stopped run leaves not even a zombie behind.
    pub adopt_orphans: bool,
}

impl Default for OsLauncherConfig {
    fn default() -> Self {
        OsLauncherConfig {
            max_line_bytes: LogRingConfig::default().max_line_bytes,
            adopt_orphans: false,
        }
    }
}

/// The launcher of real processes. Cheap to clone; clones share the count of live children.
#[derive(Clone, Debug)]
pub struct OsLauncher {
    config: OsLauncherConfig,
    /// Children whose supervisor thread has not finished.
    live: Arc<AtomicUsize>,
}

impl Default for OsLauncher {
    fn default() -> Self {
        Self::new()
    }
}

impl OsLauncher {
    /// A launcher with the default settings (which leave the host process unchanged).
    pub fn new() -> Self {
        OsLauncher {
            config: OsLauncherConfig::default(),
            live: Arc::default(),
        }
    }

    /// A launcher with `config`; fails only if `adopt_orphans` is asked for and the kernel
    /// refuses it.
    pub fn with_config(config: OsLauncherConfig) -> io::Result<Self> {
        if config.adopt_orphans {
            group::become_subreaper()?;
        }
        Ok(OsLauncher {
            config,
            live: Arc::default(),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &OsLauncherConfig {
        &self.config
    }

    /// Children spawned whose supervision has not finished: each counts until its `on_exit`
    /// has returned and its supervisor thread is about to end.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }
}

/// Decrements the live count when a supervisor thread ends, however it ends.
struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Launcher for OsLauncher {
    fn spawn(&self, id: &ProcessId, spec: &ProcessSpec) -> Result<Box<dyn Child>, LaunchError> {
        let spawned = spawn::spawn(spec)?;
        let pid = spawned.pid;
        let leader = Arc::new(Leader::new(pid));
        let supervisor = Supervisor::new(
            leader.clone(),
            leader.open_pidfd(),
            spawned.stdout,
            spawned.stderr,
            (spec.stop_signal, spec.stop_timeout),
            self.config.max_line_bytes,
        );
        let (attach, attached) = mpsc::sync_channel(1);
        self.live.fetch_add(1, Ordering::AcqRel);
        let live = LiveGuard(self.live.clone());
        let started = std::thread::Builder::new()
            .name(format!("procman-os-{pid}"))
            .stack_size(SUPERVISOR_STACK)
            .spawn(move || {
                let _live = live;
                supervisor.run(attached);
            });
        if let Err(e) = started {
            // The closure was dropped with the supervisor in it, which killed and reaped the
            // child; the guard in it gave back the live count.
            return Err(LaunchError(format!(
                "cannot start a thread to supervise {id} (pid {pid}): {e}; the child was killed; \
                 raise the thread limit (ulimit -u) or run fewer processes"
            )));
        }
        Ok(Box::new(OsChild {
            id: *id,
            leader,
            attach: Mutex::new(Some(attach)),
        }))
    }
}

/// A real child. Dropping it without [`Child::attach`] kills its group and reaps it.
struct OsChild {
    id: ProcessId,
    leader: Arc<Leader>,
    /// Hands the sink to the supervisor thread, once.
    attach: Mutex<Option<SyncSender<Arc<dyn ChildEvents>>>>,
}

impl std::fmt::Debug for OsChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsChild")
            .field("id", &self.id)
            .field("pid", &self.leader.pid())
            .finish_non_exhaustive()
    }
}

impl Child for OsChild {
    fn pid(&self) -> u32 {
        self.leader.pid().unsigned_abs()
    }

    fn attach(&self, events: Arc<dyn ChildEvents>) {
        let Some(attach) = self.attach.lock().take() else {
            tracing::warn!(
                id = %self.id,
                "a child was attached twice; the second sink gets nothing"
            );
            return;
        };
        // The supervisor thread waits on the other end until this send or the sender's drop,
        // and the channel has room for the one message: this neither blocks nor fails.
        let _ = attach.send(events);
    }

    fn signal(&self, signal: Signal) -> io::Result<()> {
        self.leader.signal_group(signal)
    }
}
