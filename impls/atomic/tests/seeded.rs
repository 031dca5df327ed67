//! The atomic design's seeded bugs (procman-races' catalogue): each test is ignored unless its
//! bug's feature is on, and then passes only if the checker catches the bug, e.g.
//! `cargo test -p procman-atomic --features loom,seeded-bug-lost-update --test seeded`.
//! `scripts/check-races.sh` runs every one.
#![cfg(any(feature = "loom", feature = "shuttle"))]

procman_races::seeded_suite!(
    atomic,
    procman_atomic::AtomicManager::new,
    {
        lost_update => "seeded-bug-lost-update",
        cas_against_copy => "seeded-bug-cas-against-copy",
        shutdown_flag_race => "seeded-bug-shutdown-flag-race",
        gate_leave_relaxed => "seeded-bug-gate-leave-relaxed",
        restart_decided_from_stale_load => "seeded-bug-restart-decided-from-stale-load",
        stats_count_a_joined_restart => "seeded-bug-stats-count-a-joined-restart",
        auto_restart_ignores_cancel => "seeded-bug-auto-restart-ignores-cancel",
        recycle_a_shared_state => "seeded-bug-recycle-a-shared-state",
        gate_opens_on_any_drain => "seeded-bug-gate-opens-on-any-drain",
        torn_snapshot_two_loads => "seeded-bug-torn-snapshot-two-loads",
        registry_store_not_cas => "seeded-bug-registry-store-not-cas",
        intern_check_then_insert => "seeded-bug-intern-check-then-insert",
        seqview_no_recheck => "seeded-bug-seqview-no-recheck",
        publish_installed_state => "seeded-bug-publish-installed-state",
        cell_read_ahead_of_view => "seeded-bug-cell-read-ahead-of-view",
        table_slot_store_not_cas => "seeded-bug-table-slot-store-not-cas",
    }
);
