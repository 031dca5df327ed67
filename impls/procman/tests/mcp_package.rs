//! package.json scripts configured from procman.toml's `[scripts.NAME]`, and the package
//! manager's banner kept out of ready matching. The package manager is a stand-in `npm` on
//! PATH that prints npm's banner, so the test needs no Node.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use serde_json::json;

const FAKE_NPM: &str = r#"#!/bin/sh
# Prints what `npm run SCRIPT` prints before the script: a blank line, the package and script,
# the command; then the "script" itself.
echo
echo "> app@1.0.0 $2"
echo "> echo ready-looking banner && node server.js"
echo
echo "greeting=$GREETING"
echo "server is ready"
exec sleep 300
"#;

#[tokio::test(flavor = "multi_thread")]
async fn script_overrides_apply_and_the_banner_never_matches_ready() {
    let project = Project::new(
        r#"
[scripts.dev]
ready = "ready"
env = { GREETING = "hi" }
restart = "on-failure"
stop_timeout_ms = 1500
description = "the dev server"
"#,
    );
    std::fs::write(
        project.path().join("package.json"),
        r#"{"name":"app","version":"1.0.0","scripts":{"dev":"node server.js"}}"#,
    )
    .unwrap();
    std::fs::write(project.path().join("package-lock.json"), "{}").unwrap();
    let bin = project.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let npm = bin.join("npm");
    std::fs::write(&npm, FAKE_NPM).unwrap();
    std::fs::set_permissions(&npm, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let server = start_with_env(&project, &["mcp"], &[("PATH", path.as_str())]).await;

    let listed = server.ok("scripts_list", json!({})).await;
    let dev = &listed["scripts"][0];
    assert_eq!(dev["name"], "dev", "{listed}");
    assert_eq!(dev["source"], "package.json");
    assert_eq!(dev["ready"], "ready");
    assert_eq!(dev["description"], "the dev server");

    server.ok("scripts_run", json!({"name": "dev"})).await;
    // The default pattern is the configured one; the banner line that contains "ready" is
    // skipped, so the match is the server's own line.
    let waited = server.ok("wait_for_log", json!({"name": "dev"})).await;
    assert_eq!(waited["outcome"], "matched", "{waited}");
    assert_eq!(waited["line"]["text"], "server is ready", "{waited}");
    // The env override reached the script.
    let found = server
        .ok("logs_search", json!({"query": "greeting=", "name": "dev"}))
        .await;
    assert_eq!(
        found["matches"][0]["line"]["text"], "greeting=hi",
        "{found}"
    );
    let stopped = server.ok("scripts_stop", json!({"name": "dev"})).await;
    assert_eq!(stopped["process"]["status"], "stopped", "{stopped}");
    assert!(server.close().await.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_under_processes_for_a_package_script_points_to_scripts() {
    let project = Project::new("[processes.dev]\nready = \"ready\"\n");
    std::fs::write(
        project.path().join("package.json"),
        r#"{"scripts":{"dev":"vite"}}"#,
    )
    .unwrap();
    let server = start(&project).await;
    let e = server.err("scripts_list", json!({})).await;
    assert!(
        e.contains("procman.toml:1:") && e.contains("rename the table to [scripts.dev]"),
        "{e}"
    );
    assert!(server.close().await.success());
}
