//! The mutex design's seeded bugs (procman-races' catalogue): each test is ignored unless its
//! bug's feature is on, and then passes only if the checker catches the bug, e.g.
//! `cargo test -p procman-mutex --features loom,seeded-bug-lock-order --test seeded`.
//! `scripts/check-races.sh` runs every one.
#![cfg(any(feature = "loom", feature = "shuttle"))]

procman_races::seeded_suite!(
    mutex,
    procman_mutex::MutexManager::new,
    {
        check_then_insert => "seeded-bug-check-then-insert",
        lock_order => "seeded-bug-lock-order",
        lock_across_stop => "seeded-bug-lock-across-stop",
        torn_snapshot_two_locks => "seeded-bug-torn-snapshot-two-locks",
        ended_check_then_install => "seeded-bug-ended-check-then-install",
        install_skips_shutdown_check => "seeded-bug-install-skips-shutdown-check",
    }
);
