//! The scenario file exactly as written: serde types with `deny_unknown_fields`, so a typo is an
//! error rather than a silently ignored key. [`super::validate`] turns them into a
//! [`super::Scenario`]. The schema is documented in `scenarios/README.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The top level of a scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    /// Defaults to the file stem.
    pub name: Option<String>,
    /// One line: what the scenario models.
    pub description: String,
    /// How many named processes the manager holds.
    pub processes: i64,
    /// `"sim"` or `"os"`.
    pub launcher: String,
    /// The client counts swept by groups with `clients = "sweep"`.
    pub clients: Option<Vec<i64>>,
    /// Length of the timed region of each run.
    pub duration: String,
    /// Untimed run before the timed region.
    pub warmup: Option<String>,
    /// The watchdog's bound: an op slower than this is a stall.
    pub stall_bound: Option<String>,
    /// Base seed of the clients' and background's random generators.
    pub seed: Option<u64>,
    /// Simulated children (launcher = "sim").
    pub sim: Option<RawSim>,
    /// Real children (launcher = "os").
    pub os: Option<RawOs>,
    /// Real children behind the procman binary, driven over MCP (launcher = "mcp").
    pub mcp: Option<RawMcp>,
    /// The spec every process is started with.
    pub spec: Option<RawSpec>,
    /// Load applied by harness threads while the clients run.
    pub background: Option<RawBackground>,
    /// Arguments of the operations.
    pub args: Option<RawArgs>,
    /// Client groups.
    #[serde(default)]
    pub group: Vec<RawGroup>,
}

/// `[sim]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSim {
    pub output_lines: Option<i64>,
    pub spawn_delay: Option<String>,
    pub stop_delay: Option<String>,
}

/// `[os]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOs {
    pub command: Option<Vec<String>>,
    pub shell: Option<String>,
}

/// `[mcp]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMcp {
    pub command: Option<Vec<String>>,
    pub shell: Option<String>,
    pub start: Option<i64>,
    pub startup_probes: Option<i64>,
    pub transport: Option<String>,
}

/// `[spec]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    pub stop_timeout: Option<String>,
    pub restart: Option<String>,
    pub restart_backoff: Option<String>,
    pub max_restarts: Option<u32>,
}

/// `[background]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBackground {
    pub churn_per_sec: Option<f64>,
    pub churn_threads: Option<i64>,
    pub log_lines_per_sec: Option<f64>,
    pub exits_per_sec: Option<f64>,
    pub error_line_every: Option<i64>,
}

/// `[args]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArgs {
    pub logs_stream_limit: Option<i64>,
    pub logs_search_pattern: Option<String>,
    pub logs_search_regex: Option<bool>,
    pub logs_search_limit: Option<i64>,
}

/// `clients = "sweep"` or `clients = 3` in a group.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawCount {
    Fixed(i64),
    Word(String),
}

/// One `[[group]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub name: String,
    pub clients: RawCount,
    #[serde(rename = "loop")]
    pub pacing: Option<String>,
    pub rate_per_client: Option<f64>,
    pub mix: BTreeMap<String, f64>,
}
