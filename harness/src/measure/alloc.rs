//! Allocation counting: the workspace's one counting allocator, [`procman_alloc_count`],
//! re-exported where the drivers and results have always found it.

pub use procman_alloc_count::{
    AllocCounts, CountingAllocator, is_installed, process_counts, thread_counts,
};
