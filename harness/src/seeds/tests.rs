//! The export reads criterion's layout, names designs and thread counts, divides concurrent
//! figures into the seeds' accounting; the shipped claims file names benchmarks that exist.

use std::path::Path;

use super::claims::ClaimsFile;
use super::*;
use crate::provenance::workspace_root;

fn write_bench(root: &Path, dir: &str, group: &str, function: &str, value: Option<&str>, v: f64) {
    let new = root.join(dir).join("new");
    std::fs::create_dir_all(&new).unwrap();
    let value_json = value.map_or("null".to_owned(), |v| format!("\"{v}\""));
    std::fs::write(
        new.join("benchmark.json"),
        format!(
            r#"{{"group_id":"{group}","function_id":"{function}","value_str":{value_json},
               "throughput":null,"full_id":"x","directory_name":"x","title":"x"}}"#
        ),
    )
    .unwrap();
    let est = |p: f64| {
        format!(
            r#"{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{},"upper_bound":{}}},
               "point_estimate":{p},"standard_error":0.1}}"#,
            p * 0.9,
            p * 1.1
        )
    };
    std::fs::write(
        new.join("estimates.json"),
        format!(
            r#"{{"mean":{},"median":{},"median_abs_dev":{},"slope":null,"std_dev":{}}}"#,
            est(v),
            est(v),
            est(1.0),
            est(2.0)
        ),
    )
    .unwrap();
    // A `base/` copy of an older run must be ignored.
    let base = root.join(dir).join("base");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::copy(new.join("benchmark.json"), base.join("benchmark.json")).unwrap();
}

fn provenance(cpus: usize) -> Provenance {
    let mut p = Provenance::collect(&workspace_root());
    p.logical_cpus = cpus;
    p
}

#[test]
fn exports_criterion_figures_per_thread_and_in_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_bench(
        root,
        "single_process_read/mutex",
        "single_process_read",
        "mutex",
        None,
        20.0,
    );
    write_bench(
        root,
        "concurrent_process_read/atomic/readers=10",
        "concurrent_process_read",
        "atomic",
        Some("readers=10"),
        50.0,
    );
    write_bench(
        root,
        "writer_reader_contention/actor/busy_writer",
        "writer_reader_contention",
        "actor",
        Some("busy_writer"),
        3000.0,
    );
    write_bench(
        root,
        "snapshot_vs_getters/mutex_getters",
        "snapshot_vs_getters",
        "mutex_getters",
        None,
        150.0,
    );
    write_bench(
        root,
        "floor/rwlock_read",
        "floor",
        "rwlock_read",
        None,
        15.0,
    );
    let file = export(root, provenance(2), None, false).unwrap();
    assert_eq!(file.benchmarks.len(), 5);
    let by = |id: &str| file.benchmarks.iter().find(|b| b.id == id).unwrap();

    let single = by("single_process_read/mutex");
    assert_eq!(single.design.as_deref(), Some("mutex"));
    assert_eq!(single.unit, "ns/op");
    assert_eq!(single.threads, None);
    assert_eq!(single.seed_accounting().median, 20.0);

    let conc = by("concurrent_process_read/atomic/readers=10");
    assert_eq!(conc.threads, Some(10));
    assert_eq!(conc.threads_from.as_deref(), Some("id"));
    assert_eq!(conc.per_thread.median, 50.0);
    assert_eq!(conc.seed_accounting().median, 5.0);

    // The contention group runs one reader per CPU without saying so in its id.
    let wr = by("writer_reader_contention/actor/busy_writer");
    assert_eq!(wr.threads, Some(2));
    assert_eq!(wr.threads_from.as_deref(), Some("logical_cpus"));
    assert_eq!(wr.aggregate.unwrap().median, 1500.0);

    let getters = by("snapshot_vs_getters/mutex_getters");
    assert_eq!(
        (getters.design.as_deref(), getters.shape.as_str()),
        (Some("mutex"), "_getters")
    );
    assert_eq!(by("floor/rwlock_read").design, None);

    let back = SeedsFile::from_json(&file.to_json()).unwrap();
    assert_eq!(back, file);
}

#[test]
fn an_empty_or_missing_criterion_directory_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let e = export(dir.path(), provenance(2), None, false).unwrap_err();
    assert!(e.to_string().contains("cargo bench"), "{e}");
    let e = export(&dir.path().join("nope"), provenance(2), None, false).unwrap_err();
    assert!(e.to_string().contains("cargo bench"), "{e}");
}

#[test]
fn names_and_units() {
    assert_eq!(split_design("atomic-sharded"), (Some("atomic-sharded"), ""));
    assert_eq!(
        split_design("atomic_sharded_getters"),
        (Some("atomic-sharded"), "_getters")
    );
    assert_eq!(
        split_design("atomic_snapshot"),
        (Some("atomic"), "_snapshot")
    );
    assert_eq!(split_design("rwlock_read"), (None, "rwlock_read"));
    assert_eq!(threads_in("readers=10"), Some(10));
    assert_eq!(threads_in("workers=2"), Some(2));
    assert_eq!(threads_in("busy_writer"), None);
    assert_eq!(unit_of("memory_per_op_allocs"), "allocs/op");
    assert_eq!(unit_of("memory_per_op_bytes"), "bytes/op");
    assert_eq!(unit_of("floor"), "ns/op");
}

/// The benchmark groups `harness/benches/*.rs` define, read from their source.
fn bench_groups() -> Vec<String> {
    let mut groups = Vec::new();
    for file in ["seeds.rs", "floors.rs"] {
        let text =
            std::fs::read_to_string(workspace_root().join("harness/benches").join(file)).unwrap();
        for part in text.split("benchmark_group(").skip(1) {
            let arg = part.split(')').next().unwrap();
            if let Some(name) = arg.split('"').nth(1) {
                if name.contains("{what}") {
                    groups.push(name.replace("{what}", "allocs"));
                    groups.push(name.replace("{what}", "bytes"));
                } else {
                    groups.push(name.to_owned());
                }
            }
        }
    }
    groups
}

#[test]
fn every_shipped_claim_names_a_benchmark_group_that_exists_or_says_why_not() {
    let claims = ClaimsFile::load(&workspace_root().join("reports/seed_claims.toml")).unwrap();
    let groups = bench_groups();
    assert!(
        groups.iter().any(|g| g == "concurrent_process_read"),
        "{groups:?}"
    );
    assert!(
        groups.iter().any(|g| g == "memory_per_op_allocs"),
        "{groups:?}"
    );
    for c in &claims.claims {
        let key = c.bench_key();
        assert!(
            groups.contains(&key.group),
            "claim {}: no benchmark group {:?} in harness/benches ({groups:?})",
            c.id,
            key.group
        );
        let function = c.bench.split('/').nth(1).unwrap();
        let design = split_design(function).0;
        assert_eq!(
            design,
            Some(c.design.as_str()),
            "claim {}: bench {} does not name the claim's design",
            c.id,
            c.bench
        );
        // Groups with several parameters need one named, or the verdict cannot pick a figure.
        if matches!(
            key.group.as_str(),
            "concurrent_process_read"
                | "writer_reader_contention"
                | "memory_per_op_allocs"
                | "memory_per_op_bytes"
        ) {
            assert!(
                key.parameter.is_some(),
                "claim {}: name the parameter",
                c.id
            );
        }
    }
}

#[test]
fn claims_files_are_checked_with_messages_that_name_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    let claim = |id: &str, extra: &str| {
        format!(
            "[[claim]]\nid = \"{id}\"\nseed = \"000\"\nquote = \"q\"\nvalue = 1.0\nunit = \
             \"ns/op\"\ndesign = \"mutex\"\nbench = \"single_process_read/mutex\"\n{extra}\n"
        )
    };
    std::fs::write(&path, claim("a", "") + &claim("a", "")).unwrap();
    let e = ClaimsFile::load(&path).unwrap_err().to_string();
    assert!(e.contains("twice"), "{e}");
    std::fs::write(&path, claim("a", "compare_to = \"zzz\"")).unwrap();
    let e = ClaimsFile::load(&path).unwrap_err().to_string();
    assert!(e.contains("names no claim"), "{e}");
    std::fs::write(
        &path,
        claim("a", "").replace("design = \"mutex\"", "design = \"rw\""),
    )
    .unwrap();
    let e = ClaimsFile::load(&path).unwrap_err().to_string();
    assert!(e.contains("not one of"), "{e}");
}

#[test]
fn ratio_units_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[[claim]]\nid = \"r\"\nseed = \"001\"\nquote = \"q\"\nvalue = 15.0\nunit = \"x slower \
         (low end; 67 high end)\"\ndesign = \"actor\"\nbench = \"memory_per_op/actor/status\"\n\
         method_note = \"a dead-load figure\"\n",
    )
    .unwrap();
    let c = &ClaimsFile::load(&path).unwrap().claims[0];
    assert!(c.is_ratio_unit());
    assert_eq!(c.range_high(), Some(67.0));
    assert!(c.dead_load());
    // `memory_per_op` resolves by the unit; a ratio unit counts allocations.
    assert_eq!(c.bench_key().group, "memory_per_op_allocs");
    assert_eq!(c.bench_key().parameter.as_deref(), Some("status"));
}
