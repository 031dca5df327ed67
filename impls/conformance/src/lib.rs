//! The one conformance suite every [`ProcessManager`] design must pass.
//!
//! The behaviour it checks is the contract written on [`ProcessManager`] (and the status machine
//! in [`procman_core::status`]); each case says which sentence of it the case holds a design to.
//! The suite is written once, as plain functions over a [`MakeManager`], and instantiated per
//! design by [`conformance_suite!`] — the way arc-swap runs one torture suite per strategy — so
//! every design answers to exactly the same cases, and test names carry the design
//! (`atomic::stop_while_starting_is_busy`).
//!
//! # Instantiating it for a design
//!
//! In the design's crate, add `procman-conformance` to `[dev-dependencies]` and write
//! `tests/conformance.rs`:
//!
//! ```ignore
//! procman_conformance::conformance_suite!(atomic, |launcher, config| {
//!     procman_atomic::AtomicManager::new(launcher, config)
//! });
//! ```
//!
//! The closure gets an `Arc<dyn Launcher>` and a [`ManagerConfig`] and returns the manager by
//! value (any `ProcessManager + 'static`). Run it with
//! `cargo test -p procman-atomic --test conformance`; pick one case with a filter
//! (`-- atomic::restart`). Every case builds its own manager over its own [`SimLauncher`].
//!
//! # What it covers
//!
//! | module          | what                                                                |
//! |-----------------|---------------------------------------------------------------------|
//! | [`lifecycle`]   | start, `IfRunning`, generations and ids, status by id, list, drop    |
//! | [`transitions`] | every status a run can reach, and every refused transition, as seen through the manager: `Starting` (held spawn), `Stopping` (held stop), `Stopped`, `Exited`, `Killed` (natural signal, stop timeout, force), `Failed`; `Busy`, `NotRunning`, joined stops |
//! | [`restart`]     | manual restarts (running, ended, stopping, by id) and the restart policies: never / on-failure / always, `max_restarts`, backoff, cancellation |
//! | [`logs`]        | tail by cursor, drop counting, per-run rings, search (substring, regex, name filter, limit, bad pattern) |
//! | [`shutdown`]    | rejection of new work, the report (graceful / killed), deadline, idempotence, a spawn racing the flag |
//! | [`errors`]      | bad input and unknown targets give the right variant, naming the process; `max_processes`; counters |
//! | [`concurrent`]  | readers never wait for a slow stop or spawn; writers of other names neither; same-name start races; stop racing a natural exit; shutdown racing starts; a churn with readers checking that no observation goes backwards |
//!
//! Every snapshot any call returns is checked with [`ProcessSnapshot::check_invariants`] (see
//! [`support`]). No case asserts that anything was fast: waits are bounded by a liveness limit
//! ([`support::LIVENESS`], 20 s) that only a design that never gets there reaches, and the
//! fixture's calls — reads included — run on other threads under that bound, so a deadlock fails
//! its case instead of hanging the run. Slow work is held open by the test, not by a clock: a
//! spawn waits in the launcher ([`SimLauncher::hold_spawns`]) and a child ignores SIGTERM or dies
//! slowly ([`SimScript::slow_stop`]) until the test ends it by hand, so "readers never wait" is
//! asserted as "readers completed N rounds while the slow call had provably not returned", and
//! every such case is deterministic. Sleeps only precede checks that something did *not* happen
//! (no restart beyond `max_restarts`), which a slow machine can only weaken, never fail, or make
//! an interleaving likely without depending on it (two stops meeting on a child that takes a
//! second to die: a round where they did not meet is run again).
//! The whole suite takes about a second per design.
//!
//! Cases that run real processes through the OS launcher live apart (`os.rs`, with their own
//! macro), so this suite stays fast and needs nothing from the machine.
//!
//! [`ProcessManager`]: procman_core::ProcessManager
//! [`ManagerConfig`]: procman_core::ManagerConfig
//! [`SimLauncher`]: procman_core::SimLauncher
//! [`SimLauncher::hold_spawns`]: procman_core::SimLauncher::hold_spawns
//! [`SimScript::slow_stop`]: procman_core::SimScript::slow_stop
//! [`ProcessSnapshot::check_invariants`]: procman_core::ProcessSnapshot::check_invariants

pub mod concurrent;
pub mod errors;
pub mod lifecycle;
pub mod logs;
pub mod os;
pub mod restart;
pub mod shutdown;
pub mod support;
pub mod transitions;

pub use support::MakeManager;

#[doc(hidden)]
pub use procman_core as __core;

/// Instantiates the whole suite for one design: `conformance_suite!(design, |launcher, config| ...)`
/// expands to `mod design { #[test] fn case() { ... } ... }`, one test per case. See the crate
/// docs.
#[macro_export]
macro_rules! conformance_suite {
    ($design:ident, $make:expr $(,)?) => {
        mod $design {
            fn make(
                launcher: ::std::sync::Arc<dyn $crate::__core::Launcher>,
                config: $crate::__core::ManagerConfig,
            ) -> ::std::boxed::Box<dyn $crate::__core::ProcessManager> {
                #[allow(clippy::redundant_closure_call)]
                ::std::boxed::Box::new(($make)(launcher, config))
            }

            $crate::__with_cases!(__conformance_tests);
        }
    };
}

/// Expands to one `#[test]` per case, calling the case with the `make` in scope.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::$module::$case(&make)
            }
        )*
    };
}

/// Expands to [`CASES`].
#[doc(hidden)]
#[macro_export]
macro_rules! __case_names {
    ($($module:ident :: $case:ident),* $(,)?) => {
        /// Every case of the suite, as `module::case`.
        pub const CASES: &[&str] = &[$(concat!(stringify!($module), "::", stringify!($case))),*];
    };
}

/// The list of cases, written once: calls `$crate::$callback!` with `module::case, ...`.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_cases {
    ($callback:ident) => {
        $crate::$callback! {
            lifecycle::start_runs_the_process,
            lifecycle::starting_is_visible_during_a_held_spawn,
            lifecycle::start_of_a_running_name_returns_it,
            lifecycle::start_of_a_running_name_can_refuse,
            lifecycle::start_of_a_starting_name_is_already_running,
            lifecycle::start_after_exit_is_a_new_generation,
            lifecycle::a_child_that_exits_at_once,
            lifecycle::generations_increase_with_every_start,
            lifecycle::list_is_sorted_by_name,
            lifecycle::status_by_id,
            lifecycle::id_below_a_names_first_generation,
            lifecycle::drop_shuts_down,
            transitions::stop_running_is_stopped,
            transitions::stopping_is_visible_during_a_slow_stop,
            transitions::a_stopped_process_is_never_failed,
            transitions::natural_exit_is_exited_with_its_code,
            transitions::natural_death_by_signal_is_killed,
            transitions::stop_timeout_escalates_to_sigkill,
            transitions::force_stop_kills_at_once,
            transitions::spawn_error_is_failed,
            transitions::stop_of_an_ended_run_is_not_running,
            transitions::stop_while_starting_is_busy,
            transitions::concurrent_stops_return_the_same_snapshot,
            transitions::force_stop_joins_a_stop_in_flight,
            restart::restart_of_a_running_process,
            restart::restart_of_an_ended_process,
            restart::restart_joins_a_stop_in_flight,
            restart::never_policy_does_not_restart,
            restart::on_failure_ignores_a_clean_exit,
            restart::on_failure_restarts_up_to_max_restarts,
            restart::on_failure_restarts_after_death_by_signal,
            restart::always_restarts_clean_exits_up_to_max_restarts,
            restart::a_stop_is_never_restarted,
            restart::backoff_delays_the_restart_and_stop_cancels_it,
            restart::manual_restarts_do_not_count_against_max_restarts,
            restart::shutdown_cancels_a_pending_restart,
            logs::tail_reads_from_a_cursor,
            logs::ring_drops_oldest_and_counts_them,
            logs::logs_are_per_run,
            logs::search_substring_and_regex,
            logs::search_by_name,
            logs::search_limit_keeps_the_newest,
            logs::search_rejects_bad_patterns,
            shutdown::shutdown_reports_graceful_and_killed,
            shutdown::shutdown_rejects_new_work,
            shutdown::second_shutdown_reports_nothing_new,
            shutdown::shutdown_kills_a_stop_in_flight_at_its_deadline,
            shutdown::shutdown_during_a_spawn_leaves_nothing_alive,
            errors::invalid_specs_are_rejected,
            errors::unknown_targets_are_not_found,
            errors::max_processes_is_enforced,
            errors::counters_follow_every_run,
            concurrent::readers_never_wait_for_a_slow_stop,
            concurrent::readers_never_wait_for_a_slow_spawn,
            concurrent::other_names_never_wait_for_a_held_spawn,
            concurrent::other_names_never_wait_for_a_stop_in_flight,
            concurrent::same_name_start_race_makes_one_run,
            concurrent::concurrent_starts_never_collide,
            concurrent::stop_racing_a_natural_exit,
            concurrent::shutdown_racing_starts_leaves_nothing_alive,
            concurrent::readers_see_consistent_monotone_runs_under_churn,
        }
    };
}

__with_cases!(__case_names);

#[cfg(test)]
mod tests {
    use super::CASES;

    /// Every `pub fn case(make: &MakeManager)` in the case modules is listed in `CASES` (so the
    /// macro runs it), and every listed case exists.
    #[test]
    fn every_case_is_instantiated() {
        let sources = [
            ("lifecycle", include_str!("lifecycle.rs")),
            ("transitions", include_str!("transitions.rs")),
            ("restart", include_str!("restart.rs")),
            ("logs", include_str!("logs.rs")),
            ("shutdown", include_str!("shutdown.rs")),
            ("errors", include_str!("errors.rs")),
            ("concurrent", include_str!("concurrent.rs")),
        ];
        let mut defined = Vec::new();
        for (module, source) in sources {
            for line in source.lines() {
                if let Some(rest) = line.strip_prefix("pub fn ")
                    && let Some((name, args)) = rest.split_once('(')
                    && args.starts_with("make: &MakeManager")
                {
                    defined.push(format!("{module}::{name}"));
                }
            }
        }
        let mut listed: Vec<String> = CASES.iter().map(|c| c.to_string()).collect();
        defined.sort();
        listed.sort();
        assert_eq!(defined, listed, "cases defined vs cases instantiated");
        assert!(CASES.len() >= 30);
    }
}
