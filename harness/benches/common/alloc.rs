//! A counting global allocator and criterion measurements in allocations and bytes, so
//! `memory_per_op` reports allocations per operation the way `go test -benchmem` does — counted
//! process-wide, so work an actor's owner thread does for a request counts too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

/// Counts every allocation and its bytes, process-wide.
pub struct CountingAlloc;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are only
// incremented, which allocates nothing.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout (we forward every alloc).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Which counter a measurement reads.
#[derive(Clone, Copy, Debug)]
pub enum Counter {
    /// Number of allocations (and reallocations).
    Allocations,
    /// Bytes requested.
    Bytes,
}

impl Counter {
    fn read(self) -> u64 {
        match self {
            Counter::Allocations => ALLOCS.load(Ordering::SeqCst),
            Counter::Bytes => BYTES.load(Ordering::SeqCst),
        }
    }
}

/// A criterion measurement counting allocations or bytes instead of time.
pub struct AllocMeasurement(pub Counter);

impl Measurement for AllocMeasurement {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        self.0.read()
    }
    fn end(&self, start: u64) -> u64 {
        self.0.read() - start
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        match self.0 {
            Counter::Allocations => &AllocFormatter("allocs"),
            Counter::Bytes => &AllocFormatter("B"),
        }
    }
}

struct AllocFormatter(&'static str);

impl ValueFormatter for AllocFormatter {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        self.0
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        _t: &Throughput,
        _values: &mut [f64],
    ) -> &'static str {
        self.0
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        self.0
    }
}
