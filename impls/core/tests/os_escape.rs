//! Descendants that leave the process group (`setsid`, a double-fork daemon, `nohup … &`) and
//! a grandchild that ignores SIGTERM: every one of them dies with its run, under each
//! containment mechanism the launcher has (cgroup v2 where this process may create one, the
//! `/proc` walk everywhere).
//!
//! A binary of its own: it makes the process a child subreaper. Each escaped process is a
//! `sleep` with an unusual duration, so that `/proc` can be searched for exactly it (and only
//! processes this test started are ever looked at).
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

mod os_support;

use std::time::Duration;

use os_support::{eventually, our_zombies, sh, start};
use procman_core::launcher::os::Mechanism;
use procman_core::launcher::os::procfs;
use procman_core::supervise::{StopEscalation, run_stop_sequence};
use procman_core::{ExitInfo, OsLauncher, OsLauncherConfig, Signal};

fn launcher(cgroups: bool) -> OsLauncher {
    OsLauncher::with_config(OsLauncherConfig {
        adopt_orphans: true,
        cgroups,
        ..OsLauncherConfig::default()
    })
    .unwrap()
}

/// When this test process started, in the clock ticks of `/proc/<pid>/stat`.
fn this_process_started() -> u64 {
    let me = std::process::id() as i32;
    procfs::processes()
        .unwrap()
        .into_iter()
        .find(|p| p.pid == me)
        .expect("this process is in /proc")
        .start_time
}

/// Processes (zombies included) whose argv is exactly `sleep SECONDS` and that started after
/// this test process: a stray left on the machine by an earlier run that was killed midway
/// (a timed-out test under cargo mutants left one) is not this run's.
fn sleeps(seconds: &str) -> Vec<i32> {
    let want = format!("sleep\0{seconds}\0");
    let started = this_process_started();
    procfs::processes()
        .unwrap()
        .into_iter()
        .filter(|p| p.start_time >= started)
        .filter(|p| {
            std::fs::read(format!("/proc/{}/cmdline", p.pid))
                .is_ok_and(|c| c == want.as_bytes())
                // A zombie has an empty cmdline: it counts as left over if it is still ours.
                || (p.is_zombie() && p.ppid == std::process::id() as i32 && p.pid > 0 && {
                    std::fs::read_to_string(format!("/proc/{}/comm", p.pid))
                        .is_ok_and(|c| c.trim() == "sleep")
                })
        })
        .map(|p| p.pid)
        .collect()
}

/// Each way a dev server's helpers leave the process group, as a shell line, with the sleep
/// durations that mark the processes it leaves behind.
fn escapes(tag: u32) -> Vec<(String, Vec<String>)> {
    let d = |n: u32| format!("77{n}.{tag}");
    vec![
        (
            format!("setsid sleep {} & echo ready; sleep {}", d(74), d(75)),
            vec![d(74), d(75)],
        ),
        (
            // A double fork: the middle shell exits at once, the sleep is orphaned.
            format!(
                "(setsid sh -c 'sleep {} & exit 0' &); echo ready; sleep {}",
                d(76),
                d(77)
            ),
            vec![d(76), d(77)],
        ),
        (
            format!(
                "nohup sleep {} >/dev/null 2>&1 & echo ready; sleep {}",
                d(78),
                d(79)
            ),
            vec![d(78), d(79)],
        ),
        (
            // SIGTERM is ignored by the grandchild (an ignored disposition survives exec).
            format!(
                "sh -c 'trap \"\" TERM; sleep {}' & echo ready; sleep {}",
                d(80),
                d(81)
            ),
            vec![d(80), d(81)],
        ),
    ]
}

fn assert_all_gone(tags: &[String]) {
    for t in tags {
        assert_eq!(sleeps(t), Vec::<i32>::new(), "sleep {t} outlived its run");
    }
}

/// Stop: every escaped process is gone when the exit is reported.
fn stop_leaves_nothing(l: &OsLauncher, tag: u32) {
    for (line, tags) in escapes(tag) {
        let (child, rec) = start(l, &sh(&line));
        rec.wait_line("ready");
        eventually("every sleep to start", || {
            tags.iter().all(|t| !sleeps(t).is_empty())
        });
        let how = run_stop_sequence(
            &*child,
            Signal::TERM,
            Duration::from_millis(300),
            false,
            &rec.latch,
        );
        // The leader dies of SIGTERM; the ignoring grandchild needs SIGKILL, which the
        // launcher sends at the stop's deadline.
        assert!(
            matches!(how, StopEscalation::Graceful | StopEscalation::Killed),
            "{how:?}"
        );
        rec.wait_exit();
        assert_all_gone(&tags);
    }
}

/// A leader that exits by itself takes its escaped processes with it.
fn exit_leaves_nothing(l: &OsLauncher, tag: u32) {
    for (line, tags) in escapes(tag) {
        // The same helpers, but the leader exits once they are started.
        let line = line.replace("; sleep ", "; exit 0; sleep ");
        let (_child, rec) = start(l, &sh(&line));
        assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
        assert_all_gone(&tags[..1]);
    }
}

#[test]
fn escaped_descendants_die_with_their_run_under_both_mechanisms() {
    let tree = launcher(false);
    assert_eq!(tree.mechanism(), Mechanism::ProcessTree { subreaper: true });
    stop_leaves_nothing(&tree, 1);
    exit_leaves_nothing(&tree, 2);

    let cg = launcher(true);
    // Where this process may create a cgroup (root, or a delegated subtree) runs get one;
    // elsewhere the launcher falls back to the walk, and the same guarantees must hold.
    eprintln!("mechanism with cgroups asked for: {}", cg.mechanism());
    stop_leaves_nothing(&cg, 3);
    exit_leaves_nothing(&cg, 4);
    if let Mechanism::Cgroup { dir } = cg.mechanism() {
        // Every run's cgroup was removed once it was empty.
        let runs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("run-"))
            .map(|e| e.file_name())
            .collect();
        assert_eq!(runs, Vec::<std::ffi::OsString>::new());
    }
    assert_eq!(our_zombies(), vec![]);
    // Last, in the same test: the sweep kills every child of this process that is no run's
    // leader, and a test running beside it could have one.
    an_orphan_that_hides_from_the_walk_is_killed_by_the_exit_sweep();
}

fn an_orphan_that_hides_from_the_walk_is_killed_by_the_exit_sweep() {
    // The helper clears its environment and leaves both group and session, and its parent
    // exits at once: the /proc walk cannot tie the orphan to its run (a cgroup would). The
    // sweep a supervisor runs at exit kills it.
    let l = launcher(false);
    let (_child, rec) = start(
        &l,
        &sh("env -i setsid sh -c 'sleep 7790.5 & exit 0'; exit 0"),
    );
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    assert_eq!(
        sleeps("7790.5").len(),
        1,
        "the limit of the walk, as documented"
    );
    assert!(l.kill_adopted().unwrap() >= 1);
    eventually("the orphan to be gone", || sleeps("7790.5").is_empty());
}
