//! Every bad input gets an `isError` result (or a JSON-RPC error) with a message that says what
//! to do, and the server keeps serving.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use common::*;
use serde_json::{Value, json};

/// Asserts that `text` contains every needle.
fn says(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{text:?} should mention {needle:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_scripts_are_refused_everywhere() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    for (tool, args) in [
        ("scripts_run", json!({"name": "rm -rf /"})),
        ("scripts_stop", json!({"name": "nope"})),
        ("scripts_stop", json!({"processId": "nope#1"})),
        ("scripts_restart", json!({"name": "nope"})),
        ("scripts_status", json!({"name": "nope"})),
        ("logs_stream", json!({"name": "nope"})),
        ("logs_search", json!({"query": "x", "name": "nope"})),
        ("wait_for_log", json!({"name": "nope", "pattern": "x"})),
    ] {
        let e = server.err(tool, args).await;
        says(&e, &["no script named", "scripts_list", "web"]);
    }
    server.ok("scripts_list", json!({})).await;
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn state_errors_say_what_to_do() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    // Never started.
    let e = server.err("logs_stream", json!({"name": "web"})).await;
    says(&e, &["has not been started", "scripts_run"]);
    let e = server.err("scripts_stop", json!({"name": "web"})).await;
    says(&e, &["has not been started"]);
    let e = server
        .err("wait_for_log", json!({"name": "web", "pattern": "x"}))
        .await;
    says(&e, &["has not been started"]);
    // Already running.
    server.ok("scripts_run", json!({"name": "web"})).await;
    let e = server.err("scripts_run", json!({"name": "web"})).await;
    says(&e, &["already running as web#", "scripts_restart"]);
    // Not running any more.
    server.ok("scripts_run", json!({"name": "fail"})).await;
    server
        .ok(
            "wait_for_log",
            json!({"name": "fail", "pattern": "^never$", "timeout_ms": 100000}),
        )
        .await;
    let e = server.err("scripts_stop", json!({"name": "fail"})).await;
    says(&e, &["is not running", "exited"]);
    // No pattern and no configured ready line.
    let e = server.err("wait_for_log", json!({"name": "fail"})).await;
    says(&e, &["no `ready` pattern", "[processes.fail]"]);
    // Extra args for a shell line.
    let e = server
        .err("scripts_run", json!({"name": "shelly", "args": ["x"]}))
        .await;
    says(&e, &["shell line", "never passed through a shell"]);
    server.ok("scripts_status", json!({})).await;
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_patterns_and_ids_are_reported() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    server.ok("scripts_run", json!({"name": "web"})).await;
    let e = server
        .err("logs_search", json!({"query": "(", "regex": true}))
        .await;
    says(&e, &["bad log search pattern", "regex=false"]);
    let e = server
        .err("wait_for_log", json!({"name": "web", "pattern": "[z-a]"}))
        .await;
    // wait_for_log has no `regex` parameter, so its message must not suggest one.
    says(&e, &["not a valid regex", "always regexes", "backslash"]);
    assert!(!e.contains("regex=false"), "{e}");
    let e = server.err("logs_search", json!({"query": ""})).await;
    says(&e, &["query is empty"]);
    let e = server.err("logs_stream", json!({"processId": "web"})).await;
    says(&e, &["not a process id", "NAME#GENERATION"]);
    let e = server.err("logs_stream", json!({})).await;
    says(&e, &["give name", "processId"]);
    let e = server
        .err("scripts_stop", json!({"name": "web", "processId": "web#1"}))
        .await;
    says(&e, &["not both"]);
    // A literal search for the same text works.
    server
        .ok("logs_search", json!({"query": "(", "regex": false}))
        .await;
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_argument_types_are_tool_errors() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    for (tool, args, needle) in [
        ("scripts_run", json!({"name": 3}), "expected a string"),
        (
            "scripts_run",
            json!({"name": "echo", "args": "a b"}),
            "expected a sequence",
        ),
        ("scripts_run", json!({}), "missing field `name`"),
        (
            "scripts_stop",
            json!({"name": "web", "force": "yes"}),
            "expected a boolean",
        ),
        (
            "scripts_stop",
            json!({"nmae": "web"}),
            "unknown field `nmae`",
        ),
        (
            "logs_stream",
            json!({"name": "web", "cursor": -1}),
            "invalid value",
        ),
        (
            "logs_search",
            json!({"query": "x", "limit": "ten"}),
            "invalid type",
        ),
        (
            "wait_for_log",
            json!({"name": "web", "timeout_ms": 1.5}),
            "invalid type",
        ),
        ("scripts_list", json!({"verbose": true}), "unknown field"),
    ] {
        let e = server.err(tool, args).await;
        says(&e, &["invalid arguments for", tool, needle]);
    }
    server.ok("scripts_list", json!({})).await;
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_inputs_are_capped() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    let huge = "x".repeat(200_000);
    let e = server.err("scripts_run", json!({"name": huge})).await;
    says(&e, &["200000 bytes long"]);
    assert!(
        e.len() < 1000,
        "the error must not echo the input: {} bytes",
        e.len()
    );
    let e = server
        .err("scripts_run", json!({"name": "echo", "args": [huge]}))
        .await;
    says(&e, &["each may be at most"]);
    let many: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let e = server
        .err("scripts_run", json!({"name": "echo", "args": many}))
        .await;
    says(&e, &["100 args given"]);
    let e = server.err("logs_search", json!({"query": huge})).await;
    says(&e, &["use at most"]);
    let e = server
        .err("wait_for_log", json!({"name": "web", "pattern": huge}))
        .await;
    says(&e, &["use at most"]);
    let e = server.err("logs_stream", json!({"processId": huge})).await;
    says(&e, &["processId is"]);
    // Limits are clamped rather than refused.
    server.ok("scripts_run", json!({"name": "web"})).await;
    let page = server
        .ok(
            "logs_stream",
            json!({"name": "web", "cursor": 0, "limit": 1_000_000}),
        )
        .await;
    assert!(page["lines"].as_array().unwrap().len() <= 1000);
    server.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_tool_is_a_protocol_error_and_serving_goes_on() {
    let project = Project::new(CONFIG);
    let server = start(&project).await;
    let result = server
        .client
        .call_tool(rmcp::model::CallToolRequestParams::new("scripts_explode"))
        .await;
    let e = result.expect_err("unknown tool").to_string();
    assert!(
        e.contains("scripts_explode") || e.contains("not found"),
        "{e}"
    );
    server.ok("scripts_list", json!({})).await;
    server.close().await;
}

/// A raw line-oriented JSON-RPC session, for input rmcp's client would never send.
struct Raw {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Raw {
    fn start(project: &Project) -> Raw {
        let mut child = Command::new(PROCMAN)
            .arg("mcp")
            .current_dir(project.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn procman");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Raw {
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).unwrap();
        self.stdin.write_all(b"\n").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next message with `id`, skipping notifications.
    fn response(&self, id: i64) -> Value {
        loop {
            let line = self.lines.recv_timeout(BOUND).expect("a response");
            let msg: Value = serde_json::from_str(&line).expect("stdout carries only JSON-RPC");
            if msg["id"] == id {
                return msg;
            }
        }
    }

    /// The next message of any kind.
    fn next(&self) -> Value {
        let line = self.lines.recv_timeout(BOUND).expect("a message");
        serde_json::from_str(&line).expect("stdout carries only JSON-RPC")
    }
}

#[test]
fn malformed_json_rpc_does_not_stop_the_server() {
    let project = Project::new(CONFIG);
    let mut raw = Raw::start(&project);
    raw.send(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#,
    );
    assert_eq!(raw.response(1)["result"]["serverInfo"]["name"], "procman");
    raw.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    // Not JSON at all: a parse error, with no id (none could be read).
    raw.send("this is not json {{{");
    let parse = raw.next();
    assert_eq!(parse["error"]["code"], -32700, "{parse}");
    assert!(parse.get("id").is_none_or(Value::is_null), "{parse}");
    assert!(
        parse["error"]["message"]
            .as_str()
            .unwrap()
            .contains("one JSON-RPC 2.0 message per line"),
        "{parse}"
    );
    // JSON, but not a JSON-RPC message: an Invalid Request error, with the id when it has one.
    raw.send(r#"{"hello":"world"}"#);
    let invalid = raw.next();
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    raw.send(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":"not an object"}"#);
    let invalid = raw.response(7);
    assert!(invalid.get("error").is_some(), "{invalid}");
    // An unknown notification: never answered (the next answer is for the next request).
    raw.send(r#"{"jsonrpc":"2.0","method":"notifications/whatever","params":{}}"#);
    // A request line beyond the size limit: discarded unread, and said so.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"logs_search","arguments":{{"query":"{}"}}}}}}"#,
        "y".repeat(2 << 20)
    );
    raw.send(&big);
    let too_long = raw.next();
    assert_eq!(too_long["error"]["code"], -32600, "{too_long}");
    assert!(
        too_long["error"]["message"]
            .as_str()
            .unwrap()
            .contains("longer than 1048576 bytes"),
        "{too_long}"
    );
    // Arguments that are not an object.
    raw.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"scripts_run","arguments":[1,2]}}"#);
    let bad = raw.response(3);
    assert!(
        bad.get("error").is_some() || bad["result"]["isError"] == true,
        "{bad}"
    );
    // Still serving.
    raw.send(r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"scripts_run","arguments":{"name":"web"}}}"#);
    let run = raw.response(4);
    assert_eq!(run["result"]["isError"], false, "{run}");
    let pid = run["result"]["structuredContent"]["process"]["pid"]
        .as_u64()
        .unwrap() as u32;
    drop(raw.stdin);
    let status = raw.child.wait().unwrap();
    assert!(status.success());
    let start = std::time::Instant::now();
    while alive(pid) {
        assert!(start.elapsed() < BOUND, "the child outlived procman");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_process_limit_is_enforced() {
    let project = Project::new(&format!("[settings]\nmax_processes = 2\n{CONFIG}"));
    let server = start(&project).await;
    server.ok("scripts_run", json!({"name": "web"})).await;
    server.ok("scripts_run", json!({"name": "echo"})).await;
    let e = server.err("scripts_run", json!({"name": "family"})).await;
    says(&e, &["limit of 2 processes", "max_processes"]);
    server.ok("scripts_status", json!({})).await;
    server.close().await;
}

#[test]
fn json_rpc_error_codes_follow_the_spec_and_every_id_is_answered() {
    let project = Project::new(CONFIG);
    let mut raw = Raw::start(&project);
    raw.send(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#,
    );
    assert_eq!(raw.response(1)["result"]["serverInfo"]["name"], "procman");
    raw.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    // Bad params of a method procman serves: -32602 (invalid params), not -32601.
    for (id, params, says) in [
        (
            10,
            r#"{"name":"scripts_list","arguments":"str"}"#,
            "arguments must be an object",
        ),
        (11, r#"{"arguments":{}}"#, "params.name is missing"),
        (
            12,
            r#"{"name":"scripts_run","arguments":[1,2]}"#,
            "arguments must be an object",
        ),
        (13, r#"{"name":7}"#, "params.name must be a string"),
    ] {
        raw.send(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{params}}}"#
        ));
        let answer = raw.response(id);
        assert_eq!(answer["error"]["code"], -32602, "{params}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{params}: {message}");
    }
    // A method nobody serves is still -32601.
    raw.send(r#"{"jsonrpc":"2.0","id":14,"method":"procman/explode","params":{}}"#);
    assert_eq!(raw.response(14)["error"]["code"], -32601);
    // Ids JSON-RPC allows no server to echo faithfully: answered -32600, not left hanging.
    for id in ["null", "1.5", "1180591620717411303424"] {
        raw.send(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list","params":{{}}}}"#
        ));
        let answer = raw.next();
        assert_eq!(answer["error"]["code"], -32600, "id {id}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("the id must be a string or an integer"),
            "{answer}"
        );
    }
    // Still serving, and a real notification is still not answered: the next answer is 15's.
    raw.send(r#"{"jsonrpc":"2.0","method":"notifications/whatever","params":{}}"#);
    raw.send(r#"{"jsonrpc":"2.0","id":15,"method":"tools/list","params":{}}"#);
    let listed = raw.next();
    assert_eq!(listed["id"], 15, "{listed}");
    assert!(listed["result"]["tools"].as_array().unwrap().len() >= 8);
    drop(raw.stdin);
    assert!(raw.child.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_config_still_initializes_and_every_tool_reports_it() {
    let project = Project::new("[processes.web]\ncomand = [\"x\"]\n");
    // `start` completes the MCP initialization: procman did not exit.
    let server = start(&project).await;
    for (tool, args) in [
        ("scripts_list", json!({})),
        ("scripts_run", json!({"name": "web"})),
        ("scripts_stop", json!({"name": "web"})),
        ("scripts_restart", json!({"name": "web"})),
        ("scripts_status", json!({})),
        ("logs_stream", json!({"name": "web"})),
        ("logs_search", json!({"query": "x"})),
        ("wait_for_log", json!({"name": "web"})),
    ] {
        let e = server.err(tool, args).await;
        says(
            &e,
            &[
                "configuration is invalid",
                "procman.toml:2:1: `processes.web.comand`",
                "correct its spelling",
                "restart procman",
            ],
        );
    }
    assert!(server.close().await.success());
}
