//! Shared helpers: a temporary project, the built `procman` binary driven over stdio by rmcp's
//! client, and liveness checks in /proc.
//!
//! No assertion here depends on timing: waits poll a condition with a generous bound
//! ([`BOUND`]) that only a hung procman would reach.

#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

/// How long any wait may take before the test calls procman hung.
pub const BOUND: Duration = Duration::from_secs(30);

/// The built binary under test.
pub const PROCMAN: &str = env!("CARGO_BIN_EXE_procman");

/// A procman.toml whose processes are short shell snippets, for every test.
pub const CONFIG: &str = r#"
[processes.web]
description = "prints a ready line, then idles"
command = ["sh", "-c", "echo booting; echo 'ready on port 4000'; exec sleep 300"]
ready = "ready on port \\d+"
stop_timeout_ms = 5000

[processes.stubborn]
description = "ignores SIGTERM, so a stop escalates to SIGKILL"
command = ["sh", "-c", "trap '' TERM; echo started; while :; do sleep 0.1; done"]
stop_timeout_ms = 600

[processes.deaf]
description = "ignores SIGTERM with a stop timeout far beyond procman's 2 s exit budget"
command = ["sh", "-c", "trap '' TERM; echo started; while :; do sleep 0.1; done"]
stop_timeout_ms = 120000

[processes.family]
description = "a child of its own in the same process group"
command = ["sh", "-c", "sleep 300 & echo grandchild $!; wait"]
stop_timeout_ms = 5000

[processes.echo]
command = ["echo"]

[processes.fail]
command = ["sh", "-c", "echo oops >&2; exit 3"]

[processes.shelly]
shell = "echo from a shell line; exec sleep 300"
"#;

/// A temporary project directory with a procman.toml.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new(config: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("procman.toml"), config).expect("write procman.toml");
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A client handler that records progress, resource-updated and log notifications.
#[derive(Clone, Default)]
pub struct Recorder {
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    /// `notifications/resources/updated` URIs, with when they arrived.
    pub updated: Arc<Mutex<Vec<(String, std::time::SystemTime)>>>,
    /// `notifications/message` data.
    pub messages: Arc<Mutex<Vec<Value>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }

    async fn on_resource_updated(
        &self,
        params: rmcp::model::ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let now = std::time::SystemTime::now();
        self.updated.lock().unwrap().push((params.uri, now));
    }

    #[allow(deprecated)] // MCP logging: what procman pushes reasons with (see its push.rs)
    async fn on_logging_message(
        &self,
        params: rmcp::model::LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.messages.lock().unwrap().push(params.data);
    }
}

/// A running `procman mcp` with a connected client.
pub struct Server {
    pub child: tokio::process::Child,
    pub client: RunningService<RoleClient, Recorder>,
    pub stderr: Arc<Mutex<String>>,
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    pub updated: Arc<Mutex<Vec<(String, std::time::SystemTime)>>>,
    pub messages: Arc<Mutex<Vec<Value>>>,
}

/// Starts `procman ARGS` in `project` and connects an rmcp client over its stdio.
/// `PROCMAN_TEST_IMPL=mutex|actor|atomic` runs the suite against another design.
pub async fn start_with(project: &Project, args: &[&str]) -> Server {
    start_with_env(project, args, &[]).await
}

/// [`start_with`], with `env` added to procman's environment.
pub async fn start_with_env(project: &Project, args: &[&str], env: &[(&str, &str)]) -> Server {
    let design = std::env::var("PROCMAN_TEST_IMPL").ok();
    let pick = match &design {
        Some(d) if !args.contains(&"--impl") => vec!["--impl", d.as_str()],
        _ => Vec::new(),
    };
    let mut child = tokio::process::Command::new(PROCMAN)
        .args(args)
        .args(pick)
        .current_dir(project.path())
        .env("PROCMAN_LOG", "procman=debug,rmcp=warn,warn")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn procman");
    let stdout = child.stdout.take().expect("stdout");
    let stdin = child.stdin.take().expect("stdin");
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let sink = Arc::clone(&stderr);
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    let recorder = Recorder::default();
    let progress = Arc::clone(&recorder.progress);
    let updated = Arc::clone(&recorder.updated);
    let messages = Arc::clone(&recorder.messages);
    let client = recorder
        .serve((stdout, stdin))
        .await
        .expect("MCP initialization");
    Server {
        child,
        client,
        stderr,
        progress,
        updated,
        messages,
    }
}

/// Starts `procman mcp` in `project`.
pub async fn start(project: &Project) -> Server {
    start_with(project, &["mcp"]).await
}

impl Server {
    /// Calls `tool` with `args` (a JSON object).
    pub async fn call(&self, tool: &'static str, args: Value) -> CallToolResult {
        let Value::Object(args) = args else {
            panic!("arguments must be an object")
        };
        self.client
            .call_tool(CallToolRequestParams::new(tool).with_arguments(args))
            .await
            .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"))
    }

    /// Calls `tool`, expects success, checks that the text block carries the same JSON as the
    /// structured content, and returns that JSON.
    pub async fn ok(&self, tool: &'static str, args: Value) -> Value {
        let result = self.call(tool, args.clone()).await;
        assert_ne!(
            result.is_error,
            Some(true),
            "{tool}({args}) failed: {}",
            text(&result)
        );
        let structured = result
            .structured_content
            .clone()
            .unwrap_or_else(|| panic!("{tool}: no structuredContent"));
        let from_text: Value = serde_json::from_str(&text(&result)).expect("text is JSON");
        assert_eq!(
            structured, from_text,
            "{tool}: text and structuredContent differ"
        );
        structured
    }

    /// Calls `tool`, expects an `isError` result, and returns its text.
    pub async fn err(&self, tool: &'static str, args: Value) -> String {
        let result = self.call(tool, args.clone()).await;
        assert_eq!(
            result.is_error,
            Some(true),
            "{tool}({args}) should have failed: {result:?}"
        );
        text(&result)
    }

    /// Closes stdin (by closing the client) and waits for procman to exit.
    pub async fn close(mut self) -> ExitStatus {
        let _ = self.client.cancel().await;
        tokio::time::timeout(BOUND, self.child.wait())
            .await
            .expect("procman did not exit after stdin closed")
            .expect("wait for procman")
    }

    /// procman's pid.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("procman is running")
    }

    /// Waits until procman's stderr contains `needle`.
    pub async fn stderr_contains(&self, needle: &str) {
        let start = Instant::now();
        while !self.stderr.lock().unwrap().contains(needle) {
            assert!(
                start.elapsed() < BOUND,
                "timed out waiting for stderr to contain {needle:?}; stderr:\n{}",
                self.stderr.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The first text block of a result.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// Polls `cond` until it holds; panics after [`BOUND`].
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < BOUND, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// True while `pid` is a live (not zombie) process.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name, which may contain spaces.
            let state = stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.chars().next());
            !matches!(state, Some('Z' | 'X') | None)
        }
        Err(_) => false,
    }
}

/// Waits until `pid` is gone.
pub async fn gone(pid: u32) {
    eventually(&format!("pid {pid} to be gone"), || !alive(pid)).await;
}

/// The pid of the run in a scripts_run/stop/restart result.
pub fn pid_of(result: &Value) -> u32 {
    result["process"]["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no pid in {result}")) as u32
}
