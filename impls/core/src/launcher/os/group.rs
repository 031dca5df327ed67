//! [`Leader`]: a child that leads its own process group, and the one lock that makes signalling
//! that group safe.
//!
//! # Why a signal never reaches a recycled group
//!
//! The child is spawned as the leader of a new process group, so the group id is the leader's
//! pid. Linux frees a pid number only when no process uses it any more — as its pid, *or as its
//! process group or session id* — and a zombie still uses its pid. The launcher therefore keeps
//! the leader **unreaped** until the whole run is over: it learns of the leader's exit with
//! `waitid(WNOWAIT)`, which reads the status and leaves the zombie in place. While the zombie
//! exists, no new process can get that pid, so no new group can get that id, and `killpg` reaches
//! only this run's group (the zombie leader itself ignores signals; members of the group still
//! alive receive them).
//!
//! The leader is reaped under the same lock that [`Leader::signal_group`] holds while it calls
//! `killpg`, and the lock records the reap. A signal therefore happens either before the reap
//! (the id is still pinned) or after it, when it is not sent at all and reported as success: the
//! run is over, so "the child is already gone" holds.
//!
//! The host program must not reap children it did not spawn (no `waitpid(-1)` elsewhere);
//! `std::process::Child` only waits for its own pid, so it is no danger.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use parking_lot::Mutex;

use crate::signal::Signal;
use crate::snapshot::ExitInfo;

/// The leader of a child's process group. Its pid is the group id.
#[derive(Debug)]
pub(super) struct Leader {
    pid: libc::pid_t,
    /// True once the leader has been reaped; from then on the group id may be reused and
    /// nothing is signalled. Held across `killpg` and across the reap.
    reaped: Mutex<bool>,
}

impl Leader {
    /// Takes charge of `pid`, a child of this process that leads its own process group and
    /// that nobody else will reap.
    pub(super) fn new(pid: libc::pid_t) -> Self {
        Leader {
            pid,
            reaped: Mutex::new(false),
        }
    }

    /// The pid, which is also the process group id.
    pub(super) fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Sends `signal` to every process of the group. A group that is gone, or a run whose leader
    /// was reaped, is not an error: nothing is sent.
    pub(super) fn signal_group(&self, signal: Signal) -> io::Result<()> {
        let reaped = self.reaped.lock();
        if *reaped {
            return Ok(());
        }
        // SAFETY: killpg takes two integers and touches no memory of ours. The group id is
        // pinned by the unreaped leader (see the module docs), and `reaped` is locked, so the
        // leader cannot be reaped until this call returns.
        let rc = unsafe { libc::killpg(self.pid, signal.0) };
        drop(reaped);
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            return Ok(());
        }
        Err(io::Error::new(
            err.kind(),
            format!("cannot send {signal} to process group {}: {err}", self.pid),
        ))
    }

    /// How the leader ended, if it has: reads its status without reaping it (`WNOWAIT`), so the
    /// group id stays pinned.
    pub(super) fn exit_status(&self) -> io::Result<Option<ExitInfo>> {
        wait(self.pid, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT)
    }

    /// Reaps the leader, which must have exited ([`Leader::exit_status`] returned its status);
    /// from now on [`Leader::signal_group`] sends nothing.
    pub(super) fn reap(&self) {
        let mut reaped = self.reaped.lock();
        if *reaped {
            return;
        }
        if let Err(e) = wait(self.pid, libc::WEXITED) {
            tracing::warn!(pid = self.pid, error = %e, "reaping the child failed");
        }
        *reaped = true;
    }

    /// Records that the leader is gone without reaping it: someone else reaped it (`waitid`
    /// failed), so its id may already be reused and nothing may be signalled any more.
    pub(super) fn forget(&self) {
        *self.reaped.lock() = true;
    }

    /// Kills the whole group and reaps the leader, blocking until it is gone. For the paths that
    /// abandon a child (a failed start, a supervisor that unwinds).
    pub(super) fn kill_and_reap(&self) {
        if let Err(e) = self.signal_group(Signal::KILL) {
            tracing::warn!(pid = self.pid, error = %e, "SIGKILL to an abandoned child failed");
        }
        // Wait for the exit without the lock (a signal sent meanwhile is harmless: the id is
        // still pinned), then reap under it.
        if let Err(e) = wait(self.pid, libc::WEXITED | libc::WNOWAIT) {
            tracing::warn!(pid = self.pid, error = %e, "waiting for an abandoned child failed");
        }
        self.reap();
    }

    /// A pidfd for the leader, readable once it has exited, or `None` where the kernel has no
    /// `pidfd_open` (before Linux 5.3) or a sandbox forbids it.
    pub(super) fn open_pidfd(&self) -> Option<OwnedFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; no memory
        // is passed. The pid is our unreaped child, so it names the right process.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid, 0) };
        if fd < 0 {
            let error = io::Error::last_os_error();
            tracing::debug!(pid = self.pid, %error, "no pidfd_open; polling for the exit");
            return None;
        }
        let fd = i32::try_from(fd).ok()?;
        // SAFETY: `fd` was just returned by pidfd_open, is open and owned by nobody else; it
        // carries O_CLOEXEC (pidfd_open always sets it), so no child inherits it.
        Some(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// `waitid(P_PID, pid, flags)`, retried on EINTR; `Ok(None)` when (with `WNOHANG`) the child has
/// not exited.
fn wait(pid: libc::pid_t, flags: libc::c_int) -> io::Result<Option<ExitInfo>> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value (it is plain old data); zeroing it is
        // how waitid with WNOHANG tells "no state change" apart (si_pid stays 0).
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable siginfo_t that outlives the call; the id is one of
        // our own children, pinned until reaped.
        let rc = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
        if rc != 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(io::Error::new(
                err.kind(),
                format!("waitid for child {pid} failed: {err}"),
            ));
        }
        // SAFETY: waitid filled `info` for a child event (or left it zeroed); si_pid and
        // si_status are the fields it sets for SIGCHLD-style information.
        let (si_pid, status) = unsafe { (info.si_pid(), info.si_status()) };
        if si_pid == 0 {
            return Ok(None);
        }
        return Ok(Some(match info.si_code {
            libc::CLD_EXITED => ExitInfo::Code(status),
            _ => ExitInfo::Signal(Signal(status)),
        }));
    }
}

/// Makes this process a child subreaper (`PR_SET_CHILD_SUBREAPER`): orphans of its descendants
/// are re-parented to it instead of to init, so the launcher can reap those that belong to a
/// run's group. Process-wide and inherited by nothing; see `OsLauncherConfig::adopt_orphans`.
pub(super) fn become_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag; no memory is passed.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
    if rc != 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!(
                "cannot make this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER): {err}"
            ),
        ));
    }
    Ok(())
}
