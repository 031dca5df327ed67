//! `harness`: run scenarios against the procman designs and print what was measured.
//! Everything but the allocator lives in the library (`procman_harness`).

use procman_harness::CountingAllocator;

/// Counts every allocation, per thread and process-wide, for the allocs/op figures.
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn main() -> std::process::ExitCode {
    procman_harness::cli::main()
}
