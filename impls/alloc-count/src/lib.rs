//! procman-alloc-count: [`CountingAllocator`], the system allocator plus counters, so the
//! harness's runs, its criterion benches and the designs' allocation tests count allocations
//! and bytes per op with one allocator (one place for the `unsafe` of a `GlobalAlloc`).
//!
//! Two views are kept:
//!
//! - **per thread** ([`thread_counts`]): a thread-local pair of counters that only the owning
//!   thread touches. A client reads it before and after each op, so its figure is exactly what
//!   the op allocated *on the calling side* — background threads, the launcher's timer thread
//!   and other clients cannot pollute it. Work a design hands to another thread (the actor's
//!   owner thread) is not in it;
//! - **process-wide** ([`process_counts`]): everything, summed over 32 cache-padded shards
//!   (a thread always uses the same shard, so the counters do not bounce between cores). Over a
//!   run it includes the actor's owner thread, but also the background load.
//!
//! The allocator counts once it is installed with `#[global_allocator]` (the `harness` binary,
//! its benches and its unit tests do); [`is_installed`] tells whether it is. A `realloc` counts as one allocation of its new
//! size; frees are not counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// Allocations and bytes allocated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocCounts {
    /// Calls to alloc, alloc_zeroed and realloc.
    pub allocs: u64,
    /// Bytes requested by those calls.
    pub bytes: u64,
}

impl AllocCounts {
    /// `self - earlier`, for counters read before and after something.
    #[inline]
    pub fn since(self, earlier: AllocCounts) -> AllocCounts {
        AllocCounts {
            allocs: self.allocs.wrapping_sub(earlier.allocs),
            bytes: self.bytes.wrapping_sub(earlier.bytes),
        }
    }

    /// Adds `other` in place.
    #[inline]
    pub fn add(&mut self, other: AllocCounts) {
        self.allocs += other.allocs;
        self.bytes += other.bytes;
    }
}

/// The system allocator, counting. Install it in a binary with
/// `#[global_allocator] static A: CountingAllocator = CountingAllocator;`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator;

const SHARDS: usize = 32;

#[repr(align(128))]
struct Shard {
    allocs: AtomicU64,
    bytes: AtomicU64,
}

static SHARD_COUNTERS: [Shard; SHARDS] = [const {
    Shard {
        allocs: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    }
}; SHARDS];
static NEXT_SHARD: AtomicU32 = AtomicU32::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    // Const-initialised and without a destructor: reading them never allocates, which an
    // allocator requires.
    static LOCAL: Cell<AllocCounts> = const { Cell::new(AllocCounts { allocs: 0, bytes: 0 }) };
    static SHARD: Cell<u32> = const { Cell::new(u32::MAX) };
}

#[inline]
fn count(bytes: usize) {
    let _ = LOCAL.try_with(|c| {
        let mut v = c.get();
        v.allocs += 1;
        v.bytes += bytes as u64;
        c.set(v);
    });
    let shard = SHARD
        .try_with(|s| {
            let mut i = s.get();
            if i == u32::MAX {
                i = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS as u32;
                s.set(i);
            }
            i as usize
        })
        .unwrap_or(0);
    let shard = &SHARD_COUNTERS[shard];
    shard.allocs.fetch_add(1, Ordering::Relaxed);
    shard.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds as it does for `System`; the counting touches only atomics and
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: forwarded unchanged; `ptr` came from `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Whether a [`CountingAllocator`] is the global allocator (it has seen an allocation).
pub fn is_installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// What the calling thread has allocated since it started.
#[inline]
pub fn thread_counts() -> AllocCounts {
    LOCAL.try_with(Cell::get).unwrap_or_default()
}

/// What the whole process has allocated since it started.
pub fn process_counts() -> AllocCounts {
    let mut total = AllocCounts::default();
    for shard in &SHARD_COUNTERS {
        total.allocs += shard.allocs.load(Ordering::Relaxed);
        total.bytes += shard.bytes.load(Ordering::Relaxed);
    }
    total
}

/// The unit tests count with the allocator they test.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOCATOR: CountingAllocator = CountingAllocator;

#[cfg(test)]
mod tests {
    use super::*;

    // This crate's unit-test binary installs the allocator (below), as the harness does.

    #[test]
    fn counts_this_threads_allocations_only() {
        assert!(is_installed());
        let before = thread_counts();
        let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(1000));
        let mid = thread_counts().since(before);
        assert_eq!(mid.allocs, 1);
        assert_eq!(mid.bytes, 1000);
        drop(v);
        // Another thread's allocations do not show in ours.
        let before = thread_counts();
        std::thread::scope(|s| {
            s.spawn(|| std::hint::black_box(vec![0u8; 4096]));
        });
        let after = thread_counts().since(before);
        assert!(after.bytes < 4096, "{after:?}");
    }

    #[test]
    fn process_counts_include_other_threads() {
        let before = process_counts();
        std::thread::scope(|s| {
            s.spawn(|| std::hint::black_box(vec![0u8; 1 << 20]));
        });
        let delta = process_counts().since(before);
        assert!(delta.bytes >= 1 << 20, "{delta:?}");
    }

    #[test]
    fn since_and_add() {
        let a = AllocCounts {
            allocs: 5,
            bytes: 50,
        };
        let b = AllocCounts {
            allocs: 2,
            bytes: 20,
        };
        assert_eq!(
            a.since(b),
            AllocCounts {
                allocs: 3,
                bytes: 30
            }
        );
        let mut c = b;
        c.add(b);
        assert_eq!(
            c,
            AllocCounts {
                allocs: 4,
                bytes: 40
            }
        );
    }
}
