//! The status path allocates nothing: a counting global allocator for this test binary counts
//! the allocations of the calling thread only, so tests running beside it do not disturb it.

use procman_core::{IfRunning, ProcessManager, Target};

use super::{each_registry, spec};

#[global_allocator]
static ALLOCATOR: procman_alloc_count::CountingAllocator = procman_alloc_count::CountingAllocator;

/// Allocations `f` makes on this thread.
fn allocations_of(f: impl FnOnce()) -> u64 {
    let before = procman_alloc_count::thread_counts();
    f();
    procman_alloc_count::thread_counts().since(before).allocs
}

#[test]
fn status_allocates_nothing() {
    each_registry(|f| {
        let m = &f.manager;
        for i in 0..64 {
            m.start(spec(&format!("p{i}")), IfRunning::ReturnExisting)
                .unwrap();
        }
        let id = m.status(Target::Name("p7")).unwrap().id;
        // Warm-up: arc-swap registers this thread's debt list on its first load.
        for _ in 0..10 {
            m.status(Target::Name("p7")).unwrap();
        }
        let n = allocations_of(|| {
            for _ in 0..1000 {
                let by_name = m.status(Target::Name("p7")).unwrap();
                let by_id = m.status(Target::Id(&id)).unwrap();
                assert_eq!(by_name.id, by_id.id);
            }
        });
        assert_eq!(n, 0, "{} registry: status allocated", m.registry_kind());
        assert_eq!(m.stats().active, 64, "stats reads four atomics");
        let n = allocations_of(|| {
            m.stats();
        });
        assert_eq!(n, 0);
    });
}

/// A restart (stop, the exit event, a new run, its spawn) on the simulated launcher, which
/// delivers the exit on the stopping thread, so every allocation is this thread's. The four
/// states a restart installs reuse the entry's spare (entry.rs, "Recycling"); what is left is
/// the new run, its log ring, the simulated child and its event sink.
#[test]
fn a_restart_reuses_its_states_allocations() {
    each_registry(|f| {
        let m = &f.manager;
        m.start(spec("r"), IfRunning::ReturnExisting).unwrap();
        for _ in 0..3 {
            m.restart(Target::Name("r")).unwrap();
        }
        let n = allocations_of(|| {
            for _ in 0..100 {
                m.restart(Target::Name("r")).unwrap();
            }
        });
        let per_restart = n as f64 / 100.0;
        eprintln!(
            "{}: {per_restart} allocations per restart",
            m.registry_kind()
        );
        assert!(
            per_restart <= 5.0,
            "{} registry: {per_restart} allocations per restart",
            m.registry_kind()
        );
    });
}
