//! The report renders from result files alone: a small fixture result set (a real, very short
//! run of a tiny scenario for two designs, a seeds file and a claims file made here) renders
//! into REPORT.md, index.html and charts; every chart the page references exists and is
//! well-formed XML; the verdicts follow their rules. No assertion depends on a timing.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::progress::Progress;
use crate::provenance::Provenance;
use crate::results::ResultsFile;
use crate::run::{RunOptions, run_scenario};
use crate::scenario::Scenario;
use crate::seeds::claims::ClaimsFile;
use crate::seeds::{BenchFigure, Estimate, SEEDS_KIND, SEEDS_SCHEMA_VERSION, SeedsFile};
use verdict::Verdict;

const SCENARIO: &str = r#"
description = "fixture: two agents polling status"
processes = 4
launcher = "sim"
clients = [1, 2]
duration = "30ms"
warmup = "10ms"

[[group]]
name = "agents"
clients = "sweep"
loop = "closed"
mix = { scripts_status = 90, scripts_status_all = 10 }
"#;

const CLAIMS: &str = r#"
[[claim]]
id = "single_read_mutex"
seed = "000"
quote = "Single process read | 51.86ns (mutex)"
value = 51.86
unit = "ns/op"
design = "mutex"
bench = "single_process_read/mutex"

[[claim]]
id = "single_read_atomic"
seed = "000"
quote = "Single process read | 9.31ns (lock-free), 5.6x faster"
value = 9.31
unit = "ns/op"
design = "atomic"
bench = "single_process_read/atomic"
compare_to = "single_read_mutex"

[[claim]]
id = "atomic_concurrent_readers"
seed = "001"
quote = "Atomic-ConcurrentReaders-10-6 0.2388 ns/op"
value = 0.2388
unit = "ns/op"
design = "atomic"
bench = "concurrent_process_read/atomic/readers=10"
method_note = "Artifact: a dead load divided across 6 goroutines."

[[claim]]
id = "channel_memory"
seed = "001"
quote = "Channel-MemoryPerOperation-6 1202 ns/op 144 B/op 3 allocs/op"
value = 3.0
unit = "allocs/op"
design = "actor"
bench = "memory_per_op/actor/status"

[[claim]]
id = "channel_vs_mutex"
seed = "001"
quote = "Channel Performance: 15-67x SLOWER than mutexes"
value = 15.0
unit = "x slower (low end; 67 high end)"
design = "actor"
bench = "single_process_read/actor"
compare_to = "single_read_mutex"

[[claim]]
id = "concurrent_cores"
seed = "000"
quote = "Concurrent process read | 34.78ns (mutex)"
value = 34.78
unit = "ns/op"
design = "mutex"
bench = "concurrent_process_read/mutex/readers=cores"

[[claim]]
id = "unmeasured"
seed = "004"
quote = "Register process | sync.Map Store | ~50ns"
value = 50.0
unit = "ns/op"
design = "atomic"
bench = "state_update/atomic"
"#;

fn provenance() -> Provenance {
    Provenance {
        git_commit: Some("0123456789abcdef".into()),
        git_dirty: Some(false),
        rustc: "rustc 1.95.0".into(),
        build_profile: "release".into(),
        crates: BTreeMap::from([("arc-swap".into(), "1.7.1".into())]),
        harness_version: "0.1.0".into(),
        cpu_model: "Fixture CPU".into(),
        logical_cpus: 2,
        os: "Linux".into(),
        date_utc: "2026-01-31T12:00:00Z".into(),
    }
}

fn figure(id: &str, median: f64, threads: Option<usize>) -> BenchFigure {
    let parts: Vec<&str> = id.splitn(3, '/').collect();
    let (design, shape) = crate::seeds::split_design(parts[1]);
    let e = Estimate {
        median,
        median_lower: median * 0.95,
        median_upper: median * 1.05,
        confidence_level: 0.95,
        mean: median,
        std_dev: median * 0.02,
    };
    BenchFigure {
        id: id.into(),
        group: parts[0].into(),
        function: parts[1].into(),
        parameter: parts.get(2).map(|p| p.to_string()),
        design: design.map(str::to_owned),
        shape: shape.into(),
        unit: crate::seeds::unit_of(parts[0]).into(),
        threads,
        threads_from: threads.map(|_| "id".into()),
        per_thread: e,
        aggregate: threads.map(|n| e.divided_by(n)),
        measured_utc: None,
        method: None,
    }
}

fn seeds() -> SeedsFile {
    SeedsFile {
        schema_version: SEEDS_SCHEMA_VERSION,
        kind: SEEDS_KIND.into(),
        provenance: provenance(),
        criterion_dir: "target/criterion".into(),
        benchmarks: vec![
            figure("single_process_read/mutex", 20.0, None),
            figure("single_process_read/actor", 800.0, None),
            figure("single_process_read/atomic", 5.0, None),
            figure("concurrent_process_read/mutex/readers=2", 60.0, Some(2)),
            figure("concurrent_process_read/mutex/readers=10", 300.0, Some(10)),
            figure("concurrent_process_read/atomic/readers=2", 10.0, Some(2)),
            figure("concurrent_process_read/atomic/readers=10", 50.0, Some(10)),
            figure("memory_per_op_allocs/actor/status", 0.0, None),
            figure("memory_per_op_allocs/mutex/status", 0.0, None),
            figure("floor/rwlock_read", 15.0, None),
        ],
    }
}

fn claims(dir: &Path) -> ClaimsFile {
    let path = dir.join("claims.toml");
    std::fs::write(&path, CLAIMS).unwrap();
    ClaimsFile::load(&path).unwrap()
}

/// A results directory: one real, very short run of the fixture scenario (mutex and atomic,
/// 1 and 2 clients), the seeds file above and nothing else.
fn fixture(dir: &Path) {
    let results = dir.join("results");
    std::fs::create_dir_all(&results).unwrap();
    let scenario = Scenario::parse(&dir.join("fixture.toml"), SCENARIO).unwrap();
    let options = RunOptions {
        designs: vec![Design::Mutex, Design::Atomic],
        ..RunOptions::default()
    };
    let result = run_scenario(&scenario, &options, &Progress::hidden()).unwrap();
    let file = ResultsFile::new(provenance(), vec!["test".into()], vec![result]);
    std::fs::write(results.join("fixture-threads.json"), file.to_json()).unwrap();
    std::fs::write(results.join("seeds.json"), seeds().to_json()).unwrap();
    std::fs::write(dir.join("claims.toml"), CLAIMS).unwrap();
}

/// Every `charts/NAME.svg` a document refers to.
fn chart_refs(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(at) = rest.find("charts/") {
        let tail = &rest[at + "charts/".len()..];
        let end = tail
            .find(|c: char| c == '"' || c == ')' || c == '<' || c.is_whitespace())
            .unwrap_or(tail.len());
        let name = &tail[..end];
        if name.ends_with(".svg") && !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
        rest = &tail[end..];
    }
    out
}

#[test]
fn renders_a_fixture_result_set_into_a_consistent_report() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let out = dir.path().join("out");
    let r = render(
        &dir.path().join("results"),
        &dir.path().join("claims.toml"),
        &out,
    )
    .unwrap();
    assert_eq!(r.scenarios, 1);
    assert_eq!(r.claims, 7);
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for section in [
        "## Provenance",
        "## The pivot evidence, claim by claim",
        "## Who wins which workload",
        "## What this machine cannot show",
        "## Scenario `fixture` (threads driver)",
        "## Seed-table benchmarks (criterion)",
    ] {
        assert!(md.contains(section), "REPORT.md lacks {section}");
    }
    assert!(md.contains("Fixture CPU") && md.contains("`0123456789`"));
    // The page is one well-formed document, self-contained: no script, no remote reference.
    xml::check(&html).unwrap();
    for remote in ["<script", "src=", "<link", "href=\"http", "url("] {
        assert!(!html.contains(remote), "the page has {remote}");
    }
    // Every chart the page and the Markdown reference exists, is well-formed, and is inlined.
    let refs = chart_refs(&html);
    assert!(refs.len() >= 6, "{refs:?}");
    assert_eq!(refs, chart_refs(&md));
    for name in &refs {
        let svg = std::fs::read_to_string(out.join("charts").join(name))
            .unwrap_or_else(|e| panic!("charts/{name}: {e}"));
        xml::check(&svg).unwrap_or_else(|e| panic!("charts/{name}: {e}"));
        assert!(svg.contains("<text"), "charts/{name} has no text");
        let csv = out.join("charts").join(name.replace(".svg", ".csv"));
        assert!(csv.is_file(), "{} missing", csv.display());
    }
    assert_eq!(html.matches("<svg").count(), refs.len());
    for expected in [
        "fixture.agents.p99.svg",
        "fixture.agents.throughput.svg",
        "fixture.agents.scripts_status.ladder.svg",
        "fixture.allocs.svg",
        "seeds.claims.svg",
        "seeds.ratios.svg",
    ] {
        assert!(
            refs.iter().any(|r| r == expected),
            "no {expected} in {refs:?}"
        );
    }
}

#[test]
fn charts_name_axes_units_and_every_design_in_its_colour() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let out = dir.path().join("out");
    render(
        &dir.path().join("results"),
        &dir.path().join("claims.toml"),
        &out,
    )
    .unwrap();
    let p99 = std::fs::read_to_string(out.join("charts/fixture.agents.p99.svg")).unwrap();
    assert!(p99.contains("p99 latency"), "no y axis title");
    assert!(p99.contains("clients"), "no x axis title");
    // plotters writes each text element's content on a line of its own.
    assert!(p99.contains("\nLegend\n") && p99.contains("\nmutex\n") && p99.contains("\natomic\n"));
    for design in ["mutex", "atomic"] {
        let hex = palette::hex(palette::colour(design)).to_uppercase();
        assert!(
            p99.to_uppercase().contains(&hex),
            "{design}'s colour {hex} is not in the chart"
        );
    }
    // Tick labels carry their unit.
    assert!(p99.contains(" ns\n") || p99.contains(" µs\n") || p99.contains(" ms\n"));
    let tput = std::fs::read_to_string(out.join("charts/fixture.agents.throughput.svg")).unwrap();
    assert!(tput.contains("/s\n"), "throughput ticks without a unit");
}

#[test]
fn a_second_render_removes_charts_it_no_longer_draws() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("charts")).unwrap();
    std::fs::write(out.join("charts/old_scenario.p99.svg"), "<svg/>").unwrap();
    std::fs::write(out.join("charts/keep.txt"), "not ours").unwrap();
    let r = render(
        &dir.path().join("results"),
        &dir.path().join("claims.toml"),
        &out,
    )
    .unwrap();
    assert_eq!(r.removed, 1);
    assert!(!out.join("charts/old_scenario.p99.svg").exists());
    assert!(out.join("charts/keep.txt").exists());
}

#[test]
fn an_empty_results_directory_is_an_error_that_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let e = render(dir.path(), &dir.path().join("none.toml"), dir.path()).unwrap_err();
    assert!(e.to_string().contains("harness reproduce"), "{e}");
}

#[test]
fn verdicts_follow_their_rules() {
    let dir = tempfile::tempdir().unwrap();
    let claims = claims(dir.path());
    let seeds = seeds();
    let rows = verdict::judge(&claims, &seeds);
    let of = |id: &str| rows.iter().find(|r| r.claim.id == id).unwrap();

    // An absolute time within 2x of the claim: 20 ns against 51.86 ns is outside.
    assert_eq!(of("single_read_mutex").verdict, Verdict::NotReplicated);
    // A ratio: the claim has atomic 5.57x faster than mutex; ours is 20/5 = 4x, same
    // direction and within 2x of the claim.
    let r = of("single_read_atomic");
    assert_eq!(r.verdict, Verdict::Replicated, "{}", r.why);
    assert!((r.our_speedup.unwrap() - 4.0).abs() < 1e-9);
    // A dead load divided across goroutines: an artifact, and the sentence gives our figure
    // in the seed's accounting (50 ns over 10 threads = 5 ns).
    let r = of("atomic_concurrent_readers");
    assert_eq!(r.verdict, Verdict::Artifact);
    assert!(r.why.contains("5.00 ns/op"), "{}", r.why);
    assert!(r.why.contains("10 threads"), "{}", r.why);
    // An allocation count: 0 against the seed's 3.
    assert_eq!(of("channel_memory").verdict, Verdict::NotReplicated);
    // A claimed range (15-67x slower): ours is 40x slower, inside it.
    let r = of("channel_vs_mutex");
    assert_eq!(r.verdict, Verdict::Replicated, "{}", r.why);
    assert_eq!(r.claimed_speedup, Some((1.0 / 67.0, 1.0 / 15.0)));
    // `readers=cores` resolves to this machine's reader count (2 in the fixture).
    let r = of("concurrent_cores");
    assert_eq!(
        r.ours.map(|f| f.id.as_str()),
        Some("concurrent_process_read/mutex/readers=2")
    );
    // 60 ns over 2 threads = 30 ns against 34.78 ns: within 2x.
    assert_eq!(r.verdict, Verdict::Replicated, "{}", r.why);
    // No figure for the shape.
    assert_eq!(of("unmeasured").verdict, Verdict::NotMeasured);
    // Every design measured in the shape is listed.
    assert_eq!(of("single_read_mutex").all.len(), 3);
}

#[test]
fn a_time_below_one_instruction_is_an_artifact_even_without_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        r#"
[[claim]]
id = "tiny"
seed = "001"
quote = "0.1 ns/op"
value = 0.1
unit = "ns/op"
design = "atomic"
bench = "single_process_read/atomic"
"#,
    )
    .unwrap();
    let claims = ClaimsFile::load(&path).unwrap();
    let seeds = seeds();
    let rows = verdict::judge(&claims, &seeds);
    assert_eq!(rows[0].verdict, Verdict::Artifact);
    assert!(
        rows[0].why.contains("less than one instruction"),
        "{}",
        rows[0].why
    );
}

#[test]
fn log_axes_label_decades_with_units() {
    use chart::{Axis, Scale, Unit};
    assert_eq!(Scale::auto([1.0, 10.0, 1000.0], 20.0), Scale::Log);
    assert_eq!(Scale::auto([1.0, 10.0], 20.0), Scale::Linear);
    assert_eq!(Scale::auto([0.0, 1000.0], 20.0), Scale::Linear);
    let a = Axis::values("t", Unit::Nanos, Scale::Log, &[3.0, 4000.0]);
    assert!(a.is_log());
    assert_eq!(a.at(1000.0), Some(3.0));
    assert_eq!(a.at(0.0), None);
}

#[test]
fn the_committed_report_references_only_charts_that_exist_and_are_well_formed() {
    let reports = crate::provenance::workspace_root().join("reports");
    let Ok(html) = std::fs::read_to_string(reports.join("index.html")) else {
        // No rendered report in this checkout (run `harness reproduce`); nothing to check.
        return;
    };
    xml::check(&html).unwrap_or_else(|e| panic!("reports/index.html: {e}"));
    let md = std::fs::read_to_string(reports.join("REPORT.md")).expect("REPORT.md beside it");
    for doc in [&html, &md] {
        for name in chart_refs(doc) {
            let path = reports.join("charts").join(&name);
            let svg = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{} is referenced but: {e}", path.display()));
            xml::check(&svg).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}
