//! [`ToolError`]: every way a tool call fails, reported to the client as an `isError` result
//! whose text says what went wrong and what to do.

use procman_core::ProcessError;
use procman_core::id::BadProcessId;
use rmcp::model::{ContentBlock, IntoContents};

use crate::catalog::ArgsRefused;

/// A failed tool call. It becomes a `CallToolResult` with `isError: true`, so the model sees
/// the message and can correct itself; the server keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The arguments do not match the tool's input schema.
    #[error("invalid arguments for {tool}: {reason}; see the tool's input schema")]
    BadArguments {
        /// The tool called.
        tool: &'static str,
        /// What serde or a bound check said.
        reason: String,
    },
    /// The name is not a configured script.
    #[error(
        "no script named {name:?} is configured; procman only runs scripts from procman.toml and \
         package.json (call scripts_list to see them){known}"
    )]
    UnknownScript {
        /// The name asked for (cut to a readable length).
        name: String,
        /// ": the configured scripts are a, b, c", or empty.
        known: String,
    },
    /// Extra arguments for a shell-line script.
    #[error(transparent)]
    ArgsRefused(#[from] ArgsRefused),
    /// `scripts_run` of a script whose current run is live.
    #[error(
        "script {:?} is already {status} as {id}; use scripts_restart to restart it, or \
         scripts_stop first",
        id.name
    )]
    AlreadyRunning {
        /// The live run.
        id: procman_core::ProcessId,
        /// Its status.
        status: procman_core::StatusKind,
    },
    /// The process limit of procman.toml is reached.
    #[error(
        "cannot start {name:?}: procman already holds its limit of {limit} processes; raise \
         `max_processes` in [settings] of procman.toml"
    )]
    LimitReached {
        /// The script refused.
        name: String,
        /// The configured limit.
        limit: usize,
    },
    /// A configured script with no run yet.
    #[error("script {name:?} has not been started; start it with scripts_run first")]
    NotStarted {
        /// The script.
        name: String,
    },
    /// `wait_for_log` without a pattern, for a script with no configured `ready`.
    #[error(
        "no pattern given and script {name:?} has no `ready` pattern in procman.toml; pass a \
         pattern (a regex), or add `ready = \"...\"` to [processes.{name}]"
    )]
    NoPattern {
        /// The script.
        name: String,
    },
    /// A malformed process id.
    #[error(transparent)]
    BadProcessId(#[from] BadProcessId),
    /// What the process manager refused.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// procman.toml (or package.json) could not be loaded, so nothing can run.
    #[error(
        "procman's configuration is invalid, so no script can be listed or run: {0}. Fix the \
         file, then restart procman (the MCP client restarts it when you reconnect the server): \
         it reads the configuration once, at start"
    )]
    Config(String),
    /// A run older than the history keeps.
    #[error("{0}")]
    Expired(String),
    /// The client cancelled the request (the result is never sent).
    #[error("cancelled by the client")]
    Cancelled,
    /// procman itself failed (a worker thread panicked).
    #[error("internal error: {0}; please report it")]
    Internal(String),
}

impl ToolError {
    /// Bad arguments for `tool`.
    pub fn bad_args(tool: &'static str, reason: impl Into<String>) -> Self {
        ToolError::BadArguments {
            tool,
            reason: reason.into(),
        }
    }
}

impl ToolError {
    /// Adds to "is an older run" that the history keeps only the last `runs` runs.
    pub fn with_history_hint(self, runs: usize) -> Self {
        match self {
            ToolError::Process(e @ ProcessError::Superseded { .. }) => ToolError::Expired(format!(
                "{e}, and older than the {runs} runs per script procman keeps \
                 (history_runs in [settings] of procman.toml); read the current run by name"
            )),
            other => other,
        }
    }

    /// A start's failure, in the words of the tools (the manager's own messages name Rust
    /// API options that mean nothing to an MCP client).
    pub fn from_start(e: ProcessError) -> Self {
        match e {
            ProcessError::AlreadyRunning { id, status } => ToolError::AlreadyRunning { id, status },
            ProcessError::LimitReached { name, limit } => ToolError::LimitReached { name, limit },
            other => ToolError::Process(other),
        }
    }
}

impl IntoContents for ToolError {
    fn into_contents(self) -> Vec<ContentBlock> {
        vec![ContentBlock::text(self.to_string())]
    }
}

/// `s` cut to at most `max` bytes (at a character boundary), with "…" when cut: user input
/// echoed in an error stays readable however long it was.
pub fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
