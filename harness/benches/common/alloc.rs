//! Criterion measurements in allocations and bytes, read from the counting allocator
//! ([`procman_alloc_count`]), so
//! `memory_per_op` reports allocations per operation the way `go test -benchmem` does — counted
//! process-wide, so work an actor's owner thread does for a request counts too.

use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

/// The workspace's counting allocator; a bench installs it with `#[global_allocator]`.
pub use procman_alloc_count::CountingAllocator;

/// Which counter a measurement reads.
#[derive(Clone, Copy, Debug)]
pub enum Counter {
    /// Number of allocations (and reallocations).
    Allocations,
    /// Bytes requested.
    Bytes,
}

impl Counter {
    // Process-wide: what an actor's owner thread allocates for a request happened before the
    // reply the bench thread waits for, so it is in the sum read after it.
    fn read(self) -> u64 {
        let counts = procman_alloc_count::process_counts();
        match self {
            Counter::Allocations => counts.allocs,
            Counter::Bytes => counts.bytes,
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
