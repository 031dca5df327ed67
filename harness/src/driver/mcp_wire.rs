//! The wire half of the MCP driver: a minimal MCP client over a child's stdio
//! (newline-delimited JSON-RPC 2.0, the MCP stdio transport) that any number of client threads
//! share, each with its own requests in flight.
//!
//! Why not rmcp's client: it runs the connection on tokio tasks and hands every response
//! through a channel, which costs tens of microseconds per round trip on a busy machine, and
//! that cost would be charged to the server under test. Here the calling thread writes its
//! request itself and, when nobody else is reading, reads the responses itself
//! (leader/follower): with one client a round trip is one `write` and one `read` on the
//! calling thread, with no thread hand-off. With several clients the thread that holds the
//! reader delivers the others' responses and unparks their threads; when it has its own, it
//! hands the reader on to a waiting thread. Server-sent notifications and requests are
//! skipped (procman sends none unless asked for progress, which the driver never does).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::Thread;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// The MCP protocol version the driver speaks.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// Why a request got no response. `Clone`: once the connection breaks, every thread waiting
/// on it gets the same reason.
#[derive(Clone, Debug, thiserror::Error)]
pub enum WireError {
    /// The server closed its stdout (it exited or crashed; its stderr says why).
    #[error("the server closed its stdout")]
    ServerClosed,
    /// Reading its stdout failed.
    #[error("reading the server's stdout: {0}")]
    Read(String),
    /// It wrote something that is not JSON-RPC.
    #[error("the server wrote a line that is not a JSON-RPC message ({error}): {line}")]
    NotJsonRpc {
        /// The parser's message.
        error: String,
        /// The line's first 200 characters.
        line: String,
    },
    /// A request could not be serialised (a bug in the driver).
    #[error("cannot serialise the request: {0}")]
    Serialise(String),
    /// The driver closed the server's stdin already.
    #[error("the connection's input is closed")]
    InputClosed,
    /// Writing to its stdin failed.
    #[error("writing to the server's stdin: {0}")]
    Write(String),
    /// The MCP handshake was refused.
    #[error("initialize failed: {0}")]
    Initialize(String),
    /// An HTTP exchange failed (connection, status or framing).
    #[error("HTTP: {0}")]
    Http(String),
}

/// `initialize`'s parameters, for a client named `client_name`.
pub(super) fn initialize_params(client_name: &str) -> serde_json::Value {
    serde_json::json!({
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": client_name, "version": env!("CARGO_PKG_VERSION")},
    })
}

/// One JSON-RPC request as written.
#[derive(Serialize)]
pub(super) struct Request<'a, P> {
    pub jsonrpc: &'static str,
    pub id: u64,
    pub method: &'a str,
    pub params: P,
}

/// One JSON-RPC notification as written.
#[derive(Serialize)]
struct Notification<'a> {
    jsonrpc: &'static str,
    method: &'a str,
}

/// `tools/call` parameters.
#[derive(Serialize)]
pub struct ToolCall<'a, A> {
    /// The tool.
    pub name: &'a str,
    /// Its arguments (a JSON object).
    pub arguments: A,
}

/// A message read from the server: what the driver looks at, the rest skipped unread.
#[derive(Deserialize)]
pub(super) struct Envelope {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    method: Option<IgnoredAny>,
    #[serde(default)]
    result: Option<ResultBody>,
    #[serde(default)]
    error: Option<RpcError>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultBody {
    #[serde(default)]
    is_error: bool,
    #[serde(default)]
    content: Vec<Content>,
    #[serde(default)]
    structured_content: Option<Structured>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    text: String,
}

/// A JSON-RPC error.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RpcError {
    /// The code (-32700 parse error, -32600 invalid request, -32602 invalid params, ...).
    pub code: i64,
    /// The message.
    #[serde(default)]
    pub message: String,
}

/// The parts of a tool's structured result the driver uses.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Structured {
    /// `logs_stream`: the cursor to pass next.
    #[serde(default)]
    pub next_cursor: Option<u64>,
    /// `scripts_status`: every run asked about.
    #[serde(default)]
    pub processes: Vec<RunView>,
}

/// One run as a procman tool reports it (the fields the driver uses).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RunView {
    /// The process group leader's pid, once spawned.
    #[serde(default)]
    pub pid: Option<u32>,
    /// True while a child may be alive.
    #[serde(default)]
    pub alive: bool,
}

/// A response: a result (possibly a tool error) or a JSON-RPC error.
#[derive(Clone, Debug, Default)]
pub struct Reply {
    /// A tool result with `isError: true`.
    pub is_error: bool,
    /// The first text block of the result.
    pub text: String,
    /// The structured content of the result.
    pub structured: Structured,
    /// A JSON-RPC error instead of a result.
    pub rpc_error: Option<RpcError>,
}

impl Reply {
    pub(super) fn from_envelope(e: Envelope) -> Reply {
        let body = e.result.unwrap_or_default();
        Reply {
            is_error: body.is_error,
            text: body
                .content
                .into_iter()
                .next()
                .map(|c| c.text)
                .unwrap_or_default(),
            structured: body.structured_content.unwrap_or_default(),
            rpc_error: e.error,
        }
    }

    /// The failure, if any: the JSON-RPC error's or the tool error's message.
    pub fn failure(&self) -> Option<String> {
        match &self.rpc_error {
            Some(e) => Some(format!("JSON-RPC error {}: {}", e.code, e.message)),
            None if self.is_error => Some(self.text.clone()),
            None => None,
        }
    }
}

/// Reads one message per line.
struct LineReader {
    inner: BufReader<Box<dyn Read + Send>>,
    line: String,
}

impl LineReader {
    /// The next message that parses; `Err` when the stream ended or broke.
    fn next(&mut self) -> Result<Envelope, WireError> {
        loop {
            self.line.clear();
            match self.inner.read_line(&mut self.line) {
                Ok(0) => return Err(WireError::ServerClosed),
                Ok(_) => {}
                Err(e) => return Err(WireError::Read(e.to_string())),
            }
            let text = self.line.trim_end();
            if text.is_empty() {
                continue;
            }
            match serde_json::from_str::<Envelope>(text) {
                Ok(e) => return Ok(e),
                Err(e) => {
                    return Err(WireError::NotJsonRpc {
                        error: e.to_string(),
                        line: text.chars().take(200).collect(),
                    });
                }
            }
        }
    }
}

/// Who reads, what has been read for whom, and who waits.
struct Inbox {
    /// The reader, when no thread is reading.
    reader: Option<LineReader>,
    /// Responses read for threads that have not collected them yet.
    delivered: HashMap<u64, Reply>,
    /// Threads parked for their response, by request id.
    waiting: HashMap<u64, Thread>,
    /// Why the connection is unusable, once it is.
    closed: Option<WireError>,
}

impl Inbox {
    /// Wakes one waiting thread if the reader is free, so that someone reads for the others.
    fn pass_reader_on(&self) {
        if self.reader.is_some()
            && let Some(t) = self.waiting.values().next()
        {
            t.unpark();
        }
    }
}

/// One MCP connection, shared by every client thread of a run.
pub struct Connection {
    writer: Mutex<Option<Box<dyn Write + Send>>>,
    inbox: Mutex<Inbox>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("next_id", &self.next_id)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection writing requests to `to_server` and reading responses from `from_server`.
    pub fn new(to_server: Box<dyn Write + Send>, from_server: Box<dyn Read + Send>) -> Self {
        Connection {
            writer: Mutex::new(Some(to_server)),
            inbox: Mutex::new(Inbox {
                reader: Some(LineReader {
                    inner: BufReader::with_capacity(64 << 10, from_server),
                    line: String::with_capacity(4096),
                }),
                delivered: HashMap::new(),
                waiting: HashMap::new(),
                closed: None,
            }),
            next_id: AtomicU64::new(1),
        }
    }

    /// Writes one line (a serialised message) to the server.
    fn write_line(&self, message: &impl Serialize) -> Result<(), WireError> {
        let mut line = Vec::with_capacity(256);
        serde_json::to_writer(&mut line, message)
            .map_err(|e| WireError::Serialise(e.to_string()))?;
        line.push(b'\n');
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let w = writer.as_mut().ok_or(WireError::InputClosed)?;
        w.write_all(&line)
            .and_then(|()| w.flush())
            .map_err(|e| WireError::Write(e.to_string()))
    }

    /// Sends request `method` with `params` and waits for its response.
    pub fn request(&self, method: &str, params: impl Serialize) -> Result<Reply, WireError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.write_line(&Request {
            jsonrpc: "2.0",
            id,
            method,
            params,
        })?;
        self.wait_for(id)
    }

    /// Sends notification `method` (no parameters).
    pub fn notify(&self, method: &str) -> Result<(), WireError> {
        self.write_line(&Notification {
            jsonrpc: "2.0",
            method,
        })
    }

    /// `tools/call` of `tool` with `arguments`.
    pub fn call_tool(&self, tool: &str, arguments: impl Serialize) -> Result<Reply, WireError> {
        self.request(
            "tools/call",
            ToolCall {
                name: tool,
                arguments,
            },
        )
    }

    /// The MCP handshake: `initialize`, then `notifications/initialized`.
    pub fn initialize(&self, client_name: &str) -> Result<Reply, WireError> {
        let reply = self.request("initialize", initialize_params(client_name))?;
        if let Some(e) = reply.failure() {
            return Err(WireError::Initialize(e));
        }
        self.notify("notifications/initialized")?;
        Ok(reply)
    }

    /// Closes the server's stdin (the MCP way to ask a stdio server to exit).
    pub fn close_input(&self) {
        self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Waits for the response to request `id`, reading for everyone while no one else does.
    fn wait_for(&self, id: u64) -> Result<Reply, WireError> {
        let mut inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(reply) = inbox.delivered.remove(&id) {
                inbox.pass_reader_on();
                return Ok(reply);
            }
            if let Some(why) = &inbox.closed {
                return Err(why.clone());
            }
            if let Some(mut reader) = inbox.reader.take() {
                drop(inbox);
                let led = self.lead(&mut reader, id);
                inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
                inbox.reader = Some(reader);
                match led {
                    Ok(reply) => {
                        inbox.pass_reader_on();
                        return Ok(reply);
                    }
                    Err(why) => {
                        inbox.closed = Some(why.clone());
                        for t in inbox.waiting.values() {
                            t.unpark();
                        }
                        return Err(why);
                    }
                }
            }
            inbox.waiting.insert(id, std::thread::current());
            drop(inbox);
            std::thread::park();
            inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
            inbox.waiting.remove(&id);
        }
    }

    /// Reads messages until the response to `id`, delivering the others' on the way.
    fn lead(&self, reader: &mut LineReader, id: u64) -> Result<Reply, WireError> {
        loop {
            let envelope = reader.next()?;
            if envelope.method.is_some() {
                continue; // a notification or a request from the server
            }
            let Some(got) = envelope.id else {
                // A response without an id: the server could not read some request. None of
                // ours is malformed, so it is not for anyone waiting; say so and carry on.
                if let Some(e) = &envelope.error {
                    eprintln!(
                        "mcp driver: server error without a request id: {} {}",
                        e.code, e.message
                    );
                }
                continue;
            };
            let reply = Reply::from_envelope(envelope);
            if got == id {
                return Ok(reply);
            }
            let mut inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(t) = inbox.waiting.get(&got) {
                t.unpark();
            }
            inbox.delivered.insert(got, reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;

    use super::*;

    /// A fake server on a socket pair: answers each `tools/call` with its argument `n` echoed
    /// in `nextCursor` (and `isError` for 13). Requests that arrive together are answered in
    /// reverse order, so that concurrent clients get responses out of order; each response is
    /// preceded by a notification the client must skip.
    fn fake_server() -> Connection {
        let (client, server) = UnixStream::pair().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let input = server.try_clone().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(input).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            let mut out = server;
            while let Ok(first) = rx.recv() {
                std::thread::sleep(std::time::Duration::from_micros(200));
                let mut batch = vec![first];
                batch.extend(rx.try_iter());
                for line in batch.iter().rev() {
                    let msg: serde_json::Value = serde_json::from_str(line).unwrap();
                    let Some(id) = msg["id"].as_u64() else {
                        continue;
                    };
                    let n = msg["params"]["arguments"]["n"].as_u64().unwrap_or(0);
                    let reply = format!(
                        "{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}}\n\
                         {{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{\"content\":[{{\"type\":\"text\",\
                         \"text\":\"{n}\"}}],\"structuredContent\":{{\"nextCursor\":{n}}},\"isError\":{}}}}}\n",
                        n == 13
                    );
                    if out.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            }
        });
        Connection::new(Box::new(client.try_clone().unwrap()), Box::new(client))
    }

    #[derive(Serialize)]
    struct N {
        n: u64,
    }

    #[test]
    fn one_thread_gets_its_responses_and_tool_errors() {
        let conn = fake_server();
        let r = conn.call_tool("t", N { n: 5 }).unwrap();
        assert_eq!(r.structured.next_cursor, Some(5));
        assert!(!r.is_error);
        assert_eq!(r.text, "5");
        let r = conn.call_tool("t", N { n: 13 }).unwrap();
        assert_eq!(r.failure().as_deref(), Some("13"));
    }

    #[test]
    fn many_threads_share_one_connection_and_get_their_own_responses() {
        let conn = Arc::new(fake_server());
        let threads: Vec<_> = (0..6u64)
            .map(|t| {
                let conn = Arc::clone(&conn);
                std::thread::spawn(move || {
                    for i in 0..100u64 {
                        let n = t * 1000 + i;
                        let r = conn.call_tool("t", N { n }).unwrap();
                        assert_eq!(r.structured.next_cursor, Some(n));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn a_closed_server_fails_every_waiter() {
        let (client, server) = UnixStream::pair().unwrap();
        drop(server);
        let conn = Connection::new(Box::new(client.try_clone().unwrap()), Box::new(client));
        let e = conn.call_tool("t", N { n: 1 }).unwrap_err().to_string();
        assert!(e.contains("closed") || e.contains("writing"), "{e}");
    }
}
