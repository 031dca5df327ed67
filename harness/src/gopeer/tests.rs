use super::*;

/// What `go test -bench . -benchmem -cpu 1,2` prints for the peer (figures made up, shapes
/// as go 1.19 writes them).
const OUTPUT: &str = "goos: linux
goarch: amd64
pkg: procman/peers/go
cpu: AMD EPYC
BenchmarkOps/single_process_read/mutex           \t 1000000\t        20.50 ns/op\t       0 B/op\t       0 allocs/op
BenchmarkOps/single_process_read/mutex-2         \t 1000000\t        21.00 ns/op\t       0 B/op\t       0 allocs/op
BenchmarkOps/concurrent_process_read/atomic/readers=cores   \t 5000000\t        30.00 ns/op\t         1.000 goroutines\t       0 B/op\t       0 allocs/op
BenchmarkOps/concurrent_process_read/atomic/readers=cores-2 \t 5000000\t        16.00 ns/op\t         2.000 goroutines\t       0 B/op\t       0 allocs/op
BenchmarkOps/concurrent_process_read/actor-fresh/readers=10-2 \t  300000\t       410.5 ns/op\t        10.00 goroutines\t     112 B/op\t       1 allocs/op
BenchmarkOps/snapshot_vs_getters/mutex_getters-2 \t 2000000\t        80.00 ns/op\t       0 B/op\t       0 allocs/op
BenchmarkOps/memory_per_op/actor/status-2        \t  500000\t       900.0 ns/op\t      48 B/op\t       2 allocs/op
BenchmarkSeed/atomic_single_reader/as_written-2  \t1000000000\t         0.5403 ns/op\t       0 B/op\t       0 allocs/op
PASS
ok  \tprocman/peers/go\t12.345s
";

fn parsed() -> ParsedOutput {
    parse(OUTPUT).expect("the sample parses")
}

fn named<'a>(p: &'a ParsedOutput, name: &str, procs: usize) -> &'a GoBench {
    p.benchmarks
        .iter()
        .find(|b| b.name == name && b.gomaxprocs == procs)
        .unwrap_or_else(|| panic!("{name}-{procs} not parsed"))
}

#[test]
fn header_lines_give_the_machine() {
    let p = parsed();
    assert_eq!((p.goos.as_str(), p.goarch.as_str()), ("linux", "amd64"));
    assert_eq!(p.cpu, "AMD EPYC");
    assert_eq!(p.benchmarks.len(), 8);
}

#[test]
fn the_cpu_suffix_is_gomaxprocs_and_its_absence_is_one() {
    let p = parsed();
    let one = named(&p, "Ops/single_process_read/mutex", 1);
    let two = named(&p, "Ops/single_process_read/mutex", 2);
    assert_eq!((one.ns_per_op, two.ns_per_op), (20.5, 21.0));
    // A name whose last part has a hyphen but no digits after it keeps it.
    let fresh = named(&p, "Ops/concurrent_process_read/actor-fresh/readers=10", 2);
    assert_eq!(fresh.design(), Some("actor-fresh"));
}

#[test]
fn a_sequential_benchmark_is_one_goroutine_and_per_goroutine_equals_ns_per_op() {
    let b = named(&parsed(), "Ops/single_process_read/mutex", 2).clone();
    assert!(!b.parallel);
    assert_eq!(b.goroutines, 1);
    assert_eq!(b.per_goroutine_ns, b.ns_per_op);
    assert_eq!(b.iterations, 1_000_000);
}

#[test]
fn run_parallel_ns_per_op_is_the_aggregate_and_per_goroutine_multiplies_it_back() {
    let p = parsed();
    let b = named(&p, "Ops/concurrent_process_read/atomic/readers=cores", 2);
    assert!(b.parallel);
    assert_eq!(b.goroutines, 2);
    assert_eq!(b.ns_per_op, 16.0, "Go's figure: wall time over all ops");
    assert_eq!(b.per_goroutine_ns, 32.0, "what one goroutine waits per op");
    let ten = named(&p, "Ops/concurrent_process_read/actor-fresh/readers=10", 2);
    assert_eq!(ten.goroutines, 10);
    assert!((ten.per_goroutine_ns - 4105.0).abs() < 1e-9);
}

#[test]
fn benchmem_figures_are_read() {
    let p = parsed();
    let b = named(&p, "Ops/memory_per_op/actor/status", 2);
    assert_eq!(b.bytes_per_op, Some(48.0));
    assert_eq!(b.allocs_per_op, Some(2.0));
    let line = "BenchmarkOps/state_update/atomic-2  100  1000 ns/op";
    let no_mem = parse_line(line).unwrap();
    assert_eq!((no_mem.bytes_per_op, no_mem.allocs_per_op), (None, None));
}

#[test]
fn sub_nanosecond_figures_keep_their_precision() {
    let b = named(&parsed(), "Seed/atomic_single_reader/as_written", 2).clone();
    assert_eq!(b.ns_per_op, 0.5403);
    assert_eq!(b.iterations, 1_000_000_000);
    assert_eq!(b.family(), "Seed");
    assert_eq!(b.id(), "atomic_single_reader/as_written");
}

#[test]
fn ops_names_split_like_criterion_ids_and_thread_counts_resolve_to_goroutines() {
    let p = parsed();
    let b = named(&p, "Ops/concurrent_process_read/atomic/readers=cores", 2);
    assert_eq!(b.family(), "Ops");
    assert_eq!(b.group(), "concurrent_process_read");
    assert_eq!(b.design(), Some("atomic"));
    assert_eq!(b.shape(), "");
    assert_eq!(b.parameter().as_deref(), Some("readers=2"));
    let one = named(&p, "Ops/concurrent_process_read/atomic/readers=cores", 1);
    assert_eq!(one.parameter().as_deref(), Some("readers=1"));
    let g = named(&p, "Ops/snapshot_vs_getters/mutex_getters", 2);
    assert_eq!((g.design(), g.shape()), (Some("mutex"), "_getters"));
    let m = named(&p, "Ops/memory_per_op/actor/status", 2);
    assert_eq!(
        m.parameter().as_deref(),
        Some("status"),
        "not a thread count"
    );
}

#[test]
fn malformed_lines_are_errors_that_name_the_line() {
    let e = parse("BenchmarkX-2  many  3 ns/op\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1") && e.contains("iteration count"), "{e}");
    let e = parse("BenchmarkX-2  10  3 ns/op  7\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("pairs"), "{e}");
    let e = parse("goos: linux\nPASS\n").unwrap_err().to_string();
    assert!(e.contains("no benchmark result"), "{e}");
}

#[test]
fn go_versions_compare_by_major_and_minor() {
    assert_eq!(parse_go_version("go1.19.8 linux/amd64"), Some((1, 19)));
    assert_eq!(parse_go_version("go1.22rc1 linux/arm64"), Some((1, 22)));
    assert_eq!(parse_go_version("go1.9 linux/amd64"), Some((1, 9)));
    assert_eq!(parse_go_version("devel +abc"), None);
    assert!(parse_go_version("go1.18.1 x").unwrap() < MIN_GO);
}

#[test]
fn the_command_runs_one_and_every_cpu_and_no_tests() {
    let a = go_test_args(2, "300ms");
    let s = a.join(" ");
    assert!(s.contains("-run ^$") && s.contains("-bench .") && s.contains("-benchmem"));
    assert!(s.contains("-cpu 1,2"), "{s}");
    assert!(go_test_args(1, "1x").join(" ").contains("-cpu 1 "));
}

#[test]
fn the_file_finds_rows_at_full_gomaxprocs_and_round_trips() {
    let p = parsed();
    let prov = crate::provenance::Provenance::collect(&crate::provenance::workspace_root());
    let mut f = GoPeerFile::skipped(prov, "test");
    f.skipped = None;
    f.benchmarks = p.benchmarks;
    assert_eq!(f.full_procs(), Some(2));
    let b = f
        .find_op("single_process_read", "", None, "mutex")
        .expect("found");
    assert_eq!(b.gomaxprocs, 2);
    assert!(
        f.find_op("concurrent_process_read", "", Some("readers=2"), "atomic")
            .is_some()
    );
    assert!(
        f.find_op("concurrent_process_read", "", Some("readers=1"), "atomic")
            .is_none(),
        "only the full-GOMAXPROCS run is compared"
    );
    assert!(f.find_seed("atomic_single_reader", "as_written").is_some());
    let back = GoPeerFile::from_json(&f.to_json()).unwrap();
    assert_eq!(back, f);
    assert!(GoPeerFile::from_json("{\"kind\":\"other\"}").is_err());
}

#[test]
fn a_missing_go_is_reported_as_reproduce_prints_it() {
    let e = version_of("procman-no-such-go-command").unwrap_err();
    assert!(matches!(e, GoPeerError::NotFound));
    assert_eq!(
        format!("Go peer skipped: {e}"),
        "Go peer skipped: go not found"
    );
    let old = GoPeerError::TooOld("go1.18.1 linux/amd64".into()).to_string();
    assert!(old.contains("older than go1.19"), "{old}");
}
