//! `procman serve`: MCP over Streamable HTTP, one set of processes for every session, and the
//! checks that keep strangers out (Host, Origin, bearer token, malformed bodies).
//!
//! The client is a few lines of HTTP/1.1 over a `TcpStream` (one request per connection), so
//! each test sees the exact status codes and headers a client gets. No assertion depends on
//! timing: waits poll a condition up to [`BOUND`], which only a hung procman reaches.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use common::{BOUND, CONFIG, PROCMAN, Project, alive};
use serde_json::{Value, json};

/// A running `procman serve` and the address it printed.
struct Daemon {
    child: Child,
    addr: String,
    _project: Project,
}

impl Daemon {
    /// Starts `procman serve --listen 127.0.0.1:0 EXTRA…` in a project with the tests' config
    /// and waits for the line that gives its address.
    fn start(extra: &[&str]) -> Daemon {
        let project = Project::new(CONFIG);
        let mut child = Command::new(PROCMAN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .current_dir(project.path())
            .env("PROCMAN_LOG", "procman=debug,rmcp=warn,warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn procman serve");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("procman: serving MCP at http://") {
                    let _ = tx.send(url.trim_end_matches("/mcp").to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(BOUND)
            .expect("procman serve printed its address");
        Daemon {
            child,
            addr,
            _project: project,
        }
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                start.elapsed() < BOUND,
                "procman serve did not exit on SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC messages in the body: the body itself when it is JSON, else the `data:`
    /// lines of its event stream.
    fn messages(&self) -> Vec<Value> {
        if let Ok(v) = serde_json::from_str::<Value>(&self.body) {
            return vec![v];
        }
        self.body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    }
}

/// Sends one request to `/mcp` on a fresh connection and reads the whole response.
/// `headers` may override `Host`.
fn send(addr: &str, method: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(BOUND)).unwrap();
    let mut head = format!("{method} /mcp HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("Accept: application/json, text/event-stream\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// The payload of a chunked body.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&raw[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .expect("a chunk size");
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
    out
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"http-test","version":"0"}}}"#;

/// One MCP session over HTTP.
struct Session<'a> {
    addr: &'a str,
    id: String,
    auth: Option<String>,
    next: u64,
}

impl<'a> Session<'a> {
    /// `initialize` and `notifications/initialized`, with `Authorization: Bearer TOKEN` on
    /// every request when `token` is given.
    fn open(addr: &'a str, token: Option<&str>) -> Session<'a> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        let reply = send(addr, "POST", &headers, INITIALIZE);
        assert_eq!(reply.status, 200, "initialize: {reply:?}");
        let id = reply
            .header("mcp-session-id")
            .expect("a session id")
            .to_owned();
        let session = Session {
            addr,
            id,
            auth,
            next: 1,
        };
        let ack = session.post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert_eq!(ack.status, 202, "initialized: {ack:?}");
        session
    }

    fn post(&self, body: &str) -> Reply {
        let mut headers = vec![
            ("Mcp-Session-Id", self.id.as_str()),
            ("MCP-Protocol-Version", "2025-06-18"),
        ];
        if let Some(a) = &self.auth {
            headers.push(("Authorization", a.as_str()));
        }
        send(self.addr, "POST", &headers, body)
    }

    /// `tools/call`; the tool's structured result (panics on a JSON-RPC or tool error).
    fn call(&mut self, tool: &str, args: Value) -> Value {
        let id = self.next;
        self.next += 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                          "params": {"name": tool, "arguments": args}});
        let reply = self.post(&body.to_string());
        assert_eq!(reply.status, 200, "{tool}: {reply:?}");
        let answer = reply
            .messages()
            .into_iter()
            .find(|m| m["id"] == json!(id))
            .unwrap_or_else(|| panic!("{tool}: no answer in {reply:?}"));
        let result = &answer["result"];
        assert_ne!(result["isError"], json!(true), "{tool}: {answer}");
        result["structuredContent"].clone()
    }

    /// DELETE: the client ends its session.
    fn close(self) {
        let mut headers = vec![("Mcp-Session-Id", self.id.as_str())];
        if let Some(a) = &self.auth {
            headers.push(("Authorization", a.as_str()));
        }
        let reply = send(self.addr, "DELETE", &headers, "");
        assert!(
            reply.status == 200 || reply.status == 202 || reply.status == 204,
            "DELETE: {reply:?}"
        );
    }
}

fn wait_gone(pid: u32) {
    let start = Instant::now();
    while alive(pid) {
        assert!(start.elapsed() < BOUND, "pid {pid} outlived procman serve");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn sessions_share_one_set_of_processes_and_come_and_go_without_touching_them() {
    let daemon = Daemon::start(&[]);
    let mut a = Session::open(&daemon.addr, None);
    let run = a.call("scripts_run", json!({"name": "web"}));
    let pid = run["process"]["pid"].as_u64().expect("a pid") as u32;
    a.call(
        "wait_for_log",
        json!({"name": "web", "pattern": "ready on port"}),
    );

    let mut b = Session::open(&daemon.addr, None);
    let seen = b.call("scripts_status", json!({"name": "web"}));
    assert_eq!(seen["processes"][0]["pid"], json!(pid), "{seen}");
    assert_eq!(seen["processes"][0]["status"], json!("running"), "{seen}");

    a.close();
    let after = b.call("scripts_status", json!({"name": "web"}));
    assert_eq!(after["processes"][0]["status"], json!("running"), "{after}");
    assert!(alive(pid), "closing a session stopped its process");
    b.close();

    let mut c = Session::open(&daemon.addr, None);
    let later = c.call("scripts_status", json!({"name": "web"}));
    assert_eq!(later["processes"][0]["pid"], json!(pid), "{later}");

    let status = daemon.terminate();
    assert!(status.success(), "procman serve exited with {status}");
    wait_gone(pid);
}

#[test]
fn a_foreign_origin_or_host_gets_403_and_a_local_origin_is_served() {
    let daemon = Daemon::start(&[]);
    let evil = send(
        &daemon.addr,
        "POST",
        &[("Origin", "http://evil.example")],
        INITIALIZE,
    );
    assert_eq!(evil.status, 403, "{evil:?}");
    let rebound = send(
        &daemon.addr,
        "POST",
        &[("Host", "evil.example:7077")],
        INITIALIZE,
    );
    assert_eq!(rebound.status, 403, "{rebound:?}");
    let local = send(
        &daemon.addr,
        "POST",
        &[("Origin", "http://localhost:5173")],
        INITIALIZE,
    );
    assert_eq!(local.status, 200, "{local:?}");
    let allowed = Daemon::start(&["--allow-origin", "https://app.example"]);
    let app = send(
        &allowed.addr,
        "POST",
        &[("Origin", "https://app.example")],
        INITIALIZE,
    );
    assert_eq!(app.status, 200, "{app:?}");
}

#[test]
fn a_missing_or_wrong_token_gets_401_where_one_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "correct-horse\n").unwrap();
    let daemon = Daemon::start(&["--token-file", token_file.to_str().unwrap()]);

    let none = send(&daemon.addr, "POST", &[], INITIALIZE);
    assert_eq!(none.status, 401, "{none:?}");
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    let wrong = send(
        &daemon.addr,
        "POST",
        &[("Authorization", "Bearer correct-horsf")],
        INITIALIZE,
    );
    assert_eq!(wrong.status, 401, "{wrong:?}");

    let mut session = Session::open(&daemon.addr, Some("correct-horse"));
    let list = session.call("scripts_list", json!({}));
    assert!(
        list["scripts"].as_array().is_some_and(|s| !s.is_empty()),
        "{list}"
    );
    // A session id is no substitute for the token.
    let stolen = send(
        &daemon.addr,
        "POST",
        &[("Mcp-Session-Id", session.id.as_str())],
        r#"{"jsonrpc":"2.0","id":9,"method":"tools/list"}"#,
    );
    assert_eq!(stolen.status, 401, "{stolen:?}");
}

#[test]
fn a_non_loopback_bind_without_a_token_is_refused_at_start() {
    let project = Project::new(CONFIG);
    let out = Command::new(PROCMAN)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .current_dir(project.path())
        .stdin(Stdio::null())
        .output()
        .expect("run procman serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing to serve MCP on 0.0.0.0:0 without a bearer token"),
        "{stderr}"
    );
    assert!(!stderr.contains("serving MCP at"), "{stderr}");
}

#[test]
fn a_malformed_body_gets_a_json_rpc_error_and_the_server_stays_up() {
    let daemon = Daemon::start(&[]);
    for (body, code) in [
        ("{not json", -32700),
        (r#"{"hello":"world"}"#, -32600),
        ("", -32700),
    ] {
        let reply = send(&daemon.addr, "POST", &[], body);
        assert_eq!(reply.status, 400, "{body:?}: {reply:?}");
        let error: Value = serde_json::from_str(&reply.body).expect("a JSON-RPC error");
        assert_eq!(error["jsonrpc"], json!("2.0"), "{error}");
        assert_eq!(error["error"]["code"], json!(code), "{body:?}: {error}");
        assert_eq!(error["id"], Value::Null, "{error}");
    }
    let mut session = Session::open(&daemon.addr, None);
    let listed = session.call("scripts_list", json!({}));
    let web = listed["scripts"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "web"))
        .unwrap_or_else(|| panic!("web is listed: {listed}"));
    assert_eq!(web["status"], json!("not_started"), "{web}");
}

/// procman's resident set size, KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .expect("procman's VmRSS")
}

/// Sessions that end (DELETE) release what they held: after a warm-up of 200, another 1,000
/// opened, used and closed leave the resident set within 10 % of where it was.
#[test]
fn a_thousand_sessions_opened_and_closed_leave_memory_flat() {
    let daemon = Daemon::start(&[]);
    let pid = daemon.child.id();
    let churn = |n: usize| {
        for _ in 0..n {
            let mut s = Session::open(&daemon.addr, None);
            s.call("scripts_status", json!({"name": "web"}));
            s.close();
        }
    };
    churn(200);
    let before = rss_kib(pid);
    churn(1000);
    let after = rss_kib(pid);
    println!("RSS {before} KiB after 200 sessions, {after} KiB after 1,000 more");
    assert!(
        after * 10 <= before * 11,
        "RSS grew from {before} KiB to {after} KiB over 1,000 closed sessions"
    );
}

/// The session's standalone event stream (`GET /mcp`): its `data:` lines, as a thread reads
/// them.
fn event_stream(addr: &str, session: &str) -> mpsc::Receiver<String> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\
         Mcp-Session-Id: {session}\r\nMCP-Protocol-Version: 2025-06-18\r\n\r\n"
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        // The head, then chunks: a size line, that many bytes, CRLF.
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
        }
        let mut pending = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let Ok(size) = usize::from_str_radix(line.trim(), 16) else {
                return;
            };
            if size == 0 {
                return;
            }
            let mut chunk = vec![0; size + 2];
            if reader.read_exact(&mut chunk).is_err() {
                return;
            }
            pending.push_str(&String::from_utf8_lossy(&chunk[..size]));
            while let Some(end) = pending.find('\n') {
                let event_line: String = pending.drain(..=end).collect();
                if let Some(data) = event_line.trim_end().strip_prefix("data:")
                    && tx.send(data.trim().to_owned()).is_err()
                {
                    return;
                }
            }
        }
    });
    rx
}

/// Push over HTTP: a subscriber's standalone stream carries `notifications/resources/updated`
/// and the log message when a subscribed script crashes.
#[test]
fn a_subscriber_over_http_hears_a_crash_on_its_event_stream() {
    let daemon = Daemon::start(&[]);
    let mut session = Session::open(&daemon.addr, None);
    let events = event_stream(&daemon.addr, &session.id);
    let subscribed = session.post(
        r#"{"jsonrpc":"2.0","id":50,"method":"resources/subscribe","params":{"uri":"procman://process/fail"}}"#,
    );
    assert_eq!(subscribed.status, 200, "{subscribed:?}");
    let answer = subscribed
        .messages()
        .into_iter()
        .find(|m| m["id"] == json!(50))
        .expect("an answer to resources/subscribe");
    assert!(answer.get("result").is_some(), "{answer}");
    let run = session.call("scripts_run", json!({"name": "fail"}));
    let id = run["process"]["processId"].as_str().unwrap().to_owned();
    let (mut updated, mut reason) = (false, None);
    let start = Instant::now();
    while !(updated && reason.is_some()) {
        let left = BOUND.saturating_sub(start.elapsed());
        let data = events
            .recv_timeout(left)
            .expect("the crash was pushed on the session's event stream");
        let Ok(message) = serde_json::from_str::<Value>(&data) else {
            continue;
        };
        match message["method"].as_str() {
            Some("notifications/resources/updated") => {
                assert_eq!(message["params"]["uri"], "procman://process/fail");
                updated = true;
            }
            Some("notifications/message") => {
                let data = &message["params"]["data"];
                reason = data["reason"].as_str().map(String::from);
                // Reported, not asserted: timing depends on the machine.
                if let Some(at) = data["at"].as_str() {
                    let at = chrono::DateTime::parse_from_rfc3339(at).unwrap();
                    let delay = chrono::Utc::now().signed_duration_since(at);
                    println!(
                        "crash pushed over HTTP {} ms after procman saw the exit \
                         (millisecond clock)",
                        delay.num_milliseconds()
                    );
                }
            }
            _ => {}
        }
    }
    assert_eq!(reason.unwrap(), format!("{id} exited with code 3"));
}

/// Over HTTP a tool's progress travels on its own answer's event stream: a stop that escalates
/// to SIGKILL reports progress, each value above the last, before its result.
#[test]
fn a_stop_reports_progress_on_its_answers_event_stream() {
    let daemon = Daemon::start(&[]);
    let mut session = Session::open(&daemon.addr, None);
    session.call("scripts_run", json!({"name": "stubborn"}));
    session.call(
        "wait_for_log",
        json!({"name": "stubborn", "pattern": "started"}),
    );
    let body = json!({"jsonrpc": "2.0", "id": 77, "method": "tools/call",
        "params": {"name": "scripts_stop", "arguments": {"name": "stubborn"},
                   "_meta": {"progressToken": "stop-1"}}});
    let reply = session.post(&body.to_string());
    assert_eq!(reply.status, 200, "{reply:?}");
    let messages = reply.messages();
    let answer = messages
        .iter()
        .position(|m| m["id"] == json!(77))
        .unwrap_or_else(|| panic!("no answer in {reply:?}"));
    assert_eq!(
        messages[answer]["result"]["structuredContent"]["process"]["status"], "killed",
        "{}",
        messages[answer]
    );
    let progress: Vec<f64> = messages[..answer]
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .inspect(|m| assert_eq!(m["params"]["progressToken"], "stop-1", "{m}"))
        .map(|m| m["params"]["progress"].as_f64().unwrap())
        .collect();
    assert!(
        !progress.is_empty(),
        "no progress before the answer: {messages:?}"
    );
    assert!(
        progress.windows(2).all(|w| w[1] > w[0]),
        "progress must increase: {progress:?}"
    );
}
