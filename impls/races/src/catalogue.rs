//! The seeded-bug catalogue: known-bad variants of the three designs, each compiled in only by
//! its own Cargo feature (`seeded-bug-<name>` on the design's crate), and, for each, the
//! checker runs that must catch it and what they must report.
//!
//! A bug is a small, clearly marked `#[cfg(feature = "seeded-bug-...")]` block next to the
//! correct code it replaces; production builds never contain one. Its test
//! (`tests/seeded.rs` of the design) passes only if every detection listed here fails the model
//! with the expected [`Finding`] — a checker that catches nothing proves nothing, and one that
//! fails for another reason proves nothing about this bug.
//!
//! `scripts/check-races.sh` builds each bug with its checker and prints, per detection, the
//! schedules it took to catch and the time.

use crate::explore::Checker;
use crate::finding::Finding;

/// What a detection runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// A protocol model of [`crate::models`], by name.
    Model(&'static str),
    /// A stress workload of [`crate::suite::STRESS`], by name: linearizability of a long mixed
    /// history.
    Stress(&'static str),
}

impl Workload {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Model(name) | Workload::Stress(name) => name,
        }
    }
}

/// One checker run that must catch a seeded bug.
#[derive(Clone, Copy, Debug)]
pub struct Detection {
    /// The checker.
    pub checker: Checker,
    /// What it runs.
    pub workload: Workload,
    /// What it must report.
    pub expect: Finding,
}

/// A seeded bug.
#[derive(Clone, Copy, Debug)]
pub struct SeededBug {
    /// The Cargo feature that compiles it in (on the design's crate).
    pub feature: &'static str,
    /// The design whose code it changes: "mutex", "actor" or "atomic".
    pub design: &'static str,
    /// What the bug is, in one line.
    pub what: &'static str,
    /// The runs that must catch it.
    pub detections: &'static [Detection],
}

impl SeededBug {
    /// The bug's short name (its feature without the `seeded-bug-` prefix).
    pub fn name(&self) -> &'static str {
        self.feature
            .strip_prefix("seeded-bug-")
            .expect("every seeded-bug feature starts with seeded-bug-")
    }
}

const fn loom(model: &'static str, expect: Finding) -> Detection {
    Detection {
        checker: Checker::Loom,
        workload: Workload::Model(model),
        expect,
    }
}

const fn shuttle(workload: Workload, expect: Finding) -> Detection {
    Detection {
        checker: Checker::Shuttle,
        workload,
        expect,
    }
}

/// Every seeded bug.
pub const CATALOGUE: &[SeededBug] = &[
    // ---- atomic ----
    SeededBug {
        feature: "seeded-bug-lost-update",
        design: "atomic",
        what: "a transition stores its new state instead of compare-and-swapping it, so a \
               racing transition is overwritten (an exit lost under a stop)",
        detections: &[
            loom("stop_races_natural_exit", Finding::Contract),
            shuttle(
                Workload::Stress("linearizable_random_4x50"),
                Finding::Linearizability,
            ),
        ],
    },
    SeededBug {
        feature: "seeded-bug-cas-against-copy",
        design: "atomic",
        what: "seed 000's CAS loop: it compares against the address of a fresh copy of the \
               loaded state, which is never the installed one, so it retries forever",
        detections: &[
            loom("same_name_start_race", Finding::Livelock),
            shuttle(Workload::Model("same_name_start_race"), Finding::Livelock),
        ],
    },
    SeededBug {
        feature: "seeded-bug-shutdown-flag-race",
        design: "atomic",
        what: "seed 004's shutdown flag: a start loads the flag and registers afterwards, in two \
               steps, so a shutdown in between neither refuses nor waits for it",
        detections: &[
            loom("shutdown_races_start", Finding::Leak),
            shuttle(Workload::Model("shutdown_races_start"), Finding::Leak),
        ],
    },
    SeededBug {
        feature: "seeded-bug-gate-leave-relaxed",
        design: "atomic",
        what: "the shutdown gate's leaving fetch_sub is Relaxed, so a shutdown that finds the \
               start already gone is not ordered after what it registered (weak memory: loom \
               only, shuttle runs sequentially consistent)",
        detections: &[loom("shutdown_gate_publication", Finding::Leak)],
    },
    SeededBug {
        feature: "seeded-bug-gate-opens-on-any-drain",
        design: "atomic",
        what: "the shutdown gate opens its drained latch on any 1 -> 0 of the count, also before \
               the close, so a later shutdown stops waiting while a start is in flight",
        detections: &[
            loom("shutdown_gate_publication", Finding::Leak),
            shuttle(Workload::Model("shutdown_gate_publication"), Finding::Leak),
        ],
    },
    SeededBug {
        feature: "seeded-bug-restart-decided-from-stale-load",
        design: "atomic",
        what: "an exit decides whether the run ended by itself (and so restarts automatically) \
               from a load taken before its compare-and-swap loop, so a stop that got in between \
               ends the run Stopped with a restart armed, and the name comes back",
        detections: &[
            loom("restart_policy_exit_races_stop", Finding::DuplicateRun),
            shuttle(
                Workload::Model("restart_policy_exit_races_stop"),
                Finding::DuplicateRun,
            ),
            shuttle(
                Workload::Stress("linearizable_restart_policy_4x40"),
                Finding::Linearizability,
            ),
        ],
    },
    SeededBug {
        feature: "seeded-bug-stats-count-a-joined-restart",
        design: "atomic",
        what: "a restart that finds a run another start made, and returns it, counts a restart \
               it did not make: stats() drifts from the history",
        detections: &[
            shuttle(
                Workload::Stress("linearizable_random_8x20"),
                Finding::Contract,
            ),
            shuttle(
                Workload::Stress("linearizable_restart_policy_4x40"),
                Finding::Contract,
            ),
        ],
    },
    SeededBug {
        feature: "seeded-bug-auto-restart-ignores-cancel",
        design: "atomic",
        what: "an automatic restart whose backoff has ended checks only that the run it restarts \
               is still current, not that its restart is still armed, so a stop that cancelled it \
               (and returned the ended run) is overridden and the name comes back",
        detections: &[shuttle(
            Workload::Stress("linearizable_restart_policy_4x40"),
            Finding::Linearizability,
        )],
    },
    SeededBug {
        feature: "seeded-bug-recycle-a-shared-state",
        design: "atomic",
        what: "the spare allocation a transition reuses is overwritten without proving it \
               unowned: a writer still holding a guard on that address compares against a state \
               it did not decide from (ABA), so two starts both install and two stops disagree",
        detections: &[
            loom("ended_name_start_race", Finding::DuplicateRun),
            shuttle(Workload::Model("concurrent_stops_join"), Finding::Contract),
        ],
    },
    SeededBug {
        feature: "seeded-bug-torn-snapshot-two-loads",
        design: "atomic",
        what: "status reads the run's status from one load of the cell and the rest of the \
               snapshot from a second load (two cells' worth of reads)",
        detections: &[
            loom("snapshot_consistency", Finding::Invariant),
            shuttle(Workload::Model("snapshot_consistency"), Finding::Invariant),
        ],
    },
    SeededBug {
        feature: "seeded-bug-registry-store-not-cas",
        design: "atomic",
        what: "the registry stores its grown name order instead of compare-and-swapping it, so a \
               name another start listed meanwhile is lost from list",
        detections: &[
            loom("distinct_names_register", Finding::Contract),
            shuttle(
                Workload::Model("distinct_names_register"),
                Finding::Contract,
            ),
        ],
    },
    SeededBug {
        feature: "seeded-bug-intern-check-then-insert",
        design: "atomic",
        what: "the name interner (procman-core, shared by every design) looks a text up and \
               inserts it under two lock acquisitions, so two threads leak two copies of one name",
        detections: &[
            loom("intern_race", Finding::DuplicateRun),
            shuttle(Workload::Model("intern_race"), Finding::DuplicateRun),
        ],
    },
    // ---- mutex ----
    SeededBug {
        feature: "seeded-bug-check-then-insert",
        design: "mutex",
        what: "a new name is inserted into the registry without re-checking under the write \
               lock that no racing start inserted it since the read",
        detections: &[
            loom("same_name_start_race", Finding::DuplicateRun),
            shuttle(
                Workload::Stress("linearizable_pct_6x30"),
                Finding::Linearizability,
            ),
        ],
    },
    SeededBug {
        feature: "seeded-bug-lock-order",
        design: "mutex",
        what: "a start of a known name takes the registry's write lock while it holds the \
               entry's lock: entry then registry, the reverse of the order readers use",
        detections: &[
            loom("snapshot_consistency", Finding::Deadlock),
            shuttle(Workload::Model("snapshot_consistency"), Finding::Deadlock),
        ],
    },
    SeededBug {
        feature: "seeded-bug-lock-across-stop",
        design: "mutex",
        what: "a stop holds the entry's write lock across the stop sequence, so a status read \
               waits for a slow stop (Brummer's lockup)",
        detections: &[
            loom("readers_never_wait_for_a_stop", Finding::Deadlock),
            shuttle(
                Workload::Model("readers_never_wait_for_a_stop"),
                Finding::Deadlock,
            ),
        ],
    },
    SeededBug {
        feature: "seeded-bug-torn-snapshot-two-locks",
        design: "mutex",
        what: "status reads the status under one acquisition of the entry lock and the rest of \
               the snapshot under a second one",
        detections: &[
            loom("snapshot_consistency", Finding::Invariant),
            shuttle(Workload::Model("snapshot_consistency"), Finding::Invariant),
        ],
    },
    SeededBug {
        feature: "seeded-bug-seqview-no-recheck",
        design: "atomic",
        what: "the status view's reader uses the words it loaded without re-reading the \
               sequence, so a read that overlaps a publish mixes two snapshots",
        detections: &[
            loom("seqview_publish_races_read", Finding::Invariant),
            shuttle(
                Workload::Model("seqview_publish_races_read"),
                Finding::Invariant,
            ),
        ],
    },
    SeededBug {
        feature: "seeded-bug-publish-installed-state",
        design: "atomic",
        what: "a writer publishes the state it installed instead of the cell's current one, so \
               a writer that installed first but publishes last puts an older state back in \
               the view, and status reads go back in time",
        detections: &[
            loom("stop_races_natural_exit", Finding::Contract),
            shuttle(
                Workload::Model("stop_races_natural_exit"),
                Finding::Contract,
            ),
        ],
    },
    SeededBug {
        feature: "seeded-bug-cell-read-ahead-of-view",
        design: "atomic",
        what: "a writer acts on a state another writer installed but has not yet published to \
               the status view (a stop answers NotRunning from a Failed run), so a status read \
               after that answer still returns the older state",
        detections: &[shuttle(
            Workload::Stress("linearizable_pct_6x30"),
            Finding::Linearizability,
        )],
    },
    SeededBug {
        feature: "seeded-bug-table-slot-store-not-cas",
        design: "atomic",
        what: "the registry table claims an empty slot with a plain store, so two first starts \
               of one name both insert it and both launch a run",
        detections: &[
            loom("same_name_start_race", Finding::DuplicateRun),
            shuttle(
                Workload::Model("same_name_start_race"),
                Finding::DuplicateRun,
            ),
        ],
    },
    SeededBug {
        feature: "seeded-bug-ended-check-then-install",
        design: "mutex",
        what: "a start of a known name reads whether its run is live under a read lock and \
               installs under a later write lock without re-checking, so two starts of an \
               ended name both install a run, the second over the first's live one (the \
               entry's debug assertion that only ended runs are replaced fires first)",
        detections: &[
            loom("ended_name_start_race", Finding::Panic),
            shuttle(Workload::Model("ended_name_start_race"), Finding::Panic),
        ],
    },
    SeededBug {
        feature: "seeded-bug-install-skips-shutdown-check",
        design: "mutex",
        what: "install() (a start of an ended name, a restart) does not re-check the shutdown \
               flag under the entry lock, so a start that passed the early check installs a \
               run the shutdown has already gone past",
        detections: &[
            loom("shutdown_races_start_of_an_ended_name", Finding::Leak),
            shuttle(
                Workload::Model("shutdown_races_start_of_an_ended_name"),
                Finding::Leak,
            ),
        ],
    },
    // ---- actor ----
    SeededBug {
        feature: "seeded-bug-dropped-reply",
        design: "actor",
        what: "the owner drops the reply of a stop that joins a stop in flight instead of \
               answering it (the caller gets ManagerGone where a snapshot was due)",
        detections: &[
            loom("concurrent_stops_join", Finding::Contract),
            shuttle(Workload::Model("concurrent_stops_join"), Finding::Contract),
        ],
    },
    SeededBug {
        feature: "seeded-bug-lost-wakeup",
        design: "actor",
        what: "the owner goes to sleep without re-checking the queue after announcing it, so a \
               message posted in between never rings the doorbell",
        detections: &[
            loom("same_name_start_race", Finding::Deadlock),
            shuttle(Workload::Model("same_name_start_race"), Finding::Deadlock),
        ],
    },
];

/// The bug behind `feature`.
pub fn bug(feature: &str) -> &'static SeededBug {
    CATALOGUE
        .iter()
        .find(|b| b.feature == feature)
        .unwrap_or_else(|| panic!("{feature:?} is not in the seeded-bug catalogue"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_well_formed() {
        assert!(CATALOGUE.len() >= 8);
        for bug in CATALOGUE {
            assert!(bug.feature.starts_with("seeded-bug-"), "{}", bug.feature);
            assert!(["mutex", "actor", "atomic"].contains(&bug.design));
            assert!(
                !bug.detections.is_empty(),
                "{} has no detection",
                bug.feature
            );
            for d in bug.detections {
                match d.workload {
                    Workload::Model(name) => {
                        crate::models::model(name);
                    }
                    Workload::Stress(name) => assert!(
                        crate::suite::STRESS.iter().any(|(n, _, _)| *n == name),
                        "{name}"
                    ),
                }
            }
        }
        let mut features: Vec<_> = CATALOGUE.iter().map(|b| b.feature).collect();
        features.sort_unstable();
        features.dedup();
        assert_eq!(features.len(), CATALOGUE.len(), "a feature listed twice");
        for design in ["mutex", "actor", "atomic"] {
            assert!(CATALOGUE.iter().any(|b| b.design == design), "{design}");
        }
    }
}
