//! Containment: how every process a run starts is found, signalled and waited for, wherever
//! it went (`setsid`, a double fork, `nohup … &`).
//!
//! A process group alone does not hold a run: a daemonising helper calls `setsid` and leaves
//! it, and the group census never sees it again. Two mechanisms close that gap; the launcher
//! picks one when it is built ([`Mechanism`]) and every run uses it:
//!
//! - **cgroup v2** (preferred). Each run gets a cgroup of its own, under one cgroup per launcher
//!   created inside this process's own cgroup; the child moves itself into it between fork and
//!   exec, so everything it ever starts is born inside. No process can leave a cgroup without
//!   write access to another cgroup's `cgroup.procs`, so "the cgroup is empty" is exactly "the
//!   run is over". A stop signals every pid of `cgroup.procs`; SIGKILL is `cgroup.kill`, which
//!   the kernel applies to every member atomically (a fork cannot race it).
//! - **process tree** (fallback, where no cgroup can be created: cgroup v1 only, no write
//!   access, no delegation). Members are found by walking `/proc`: the leader's process group,
//!   the descendants by parent pid, the sessions and groups a member leads, and orphans
//!   re-parented to this process (a child subreaper) or to init whose environment carries the
//!   run's marker ([`RUN_MARKER`], set for every child). A process that clears its
//!   environment *and* is orphaned before a walk sees it escapes this mechanism; nothing
//!   escapes the cgroup one.
//!
//! In both, a signal reaches a process only through a pidfd opened *before* the process is
//! checked to be a member, so a recycled pid is never signalled.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use super::procfs::{self, ProcStat};
use crate::signal::Signal;

/// Pids of the leaders not yet reaped, of every launcher in this process: the children of this
/// process that are runs, as opposed to orphans adopted as a subreaper (a process-wide role).
pub(super) static LEADERS: Mutex<std::collections::BTreeSet<i32>> =
    Mutex::new(std::collections::BTreeSet::new());

/// The environment variable that marks a run's processes for the process-tree mechanism: its
/// value is unique to one run of one launcher in one procman process.
pub const RUN_MARKER: &str = "PROCMAN_RUN";

/// How a launcher keeps track of everything a run starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// One cgroup v2 per run, under this directory (one per launcher).
    Cgroup {
        /// The launcher's cgroup directory, e.g. `/sys/fs/cgroup/procman-1234-0`.
        dir: PathBuf,
    },
    /// A walk of `/proc` (process group, descendants, sessions, marked orphans).
    ProcessTree {
        /// Whether this process is a child subreaper (orphans come here, not to init).
        subreaper: bool,
    },
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mechanism::Cgroup { dir } => write!(
                f,
                "cgroup v2: one cgroup per run under {} (stop signals every member, \
                 cgroup.kill at the deadline, a run ends when its cgroup is empty)",
                dir.display()
            ),
            Mechanism::ProcessTree { subreaper: true } => f.write_str(
                "process tree: child subreaper plus a /proc walk (group, descendants, \
                 sessions, orphans marked PROCMAN_RUN) before each signal",
            ),
            Mechanism::ProcessTree { subreaper: false } => f.write_str(
                "process tree: a /proc walk (group, descendants, sessions, orphans marked \
                 PROCMAN_RUN) before each signal; not a subreaper, so orphans go to init",
            ),
        }
    }
}

/// The launcher's cgroup: created at start, removed when the last run using it is gone.
#[derive(Debug)]
pub(super) struct CgroupRoot {
    dir: PathBuf,
    /// `dir` as `/proc/<pid>/cgroup` shows it (relative to the cgroup2 mount).
    rel: String,
    next: AtomicU64,
}

/// Launchers created by this process, so that two get two cgroups.
static ROOTS: AtomicU64 = AtomicU64::new(0);

impl CgroupRoot {
    /// Creates this launcher's cgroup inside this process's own cgroup v2, and checks that a
    /// run's cgroup can be created and removed under it.
    pub(super) fn create() -> io::Result<Arc<CgroupRoot>> {
        let (mount, own) = own_cgroup()?;
        let name = format!(
            "procman-{}-{}",
            std::process::id(),
            ROOTS.fetch_add(1, Ordering::Relaxed)
        );
        let rel = format!("{}/{name}", own.trim_end_matches('/'));
        let dir = mount.join(rel.trim_start_matches('/'));
        fs::create_dir(&dir).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display()))
        })?;
        let root = Arc::new(CgroupRoot {
            dir,
            rel,
            next: AtomicU64::new(0),
        });
        if !root.dir.join("cgroup.kill").exists() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this kernel has no cgroup.kill (Linux 5.14+)",
            ));
        }
        // Creating (and removing) a run's cgroup checks the file system and the permissions
        // without a fork; a child that still cannot join one (delegation rules) is caught at its
        // spawn, and the launcher then walks the process tree instead.
        drop(root.run()?);
        Ok(root)
    }

    /// The directory.
    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new, empty cgroup for one run.
    pub(super) fn run(self: &Arc<Self>) -> io::Result<RunCgroup> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.join(format!("run-{n}"));
        fs::create_dir(&dir).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display()))
        })?;
        let procs = fs::OpenOptions::new()
            .write(true)
            .open(dir.join("cgroup.procs"))
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open {}/cgroup.procs: {e}", dir.display()),
                )
            })?;
        Ok(RunCgroup {
            rel: format!("{}/run-{n}", self.rel),
            dir,
            procs: Some(OwnedFd::from(procs)),
            _root: Arc::clone(self),
        })
    }
}

impl Drop for CgroupRoot {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_dir(&self.dir) {
            tracing::debug!(dir = %self.dir.display(), error = %e, "cannot remove the launcher's cgroup");
        }
    }
}

/// In the child, between fork and exec: moves the calling process into the cgroup whose
/// `cgroup.procs` is open as `fd` (writing "0" means "me").
pub(super) fn join_cgroup(fd: i32) -> io::Result<()> {
    // SAFETY: write(2) on a descriptor we own, from a static buffer; async-signal-safe.
    let n = unsafe { libc::write(fd, b"0".as_ptr().cast(), 1) };
    if n == 1 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Where the cgroup2 hierarchy is mounted, and this process's cgroup in it.
fn own_cgroup() -> io::Result<(PathBuf, String)> {
    let cgroup = fs::read_to_string("/proc/self/cgroup")?;
    let own = cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "this process has no cgroup v2"))?
        .trim()
        .to_owned();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")?;
    for line in mountinfo.lines() {
        // id parent major:minor root mountpoint options ... - fstype source superoptions
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        if right.split_whitespace().next() != Some("cgroup2") {
            continue;
        }
        let fields: Vec<&str> = left.split_whitespace().collect();
        let (Some(root), Some(mount)) = (fields.get(3), fields.get(4)) else {
            continue;
        };
        // A mount of a subtree (inside a container) shows paths relative to its root.
        let rel = if *root == "/" {
            own.clone()
        } else if let Some(rest) = own.strip_prefix(root) {
            rest.to_owned()
        } else {
            continue;
        };
        let rel = if rel.is_empty() { "/".to_owned() } else { rel };
        return Ok((PathBuf::from(unescape_mount(mount)), rel));
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no cgroup2 file system is mounted",
    ))
}

/// mountinfo escapes spaces and a few other bytes as `\ooo`.
fn unescape_mount(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// One run's cgroup. Removed when dropped (it is empty by then).
#[derive(Debug)]
pub(super) struct RunCgroup {
    dir: PathBuf,
    /// As `/proc/<pid>/cgroup` shows it.
    rel: String,
    /// `cgroup.procs`, open for writing, for the child to join; closed once it has.
    procs: Option<OwnedFd>,
    _root: Arc<CgroupRoot>,
}

impl RunCgroup {
    /// The descriptor the child writes to, or -1 once closed.
    pub(super) fn join_fd(&self) -> i32 {
        self.procs.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }

    fn pids(&self) -> io::Result<Vec<i32>> {
        let path = self.dir.join("cgroup.procs");
        let text = fs::read_to_string(&path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })?;
        Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
    }

    fn holds(&self, pid: i32) -> bool {
        fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("0::"))
                .is_some_and(|p| p.trim() == self.rel)
        })
    }

    fn kill_all(&self) -> io::Result<()> {
        let path = self.dir.join("cgroup.kill");
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"1"))
            .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_dir(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot remove a run's cgroup");
        }
    }
}

/// A generator of run markers unique within this process.
static MARKERS: AtomicU64 = AtomicU64::new(0);

/// A fresh marker value for one run.
pub(super) fn new_marker() -> String {
    format!(
        "{}.{}",
        std::process::id(),
        MARKERS.fetch_add(1, Ordering::Relaxed)
    )
}

/// What a run has been told so far: when the stop began, and whether SIGKILL was asked for.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct StopState {
    /// When the first stop signal was sent (by a stop or by the end of the leader).
    pub(super) signalled_at: Option<Instant>,
    /// SIGKILL was sent to everything.
    pub(super) killed: bool,
}

/// Everything of one run beyond its leader: how its members are found and signalled.
#[derive(Debug)]
pub(super) struct Scope {
    kind: ScopeKind,
    /// The leader's pid (its group id).
    leader: i32,
    /// This process.
    me: i32,
    /// Members seen alive so far, so that the zombies among them (and the zombie parents and
    /// session leaders they name) can be reaped once adopted.
    seen: Mutex<HashMap<i32, ProcStat>>,
    stop: Mutex<StopState>,
    /// This process is a child subreaper, so orphans of the run may be its zombies to reap.
    adopts: bool,
}

#[derive(Debug)]
enum ScopeKind {
    Cgroup(RunCgroup),
    Tree {
        marker: String,
        /// This process is a child subreaper: orphans come here, never to init, so init's
        /// children need not be looked at (on a host, hundreds of daemons).
        subreaper: bool,
    },
}

/// One census of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Census {
    /// Live members other than the leader.
    pub(super) live: usize,
    /// True if the count cannot have missed a process created while it was taken.
    pub(super) exact: bool,
}

impl Scope {
    /// A scope for the run led by `leader`, in `cgroup` or (without one) found by `marker`;
    /// `subreaper` says whether this process adopts orphans.
    pub(super) fn new(
        leader: i32,
        cgroup: Option<RunCgroup>,
        marker: String,
        subreaper: bool,
    ) -> Self {
        let kind = match cgroup {
            Some(mut cg) => {
                // The child has joined (or the spawn failed); nobody else may write here.
                cg.procs = None;
                ScopeKind::Cgroup(cg)
            }
            None => ScopeKind::Tree { marker, subreaper },
        };
        Scope {
            kind,
            leader,
            me: std::process::id() as i32,
            seen: Mutex::new(HashMap::new()),
            stop: Mutex::new(StopState::default()),
            adopts: subreaper,
        }
    }

    /// The stop so far.
    pub(super) fn stop_state(&self) -> StopState {
        *self.stop.lock()
    }

    /// Records a signal the manager (or the end of the leader) sent.
    fn record(&self, signal: Signal) {
        let mut stop = self.stop.lock();
        if signal == Signal::KILL {
            stop.killed = true;
        } else if signal.0 != libc::SIGCONT && stop.signalled_at.is_none() {
            stop.signalled_at = Some(Instant::now());
        }
    }

    /// Live members other than the leader.
    fn members(&self) -> io::Result<(Vec<ProcStat>, bool)> {
        match &self.kind {
            ScopeKind::Cgroup(cg) => {
                let mut out = Vec::new();
                for pid in cg.pids()? {
                    if pid == self.leader {
                        continue;
                    }
                    if let Some(stat) = ProcStat::read(pid)?
                        && stat.is_live()
                    {
                        out.push(stat);
                    }
                }
                // Only this launcher moves processes in, and a member's children are born
                // inside: an empty list cannot have missed anyone.
                Ok((out, true))
            }
            ScopeKind::Tree { marker, subreaper } => {
                let before = procfs::last_pid().ok();
                let all = procfs::processes()?;
                let after = procfs::last_pid().ok();
                let ours = tree_members(&all, self.leader, self.me, marker, *subreaper);
                let live = all
                    .into_iter()
                    .filter(|p| p.pid != self.leader && ours.contains(&p.pid) && p.is_live())
                    .collect();
                Ok((live, before.is_some() && before == after))
            }
        }
    }

    /// Counts the live members other than the leader, remembering who they are.
    pub(super) fn census(&self) -> io::Result<Census> {
        let (live, exact) = self.members()?;
        let mut seen = self.seen.lock();
        for p in &live {
            seen.insert(p.pid, *p);
        }
        Ok(Census {
            live: live.len(),
            exact,
        })
    }

    /// Sends `signal` to every member other than the leader (whose group `killpg` reaches).
    /// SIGKILL in a cgroup is `cgroup.kill`. In the process tree, only SIGKILL walks `/proc`
    /// first; a stop signal goes to the members already seen, since a walk reads every
    /// process's stat (a stop of 200 runs would be 200 walks): the rest are found by the census
    /// once the leader has exited, and get the signal then.
    pub(super) fn signal(&self, signal: Signal) -> io::Result<()> {
        self.record(signal);
        let live = match &self.kind {
            ScopeKind::Cgroup(cg) if signal == Signal::KILL => return cg.kill_all(),
            ScopeKind::Tree { .. } if signal != Signal::KILL => {
                self.seen.lock().values().copied().collect()
            }
            _ => {
                let (live, _) = self.members()?;
                let mut seen = self.seen.lock();
                for p in &live {
                    seen.insert(p.pid, *p);
                }
                live
            }
        };
        for p in live {
            let check = |pid: i32| match &self.kind {
                ScopeKind::Cgroup(cg) => cg.holds(pid),
                ScopeKind::Tree { .. } => {
                    ProcStat::read(pid).ok().flatten().map(|s| s.start_time) == Some(p.start_time)
                }
            };
            signal_checked(p.pid, signal, check);
        }
        Ok(())
    }

    /// Reaps the zombies among this run's members that are children of this process (orphans
    /// adopted as a subreaper). Never the leader: it is reaped last, by its supervisor.
    pub(super) fn reap_adopted(&self) {
        if !self.adopts {
            // Orphans go to init (or another subreaper), never here: nothing to reap.
            return;
        }
        let seen = self.seen.lock().clone();
        // A middle process of a double fork may die before any census sees it; its children
        // (seen) still name it as their session, group or first parent.
        let named: HashSet<i32> = seen
            .values()
            .flat_map(|p| [p.ppid, p.session, p.pgid])
            .collect();
        let result = procfs::scan(|stat| {
            if stat.ppid != self.me || stat.pid == self.leader || !stat.is_zombie() {
                return;
            }
            let ours = stat.pgid == self.leader
                || seen
                    .get(&stat.pid)
                    .is_some_and(|p| p.start_time == stat.start_time)
                || named.contains(&stat.pid)
                || matches!(&self.kind, ScopeKind::Cgroup(cg) if cg.holds(stat.pid));
            if ours {
                reap(stat.pid);
            }
        });
        if let Err(e) = result {
            tracing::debug!(error = %e, "cannot look for adopted zombies");
        }
    }
}

/// The pids of the run led by `leader`: its group, its descendants, the sessions and groups
/// they lead, and orphans (children of `me`, or of init unless `me` is a `subreaper`) whose
/// environment holds `marker`.
fn tree_members(
    all: &[ProcStat],
    leader: i32,
    me: i32,
    marker: &str,
    subreaper: bool,
) -> HashSet<i32> {
    let needle = format!("{RUN_MARKER}={marker}\0");
    let mut ours: HashSet<i32> = HashSet::from([leader]);
    // A descendant is born after the leader: older processes (init's daemons, other runs'
    // leaders) are never read. Reading another process's environment waits on its memory
    // map lock, which a busy process holds often, so the candidates are kept few.
    let born = all
        .iter()
        .find(|p| p.pid == leader)
        .map_or(0, |p| p.start_time);
    let leaders = LEADERS.lock().clone();
    for p in all {
        let orphan = (p.ppid == me || (!subreaper && p.ppid == 1))
            && p.pid != leader
            && p.pid != me
            && p.start_time >= born
            && !leaders.contains(&p.pid);
        if p.pgid == leader || (orphan && p.is_live() && environ_has(p.pid, needle.as_bytes())) {
            ours.insert(p.pid);
        }
    }
    loop {
        let before = ours.len();
        for p in all {
            if p.pid != me
                && !ours.contains(&p.pid)
                && (ours.contains(&p.ppid) || ours.contains(&p.session) || ours.contains(&p.pgid))
            {
                ours.insert(p.pid);
            }
        }
        if ours.len() == before {
            return ours;
        }
    }
}

fn environ_has(pid: i32, needle: &[u8]) -> bool {
    // The first entry has no NUL before it: look for it at the start too.
    fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
        env.starts_with(needle)
            || env
                .windows(needle.len() + 1)
                .any(|w| w[0] == 0 && &w[1..] == needle)
    })
}

/// Sends `signal` to `pid` if `is_ours(pid)` holds, through a pidfd opened before the check,
/// so that the process checked is the one signalled even if the pid is recycled meanwhile.
fn signal_checked(pid: i32, signal: Signal, is_ours: impl Fn(i32) -> bool) {
    // SAFETY: pidfd_open takes a pid and flags; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ENOSYS) && is_ours(pid) {
            // No pidfds (before Linux 5.3): the check just passed; a recycle in the
            // microseconds since is the residual risk.
            // SAFETY: kill takes two integers.
            unsafe { libc::kill(pid, signal.0) };
        }
        return;
    }
    // SAFETY: the descriptor was just returned by pidfd_open and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    if !is_ours(pid) {
        return;
    }
    // SAFETY: pidfd_send_signal(fd, sig, NULL, 0): a null siginfo is allowed and means "as
    // kill(2) would send it".
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            signal.0,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if rc != 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::ESRCH) {
            tracing::debug!(pid, %signal, error = %err, "cannot signal a member of a run");
        }
    }
}

/// Reaps `pid`, a zombie child of this process that is not a run's leader.
fn reap(pid: i32) {
    // SAFETY: an all-zero siginfo_t is valid plain old data; waitid writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is valid and writable for the call.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG,
        )
    };
    if rc != 0 {
        tracing::debug!(pid, error = %io::Error::last_os_error(), "cannot reap an adopted orphan");
    }
}

/// Kills every child of this process that is not in `leaders` (orphans adopted as a
/// subreaper, left by no run), with everything below them, and reaps them. For a supervisor
/// binary at exit, after every run has ended.
pub(super) fn kill_adopted(leaders: &std::collections::BTreeSet<i32>) -> io::Result<usize> {
    let me = std::process::id() as i32;
    let all = procfs::processes()?;
    let mut doomed: HashSet<i32> = all
        .iter()
        .filter(|p| p.ppid == me && !leaders.contains(&p.pid))
        .map(|p| p.pid)
        .collect();
    loop {
        let before = doomed.len();
        for p in &all {
            if doomed.contains(&p.ppid) || doomed.contains(&p.session) {
                doomed.insert(p.pid);
            }
        }
        if doomed.len() == before {
            break;
        }
    }
    let starts: HashMap<i32, u64> = all.iter().map(|p| (p.pid, p.start_time)).collect();
    let mut killed = 0;
    for &pid in &doomed {
        let start = starts.get(&pid).copied();
        let live = all.iter().any(|p| p.pid == pid && p.is_live());
        if live {
            killed += 1;
            signal_checked(pid, Signal::KILL, |pid| {
                ProcStat::read(pid).ok().flatten().map(|s| s.start_time) == start
            });
        }
    }
    // The children among them become zombies of ours; reap them as they die.
    let deadline = Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let mut left = 0;
        procfs::scan(|p| {
            if p.ppid == me && !leaders.contains(&p.pid) {
                if p.is_zombie() {
                    reap(p.pid);
                } else if doomed.contains(&p.pid) {
                    left += 1;
                }
            }
        })?;
        if left == 0 || Instant::now() >= deadline {
            return Ok(killed);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
