//! From [`RawScenario`] (what the file says) to [`Scenario`] (what a run uses): every check a
//! scenario must pass, each failing with the key and the fix.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use procman_core::{LogMatcher, LogQuery, RestartMode, RestartPolicy};

use super::raw::{RawArgs, RawBackground, RawCount, RawGroup, RawScenario, RawSpec};
use super::{
    Background, DEFAULT_SEED, DEFAULT_STALL_BOUND, DEFAULT_WARMUP, Group, GroupClients,
    LauncherSpec, McpChildren, McpTransport, OpArgs, OsChildren, Pacing, Scenario, ScenarioError,
    SimChildren, SpecTemplate,
};
use crate::duration::{DURATION_FORMAT, parse_duration};
use crate::mix::{Mix, Op};

/// Most processes a scenario may ask for.
pub const MAX_PROCESSES: i64 = 10_000;
/// Most clients in one group or sweep point.
pub const MAX_CLIENTS: i64 = 4_096;
/// Tolerance on the mix's sum of percentages.
const SUM_TOLERANCE: f64 = 1e-6;

/// Checks `raw` read from `path` and builds the [`Scenario`].
pub(super) fn validate(
    path: &Path,
    source: &str,
    raw: RawScenario,
) -> Result<Scenario, ScenarioError> {
    let err = |key: &str, problem: String, fix: &str| ScenarioError::new(path, key, problem, fix);

    let name = match raw.name {
        Some(name) => name,
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(err(
            "name",
            format!("{name:?} is not a usable scenario name"),
            "use letters, digits, '_' and '-' only (it becomes part of file names)",
        ));
    }
    if raw.description.trim().is_empty() {
        return Err(err(
            "description",
            "is empty".into(),
            "say in one line what the scenario models",
        ));
    }
    let processes = positive(path, "processes", raw.processes, MAX_PROCESSES)?;

    let launcher = match raw.launcher.as_str() {
        "sim" => {
            for (table, given) in [("os", raw.os.is_some()), ("mcp", raw.mcp.is_some())] {
                if given {
                    return Err(err(
                        table,
                        format!("an [{table}] table is given but launcher = \"sim\""),
                        &format!(
                            "remove [{table}], or set launcher = \"{table}\" to run real children"
                        ),
                    ));
                }
            }
            let sim = raw.sim.unwrap_or_default();
            LauncherSpec::Sim(SimChildren {
                output_lines: count(path, "sim.output_lines", sim.output_lines.unwrap_or(0))?,
                spawn_delay: duration_or(path, "sim.spawn_delay", sim.spawn_delay, Duration::ZERO)?,
                stop_delay: duration_or(path, "sim.stop_delay", sim.stop_delay, Duration::ZERO)?,
            })
        }
        "os" => {
            if raw.sim.is_some() {
                return Err(err(
                    "sim",
                    "a [sim] table is given but launcher = \"os\"".into(),
                    "remove [sim], or set launcher = \"sim\" for scripted children",
                ));
            }
            if raw.mcp.is_some() {
                return Err(err(
                    "mcp",
                    "an [mcp] table is given but launcher = \"os\"".into(),
                    "rename [mcp] to [os], or set launcher = \"mcp\" to drive the procman binary",
                ));
            }
            let os = raw.os.unwrap_or_default();
            LauncherSpec::Os(children(path, "os", os.command, os.shell)?)
        }
        "mcp" => {
            for (table, given) in [("sim", raw.sim.is_some()), ("os", raw.os.is_some())] {
                if given {
                    return Err(err(
                        table,
                        format!("an [{table}] table is given but launcher = \"mcp\""),
                        "say what the configured processes run under [mcp] (command or shell)",
                    ));
                }
            }
            let mcp = raw.mcp.unwrap_or_default();
            let start = match mcp.start {
                None => processes,
                Some(n) => count(path, "mcp.start", n)?,
            };
            if start > processes {
                return Err(err(
                    "mcp.start",
                    format!("{start} is more than the {processes} processes configured"),
                    "start at most `processes` of them (or leave `start` out to start all)",
                ));
            }
            LauncherSpec::Mcp(McpChildren {
                children: children(path, "mcp", mcp.command, mcp.shell)?,
                start,
                startup_probes: match mcp.startup_probes {
                    None => 5,
                    Some(n) => count(path, "mcp.startup_probes", n.min(1000))?,
                },
                transport: match mcp.transport.as_deref() {
                    None | Some("stdio") => McpTransport::Stdio,
                    Some("http") => McpTransport::Http,
                    Some(other) => {
                        return Err(err(
                            "mcp.transport",
                            format!("unknown transport {other:?}"),
                            "use \"stdio\" (procman mcp, clients multiplexed over its stdio) or \
                             \"http\" (procman serve, one Streamable HTTP session per client)",
                        ));
                    }
                },
            })
        }
        other => {
            return Err(err(
                "launcher",
                format!("unknown launcher {other:?}"),
                "use \"sim\" (scripted in-memory children), \"os\" (real children) or \"mcp\" \
                 (real children behind the procman binary, driven over MCP)",
            ));
        }
    };

    let duration = duration_or(path, "duration", Some(raw.duration), Duration::ZERO)?;
    if duration.is_zero() {
        return Err(err(
            "duration",
            "is zero: nothing would be measured".into(),
            "give the timed region a length, e.g. duration = \"5s\"",
        ));
    }
    let warmup = duration_or(path, "warmup", raw.warmup, DEFAULT_WARMUP)?;
    let stall_bound = duration_or(path, "stall_bound", raw.stall_bound, DEFAULT_STALL_BOUND)?;
    if stall_bound.is_zero() {
        return Err(err(
            "stall_bound",
            "is zero: every op would count as a stall".into(),
            "leave it out for the default (10ms) or give a positive bound",
        ));
    }

    let spec = spec(path, raw.spec.unwrap_or_default())?;
    let background = background(path, raw.background.unwrap_or_default(), &launcher)?;
    let args = args(path, raw.args.unwrap_or_default())?;

    if raw.group.is_empty() {
        return Err(err(
            "group",
            "no client group is given".into(),
            "add at least one [[group]] with `name`, `clients`, `loop` and a `mix` table",
        ));
    }
    let mut groups = Vec::with_capacity(raw.group.len());
    let mut names = BTreeSet::new();
    for (i, g) in raw.group.into_iter().enumerate() {
        let group = group(path, i, g)?;
        if !names.insert(group.name.clone()) {
            return Err(err(
                &format!("group[{i}].name"),
                format!("the group name {:?} is used twice", group.name),
                "give every group its own name",
            ));
        }
        groups.push(group);
    }

    let sweeps = groups.iter().any(|g| g.clients == GroupClients::Sweep);
    let sweep = match (raw.clients, sweeps) {
        (Some(list), true) => {
            if list.is_empty() {
                return Err(err(
                    "clients",
                    "the sweep is empty".into(),
                    "list the client counts to run, e.g. clients = [1, 2, 4, 8]",
                ));
            }
            list.into_iter()
                .map(|n| positive(path, "clients", n, MAX_CLIENTS))
                .collect::<Result<Vec<_>, _>>()?
        }
        (None, true) => {
            return Err(err(
                "clients",
                "a group has clients = \"sweep\" but no sweep is given".into(),
                "add a top-level `clients = [1, 2, 4, 8]` (the counts to sweep)",
            ));
        }
        (Some(_), false) => {
            return Err(err(
                "clients",
                "a sweep is given but no group has clients = \"sweep\"".into(),
                "set `clients = \"sweep\"` in the group to sweep, or remove the top-level list",
            ));
        }
        (None, false) => Vec::new(),
    };

    Ok(Scenario {
        name,
        description: raw.description.trim().to_owned(),
        path: path.to_owned(),
        source: source.to_owned(),
        processes,
        launcher,
        sweep,
        duration,
        warmup,
        stall_bound,
        seed: raw.seed.unwrap_or(DEFAULT_SEED),
        spec,
        background,
        args,
        groups,
    })
}

/// What real children run: exactly one of `TABLE.command` (argv) and `TABLE.shell`.
fn children(
    path: &Path,
    table: &str,
    command: Option<Vec<String>>,
    shell: Option<String>,
) -> Result<OsChildren, ScenarioError> {
    match (command, shell) {
        (Some(argv), None) if !argv.is_empty() && !argv[0].is_empty() => Ok(OsChildren::Argv(argv)),
        (None, Some(line)) if !line.trim().is_empty() => Ok(OsChildren::Shell(line)),
        (Some(_), Some(_)) => Err(ScenarioError::new(
            path,
            table,
            "both `command` and `shell` are given",
            "keep one: `command = [\"prog\", \"arg\"]` or `shell = \"a line\"`",
        )),
        _ => Err(ScenarioError::new(
            path,
            format!("{table}.command"),
            format!("no non-empty `command` or `shell` is given for launcher = \"{table}\""),
            format!("add `command = [\"sleep\", \"3600\"]` (or `shell = \"...\"`) under [{table}]"),
        )),
    }
}

fn spec(path: &Path, raw: RawSpec) -> Result<SpecTemplate, ScenarioError> {
    let defaults = SpecTemplate::default();
    let mode = match raw.restart.as_deref() {
        None | Some("never") => RestartMode::Never,
        Some("on-failure") => RestartMode::OnFailure,
        Some("always") => RestartMode::Always,
        Some(other) => {
            return Err(ScenarioError::new(
                path,
                "spec.restart",
                format!("unknown restart mode {other:?}"),
                "use \"never\", \"on-failure\" or \"always\"",
            ));
        }
    };
    let backoff = duration_or(
        path,
        "spec.restart_backoff",
        raw.restart_backoff,
        Duration::from_millis(10),
    )?;
    Ok(SpecTemplate {
        stop_timeout: duration_or(
            path,
            "spec.stop_timeout",
            raw.stop_timeout,
            defaults.stop_timeout,
        )?,
        restart: RestartPolicy {
            mode,
            initial_backoff: backoff,
            max_backoff: backoff,
            max_restarts: raw.max_restarts.unwrap_or(u32::MAX),
        },
    })
}

fn background(
    path: &Path,
    raw: RawBackground,
    launcher: &LauncherSpec,
) -> Result<Background, ScenarioError> {
    let rate = |key: &str, v: Option<f64>| -> Result<f64, ScenarioError> {
        let v = v.unwrap_or(0.0);
        if !v.is_finite() || v < 0.0 {
            return Err(ScenarioError::new(
                path,
                key,
                format!("{v} is not a rate"),
                "give a number of events per second >= 0 (0 turns it off)",
            ));
        }
        Ok(v)
    };
    let bg = Background {
        churn_per_sec: rate("background.churn_per_sec", raw.churn_per_sec)?,
        churn_threads: match raw.churn_threads {
            None => 1,
            Some(n) => positive(path, "background.churn_threads", n, 64)?,
        },
        log_lines_per_sec: rate("background.log_lines_per_sec", raw.log_lines_per_sec)?,
        exits_per_sec: rate("background.exits_per_sec", raw.exits_per_sec)?,
        error_line_every: match raw.error_line_every {
            None => 10,
            Some(n) => positive(path, "background.error_line_every", n, i64::MAX)? as u64,
        },
    };
    if let LauncherSpec::Mcp(_) = launcher
        && !bg.is_idle()
    {
        return Err(ScenarioError::new(
            path,
            "background",
            "is not available with launcher = \"mcp\" (the manager lives in the procman \
             process, out of the harness's reach)",
            "remove [background]; put load in a [[group]] (e.g. an open-loop scripts_restart group)",
        ));
    }
    if matches!(launcher, LauncherSpec::Os(_)) {
        for (key, v) in [
            ("background.log_lines_per_sec", bg.log_lines_per_sec),
            ("background.exits_per_sec", bg.exits_per_sec),
        ] {
            if v > 0.0 {
                return Err(ScenarioError::new(
                    path,
                    key,
                    "is only available with launcher = \"sim\" (the harness cannot make real \
                     children write or exit)",
                    "write the output or the exits into [os] command instead, or use launcher = \"sim\"",
                ));
            }
        }
    }
    Ok(bg)
}

fn args(path: &Path, raw: RawArgs) -> Result<OpArgs, ScenarioError> {
    let d = OpArgs::default();
    let a = OpArgs {
        logs_stream_limit: match raw.logs_stream_limit {
            None => d.logs_stream_limit,
            Some(n) => positive(path, "args.logs_stream_limit", n, 1_000_000)?,
        },
        logs_search_pattern: raw.logs_search_pattern.unwrap_or(d.logs_search_pattern),
        logs_search_regex: raw.logs_search_regex.unwrap_or(d.logs_search_regex),
        logs_search_limit: match raw.logs_search_limit {
            None => d.logs_search_limit,
            Some(n) => positive(path, "args.logs_search_limit", n, 1_000_000)?,
        },
    };
    let query = LogQuery {
        pattern: a.logs_search_pattern.clone(),
        regex: a.logs_search_regex,
        name: None,
        limit: a.logs_search_limit,
    };
    if let Err(e) = LogMatcher::new(&query) {
        return Err(ScenarioError::new(
            path,
            "args.logs_search_pattern",
            e.to_string(),
            "give a valid pattern (Rust regex syntax when logs_search_regex = true)",
        ));
    }
    Ok(a)
}

fn group(path: &Path, i: usize, raw: RawGroup) -> Result<Group, ScenarioError> {
    let key = |k: &str| format!("group[{i}].{k}");
    let err = |k: &str, problem: String, fix: &str| ScenarioError::new(path, key(k), problem, fix);
    if raw.name.trim().is_empty() {
        return Err(err(
            "name",
            "is empty".into(),
            "name the group after who its clients are (agents, tui)",
        ));
    }
    let clients = match raw.clients {
        RawCount::Fixed(n) => GroupClients::Fixed(positive(path, &key("clients"), n, MAX_CLIENTS)?),
        RawCount::Word(w) if w == "sweep" => GroupClients::Sweep,
        RawCount::Word(w) => {
            return Err(err(
                "clients",
                format!("{w:?} is neither a number nor \"sweep\""),
                "give a fixed count (clients = 1) or clients = \"sweep\"",
            ));
        }
    };
    let pacing = match (raw.pacing.as_deref(), raw.rate_per_client) {
        (None | Some("closed"), None) => Pacing::Closed,
        (None | Some("closed"), Some(_)) => {
            return Err(err(
                "rate_per_client",
                "is given for a closed loop".into(),
                "set loop = \"open\" to pace the clients, or remove rate_per_client",
            ));
        }
        (Some("open"), Some(rate)) if rate.is_finite() && rate > 0.0 && rate <= 1e7 => {
            Pacing::Open {
                rate_per_client: rate,
            }
        }
        (Some("open"), Some(rate)) => {
            return Err(err(
                "rate_per_client",
                format!("{rate} is not a usable rate"),
                "give ops per second per client, > 0 and at most 1e7",
            ));
        }
        (Some("open"), None) => {
            return Err(err(
                "rate_per_client",
                "is missing for loop = \"open\"".into(),
                "add rate_per_client = OPS_PER_SECOND (per client)",
            ));
        }
        (Some(other), _) => {
            return Err(err(
                "loop",
                format!("unknown loop {other:?}"),
                "use \"closed\" (next op when the last returns) or \"open\" (a fixed rate)",
            ));
        }
    };
    let mut shares = Vec::with_capacity(raw.mix.len());
    for (name, &percent) in &raw.mix {
        let Some(op) = Op::from_name(name) else {
            return Err(err(
                &format!("mix.{name}"),
                format!("unknown op {name:?}"),
                &format!("use one of: {}", Op::valid_names()),
            ));
        };
        if !percent.is_finite() || !(0.0..=100.0).contains(&percent) {
            return Err(err(
                &format!("mix.{name}"),
                format!("{percent} is not a percentage"),
                "give a share between 0 and 100",
            ));
        }
        shares.push((op, percent));
    }
    let sum: f64 = shares.iter().map(|&(_, p)| p).sum();
    if shares.iter().all(|&(_, p)| p == 0.0) {
        return Err(err(
            "mix",
            "no op has a share".into(),
            &format!(
                "give percentages summing to 100, e.g. mix = {{ scripts_status = 100 }}; ops: {}",
                Op::valid_names()
            ),
        ));
    }
    if (sum - 100.0).abs() > SUM_TOLERANCE {
        return Err(err(
            "mix",
            format!("the shares sum to {sum}, not 100"),
            "make the percentages sum to exactly 100",
        ));
    }
    Ok(Group {
        name: raw.name.trim().to_owned(),
        clients,
        pacing,
        mix: Mix::new(&shares),
    })
}

fn duration_or(
    path: &Path,
    key: &str,
    text: Option<String>,
    default: Duration,
) -> Result<Duration, ScenarioError> {
    match text {
        None => Ok(default),
        Some(t) => parse_duration(&t).map_err(|problem| {
            ScenarioError::new(
                path,
                key,
                problem.to_string(),
                format!("write {DURATION_FORMAT}"),
            )
        }),
    }
}

fn positive(path: &Path, key: &str, n: i64, max: i64) -> Result<usize, ScenarioError> {
    if n < 1 || n > max {
        return Err(ScenarioError::new(
            path,
            key,
            format!("{n} is out of range"),
            format!("give a whole number from 1 to {max}"),
        ));
    }
    Ok(n as usize)
}

fn count(path: &Path, key: &str, n: i64) -> Result<usize, ScenarioError> {
    if n < 0 {
        return Err(ScenarioError::new(
            path,
            key,
            format!("{n} is negative"),
            "give a whole number >= 0",
        ));
    }
    Ok(n as usize)
}
