//! [`OsLauncher`]: real children, supervised to the end (Linux).
//!
//! # What a child gets
//!
//! argv as given (or `sh -c LINE` for an explicit shell line), the spec's working directory and
//! environment plus `PROCMAN_RUN=<token unique to the run>` ([`RUN_MARKER`]), stdin from
//! `/dev/null`, stdout and stderr into pipes, a process group of its own that it leads
//! (`setpgid(0, 0)`), and, with [`OsLauncherConfig::cgroups`] where a cgroup can be created, a
//! cgroup v2 of its own that it joins before exec.
//!
//! # Every descendant belongs to the run
//!
//! A run is everything its child starts, including what leaves the process group (`setsid`,
//! double-fork daemons, `nohup … &`): a stop signals all of it, SIGKILL follows at the deadline,
//! and the run is over only when none of it is alive. How the members are found is the
//! launcher's [`Mechanism`] (a cgroup per run, or a walk of `/proc`), chosen once when the
//! launcher is built; the guarantees of each are in the docs of `os/contain.rs`.
//!
//! # How it is supervised
//!
//! Each child has one watcher thread (`procman-os-<pid>`, 256 KiB of stack) that polls its two
//! pipes and a pidfd, splits output into lines for [`ChildEvents::on_output`], and reports the
//! end with [`ChildEvents::on_exit`] exactly once — after the leader exited, the rest of its
//! run is gone, and both pipes were drained to EOF. The steps, and the policy for a run that
//! outlives its leader (stop signal, then SIGKILL after the spec's `stop_timeout`),
//! are in the docs of `os/watcher.rs`. A signal never reaches a recycled group: the leader stays
//! unreaped until the end; the argument is in the docs of `os/group.rs`.
//!
//! The exit reported is the leader's: its exit code, or the signal that ended it. (If the host
//! program reaps the leader behind the launcher's back, the status is lost and reported as exit
//! code -1, and the group is no longer signalled.)
//!
//! **Why a thread per child rather than one epoll loop.** `on_output` runs the manager's code
//! (a log-ring push under its lock, a mailbox send); with one thread for all children, one slow
//! sink would stall every child's pipes, and the children would block on full pipes. A thread
//! per child confines back-pressure to the child whose sink is slow, keeps each watcher a
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

mod contain;
mod group;
mod output;
pub mod procfs;
mod spawn;
mod watcher;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender};

use parking_lot::Mutex;

use self::contain::{CgroupRoot, LEADERS, Scope};
pub use self::contain::{Mechanism, RUN_MARKER};
use self::group::Leader;
use self::watcher::ChildWatcher;
use crate::id::ProcessId;
use crate::launcher::{Child, ChildEvents, LaunchError, Launcher};
use crate::logring::LogRingConfig;
use crate::signal::Signal;
use crate::spec::ProcessSpec;

/// Stack of each watcher thread: it runs the manager's `on_output`/`on_exit`, which push to
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
    /// Puts each run in a cgroup v2 of its own where this process may create one (see
    /// [`Mechanism`]); otherwise, or when off, a run's members are found by walking `/proc`.
    /// Off by default, because it creates directories under this process's cgroup.
    pub cgroups: bool,
}

impl Default for OsLauncherConfig {
    fn default() -> Self {
        OsLauncherConfig {
            max_line_bytes: LogRingConfig::default().max_line_bytes,
            adopt_orphans: false,
            cgroups: false,
        }
    }
}

/// The launcher of real processes. Cheap to clone; clones share the count of live children.
#[derive(Clone, Debug)]
pub struct OsLauncher {
    config: OsLauncherConfig,
    /// Children whose watcher thread has not finished.
    live: Arc<AtomicUsize>,
    /// The launcher's cgroup, when runs get cgroups.
    cgroup: Option<Arc<CgroupRoot>>,
    /// Set when a child could not join its cgroup: from then on runs are found by walking
    /// `/proc` (shared by clones).
    cgroups_failed: Arc<AtomicBool>,
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
            cgroup: None,
            cgroups_failed: Arc::default(),
        }
    }

    /// A launcher with `config`; fails only if `adopt_orphans` is asked for and the kernel
    /// refuses it. Where `cgroups` is asked for but no cgroup can be created, the launcher
    /// falls back to the process tree (see [`OsLauncher::mechanism`]) and logs why at debug.
    pub fn with_config(config: OsLauncherConfig) -> io::Result<Self> {
        if config.adopt_orphans {
            group::become_subreaper()?;
        }
        let cgroup = if config.cgroups {
            match CgroupRoot::create() {
                Ok(root) => Some(root),
                Err(error) => {
                    tracing::debug!(%error, "no cgroup for the runs; walking the process tree");
                    None
                }
            }
        } else {
            None
        };
        Ok(OsLauncher {
            config,
            live: Arc::default(),
            cgroup,
            cgroups_failed: Arc::default(),
        })
    }

    /// How this launcher keeps track of everything a run starts.
    pub fn mechanism(&self) -> Mechanism {
        match self.live_cgroup() {
            Some(root) => Mechanism::Cgroup {
                dir: root.dir().to_owned(),
            },
            None => Mechanism::ProcessTree {
                subreaper: self.config.adopt_orphans,
            },
        }
    }

    /// The launcher's cgroup, unless runs cannot join cgroups here.
    fn live_cgroup(&self) -> Option<&Arc<CgroupRoot>> {
        self.cgroup
            .as_ref()
            .filter(|_| !self.cgroups_failed.load(Ordering::Acquire))
    }

    /// Gives up on cgroups for this launcher (and its clones), saying why once.
    fn give_up_cgroups(&self, why: &str) {
        if !self.cgroups_failed.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                error = why,
                "cannot put runs in cgroups; walking /proc for their descendants from now on"
            );
        }
    }

    /// Kills and reaps every child of this process that is not a run's leader (orphans of
    /// ended runs adopted as a child subreaper), with everything they started; returns how many
    /// were alive. For a supervisor binary at exit, after every run has ended: each run's own
    /// members are already gone by then, so this catches only what escaped every mechanism
    /// (an orphan that cleared its environment before a `/proc` walk saw it).
    pub fn kill_adopted(&self) -> io::Result<usize> {
        let leaders = LEADERS.lock().clone();
        contain::kill_adopted(&leaders)
    }

    /// The settings in use.
    pub fn config(&self) -> &OsLauncherConfig {
        &self.config
    }

    /// Children spawned whose supervision has not finished: each counts until its `on_exit`
    /// has returned and its watcher thread is about to end.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }
}

/// Decrements the live count when a watcher thread ends, however it ends.
struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Launcher for OsLauncher {
    fn spawn(&self, id: &ProcessId, spec: &ProcessSpec) -> Result<Box<dyn Child>, LaunchError> {
        let mut cgroup = match self.live_cgroup().map(|root| root.run()) {
            Some(Ok(cgroup)) => Some(cgroup),
            Some(Err(e)) => {
                self.give_up_cgroups(&e.to_string());
                None
            }
            None => None,
        };
        let marker = contain::new_marker();
        let spawned = match spawn::spawn(spec, &marker, cgroup.as_ref().map(|c| c.join_fd())) {
            Ok(spawned) => spawned,
            Err(first) if cgroup.is_some() => {
                // The child may have failed to join its cgroup (a delegation rule the check at
                // start cannot see): try once without one. If that fails too, the program
                // itself cannot run, and that error is the one to report.
                let spawned = spawn::spawn(spec, &marker, None)?;
                self.give_up_cgroups(&first.0);
                cgroup = None;
                spawned
            }
            Err(e) => return Err(e),
        };
        let pid = spawned.pid;
        LEADERS.lock().insert(pid);
        let leader = Arc::new(Leader::new(pid));
        let scope = Arc::new(Scope::new(pid, cgroup, marker, self.config.adopt_orphans));
        let watcher = ChildWatcher::new(
            leader.clone(),
            scope.clone(),
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
                watcher.run(attached);
                // The watcher reaped the leader: the pid is no longer a run's.
                LEADERS.lock().remove(&pid);
            });
        if let Err(e) = started {
            LEADERS.lock().remove(&pid);
            // The closure was dropped with the watcher in it, which killed and reaped the
            // child; the guard in it gave back the live count.
            return Err(LaunchError(format!(
                "cannot start a thread to supervise {id} (pid {pid}): {e}; the child was killed; \
                 raise the thread limit (ulimit -u) or run fewer processes"
            )));
        }
        Ok(Box::new(OsChild {
            id: *id,
            leader,
            scope,
            attach: Mutex::new(Some(attach)),
        }))
    }
}

/// A real child. Dropping it without [`Child::attach`] kills its group and reaps it.
struct OsChild {
    id: ProcessId,
    leader: Arc<Leader>,
    /// The rest of the run, wherever it went.
    scope: Arc<Scope>,
    /// Hands the sink to the watcher thread, once.
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
        // The watcher thread waits on the other end until this send or the sender's drop,
        // and the channel has room for the one message: this neither blocks nor fails.
        let _ = attach.send(events);
    }

    fn signal(&self, signal: Signal) -> io::Result<()> {
        // The group first (the leader among it), then every member outside it.
        let group = self.leader.signal_group(signal);
        if let Err(e) = self.scope.signal(signal) {
            tracing::warn!(id = %self.id, %signal, error = %e, "cannot signal every member of the run");
        }
        group
    }
}
