//! The tools' inputs and outputs: what their JSON schemas are generated from.
//!
//! Inputs use plain field types with `#[serde(default)]` rather than `Option<T>`, so that every
//! input schema property has one JSON type (no `["string", "null"]` unions, which some clients
//! reject); "absent" is the empty string, `false` or `0` where that reads naturally. The one
//! place where absence means something else (`logs_stream`'s `cursor`) keeps an `Option` with
//! a plain-integer schema. Unknown fields are refused so a misspelt argument is reported, not
//! ignored. Outputs are always JSON objects and are sent both as `structuredContent` and as
//! the same JSON in a text block.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest accepted script or process name, in bytes.
pub const MAX_NAME_LEN: usize = procman_core::spec::MAX_NAME_LEN;
/// Longest accepted process id (`NAME#GENERATION`), in bytes.
pub const MAX_PROCESS_ID_LEN: usize = MAX_NAME_LEN + 21;
/// Most extra arguments to `scripts_run`.
pub const MAX_ARGS: usize = 64;
/// Longest extra argument, in bytes.
pub const MAX_ARG_LEN: usize = 4096;
/// Longest search query or wait pattern, in bytes.
pub const MAX_PATTERN_LEN: usize = procman_core::logring::MAX_PATTERN_LEN;
/// Default and largest page of `logs_stream`.
pub const LOGS_LIMIT: (usize, usize) = (100, 1000);
/// Default and largest number of `logs_search` matches.
pub const SEARCH_LIMIT: (usize, usize) = (50, 500);
/// Default and largest number of stderr lines `scripts_why` returns.
pub const WHY_LINES: (usize, usize) = (20, 200);
/// Default and largest `wait_for_log` timeout, in milliseconds.
pub const WAIT_TIMEOUT_MS: (u64, u64) = (30_000, 600_000);

/// Rewrites a generated schema into standard JSON Schema: schemars marks integers with
/// `format` values of its own (`uint`, `uint32`, `uint64`, `int32`, ...), which no JSON Schema
/// draft defines, so validators such as Ajv (the MCP Inspector's) warn about every one. The
/// format is dropped; an unsigned one becomes `minimum: 0`, which says the same in standard
/// terms.
pub fn standardize(schema: &mut serde_json::Map<String, serde_json::Value>) {
    use serde_json::Value;
    if let Some(Value::String(format)) = schema.get("format") {
        let unsigned = format.starts_with("uint");
        let nonstandard = unsigned
            || matches!(
                format.as_str(),
                "int" | "int8" | "int16" | "int32" | "int64" | "float" | "double"
            );
        if nonstandard {
            schema.remove("format");
            if unsigned && !schema.contains_key("minimum") {
                schema.insert("minimum".into(), Value::from(0));
            }
        }
    }
    for value in schema.values_mut() {
        match value {
            Value::Object(inner) => standardize(inner),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(inner) = item {
                        standardize(inner);
                    }
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// `scripts_run`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunParams {
    /// The script to start, as listed by scripts_list.
    pub name: String,
    /// Extra arguments appended to the script's command, each passed as one argv element
    /// (never interpreted by a shell). Refused for scripts defined as a shell line.
    #[serde(default)]
    pub args: Vec<String>,
}

/// `scripts_stop`: a script by name or one run by process id.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopParams {
    /// The script whose current run to stop. Give this or processId.
    #[serde(default)]
    pub name: String,
    /// The exact run to stop (NAME#GENERATION, as returned by scripts_run). Give this or name.
    #[serde(default, rename = "processId", alias = "process_id")]
    pub process_id: String,
    /// Send SIGKILL at once instead of the graceful stop signal.
    #[serde(default)]
    pub force: bool,
}

/// `scripts_restart`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartParams {
    /// The script to restart (stop if running, then start again with the same arguments).
    pub name: String,
}

/// `scripts_status`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusParams {
    /// One script's status; omit (or leave empty) for every script.
    #[serde(default)]
    pub name: String,
    /// Also list the TCP ports each live run's processes listen on (reads /proc, so it is
    /// asked for rather than always done).
    #[serde(default)]
    pub ports: bool,
}

/// `scripts_why`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhyParams {
    /// The script: explains its latest run that ended (the current one if it ended, else the
    /// one before). Give this or processId.
    #[serde(default)]
    pub name: String,
    /// One run (NAME#GENERATION), current or kept in the history. Give this or name.
    #[serde(default, rename = "processId", alias = "process_id")]
    pub process_id: String,
    /// How many of the last stderr lines to return (default 20, at most 200).
    #[serde(default = "default_why_lines")]
    pub lines: usize,
}

/// `logs_stream`: a page of one run's output from a cursor.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsParams {
    /// The script whose current run to read. Give this or processId.
    #[serde(default)]
    pub name: String,
    /// The exact run to read (NAME#GENERATION). Give this or name.
    #[serde(default, rename = "processId", alias = "process_id")]
    pub process_id: String,
    /// Sequence number to read from: pass the previous result's nextCursor to follow the
    /// output. Omit it to get the most recent `limit` lines.
    #[serde(default)]
    #[schemars(with = "u64", transform = drop_default)]
    pub cursor: Option<u64>,
    /// Most lines to return (at most 1000).
    #[serde(default = "default_logs_limit")]
    pub limit: usize,
    /// Only this stream: "stdout" or "stderr"; omit (or leave empty) for both.
    #[serde(default)]
    pub stream: String,
    /// Only lines read at or after this time: RFC 3339 (2025-01-31T23:59:07Z) or a duration
    /// back from now (90s, 5m, 2h).
    #[serde(default)]
    pub since: String,
}

/// `logs_search`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Text to look for (a substring, or a regex when regex is true).
    pub query: String,
    /// Treat query as a regular expression (Rust regex syntax).
    #[serde(default)]
    pub regex: bool,
    /// Only this script; omit (or leave empty) to search every script's current run.
    #[serde(default)]
    pub name: String,
    /// Most matches to return, newest kept (at most 500).
    #[serde(default = "default_search_limit")]
    pub limit: usize,
    /// Search this one run (NAME#GENERATION), current or an earlier one kept in the history,
    /// instead of the current runs.
    #[serde(default, rename = "processId", alias = "process_id")]
    pub process_id: String,
    /// Only this stream: "stdout" or "stderr"; omit (or leave empty) for both.
    #[serde(default)]
    pub stream: String,
    /// Only lines read at or after this time: RFC 3339 or a duration back from now (90s, 5m).
    #[serde(default)]
    pub since: String,
}

/// `wait_for_log`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitParams {
    /// The script to watch (its current run, including lines already printed).
    pub name: String,
    /// Regex a line must match. Omit (or leave empty) to use the script's configured `ready`
    /// pattern from procman.toml.
    #[serde(default)]
    pub pattern: String,
    /// How long to wait, in milliseconds (at most 600000; 0 only checks the lines already
    /// printed).
    #[serde(default = "default_wait_timeout_ms", alias = "timeoutMs")]
    pub timeout_ms: u64,
}

fn default_logs_limit() -> usize {
    LOGS_LIMIT.0
}

fn default_why_lines() -> usize {
    WHY_LINES.0
}

fn default_search_limit() -> usize {
    SEARCH_LIMIT.0
}

fn default_wait_timeout_ms() -> u64 {
    WAIT_TIMEOUT_MS.0
}

/// Removes the `default: null` that an `Option` field with `#[serde(default)]` would show in a
/// schema that otherwise says "integer".
fn drop_default(schema: &mut schemars::Schema) {
    schema.remove("default");
}

// ---------------------------------------------------------------------------------------------
// Outputs

/// One run of a script, as every tool reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessView {
    /// The run's id, NAME#GENERATION; empty when the script has never been started.
    pub process_id: String,
    /// The script's name.
    pub name: String,
    /// not_started, pending, starting, running, stopping, stopped, exited, killed or failed.
    pub status: String,
    /// Human-readable status with its detail, e.g. "exited(1)" or "failed(no such file)".
    pub detail: String,
    /// True while a child may be alive (running or stopping).
    pub alive: bool,
    /// The process group leader's pid, once spawned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Signal that ended it (e.g. SIGKILL), when a signal did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// When the run started (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the run ended (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// Restarts of this script before this run (manual and automatic).
    pub restarts: u32,
    /// Lines of output so far (the next log cursor).
    pub log_lines: u64,
    /// Lines dropped from the log to stay within its bound.
    pub log_dropped: u64,
    /// URLs the run printed (a dev server's address), first seen first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// TCP ports the run's processes listen on (scripts_status with ports: true).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
    /// How the run before this one ended, when the history keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<RunEndView>,
}

/// A run from the history: when it ran and how it ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunEndView {
    /// The run, NAME#GENERATION: pass it as processId to logs_stream, logs_search or
    /// scripts_why.
    pub process_id: String,
    /// Exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Signal that ended it, when a signal did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended (RFC 3339, UTC); absent while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// How long it ran, in milliseconds, once ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// Who listens on a port.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortHolderView {
    /// Its pid.
    pub pid: u32,
    /// Its command line.
    pub command: String,
    /// The procman run it belongs to, when it is one of procman's.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub process_id: String,
}

/// A port the run reported as already in use, and who holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortInUseView {
    /// The port.
    pub port: u16,
    /// The processes listening on it (empty if none could be seen: it may have been freed).
    pub holders: Vec<PortHolderView>,
}

/// `scripts_why`: why a run ended, in one call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhyResult {
    /// The run explained: when and how it ended.
    pub run: RunEndView,
    /// Its status: running, stopped, exited, killed, ... (ended runs of the history: exited or
    /// killed).
    pub status: String,
    /// One sentence: how it ended and what stands out.
    pub summary: String,
    /// Its last stderr lines, oldest first.
    pub stderr_tail: Vec<LogLineView>,
    /// The error found at the end of its output (a panic, a traceback, `error:` lines, a
    /// stack), or empty.
    pub error_block: Vec<String>,
    /// A port it could not bind (EADDRINUSE in its output), with who holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_in_use: Option<PortInUseView>,
    /// URLs it printed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Every run of the script the history keeps, oldest first.
    pub runs: Vec<RunEndView>,
}

/// One configured script.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScriptView {
    /// The name to pass to the other tools.
    pub name: String,
    /// Where it is defined: "procman.toml" or "package.json".
    pub source: String,
    /// The command line it runs (shell-quoted, for reading).
    pub command: String,
    /// What it is for (the description, or the package.json script body).
    pub description: String,
    /// Whether scripts_run accepts extra args for it.
    pub accepts_args: bool,
    /// The configured ready pattern (wait_for_log's default), or empty.
    pub ready: String,
    /// Its current run's status, or "not_started".
    pub status: String,
    /// Its current run's id, or empty.
    pub process_id: String,
}

/// `scripts_list`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScriptsList {
    /// Every script procman may run, sorted by name.
    pub scripts: Vec<ScriptView>,
    /// The procman.toml in use, or empty.
    pub config: String,
    /// The package.json in use, or empty.
    pub package_json: String,
}

/// `scripts_run`, `scripts_stop` and `scripts_restart`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessResult {
    /// The run concerned, after the operation.
    pub process: ProcessView,
    /// What happened, in one sentence.
    pub message: String,
}

/// `scripts_status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusList {
    /// One entry per script asked about.
    pub processes: Vec<ProcessView>,
}

/// One line of output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogLineView {
    /// Sequence number within the run, from 0.
    pub seq: u64,
    /// "stdout" or "stderr".
    pub stream: String,
    /// When it was read (RFC 3339, UTC).
    pub at: String,
    /// The text, without its newline.
    pub text: String,
    /// The line was cut (too long) or ended without a newline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// `logs_stream`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogsPage {
    /// The run read.
    pub process_id: String,
    /// Its status now.
    pub status: String,
    /// The lines, oldest first.
    pub lines: Vec<LogLineView>,
    /// Pass this as cursor next time to get only newer lines.
    pub next_cursor: u64,
    /// Lines between the requested cursor and the first line returned that were dropped.
    pub missed: u64,
}

/// One `logs_search` hit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    /// The run whose output matched.
    pub process_id: String,
    /// The matching line.
    pub line: LogLineView,
}

/// `logs_search`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    /// Matches, ordered by time, newest kept when more matched than the limit.
    pub matches: Vec<SearchHit>,
}

/// `wait_for_log`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitResult {
    /// True when a line matched.
    pub matched: bool,
    /// "matched", "timeout" or "ended" (the run ended without printing a match).
    pub outcome: String,
    /// The pattern waited for.
    pub pattern: String,
    /// The matching line, when one matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<LogLineView>,
    /// The run watched, with its status when the wait ended.
    pub process: ProcessView,
    /// How long the wait took, in milliseconds.
    pub waited_ms: u64,
}
