//! Push instead of polling, over stdio: every script is two resources
//! (`procman://process/NAME`, `procman://logs/NAME`), and a subscriber is sent
//! `notifications/resources/updated` plus a log message with the reason when a run ends, fails
//! to spawn or is ready.

mod common;

use common::*;
use rmcp::model::{ReadResourceRequestParams, ResourceContents, SubscribeRequestParams};
use serde_json::{Value, json};

/// The tests' configuration plus a script whose binary does not exist.
fn config() -> String {
    format!("{CONFIG}\n[processes.missing]\ncommand = [\"/nonexistent/procman-test-binary\"]\n")
}

async fn read(server: &Server, uri: &str) -> Result<Value, String> {
    let result = server
        .client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .map_err(|e| e.to_string())?;
    match &result.contents[..] {
        [ResourceContents::TextResourceContents { text, .. }] => {
            Ok(serde_json::from_str(text).expect("a resource holds JSON"))
        }
        other => panic!("{uri}: unexpected contents {other:?}"),
    }
}

#[allow(deprecated)] // resources/subscribe: what clients of the 2025 protocols send
async fn subscribe(server: &Server, uri: &str) -> Result<(), String> {
    server
        .client
        .subscribe(SubscribeRequestParams::new(uri))
        .await
        .map_err(|e| e.to_string())
}

#[allow(deprecated)]
async fn unsubscribe(server: &Server, uri: &str) {
    server
        .client
        .unsubscribe(rmcp::model::UnsubscribeRequestParams::new(uri))
        .await
        .expect("unsubscribe");
}

/// The log messages about `name`'s runs received so far.
fn messages_about(server: &Server, name: &str) -> Vec<Value> {
    server
        .messages
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["name"] == name)
        .cloned()
        .collect()
}

fn updated(server: &Server, uri: &str) -> usize {
    server
        .updated
        .lock()
        .unwrap()
        .iter()
        .filter(|(u, _)| u == uri)
        .count()
}

#[tokio::test]
async fn every_script_is_two_resources_that_read_as_status_and_logs() {
    let project = Project::new(&config());
    let server = start(&project).await;
    let info = server.client.peer_info().expect("server info");
    let caps = info.capabilities.resources.as_ref().expect("resources");
    assert_eq!(caps.subscribe, Some(true));
    let resources = server.client.list_all_resources().await.unwrap();
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    for uri in [
        "procman://process/web",
        "procman://logs/web",
        "procman://logs/fail",
    ] {
        assert!(uris.contains(&uri), "{uri} missing from {uris:?}");
    }

    server.ok("scripts_run", json!({"name": "web"})).await;
    server.ok("wait_for_log", json!({"name": "web"})).await;
    let status = read(&server, "procman://process/web").await.unwrap();
    assert_eq!(status["processes"][0]["status"], "running", "{status}");
    let logs = read(&server, "procman://logs/web").await.unwrap();
    let texts: Vec<&str> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["booting", "ready on port 4000"]);

    let err = read(&server, "procman://process/nope").await.unwrap_err();
    assert!(err.contains("no procman resource"), "{err}");
    let err = subscribe(&server, "file:///etc/passwd").await.unwrap_err();
    assert!(err.contains("procman://process/NAME"), "{err}");
    server.close().await;
}

#[tokio::test]
async fn a_subscriber_hears_a_crash_with_its_reason() {
    let project = Project::new(&config());
    let server = start(&project).await;
    subscribe(&server, "procman://process/fail").await.unwrap();
    let run = server.ok("scripts_run", json!({"name": "fail"})).await;
    let id = run["process"]["processId"].as_str().unwrap().to_owned();
    eventually("the crash is pushed", || {
        updated(&server, "procman://process/fail") > 0
            && !messages_about(&server, "fail").is_empty()
    })
    .await;
    let message = &messages_about(&server, "fail")[0];
    assert_eq!(message["event"], "ended", "{message}");
    assert_eq!(message["processId"], id.as_str());
    assert_eq!(
        message["reason"],
        format!("{id} exited with code 3"),
        "{message}"
    );
    // What the notification says is already true of the resource.
    let status = read(&server, "procman://process/fail").await.unwrap();
    assert_eq!(status["processes"][0]["exitCode"], 3, "{status}");
    // Reported, not asserted: timing depends on the machine.
    let seen = server.updated.lock().unwrap()[0].1;
    let at = chrono::DateTime::parse_from_rfc3339(message["at"].as_str().unwrap()).unwrap();
    let delay = chrono::DateTime::<chrono::Utc>::from(seen).signed_duration_since(at);
    println!(
        "crash pushed {} ms after procman saw the exit (millisecond clock)",
        delay.num_milliseconds()
    );
    server.close().await;
}

#[tokio::test]
async fn ready_and_a_failed_spawn_are_pushed_and_only_to_subscribers() {
    let project = Project::new(&config());
    let server = start(&project).await;
    subscribe(&server, "procman://process/web").await.unwrap();
    subscribe(&server, "procman://logs/missing").await.unwrap();
    server.ok("scripts_run", json!({"name": "web"})).await;
    eventually("web's ready line is pushed", || {
        messages_about(&server, "web")
            .iter()
            .any(|m| m["event"] == "ready")
    })
    .await;
    let ready = messages_about(&server, "web");
    assert_eq!(ready.len(), 1, "one ready event per run: {ready:?}");
    assert!(
        ready[0]["reason"]
            .as_str()
            .unwrap()
            .ends_with("is ready: ready on port 4000"),
        "{}",
        ready[0]
    );

    let err = server.err("scripts_run", json!({"name": "missing"})).await;
    assert!(!err.is_empty());
    eventually("the failed spawn is pushed", || {
        updated(&server, "procman://logs/missing") > 0
            && !messages_about(&server, "missing").is_empty()
    })
    .await;
    let failed = messages_about(&server, "missing");
    assert_eq!(failed[0]["event"], "spawn_failed", "{failed:?}");

    // Unsubscribed, then ended: no notification. echo, subscribed and run after fail ended,
    // comes later on the same ordered channel, so once echo's arrived, fail's would have too.
    subscribe(&server, "procman://process/fail").await.unwrap();
    unsubscribe(&server, "procman://process/fail").await;
    server.ok("scripts_run", json!({"name": "fail"})).await;
    server
        .ok(
            "wait_for_log",
            json!({"name": "fail", "pattern": "never printed"}),
        )
        .await;
    subscribe(&server, "procman://process/echo").await.unwrap();
    server.ok("scripts_run", json!({"name": "echo"})).await;
    eventually("echo's end is pushed", || {
        updated(&server, "procman://process/echo") > 0
    })
    .await;
    assert_eq!(updated(&server, "procman://process/fail"), 0);
    assert!(messages_about(&server, "fail").is_empty());
    server.close().await;
}
