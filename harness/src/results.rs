//! The result file: typed, versioned ([`SCHEMA_VERSION`]), documented field by field in
//! `harness/RESULTS.md`. The report renderer and the CI gate read it; a change that renames or
//! removes a field, or changes a unit, bumps the version.
//!
//! Units are in the field names: `_ns` nanoseconds, `_per_sec` per second, `_per_op` per
//! recorded op. Every latency comes with its full histogram, so a reader can merge runs or
//! compute other percentiles without re-running anything.

use std::collections::BTreeMap;
use std::path::Path;

use procman_core::ManagerStats;
use serde::{Deserialize, Serialize};

use crate::background::BackgroundCounts;
use crate::call::ErrorKind;
use crate::contender::Design;
use crate::file_format::{Format, FormatError};
use crate::measure::histogram::{HistogramBuckets, LatencySummary};
use crate::measure::overhead::Calibration;
use crate::measure::sched::ContextSwitches;
use crate::measure::watchdog::WatchdogReport;
use crate::mix::Op;
use crate::provenance::Provenance;

/// The version of the layout below. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;
/// The `kind` of a result file.
pub const RESULTS_KIND: &str = "procman-harness-results";

/// One result file: what was run, on what, and what came out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsFile {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// Always [`RESULTS_KIND`].
    pub kind: String,
    /// Machine, toolchain, source revision and date.
    pub provenance: Provenance,
    /// The command line that produced the file.
    pub args: Vec<String>,
    /// One entry per scenario run.
    pub scenarios: Vec<ScenarioResult>,
}

impl ResultsFile {
    /// A file holding `scenarios`, stamped with `provenance` and `args`.
    pub fn new(provenance: Provenance, args: Vec<String>, scenarios: Vec<ScenarioResult>) -> Self {
        ResultsFile {
            schema_version: SCHEMA_VERSION,
            kind: RESULTS_KIND.into(),
            provenance,
            args,
            scenarios,
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("result types always serialise")
    }

    /// Parses a result file, refusing other kinds and other schema versions with a message
    /// that says which.
    pub fn from_json(text: &str) -> Result<ResultsFile, FormatError> {
        crate::file_format::parse(
            text,
            &Format {
                kind: RESULTS_KIND,
                not_a: ": not a harness result file",
                version: SCHEMA_VERSION,
                fix: "re-run the scenario, or read it with the harness that wrote it",
            },
        )
    }

    /// Reads a result file from `path`.
    pub fn read(path: &Path) -> Result<ResultsFile, ReadError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
        ResultsFile::from_json(&text).map_err(|source| ReadError::Format {
            path: path.to_owned(),
            source,
        })
    }
}

/// A result file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file cannot be read.
    #[error("{}: cannot be read: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// It is not a result file this harness reads.
    #[error("{}: {source}", path.display())]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        source: FormatError,
    },
}

/// Which driver made the calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    /// One OS thread per client, calling directly.
    Threads,
    /// One tokio task per client on a multi-thread runtime.
    Tokio,
}

impl Driver {
    /// Its name on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Driver::Threads => "threads",
            Driver::Tokio => "tokio",
        }
    }
}

/// One scenario: its settings as run, the harness's own cost, and one run per design and
/// sweep point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario as run (command-line overrides applied).
    pub scenario: ScenarioInfo,
    /// The driver.
    pub driver: Driver,
    /// Worker threads of the tokio runtime (tokio driver only).
    pub tokio_workers: Option<usize>,
    /// The harness's own costs, measured just before the runs.
    pub calibration: Calibration,
    /// Design × sweep point, in the order run.
    pub runs: Vec<RunResult>,
}

/// A scenario's settings as run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// Its name.
    pub name: String,
    /// The file it came from, as given.
    pub file: String,
    /// Its one-line description.
    pub description: String,
    /// The file's full TOML text.
    pub toml: String,
    /// `"sim"` or `"os"`.
    pub launcher: String,
    /// Processes held.
    pub processes: usize,
    /// Timed region per run, nanoseconds.
    pub duration_ns: u64,
    /// Warm-up per run, nanoseconds.
    pub warmup_ns: u64,
    /// The stall bound, nanoseconds.
    pub stall_bound_ns: u64,
    /// Base seed.
    pub seed: u64,
    /// Client counts swept (empty when no group sweeps).
    pub sweep: Vec<usize>,
    /// Background load asked for, per second.
    pub background_target: BackgroundRates,
}

/// Background events per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BackgroundRates {
    /// Stop-then-start cycles per second (as a target: asked for; as achieved: begun, i.e.
    /// stops issued — a cycle whose stop takes seconds counts when it begins).
    pub churn_per_sec: f64,
    /// Log lines per second.
    pub log_lines_per_sec: f64,
    /// Natural exits per second.
    pub exits_per_sec: f64,
}

/// One design at one sweep point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The design.
    pub design: Design,
    /// The swept client count (`None` when no group sweeps).
    pub swept_clients: Option<usize>,
    /// All clients of all groups.
    pub total_clients: usize,
    /// False when clients did not finish (stuck or panicked); see `failure`.
    pub complete: bool,
    /// What went wrong, when `complete` is false.
    pub failure: Option<String>,
    /// From the start of the timed region to the return of the last recorded op,
    /// nanoseconds (at least the scenario's duration). Rates are per this window.
    pub window_ns: u64,
    /// One entry per client group.
    pub groups: Vec<GroupResult>,
    /// Allocations by every thread of the process during the timed region, divided by the
    /// ops of all groups: includes the actor's owner thread, the background load and the
    /// launcher.
    pub process_allocs: ProcessAllocs,
    /// What the background load achieved during the timed region.
    pub background: BackgroundResult,
    /// What the lockup detector saw.
    pub watchdog: WatchdogReport,
    /// Context switches of all client threads over the timed region (thread driver only):
    /// voluntary ones are waits the design imposed (contended locks, reply waits),
    /// involuntary ones are preemptions by the scheduler.
    pub client_context_switches: Option<ContextSwitches>,
    /// The manager's counters at the end of the run (all zero for `launcher = "mcp"`: the
    /// manager lives in the procman process, and no MCP tool reports them).
    pub manager_stats: ManagerStats,
    /// `launcher = "mcp"` only: start-up, memory and exit of the procman binary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpFigures>,
}

/// What the MCP driver measures of the procman binary besides tools/call latency
/// (`launcher = "mcp"`; see `harness/src/driver/mcp.rs`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct McpFigures {
    /// The binary driven.
    pub binary: String,
    /// `"stdio"` (`procman mcp`, every client over its stdio) or `"http"` (`procman serve`, a
    /// Streamable HTTP session per client). Absent in files written before HTTP: stdio.
    #[serde(default = "stdio")]
    pub transport: String,
    /// Processes configured in the generated procman.toml.
    pub configured: usize,
    /// Per start-up probe: from just before the spawn to the `initialize` response read back,
    /// nanoseconds (the request is written right after the spawn).
    pub startup_ns: Vec<u64>,
    /// Per start-up probe: resident set size (VmRSS) once initialized and idle, after
    /// `tools/list` and one `scripts_list`, nothing started, kibibytes.
    pub idle_rss_kib: Vec<u64>,
    /// The measured session's RSS with its processes started, before the clients, KiB.
    pub started_rss_kib: u64,
    /// The measured session's RSS after the timed region, KiB.
    pub after_rss_kib: u64,
    /// From closing procman's stdin (stdio) or sending it SIGTERM (http) to its exit, with the
    /// started processes running, nanoseconds; `None` when it did not exit within 10 s (it was
    /// then killed).
    pub exit_after_eof_ns: Option<u64>,
    /// Children (process-group leaders started by the run) still alive after procman exited.
    pub children_left: usize,
}

fn stdio() -> String {
    "stdio".to_owned()
}

/// One client group of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupResult {
    /// The group's name.
    pub group: String,
    /// Its clients.
    pub clients: usize,
    /// `"closed"` or `"open"`.
    pub pacing: String,
    /// Open loop: ops per second asked of the whole group.
    pub target_ops_per_sec: Option<f64>,
    /// Ops per second the group completed.
    pub achieved_ops_per_sec: f64,
    /// Open loop: ops due in the timed region.
    pub due: Option<u64>,
    /// Open loop: ops due before the end that were never sent (the run ended first).
    pub due_not_sent: Option<u64>,
    /// Open loop: how late ops were sent after their due time.
    pub send_lag: Option<LatencySummary>,
    /// Every op of the group together.
    pub total: OpStats,
    /// Per op, in [`Op::ALL`] order; only ops of the group's mix.
    pub ops: Vec<OpResult>,
}

/// One op of one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpResult {
    /// The op.
    pub op: Op,
    /// Its figures.
    #[serde(flatten)]
    pub stats: OpStats,
}

/// The figures of one op (or of all ops of a group).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpStats {
    /// Ops recorded.
    pub count: u64,
    /// `count` per second of the run's window.
    pub ops_per_sec: f64,
    /// Latency (closed loop: call to return; open loop: due time to return).
    pub latency: LatencySummary,
    /// Ops slower than the stall bound.
    pub stalls: u64,
    /// Ops that returned an error, by kind (absent kinds: none).
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Sum of `errors`.
    pub errors_total: u64,
    /// Allocations per op on the calling side (thread driver: the client thread; tokio:
    /// the polls of the op's future plus its blocking closure).
    pub client_allocs_per_op: f64,
    /// Bytes allocated per op on the calling side.
    pub client_bytes_per_op: f64,
    /// The latency histogram.
    pub histogram: HistogramBuckets,
}

/// Process-wide allocations over the timed region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessAllocs {
    /// Allocations.
    pub allocs: u64,
    /// Bytes.
    pub bytes: u64,
    /// Divided by the ops recorded.
    pub allocs_per_op: f64,
    /// Divided by the ops recorded.
    pub bytes_per_op: f64,
}

/// The background load over the timed region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BackgroundResult {
    /// Events during the timed region.
    pub counts: BackgroundCounts,
    /// Per second of the scenario's duration.
    pub achieved: BackgroundRates,
}

#[cfg(test)]
mod tests;
