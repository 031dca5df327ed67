//! The drivers that call the designs: OS threads ([`threads`]) and tokio tasks ([`tokio`]),
//! over the same client state and records ([`client`]); and [`mcp`], the thread driver's
//! clients calling the procman binary over MCP (on stdio, or over Streamable HTTP with
//! [`mcp_http`]) instead of a design in-process.
//! [`join`] is what they all do after the timed region.

pub mod client;
pub mod join;
pub mod mcp;
mod mcp_http;
mod mcp_wire;
pub mod threads;
pub mod tokio;
