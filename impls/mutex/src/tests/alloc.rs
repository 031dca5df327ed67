//! The status path allocates nothing: checked with the project's counting global allocator
//! (`procman-alloc-count`, test builds only), read per thread, so other tests running in
//! parallel do not disturb it.

use procman_core::{IfRunning, ProcessManager, SimLauncher, SimScript, Target};

use super::{manager, spec};

#[global_allocator]
static ALLOCATOR: procman_alloc_count::CountingAllocator = procman_alloc_count::CountingAllocator;

/// Allocations made by the current thread so far.
fn allocations() -> u64 {
    procman_alloc_count::thread_counts().allocs
}

#[test]
fn status_allocates_nothing() {
    let launcher = SimLauncher::new();
    launcher.script("web", SimScript::long_running().with_output(["ready"]));
    let m = manager(&launcher);
    let started = m.start(spec("web"), IfRunning::Error).unwrap();

    let before = allocations();
    std::hint::black_box(m.list());
    assert!(
        allocations() > before,
        "the counter sees this thread's allocations"
    );

    let before = allocations();
    for _ in 0..100 {
        std::hint::black_box(m.status(Target::Name("web")).unwrap());
        std::hint::black_box(m.status(Target::Id(&started.id)).unwrap());
    }
    assert_eq!(allocations() - before, 0, "status by name or id allocated");
    assert_eq!(m.status(Target::Name("web")).unwrap().logs.lines, 1);
}
