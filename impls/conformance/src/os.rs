//! Real processes through the managers: the cases that need [`OsLauncher`] and a Linux machine.
//!
//! Instantiated per design by [`os_suite!`](crate::os_suite), apart from
//! [`conformance_suite!`](crate::conformance_suite) so that the main suite stays fast and needs
//! nothing from the machine:
//!
//! ```ignore
//! // impls/atomic/tests/os.rs
//! procman_conformance::os_suite!(atomic, |launcher, config| {
//!     procman_atomic::AtomicManager::new(launcher, config)
//! });
//! ```
//!
//! The `launcher` the closure gets is an [`OsLauncher`]. The cases run **one at a time** (a
//! process-wide lock): some count this process's descriptors, threads and zombies, or its
//! resident memory, which a case running beside them would disturb, and two hundred real
//! children plus a 100 MB flood at once would only measure the machine. Like the main suite,
//! nothing asserts speed: every wait is bounded by [`LIVENESS`](crate::support::LIVENESS) and
//! fails only if what it waits for never happens.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use procman_core::launcher::os::procfs::{self, ProcStat};
use procman_core::{
    IfRunning, LogLine, ManagerConfig, OsLauncher, ProcessError, ProcessManager, ProcessSnapshot,
    ProcessSpec, ShutdownOutcome, Signal, Status, Target,
};

use crate::support::{self, MakeManager, bounded, eventually};

/// Resident memory this process must stay under while a child floods 100 MB of output.
pub const RSS_BOUND: u64 = 200 << 20;

/// Serialises the cases of this module within a test binary (see the module docs).
static SERIAL: Mutex<()> = Mutex::new(());

/// One manager over a real launcher. Dropping it shuts the manager down and checks that every
/// child's supervision has finished.
pub struct OsFixture {
    /// The launcher the manager spawns through.
    pub launcher: OsLauncher,
    /// The manager under test.
    pub pm: Arc<dyn ProcessManager>,
    _serial: MutexGuard<'static, ()>,
}

impl std::fmt::Debug for OsFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsFixture")
            .field("design", &self.pm.design())
            .field("launcher", &self.launcher)
            .finish_non_exhaustive()
    }
}

impl OsFixture {
    /// A manager with the default config over a fresh [`OsLauncher`]; waits for the cases before.
    pub fn new(make: &MakeManager) -> Self {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let launcher = OsLauncher::new();
        let pm = Arc::from(make(Arc::new(launcher.clone()), ManagerConfig::default()));
        OsFixture {
            launcher,
            pm,
            _serial: serial,
        }
    }

    /// `start` that must succeed, bounded and checked.
    pub fn start_ok(&self, spec: ProcessSpec) -> ProcessSnapshot {
        let pm = self.pm.clone();
        let name = spec.name.clone();
        bounded(&format!("start({name:?})"), move || {
            support::start(&*pm, spec, IfRunning::ReturnExisting)
        })
        .unwrap_or_else(|e| panic!("start({name:?}) failed: {e}"))
    }

    /// A graceful `stop` that must succeed, bounded and checked.
    pub fn stop_ok(&self, name: &str) -> ProcessSnapshot {
        let pm = self.pm.clone();
        let owned = name.to_owned();
        bounded(&format!("stop({name:?})"), move || {
            support::stop(&*pm, Target::Name(&owned), false)
        })
        .unwrap_or_else(|e| panic!("stop({name:?}) failed: {e}"))
    }

    /// `status` by name that must succeed, checked.
    pub fn status_ok(&self, name: &str) -> ProcessSnapshot {
        support::status(&*self.pm, Target::Name(name))
            .unwrap_or_else(|e| panic!("status({name:?}) failed: {e}"))
    }

    /// Waits until the current run of `name` has ended, and returns it.
    pub fn wait_ended(&self, name: &str) -> ProcessSnapshot {
        let mut last = None;
        eventually(
            || {
                let s = self.status_ok(name);
                let done = s.status.is_terminal();
                last = Some(s);
                done
            },
            &format!("{name:?} to end"),
        );
        last.expect("set by the first poll")
    }

    /// Every log line of the current run of `name`.
    pub fn lines(&self, name: &str) -> Vec<LogLine> {
        self.pm
            .logs_tail(Target::Name(name), 0, usize::MAX)
            .unwrap_or_else(|e| panic!("logs_tail({name:?}) failed: {e}"))
            .lines
    }

    /// The texts of [`OsFixture::lines`].
    pub fn texts(&self, name: &str) -> Vec<String> {
        self.lines(name)
            .iter()
            .map(|l| l.text.to_string())
            .collect()
    }

    /// Waits until `name` has logged a line with exactly `text`.
    pub fn wait_line(&self, name: &str, text: &str) {
        eventually(
            || self.texts(name).iter().any(|t| t == text),
            &format!("{name:?} to log {text:?}"),
        );
    }
}

impl Drop for OsFixture {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Kill whatever the failed case left running, without waiting on a manager that may
            // be wedged: the failure gets reported instead of a hang.
            let pm = self.pm.clone();
            std::thread::spawn(move || pm.shutdown(Duration::ZERO));
            return;
        }
        let pm = self.pm.clone();
        bounded("shutdown", move || pm.shutdown(Duration::from_secs(5)));
        eventually(
            || self.launcher.live() == 0,
            "every child's supervision to finish after shutdown",
        );
    }
}

/// A shell-line spec.
pub fn sh(name: &str, line: &str) -> ProcessSpec {
    ProcessSpec::shell(name, line)
}

/// Live (not zombie) processes of process group `pgid`.
pub fn live_members(pgid: u32) -> Vec<ProcStat> {
    procfs::group_members(pgid as i32)
        .expect("read /proc")
        .into_iter()
        .filter(ProcStat::is_live)
        .collect()
}

/// Whether `pid` is a live process.
pub fn is_live(pid: u32) -> bool {
    procfs::is_live(pid as i32).expect("read /proc")
}

/// Zombie children of this process.
pub fn our_zombies() -> Vec<ProcStat> {
    procfs::zombie_children(std::process::id() as i32).expect("read /proc")
}

fn pid_of(s: &ProcessSnapshot) -> u32 {
    s.pid.expect("a run that ran has a pid")
}

/// A child that ignores SIGTERM is killed after the stop timeout: `Killed(SIGKILL)`.
pub fn ignored_sigterm_ends_killed_after_the_stop_timeout(make: &MakeManager) {
    let f = OsFixture::new(make);
    let spec = sh("stubborn", "trap '' TERM; echo ready; sleep 1000")
        .with_stop_timeout(Duration::from_millis(300));
    let pid = pid_of(&f.start_ok(spec));
    // Stop only once the trap is in place, or SIGTERM would land before it.
    f.wait_line("stubborn", "ready");
    let s = f.stop_ok("stubborn");
    assert_eq!(s.status, Status::Killed(Signal::KILL), "{s:?}");
    assert!(live_members(pid).is_empty(), "{:?}", live_members(pid));
}

/// A stop leaves nothing of the group behind: the grandchildren are gone too.
pub fn a_stop_leaves_no_grandchild_behind(make: &MakeManager) {
    let f = OsFixture::new(make);
    let pid = pid_of(&f.start_ok(sh("forks", "sleep 1000 & sleep 1000 & echo $!; wait")));
    eventually(|| !f.lines("forks").is_empty(), "the grandchild's pid");
    let grandchild: u32 = f.texts("forks")[0].trim().parse().unwrap();
    assert!(is_live(grandchild));
    let s = f.stop_ok("forks");
    assert_eq!(s.status, Status::Stopped, "{s:?}");
    assert!(live_members(pid).is_empty(), "{:?}", live_members(pid));
    assert!(!is_live(grandchild), "the grandchild outlived the stop");
}

/// A child writing without end (well past 100 MB) keeps this process's memory within the ring's
/// bound, and status readers keep completing while it writes.
pub fn a_flood_keeps_memory_bounded_and_readers_served(make: &MakeManager) {
    let f = OsFixture::new(make);
    let config = ManagerConfig::default();
    let done = Arc::new(AtomicBool::new(false));
    let reads: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let readers: Vec<_> = (0..2)
        .map(|i| {
            let (pm, done, reads) = (f.pm.clone(), done.clone(), reads.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let _ = support::status(&*pm, Target::Name("flood"));
                    support::list(&*pm);
                    let _ = pm.logs_tail(Target::Name("flood"), 0, 10);
                    reads[i].fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(procfs::resident_bytes().expect("read /proc/self/status"));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    // Endless output without newlines; it runs until stopped.
    f.start_ok(sh("flood", "tr '\\0' a < /dev/zero"));
    let hundred_mb = 100_000_000_u64.div_ceil(config.log_ring.max_line_bytes as u64);
    eventually(
        || f.status_ok("flood").logs.lines >= hundred_mb,
        "100 MB of output to pass through the ring",
    );
    // Still flooding: the readers keep completing.
    let before: Vec<u64> = reads.iter().map(|r| r.load(Ordering::Relaxed)).collect();
    eventually(
        || (0..2).all(|i| reads[i].load(Ordering::Relaxed) >= before[i] + 100),
        "status readers to complete 100 more reads each during the flood",
    );
    let s = f.status_ok("flood");
    assert_eq!(
        s.status,
        Status::Running,
        "the flood ended by itself: {s:?}"
    );
    assert!(s.logs.dropped > 0, "the ring kept everything? {s:?}");
    let s = f.stop_ok("flood");
    assert_eq!(s.status, Status::Stopped, "{s:?}");
    done.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().expect("a reader panicked");
    }
    let peak = sampler.join().expect("the sampler panicked");
    assert!(
        peak < RSS_BOUND,
        "resident memory peaked at {peak} bytes during the flood; the bound is {RSS_BOUND}"
    );
}

/// A child that exits at once, stopped at the same time, ends in one consistent terminal state.
pub fn an_exit_at_once_raced_by_a_stop_ends_consistently(make: &MakeManager) {
    let f = OsFixture::new(make);
    for round in 0..20 {
        let pid = pid_of(&f.start_ok(ProcessSpec::new("blink", ["true"])));
        let pm = f.pm.clone();
        let stop = support::Call::spawn("stop(blink)", move || {
            support::stop(&*pm, Target::Name("blink"), false)
        });
        let reader_view = f.status_ok("blink");
        match stop.wait() {
            Ok(s) => assert!(s.status.is_terminal(), "round {round}: {s:?}"),
            Err(ProcessError::NotRunning { .. }) => {}
            Err(e) => panic!("round {round}: stop failed: {e}"),
        }
        let end = f.wait_ended("blink");
        assert!(
            matches!(
                end.status,
                Status::Exited(0) | Status::Stopped | Status::Killed(Signal::KILL)
            ),
            "round {round}: {end:?}"
        );
        assert_eq!(f.status_ok("blink"), end, "round {round}: the end changed");
        assert_eq!(reader_view.id, end.id, "round {round}");
        assert!(!is_live(pid), "round {round}: the child is still alive");
    }
    assert_eq!(our_zombies(), vec![]);
}

/// 1,000 start/stop cycles leave no zombie, no descriptor and no thread behind.
pub fn start_stop_cycles_leave_no_zombie_descriptor_or_thread(make: &MakeManager) {
    const WORKERS: usize = 4;
    const CYCLES: usize = 1000;
    let f = OsFixture::new(make);
    let cycle = |worker: usize, i: usize| {
        let name = format!("cycle-{worker}");
        if i.is_multiple_of(2) {
            f.start_ok(ProcessSpec::new(&name, ["sleep", "1000"]));
            let s = f.stop_ok(&name);
            assert_eq!(s.status, Status::Stopped, "{s:?}");
        } else {
            f.start_ok(ProcessSpec::new(&name, ["true"]));
            let s = f.wait_ended(&name);
            assert_eq!(s.status, Status::Exited(0), "{s:?}");
        }
    };
    // Warm up first, so that whatever a design creates once (a worker, a timer) is counted in.
    for w in 0..WORKERS {
        cycle(w, 0);
        cycle(w, 1);
    }
    eventually(|| f.launcher.live() == 0, "the warm-up children to be gone");
    let fds = procfs::open_fd_count().expect("count descriptors");
    let threads = procfs::thread_count().expect("count threads");
    std::thread::scope(|s| {
        for w in 0..WORKERS {
            let cycle = &cycle;
            s.spawn(move || (w..CYCLES).step_by(WORKERS).for_each(|i| cycle(w, i)));
        }
    });
    eventually(
        || f.launcher.live() == 0,
        "every child's supervision to finish",
    );
    eventually(
        || procfs::thread_count().expect("count threads") <= threads,
        "the thread count to come back to where it was",
    );
    assert_eq!(our_zombies(), vec![], "zombie children left behind");
    assert_eq!(
        procfs::open_fd_count().expect("count descriptors"),
        fds,
        "descriptors leaked over {CYCLES} cycles"
    );
}

/// 200 children alive at once are all listed `Running`, and shutdown ends every one of them.
/// The stop timeout and the shutdown deadline are generous on purpose: `sleep` ends at once on
/// SIGTERM, so every run is graceful unless it is never signalled, however slowly a loaded
/// machine walks `/proc` for 200 process trees (this case is about correctness, not speed).
pub fn two_hundred_children_run_and_shutdown_ends_them_all(make: &MakeManager) {
    const N: usize = 200;
    let f = OsFixture::new(make);
    let pids: Vec<u32> = (0..N)
        .map(|i| {
            let spec = ProcessSpec::new(&format!("p{i:03}"), ["sleep", "1000"])
                .with_stop_timeout(Duration::from_secs(120));
            pid_of(&f.start_ok(spec))
        })
        .collect();
    let list = support::list(&*f.pm);
    assert_eq!(list.len(), N);
    for (s, pid) in list.iter().zip(&pids) {
        assert_eq!((&s.status, s.pid), (&Status::Running, Some(*pid)), "{s:?}");
        let stat = ProcStat::read(*pid as i32)
            .expect("read /proc")
            .expect("alive");
        assert!(stat.is_live() && stat.pgid == *pid as i32, "{stat:?}");
    }
    let pm = f.pm.clone();
    let report = bounded("shutdown", move || pm.shutdown(Duration::from_secs(240)));
    assert_eq!(report.processes.len(), N, "{report:?}");
    assert_eq!(report.count(ShutdownOutcome::Graceful), N, "{report:?}");
    for s in support::list(&*f.pm) {
        assert_eq!(s.status, Status::Stopped, "{s:?}");
    }
    let alive: Vec<u32> = pids.iter().copied().filter(|&p| is_live(p)).collect();
    assert_eq!(alive, vec![], "children alive after shutdown");
}

/// The last lines are never lost, and one without a newline is kept and marked partial.
pub fn the_last_lines_are_never_lost(make: &MakeManager) {
    let f = OsFixture::new(make);
    f.start_ok(sh("tail", r"printf 'a\nb\nlast-without-newline'"));
    assert_eq!(f.wait_ended("tail").status, Status::Exited(0));
    let lines: Vec<_> = f
        .lines("tail")
        .iter()
        .map(|l| (l.text.to_string(), l.partial))
        .collect();
    let want = [("a", false), ("b", false), ("last-without-newline", true)];
    assert_eq!(lines, want.map(|(t, p)| (t.to_owned(), p)));
}

/// Invalid UTF-8 is kept, replaced, and marked lossy.
pub fn invalid_utf8_is_marked_lossy(make: &MakeManager) {
    let f = OsFixture::new(make);
    f.start_ok(sh("bytes", r"printf 'ok\n\377\376bad\n'"));
    assert_eq!(f.wait_ended("bytes").status, Status::Exited(0));
    let lines = f.lines("bytes");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(!lines[0].lossy);
    assert_eq!(
        (&*lines[1].text, lines[1].lossy),
        ("\u{fffd}\u{fffd}bad", true)
    );
}

/// A spawn error makes the run `Failed`, with the path and the OS error in the reason.
pub fn a_spawn_error_is_failed_naming_the_path(make: &MakeManager) {
    let f = OsFixture::new(make);
    let cases = [
        (
            ProcessSpec::new("missing", ["/no/such/program"]),
            "/no/such/program",
        ),
        (
            ProcessSpec::new("nowhere", ["true"]).with_cwd("/no/such/dir"),
            "/no/such/dir",
        ),
    ];
    for (spec, path) in cases {
        let name = spec.name.to_string();
        match support::start(&*f.pm, spec, IfRunning::ReturnExisting) {
            Err(ProcessError::SpawnFailed { reason, .. }) => {
                assert!(
                    reason.contains(path) && reason.contains("os error 2"),
                    "{reason}"
                );
            }
            other => panic!("start({name:?}) should fail to spawn: {other:?}"),
        }
        match f.status_ok(&name).status {
            Status::Failed(reason) => assert!(reason.contains(path), "{reason}"),
            other => panic!("{name:?} should be Failed, is {other}"),
        }
    }
}

/// The spec's working directory and environment (inherited, set and unset) reach the child.
pub fn env_and_cwd_reach_the_child(make: &MakeManager) {
    let f = OsFixture::new(make);
    assert!(
        std::env::var_os("PATH").is_some(),
        "the case needs PATH in its environment"
    );
    let mut spec = ProcessSpec::new("env", ["/usr/bin/env"]);
    spec.env.set.insert("PROCMAN_VAR".into(), "a b".into());
    spec.env.unset.push("PATH".into());
    f.start_ok(spec);
    assert_eq!(f.wait_ended("env").status, Status::Exited(0));
    let env = f.texts("env");
    assert!(env.contains(&"PROCMAN_VAR=a b".to_owned()), "{env:?}");
    assert!(
        !env.iter().any(|v| v.starts_with("PATH=")),
        "PATH was unset: {env:?}"
    );
    assert!(env.len() > 1, "the rest is inherited: {env:?}");

    let dir: PathBuf = std::env::temp_dir().join(format!("procman os cwd {}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    f.start_ok(ProcessSpec::new("cwd", ["pwd", "-P"]).with_cwd(&dir));
    assert_eq!(f.wait_ended("cwd").status, Status::Exited(0));
    let cwd = dir.canonicalize().expect("canonical temp dir");
    assert_eq!(
        f.texts("cwd"),
        vec![cwd.to_str().expect("utf-8 path").to_owned()]
    );
    std::fs::remove_dir(&dir).expect("remove the temp dir");
}

/// Instantiates the real-process cases for one design:
/// `os_suite!(design, |launcher, config| ...)` expands to `mod design { #[test] fn case() ... }`.
/// See the module docs of [`os`](crate::os).
#[macro_export]
macro_rules! os_suite {
    ($design:ident, $make:expr $(,)?) => {
        mod $design {
            fn make(
                launcher: ::std::sync::Arc<dyn $crate::__core::Launcher>,
                config: $crate::__core::ManagerConfig,
            ) -> ::std::boxed::Box<dyn $crate::__core::ProcessManager> {
                #[allow(clippy::redundant_closure_call)]
                ::std::boxed::Box::new(($make)(launcher, config))
            }

            $crate::__with_os_cases!(__os_tests);
        }
    };
}

/// Expands to one `#[test]` per real-process case.
#[doc(hidden)]
#[macro_export]
macro_rules! __os_tests {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::os::$case(&make)
            }
        )*
    };
}

/// Expands to [`OS_CASES`].
#[doc(hidden)]
#[macro_export]
macro_rules! __os_case_names {
    ($($case:ident),* $(,)?) => {
        /// Every real-process case, by name.
        pub const OS_CASES: &[&str] = &[$(stringify!($case)),*];
    };
}

/// The list of real-process cases, written once.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_os_cases {
    ($callback:ident) => {
        $crate::$callback! {
            ignored_sigterm_ends_killed_after_the_stop_timeout,
            a_stop_leaves_no_grandchild_behind,
            a_flood_keeps_memory_bounded_and_readers_served,
            an_exit_at_once_raced_by_a_stop_ends_consistently,
            start_stop_cycles_leave_no_zombie_descriptor_or_thread,
            two_hundred_children_run_and_shutdown_ends_them_all,
            the_last_lines_are_never_lost,
            invalid_utf8_is_marked_lossy,
            a_spawn_error_is_failed_naming_the_path,
            env_and_cwd_reach_the_child,
        }
    };
}

__with_os_cases!(__os_case_names);

#[cfg(test)]
mod tests {
    /// Every `pub fn case(make: &MakeManager)` here is listed (so the macro runs it), and every
    /// listed case exists.
    #[test]
    fn every_os_case_is_instantiated() {
        let mut defined: Vec<&str> = include_str!("os.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("pub fn "))
            .filter_map(|rest| rest.split_once('('))
            .filter(|(_, args)| args.starts_with("make: &MakeManager"))
            .map(|(name, _)| name)
            .collect();
        let mut listed = super::OS_CASES.to_vec();
        defined.sort_unstable();
        listed.sort_unstable();
        assert_eq!(defined, listed, "cases defined vs cases instantiated");
    }
}
