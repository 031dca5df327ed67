//! What the per-design test files run: the protocol models, the stress workloads and the
//! seeded-bug detections, each explored under the build's checker and reported.
//!
//! Each design instantiates these with one line per file (see [`crate::model_suite!`],
//! [`crate::stress_suite!`], [`crate::seeded_suite!`]); the bodies are the same for all three.

use crate::catalogue::{self, Workload};
use crate::explore::{Budget, Checker, explore, explore_catching, report};
use crate::finding::Finding;
use crate::models;
use crate::stress::{Shape, stress};
use crate::world::MakeManager;

/// Explores the protocol model `name` for the design `make` builds.
pub fn run_model(design: &str, name: &str, make: MakeManager) {
    let model = models::model(name);
    let explored = explore(Budget::MODEL.for_design(design), (model.body)(make));
    pass(design, name, explored);
}

/// The stress workloads: shape and budget of each, by test name.
pub const STRESS: &[(&str, Shape, Budget)] = &[
    (
        "linearizable_random_4x50",
        Shape {
            threads: 4,
            calls_per_thread: 50,
            restart_policy: false,
        },
        Budget::random(100, 1000),
    ),
    (
        "linearizable_pct_6x30",
        Shape {
            threads: 6,
            calls_per_thread: 30,
            restart_policy: false,
        },
        Budget::pct(200, 2000),
    ),
    (
        "linearizable_random_8x20",
        Shape {
            threads: 8,
            calls_per_thread: 20,
            restart_policy: false,
        },
        Budget::random(60, 600),
    ),
    (
        "linearizable_restart_policy_4x40",
        Shape {
            threads: 4,
            calls_per_thread: 40,
            restart_policy: true,
        },
        Budget::random(100, 1000),
    ),
];

/// Explores the stress workload `name` (one of [`STRESS`]) for the design `make` builds.
pub fn run_stress(design: &str, name: &str, make: MakeManager) {
    let (_, shape, budget) = *STRESS
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no stress workload named {name:?}"));
    let explored = explore(budget, stress(make, shape));
    pass(design, name, explored);
}

fn pass(design: &str, test: &str, explored: crate::explore::Explored) {
    let checker = explored.checker.feature();
    println!(
        "procman-races: {design} {test}: {checker} explored {} schedules ({}) in {:.2?}",
        explored.schedules,
        explored.coverage(),
        explored.elapsed
    );
    report(&format!(
        "pass\t{design}\t{checker}\t{test}\t{}\t{}\t{}",
        explored.coverage(),
        explored.schedules,
        explored.elapsed.as_millis()
    ));
}

/// The seeded-bug test: the bug behind `feature` is compiled in; every detection the catalogue
/// lists for this build's checker must catch it, as the finding it names. Passes only then.
pub fn expect_caught(design: &str, feature: &str, make: MakeManager) {
    let bug = catalogue::bug(feature);
    let checker = Checker::active().unwrap_or_else(|| {
        panic!("{feature}: run the seeded-bug tests with `--features loom` or `--features shuttle`")
    });
    let detections: Vec<_> = bug
        .detections
        .iter()
        .filter(|d| d.checker == checker)
        .collect();
    assert!(
        !detections.is_empty(),
        "{feature}: the catalogue lists no {} detection for it; run it with --features {}",
        checker.feature(),
        bug.detections
            .iter()
            .map(|d| d.checker.feature())
            .collect::<Vec<_>>()
            .join(" or ")
    );
    assert_eq!(
        design, bug.design,
        "{feature} is a bug of the {} design",
        bug.design
    );
    for detection in detections {
        let (budget, body) = match detection.workload {
            Workload::Model(name) => (
                Budget::MODEL.for_design(design),
                (models::model(name).body)(make),
            ),
            Workload::Stress(name) => {
                let (_, shape, budget) = *STRESS
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .unwrap_or_else(|| panic!("no stress workload named {name:?}"));
                (budget, stress(make, shape))
            }
        };
        let workload = detection.workload.name();
        match explore_catching(budget, body) {
            Ok(explored) => {
                report(&format!(
                    "missed\t{}\t{}\t{}\t{workload}\t-\t{}\t{}",
                    bug.design,
                    bug.name(),
                    checker.feature(),
                    explored.schedules,
                    explored.elapsed.as_millis()
                ));
                panic!(
                    "SEEDED BUG NOT CAUGHT: {feature} ({}) survived {} {} schedules ({}) of \
                     {workload}",
                    bug.what,
                    explored.schedules,
                    checker.feature(),
                    explored.coverage()
                )
            }
            Err((explored, message)) => {
                let found = Finding::classify(&message);
                assert_eq!(
                    found, detection.expect,
                    "{feature}: {workload} failed, but as {found}, not the expected {}; the \
                     failure:\n{message}",
                    detection.expect
                );
                println!(
                    "procman-races: CAUGHT {feature} with {} {workload} as {found} after {} \
                     schedules in {:.2?}",
                    checker.feature(),
                    explored.schedules,
                    explored.elapsed
                );
                report(&format!(
                    "caught\t{}\t{}\t{}\t{workload}\t{found}\t{}\t{}",
                    bug.design,
                    bug.name(),
                    checker.feature(),
                    explored.schedules,
                    explored.elapsed.as_millis()
                ));
            }
        }
    }
}

/// Checks a design's `seeded.rs` against the catalogue and its `Cargo.toml`: it lists exactly
/// the catalogue's bugs of `design`, each declared as a feature, and at most one is enabled.
pub fn check_seeded_suite(design: &str, listed: &[(&str, bool)], cargo_toml: &str) {
    let mut want: Vec<&str> = catalogue::CATALOGUE
        .iter()
        .filter(|b| b.design == design)
        .map(|b| b.feature)
        .collect();
    let mut have: Vec<&str> = listed.iter().map(|(f, _)| *f).collect();
    want.sort_unstable();
    have.sort_unstable();
    assert_eq!(
        have, want,
        "tests/seeded.rs of the {design} design must list exactly the catalogue's {design} bugs"
    );
    for feature in &want {
        assert!(
            cargo_toml
                .lines()
                .any(|line| line.trim_start().starts_with(&format!("{feature} = "))),
            "{feature} is not declared in the {design} design's Cargo.toml [features]"
        );
    }
    let enabled: Vec<&str> = listed
        .iter()
        .filter(|(_, on)| *on)
        .map(|(f, _)| *f)
        .collect();
    assert!(
        enabled.len() <= 1,
        "seed one bug at a time (each masks the others): {enabled:?}"
    );
}
