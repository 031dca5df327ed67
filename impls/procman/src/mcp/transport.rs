//! [`LineTransport`]: MCP's stdio transport (one JSON-RPC message per line) that answers every
//! line it cannot use.
//!
//! rmcp's own line transport drops a line that is not JSON or is longer than its limit without
//! a word (to avoid error storms with peers that echo what they receive; see rmcp issue #938).
//! A client that sent such a line then waits for an answer that never comes. procman answers
//! instead, as JSON-RPC 2.0 asks, and keeps serving:
//!
//! | line                                         | answer                                   |
//! |----------------------------------------------|------------------------------------------|
//! | not JSON                                     | `-32700` parse error (no id)             |
//! | JSON with an id, but not a valid message     | `-32600` invalid request, with that id   |
//! | a request whose id is not a string or an i64 (`null`, `1.5`, `2**70`) | `-32600` invalid request (no id) |
//! | JSON without an id (a notification we do not know) | nothing (notifications get no answer) |
//! | longer than [`super::MAX_MESSAGE_BYTES`]     | `-32600` invalid request (no id: the line is discarded unread) |
//!
//! An answer is itself a valid JSON-RPC response, which a peer ignores or rejects without
//! answering back, so no storm can start. Reads are cancel-safe: rmcp polls `receive` inside a
//! `select!`, and a dropped read leaves its partial line in the buffer for the next one.

use std::sync::Arc;

use rmcp::model::{ErrorData, JsonRpcMessage, NumberOrString, RequestId};
use rmcp::service::{RxJsonRpcMessage, ServiceRole, TxJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

/// The answer to a request whose id procman cannot echo.
const BAD_ID: &str = "invalid request: the id must be a string or an integer (-2^63..2^63-1); \
                      null, fractions and larger numbers are refused";

/// A UTF-8 byte order mark, which some clients put before their first message.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Newline-delimited JSON-RPC over a reader and a writer, with a bound on the line length and
/// an answer for every unusable line.
pub struct LineTransport<R, W> {
    reader: BufReader<R>,
    writer: Arc<Mutex<W>>,
    /// The line being read (kept across cancelled reads).
    line: Vec<u8>,
    /// True while the rest of an oversized line is being skipped.
    discarding: bool,
    max_line: usize,
}

impl<R, W> std::fmt::Debug for LineTransport<R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineTransport")
            .field("max_line", &self.max_line)
            .finish_non_exhaustive()
    }
}

/// The transport's error: writing to the peer failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to the MCP client: {0}")]
pub struct WriteError(#[from] std::io::Error);

/// What one bounded read produced.
enum Read {
    /// A whole line is in the buffer (without its newline).
    Line,
    /// A line longer than the bound was skipped.
    Oversized,
    /// The peer closed its end.
    Eof,
}

impl<R, W> LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// A transport reading `reader` and writing `writer`; lines longer than `max_line` bytes
    /// are refused.
    pub fn new(reader: R, writer: W, max_line: usize) -> Self {
        LineTransport {
            reader: BufReader::with_capacity(64 << 10, reader),
            writer: Arc::new(Mutex::new(writer)),
            line: Vec::with_capacity(4096),
            discarding: false,
            max_line,
        }
    }

    /// Reads up to the next newline, never buffering more than `max_line` bytes.
    async fn read_line(&mut self) -> std::io::Result<Read> {
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                return Ok(Read::Eof);
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let take = newline.map_or(available.len(), |i| i + 1);
            let chunk = &available[..newline.unwrap_or(available.len())];
            if !self.discarding {
                if self.line.len() + chunk.len() > self.max_line {
                    self.discarding = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(chunk);
                }
            }
            self.reader.consume(take);
            if newline.is_some() {
                if std::mem::take(&mut self.discarding) {
                    return Ok(Read::Oversized);
                }
                return Ok(Read::Line);
            }
        }
    }

    /// Sends `message` on a task of its own, so that a cancelled `receive` cannot cut it off
    /// half written.
    fn answer<Role: ServiceRole>(&self, message: TxJsonRpcMessage<Role>) {
        let writer = Arc::clone(&self.writer);
        tokio::spawn(async move {
            if let Err(e) = write_message(&writer, &message).await {
                tracing::debug!(error = %e, "cannot answer an unusable line");
            }
        });
    }

    /// What to do with a line that did not parse as a message: answer it (or not).
    fn refuse<Role: ServiceRole>(&self, line: &[u8], e: &serde_json::Error) {
        use serde_json::error::Category;
        let preview = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                tracing::warn!(error = %e, line = %preview, "a line from the client is not JSON");
                self.answer::<Role>(JsonRpcMessage::error(
                    ErrorData::parse_error(
                        format!(
                            "parse error: the line is not JSON ({e}); send one JSON-RPC 2.0 \
                             message per line"
                        ),
                        None,
                    ),
                    None,
                ));
            }
            Category::Data => {
                let value: serde_json::Value = serde_json::from_slice(line).unwrap_or_default();
                let id = value.get("id").and_then(request_id);
                if value.get("id").is_none() && value.get("method").is_some() {
                    // An unknown notification: JSON-RPC notifications are never answered.
                    tracing::debug!(line = %preview, "ignoring an unknown notification");
                    return;
                }
                tracing::warn!(error = %e, line = %preview, "a line from the client is not a valid JSON-RPC message");
                let message = if value.get("id").is_some() && id.is_none() {
                    BAD_ID.to_owned()
                } else {
                    format!(
                        "invalid request: {e}; send a JSON-RPC 2.0 request \
                         ({{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"...\",\"params\":{{...}}}})"
                    )
                };
                self.answer::<Role>(JsonRpcMessage::error(
                    ErrorData::invalid_request(message, None),
                    id,
                ));
            }
        }
    }
}

/// True if the message has an `id` member (a notification has none).
fn has_id(text: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(text).is_ok_and(|v| v.get("id").is_some())
}

/// A JSON-RPC id, if `v` is one (a number or a string).
fn request_id(v: &serde_json::Value) -> Option<RequestId> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().map(NumberOrString::Number),
        serde_json::Value::String(s) => Some(NumberOrString::String(s.as_str().into())),
        _ => None,
    }
}

/// Writes `message` as one line and flushes.
async fn write_message<W, T>(writer: &Mutex<W>, message: &T) -> Result<(), WriteError>
where
    W: AsyncWrite + Unpin,
    T: serde::Serialize,
{
    let mut bytes = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    let mut w = writer.lock().await;
    w.write_all(&bytes).await?;
    w.flush().await?;
    Ok(())
}

impl<Role, R, W> Transport<Role> for LineTransport<R, W>
where
    Role: ServiceRole,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = WriteError;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<Role>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let writer = Arc::clone(&self.writer);
        async move { write_message(&writer, &item).await }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<Role>> {
        loop {
            match self.read_line().await {
                Ok(Read::Line) => {}
                Ok(Read::Oversized) => {
                    tracing::warn!(
                        max_bytes = self.max_line,
                        "a message from the client is too long; discarded"
                    );
                    self.answer::<Role>(JsonRpcMessage::error(
                        ErrorData::invalid_request(
                            format!(
                                "a message longer than {} bytes was discarded unread; send \
                                 smaller arguments",
                                self.max_line
                            ),
                            None,
                        ),
                        None,
                    ));
                    continue;
                }
                Ok(Read::Eof) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read from the MCP client");
                    return None;
                }
            }
            let line = std::mem::take(&mut self.line);
            let mut text = line.as_slice();
            text = text.strip_prefix(BOM).unwrap_or(text);
            text = text.strip_suffix(b"\r").unwrap_or(text);
            let parsed = if text.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                Some(serde_json::from_slice::<RxJsonRpcMessage<Role>>(text))
            };
            match parsed {
                None => {}
                Some(Ok(JsonRpcMessage::Notification(_))) if has_id(text) => {
                    // rmcp reads a request whose id it cannot represent (null, 1.5, 2**70) as a
                    // notification, which nobody answers: the client would wait forever.
                    let preview = String::from_utf8_lossy(&text[..text.len().min(80)]);
                    tracing::warn!(line = %preview, "a request with an unusable id");
                    self.answer::<Role>(JsonRpcMessage::error(
                        ErrorData::invalid_request(BAD_ID.to_owned(), None),
                        None,
                    ));
                }
                Some(Ok(message)) => {
                    self.line = line;
                    self.line.clear();
                    return Some(message);
                }
                Some(Err(e)) => self.refuse::<Role>(text, &e),
            }
            self.line = line;
            self.line.clear();
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.writer.lock().await.flush().await?;
        Ok(())
    }
}
