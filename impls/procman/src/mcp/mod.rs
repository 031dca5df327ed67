//! The MCP server: tools over stdio (`procman mcp`) or Streamable HTTP (`procman serve`), rmcp.
//!
//! stdout carries MCP messages only; procman's own logs go to stderr through `tracing`.

pub mod args;
pub mod error;
pub mod http;
pub mod progress;
pub mod push;
pub mod schema;
pub mod server;
pub mod tools;
pub mod transport;
pub mod view;
pub mod wait;
pub mod why;

use std::sync::Arc;

use rmcp::ServiceExt;

pub use self::server::ProcmanServer;
use crate::supervisor::{EXIT_STOP_TIMEOUT, EXIT_WAIT, Supervisor};

/// Largest JSON-RPC message accepted, in bytes; a longer line is discarded unread and answered
/// with a JSON-RPC error, and the server keeps serving.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Why the server stopped serving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// The client closed stdin.
    InputClosed,
    /// A signal asked procman to exit.
    Signal(&'static str),
}

/// Serves MCP on stdin/stdout until stdin closes or SIGTERM, SIGINT or SIGHUP arrives, then
/// stops every child so that procman exits within [`crate::supervisor::EXIT_BUDGET`].
pub async fn serve_stdio(sup: Arc<Supervisor>) -> ExitReason {
    let server = ProcmanServer::new(Arc::clone(&sup));
    let (read, write) = rmcp::transport::stdio_pipes();
    let transport = transport::LineTransport::new(read, write, MAX_MESSAGE_BYTES);
    let serve = async move {
        match server.serve(transport).await {
            Ok(running) => {
                if let Err(e) = running.waiting().await {
                    tracing::warn!(error = %e, "MCP session ended with an error");
                }
            }
            Err(e) => tracing::info!(error = %e, "MCP session ended before initialization"),
        }
    };
    let reason = tokio::select! {
        () = serve => ExitReason::InputClosed,
        signal = crate::signals::terminated() => ExitReason::Signal(signal),
    };
    tracing::info!(?reason, "stopping every child and exiting");
    sup.shutdown(EXIT_STOP_TIMEOUT, EXIT_WAIT).await;
    reason
}
