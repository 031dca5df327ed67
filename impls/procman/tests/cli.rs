//! The command line: help, `list`, and configuration errors that name file, key and fix.

mod common;

use std::process::Command;

use common::{PROCMAN, Project};

fn procman(project: &Project, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(PROCMAN)
        .args(args)
        .current_dir(project.path())
        .output()
        .expect("run procman");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn help_explains_every_subcommand_and_option() {
    let project = Project::new("");
    let (code, help, _) = procman(&project, &["--help"]);
    assert_eq!(code, 0);
    for needle in [
        "mcp",
        "up",
        "list",
        "--impl",
        "--config",
        "stdin is not a terminal",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
    for sub in ["mcp", "up", "list"] {
        let (code, help, _) = procman(&project, &[sub, "--help"]);
        assert_eq!(code, 0, "{sub}");
        assert!(help.len() > 200, "{sub} --help is too thin:\n{help}");
    }
}

#[test]
fn list_shows_toml_processes_and_package_json_scripts() {
    let project =
        Project::new("[processes.api]\ncommand = [\"cargo\", \"run\"]\nready = \"listening\"\n");
    std::fs::write(
        project.path().join("package.json"),
        r#"{"scripts": {"dev": "vite", "lint": "eslint ."}}"#,
    )
    .unwrap();
    std::fs::write(project.path().join("bun.lock"), "").unwrap();
    let (code, out, err) = procman(&project, &["list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("run with bun, from bun.lock"), "{out}");
    assert!(
        out.contains("api   procman.toml  cargo run  (ready: /listening/)"),
        "{out}"
    );
    assert!(
        out.contains("dev   package.json  bun run dev  # vite"),
        "{out}"
    );
    let (code, json, _) = procman(&project, &["list", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["scripts"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_config_names_file_line_key_and_fix() {
    let project = Project::new("[processes.web]\ncommand = [\"x\"]\nstop_signal = \"SIGBOGUS\"\n");
    let (code, _, err) = procman(&project, &["list"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("procman.toml:3:15: `processes.web.stop_signal`"),
        "{err}"
    );
    assert!(err.contains("unknown signal"), "{err}");
    // (`procman mcp` serves anyway and reports the error from every tool: see mcp_errors.)
    let project = Project::new("[settings]\nmax_processes = 0\n");
    let (code, _, err) = procman(&project, &["up"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`settings.max_processes`") && err.contains("from 1 to"),
        "{err}"
    );
}

#[test]
fn missing_config_file_is_named() {
    let project = Project::new("");
    let (code, _, err) = procman(&project, &["--config", "nope.toml", "list"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read") && err.contains("nope.toml"),
        "{err}"
    );
}
