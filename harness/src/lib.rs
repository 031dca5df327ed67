//! procman-harness: drives the three procman designs with MCP-shaped workloads and reports
//! what it measured, with the provenance needed to trust it.
//!
//! - scenarios are data ([`scenario`], `scenarios/*.toml`, schema in `scenarios/README.md`);
//! - [`run_scenario`] runs one (every design, every sweep point) and returns a typed
//!   [`ScenarioResult`]; [`ResultsFile`] is the JSON written to disk (schema in
//!   `harness/RESULTS.md`); [`table::render`] prints it;
//! - the drivers ([`driver`]) call the designs from OS threads or tokio tasks, closed or open
//!   loop ([`schedule`]), recording per-op latency in HDR histograms, allocations per op
//!   ([`measure::alloc`], install [`CountingAllocator`] as the global allocator to count) and
//!   stalls ([`measure::watchdog`]);
//! - the harness measures its own cost ([`measure::overhead`]) and says it in every result.
//!
//! The `harness` binary is a thin layer over this library ([`cli`]); later subcommands reuse
//! [`run_scenario`].

pub mod aggregate;
pub mod background;
pub mod call;
pub mod cli;
pub mod contender;
pub mod driver;
pub mod duration;
pub mod error;
pub mod file_format;
pub mod gate;
pub mod gopeer;
pub mod measure;
pub mod mix;
pub mod progress;
pub mod provenance;
pub mod report;
pub mod reproduce;
pub mod results;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod seeds;
pub mod table;

pub use contender::Design;
pub use error::HarnessError;
pub use measure::alloc::CountingAllocator;
pub use mix::Op;
pub use results::{Driver, ResultsFile, RunResult, ScenarioResult};
pub use run::{RunOptions, run_scenario};
pub use scenario::{Scenario, ScenarioError};

/// The unit-test binary counts allocations too, so the allocation tests see real counts.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOCATOR: CountingAllocator = CountingAllocator;
