//! [`ChildWatcher`]: the thread that watches one child from attach to `on_exit`.
//!
//! It waits in `poll(2)` on three descriptors: the stdout and stderr pipes and a pidfd that
//! becomes readable when the leader exits (without a pidfd it polls the exit every
//! [`EXIT_POLL`]). A run ends in three steps, and `on_exit` comes only after all three:
//!
//! 1. **The leader exits.** Its status is read with `WNOWAIT`; the zombie keeps the group id
//!    pinned (see [`super::group`]). Output keeps being drained throughout.
//! 2. **The run empties.** A census (of the run's cgroup, or a walk of `/proc`: see
//!    `os/contain.rs`) looks for live members other than the leader, in the group or not.
//!    Any left (orphaned grandchildren, background jobs of a shell, `setsid` daemons) get the
//!    spec's stop signal (SIGTERM by default) followed by SIGCONT (so that a stopped member can
//!    act on it), and SIGKILL once the spec's `stop_timeout` has passed — counted from the stop
//!    signal of a stop already under way, if there was one: the run is not over while any of it
//!    lives, and nothing of it is left behind. A cgroup census is exact. A scan of `/proc` is
//!    not atomic — a process
//!    forked during it can get a pid behind the scan's position — so an empty census counts
//!    only if no pid was allocated while it ran ([`super::procfs::last_pid`] unchanged), or if a
//!    second census in a row is empty too. Zombie members that are this process's children
//!    (orphans adopted as a subreaper) are reaped at the end. Where the census fails, the rest
//!    of the run is sent SIGKILL at once and not counted.
//!
//!    The census reads `/proc/<pid>/stat` of every process, once per run end in the common
//!    case: about 0.3 ms with 115 processes and 5 ms with 1,100 (release build, on the 2-core
//!    VM this was written on; `procfs::processes` timed over 100 scans).
//! 3. **The pipes reach EOF.** Every member is dead, so what they wrote is in the pipes and
//!    reads out at once: no last line is lost. A pipe still open after [`ESCAPED_OUTPUT_GRACE`]
//!    is held by a process that escaped the mechanism (the `/proc` walk can lose an orphan
//!    that cleared its environment); it is closed and a warning logged.
//!
//! Then the leader is reaped, every descriptor closed, and `on_exit` called.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant, SystemTime};

use super::contain::{Census, Scope};
use super::group::Leader;
use super::output::{LineSplitter, Pipe};
use crate::launcher::ChildEvents;
use crate::logring::{OutputLine, Stream};
use crate::signal::Signal;
use crate::snapshot::ExitInfo;

/// How often the leader's exit is polled where there is no pidfd.
const EXIT_POLL: Duration = Duration::from_millis(50);
/// The first pause between two censuses of a group that still has members; it doubles up to
/// [`CENSUS_MAX`].
const CENSUS_FIRST: Duration = Duration::from_millis(5);
/// The longest pause between two censuses.
const CENSUS_MAX: Duration = Duration::from_millis(100);
/// How long pipes may stay open after the group is empty before they are closed.
const ESCAPED_OUTPUT_GRACE: Duration = Duration::from_secs(1);
/// After this long with members still alive (even after SIGKILL), a warning is logged.
const STUCK_WARNING: Duration = Duration::from_secs(10);
/// Resumes a stopped process, so that it can act on the stop signal sent before it.
const SIGCONT: Signal = Signal(libc::SIGCONT);
/// Bytes read from a pipe at once.
const READ_BUF: usize = 32 * 1024;

/// The exit reported when someone else reaped the leader (a host bug: see [`super::group`]).
const LOST_EXIT: ExitInfo = ExitInfo::Code(-1);

/// Watches one child; runs on its own thread.
#[derive(Debug)]
pub(super) struct ChildWatcher {
    leader: Arc<Leader>,
    /// Everything else the run started, wherever it went.
    scope: Arc<Scope>,
    /// Readable once the leader exits; `None` where pidfds are unavailable.
    pidfd: Option<OwnedFd>,
    /// stdout and stderr, each `None` once it reached EOF.
    pipes: [Option<Pipe>; 2],
    /// What orphaned members of the group get first.
    stop_signal: Signal,
    /// How long they have before SIGKILL.
    stop_timeout: Duration,
    /// Set once the leader is reaped; until then, dropping the watcher (a failed thread
    /// start, a panic in a sink) kills the group and reaps it.
    finished: bool,
}

/// The sink of a child that was dropped without being attached: nobody wants its events.
struct Discard;

impl ChildEvents for Discard {
    fn on_output(&self, _line: OutputLine) {}
    fn on_exit(&self, _exit: ExitInfo) {}
}

impl ChildWatcher {
    /// A watcher for `leader`, reading `stdout` and `stderr`.
    pub(super) fn new(
        leader: Arc<Leader>,
        scope: Arc<Scope>,
        pidfd: Option<OwnedFd>,
        stdout: OwnedFd,
        stderr: OwnedFd,
        (stop_signal, stop_timeout): (Signal, Duration),
        max_line_bytes: usize,
    ) -> Self {
        let pipe = |fd, stream| Pipe::new(fd, LineSplitter::new(stream, max_line_bytes));
        ChildWatcher {
            leader,
            scope,
            pidfd,
            pipes: [
                Some(pipe(stdout, Stream::Stdout)),
                Some(pipe(stderr, Stream::Stderr)),
            ],
            stop_signal,
            stop_timeout,
            finished: false,
        }
    }

    /// Waits for the manager's sink, supervises the child to its end and reports it. A child
    /// dropped without attach is killed and reaped just the same, its events discarded.
    pub(super) fn run(mut self, attach: Receiver<Arc<dyn ChildEvents>>) {
        let events: Arc<dyn ChildEvents> = match attach.recv() {
            Ok(events) => events,
            Err(_) => {
                self.signal_all(Signal::KILL);
                Arc::new(Discard)
            }
        };
        let exit = self.supervise(&*events);
        // Every descriptor is closed and the leader reaped before the manager hears of the end.
        drop(self);
        events.on_exit(exit);
    }

    fn supervise(&mut self, events: &dyn ChildEvents) -> ExitInfo {
        let mut buf = vec![0u8; READ_BUF];
        let Some(exit) = self.await_leader(events, &mut buf) else {
            // Someone else reaped our child: the group id is no longer pinned, so from now on
            // nothing may be signalled, and the status is unknown.
            tracing::error!(
                pid = self.leader.pid(),
                "the child was reaped by someone else; its group can no longer be signalled"
            );
            self.leader.forget();
            self.drain_escaped_output(events, &mut buf);
            self.finished = true;
            return LOST_EXIT;
        };
        self.end_group(events, &mut buf);
        self.drain_escaped_output(events, &mut buf);
        self.leader.reap();
        self.finished = true;
        exit
    }

    /// Step 1: drains output until the leader exits; its status, or `None` if it was reaped
    /// behind our back.
    fn await_leader(&mut self, events: &dyn ChildEvents, buf: &mut [u8]) -> Option<ExitInfo> {
        loop {
            let timeout = if self.pidfd.is_some() {
                None
            } else {
                Some(EXIT_POLL)
            };
            let exit_ready = self.wait_io(events, buf, timeout, true);
            if !exit_ready && self.pidfd.is_some() {
                continue;
            }
            match self.leader.exit_status() {
                Ok(Some(exit)) => return Some(exit),
                Ok(None) => {}
                Err(e) => {
                    let pid = self.leader.pid();
                    tracing::error!(pid, error = %e, "cannot read the child's exit status");
                    return None;
                }
            }
        }
    }

    /// Step 2: returns once no live process of the run other than the (zombie) leader is left,
    /// terminating whatever is (see the module docs). A stop already under way keeps its
    /// deadline: the rest of the run gets SIGKILL when the stop's `stop_timeout` runs out, not a
    /// new one.
    fn end_group(&mut self, events: &dyn ChildEvents, buf: &mut [u8]) {
        let pgid = self.leader.pid();
        let began = Instant::now();
        let mut pause = CENSUS_FIRST;
        let mut empty_in_a_row = 0;
        let mut warned = false;
        loop {
            let Census { live, exact } = match self.scope.census() {
                Ok(census) => census,
                Err(e) => {
                    tracing::warn!(
                        pid = pgid,
                        error = %e,
                        "cannot count the rest of the run; killing it"
                    );
                    self.signal_all(Signal::KILL);
                    return;
                }
            };
            if live == 0 {
                empty_in_a_row += 1;
                if exact || empty_in_a_row == 2 {
                    self.scope.reap_adopted();
                    return;
                }
                continue;
            }
            empty_in_a_row = 0;
            let now = Instant::now();
            let mut next = now + pause;
            let stop = self.scope.stop_state();
            match stop.signalled_at {
                _ if stop.killed => {
                    // SIGKILL was sent; a process forked just before it may have missed it.
                    self.signal_all(Signal::KILL);
                }
                None => {
                    tracing::debug!(
                        pid = pgid,
                        live,
                        signal = %self.stop_signal,
                        "the leader exited; stopping the rest of its run"
                    );
                    self.signal_all(self.stop_signal);
                    self.signal_all(SIGCONT);
                }
                Some(at) if now >= at + self.stop_timeout => {
                    tracing::debug!(
                        pid = pgid,
                        live,
                        "the rest of the run outlived the stop timeout; SIGKILL"
                    );
                    self.signal_all(Signal::KILL);
                }
                Some(at) => next = next.min(at + self.stop_timeout),
            }
            if !warned && now.duration_since(began) > STUCK_WARNING {
                tracing::warn!(
                    pid = pgid,
                    live,
                    killed = stop.killed,
                    "processes of the run are still alive; waiting for them to end"
                );
                warned = true;
            }
            self.drain_until(events, buf, next);
            pause = (pause * 2).min(CENSUS_MAX);
        }
    }

    /// Step 3: reads the pipes to EOF, giving processes outside the group that still hold them
    /// [`ESCAPED_OUTPUT_GRACE`]; then closes them, delivering any unfinished line.
    fn drain_escaped_output(&mut self, events: &dyn ChildEvents, buf: &mut [u8]) {
        let deadline = Instant::now() + ESCAPED_OUTPUT_GRACE;
        while self.pipes.iter().any(Option::is_some) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            self.wait_io(events, buf, Some(deadline - now), false);
        }
        let at = SystemTime::now();
        for mut pipe in self.pipes.iter_mut().filter_map(Option::take) {
            tracing::warn!(
                pid = self.leader.pid(),
                "an output pipe is still open after the process group ended \
                 (a process that left the group holds it); closing it"
            );
            pipe.finish(at, &mut |line| events.on_output(line));
        }
    }

    /// Drains output until `deadline`; with both pipes closed, just waits.
    fn drain_until(&mut self, events: &dyn ChildEvents, buf: &mut [u8], deadline: Instant) {
        loop {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            self.wait_io(events, buf, Some(deadline - now), false);
        }
    }

    /// One `poll(2)`: waits up to `timeout` (forever for `None`) for output or, with
    /// `watch_exit`, the leader's exit, and reads once from each ready pipe. True when the pidfd
    /// is readable.
    fn wait_io(
        &mut self,
        events: &dyn ChildEvents,
        buf: &mut [u8],
        timeout: Option<Duration>,
        watch_exit: bool,
    ) -> bool {
        let absent = libc::pollfd {
            fd: -1,
            events: 0,
            revents: 0,
        };
        let watch = |fd: &OwnedFd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // poll(2) ignores entries with a negative fd, so absent ones stay in place.
        let mut fds = [absent; 3];
        for (slot, pipe) in fds.iter_mut().zip(&self.pipes) {
            if let Some(pipe) = pipe {
                *slot = watch(pipe.fd());
            }
        }
        if watch_exit && let Some(pidfd) = &self.pidfd {
            fds[2] = watch(pidfd);
        }
        let timeout_ms = timeout.map_or(-1, |t| {
            // Round up, so that a wait shorter than a millisecond does not spin.
            i32::try_from(t.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
        });
        // SAFETY: `fds` is a valid, writable array of 3 pollfd that outlives the call, and the
        // count passed is its length. The descriptors are owned by `self` and stay open.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if rc < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                tracing::warn!(pid = self.leader.pid(), error = %err, "poll failed; retrying");
                std::thread::sleep(EXIT_POLL);
            }
            return false;
        }
        for (slot, pollfd) in self.pipes.iter_mut().zip(&fds) {
            if pollfd.revents != 0
                && let Some(pipe) = slot
                && !pipe.read_once(buf, &mut |line| events.on_output(line))
            {
                *slot = None;
            }
        }
        fds[2].revents != 0
    }

    /// Sends `signal` to the leader's group and to every other member of the run.
    fn signal_all(&self, signal: Signal) {
        let pid = self.leader.pid();
        if let Err(e) = self.leader.signal_group(signal) {
            tracing::warn!(pid, %signal, error = %e, "signalling the rest of the group failed");
        }
        if let Err(e) = self.scope.signal(signal) {
            tracing::warn!(pid, %signal, error = %e, "signalling the rest of the run failed");
        }
    }
}

impl Drop for ChildWatcher {
    fn drop(&mut self) {
        if !self.finished {
            // Abandoned before the end (the thread could not start, or a sink panicked): leave
            // neither a live run nor a zombie behind.
            if let Err(e) = self.scope.signal(Signal::KILL) {
                tracing::warn!(pid = self.leader.pid(), error = %e, "killing an abandoned run failed");
            }
            self.leader.kill_and_reap();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use parking_lot::Mutex;

    use super::super::procfs;
    use super::*;
    use crate::spec::ProcessSpec;

    #[derive(Default)]
    struct Sink {
        lines: Mutex<Vec<String>>,
        exits: Mutex<Vec<ExitInfo>>,
    }

    impl ChildEvents for Sink {
        fn on_output(&self, line: OutputLine) {
            self.lines.lock().push(line.text);
        }
        fn on_exit(&self, exit: ExitInfo) {
            self.exits.lock().push(exit);
        }
    }

    /// Supervises `sh -c line` on this thread without a pidfd (the path for kernels before 5.3).
    fn supervise_without_pidfd(line: &str) -> (Vec<String>, ExitInfo) {
        let marker = super::super::contain::new_marker();
        let spawned =
            super::super::spawn::spawn(&ProcessSpec::shell("t", line), &marker, None).unwrap();
        let leader = Arc::new(Leader::new(spawned.pid));
        let scope = Arc::new(Scope::new(spawned.pid, None, marker, false));
        let watcher = ChildWatcher::new(
            leader,
            scope,
            None,
            spawned.stdout,
            spawned.stderr,
            (Signal::TERM, Duration::from_millis(200)),
            1024,
        );
        let sink = Arc::new(Sink::default());
        let (attach, attached) = mpsc::sync_channel::<Arc<dyn ChildEvents>>(1);
        attach.send(sink.clone()).unwrap();
        watcher.run(attached);
        let exits = sink.exits.lock().clone();
        assert_eq!(exits.len(), 1, "{exits:?}");
        (sink.lines.lock().clone(), exits[0])
    }

    #[test]
    fn without_a_pidfd_the_exit_is_polled() {
        let (lines, exit) = supervise_without_pidfd("echo hi; exit 4");
        assert_eq!((lines, exit), (vec!["hi".to_owned()], ExitInfo::Code(4)));
        // Nothing to read wakes the poll: the exit alone must be noticed.
        let (lines, exit) = supervise_without_pidfd("exec >&- 2>&-; sleep 0.1; exit 5");
        assert_eq!((lines, exit), (vec![], ExitInfo::Code(5)));
    }

    #[test]
    fn without_a_pidfd_a_left_behind_job_is_stopped_too() {
        let (lines, exit) = supervise_without_pidfd("sleep 1000 & echo $!");
        assert_eq!(exit, ExitInfo::Code(0));
        let job: i32 = lines[0].parse().unwrap();
        assert!(!procfs::is_live(job).unwrap());
    }
}
