//! The status path allocates nothing: checked with a counting global allocator (test builds
//! only) whose counter is per thread, so other tests running in parallel do not disturb it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use procman_core::{IfRunning, ProcessManager, SimLauncher, SimScript, Target};

use super::{manager, spec};

/// Counts allocations made by the current thread, then defers to the system allocator.
struct CountingAllocator;

thread_local! {
    /// Allocations by this thread so far.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// thread-local counter is const-initialised and needs no allocation or destructor, and
// `try_with` keeps it from being touched after the thread's locals are torn down.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations made by the current thread so far.
fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
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
