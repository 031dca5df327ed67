//! How things are measured: the clock ([`timer`]), latency histograms ([`histogram`]), the
//! counting allocator ([`alloc`]), the lockup detector ([`watchdog`]), client context switches
//! ([`sched`]), and the harness's own cost ([`overhead`]).

pub mod alloc;
pub mod histogram;
pub mod overhead;
pub mod sched;
pub mod timer;
pub mod watchdog;
