//! Scenarios are data: one TOML file per MCP-shaped workload (`scenarios/*.toml`, schema in
//! `scenarios/README.md`). [`Scenario::load`] reads and validates one; every error names the
//! file, the key and the fix ([`ScenarioError`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use procman_core::{ProcessSpec, RestartMode, RestartPolicy};

use crate::mix::Mix;

mod error;
pub mod files;
mod raw;
mod validate;

pub use error::ScenarioError;

/// The stall bound when a scenario names none: an op slower than this is a stall.
pub const DEFAULT_STALL_BOUND: Duration = Duration::from_millis(10);
/// The warm-up when a scenario names none.
pub const DEFAULT_WARMUP: Duration = Duration::from_millis(500);
/// The base seed when a scenario names none.
pub const DEFAULT_SEED: u64 = 0x5EED;

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Short name (file stem unless the file says otherwise); used in tables and file names.
    pub name: String,
    /// One line: what it models.
    pub description: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// The file's full text, kept for the result file's provenance.
    pub source: String,
    /// How many named processes the manager holds (`proc-000`, `proc-001`, ...).
    pub processes: usize,
    /// How children come to life.
    pub launcher: LauncherSpec,
    /// Client counts for groups with `clients = "sweep"`; empty when no group sweeps.
    pub sweep: Vec<usize>,
    /// Length of each run's timed region.
    pub duration: Duration,
    /// Untimed run before the timed region (clients and background already running).
    pub warmup: Duration,
    /// An op slower than this is a stall (the lockup detector).
    pub stall_bound: Duration,
    /// Base seed of every random generator of the run.
    pub seed: u64,
    /// What every process is started with.
    pub spec: SpecTemplate,
    /// Load applied by harness threads during the run.
    pub background: Background,
    /// Arguments of the operations.
    pub args: OpArgs,
    /// The client groups (at least one).
    pub groups: Vec<Group>,
}

/// How children come to life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LauncherSpec {
    /// `procman_core::SimLauncher`: scripted in-memory children.
    Sim(SimChildren),
    /// The OS launcher: real children.
    Os(OsChildren),
    /// The `procman` binary (its OS launcher, real children), driven over MCP on stdio by the
    /// harness's MCP driver (`crate::driver::mcp`).
    Mcp(McpChildren),
}

impl LauncherSpec {
    /// `"sim"` or `"os"`.
    pub fn kind(&self) -> &'static str {
        match self {
            LauncherSpec::Sim(_) => "sim",
            LauncherSpec::Os(_) => "os",
            LauncherSpec::Mcp(_) => "mcp",
        }
    }
}

/// How simulated children behave (`[sim]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimChildren {
    /// Lines each child writes as soon as it is attached.
    pub output_lines: usize,
    /// How long each spawn takes (the run stays `Starting` meanwhile).
    pub spawn_delay: Duration,
    /// How long a child takes to die after the stop signal (`SimScript::slow_stop`).
    pub stop_delay: Duration,
}

/// What real children run (`[os]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OsChildren {
    /// A program and its arguments.
    Argv(Vec<String>),
    /// A shell line, run as `sh -c LINE`.
    Shell(String),
}

/// The processes configured in the `procman.toml` the MCP driver generates (`[mcp]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpChildren {
    /// What every configured process runs.
    pub children: OsChildren,
    /// How many of them are started (`scripts_run`, untimed) before the clients.
    pub start: usize,
    /// Extra procman spawns per design that time spawn to `initialize` answered and read the
    /// idle RSS.
    pub startup_probes: usize,
    /// How the clients reach procman.
    pub transport: McpTransport,
}

/// `[mcp] transport`: how the MCP driver's clients reach procman.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum McpTransport {
    /// `procman mcp`: every client multiplexed over the one stdio connection.
    #[default]
    Stdio,
    /// `procman serve`: each client its own MCP session over Streamable HTTP (its own
    /// keep-alive connection), all sessions sharing the one procman.
    Http,
}

/// What every process is started with (`[spec]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecTemplate {
    /// How long a stop waits before SIGKILL.
    pub stop_timeout: Duration,
    /// What happens when a child ends by itself.
    pub restart: RestartPolicy,
}

impl Default for SpecTemplate {
    fn default() -> Self {
        SpecTemplate {
            stop_timeout: Duration::from_secs(5),
            restart: RestartPolicy {
                mode: RestartMode::Never,
                ..RestartPolicy::default()
            },
        }
    }
}

/// Load applied by harness threads while the clients run (`[background]`). Rates are targets;
/// the result file reports what was achieved.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Background {
    /// Stop-then-start cycles per second, over all processes in turn.
    pub churn_per_sec: f64,
    /// Threads sharing the churn (a slow stop holds its thread).
    pub churn_threads: usize,
    /// Log lines per second written by the children, over all processes in turn (sim only).
    pub log_lines_per_sec: f64,
    /// Natural exits per second (exit code 1), over all processes in turn (sim only).
    pub exits_per_sec: f64,
    /// Every n-th background line contains `ERROR` (what `logs_search` looks for by default).
    pub error_line_every: u64,
}

impl Background {
    /// Whether any background load is asked for.
    pub fn is_idle(&self) -> bool {
        self.churn_per_sec == 0.0 && self.log_lines_per_sec == 0.0 && self.exits_per_sec == 0.0
    }
}

/// Arguments of the operations (`[args]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpArgs {
    /// Most lines one `logs_stream` returns.
    pub logs_stream_limit: usize,
    /// What `logs_search` looks for.
    pub logs_search_pattern: String,
    /// Whether the pattern is a regular expression.
    pub logs_search_regex: bool,
    /// Most matches one `logs_search` returns.
    pub logs_search_limit: usize,
}

impl Default for OpArgs {
    fn default() -> Self {
        OpArgs {
            logs_stream_limit: 100,
            logs_search_pattern: "ERROR".into(),
            logs_search_regex: false,
            logs_search_limit: 50,
        }
    }
}

/// How many clients a group runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupClients {
    /// Each count of the scenario's sweep in turn.
    Sweep,
    /// Always this many.
    Fixed(usize),
}

/// How a client paces its operations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pacing {
    /// The next op is sent as soon as the previous one returns.
    Closed,
    /// Ops are due at a fixed rate per client; latency counts from the due time, so a stall
    /// delays (and is charged to) every op due during it (coordinated omission not hidden).
    Open {
        /// Ops per second per client.
        rate_per_client: f64,
    },
}

/// One `[[group]]`: clients with the same pacing and mix.
#[derive(Clone, Debug)]
pub struct Group {
    /// Its name in tables and result files (`agents`, `tui`).
    pub name: String,
    /// How many clients.
    pub clients: GroupClients,
    /// Closed or open loop.
    pub pacing: Pacing,
    /// What the clients call.
    pub mix: Mix,
}

impl Group {
    /// The number of clients for sweep point `swept`.
    pub fn count_at(&self, swept: usize) -> usize {
        match self.clients {
            GroupClients::Sweep => swept,
            GroupClients::Fixed(n) => n,
        }
    }
}

impl Scenario {
    /// Reads and validates the scenario at `path`.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let source = std::fs::read_to_string(path).map_err(|e| {
            ScenarioError::new(
                path,
                "(file)",
                format!("cannot be read: {e}"),
                "check the path; `harness list` shows the scenarios in scenarios/",
            )
        })?;
        Scenario::parse(path, &source)
    }

    /// Validates `source` as if read from `path` (which names the file in errors and provides
    /// the default name).
    pub fn parse(path: &Path, source: &str) -> Result<Scenario, ScenarioError> {
        let raw: raw::RawScenario =
            toml::from_str(source).map_err(|e| ScenarioError::from_toml(path, source, &e))?;
        validate::validate(path, source, raw)
    }

    /// The name of process `index` (`proc-007`).
    pub fn process_name(index: usize) -> String {
        format!("proc-{index:03}")
    }

    /// The spec process `index` is started with.
    pub fn process_spec(&self, index: usize) -> ProcessSpec {
        let name = Scenario::process_name(index);
        let spec = match &self.launcher {
            LauncherSpec::Sim(_) => ProcessSpec::new(&name, ["sim-child"]),
            LauncherSpec::Os(OsChildren::Argv(argv))
            | LauncherSpec::Mcp(McpChildren {
                children: OsChildren::Argv(argv),
                ..
            }) => ProcessSpec::new(&name, argv.clone()),
            LauncherSpec::Os(OsChildren::Shell(line))
            | LauncherSpec::Mcp(McpChildren {
                children: OsChildren::Shell(line),
                ..
            }) => ProcessSpec::shell(&name, line),
        };
        spec.with_stop_timeout(self.spec.stop_timeout)
            .with_restart(self.spec.restart)
    }

    /// The sweep points: the client counts of the swept groups, or `[0]` (one run) when no
    /// group sweeps.
    pub fn sweep_points(&self) -> Vec<usize> {
        if self.sweep.is_empty() {
            vec![0]
        } else {
            self.sweep.clone()
        }
    }

    /// The total number of clients at sweep point `swept`.
    pub fn total_clients(&self, swept: usize) -> usize {
        self.groups.iter().map(|g| g.count_at(swept)).sum()
    }
}

#[cfg(test)]
mod tests;
