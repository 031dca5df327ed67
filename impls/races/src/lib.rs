//! procman-races: race verification of the three process-manager designs, written once and
//! run against each design's real code through the `procman_core::sync` facade.
//!
//! - [`models`]: small protocol models (two racing parties) that loom explores exhaustively
//!   within its preemption bound, and shuttle samples;
//! - [`stress`]: shuttle workloads of the whole manager — 4 to 8 client threads, hundreds of
//!   mixed calls — whose recorded histories ([`history`]) must be linearizable against a
//!   sequential specification of the contract ([`linearizability`]);
//! - [`catalogue`]: seeded bugs, each behind a `seeded-bug-*` feature of a design crate, and the
//!   checker runs that must catch each one;
//! - [`explore`]: one entry that runs a body under the build's checker, counts the schedules,
//!   and replays a failing shuttle schedule.
//!
//! # Instantiating it for a design
//!
//! A design crate forwards its checker features to this crate (a dev-dependency):
//! `loom = ["procman-core/loom", "procman-races/loom"]`, and has three test files, each one
//! macro call:
//!
//! ```ignore
//! // tests/loom.rs
//! #![cfg(feature = "loom")]
//! procman_races::model_suite!(mutex, |launcher, config| MutexManager::new(launcher, config));
//!
//! // tests/shuttle.rs
//! #![cfg(feature = "shuttle")]
//! procman_races::model_suite!(mutex, |launcher, config| MutexManager::new(launcher, config));
//! procman_races::stress_suite!(|launcher, config| MutexManager::new(launcher, config));
//!
//! // tests/seeded.rs
//! #![cfg(any(feature = "loom", feature = "shuttle"))]
//! procman_races::seeded_suite!(mutex, |launcher, config| MutexManager::new(launcher, config), {
//!     check_then_insert => "seeded-bug-check-then-insert",
//! });
//! ```
//!
//! A file whose checker feature is off compiles to nothing, so `scripts/check-races.sh` fails
//! any suite that reports zero tests: a cfg that silently runs nothing is a defect, not a pass.
//!
//! # What the models do not cover (gaps)
//!
//! - Time: neither loom nor shuttle ever times out a timed wait, so a stop timeout never
//!   escalates to SIGKILL and an automatic restart's backoff never fires inside a model. Stops
//!   are checked with children that die of the stop signal or are ended by hand; escalation
//!   and backoff are covered by the conformance suite on real threads.
//! - The facade's model swaps (documented in `procman_core::sync`): `ArcSwap` and `DashMap`
//!   are modelled by a lock-protected slot and one `RwLock<HashMap>`; they are linearizable
//!   like the real ones, but the models add blocking (so lock-freedom itself is not checked)
//!   and `ConcurrentMap::for_each` is more consistent than dashmap's shard-by-shard walk.
//! - Memory ordering: loom checks the C11 orderings of the atomics; shuttle runs sequentially
//!   consistent. The linearizability check runs under shuttle only.
//! - Launcher: the simulated launcher delivers events synchronously on the calling thread;
//!   the OS launcher's reader threads are not modelled.
//! - loom allows five threads per model: two racing parties, the actor's two threads, and the
//!   mutex shutdown's helper for a run still starting.

pub mod catalogue;
pub mod explore;
pub mod finding;
pub mod history;
pub mod linearizability;
pub mod models;
pub mod stress;
pub mod suite;
pub mod world;

pub use explore::{Budget, Checker, Explored, explore, explore_catching};
pub use finding::{Finding, fail};
pub use world::{MakeManager, World};

#[doc(hidden)]
pub use procman_core as __core;

/// Defines `fn make(launcher, config) -> Box<dyn ProcessManager>` from a closure.
#[doc(hidden)]
#[macro_export]
macro_rules! __make {
    ($make:expr) => {
        fn make(
            launcher: ::std::sync::Arc<dyn $crate::__core::Launcher>,
            config: $crate::__core::ManagerConfig,
        ) -> ::std::boxed::Box<dyn $crate::__core::ProcessManager> {
            #[allow(clippy::redundant_closure_call)]
            ::std::boxed::Box::new(($make)(launcher, config))
        }
    };
}

/// One `#[test]` per protocol model of [`models::MODELS`], run under the build's checker:
/// `model_suite!(design, |launcher, config| Manager::new(launcher, config))`.
#[macro_export]
macro_rules! model_suite {
    ($design:ident, $make:expr $(,)?) => {
        $crate::__make!($make);
        $crate::__with_models!(__model_tests, $design);
    };
}

/// The model list, written once: calls `$crate::$callback!` with the design and every model.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_models {
    ($callback:ident, $design:ident) => {
        $crate::$callback! {
            $design;
            same_name_start_race,
            stop_races_natural_exit,
            snapshot_consistency,
            shutdown_races_start,
            restart_races_status,
            readers_never_wait_for_a_stop,
            concurrent_stops_join,
            distinct_names_register,
            intern_race,
            shutdown_gate_publication,
            restart_policy_exit_races_stop,
            ended_name_start_race,
            shutdown_races_start_of_an_ended_name,
            seqview_publish_races_read,
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __model_tests {
    ($design:ident; $($model:ident),* $(,)?) => {
        $(
            #[test]
            fn $model() {
                $crate::suite::run_model(stringify!($design), stringify!($model), make);
            }
        )*
    };
}

/// The names [`__with_models!`] expands to, for the test that keeps it equal to
/// [`models::MODELS`].
#[doc(hidden)]
#[macro_export]
macro_rules! __model_names {
    ($design:ident; $($model:ident),* $(,)?) => {
        &[$(stringify!($model)),*]
    };
}

/// One `#[test]` per stress workload of [`suite::STRESS`] (shuttle only): long mixed histories
/// checked for linearizability. Use beside [`model_suite!`], which defines `make`:
/// `stress_suite!(design)`.
#[macro_export]
macro_rules! stress_suite {
    ($design:ident $(,)?) => {
        #[test]
        fn linearizable_random_4x50() {
            $crate::suite::run_stress(stringify!($design), "linearizable_random_4x50", make);
        }

        #[test]
        fn linearizable_pct_6x30() {
            $crate::suite::run_stress(stringify!($design), "linearizable_pct_6x30", make);
        }

        #[test]
        fn linearizable_random_8x20() {
            $crate::suite::run_stress(stringify!($design), "linearizable_random_8x20", make);
        }

        #[test]
        fn linearizable_restart_policy_4x40() {
            $crate::suite::run_stress(
                stringify!($design),
                "linearizable_restart_policy_4x40",
                make,
            );
        }

        #[test]
        fn stress_suite_lists_every_workload() {
            let mut listed = [
                "linearizable_random_4x50",
                "linearizable_pct_6x30",
                "linearizable_random_8x20",
                "linearizable_restart_policy_4x40",
            ];
            let mut all: Vec<&str> = $crate::suite::STRESS.iter().map(|(n, _, _)| *n).collect();
            listed.sort_unstable();
            all.sort_unstable();
            assert_eq!(listed.as_slice(), all.as_slice());
        }
    };
}

/// The seeded-bug tests of one design: one `#[test]` per bug, ignored unless its feature is
/// on, which passes only if the catalogue's detections for the build's checker catch it; and
/// a test that keeps the list equal to the catalogue and to the crate's `[features]`.
///
/// ```ignore
/// seeded_suite!(atomic, |launcher, config| AtomicManager::new(launcher, config), {
///     lost_update => "seeded-bug-lost-update",
/// });
/// ```
#[macro_export]
macro_rules! seeded_suite {
    ($design:ident, $make:expr, { $($test:ident => $feature:literal),* $(,)? } $(,)?) => {
        $crate::__make!($make);

        $(
            #[test]
            #[cfg_attr(not(feature = $feature), ignore = "seed the bug with its feature")]
            fn $test() {
                $crate::suite::expect_caught(stringify!($design), $feature, make);
            }
        )*

        #[test]
        fn seeded_suite_matches_the_catalogue_and_cargo_toml() {
            $crate::suite::check_seeded_suite(
                stringify!($design),
                &[$(($feature, cfg!(feature = $feature))),*],
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")),
            );
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_model_macro_lists_every_model() {
        let listed: &[&str] = __with_models!(__model_names, design);
        let all: Vec<&str> = crate::models::MODELS.iter().map(|m| m.name).collect();
        assert_eq!(listed, all.as_slice());
    }
}
