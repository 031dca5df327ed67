//! The status path allocates nothing: a counting global allocator for this test binary counts
//! the allocations of the calling thread only, so tests running beside it do not disturb it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use procman_core::{IfRunning, ProcessManager, Target};

use super::{each_registry, spec};

thread_local! {
    /// Allocations made by this thread. A const-initialised `Cell<u64>` needs no destructor, so
    /// it is usable at any point of a thread's life.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting per thread.
struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so this
// allocator upholds exactly the guarantees `System` does; the counting touches only a
// thread-local `Cell` and never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations `f` makes on this thread.
fn allocations_of(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
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
