//! [`Args`]: tool arguments whose decoding errors become tool errors, not protocol errors.
//!
//! rmcp's `Parameters<T>` answers undecodable arguments with a JSON-RPC `-32602` error, which
//! many clients show the model only as "tool call failed". The MCP specification asks for input
//! validation failures to be tool execution errors (`isError: true`) so the model can read the
//! message and retry; `Args<T>` decodes the same way but hands the error to the tool.

use std::sync::Arc;

use rmcp::handler::server::common::{FromContextPart, schema_for_input};
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::error::ToolError;

/// The decoded arguments of a tool call, or why they could not be decoded.
#[derive(Debug)]
pub struct Args<T>(pub Result<T, String>);

impl<T> Args<T> {
    /// The arguments, or [`ToolError::BadArguments`] naming `tool`.
    pub fn get(self, tool: &'static str) -> Result<T, ToolError> {
        self.0.map_err(|reason| ToolError::bad_args(tool, reason))
    }
}

impl<S, T: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Args<T> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, rmcp::ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        Ok(Args(
            serde_json::from_value(serde_json::Value::Object(arguments)).map_err(|e| e.to_string()),
        ))
    }
}

/// The input schema of `T`, for `#[tool(input_schema = ...)]`.
///
/// # Panics
///
/// If `T`'s schema is not an object schema: a programming error that every test run catches
/// when it lists the tools.
pub fn input_schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    schema_for_input::<T>()
        .unwrap_or_else(|e| panic!("input schema of {}: {e}", std::any::type_name::<T>()))
}
