//! OsLauncher with `adopt_orphans`: this process becomes a child subreaper, so a stopped run
//! leaves not even a zombie of its group behind, even where init does not reap orphans.
//!
//! A binary of its own: the subreaper setting is process-wide.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

mod os_support;

use std::time::Duration;

use os_support::{our_zombies, sh, start};
use procman_core::launcher::os::procfs;
use procman_core::supervise::{StopEscalation, run_stop_sequence};
use procman_core::{ExitInfo, OsLauncher, OsLauncherConfig, Signal};

#[test]
fn a_stopped_group_leaves_no_process_at_all_behind() {
    let l = OsLauncher::with_config(OsLauncherConfig {
        adopt_orphans: true,
        ..OsLauncherConfig::default()
    })
    .unwrap();
    for _ in 0..20 {
        let (child, rec) = start(&l, &sh("sleep 1000 & sleep 1000 & echo ready; wait"));
        rec.wait_line("ready");
        let pgid = child.pid();
        let how = run_stop_sequence(
            &*child,
            Signal::TERM,
            Duration::from_secs(20),
            false,
            &rec.latch,
        );
        assert_eq!(how, StopEscalation::Graceful);
        assert_eq!(rec.wait_exit(), ExitInfo::Signal(Signal::TERM));
        // Not a zombie either: the orphans were adopted and reaped before the exit was reported.
        assert_eq!(procfs::group_members(pgid as i32).unwrap(), vec![]);
    }
    for _ in 0..20 {
        // The leader exits at once; its orphaned jobs are adopted, stopped and reaped.
        let (child, rec) = start(&l, &sh("sleep 1000 & sleep 1000 & echo $!"));
        let pgid = child.pid();
        assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
        assert_eq!(procfs::group_members(pgid as i32).unwrap(), vec![]);
    }
    assert_eq!(our_zombies(), vec![]);
}
