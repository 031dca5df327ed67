//! One test per validation error, plus the happy path and every shipped scenario.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::mix::Op;

const GOOD: &str = r#"
description = "a test scenario"
processes = 5
launcher = "sim"
clients = [1, 2]
duration = "2s"
warmup = "100ms"

[sim]
output_lines = 3
stop_delay = "1s"

[background]
churn_per_sec = 5
log_lines_per_sec = 100

[[group]]
name = "agents"
clients = "sweep"
loop = "closed"
mix = { scripts_status = 80, scripts_run = 10, scripts_stop = 10 }

[[group]]
name = "tui"
clients = 1
loop = "open"
rate_per_client = 60
mix = { scripts_status_all = 50, logs_stream = 50 }
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(Path::new("scenarios/t.toml"), text)
}

/// `GOOD` with `from` replaced by `to` (which must occur).
fn with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "test bug: {from:?} not in GOOD");
    GOOD.replacen(from, to, 1)
}

/// Parses `text`, expects an error about `key` whose message contains each of `needles`.
fn expect_err(text: &str, key: &str, needles: &[&str]) -> ScenarioError {
    let e = parse(text).expect_err("the scenario should be rejected");
    assert_eq!(e.key, key, "{e}");
    let shown = e.to_string();
    assert!(shown.starts_with("scenarios/t.toml"), "{shown}");
    for needle in needles {
        assert!(shown.contains(needle), "{needle:?} missing from: {shown}");
    }
    assert!(!e.fix.is_empty());
    e
}

#[test]
fn good_scenario_parses_with_defaults() {
    let s = parse(GOOD).unwrap();
    assert_eq!(s.name, "t");
    assert_eq!(s.processes, 5);
    assert_eq!(s.sweep, vec![1, 2]);
    assert_eq!(s.duration, Duration::from_secs(2));
    assert_eq!(s.warmup, Duration::from_millis(100));
    assert_eq!(s.stall_bound, DEFAULT_STALL_BOUND);
    assert_eq!(s.args, OpArgs::default());
    assert_eq!(
        s.launcher,
        LauncherSpec::Sim(SimChildren {
            output_lines: 3,
            spawn_delay: Duration::ZERO,
            stop_delay: Duration::from_secs(1),
        })
    );
    assert_eq!(s.groups.len(), 2);
    assert_eq!(s.groups[0].clients, GroupClients::Sweep);
    assert_eq!(
        s.groups[1].pacing,
        Pacing::Open {
            rate_per_client: 60.0
        }
    );
    assert_eq!(s.total_clients(2), 3);
    assert!((s.groups[0].mix.write_percent() - 20.0).abs() < 1e-9);
    assert_eq!(Scenario::process_name(7), "proc-007");
    assert_eq!(&*s.process_spec(7).name, "proc-007");
}

#[test]
fn unknown_op_lists_the_valid_ones() {
    let e = expect_err(
        &with("scripts_run = 10", "scripts_rnu = 10"),
        "group[0].mix.scripts_rnu",
        &["unknown op", "scripts_status_all", "logs_search"],
    );
    assert!(e.fix.contains(&Op::valid_names()));
}

#[test]
fn mix_must_sum_to_100() {
    expect_err(
        &with("scripts_status = 80", "scripts_status = 75"),
        "group[0].mix",
        &["sum to 95", "exactly 100"],
    );
}

#[test]
fn mix_share_must_be_a_percentage() {
    expect_err(
        &with("scripts_status = 80", "scripts_status = -80"),
        "group[0].mix.scripts_status",
        &["not a percentage"],
    );
}

#[test]
fn zero_duration_is_rejected() {
    expect_err(&with("\"2s\"", "\"0s\""), "duration", &["zero"]);
}

#[test]
fn malformed_duration_names_the_format() {
    expect_err(
        &with("warmup = \"100ms\"", "warmup = \"100 millis\""),
        "warmup",
        &["unknown unit", "\"250ms\""],
    );
}

#[test]
fn unknown_launcher_names_the_valid_ones() {
    expect_err(
        &with("launcher = \"sim\"", "launcher = \"docker\""),
        "launcher",
        &["unknown launcher \"docker\"", "\"sim\"", "\"os\""],
    );
}

#[test]
fn unknown_key_is_rejected_with_its_line() {
    let e = expect_err(
        &with("processes = 5", "processes = 5\nprocesess = 6"),
        "procesess",
        &["unknown field `procesess`", "fix:"],
    );
    // GOOD starts with a newline, so `processes` is on line 3 and the typo on line 4.
    assert_eq!(e.at.map(|(line, _)| line), Some(4));
}

#[test]
fn unknown_key_in_a_table_is_rejected() {
    expect_err(
        &with("output_lines = 3", "output_lines = 3\nstop_dealy = \"1s\""),
        "stop_dealy",
        &["unknown field `stop_dealy`"],
    );
}

#[test]
fn wrong_type_is_explained() {
    expect_err(
        &with("processes = 5", "processes = \"five\""),
        "processes",
        &["invalid type", "integers"],
    );
}

#[test]
fn toml_syntax_error_is_located() {
    let e = parse("description = \"x\"\nprocesses = = 3\n").unwrap_err();
    assert_eq!(e.at.map(|(line, _)| line), Some(2), "{e}");
    assert!(
        e.to_string().contains("fix: correct the TOML syntax"),
        "{e}"
    );
}

#[test]
fn missing_required_key_is_named() {
    expect_err(
        &with("processes = 5\n", ""),
        "(file)",
        &["missing field `processes`", "add the key"],
    );
}

#[test]
fn zero_processes_is_rejected() {
    expect_err(
        &with("processes = 5", "processes = 0"),
        "processes",
        &["out of range", "1 to"],
    );
}

#[test]
fn open_loop_needs_a_rate() {
    expect_err(
        &with("rate_per_client = 60\n", ""),
        "group[1].rate_per_client",
        &["missing for loop = \"open\""],
    );
}

#[test]
fn closed_loop_rejects_a_rate() {
    expect_err(
        &with(
            "loop = \"closed\"",
            "loop = \"closed\"\nrate_per_client = 10",
        ),
        "group[0].rate_per_client",
        &["closed loop"],
    );
}

#[test]
fn unknown_loop_is_rejected() {
    expect_err(
        &with("loop = \"closed\"", "loop = \"burst\""),
        "group[0].loop",
        &["unknown loop \"burst\"", "\"open\""],
    );
}

#[test]
fn sweep_needs_a_list_and_a_list_needs_a_sweep() {
    expect_err(
        &with("clients = [1, 2]\n", ""),
        "clients",
        &["no sweep is given"],
    );
    expect_err(
        &with("clients = \"sweep\"", "clients = 4"),
        "clients",
        &["no group has clients = \"sweep\""],
    );
    expect_err(&with("[1, 2]", "[1, 0]"), "clients", &["out of range"]);
    expect_err(&with("[1, 2]", "[]"), "clients", &["sweep is empty"]);
}

#[test]
fn group_clients_word_must_be_sweep() {
    expect_err(
        &with("clients = \"sweep\"", "clients = \"many\""),
        "group[0].clients",
        &["neither a number nor \"sweep\""],
    );
}

#[test]
fn group_names_are_unique() {
    expect_err(
        &with("name = \"tui\"", "name = \"agents\""),
        "group[1].name",
        &["used twice"],
    );
}

#[test]
fn groups_are_required() {
    let cut = GOOD.find("[[group]]").unwrap();
    let text = GOOD[..cut].replace("clients = [1, 2]\n", "");
    expect_err(&text, "group", &["no client group"]);
}

#[test]
fn os_launcher_needs_a_command_and_refuses_sim_only_load() {
    let os = with("launcher = \"sim\"", "launcher = \"os\"")
        .replace("[sim]\noutput_lines = 3\nstop_delay = \"1s\"\n", "");
    expect_err(&os, "os.command", &["no non-empty `command`"]);
    let os = os.replace(
        "[background]",
        "[os]\ncommand = [\"sleep\", \"60\"]\n\n[background]",
    );
    expect_err(
        &os,
        "background.log_lines_per_sec",
        &["only available with launcher = \"sim\""],
    );
    let ok = os.replace("log_lines_per_sec = 100", "");
    let s = parse(&ok).unwrap();
    assert_eq!(s.launcher.kind(), "os");
    assert_eq!(
        s.process_spec(0).command,
        procman_core::Command::Argv(vec!["sleep".into(), "60".into()])
    );
}

#[test]
fn sim_table_with_os_launcher_and_os_table_with_sim_launcher_are_rejected() {
    expect_err(
        &with("launcher = \"sim\"", "launcher = \"os\""),
        "sim",
        &["[sim] table is given"],
    );
    expect_err(
        &with("[background]", "[os]\nshell = \"sleep 9\"\n\n[background]"),
        "os",
        &["[os] table is given"],
    );
}

#[test]
fn negative_background_rate_is_rejected() {
    expect_err(
        &with("churn_per_sec = 5", "churn_per_sec = -5"),
        "background.churn_per_sec",
        &["not a rate"],
    );
}

#[test]
fn bad_search_regex_is_rejected() {
    expect_err(
        &with(
            "[background]",
            "[args]\nlogs_search_pattern = \"(\"\nlogs_search_regex = true\n\n[background]",
        ),
        "args.logs_search_pattern",
        &["valid pattern"],
    );
}

#[test]
fn zero_stall_bound_is_rejected() {
    expect_err(
        &with(
            "warmup = \"100ms\"",
            "warmup = \"100ms\"\nstall_bound = \"0ms\"",
        ),
        "stall_bound",
        &["zero"],
    );
}

#[test]
fn bad_name_is_rejected() {
    expect_err(
        &with("description", "name = \"a b\"\ndescription"),
        "name",
        &["not a usable scenario name"],
    );
}

#[test]
fn missing_file_names_the_path() {
    let e = Scenario::load(Path::new("scenarios/nope.toml")).unwrap_err();
    assert!(e.to_string().contains("scenarios/nope.toml"), "{e}");
    assert!(e.fix.contains("harness list"));
}

/// Every file shipped in scenarios/ parses and is valid.
#[test]
fn shipped_scenarios_are_valid() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!s.groups.is_empty());
            seen += 1;
        }
    }
    assert!(
        seen >= 7,
        "expected the seven shipped scenarios, found {seen}"
    );
}

#[test]
fn mcp_launcher_needs_a_command_refuses_background_and_bounds_start() {
    let mcp = with("launcher = \"sim\"", "launcher = \"mcp\"")
        .replace("[sim]\noutput_lines = 3\nstop_delay = \"1s\"\n", "");
    expect_err(&mcp, "mcp.command", &["no non-empty `command`"]);
    let mcp = mcp.replace(
        "[background]",
        "[mcp]\ncommand = [\"sleep\", \"60\"]\nstart = 9\n\n[background]",
    );
    expect_err(&mcp, "mcp.start", &["more than the 5 processes"]);
    let mcp = mcp.replace("start = 9", "start = 2");
    expect_err(
        &mcp,
        "background",
        &["not available with launcher = \"mcp\""],
    );
    let ok = mcp.replace("churn_per_sec = 5\nlog_lines_per_sec = 100\n", "");
    let s = parse(&ok).unwrap();
    assert_eq!(s.launcher.kind(), "mcp");
    let LauncherSpec::Mcp(m) = &s.launcher else {
        panic!("not mcp")
    };
    assert_eq!((m.start, m.startup_probes), (2, 5));
    assert_eq!(m.transport, crate::scenario::McpTransport::Stdio);
    let http = parse(&ok.replace("start = 2", "start = 2\ntransport = \"http\"")).unwrap();
    let LauncherSpec::Mcp(m) = &http.launcher else {
        panic!("not mcp")
    };
    assert_eq!(m.transport, crate::scenario::McpTransport::Http);
    expect_err(
        &ok.replace("start = 2", "start = 2\ntransport = \"websocket\""),
        "mcp.transport",
        &["unknown transport \"websocket\"", "\"http\""],
    );
    assert_eq!(
        s.process_spec(0).command,
        procman_core::Command::Argv(vec!["sleep".into(), "60".into()])
    );
    let both = ok.replace("[mcp]", "[os]\nshell = \"x\"\n\n[mcp]");
    expect_err(&both, "os", &["[os] table is given but launcher = \"mcp\""]);
}
