//! The MCP tools driven end to end: the built binary, real children, rmcp's client.

mod common;

use std::collections::BTreeSet;

use common::*;
use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};

const READ_ONLY: [&str; 6] = [
    "scripts_list",
    "scripts_status",
    "scripts_why",
    "logs_stream",
    "logs_search",
    "wait_for_log",
];
const MUTATING: [&str; 3] = ["scripts_run", "scripts_stop", "scripts_restart"];

/// Walks a schema and fails on any nullable union or composition that some clients reject.
fn assert_plain(path: &str, schema: &Value) {
    if let Some(t) = schema.get("type") {
        assert!(t.is_string(), "{path}: type is not a single type: {t}");
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        assert!(schema.get(key).is_none(), "{path}: uses {key}: {schema}");
    }
    if let Some(default) = schema.get("default") {
        assert!(!default.is_null(), "{path}: default is null");
    }
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (name, prop) in props {
            assert_plain(&format!("{path}.{name}"), prop);
        }
    }
    if let Some(items) = schema.get("items") {
        assert_plain(&format!("{path}[]"), items);
    }
}

/// The `format` values JSON Schema (2020-12) defines; anything else makes validators such as
/// Ajv (the MCP Inspector's) warn.
const STANDARD_FORMATS: [&str; 19] = [
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Fails on any `format` that is not a standard one, anywhere in `schema`; returns how many
/// integer properties say `minimum: 0` instead of `uint`.
fn assert_standard(path: &str, schema: &Value) -> usize {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(format)) = map.get("format") {
                assert!(
                    STANDARD_FORMATS.contains(&format.as_str()),
                    "{path}: non-standard format {format:?}"
                );
            }
            let here = usize::from(
                map.get("type") == Some(&json!("integer")) && map.get("minimum") == Some(&json!(0)),
            );
            here + map
                .iter()
                .map(|(k, v)| assert_standard(&format!("{path}.{k}"), v))
                .sum::<usize>()
        }
        Value::Array(items) => items.iter().map(|v| assert_standard(path, v)).sum(),
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn schemas_are_standard_json_schema() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    let tools = server.client.list_all_tools().await.expect("tools/list");
    let mut unsigned = 0;
    for tool in &tools {
        let name = tool.name.as_ref();
        unsigned += assert_standard(name, &Value::Object(tool.input_schema.as_ref().clone()));
        if let Some(output) = &tool.output_schema {
            unsigned += assert_standard(name, &Value::Object(output.as_ref().clone()));
        }
    }
    // The unsigned integers (limits, pids, counters) kept their meaning as `minimum: 0`.
    assert!(unsigned >= 5, "{unsigned}");
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tools_have_plain_input_schemas_output_schemas_and_annotations() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    let tools = server.client.list_all_tools().await.expect("tools/list");
    let names: BTreeSet<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    let expected: BTreeSet<&str> = READ_ONLY.iter().chain(&MUTATING).copied().collect();
    assert_eq!(names, expected);
    for tool in &tools {
        let name = tool.name.as_ref();
        let input = Value::Object(tool.input_schema.as_ref().clone());
        assert_eq!(input["type"], "object", "{name}");
        assert!(input["properties"].is_object(), "{name}: no properties");
        assert_plain(name, &input);
        assert_eq!(
            input["additionalProperties"], false,
            "{name}: unknown arguments must be refused"
        );
        let output = tool
            .output_schema
            .as_ref()
            .unwrap_or_else(|| panic!("{name} has no outputSchema"));
        assert_eq!(output.get("type"), Some(&json!("object")), "{name}");
        assert!(
            tool.description.as_deref().is_some_and(|d| d.len() > 40),
            "{name}: describe the tool"
        );
        let read_only = tool
            .annotations
            .as_ref()
            .and_then(|a| a.read_only_hint)
            .unwrap_or_else(|| panic!("{name}: no readOnlyHint"));
        assert_eq!(read_only, READ_ONLY.contains(&name), "{name}: readOnlyHint");
    }
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn run_wait_status_logs_search_stop() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;

    let listed = server.ok("scripts_list", json!({})).await;
    let web = listed["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "web")
        .expect("web is listed");
    assert_eq!(web["status"], "not_started");
    assert_eq!(web["ready"], r"ready on port \d+");

    let run = server.ok("scripts_run", json!({"name": "web"})).await;
    let id = run["process"]["processId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("web#"), "{run}");
    let pid = pid_of(&run);
    assert!(alive(pid));

    // No pattern: the configured ready pattern.
    let waited = server.ok("wait_for_log", json!({"name": "web"})).await;
    assert_eq!(waited["matched"], true, "{waited}");
    assert_eq!(waited["line"]["text"], "ready on port 4000");

    let status = server.ok("scripts_status", json!({"name": "web"})).await;
    assert_eq!(status["processes"][0]["status"], "running");
    assert_eq!(status["processes"][0]["processId"], id.as_str());
    let all = server.ok("scripts_status", json!({})).await;
    assert_eq!(all["processes"].as_array().unwrap().len(), 7);

    let page = server.ok("logs_stream", json!({"name": "web"})).await;
    let texts: Vec<&str> = page["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["booting", "ready on port 4000"]);
    let next = page["nextCursor"].as_u64().unwrap();
    let more = server
        .ok("logs_stream", json!({"processId": id, "cursor": next}))
        .await;
    assert!(more["lines"].as_array().unwrap().is_empty(), "{more}");
    assert_eq!(more["nextCursor"].as_u64(), Some(next));
    let first = server
        .ok(
            "logs_stream",
            json!({"name": "web", "cursor": 0, "limit": 1}),
        )
        .await;
    assert_eq!(first["lines"][0]["text"], "booting");
    assert_eq!(first["nextCursor"], 1);

    let found = server
        .ok("logs_search", json!({"query": "port 4000"}))
        .await;
    assert_eq!(found["matches"][0]["processId"], id.as_str());
    let found = server
        .ok(
            "logs_search",
            json!({"query": r"^boot\w+$", "regex": true, "name": "web"}),
        )
        .await;
    assert_eq!(found["matches"][0]["line"]["text"], "booting");

    let stopped = server.ok("scripts_stop", json!({"name": "web"})).await;
    assert_eq!(stopped["process"]["status"], "stopped", "{stopped}");
    gone(pid).await;
    assert!(server.close().await.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn extra_args_are_argv_elements_never_shell_text() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    let args = json!(["two  spaces", "$(touch pwned)", "; echo injected", "*"]);
    server
        .ok("scripts_run", json!({"name": "echo", "args": args}))
        .await;
    let waited = server
        .ok("wait_for_log", json!({"name": "echo", "pattern": "spaces"}))
        .await;
    assert_eq!(
        waited["line"]["text"],
        "two  spaces $(touch pwned) ; echo injected *"
    );
    assert!(!project.path().join("pwned").exists());
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_starts_a_new_run_and_stop_by_old_id_is_refused() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    // Restarting a script that never ran starts it.
    let first = server.ok("scripts_restart", json!({"name": "web"})).await;
    let old_id = first["process"]["processId"].as_str().unwrap().to_owned();
    let old_pid = pid_of(&first);
    let second = server.ok("scripts_restart", json!({"name": "web"})).await;
    let new_id = second["process"]["processId"].as_str().unwrap().to_owned();
    assert_ne!(old_id, new_id);
    assert_eq!(second["process"]["status"], "running", "{second}");
    assert_eq!(second["process"]["restarts"], 1);
    gone(old_pid).await;
    assert!(alive(pid_of(&second)));

    let e = server
        .err("scripts_stop", json!({"processId": old_id}))
        .await;
    assert!(e.contains("older run"), "{e}");
    let stopped = server
        .ok("scripts_stop", json!({"processId": new_id}))
        .await;
    assert_eq!(stopped["process"]["status"], "stopped");
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_escalates_to_sigkill_and_reports_progress() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    let run = server.ok("scripts_run", json!({"name": "stubborn"})).await;
    server
        .ok(
            "wait_for_log",
            json!({"name": "stubborn", "pattern": "started"}),
        )
        .await;
    // Readers answer while the stop is in flight.
    let (stopped, statuses) = tokio::join!(
        server.ok("scripts_stop", json!({"name": "stubborn"})),
        async {
            let mut seen = Vec::new();
            for _ in 0..20 {
                let s = server
                    .ok("scripts_status", json!({"name": "stubborn"}))
                    .await;
                seen.push(s["processes"][0]["status"].as_str().unwrap().to_owned());
            }
            seen
        }
    );
    assert_eq!(stopped["process"]["status"], "killed", "{stopped}");
    assert_eq!(stopped["process"]["signal"], "SIGKILL");
    assert!(stopped["message"].as_str().unwrap().contains("SIGKILL"));
    assert!(
        statuses
            .iter()
            .all(|s| ["running", "stopping", "killed"].contains(&s.as_str()))
    );
    gone(pid_of(&run)).await;
    // rmcp's client sends a progress token with every request; the stop reported progress,
    // each value above the last.
    let progress = server.progress.lock().unwrap().clone();
    let stop = progress
        .iter()
        .find(|p| {
            p.message
                .as_deref()
                .unwrap_or("")
                .starts_with("stopping stubborn#")
        })
        .expect("the stop reported progress");
    let values: Vec<f64> = progress
        .iter()
        .filter(|p| p.progress_token == stop.progress_token)
        .map(|p| p.progress)
        .collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_for_log_times_out_sees_stderr_and_sees_the_end() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    server.ok("scripts_run", json!({"name": "fail"})).await;
    let waited = server
        .ok("wait_for_log", json!({"name": "fail", "pattern": "oops"}))
        .await;
    assert_eq!(waited["line"]["stream"], "stderr");
    let ended = server
        .ok(
            "wait_for_log",
            json!({"name": "fail", "pattern": "never printed"}),
        )
        .await;
    assert_eq!(ended["outcome"], "ended", "{ended}");
    assert_eq!(ended["process"]["status"], "exited");
    assert_eq!(ended["process"]["exitCode"], 3);

    server.ok("scripts_run", json!({"name": "web"})).await;
    let timed_out = server
        .ok(
            "wait_for_log",
            json!({"name": "web", "pattern": "never printed", "timeout_ms": 200}),
        )
        .await;
    assert_eq!(timed_out["outcome"], "timeout");
    assert_eq!(timed_out["matched"], false);
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_for_log_stops_waiting_when_cancelled() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    server.ok("scripts_run", json!({"name": "web"})).await;
    let args = json!({"name": "web", "pattern": "never printed", "timeout_ms": 600000});
    let request = ClientRequest::CallToolRequest(Request::new(
        CallToolRequestParams::new("wait_for_log")
            .with_arguments(args.as_object().unwrap().clone()),
    ));
    let handle = server
        .client
        .send_cancellable_request(request, PeerRequestOptions::no_options())
        .await
        .expect("send");
    // The request and the cancellation travel separately; cancel once the server is waiting,
    // which its first progress report shows.
    let token = handle.progress_token.clone();
    let progress = std::sync::Arc::clone(&server.progress);
    eventually("wait_for_log to report progress", || {
        progress
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.progress_token == token)
    })
    .await;
    handle.cancel(Some("test".into())).await.expect("cancel");
    server
        .stderr_contains("wait_for_log cancelled by the client")
        .await;
    // Still serving.
    let status = server.ok("scripts_status", json!({"name": "web"})).await;
    assert_eq!(status["processes"][0]["status"], "running");
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_stop_returns_at_once_and_the_stop_completes() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    let run = server.ok("scripts_run", json!({"name": "stubborn"})).await;
    server
        .ok(
            "wait_for_log",
            json!({"name": "stubborn", "pattern": "started"}),
        )
        .await;
    let args = json!({"name": "stubborn"});
    let request = ClientRequest::CallToolRequest(Request::new(
        CallToolRequestParams::new("scripts_stop")
            .with_arguments(args.as_object().unwrap().clone()),
    ));
    let handle = server
        .client
        .send_cancellable_request(request, PeerRequestOptions::no_options())
        .await
        .expect("send");
    // Cancel once the stop is in flight (its first progress report says so).
    let token = handle.progress_token.clone();
    let progress = std::sync::Arc::clone(&server.progress);
    eventually("scripts_stop to report progress", || {
        progress
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.progress_token == token)
    })
    .await;
    handle.cancel(Some("test".into())).await.expect("cancel");
    server
        .stderr_contains("cancelled by the client; the operation completes in the background")
        .await;
    // Still serving, and the stop (SIGKILL after stubborn's 600 ms) completes anyway.
    server
        .ok("scripts_status", json!({"name": "stubborn"}))
        .await;
    gone(pid_of(&run)).await;
    eventually_status(&server, "stubborn", "killed").await;
    server.close().await;
}

/// Polls scripts_status until `name` has `status`.
async fn eventually_status(server: &Server, name: &str, status: &str) {
    for _ in 0..1500 {
        let s = server.ok("scripts_status", json!({"name": name})).await;
        if s["processes"][0]["status"] == status {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{name} never became {status}");
}
