//! OsLauncher under churn: 1,000 start/stop cycles and 200 children alive at once leave no
//! zombie, no open descriptor and no thread behind.
//!
//! One test in this binary, so that nothing else opens descriptors or threads while it counts.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

mod os_support;

use std::sync::Arc;

use os_support::{Recorder, eventually, is_live, our_zombies, start};
use procman_core::launcher::os::procfs::{self, ProcStat};
use procman_core::{ExitInfo, OsLauncher, ProcessSpec, Signal};

const CYCLES: usize = 1000;
const WORKERS: usize = 4;
const AT_ONCE: usize = 200;

/// One cycle: a child that is stopped (even cycles) or that exits by itself (odd ones).
fn cycle(l: &OsLauncher, i: usize) {
    if i.is_multiple_of(2) {
        let (child, rec) = start(l, &ProcessSpec::new("t", ["sleep", "1000"]));
        child.signal(Signal::TERM).unwrap();
        assert_eq!(rec.wait_exit(), ExitInfo::Signal(Signal::TERM));
    } else {
        let (_child, rec) = start(l, &ProcessSpec::new("t", ["true"]));
        assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    }
}

#[test]
fn churn_leaves_no_zombies_descriptors_or_threads() {
    let l = OsLauncher::new();
    let fds_before = procfs::open_fd_count().unwrap();
    let threads_before = procfs::thread_count().unwrap();

    // 1,000 cycles, from a few threads at once.
    std::thread::scope(|s| {
        for w in 0..WORKERS {
            let l = &l;
            s.spawn(move || {
                for i in (w..CYCLES).step_by(WORKERS) {
                    cycle(l, i);
                }
            });
        }
    });

    // 200 children alive at once, each seen alive in /proc, then all stopped.
    let children: Vec<_> = (0..AT_ONCE)
        .map(|_| start(&l, &ProcessSpec::new("t", ["sleep", "1000"])))
        .collect();
    assert_eq!(l.live(), AT_ONCE);
    for (child, _) in &children {
        let stat = ProcStat::read(child.pid() as i32).unwrap().expect("alive");
        assert!(
            stat.is_live() && stat.pgid == child.pid() as i32,
            "{stat:?}"
        );
    }
    for (child, _) in &children {
        child.signal(Signal::TERM).unwrap();
    }
    let pids: Vec<u32> = children.iter().map(|(c, _)| c.pid()).collect();
    let recorders: Vec<Arc<Recorder>> = children.iter().map(|(_, r)| r.clone()).collect();
    for rec in &recorders {
        assert_eq!(rec.wait_exit(), ExitInfo::Signal(Signal::TERM));
    }
    drop(children);
    assert!(
        pids.iter().all(|&p| !is_live(p)),
        "a child outlived its exit"
    );

    eventually("every supervisor finished", || l.live() == 0);
    eventually("the supervisor threads ended", || {
        procfs::thread_count().unwrap() == threads_before
    });
    assert_eq!(our_zombies(), vec![], "zombie children left behind");
    assert_eq!(
        procfs::open_fd_count().unwrap(),
        fds_before,
        "descriptors leaked"
    );
}
