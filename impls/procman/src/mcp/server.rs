//! [`ProcmanServer`]: the MCP face of procman (rmcp), with Brummer's tool names.
//!
//! This file is the wire glue only: each tool decodes its [`Args`], builds a [`Progress`] when
//! it may take a while, and hands over to [`Tools`]. Results carry `structuredContent` (the
//! output schema is generated from the output type) and the same JSON as text; failures are
//! `isError` results whose text says what to do.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
#[allow(deprecated)] // logging/setLevel: see push.rs
use rmcp::model::SetLevelRequestParams;
use rmcp::model::{
    CallToolRequestParams, CustomRequest, CustomResult, ErrorCode, ErrorData, Implementation,
    ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
    SubscribeRequestParams, UnsubscribeRequestParams,
};
use rmcp::service::RequestContext;
use rmcp::{Json, RoleServer, ServerHandler, tool, tool_handler, tool_router};

use super::args::{Args, input_schema};
use super::error::ToolError;
use super::progress::Progress;
use super::push::{self, SessionPush};
use super::schema::*;
use super::tools::Tools;
use crate::supervisor::Supervisor;

const INSTRUCTIONS: &str = "procman runs and watches the dev processes configured for this \
project (procman.toml and package.json scripts); nothing else can be run. Typical flow: \
scripts_list to see the scripts, scripts_run to start one, wait_for_log to wait until it is \
ready, logs_stream (follow with nextCursor) and logs_search to read output, scripts_status to \
check on it, scripts_stop or scripts_restart when done. Processes are identified by script \
name or by processId (NAME#GENERATION, one run). Instead of polling scripts_status, subscribe \
to the resource procman://process/NAME: procman notifies when the run ends, fails to start or \
is ready, with a log message saying why.";

/// One MCP session's handler. Cheap to clone: every clone shares the same [`Supervisor`], so
/// any number of sessions (and concurrent requests within one) drive one set of processes.
#[derive(Clone)]
pub struct ProcmanServer {
    tools: Tools,
    tool_router: ToolRouter<Self>,
    /// This session's resource subscriptions.
    push: Arc<SessionPush>,
}

impl std::fmt::Debug for ProcmanServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcmanServer")
            .field("supervisor", self.tools.supervisor())
            .finish_non_exhaustive()
    }
}

/// `scripts_list` takes no arguments (and refuses unknown ones). The schema keeps an empty
/// `properties`, which some clients require of every object schema.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("properties" = {}))]
pub struct NoParams {}

#[tool_router]
impl ProcmanServer {
    /// A handler over `sup`.
    pub fn new(sup: Arc<Supervisor>) -> Self {
        // Built once: `procman serve` makes a handler per session, and each router built
        // afresh would generate and rewrite every tool's schemas again.
        static ROUTER: std::sync::OnceLock<ToolRouter<ProcmanServer>> = std::sync::OnceLock::new();
        ProcmanServer {
            tools: Tools::new(sup),
            tool_router: ROUTER.get_or_init(Self::standard_router).clone(),
            push: Arc::default(),
        }
    }

    /// Every tool this server offers, as listed to clients.
    pub fn tools() -> Vec<rmcp::model::Tool> {
        Self::standard_router().list_all()
    }

    /// The tools with their schemas in standard JSON Schema (see [`standardize`]).
    fn standard_router() -> ToolRouter<Self> {
        let mut router = Self::tool_router();
        for route in router.map.values_mut() {
            let mut input = (*route.attr.input_schema).clone();
            standardize(&mut input);
            route.attr.input_schema = Arc::new(input);
            if let Some(output) = &route.attr.output_schema {
                let mut output = (**output).clone();
                standardize(&mut output);
                route.attr.output_schema = Some(Arc::new(output));
            }
        }
        router
    }

    #[tool(
        name = "scripts_list",
        description = "List the scripts procman can run (from procman.toml and package.json) \
                       with their command, ready pattern and current status.",
        input_schema = input_schema::<NoParams>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn scripts_list(&self, args: Args<NoParams>) -> Result<Json<ScriptsList>, ToolError> {
        self.tools.check_config()?;
        args.get("scripts_list")?;
        Ok(Json(self.tools.scripts_list()))
    }

    #[tool(
        name = "scripts_run",
        description = "Start a configured script in the background. Extra args are appended to \
                       its command as separate argv elements (never through a shell). Fails if \
                       it is already running. Returns its processId (NAME#GENERATION).",
        input_schema = input_schema::<RunParams>(),
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn scripts_run(&self, args: Args<RunParams>) -> Result<Json<ProcessResult>, ToolError> {
        self.tools.check_config()?;
        let params = args.get("scripts_run")?;
        Ok(Json(self.tools.scripts_run(params).await?))
    }

    #[tool(
        name = "scripts_stop",
        description = "Stop a running script: its stop signal to the whole process group, then \
                       SIGKILL after its stop timeout (force: SIGKILL at once). Returns when it is \
                       gone; sends progress notifications meanwhile if asked. If the request is \
                       cancelled the stop still completes, without a result.",
        input_schema = input_schema::<StopParams>(),
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn scripts_stop(
        &self,
        args: Args<StopParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ProcessResult>, ToolError> {
        self.tools.check_config()?;
        let params = args.get("scripts_stop")?;
        let progress = Progress::for_request(&ctx);
        let cancelled = ctx.ct.cancelled();
        Ok(Json(
            self.tools
                .scripts_stop(params, &progress, cancelled)
                .await?,
        ))
    }

    #[tool(
        name = "scripts_restart",
        description = "Restart a script: stop it if it is running (as scripts_stop does), then \
                       start it again with the same arguments. Starts it if it never ran.",
        input_schema = input_schema::<RestartParams>(),
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn scripts_restart(
        &self,
        args: Args<RestartParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ProcessResult>, ToolError> {
        self.tools.check_config()?;
        let params = args.get("scripts_restart")?;
        let progress = Progress::for_request(&ctx);
        let cancelled = ctx.ct.cancelled();
        Ok(Json(
            self.tools
                .scripts_restart(params, &progress, cancelled)
                .await?,
        ))
    }

    #[tool(
        name = "scripts_status",
        description = "Status of one script's current run (pid, exit code, restarts, log \
                       counters, URLs it printed, how the previous run ended; listening ports \
                       with ports: true), or of every script when name is omitted.",
        input_schema = input_schema::<StatusParams>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn scripts_status(
        &self,
        args: Args<StatusParams>,
    ) -> Result<Json<StatusList>, ToolError> {
        self.tools.check_config()?;
        let params = args.get("scripts_status")?;
        Ok(Json(self.tools.scripts_status(params)?))
    }

    #[tool(
        name = "scripts_why",
        description = "Why a run ended, in one call: exit code or signal, how long it ran, its \
                       last stderr lines, the error block at the end of its output (panic, \
                       traceback, error: lines, stack), the port it could not bind and who \
                       holds it, and every earlier run procman keeps. By name: the latest run \
                       that ended; by processId: that run, even one replaced by a restart.",
        input_schema = input_schema::<WhyParams>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn scripts_why(&self, args: Args<WhyParams>) -> Result<Json<WhyResult>, ToolError> {
        self.tools.check_config()?;
        let params = args.get("scripts_why")?;
        Ok(Json(self.tools.scripts_why(params)?))
    }

    #[tool(
        name = "logs_stream",
        description = "Read a script's output (stdout and stderr, in order), of its current run \
                       or, by processId, of an earlier run procman keeps. Without cursor: the \
                       latest lines. To follow, pass the previous nextCursor as cursor; missed \
                       counts lines dropped from the bounded log in between. stream and since \
                       narrow it to stdout or stderr, or to recent lines.",
        input_schema = input_schema::<LogsParams>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn logs_stream(&self, args: Args<LogsParams>) -> Result<Json<LogsPage>, ToolError> {
        self.tools.check_config()?;
        let params = args.get("logs_stream")?;
        Ok(Json(self.tools.logs_stream(params)?))
    }

    #[tool(
        name = "logs_search",
        description = "Search the output of every script's current run (or one script's, or \
                       one run's by processId, earlier runs included) for a substring or a \
                       regex; newest matches kept, ordered by time. stream and since narrow it.",
        input_schema = input_schema::<SearchParams>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn logs_search(
        &self,
        args: Args<SearchParams>,
    ) -> Result<Json<SearchResults>, ToolError> {
        self.tools.check_config()?;
        let params = args.get("logs_search")?;
        Ok(Json(self.tools.logs_search(params)?))
    }

    #[tool(
        name = "wait_for_log",
        description = "Wait until a script's current run prints a line matching a regex (default: \
                       its configured ready pattern), it ends, or the timeout passes. Lines \
                       printed before the call count. Stops waiting if the request is cancelled.",
        input_schema = input_schema::<WaitParams>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn wait_for_log(
        &self,
        args: Args<WaitParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<WaitResult>, ToolError> {
        self.tools.check_config()?;
        let params = args.get("wait_for_log")?;
        let progress = Progress::for_request(&ctx);
        let cancelled = ctx.ct.cancelled();
        Ok(Json(
            self.tools
                .wait_for_log(params, &progress, cancelled)
                .await?,
        ))
    }
}

/// MCP methods rmcp knows: when a request names one of them but rmcp could not decode it into
/// that method's type, it arrives as a custom request, and the fault is its params.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/call",
    "tools/list",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
];

/// Why the params of a known method did not decode, for the -32602 answer.
fn invalid_params(method: &str, params: Option<&serde_json::Value>) -> ErrorData {
    let reason = if method == "tools/call" {
        match params {
            None => "params are missing".to_owned(),
            Some(p) if !p.is_object() => "params must be an object".to_owned(),
            Some(p) => match (p.get("name"), p.get("arguments")) {
                (None, _) => "params.name is missing".to_owned(),
                (Some(n), _) if !n.is_string() => "params.name must be a string".to_owned(),
                (_, Some(a)) if !a.is_object() && !a.is_null() => {
                    "params.arguments must be an object".to_owned()
                }
                _ => serde_json::from_value::<CallToolRequestParams>(p.clone())
                    .err()
                    .map_or_else(|| "params do not match".to_owned(), |e| e.to_string()),
            },
        }
    } else {
        "params do not match the method's schema".to_owned()
    };
    let hint = if method == "tools/call" {
        "; send {\"name\": TOOL, \"arguments\": {...}} (call tools/list for the tools and \
         their input schemas)"
    } else {
        ""
    };
    ErrorData::invalid_params(format!("invalid params for {method}: {reason}{hint}"), None)
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for ProcmanServer {
    /// rmcp hands over every request it could not decode as a custom request, and answers
    /// -32601 (method not found) by default, even for a `tools/call` whose params are wrong.
    /// JSON-RPC says -32602 (invalid params) there; -32601 stays for methods nobody knows.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        if KNOWN_METHODS.contains(&request.method.as_str()) {
            return Err(invalid_params(&request.method, request.params.as_ref()));
        }
        Err(ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!(
                "method not found: {}; procman serves MCP tools (tools/list, tools/call) and \
                 resources (resources/list, resources/read, resources/subscribe)",
                request.method
            ),
            None,
        ))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(push::list(
            self.tools.supervisor(),
        )))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            push::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        push::read(&self.tools, &request.uri).map(Into::into)
    }

    #[allow(deprecated)] // logging: read by clients of the 2025 protocols (see push.rs)
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.push.set_level(request.level);
        Ok(())
    }

    #[allow(deprecated)] // resources/subscribe is what clients of the 2025 protocols send
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.push
            .subscribe(self.tools.supervisor(), &context.peer, &request.uri)
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.push.unsubscribe(&request.uri);
        Ok(())
    }

    #[allow(deprecated)] // logging: read by clients of the 2025 protocols (see push.rs)
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_logging()
                .enable_resources()
                .enable_tools()
                .enable_resources_subscribe()
                .build(),
        )
        .with_server_info(
            Implementation::new("procman", env!("CARGO_PKG_VERSION"))
                .with_title("procman process supervisor"),
        )
        .with_instructions(INSTRUCTIONS)
    }
}
