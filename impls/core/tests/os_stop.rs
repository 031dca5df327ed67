//! OsLauncher, stopping: signals reach the whole group, a child that ignores SIGTERM is killed
//! after the timeout, nothing of the group outlives the run, a group that outlives its leader is
//! stopped (the orphan policy), signals to a finished child are harmless, and an exit racing a
//! stop ends exactly once.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

mod os_support;

use std::time::Duration;

use os_support::{Recorder, is_live, live_members, our_zombies, sh, start};
use procman_core::supervise::{StopEscalation, run_stop_sequence};
use procman_core::{ExitInfo, Launcher, OsLauncher, ProcessSpec, Signal};

const SHORT_STOP: Duration = Duration::from_millis(300);

/// The pids a line of `$!`s printed, as written by `echo $! $!`.
fn pids(line: &str) -> Vec<u32> {
    line.split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

#[test]
fn a_child_that_ignores_sigterm_is_killed_after_the_timeout() {
    let l = OsLauncher::new();
    let spec = sh("trap '' TERM; echo ready; sleep 1000").with_stop_timeout(SHORT_STOP);
    let (child, rec) = start(&l, &spec);
    // Stop only once the trap is in place, or SIGTERM would land before it.
    rec.wait_line("ready");
    let pgid = child.pid();
    let how = run_stop_sequence(&*child, Signal::TERM, SHORT_STOP, false, &rec.latch);
    assert_eq!(how, StopEscalation::Killed);
    assert_eq!(rec.wait_exit(), ExitInfo::Signal(Signal::KILL));
    assert!(live_members(pgid).is_empty(), "{:?}", live_members(pgid));
}

#[test]
fn stopping_a_shell_stops_its_grandchildren_too() {
    let l = OsLauncher::new();
    let (child, rec) = start(&l, &sh("sleep 1000 & sleep 1000 & echo $!; wait"));
    rec.wait_until("the pids", |r| !r.lines.is_empty());
    let grandchild = pids(&rec.texts()[0])[0];
    let pgid = child.pid();
    assert!(is_live(grandchild));
    let how = run_stop_sequence(
        &*child,
        Signal::TERM,
        Duration::from_secs(20),
        false,
        &rec.latch,
    );
    assert_eq!(how, StopEscalation::Graceful);
    assert_eq!(rec.wait_exit(), ExitInfo::Signal(Signal::TERM));
    // The launcher reports the end only once the group is empty: no polling needed.
    assert!(live_members(pgid).is_empty(), "{:?}", live_members(pgid));
    assert!(!is_live(grandchild));
}

#[test]
fn sigkill_reaches_the_whole_group() {
    let l = OsLauncher::new();
    let (child, rec) = start(
        &l,
        &sh("trap '' TERM; sleep 1000 & sleep 1000 & echo ready; wait"),
    );
    rec.wait_line("ready");
    let pgid = child.pid();
    child.signal(Signal::KILL).unwrap();
    assert_eq!(rec.wait_exit(), ExitInfo::Signal(Signal::KILL));
    assert!(live_members(pgid).is_empty(), "{:?}", live_members(pgid));
}

#[test]
fn a_job_left_behind_by_the_leader_is_stopped_and_the_run_ends() {
    let l = OsLauncher::new();
    // The leader exits at once; its background job would run for 1000 s.
    let (child, rec) = start(&l, &sh("sleep 1000 & echo $!"));
    let pgid = child.pid();
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    let job = pids(&rec.texts()[0])[0];
    assert!(!is_live(job), "the job outlived the run");
    assert!(live_members(pgid).is_empty(), "{:?}", live_members(pgid));
}

#[test]
fn a_left_behind_job_that_ignores_sigterm_is_killed_after_the_stop_timeout() {
    let l = OsLauncher::new();
    let spec = sh("trap '' TERM; sleep 1000 & echo $!").with_stop_timeout(SHORT_STOP);
    let (child, rec) = start(&l, &spec);
    let pgid = child.pid();
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    let job = pids(&rec.texts()[0])[0];
    assert!(!is_live(job), "the job outlived the run");
    assert!(live_members(pgid).is_empty(), "{:?}", live_members(pgid));
}

#[test]
fn signalling_a_finished_child_is_ok_and_sends_nothing() {
    let l = OsLauncher::new();
    let (child, rec) = start(&l, &ProcessSpec::new("t", ["true"]));
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    child.signal(Signal::TERM).unwrap();
    child.signal(Signal::KILL).unwrap();
    assert!(!our_zombies().iter().any(|z| z.pid == child.pid() as i32));
}

#[test]
fn a_signal_before_attach_reaches_the_child() {
    let l = OsLauncher::new();
    let spec = ProcessSpec::new("t", ["sleep", "1000"]);
    let child = l.spawn(&os_support::id("t"), &spec).unwrap();
    child.signal(Signal::KILL).unwrap();
    let rec = Recorder::new();
    child.attach(rec.clone());
    assert_eq!(rec.wait_exit(), ExitInfo::Signal(Signal::KILL));
}

#[test]
fn a_child_dropped_without_attach_is_killed_and_reaped() {
    let l = OsLauncher::new();
    let child = l
        .spawn(&os_support::id("t"), &sh("sleep 1000 & sleep 1000"))
        .unwrap();
    let pid = child.pid();
    drop(child);
    os_support::eventually("the unattached child is gone", || {
        fully_gone(pid) && live_members(pid).is_empty()
    });
    os_support::eventually("its supervisor finished", || l.live() == 0);
}

/// True once `pid` is neither alive nor a zombie of ours.
fn fully_gone(pid: u32) -> bool {
    !is_live(pid) && !our_zombies().iter().any(|z| z.pid == pid as i32)
}

#[test]
fn an_invalid_signal_is_an_error_naming_the_group() {
    let l = OsLauncher::new();
    let (child, rec) = start(&l, &ProcessSpec::new("t", ["sleep", "1000"]));
    let err = child.signal(Signal(999)).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("process group {}", child.pid())),
        "{err}"
    );
    child.signal(Signal::KILL).unwrap();
    assert_eq!(rec.wait_exit(), ExitInfo::Signal(Signal::KILL));
}

#[test]
fn an_exit_racing_a_stop_ends_exactly_once() {
    let l = OsLauncher::new();
    for round in 0..50 {
        let (child, rec) = start(
            &l,
            &ProcessSpec::new("t", ["true"]).with_stop_timeout(SHORT_STOP),
        );
        let pid = child.pid();
        // Stop from two threads at once while the child exits by itself.
        std::thread::scope(|s| {
            s.spawn(|| run_stop_sequence(&*child, Signal::TERM, SHORT_STOP, false, &rec.latch));
            s.spawn(|| child.signal(Signal::KILL).unwrap());
        });
        let exit = rec.wait_exit();
        assert!(
            matches!(
                exit,
                ExitInfo::Code(0) | ExitInfo::Signal(Signal::TERM) | ExitInfo::Signal(Signal::KILL)
            ),
            "round {round}: {exit:?}"
        );
        assert!(
            !our_zombies().iter().any(|z| z.pid == pid as i32),
            "round {round}"
        );
    }
}
