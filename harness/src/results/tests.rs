//! The result file survives a write and a read unchanged, and refuses what it cannot read.

use std::collections::BTreeMap;

use super::*;
use crate::background::BackgroundCounts;
use crate::measure::histogram::LatencyHistogram;
use crate::measure::sched::ContextSwitches;
use crate::measure::timer::{ClockSource, TimerCost};

fn stats(values: &[u64]) -> OpStats {
    let mut h = LatencyHistogram::new();
    for &v in values {
        h.record(v);
    }
    OpStats {
        count: h.count(),
        ops_per_sec: 1234.5,
        latency: h.summary(),
        stalls: 1,
        errors: BTreeMap::from([(ErrorKind::NotRunning, 2)]),
        errors_total: 2,
        client_allocs_per_op: 0.25,
        client_bytes_per_op: 17.0,
        histogram: h.to_buckets(),
    }
}

fn sample() -> ResultsFile {
    let provenance = Provenance {
        git_commit: Some("0123456789abcdef".into()),
        git_dirty: Some(false),
        rustc: "rustc 1.95.0".into(),
        build_profile: "release".into(),
        crates: BTreeMap::from([("tokio".into(), "1.54.1".into())]),
        harness_version: "0.1.0".into(),
        cpu_model: "Test CPU".into(),
        logical_cpus: 2,
        os: "Linux 6.1 x86_64".into(),
        date_utc: "2026-01-31T12:00:00Z".into(),
    };
    let run = RunResult {
        design: Design::AtomicSharded,
        swept_clients: Some(4),
        total_clients: 5,
        complete: true,
        failure: None,
        window_ns: 1_000_123_456,
        groups: vec![GroupResult {
            group: "tui".into(),
            clients: 1,
            pacing: "open".into(),
            target_ops_per_sec: Some(60.0),
            achieved_ops_per_sec: 59.9,
            due: Some(60),
            due_not_sent: Some(0),
            send_lag: Some(LatencySummary::default()),
            total: stats(&[100, 200, 300, 40_000_000]),
            ops: vec![OpResult {
                op: Op::LogsStream,
                stats: stats(&[100, 200]),
            }],
        }],
        process_allocs: ProcessAllocs {
            allocs: 10,
            bytes: 1000,
            allocs_per_op: 0.1,
            bytes_per_op: 10.0,
        },
        background: BackgroundResult {
            counts: BackgroundCounts {
                churn_cycles: 20,
                ..BackgroundCounts::default()
            },
            achieved: BackgroundRates {
                churn_per_sec: 20.0,
                log_lines_per_sec: 0.0,
                exits_per_sec: 0.0,
            },
        },
        watchdog: WatchdogReport {
            stall_bound_ns: 10_000_000,
            in_flight_stalls: 1,
            longest_in_flight_ns: 40_000_000,
            suspected_lockups: vec![],
            stuck_at_end: vec![],
        },
        client_context_switches: Some(ContextSwitches {
            voluntary: 3,
            involuntary: 9,
        }),
        manager_stats: ManagerStats::default(),
        mcp: None,
    };
    ResultsFile::new(
        provenance,
        vec!["harness".into(), "run".into()],
        vec![ScenarioResult {
            scenario: ScenarioInfo {
                name: "t".into(),
                file: "scenarios/t.toml".into(),
                description: "d".into(),
                toml: "description = \"d\"\n".into(),
                launcher: "sim".into(),
                processes: 5,
                duration_ns: 1_000_000_000,
                warmup_ns: 0,
                stall_bound_ns: 10_000_000,
                seed: 7,
                sweep: vec![1, 4],
                background_target: BackgroundRates::default(),
            },
            driver: Driver::Tokio,
            tokio_workers: Some(2),
            calibration: Calibration {
                timer: TimerCost {
                    source: ClockSource::Tsc,
                    hz: 2.1e9,
                    clock_pair_ns: 14.6,
                    instant_pair_ns: 36.6,
                },
                harness_cost_per_op_ns: 21.0,
                harness_cost_rounds_ns: vec![21.0, 22.5],
                harness_wall_per_op_ns: 30.0,
                harness_budget_ns: 25.0,
                within_budget: true,
                empty_op_latency: LatencySummary::default(),
                empty_loop_allocs: 0,
                tokio_cost_per_op_ns: Some(80.0),
                alloc_counting: true,
            },
            runs: vec![run],
        }],
    )
}

#[test]
fn json_round_trip_is_lossless() {
    let file = sample();
    let json = file.to_json();
    let back = ResultsFile::from_json(&json).unwrap();
    assert_eq!(back, file);
    // Field names carry units and the file names its schema.
    for key in [
        "\"schema_version\": 1",
        "\"p99_ns\"",
        "\"ops_per_sec\"",
        "\"client_allocs_per_op\"",
        "\"design\": \"atomic-sharded\"",
        "\"op\": \"logs_stream\"",
        "\"not_running\": 2",
        "\"unit\": \"ns\"",
    ] {
        assert!(json.contains(key), "{key} missing");
    }
}

#[test]
fn histograms_survive_the_file() {
    let file = sample();
    let back = ResultsFile::from_json(&file.to_json()).unwrap();
    let total = &back.scenarios[0].runs[0].groups[0].total;
    let rebuilt = LatencyHistogram::from_buckets(&total.histogram);
    assert_eq!(rebuilt.count(), 4);
    assert_eq!(rebuilt.summary().max_ns, total.latency.max_ns);
}

#[test]
fn other_versions_and_kinds_are_refused_with_a_reason() {
    let json = sample().to_json();
    let v2 = json.replace("\"schema_version\": 1", "\"schema_version\": 2");
    let e = ResultsFile::from_json(&v2).unwrap_err().to_string();
    assert!(e.contains("schema_version is Some(2)"), "{e}");
    let other = json.replace(RESULTS_KIND, "something-else");
    assert!(
        ResultsFile::from_json(&other)
            .unwrap_err()
            .to_string()
            .contains("not a harness result file")
    );
    assert!(
        ResultsFile::from_json("{")
            .unwrap_err()
            .to_string()
            .contains("not JSON")
    );
}
