//! One criterion group per figure of the seed documents (reports/seed_claims.toml maps each
//! claim to its group), run against all three designs through the `ProcessManager` trait.
//!
//! Honesty rules: every read result goes through `black_box` (no dead loads); concurrent groups
//! run on threads created before the clock starts and report time per operation *per thread*
//! (criterion's figure); the aggregate per-op figure (the seed's `RunParallel` accounting, wall
//! time over all threads' ops) is that divided by the thread count, computed by `harness seeds`.

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use procman_core::{ProcessManager, Target};

use common::alloc::{AllocMeasurement, Counter, CountingAllocator};
use common::{ReaderPool, Writer, designs, manager_with, reader_counts};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn read(m: &dyn ProcessManager, name: &str) {
    black_box(
        m.status(Target::Name(black_box(name)))
            .expect("status of a live process"),
    );
}

/// One reader, one process: the seed's "single process read".
fn single_process_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("single_process_read");
    for (design, make) in designs() {
        let (m, _l) = manager_with(make, 1);
        g.bench_function(design, |b| b.iter(|| read(&*m, "proc-0")));
        m.shutdown(Duration::from_secs(5));
    }
    g.finish();
}

/// Many readers of one process: the seed's "concurrent process read" (10 readers) and one
/// reader per core.
fn concurrent_process_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("concurrent_process_read");
    for (design, make) in designs() {
        let (m, _l) = manager_with(make, 1);
        for readers in reader_counts() {
            let mm = m.clone();
            let pool = ReaderPool::new(readers, move |_| read(&*mm, "proc-0"));
            g.bench_function(
                BenchmarkId::new(design, format!("readers={readers}")),
                |b| b.iter_custom(|iters| pool.run(iters)),
            );
        }
        m.shutdown(Duration::from_secs(5));
    }
    g.finish();
}

/// 100 entries, the key built per call as the seed's benchmark did (a `String` per lookup),
/// one reader per core.
fn registry_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("registry_read");
    let readers = reader_counts()[0];
    for (design, make) in designs() {
        let (m, _l) = manager_with(make, 100);
        let mm = m.clone();
        let counter = Arc::new(AtomicU64::new(0));
        let pool = ReaderPool::new(readers, move |_| {
            let i = counter.fetch_add(1, Ordering::Relaxed) % 100;
            let key = format!("proc-{i}");
            read(&*mm, &key);
        });
        g.bench_function(
            BenchmarkId::new(design, format!("readers={readers}")),
            |b| b.iter_custom(|iters| pool.run(iters)),
        );
        m.shutdown(Duration::from_secs(5));
    }
    g.finish();
}

/// Readers of one process while a writer restarts it: the seed's shape (the writer sleeps
/// between writes, so it barely contends) and a real writer that does not sleep.
fn writer_reader_contention(c: &mut Criterion) {
    let mut g = c.benchmark_group("writer_reader_contention");
    let readers = reader_counts()[0];
    for (design, make) in designs() {
        let (m, _l) = manager_with(make, 2);
        for (shape, pause) in [
            ("sleeping_writer", Some(Duration::from_micros(1))),
            ("busy_writer", None),
        ] {
            let w = m.clone();
            let _writer = Writer::start(pause, move || {
                black_box(w.restart(Target::Name("proc-1")).ok());
            });
            let mm = m.clone();
            // Readers read the written process; a snapshot in any status is a valid read.
            let pool = ReaderPool::new(readers, move |_| {
                black_box(mm.status(Target::Name("proc-1")).ok());
            });
            g.bench_function(BenchmarkId::new(design, shape), |b| {
                b.iter_custom(|iters| pool.run(iters))
            });
        }
        m.shutdown(Duration::from_secs(5));
    }
    g.finish();
}

/// 50 entries, one operation in five a write (a restart), one worker per core.
fn mixed_workload(c: &mut Criterion) {
    let mut g = c.benchmark_group("mixed_workload");
    let workers = reader_counts()[0];
    for (design, make) in designs() {
        let (m, _l) = manager_with(make, 50);
        let mm = m.clone();
        let counter = Arc::new(AtomicU64::new(0));
        let names: Arc<Vec<String>> = Arc::new((0..50).map(|i| format!("proc-{i}")).collect());
        let pool = ReaderPool::new(workers, move |_| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let name = &names[(n % 50) as usize];
            if n.is_multiple_of(5) {
                black_box(mm.restart(Target::Name(name)).ok());
            } else {
                black_box(mm.status(Target::Name(name)).ok());
            }
        });
        g.bench_function(
            BenchmarkId::new(design, format!("workers={workers}")),
            |b| b.iter_custom(|iters| pool.run(iters)),
        );
        m.shutdown(Duration::from_secs(5));
    }
    g.finish();
}

/// `status` by name from 1, cores and 10 readers, each reader either on one shared name
/// (`names=1`) or walking 100 names from its own offset (`names=100`). Keys are built before the
/// clock, so this measures the design's read, not a `format!`. Criterion's figure is the time per
/// read *per thread*; scaling is (readers x time at 1) / time at N.
fn concurrent_status_spread(c: &mut Criterion) {
    let mut g = c.benchmark_group("concurrent_status_spread");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut counts = vec![1, cores, 10];
    counts.dedup();
    let names: Arc<Vec<String>> = Arc::new((0..100).map(|i| format!("proc-{i}")).collect());
    for (design, make) in designs() {
        let (m, _l) = manager_with(make, 100);
        for spread in [1usize, 100] {
            for &readers in &counts {
                let (mm, names) = (m.clone(), names.clone());
                let pool = ReaderPool::new(readers, move |t| {
                    thread_local! {
                        static NEXT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
                    }
                    // Each thread its own cursor (no shared counter on the measured path),
                    // starting at a different name.
                    let i = NEXT.with(|n| {
                        let i = n.get();
                        n.set(i + 1);
                        i
                    });
                    let name = &names[(t * 37 + i) % spread];
                    read(&*mm, name);
                });
                g.bench_function(
                    BenchmarkId::new(design, format!("names={spread}/readers={readers}")),
                    |b| b.iter_custom(|iters| pool.run(iters)),
                );
            }
        }
        m.shutdown(Duration::from_secs(5));
    }
    g.finish();
}

/// `list` of 100 processes, one thread.
fn list_100(c: &mut Criterion) {
    let mut g = c.benchmark_group("list_100");
    for (design, make) in designs() {
        let (m, _l) = manager_with(make, 100);
        g.bench_function(design, |b| b.iter(|| black_box(m.list())));
        m.shutdown(Duration::from_secs(5));
    }
    g.finish();
}

/// Four separate reads, one field each (the seed's getters, each its own acquisition and
/// possibly from different moments), against one consistent snapshot.
fn snapshot_vs_getters(c: &mut Criterion) {
    let mut g = c.benchmark_group("snapshot_vs_getters");
    for (design, make) in designs() {
        let (m, _l) = manager_with(make, 1);
        let t = Target::Name("proc-0");
        g.bench_function(format!("{design}_getters"), |b| {
            b.iter(|| {
                let status = m.status(t).unwrap().status;
                let started = m.status(t).unwrap().started_at;
                let ended = m.status(t).unwrap().ended_at;
                let exit = m.status(t).unwrap().exit;
                black_box((status, started, ended, exit))
            })
        });
        g.bench_function(format!("{design}_snapshot"), |b| {
            b.iter(|| {
                let s = m.status(t).unwrap();
                black_box((s.status, s.started_at, s.ended_at, s.exit))
            })
        });
        m.shutdown(Duration::from_secs(5));
    }
    g.finish();
}

/// The write cost: one restart (stop + start: five validated transitions) on the simulated
/// launcher.
fn state_update(c: &mut Criterion) {
    let mut g = c.benchmark_group("state_update");
    for (design, make) in designs() {
        let (m, _l) = manager_with(make, 1);
        g.bench_function(design, |b| {
            b.iter(|| black_box(m.restart(Target::Name("proc-0")).unwrap()))
        });
        m.shutdown(Duration::from_secs(5));
    }
    g.finish();
}

/// Allocations and bytes per status read (and per restart), counted process-wide.
fn memory_per_op<M: criterion::measurement::Measurement>(c: &mut Criterion<M>, what: &str) {
    let mut g = c.benchmark_group(format!("memory_per_op_{what}"));
    for (design, make) in designs() {
        let (m, _l) = manager_with(make, 1);
        g.bench_function(BenchmarkId::new(design, "status"), |b| {
            b.iter(|| read(&*m, "proc-0"))
        });
        g.bench_function(BenchmarkId::new(design, "restart"), |b| {
            b.iter(|| black_box(m.restart(Target::Name("proc-0")).unwrap()))
        });
        m.shutdown(Duration::from_secs(5));
    }
    g.finish();
}

fn memory_allocs(c: &mut Criterion<AllocMeasurement>) {
    memory_per_op(c, "allocs");
}

fn memory_bytes(c: &mut Criterion<AllocMeasurement>) {
    memory_per_op(c, "bytes");
}

fn timing() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
}

fn counting(counter: Counter) -> Criterion<AllocMeasurement> {
    Criterion::default()
        .with_measurement(AllocMeasurement(counter))
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300))
        .sample_size(10)
}

criterion_group! {
    name = time_groups;
    config = timing();
    targets = single_process_read, concurrent_process_read, registry_read,
        writer_reader_contention, mixed_workload, snapshot_vs_getters, state_update,
        concurrent_status_spread, list_100
}
criterion_group! {
    name = alloc_groups;
    config = counting(Counter::Allocations);
    targets = memory_allocs
}
criterion_group! {
    name = byte_groups;
    config = counting(Counter::Bytes);
    targets = memory_bytes
}
criterion_main!(time_groups, alloc_groups, byte_groups);
