//! The actor design's seeded bugs (procman-races' catalogue): each test is ignored unless its
//! bug's feature is on, and then passes only if the checker catches the bug, e.g.
//! `cargo test -p procman-actor --features loom,seeded-bug-dropped-reply --test seeded`.
//! `scripts/check-races.sh` runs every one.
#![cfg(any(feature = "loom", feature = "shuttle"))]

procman_races::seeded_suite!(
    actor,
    procman_actor::ActorManager::new,
    {
        dropped_reply => "seeded-bug-dropped-reply",
        lost_wakeup => "seeded-bug-lost-wakeup",
    }
);
