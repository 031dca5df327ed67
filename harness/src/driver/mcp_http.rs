//! The HTTP half of the MCP driver: one MCP session over Streamable HTTP on one keep-alive
//! HTTP/1.1 connection, written and read on the calling thread (no client runtime, for the
//! reason [`super::mcp_wire`] gives for stdio).
//!
//! A request is one `POST /mcp` with the session's `Mcp-Session-Id`; procman answers with an
//! event stream (chunked) that carries the response and ends, so a round trip is one write and
//! reads until the stream's last chunk. The response is the `data:` line whose id is the
//! request's; anything else on the stream (the priming event, notifications) is skipped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

use serde::Serialize;

use super::mcp_wire::{
    Envelope, PROTOCOL_VERSION, Reply, Request, ToolCall, WireError, initialize_params,
};

/// Largest response the driver reads, in bytes (procman's are far smaller).
const MAX_BODY: usize = 16 << 20;

/// One MCP session over its own connection.
pub struct HttpSession {
    host: String,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    session: String,
    next_id: u64,
    request: Vec<u8>,
    body: Vec<u8>,
}

impl std::fmt::Debug for HttpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSession")
            .field("host", &self.host)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// One response: status, the two headers the driver reads, the body.
struct Response {
    status: u16,
    session: Option<String>,
    event_stream: bool,
}

fn http(e: impl std::fmt::Display) -> WireError {
    WireError::Http(e.to_string())
}

impl HttpSession {
    /// Connects to `addr` and runs the MCP handshake (`initialize`, then
    /// `notifications/initialized`).
    pub fn open(addr: SocketAddr, client_name: &str) -> Result<HttpSession, WireError> {
        let stream = TcpStream::connect(addr).map_err(http)?;
        stream.set_nodelay(true).map_err(http)?;
        let writer = stream.try_clone().map_err(http)?;
        let mut s = HttpSession {
            host: addr.to_string(),
            reader: BufReader::with_capacity(64 << 10, stream),
            writer,
            session: String::new(),
            next_id: 1,
            request: Vec::with_capacity(1024),
            body: Vec::with_capacity(4096),
        };
        let init = Request {
            jsonrpc: "2.0",
            id: 0,
            method: "initialize",
            params: initialize_params(client_name),
        };
        let response = s.post(&init)?;
        s.session = response
            .session
            .ok_or_else(|| WireError::Initialize("no Mcp-Session-Id in the response".into()))?;
        let reply = s.reply_for(0, response.event_stream)?;
        if let Some(e) = reply.failure() {
            return Err(WireError::Initialize(e));
        }
        let ack = s.post(&serde_json::json!({
            "jsonrpc": "2.0",
            "method": "notifications/initialized",
        }))?;
        if ack.status != 202 && ack.status != 200 {
            return Err(WireError::Initialize(format!(
                "notifications/initialized answered HTTP {}",
                ack.status
            )));
        }
        Ok(s)
    }

    /// Sends request `method` with `params` and reads its response.
    pub fn request(&mut self, method: &str, params: impl Serialize) -> Result<Reply, WireError> {
        let id = self.next_id;
        self.next_id += 1;
        let response = self.post(&Request {
            jsonrpc: "2.0",
            id,
            method,
            params,
        })?;
        if response.status != 200 {
            return Err(WireError::Http(format!(
                "HTTP {}: {}",
                response.status,
                String::from_utf8_lossy(&self.body)
            )));
        }
        self.reply_for(id, response.event_stream)
    }

    /// `tools/call` of `tool` with `arguments`.
    pub fn call_tool(&mut self, tool: &str, arguments: impl Serialize) -> Result<Reply, WireError> {
        self.request(
            "tools/call",
            ToolCall {
                name: tool,
                arguments,
            },
        )
    }

    /// Ends the session (`DELETE`); errors are ignored (the server may be gone).
    pub fn close(mut self) {
        self.request.clear();
        let _ = write!(
            self.request,
            "DELETE /mcp HTTP/1.1\r\nHost: {}\r\nMcp-Session-Id: {}\r\nContent-Length: 0\r\n\r\n",
            self.host, self.session
        );
        if self.writer.write_all(&self.request).is_ok() {
            let _ = self.read_response();
        }
    }

    /// Writes one POST of `message` and reads the whole response into `self.body`.
    fn post(&mut self, message: &impl Serialize) -> Result<Response, WireError> {
        self.request.clear();
        let mut json = Vec::with_capacity(256);
        serde_json::to_writer(&mut json, message)
            .map_err(|e| WireError::Serialise(e.to_string()))?;
        let _ = write!(
            self.request,
            "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: {}\r\n\
             Content-Length: {}\r\n",
            self.host,
            PROTOCOL_VERSION,
            json.len()
        );
        if !self.session.is_empty() {
            let _ = write!(self.request, "Mcp-Session-Id: {}\r\n", self.session);
        }
        self.request.extend_from_slice(b"\r\n");
        self.request.extend_from_slice(&json);
        self.writer
            .write_all(&self.request)
            .map_err(|e| WireError::Write(e.to_string()))?;
        self.read_response()
    }

    /// Reads one response: the head, then the body by `Content-Length` or chunks.
    fn read_response(&mut self) -> Result<Response, WireError> {
        let mut line = String::new();
        let read_line = |reader: &mut BufReader<TcpStream>, line: &mut String| {
            line.clear();
            match reader.read_line(line) {
                Ok(0) => Err(WireError::ServerClosed),
                Ok(_) => Ok(()),
                Err(e) => Err(WireError::Read(e.to_string())),
            }
        };
        read_line(&mut self.reader, &mut line)?;
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| http(format!("not an HTTP status line: {line:?}")))?;
        let mut response = Response {
            status,
            session: None,
            event_stream: false,
        };
        let (mut length, mut chunked) = (None, false);
        loop {
            read_line(&mut self.reader, &mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.contains("chunked");
            } else if name.eq_ignore_ascii_case("mcp-session-id") {
                response.session = Some(value.to_owned());
            } else if name.eq_ignore_ascii_case("content-type") {
                response.event_stream = value.starts_with("text/event-stream");
            }
        }
        self.body.clear();
        if chunked {
            loop {
                read_line(&mut self.reader, &mut line)?;
                let size_text = line.trim_end().split(';').next().unwrap_or("");
                let size = usize::from_str_radix(size_text, 16)
                    .map_err(|_| http(format!("bad chunk size {size_text:?}")))?;
                if size == 0 {
                    read_line(&mut self.reader, &mut line)?; // the CRLF after the last chunk
                    break;
                }
                if self.body.len() + size > MAX_BODY {
                    return Err(http("response over 16 MiB"));
                }
                let start = self.body.len();
                self.body.resize(start + size + 2, 0);
                self.reader
                    .read_exact(&mut self.body[start..])
                    .map_err(|e| WireError::Read(e.to_string()))?;
                self.body.truncate(start + size);
            }
        } else if let Some(n) = length {
            if n > MAX_BODY {
                return Err(http("response over 16 MiB"));
            }
            self.body.resize(n, 0);
            self.reader
                .read_exact(&mut self.body)
                .map_err(|e| WireError::Read(e.to_string()))?;
        }
        Ok(response)
    }

    /// The response to request `id` in the body just read.
    fn reply_for(&self, id: u64, event_stream: bool) -> Result<Reply, WireError> {
        let parse = |bytes: &[u8]| serde_json::from_slice::<Envelope>(bytes);
        if !event_stream {
            return parse(&self.body).map(Reply::from_envelope).map_err(|e| {
                WireError::NotJsonRpc {
                    error: e.to_string(),
                    line: String::from_utf8_lossy(&self.body)
                        .chars()
                        .take(200)
                        .collect(),
                }
            });
        }
        for line in self.body.split(|&b| b == b'\n') {
            let Some(data) = line.strip_prefix(b"data:") else {
                continue;
            };
            if let Ok(envelope) = parse(data)
                && envelope.id == Some(id)
            {
                return Ok(Reply::from_envelope(envelope));
            }
        }
        Err(http(format!(
            "no response to request {id} in the event stream: {}",
            String::from_utf8_lossy(&self.body)
                .chars()
                .take(200)
                .collect::<String>()
        )))
    }
}
