//! Runs kept after a restart, and "why did it crash?" in one call: the run history
//! (`logs_stream`/`logs_search` by an older processId, `scripts_status`'s previous run),
//! `scripts_why`, the `stream`/`since` filters, URLs, and EADDRINUSE with the port's holder.

mod common;

use common::*;
use serde_json::{Value, json};

const HISTORY: &str = r#"
[processes.crash]
command = ["sh", "-c", "echo \"starting $$\"; echo \"error: boom in run $$\" >&2; exit 3"]
restart = "on-failure"
max_restarts = 3
backoff_ms = 10
max_backoff_ms = 20

[processes.ticker]
command = ["sh", "-c", "echo 'Local: http://localhost:5173/'; i=0; while :; do echo tick $i; echo warn $i >&2; i=$((i+1)); sleep 0.05; done"]
"#;

async fn status(server: &Server, name: &str) -> Value {
    server.ok("scripts_status", json!({"name": name})).await["processes"][0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_crash_of_a_loop_is_one_call_away() {
    let project = Project::new(HISTORY);
    let server = start(&project).await;
    let first = server.ok("scripts_run", json!({"name": "crash"})).await;
    let first_id = first["process"]["processId"].as_str().unwrap().to_owned();
    let first_pid = first["process"]["pid"].as_u64().unwrap();
    // Three automatic restarts, then the loop gives up.
    let start = std::time::Instant::now();
    loop {
        let s = status(&server, "crash").await;
        if s["restarts"] == 3 && s["status"] == "exited" {
            // The previous run's end is shown beside the current one.
            assert_eq!(s["previousRun"]["exitCode"], 3, "{s}");
            assert_ne!(s["previousRun"]["processId"], s["processId"], "{s}");
            break;
        }
        assert!(start.elapsed() < BOUND, "no crash loop: {s}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // One call: the first crash's exit code and stderr tail.
    let why = server
        .ok("scripts_why", json!({"processId": first_id}))
        .await;
    assert_eq!(why["run"]["processId"], first_id.as_str(), "{why}");
    assert_eq!(why["run"]["exitCode"], 3, "{why}");
    assert_eq!(why["status"], "exited", "{why}");
    let tail: Vec<&str> = why["stderrTail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(tail, [format!("error: boom in run {first_pid}")], "{why}");
    assert_eq!(why["errorBlock"][0], tail[0], "{why}");
    assert_eq!(why["runs"].as_array().unwrap().len(), 4, "{why}");
    assert!(
        why["summary"]
            .as_str()
            .unwrap()
            .contains("exited with code 3"),
        "{why}"
    );

    // The older run's output is still readable by its id.
    let logs = server
        .ok("logs_stream", json!({"processId": first_id}))
        .await;
    assert_eq!(logs["status"], "exited", "{logs}");
    assert_eq!(logs["lines"].as_array().unwrap().len(), 2, "{logs}");
    let found = server
        .ok(
            "logs_search",
            json!({"processId": first_id, "query": "boom", "stream": "stderr"}),
        )
        .await;
    assert_eq!(found["matches"].as_array().unwrap().len(), 1, "{found}");
    // By name, scripts_why explains the latest run that ended: the last of the loop.
    let latest = server.ok("scripts_why", json!({"name": "crash"})).await;
    assert_eq!(
        latest["run"]["processId"], why["runs"][3]["processId"],
        "{latest}"
    );
    assert!(server.close().await.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_and_since_narrow_the_output_and_urls_are_reported() {
    let project = Project::new(HISTORY);
    let server = start(&project).await;
    server.ok("scripts_run", json!({"name": "ticker"})).await;
    server
        .ok(
            "wait_for_log",
            json!({"name": "ticker", "pattern": "warn 3"}),
        )
        .await;
    let errs = server
        .ok("logs_stream", json!({"name": "ticker", "stream": "stderr"}))
        .await;
    let lines = errs["lines"].as_array().unwrap();
    assert!(lines.len() >= 4, "{errs}");
    assert!(lines.iter().all(|l| l["stream"] == "stderr"), "{errs}");
    let outs = server
        .ok(
            "logs_search",
            json!({"name": "ticker", "query": "i", "stream": "stdout"}),
        )
        .await;
    let matches = outs["matches"].as_array().unwrap();
    assert!(!matches.is_empty(), "{outs}");
    assert!(
        matches.iter().all(|m| m["line"]["stream"] == "stdout"),
        "{outs}"
    );
    let recent = server
        .ok("logs_stream", json!({"name": "ticker", "since": "1h"}))
        .await;
    assert!(!recent["lines"].as_array().unwrap().is_empty(), "{recent}");
    let future = server
        .ok(
            "logs_stream",
            json!({"name": "ticker", "since": "2999-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(future["lines"], json!([]), "{future}");
    let e = server
        .err("logs_stream", json!({"name": "ticker", "stream": "both"}))
        .await;
    assert!(e.contains("\"stdout\" or \"stderr\""), "{e}");
    let e = server
        .err("logs_search", json!({"query": "x", "since": "yesterday"}))
        .await;
    assert!(e.contains("RFC 3339"), "{e}");
    let s = status(&server, "ticker").await;
    assert_eq!(s["urls"], json!(["http://localhost:5173/"]), "{s}");
    assert!(server.close().await.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn eaddrinuse_names_the_process_holding_the_port() {
    // This test holds the port; the script reports it taken, as Node does.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let project = Project::new(&format!(
        r#"
[processes.api]
command = ["sh", "-c", "echo 'Error: listen EADDRINUSE: address already in use 127.0.0.1:{port}' >&2; echo '    at Server.listen (node:net:1:1)' >&2; exit 1"]
"#
    ));
    let server = start(&project).await;
    server.ok("scripts_run", json!({"name": "api"})).await;
    eventually_status(&server, "api", "exited").await;
    let why = server.ok("scripts_why", json!({"name": "api"})).await;
    assert_eq!(why["portInUse"]["port"], port, "{why}");
    let me = std::process::id();
    assert!(
        why["portInUse"]["holders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["pid"] == me),
        "{why}"
    );
    assert_eq!(why["errorBlock"].as_array().unwrap().len(), 2, "{why}");
    assert!(
        why["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("port {port} is held by pid {me}")),
        "{why}"
    );
    assert!(server.close().await.success());
    drop(holder);
}

async fn eventually_status(server: &Server, name: &str, want: &str) {
    let start = std::time::Instant::now();
    loop {
        let s = status(server, name).await;
        if s["status"] == want {
            return;
        }
        assert!(start.elapsed() < BOUND, "{name} never became {want}: {s}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
